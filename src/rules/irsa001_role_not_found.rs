//! IRSA001 role-not-found: a ServiceAccount's role-arn names a role the scanned Terraform (or
//! eksctl config) does not define, while it defines IRSA roles that could be meant. An error
//! when a defined role is provably the one meant (its trust names exactly this
//! ServiceAccount) or has a close name; a warning otherwise, since the role may live
//! elsewhere.

use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::value::Tri;
use crate::facts::{Origin, Role, RoleId, RoleName, ServiceAccount};
use crate::link::{LintContext, SaLink};
use crate::rules::RuleMeta;
use crate::text::closest;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA001",
    name: "role-not-found",
    default_level: Level::Warning,
    summary: "a ServiceAccount's role-arn names a role the scanned Terraform or eksctl configs do not define",
    doc: include_str!("../../rules/IRSA001.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    let irsa_roles: Vec<_> = ctx.irsa_roles().collect();
    if irsa_roles.is_empty() || ctx.facts.hidden_roles {
        return;
    }
    // Every role's name must be known, or the annotation may name the one we cannot read.
    let names: Vec<&str> = irsa_roles
        .iter()
        .filter_map(|(_, r)| known_name(r))
        .collect();
    if names.len() != irsa_roles.len() {
        return;
    }
    let accounts: Vec<Option<&str>> = irsa_roles
        .iter()
        .map(|(id, _)| ctx.role_account(*id))
        .collect();
    for link in &ctx.sa_links {
        if !link.roles.is_empty() || link.maybe_other || ctx.external_roles.contains(link) {
            continue;
        }
        let Some(wanted) = link.arn.name.as_known() else {
            continue;
        };
        let account = link.arn.account.as_known();
        // A role in an account none of the scanned roles live in is managed elsewhere.
        if let Some(account) = account
            && accounts.iter().all(|a| a.is_some_and(|a| a != account))
        {
            continue;
        }
        let sa = ctx.service_account(link);
        let message = format!(
            "service account {} uses role {wanted}, which the scanned Terraform and eksctl configs do not define",
            sa.qualified_name()
        );
        let d = Diagnostic::new(
            &RULE,
            Label::new(link.value.span, "no role of this name"),
            message,
        )
        .rendered(&sa.rendered)
        .when(&sa.when)
        .about_service_account(link.sa);
        // The roles whose trust names exactly this ServiceAccount, in an account that is not
        // known to differ: what the annotation was meant to name, however unlike its name.
        let subject = sa.subject();
        let trusting: Vec<(RoleId, &Role)> = irsa_roles
            .iter()
            .zip(&accounts)
            .filter(|(_, role_account)| match (account, role_account) {
                (Some(a), Some(b)) => a == *b,
                _ => true,
            })
            .map(|(role, _)| *role)
            .filter(|(_, role)| role.trusts_exactly(&subject))
            .collect();
        let d = if !trusting.is_empty() {
            meant_role(d, link, sa, &trusting)
        } else if let Some(near) = closest(wanted, names.iter().copied()) {
            let role = irsa_roles
                .iter()
                .find(|(_, r)| known_name(r) == Some(near))
                .copied();
            near_miss(d, link, sa, near, role)
        } else {
            d.help(format!(
                "use the ARN of a role defined here ({}), or, if the role is managed elsewhere, list it in `external_roles` in .irsa-lint.toml",
                listed(names.clone())
            ))
        };
        out.push(d);
    }
}

fn known_name(role: &Role) -> Option<&str> {
    match &role.name {
        RoleName::Exact(n) => n.as_known(),
        _ => None,
    }
}

/// Scanned roles trust exactly this ServiceAccount: an error naming them, and the fix when
/// there is one such name.
fn meant_role(
    d: Diagnostic,
    link: &SaLink,
    sa: &ServiceAccount,
    trusting: &[(RoleId, &Role)],
) -> Diagnostic {
    let mut meant: Vec<&str> = trusting.iter().filter_map(|(_, r)| known_name(r)).collect();
    meant.sort_unstable();
    meant.dedup();
    let subject = sa.subject();
    let mut d = d.level(Level::Error);
    for (_, role) in trusting.iter().take(3) {
        let name = known_name(role).unwrap_or_default();
        d = d.related(role.name_span, format!("role {name} trusts {subject}"));
    }
    match meant.as_slice() {
        [name] => {
            let wanted = link.arn.name.as_known().unwrap_or_default();
            d = d.help(match closest(wanted, [*name]) {
                Some(_) => {
                    format!("did you mean `{name}`? its trust policy admits exactly {subject}")
                }
                None => format!("use role `{name}`: its trust policy admits exactly {subject}"),
            });
            let (id, role) = trusting[0];
            d = d.about_role(id);
            match fixed_arn(link, sa, name, role) {
                Some(fixed) => d.fix(link.value.span, fixed),
                None => d,
            }
        }
        _ => d.help(format!(
            "use one of the roles whose trust policy admits exactly {subject}: {}",
            listed(meant)
        )),
    }
}

