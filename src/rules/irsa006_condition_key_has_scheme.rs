//! IRSA006 condition-key-has-scheme: a trust condition key starts with https://, so it never matches.

use crate::diagnostic::{Diagnostic, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA006",
    name: "condition-key-has-scheme",
    default_level: Level::Error,
    summary: "a trust condition key starts with https://, so it never matches",
    doc: include_str!("../../rules/IRSA006.md"),
};

pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}
