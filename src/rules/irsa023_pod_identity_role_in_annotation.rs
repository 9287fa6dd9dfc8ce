//! IRSA023 pod-identity-role-in-annotation: the role-arn annotation names a role that only
//! trusts `pods.eks.amazonaws.com`.

use super::irsa020_pod_identity_trust::{POD_IDENTITY_SERVICE, trusts_pod_identity};
use crate::aws::policy::allows_web_identity;
use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::value::Tri;
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA023",
    name: "pod-identity-role-in-annotation",
    default_level: Level::Error,
    summary: "the role-arn annotation names a Pod Identity role, which IRSA cannot assume",
    doc: include_str!("../../rules/IRSA023.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for link in &ctx.sa_links {
        let roles = ctx.linked_roles(link);
        let Some(&(role_id, role)) = roles.first() else {
            continue;
        };
        let pod_identity_only = roles.iter().all(|&(_, r)| {
            let Some(trust) = &r.trust else { return false };
            let no_web_identity = trust.complete
                && trust.statements.iter().all(|s| {
                    allows_web_identity(s) == Tri::No
                        || s.federated.as_ref().is_some_and(|f| f.is_empty())
                });
            no_web_identity && trusts_pod_identity(r) == Tri::Yes
        });
        if !pod_identity_only {
            continue;
        }
        let sa = ctx.service_account(link);
        // With a Pod Identity association too, the annotation is never used: IRSA019's.
        let associated = ctx.facts.pod_identities.iter().any(|a| {
            a.namespace.value == sa.namespace.value && a.service_account.value == sa.name.value
        });
        if associated {
            continue;
        }
        out.push(
            Diagnostic::new(
                &RULE,
                Label::new(link.value.span, "a Pod Identity role"),
                format!(
                    "service account {} uses role {} through IRSA, but the role only trusts {POD_IDENTITY_SERVICE}",
                    sa.qualified_name(),
                    link.arn.name.display()
                ),
            )
        .rendered(&sa.rendered)
        .when(&sa.when)
            .related(role.name_span, format!("role {} is a Pod Identity role", link.arn.name.display()))
            .help("associate the role with the ServiceAccount through EKS Pod Identity instead of the annotation, or add an sts:AssumeRoleWithWebIdentity statement for the cluster's OIDC provider").in_module(&role.module)
                .when(&role.when)
            .about_service_account(link.sa)
            .about_role(role_id));
    }
}
