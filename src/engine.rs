//! The pipeline: discover → read → parse → evaluate → extract facts → link → rules →
//! suppressions → configured levels → baseline → sort.
//!
//! Files are read and parsed in parallel; each Terraform module directory is evaluated on its
//! own thread; only facts (not syntax trees) outlive this module — except in a [`Cache`],
//! which the caller (the language server) keeps across runs so that an edit re-reads and
//! re-parses only the files that changed. Open editor texts come in as `overlays`. What the
//! configuration says (rules off or at another level, excluded paths, roles managed
//! elsewhere), suppression comments and the baseline are all applied here, so that every
//! consumer of a [`Report`] sees the same findings.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::SystemTime;

use rayon::prelude::*;

use crate::baseline::Baseline;
use crate::config::{Exclude, RuleLevels};
use crate::coverage::Coverage;
use crate::diagnostic::Diagnostic;
use crate::discover::{self, FileKind, Input};
use hcl_edit::structure::Body;

use crate::eval::FileLoader;
use crate::eval::models::Model;
use crate::eval::module::Module;
use crate::eval::value::Value;
use crate::eval::workspace::{ModuleDir, ParsedFile, Workspace, normalize};
use crate::facts::eksctl::extract_cluster_config;
use crate::facts::{Facts, ParseError};
use crate::link::{ExternalRoles, LintContext};
use crate::parse::yaml::{ManifestSyntax, extract_manifests};
use crate::source::{FileId, SourceMap, Span};

/// Files larger than this are not parsed (one IRSA000 says so).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Files whose brackets nest deeper than this are not parsed (one IRSA000 says where): the
/// parsers and the evaluator recurse per level, and no real configuration comes close.
pub const MAX_NESTING: usize = 500;

/// The offset of the first bracket that opens level `MAX_NESTING + 1`, counting `[`, `{`
/// and `(` outside double-quoted strings. A cheap scan that bounds every parser's and the
/// evaluator's recursion at once, whatever the syntax.
fn too_deeply_nested(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (offset, byte) in text.bytes().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' | b'\n' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(offset);
                }
            }
            b']' | b'}' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn too_deep_error(id: FileId, offset: usize) -> ParseError {
    ParseError {
        span: Span::new(id, offset..offset + 1),
        message: format!(
            "brackets are nested more than {MAX_NESTING} levels deep here; the file was not parsed"
        ),
    }
}

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
    /// What earlier runs read and parsed, reused for files that have not changed. The
    /// language server keeps one across edits; a single `check` has no use for it.
    pub cache: Option<Arc<Cache>>,
    /// Show paths relative to this folder instead of the working directory (the fixture
    /// runner's snapshots show them relative to the case).
    pub display_root: Option<PathBuf>,
}

/// Texts, syntax trees and facts kept between runs, so that re-linting after a one-file
/// edit does not re-read or re-parse the files that did not change.
///
/// A disk text is reused while the file's modification time and length are the ones seen
/// when it was read. A file's syntax tree or manifest facts are reused while its file id,
/// shown path and whole text are the ones they were computed from: they are a function of
/// exactly these (the syntax follows from the file name), so the reuse cannot change a
/// finding.
#[derive(Default)]
pub struct Cache {
    disk: Mutex<HashMap<PathBuf, DiskText>>,
    terraform: PerFile<Result<Body, ParseError>>,
    manifests: PerFile<Facts>,
}

struct DiskText {
    modified: SystemTime,
    len: u64,
    text: Arc<str>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("disk_texts", &lock(&self.disk).len())
            .field("terraform_files", &lock(&self.terraform.0).len())
            .field("manifests", &lock(&self.manifests.0).len())
            .finish()
    }
}

/// A poisoned lock only means another thread panicked while holding it; every entry is
/// written whole, so the map is still consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Cache {
    /// The file's text, from the cache when the file is unchanged since it was read.
    fn read(&self, path: &Path) -> Result<Arc<str>, String> {
        // Stamped before reading: a write between the two makes the stamp stale, so the
        // next run reads the file again rather than keeping an old text.
        let stamp = std::fs::metadata(path)
            .ok()
            .and_then(|m| Some((m.modified().ok()?, m.len())));
        if let Some((modified, len)) = stamp
            && let Some(hit) = lock(&self.disk).get(path)
            && hit.modified == modified
            && hit.len == len
        {
            return Ok(hit.text.clone());
        }
        let text: Arc<str> = read_text(path)?.into();
        if let Some((modified, len)) = stamp {
            let entry = DiskText {
                modified,
                len,
                text: text.clone(),
            };
            lock(&self.disk).insert(path.to_path_buf(), entry);
        }
        Ok(text)
    }
}

