//! IRSA021 role-arn-on-workload: the role-arn annotation is on a Pod or workload, where the
//! webhook ignores it.

use crate::diagnostic::{Diagnostic, Label, Level};
use crate::facts::ROLE_ARN_KEY;
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA021",
    name: "role-arn-on-workload",
    default_level: Level::Error,
    summary: "the role-arn annotation is on a Pod or workload, where the webhook ignores it",
    doc: include_str!("../../rules/IRSA021.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for w in &ctx.facts.workloads {
        for a in w.annotations.iter().filter(|a| a.key.value == ROLE_ARN_KEY) {
            let sa_name = w.service_account_name();
            let target = sa_name.map_or("the pod's ServiceAccount".to_owned(), |name| {
                format!("ServiceAccount {name}")
            });
            let mut d = Diagnostic::new(
                &RULE,
                Label::new(a.key.span, "ignored on a workload"),
                format!("{} {} carries {ROLE_ARN_KEY}, but the webhook only reads it from the ServiceAccount", w.kind, w.name.value),
            )
        .rendered(&w.rendered)
            .help(format!("move the annotation to {target} and set serviceAccountName"));
            let sa = ctx.facts.service_accounts.iter().find(|s| {
                sa_name == Some(s.name.value.as_str())
                    && w.namespace
                        .as_ref()
                        .is_none_or(|ns| ns.value == s.namespace.value)
            });
            if let Some(sa) = sa {
                d = d.related(
                    sa.name.span,
                    format!("ServiceAccount {} is where it belongs", sa.qualified_name()),
                );
            }
            out.push(d);
        }
    }
}
