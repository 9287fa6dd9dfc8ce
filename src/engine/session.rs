//! The language server's runs: each keeps its files, facts, links and findings, and an edit
//! that only changes what plain manifest files say, or what one Terraform root makes, is
//! patched into them instead of linted anew.
//!
//! A full run rebuilds every stage from the [`Cache`](super::Cache): at 10,000 services,
//! tens of milliseconds of lookups and copies for one changed file. A patch reads only the
//! files the editor reported changed (or, when it does not watch files, compares every file
//! read). Both kinds are taken only when the result is provably a full run's: the settings,
//! the working directory and the list of inputs are those of the kept run, there is no
//! Terraform plan, and what Terraform read outside the scan (or found nowhere) is still so.
//!
//! A manifest patch swaps the changed files' ServiceAccounts and workloads in place, links
//! only those, and runs the rules again, but for those that read only the infrastructure
//! ([`Reads::Infrastructure`](crate::rules::Reads)): it changes no role, so their findings
//! stay. It needs besides:
//!
//! - the kept run's manifest facts are each file's own, in file order (no kustomization, no
//!   Argo CD or Flux object: their renderers read other files by path), and Terraform read
//!   no changed file (`file()`) nor listed a folder;
//! - each changed file is a YAML manifest (not a template, not a kustomization) whose old and
//!   new texts hold only ServiceAccounts, workloads and syntax errors of its own.
//!
//! A root patch evaluates again the one Terraform root whose files changed, alone, and puts
//! its facts in the place of the old ones, and its parse errors in place of those about its
//! files; then everything is linked and checked again. It needs besides
//! ([`terraform::RootPart::alone`], [`terraform::root_alone`]): the root calls no local
//! module and no module calls it, no Terragrunt unit runs, its variables are not encrypted,
//! none of its files is read by another evaluation or too deep to parse, no limit was hit,
//! and before and after the edit it reads no other file, gives only what the links and the
//! rules read, with the same flags, and its parse errors are about its own files.
//!
//! Anything else is a full run, which becomes the next kept run.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use foldhash::{HashMap, HashSet, HashSetExt};

use super::findings::InfrastructureFindings;
use super::loader::Reads;
use super::read::{ReadOutcome, read_input, read_text, too_deeply_nested};
use super::terraform::{self, RootParts};
use super::{
    Analysis, Cache, Conclude, EngineError, InputFile, Inputs, Report, Settings, Timings, conclude,
    is_set_apart, manifests, on_worker_pool, read_inputs, run,
};
use crate::diagnostic::Diagnostic;
use crate::discover::{self, FileKind, Input};
use crate::eval::workspace::normalize;
use crate::facts::Facts;
use crate::link::Links;
use crate::open::Links as SymbolicLinks;
use crate::parse::ParseError;
use crate::source::{FileId, SourceFile, SourceMap};
use crate::text::placeholders::is_template_name;

/// What a run of the language server leaves for the next one to patch.
pub(super) struct Basis {
    /// Each input's id, in the order read (none for an encrypted file).
    pub ids: Vec<Option<FileId>>,
    /// How many of the run's ServiceAccounts and workloads, first in their lists, come from
    /// manifest files, in file order.
    pub from_files: (usize, usize),
    /// What Terraform's `file()` read of the scan, and where it found nothing.
    pub terraform_read: Reads,
    /// The files outside the scan it read, with their texts.
    pub outside: Vec<(PathBuf, Arc<str>)>,
    /// Whether roles could be read at all (see `Coverage::of_lint`).
    pub infrastructure_read: bool,
    /// Its facts' links, patched with them.
    pub links: Links,
    /// What the rules that read only roles found: a manifest patch keeps them.
    pub infrastructure_findings: InfrastructureFindings,
    /// Whether the run's manifest facts are each file's own, in file order: a manifest
    /// edit can be patched.
    pub files_say: bool,
    /// Where each Terraform root's facts lie: an edit of a root's own files evaluates that
    /// root again alone.
    pub roots: Option<RootParts>,
}

