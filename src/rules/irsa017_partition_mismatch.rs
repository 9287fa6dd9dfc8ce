//! IRSA017 partition-mismatch: the role-arn annotation's partition differs from the role's.

use crate::diagnostic::{Diagnostic, Label, Level};
use crate::facts::Origin;
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA017",
    name: "partition-mismatch",
    default_level: Level::Error,
    summary: "the role-arn annotation's partition differs from the role's or the cluster's",
    doc: include_str!("../../rules/IRSA017.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for link in &ctx.sa_links {
        let Some(written) = link.arn.partition.as_known() else {
            continue;
        };
        let roles = ctx.linked_roles(link);
        let Some(&(role_id, role)) = roles.first() else {
            continue;
        };
        let partitions: Vec<Option<String>> =
            roles.iter().map(|(_, r)| ctx.role_partition(r)).collect();
        let Some(Some(expected)) = partitions.first().cloned() else {
            continue;
        };
        if partitions
            .iter()
            .any(|p| p.as_deref() != Some(expected.as_str()))
            || expected == written
        {
            continue;
        }
        let sa = ctx.service_account(link);
        let mut d = Diagnostic::new(
            &RULE,
            Label::new(link.value.span, format!("partition {written}")),
            format!(
                "service account {} names role {} in partition {written}, but the role lives in partition {expected}",
                sa.qualified_name(),
                link.arn.name.display()
            ),
        )
        .rendered(&sa.rendered)
        .when(&sa.when)
        .related(role.span, format!("role trusts an OIDC provider in partition {expected}"))
        .help(format!("write the ARN as arn:{expected}:iam::..."));
        if sa.origin == Origin::Manifest
            && let Some(text) = link.value.value.as_known()
            && let Some(rest) = text.strip_prefix(&format!("arn:{written}:"))
        {
            d = d.fix(link.value.span, format!("arn:{expected}:{rest}"));
        }
        out.push(
            d.in_module(&role.module)
                .when(&role.when)
                .about_service_account(link.sa)
                .about_role(role_id),
        );
    }
}
