//! IRSA015 trust-subject-without-service-account: a trust policy admits a ServiceAccount that no scanned manifest defines.

use crate::diagnostic::{Diagnostic, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA015",
    name: "trust-subject-without-service-account",
    default_level: Level::Note,
    summary: "a trust policy admits a ServiceAccount that no scanned manifest defines",
    doc: include_str!("../../rules/IRSA015.md"),
};

pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}
