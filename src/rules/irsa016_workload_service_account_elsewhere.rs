//! IRSA016 workload-service-account-elsewhere: a workload's ServiceAccount is not in its namespace, but an IRSA ServiceAccount of that name exists in another.

use crate::diagnostic::{Diagnostic, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA016",
    name: "workload-service-account-elsewhere",
    default_level: Level::Warning,
    summary: "a workload's ServiceAccount is not in its namespace, but an IRSA ServiceAccount of that name exists in another",
    doc: include_str!("../../rules/IRSA016.md"),
};

pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}
