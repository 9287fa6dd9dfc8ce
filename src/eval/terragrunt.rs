//! Terragrunt configurations: a unit's `terragrunt.hcl`, with the files it includes and
//! reads, evaluated as Terragrunt would to learn the module it runs (`terraform.source`) and
//! the variables it sets (`inputs`).
//!
//! Terragrunt's HCL is Terraform's syntax with more functions and reference roots; each file
//! is evaluated by the Terraform evaluator with a [`Host`] that adds them, in the context
//! Terragrunt gives it: an included file sees the including unit's folder as
//! `get_terragrunt_dir()`, a file read with `read_terragrunt_config()` its own. A
//! dependency's outputs, environment variables without a default and functions Terragrunt
//! has that are not modelled here are unknown. Includes and reads that form a cycle, or go
//! deeper than [`MAX_DEPTH`], stop with a warning and leave their values unknown.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use foldhash::{HashMap, HashMapExt, HashSet};
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::{Block, Body};

use super::module::{EvalResult, Host, Module, Scope};
use super::value::{Part, Str, Symbol, Value};
use super::workspace::{ModuleDir, ParsedFile, Workspace, normalize};
use crate::parse::ParseError;
use crate::source::{FileId, Span};

/// How many files deep includes and `read_terragrunt_config()` calls are followed.
pub const MAX_DEPTH: usize = 16;
/// How many Terragrunt files one unit may evaluate (includes are evaluated again wherever
/// they are included, so nested includes could otherwise multiply).
pub const MAX_FILES_PER_UNIT: usize = 256;

/// The name `find_in_parent_folders()` looks for without an argument.
const DEFAULT_CONFIG: &str = "terragrunt.hcl";

/// Where a unit's module comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A folder on disk, in the form the unit's own path has (absolute on disk).
    Local(PathBuf),
    /// A module fetched from elsewhere: a registry address or a Git URL, and the version
    /// (`?version=` or `?ref=`) when one is given.
    Remote {
        source: String,
        version: Option<String>,
    },
    /// No `terraform.source`: Terragrunt runs the Terraform in the unit's own folder.
    Own,
    /// Written, but not known here (an environment variable, a dependency output).
    Unknown,
}

/// What a unit runs, as far as its configuration can be evaluated.
#[derive(Debug, Clone)]
pub struct UnitConfig {
    pub source: Source,
    /// Where `terraform.source` is written; the unit file's start without one.
    pub source_span: Span,
    /// When the source is not known: the local folders it may be, by the branches of a
    /// condition (`get_env("ENV") == "prod" ? "git::...?ref=v1" : "../../modules//x"`).
    pub may_run: Vec<PathBuf>,
    /// The `inputs`, merged with the included files', each with where it is written.
    pub inputs: BTreeMap<String, (Value, Span)>,
    /// Some variables may be set to values not known here (`inputs` not evaluated whole, a
    /// var file or `TF_VAR_` variable from `extra_arguments`).
    pub inputs_incomplete: bool,
    /// `skip = true` or an `exclude` of every action: Terragrunt does not run the unit.
    pub skip: bool,
    /// A `generate` block may write resources or module calls next to the module's code.
    pub generates_code: bool,
    /// Every Terragrunt file read for the unit: values written in them are the unit's inputs.
    pub files: HashSet<FileId>,
    pub limits_hit: Vec<ParseError>,
}

/// A file's parse (`None` when it does not parse), made by the first unit that needs it.
type ParsedOnce = OnceLock<Option<Arc<ModuleDir>>>;

/// Terragrunt files parsed once for every unit, so that a file many units include is parsed
/// once and its syntax error reported once.
pub struct ConfigFiles {
    parsed: Mutex<HashMap<FileId, Arc<ParsedOnce>>>,
    errors: Mutex<Vec<ParseError>>,
    /// Refuses a text before it is parsed (brackets nested too deep for the parser).
    refuse: fn(FileId, &str) -> Option<ParseError>,
}

impl ConfigFiles {
    pub fn new(refuse: fn(FileId, &str) -> Option<ParseError>) -> Self {
        ConfigFiles {
            parsed: Mutex::default(),
            errors: Mutex::default(),
            refuse,
        }
    }

    /// A file parsed elsewhere (a unit's own `terragrunt.hcl`); `None` when it did not parse
    /// (its error is reported where it was parsed).
    pub fn insert(&self, id: FileId, parsed: Option<Arc<ModuleDir>>) {
        if let Ok(mut map) = self.parsed.lock() {
            map.insert(id, Arc::new(OnceLock::from(parsed)));
        }
    }