/// What was computed from each file.
struct PerFile<T>(Mutex<HashMap<FileId, Computed<T>>>);

/// A value and the input it was computed from.
struct Computed<T> {
    shown: PathBuf,
    text: Arc<str>,
    value: T,
}

impl<T> Default for PerFile<T> {
    fn default() -> Self {
        PerFile(Mutex::default())
    }
}

impl<T> PerFile<T> {
    /// The stored result for this file and text, or `compute`'s, stored for next time.
    /// The lock is not held while computing, so files are still parsed in parallel.
    fn get(
        &self,
        id: FileId,
        file: &crate::source::SourceFile,
        copy: fn(&T) -> T,
        compute: impl FnOnce() -> T,
    ) -> T {
        if let Some(hit) = lock(&self.0).get(&id)
            && hit.shown == file.path
            && (Arc::ptr_eq(&hit.text, &file.text) || hit.text == file.text)
        {
            return copy(&hit.value);
        }
        let value = compute();
        let entry = Computed {
            shown: file.path.clone(),
            text: file.text.clone(),
            value: copy(&value),
        };
        lock(&self.0).insert(id, entry);
        value
    }
}

/// Written out field by field (facts are not `Clone`): a new field fails to compile here
/// rather than being silently dropped from cached facts.
fn clone_facts(f: &Facts) -> Facts {
    Facts {
        roles: f.roles.clone(),
        providers: f.providers.clone(),
        clusters: f.clusters.clone(),
        service_accounts: f.service_accounts.clone(),
        workloads: f.workloads.clone(),
        pod_identities: f.pod_identities.clone(),
        addon_roles: f.addon_roles.clone(),
        helm_releases: f.helm_releases.clone(),
        parse_errors: f.parse_errors.clone(),
        limits_hit: f.limits_hit.clone(),
        hidden_service_accounts: f.hidden_service_accounts,
        hidden_roles: f.hidden_roles,
    }
}

pub struct Report {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    /// How many of the user's files were read (the source map also holds built-in models).
    pub files_read: usize,
    /// What was and was not checked.
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
}

impl Analysis {
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

/// A file read from disk: its text, or why it could not be read.
struct Loaded {
    input: Input,
    text: Result<Arc<str>, String>,
}

/// Stack for each worker: evaluation recurses through expressions, references and modules,
/// and deeply nested input must end as a diagnostic, not a stack overflow.
const WORKER_STACK_BYTES: usize = 256 * 1024 * 1024;

pub fn lint(settings: &Settings) -> Result<Report, EngineError> {
    let analysis = analyze(settings)?;
    Ok(Report {
        sources: analysis.sources,
        diagnostics: analysis.diagnostics,
        files_read: analysis.files_read,
        coverage: analysis.coverage,
    })
}

/// What [`lint`] does, keeping the facts the findings were made from.
pub fn analyze(settings: &Settings) -> Result<Analysis, EngineError> {
    match rayon::ThreadPoolBuilder::new()
        .stack_size(WORKER_STACK_BYTES)
        .build()
    {
        Ok(pool) => pool.install(|| analyze_on_this_pool(settings)),
        Err(_) => analyze_on_this_pool(settings),
    }
}

fn analyze_on_this_pool(settings: &Settings) -> Result<Analysis, EngineError> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut paths = settings.paths.clone();
    if paths.is_empty() && settings.stdin.is_none() {
        paths.push(PathBuf::from("."));
    }
    let mut inputs = discover::discover(&paths).map_err(|m| EngineError::MissingPath(m.0))?;
    if let Some(exclude) = &settings.exclude {
        inputs.retain(|input| paths.contains(&input.path) || !exclude.excludes(&input.path, &cwd));
    }
    let loaded: Vec<Loaded> = inputs
        .into_par_iter()
        .map(|input| {
            let text = read_input(&input.path, settings);
            Loaded { input, text }
        })
        .collect();

