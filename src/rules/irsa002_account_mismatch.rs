//! IRSA002 account-mismatch: the role-arn annotation's account differs from the account of the role it names.

use crate::diagnostic::{Diagnostic, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA002",
    name: "account-mismatch",
    default_level: Level::Error,
    summary: "the role-arn annotation's account differs from the account of the role it names",
    doc: include_str!("../../rules/IRSA002.md"),
};

pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}