    /// The syntax errors of the files parsed here.
    pub fn into_errors(self) -> Vec<ParseError> {
        self.errors.into_inner().unwrap_or_default()
    }

    fn get(&self, id: FileId, path: &Path, text: &Arc<str>) -> Option<Arc<ModuleDir>> {
        let cell = self.parsed.lock().ok()?.entry(id).or_default().clone();
        // Parsed once: another unit asking meanwhile waits for this parse.
        let parse = || match (self.refuse)(id, text) {
            Some(error) => Err(error),
            None => crate::parse::hcl::parse_body(id, text),
        };
        cell.get_or_init(|| match parse() {
            Ok(body) => Some(Arc::new(config_dir(id, path, body, text.clone()))),
            Err(error) => {
                if let Ok(mut errors) = self.errors.lock() {
                    errors.push(error);
                }
                None
            }
        })
        .clone()
    }
}

/// One Terragrunt file as a module directory of one file, for the evaluator.
pub fn config_dir(id: FileId, path: &Path, body: Body, text: Arc<str>) -> ModuleDir {
    ModuleDir {
        dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        files: vec![ParsedFile { id, body, text }],
        is_model: false,
    }
}

/// What evaluating every unit shares.
pub struct Env<'a> {
    /// No module directories: Terragrunt files only need the loader.
    pub workspace: &'a Workspace<'a>,
    pub files: &'a ConfigFiles,
    /// Makes the walk's relative paths absolute, as Terragrunt's functions return paths.
    pub cwd: PathBuf,
    /// Paths in messages are shown relative to this folder.
    pub shown_from: PathBuf,
}

