//! IRSA017 partition-mismatch: the role-arn annotation's partition differs from the role's or the cluster's.

use crate::diagnostic::{Diagnostic, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA017",
    name: "partition-mismatch",
    default_level: Level::Error,
    summary: "the role-arn annotation's partition differs from the role's or the cluster's",
    doc: include_str!("../../rules/IRSA017.md"),
};

pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}
