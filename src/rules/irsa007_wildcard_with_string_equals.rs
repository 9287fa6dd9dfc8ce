//! IRSA007 wildcard-with-string-equals: a * or ? in a StringEquals :sub/:aud value only matches itself literally.

use crate::diagnostic::{Diagnostic, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA007",
    name: "wildcard-with-string-equals",
    default_level: Level::Error,
    summary: "a * or ? in a StringEquals :sub/:aud value only matches itself literally",
    doc: include_str!("../../rules/IRSA007.md"),
};

pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}