impl Env<'_> {
    /// A path in the absolute form Terragrunt's functions return.
    pub fn absolute(&self, path: &Path) -> PathBuf {
        normalize(&self.cwd.join(path))
    }

    /// Evaluate a unit: `path` is where its `terragrunt.hcl` was found, `file` its parse.
    pub fn unit(&self, path: &Path, file: &ModuleDir) -> UnitConfig {
        let path = self.absolute(path);
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let id = file.files.first().map(|f| f.id).unwrap_or(FileId(0));
        let unit = Unit {
            env: self,
            dir: dir.clone(),
            stack: RefCell::new(vec![path.clone()]),
            files: RefCell::new([id].into_iter().collect()),
            limits: RefCell::new(Vec::new()),
            reads: RefCell::new(HashMap::new()),
            budget: Cell::new(MAX_FILES_PER_UNIT),
        };
        let context = Context {
            terragrunt_dir: dir.clone(),
            file_dir: dir,
            included: false,
        };
        let config = unit.config(file, &context);
        let (source, source_span, may_run) = match &config.source {
            Some((value, span, candidates)) => {
                let source = source_of(value, &unit.dir);
                // A source not known may still be one of a few folders of the scan.
                let may_run = match source {
                    Source::Unknown => candidates
                        .iter()
                        .filter_map(|c| match source_of(c, &unit.dir) {
                            Source::Local(dir) => Some(dir),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                (source, *span, may_run)
            }
            None => (Source::Own, Span::file_start(id), Vec::new()),
        };
        let inputs_incomplete = !config.inputs.complete || config.sets_variables;
        let inputs = match config.sets_variables {
            true => BTreeMap::new(),
            false => config.inputs.known,
        };
        UnitConfig {
            source,
            source_span,
            may_run,
            inputs,
            inputs_incomplete,
            skip: config.skip,
            generates_code: config.generates_code,
            files: unit.files.into_inner(),
            limits_hit: unit.limits.into_inner(),
        }
    }
}

/// A unit being evaluated.
struct Unit<'e> {
    env: &'e Env<'e>,
    /// The unit's folder, absolute.
    dir: PathBuf,
    /// The files being evaluated, outermost first, to refuse a cycle.
    stack: RefCell<Vec<PathBuf>>,
    files: RefCell<HashSet<FileId>>,
    limits: RefCell<Vec<ParseError>>,
    /// What each `read_terragrunt_config()` of a file returned: it depends on the file only.
    reads: RefCell<HashMap<PathBuf, Value>>,
    /// How many more files the unit may evaluate.
    budget: Cell<usize>,
}

/// The context Terragrunt evaluates a file in.
#[derive(Clone)]
struct Context {
    /// `get_terragrunt_dir()`: the including unit's folder for an included file, the file's
    /// own for one read with `read_terragrunt_config()`.
    terragrunt_dir: PathBuf,
    /// The folder of the file itself, where Terraform's functions (`file()`) resolve
    /// relative paths.
    file_dir: PathBuf,
    /// The file is included by another (`get_parent_terragrunt_dir()` is its folder).
    included: bool,
}

/// A file's configuration with what it includes merged in.
struct Config {
    locals: Value,
    inputs: Inputs,
    /// `terraform.source`, where it is written, and the values each branch of a condition
    /// in it would give.
    source: Option<(Value, Span, Vec<Value>)>,
    /// An `extra_arguments` block sets variables (var files, `-var`, `TF_VAR_`).
    sets_variables: bool,
    generates_code: bool,
    skip: bool,
}

impl Config {
    /// What Terragrunt exposes of a file as `include.<name>` or `read_terragrunt_config()`.
    fn exposed(&self) -> Value {
        let source = match &self.source {
            Some((v, _, _)) => v.clone(),
            None => Value::Null,
        };
        Value::Map(BTreeMap::from([
            ("locals".to_string(), self.locals.clone()),
            ("inputs".to_string(), self.inputs.value()),
            (
                "terraform".to_string(),
                Value::Map(BTreeMap::from([("source".to_string(), source)])),
            ),
            // Blocks not modelled here (`remote_state`, `dependency`, ...) are unknown.
            ("dependency".to_string(), Value::Unknown),
        ]))
    }
}

/// `inputs`: the keys known, and whether they are all of them.
#[derive(Clone)]
struct Inputs {
    known: BTreeMap<String, (Value, Span)>,
    complete: bool,
}

impl Inputs {
    fn none() -> Inputs {
        Inputs {
            known: BTreeMap::new(),
            complete: true,
        }
    }

    fn unknown() -> Inputs {
        Inputs {
            known: BTreeMap::new(),
            complete: false,
        }
    }

    fn value(&self) -> Value {
        match self.complete {
            true => Value::Map(
                self.known
                    .iter()
                    .map(|(k, (v, _))| (k.clone(), v.clone()))
                    .collect(),
            ),
            false => Value::Unknown,
        }
    }

    /// The child's inputs over the parent's: shallowly (a key replaces the parent's) or
    /// deeply (maps merged and lists concatenated, key by key).
    fn merge(parent: Inputs, child: Inputs, deep: bool) -> Inputs {
        // Inputs of the child not known as a whole may replace any of the parent's.
        if !child.complete {
            return child;
        }
        let mut known = parent.known;
        for (key, (value, span)) in child.known {
            let merged = match (deep, known.remove(&key)) {
                (true, Some((old, _))) => deep_merge(old, value),
                (_, _) => value,
            };
            known.insert(key, (merged, span));
        }
        Inputs {
            known,
            complete: parent.complete,
        }
    }
}

/// Terragrunt's deep merge of two values: maps key by key, lists concatenated, anything else
/// the child's.
fn deep_merge(parent: Value, child: Value) -> Value {
    match (parent, child) {
        (Value::Unknown, _) | (_, Value::Unknown) => Value::Unknown,
        (Value::Map(mut p), Value::Map(c)) => {
            for (k, v) in c {
                let merged = match p.remove(&k) {
                    Some(old) => deep_merge(old, v),
                    None => v,
                };
                p.insert(k, merged);
            }
            Value::Map(p)
        }
        (Value::List(mut p), Value::List(c)) => {
            p.extend(c);
            Value::List(p)
        }
        (_, child) => child,
    }
}

/// How an include is merged into the file that includes it.
#[derive(Clone, Copy, PartialEq)]
enum Strategy {
    NoMerge,
    Shallow,
    Deep,
}

/// One `include` block, evaluated.
struct Include {
    label: String,
    /// The included file's folder.
    dir: Option<PathBuf>,
    /// `None` when the file could not be read or evaluated: what it brings is unknown.
    config: Option<Config>,
    expose: bool,
    strategy: Strategy,
    /// Where the include's path is written.
    at: Span,
}

impl Unit<'_> {
    /// Evaluate one file in `context`, with its includes merged in.
    fn config(&self, file: &ModuleDir, context: &Context) -> Config {
        let Some(parsed) = file.files.first() else {
            return unknown_config(Span::file_start(FileId(0)));
        };
        let (id, body) = (parsed.id, &parsed.body);
        let includes = self.includes(file, id, body, context);

        // `include.<name>` (`include` alone for a bare include), for files that expose it.
        let exposed = |inc: &Include| match (&inc.config, inc.expose) {
            (Some(config), true) => config.exposed(),
            _ => Value::Unknown,
        };
        let include_value = match includes.as_slice() {
            [bare] if bare.label.is_empty() => exposed(bare),
            _ => Value::Map(
                includes
                    .iter()
                    .map(|inc| (inc.label.clone(), exposed(inc)))
                    .collect(),
            ),
        };
        let host = Functions {
            unit: self,
            context,
            includes: &includes,
            include: Some(include_value),
        };
        let m = Module::hosted(self.env.workspace, file, context.file_dir.clone(), &host);

        let mut locals = BTreeMap::new();
        for block in body.blocks().filter(|b| b.ident.as_str() == "locals") {
            for attr in block.body.attributes() {
                let name = attr.key.as_str();
                locals.insert(name.to_string(), m.local(name).unwrap_or(Value::Unknown));
            }
        }
        let inputs = match body.get_attribute("inputs") {
            Some(attr) => inputs_of(&m, id, &attr.value),
            None => Inputs::none(),
        };
        let mut source = None;
        let mut sets_variables = false;
        for block in body.blocks().filter(|b| b.ident.as_str() == "terraform") {
            if let Some(attr) = block.body.get_attribute("source") {
                let value = m.eval_in(id, &attr.value, &Scope::default());
                let span = Span::new(id, attr.value.span().unwrap_or(0..0));
                let candidates = branches(&m, id, &attr.value);
                source = Some((value.unwrap_or(Value::Unknown), span, candidates));
            }
            sets_variables |= block
                .body
                .blocks()
                .filter(|b| b.ident.as_str() == "extra_arguments")
                .any(|b| extra_arguments_set_variables(&m, id, b));
        }
        let generates_code = body
            .blocks()
            .filter(|b| b.ident.as_str() == "generate")
            .any(|b| generates_code(&m, id, b));
        let skip = is_skipped(&m, id, body);
        let mut config = Config {
            locals: Value::Map(locals),
            inputs,
            source,
            sets_variables,
            generates_code,
            skip,
        };
        self.limits.borrow_mut().extend(m.limits_hit());
        drop(m);
        drop(host);

        // Later includes override earlier ones, the file itself overrides them all: merge from
        // the last include up (as Terragrunt does). `skip` and `locals` are never inherited.
        for inc in includes.into_iter().rev() {
            if inc.strategy == Strategy::NoMerge {
                continue;
            }
            let parent = inc.config.unwrap_or_else(|| unknown_config(inc.at));
            config = Config {
                locals: config.locals,
                inputs: Inputs::merge(parent.inputs, config.inputs, inc.strategy == Strategy::Deep),
                source: config.source.or(parent.source),
                sets_variables: config.sets_variables || parent.sets_variables,
                generates_code: config.generates_code || parent.generates_code,
                skip: config.skip,
            };
        }
        config
    }

    /// The `include` blocks of a file, each with the file it includes evaluated.
    fn includes(
        &self,
        file: &ModuleDir,
        id: FileId,
        body: &Body,
        context: &Context,
    ) -> Vec<Include> {
        let blocks: Vec<&Block> = body
            .blocks()
            .filter(|b| b.ident.as_str() == "include")
            .collect();
        if blocks.is_empty() {
            return Vec::new();
        }
        // Include paths are evaluated before anything else of the file.
        let host = Functions {
            unit: self,
            context,
            includes: &[],
            include: None,
        };
        let m = Module::hosted(self.env.workspace, file, context.file_dir.clone(), &host);
        let mut out = Vec::new();
        for block in blocks {
            let label = block
                .labels
                .first()
                .map(|l| l.as_str().to_string())
                .unwrap_or_default();
            let attr_value = |name: &str| {
                block
                    .body
                    .get_attribute(name)
                    .and_then(|a| m.eval_in(id, &a.value, &Scope::default()).ok())
            };
            let expose = attr_value("expose").and_then(|v| v.truthy()) == Some(true);
            let strategy = match attr_value("merge_strategy")
                .as_ref()
                .and_then(Value::as_known_str)
            {
                Some("no_merge") => Strategy::NoMerge,
                Some("deep") => Strategy::Deep,
                _ => Strategy::Shallow,
            };
            let path_attr = block.body.get_attribute("path");
            let at = match path_attr {
                Some(a) => Span::new(id, a.value.span().unwrap_or(0..0)),
                None => Span::new(id, crate::eval::module::block_range(block)),
            };
            let path = path_attr
                .and_then(|a| m.eval_in(id, &a.value, &Scope::default()).ok())
                .and_then(|v| v.as_known_str().map(str::to_string))
                .map(|p| self.env.absolute(&context.file_dir.join(p)));
            let included = path.as_ref().and_then(|path| {
                let dir = path.parent()?.to_path_buf();
                let context = Context {
                    terragrunt_dir: context.terragrunt_dir.clone(),
                    file_dir: dir,
                    included: true,
                };
                self.nested(path, at, "includes", |file| self.config(file, &context))
            });
            out.push(Include {
                label,
                dir: path.and_then(|p| p.parent().map(Path::to_path_buf)),
                config: included,
                expose,
                strategy,
                at,
            });
        }
        self.limits.borrow_mut().extend(m.limits_hit());
        out
    }

    /// Evaluate another file (included or read) unless that makes a cycle or goes too deep;
    /// `None` when it cannot be read or evaluated.
    fn nested<T>(
        &self,
        path: &Path,
        at: Span,
        verb: &str,
        evaluate: impl FnOnce(&ModuleDir) -> T,
    ) -> Option<T> {
        let stack = self.stack.borrow().clone();
        if let Some(first) = stack.iter().position(|p| p == path) {
            let mut chain: Vec<String> = stack[first..].iter().map(|p| self.shown(p)).collect();
            chain.push(self.shown(path));
            self.limit(
                at,
                format!(
                    "configuration cycle: {}; Terragrunt rejects it, and what it would bring is \
                     unknown here",
                    chain.join(&format!(" {verb} "))
                ),
            );
            return None;
        }
        if stack.len() > MAX_DEPTH {
            self.limit(
                at,
                format!(
                    "includes and reads of Terragrunt configurations nest more than {MAX_DEPTH} \
                     deep here; what {} would bring is unknown",
                    self.shown(path)
                ),
            );
            return None;
        }
        if self.budget.get() == 0 {
            self.limit(
                at,
                format!(
                    "this unit evaluates more than {MAX_FILES_PER_UNIT} Terragrunt files; what {} \
                     would bring is unknown",
                    self.shown(path)
                ),
            );
            return None;
        }
        self.budget.set(self.budget.get() - 1);
        let (id, text) = self.env.workspace.loader.load(path)?;
        let file = self.env.files.get(id, path, &text)?;
        self.files.borrow_mut().insert(id);
        self.stack.borrow_mut().push(path.to_path_buf());
        let result = evaluate(&file);
        self.stack.borrow_mut().pop();
        Some(result)
    }

    fn limit(&self, span: Span, message: String) {
        let mut limits = self.limits.borrow_mut();
        if !limits
            .iter()
            .any(|l| l.span == span && l.message == message)
        {
            limits.push(ParseError { span, message });
        }
    }

    fn shown(&self, path: &Path) -> String {
        let shown = path.strip_prefix(&self.env.shown_from).unwrap_or(path);
        shown.display().to_string()
    }

    /// `read_terragrunt_config(path)`: the file's configuration, evaluated in its own folder.
    fn read_config(&self, path: &Path, at: Span) -> Value {
        if let Some(hit) = self.reads.borrow().get(path) {
            return hit.clone();
        }
        let Some(dir) = path.parent() else {
            return Value::Unknown;
        };
        let context = Context {
            terragrunt_dir: dir.to_path_buf(),
            file_dir: dir.to_path_buf(),
            included: false,
        };
        let value = self
            .nested(path, at, "reads", |file| {
                self.config(file, &context).exposed()
            })
            .unwrap_or(Value::Unknown);
        self.reads
            .borrow_mut()
            .insert(path.to_path_buf(), value.clone());
        value
    }

    /// `find_in_parent_folders(name)`: the first folder above `from` with that file. Unknown
    /// when none below the scanned roots has it (it may be above them).
    fn find_in_parent_folders(&self, from: &Path, name: &str) -> Value {
        for dir in from.ancestors().skip(1) {
            let candidate = normalize(&dir.join(name));
            if self.env.workspace.loader.load(&candidate).is_some() {
                return path_value(&candidate);
            }
        }
        Value::Unknown
    }
}

