//! IRSA025 audience-condition-missing: an EKS OIDC trust statement checks :sub but not :aud.

use crate::diagnostic::{Diagnostic, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA025",
    name: "audience-condition-missing",
    default_level: Level::Note,
    summary: "an EKS OIDC trust statement checks :sub but not :aud",
    doc: include_str!("../../rules/IRSA025.md"),
};

pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}
