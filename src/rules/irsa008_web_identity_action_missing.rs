//! IRSA008 web-identity-action-missing: an EKS OIDC trust statement does not allow
//! `sts:AssumeRoleWithWebIdentity`.

use crate::aws::policy::{WEB_IDENTITY_ACTION, allows_web_identity, eks_principals};
use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::value::Tri;
use crate::facts::Effect;
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA008",
    name: "web-identity-action-missing",
    default_level: Level::Error,
    summary: "an EKS OIDC trust statement does not allow sts:AssumeRoleWithWebIdentity",
    doc: include_str!("../../rules/IRSA008.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for (role_id, role, s) in ctx.trust_statements() {
        if s.effect != Some(Effect::Allow) || allows_web_identity(s) != Tri::No {
            continue;
        }
        let Some(principal) = eks_principals(s).next() else {
            continue;
        };
        let actions = s.actions.as_deref().unwrap_or_default();
        let written: Vec<String> = actions.iter().map(|a| a.value.display()).collect();
        let (span, label) = match actions.first() {
            Some(a) => (a.span, format!("allows {}", written.join(", "))),
            None => (s.span, "allows no action".to_string()),
        };
        let mut d = Diagnostic::new(
            &RULE,
            Label::new(span, label),
            format!(
                "statement trusting an EKS OIDC provider allows {} but not {WEB_IDENTITY_ACTION}",
                if written.is_empty() {
                    "no action".to_string()
                } else {
                    written.join(", ")
                }
            ),
        )
        .related(
            principal.span,
            "Federated principal is an EKS OIDC provider",
        )
        .help(format!(
            "pods assume roles with {WEB_IDENTITY_ACTION}: allow that action"
        ));
        if let [only] = actions
            && only.value.as_known() == Some("sts:AssumeRole")
        {
            let text = ctx.sources.get(only.span.file).slice(only.span);
            if text.contains("sts:AssumeRole") {
                d = d.fix(
                    only.span,
                    text.replace("sts:AssumeRole", WEB_IDENTITY_ACTION),
                );
            }
        }
        out.push(
            d.in_module(&role.module)
                .when(&role.when)
                .about_role(role_id),
        );
    }
}
