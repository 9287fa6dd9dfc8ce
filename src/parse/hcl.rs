//! HCL parsing with hcl-edit: a body with byte spans for every expression, or one error.

use hcl_edit::structure::Body;

use crate::parse::ParseError;
use crate::source::{FileId, Span};

/// Parse a `.tf` or `.tfvars` file. A UTF-8 byte order mark is blanked (not removed) so that
/// every byte offset still matches the file.
pub fn parse_body(file: FileId, text: &str) -> Result<Body, ParseError> {
    let owned;
    let input = if let Some(rest) = text.strip_prefix('\u{feff}') {
        owned = format!("   {rest}");
        owned.as_str()
    } else {
        text
    };
    let mut retried: Option<String> = None;
    for _ in 0..MAX_DUPLICATE_KEYS {
        let current = retried.as_deref().unwrap_or(input);
        let err = match hcl_edit::parser::parse_body(current) {
            Ok(body) => return Ok(body),
            Err(err) => err,
        };
        let mut offset = err.location().offset().min(text.len());
        // At the end of a CRLF line, point where an LF file's error would be: at the `\r`.
        if text.as_bytes().get(offset) == Some(&b'\n')
            && offset > 0
            && text.as_bytes()[offset - 1] == b'\r'
        {
            offset -= 1;
        }
        // Terraform takes the last of two equal keys in an object literal; hcl-edit refuses
        // the file. Rename the repeated key (same length, so offsets hold) and read on.
        if err.message().contains("redefined object key")
            && let Some(renamed) = rename_key_at(current, offset)
        {
            retried = Some(renamed);
            continue;
        }
        return Err(ParseError {
            span: Span::new(file, offset..offset),
            message: format!("invalid HCL: {}", lowercase_first(err.message())),
        });
    }
    Err(ParseError {
        span: Span::file_start(file),
        message: format!("not read: more than {MAX_DUPLICATE_KEYS} repeated object keys"),
    })
}

/// How many repeated object keys one file may have before it is not read.
const MAX_DUPLICATE_KEYS: usize = 64;

/// The text with the object key at `offset` made unique by its first character.
fn rename_key_at(text: &str, offset: usize) -> Option<String> {
    let rest = text.get(offset..)?;
    let skip = usize::from(rest.starts_with('"'));
    let first = rest[skip..].chars().next()?;
    if !(first.is_ascii_alphanumeric() || first == '_' || first == '-') {
        return None;
    }
    let at = offset + skip;
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..at]);
    out.push(if first == '_' { 'Z' } else { '_' });
    out.push_str(&text[at + 1..]);
    Some(out)
}

pub(crate) fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_object_key_is_read_as_terraform_reads_it() {
        let body = parse_body(
            FileId(0),
            "locals {\n  tags = { Service = \"a\", \"Service\" = \"b\" }\n}\n",
        )
        .unwrap();
        assert_eq!(body.blocks().count(), 1);
    }

    #[test]
    fn a_repeated_attribute_is_still_an_error_where_it_is() {
        let err =
            parse_body(FileId(0), "resource \"x\" \"y\" {\n  a = 1\n  a = 2\n}\n").unwrap_err();
        assert_eq!(err.span.start, 29, "at the second `a`");
        assert!(
            err.message.contains("redefined attribute"),
            "{}",
            err.message
        );
    }
}
