//! What a chart's ServiceAccounts are called for one release: the name templates of
//! `data/charts/README.md` (`{fullname:52}-webhook`, `{values:a.b|chart}`) evaluated over
//! the release's values, as the reference evaluator of `scripts/charts/regenerate.py` does.
//!
//! Every answer is three-valued: a values path the release may set out of sight makes what
//! depends on it unknown, never a guess.

use super::data::{Collapse, Era, FullnameRule, NameRule, SaRule, Text, TextItem};
use crate::eval::value::{Value, format_number};
use crate::facts::kubernetes::Values;
use crate::source::Span;

/// A rendered text and the user value it was made from, if any (where a finding about it
/// points).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rendered {
    pub text: String,
    pub span: Option<Span>,
}

/// The release a chart's names are rendered for.
pub(crate) struct Context<'a> {
    pub era: &'a Era,
    pub release: &'a str,
    pub namespace: &'a str,
    /// Where the release's namespace is written.
    pub namespace_span: Option<Span>,
    pub values: &'a Values,
}

/// One ServiceAccount of a chart, evaluated: each part `None` when unknown.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Evaluated {
    pub name: Option<Rendered>,
    pub namespace: Option<Rendered>,
    /// Whether the chart renders the object itself.
    pub created: Option<bool>,
}

/// A values path as the release has it: the user's value (even `""` or `false`), else the
/// chart's default; a user `null` unsets it.
#[derive(Debug, Clone, PartialEq)]
enum Effective {
    Text(String, Option<Span>),
    Bool(bool, Option<Span>),
    /// Unset, null, a map or a list: empty text, false.
    Empty(Option<Span>),
    Unknown,
}

impl Effective {
    fn text(&self) -> Option<Rendered> {
        match self {
            Effective::Text(t, span) => Some(Rendered {
                text: t.clone(),
                span: *span,
            }),
            Effective::Bool(true, span) => Some(Rendered {
                text: "true".into(),
                span: *span,
            }),
            Effective::Bool(false, span) | Effective::Empty(span) => Some(Rendered {
                text: String::new(),
                span: *span,
            }),
            Effective::Unknown => None,
        }
    }

    /// Go template truthiness.
    fn truthy(&self) -> Option<bool> {
        match self {
            Effective::Text(t, _) => Some(!t.is_empty()),
            Effective::Bool(b, _) => Some(*b),
            Effective::Empty(_) => Some(false),
            Effective::Unknown => None,
        }
    }
}

impl Context<'_> {
    fn effective(&self, path: &str) -> Effective {
        let segments: Vec<String> = path.split('.').map(str::to_string).collect();
        match user_value(self.values, &segments) {
            Some(v) => {
                let span = self.values.spans.get(&segments).copied();
                from_user(v, span)
            }
            None if self.values.unknown => Effective::Unknown,
            None => match self.era.defaults.get(path) {
                Some(serde_json::Value::String(s)) => Effective::Text(s.clone(), None),
                Some(serde_json::Value::Bool(b)) => Effective::Bool(*b, None),
                Some(serde_json::Value::Number(n)) => Effective::Text(n.to_string(), None),
                _ => Effective::Empty(None),
            },
        }
    }
}

/// The user's value at a path: `None` when the user's values do not hold the key.
fn user_value<'v>(values: &'v Values, path: &[String]) -> Option<&'v Value> {
    let (first, rest) = path.split_first()?;
    let mut v = values.tree.get(first)?;
    for seg in rest {
        v = match v {
            Value::Map(m) => m.get(seg)?,
            _ => return None,
        };
    }
    Some(v)
}

fn from_user(v: &Value, span: Option<Span>) -> Effective {
    match v {
        Value::String(s) => match s.as_known() {
            // `--set a=false` and Terraform's `set` give text Helm reads as a boolean.
            Some("true") => Effective::Bool(true, span),
            Some("false") => Effective::Bool(false, span),
            Some(t) => Effective::Text(t.to_string(), span),
            None => Effective::Unknown,
        },
        Value::Bool(b) => Effective::Bool(*b, span),
        Value::Number(n) => Effective::Text(format_number(*n), span),
        Value::Null | Value::Map(_) | Value::List(_) => Effective::Empty(span),
        Value::Unknown => Effective::Unknown,
    }
}

/// Sprig `trunc n | trimSuffix "-"`: the first n bytes, then one trailing `-` removed.
pub(crate) fn truncate(s: &str, n: Option<usize>) -> String {
    let Some(n) = n else {
        return s.to_string();
    };
    let mut end = n.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let cut = &s[..end];
    cut.strip_suffix('-').unwrap_or(cut).to_string()
}

