//! Template placeholders in manifest text: `${VAR}` and `$VAR` (envsubst, Terraform
//! `templatefile`), `{{ ... }}` (Go and Helm templates) and `%{ ... }` (Terraform directives).
//!
//! A placeholder is only known once the template is rendered, so a value that holds one is
//! split into literal text and [`Symbol::Placeholder`] parts: rules compare the literal parts
//! and treat the rest as unknown. This module knows nothing of Kubernetes.

use crate::eval::value::{Str, Symbol};

/// The text as a string whose placeholders are symbolic; a known string when it has none.
pub(super) fn template_str(text: &str) -> Str {
    let mut out = Str::default();
    let mut rest = text;
    while let Some((before, placeholder, after)) = next_placeholder(rest) {
        out.push_str(before);
        out.push_sym(Symbol::Placeholder(placeholder.to_owned()));
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Whether the text holds a placeholder anywhere.
pub(super) fn has_placeholder(text: &str) -> bool {
    next_placeholder(text).is_some()
}

/// The text before the first placeholder, the placeholder, and the text after it.
fn next_placeholder(text: &str) -> Option<(&str, &str, &str)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str) -> Vec<String> {
        template_str(text)
            .parts()
            .iter()
            .map(|p| match p {
                crate::eval::value::Part::Lit(l) => format!("lit {l}"),
                crate::eval::value::Part::Sym(s) => format!("sym {}", s.display()),
            })
            .collect()
    }

    #[test]
    fn every_placeholder_form_is_a_symbol_between_literals() {
        assert_eq!(
            shown("arn:aws:iam::${ACCOUNT_ID}:role/api"),
            ["lit arn:aws:iam::", "sym ${ACCOUNT_ID}", "lit :role/api"]
        );
        assert_eq!(
            shown("arn:aws:iam::$ACCOUNT_ID:role/api"),
            ["lit arn:aws:iam::", "sym $ACCOUNT_ID", "lit :role/api"]
        );
        assert_eq!(shown("{{ .Values.arn }}"), ["sym {{ .Values.arn }}"]);
        assert_eq!(
            shown("a-%{ if x }b%{ endif }"),
            ["lit a-", "sym %{ if x }", "lit b", "sym %{ endif }"]
        );
        assert_eq!(
            shown("${jsonencode({a = 1})}-x"),
            ["sym ${jsonencode({a = 1})}", "lit -x"]
        );
    }

    #[test]
    fn text_without_placeholders_stays_known() {
        for text in [
            "arn:aws:iam::482910375521:role/api",
            "cost $5",
            "a$",
            "{a}",
            "50%",
        ] {
            assert_eq!(template_str(text).as_known(), Some(text), "{text}");
            assert!(!has_placeholder(text));
        }
        assert!(has_placeholder("pay-${ENV}"));
        assert!(has_placeholder("{{ .Release.Namespace }}"));
    }
}