/// A configuration whose every value is unknown (a file that could not be read), included at
/// `at`.
fn unknown_config(at: Span) -> Config {
    Config {
        locals: Value::Unknown,
        inputs: Inputs::unknown(),
        source: Some((Value::Unknown, at, Vec::new())),
        sets_variables: false,
        generates_code: false,
        skip: false,
    }
}

/// The values an expression may have by the branches of the conditions it is made of, when
/// a condition is not known: `"${c ? "a" : "b"}"` may be `"a"` or `"b"`.
fn branches(m: &Module<'_>, id: FileId, expr: &Expression) -> Vec<Value> {
    let scope = Scope::default();
    match expr {
        Expression::Parenthesis(p) => branches(m, id, p.inner()),
        Expression::Conditional(c) => match m.eval_in(id, &c.cond_expr, &scope).ok() {
            Some(v) if v.truthy() == Some(true) => branches(m, id, &c.true_expr),
            Some(v) if v.truthy() == Some(false) => branches(m, id, &c.false_expr),
            _ => {
                let mut out = branches(m, id, &c.true_expr);
                out.extend(branches(m, id, &c.false_expr));
                out
            }
        },
        Expression::StringTemplate(t) => match t.iter().collect::<Vec<_>>().as_slice() {
            [hcl_edit::template::Element::Interpolation(i)] => branches(m, id, &i.expr),
            _ => vec![m.eval_in(id, expr, &scope).unwrap_or(Value::Unknown)],
        },
        other => vec![m.eval_in(id, other, &scope).unwrap_or(Value::Unknown)],
    }
}

