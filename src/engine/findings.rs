//! After the rules: suppressions, configured levels, the baseline, one finding per place,
//! and a deterministic order.

use std::path::Path;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::Settings;
use crate::diagnostic::Diagnostic;
use crate::link::LintContext;
use crate::rules::{
    self, Reads, irsa000_parse_error as irsa000, irsa028_invalid_suppression as irsa028,
};
use crate::source::SourceMap;
use crate::suppress::{self, FindRule};

/// The findings of the rules that read only the infrastructure ([`Reads::Infrastructure`]),
/// each as its rule gave them: a language server session keeps them while its edits change
/// only what manifest files say, which none of these rules reads.
#[derive(Default)]
pub(super) struct InfrastructureFindings(Vec<Option<Vec<Diagnostic>>>);

/// Run the rules that are on, then apply suppressions, the configured levels and the
/// baseline, in that order: a suppressed finding never reaches the baseline, and IRSA028
/// findings get their configured level like any other. The findings in `kept` are taken
/// instead of running their rules; those it lacks are added to it.
pub(super) fn findings(
    ctx: &LintContext,
    settings: &Settings,
    cwd: &Path,
    kept: Option<&mut InfrastructureFindings>,
) -> Vec<Diagnostic> {
    // Rules are pure and independent: run side by side, their findings are joined in
    // registry order, exactly as if run one after the other.
    let timed = super::timings::enabled();
    let kept_before = kept.as_deref().map(|k| k.0.as_slice()).unwrap_or_default();
    let per_rule: Vec<(usize, Vec<Diagnostic>, Option<Duration>, bool)> = (rules::RULES.par_iter())
        .enumerate()
        .filter(|(_, rule)| !settings.rule_levels.is_off(rule.meta.id))
        .map(|(i, rule)| {
            if let Some(Some(found)) = kept_before.get(i) {
                return (i, found.clone(), None, false);
            }
            let mut found = Vec::new();
            let started = timed.then(Instant::now);
            (rule.check)(ctx, &mut found);
            let keep = rule.reads == Reads::Infrastructure;
            (i, found, started.map(|s| s.elapsed()), keep)
        })
        .collect();
    if let Some(kept) = kept {
        kept.0.resize_with(rules::RULES.len(), || None);
        for (i, found, _, keep) in &per_rule {
            if *keep {
                kept.0[*i] = Some(found.clone());
            }
        }
    }
    if timed {
        let times =
            (per_rule.iter()).filter_map(|(i, _, t, _)| Some((rules::RULES[*i].meta.id, (*t)?)));
        super::timings::slowest_rules(times.collect());
    }
    let mut diagnostics: Vec<Diagnostic> = (per_rule.into_iter())
        .flat_map(|(_, found, _, _)| found)
        .collect();
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
