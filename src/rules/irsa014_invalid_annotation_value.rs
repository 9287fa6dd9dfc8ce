//! IRSA014 invalid-annotation-value: sts-regional-endpoints or token-expiration has a value the webhook ignores or changes.

use crate::diagnostic::{Diagnostic, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA014",
    name: "invalid-annotation-value",
    default_level: Level::Warning,
    summary: "sts-regional-endpoints or token-expiration has a value the webhook ignores or changes",
    doc: include_str!("../../rules/IRSA014.md"),
};

pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}