    let mut sources = SourceMap::default();
    let mut facts = Facts::default();
    let mut files: Vec<(FileId, FileKind, PathBuf)> = Vec::new();
    let mut encrypted_tfvars: HashSet<PathBuf> = HashSet::new();
    if let Some((name, text)) = &settings.stdin {
        let id = sources.add(name.clone(), text.as_str());
        let kind = discover::classify(name).unwrap_or(FileKind::Yaml);
        match too_deeply_nested(text) {
            Some(offset) => facts.parse_errors.push(too_deep_error(id, offset)),
            None => files.push((id, kind, name.clone())),
        }
    }
    let shown_from = settings.display_root.as_deref().unwrap_or(&cwd);
    for l in loaded {
        let shown = discover::display_path(&l.input.path, shown_from);
        match l.text {
            Ok(text) => {
                let too_deep = too_deeply_nested(&text);
                let id = sources.add(shown, text);
                match too_deep {
                    Some(offset) => facts.parse_errors.push(too_deep_error(id, offset)),
                    None => files.push((id, l.input.kind, l.input.path)),
                }
            }
            // What an encrypted file says is unknown: its ServiceAccounts are unseen, and a
            // module whose tfvars are encrypted has no known variable values.
            Err(message) if message == ENCRYPTED => {
                facts.hidden_service_accounts = true;
                if l.input.kind == FileKind::TfVars
                    && let Some(dir) = l.input.path.parent()
                {
                    encrypted_tfvars.insert(normalize(dir));
                }
            }
            Err(message) => {
                let id = sources.add(shown, "");
                facts.parse_errors.push(ParseError {
                    span: Span::file_start(id),
                    message,
                });
            }
        }
    }

    let files_read = sources.len();
    // The models' texts are registered first, so that the loader's new ids come after them.
    let models = crate::eval::models::load(&mut sources);
    // Manifests and Terraform are read side by side: each alone leaves cores idle at its end.
    let (manifests, (terraform, loader)) = rayon::join(
        || manifest_facts(&sources, &files, settings.cache.as_deref()),
        || {
            terraform_facts(
                &sources,
                models,
                &files,
                settings,
                &paths,
                &encrypted_tfvars,
            )
        },
    );
    facts.extend(manifests);
    facts.extend(terraform);
    loader.register(&mut sources, shown_from);

    // Roles come from Terraform and eksctl configs; without either, none can be checked.
    let infrastructure_read = !facts.roles.is_empty()
        || files
            .iter()
            .any(|(_, kind, _)| matches!(kind, FileKind::Terraform | FileKind::TfVars));
    let (diagnostics, coverage) = {
        let ctx =
            LintContext::new(&facts, &sources).with_external_roles(settings.external_roles.clone());
        let diagnostics = findings(&ctx, settings, &cwd);
        let chains = crate::graph::chains(&ctx, &diagnostics);
        (diagnostics, Coverage::of(&chains, infrastructure_read))
    };
    Ok(Analysis {
        sources,
        facts,
        diagnostics,
        files_read,
        coverage,
        external_roles: settings.external_roles.clone(),
    })
}

