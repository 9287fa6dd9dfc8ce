//! IRSA012 invalid-role-arn: the role-arn annotation cannot be a role ARN.

use crate::diagnostic::{Diagnostic, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA012",
    name: "invalid-role-arn",
    default_level: Level::Error,
    summary: "the role-arn annotation cannot be a role ARN",
    doc: include_str!("../../rules/IRSA012.md"),
};

pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}
