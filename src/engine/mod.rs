//! The pipeline, one stage a module:
//!
//! 1. `read`: find the inputs (walk, or texts given in memory) and read them within the
//!    limits (size, nesting, regular files), from an editor overlay, the `cache` or disk;
//! 2. `manifests` and `terraform`, side by side: parse each file, evaluate each Terraform root
//!    module (with the `loader` for `file()`), extract facts; each file and root module
//!    behind the panic `guard`;
//! 3. link the facts and run the rules, then apply suppressions, configured levels and the
//!    baseline, and sort (`findings`); count what was checked (`crate::coverage`).
//!
//! Files are read and parsed in parallel; each Terraform module directory is evaluated on its
//! own thread; only facts (not syntax trees) outlive this module — except in a [`Cache`],
//! which the caller (the language server) keeps across runs so that an edit re-reads and
//! re-parses only the files that changed. What the configuration says (rules off or at
//! another level, excluded paths, roles managed elsewhere), suppression comments and the
//! baseline are all applied here, so that every consumer of a [`Report`] sees the same
//! findings.

mod cache;
mod findings;
mod guard;
mod loader;
mod manifests;
mod plan;
mod read;
mod session;
mod terraform;
mod terragrunt;
mod timings;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use foldhash::{HashMap, HashSet, HashSetExt};
use rayon::prelude::*;

use crate::baseline::Baseline;
use crate::config::{Exclude, RuleLevels};
use crate::coverage::Coverage;
use crate::diagnostic::Diagnostic;
use crate::discover::{self, FileKind, Input};
use crate::eval::workspace::normalize;
use crate::facts::Facts;
use crate::link::{ExternalRoles, Links, LintContext};
use crate::parse::ParseError;
use crate::parse::memo::TextMemo;
use crate::source::{FileId, SourceFile, SourceMap, Span};
use crate::text::placeholders::{is_template_file, is_template_name};

pub use cache::{Cache, DiskChange};
use cache::{FreshDisk, FreshText};
pub use read::{MAX_FILE_BYTES, MAX_NESTING};
pub use session::{Retired, Session};

use crate::parse::plan::may_be_plan;
use findings::InfrastructureFindings;
use loader::Loader;
use read::{ReadOutcome, read_input, read_input_unkept, too_deep_error, too_deeply_nested};
use session::Basis;
use timings::Timings;

/// What to lint and how to evaluate it.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub paths: Vec<PathBuf>,
    /// `--var-file`: applied to every module, after `terraform.tfvars` and `*.auto.tfvars`.
    pub var_files: Vec<PathBuf>,
    /// `--var NAME=VALUE`: applied last.
    pub vars: Vec<(String, String)>,
    /// Text read from standard input and the name it is shown under.
    pub stdin: Option<(PathBuf, String)>,
    /// `--plan`: Terraform plan or state JSON files, read wherever they are.
    pub plans: Vec<PathBuf>,
    /// `--plan -`: standard input is a Terraform plan or state.
    pub stdin_plan: bool,
    /// `[rules]`: rules turned off are not run; the others' findings get the level set.
    pub rule_levels: RuleLevels,
    /// `exclude`: files found in folders that it matches are not read. A file named in
    /// `paths` is always read.
    pub exclude: Option<Exclude>,
    /// `external_roles` and `external_accounts`: roles IRSA001 does not miss.
    pub external_roles: ExternalRoles,
    /// `--baseline`: findings already accepted, not reported.
    pub baseline: Option<Baseline>,
    /// Texts that replace what is on disk (an editor's unsaved documents), by the path the
    /// walk finds the file under. A path the walk does not find is not added.
    pub overlays: HashMap<PathBuf, Arc<str>>,
    /// Files open in an editor whose text is larger than the engine reads: each is reported
    /// as such instead of being read from the disk.
    pub too_large: HashSet<PathBuf>,
    /// What earlier runs read and parsed, reused for files that have not changed. The
    /// language server keeps one across edits; a single `check` has no use for it.
    pub cache: Option<Arc<Cache>>,
    /// Show paths relative to this folder instead of the working directory (the fixture
    /// runner's snapshots show them relative to the case).
    pub display_root: Option<PathBuf>,
    /// `--verbose`: also list, as notes, the files set apart unread (templates).
    pub verbose: bool,
    /// Only the findings are wanted (the language server): what was checked is not counted,
    /// and the report's coverage is empty.
    pub findings_only: bool,
}

pub struct Report {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    /// How many of the user's files were read (the source map also holds built-in models).
    pub files_read: usize,
    /// What was and was not checked; empty when [`Settings::findings_only`].
    pub coverage: Coverage,
}

/// A lint run with the facts it was made from, for views of the wiring itself (`graph`):
/// the same facts, links and findings that `check` reports, nothing recomputed differently.
pub struct Analysis {
    pub sources: SourceMap,
    pub facts: Facts,
    /// Sorted and deduplicated exactly as in [`Report::diagnostics`].
    pub diagnostics: Vec<Diagnostic>,
    pub files_read: usize,
    pub coverage: Coverage,
    external_roles: ExternalRoles,
    /// What a later run may patch instead of linting anew (the language server's runs).
    basis: Option<Basis>,
}

impl Analysis {
    fn into_report(self) -> Report {
        Report {
            sources: self.sources,
            diagnostics: self.diagnostics,
            files_read: self.files_read,
            coverage: self.coverage,
        }
    }

    /// The linked facts the rules read. Linking is pure, so this equals the rules' context.
    pub fn context(&self) -> LintContext<'_> {
        LintContext::new(&self.facts, &self.sources)
            .with_external_roles(self.external_roles.clone())
    }
}

#[derive(Debug)]
pub enum EngineError {
    MissingPath(PathBuf),
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::MissingPath(p) => write!(f, "path does not exist: {}", p.display()),
        }
    }
}

/// One input file the stages after reading work on.
#[derive(Debug, Clone)]
struct InputFile {
    id: FileId,
    kind: FileKind,
    /// The path it was found under (on disk, or as given in memory).
    path: PathBuf,
}

/// Stack for each worker: evaluation recurses through expressions, references and modules,
/// and deeply nested input must end as a diagnostic, not a stack overflow.
const WORKER_STACK_BYTES: usize = 256 * 1024 * 1024;

pub fn lint(settings: &Settings) -> Result<Report, EngineError> {
    analyze(settings).map(Analysis::into_report)
}

/// What [`lint`] does, keeping the facts the findings were made from.
pub fn analyze(settings: &Settings) -> Result<Analysis, EngineError> {
    on_worker_pool(|| {
        let read = read_inputs(settings)?;
        Ok(run(
            read.files,
            read.roots,
            settings,
            &read.cwd,
            read.timings,
        ))
    })
}

/// What the walk found and reading gave, before any parsing.
struct Inputs {
    files: Vec<(Input, ReadOutcome)>,
    roots: Roots,
    cwd: PathBuf,
    timings: Timings,
}

/// Find the inputs and read them (on the worker pool).
fn read_inputs(settings: &Settings) -> Result<Inputs, EngineError> {
    let mut timings = Timings::start();
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut paths = settings.paths.clone();
    if paths.is_empty() && settings.stdin.is_none() {
        paths.push(PathBuf::from("."));
    }
    let walk = match &settings.cache {
        Some(cache) => cache.discover(&paths),
        None => discover::discover(&paths),
    };
    let walk = walk.map_err(|m| EngineError::MissingPath(m.0))?;
    timings.mark("walk");
    let mut inputs = walk.inputs;
    let mut unreadable = walk.unreadable;
    if let Some(exclude) = &settings.exclude {
        inputs.retain(|input| paths.contains(&input.path) || !exclude.excludes(&input.path, &cwd));
        unreadable.retain(|(path, _)| !exclude.excludes(path, &cwd));
    }
    if let Some(cache) = &settings.cache {
        cache.make_room(inputs.len());
    }
    let mut read: Vec<(Input, ReadOutcome)> = match &settings.cache {
        None => (inputs.into_par_iter())
            .map(|input| {
                let outcome = read_input(&input, settings);
                (input, outcome)
            })
            .collect(),
        // The texts read anew are kept in one pass.
        Some(cache) => {
            let (read, fresh): (Vec<_>, Vec<Option<FreshDisk>>) = (inputs.into_par_iter())
                .map(|input| {
                    let (outcome, fresh) = read_input_unkept(&input, settings);
                    ((input, outcome), fresh)
                })
                .unzip();
            cache.keep_read(fresh.into_iter().flatten());
            read
        }
    };
    // A folder the walk could not list is one IRSA000 on it, like a file it could not read.
    read.extend(unreadable.into_iter().map(|(path, why)| {
        let input = Input {
            path,
            kind: FileKind::Yaml,
            named: false,
        };
        (input, ReadOutcome::Unreadable(why))
    }));
    if let Some(cache) = &settings.cache {
        cache.read_all();
    }
    timings.mark("read");
    Ok(Inputs {
        files: read,
        roots: Roots::Disk(paths),
        cwd,
        timings,
    })
}

