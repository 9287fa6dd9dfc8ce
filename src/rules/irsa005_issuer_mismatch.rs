//! IRSA005 issuer-mismatch: a trust statement's condition keys name another issuer than its Federated principal, or a provider's URL is not its cluster's issuer.

use crate::diagnostic::{Diagnostic, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA005",
    name: "issuer-mismatch",
    default_level: Level::Error,
    summary: "a trust statement's condition keys name another issuer than its Federated principal, or a provider's URL is not its cluster's issuer",
    doc: include_str!("../../rules/IRSA005.md"),
};

pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}
