//! The language server's runs: each keeps its files and facts, and an edit that only changes
//! what plain manifest files say is patched into them instead of linted anew.
//!
//! A full run rebuilds every stage from the [`Cache`](super::Cache): at 10,000 services,
//! tens of milliseconds of lookups and copies for one changed file. A patch re-reads only the
//! changed files, swaps their ServiceAccounts and workloads in place, then links and runs the
//! rules as a full run does. It is taken only when the result is provably the same:
//!
//! - the settings, the working directory and the list of inputs are those of the kept run;
//! - the kept run's manifest facts are each file's own, in file order (no kustomization, no
//!   Argo CD or Flux object: their renderers read other files by path), no Terraform plan,
//!   and Terraform read no changed file (`file()`) nor listed a folder;
//! - each changed file is a YAML manifest (not a template, not a kustomization) whose old and
//!   new texts hold only ServiceAccounts, workloads and syntax errors of its own.
//!
//! Anything else is a full run, which becomes the next kept run.

use std::path::PathBuf;

use super::{
    Analysis, EngineError, InputFile, Inputs, Report, Settings, conclude, is_set_apart, manifests,
    on_worker_pool, read_inputs, run,
};
use crate::diagnostic::Diagnostic;
use crate::discover::{self, FileKind, Input};
use crate::facts::Facts;
use crate::source::{FileId, SourceFile, SourceMap};

use super::read::{ReadOutcome, too_deeply_nested};

/// What a run of the language server leaves for the next one to patch.
pub(super) struct Basis {
    /// Each input's id, in the order read (none for an encrypted file).
    pub ids: Vec<Option<FileId>>,
    /// How many of the run's ServiceAccounts and workloads, first in their lists, come from
    /// manifest files, in file order.
    pub from_files: (usize, usize),
    /// The scanned files Terraform's `file()` read.
    pub terraform_read: Vec<FileId>,
    /// Whether roles could be read at all (see `Coverage::of_lint`).
    pub infrastructure_read: bool,
}

/// The runs of one editor session: the last one's files, facts and findings.
#[derive(Default)]
pub struct Session {
    kept: Option<Kept>,
    /// How many runs were patches (for tests and the timings).
    patched: usize,
}

struct Kept {
    /// The settings it ran with, without the editor's texts and the cache.
    settings: Settings,
    cwd: PathBuf,
    inputs: Vec<Input>,
    read: Vec<ReadOutcome>,
    report: Report,
    facts: Facts,
    basis: Option<Basis>,
}

/// What a run replaced: the caller may free it where it costs nothing (a monorepo's facts
/// take tens of milliseconds to free).
#[derive(Default)]
pub struct Retired {
    _kept: Option<Kept>,
    _files: Vec<SourceFile>,
    _diagnostics: Vec<Diagnostic>,
}

impl Session {
    /// Lint as [`super::lint`] does, patching the last run when only plain manifest files
    /// changed. A run that fails (or panics) leaves nothing kept: the next one is full.
    pub fn lint(&mut self, settings: &Settings) -> Result<Retired, EngineError> {
        let kept = self.kept.take();
        let (kept, retired, patched) = on_worker_pool(|| -> Result<_, EngineError> {
            let mut inputs = read_inputs(settings)?;
            let Some(mut kept) = kept else {
                return Ok((Kept::run(settings, inputs), Retired::default(), false));
            };
            Ok(match kept.patch(settings, &mut inputs) {
                Some((files, diagnostics)) => {
                    let retired = Retired {
                        _kept: None,
                        _files: files,
                        _diagnostics: diagnostics,
                    };
                    (kept, retired, true)
                }
                None => {
                    let retired = Retired {
                        _kept: Some(kept),
                        ..Retired::default()
                    };
                    (Kept::run(settings, inputs), retired, false)
                }
            })
        })?;
        self.patched += usize::from(patched);
        self.kept = Some(kept);
        Ok(retired)
    }

    /// The last run's report.
    pub fn report(&self) -> Option<&Report> {
        self.kept.as_ref().map(|k| &k.report)
    }

    /// How many runs so far were patches of the run before.
    pub fn patched(&self) -> usize {
        self.patched
    }
}

