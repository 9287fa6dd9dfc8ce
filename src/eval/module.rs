//! One Terraform module directory: its variables, locals, resources and data sources, and the
//! values of references between them.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Block, Body};

use super::FileLoader;
use super::budget::{Nested, RootBudget, Spent};
use super::value::{Str, Symbol, Value};
use super::workspace::{ModuleDir, Workspace, is_local_source, literal_source};
use crate::parse::ParseError;
use crate::source::{FileId, Span};

/// How deep module calls are followed (a module that calls itself ends here).
pub const MAX_MODULE_DEPTH: usize = 16;
/// How many module instances one root module's tree may create.
pub const MAX_MODULE_INSTANCES: usize = 2_000;

/// The instances of one module call, each an evaluated child module.
pub type ModuleInstances<'a> = Rc<Vec<(InstanceKey, Rc<Module<'a>>)>>;

/// A resource or data block.
pub struct Resource<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub file: FileId,
    pub block: &'a Block,
    pub data: bool,
}

impl Resource<'_> {
    pub fn address(&self) -> String {
        if self.data {
            format!("data.{}.{}", self.kind, self.name)
        } else {
            format!("{}.{}", self.kind, self.name)
        }
    }

    /// The span of the block's labels, where "this resource" is shown.
    pub fn label_span(&self) -> Span {
        Span::new(self.file, label_range(self.block))
    }
}

/// The key of one instance of a resource: none, a `count` index or a `for_each` key.
#[derive(Debug, Clone, PartialEq)]
pub enum InstanceKey {
    Single,
    Index(usize),
    Key(String),
}

impl InstanceKey {
    pub fn suffix(&self) -> String {
        match self {
            InstanceKey::Single => String::new(),
            InstanceKey::Index(i) => format!("[{i}]"),
            InstanceKey::Key(k) => format!("[\"{k}\"]"),
        }
    }
}

/// Variables bound while evaluating: `each`, `count`, for-expression and template variables.
/// Binding one shares the rest: a `for` over many items does not copy the scope per item.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    innermost: Option<Rc<Binding>>,
}

#[derive(Debug)]
struct Binding {
    name: String,
    value: Value,
    outer: Scope,
}

impl Scope {
    pub fn with(&self, name: &str, value: Value) -> Scope {
        Scope {
            innermost: Some(Rc::new(Binding {
                name: name.to_string(),
                value,
                outer: self.clone(),
            })),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        let mut at = self.innermost.as_deref();
        while let Some(binding) = at {
            if binding.name == name {
                return Some(&binding.value);
            }
            at = binding.outer.innermost.as_deref();
        }
        None
    }
}

impl Drop for Binding {
    /// Unlinks the chain one binding at a time: dropping a long one recursively could
    /// overflow the stack.
    fn drop(&mut self) {
        let mut next = self.outer.innermost.take();
        while let Some(binding) = next {
            match Rc::try_unwrap(binding) {
                Ok(mut binding) => next = binding.outer.innermost.take(),
                Err(_) => break,
            }
        }
    }
}

/// Functions and reference roots that a language built on Terraform's syntax adds to it
/// (Terragrunt's `find_in_parent_folders()` and `include.root.locals`), consulted before
/// Terraform's own.
pub trait Host {
    /// The value of a call of a function the host defines; `None` when it defines no `name`.
    /// `at` is where the call is written.
    fn call(&self, name: &str, args: &[Value], at: Span) -> Option<EvalResult>;
    /// The value of a reference root the host defines (`include`); `None` when it does not.
    fn root(&self, name: &str) -> Option<Value>;
}

/// How a root module is run from outside Terraform (a Terragrunt unit): where it is called
/// from, where each of its inputs is written, and the files those inputs are written in.
pub struct RootCall {
    /// Shown for what a built-in model makes up itself (`terraform { source = ... }`).
    pub call_site: Span,
    pub input_spans: HashMap<String, Span>,
    /// A value written in one of these files is shown there rather than in the module's code:
    /// it is what the caller chose, and what to change.
    pub input_files: HashSet<FileId>,
}

/// An evaluation that provably fails (a missing key of a known map, an out-of-range index):
/// Terraform would raise an error, so `try()` moves on to its next argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fail;

pub type EvalResult = Result<Value, Fail>;

pub struct Module<'a> {
    /// The module directory on disk, for `file()` paths.
    pub dir: PathBuf,
    pub workspace: &'a Workspace<'a>,
    /// A built-in model of a registry module: spans in it are replaced by the user's.
    pub is_model: bool,
    /// The module instance's address prefix (`module.irsa["ebs"].`), empty for a root.
    pub address: String,
    /// The root module's folder: addresses repeat across roots (every environment has its
    /// `aws_iam_role.app`), so symbols keyed by an address are keyed by the root too.
    root_key: Rc<str>,
    /// The labels of the caller's module block, shown for a value a model made up itself.
    pub call_site: Option<Span>,
    /// For a model: the `source` and literal `version` the caller wrote.
    pub registry_call: Option<(String, Option<String>)>,
    depth: usize,
    /// The module directories from the root down to this one, to refuse a cycle.
    ancestors: Vec<PathBuf>,
    /// Module instances created in this root's tree, shared by all of them.
    instance_budget: Rc<Cell<usize>>,
    /// Where this root's tree hit an evaluation limit, shared by all of its modules.
    limits_hit: Rc<RefCell<Vec<ParseError>>>,
    /// Variables not set by the caller are unknown rather than their defaults (their real
    /// values are in a file irsa-lint cannot read).
    defaults_hidden: bool,
    /// The file whose expression is being evaluated, to record where literals come from.
    current_file: Cell<Option<FileId>>,
    /// The expression evaluated last: where a budget spent by a copy is said to stop.
    last_evaluated: Cell<Option<Span>>,
    module_calls: HashMap<&'a str, (FileId, &'a Block)>,
    /// Where the caller wrote each input of this module instance.
    input_spans: HashMap<String, Span>,
    children: RefCell<HashMap<String, Option<ModuleInstances<'a>>>>,
    /// Files of the module with their parsed bodies and their text.
    pub files: Vec<(FileId, &'a Body, &'a str)>,
    variables: HashMap<&'a str, (FileId, &'a Block)>,
    var_values: HashMap<String, Value>,
    locals: HashMap<&'a str, (FileId, &'a Expression)>,
    /// Resources by type, then name.
    resources: HashMap<&'a str, HashMap<&'a str, Resource<'a>>>,
    data: HashMap<&'a str, HashMap<&'a str, Resource<'a>>>,
    pub(super) loader: &'a dyn FileLoader,
    cache: RefCell<HashMap<String, Value>>,
    in_progress: RefCell<HashSet<String>>,
    /// Module calls read while they were being set up (seen unknown), most recent last.
    cycle_hits: RefCell<Vec<String>>,
    /// Some module call's instances were read before they were settled (see
    /// [`Module::module_instances`]).
    read_provisional: Cell<bool>,
    /// The evaluation this root's tree may still do, shared by all of its modules.
    budget: Rc<RootBudget<'a>>,
    /// A `templatefile()` is being rendered: Terraform refuses to nest them.
    pub(super) in_template: Cell<bool>,
    /// What-if evaluation: boolean variables left at a `false` default that decide whether
    /// something exists (see [`Module::gate_variables`]) are taken as `true`.
    what_if: bool,
    /// The gate variables read while evaluating, innermost expression last.
    gates_read: RefCell<Vec<BTreeSet<String>>>,
    /// The gate variables each local read, for later reads of its cached value.
    local_gates: RefCell<HashMap<String, BTreeSet<String>>>,
    /// The gate variables that decide whether each block (by its first byte) exists.
    block_gates: RefCell<HashMap<(FileId, usize), BTreeSet<String>>>,
    /// The gate variables that decided this module instance exists (from its callers).
    inherited_gates: BTreeSet<String>,
    /// Whether some resource or module call of this root's tree has no instance.
    saw_no_instances: Rc<Cell<bool>>,
    gate_variables: std::cell::OnceCell<HashSet<String>>,
    /// Functions and reference roots beyond Terraform's (see [`Host`]).
    host: Option<&'a dyn Host>,
    /// Files whose values are shown where they are written, even inside the module's code
    /// (see [`RootCall::input_files`]); shared by the whole tree of a root.
    input_files: Rc<HashSet<FileId>>,
}

