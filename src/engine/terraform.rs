//! Terraform facts: group `.tf`/`.tfvars` files by module directory, parse them, evaluate
//! each root module (local modules through their callers, registry modules through the
//! built-in models) with its variables set as `terraform plan` would, and extract facts.
//!
//! Syntax trees are many times the size of their text, so only the directories that take
//! part in a local module call are held together; every other directory is parsed,
//! evaluated and dropped in one go.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use hcl_edit::structure::Body;
use rayon::prelude::*;

use super::guard::guarded;
use super::loader::Loader;
use super::{Cache, InputFile, Settings, unit_of};
use crate::discover::FileKind;
use crate::eval::models::Model;
use crate::eval::module::Module;
use crate::eval::value::Value;
use crate::eval::workspace::{ModuleDir, ParsedFile, Workspace, normalize};
use crate::facts::Facts;
use crate::parse::ParseError;
use crate::source::{FileId, SourceMap};

/// What the Terraform stage reads besides the built-in models.
pub(super) struct Inputs<'a> {
    pub sources: &'a SourceMap,
    pub files: &'a [InputFile],
    pub settings: &'a Settings,
    pub loader: &'a Loader,
    /// Module directories whose tfvars are encrypted: their variables have no known values.
    pub encrypted_tfvars: &'a HashSet<PathBuf>,
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
pub(super) fn facts(inputs: Inputs<'_>, models: Vec<Model>) -> Facts {
    let Inputs {
        sources,
        files,
        settings,
        loader,
        encrypted_tfvars,
    } = inputs;
    let cache = settings.cache.as_deref();
    let mut by_dir: BTreeMap<PathBuf, DirFiles<'_>> = BTreeMap::new();
    for file in files {
        if matches!(file.kind, FileKind::Terraform | FileKind::TfVars) {
            let dir = file
                .path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            by_dir.entry(normalize(&dir)).or_default().push(file);
        }
    }
    // Syntax trees are many times the size of their text, so only the directories that take
    // part in a local module call (as caller or callee) are kept in memory together. A
    // directory whose text never says `module` calls none; when no caller calls it either,
    // it is a root on its own and is parsed, evaluated and dropped in one go.
    let may_call = |dir_files: &[&InputFile]| {
        dir_files
            .iter()
            .any(|f| sources.get(f.id).text.contains("module"))
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
        .flat_map(|parsed| parsed.module.local_calls())
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
    for parsed in kept {
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
            let parsed = parse_dir(sources, dir.clone(), dir_files, cache);
            let facts = (!parsed.module.files.is_empty())
                .then(|| root.facts(&parsed.dir, &parsed.module, &parsed.tfvars));
            (parsed.dir, parsed.errors, facts)
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
    facts
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
            let mut facts = crate::facts::terraform::extract(&module, &unit);
            facts.limits_hit = module.limits_hit();
            // Something had no instance: what do the flags left off create?
            if module.saw_no_instances() {
                let enabled = root(true);
                let what_if = crate::facts::terraform::extract(&enabled, &unit);
                facts = crate::facts::enabled::merge(facts, what_if);
            }
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
            Some(cache) => cache.terraform.get(id, sources.get(id), parse),
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