/// The settings that decide a run, without the editor's texts (compared as read) and the
/// cache.
fn deciding(settings: &Settings) -> Settings {
    Settings {
        overlays: Default::default(),
        cache: None,
        ..settings.clone()
    }
}

fn same_settings(a: &Settings, b: &Settings) -> bool {
    let Settings {
        paths,
        var_files,
        vars,
        stdin,
        plans,
        stdin_plan,
        rule_levels,
        exclude,
        external_roles,
        baseline,
        overlays: _,
        too_large,
        cache: _,
        display_root,
        verbose,
        findings_only,
    } = a;
    // Standard input, plans and a baseline are the command line's, never an editor's.
    stdin.is_none()
        && b.stdin.is_none()
        && plans.is_empty()
        && b.plans.is_empty()
        && !stdin_plan
        && !b.stdin_plan
        && baseline.is_none()
        && b.baseline.is_none()
        && *paths == b.paths
        && *var_files == b.var_files
        && *vars == b.vars
        && *rule_levels == b.rule_levels
        && *exclude == b.exclude
        && *external_roles == b.external_roles
        && *too_large == b.too_large
        && *display_root == b.display_root
        && *verbose == b.verbose
        && *findings_only == b.findings_only
}

impl Kept {
    fn run(settings: &Settings, inputs: Inputs) -> Kept {
        let (listed, read): (Vec<Input>, Vec<ReadOutcome>) = (inputs.files.iter())
            .map(|(input, outcome)| (input.clone(), outcome.clone()))
            .unzip();
        let Analysis {
            sources,
            facts,
            diagnostics,
            files_read,
            coverage,
            external_roles: _,
            basis,
        } = run(
            inputs.files,
            inputs.roots,
            settings,
            &inputs.cwd,
            inputs.timings,
        );
        Kept {
            settings: deciding(settings),
            cwd: inputs.cwd,
            inputs: listed,
            read,
            report: Report {
                sources,
                diagnostics,
                files_read,
                coverage,
            },
            facts,
            basis,
        }
    }

    /// Patch this run with what changed since, when that is provably what a full run would
    /// find: the files it replaced and the findings before; or `None`, and this run is to
    /// be dropped (it may be half patched).
    fn patch(
        &mut self,
        settings: &Settings,
        inputs: &mut Inputs,
    ) -> Option<(Vec<SourceFile>, Vec<Diagnostic>)> {
        let basis = self.basis.as_ref()?;
        let same_inputs = inputs.cwd == self.cwd
            && same_settings(settings, &self.settings)
            && inputs.files.len() == self.inputs.len()
            && (inputs.files.iter().zip(&self.inputs)).all(|((new, _), old)| {
                new.kind == old.kind
                    && new.named == old.named
                    && new.path.as_os_str() == old.path.as_os_str()
            });
        if !same_inputs {
            return None;
        }
        let changed: Vec<usize> = (inputs.files.iter().zip(&self.read).enumerate())
            .filter(|(_, ((_, new), old))| new != *old)
            .map(|(i, _)| i)
            .collect();
        let cache = settings.cache.as_deref()?;
        // Every change is checked before any is made.
        let mut edits = Vec::with_capacity(changed.len());
        for &i in &changed {
            let (input, ReadOutcome::Text(text)) = &inputs.files[i] else {
                return None;
            };
            let id = basis.ids[i]?;
            let plain = input.kind == FileKind::Yaml
                && !discover::is_manifest_template(&input.path)
                && !crate::facts::kustomize::is_kustomization(&input.path)
                && !basis.terraform_read.contains(&id);
            if !plain || !matches!(self.read[i], ReadOutcome::Text(_)) {
                return None;
            }
            let old_file = self.report.sources.get(id);
            // A text too deep to parse was not parsed: it is not parsed here either.
            if too_deeply_nested(&old_file.text).is_some() {
                return None;
            }
            let (file, too_deep) =
                cache.prepare(&input.path, old_file.path.clone(), text.clone(), |t| {
                    too_deeply_nested(t)
                });
            if too_deep.is_some() || !manifests::says_only_itself(&file) {
                return None;
            }
            let input_file = InputFile {
                id,
                kind: input.kind,
                path: input.path.clone(),
            };
            let old = manifests::file_facts(&self.report.sources, &input_file, Some(cache), false)?;
            if !only_objects(&old, &self.report.sources) {
                return None;
            }
            edits.push((input_file, file));
        }
        // From here on the kept run changes: a file that now says more than its objects
        // leaves it half patched, and the caller lints anew.
        let mut replaced = Vec::with_capacity(edits.len());
        let mut new_facts = Vec::with_capacity(edits.len());
        for (input_file, file) in edits {
            replaced.push(self.report.sources.replace(input_file.id, file));
            let new = manifests::file_facts(&self.report.sources, &input_file, Some(cache), false)?;
            if !only_objects(&new, &self.report.sources) {
                return None;
            }
            new_facts.push((input_file.id, new));
        }
        let mut timings = std::mem::replace(&mut inputs.timings, super::Timings::start());
        let basis = self.basis.as_mut()?;
        for (id, new) in new_facts {
            splice_file(&mut self.facts, &mut basis.from_files, id, new);
        }
        for &i in &changed {
            self.read[i] = inputs.files[i].1.clone();
        }
        timings.mark("patch");
        let (diagnostics, coverage) = conclude(
            &self.facts,
            &self.report.sources,
            settings,
            &inputs.cwd,
            basis.infrastructure_read,
            &mut timings,
        );
        self.report.coverage = coverage;
        let before = std::mem::replace(&mut self.report.diagnostics, diagnostics);
        Some((replaced, before))
    }
}

