//! IRSA011 role-path-mismatch: the role-arn annotation omits the role's path or uses another.

use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::value::Tri;
use crate::facts::Origin;
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA011",
    name: "role-path-mismatch",
    default_level: Level::Error,
    summary: "the role-arn annotation omits the role's path or uses another one",
    doc: include_str!("../../rules/IRSA011.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for link in &ctx.sa_links {
        let roles = ctx.linked_roles(link);
        let Some(&(role_id, role)) = roles.first() else {
            continue;
        };
        let all_differ = roles.iter().all(|(_, r)| {
            r.path
                .as_ref()
                .is_some_and(|p| p.equals(&link.arn.path) == Tri::No)
        });
        if !all_differ {
            continue;
        }
        let Some(role_path) = role.path.as_ref() else {
            continue;
        };
        let name = link.arn.name.display();
        let (role_path, written) = (role_path.display(), link.arn.path.display());
        let sa = ctx.service_account(link);
        let mut d = Diagnostic::new(
            &RULE,
            Label::new(link.value.span, format!("path {written}")),
            format!(
                "service account {} names role {name} with path {written}, but the role's path is {role_path}",
                sa.qualified_name()
            ),
        )
        .rendered(&sa.rendered)
        .when(&sa.when)
        .related(role.path_span.unwrap_or(role.span), format!("role {name} has path {role_path}"))
        .help(format!("the role's ARN is ...:role{role_path}{name}"));
        if sa.origin == Origin::Manifest
            && let Some(text) = link.value.value.as_known()
        {
            let old = format!(":role{written}{name}");
            if text.ends_with(&old) {
                d = d.fix(
                    link.value.span,
                    format!("{}:role{role_path}{name}", &text[..text.len() - old.len()]),
                );
            }
        }
        out.push(
            d.in_module(&role.module)
                .when(&role.when)
                .about_service_account(link.sa)
                .about_role(role_id),
        );
    }
}
