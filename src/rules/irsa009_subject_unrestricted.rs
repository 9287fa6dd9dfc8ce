//! IRSA009 subject-unrestricted: an EKS OIDC trust statement admits every ServiceAccount of the cluster.

use crate::diagnostic::{Diagnostic, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA009",
    name: "subject-unrestricted",
    default_level: Level::Warning,
    summary: "an EKS OIDC trust statement admits every ServiceAccount of the cluster",
    doc: include_str!("../../rules/IRSA009.md"),
};

pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}
