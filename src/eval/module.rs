//! One Terraform module directory: its variables, locals, resources and data sources, and the
//! values of references between them.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Block, Body};

use super::FileLoader;
use super::value::{Str, Symbol, Value};
use crate::source::{FileId, Span};

/// The most expression evaluation steps one module may take before the rest is unknown.
const MAX_STEPS: u64 = 2_000_000;

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
        let start = self.block.ident.span().map(|r| r.start).unwrap_or(0);
        let end = self
            .block
            .labels
            .last()
            .and_then(|l| l.span())
            .map(|r| r.end)
            .unwrap_or(start);
        Span::new(self.file, start..end)
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
#[derive(Debug, Clone, Default)]
pub struct Scope {
    vars: Vec<(String, Value)>,
}

impl Scope {
    pub fn with(&self, name: &str, value: Value) -> Scope {
        let mut s = self.clone();
        s.vars.push((name.to_string(), value));
        s
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

/// An evaluation that provably fails (a missing key of a known map, an out-of-range index):
/// Terraform would raise an error, so `try()` moves on to its next argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fail;

pub type EvalResult = Result<Value, Fail>;

pub struct Module<'a> {
    /// The module directory on disk, for `file()` paths.
    pub dir: PathBuf,
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
    steps: Cell<u64>,
}

impl<'a> Module<'a> {
    /// Index a module. `var_values` are the values set by tfvars files and flags, in
    /// precedence order already applied.
    pub fn new(
        dir: PathBuf,
        files: Vec<(FileId, &'a Body, &'a str)>,
        var_values: HashMap<String, Value>,
        loader: &'a dyn FileLoader,
    ) -> Self {
        let mut m = Module {
            dir,
            files: Vec::new(),
            variables: HashMap::new(),
            var_values,
            locals: HashMap::new(),
            resources: HashMap::new(),
            data: HashMap::new(),
            loader,
            cache: RefCell::new(HashMap::new()),
            in_progress: RefCell::new(HashSet::new()),
            steps: Cell::new(0),
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

    pub fn has_module_calls(&self) -> bool {
        self.files
            .iter()
            .any(|(_, body, _)| body.blocks().any(|b| b.ident.as_str() == "module"))
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

    pub fn eval_template_public(
        &self,
        t: &hcl_edit::template::Template,
        scope: &Scope,
    ) -> EvalResult {
        self.eval_template(t, scope)
    }

    /// Every resource (or data source) of a type, in file and position order.
    pub fn resources_of(&self, kind: &str, data: bool) -> Vec<&Resource<'a>> {
        let map = if data { &self.data } else { &self.resources };
        let mut out: Vec<&Resource<'a>> = map
            .get(kind)
            .map(|m| m.values().collect())
            .unwrap_or_default();
        out.sort_by_key(|r| (r.file, r.block.span().map(|s| s.start)));
        out
    }

    pub fn data_source(&self, kind: &str, name: &str) -> Option<&Resource<'a>> {
        self.data.get(kind)?.get(name)
    }

    pub fn resource(&self, kind: &str, name: &str) -> Option<&Resource<'a>> {
        self.resources.get(kind)?.get(name)
    }

    /// Count one evaluation step; false once the module's budget is spent.
    pub(super) fn step(&self) -> bool {
        let n = self.steps.get() + 1;
        self.steps.set(n);
        n <= MAX_STEPS
    }

    /// Evaluate with a cycle guard and a cache, keyed by a reference's address.
    fn memo(&self, key: String, compute: impl FnOnce() -> EvalResult) -> EvalResult {
        if let Some(v) = self.cache.borrow().get(&key) {
            return Ok(v.clone());
        }
        if !self.in_progress.borrow_mut().insert(key.clone()) {
            return Ok(Value::Unknown);
        }
        let result = compute();
        self.in_progress.borrow_mut().remove(&key);
        let value = result?;
        self.cache.borrow_mut().insert(key, value.clone());
        Ok(value)
    }

    pub fn variable(&self, name: &str) -> EvalResult {
        if let Some(v) = self.var_values.get(name) {
            return Ok(v.clone());
        }
        let Some(&(_, block)) = self.variables.get(name) else {
            return Ok(Value::Unknown);
        };
        match block.body.get_attribute("default") {
            Some(attr) => self.memo(format!("var.{name}"), || {
                self.eval(&attr.value, &Scope::default())
            }),
            None => Ok(Value::Unknown),
        }
    }

    pub fn local(&self, name: &str) -> EvalResult {
        let Some(&(_, expr)) = self.locals.get(name) else {
            return Ok(Value::Unknown);
        };
        self.memo(format!("local.{name}"), || {
            self.eval(expr, &Scope::default())
        })
    }

    /// The instances of a resource with the scope each instance is evaluated in.
    /// `None` when the set of instances is unknown.
    pub fn instances(&self, res: &Resource<'a>) -> Option<Vec<(InstanceKey, Scope)>> {
        let body = &res.block.body;
        if let Some(attr) = body.get_attribute("for_each") {
            let value = self.eval(&attr.value, &Scope::default()).ok()?;
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
            let n = match self.eval(&attr.value, &Scope::default()).ok()? {
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
            return self.eval(&a.value, scope);
        }
        let blocks: Vec<&Block> = res.block.body.get_blocks(attr).collect();
        if !blocks.is_empty() {
            let mut list = Vec::new();
            for b in blocks {
                list.push(self.block_value(&b.body, scope)?);
            }
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
        let address = format!("{}{}", res.address(), key.suffix());
        let v = match (res.data, res.kind, attr) {
            (false, "aws_iam_role", "name" | "id") => {
                Value::String(self.role_name(res, scope, &address)?)
            }
            (false, "aws_iam_role", "path") => match self.configured_attr(res, scope, "path")? {
                Value::Unknown if !res.block.body.has_attribute("path") => Value::str("/"),
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

    /// The role's name: `name`, `name_prefix` plus a random suffix, or generated.
    pub fn role_name(&self, res: &Resource<'a>, scope: &Scope, address: &str) -> Result<Str, Fail> {
        if res.block.body.has_attribute("name") {
            return Ok(match self.configured_attr(res, scope, "name")? {
                Value::String(s) => s,
                _ => Str::sym(Symbol::Unknown),
            });
        }
        let mut name = match self.configured_attr(res, scope, "name_prefix")? {
            Value::String(s) if res.block.body.has_attribute("name_prefix") => s,
            _ => Str::default(),
        };
        name.push_sym(Symbol::NameSuffix(address.to_string()));
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
            _ => address.to_string(),
        })
    }
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
