//! Terraform facts: group `.tf`/`.tfvars` files by module directory, parse them, evaluate
//! each root module (local modules through their callers, registry modules through the
//! built-in models) with its variables set as `terraform plan` would, and extract facts.
//! A module that Terragrunt units run is evaluated once per unit, with the unit's inputs
//! (`super::terragrunt`), and not on its own.
//!
//! Syntax trees are many times the size of their text, so only the directories that take
//! part in a local module call are held together; every other directory is parsed,
//! evaluated and dropped in one go.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use hcl_edit::structure::Body;
use rayon::prelude::*;

use super::cache::{CacheInputs, Called, RootResult};
use super::guard::guarded;
use super::loader::{Asked, Loader, answers_hold, reads_files};
use super::plan::{PlanInput, SourceConfig};
use super::terragrunt::Unit;
use super::{Cache, InputFile, Settings, unit_of};
use crate::discover::FileKind;
use crate::eval::budget::Budget;
use crate::eval::models::Model;
use crate::eval::module::{Module, RootCall};
use crate::eval::terragrunt::Source;
use crate::eval::value::Value;
use crate::eval::workspace::{ModuleDir, ParsedFile, Workspace, normalize};
use crate::facts::Facts;
use crate::open::{self, Links, MAX_FILE_BYTES};
use crate::parse::ParseError;
use crate::source::{FileId, SourceMap};

/// What the Terraform stage reads besides the built-in models.
pub(super) struct Inputs<'a> {
    pub sources: &'a SourceMap,
    pub files: &'a [InputFile],
    pub settings: &'a Settings,
    pub loader: &'a Loader<'a>,
    /// Module directories whose tfvars are encrypted: their variables have no known values.
    pub encrypted_tfvars: &'a HashSet<PathBuf>,
    /// The Terragrunt units of the scan: each runs a module as a root of its own.
    pub units: &'a [Unit],
    /// Makes relative paths absolute, as Terragrunt's are.
    pub cwd: &'a Path,
    /// What the run may evaluate, shared with the Terragrunt stage.
    pub budget: &'a Budget,
    /// Terraform plans and states of the scan: each takes the place of its root module's
    /// evaluated facts, or stands alone.
    pub plans: &'a [PlanInput],
}

/// The module a Terragrunt unit runs.
enum UnitModule {
    /// A scanned module directory.
    Dir(PathBuf),
    /// A registry module, through its model if irsa-lint has one.
    Remote {
        source: String,
        version: Option<String>,
    },
    /// The unit runs no module of its own (a root configuration that units include).
    None,
    /// The source is not known, but may be one of these scanned directories.
    Maybe(Vec<PathBuf>),
    /// A module that is not in the scan or not known: it may create anything.
    Unknown,
}

/// Whether `text` may hold a `module` block with a local source: `source = "./…"` or
/// `"../…"` (`is_local_source`), a literal string on the line of its `=`. A string that
/// begins with an escape could spell either, and a comment where the scan expects `=` or
/// `source` could hide them, so both count. A root that calls only registry modules, and
/// reads `file("./…")` or installs `chart = "../charts/…"`, says none of these.
fn may_call_a_local_module(text: &str) -> bool {
    let blank = [' ', '\t'];
    let names_a_source = |before: &str| {
        let before = before.trim_end_matches(blank);
        let Some(name) = before.strip_suffix('=') else {
            return before.ends_with("*/");
        };
        let name = name.trim_end_matches(blank);
        name.ends_with("*/")
            || name.strip_suffix("source").is_some_and(|rest| {
                !rest.ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '-')
            })
    };
    text.contains("module")
        && text.match_indices('"').any(|(at, _)| {
            let rest = &text[at + 1..];
            (rest.starts_with("./") || rest.starts_with("../") || rest.starts_with('\\'))
                && names_a_source(&text[..at])
        })
}

/// One module directory, parsed.
struct ParsedDir {
    dir: PathBuf,
    module: ModuleDir,
    /// The tfvars files Terraform loads by itself, in the order it applies them.
    tfvars: Vec<(String, Body)>,
    errors: Vec<ParseError>,
}

/// A directory's `.tf` and `.tfvars` files, in path order.
type DirFiles<'a> = Vec<&'a InputFile>;

