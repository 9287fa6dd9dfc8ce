//! IRSA022 generated-role-name-hardcoded: a literal ARN in a manifest names a role whose real
//! name gets a random suffix.

use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::value::Tri;
use crate::facts::{Origin, RoleName};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA022",
    name: "generated-role-name-hardcoded",
    default_level: Level::Warning,
    summary: "a literal role ARN names a role whose real name gets a random suffix",
    doc: include_str!("../../rules/IRSA022.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for link in &ctx.sa_links {
        let sa = ctx.service_account(link);
        if sa.origin != Origin::Manifest || !link.roles.is_empty() || !link.value.value.is_known() {
            continue;
        }
        let Some(written) = link.arn.name.as_known() else {
            continue;
        };
        let prefixed = ctx.facts.roles_with_ids().find(|(_, r)| match &r.name {
            // The generated name itself, or the prefix taken for the name (`alb` for `alb-`).
            RoleName::Prefix(p) => p.as_known().is_some_and(|p| {
                !p.is_empty()
                    && (link.arn.name.starts_with(p) == Tri::Yes
                        || written == p.trim_end_matches(['-', '_']))
            }),
            _ => false,
        });
        let Some((role_id, role)) = prefixed else {
            continue;
        };
        let RoleName::Prefix(prefix) = &role.name else {
            continue;
        };
        out.push(
            Diagnostic::new(
                &RULE,
                Label::new(link.value.span, "a generated name written out"),
                format!(
                    "service account {} names role {written}, but that role's name is generated from the prefix {} and changes when the role is replaced",
                    sa.qualified_name(),
                    prefix.display()
                ),
            )
        .rendered(&sa.rendered)
        .when(&sa.when)
            .related(role.name_span, format!("role {} gets a random suffix here", role.address))
            .help("pass the role's ARN from where the role is made (a Terraform output into kubernetes_service_account_v1, or let eksctl create the ServiceAccount), or give the role a fixed name (`name`, `use_name_prefix = false`, eksctl's `roleName`)").in_module(&role.module)
                .when(&role.when)
            .about_service_account(link.sa)
            .about_role(role_id));
    }
}
