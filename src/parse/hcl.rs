//! HCL parsing with hcl-edit: a body with byte spans for every expression, or one error.

use hcl_edit::structure::Body;

use crate::facts::ParseError;
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
    hcl_edit::parser::parse_body(input).map_err(|err| {
        let offset = err.location().offset().min(text.len());
        ParseError {
            span: Span::new(file, offset..offset),
            message: format!("invalid HCL: {}", lowercase_first(err.message())),
        }
    })
}

pub(crate) fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
