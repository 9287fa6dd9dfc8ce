//! `${NAME}` substitution as Flux's post-build step does it (`${NAME}`, `${NAME:=default}`,
//! `${NAME:-default}`, `${NAME=default}`, `${NAME-default}`, and `$$` for a literal `$`),
//! keeping where each replaced piece was written so that positions in the substituted text
//! can be traced back to the original.
//!
//! A variable whose value is not known is left as written: it stays a placeholder, unknown,
//! never an empty string. Other forms (`${NAME:+x}`, `${#NAME}`, `${NAME/a/b}`, `$NAME`) are
//! left as written too. Knows nothing of YAML or Kubernetes.

use std::ops::Range;

/// What a variable is, as far as the files tell.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    Value(String),
    /// Provably not defined: a default applies.
    Undefined,
    /// May be defined by something out of sight.
    Unknown,
}

/// One replaced piece of text.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    /// Where it is in the original text.
    pub original: Range<usize>,
    /// Where its replacement is in the substituted text.
    pub substituted: Range<usize>,
    /// The variable, or `None` for an escaped `$$`.
    pub variable: Option<String>,
    /// Whether the default written after `:=` / `:-` was used.
    pub defaulted: bool,
}

/// A text after substitution, and how to find the original of a position in it.
#[derive(Debug, Clone, Default)]
pub struct Substituted {
    pub text: String,
    /// In text order.
    pub edits: Vec<Edit>,
}

impl Substituted {
    /// The original offset of an offset of the substituted text. An offset inside a
    /// replacement maps to the start of what it replaced (`end` false) or to its end
    /// (`end` true), so a range covering part of a replacement covers all of its original.
    pub fn original(&self, offset: usize, end: bool) -> usize {
        let mut delta: isize = 0;
        for edit in &self.edits {
            let r = &edit.substituted;
            if offset < r.start || (end && offset == r.start) {
                break;
            }
            let inside = if end { offset <= r.end } else { offset < r.end };
            if inside {
                return if end && offset > r.start {
                    edit.original.end
                } else {
                    edit.original.start
                };
            }
            delta = edit.original.end as isize - r.end as isize;
        }
        (offset as isize + delta).max(0) as usize
    }

    /// The original range of a range of the substituted text.
    pub fn original_range(&self, range: Range<usize>) -> Range<usize> {
        let start = self.original(range.start, false);
        let end = self.original(range.end, true).max(start);
        start..end
    }
}

/// Whether a name is one Flux accepts as a variable (`^[_[:alpha:]][_[:alpha:][:digit:]]*$`).
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Substitute every `${NAME...}` whose value `lookup` knows.
pub fn substitute(text: &str, lookup: &dyn Fn(&str) -> Lookup) -> Substituted {
    let mut out = Substituted::default();
    let mut copied = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        let replaced = match bytes.get(i + 1) {
            Some(b'$') => Some((i + 2, "$".to_string(), None, false)),
            Some(b'{') => braced(text, i, lookup),
            _ => None,
        };
        let Some((end, replacement, variable, defaulted)) = replaced else {
            i += 1;
            continue;
        };
        out.text.push_str(&text[copied..i]);
        let start = out.text.len();
        out.text.push_str(&replacement);
        out.edits.push(Edit {
            original: i..end,
            substituted: start..out.text.len(),
            variable,
            defaulted,
        });
        copied = end;
        i = end;
    }
    out.text.push_str(&text[copied..]);
    out
}

