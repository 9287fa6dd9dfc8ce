//! IRSA003 trust-subject-mismatch: the role's trust policy does not admit the ServiceAccount that uses it.

use crate::diagnostic::{Diagnostic, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA003",
    name: "trust-subject-mismatch",
    default_level: Level::Error,
    summary: "the role's trust policy does not admit the ServiceAccount that uses it",
    doc: include_str!("../../rules/IRSA003.md"),
};

pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}