/// Run the rules that are on, then apply suppressions, the configured levels and the
/// baseline, in that order: a suppressed finding never reaches the baseline, and IRSA028
/// findings get their configured level like any other.
fn findings(ctx: &LintContext, settings: &Settings, cwd: &Path) -> Vec<Diagnostic> {
    // Rules are pure and independent: run side by side, their findings are joined in
    // registry order, exactly as if run one after the other.
    let per_rule: Vec<Vec<Diagnostic>> = crate::rules::RULES
        .par_iter()
        .filter(|rule| !settings.rule_levels.is_off(rule.meta.id))
        .map(|rule| {
            let mut found = Vec::new();
            (rule.check)(ctx, &mut found);
            found
        })
        .collect();
    let mut diagnostics: Vec<Diagnostic> = per_rule.into_iter().flatten().collect();
    sort_diagnostics(&mut diagnostics, ctx.sources);
    merge_duplicates(&mut diagnostics);
    let mut diagnostics = crate::suppress::apply(diagnostics, ctx.sources, &settings.rule_levels);
    settings.rule_levels.apply(&mut diagnostics);
    if let Some(baseline) = &settings.baseline {
        baseline.filter(&mut diagnostics, ctx.sources, cwd);
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

/// An editor's text for the file when there is one, else the file on disk.
fn read_input(path: &Path, settings: &Settings) -> Result<Arc<str>, String> {
    if let Some(text) = settings.overlays.get(path) {
        return Ok(text.clone());
    }
    match &settings.cache {
        Some(cache) => cache.read(path),
        None => read_text(path).map(Arc::from),
    }
}

fn read_text(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let cannot_read = |e: std::io::Error| format!("cannot read file: {}", io_message(&e));
    // Stat before opening: opening a FIFO named on the command line would block until a
    // writer comes, and a device may never end (the walk itself only yields regular files).
    // One stat and one open per file: in a large tree the system calls are a cost of their own.
    let meta = std::fs::metadata(path).map_err(cannot_read)?;
    if !meta.is_file() {
        return Err("not a regular file, so it was not read".to_string());
    }
    let len = meta.len();
    if len > MAX_FILE_BYTES {
        return Err(format!(
            "file is larger than {} MiB and was not read",
            MAX_FILE_BYTES / 1024 / 1024
        ));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    let mut file = std::fs::File::open(path).map_err(cannot_read)?;
    file.read_to_end(&mut bytes).map_err(cannot_read)?;
    if bytes.starts_with(GIT_CRYPT_HEADER) {
        return Err(ENCRYPTED.to_string());
    }
    String::from_utf8(bytes).map_err(|_| "file is not valid UTF-8 text".to_string())
}

/// Files kept encrypted in the repository by git-crypt start with this header.
const GIT_CRYPT_HEADER: &[u8] = b"\0GITCRYPT\0";
/// Not an error: an encrypted file is unknown content.
const ENCRYPTED: &str = "encrypted";

fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::NotFound => "file vanished while reading".into(),
        _ => e.to_string().to_lowercase(),
    }
}

/// The deployment unit of a file: its folder as shown to the user.
fn unit_of(sources: &SourceMap, id: FileId) -> String {
    let path = &sources.get(id).path;
    path.parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

fn manifest_facts(
    sources: &SourceMap,
    files: &[(FileId, FileKind, PathBuf)],
    cache: Option<&Cache>,
) -> Facts {
    let yaml_files: Vec<(FileId, PathBuf)> = files
        .iter()
        .filter(|(_, kind, _)| *kind == FileKind::Yaml)
        .map(|(id, _, path)| (*id, path.clone()))
        .collect();
    // Kustomizations first: the files they use count only as rendered.
    let rendered = crate::facts::kustomize::render_all(sources, &yaml_files);
    let per_file: Vec<Facts> = files
        .par_iter()
        .filter_map(|(id, kind, path)| {
            let syntax = match kind {
                FileKind::Yaml if discover::is_manifest_template(path) => ManifestSyntax::Template,
                FileKind::Yaml => ManifestSyntax::Yaml,
                FileKind::Json => ManifestSyntax::Json,
                _ => return None,
            };
            let extract = || {
                let name = path.file_name().unwrap_or_default();
                guarded(*id, name, "", || file_manifest_facts(sources, *id, syntax)).unwrap_or_else(
                    |error| Facts {
                        parse_errors: vec![error],
                        ..Facts::default()
                    },
                )
            };
            let mut facts = match cache {
                Some(cache) => cache
                    .manifests
                    .get(*id, sources.get(*id), clone_facts, extract),
                None => extract(),
            };
            if rendered.owned.contains(id) {
                facts.service_accounts.clear();
                facts.workloads.clear();
            }
            Some(facts)
        })
        .collect();
    // Argo CD Applications decide where folders and charts land.
    let applications = crate::facts::argo::render(sources, &yaml_files, &rendered.views);
    let mut facts = applications.facts;
    for (dir, view) in rendered.views {
        if !applications.claimed_views.contains(&dir) {
            facts.extend(view);
        }
    }
    for (mut f, (id, _, _)) in per_file.into_iter().zip(
        files
            .iter()
            .filter(|(_, k, _)| matches!(k, FileKind::Yaml | FileKind::Json)),
    ) {
        if applications.owned.contains(id) {
            f.service_accounts.clear();
            f.workloads.clear();
        }
        facts.extend(f);
    }
    facts
}

/// What one manifest file says on its own, before kustomize and Argo CD views are applied.
fn file_manifest_facts(sources: &SourceMap, id: FileId, syntax: ManifestSyntax) -> Facts {
    let text = &sources.get(id).text;
    let unit = unit_of(sources, id);
    let mut facts = extract_manifests(id, text, syntax, &unit);
    // The manifest reader skips ClusterConfig documents (a kind it does not read) but
    // reports the file's syntax errors; the eksctl reader reads only those documents.
    if syntax == ManifestSyntax::Yaml && text.contains("ClusterConfig") {
        facts.extend(extract_cluster_config(id, text, &unit));
    }
    facts
}

fn terraform_facts(
    sources: &SourceMap,
    models: Vec<Model>,
    files: &[(FileId, FileKind, PathBuf)],
    settings: &Settings,
    roots: &[PathBuf],
    encrypted_tfvars: &HashSet<PathBuf>,
) -> (Facts, Loader) {
    let loader = Loader::new(sources, files, roots);
    let cache = settings.cache.as_deref();
    // Module directories, each with its .tf and .tfvars files in path order.
    let mut by_dir: BTreeMap<PathBuf, Vec<(FileId, FileKind, &Path)>> = BTreeMap::new();
    for (id, kind, path) in files {
        if matches!(kind, FileKind::Terraform | FileKind::TfVars) {
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            by_dir
                .entry(normalize(&dir))
                .or_default()
                .push((*id, *kind, path));
        }
    }
    // Syntax trees are many times the size of their text, so only the directories that take
    // part in a local module call (as caller or callee) are kept in memory together. A
    // directory whose text never says `module` calls none; when no caller calls it either,
    // it is a root on its own and is parsed, evaluated and dropped in one go.
    let may_call = |dir_files: &[(FileId, FileKind, &Path)]| {
        dir_files
            .iter()
            .any(|(id, _, _)| sources.get(*id).text.contains("module"))
    };
    let (callers, others): (Vec<_>, Vec<_>) = by_dir
        .iter()
        .partition(|(_, dir_files)| may_call(dir_files));
    let mut kept: Vec<ParsedDir> = callers
        .into_par_iter()
        .map(|(dir, dir_files)| parse_dir(sources, dir.clone(), dir_files, cache))
        .collect();
    // A directory another scanned module calls is evaluated through its callers, with their
    // inputs, not on its own with its defaults.
    let called: HashSet<PathBuf> = kept
        .iter()
        .flat_map(|(_, module_dir, _, _)| module_dir.local_calls())
        .collect();
    let (callees, standalone): (Vec<_>, Vec<_>) = others
        .into_iter()
        .partition(|(dir, _)| called.contains(*dir));
    kept.par_extend(
        callees
            .into_par_iter()
            .map(|(dir, dir_files)| parse_dir(sources, dir.clone(), dir_files, cache)),
    );

    let mut parse_errors: BTreeMap<PathBuf, Vec<ParseError>> = BTreeMap::new();
    let mut dirs = HashMap::new();
    let mut tfvars = HashMap::new();
    for (dir, module_dir, dir_tfvars, errors) in kept {
        parse_errors.insert(dir.clone(), errors);
        if !module_dir.files.is_empty() {
            dirs.insert(dir.clone(), module_dir);
            tfvars.insert(dir, dir_tfvars);
        }
    }
    let workspace = Workspace {
        dirs,
        models,
        loader: &loader,
    };
    let cli_var_files = cli_var_files(settings);
    let root = RootInputs {
        workspace: &workspace,
        sources,
        settings,
        cli_var_files: &cli_var_files,
        encrypted_tfvars,
    };
    let streamed: Vec<(PathBuf, Vec<ParseError>, Option<Facts>)> = standalone
        .into_par_iter()
        .map(|(dir, dir_files)| {
            let (dir, module_dir, dir_tfvars, errors) =
                parse_dir(sources, dir.clone(), dir_files, cache);
            let facts =
                (!module_dir.files.is_empty()).then(|| root.facts(&dir, &module_dir, &dir_tfvars));
            (dir, errors, facts)
        })
        .collect();
    let mut root_facts: BTreeMap<PathBuf, Facts> = BTreeMap::new();
    for (dir, errors, facts) in streamed {
        parse_errors.insert(dir.clone(), errors);
        root_facts.extend(facts.map(|f| (dir, f)));
    }
    let kept_roots: Vec<&PathBuf> = workspace
        .dirs
        .keys()
        .filter(|d| !called.contains(*d))
        .collect();
    let evaluated: Vec<(PathBuf, Facts)> = kept_roots
        .into_par_iter()
        .map(|dir| {
            let facts = root.facts(dir, &workspace.dirs[dir], &tfvars[dir]);
            (dir.clone(), facts)
        })
        .collect();
    root_facts.extend(evaluated);

    // Parse errors first, then each root's facts, both in directory order.
    let mut facts = Facts {
        parse_errors: parse_errors.into_values().flatten().collect(),
        ..Facts::default()
    };
    for f in root_facts.into_values() {
        facts.extend(f);
    }
    drop(workspace);
    (facts, loader)
}

/// What evaluating a root module needs besides the module itself.
struct RootInputs<'r> {
    workspace: &'r Workspace<'r>,
    sources: &'r SourceMap,
    settings: &'r Settings,
    cli_var_files: &'r [Body],
    encrypted_tfvars: &'r HashSet<PathBuf>,
}

impl RootInputs<'_> {
    /// Evaluate one root module and extract its facts.
    fn facts(&self, dir: &Path, module_dir: &ModuleDir, tfvars: &[(String, Body)]) -> Facts {
        let var_values = variable_values(
            self.workspace,
            module_dir,
            tfvars,
            self.cli_var_files,
            &self.settings.vars,
        );
        let mut module = Module::root(self.workspace, module_dir, var_values);
        if self.encrypted_tfvars.contains(dir) {
            module.hide_defaults();
        }
        let unit = dir_unit(self.sources, module_dir);
        let Some(first) = module_dir.files.first() else {
            return Facts::default();
        };
        let name = self
            .sources
            .get(first.id)
            .path
            .file_name()
            .unwrap_or_default();
        // An internal bug while evaluating costs this root module, not the run.
        let evaluated = guarded(first.id, name, "eval:", || {
            let mut facts = crate::facts::terraform::extract(&module, &unit);
            facts.limits_hit = module.limits_hit();
            facts
        });
        evaluated.unwrap_or_else(|error| Facts {
            parse_errors: vec![error],
            ..Facts::default()
        })
    }
}

