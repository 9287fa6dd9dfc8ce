//! IRSA004 audience-mismatch: the ServiceAccount's token audience is not admitted by the trust policy or the OIDC provider.

use crate::diagnostic::{Diagnostic, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA004",
    name: "audience-mismatch",
    default_level: Level::Error,
    summary: "the ServiceAccount's token audience is not admitted by the trust policy or the OIDC provider",
    doc: include_str!("../../rules/IRSA004.md"),
};

pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}
