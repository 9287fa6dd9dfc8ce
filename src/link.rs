//! Linking: ServiceAccount ↔ role ↔ OIDC provider ↔ cluster.
//!
//! Builds the [`LintContext`] the rules read. Links are computed once here so that rules do
//! not each re-derive them (and cannot disagree on them).

use crate::facts::Facts;
use crate::source::SourceMap;

pub struct LintContext<'a> {
    pub facts: &'a Facts,
    pub sources: &'a SourceMap,
}

impl<'a> LintContext<'a> {
    pub fn new(facts: &'a Facts, sources: &'a SourceMap) -> Self {
        LintContext { facts, sources }
    }
}
