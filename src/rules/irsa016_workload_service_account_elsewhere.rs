//! IRSA016 workload-service-account-elsewhere: a workload's ServiceAccount is not in its
//! namespace, but an IRSA ServiceAccount of that name exists in another one.

use crate::diagnostic::{Diagnostic, Label, Level};
use foldhash::{HashMap, HashMapExt};

use crate::facts::{PodServiceAccount, ROLE_ARN_KEY, ServiceAccount};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA016",
    name: "workload-service-account-elsewhere",
    default_level: Level::Warning,
    summary: "a workload's ServiceAccount is not in its namespace, but an IRSA ServiceAccount of that name exists in another",
    doc: include_str!("../../rules/IRSA016.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    let facts = ctx.facts;
    if facts.hidden_service_accounts {
        return;
    }
    // By name, once: a search per workload is quadratic in a large monorepo.
    let mut by_name: HashMap<&str, Vec<&ServiceAccount>> = HashMap::new();
    for sa in &facts.service_accounts {
        by_name.entry(sa.name.value.as_str()).or_default().push(sa);
    }
    for w in &facts.workloads {
        // Without a namespace in the manifest, `kubectl -n` decides: unknown.
        let (Some(ns), PodServiceAccount::Named(sa_name)) = (&w.namespace, &w.service_account)
        else {
            continue;
        };
        let same_name = || {
            by_name
                .get(sa_name.value.as_str())
                .into_iter()
                .flatten()
                .copied()
        };
        if same_name().any(|s| s.namespace.value == ns.value) {
            continue;
        }
        let Some(elsewhere) = same_name().find(|s| s.annotation(ROLE_ARN_KEY).is_some()) else {
            continue;
        };
        out.push(
            Diagnostic::new(
                &RULE,
                Label::new(sa_name.span, format!("not defined in namespace {}", ns.value)),
                format!(
                    "{} {}/{} uses service account {}, which exists with an IAM role only in namespace {}",
                    w.kind,
                    ns.value,
                    w.name.value,
                    sa_name.value,
                    elsewhere.namespace.value
                ),
            )
        .rendered(&w.rendered)
            .related(elsewhere.name.span, format!("service account {} is defined here", elsewhere.qualified_name()))
            .help(format!(
                "run the {} in namespace {}, or define service account {} in namespace {} (and admit it in the role's trust policy)",
                w.kind, elsewhere.namespace.value, sa_name.value, ns.value
            )),
        );
    }
}
