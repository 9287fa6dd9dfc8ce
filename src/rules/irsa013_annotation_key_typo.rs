//! IRSA013 annotation-key-typo: an annotation key is a near miss of an eks.amazonaws.com IRSA key and is ignored.

use crate::diagnostic::{Diagnostic, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA013",
    name: "annotation-key-typo",
    default_level: Level::Error,
    summary: "an annotation key is a near miss of an eks.amazonaws.com IRSA key and is ignored",
    doc: include_str!("../../rules/IRSA013.md"),
};

pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}