/// Lint texts held in memory as if they were files at these paths, with nothing read from
/// disk (`file()` and `templatefile()` find only the texts given). For rule tests and
/// tools that have the files already; paths are shown as given.
pub fn analyze_sources(files: Vec<(PathBuf, String)>, settings: &Settings) -> Analysis {
    on_worker_pool(|| {
        let read = files
            .into_iter()
            .filter_map(|(path, text)| {
                let kind = discover::classify(&path)?;
                Some((
                    Input {
                        path,
                        kind,
                        named: false,
                    },
                    ReadOutcome::Text(text.into()),
                ))
            })
            .collect();
        run(
            read,
            Roots::Memory,
            settings,
            Path::new(""),
            Timings::start(),
        )
    })
}

fn on_worker_pool<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    // One pool for the life of the process: the language server lints on every edit.
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(WORKER_STACK_BYTES)
            .build()
            .ok()
    });
    match pool {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

/// One input made ready on a worker thread: a text, where its nesting goes too deep, and
/// whether its name says it is a template.
enum Prepared {
    Text(SourceFile, Option<usize>, bool),
    Encrypted,
    Unreadable(String),
}

/// Where the inputs come from, which bounds what `file()` may read.
enum Roots {
    /// The paths the walk started from: `file()` reads below them only.
    Disk(Vec<PathBuf>),
    /// Texts given in memory: `file()` reads only them.
    Memory,
}

/// Every stage after reading.
fn run(
    read: Vec<(Input, ReadOutcome)>,
    roots: Roots,
    settings: &Settings,
    cwd: &Path,
    mut timings: Timings,
) -> Analysis {
    let mut sources = SourceMap::default();
    let mut facts = Facts::default();
    let mut files: Vec<InputFile> = Vec::new();
    let mut encrypted_tfvars: HashSet<PathBuf> = HashSet::new();
    let mut stdin_id = None;
    if let Some((name, text)) = &settings.stdin {
        let id = sources.add(name.clone(), text.as_str());
        stdin_id = Some(id);
        let kind = discover::classify(name).unwrap_or(FileKind::Yaml);
        match too_deeply_nested(text) {
            Some(offset) => facts.parse_errors.push(too_deep_error(id, offset)),
            None => files.push(InputFile {
                id,
                kind,
                path: name.clone(),
            }),
        }
    }
    let shown_from = settings.display_root.as_deref().unwrap_or(cwd);
    // Each text's nesting scan on all cores; only numbering them is in order.
    let mut read: Vec<(Input, Prepared, Option<FreshText>)> = read
        .into_par_iter()
        .map(|(input, outcome)| {
            let mut fresh = None;
            let prepared = match outcome {
                ReadOutcome::Text(text) => {
                    let template = matches!(input.kind, FileKind::Terraform | FileKind::TfVars)
                        && is_template_name(&input.path);
                    // A plan's own reader bounds its depth: it is scanned only if it turns out
                    // not to be one (`read_plans`). Its 50 MB would take a core for 0.1 s.
                    let scan = |text: &str| match template {
                        true => None,
                        false if input.kind == FileKind::Json && may_be_plan(text) => None,
                        false => too_deeply_nested(text),
                    };
                    let shown = discover::display_path(&input.path, shown_from);
                    let (file, too_deep) = match settings.cache.as_deref() {
                        Some(cache) => {
                            let (file, too_deep, new) =
                                cache.prepare(&input.path, shown, text, scan);
                            fresh = new;
                            (file, too_deep)
                        }
                        None => {
                            let too_deep = scan(&text);
                            (SourceFile::new(shown, text), too_deep)
                        }
                    };
                    Prepared::Text(file, too_deep, template)
                }
                ReadOutcome::Encrypted => Prepared::Encrypted,
                ReadOutcome::Unreadable(message) => Prepared::Unreadable(message),
            };
            (input, prepared, fresh)
        })
        .collect();
    if let Some(cache) = settings.cache.as_deref() {
        cache.keep_prepared(read.iter_mut().filter_map(|(_, _, fresh)| fresh.take()));
    }
    // Room for every file, the models and the plans `--plan` names: past it, the list of
    // 300,000 files would be copied into one twice its size.
    sources.reserve(read.len() + crate::eval::models::MODELS.len() + settings.plans.len());
    files.reserve_exact(read.len());
    // The language server patches a run later: it needs each input's id.
    let mut ids: Vec<Option<FileId>> = Vec::new();
    if settings.cache.is_some() {
        ids.reserve_exact(read.len());
    }
    for (input, prepared, _) in read {
        if settings.cache.is_some() {
            let id = match prepared {
                Prepared::Encrypted => None,
                _ => Some(FileId(sources.len() as u32)),
            };
            ids.push(id);
        }
        match prepared {
            // `eks.j2.tf`: not Terraform until rendered, whatever it defines is unseen.
            Prepared::Text(file, _, true) => {
                let id = sources.push(file);
                facts.unread_templates.push(ParseError {
                    span: Span::file_start(id),
                    message: "a template by its name: not Terraform until rendered".into(),
                });
                facts.hidden_roles = true;
                facts.hidden_service_accounts = true;
            }
            Prepared::Text(file, too_deep, false) => {
                let id = sources.push(file);
                match too_deep {
                    Some(offset) => facts.parse_errors.push(too_deep_error(id, offset)),
                    None => files.push(InputFile {
                        id,
                        kind: input.kind,
                        path: input.path,
                    }),
                }
            }
            // What an encrypted file says is unknown: its ServiceAccounts are unseen, and a
            // module whose tfvars are encrypted has no known variable values.
            Prepared::Encrypted => {
                facts.hidden_service_accounts = true;
                if input.kind == FileKind::TfVars
                    && let Some(dir) = input.path.parent()
                {
                    encrypted_tfvars.insert(normalize(dir));
                }
            }
            Prepared::Unreadable(message) => {
                let shown = discover::display_path(&input.path, shown_from);
                let id = sources.add(shown, "");
                facts.parse_errors.push(ParseError {
                    span: Span::file_start(id),
                    message,
                });
            }
        }
    }

    timings.mark("sources");
    let plans = read_plans(
        &mut sources,
        &mut files,
        &mut facts,
        settings,
        stdin_id,
        shown_from,
    );
    let files_read = sources.len();
    // The models' texts are registered first, so that the loader's new ids come after them.
    let models = crate::eval::models::load(&mut sources);
    // What is made of files' texts (charts, kustomizations): kept across the language
    // server's runs, by file id and the very text.
    let run_memo;
    let memo = match settings.cache.as_deref() {
        Some(cache) => &cache.memo,
        None => {
            run_memo = TextMemo::default();
            &run_memo
        }
    };
    let loader = Loader::new(&sources, &files, &roots, memo);
    let budget = crate::eval::budget::Budget::default();
    // The YAML files by path: made once, for the kustomize views and Flux alike.
    let yaml_files = manifests::yaml_files(&files);
    let yaml_index = crate::facts::kustomize::Index::new(&yaml_files);
    // Manifests and Terraform are read side by side: each alone leaves cores idle at its end.
    let (manifest_files, (terraform, mut root_parts)) = rayon::join(
        || {
            manifests::read(
                &sources,
                &files,
                &yaml_index,
                settings.cache.as_deref(),
                memo,
            )
        },
        || {
            let units = terragrunt::units(terragrunt::Inputs {
                sources: &sources,
                files: &files,
                loader: &loader,
                cache: settings.cache.as_deref(),
                cwd,
                shown_from,
                budget: &budget,
            });
            let inputs = terraform::Inputs {
                sources: &sources,
                files: &files,
                settings,
                loader: &loader,
                encrypted_tfvars: &encrypted_tfvars,
                units: &units.units,
                cwd,
                budget: &budget,
                plans: &plans,
            };
            let (mut facts, parts) = terraform::facts(inputs, models);
            facts.parse_errors.extend(units.parse_errors);
            (facts, parts)
        },
    );
    timings.mark("parse and evaluate");
    let rendered_by_terraform: HashSet<FileId> =
        terraform.rendered_templates.iter().copied().collect();
    // A later run may patch this one: its manifest files, when their facts are each
    // file's own; a Terraform root, when the roots' places are known.
    let may_patch = settings.cache.is_some() && plans.is_empty();
    let as_files_say = may_patch
        && manifests::as_files_say(&sources, &files, &manifest_files)
        && rendered_by_terraform.is_empty();
    let (manifests, flux_plan) = manifests::facts(
        &sources,
        &files,
        manifest_files,
        &rendered_by_terraform,
        &loader,
    );
    let from_files = (manifests.service_accounts.len(), manifests.workloads.len());
    facts.extend(manifests);
    // The roots' facts come after everything before them.
    if let Some(parts) = &mut root_parts {
        parts.first = facts.part().then(parts.first).without_errors();
    }
    facts.extend(terraform);
    // Flux Kustomizations substitute variables from ConfigMaps Terraform may write; Helm
    // releases they and kustomize deploy read ConfigMaps of either.
    let render = |readings: &dyn crate::facts::kustomize::Readings, kept| {
        crate::facts::flux::render(
            &flux_plan,
            &sources,
            &yaml_index,
            &facts.config_data,
            readings,
            Some(memo),
            kept,
        )
    };
    let flux = match settings.cache.as_deref() {
        Some(cache) => render(&cache.readings(), Some(&cache.builds)),
        None => render(&crate::facts::kustomize::ReadAnew, None),
    };
    facts.extend(flux);
    let kept_releases = settings.cache.as_deref().map(|cache| &cache.releases);
    crate::facts::flux::resolve_releases(
        &mut facts,
        &sources,
        &yaml_index,
        Some(memo),
        kept_releases,
    );
    // What a later run may patch depends on, when it may patch this one at all.
    let terraform_read = (may_patch && (as_files_say || root_parts.is_some()))
        .then(|| loader.reads())
        .flatten();
    // The files `file()` read get the ids the loader gave them.
    let loaded = loader.into_read();
    let outside = match terraform_read {
        Some(_) => loaded.clone(),
        None => Vec::new(),
    };
    sources.reserve(loaded.len());
    for (path, text) in loaded {
        sources.add(discover::display_path(&path, shown_from), text);
    }
    set_templates_apart(&sources, &mut facts);

    timings.mark("manifest facts, flux");
    // Roles come from Terraform and eksctl configs; without either, none can be checked.
    let infrastructure_read = !facts.roles.is_empty()
        || !plans.is_empty()
        || files.iter().any(|f| {
            matches!(
                f.kind,
                FileKind::Terraform | FileKind::TfVars | FileKind::Terragrunt
            )
        });
    // Read to the end: at 100,000 services its paths are 25 MB the rules need not share.
    drop(files);
    let patchable = terraform_read.is_some();
    let mut infrastructure_findings = InfrastructureFindings::default();
    let (diagnostics, coverage, links) = conclude(
        Conclude {
            facts: &facts,
            sources: &sources,
            settings,
            cwd,
            infrastructure_read,
        },
        None,
        patchable.then_some(&mut infrastructure_findings),
        &mut timings,
    );
    let basis = terraform_read.map(|terraform_read| Basis {
        ids,
        from_files,
        terraform_read,
        outside,
        infrastructure_read,
        links,
        infrastructure_findings,
        files_say: as_files_say,
        roots: root_parts,
    });
    Analysis {
        sources,
        facts,
        diagnostics,
        files_read,
        coverage,
        external_roles: settings.external_roles.clone(),
        basis,
    }
}

/// What the rules run over.
struct Conclude<'a> {
    facts: &'a Facts,
    sources: &'a SourceMap,
    settings: &'a Settings,
    cwd: &'a Path,
    infrastructure_read: bool,
}

