//! Template placeholders in text: `${VAR}` and `$VAR` (envsubst, Terraform
//! `templatefile`), `{{ ... }}` (Go and Helm templates), `{% ... %}` and `{# ... #}` (Jinja),
//! `%{ ... }` (Terraform directives), `$(VAR)` (kustomize vars), and the tokens a script
//! replaces before applying: `<ACCOUNT_ID>` / `<account-id>`, `__ACCOUNT_ID__`, `{ACCOUNT_ID}`,
//! `@ACCOUNT_ID@`, `%ACCOUNT_ID%`. A value that holds one is known only once rendered.
//!
//! A *hole* is the placeholder a renderer leaves for a part it could not write out
//! ([`hole_token`]); readers of the text take it for a placeholder like any other.
//!
//! Whole files can be templates too ([`is_template_file`]): what they say is known only once
//! rendered, and their syntax errors are not the user's mistakes.

use std::path::Path;

/// Whether the text holds a placeholder anywhere.
pub fn has_placeholder(text: &str) -> bool {
    next_placeholder(text).is_some()
}

/// The text before the first placeholder, the placeholder, and the text after it.
pub fn next_placeholder(text: &str) -> Option<(&str, &str, &str)> {
    let bytes = text.as_bytes();
    for i in 0..bytes.len() {
        let hole = bytes[i] == HOLE_FIRST_BYTE
            && text.is_char_boundary(i)
            && text[i..].starts_with(HOLE_OPEN);
        // Every other placeholder starts with an ASCII character.
        let len = if hole {
            hole_len(&text[i..])
        } else if PLACEHOLDER_FIRST_BYTES.contains(&bytes[i]) {
            placeholder_len(&text[i..])
        } else {
            None
        };
        if let Some(len) = len {
            return Some((&text[..i], &text[i..i + len], &text[i + len..]));
        }
    }
    None
}

/// The bytes a placeholder can start with ([`placeholder_len`]): every other byte is passed
/// over without a look (every ServiceAccount's annotation is searched, on every edit).
const PLACEHOLDER_FIRST_BYTES: &[u8] = b"$%{<_@";

/// The length of the placeholder the text starts with, if it starts with one.
fn placeholder_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let word =
        |from: usize, ok: fn(u8) -> bool| bytes[from..].iter().take_while(|&&c| ok(c)).count();
    let closed_by =
        |from: usize, close: &str| text[from..].find(close).map(|n| from + n + close.len());
    match (bytes[0], bytes.get(1).copied()) {
        (b'$' | b'%', Some(b'{')) => Some(1 + braced_len(&text[1..])),
        (b'{', Some(b'{')) => Some(closed_by(2, "}}").unwrap_or(text.len())),
        (b'{', Some(b'%')) => Some(closed_by(2, "%}").unwrap_or(text.len())),
        (b'{', Some(b'#')) => Some(closed_by(2, "#}").unwrap_or(text.len())),
        // kustomize `vars`: `$(SERVICE_ACCOUNT)`, `$(Service.metadata.name)`.
        (b'$', Some(b'(')) => {
            let n = word(2, |c| {
                c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')
            });
            (n > 0 && bytes.get(2 + n) == Some(&b')')).then_some(n + 3)
        }
        (b'$', Some(c)) if c.is_ascii_alphabetic() || c == b'_' => {
            Some(1 + word(1, |c| c.is_ascii_alphanumeric() || c == b'_'))
        }
        // `<ACCOUNT_ID>`, `<account-id>`: one word, no spaces (a sentence is an instruction).
        (b'<', Some(c)) if c.is_ascii_alphabetic() => {
            let n = word(1, |c| {
                c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
            });
            (bytes.get(1 + n) == Some(&b'>')).then_some(n + 2)
        }
        // `{ACCOUNT_ID}`: upper case only, so `{a}` and JSON stay text.
        (b'{', Some(c)) if c.is_ascii_uppercase() => {
            let n = word(1, |c| {
                c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_'
            });
            (bytes.get(1 + n) == Some(&b'}')).then_some(n + 2)
        }
        // `__ACCOUNT_ID__`, `@ACCOUNT_ID@`: sed-style tokens.
        (b'_', Some(b'_')) => {
            let n = word(2, |c| c.is_ascii_alphanumeric() || c == b'_');
            let inner = &text[2..2 + n];
            let inner = inner.strip_suffix("__")?;
            (!inner.is_empty() && !inner.starts_with('_') && !inner.ends_with('_'))
                .then_some(inner.len() + 4)
        }
        (b'@' | b'%', Some(c)) if c.is_ascii_uppercase() => {
            let n = word(1, |c| {
                c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_'
            });
            (bytes.get(1 + n) == Some(&bytes[0])).then_some(n + 2)
        }
        _ => None,
    }
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

/// A value that is wholly one placeholder: rendered later, unknown now.
pub fn is_placeholder(text: &str) -> bool {
    let t = text.trim();
    hole_number(t).is_some() || (!t.is_empty() && placeholder_len(t) == Some(t.len()))
}

