//! IRSA027 addon-service-account-mismatch: a role built for a known add-on trusts another
//! ServiceAccount than the add-on's.

use crate::aws::policy::Admission;
use crate::diagnostic::{Diagnostic, Label, Level};
use crate::link::LintContext;
use crate::rules::{RuleMeta, irsa031_impossible_trust_subject};

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA027",
    name: "addon-service-account-mismatch",
    default_level: Level::Warning,
    summary: "a role built for a known add-on trusts another ServiceAccount than the add-on runs as",
    doc: include_str!("../../rules/IRSA027.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for addon in &ctx.facts.addon_roles {
        let role = ctx.facts.role(addon.role);
        // A ServiceAccount of the tree that uses this role is IRSA003's to compare; the
        // add-on's own (an EKS add-on given this role) is this rule's.
        let used_here = ctx.sa_links.iter().any(|l| {
            !ctx.service_account(l).fixed
                && ctx.linked_roles(l).iter().any(|(id, _)| *id == addon.role)
        });
        if used_here {
            continue;
        }
        let subject = format!(
            "system:serviceaccount:{}:{}",
            addon.namespace, addon.service_account
        );
        let Admission::Rejected(values) = role.admits("sub", &subject, None) else {
            continue;
        };
        // The add-on may run as what the trust admits: a ServiceAccount of that name defined
        // in the tree, or a Helm release of the add-on's chart that may rename it.
        let admitted_defined = values.iter().any(|v| {
            ctx.facts.service_accounts.iter().any(|sa| {
                v.value.equals(&crate::eval::value::Str::lit(sa.subject()))
                    != crate::eval::value::Tri::No
            })
        });
        let chart_installed = ctx
            .facts
            .helm_releases
            .iter()
            .any(|r| r.chart == addon.addon);
        // A subject no ServiceAccount token can carry is IRSA031's finding.
        let impossible = values
            .iter()
            .any(|v| irsa031_impossible_trust_subject::reports(role, v));
        if admitted_defined || chart_installed || values.is_empty() || impossible {
            continue;
        }
        let admitted: Vec<String> = values.iter().map(|v| v.value.display()).collect();
        let mut d = Diagnostic::new(
            &RULE,
            Label::new(values[0].span, format!("{} runs as {}/{}", addon.addon, addon.namespace, addon.service_account)),
            format!(
                "role {} is built for {} ({}), but trusts {} while the add-on runs as service account {}/{}",
                role.address,
                addon.addon,
                addon.flag,
                admitted.join(", "),
                addon.namespace,
                addon.service_account
            ),
        )
        .related(addon.span, format!("{} makes this the {} role", addon.flag, addon.addon))
        .help(format!("admit {}:{} (namespace_service_accounts), the ServiceAccount the add-on runs as", addon.namespace, addon.service_account));
        for v in &values[1..] {
            d = d.related(v.span, format!("trust policy admits {}", v.value.display()));
        }
        // The add-on's own ServiceAccount, when the scan has it (an EKS add-on given this role).
        let runs_as = ctx.sa_links.iter().find(|l| {
            let sa = ctx.service_account(l);
            sa.fixed
                && sa.namespace.value == addon.namespace
                && sa.name.value == addon.service_account
                && l.roles.contains(&addon.role)
        });
        if let Some(link) = runs_as {
            d = d.about_service_account(link.sa);
        }
        out.push(
            d.in_module(&role.module)
                .when(&role.when)
                .about_role(addon.role),
        );
    }
}
