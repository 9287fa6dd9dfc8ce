//! IRSA021 role-arn-on-workload: the role-arn annotation is on a Pod or workload, where the webhook ignores it.

use crate::diagnostic::{Diagnostic, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA021",
    name: "role-arn-on-workload",
    default_level: Level::Error,
    summary: "the role-arn annotation is on a Pod or workload, where the webhook ignores it",
    doc: include_str!("../../rules/IRSA021.md"),
};

pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}
