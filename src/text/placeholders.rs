//! Template placeholders in text: `${VAR}` and `$VAR` (envsubst, Terraform
//! `templatefile`), `{{ ... }}` (Go and Helm templates), `%{ ... }` (Terraform directives) and
//! `<ACCOUNT_ID>`-style words a script replaces before applying. A value that holds one is
//! known only once rendered. A *hole* is the placeholder a renderer leaves for a part it could
//! not write out ([`hole_token`]); readers of the text take it for a placeholder like any other.

/// Whether the text holds a placeholder anywhere.
pub fn has_placeholder(text: &str) -> bool {
    next_placeholder(text).is_some()
}

/// The text before the first placeholder, the placeholder, and the text after it.
pub fn next_placeholder(text: &str) -> Option<(&str, &str, &str)> {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let next = bytes.get(i + 1).copied();
        let len = match (b, next) {
            (HOLE_FIRST_BYTE, _) if text[i..].starts_with(HOLE_OPEN) => hole_len(&text[i..]),
            (b'$' | b'%', Some(b'{')) => Some(1 + braced_len(&text[i + 1..])),
            (b'{', Some(b'{')) => Some(text[i..].find("}}").map_or(text.len() - i, |n| n + 2)),
            (b'$', Some(c)) if c.is_ascii_alphabetic() || c == b'_' => Some(
                1 + text[i + 1..]
                    .bytes()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                    .count(),
            ),
            _ => None,
        };
        if let Some(len) = len {
            return Some((&text[..i], &text[i..i + len], &text[i + len..]));
        }
    }
    None
}

/// Opens a hole: a private-use character, which no one writes in a manifest or a template.
const HOLE_OPEN: char = '\u{E000}';
/// Closes a hole, after its number.
const HOLE_CLOSE: char = '\u{E001}';
/// The first byte of [`HOLE_OPEN`] in UTF-8.
const HOLE_FIRST_BYTE: u8 = 0xEE;

/// The text a renderer writes for its `n`th hole: a part of the rendered text that is not
/// known as text (a value that exists only after apply, or one that cannot be evaluated). A
/// hole is valid inside any YAML or JSON scalar and never changes the text's structure.
pub fn hole_token(n: usize) -> String {
    format!("{HOLE_OPEN}{n}{HOLE_CLOSE}")
}

/// The number of the hole `token` is, when it is one (as [`hole_token`] writes it).
pub fn hole_number(token: &str) -> Option<usize> {
    token
        .strip_prefix(HOLE_OPEN)?
        .strip_suffix(HOLE_CLOSE)?
        .parse()
        .ok()
}

/// Whether the text holds something written like a hole: text that does cannot be rendered
/// with holes, whose tokens would be ambiguous.
pub fn has_hole_characters(text: &str) -> bool {
    text.contains([HOLE_OPEN, HOLE_CLOSE])
}

/// The length of the hole at the start of the text; `None` when it is not closed.
fn hole_len(text: &str) -> Option<usize> {
    let digits = text[HOLE_OPEN.len_utf8()..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    let close = HOLE_OPEN.len_utf8() + digits;
    (digits > 0 && text[close..].starts_with(HOLE_CLOSE)).then_some(close + HOLE_CLOSE.len_utf8())
}

/// The length of `{...}` at the start of the text, braces nested (`${jsonencode({a = 1})}`);
/// an unclosed brace runs to the end.
fn braced_len(text: &str) -> usize {
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    text.len()
}

/// `<ACCOUNT_ID>`-style placeholders: a bracketed upper-case word.
pub fn has_angle_placeholder(text: &str) -> bool {
    text.split('<').skip(1).any(|rest| {
        rest.split_once('>').is_some_and(|(word, _)| {
            !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '-')
        })
    })
}

/// A value that is wholly `${VAR}`, `$VAR` or `{{ ... }}`: rendered later, unknown now.
pub fn is_placeholder(text: &str) -> bool {
    let t = text.trim();
    hole_number(t).is_some()
        || (t.starts_with("${") && t.ends_with('}') && t.matches("${").count() == 1)
        || (t.starts_with("{{") && t.ends_with("}}"))
        || (t.starts_with('$')
            && t[1..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && t.len() > 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hole_is_a_placeholder_with_its_number() {
        let token = hole_token(12);
        assert_eq!(hole_number(&token), Some(12));
        assert!(is_placeholder(&token));
        let text = format!("arn:aws:iam::{token}:role/ledger");
        assert_eq!(
            next_placeholder(&text),
            Some(("arn:aws:iam::", token.as_str(), ":role/ledger"))
        );
        assert!(has_hole_characters(&text));
        assert!(!has_placeholder("\u{E000}unclosed"));
        assert_eq!(hole_number("\u{E000}\u{E001}"), None);
    }
}
