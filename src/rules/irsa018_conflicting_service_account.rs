//! IRSA018 conflicting-service-account: one ServiceAccount is defined twice in one deployment unit with different roles.

use crate::diagnostic::{Diagnostic, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA018",
    name: "conflicting-service-account",
    default_level: Level::Error,
    summary: "one ServiceAccount is defined twice in one deployment unit with different roles",
    doc: include_str!("../../rules/IRSA018.md"),
};

pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}
