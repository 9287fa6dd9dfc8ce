//! IRSA001 role-not-found: a ServiceAccount's role-arn names a role the scanned Terraform does not define.

use crate::diagnostic::{Diagnostic, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA001",
    name: "role-not-found",
    default_level: Level::Warning,
    summary: "a ServiceAccount's role-arn names a role the scanned Terraform does not define",
    doc: include_str!("../../rules/IRSA001.md"),
};

pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}
