//! Which of the engine's findings break which link of a chain.
//!
//! A link is broken only when `check` reported it: the graph looks findings up by where
//! their rule puts the primary label, and never re-derives a rule's verdict.

use foldhash::{HashMap, HashMapExt};

use crate::diagnostic::Diagnostic;
use crate::facts::SaId;
use crate::source::{FileId, Span};

/// Rules that put their primary label on a role-arn annotation's value because the value
/// does not name the role it should.
pub const ANNOTATION_RULES: &[&str] = &[
    "IRSA001", "IRSA002", "IRSA011", "IRSA012", "IRSA017", "IRSA022", "IRSA023",
];
/// Rules that say the role's trust (or its provider) rejects a ServiceAccount's token.
pub const TRUST_RULES: &[&str] = &["IRSA003", "IRSA004", "IRSA027"];
/// The Federated principal names a provider the scan does not declare, or is no provider ARN
/// at all.
pub const PRINCIPAL_RULES: &[&str] = &["IRSA010", "IRSA029"];
/// A subject of the role's trust that no ServiceAccount token carries: the trust rules stay
/// silent on it, and this breaks the link instead.
pub const SUBJECT_RULES: &[&str] = &["IRSA031"];
/// The policy reaching a controller's role lacks what its version needs.
pub const CONTROLLER_RULES: &[&str] = &["IRSA030"];
/// A Pod Identity association's role does not trust the Pod Identity service.
pub const POD_IDENTITY_TRUST_RULES: &[&str] = &["IRSA020"];

/// The findings, indexed by the file of their primary label and by the ServiceAccount they
/// are about: every chain asks, and a scan of all findings per chain is quadratic in a
/// monorepo with many findings.
pub struct Findings<'d> {
    diagnostics: &'d [Diagnostic],
    /// Indices into `diagnostics` (so in output order), by primary file.
    by_file: HashMap<FileId, Vec<usize>>,
    /// Indices into `diagnostics`, by the ServiceAccount the finding is about.
    by_service_account: HashMap<SaId, Vec<usize>>,
}

impl<'d> Findings<'d> {
    pub fn new(diagnostics: &'d [Diagnostic]) -> Self {
        let mut by_file: HashMap<FileId, Vec<usize>> = HashMap::new();
        let mut by_service_account: HashMap<SaId, Vec<usize>> = HashMap::new();
        for (i, d) in diagnostics.iter().enumerate() {
            by_file.entry(d.primary.span.file).or_default().push(i);
            if let Some(sa) = d.subject.service_account {
                by_service_account.entry(sa).or_default().push(i);
            }
        }
        Findings {
            diagnostics,
            by_file,
            by_service_account,
        }
    }

    /// The rule of the first finding (in output order) of `rules` whose primary label lies
    /// within `span`.
    pub fn within(&self, span: Span, rules: &[&str]) -> Option<&'static str> {
        self.of(self.by_file.get(&span.file), rules)
            .find(|d| contains(span, d.primary.span))
            .map(|d| d.rule_id)
    }

    /// A trust finding about this ServiceAccount (IRSA003, IRSA004, IRSA027), wherever its primary
    /// label is: found by the finding's subject.
    pub fn against_service_account(&self, sa: SaId) -> Option<&'static str> {
        self.about(sa, TRUST_RULES)
    }

    /// A finding of `rules` about this ServiceAccount, found by the finding's subject.
    pub fn about(&self, sa: SaId, rules: &[&str]) -> Option<&'static str> {
        self.of(self.by_service_account.get(&sa), rules)
            .next()
            .map(|d| d.rule_id)
    }

    fn of<'a>(
        &'a self,
        indices: Option<&'a Vec<usize>>,
        rules: &'a [&str],
    ) -> impl Iterator<Item = &'d Diagnostic> + 'a {
        let diagnostics = self.diagnostics;
        (indices.into_iter().flatten())
            .map(move |&i| &diagnostics[i])
            .filter(move |d| rules.contains(&d.rule_id))
    }
}

fn contains(outer: Span, inner: Span) -> bool {
    outer.file == inner.file && outer.start <= inner.start && inner.end <= outer.end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Label;
    use crate::rules::find;
    use crate::source::FileId;

    fn finding(rule: &str, start: u32, end: u32) -> Diagnostic {
        let span = Span {
            file: FileId(0),
            start,
            end,
        };
        Diagnostic::new(
            find(rule).unwrap().meta,
            Label::new(span, "here"),
            "a finding",
        )
    }

    #[test]
    fn a_finding_counts_only_inside_the_span_and_for_the_rules_asked() {
        let diagnostics = [finding("IRSA014", 10, 20), finding("IRSA001", 12, 18)];
        let findings = Findings::new(&diagnostics);
        let value = Span {
            file: FileId(0),
            start: 10,
            end: 20,
        };
        assert_eq!(findings.within(value, ANNOTATION_RULES), Some("IRSA001"));
        let elsewhere = Span {
            file: FileId(1),
            ..value
        };
        assert_eq!(findings.within(elsewhere, ANNOTATION_RULES), None);
        let narrower = Span { end: 15, ..value };
        assert_eq!(findings.within(narrower, ANNOTATION_RULES), None);
    }
}
