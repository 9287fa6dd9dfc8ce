//! IRSA002 account-mismatch: the role-arn annotation's account differs from the account of
//! the role it names.

use crate::diagnostic::{Diagnostic, Label, Level};
use crate::facts::Origin;
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA002",
    name: "account-mismatch",
    default_level: Level::Error,
    summary: "the role-arn annotation's account differs from the account of the role it names",
    doc: include_str!("../../rules/IRSA002.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for link in &ctx.sa_links {
        let Some(account) = link.arn.account.as_known() else {
            continue;
        };
        if link.roles.is_empty() || !ctx.linked_roles(link).is_empty() {
            continue;
        }
        // Every role of that name lives in a known, different account.
        let role_id = link.roles[0];
        let role = ctx.facts.role(role_id);
        let Some(role_account) = ctx.role_account(role_id) else {
            continue;
        };
        let sa = ctx.service_account(link);
        let name = link.arn.name.display();
        let mut d = Diagnostic::new(
            &RULE,
            Label::new(link.value.span, format!("account {account}")),
            format!(
                "service account {} names role {name} in account {account}, but that role lives in account {role_account}",
                sa.qualified_name()
            ),
        )
        .rendered(&sa.rendered)
        .when(&sa.when)
        .about_service_account(link.sa)
        .about_role(role_id)
        .related(role.span, format!("role {name} is defined here, in account {role_account}"))
        .help(format!("use account {role_account} in the annotation"));
        if sa.origin == Origin::Manifest
            && let Some(text) = link.value.value.as_known()
        {
            d = d.fix(
                link.value.span,
                text.replacen(&format!("::{account}:"), &format!("::{role_account}:"), 1),
            );
        }
        out.push(d.in_module(&role.module).when(&role.when));
    }
}
