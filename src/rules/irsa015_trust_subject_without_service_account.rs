//! IRSA015 trust-subject-without-service-account: a trust policy admits a ServiceAccount that
//! no scanned manifest defines.

use foldhash::{HashSet, HashSetExt};

use crate::aws::policy::{Admission, is_eks_statement, key_is, operator};
use crate::diagnostic::{Diagnostic, Label, Level};
use crate::facts::RoleId;
use crate::link::LintContext;
use crate::rules::{RuleMeta, irsa031_impossible_trust_subject};
use crate::text::closest;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA015",
    name: "trust-subject-without-service-account",
    default_level: Level::Note,
    summary: "a trust policy admits a ServiceAccount that no scanned manifest defines",
    doc: include_str!("../../rules/IRSA015.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    let facts = ctx.facts;
    // Only provable when every ServiceAccount of the tree is visible.
    if facts.service_accounts.is_empty() || facts.hidden_service_accounts {
        return;
    }
    let defined: HashSet<(&str, &str)> = facts
        .service_accounts
        .iter()
        .map(|s| (s.namespace.value.as_str(), s.name.value.as_str()))
        .collect();
    // The names to suggest from, made only when a subject has no ServiceAccount.
    let names = std::cell::OnceCell::new();
    let names = || -> &Vec<String> {
        names.get_or_init(|| {
            (facts.service_accounts.iter())
                .map(|s| s.qualified_name())
                .collect()
        })
    };
    // The subjects no ServiceAccount has, before asking which of their roles reject their
    // own ServiceAccount: that asks every link, so only of these roles.
    let mut missing = Vec::new();
    for (role_id, role, s) in ctx.trust_statements() {
        if !is_eks_statement(s) {
            continue;
        }
        for c in s.conditions.iter().flatten() {
            if !key_is(&c.key.value, "sub") || operator(&c.operator.value).is_none() {
                continue;
            }
            for v in c.values.iter().flatten() {
                let Some(subject) = v.value.as_known() else {
                    continue;
                };
                // A glob names no single service account (with StringEquals it is IRSA007's).
                if subject.contains(['*', '?']) {
                    continue;
                }
                let Some((ns, name)) = subject
                    .strip_prefix("system:serviceaccount:")
                    .and_then(|r| r.split_once(':'))
                else {
                    continue;
                };
                if defined.contains(&(ns, name)) {
                    continue;
                }
                // An add-on's role admits a ServiceAccount the add-on creates in the cluster.
                // A subject no ServiceAccount token can carry is IRSA031's finding.
                if ctx.facts.addon_roles.iter().any(|a| a.role == role_id)
                    || irsa031_impossible_trust_subject::reports(role, v)
                {
                    continue;
                }
                missing.push((role_id, role, v, ns, name));
            }
        }
    }
    if missing.is_empty() {
        return;
    }
    // A role whose own ServiceAccount it rejects is IRSA003's finding: the subject that has
    // no ServiceAccount is the other end of that same broken link.
    let rejecting =
        roles_rejecting_their_service_account(ctx, missing.iter().map(|m| m.0).collect());
    for (role_id, role, v, ns, name) in missing {
        if rejecting.contains(&role_id) {
            continue;
        }
        let wanted = format!("{ns}/{name}");
        let mut d = Diagnostic::new(
            &RULE,
            Label::new(v.span, "no such service account in the scanned manifests"),
            format!(
                "trust policy admits service account {wanted}, which no scanned manifest defines"
            ),
        );
        match closest(&wanted, names().iter().map(String::as_str)) {
            Some(near) => {
                let sa = facts
                    .service_accounts
                    .iter()
                    .find(|s| s.qualified_name() == near);
                d = d
                    .level(Level::Warning)
                    .help(format!("did you mean {near}?"));
                if let Some(sa) = sa {
                    d = d.related(
                        sa.name.span,
                        format!("service account {near} is defined here"),
                    );
                }
            }
            None => {
                d = d.help("remove the subject if the service account is gone, or add its manifest to the scan");
            }
        }
        out.push(
            d.in_module(&role.module)
                .when(&role.when)
                .about_role(role_id),
        );
    }
}

/// Which of `roles` reject the subject of a ServiceAccount linked to them (IRSA003's
/// findings).
fn roles_rejecting_their_service_account(
    ctx: &LintContext,
    roles: HashSet<RoleId>,
) -> HashSet<RoleId> {
    let mut out = HashSet::new();
    for link in &ctx.sa_links {
        // The roles a link is linked to are among those it names.
        if !link.roles.iter().any(|id| roles.contains(id)) {
            continue;
        }
        for (id, role) in ctx.linked_roles(link) {
            if roles.contains(&id)
                && matches!(
                    role.admits("sub", &link.subject, None),
                    Admission::Rejected(_)
                )
            {
                out.insert(id);
            }
        }
    }
    out
}
