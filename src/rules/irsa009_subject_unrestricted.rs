//! IRSA009 subject-unrestricted: an EKS OIDC trust statement admits every ServiceAccount.

use crate::aws::policy::{Operator, allows_web_identity, eks_principals, key_is, operator};
use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::value::Tri;
use crate::facts::Effect;
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA009",
    name: "subject-unrestricted",
    default_level: Level::Warning,
    summary: "an EKS OIDC trust statement admits every ServiceAccount of the cluster",
    doc: include_str!("../../rules/IRSA009.md"),
};

/// `StringLike` subjects that admit every ServiceAccount of every namespace.
const CATCH_ALL: &[&str] = &[
    "*",
    "system:*",
    "system:serviceaccount:*",
    "system:serviceaccount:*:*",
];

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for (role_id, role, s) in ctx.trust_statements() {
        if s.effect != Some(Effect::Allow) || allows_web_identity(s) != Tri::Yes {
            continue;
        }
        let Some(principal) = eks_principals(s).next() else {
            continue;
        };
        let Some(conditions) = &s.conditions else {
            continue;
        };
        let subs: Vec<_> = conditions
            .iter()
            .filter(|c| key_is(&c.key.value, "sub"))
            .collect();
        let unrestricted = subs.iter().all(|c| {
            operator(&c.operator.value) == Some(Operator::Like)
                && c.values.as_ref().is_some_and(|vs| {
                    !vs.is_empty()
                        && vs
                            .iter()
                            .all(|v| v.value.as_known().is_some_and(|t| CATCH_ALL.contains(&t)))
                })
        });
        if !unrestricted {
            continue;
        }
        let (message, mut d_related) = if subs.is_empty() {
            ("trust statement for an EKS OIDC provider has no `:sub` condition, so every service account of the cluster can assume the role".to_string(), None)
        } else {
            let v = subs[0].values.iter().flatten().next();
            (
                format!(
                    "trust statement for an EKS OIDC provider admits subject {}, so every service account of the cluster can assume the role",
                    v.map(|v| v.value.display()).unwrap_or_default()
                ),
                v.map(|v| v.span),
            )
        };
        let mut d = Diagnostic::new(&RULE, Label::new(principal.span, "any service account of this cluster"), message)
            .help("add a `:sub` condition naming system:serviceaccount:<namespace>:<name> (StringEquals), or a namespace glob with StringLike");
        if let Some(span) = d_related.take() {
            d = d.related(span, "admits every subject");
        }
        out.push(
            d.in_module(&role.module)
                .when(&role.when)
                .about_role(role_id),
        );
    }
}
