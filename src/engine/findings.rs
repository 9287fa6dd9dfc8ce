//! After the rules: suppressions, configured levels, the baseline, one finding per place,
//! and a deterministic order.

use std::path::Path;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::Settings;
use crate::diagnostic::Diagnostic;
use crate::link::LintContext;
use crate::rules::{self, irsa000_parse_error as irsa000, irsa028_invalid_suppression as irsa028};
use crate::source::SourceMap;
use crate::suppress::{self, FindRule};

/// Run the rules that are on, then apply suppressions, the configured levels and the
/// baseline, in that order: a suppressed finding never reaches the baseline, and IRSA028
/// findings get their configured level like any other.
pub(super) fn findings(ctx: &LintContext, settings: &Settings, cwd: &Path) -> Vec<Diagnostic> {
    // Rules are pure and independent: run side by side, their findings are joined in
    // registry order, exactly as if run one after the other.
    let timed = super::timings::enabled();
    let per_rule: Vec<(Vec<Diagnostic>, Option<Duration>)> = crate::rules::RULES
        .par_iter()
        .filter(|rule| !settings.rule_levels.is_off(rule.meta.id))
        .map(|rule| {
            let mut found = Vec::new();
            let started = timed.then(Instant::now);
            (rule.check)(ctx, &mut found);
            (found, started.map(|s| s.elapsed()))
        })
        .collect();
    if timed {
        let ids = crate::rules::RULES
            .iter()
            .filter(|rule| !settings.rule_levels.is_off(rule.meta.id));
        let times = ids
            .zip(&per_rule)
            .filter_map(|(rule, (_, t))| Some((rule.meta.id, (*t)?)));
        super::timings::slowest_rules(times.collect());
    }
    let mut diagnostics: Vec<Diagnostic> =
        per_rule.into_iter().flat_map(|(found, _)| found).collect();
    if settings.verbose {
        irsa000::unread_templates(ctx, &mut diagnostics);
    }
    sort_diagnostics(&mut diagnostics, ctx.sources);
    merge_duplicates(&mut diagnostics);
    let find_rule: FindRule = |name| rules::find(name).map(|r| r.meta);
    let (mut diagnostics, suppressions) = suppress::apply(diagnostics, ctx.sources, find_rule);
    let is_off = |id: &str| settings.rule_levels.is_off(id);
    irsa028::check_suppressions(&suppressions, &is_off, &mut diagnostics);
    settings.rule_levels.apply(&mut diagnostics);
    if let Some(baseline) = &settings.baseline {
        baseline.filter(&mut diagnostics, ctx.sources, ctx.facts, cwd);
    }
    sort_diagnostics(&mut diagnostics, ctx.sources);
    diagnostics
}

/// One finding per place: a statement shared by several role instances (for_each, module
/// instances) or a policy document used by several roles is reported once, with a note for
/// each instance. `diagnostics` must be sorted.
fn merge_duplicates(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.dedup_by(|later, kept| {
        let same = later.rule_id == kept.rule_id
            && later.primary.span == kept.primary.span
            && later.message == kept.message;
        if same {
            for note in later.notes.drain(..) {
                if !kept.notes.contains(&note) {
                    kept.notes.push(note);
                }
            }
        }
        same
    });
}

/// Sort by path, position, rule id and message, so output does not depend on thread timing.
fn sort_diagnostics(diagnostics: &mut [Diagnostic], sources: &SourceMap) {
    diagnostics.sort_by(|a, b| {
        let pa = &sources.get(a.primary.span.file).path;
        let pb = &sources.get(b.primary.span.file).path;
        (pa, a.primary.span.start, a.rule_id, &a.message).cmp(&(
            pb,
            b.primary.span.start,
            b.rule_id,
            &b.message,
        ))
    });
}