/// The `inputs` of a file, each key spanned where its value is written.
fn inputs_of(m: &Module<'_>, id: FileId, expr: &Expression) -> Inputs {
    let scope = Scope::default();
    let whole = Span::new(id, expr.span().unwrap_or(0..0));
    match expr {
        Expression::Object(object) => {
            let mut known = BTreeMap::new();
            for (key, value) in object.iter() {
                let key = match key {
                    ObjectKey::Ident(i) => i.as_str().to_string(),
                    ObjectKey::Expression(e) => {
                        match m.eval_in(id, e, &scope).ok().and_then(|v| v.to_str()) {
                            Some(k) if k.is_known() => k.display(),
                            // a key not known may replace any input
                            _ => return Inputs::unknown(),
                        }
                    }
                };
                let span = Span::new(id, value.expr().span().unwrap_or(0..0));
                let v = m
                    .eval_in(id, value.expr(), &scope)
                    .unwrap_or(Value::Unknown);
                known.insert(key, (v, span));
            }
            Inputs {
                known,
                complete: true,
            }
        }
        Expression::Parenthesis(p) => inputs_of(m, id, p.inner()),
        other => match m.eval_in(id, other, &scope) {
            Ok(Value::Map(map)) => Inputs {
                known: map
                    .into_iter()
                    .map(|(k, v)| {
                        let span = v.as_str().and_then(|s| s.origin).unwrap_or(whole);
                        (k, (v, span))
                    })
                    .collect(),
                complete: true,
            },
            _ => Inputs::unknown(),
        },
    }
}