/// The facts of every root module in the scan, parse errors first, in directory order.
/// And where each root's facts lie, for the language server (no plan, no Terragrunt unit).
pub(super) fn facts(inputs: Inputs<'_>, models: Vec<Model>) -> (Facts, Option<RootParts>) {
    let Inputs {
        sources,
        files,
        settings,
        loader,
        encrypted_tfvars,
        units,
        cwd,
        budget,
        plans,
    } = inputs;
    let cache = settings.cache.as_deref();
    let mut by_dir: BTreeMap<PathBuf, DirFiles<'_>> = BTreeMap::new();
    // The walk lists a folder's files together: each run of files in one folder is filed
    // at once, not file by file (a lookup compares paths component by component).
    let terraform = files
        .iter()
        .filter(|f| matches!(f.kind, FileKind::Terraform | FileKind::TfVars));
    let mut run: Option<(&Path, DirFiles<'_>)> = None;
    for file in terraform {
        let dir = file.path.parent().unwrap_or(Path::new(""));
        match &mut run {
            Some((in_run, run_files)) if in_run.as_os_str() == dir.as_os_str() => {
                run_files.push(file);
            }
            _ => {
                if let Some((dir, run_files)) = run.replace((dir, vec![file])) {
                    by_dir.entry(normalize(dir)).or_default().extend(run_files);
                }
            }
        }
    }
    if let Some((dir, run_files)) = run {
        by_dir.entry(normalize(dir)).or_default().extend(run_files);
    }
    // Syntax trees are many times the size of their text, so only the directories that take
    // part in a local module call (as caller or callee) are kept in memory together. A
    // directory whose text could not hold one calls none; when no caller calls it either, it
    // is a root on its own and is parsed, evaluated and dropped in one go (and the language
    // server evaluates it again only when its own files change).
    let may_call = |dir_files: &[&InputFile]| {
        dir_files
            .iter()
            .any(|f| may_call_a_local_module(&sources.get(f.id).text))
    };
    let (callers, others): (Vec<_>, Vec<_>) = by_dir
        .iter()
        .partition(|(_, dir_files)| may_call(dir_files));
    // In the language server, what did not change is not evaluated again: each standalone
    // root by its own files, and the directories of local module calls all together.
    // A plan's facts replace its root's: roots are kept only when there is none.
    let context = cache
        .filter(|_| plans.is_empty())
        .and(cache_context(sources, settings));
    let callers_inputs = context.as_deref().and_then(|context| {
        let files: Vec<&InputFile> = callers
            .iter()
            .flat_map(|(_, f)| f.iter().copied())
            .collect();
        units
            .is_empty()
            .then(|| inputs_of(sources, &files, context))
    });
    let called_hit = match (cache, &callers_inputs) {
        (Some(cache), Some(inputs)) => cache.called.lookup(Path::new(""), inputs, |hit| {
            let files: Vec<&InputFile> = by_dir
                .iter()
                .filter(|(dir, _)| hit.called.contains(*dir))
                .flat_map(|(_, f)| f.iter().copied())
                .collect();
            inputs_of(sources, &files, "") == hit.callees && answers_hold(loader, &hit.asked)
        }),
        _ => None,
    };
    let mut kept: Vec<ParsedDir> = match called_hit {
        Some(_) => Vec::new(),
        None => callers
            .into_par_iter()
            .map(|(dir, dir_files)| parse_dir(sources, dir.clone(), dir_files, cache))
            .collect(),
    };
    // A directory another scanned module calls is evaluated through its callers, with their
    // inputs, not on its own with its defaults.
    // A folder that calls itself (`./`, `../self`), or two that call each other, is no
    // module Terraform can run: a call inside such a cycle does not make its target a
    // callee, so the folders are still linted as roots (and the call is reported there).
    let called: HashSet<PathBuf> = match &called_hit {
        Some(hit) => hit.called.clone(),
        None => called_from_outside_their_cycle(
            kept.iter()
                .map(|parsed| (parsed.dir.clone(), parsed.module.local_calls()))
                .collect(),
        ),
    };
    // Terragrunt units name their modules by absolute path; a directory they run is
    // evaluated through them, with their inputs.
    let absolute: HashMap<PathBuf, &PathBuf> = match units.is_empty() {
        true => HashMap::new(),
        false => (by_dir.keys())
            .map(|dir| (normalize(&cwd.join(dir)), dir))
            .collect(),
    };
    let unit_modules: Vec<UnitModule> = units
        .iter()
        .map(|unit| match &unit.config.source {
            Source::Local(path) => match absolute.get(path) {
                Some(dir) => UnitModule::Dir((*dir).clone()),
                None => UnitModule::Unknown,
            },
            Source::Own => match absolute.get(&unit.dir) {
                Some(dir) => UnitModule::Dir((*dir).clone()),
                None => UnitModule::None,
            },
            Source::Remote { source, version } => UnitModule::Remote {
                source: source.clone(),
                version: version.clone(),
            },
            Source::Unknown => {
                let dirs: Vec<PathBuf> = unit
                    .config
                    .may_run
                    .iter()
                    .filter_map(|path| absolute.get(path).map(|dir| (*dir).clone()))
                    .collect();
                match dirs.is_empty() {
                    true => UnitModule::Unknown,
                    false => UnitModule::Maybe(dirs),
                }
            }
        })
        .collect();
    let run_by_units: HashSet<PathBuf> = unit_modules
        .iter()
        .flat_map(|m| match m {
            UnitModule::Dir(dir) => std::slice::from_ref(dir),
            UnitModule::Maybe(dirs) => dirs.as_slice(),
            _ => &[],
        })
        .cloned()
        .collect();
    let (callees, standalone): (Vec<_>, Vec<_>) = others
        .into_iter()
        .partition(|(dir, _)| called.contains(*dir) || run_by_units.contains(*dir));
    let callee_files: Vec<&InputFile> = callees
        .iter()
        .flat_map(|(_, f)| f.iter().copied())
        .collect();
    let callees_inputs = inputs_of(sources, &callee_files, "");
    if called_hit.is_none() {
        kept.par_extend(
            callees
                .into_par_iter()
                .map(|(dir, dir_files)| parse_dir(sources, dir.clone(), dir_files, cache)),
        );
    }

    let mut parse_errors: BTreeMap<PathBuf, Vec<ParseError>> = BTreeMap::new();
    // The parse errors of the directories evaluated together, kept with their facts.
    let mut kept_errors: BTreeMap<PathBuf, Vec<ParseError>> = BTreeMap::new();
    let mut dirs = HashMap::new();
    let mut tfvars = HashMap::new();
    for parsed in kept {
        kept_errors.insert(parsed.dir.clone(), parsed.errors.clone());
        parse_errors.insert(parsed.dir.clone(), parsed.errors);
        if !parsed.module.files.is_empty() {
            dirs.insert(parsed.dir.clone(), parsed.module);
            tfvars.insert(parsed.dir, parsed.tfvars);
        }
    }
    let workspace = Workspace {
        dirs,
        models,
        loader,
        budget,
    };
    let roots: Vec<&PathBuf> = workspace
        .dirs
        .keys()
        .chain(standalone.iter().map(|(dir, _)| *dir))
        .filter(|d| !called.contains(*d) && !run_by_units.contains(*d))
        .collect();
    let root_of_plan = match plans.is_empty() {
        true => Vec::new(),
        false => {
            let texts: Vec<(&PathBuf, String)> = roots
                .iter()
                .map(|dir| {
                    let text = by_dir[*dir]
                        .iter()
                        .filter(|f| f.kind == FileKind::Terraform)
                        .map(|f| &*sources.get(f.id).text)
                        .collect::<Vec<_>>()
                        .join("\n");
                    (*dir, text)
                })
                .collect();
            super::plan::match_roots(plans, &texts)
        }
    };
    let mut plans_of: HashMap<PathBuf, Vec<&PlanInput>> = HashMap::new();
    let mut alone: Vec<&PlanInput> = Vec::new();
    for (input, dir) in plans.iter().zip(&root_of_plan) {
        match dir {
            Some(dir) => plans_of.entry((*dir).clone()).or_default().push(input),
            None => alone.push(input),
        }
    }
    let cli_var_files = cli_var_files(settings);
    let root = RootInputs {
        plans_of: &plans_of,
        workspace: &workspace,
        sources,
        settings,
        cli_var_files: &cli_var_files,
        encrypted_tfvars,
    };
    // A root's facts may be evaluated again alone (see `RootParts`) when nothing but its
    // own files decides them and only the links and the rules read them.
    let mut evaluable_alone: HashSet<PathBuf> = HashSet::new();
    // Each root a task of its own, that a thread done with the manifests read beside can
    // take: split only as threads steal, a range of roots went to one thread whole while
    // the other waited (80 ms at the end of a 10,000-service check).
    let streamed: Vec<(PathBuf, Vec<ParseError>, Option<Facts>, bool)> = standalone
        .into_par_iter()
        .with_max_len(1)
        .map(|(dir, dir_files)| {
            let keep = cache.zip(context.as_deref());
            let (errors, facts, _) = owned(root.standalone(dir, dir_files, keep));
            let alone = !encrypted_tfvars.contains(dir)
                && facts
                    .as_ref()
                    .is_some_and(|f| placed_alone(sources, dir_files, &errors, f));
            (dir.clone(), errors, facts, alone)
        })
        .collect();
    let mut root_facts: BTreeMap<PathBuf, Facts> = BTreeMap::new();
    for (dir, errors, facts, alone) in streamed {
        if alone {
            evaluable_alone.insert(dir.clone());
        }
        parse_errors.insert(dir.clone(), errors);
        root_facts.extend(facts.map(|f| (dir, f)));
    }
    match called_hit {
        Some(hit) => {
            let mut hit = Arc::unwrap_or_clone(hit);
            for (_, facts) in &mut hit.roots {
                super::cache::own_trust(facts);
            }
            parse_errors.extend(hit.parse_errors);
            root_facts.extend(hit.roots);
        }
        None => {
            let kept_roots: Vec<&PathBuf> = workspace
                .dirs
                .keys()
                .filter(|d| !called.contains(*d) && !run_by_units.contains(*d))
                .collect();
            let evaluated: Vec<(PathBuf, Facts, Vec<Asked>)> = kept_roots
                .into_par_iter()
                .with_max_len(1)
                .map(|dir| {
                    let (facts, asked) =
                        reads_files(|| root.facts(dir, &workspace.dirs[dir], &tfvars[dir]));
                    (dir.clone(), facts, asked)
                })
                .collect();
            let mut asked = Vec::new();
            let evaluated: Vec<(PathBuf, Facts)> = (evaluated.into_iter())
                .map(|(dir, facts, dir_asked)| {
                    asked.extend(dir_asked);
                    (dir, facts)
                })
                .collect();
            if let (Some(cache), Some(inputs)) = (cache, callers_inputs) {
                let called = Called {
                    called: called.clone(),
                    callees: callees_inputs,
                    parse_errors: kept_errors.into_iter().collect(),
                    roots: evaluated.clone(),
                    asked,
                };
                cache.called.store(Path::new(""), inputs, Arc::new(called));
            }
            root_facts.extend(evaluated);
        }
    }
    let unit_facts: Vec<Facts> = units
        .par_iter()
        .zip(unit_modules)
        .map(|(unit, module)| root.unit_facts(unit, module, &tfvars))
        .collect();

    // Parse errors first, then each root's facts, both in directory order.
    let mut facts = Facts {
        parse_errors: parse_errors.into_values().flatten().collect(),
        ..Facts::default()
    };
    let parts = match (context, units.is_empty() && plans.is_empty()) {
        (Some(context), true) => Some(RootParts {
            first: facts.part().without_errors(),
            roots: (root_facts.iter_mut())
                .map(|(dir, facts)| RootPart {
                    part: facts.part().without_errors(),
                    alone: evaluable_alone.contains(dir),
                    dir: dir.clone(),
                })
                .collect(),
            context,
        }),
        _ => None,
    };
    // Sized once, as the manifests' are: grown by doubling, the merge of a monorepo's roots
    // held its roles up to three times.
    let roots: Vec<Facts> = root_facts.into_values().chain(unit_facts).collect();
    facts
        .roles
        .reserve_exact(roots.iter().map(|f| f.roles.len()).sum());
    facts
        .role_policies
        .reserve_exact(roots.iter().map(|f| f.role_policies.len()).sum());
    for f in roots {
        facts.extend(f);
    }
    // A plan whose configuration is not in the scan: its facts at its own lines.
    for input in alone {
        let unit = unit_of(sources, input.plan.file);
        facts.extend(crate::facts::plan::extract(&input.plan, None, &unit));
        facts.parse_errors.extend(input.plan.errors.iter().cloned());
    }
    (facts, parts)
}

/// Where each root module's facts lie in the Terraform facts of a run, for the language
/// server to evaluate one root again alone after an edit of its own files
/// ([`root_alone`]) and put its facts in the place of the old ones.
pub(super) struct RootParts {
    /// Where the first root's facts begin.
    pub first: crate::facts::Part,
    /// Each root's facts, in directory order. Parse errors are not placed
    /// (`Part::without_errors`): a root's are found by the files they are about.
    pub roots: Vec<RootPart>,
    /// What the standalone roots were evaluated with besides their files (`cache_context`).
    pub context: String,
}

pub(super) struct RootPart {
    pub dir: PathBuf,
    pub part: crate::facts::Part,
    /// Whether the root may be evaluated again alone: it calls no local module, no other
    /// calls it, its variables are not encrypted, and its facts are `placed_alone`.
    pub alone: bool,
}

/// Whether a root's facts, with its parse `errors`, can be put in the place of its old ones:
/// only the links and the rules read them (`Facts::only_linked`), and each error is about
/// one of its own `files` and stays an error (not set apart as a template's), so that its
/// errors are found by their files.
fn placed_alone(
    sources: &SourceMap,
    files: &[&InputFile],
    errors: &[ParseError],
    facts: &Facts,
) -> bool {
    let own = |e: &ParseError| {
        files.iter().any(|f| f.id == e.span.file) && !super::is_set_apart(sources, e)
    };
    facts.only_linked() && errors.iter().chain(&facts.parse_errors).all(own)
}

/// Evaluate again, alone, a root module whose facts are `placed_alone`, with `files` its
/// files: its facts, its parse errors among them; or `None` when they may depend on more
/// than its files (it reads other files, calls a local module, hit a limit) or cannot be
/// put in place. `sources` are the last run's with the new texts, `first_model` where its
/// models' texts begin.
pub(super) fn root_alone(
    sources: &SourceMap,
    files: &[&InputFile],
    dir: &Path,
    settings: &Settings,
    cache: &Cache,
    context: &str,
    first_model: FileId,
) -> Option<Facts> {
    if !settings.var_files.is_empty()
        || (files.iter()).any(|f| may_call_a_local_module(&sources.get(f.id).text))
    {
        return None;
    }
    // A loader that has no file: a root that asks it anything is not evaluated alone.
    let loader = Loader::new(sources, &[], &super::Roots::Memory, &cache.memo);
    let budget = Budget::default();
    let workspace = Workspace {
        dirs: HashMap::new(),
        models: crate::eval::models::placed(first_model),
        loader: &loader,
        budget: &budget,
    };
    let root = RootInputs {
        plans_of: &HashMap::new(),
        workspace: &workspace,
        sources,
        settings,
        cli_var_files: &[],
        encrypted_tfvars: &HashSet::new(),
    };
    let dir = dir.to_path_buf();
    let (errors, facts, asked) = owned(root.standalone(&dir, files, Some((cache, context))));
    // No file of it parses: it gives nothing, as a run leaves out a root without facts.
    let mut facts = facts.unwrap_or_default();
    if !asked.is_empty() || !placed_alone(sources, files, &errors, &facts) {
        return None;
    }
    facts.parse_errors.extend(errors);
    Some(facts)
}

/// A root's result as a run's own: one the cache keeps is copied, trust policies included.
fn owned(result: RootResult) -> (Vec<ParseError>, Option<Facts>, Vec<Asked>) {
    match Arc::try_unwrap(result) {
        Ok(result) => result,
        Err(kept) => {
            let (errors, mut facts, asked) = (*kept).clone();
            if let Some(facts) = &mut facts {
                super::cache::own_trust(facts);
            }
            (errors, facts, asked)
        }
    }
}

/// The folders some module outside their own call cycle calls. Tarjan's strongly connected
/// components, without recursion: a chain of thousands of calls is only a long list.
fn called_from_outside_their_cycle(calls: Vec<(PathBuf, Vec<PathBuf>)>) -> HashSet<PathBuf> {
    let index: HashMap<&PathBuf, usize> =
        calls.iter().enumerate().map(|(i, (d, _))| (d, i)).collect();
    let edges: Vec<Vec<usize>> = calls
        .iter()
        .map(|(_, targets)| {
            targets
                .iter()
                .filter_map(|t| index.get(t).copied())
                .collect()
        })
        .collect();
    let component = strongly_connected(&edges);
    let mut called = HashSet::new();
    for (from, (_, targets)) in calls.iter().enumerate() {
        for target in targets {
            let inside_cycle = index
                .get(target)
                .is_some_and(|&to| component[to] == component[from]);
            if !inside_cycle {
                called.insert(target.clone());
            }
        }
    }
    called
}

/// The strongly connected component of each node, by an iterative Tarjan.
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<usize> {
    const UNSEEN: usize = usize::MAX;
    let n = edges.len();
    let (mut order, mut low, mut component) = (vec![UNSEEN; n], vec![0; n], vec![UNSEEN; n]);
    let (mut stack, mut on_stack) = (Vec::new(), vec![false; n]);
    let (mut next_order, mut next_component) = (0, 0);
    for start in 0..n {
        if order[start] != UNSEEN {
            continue;
        }
        // (node, next edge to follow)
        let mut work = vec![(start, 0)];
        order[start] = next_order;
        low[start] = next_order;
        next_order += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some(&mut (node, ref mut edge)) = work.last_mut() {
            if let Some(&to) = edges[node].get(*edge) {
                *edge += 1;
                if order[to] == UNSEEN {
                    order[to] = next_order;
                    low[to] = next_order;
                    next_order += 1;
                    stack.push(to);
                    on_stack[to] = true;
                    work.push((to, 0));
                } else if on_stack[to] {
                    low[node] = low[node].min(order[to]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == order[node] {
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component[member] = next_component;
                    if member == node {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    component
}

/// What evaluating a root module needs besides the module itself.
struct RootInputs<'r> {
    plans_of: &'r HashMap<PathBuf, Vec<&'r PlanInput>>,
    workspace: &'r Workspace<'r>,
    sources: &'r SourceMap,
    settings: &'r Settings,
    cli_var_files: &'r [Body],
    encrypted_tfvars: &'r HashSet<PathBuf>,
}

impl RootInputs<'_> {
    /// A root that calls no local module, and that no other calls: parsed, evaluated and
    /// dropped. In the language server (`kept`: the cache and what every evaluation
    /// depends on besides its files), kept by its own files.
    fn standalone(
        &self,
        dir: &PathBuf,
        dir_files: &[&InputFile],
        kept: Option<(&Cache, &str)>,
    ) -> RootResult {
        let evaluate = || {
            // The root's facts are what the cache keeps: its syntax trees are not worth
            // their memory (a tenth of a second to parse again after an edit, against
            // hundreds of megabytes and a deep copy of every tree on the first lint).
            // What it asks the loader is kept with it: the files it reads (values
            // templates, charts) decide its facts as much as its own.
            let parsed = parse_dir(self.sources, dir.clone(), dir_files, None);
            let ((errors, mut facts), asked) = reads_files(|| {
                let facts = (!parsed.module.files.is_empty())
                    .then(|| self.facts(&parsed.dir, &parsed.module, &parsed.tfvars));
                (parsed.errors, facts)
            });
            if let (Some(facts), Some(_)) = (&mut facts, kept) {
                facts.shrink_to_fit();
            }
            Arc::new((errors, facts, asked))
        };
        let Some((cache, context)) = kept else {
            return evaluate();
        };
        let context = format!("{context}|{}", self.encrypted_tfvars.contains(dir));
        cache.roots.get(
            dir,
            inputs_of(self.sources, dir_files, &context),
            |kept| answers_hold(self.workspace.loader, &kept.2),
            evaluate,
        )
    }

    /// Evaluate one root module and extract its facts.
    fn facts(&self, dir: &Path, module_dir: &ModuleDir, tfvars: &[(String, Body)]) -> Facts {
        let var_values = variable_values(
            self.workspace,
            module_dir,
            tfvars,
            self.cli_var_files,
            &self.settings.vars,
        );
        let root = |what_if: bool| {
            let mut module = Module::root(self.workspace, module_dir, var_values.clone());
            if self.encrypted_tfvars.contains(dir) {
                module.hide_defaults();
            }
            if what_if {
                module.what_if_enabled();
            }
            module
        };
        let module = root(false);
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
            let mut calls = Vec::new();
            let mut facts = crate::facts::terraform::extract_placed(&module, &unit, &mut calls);
            facts.limits_hit = module.limits_hit();
            mark_cut(&mut facts, &module);
            // Something had no instance: what do the flags left off create? (Only from a
            // what-if evaluation that ran to its end.) When they lie in the modules the root
            // calls, those alone are evaluated again.
            if module.saw_no_instances()
                && !module.evaluation_cut()
                && (whole_root_what_if()
                    || !crate::facts::enabled::merge_by_calls(&module, &unit, &mut facts, &calls))
            {
                let enabled = root(true);
                let what_if = crate::facts::terraform::extract(&enabled, &unit);
                if !enabled.evaluation_cut() {
                    facts = crate::facts::enabled::merge(facts, what_if);
                }
            }
            facts
        });
        let evaluated = evaluated.unwrap_or_else(|error| Facts {
            parse_errors: vec![error],
            ..Facts::default()
        });
        let Some(plans) = self.plans_of.get(dir) else {
            return evaluated;
        };
        let config = SourceConfig {
            workspace: self.workspace,
            root: module_dir,
        };
        // Provisioners are not in a plan: what their commands make is read from the code.
        let commands = guarded(first.id, name, "eval:", || {
            crate::facts::terraform::command_facts(&module, &unit)
        })
        .unwrap_or_default();
        let mut planned = commands;
        for input in plans {
            planned.extend(crate::facts::plan::extract(
                &input.plan,
                Some(&config),
                &unit,
            ));
            planned
                .parse_errors
                .extend(input.plan.errors.iter().cloned());
        }
        super::plan::merge(evaluated, planned)
    }
}

impl RootInputs<'_> {
    /// Evaluate the module a Terragrunt unit runs, with the unit's inputs, and extract its
    /// facts in the unit's name.
    fn unit_facts(
        &self,
        unit: &Unit,
        module: UnitModule,
        tfvars: &HashMap<PathBuf, Vec<(String, Body)>>,
    ) -> Facts {
        let config = &unit.config;
        let mut facts = Facts {
            limits_hit: config.limits_hit.clone(),
            ..Facts::default()
        };
        // Terragrunt does not run a skipped unit.
        if config.skip {
            return facts;
        }
        let scanned = |dir: &PathBuf| {
            let module_dir = self.workspace.dirs.get(dir)?;
            let dir_tfvars = tfvars.get(dir).map(Vec::as_slice).unwrap_or_default();
            Some((module_dir, dir_tfvars, self.encrypted_tfvars.contains(dir)))
        };
        // A module that is not known, or code `generate` writes next to it, may create any
        // role or ServiceAccount.
        let mut hidden = config.generates_code;
        match &module {
            UnitModule::None => {}
            UnitModule::Unknown => hidden = true,
            UnitModule::Dir(dir) => match scanned(dir) {
                Some((module_dir, dir_tfvars, encrypted)) => {
                    let hide = config.inputs_incomplete || encrypted;
                    facts.extend(self.run_unit(unit, module_dir, dir_tfvars, true, hide));
                }
                None => hidden = true,
            },
            // Each folder the unit may run, with every variable unknown: what does not depend
            // on them is still checked.
            UnitModule::Maybe(dirs) => {
                hidden = true;
                for (module_dir, dir_tfvars, _) in dirs.iter().filter_map(scanned) {
                    facts.extend(self.run_unit(unit, module_dir, dir_tfvars, false, true));
                }
            }
            UnitModule::Remote { source, version } => {
                match self.workspace.model(source, version.as_deref()) {
                    Some(model) => {
                        let hide = config.inputs_incomplete;
                        facts.extend(self.run_unit(unit, &model.dir, &[], true, hide));
                    }
                    None => hidden = true,
                }
            }
        }
        facts.hidden_roles |= hidden;
        facts.hidden_service_accounts |= hidden;
        facts
    }

    /// Evaluate a module as a unit's root, with the unit's inputs (or with none known), and
    /// extract its facts in the unit's name.
    fn run_unit(
        &self,
        unit: &Unit,
        module_dir: &ModuleDir,
        dir_tfvars: &[(String, Body)],
        with_inputs: bool,
        hide_defaults: bool,
    ) -> Facts {
        let config = &unit.config;
        let inputs = config.inputs.iter().filter(|_| with_inputs);
        // Terragrunt sets its inputs as `TF_VAR_` variables: any tfvars file and flag wins.
        let mut var_values: HashMap<String, Value> = inputs
            .clone()
            .map(|(name, (value, _))| (name.clone(), value.clone()))
            .collect();
        var_values.extend(variable_values(
            self.workspace,
            module_dir,
            dir_tfvars,
            self.cli_var_files,
            &self.settings.vars,
        ));
        let call = RootCall {
            call_site: config.source_span,
            input_spans: inputs
                .map(|(name, (_, span))| (name.clone(), *span))
                .collect(),
            input_files: config.files.clone(),
        };
        let mut root = Module::called_root(self.workspace, module_dir, var_values, call);
        if hide_defaults {
            root.hide_defaults();
        }
        let path = &self.sources.get(unit.file).path;
        let name = path.file_name().unwrap_or_default();
        let evaluated = guarded(unit.file, name, "eval:", || {
            let mut facts = crate::facts::terraform::extract(&root, &unit.name);
            facts.limits_hit = root.limits_hit();
            mark_cut(&mut facts, &root);
            facts
        });
        let mut facts = evaluated.unwrap_or_else(|error| Facts {
            parse_errors: vec![error],
            ..Facts::default()
        });
        name_the_unit(&mut facts, &unit.name);
        facts
    }
}

/// What every evaluation depends on besides its files: the number of files in the run
/// (which places the built-in models' ids) and the variables given. `None` when variable
/// files are given: their texts are read by path.
fn cache_context(sources: &SourceMap, settings: &Settings) -> Option<String> {
    settings
        .var_files
        .is_empty()
        .then(|| format!("{}|{:?}", sources.len(), settings.vars))
}

/// The files of an evaluation, as the cache compares them.
fn inputs_of(sources: &SourceMap, files: &[&InputFile], context: &str) -> CacheInputs {
    CacheInputs {
        files: files
            .iter()
            .map(|f| {
                let file = sources.get(f.id);
                (f.id, file.path.clone(), file.text.clone())
            })
            .collect(),
        context: context.to_string(),
    }
}

/// A root whose evaluation stopped short (a budget spent, nesting too deep) may create,
/// or annotate, what was not reached: no finding may rest on its absence.
fn mark_cut(facts: &mut Facts, module: &Module<'_>) {
    if module.evaluation_cut() {
        facts.hidden_roles = true;
        facts.hidden_service_accounts = true;
        facts.hidden_annotations = true;
    }
}

/// Findings about what a unit makes name the unit: the same module runs in many.
fn name_the_unit(facts: &mut Facts, unit: &str) {
    for role in &mut facts.roles {
        role.module = match role.module.is_empty() {
            true => format!("Terragrunt unit {unit}"),
            false => format!("{} of Terragrunt unit {unit}", role.module),
        };
    }
    let note = format!("deployed by Terragrunt unit {unit}");
    for sa in &mut facts.service_accounts {
        sa.rendered.push(note.clone());
    }
    for workload in &mut facts.workloads {
        workload.rendered.push(note.clone());
    }
}

/// The `--var-file` files, parsed once for every root module.
fn cli_var_files(settings: &Settings) -> Vec<Body> {
    settings
        .var_files
        .iter()
        .filter_map(|p| Some((open::read_string(p, Links::Follow, MAX_FILE_BYTES).ok()?, p)))
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

/// Parse the `.tf` and `.tfvars` files of one directory.
fn parse_dir(
    sources: &SourceMap,
    dir: PathBuf,
    files: &[&InputFile],
    cache: Option<&Cache>,
) -> ParsedDir {
    let mut parsed = Vec::new();
    let mut tfvars = Vec::new();
    let mut errors = Vec::new();
    for &&InputFile { id, kind, ref path } in files {
        let text = sources.get(id).text.clone();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let parse = || {
            guarded(id, name.as_ref(), "", || {
                parse_terraform(id, kind, name, &text)
            })
            .and_then(|parsed| parsed)
        };
        let parsed_file = match cache {
            Some(cache) => cache.terraform.get(id, sources.get(id), |_| true, parse),
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
    let module = ModuleDir {
        dir: dir.clone(),
        files: parsed,
        is_model: false,
    };
    ParsedDir {
        dir,
        module,
        tfvars,
        errors,
    }
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

/// Tests compare what-if evaluations of module calls alone with those of whole roots.
#[cfg(test)]
pub(super) static WHOLE_ROOT_WHAT_IF: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Whether every what-if evaluation is of the whole root (tests only).
fn whole_root_what_if() -> bool {
    #[cfg(test)]
    return WHOLE_ROOT_WHAT_IF.load(std::sync::atomic::Ordering::SeqCst);
    #[cfg(not(test))]
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A root that calls only registry modules is parsed, evaluated and dropped on its own
    /// (and kept by its own files in the editor); one whose call could be local is not.
    #[test]
    fn only_a_text_that_could_call_a_local_module_is_kept_with_its_callees() {
        let registry = r#"module "orders_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "~> 5.39"
}
resource "helm_release" "orders" {
  chart  = "${path.module}/../../charts/orders"
  values = [file("./values/orders.yaml")]
}
"#;
        assert!(!may_call_a_local_module(registry));
        let helm = registry.replace("${path.module}/../..", "..");
        assert!(!may_call_a_local_module(&helm), "{helm}");
        for source in [
            r#"source = "./modules/irsa""#,
            r#"source="../common/irsa""#,
            r#"source	= "\u002e/irsa""#,
            r#"source = /* common */ "../irsa""#,
            r#"source /* common */ = "../irsa""#,
        ] {
            let text = format!("module \"irsa\" {{\n  {source}\n}}\n");
            assert!(may_call_a_local_module(&text), "{text}");
            let opened = text.replace("source", "open_source");
            assert!(
                source.contains("/*") || !may_call_a_local_module(&opened),
                "{opened}"
            );
        }
    }

    #[test]
    fn a_call_inside_a_cycle_does_not_make_a_callee() {
        let p = PathBuf::from;
        let calls = vec![
            (p("self"), vec![p("self")]),
            (p("ping"), vec![p("pong")]),
            (p("pong"), vec![p("ping")]),
            (p("live"), vec![p("ping"), p("shared")]),
            (p("shared"), vec![]),
        ];
        let called = called_from_outside_their_cycle(calls);
        let mut called: Vec<_> = called.into_iter().collect();
        called.sort();
        assert_eq!(called, [p("ping"), p("shared")]);
    }

    #[test]
    fn a_long_chain_of_calls_is_no_deep_recursion() {
        let calls: Vec<_> = (0..200_000)
            .map(|i| {
                (
                    PathBuf::from(format!("m{i}")),
                    vec![PathBuf::from(format!("m{}", i + 1))],
                )
            })
            .collect();
        assert_eq!(called_from_outside_their_cycle(calls).len(), 200_000);
    }
}