/// Whether a file's own facts are only ServiceAccounts, workloads and syntax errors that
/// stay in the run as they are: what [`splice_file`] can swap.
fn only_objects(facts: &Facts, sources: &SourceMap) -> bool {
    let Facts {
        roles,
        providers,
        clusters,
        service_accounts: _,
        workloads: _,
        pod_identities,
        addon_roles,
        helm_releases,
        // Read only for Flux objects, and there are none.
        config_data: _,
        release_objects,
        chart_sources,
        role_policies,
        unresolved_service_accounts,
        parse_errors,
        unread_templates,
        limits_hit,
        rendered_templates,
        hidden_service_accounts,
        hidden_roles,
        hidden_annotations,
        plan_origins,
    } = facts;
    roles.is_empty()
        && providers.is_empty()
        && clusters.is_empty()
        && pod_identities.is_empty()
        && addon_roles.is_empty()
        && helm_releases.is_empty()
        && release_objects.is_empty()
        && chart_sources.is_empty()
        && role_policies.is_empty()
        && unresolved_service_accounts.is_empty()
        && unread_templates.is_empty()
        && limits_hit.is_empty()
        && rendered_templates.is_empty()
        && plan_origins.is_empty()
        && !hidden_service_accounts
        && !hidden_roles
        && !hidden_annotations
        && !parse_errors.iter().any(|e| is_set_apart(sources, e))
}

/// Swap one file's ServiceAccounts, workloads and syntax errors in the run's facts for `new`.
/// The files' objects come first in their lists, in file order (`from_files` long).
fn splice_file(facts: &mut Facts, from_files: &mut (usize, usize), id: FileId, new: Facts) {
    splice(
        &mut facts.service_accounts,
        &mut from_files.0,
        id,
        new.service_accounts,
        |sa| sa.span.file,
    );
    splice(
        &mut facts.workloads,
        &mut from_files.1,
        id,
        new.workloads,
        |w| w.span.file,
    );
    // Findings are sorted by place: where a file's errors stand in the list shows nowhere.
    let errors = &mut facts.parse_errors;
    let at = errors.iter().position(|e| e.span.file == id);
    errors.retain(|e| e.span.file != id);
    let at = at.unwrap_or(errors.len());
    errors.splice(at..at, new.parse_errors);
}

/// Replace the items of file `id` among the first `section` items of `list`, which are in
/// file order.
fn splice<T>(
    list: &mut Vec<T>,
    section: &mut usize,
    id: FileId,
    new: Vec<T>,
    file_of: impl Fn(&T) -> FileId,
) {
    let start = list[..*section].partition_point(|x| file_of(x) < id);
    let end = start + list[start..*section].partition_point(|x| file_of(x) == id);
    *section = *section - (end - start) + new.len();
    list.splice(start..end, new);
}