/// The `--var-file` files, parsed once for every root module.
fn cli_var_files(settings: &Settings) -> Vec<Body> {
    settings
        .var_files
        .iter()
        .filter_map(|p| Some((std::fs::read_to_string(p).ok()?, p)))
        .filter_map(|(t, p)| {
            // Terraform reads a `--var-file` as JSON when its name ends in `.json`.
            let json = p
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"));
            match json {
                true => crate::parse::tfjson::parse_tfvars_json(FileId(0), &t).ok(),
                false => hcl_edit::parser::parse_body(&t).ok(),
            }
        })
        .collect()
}

type ParsedDir = (PathBuf, ModuleDir, Vec<(String, Body)>, Vec<ParseError>);

/// Parse the `.tf` and `.tfvars` files of one directory.
fn parse_dir(
    sources: &SourceMap,
    dir: PathBuf,
    files: &[(FileId, FileKind, &Path)],
    cache: Option<&Cache>,
) -> ParsedDir {
    let mut parsed = Vec::new();
    let mut tfvars = Vec::new();
    let mut errors = Vec::new();
    for &(id, kind, path) in files {
        let text = sources.get(id).text.clone();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let parse = || {
            guarded(id, name.as_ref(), "", || {
                parse_terraform(id, kind, name, &text)
            })
            .and_then(|parsed| parsed)
        };
        let parsed_file = match cache {
            Some(cache) => cache
                .terraform
                .get(id, sources.get(id), Clone::clone, parse),
            None => parse(),
        };
        match parsed_file {
            Ok(body) if kind == FileKind::Terraform => parsed.push(ParsedFile { id, body, text }),
            Ok(body) => {
                if is_loaded_tfvars(name) {
                    tfvars.push((name.to_string(), body));
                }
            }
            Err(e) => errors.push(e),
        }
    }
    // terraform.tfvars(.json) first, then *.auto.tfvars(.json) in lexical order.
    tfvars.sort_by_key(|(name, _)| (!name.starts_with("terraform.tfvars"), name.clone()));
    let module_dir = ModuleDir {
        dir: dir.clone(),
        files: parsed,
        is_model: false,
    };
    (dir, module_dir, tfvars, errors)
}