/// A note left for a person where a value belongs: `<output of terraform output role_arn>`.
/// Unlike a placeholder, nothing renders it.
pub fn instruction_in(text: &str) -> Option<&str> {
    let start = text.find('<')?;
    let len = text[start..].find('>')? + 1;
    let inner = &text[start + 1..start + len - 1];
    inner.contains(' ').then(|| &text[start..start + len])
}

/// File names that say the file is a template: a `.j2`, `.jinja`, `.tpl`, `.tmpl`,
/// `.gotmpl` or `.template` part anywhere after the first dot (`eks.j2.tf`,
/// `values.tmpl.yaml`).
const TEMPLATE_NAME_PARTS: &[&str] = &[
    "j2", "jinja", "jinja2", "tpl", "tmpl", "gotmpl", "template", "tftpl", "erb", "mustache",
];

/// Whether a file is a template by its name.
pub fn is_template_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    name.to_ascii_lowercase()
        .split('.')
        .skip(1)
        .any(|part| TEMPLATE_NAME_PARTS.contains(&part))
}

/// Whether a file is a template: by its name, or because its text carries statement syntax
/// of a template language (Jinja or Go/Helm `{{ }}`, `{% %}`, `{# #}`; mkdocs `{% raw %}`)
/// or sed-style tokens (`__NAME__`, `@NAME@`, `%NAME%`). Asked of a file that could not be parsed: its
/// syntax error is then the template's, not the user's mistake.
pub fn is_template_file(path: &Path, text: &str) -> bool {
    is_template_name(path)
        || text.contains("{{")
        || text.contains("{%")
        || text.contains("{#")
        || sed_token_in(text)
}

/// Whether the text holds a `__NAME__`, `@NAME@` or `%NAME%` token.
fn sed_token_in(text: &str) -> bool {
    text.match_indices(['_', '@', '%']).any(|(i, _)| {
        placeholder_len(&text[i..]).is_some()
            && !text[..i].ends_with(|c: char| c.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some((_, placeholder, after)) = next_placeholder(rest) {
            out.push(placeholder);
            rest = after;
        }
        out
    }

    #[test]
    fn every_kind_of_placeholder_is_found() {
        for (text, expected) in [
            ("arn:aws:iam::${ACCOUNT_ID}:role/api", "${ACCOUNT_ID}"),
            ("arn:aws:iam::$ACCOUNT:role/api", "$ACCOUNT"),
            (
                "arn:aws:iam::{{ .Values.account }}:role/api",
                "{{ .Values.account }}",
            ),
            ("arn:aws:iam::{% raw %}:role/api", "{% raw %}"),
            ("arn:aws:iam::$(ACCOUNT_ID):role/api", "$(ACCOUNT_ID)"),
            ("$(Service.metadata.name)", "$(Service.metadata.name)"),
            ("arn:aws:iam::<ACCOUNT_ID>:role/api", "<ACCOUNT_ID>"),
            ("arn:aws:iam::<account-id>:role/api", "<account-id>"),
            ("arn:aws:iam::__ACCOUNT_ID__:role/api", "__ACCOUNT_ID__"),
            ("arn:aws:iam::{ACCOUNT_ID}:role/api", "{ACCOUNT_ID}"),
            ("arn:aws:iam::@ACCOUNT_ID@:role/api", "@ACCOUNT_ID@"),
            ("code: %EKS_ACTIVATION_CODE%", "%EKS_ACTIVATION_CODE%"),
        ] {
            assert_eq!(parts(text), [expected], "{text}");
        }
    }

    #[test]
    fn ordinary_text_holds_no_placeholder() {
        for text in [
            "arn:aws:iam::482910375521:role/api",
            "cost $5",
            "a$",
            "{a}",
            "50%",
            "50% of 60%",
            "a < b > c",
            "my__role",
            "__init",
            "user@example.com",
            "{\"a\": 1}",
        ] {
            assert!(!has_placeholder(text), "{text}");
        }
    }

    #[test]
    fn a_sentence_in_brackets_is_an_instruction() {
        assert_eq!(
            instruction_in("<output of terraform output role_arn>"),
            Some("<output of terraform output role_arn>")
        );
        assert_eq!(instruction_in("arn:aws:iam::<ACCOUNT_ID>:role/api"), None);
    }

    #[test]
    fn templates_are_known_by_name_or_by_their_statements() {
        let yes = |name: &str, text: &str| is_template_file(Path::new(name), text);
        assert!(yes("eks-master-iam.j2.tf", "resource \"x\" \"y\" {}"));
        assert!(yes("values.tmpl.yaml", "a: 1"));
        assert!(yes(
            "sa.yaml",
            "{% if irsa %}\nkind: ServiceAccount\n{% endif %}"
        ));
        assert!(yes("sa.yaml", "{{- include \"x\" . }}"));
        assert!(yes("sa.yaml", "role: arn:aws:iam::__ACCOUNT__:role/x"));
        assert!(!yes("sa.yaml", "kind: ServiceAccount\nname: my__role"));
        assert!(!yes("main.tf", "resource \"x\" \"y\" { a = \"${var.b}\" }"));
    }

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