/// What a what-if evaluation of a root's module calls alone spends (see
/// [`Module::what_if_instances`]).
pub struct WhatIfWorld<'a> {
    budget: Rc<RootBudget<'a>>,
    instance_budget: Rc<Cell<usize>>,
}

impl WhatIfWorld<'_> {
    /// Whether some of its evaluation was cut short (see [`Module::evaluation_cut`]).
    pub fn cut(&self) -> bool {
        self.budget.spent().is_some() || self.budget.cut_by_depth.get()
    }
}

impl<'a> Module<'a> {
    /// A root module. `var_values` are the values set by tfvars files and flags, in
    /// precedence order already applied.
    pub fn root(
        workspace: &'a Workspace<'a>,
        dir: &'a ModuleDir,
        var_values: HashMap<String, Value>,
    ) -> Self {
        let mut root = Module::new(workspace, dir, var_values, String::new(), None, 0);
        root.root_key = dir.dir.display().to_string().into();
        root
    }

    /// The key of a symbol that stands for something of one resource of this root's tree
    /// (its generated name suffix, its unevaluated name, a cluster's issuer).
    pub fn symbol_key(&self, address: &str) -> String {
        crate::eval::value::qualified_key(&self.root_key, address)
    }

    /// A root module run from outside Terraform, with its inputs set by the caller (a
    /// Terragrunt unit's `inputs`).
    pub fn called_root(
        workspace: &'a Workspace<'a>,
        dir: &'a ModuleDir,
        var_values: HashMap<String, Value>,
        call: RootCall,
    ) -> Self {
        let mut m = Module::new(
            workspace,
            dir,
            var_values,
            String::new(),
            Some(call.call_site),
            0,
        );
        m.input_spans = call.input_spans;
        m.input_files = Rc::new(call.input_files);
        m
    }

    /// A file in another language built on Terraform's syntax (a Terragrunt configuration),
    /// evaluated with the functions and reference roots `host` adds. `dir` is where its
    /// relative paths start.
    pub fn hosted(
        workspace: &'a Workspace<'a>,
        file: &'a ModuleDir,
        dir: PathBuf,
        host: &'a dyn Host,
    ) -> Self {
        let mut m = Module::new(workspace, file, HashMap::new(), String::new(), None, 0);
        m.dir = dir;
        m.host = Some(host);
        m
    }

    /// The host's function of this name, if it defines one.
    pub(super) fn host_call(&self, name: &str, args: &[Value], at: Span) -> Option<EvalResult> {
        self.host?.call(name, args, at)
    }

    /// The host's reference root of this name, if it defines one.
    pub(super) fn host_root(&self, name: &str) -> Option<Value> {
        self.host?.root(name)
    }

    /// Whether a value written at `origin` is the caller's input, shown where it is written.
    pub(super) fn is_input(&self, origin: Option<Span>) -> bool {
        origin.is_some_and(|o| self.input_files.contains(&o.file))
    }

    /// The file whose expression is being evaluated.
    pub(super) fn current_file(&self) -> Option<FileId> {
        self.current_file.get()
    }

    /// Evaluate in `file` from now on; returns the file evaluated before.
    pub(super) fn set_current_file(&self, file: Option<FileId>) -> Option<FileId> {
        self.current_file.replace(file)
    }

    fn new(
        workspace: &'a Workspace<'a>,
        module_dir: &'a ModuleDir,
        var_values: HashMap<String, Value>,
        address: String,
        call_site: Option<Span>,
        depth: usize,
    ) -> Self {
        let files: Vec<(FileId, &'a Body, &'a str)> = module_dir
            .files
            .iter()
            .map(|f| (f.id, &f.body, &*f.text))
            .collect();
        let mut m = Module {
            dir: module_dir.dir.clone(),
            workspace,
            is_model: module_dir.is_model,
            address,
            root_key: Rc::from(""),
            call_site,
            registry_call: None,
            depth,
            ancestors: Vec::new(),
            instance_budget: Rc::new(Cell::new(MAX_MODULE_INSTANCES)),
            limits_hit: Rc::default(),
            defaults_hidden: false,
            current_file: Cell::new(None),
            last_evaluated: Cell::new(None),
            module_calls: HashMap::new(),
            input_spans: HashMap::new(),
            children: RefCell::new(HashMap::new()),
            files: Vec::new(),
            variables: HashMap::new(),
            var_values,
            locals: HashMap::new(),
            resources: HashMap::new(),
            data: HashMap::new(),
            loader: workspace.loader,
            cache: RefCell::new(HashMap::new()),
            in_progress: RefCell::new(HashSet::new()),
            cycle_hits: RefCell::new(Vec::new()),
            read_provisional: Cell::new(false),
            budget: Rc::new(RootBudget::new(workspace.budget)),
            in_template: Cell::new(false),
            what_if: false,
            gates_read: RefCell::new(Vec::new()),
            local_gates: RefCell::new(HashMap::new()),
            block_gates: RefCell::new(HashMap::new()),
            inherited_gates: BTreeSet::new(),
            saw_no_instances: Rc::default(),
            gate_variables: std::cell::OnceCell::new(),
            host: None,
            input_files: Rc::default(),
        };
        for &(file, body, _) in &files {
            m.index_body(file, body);
        }
        m.files = files;
        m
    }

