//! IRSA008 web-identity-action-missing: an EKS OIDC trust statement does not allow sts:AssumeRoleWithWebIdentity.

use crate::diagnostic::{Diagnostic, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA008",
    name: "web-identity-action-missing",
    default_level: Level::Error,
    summary: "an EKS OIDC trust statement does not allow sts:AssumeRoleWithWebIdentity",
    doc: include_str!("../../rules/IRSA008.md"),
};

pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}