/// A defined role's name is a close match: an error with "did you mean".
fn near_miss(
    d: Diagnostic,
    link: &SaLink,
    sa: &ServiceAccount,
    near: &str,
    role: Option<(RoleId, &Role)>,
) -> Diagnostic {
    let mut d = d
        .level(Level::Error)
        .help(format!("did you mean `{near}`?"));
    if let Some((id, role)) = role {
        d = d.about_role(id);
        d = d.related(role.name_span, format!("role {near} is defined here"));
        if let Some(fixed) = fixed_arn(link, sa, near, role) {
            d = d.fix(link.value.span, fixed);
        }
    }
    d
}

/// The annotation with the role's name in place of the wrong one, when the manifest holds
/// the literal ARN and the role's path is the one the ARN already has.
fn fixed_arn(link: &SaLink, sa: &ServiceAccount, name: &str, role: &Role) -> Option<String> {
    if sa.origin != Origin::Manifest {
        return None;
    }
    let same_path = match &role.path {
        Some(path) => path.equals(&link.arn.path) == Tri::Yes,
        None => false,
    };
    if !same_path {
        return None;
    }
    let text = link.value.value.as_known()?;
    let wanted = link.arn.name.as_known()?;
    replace_last(text, wanted, name)
}

/// Up to five names, sorted, for a help text.
fn listed(mut names: Vec<&str>) -> String {
    names.sort_unstable();
    names.dedup();
    let shown: Vec<&str> = names.iter().take(5).copied().collect();
    let more = if names.len() > 5 { ", ..." } else { "" };
    format!("{}{more}", shown.join(", "))
}

fn replace_last(text: &str, from: &str, to: &str) -> Option<String> {
    let at = text.rfind(from)?;
    Some(format!("{}{}{}", &text[..at], to, &text[at + from.len()..]))
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::diagnostic::Level;
    use crate::rules::tester::{OIDC_PROVIDER_TF, Tester, irsa_role, service_account};

    const ARN: &str = "arn:aws:iam::482910375521:role/";

    fn project(annotation_role: &str) -> Tester {
        Tester::new(&RULE)
            .file("infra/eks.tf", OIDC_PROVIDER_TF)
            .file(
                "infra/iam.tf",
                &irsa_role(
                    "AwsLoadBalancerController",
                    "kube-system",
                    "aws-load-balancer-controller",
                ),
            )
            .file(
                "k8s/sa.yaml",
                &service_account(
                    "kube-system",
                    "aws-load-balancer-controller",
                    &format!("{ARN}{annotation_role}"),
                ),
            )
    }

    /// The seed article's mistake: an unlike name, while a scanned role trusts exactly
    /// this ServiceAccount.
    #[test]
    fn an_unlike_name_is_an_error_when_a_scanned_role_trusts_the_service_account() {
        let tester = project("alb-controller-role");
        let findings = tester.findings();
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].level, Level::Error);
        let fix = findings[0].fix.as_ref().expect("one role trusts it: a fix");
        assert_eq!(fix.replacement, format!("{ARN}AwsLoadBalancerController"));
        insta::assert_snapshot!(tester.rendered());
    }

    #[test]
    fn an_unlike_name_stays_a_warning_when_no_scanned_role_trusts_the_service_account() {
        let findings = project("alb-controller-role")
            .file(
                "infra/iam.tf",
                &irsa_role(
                    "AwsLoadBalancerController",
                    "kube-system",
                    "another-controller",
                ),
            )
            .findings();
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].level, Level::Warning);
        assert!(findings[0].fix.is_none());
    }

    #[test]
    fn silent_when_the_annotation_names_the_role() {
        project("AwsLoadBalancerController").assert_none();
    }
}