/// `${...}` at `at`: its end, replacement, variable and whether the default was used; `None`
/// when it is left as written.
fn braced(
    text: &str,
    at: usize,
    lookup: &dyn Fn(&str) -> Lookup,
) -> Option<(usize, String, Option<String>, bool)> {
    let close = at + 2 + text[at + 2..].find(['}', '\n'])?;
    if text.as_bytes()[close] != b'}' {
        return None;
    }
    let inner = &text[at + 2..close];
    let name_len = inner
        .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
        .unwrap_or(inner.len());
    let (name, operator) = inner.split_at(name_len);
    if !is_variable_name(name) {
        return None;
    }
    let value = lookup(name);
    let (default, if_empty) = if operator.is_empty() {
        (None, false)
    } else if let Some(d) = operator
        .strip_prefix(":=")
        .or_else(|| operator.strip_prefix(":-"))
    {
        (Some(d), true)
    } else if let Some(d) = operator
        .strip_prefix('=')
        .or_else(|| operator.strip_prefix('-'))
    {
        (Some(d), false)
    } else {
        return None;
    };
    // A default that is itself a substitution is not followed.
    if default.is_some_and(|d| d.contains('$')) {
        return None;
    }
    let (replacement, defaulted) = match (value, default) {
        (Lookup::Value(v), Some(d)) if v.is_empty() && if_empty => (d.to_string(), true),
        (Lookup::Value(v), _) => (v, false),
        (Lookup::Undefined, Some(d)) => (d.to_string(), true),
        (Lookup::Undefined | Lookup::Unknown, _) => return None,
    };
    Some((close + 1, replacement, Some(name.to_string()), defaulted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Lookup {
        match name {
            "role_arn" => Lookup::Value("arn:aws:iam::111122223333:role/alb".into()),
            "empty" => Lookup::Value(String::new()),
            "secret" => Lookup::Unknown,
            _ => Lookup::Undefined,
        }
    }

    #[test]
    fn known_variables_are_replaced_and_unknown_ones_kept() {
        let s = substitute(
            "a: ${role_arn}\nb: ${secret}\nc: ${missing}\nd: $role_arn\ne: ${role_arn:+x}\n",
            &vars,
        );
        assert_eq!(
            s.text,
            "a: arn:aws:iam::111122223333:role/alb\nb: ${secret}\nc: ${missing}\n\
             d: $role_arn\ne: ${role_arn:+x}\n"
        );
        assert_eq!(s.edits.len(), 1);
        assert_eq!(s.edits[0].variable.as_deref(), Some("role_arn"));
    }

    #[test]
    fn defaults_apply_to_variables_known_to_be_unset_or_empty() {
        let s = substitute(
            "${missing:=kube-system} ${missing:-x} ${empty:=y} ${empty=z} ${missing-w} ${secret:=v}",
            &vars,
        );
        assert_eq!(s.text, "kube-system x y  w ${secret:=v}");
        assert!(s.edits[0].defaulted && !s.edits[3].defaulted);
    }

    #[test]
    fn a_double_dollar_is_a_literal_dollar() {
        let s = substitute("echo $${role_arn}", &vars);
        assert_eq!(s.text, "echo ${role_arn}");
    }

    #[test]
    fn positions_map_back_to_what_was_written() {
        let text = "name: x\nrole: arn:${role_arn}-end\ntail: 1\n";
        let s = substitute(text, &|n| {
            if n == "role_arn" {
                Lookup::Value("ROLE".into())
            } else {
                Lookup::Unknown
            }
        });
        assert_eq!(s.text, "name: x\nrole: arn:ROLE-end\ntail: 1\n");
        // Before the replacement: unchanged.
        assert_eq!(s.original(5, false), 5);
        // The whole scalar maps to the whole scalar as written.
        let value = s.text.find("arn:").unwrap()..s.text.find("-end").unwrap() + 4;
        let original = s.original_range(value);
        assert_eq!(&text[original], "arn:${role_arn}-end");
        // The replacement alone maps to the placeholder.
        let role = s.text.find("ROLE").unwrap();
        assert_eq!(&text[s.original_range(role..role + 4)], "${role_arn}");
        // After it: shifted back.
        let tail = s.text.find("tail").unwrap();
        assert_eq!(&text[s.original_range(tail..tail + 4)], "tail");
    }

    #[test]
    fn odd_input_is_left_alone() {
        for text in [
            "$",
            "${",
            "${}",
            "${1abc}",
            "${a\n}",
            "${a:?err}",
            "${a:=${b}}",
        ] {
            assert_eq!(
                substitute(text, &|_| Lookup::Undefined).text,
                text,
                "{text}"
            );
        }
        assert!(is_variable_name("_cluster_1") && !is_variable_name("1x"));
    }
}