/// Whether an `extra_arguments` block sets variables: var files, `-var` arguments or
/// `TF_VAR_` environment variables. Their values are not read; the unit's variables are
/// then unknown.
fn extra_arguments_set_variables(m: &Module<'_>, id: FileId, block: &Block) -> bool {
    let body = &block.body;
    if body.has_attribute("required_var_files") || body.has_attribute("optional_var_files") {
        return true;
    }
    let eval = |name: &str| {
        body.get_attribute(name).map(|a| {
            m.eval_in(id, &a.value, &Scope::default())
                .unwrap_or(Value::Unknown)
        })
    };
    let arguments_set = match eval("arguments") {
        None => false,
        Some(Value::List(args)) => args.iter().any(|a| match a.as_known_str() {
            Some(arg) => arg.starts_with("-var"),
            None => true,
        }),
        Some(_) => true,
    };
    let env_sets = match eval("env_vars") {
        None => false,
        Some(Value::Map(vars)) => vars.keys().any(|k| k.starts_with("TF_VAR_")),
        Some(_) => true,
    };
    arguments_set || env_sets
}

/// Whether a `generate` block may write resources or module calls (a provider or backend
/// does not change what the module creates).
fn generates_code(m: &Module<'_>, id: FileId, block: &Block) -> bool {
    let Some(contents) = block.body.get_attribute("contents") else {
        return false;
    };
    let Ok(Value::String(text)) = m.eval_in(id, &contents.value, &Scope::default()) else {
        return true;
    };
    text.parts().iter().any(|part| match part {
        Part::Lit(text) => text.lines().any(|line| {
            let line = line.trim_start();
            ["resource", "module"].iter().any(|kw| {
                line.strip_prefix(kw)
                    .is_some_and(|r| r.starts_with([' ', '"']))
            })
        }),
        Part::Sym(_) => false,
    })
}

/// `skip = true`, or an `exclude` block that excludes every action (Terragrunt's later form).
fn is_skipped(m: &Module<'_>, id: FileId, body: &Body) -> bool {
    let eval = |body: &Body, name: &str| {
        body.get_attribute(name)
            .and_then(|a| m.eval_in(id, &a.value, &Scope::default()).ok())
    };
    if eval(body, "skip").and_then(|v| v.truthy()) == Some(true) {
        return true;
    }
    body.blocks()
        .filter(|b| b.ident.as_str() == "exclude")
        .any(|b| {
            let applies = eval(&b.body, "if").and_then(|v| v.truthy()) == Some(true);
            let all = match eval(&b.body, "actions") {
                Some(Value::List(actions)) => actions
                    .iter()
                    .any(|a| matches!(a.as_known_str(), Some("all" | "apply"))),
                _ => false,
            };
            applies && all
        })
}