/// A `.tf` or `.tfvars` file in HCL or in Terraform's JSON syntax, by its name.
fn parse_terraform(id: FileId, kind: FileKind, name: &str, text: &str) -> Result<Body, ParseError> {
    use crate::parse::tfjson;
    match kind {
        FileKind::Terraform if tfjson::is_tf_json(name) => tfjson::parse_tf_json(id, text),
        FileKind::TfVars if tfjson::is_tfvars_json(name) => tfjson::parse_tfvars_json(id, text),
        _ => crate::parse::hcl::parse_body(id, text),
    }
}

/// The variable files Terraform loads by itself.
fn is_loaded_tfvars(name: &str) -> bool {
    matches!(name, "terraform.tfvars" | "terraform.tfvars.json")
        || name.ends_with(".auto.tfvars")
        || name.ends_with(".auto.tfvars.json")
}

/// A root module's variables as `terraform plan` would set them: tfvars files, then
/// `--var-file`, then `--var`.
fn variable_values(
    workspace: &Workspace<'_>,
    dir: &ModuleDir,
    tfvars: &[(String, Body)],
    cli_var_files: &[Body],
    cli_vars: &[(String, String)],
) -> HashMap<String, Value> {
    let empty = ModuleDir {
        dir: dir.dir.clone(),
        files: Vec::new(),
        is_model: false,
    };
    let evaluator = Module::root(workspace, &empty, HashMap::new());
    let scope = Default::default();
    let mut values = HashMap::new();
    for body in tfvars.iter().map(|(_, b)| b).chain(cli_var_files) {
        for attr in body.attributes() {
            if let Ok(v) = evaluator.eval(&attr.value, &scope) {
                values.insert(attr.key.as_str().to_string(), v);
            }
        }
    }
    for (k, v) in cli_vars {
        values.insert(k.clone(), Value::str(v.clone()));
    }
    values
}

