//! IRSA003 trust-subject-mismatch: the role's trust `:sub` condition does not admit the
//! ServiceAccount that uses the role.

use crate::aws::policy::Admission;
use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::value::Str;
use crate::facts::{ServiceAccount, Spanned};
use crate::link::LintContext;
use crate::rules::{RuleMeta, irsa031_impossible_trust_subject};
use crate::text::{edit_distance, glob_match};

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA003",
    name: "trust-subject-mismatch",
    default_level: Level::Error,
    summary: "the role's trust policy does not admit the ServiceAccount that uses it",
    doc: include_str!("../../rules/IRSA003.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for link in &ctx.sa_links {
        let roles = ctx.linked_roles(link);
        if roles.is_empty() {
            continue;
        }
        let sa = ctx.service_account(link);
        let subject = sa.subject();
        let mut rejections = Vec::new();
        for &(id, role) in &roles {
            match role.admits("sub", &subject, None) {
                Admission::Rejected(values) => rejections.push((id, role, values)),
                _ => break,
            }
        }
        if rejections.len() != roles.len() {
            continue;
        }
        let (role_id, role, values) = &rejections[0];
        // A subject no ServiceAccount token can carry is IRSA031's finding.
        if values
            .iter()
            .any(|v| irsa031_impossible_trust_subject::reports(role, v))
        {
            continue;
        }
        // A StringEquals value with a wildcard that would match is IRSA007's finding.
        if values.iter().any(|v| {
            v.value
                .as_known()
                .is_some_and(|t| t.contains(['*', '?']) && glob_match(t, &subject))
        }) {
            continue;
        }
        out.push(
            diagnostic(sa, &subject, &link.arn.name, role.name_span, values)
                .in_module(&role.module)
                .about_service_account(link.sa)
                .about_role(*role_id),
        );
    }
}

fn diagnostic(
    sa: &ServiceAccount,
    subject: &str,
    role_name: &Str,
    role_span: crate::source::Span,
    values: &[&Spanned<Str>],
) -> Diagnostic {
    let admitted: Vec<String> = values.iter().map(|v| v.value.display()).collect();
    let closest = values
        .iter()
        .filter_map(|v| Some((v, split_subject(v.value.as_known()?)?)))
        .min_by_key(|(_, (ns, name))| {
            usize::from(!glob_match(ns, &sa.namespace.value))
                + usize::from(!glob_match(name, &sa.name.value))
        });
    let ns_ok = |ns: &str| glob_match(ns, &sa.namespace.value);
    let name_ok = |name: &str| glob_match(name, &sa.name.value);
    let (primary, label, help) = match closest.map(|(_, parts)| parts) {
        Some((ns, name)) if name_ok(name) && !ns_ok(ns) => {
            let span = if sa.namespace_explicit {
                sa.namespace.span
            } else {
                sa.name.span
            };
            (
                span,
                format!("namespace {}", sa.namespace.value),
                if is_typo(ns, &sa.namespace.value) {
                    format!(
                        "the trust policy's namespace {ns} looks like a typo: did you mean {subject}?"
                    )
                } else {
                    format!(
                        "the namespace differs: move the service account to namespace {ns}, or admit {subject} in the trust policy"
                    )
                },
            )
        }
        Some((ns, name)) if ns_ok(ns) && !name_ok(name) => (
            sa.name.span,
            format!("service account name {}", sa.name.value),
            if is_typo(name, &sa.name.value) {
                format!("the trust policy's name {name} looks like a typo: did you mean {subject}?")
            } else {
                format!(
                    "the name differs: rename the service account to {name}, or admit {subject} in the trust policy"
                )
            },
        ),
        _ => (
            sa.name.span,
            format!("subject {subject}"),
            format!(
                "admit {subject} in the role's trust policy, or use the service account it names"
            ),
        ),
    };
    let admitted_text = if admitted.is_empty() {
        "no service account".to_string()
    } else {
        admitted.join(", ")
    };
    let mut d = Diagnostic::new(
        &RULE,
        Label::new(primary, label),
        format!(
            "service account {} assumes role {}, whose trust policy only admits {admitted_text}",
            sa.qualified_name(),
            role_name.display()
        ),
    )
    .rendered(&sa.rendered)
    .help(help);
    for v in values {
        d = d.related(v.span, format!("trust policy admits {}", v.value.display()));
    }
    if values.is_empty() {
        d = d.related(role_span, format!("role {}", role_name.display()));
    }
    d
}

/// A literal that differs by a character or two from what the ServiceAccount says.
fn is_typo(written: &str, actual: &str) -> bool {
    !written.contains(['*', '?']) && edit_distance(written, actual) <= 2
}

/// `system:serviceaccount:<ns>:<name>` → (ns, name).
fn split_subject(subject: &str) -> Option<(&str, &str)> {
    let rest = subject.strip_prefix("system:serviceaccount:")?;
    rest.split_once(':')
}
