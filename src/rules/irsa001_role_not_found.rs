//! IRSA001 role-not-found: a ServiceAccount's role-arn names a role the scanned Terraform (or
//! eksctl config) does not define, while it defines IRSA roles that could be meant.

use crate::diagnostic::{Diagnostic, Label, Level};
use crate::facts::{Origin, RoleName};
use crate::link::{LintContext, closest};
use crate::rules::RuleMeta;

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
        .filter_map(|r| match &r.name {
            RoleName::Exact(n) => n.as_known(),
            _ => None,
        })
        .collect();
    if names.len() != irsa_roles.len() {
        return;
    }
    let accounts: Vec<Option<String>> = irsa_roles.iter().map(|r| ctx.role_account(r)).collect();
    for link in &ctx.sa_links {
        if !link.roles.is_empty() || link.maybe_other || ctx.external_roles.contains(link) {
            continue;
        }
        let Some(wanted) = link.arn.name.as_known() else { continue };
        // A role in an account none of the scanned roles live in is managed elsewhere.
        if let Some(account) = link.arn.account.as_known()
            && accounts.iter().all(|a| a.as_deref().is_some_and(|a| a != account))
        {
            continue;
        }
        let sa = ctx.service_account(link);
        let message = format!(
            "service account {} uses role {wanted}, which the scanned Terraform and eksctl configs do not define",
            sa.qualified_name()
        );
        let mut d = Diagnostic::new(&RULE, Label::new(link.value.span, "no role of this name"), message)
        .rendered(&sa.rendered);
        match closest(wanted, names.iter().copied()) {
            Some(near) => {
                let role = irsa_roles.iter().find(|r| matches!(&r.name, RoleName::Exact(n) if n.as_known() == Some(near)));
                d = d.level(Level::Error).help(format!("did you mean `{near}`?"));
                if let Some(role) = role {
                    d = d.related(role.name_span, format!("role {near} is defined here"));
                }
                if sa.origin == Origin::Manifest
                    && let Some(text) = link.value.value.as_known()
                    && let Some(fixed) = replace_last(text, wanted, near)
                {
                    d = d.fix(link.value.span, fixed);
                }
            }
            None => {
                let mut listed: Vec<&str> = names.clone();
                listed.sort_unstable();
                listed.dedup();
                let shown: Vec<&str> = listed.iter().take(5).copied().collect();
                d = d.help(format!(
                    "use the ARN of a role defined here ({}{}), or, if the role is managed elsewhere, list it in `external_roles` in .irsa-lint.toml",
                    shown.join(", "),
                    if listed.len() > 5 { ", ..." } else { "" }
                ));
            }
        }
        out.push(d);
    }
}

fn replace_last(text: &str, from: &str, to: &str) -> Option<String> {
    let at = text.rfind(from)?;
    Some(format!("{}{}{}", &text[..at], to, &text[at + from.len()..]))
}