fn cut(r: Rendered, n: Option<usize>) -> Rendered {
    Rendered {
        text: truncate(&r.text, n),
        span: r.span,
    }
}

/// A piece of a template: literal text, or a placeholder's alternatives and cut.
#[derive(Debug, PartialEq)]
pub(crate) enum Piece<'t> {
    Literal(&'t str),
    Placeholder {
        alternatives: Vec<&'t str>,
        truncate: Option<usize>,
    },
}

/// `literal{alt|alt...[:N]}literal...`; `None` when the template breaks the grammar.
pub(crate) fn parse_template(t: &str) -> Option<Vec<Piece<'_>>> {
    let mut pieces = Vec::new();
    let mut rest = t;
    while !rest.is_empty() {
        let Some(open) = rest.find(['{', '}']) else {
            pieces.push(Piece::Literal(rest));
            break;
        };
        if rest.as_bytes()[open] == b'}' {
            return None;
        }
        if open > 0 {
            pieces.push(Piece::Literal(&rest[..open]));
        }
        let close = open + rest[open..].find('}')?;
        let mut body = &rest[open + 1..close];
        if body.contains('{') {
            return None;
        }
        let mut truncate = None;
        if !body.ends_with('\'')
            && let Some((head, n)) = body.rsplit_once(':')
            && !n.is_empty()
            && n.chars().all(|c| c.is_ascii_digit())
        {
            truncate = n.parse().ok();
            body = head;
        }
        let alternatives: Vec<&str> = body.split('|').collect();
        if !alternatives.iter().all(|a| valid_alternative(a)) {
            return None;
        }
        pieces.push(Piece::Placeholder {
            alternatives,
            truncate,
        });
        rest = &rest[close + 1..];
    }
    Some(pieces)
}

fn valid_alternative(a: &str) -> bool {
    let path_ok = |p: &str| {
        !p.is_empty()
            && p.split('.').all(|s| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            })
    };
    match a {
        "release" | "chart" | "namespace" | "fullname" | "name" => true,
        _ => {
            if let Some(p) = a.strip_prefix("values:") {
                path_ok(p)
            } else if let Some(id) = a.strip_prefix("sa:") {
                path_ok(id) && !id.contains('.')
            } else {
                a.len() >= 2
                    && a.starts_with('\'')
                    && a.ends_with('\'')
                    && !a[1..a.len() - 1].contains(['\'', '{', '}', '|', ':'])
            }
        }
    }
}

/// How deep `sa:` references may go (the data has no cycles; this only stops a bad file).
const MAX_DEPTH: usize = 8;

