//! Template placeholders in text: `${VAR}` and `$VAR` (envsubst, Terraform
//! `templatefile`), `{{ ... }}` (Go and Helm templates), `%{ ... }` (Terraform directives) and
//! `<ACCOUNT_ID>`-style words a script replaces before applying. A value that holds one is
//! known only once rendered.

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
    (t.starts_with("${") && t.ends_with('}') && t.matches("${").count() == 1)
        || (t.starts_with("{{") && t.ends_with("}}"))
        || (t.starts_with('$')
            && t[1..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && t.len() > 1)
}