/// Link the facts (unless `links` are theirs already), run the rules (or take the findings
/// `kept`) and count what was checked. The links are given back, to be kept.
fn conclude(
    run: Conclude,
    links: Option<Links>,
    kept: Option<&mut InfrastructureFindings>,
    timings: &mut Timings,
) -> (Vec<Diagnostic>, Coverage, Links) {
    let Conclude {
        facts,
        sources,
        settings,
        cwd,
        infrastructure_read,
    } = run;
    let links = links.unwrap_or_else(|| Links::new(facts));
    let ctx = LintContext::with_links(facts, sources, links)
        .with_external_roles(settings.external_roles.clone());
    timings.mark("link");
    let mut diagnostics = findings::findings(&ctx, settings, cwd, kept);
    plan::name_plan_lines(&mut diagnostics, facts, sources);
    timings.mark("rules");
    let mut coverage = Coverage::default();
    if !settings.findings_only {
        coverage = Coverage::of_lint(&ctx, &diagnostics, infrastructure_read);
        coverage.templates_not_read = facts
            .unread_templates
            .iter()
            .map(|t| t.span.file)
            .collect::<HashSet<_>>()
            .len();
        timings.mark("coverage");
    }
    (diagnostics, coverage, ctx.into_links())
}

/// The Terraform plans and states: JSON files of the scan (and standard input) that are
/// plans, which are then not read as manifests, and the files `--plan` names.
fn read_plans(
    sources: &mut SourceMap,
    files: &mut Vec<InputFile>,
    facts: &mut Facts,
    settings: &Settings,
    stdin_id: Option<FileId>,
    shown_from: &Path,
) -> Vec<plan::PlanInput> {
    let mut plans = Vec::new();
    let candidates: Vec<(usize, bool)> = files
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let required = settings.stdin_plan && Some(f.id) == stdin_id;
            let may_be_plan = f.kind == FileKind::Json && may_be_plan(&sources.get(f.id).text);
            (required || may_be_plan).then_some((i, required))
        })
        .collect();
    let read: Vec<(usize, Result<Option<crate::parse::plan::Plan>, ParseError>)> = candidates
        .into_par_iter()
        .map(|(i, required)| {
            let file = &files[i];
            (
                i,
                plan::parse(file.id, &sources.get(file.id).text, required),
            )
        })
        .collect();
    let mut claimed = HashSet::new();
    let mut too_deep = HashSet::new();
    for (i, outcome) in read {
        match outcome {
            Ok(Some(found)) => plans.push(plan::PlanInput {
                plan: found,
                path: files[i].path.clone(),
            }),
            // Read as any other JSON file, once its nesting is known to be bounded.
            Ok(None) => {
                let id = files[i].id;
                if let Some(offset) = too_deeply_nested(&sources.get(id).text) {
                    facts.parse_errors.push(too_deep_error(id, offset));
                    too_deep.insert(i);
                }
                continue;
            }
            Err(e) => facts.parse_errors.push(e),
        }
        claimed.insert(i);
    }
    let in_tree: HashSet<PathBuf> = claimed
        .iter()
        .filter_map(|i| std::fs::canonicalize(&files[*i].path).ok())
        .collect();
    let mut index = 0;
    files.retain(|_| {
        index += 1;
        !claimed.contains(&(index - 1)) && !too_deep.contains(&(index - 1))
    });
    for path in &settings.plans {
        if std::fs::canonicalize(path).is_ok_and(|p| in_tree.contains(&p)) {
            continue;
        }
        let shown = discover::display_path(path, shown_from);
        let text = match plan::read_plan_text(path) {
            Ok(text) => text,
            Err(message) => {
                let id = sources.add(shown, "");
                facts.parse_errors.push(ParseError {
                    span: Span::file_start(id),
                    message,
                });
                continue;
            }
        };
        // Not scanned for nesting: a plan's reader bounds its depth itself.
        let id = sources.add(shown, text);
        match plan::parse(id, &sources.get(id).text, true) {
            Ok(Some(found)) => plans.push(plan::PlanInput {
                plan: found,
                path: path.clone(),
            }),
            Ok(None) => {}
            Err(e) => facts.parse_errors.push(e),
        }
    }
    plans
}

/// Grammar errors in templates (Jinja, Helm, sed tokens: `crate::text::placeholders::
/// is_template_file`) are the template language's, not the user's mistakes, and a YAML
/// fragment that uses anchors defined in another file is read only joined to it: the file is
/// set apart as not read, and what it would define is unseen.
fn set_templates_apart(sources: &SourceMap, facts: &mut Facts) {
    let (templates, errors): (Vec<ParseError>, Vec<ParseError>) =
        std::mem::take(&mut facts.parse_errors)
            .into_iter()
            .partition(|e| is_set_apart(sources, e));
    facts.parse_errors = errors;
    for template in templates {
        let source = sources.get(template.span.file);
        if matches!(discover::classify(&source.path), Some(FileKind::Terraform)) {
            facts.hidden_roles = true;
        }
        facts.hidden_service_accounts = true;
        facts.unread_templates.push(template);
    }
}

/// Whether [`set_templates_apart`] sets the file of this error apart.
fn is_set_apart(sources: &SourceMap, error: &ParseError) -> bool {
    let source = sources.get(error.span.file);
    error.is_grammar()
        && (is_template_file(&source.path, &source.text)
            || error.message.ends_with("found unknown anchor"))
}

