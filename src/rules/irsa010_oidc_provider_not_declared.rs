//! IRSA010 oidc-provider-not-declared: the Federated principal names an OIDC provider the scanned Terraform does not declare.

use crate::diagnostic::{Diagnostic, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA010",
    name: "oidc-provider-not-declared",
    default_level: Level::Warning,
    summary: "the Federated principal names an OIDC provider the scanned Terraform does not declare",
    doc: include_str!("../../rules/IRSA010.md"),
};

pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}