/// The deployment unit of a root module: its directory as shown to the user.
fn dir_unit(sources: &SourceMap, dir: &ModuleDir) -> String {
    dir.files
        .first()
        .map(|f| unit_of(sources, f.id))
        .unwrap_or_default()
}

/// Files that Terraform code reads with `file()` / `templatefile()`. Files already read are
/// shared; new ones get ids after the ones in the source map and are registered afterwards.
/// Only files below the scanned roots are read.
struct Loader {
    roots: Vec<PathBuf>,
    /// The files already read, with their ids, until the first `file()` call asks for them
    /// by canonical path; most trees never call it, and resolving every path costs a system
    /// call per file.
    files: Vec<(PathBuf, FileId, Arc<str>)>,
    known: OnceLock<HashMap<PathBuf, (FileId, Arc<str>)>>,
    extra: Mutex<Vec<(PathBuf, Arc<str>)>>,
    extra_index: Mutex<HashMap<PathBuf, FileId>>,
    base: u32,
}

impl Loader {
    fn new(sources: &SourceMap, files: &[(FileId, FileKind, PathBuf)], roots: &[PathBuf]) -> Self {
        let files = files
            .iter()
            .map(|(id, _, path)| (path.clone(), *id, sources.get(*id).text.clone()))
            .collect();
        Loader {
            roots: roots.iter().filter_map(|r| r.canonicalize().ok()).collect(),
            files,
            known: OnceLock::new(),
            extra: Mutex::new(Vec::new()),
            extra_index: Mutex::new(HashMap::new()),
            base: sources.len() as u32,
        }
    }

    fn known(&self) -> &HashMap<PathBuf, (FileId, Arc<str>)> {
        self.known.get_or_init(|| {
            self.files
                .iter()
                .filter_map(|(path, id, text)| {
                    Some((path.canonicalize().ok()?, (*id, text.clone())))
                })
                .collect()
        })
    }

    fn register(self, sources: &mut SourceMap, shown_from: &Path) {
        for (path, text) in self.extra.into_inner().unwrap_or_default() {
            sources.add(discover::display_path(&path, shown_from), text);
        }
    }
}

