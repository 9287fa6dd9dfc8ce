//! IRSA011 role-path-mismatch: the role-arn annotation omits the role's path or uses another one.

use crate::diagnostic::{Diagnostic, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA011",
    name: "role-path-mismatch",
    default_level: Level::Error,
    summary: "the role-arn annotation omits the role's path or uses another one",
    doc: include_str!("../../rules/IRSA011.md"),
};

pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}