/// Terragrunt's functions and `include`, in the context of one file.
struct Functions<'u, 'e> {
    unit: &'u Unit<'e>,
    context: &'u Context,
    includes: &'u [Include],
    /// `None` while the include paths themselves are evaluated.
    include: Option<Value>,
}

impl Functions<'_, '_> {
    /// The folder of the include named `label` (the only one without a label), or of the
    /// file itself when it is the included one.
    fn include_dir(&self, args: &[Value]) -> Option<PathBuf> {
        if self.context.included {
            return Some(self.context.file_dir.clone());
        }
        let inc = match args.first() {
            Some(label) => {
                let label = label.as_known_str()?;
                self.includes.iter().find(|i| i.label == label)?
            }
            None => match self.includes {
                [only] => only,
                _ => return None,
            },
        };
        inc.dir.clone()
    }
}

impl Host for Functions<'_, '_> {
    fn call(&self, name: &str, args: &[Value], at: Span) -> Option<EvalResult> {
        let unit = self.unit;
        let known = |i: usize| args.get(i).and_then(Value::as_known_str);
        let dir = &self.context.terragrunt_dir;
        let value = match name {
            "find_in_parent_folders" => match args.first() {
                None => unit.find_in_parent_folders(dir, DEFAULT_CONFIG),
                Some(_) => match known(0) {
                    Some(file) => unit.find_in_parent_folders(dir, file),
                    None => Value::Unknown,
                },
            },
            "get_terragrunt_dir" => path_value(dir),
            "get_original_terragrunt_dir" => path_value(&unit.dir),
            "get_parent_terragrunt_dir" => match self.include_dir(args) {
                Some(d) => path_value(&d),
                None => Value::Unknown,
            },
            "path_relative_to_include" => match self.include_dir(args) {
                Some(include) => path_value(&relative(&include, dir)),
                None if self.includes.is_empty() => Value::str("."),
                None => Value::Unknown,
            },
            "path_relative_from_include" => match self.include_dir(args) {
                Some(include) => path_value(&relative(dir, &include)),
                None if self.includes.is_empty() => Value::str("."),
                None => Value::Unknown,
            },
            "get_repo_root" | "get_path_from_repo_root" | "get_path_to_repo_root" => {
                let absolute = unit.env.absolute(dir);
                match unit.env.workspace.loader.repo_root(&absolute) {
                    Some(root) => {
                        let root = unit.env.absolute(&root);
                        match name {
                            "get_repo_root" => path_value(&root),
                            "get_path_from_repo_root" => path_value(&relative(&root, dir)),
                            _ => path_value(&relative(dir, &root)),
                        }
                    }
                    None => Value::Unknown,
                }
            }
            // The environment of whoever runs Terragrunt is not known: the default is what a
            // run without the variable gets, and without one the value is unknown.
            "get_env" => args.get(1).cloned().unwrap_or(Value::Unknown),
            "get_aws_account_id" => Value::String(Str::sym(Symbol::Account)),
            "read_terragrunt_config" => match known(0) {
                Some(path) => unit.read_config(&unit.env.absolute(&dir.join(path)), at),
                None => Value::Unknown,
            },
            // Everything else Terragrunt adds runs commands, reads the environment or the
            // cloud, or is not needed for IRSA: unknown.
            "run_cmd"
            | "sops_decrypt_file"
            | "read_tfvars_file"
            | "get_terraform_command"
            | "get_terraform_cli_args"
            | "get_terraform_commands_that_need_vars"
            | "get_terraform_commands_that_need_input"
            | "get_terraform_commands_that_need_locking"
            | "get_terraform_commands_that_need_parallelism"
            | "get_aws_caller_identity_arn"
            | "get_aws_caller_identity_user_id"
            | "get_platform"
            | "get_working_dir"
            | "get_terragrunt_source_cli_flag"
            | "get_default_retryable_errors"
            | "mark_as_read"
            | "mark_glob_as_read"
            | "constraint_check" => Value::Unknown,
            _ => return None,
        };
        Some(Ok(value))
    }

    fn root(&self, name: &str) -> Option<Value> {
        match name {
            "include" => Some(self.include.clone().unwrap_or(Value::Unknown)),
            // A dependency's outputs exist only once it is applied; its mock outputs are not
            // the real values.
            "dependency" | "dependencies" | "feature" | "values" => Some(Value::Unknown),
            _ => None,
        }
    }
}

