//! IRSA010 oidc-provider-not-declared: the Federated principal names an OIDC provider the
//! scanned Terraform does not declare.

use crate::aws::arn::federated_issuer;
use crate::aws::policy::eks_principals;
use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::value::Tri;
use crate::link::LintContext;
use crate::rules::{RuleMeta, irsa029_invalid_provider_arn};

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA010",
    name: "oidc-provider-not-declared",
    default_level: Level::Warning,
    summary: "the Federated principal names an OIDC provider the scanned Terraform does not declare",
    doc: include_str!("../../rules/IRSA010.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    let providers = &ctx.facts.providers;
    if providers.iter().any(|p| p.arn.is_none()) {
        return;
    }
    for (role_id, role, s) in ctx.trust_statements() {
        for principal in eks_principals(s) {
            // Most principals name a declared provider: that cheap check comes first.
            if principal.value.has_unknown() || !ctx.names_no_declared_provider(&principal.value) {
                continue;
            }
            // A principal that is not a provider ARN at all is IRSA029's finding.
            if irsa029_invalid_provider_arn::reports(s, principal) {
                continue;
            }
            // With no provider declared at all, only a cluster created here proves that its
            // provider is missing; a literal ARN may point at a provider managed elsewhere.
            if providers.is_empty() && !names_cluster_created_here(ctx, &principal.value) {
                continue;
            }
            let issuer = federated_issuer(&principal.value)
                .map(|i| i.display())
                .unwrap_or_default();
            let mut d = Diagnostic::new(
                &RULE,
                Label::new(principal.span, "no declared provider has this ARN"),
                format!("Federated principal names the OIDC provider for {issuer}, which the scanned Terraform does not declare"),
            )
            .help(if providers.is_empty() {
                "declare an aws_iam_openid_connect_provider for the cluster and use its ARN (aws_iam_openid_connect_provider.<name>.arn); skip this if the provider is created outside Terraform (eksctl)"
            } else {
                "use the declared provider's ARN (aws_iam_openid_connect_provider.<name>.arn) instead of writing it out"
            });
            for p in providers.iter().take(3) {
                let url = p
                    .url
                    .as_ref()
                    .map(|u| u.value.display())
                    .unwrap_or_else(|| "an unknown URL".into());
                d = d.related(p.span, format!("declared provider {} for {url}", p.address));
            }
            out.push(
                d.in_module(&role.module)
                    .when(&role.when)
                    .about_role(role_id),
            );
        }
    }
}

/// Whether the principal names the issuer of an `aws_eks_cluster` resource of the scan.
fn names_cluster_created_here(ctx: &LintContext, principal: &crate::eval::value::Str) -> bool {
    let Some(issuer) = federated_issuer(principal) else {
        return false;
    };
    ctx.facts
        .clusters
        .iter()
        .any(|c| !c.address.starts_with("data.") && c.issuer.equals(&issuer) == Tri::Yes)
}