impl Basis {
    /// Whether what Terraform read outside the scan, or found nowhere, is still so: no
    /// editor reports those files' changes.
    fn terraform_read_unchanged(&self) -> bool {
        let same = |(path, text): &(PathBuf, Arc<str>)| {
            read_text(path, SymbolicLinks::Refuse).is_ok_and(|now| *now == **text)
        };
        self.outside.iter().all(same) && !self.terraform_read.missed.iter().any(|p| p.exists())
    }
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
    /// The editor's texts it ran with.
    overlays: HashMap<PathBuf, Arc<str>>,
    cwd: PathBuf,
    /// The cache's count of walks forgotten when it ran ([`Cache::take_reported`]).
    walks: u64,
    inputs: Vec<Input>,
    /// Each input's place in `inputs`, made when first asked for.
    places: OnceLock<HashMap<PathBuf, usize>>,
    read: Vec<ReadOutcome>,
    report: Report,
    facts: Facts,
    basis: Option<Basis>,
}

/// What changed since the kept run: each input read again whose outcome differs, by place.
type Changes = Vec<(usize, ReadOutcome)>;

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
        let reported = settings.cache.as_deref().map(Cache::take_reported);
        let walks = reported.as_ref().map_or(0, |(walks, _)| *walks);
        let (kept, retired, patched) = on_worker_pool(|| -> Result<_, EngineError> {
            let Some(mut kept) = kept else {
                let inputs = read_inputs(settings)?;
                return Ok((
                    Kept::run(settings, inputs, walks),
                    Retired::default(),
                    false,
                ));
            };
            // What changed: from what the editor reported, or by reading every input.
            let (changes, inputs) = match kept.reported_changes(settings, reported) {
                Some(changes) => (Some(changes), None),
                None => {
                    let inputs = read_inputs(settings)?;
                    (kept.read_changes(settings, &inputs), Some(inputs))
                }
            };
            let patched = changes.and_then(|changes| kept.patch(settings, changes));
            Ok(match patched {
                Some((files, diagnostics)) => {
                    // Every input was read with this walk (or the kept run's).
                    kept.walks = walks;
                    let retired = Retired {
                        _kept: None,
                        _files: files,
                        _diagnostics: diagnostics,
                    };
                    (kept, retired, true)
                }
                None => {
                    let inputs = match inputs {
                        Some(inputs) => inputs,
                        None => read_inputs(settings)?,
                    };
                    let retired = Retired {
                        _kept: Some(kept),
                        ..Retired::default()
                    };
                    (Kept::run(settings, inputs, walks), retired, false)
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
    fn run(settings: &Settings, inputs: Inputs, walks: u64) -> Kept {
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
            overlays: settings.overlays.clone(),
            cwd: inputs.cwd,
            walks,
            inputs: listed,
            places: OnceLock::new(),
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

    /// The changes since this run, from the changes the editor reported: each input they
    /// name, and each editor text changed, read again. `None` when they cannot tell (the
    /// walk may differ, the settings differ, or changes are not all reported).
    fn reported_changes(
        &self,
        settings: &Settings,
        reported: Option<(u64, Option<Vec<PathBuf>>)>,
    ) -> Option<Changes> {
        // A run that cannot be patched needs every file read: none is read twice.
        self.basis.as_ref()?;
        let (walks, Some(paths)) = reported? else {
            return None;
        };
        let cwd = std::env::current_dir().unwrap_or_default();
        if walks != self.walks || cwd != self.cwd || !same_settings(settings, &self.settings) {
            return None;
        }
        let edited = (settings.overlays.iter())
            .filter(|(path, text)| {
                (self.overlays.get(*path)).is_none_or(|kept| !Arc::ptr_eq(kept, text))
            })
            .map(|(path, _)| path);
        let closed = (self.overlays.keys()).filter(|path| !settings.overlays.contains_key(*path));
        let places = self.places.get_or_init(|| {
            (self.inputs.iter().enumerate())
                .map(|(i, input)| (input.path.clone(), i))
                .collect()
        });
        let mut read = HashSet::new();
        for path in paths.iter().chain(edited).chain(closed) {
            match places.get(path) {
                Some(&i) => {
                    read.insert(i);
                }
                // A folder of the scan, changed in place: read anew.
                None if self.inputs.iter().any(|input| input.path.starts_with(path)) => {
                    return None;
                }
                // Not linted (excluded, or not found by the walk).
                None => {}
            }
        }
        let changes = read.into_iter().filter_map(|i| {
            let outcome = read_input(&self.inputs[i], settings);
            (outcome != self.read[i]).then_some((i, outcome))
        });
        Some(changes.collect())
    }

    /// The changes since this run, by comparing every input read again: `None` when the
    /// inputs or the settings differ.
    fn read_changes(&self, settings: &Settings, inputs: &Inputs) -> Option<Changes> {
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
        let changes = (inputs.files.iter().zip(&self.read).enumerate())
            .filter(|(_, ((_, new), old))| new != *old)
            .map(|(i, ((_, new), _))| (i, new.clone()));
        Some(changes.collect())
    }

    /// Patch this run with the changes, when that is provably what a full run would find:
    /// the files it replaced and the findings before; or `None`, and this run is to be
    /// dropped (it may be half patched).
    fn patch(
        &mut self,
        settings: &Settings,
        changes: Changes,
    ) -> Option<(Vec<SourceFile>, Vec<Diagnostic>)> {
        let terraform = |(i, _): &(usize, ReadOutcome)| {
            matches!(self.inputs[*i].kind, FileKind::Terraform | FileKind::TfVars)
        };
        if !changes.is_empty() && changes.iter().all(terraform) {
            return self.patch_root(settings, changes);
        }
        let timings = Timings::start();
        let basis = self.basis.as_ref()?;
        let cache = settings.cache.as_deref()?;
        if !basis.files_say || basis.terraform_read.listed || !basis.terraform_read_unchanged() {
            return None;
        }
        // Every change is checked before any is made.
        let mut edits = Vec::with_capacity(changes.len());
        for (i, outcome) in &changes {
            let (input, ReadOutcome::Text(text)) = (&self.inputs[*i], outcome) else {
                return None;
            };
            let i = *i;
            let id = basis.ids[i]?;
            let plain = input.kind == FileKind::Yaml
                && !discover::is_manifest_template(&input.path)
                && !crate::facts::kustomize::is_kustomization(&input.path)
                && !basis.terraform_read.scanned.contains(&id);
            if !plain || !matches!(self.read[i], ReadOutcome::Text(_)) {
                return None;
            }
            let old_file = self.report.sources.get(id);
            // A text too deep to parse was not parsed: it is not parsed here either.
            if too_deeply_nested(&old_file.text).is_some() {
                return None;
            }
            let (file, too_deep) =
                cache.prepare_and_keep(&input.path, old_file.path.clone(), text.clone());
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
        let basis = self.basis.as_mut()?;
        let mut links = std::mem::take(&mut basis.links);
        for (id, new) in new_facts {
            let (at, removed, added) = splice_file(&mut self.facts, &mut basis.from_files, id, new);
            links.replace_service_accounts(&self.facts, at, removed, added);
        }
        let before = self.conclude_patch(settings, changes, Some(links), timings)?;
        Some((replaced, before))
    }

    /// End a patch: the changes are this run's, its facts are linked (`links` when they
    /// were patched with the facts; anew, and every rule run, when roles changed) and
    /// checked. Gives the findings before.
    fn conclude_patch(
        &mut self,
        settings: &Settings,
        changes: Changes,
        links: Option<Links>,
        mut timings: Timings,
    ) -> Option<Vec<Diagnostic>> {
        for (i, outcome) in changes {
            self.read[i] = outcome;
        }
        self.overlays = settings.overlays.clone();
        timings.mark("patch");
        let basis = self.basis.as_mut()?;
        if links.is_none() {
            basis.infrastructure_findings = InfrastructureFindings::default();
        }
        let run = Conclude {
            facts: &self.facts,
            sources: &self.report.sources,
            settings,
            cwd: &self.cwd,
            infrastructure_read: basis.infrastructure_read,
        };
        let kept = Some(&mut basis.infrastructure_findings);
        let (diagnostics, coverage, links) = conclude(run, links, kept, &mut timings);
        basis.links = links;
        self.report.coverage = coverage;
        Some(std::mem::replace(&mut self.report.diagnostics, diagnostics))
    }

    /// Patch this run with changes to the files of one Terraform root that may be evaluated
    /// again alone ([`terraform::RootPart::alone`]): its facts take the place of the old
    /// ones, and everything is linked and checked again. As [`Kept::patch`], `None` leaves
    /// this run to be dropped.
    fn patch_root(
        &mut self,
        settings: &Settings,
        changes: Changes,
    ) -> Option<(Vec<SourceFile>, Vec<Diagnostic>)> {
        let timings = Timings::start();
        let basis = self.basis.as_ref()?;
        let cache = settings.cache.as_deref()?;
        let roots = basis.roots.as_ref()?;
        // A limit hit may be the run's, which one root evaluated alone does not spend.
        if !basis.terraform_read_unchanged() || !self.facts.limits_hit.is_empty() {
            return None;
        }
        let dir_of = |input: &Input| normalize(input.path.parent().unwrap_or(Path::new("")));
        let dir = dir_of(&self.inputs[changes.first()?.0]);
        let at = roots.roots.iter().position(|r| r.dir == dir)?;
        if !roots.roots[at].alone {
            return None;
        }
        // The root's files, each with its new text: none is a template, none unread, none
        // read by `file()`, none too deep to parse.
        let changed: HashMap<usize, &ReadOutcome> =
            changes.iter().map(|(i, outcome)| (*i, outcome)).collect();
        if (changed.keys()).any(|i| dir_of(&self.inputs[*i]) != dir) {
            return None;
        }
        let mut files = Vec::new();
        let mut texts = Vec::with_capacity(changes.len());
        // The walk lists a folder's files together: each folder is compared once, not each
        // of the tens of thousands of files (a comparison builds the folder's path anew).
        let mut last: Option<(&Path, bool)> = None;
        for (i, input) in self.inputs.iter().enumerate() {
            if !matches!(input.kind, FileKind::Terraform | FileKind::TfVars) {
                continue;
            }
            let parent = input.path.parent().unwrap_or(Path::new(""));
            let in_dir = match last {
                Some((folder, in_dir)) if folder.as_os_str() == parent.as_os_str() => in_dir,
                _ => dir_of(input) == dir,
            };
            last = Some((parent, in_dir));
            if !in_dir {
                continue;
            }
            let id = basis.ids[i]?;
            let outcome = changed.get(&i).copied().unwrap_or(&self.read[i]);
            let (ReadOutcome::Text(text), ReadOutcome::Text(_)) = (outcome, &self.read[i]) else {
                return None;
            };
            if is_template_name(&input.path) || basis.terraform_read.scanned.contains(&id) {
                return None;
            }
            let old_file = self.report.sources.get(id);
            let (file, too_deep) =
                cache.prepare_and_keep(&input.path, old_file.path.clone(), text.clone());
            if too_deep.is_some() {
                return None;
            }
            if changed.contains_key(&i) {
                texts.push((id, file));
            }
            files.push(InputFile {
                id,
                kind: input.kind,
                path: input.path.clone(),
            });
        }
        let ids: HashSet<FileId> = files.iter().map(|f| f.id).collect();
        let about_root = |e: &ParseError| ids.contains(&e.span.file);
        if self.facts.unread_templates.iter().any(about_root) {
            return None;
        }
        // From here on the kept run changes.
        let replaced: Vec<SourceFile> = (texts.into_iter())
            .map(|(id, file)| self.report.sources.replace(id, file))
            .collect();
        let files: Vec<&InputFile> = files.iter().collect();
        let first_model = FileId(self.report.files_read as u32);
        let mut facts = terraform::root_alone(
            &self.report.sources,
            &files,
            &dir,
            settings,
            cache,
            &roots.context,
            first_model,
        )?;
        // Its parse errors are found by their files: their order shows nowhere (findings
        // are sorted by place).
        let errors = std::mem::take(&mut facts.parse_errors);
        self.facts.parse_errors.retain(|e| !about_root(e));
        self.facts.parse_errors.extend(errors);
        let basis = self.basis.as_mut()?;
        let roots = basis.roots.as_mut()?;
        let before = (roots.roots[..at].iter()).fold(roots.first, |at, root| at.then(root.part));
        roots.roots[at].part = self
            .facts
            .replace_part(before, roots.roots[at].part, facts)?;
        // Roles changed: linked anew, every rule run again.
        let before = self.conclude_patch(settings, changes, None, timings)?;
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
/// The files' objects come first in their lists, in file order (`from_files` long). Gives
/// where its ServiceAccounts are, how many there were and how many there are.
fn splice_file(
    facts: &mut Facts,
    from_files: &mut (usize, usize),
    id: FileId,
    new: Facts,
) -> (usize, usize, usize) {
    let service_accounts = splice(
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
    service_accounts
}

/// Replace the items of file `id` among the first `section` items of `list`, which are in
/// file order: where they were, how many, and how many there are now.
fn splice<T>(
    list: &mut Vec<T>,
    section: &mut usize,
    id: FileId,
    new: Vec<T>,
    file_of: impl Fn(&T) -> FileId,
) -> (usize, usize, usize) {
    let start = list[..*section].partition_point(|x| file_of(x) < id);
    let end = start + list[start..*section].partition_point(|x| file_of(x) == id);
    let added = new.len();
    *section = *section - (end - start) + added;
    list.splice(start..end, new);
    (start, end - start, added)
}
