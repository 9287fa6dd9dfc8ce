//! IRSA005 issuer-mismatch: a trust statement's condition keys name another issuer than its
//! Federated principal.

use crate::aws::arn::{federated_issuer, key_issuer};
use crate::aws::policy::{eks_principals, key_is};
use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::value::{Str, Tri};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA005",
    name: "issuer-mismatch",
    default_level: Level::Error,
    summary: "a trust statement's condition keys name another issuer than its Federated principal",
    doc: include_str!("../../rules/IRSA005.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for (role_id, role, s) in ctx.trust_statements() {
        let principals: Vec<_> = eks_principals(s).collect();
        if principals.is_empty()
            || s.federated
                .as_ref()
                .is_some_and(|f| f.len() != principals.len())
        {
            continue;
        }
        // The issuer each principal names, lowercased as condition keys compare: once per
        // statement, not per condition.
        let issuers: Vec<Option<Str>> = (principals.iter())
            .map(|p| federated_issuer(&p.value).map(|fi| fi.to_ascii_lowercase()))
            .collect();
        for c in s.conditions.iter().flatten() {
            if !(key_is(&c.key.value, "sub") || key_is(&c.key.value, "aud")) {
                continue;
            }
            // A key with a scheme is IRSA006's finding; it would differ here too.
            if c.key.value.starts_with("https://") != Tri::No {
                continue;
            }
            let Some(issuer) = key_issuer(&c.key.value) else {
                continue;
            };
            let all_differ = (issuers.iter())
                .all(|fi| fi.as_ref().is_some_and(|fi| fi.equals(&issuer) == Tri::No));
            if !all_differ {
                continue;
            }
            let principal = principals[0];
            let principal_issuer = federated_issuer(&principal.value)
                .map(|i| i.display())
                .unwrap_or_default();
            out.push(
                Diagnostic::new(
                    &RULE,
                    Label::new(c.key.span, format!("issuer {}", issuer.display())),
                    format!(
                        "condition key {} names issuer {}, but the statement trusts the OIDC provider of {principal_issuer}",
                        c.key.value.display(),
                        issuer.display()
                    ),
                )
                .related(principal.span, format!("Federated principal for {principal_issuer}"))
                .help(format!(
                    "build the condition key from the same issuer as the Federated principal: {principal_issuer}:{}",
                    if key_is(&c.key.value, "sub") { "sub" } else { "aud" }
                )).in_module(&role.module)
                .when(&role.when).about_role(role_id));
        }
    }
}
