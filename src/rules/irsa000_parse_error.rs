//! IRSA000 parse-error: a Terraform file, manifest, YAML document or trust-policy JSON cannot be parsed.

use crate::diagnostic::{Diagnostic, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA000",
    name: "parse-error",
    default_level: Level::Error,
    summary: "a Terraform file, manifest, YAML document or trust-policy JSON cannot be parsed",
    doc: include_str!("../../rules/IRSA000.md"),
};

pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}
