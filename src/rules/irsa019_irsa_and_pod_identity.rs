//! IRSA019 irsa-and-pod-identity: a ServiceAccount has a role-arn annotation and a Pod
//! Identity association; Pod Identity wins and the IRSA role is ignored.

use foldhash::{HashMap, HashMapExt};

use crate::diagnostic::{Diagnostic, Label, Level};
use crate::facts::{Origin, PodIdentityAssociation, ROLE_ARN_KEY, SaId};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA019",
    name: "irsa-and-pod-identity",
    default_level: Level::Warning,
    summary: "a ServiceAccount has both a role-arn annotation and a Pod Identity association",
    doc: include_str!("../../rules/IRSA019.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    // By namespace and name, once: a search per association is quadratic in a large tree.
    let mut by_name: HashMap<(&str, &str), Vec<SaId>> = HashMap::new();
    for (id, sa) in ctx.facts.service_accounts_with_ids() {
        let key = (sa.namespace.value.as_str(), sa.name.value.as_str());
        by_name.entry(key).or_default().push(id);
    }
    for (assoc_id, assoc) in ctx.facts.associations_with_ids() {
        let key = (
            assoc.namespace.value.as_str(),
            assoc.service_account.value.as_str(),
        );
        for &sa_id in by_name.get(&key).into_iter().flatten() {
            let sa = ctx.facts.service_account(sa_id);
            if !same_deployment(ctx, sa_id, assoc) {
                continue;
            }
            let Some(annotation) = sa.annotation(ROLE_ARN_KEY).and_then(|a| a.value.as_ref())
            else {
                continue;
            };
            // One role named both ways (an add-on's `service_account_role_arn` and its
            // association): the pod gets that role either way.
            if assoc
                .role_arn
                .as_ref()
                .is_some_and(|r| r.value == annotation.value)
            {
                continue;
            }
            out.push(
                Diagnostic::new(
                    &RULE,
                    Label::new(annotation.span, "ignored while a Pod Identity association exists"),
                    format!(
                        "service account {} has an IRSA role and a Pod Identity association; Pod Identity takes precedence, so {} is never used",
                        sa.qualified_name(),
                        annotation.value.display()
                    ),
                )
        .rendered(&sa.rendered)
        .when(&sa.when)
                .related(assoc.span, format!("Pod Identity association {}", assoc.address))
                .help("keep one mechanism: remove the role-arn annotation once the Pod Identity role has the permissions, or remove the association")
                .about_service_account(sa_id)
                .about_association(assoc_id)
                .when(&assoc.when),
            );
        }
    }
}

/// Whether the ServiceAccount and the association provably belong together: both in one
/// Terraform root, or the ServiceAccount's role defined in the association's root. Two labs
/// of one repository that reuse a name are not the same cluster.
fn same_deployment(ctx: &LintContext, sa_id: SaId, assoc: &PodIdentityAssociation) -> bool {
    let sa = ctx.facts.service_account(sa_id);
    if sa.origin == Origin::Terraform && sa.unit == assoc.unit {
        return true;
    }
    ctx.link_of(sa_id)
        .into_iter()
        .flat_map(|l| l.roles.iter())
        .any(|&r| ctx.facts.role(r).unit == assoc.unit)
}