impl Context<'_> {
    fn source(&self, alternative: &str, depth: usize) -> Option<Rendered> {
        let plain = |s: &str| {
            Some(Rendered {
                text: s.to_string(),
                span: None,
            })
        };
        match alternative {
            "release" => plain(self.release),
            "chart" => plain(&self.era.chart_name),
            "namespace" => Some(Rendered {
                text: self.namespace.to_string(),
                span: self.namespace_span,
            }),
            "fullname" => self.fullname(self.era.fullname.as_ref()?, depth),
            "name" => self.name(self.era.name.as_ref()?, depth),
            a if a.starts_with('\'') => plain(&a[1..a.len() - 1]),
            a => {
                if let Some(path) = a.strip_prefix("values:") {
                    self.effective(path).text()
                } else {
                    let id = a.strip_prefix("sa:")?;
                    let sa = self.era.service_accounts.iter().find(|s| s.id == id)?;
                    if depth >= MAX_DEPTH {
                        return None;
                    }
                    match self.service_account_name(sa, depth + 1) {
                        Some(Some(r)) => Some(r),
                        // A name that renders empty is no name: the next alternative.
                        Some(None) => plain(""),
                        None => None,
                    }
                }
            }
        }
    }

    fn template(&self, t: &str, depth: usize) -> Option<Rendered> {
        let mut out = Rendered {
            text: String::new(),
            span: None,
        };
        for piece in parse_template(t)? {
            let part = match piece {
                Piece::Literal(l) => Rendered {
                    text: l.to_string(),
                    span: None,
                },
                Piece::Placeholder {
                    alternatives,
                    truncate,
                } => {
                    // The first alternative that is not empty; an unknown one may be.
                    let mut value = None;
                    for a in alternatives {
                        let v = self.source(a, depth)?;
                        let empty = v.text.is_empty();
                        value = Some(v);
                        if !empty {
                            break;
                        }
                    }
                    cut(value?, truncate)
                }
            };
            out.text.push_str(&part.text);
            out.span = out.span.or(part.span);
        }
        Some(out)
    }

    /// The first item of a Text that renders non-empty (empty when none does).
    fn text(&self, text: &Text, depth: usize) -> Option<Rendered> {
        let mut last = Rendered {
            text: String::new(),
            span: None,
        };
        for item in text.items() {
            let r = match item {
                TextItem::Template(t) => self.template(t, depth)?,
                TextItem::Cut { template, truncate } => {
                    cut(self.template(template, depth)?, Some(*truncate))
                }
            };
            if !r.text.is_empty() {
                return Some(r);
            }
            last = r;
        }
        Some(last)
    }

    fn name(&self, rule: &NameRule, depth: usize) -> Option<Rendered> {
        Some(cut(self.text(&rule.base, depth)?, rule.truncate))
    }

    fn fullname(&self, rule: &FullnameRule, depth: usize) -> Option<Rendered> {
        if let Some(path) = &rule.override_path {
            let o = self.effective(path).text()?;
            if !o.text.is_empty() {
                return Some(cut(o, rule.truncate));
            }
        }
        let base = self.text(&rule.base, depth)?;
        let joined = match rule.collapse {
            Collapse::Contains if self.release.contains(base.text.as_str()) => {
                self.release.to_string()
            }
            Collapse::Equals if self.release == base.text => base.text.clone(),
            _ => format!("{}-{}", self.release, base.text),
        };
        Some(cut(
            Rendered {
                text: joined,
                span: base.span,
            },
            rule.truncate,
        ))
    }

    /// `Some(None)`: the name renders empty (unknown to a linter, as the chart renders no
    /// usable name); `None`: unknown.
    fn service_account_name(&self, sa: &SaRule, depth: usize) -> Option<Option<Rendered>> {
        for path in &sa.name {
            let v = self.effective(path).text()?;
            if !v.text.is_empty() {
                return Some(Some(v));
            }
        }
        let switch = match &sa.create {
            Some(path) => self.effective(path).truthy()?,
            None => true,
        };
        let text = if switch { &sa.default } else { &sa.not_created };
        let Some(text) = text else {
            return Some(None);
        };
        let r = self.text(text, depth)?;
        Some((!r.text.is_empty()).then_some(r))
    }

    /// One ServiceAccount of the era.
    pub fn evaluate(&self, sa: &SaRule) -> Evaluated {
        let created = sa
            .gates()
            .iter()
            .map(|p| self.effective(p).truthy())
            .try_fold(true, |all, t| Some(all && t?));
        Evaluated {
            name: self.service_account_name(sa, 0).flatten(),
            namespace: self.text(&sa.namespace, 0).filter(|r| !r.text.is_empty()),
            created,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_by_the_grammar() {
        assert_eq!(
            parse_template("{fullname:52}-cainjector").unwrap(),
            vec![
                Piece::Placeholder {
                    alternatives: vec!["fullname"],
                    truncate: Some(52)
                },
                Piece::Literal("-cainjector"),
            ]
        );
        assert_eq!(
            parse_template("{values:nameOverride|'x:y'}").map(|p| p.len()),
            None,
            "a quoted literal holds no colon"
        );
        assert!(parse_template("{values:a.b|chart}-{'lit'}").is_some());
        assert!(parse_template("{bogus}").is_none());
        assert!(parse_template("a}b").is_none());
    }

    #[test]
    fn trunc_removes_one_trailing_dash() {
        assert_eq!(
            truncate("cluster01-kube-prometheus-stack", Some(26)),
            "cluster01-kube-prometheus"
        );
        assert_eq!(truncate("a--", Some(3)), "a-");
        assert_eq!(truncate("abc", None), "abc");
    }

    #[test]
    fn every_template_of_the_data_parses() {
        for chart in &super::super::data::DATA.charts {
            for era in &chart.eras {
                let rules = era
                    .name
                    .iter()
                    .map(|n| &n.base)
                    .chain(era.fullname.iter().map(|f| &f.base));
                let sas = era.service_accounts.iter().flat_map(|sa| {
                    [&sa.default, &sa.not_created]
                        .into_iter()
                        .flatten()
                        .chain([&sa.namespace])
                });
                for text in rules.chain(sas) {
                    for item in text.items() {
                        let t = match item {
                            TextItem::Template(t) => t,
                            TextItem::Cut { template, .. } => template,
                        };
                        assert!(parse_template(t).is_some(), "{}: {t}", chart.id);
                    }
                }
            }
        }
    }
}