    fn index_body(&mut self, file: FileId, body: &'a Body) {
        for block in body.blocks() {
            let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
            match (block.ident.as_str(), labels.as_slice()) {
                ("variable", [name]) => {
                    self.variables.insert(name, (file, block));
                }
                ("module", [name]) => {
                    self.module_calls.insert(name, (file, block));
                }
                ("locals", []) => {
                    for attr in block.body.attributes() {
                        self.locals.insert(attr.key.as_str(), (file, &attr.value));
                    }
                }
                (kind @ ("resource" | "data"), [type_name, name]) => {
                    let data = kind == "data";
                    let index = if data {
                        &mut self.data
                    } else {
                        &mut self.resources
                    };
                    index.entry(type_name).or_default().insert(
                        name,
                        Resource {
                            kind: type_name,
                            name,
                            file,
                            block,
                            data,
                        },
                    );
                }
                _ => {}
            }
        }
    }

    pub fn source_text(&self, file: FileId) -> Option<&'a str> {
        self.files
            .iter()
            .find(|(f, _, _)| *f == file)
            .map(|(_, _, t)| *t)
    }

    pub fn loader(&self) -> &'a dyn FileLoader {
        self.loader
    }

    /// Where a local is written, for readers that need its syntax (trust policies).
    pub fn local_expression(&self, name: &str) -> Option<(FileId, &'a Expression)> {
        self.locals.get(name).copied()
    }

    /// Every resource (or data source) of a type, in file and position order.
    pub fn resources_of(&self, kind: &str, data: bool) -> Vec<&Resource<'a>> {
        let map = if data { &self.data } else { &self.resources };
        let mut out: Vec<&Resource<'a>> = map
            .get(kind)
            .map(|m| m.values().collect())
            .unwrap_or_default();
        out.sort_by_key(|r| (r.file, block_range(r.block).start));
        out
    }

    pub fn data_source(&self, kind: &str, name: &str) -> Option<&Resource<'a>> {
        self.data.get(kind)?.get(name)
    }

    pub fn resource(&self, kind: &str, name: &str) -> Option<&Resource<'a>> {
        self.resources.get(kind)?.get(name)
    }

    /// Count one evaluation step; false once a budget is spent.
    pub(super) fn step(&self) -> bool {
        self.step_at(None)
    }

    /// Count one evaluation step of the expression at `range` of the current file; false
    /// once a budget is spent. The first time, says that evaluation stopped there.
    pub(super) fn step_at(&self, range: Option<std::ops::Range<usize>>) -> bool {
        if let (Some(file), Some(range)) = (self.current_file.get(), range.clone()) {
            self.last_evaluated.set(Some(Span::new(file, range)));
        }
        self.charge_at(1, 0, range)
    }

    /// Count the bytes of a value produced or copied; false once a budget is spent.
    pub(super) fn charge_bytes(&self, bytes: u64) -> bool {
        self.charge_at(0, bytes, None)
    }

    /// Count steps (comparisons, elements iterated) beyond the one each expression takes.
    pub(super) fn charge_steps(&self, steps: u64) -> bool {
        self.charge_at(steps, 0, None)
    }

    fn charge_at(&self, steps: u64, bytes: u64, range: Option<std::ops::Range<usize>>) -> bool {
        let before = self.budget.spent();
        match self.budget.charge(steps, bytes) {
            Ok(()) => true,
            Err(spent) => {
                if before.is_none() {
                    self.report_spent(spent, range);
                }
                false
            }
        }
    }

    /// A copy of `value` for a reader, counted by its size; unknown once a budget is spent.
    pub(super) fn copied(&self, value: &Value) -> Value {
        match self.charge_bytes(super::budget::weight(value)) {
            true => value.clone(),
            false => Value::Unknown,
        }
    }

    fn report_spent(&self, spent: Spent, range: Option<std::ops::Range<usize>>) {
        let span = match (self.current_file.get(), range, self.last_evaluated.get()) {
            (Some(file), Some(range), _) => self.user_span(Span::new(file, range), None),
            (_, _, Some(last)) => self.user_span(last, None),
            _ => self.module_span(),
        };
        self.limit_hit(
            span,
            format!(
                "evaluation of {} stopped here: {}; the values it had not reached are unknown",
                self.shown_name(),
                spent.describe()
            ),
        );
    }

    /// Enter one level of nested evaluation; `None` (and said where, once per root) when it
    /// would nest deeper than [`super::budget::MAX_EVAL_DEPTH`].
    pub(super) fn enter(&self, range: Option<std::ops::Range<usize>>) -> Option<Nested<'_, 'a>> {
        if self.budget.enter() {
            return Some(Nested(&self.budget));
        }
        if !self.budget.cut_by_depth.replace(true) {
            let span = match (self.current_file.get(), range) {
                (Some(file), Some(range)) => self.user_span(Span::new(file, range), None),
                _ => self.module_span(),
            };
            self.limit_hit(
                span,
                format!(
                    "evaluation of {} stopped here: expressions nested (through locals, \
                     resources and outputs) over {} deep; the values it had not reached are \
                     unknown",
                    self.shown_name(),
                    super::budget::MAX_EVAL_DEPTH
                ),
            );
        }
        None
    }

    /// Whether evaluation of this root's tree stopped short (a budget spent, nesting too
    /// deep): what it did not reach may create or annotate anything.
    pub fn evaluation_cut(&self) -> bool {
        self.budget.spent().is_some() || self.budget.cut_by_depth.get()
    }

    /// Where this root's tree hit an evaluation limit, in the order they were hit.
    pub fn limits_hit(&self) -> Vec<ParseError> {
        self.limits_hit.borrow().clone()
    }

    pub(super) fn limit_hit(&self, span: Span, message: String) {
        let mut hits = self.limits_hit.borrow_mut();
        if !hits.iter().any(|h| h.span == span && h.message == message) {
            hits.push(ParseError { span, message });
        }
    }

    /// The module as the user knows it: its address, or its folder for a root module.
    fn shown_name(&self) -> String {
        match self.address.strip_suffix('.') {
            Some(address) => address.to_string(),
            None => format!("the module in {}", self.dir.display()),
        }
    }

    /// The caller's module block, or the start of the module's first file for a root.
    fn module_span(&self) -> Span {
        match (self.call_site, self.files.first()) {
            (Some(call_site), _) => call_site,
            (None, Some((file, _, _))) => Span::file_start(*file),
            (None, None) => Span::file_start(FileId(0)),
        }
    }

    /// Evaluate with a cycle guard and a cache, keyed by a reference's address.
    fn memo(&self, key: String, compute: impl FnOnce() -> EvalResult) -> EvalResult {
        if let Some(v) = self.cache.borrow().get(&key) {
            return Ok(self.copied(v));
        }
        if !self.in_progress.borrow_mut().insert(key.clone()) {
            return Ok(Value::Unknown);
        }
        let result = compute();
        self.in_progress.borrow_mut().remove(&key);
        let value = result?;
        // The cache keeps a copy: counted like any other.
        let kept = self.copied(&value);
        self.cache.borrow_mut().insert(key, kept);
        Ok(value)
    }

    pub fn variable(&self, name: &str) -> EvalResult {
        let declared = self.variables.get(name).copied();
        let ty = declared.and_then(|(_, block)| block.body.get_attribute("type"));
        if self.what_if
            && !self.var_values.contains_key(name)
            && !self.defaults_hidden
            && self.gate_variables().contains(name)
            && let Some((file, block)) = declared
            && let Some(default) = block.body.get_attribute("default")
            && matches!(
                self.eval_in(file, &default.value, &Scope::default()),
                Ok(Value::Bool(false))
            )
        {
            let gate = if self.address.is_empty() {
                format!("var.{name} = true")
            } else {
                format!("{name} = true in {}", self.address.trim_end_matches('.'))
            };
            if let Some(top) = self.gates_read.borrow_mut().last_mut() {
                top.insert(gate);
            }
            return Ok(Value::Bool(true));
        }
        if let Some(v) = self.var_values.get(name) {
            let v = self.copied(v);
            return Ok(match ty {
                Some(t) => self.conform(v, &t.value),
                None => v,
            });
        }
        let Some((file, block)) = declared else {
            return Ok(Value::Unknown);
        };
        if self.defaults_hidden {
            return Ok(Value::Unknown);
        }
        match block.body.get_attribute("default") {
            Some(attr) => self.memo(format!("var.{name}"), || {
                let v = self.eval_in(file, &attr.value, &Scope::default())?;
                Ok(match ty {
                    Some(t) => self.conform(v, &t.value),
                    None => v,
                })
            }),
            None => Ok(Value::Unknown),
        }
    }

    pub fn local(&self, name: &str) -> EvalResult {
        let Some(&(file, expr)) = self.locals.get(name) else {
            return Ok(Value::Unknown);
        };
        let key = format!("local.{name}");
        if self.in_progress.borrow().contains(&key) {
            // Terraform rejects the cycle; say so rather than leave the value silently unknown.
            let span = self.user_span(Span::new(file, expr.span().unwrap_or(0..0)), None);
            let message = format!(
                "local.{name} depends on itself; terraform rejects the cycle and its value is \
                 unknown here"
            );
            self.limit_hit(span, message);
        }
        if !self.what_if {
            return self.memo(key, || self.eval_in(file, expr, &Scope::default()));
        }
        // A cached local says which gates it read when it was computed.
        let cached = self.cache.borrow().contains_key(&key);
        if !cached {
            self.gates_read.borrow_mut().push(BTreeSet::new());
        }
        let result = self.memo(key, || self.eval_in(file, expr, &Scope::default()));
        if !cached {
            let read = self.gates_read.borrow_mut().pop().unwrap_or_default();
            self.local_gates.borrow_mut().insert(name.to_string(), read);
        }
        let read = self
            .local_gates
            .borrow()
            .get(name)
            .cloned()
            .unwrap_or_default();
        if let Some(top) = self.gates_read.borrow_mut().last_mut() {
            top.extend(read);
        }
        result
    }

    /// Evaluate an expression written in `file`: literals remember where they were written.
    pub fn eval_in(&self, file: FileId, expr: &Expression, scope: &Scope) -> EvalResult {
        let previous = self.current_file.replace(Some(file));
        let result = self.eval(expr, scope);
        self.current_file.set(previous);
        result
    }

    /// Where a literal at `range` of the current file was written, when that is the user's.
    pub(super) fn origin_of(&self, range: Option<std::ops::Range<usize>>) -> Option<Span> {
        if self.is_model {
            return None;
        }
        Some(Span::new(self.current_file.get()?, range?))
    }

    /// A span for a fact: in the user's code as is; in a model, where the value was written
    /// by the user (its origin), or else the module call. A value that came from the inputs
    /// of a root run from outside Terraform is shown where the caller wrote it.
    pub fn user_span(&self, span: Span, origin: Option<Span>) -> Span {
        if let Some(origin) = origin
            && self.is_input(Some(origin))
        {
            return origin;
        }
        if !self.is_model {
            return span;
        }
        origin.or(self.call_site).unwrap_or(span)
    }

    /// The instances of a module call, each evaluated with its inputs. `None` when the call
    /// cannot be followed (unknown source, unknown instances, too deep).
    pub fn module_instances(&self, name: &str) -> Option<ModuleInstances<'a>> {
        if let Some(cached) = self.children.borrow().get(name) {
            return cached.clone();
        }
        // Two calls whose inputs read each other's outputs (the EKS module taking the EBS CSI
        // role's ARN, the role taking the cluster's provider): while one is being set up, the
        // other sees it as unknown.
        let guard = format!("module.{name}");
        if !self.in_progress.borrow_mut().insert(guard.clone()) {
            self.cycle_hits.borrow_mut().push(guard);
            return None;
        }
        let hits_before = self.cycle_hits.borrow().len();
        let budget_before = self.instance_budget.get();
        let computed = self.instantiate(name, None).map(Rc::new);
        self.in_progress.borrow_mut().remove(&guard);
        // Reads of this call while it was set up are settled now. A read of another call still
        // being set up saw it unknown: that result serves the other call's inputs only, and is
        // made again, with the other call's values, when asked for next (Terraform orders
        // resources, not module calls, so the real values are known).
        let provisional = {
            let mut hits = self.cycle_hits.borrow_mut();
            let others: Vec<String> = hits.drain(hits_before..).filter(|h| *h != guard).collect();
            let provisional = !others.is_empty();
            hits.extend(others);
            provisional
        };
        if provisional {
            self.instance_budget.set(budget_before);
            self.read_provisional.set(true);
            return computed;
        }
        self.children
            .borrow_mut()
            .insert(name.to_string(), computed.clone());
        computed
    }

    /// Names of the module calls, in file and position order.
    /// The block of a module call, and its file.
    pub fn module_call(&self, name: &str) -> Option<(FileId, &'a Block)> {
        self.module_calls.get(name).copied()
    }

    pub fn module_call_names(&self) -> Vec<&'a str> {
        let mut calls: Vec<(&'a str, FileId, usize)> = self
            .module_calls
            .iter()
            .map(|(n, (f, b))| (*n, *f, block_range(b).start))
            .collect();
        calls.sort_by_key(|(_, f, start)| (*f, *start));
        calls.into_iter().map(|(n, _, _)| n).collect()
    }

    /// The instances of a module call; with `world`, made for a what-if evaluation of them
    /// alone, spending its budgets (see [`Module::what_if_instances`]).
    fn instantiate(
        &self,
        name: &str,
        world: Option<&WhatIfWorld<'a>>,
    ) -> Option<Vec<(InstanceKey, Rc<Module<'a>>)>> {
        let &(file, block) = self.module_calls.get(name)?;
        if self.depth >= MAX_MODULE_DEPTH {
            let span = self.user_span(Span::new(file, label_range(block)), None);
            self.limit_hit(
                span,
                format!(
                    "module {name} is nested more than {MAX_MODULE_DEPTH} modules deep and was not \
                 evaluated; its values are unknown"
                ),
            );
            return None;
        }
        let source = literal_source(block)?;
        let version = block
            .body
            .get_attribute("version")
            .and_then(|a| match &a.value {
                Expression::String(s) => Some(s.value().to_string()),
                _ => None,
            });
        let dir = if is_local_source(&source) {
            self.workspace.local_dir(&self.dir, &source)?
        } else {
            &self.workspace.model(&source, version.as_deref())?.dir
        };
        if dir.dir == self.dir || self.ancestors.contains(&dir.dir) {
            // Terraform refuses a module that calls itself or one of its callers.
            let span = self.user_span(Span::new(file, label_range(block)), None);
            let message = match dir.dir == self.dir {
                true => format!(
                    "module {name} calls its own folder; terraform refuses the cycle, the \
                     call is not followed and its values are unknown"
                ),
                false => format!(
                    "module {name} calls {}, which calls this module: terraform refuses the \
                     cycle, the call is not followed and its values are unknown",
                    dir.dir.display()
                ),
            };
            self.limit_hit(span, message);
            return None;
        }
        // The gates read while setting up the call (its count, for_each and inputs) decide
        // whether its instances exist.
        self.gates_read.borrow_mut().push(BTreeSet::new());
        let instances = self.instances_of(file, block);
        let call_gates = self.gates_read.borrow_mut().pop().unwrap_or_default();
        let instances = instances?;
        let instance_budget = world.map_or(&self.instance_budget, |w| &w.instance_budget);
        let budget = instance_budget.get();
        if instances.len() > budget {
            return None;
        }
        instance_budget.set(budget - instances.len());
        let call_site = self.user_span(Span::new(file, label_range(block)), None);
        let mut out = Vec::new();
        for (key, scope) in instances {
            let mut inputs = HashMap::new();
            let mut input_spans = HashMap::new();
            for attr in block.body.attributes() {
                let arg = attr.key.as_str();
                if matches!(
                    arg,
                    "source" | "version" | "for_each" | "count" | "providers" | "depends_on"
                ) {
                    continue;
                }
                let value = self
                    .eval_in(file, &attr.value, &scope)
                    .unwrap_or(Value::Unknown);
                inputs.insert(arg.to_string(), value);
                let span = Span::new(file, attr.value.span().unwrap_or(0..0));
                input_spans.insert(arg.to_string(), self.user_span(span, None));
                if !self.is_model {
                    self.entry_spans(arg, file, &attr.value, 2, &mut input_spans);
                }
            }
            let address = format!("{}module.{name}{}.", self.address, key.suffix());
            let mut child = Module::new(
                self.workspace,
                dir,
                inputs,
                address,
                Some(call_site),
                self.depth + 1,
            );
            child.input_spans = input_spans;
            if !is_local_source(&source) {
                child.registry_call = Some((source.clone(), version.clone()));
            }
            child.root_key = self.root_key.clone();
            child.what_if = self.what_if || world.is_some();
            child.inherited_gates = self.inherited_gates.clone();
            child.inherited_gates.extend(call_gates.iter().cloned());
            child.instance_budget = instance_budget.clone();
            match world {
                // What a what-if evaluation hits or leaves without instances is its own.
                Some(world) => child.budget = world.budget.clone(),
                None => {
                    child.saw_no_instances = self.saw_no_instances.clone();
                    child.budget = self.budget.clone();
                    child.limits_hit = self.limits_hit.clone();
                }
            }
            child.input_files = self.input_files.clone();
            child.ancestors = self.ancestors.clone();
            child.ancestors.push(self.dir.clone());
            out.push((key, Rc::new(child)));
        }
        Some(out)
    }

    /// Whether a what-if evaluation would take one of this module's own variables as on: a
    /// gate variable the caller left unset, whose default is `false`.
    pub fn flips_gates(&self) -> bool {
        if self.defaults_hidden {
            return false;
        }
        self.gate_variables().iter().any(|name| {
            !self.var_values.contains_key(name)
                && self
                    .variables
                    .get(name.as_str())
                    .and_then(|(file, block)| Some((*file, block.body.get_attribute("default")?)))
                    .is_some_and(|(file, default)| {
                        matches!(
                            self.eval_in(file, &default.value, &Scope::default()),
                            Ok(Value::Bool(false))
                        )
                    })
        })
    }

    /// Whether some module call's instances were read while another call was being set up:
    /// what they gave is not in the instances kept (see [`Module::same_outputs_read`]).
    pub fn read_provisional_instances(&self) -> bool {
        self.read_provisional.get()
    }

    /// The instances of a module call made again for a what-if evaluation of them alone (see
    /// [`Module::what_if_enabled`]), with the inputs this module gives them, spending
    /// `world`'s budgets: what their flags add, when this module's values are the same in
    /// both evaluations.
    pub fn what_if_instances(
        &self,
        name: &str,
        world: &WhatIfWorld<'a>,
    ) -> Option<Vec<(InstanceKey, Rc<Module<'a>>)>> {
        self.instantiate(name, Some(world))
    }

    /// Whether every output of this module its caller read has the same value in `twin`.
    pub fn same_outputs_read(&self, twin: &Module<'a>) -> bool {
        let read: Vec<(String, Value)> = (self.cache.borrow().iter())
            .filter_map(|(key, value)| {
                Some((key.strip_prefix("output.")?.to_string(), value.clone()))
            })
            .collect();
        read.into_iter()
            .all(|(name, value)| twin.output(&name).is_ok_and(|twin| twin == value))
    }

    /// Budgets for a what-if evaluation of a root's module calls alone, apart from the
    /// written evaluation's, as a what-if evaluation of the whole root has its own.
    pub fn what_if_world(&self) -> WhatIfWorld<'a> {
        WhatIfWorld {
            budget: Rc::new(RootBudget::new(self.workspace.budget)),
            instance_budget: Rc::new(Cell::new(MAX_MODULE_INSTANCES)),
        }
    }

    /// Evaluate as if every gate variable left at a `false` default were `true` (see
    /// [`Module::gate_variables`]): what the configuration creates once those flags are on.
    pub fn what_if_enabled(&mut self) {
        self.what_if = true;
    }

    /// Whether some resource or module call of this root's tree has no instance (a flag that
    /// is off, an empty map): only then can a what-if evaluation add anything.
    pub fn saw_no_instances(&self) -> bool {
        self.saw_no_instances.get()
    }

    /// The flags that had to be on for this resource (or module call) to exist, as shown in a
    /// note (`var.enable_x = true`); empty when it exists anyway.
    pub fn gates_of(&self, res: &Resource<'a>) -> Vec<String> {
        let key = (res.file, block_range(res.block).start);
        let mut gates = self.inherited_gates.clone();
        if let Some(own) = self.block_gates.borrow().get(&key) {
            gates.extend(own.iter().cloned());
        }
        gates.into_iter().collect()
    }

    /// The variables that decide whether something exists: read (directly or through locals)
    /// by a `count` or `for_each`, or passed into a module call (whose own gates they feed).
    fn gate_variables(&self) -> &HashSet<String> {
        self.gate_variables.get_or_init(|| {
            let mut texts: Vec<&str> = Vec::new();
            let text_of = |file: FileId, expr: &Expression| -> Option<&'a str> {
                let (_, _, text) = self.files.iter().find(|(id, _, _)| *id == file)?;
                text.get(expr.span()?)
            };
            for kinds in [&self.resources, &self.data] {
                for res in kinds.values().flat_map(HashMap::values) {
                    for key in ["count", "for_each"] {
                        if let Some(a) = res.block.body.get_attribute(key) {
                            texts.extend(text_of(res.file, &a.value));
                        }
                    }
                }
            }
            for &(file, block) in self.module_calls.values() {
                for a in block.body.attributes() {
                    texts.extend(text_of(file, &a.value));
                }
            }
            let mut variables = HashSet::new();
            let mut seen_locals = HashSet::new();
            while let Some(text) = texts.pop() {
                for name in references(text, "var.") {
                    variables.insert(name.to_string());
                }
                for name in references(text, "local.") {
                    if seen_locals.insert(name.to_string())
                        && let Some(&(file, expr)) = self.locals.get(name)
                    {
                        texts.extend(text_of(file, expr));
                    }
                }
            }
            variables
        })
    }

    /// Treat unset variables as unknown (an encrypted tfvars file sets them out of sight).
    pub fn hide_defaults(&mut self) {
        self.defaults_hidden = true;
    }

    /// Where the caller wrote an input of this module instance.
    /// The names of the inputs the caller set.
    pub fn input_names(&self) -> impl Iterator<Item = &str> {
        self.var_values.keys().map(String::as_str)
    }

    pub fn input_span(&self, name: &str) -> Option<Span> {
        self.input_spans.get(name).copied()
    }

    /// Where the caller wrote `attr` of the entry `key` of an input map, e.g. the
    /// `service_account_role_arn` of `cluster_addons["vpc-cni"]`, for a model resource
    /// made once per entry. `None` when no input has such an entry written out.
    pub fn input_entry_span(&self, key: &str, attr: &str) -> Option<Span> {
        let suffix = format!(".{key}.{attr}");
        self.input_spans
            .iter()
            .filter(|(path, _)| {
                path.strip_suffix(&suffix)
                    .is_some_and(|input| !input.contains('.'))
            })
            .map(|(_, span)| *span)
            .min_by_key(|span| (span.file, span.start))
    }

    /// Records the spans of the entries of an object literal written by the user (directly
    /// or as a local), `path.key`, `depth` levels down.
    fn entry_spans(
        &self,
        path: &str,
        file: FileId,
        expr: &'a Expression,
        depth: usize,
        out: &mut HashMap<String, Span>,
    ) {
        if depth == 0 {
            return;
        }
        let (file, expr) = match expr {
            Expression::Traversal(t) => {
                let (Expression::Variable(root), [TraversalOperator::GetAttr(name)]) = (
                    &t.expr,
                    t.operators
                        .as_slice()
                        .iter()
                        .map(|o| o.value())
                        .collect::<Vec<_>>()
                        .as_slice(),
                ) else {
                    return;
                };
                if root.as_str() != "local" {
                    return;
                }
                match self.locals.get(name.as_str()) {
                    Some(&(file, expr)) => (file, expr),
                    None => return,
                }
            }
            _ => (file, expr),
        };
        let Expression::Object(object) = expr else {
            return;
        };
        for (key, value) in object.iter() {
            let key = match key {
                hcl_edit::expr::ObjectKey::Ident(i) => i.as_str().to_string(),
                hcl_edit::expr::ObjectKey::Expression(Expression::String(s)) => {
                    s.value().to_string()
                }
                hcl_edit::expr::ObjectKey::Expression(_) => continue,
            };
            let entry = format!("{path}.{key}");
            let value = value.expr();
            if let Some(range) = value.span() {
                out.insert(entry.clone(), Span::new(file, range));
            }
            self.entry_spans(&entry, file, value, depth - 1, out);
        }
    }

    /// The value of an output of this module.
    pub fn output(&self, name: &str) -> EvalResult {
        for &(file, body, _) in &self.files {
            for block in body.blocks() {
                if block.ident.as_str() == "output"
                    && block.labels.first().map(|l| l.as_str()) == Some(name)
                {
                    return match block.body.get_attribute("value") {
                        Some(a) => self.memo(format!("output.{name}"), || {
                            self.eval_in(file, &a.value, &Scope::default())
                        }),
                        None => Ok(Value::Unknown),
                    };
                }
            }
        }
        // An output the module does not declare: Terraform would refuse the reference.
        Ok(Value::Unknown)
    }

    /// All outputs as an object (a reference to the whole module instance).
    pub fn outputs(&self) -> EvalResult {
        let mut out = BTreeMap::new();
        for &(_, body, _) in &self.files {
            for block in body.blocks().filter(|b| b.ident.as_str() == "output") {
                if let Some(label) = block.labels.first() {
                    out.insert(label.as_str().to_string(), self.output(label.as_str())?);
                }
            }
        }
        Ok(Value::Map(out))
    }

    /// The instances of a resource with the scope each instance is evaluated in.
    /// `None` when the set of instances is unknown.
    pub fn instances(&self, res: &Resource<'a>) -> Option<Vec<(InstanceKey, Scope)>> {
        self.instances_of(res.file, res.block)
    }

    /// The instances of a block with `for_each` or `count` (a resource or a module call).
    pub fn instances_of(&self, file: FileId, block: &Block) -> Option<Vec<(InstanceKey, Scope)>> {
        self.gates_read.borrow_mut().push(BTreeSet::new());
        let instances = self.instances_of_inner(file, block);
        let read = self.gates_read.borrow_mut().pop().unwrap_or_default();
        if instances.as_ref().is_some_and(Vec::is_empty) {
            self.saw_no_instances.set(true);
        }
        if !read.is_empty() {
            let key = (file, block_range(block).start);
            self.block_gates.borrow_mut().insert(key, read.clone());
        }
        if let Some(top) = self.gates_read.borrow_mut().last_mut() {
            top.extend(read);
        }
        instances
    }

    fn instances_of_inner(&self, file: FileId, block: &Block) -> Option<Vec<(InstanceKey, Scope)>> {
        let body = &block.body;
        if let Some(attr) = body.get_attribute("for_each") {
            let value = self.eval_in(file, &attr.value, &Scope::default()).ok()?;
            let pairs: Vec<(String, Value)> = match value {
                Value::Map(m) => m.into_iter().collect(),
                Value::List(l) => {
                    let mut keys = Vec::new();
                    for v in l {
                        let k = v.as_known_str()?.to_string();
                        keys.push((k.clone(), v));
                    }
                    keys
                }
                _ => return None,
            };
            return Some(
                pairs
                    .into_iter()
                    .map(|(k, v)| {
                        let each = map_value([("key", Value::str(k.clone())), ("value", v)]);
                        (InstanceKey::Key(k), Scope::default().with("each", each))
                    })
                    .collect(),
            );
        }
        if let Some(attr) = body.get_attribute("count") {
            let n = match self.eval_in(file, &attr.value, &Scope::default()).ok()? {
                Value::Number(n) if (0.0..=10_000.0).contains(&n) => n as usize,
                Value::Bool(b) => b as usize,
                _ => return None,
            };
            return Some(
                (0..n)
                    .map(|i| {
                        let count = map_value([("index", Value::Number(i as f64))]);
                        (InstanceKey::Index(i), Scope::default().with("count", count))
                    })
                    .collect(),
            );
        }
        Some(vec![(InstanceKey::Single, Scope::default())])
    }

    /// Evaluate a reference that starts at a resource (`aws_iam_role.x...`): picks the instance
    /// when an index follows, then the attribute. Returns the value and how many operators it
    /// consumed.
    pub(super) fn resource_reference(
        &self,
        res: &Resource<'a>,
        ops: &[&TraversalOperator],
        scope: &Scope,
    ) -> Result<(Value, usize), Fail> {
        let multi =
            res.block.body.has_attribute("for_each") || res.block.body.has_attribute("count");
        if !multi {
            return match ops.first() {
                Some(TraversalOperator::GetAttr(attr)) => Ok((
                    self.instance_attr(
                        res,
                        &InstanceKey::Single,
                        &Scope::default(),
                        attr.as_str(),
                    )?,
                    1,
                )),
                _ => Ok((
                    self.instance_object(res, &InstanceKey::Single, &Scope::default())?,
                    0,
                )),
            };
        }
        let Some(instances) = self.instances(res) else {
            return Ok((Value::Unknown, ops.len()));
        };
        if let Some(TraversalOperator::Index(index)) = ops.first() {
            let key = self.eval(index, scope)?;
            let wanted = match &key {
                Value::Number(n) => InstanceKey::Index(*n as usize),
                other => match other.as_known_str() {
                    Some(s) => match s.parse::<usize>() {
                        Ok(i) if res.block.body.has_attribute("count") => InstanceKey::Index(i),
                        _ => InstanceKey::Key(s.to_string()),
                    },
                    None => return Ok((Value::Unknown, ops.len())),
                },
            };
            let Some((k, inst_scope)) = instances.into_iter().find(|(k, _)| *k == wanted) else {
                return Err(Fail);
            };
            return match ops.get(1) {
                Some(TraversalOperator::GetAttr(attr)) => {
                    Ok((self.instance_attr(res, &k, &inst_scope, attr.as_str())?, 2))
                }
                _ => Ok((self.instance_object(res, &k, &inst_scope)?, 1)),
            };
        }
        // The whole collection of instances.
        let mut list = Vec::new();
        let mut map = BTreeMap::new();
        for (k, s) in &instances {
            let obj = self.instance_object(res, k, s)?;
            match k {
                InstanceKey::Key(key) => {
                    map.insert(key.clone(), obj);
                }
                _ => list.push(obj),
            }
        }
        if res.block.body.has_attribute("for_each") {
            Ok((Value::Map(map), 0))
        } else {
            Ok((Value::List(list), 0))
        }
    }

    /// All attributes of an instance as an object (for references to the whole resource).
    fn instance_object(&self, res: &Resource<'a>, key: &InstanceKey, scope: &Scope) -> EvalResult {
        let mut names: Vec<String> = res
            .block
            .body
            .attributes()
            .map(|a| a.key.as_str().to_string())
            .filter(|n| {
                !matches!(
                    n.as_str(),
                    "for_each" | "count" | "depends_on" | "lifecycle" | "provider"
                )
            })
            .collect();
        names.extend(
            computed_attribute_names(res.kind, res.data)
                .iter()
                .map(|s| s.to_string()),
        );
        names.sort();
        names.dedup();
        let mut out = BTreeMap::new();
        for n in names {
            out.insert(n.clone(), self.instance_attr(res, key, scope, &n)?);
        }
        Ok(Value::Map(out))
    }

    /// One attribute of one instance: computed by what the resource type is documented to
    /// return, else the configured argument, else a nested block, else unknown.
    pub fn instance_attr(
        &self,
        res: &Resource<'a>,
        key: &InstanceKey,
        scope: &Scope,
        attr: &str,
    ) -> EvalResult {
        let cache_key = format!("{}{}.{}", res.address(), key.suffix(), attr);
        self.memo(cache_key, || {
            if let Some(v) = self.computed_attr(res, key, scope, attr)? {
                return Ok(v);
            }
            self.configured_attr(res, scope, attr)
        })
    }

    /// A configured argument or nested block, evaluated in the instance's scope.
    pub fn configured_attr(&self, res: &Resource<'a>, scope: &Scope, attr: &str) -> EvalResult {
        if let Some(a) = res.block.body.get_attribute(attr) {
            return self.eval_in(res.file, &a.value, scope);
        }
        let blocks: Vec<&'a Block> = res
            .block
            .body
            .blocks()
            .filter(|b| b.ident.as_str() == attr)
            .collect();
        if !blocks.is_empty() {
            let mut list = Vec::new();
            let previous = self.current_file.replace(Some(res.file));
            for b in blocks {
                let value = self.block_value(&b.body, scope);
                if value.is_err() {
                    self.current_file.set(previous);
                }
                list.push(value?);
            }
            self.current_file.set(previous);
            return Ok(Value::List(list));
        }
        if res
            .block
            .body
            .blocks()
            .any(|b| b.ident.as_str() == "dynamic")
        {
            return Ok(Value::Unknown);
        }
        // An optional argument that is not set is null; an attribute we do not model is
        // unknown. Without the provider schema we cannot tell them apart: unknown.
        Ok(Value::Unknown)
    }

    fn block_value(&self, body: &'a Body, scope: &Scope) -> EvalResult {
        let mut out = BTreeMap::new();
        for a in body.attributes() {
            out.insert(a.key.as_str().to_string(), self.eval(&a.value, scope)?);
        }
        for b in body.blocks() {
            let v = self.block_value(&b.body, scope)?;
            if let Value::List(l) = out
                .entry(b.ident.as_str().to_string())
                .or_insert_with(|| Value::List(Vec::new()))
            {
                l.push(v);
            }
        }
        Ok(Value::Map(out))
    }

    fn computed_attr(
        &self,
        res: &Resource<'a>,
        key: &InstanceKey,
        scope: &Scope,
        attr: &str,
    ) -> Result<Option<Value>, Fail> {
        let address = format!("{}{}{}", self.address, res.address(), key.suffix());
        let v = match (res.data, res.kind, attr) {
            (false, "aws_iam_role", "name" | "id") => {
                Value::String(self.role_name(res, scope, &address)?)
            }
            (false, "aws_iam_role", "path") => match self.configured_attr(res, scope, "path")? {
                Value::Unknown if !res.block.body.has_attribute("path") => Value::str("/"),
                Value::Null => Value::str("/"),
                v => v,
            },
            (false, "aws_iam_role", "arn") => {
                let name = self.role_name(res, scope, &address)?;
                let path = self.instance_attr(res, key, scope, "path")?;
                match path.as_str() {
                    Some(path) => Value::String(arn("role", path).concat(&name)),
                    None => Value::Unknown,
                }
            }
            (_, "aws_iam_openid_connect_provider", "arn") => {
                if res.data && res.block.body.has_attribute("arn") {
                    self.configured_attr(res, scope, "arn")?
                } else {
                    match self.provider_host(res, scope)? {
                        Some(host) => {
                            Value::String(arn("oidc-provider/", &Str::default()).concat(&host))
                        }
                        None => Value::Unknown,
                    }
                }
            }
            (_, "aws_iam_openid_connect_provider", "url") => {
                match self.provider_host(res, scope)? {
                    // The provider reports its URL without the scheme once created.
                    Some(host) => Value::String(host),
                    None => Value::Unknown,
                }
            }
            (_, "aws_eks_cluster", "identity") => {
                let cluster = self.cluster_key(res, scope, &address)?;
                let mut issuer = Str::lit("https://");
                issuer.push_sym(Symbol::Issuer(cluster));
                let oidc = map_value([("issuer", Value::String(issuer))]);
                Value::List(vec![map_value([("oidc", Value::List(vec![oidc]))])])
            }
            (_, "aws_eks_cluster", "id") if res.data => self.configured_attr(res, scope, "name")?,
            (false, "aws_eks_cluster", "id") => self.configured_attr(res, scope, "name")?,
            (true, "aws_caller_identity", "account_id") => Value::String(Str::sym(Symbol::Account)),
            (true, "aws_partition", "partition" | "id") => {
                Value::String(Str::sym(Symbol::Partition))
            }
            (true, "aws_region", "name" | "id" | "region") => {
                Value::String(Str::sym(Symbol::Region))
            }
            (true, "aws_iam_policy_document", _) => Value::Unknown,
            _ => return Ok(None),
        };
        Ok(Some(v))
    }

    /// The role's name: `name`, `name_prefix` plus a random suffix, or generated. An argument
    /// set to `null` counts as not set, as in Terraform.
    ///
    /// A name (or prefix) that cannot be evaluated is the role's [`Symbol::RoleName`]: the
    /// same symbol wherever the role's name or ARN is read, so references identify the role.
    pub fn role_name(&self, res: &Resource<'a>, scope: &Scope, address: &str) -> Result<Str, Fail> {
        let unevaluated = || Str::sym(Symbol::RoleName(self.symbol_key(address)));
        match self.configured_attr(res, scope, "name")? {
            Value::Null => {}
            Value::String(s) if res.block.body.has_attribute("name") && !s.has_unknown() => {
                return Ok(s);
            }
            _ if res.block.body.has_attribute("name") => return Ok(unevaluated()),
            _ => {}
        }
        let mut name = match self.configured_attr(res, scope, "name_prefix")? {
            Value::String(s) if res.block.body.has_attribute("name_prefix") && !s.has_unknown() => {
                s
            }
            Value::Null => Str::default(),
            _ if res.block.body.has_attribute("name_prefix") => return Ok(unevaluated()),
            _ => Str::default(),
        };
        name.push_sym(Symbol::NameSuffix(self.symbol_key(address)));
        Ok(name)
    }

    /// The provider's issuer host and path (its URL without `https://`).
    fn provider_host(&self, res: &Resource<'a>, scope: &Scope) -> Result<Option<Str>, Fail> {
        if res.block.body.has_attribute("url") {
            let url = self.configured_attr(res, scope, "url")?;
            return Ok(url
                .as_str()
                .map(|u| u.strip_prefix("https://").unwrap_or_else(|| u.clone())));
        }
        if res.data && res.block.body.has_attribute("arn") {
            let arn = self.configured_attr(res, scope, "arn")?;
            if let Some(arn) = arn.as_str()
                && let Some(parts) = arn.split_literal("oidc-provider/")
                && parts.len() == 2
            {
                return Ok(Some(parts[1].clone()));
            }
        }
        Ok(None)
    }

    /// Clusters are keyed by name when it is known, so a resource and a data source that read
    /// the same cluster share one issuer.
    fn cluster_key(
        &self,
        res: &Resource<'a>,
        scope: &Scope,
        address: &str,
    ) -> Result<String, Fail> {
        let name = self.configured_attr(res, scope, "name")?;
        Ok(match name.as_known_str() {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => self.symbol_key(address),
        })
    }
}