impl FileLoader for Loader {
    fn load(&self, path: &Path) -> Option<(FileId, Arc<str>)> {
        let canonical = path.canonicalize().ok()?;
        if let Some((id, text)) = self.known().get(&canonical) {
            return Some((*id, text.clone()));
        }
        if !self.roots.iter().any(|r| canonical.starts_with(r)) {
            return None;
        }
        let mut index = self.extra_index.lock().ok()?;
        let mut extra = self.extra.lock().ok()?;
        if let Some(id) = index.get(&canonical) {
            return Some((*id, extra[(id.0 - self.base) as usize].1.clone()));
        }
        let text: Arc<str> = read_text(&canonical).ok()?.into();
        let id = FileId(self.base + extra.len() as u32);
        extra.push((canonical.clone(), text.clone()));
        index.insert(canonical, id);
        Some((id, text))
    }
}

/// The last line of defence: a panic while reading one file (or evaluating one root module,
/// named by its first file) becomes an IRSA000 error on that file instead of ending the
/// run. The error fails the fixture and CLI tests like any unexpected finding.
///
/// `IRSA_LINT_TEST_PANIC_ON` (debug builds only) makes the boundary provable: set to a
/// file name, reading that file panics; set to `eval:` and a file name, evaluating the
/// root module of that file does.
fn guarded<T>(
    file: FileId,
    name: &std::ffi::OsStr,
    stage: &str,
    work: impl FnOnce() -> T,
) -> Result<T, ParseError> {
    let run = || {
        if cfg!(debug_assertions)
            && let Ok(target) = std::env::var("IRSA_LINT_TEST_PANIC_ON")
            && target.strip_prefix(stage) == name.to_str()
        {
            panic!("test panic requested by IRSA_LINT_TEST_PANIC_ON={target}");
        }
        work()
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        ParseError {
            span: Span::file_start(file),
            message: format!("internal error while reading this file: {message}; please report it"),
        }
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml_facts(text: &str) -> Facts {
        let mut sources = SourceMap::default();
        let path = PathBuf::from("cluster/cluster.yaml");
        let id = sources.add(path.clone(), text);
        manifest_facts(&sources, &[(id, FileKind::Yaml, path)], None)
    }

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

    fn findings(report: &Report) -> Vec<(&'static str, String, u32)> {
        let d = &report.diagnostics;
        d.iter()
            .map(|d| (d.rule_id, d.message.clone(), d.primary.span.start))
            .collect()
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
            findings(&lint(&settings).unwrap())
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
        let overlay = HashMap::from([(yaml.clone(), fixed.clone())]);
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

    /// A file that the walk found and that is gone when it is read (deleted by another
    /// process in between) is one IRSA000 on its path; the rest of the run goes on.
    #[test]
    fn a_file_that_vanishes_after_the_walk_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.tf");
        std::fs::write(&path, "locals {}\n").unwrap();
        let found = discover::discover(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(found.len(), 1);
        std::fs::remove_file(&path).unwrap();
        let err = read_input(&found[0].path, &Settings::default()).unwrap_err();
        assert_eq!(err, "cannot read file: file vanished while reading");
    }

    const CLUSTER_CONFIG: &str = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\n\
                                  metadata: {name: prod, region: eu-west-1}\niam:\n  \
                                  withOIDC: true\n  serviceAccounts:\n    \
                                  - metadata: {name: api, namespace: pay}\n      \
                                  attachPolicyARNs: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n";

    #[test]
    fn a_cluster_config_file_is_read_once_and_its_errors_reported_once() {
        let text = format!(
            "{CLUSTER_CONFIG}---\napiVersion: v1\nkind: ServiceAccount\n\
             metadata: {{name: worker, namespace: pay}}\n---\nkind: ConfigMap\ndata: [broken\n"
        );
        let facts = yaml_facts(&text);
        let mut names: Vec<_> = facts
            .service_accounts
            .iter()
            .map(|sa| sa.qualified_name())
            .collect();
        names.sort();
        assert_eq!(names, ["pay/api", "pay/worker"]);
        assert_eq!(facts.roles.len(), 1);
        assert_eq!(facts.providers.len(), 1);
        assert_eq!(facts.parse_errors.len(), 1);
        let units: Vec<_> = facts.service_accounts.iter().map(|sa| &sa.unit).collect();
        assert_eq!(units, ["cluster", "cluster (eksctl cluster prod)"]);
        let broken = CLUSTER_CONFIG.replace("{name: api,", "{name: [api,");
        let facts = yaml_facts(&broken);
        assert!(facts.roles.is_empty() && facts.service_accounts.is_empty());
        assert_eq!(facts.parse_errors.len(), 1);
    }
}