/// The deployment unit of a file: its folder as shown to the user.
pub(crate) fn unit_of(sources: &SourceMap, id: FileId) -> String {
    let path = &sources.get(id).path;
    path.parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use foldhash::HashMapExt;

    use super::*;

    const ROLE_TF: &str = r#"resource "aws_iam_openid_connect_provider" "eks" {
  url = "https://oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A"
}
resource "aws_iam_role" "api" {
  name = "ledger-api"
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = aws_iam_openid_connect_provider.eks.arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = { StringEquals = {
        "oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A:sub" = "system:serviceaccount:pay:api"
        "oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A:aud" = "sts.amazonaws.com"
      } }
    }]
  })
}
"#;

    fn service_account(role: &str) -> String {
        format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n  namespace: pay\n  \
             annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::482910375521:role/{role}\n"
        )
    }

    fn findings(diagnostics: &[Diagnostic]) -> Vec<(&'static str, String, u32)> {
        diagnostics
            .iter()
            .map(|d| (d.rule_id, d.message.clone(), d.primary.span.start))
            .collect()
    }

    /// What a user sees of each finding: rule, message, and where its labels are (path,
    /// line, column), so that a stale line index in the cache shows too.
    fn seen(report: &Report) -> Vec<(&'static str, String, Vec<String>)> {
        let at = |span: Span| {
            let file = report.sources.get(span.file);
            let lc = file.line_col(span.start);
            format!("{}:{}:{}", file.path.display(), lc.line, lc.column)
        };
        (report.diagnostics.iter())
            .map(|d| {
                let places = std::iter::once(at(d.primary.span))
                    .chain(d.related.iter().map(|r| at(r.span)))
                    .collect();
                (d.rule_id, d.message.clone(), places)
            })
            .collect()
    }

    /// What a run over `dir` shows, with these editor texts and this cache.
    fn seen_in(
        dir: &Path,
        overlays: &HashMap<PathBuf, Arc<str>>,
        cache: Option<Arc<Cache>>,
    ) -> Vec<(&'static str, String, Vec<String>)> {
        let settings = Settings {
            paths: vec![dir.to_path_buf()],
            overlays: overlays.clone(),
            cache,
            ..Settings::default()
        };
        seen(&lint(&settings).unwrap())
    }

    #[test]
    fn flags_of_module_calls_evaluated_alone_find_what_whole_roots_find() {
        // Every fixture at once, its roots' flags left off evaluated both ways. (Other tests
        // running meanwhile evaluate whole roots too: the same facts, by design.)
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let by_calls = seen_in(&fixtures, &HashMap::new(), None);
        terraform::WHOLE_ROOT_WHAT_IF.store(true, std::sync::atomic::Ordering::SeqCst);
        let whole = seen_in(&fixtures, &HashMap::new(), None);
        terraform::WHOLE_ROOT_WHAT_IF.store(false, std::sync::atomic::Ordering::SeqCst);
        assert!(by_calls.len() > 150, "{} findings", by_calls.len());
        assert_eq!(by_calls, whole);
    }

    #[test]
    fn overlays_win_over_the_disk_and_the_cache_never_changes_a_finding() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = dir.path().join("sa.yaml");
        std::fs::write(dir.path().join("main.tf"), ROLE_TF).unwrap();
        std::fs::write(&yaml, service_account("ledger-apii")).unwrap();
        let cache = Arc::new(Cache::default());
        let run = |overlays: HashMap<PathBuf, Arc<str>>, cache: Option<Arc<Cache>>| {
            let paths = vec![dir.path().to_path_buf()];
            let settings = Settings {
                paths,
                overlays,
                cache,
                ..Settings::default()
            };
            findings(&lint(&settings).unwrap().diagnostics)
        };
        let uncached = run(HashMap::new(), None);
        assert_eq!(uncached.len(), 1, "{uncached:?}");
        assert_eq!(uncached[0].0, "IRSA001");
        assert_eq!(run(HashMap::new(), Some(cache.clone())), uncached);
        assert_eq!(
            run(HashMap::new(), Some(cache.clone())),
            uncached,
            "from the cache"
        );

        let fixed: Arc<str> = service_account("ledger-api").into();
        let overlay = HashMap::from_iter([(yaml.clone(), fixed.clone())]);
        assert_eq!(run(overlay, Some(cache.clone())), []);
        assert_eq!(
            run(HashMap::new(), Some(cache.clone())),
            uncached,
            "the disk again"
        );

        // A file changed on disk is read again (its length differs, whatever the clock).
        std::fs::write(&yaml, &*fixed).unwrap();
        assert_eq!(run(HashMap::new(), Some(cache.clone())), []);
        let renamed = ROLE_TF.replace("\"ledger-api\"", "\"ledger-apiii\"");
        std::fs::write(dir.path().join("main.tf"), renamed).unwrap();
        let after = run(HashMap::new(), Some(cache));
        assert_eq!(after, run(HashMap::new(), None));
        assert_eq!(after.len(), 1, "{after:?}");
    }

    const FLUX_SERVICE_ACCOUNT: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  \
        name: worker\n  namespace: pay\n  annotations:\n    \
        eks.amazonaws.com/role-arn: arn:aws:iam::482910375521:role/${role_name}\n";

    const FLUX_KUSTOMIZATION: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1\n\
        kind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\nspec:\n  \
        sourceRef: {kind: GitRepository, name: flux-system}\n  path: ./k8s/apps\n  \
        postBuild:\n    substituteFrom:\n      - {kind: ConfigMap, name: vars}\n";

    fn flux_vars(role: &str) -> String {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: vars, namespace: flux-system}}\n\
             data:\n  role_name: {role}\n"
        )
    }

    /// A trust whose subject names `namespace:name`, with this role name.
    fn role_tf(role: &str, subject: &str) -> String {
        ROLE_TF
            .replace("\"ledger-api\"", &format!("\"{role}\""))
            .replace("pay:api", subject)
    }

    /// A tree written to a temporary folder, with the cache the language server keeps for it.
    struct CachedTree {
        dir: tempfile::TempDir,
        cache: Arc<Cache>,
    }

    impl CachedTree {
        fn new(files: &[(&str, String)]) -> CachedTree {
            let dir = tempfile::tempdir().unwrap();
            write_tree(dir.path(), files.iter().map(|(p, t)| (*p, t.as_str())));
            CachedTree {
                dir,
                cache: Arc::new(Cache::default()),
            }
        }

        fn path(&self) -> &Path {
            self.dir.path()
        }

        /// Whether a cached run shows a finding that says `what`, having checked that the
        /// cached run shows what a cold run shows.
        fn shows(&self, overlays: &HashMap<PathBuf, Arc<str>>, what: &str) -> bool {
            let cached = seen_in(self.path(), overlays, Some(self.cache.clone()));
            assert_eq!(
                cached,
                seen_in(self.path(), overlays, None),
                "before looking for {what}"
            );
            cached.iter().any(|f| f.1.contains(what))
        }
    }

    /// Write each file below `dir`, with its folders; a file whose text is [`ABSENT`] is not
    /// written.
    fn write_tree<'a>(dir: &Path, files: impl IntoIterator<Item = (&'a str, &'a str)>) {
        for (path, text) in files {
            if text == ABSENT {
                continue;
            }
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    /// The text of a file an edit deletes (see `edit`).
    const ABSENT: &str = "<absent>";

    const WEB_RELEASE: &str = r#"resource "helm_release" "web" {
  name      = "web"
  chart     = "../../charts/web"
  namespace = "audit"
  values    = [templatefile("${path.module}/values.yaml.tftpl", { role = "web-api" })]
}
"#;

    const WEB_CHART: &str = "apiVersion: v2\nname: web\nversion: 0.3.0\n";

    const WEB_SERVICE_ACCOUNT: &str = "{{- if .Values.serviceAccount.create }}\n\
        apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  \
        name: {{ .Values.serviceAccount.name }}\n  \
        annotations:\n    {{- toYaml .Values.serviceAccount.annotations | nindent 4 }}\n\
        {{- end }}\n";

    /// Helm values naming the ServiceAccount and its role.
    fn web_values(name: &str, role: &str) -> String {
        format!(
            "serviceAccount:\n  name: {name}\n  annotations:\n    \
             eks.amazonaws.com/role-arn: arn:aws:iam::482910375521:role/{role}\n"
        )
    }

    /// What the cache keeps made of a text (a chart's values, a kustomization's document) is
    /// made anew once the text changes.
    #[test]
    fn a_chart_or_kustomization_edited_between_runs_is_read_anew() {
        // A role of the scan, so that the roles named above are known to be missing.
        let files = [
            ("roots/ledger/main.tf", role_tf("ledger-api", "pay:api")),
            ("roots/web/main.tf", WEB_RELEASE.to_string()),
            ("roots/web/values.yaml.tftpl", web_values("api", "${role}")),
            ("charts/web/Chart.yaml", WEB_CHART.to_string()),
            (
                "charts/web/values.yaml",
                "serviceAccount:\n  create: true\n".to_string(),
            ),
            (
                "charts/web/templates/serviceaccount.yaml",
                WEB_SERVICE_ACCOUNT.to_string(),
            ),
            (
                "k8s/kustomization.yaml",
                "resources: [worker.yaml]\nnamespace: jobs\n".to_string(),
            ),
            (
                "k8s/worker.yaml",
                "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: worker\n  \
                 annotations:\n    \
                 eks.amazonaws.com/role-arn: arn:aws:iam::482910375521:role/jobs-worker\n"
                    .to_string(),
            ),
        ];
        let tree = CachedTree::new(&files);
        let mut overlays: HashMap<PathBuf, Arc<str>> = HashMap::new();
        assert!(tree.shows(&overlays, "service account audit/api uses role web-api"));
        assert!(tree.shows(
            &overlays,
            "service account jobs/worker uses role jobs-worker"
        ));
        let values = tree.path().join("charts/web/values.yaml");
        overlays.insert(
            values.clone(),
            Arc::from("serviceAccount:\n  create: false\n"),
        );
        assert!(!tree.shows(&overlays, "uses role web-api"));
        let kustomization = tree.path().join("k8s/kustomization.yaml");
        let moved = "resources: [worker.yaml]\nnamespace: batch\n";
        overlays.insert(kustomization, Arc::from(moved));
        assert!(tree.shows(
            &overlays,
            "service account batch/worker uses role jobs-worker"
        ));
        overlays.clear();
        assert!(tree.shows(&overlays, "service account audit/api uses role web-api"));
        assert!(tree.shows(
            &overlays,
            "service account jobs/worker uses role jobs-worker"
        ));
    }

    /// A Flux build the cache keeps is built again once anything it read changes: the
    /// variables' ConfigMap, a file it deploys, a file created in its folder, a kustomization
    /// created below it (which takes its folder's files in) and deleted again.
    #[test]
    fn a_kept_flux_build_is_built_again_when_what_it_read_changes() {
        let account = |name: &str, namespace: &str| {
            FLUX_SERVICE_ACCOUNT
                .replace("name: worker", &format!("name: {name}"))
                .replace("namespace: pay", &format!("namespace: {namespace}"))
        };
        let files = [
            ("roots/ledger/main.tf", role_tf("ledger-api", "pay:api")),
            ("clusters/prod/apps.yaml", FLUX_KUSTOMIZATION.to_string()),
            ("clusters/prod/vars.yaml", flux_vars("jobs-worker")),
            ("k8s/apps/worker.yaml", account("worker", "pay")),
            ("k8s/apps/batch/job.yaml", account("job", "pay")),
        ];
        let tree = CachedTree::new(&files);
        let mut overlays: HashMap<PathBuf, Arc<str>> = HashMap::new();
        assert!(tree.shows(
            &overlays,
            "service account pay/worker uses role jobs-worker"
        ));
        assert!(tree.shows(&overlays, "service account pay/job uses role jobs-worker"));
        let vars = tree.path().join("clusters/prod/vars.yaml");
        overlays.insert(vars, Arc::from(flux_vars("jobs-worker-v2")));
        assert!(tree.shows(
            &overlays,
            "service account pay/worker uses role jobs-worker-v2"
        ));
        let worker = tree.path().join("k8s/apps/worker.yaml");
        overlays.insert(worker, Arc::from(account("worker", "batch")));
        assert!(tree.shows(
            &overlays,
            "service account batch/worker uses role jobs-worker-v2"
        ));
        // Last in the folder: no file the build read before moves to another id.
        let zookeeper = account("zookeeper", "pay");
        write_tree(
            tree.path(),
            [("k8s/apps/zookeeper.yaml", zookeeper.as_str())],
        );
        assert!(tree.shows(
            &overlays,
            "service account pay/zookeeper uses role jobs-worker-v2"
        ));
        let batch = tree.path().join("k8s/apps/batch/kustomization.yaml");
        std::fs::write(&batch, "resources: [job.yaml]\nnamespace: nightly\n").unwrap();
        assert!(tree.shows(
            &overlays,
            "service account nightly/job uses role jobs-worker-v2"
        ));
        std::fs::remove_file(&batch).unwrap();
        assert!(tree.shows(
            &overlays,
            "service account pay/job uses role jobs-worker-v2"
        ));
    }

    /// A Flux HelmRelease of a chart folder: its chart's values and templates, and the
    /// ConfigMap it takes values from.
    const FLUX_WEB_RELEASE: &str = "apiVersion: helm.toolkit.fluxcd.io/v2\n\
        kind: HelmRelease\nmetadata: {name: web, namespace: shop}\nspec:\n  chart:\n    \
        spec:\n      chart: ./charts/web\n      \
        sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}\n  \
        valuesFrom:\n    - {kind: ConfigMap, name: web-values}\n";

    fn flux_web_values(name: &str, role: &str) -> String {
        let values = web_values(name, role).replace('\n', "\n    ");
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: web-values, namespace: shop}}\n\
             data:\n  values.yaml: |\n    {values}\n"
        )
    }

    const WEB_ACCOUNT_TEMPLATE: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  \
        name: {{ .Values.serviceAccount.name }}\n  \
        annotations:\n    {{- toYaml .Values.serviceAccount.annotations | nindent 4 }}\n";

    /// An edit to the files of a Terraform root that makes only what the links and rules read
    /// is patched into the kept run (that root evaluated again alone, everything linked
    /// again), in a tree whose manifests kustomize renders and with a Flux HelmRelease,
    /// syntax errors included; a root that reads another file is linted anew. Each run shows
    /// what a cold run shows.
    #[test]
    fn an_edit_to_a_terraform_root_is_patched_as_a_cold_run_finds() {
        let audit_role = |namespace: &str| {
            ROLE_TF.replace("ledger-api", "audit-api").replace(
                "serviceaccount:pay:api",
                &format!("serviceaccount:{namespace}:api"),
            )
        };
        // The root also makes a ServiceAccount, which its role's trust does not admit.
        let auditor = "resource \"kubernetes_service_account_v1\" \"auditor\" {\n  metadata {\n    \
                       name      = \"auditor\"\n    namespace = \"audit\"\n    annotations = {\n      \
                       \"eks.amazonaws.com/role-arn\" = aws_iam_role.api.arn\n    }\n  }\n}\n";
        let with_auditor = |namespace: &str| format!("{}{auditor}", audit_role(namespace));
        let reads_text = "resource \"aws_iam_role\" \"reads\" {\n  name = \"reads\"\n  \
                          assume_role_policy = file(\"${path.module}/trust.json\")\n}\n";
        let tree = CachedTree::new(&[
            (
                "k8s/pay/kustomization.yaml",
                "namespace: pay\nresources:\n  - sa.yaml\n".to_string(),
            ),
            ("k8s/pay/sa.yaml", service_account("ledger-api")),
            (
                "k8s/audit/sa.yaml",
                service_account("audit-api").replace("namespace: pay", "namespace: audit"),
            ),
            ("infra/pay/main.tf", ROLE_TF.to_string()),
            ("infra/audit/main.tf", with_auditor("audit")),
            ("infra/reads/main.tf", reads_text.to_string()),
            // Resolved after the roots' facts are placed: its object leaves its list.
            (
                "k8s/cache/redis.yaml",
                "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n\
                 metadata: {name: redis, namespace: cache}\nspec:\n  chart:\n    spec:\n      \
                 chart: redis\n      sourceRef: {kind: HelmRepository, name: bitnami}\n"
                    .to_string(),
            ),
        ]);
        let settings = |overlays: &HashMap<PathBuf, Arc<str>>| Settings {
            paths: vec![tree.path().to_path_buf()],
            overlays: overlays.clone(),
            cache: Some(tree.cache.clone()),
            ..Settings::default()
        };
        let mut session = Session::default();
        let mut overlays = HashMap::new();
        session.lint(&settings(&overlays)).unwrap();
        let pay = tree.path().join("infra/pay/main.tf");
        let audit = tree.path().join("infra/audit/main.tf");
        let reads = tree.path().join("infra/reads/main.tf");
        let a_second_role = format!(
            "{ROLE_TF}resource \"aws_iam_role\" \"worker\" {{\n  name = \"ledger-worker\"\n  \
             assume_role_policy = aws_iam_role.api.assume_role_policy\n}}\n"
        );
        // Each edit, and whether it is a patch.
        let edits = [
            (&pay, ROLE_TF.replace("pay:api", "pay:apii"), true),
            (&audit, with_auditor("audit-moved"), true),
            (&pay, a_second_role, true),
            (&pay, ROLE_TF.replace("ledger-api", "ledger-apii"), true),
            // A pause while typing leaves a syntax error, and its fix.
            (&pay, format!("{ROLE_TF}}}"), true),
            (&pay, ROLE_TF.to_string(), true),
            // The ServiceAccount it made is gone, then back.
            (&audit, audit_role("audit"), true),
            (&audit, with_auditor("audit"), true),
            // Reads its trust from a file: what it reads may change without its own files.
            (
                &reads,
                reads_text.replace("\"reads\"\n", "\"reads-v2\"\n"),
                false,
            ),
            (&reads, "# no role here any more\n".to_string(), true),
        ];
        let mut shown = std::collections::BTreeSet::new();
        for (step, (path, text, patch)) in edits.into_iter().enumerate() {
            overlays.insert(path.clone(), Arc::from(text.as_str()));
            let patched = session.patched();
            session.lint(&settings(&overlays)).unwrap();
            let found = seen(session.report().unwrap());
            assert_eq!(
                found,
                seen_in(tree.path(), &overlays, None),
                "after edit {step}"
            );
            assert_eq!(
                session.patched() - patched,
                usize::from(patch),
                "edit {step}"
            );
            shown.extend(found.into_iter().map(|f| f.1));
        }
        // The edits were seen: a trust that admits another ServiceAccount, a role renamed.
        assert!(shown.iter().any(|m| m.contains("pay:apii")), "{shown:?}");
        assert!(shown.iter().any(|m| m.contains("audit-moved")), "{shown:?}");
        assert!(
            shown.iter().any(|m| m.contains("do not define")),
            "{shown:?}"
        );
        assert!(
            shown.iter().any(|m| m.contains("audit/auditor")),
            "{shown:?}"
        );
    }

    /// A HelmRelease resolution the cache keeps is made again once anything it read changes:
    /// the ConfigMap it takes values from, its chart's template, a template created in the
    /// chart's folder and deleted again, the chart's `Chart.yaml` (deleted: the chart is
    /// unknown). The chart has no `values.yaml`, so that no file the resolution read comes
    /// after the new template and changes its id: only the folder's listing shows it.
    #[test]
    fn a_kept_helm_release_is_resolved_again_when_what_it_read_changes() {
        let template = "charts/web/templates/serviceaccount.yaml";
        let files = [
            ("roots/ledger/main.tf", role_tf("ledger-api", "pay:api")),
            ("apps/web/release.yaml", FLUX_WEB_RELEASE.to_string()),
            ("apps/web/values.yaml", flux_web_values("web", "web-api")),
            ("charts/web/Chart.yaml", WEB_CHART.to_string()),
            (template, WEB_ACCOUNT_TEMPLATE.to_string()),
        ];
        let tree = CachedTree::new(&files);
        let mut overlays: HashMap<PathBuf, Arc<str>> = HashMap::new();
        let uses =
            |account: &str, role: &str| format!("service account shop/{account} uses role {role}");
        assert!(tree.shows(&overlays, &uses("web", "web-api")));
        assert!(tree.shows(&overlays, &uses("web", "web-api")), "kept");
        let from = tree.path().join("apps/web/values.yaml");
        overlays.insert(from, Arc::from(flux_web_values("storefront", "web-api-v2")));
        assert!(tree.shows(&overlays, &uses("storefront", "web-api-v2")));
        let suffixed = WEB_ACCOUNT_TEMPLATE.replace(".name }}", ".name }}-sa");
        overlays.insert(tree.path().join(template), Arc::from(suffixed));
        assert!(tree.shows(&overlays, &uses("storefront-sa", "web-api-v2")));
        // A second ServiceAccount template: which one the release uses is unknown.
        let second = "charts/web/templates/worker-account.yaml";
        write_tree(tree.path(), [(second, WEB_ACCOUNT_TEMPLATE)]);
        assert!(!tree.shows(&overlays, "uses role web-api-v2"));
        std::fs::remove_file(tree.path().join(second)).unwrap();
        assert!(tree.shows(&overlays, &uses("storefront-sa", "web-api-v2")));
        std::fs::remove_file(tree.path().join("charts/web/Chart.yaml")).unwrap();
        assert!(!tree.shows(&overlays, "uses role web-api-v2"));
    }

    /// After any sequence of edits, the language server's cached runs find what a cold run
    /// finds: standalone roots, roots that call a local module, a module's own file, a root
    /// that reads a policy by `file()`, manifests, a kustomize view, a Flux substitution from
    /// a ConfigMap (and the folder it deploys, edited and grown), syntax errors and new files,
    /// and a root that installs a chart of the repository with values it renders from a
    /// template (its files and its listing deleted and changed).
    #[test]
    fn any_sequence_of_edits_lints_like_a_cold_run() {
        let dir = tempfile::tempdir().unwrap();
        let module = r#"variable "name" {}
variable "subject" {}
resource "aws_iam_role" "this" {
  name = var.name
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = "arn:aws:iam::482910375521:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A" }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = { StringEquals = {
        "oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A:sub" = var.subject
        "oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A:aud" = "sts.amazonaws.com"
      } }
    }]
  })
}
"#;
        let caller = |name: &str, subject: &str| {
            format!(
                "module \"billing\" {{\n  source  = \"../../modules/irsa\"\n  name    = \"{name}\"\n  \
                 subject = \"system:serviceaccount:{subject}\"\n}}\n"
            )
        };
        // A standalone root whose trust is a JSON file it reads.
        let reads_trust = |file: &str| {
            format!(
                "resource \"aws_iam_role\" \"api\" {{\n  name = \"audit-api\"\n  \
                 assume_role_policy = file(\"{file}\")\n}}\n"
            )
        };
        let trust = |subject: &str| {
            format!(
                r#"{{"Statement": [{{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
  "Principal": {{"Federated": "arn:aws:iam::482910375521:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A"}},
  "Condition": {{"StringEquals": {{"oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A:sub": "system:serviceaccount:{subject}",
    "oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A:aud": "sts.amazonaws.com"}}}}}}]}}"#
            )
        };
        let service_accounts = |pay: &str, billing: &str, audit: &str| {
            [
                ("pay", "api", pay),
                ("billing", "api", billing),
                ("audit", "api", audit),
            ]
            .iter()
            .map(|(ns, name, role)| {
                format!(
                    "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  \
                         namespace: {ns}\n  annotations:\n    \
                         eks.amazonaws.com/role-arn: arn:aws:iam::482910375521:role/{role}\n"
                )
            })
            .collect::<Vec<_>>()
            .join("---\n")
        };
        // Each file and the texts an edit may give it.
        let variants: Vec<(&str, Vec<String>)> = vec![
            (
                "roots/ledger/main.tf",
                vec![
                    role_tf("ledger-api", "pay:api"),
                    role_tf("ledger-apii", "pay:api"),
                    role_tf("ledger-api", "pay:ap"),
                    "resource \"aws_iam_role\" \"api\" {\n  name = \n".to_string(),
                ],
            ),
            (
                "roots/billing/main.tf",
                vec![
                    caller("billing-api", "billing:api"),
                    caller("billing-apii", "billing:api"),
                    caller("billing-api", "billng:api"),
                ],
            ),
            (
                "modules/irsa/main.tf",
                vec![
                    module.to_string(),
                    module.replace("name = var.name", "name = \"${var.name}-x\""),
                ],
            ),
            (
                "roots/audit/main.tf",
                vec![reads_trust("trust.json"), reads_trust("other.json")],
            ),
            (
                "roots/audit/trust.json",
                vec![
                    trust("audit:api"),
                    trust("audit:apii"),
                    "{ not json".to_string(),
                ],
            ),
            (
                "k8s/service-accounts.yaml",
                vec![
                    service_accounts("ledger-api", "billing-api", "audit-api"),
                    service_accounts("ledger-api", "billing-api-x", "audit-apii"),
                    service_accounts("ledger-apii", "billing-api", "audit-api"),
                ],
            ),
            (
                "k8s/extra.yaml",
                vec![String::new(), service_accounts("a", "b", "c")],
            ),
            // Flux names the role from a ConfigMap: a cached reading keeps ConfigMaps apart
            // and copies them into a run only once a Flux object is in the scan.
            (
                "k8s/apps/worker.yaml",
                vec![
                    FLUX_SERVICE_ACCOUNT.to_string(),
                    FLUX_SERVICE_ACCOUNT.replace("namespace: pay", "namespace: batch"),
                ],
            ),
            // A kustomize view, its kustomization edited, deleted and created again.
            (
                "k8s/overlay/kustomization.yaml",
                vec![
                    "resources: [api.yaml]\nnamespace: pay\n".to_string(),
                    "resources: [api.yaml]\nnamespace: payments\n".to_string(),
                    ABSENT.to_string(),
                ],
            ),
            (
                "k8s/overlay/api.yaml",
                vec![
                    service_account("ledger-api"),
                    service_account("ledger-apii"),
                ],
            ),
            // A file Flux's build of the folder takes in once it is created.
            (
                "k8s/apps/zookeeper.yaml",
                vec![
                    ABSENT.to_string(),
                    FLUX_SERVICE_ACCOUNT.replace("name: worker", "name: zookeeper"),
                ],
            ),
            (
                "clusters/prod/apps.yaml",
                vec![FLUX_KUSTOMIZATION.to_string(), String::new()],
            ),
            (
                "clusters/prod/vars.yaml",
                vec![flux_vars("ledger-api"), flux_vars("ledger-apii")],
            ),
            // A root that installs a chart of the repository with values it renders: what
            // it reads decides its facts (the chart's templates, as listed, too).
            ("roots/web/main.tf", vec![WEB_RELEASE.to_string()]),
            (
                "roots/web/values.yaml.tftpl",
                vec![
                    web_values("api", "${role}"),
                    web_values("apii", "${role}"),
                    web_values("api", "web-apii"),
                ],
            ),
            ("charts/web/Chart.yaml", vec![WEB_CHART.to_string()]),
            (
                "charts/web/values.yaml",
                vec![
                    "serviceAccount:\n  create: true\n".to_string(),
                    "serviceAccount:\n  create: false\n".to_string(),
                ],
            ),
            (
                "charts/web/templates/serviceaccount.yaml",
                vec![WEB_SERVICE_ACCOUNT.to_string(), ABSENT.to_string()],
            ),
            // A template the chart's folder lists only once it is created.
            (
                "charts/web/templates/worker.yaml",
                vec![
                    ABSENT.to_string(),
                    "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web-worker\n  \
                     annotations:\n    \
                     eks.amazonaws.com/role-arn: arn:aws:iam::482910375521:role/web-worker\n"
                        .to_string(),
                ],
            ),
        ];
        write_tree(
            dir.path(),
            variants.iter().map(|(p, t)| (*p, t[0].as_str())),
        );
        let cache = Arc::new(Cache::default());
        // As in an editor that reports every change on disk to the server.
        let watching = Arc::new(Cache::default());
        watching.watch();
        let run = |overlays: &HashMap<PathBuf, Arc<str>>, cache: Option<Arc<Cache>>| {
            seen_in(dir.path(), overlays, cache)
        };
        let mut overlays: HashMap<PathBuf, Arc<str>> = HashMap::new();
        let mut next = random_below(0x9e37_79b9_7f4a_7c15);
        // As the language server lints: patching its last run where it can.
        let session_cache = Arc::new(Cache::default());
        session_cache.watch();
        let mut session = Session::default();
        let mut kinds = std::collections::BTreeSet::new();
        let mut charted = [false; 2];
        for step in 0..300 {
            let (path, texts) = &variants[next(variants.len())];
            let text = &texts[next(texts.len())];
            let path = dir.path().join(path);
            edit(
                next(4),
                path,
                text,
                &mut overlays,
                &[&watching, &session_cache],
            );
            let cached = run(&overlays, Some(cache.clone()));
            let watched = run(&overlays, Some(watching.clone()));
            let cold = run(&overlays, None);
            assert_eq!(cached, cold, "after edit {step}");
            assert_eq!(watched, cold, "after edit {step}, watching");
            let settings = Settings {
                paths: vec![dir.path().to_path_buf()],
                overlays: overlays.clone(),
                cache: Some(session_cache.clone()),
                ..Settings::default()
            };
            session.lint(&settings).unwrap();
            let patched = seen(session.report().unwrap());
            assert_eq!(patched, cold, "after edit {step}, in a session");
            kinds.extend(cold.iter().map(|f| f.0));
            for (i, role) in ["uses role web-api", "uses role web-worker"]
                .iter()
                .enumerate()
            {
                charted[i] |= cold.iter().any(|f| f.1.contains(role));
            }
        }
        // The edits did change what is found, the chart's ServiceAccount too.
        assert!(kinds.len() >= 3, "{kinds:?}");
        assert_eq!(charted, [true; 2]);
    }

    /// Give a file this text as an editor would, by `how` (0 to 3): most edits are typed,
    /// some saved to disk (and reported to the caches that watch), some close the file.
    /// [`ABSENT`] deletes it.
    fn edit(
        how: usize,
        path: PathBuf,
        text: &str,
        overlays: &mut HashMap<PathBuf, Arc<str>>,
        watching: &[&Cache],
    ) {
        let existed = path.exists();
        match how {
            // A file deleted is deleted on disk, whatever the editor has open.
            _ if text == ABSENT => {
                if existed {
                    std::fs::remove_file(&path).unwrap();
                    for cache in watching {
                        cache.disk_changed(&path, DiskChange::Deleted);
                    }
                }
                overlays.remove(&path);
            }
            0 => {
                std::fs::write(&path, text).unwrap();
                let change = [DiskChange::Created, DiskChange::Changed][usize::from(existed)];
                for cache in watching {
                    cache.disk_changed(&path, change);
                }
                overlays.remove(&path);
            }
            1 => {
                overlays.remove(&path);
            }
            _ => {
                overlays.insert(path, Arc::from(text));
            }
        }
    }

    /// A reproducible random number below `n` on each call (xorshift).
    fn random_below(mut seed: u64) -> impl FnMut(usize) -> usize {
        move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        }
    }

    /// A session patches edits of plain manifest files into its last run, and lints anew
    /// for anything else; after any sequence of edits it finds what a cold run finds. The
    /// texts include what a patch must not take (a template's syntax error, text nested too
    /// deep, an eksctl config, a Flux object, Terraform), and what it must: a syntax error, a
    /// workload, and a ServiceAccount defined twice (the first definition is the one linked).
    #[test]
    fn a_session_patches_plain_manifest_edits_and_lints_like_a_cold_run() {
        let dir = tempfile::tempdir().unwrap();
        let sa = |name: &str, ns: &str, role: &str| {
            format!(
                "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  \
                 namespace: {ns}\n  annotations:\n    \
                 eks.amazonaws.com/role-arn: arn:aws:iam::482910375521:role/{role}\n"
            )
        };
        let trust = |subject: &str| {
            format!(
                r#"{{"Statement": [{{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
  "Principal": {{"Federated": "arn:aws:iam::482910375521:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A"}},
  "Condition": {{"StringEquals": {{"oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A:sub": "system:serviceaccount:{subject}"}}}}}}]}}"#
            )
        };
        let deployment = |ns: &str, account: &str| {
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: {ns}}}\n\
                 spec:\n  template:\n    spec:\n      serviceAccountName: {account}\n      \
                 containers:\n        - {{name: api, image: \"ledger:1.4\"}}\n"
            )
        };
        let variants: Vec<(&str, Vec<String>)> = vec![
            (
                "k8s/pay/api.yaml",
                vec![
                    sa("api", "pay", "ledger-api"),
                    sa("api", "pay", "ledger-apii"),
                    sa("api", "pay-moved", "ledger-api"),
                    format!("{}---\n{}", sa("api", "pay", "ledger-api"), deployment("pay", "api")),
                    format!("{}---\n{}", sa("api", "pay", "ledger-api"), deployment("pay", "apii")),
                    "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: api\n".to_string(),
                    String::new(),
                    format!("# {{{{ .Values.role }}}}\n{}", "metadata: {{ .Values.x }}\n"),
                    "[".repeat(300),
                    "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\n\
                     metadata: {name: prod, region: eu-west-1}\n"
                        .to_string(),
                    "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n\
                     metadata: {name: api, namespace: pay}\n"
                        .to_string(),
                    // Deploys the billing folder to another namespace.
                    "apiVersion: argoproj.io/v1alpha1\nkind: Application\n\
                     metadata: {name: billing, namespace: argocd}\nspec:\n  \
                     destination: {namespace: pay, server: https://kubernetes.default.svc}\n  \
                     source: {repoURL: https://github.com/acme/platform.git, path: k8s/billing}\n"
                        .to_string(),
                ],
            ),
            (
                "k8s/billing/api.yaml",
                vec![
                    // Its namespace is where it is deployed to.
                    "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n  annotations:\n    \
                     eks.amazonaws.com/role-arn: arn:aws:iam::482910375521:role/billing-api\n"
                        .to_string(),
                    sa("api", "billing", "billing-api"),
                    format!("{}---\n{}", sa("api", "billing", "billing-api"), sa("api", "pay", "ledger-x")),
                    deployment("billing", "api"),
                ],
            ),
            // Defines pay/api too: a second definition, or the first once api.yaml has none.
            (
                "k8s/shared/pay.yaml",
                vec![String::new(), sa("api", "pay", "ledger-api"), sa("api", "pay", "other")],
            ),
            (
                "infra/main.tf",
                vec![ROLE_TF.to_string(), ROLE_TF.replace("\"ledger-api\"", "\"ledger-apii\"")],
            ),
            // A trust read from a file no editor reports changes of (not linted itself).
            (
                "infra/audit/main.tf",
                vec![
                    "resource \"aws_iam_role\" \"audit\" {\n  name = \"audit-api\"\n  \
                     assume_role_policy = file(\"${path.module}/trust.json.tpl\")\n}\n"
                        .to_string(),
                ],
            ),
            ("infra/audit/trust.json.tpl", vec![trust("audit:api"), trust("audit:apii")]),
            ("k8s/audit/sa.yaml", vec![sa("api", "audit", "audit-api")]),
        ];
        write_tree(
            dir.path(),
            variants.iter().map(|(p, t)| (*p, t[0].as_str())),
        );
        // Watching, a session reads only the files changes are reported for; not watching,
        // it reads every file and compares.
        let cache = Arc::new(Cache::default());
        cache.watch();
        let mut session = Session::default();
        let mut unwatched = (Session::default(), Arc::new(Cache::default()));
        let mut overlays: HashMap<PathBuf, Arc<str>> = HashMap::new();
        let mut next = random_below(0x2545_f491_4f6c_dd1d);
        let mut kinds = std::collections::BTreeSet::new();
        let lint_with = |session: &mut Session, cache: &Arc<Cache>, overlays: &HashMap<_, _>| {
            let settings = Settings {
                paths: vec![dir.path().to_path_buf()],
                overlays: overlays.clone(),
                cache: Some(cache.clone()),
                findings_only: true,
                ..Settings::default()
            };
            session.lint(&settings).unwrap();
            seen(session.report().unwrap())
        };
        let lint = |session: &mut Session, overlays: &HashMap<PathBuf, Arc<str>>| {
            lint_with(session, &cache, overlays)
        };
        for step in 0..120 {
            // The first file is edited most, as in an editor.
            let pick = next(variants.len() + 4);
            let (path, texts) = &variants[if pick < variants.len() { pick } else { 0 }];
            let text = &texts[next(texts.len())];
            let path = dir.path().join(path);
            edit(next(4), path, text, &mut overlays, &[&cache]);
            let cold = seen_in(dir.path(), &overlays, None);
            assert_eq!(lint(&mut session, &overlays), cold, "after edit {step}");
            let (unwatched_session, unwatched_cache) = &mut unwatched;
            let found = lint_with(unwatched_session, unwatched_cache, &overlays);
            assert_eq!(found, cold, "after edit {step}, not watching");
            kinds.extend(cold.iter().map(|f| f.0));
        }
        assert!(kinds.len() >= 4, "{kinds:?}");
        // Many runs were patches, and not all.
        for patched in [session.patched(), unwatched.0.patched()] {
            assert!(
                (40..119).contains(&patched),
                "{patched} of 120 runs were patches"
            );
        }
        // Each text an edit may give the first file, once from the plain tree: a patch where
        // it can be one, and what a cold run finds.
        let (first, texts) = &variants[0];
        for text in texts {
            for (path, texts) in &variants {
                overlays.insert(dir.path().join(path), Arc::from(texts[0].as_str()));
            }
            lint(&mut session, &overlays);
            overlays.insert(dir.path().join(first), Arc::from(text.as_str()));
            let cold = seen_in(dir.path(), &overlays, None);
            assert_eq!(lint(&mut session, &overlays), cold, "{text}");
        }
        // A file created, then deleted, as the editor reports it: linted anew.
        overlays.insert(dir.path().join(first), Arc::from(texts[0].as_str()));
        lint(&mut session, &overlays);
        let created = dir.path().join("k8s/audit/reporter.yaml");
        std::fs::create_dir_all(created.parent().unwrap()).unwrap();
        for exists in [true, false] {
            match exists {
                true => {
                    std::fs::write(&created, sa("reporter", "audit", "audit-reporter")).unwrap()
                }
                false => std::fs::remove_file(&created).unwrap(),
            }
            let change = [DiskChange::Deleted, DiskChange::Created][usize::from(exists)];
            cache.disk_changed(&created, change);
            let cold = seen_in(dir.path(), &overlays, None);
            assert_eq!(cold.iter().any(|f| f.1.contains("audit-reporter")), exists);
            assert_eq!(lint(&mut session, &overlays), cold, "exists: {exists}");
        }
        // The file Terraform reads outside the scan is deleted, written, changed: each time
        // with an edit of a manifest, which is then not patched in alone.
        let outside = dir.path().join("infra/audit/trust.json.tpl");
        for (step, trusted) in [None, Some("audit:apii"), Some("audit:api")]
            .iter()
            .enumerate()
        {
            match trusted {
                Some(subject) => std::fs::write(&outside, trust(subject)).unwrap(),
                None => std::fs::remove_file(&outside).unwrap(),
            }
            overlays.insert(dir.path().join(first), Arc::from(texts[step % 2].as_str()));
            let cold = seen_in(dir.path(), &overlays, None);
            assert_eq!(lint(&mut session, &overlays), cold, "{trusted:?}");
        }
    }

    /// A ConfigMap file read while no Flux object was in the scan is read again, with its
    /// ConfigMaps, once one is: the cache keeps readings made without them.
    #[test]
    fn a_flux_object_added_later_substitutes_from_config_maps_read_before() {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            ("roots/ledger/main.tf", role_tf("ledger-api", "pay:api")),
            ("k8s/apps/worker.yaml", FLUX_SERVICE_ACCOUNT.to_string()),
            ("clusters/prod/vars.yaml", flux_vars("ledger-api")),
            ("clusters/prod/apps.yaml", String::new()),
        ];
        write_tree(dir.path(), files.iter().map(|(p, t)| (*p, t.as_str())));
        let cache = Arc::new(Cache::default());
        let run = |overlays: &HashMap<PathBuf, Arc<str>>, cache: Option<Arc<Cache>>| {
            seen_in(dir.path(), overlays, cache)
        };
        let without_flux = run(&HashMap::new(), Some(cache.clone()));
        assert!(without_flux.iter().all(|f| !f.1.contains("worker")));
        let apps = dir.path().join("clusters/prod/apps.yaml");
        let with_flux = HashMap::from_iter([(apps, Arc::from(FLUX_KUSTOMIZATION))]);
        let cold = run(&with_flux, None);
        // The role substituted from the ConfigMap does not trust pay:worker.
        assert!(
            cold.iter()
                .any(|f| f.0 == "IRSA003" && f.1.contains("worker")),
            "{cold:?}"
        );
        assert_eq!(run(&with_flux, Some(cache)), cold);
    }

    /// The same texts give the same findings in memory as on disk, `file()` included.
    #[test]
    fn texts_in_memory_lint_like_files_on_disk() {
        let role = ROLE_TF.replace(
            "assume_role_policy = jsonencode({",
            "assume_role_policy = file(\"${path.module}/trust.json\")\n  unused = jsonencode({",
        );
        let trust = r#"{"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
  "Principal": {"Federated": "arn:aws:iam::482910375521:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A"},
  "Condition": {"StringEquals": {"oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A:sub": "system:serviceaccount:pay:other"}}}]}"#;
        let files = [
            ("infra/main.tf", role.as_str()),
            ("infra/trust.json", trust),
            ("k8s/sa.yaml", &service_account("ledger-api")),
        ];
        let in_memory = analyze_sources(
            files
                .iter()
                .map(|(p, t)| (PathBuf::from(p), t.to_string()))
                .collect(),
            &Settings::default(),
        );
        let dir = tempfile::tempdir().unwrap();
        write_tree(dir.path(), files);
        let on_disk = lint(&Settings {
            paths: vec![dir.path().to_path_buf()],
            ..Settings::default()
        })
        .unwrap();
        let rules: Vec<_> = in_memory.diagnostics.iter().map(|d| d.rule_id).collect();
        assert!(
            rules.contains(&"IRSA003"),
            "the trust in trust.json was read: {rules:?}"
        );
        assert_eq!(
            findings(&in_memory.diagnostics),
            findings(&on_disk.diagnostics)
        );
    }
}