fn path_value(path: &Path) -> Value {
    Value::str(path.to_string_lossy().replace('\\', "/"))
}

/// A release tag: `v5.30.0`, `5.30`, `20`.
fn is_release(tag: &str) -> bool {
    let digits = tag.strip_prefix('v').unwrap_or(tag);
    !digits.is_empty()
        && digits
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

/// The path from folder `from` to `to`, both absolute (or both relative to one folder).
fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to[common..] {
        out.push(c.as_os_str());
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// Where a `terraform.source` leads. A local path is relative to the unit's folder (even
/// when written in an included file); `//` only marks where Terraform's copy starts.
pub fn source_of(value: &Value, unit_dir: &Path) -> Source {
    let Some(source) = value.as_known_str().map(str::trim) else {
        return Source::Unknown;
    };
    let query = |key: &str| {
        let (_, query) = source.split_once('?')?;
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == key).then(|| v.to_string())
        })
    };
    if let Some(rest) = source.strip_prefix("tfr://") {
        // `tfr:///namespace/name/provider//subdir?version=X`, the public registry by default
        let address = match rest.split_once('/') {
            Some(("" | "registry.terraform.io" | "registry.opentofu.org", address)) => address,
            _ => return Source::Unknown,
        };
        return Source::Remote {
            source: address.split('?').next().unwrap_or(address).to_string(),
            version: query("version"),
        };
    }
    let remote = source.contains("::")
        || source.contains("://")
        || source.starts_with("git@")
        || ["github.com/", "bitbucket.org/", "gitlab.com/"]
            .iter()
            .any(|host| source.starts_with(host));
    if remote {
        let version = query("ref");
        // A branch or a commit is not a release of a known major version.
        if version.as_deref().is_some_and(|r| !is_release(r)) {
            return Source::Unknown;
        }
        return Source::Remote {
            source: source.to_string(),
            version,
        };
    }
    let path = source
        .split('?')
        .next()
        .unwrap_or(source)
        .replace("//", "/");
    Source::Local(normalize(&unit_dir.join(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_as_terragrunt_users_write_them() {
        let dir = Path::new("/repo/live/prod/irsa");
        assert_eq!(
            source_of(&Value::str("../../../modules//irsa"), dir),
            Source::Local(PathBuf::from("/repo/modules/irsa"))
        );
        assert_eq!(
            source_of(&Value::str("/repo/modules/aws_iam//."), dir),
            Source::Local(PathBuf::from("/repo/modules/aws_iam"))
        );
        assert_eq!(
            source_of(
                &Value::str(
                    "tfr:///terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks?version=5.30.0"
                ),
                dir
            ),
            Source::Remote {
                source: "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
                    .into(),
                version: Some("5.30.0".into())
            }
        );
        assert_eq!(
            source_of(
                &Value::str("git::https://github.com/acme/modules.git//irsa?ref=main"),
                dir
            ),
            Source::Unknown,
            "a branch is no known release"
        );
        assert!(matches!(
            source_of(
                &Value::str("github.com/terraform-aws-modules/terraform-aws-iam//modules/iam-role-for-service-accounts-eks?ref=v5.39.1"),
                dir
            ),
            Source::Remote { version: Some(v), .. } if v == "v5.39.1"
        ));
        assert_eq!(source_of(&Value::Unknown, dir), Source::Unknown);
    }

    #[test]
    fn relative_paths_between_folders() {
        let rel = |a: &str, b: &str| relative(Path::new(a), Path::new(b));
        assert_eq!(rel("/r/live", "/r/live/prod/x"), PathBuf::from("prod/x"));
        assert_eq!(rel("/r/live/prod/x", "/r/live"), PathBuf::from("../.."));
        assert_eq!(rel("/r/a", "/r/a"), PathBuf::from("."));
    }

    #[test]
    fn deep_merge_as_terragrunt_documents_it() {
        let map = |pairs: &[(&str, Value)]| {
            Value::Map(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect(),
            )
        };
        let parent = map(&[
            ("tags", map(&[("team", Value::str("a"))])),
            ("subjects", Value::List(vec![Value::str("x")])),
        ]);
        let child = map(&[
            ("tags", map(&[("env", Value::str("prod"))])),
            ("subjects", Value::List(vec![Value::str("y")])),
        ]);
        let merged = deep_merge(parent, child);
        assert_eq!(
            merged.get_attr("tags"),
            map(&[("env", Value::str("prod")), ("team", Value::str("a"))])
        );
        assert_eq!(
            merged.get_attr("subjects"),
            Value::List(vec![Value::str("x"), Value::str("y")])
        );
    }
}