/// The names after `prefix` (`var.`, `local.`) in an expression's text.
fn references<'t>(text: &'t str, prefix: &str) -> Vec<&'t str> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices(prefix) {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let rest = &text[at + prefix.len()..];
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        if len > 0 {
            out.push(&rest[..len]);
        }
    }
    out
}

/// `arn:<partition>:iam::<account>:<resource>` followed by `path`.
fn arn(resource: &str, path: &Str) -> Str {
    let mut s = Str::lit("arn:");
    s.push_sym(Symbol::Partition);
    s.push_str(":iam::");
    s.push_sym(Symbol::Account);
    s.push_str(":");
    s.push_str(resource);
    s.append(path);
    s
}

fn computed_attribute_names(kind: &str, data: bool) -> &'static [&'static str] {
    match (data, kind) {
        (false, "aws_iam_role") => &["arn", "name", "id", "path"],
        (_, "aws_iam_openid_connect_provider") => &["arn", "url"],
        (_, "aws_eks_cluster") => &["identity", "id"],
        (true, "aws_caller_identity") => &["account_id"],
        (true, "aws_partition") => &["partition"],
        _ => &[],
    }
}

/// The bytes a block takes. A block read from Terraform JSON has no span of its own: it runs
/// from its type name's position to the end of the last thing in it.
pub fn block_range(block: &Block) -> std::ops::Range<usize> {
    if let Some(span) = block.span() {
        return span;
    }
    let start = block.ident.span().map(|r| r.start).unwrap_or(0);
    let label_end = block.labels.iter().filter_map(|l| l.span()).map(|r| r.end);
    let body_end = block.body.iter().filter_map(|s| match s {
        hcl_edit::structure::Structure::Attribute(a) => a.value.span().map(|r| r.end),
        hcl_edit::structure::Structure::Block(b) => Some(block_range(b).end),
    });
    let end = label_end.chain(body_end).max().unwrap_or(start).max(start);
    start..end
}

/// A block's type and labels (`resource "aws_iam_role" "api"`).
pub(crate) fn label_range(block: &Block) -> std::ops::Range<usize> {
    let start = block.ident.span().map(|r| r.start).unwrap_or(0);
    let end = block
        .labels
        .last()
        .and_then(|l| l.span())
        .map(|r| r.end)
        .unwrap_or(start);
    start..end.max(start)
}

pub fn map_value<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// Resolve a path given to `file()` against the module directory.
pub fn module_path(dir: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}
