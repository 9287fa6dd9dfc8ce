//! Terraform plan and state JSON (`terraform show -json tfplan`, `terraform show -json`),
//! as Terraform ≥ 0.12 and OpenTofu write it: the resources of the types irsa-lint reads,
//! with their values, each spanned at its bytes in the file.
//!
//! A plan may be hundreds of megabytes. It is scanned once, without building a tree of the
//! whole document: the sections are found, values of resources irsa-lint does not read are
//! skipped byte by byte, and only the resources it reads are built as [`Node`]s. Values
//! Terraform knows only after apply (`after_unknown`) and sensitive values
//! (`sensitive_values`, `after_sensitive`) become [`Node::Unknown`]: never read, never shown.
//!
//! Bad input never panics: what cannot be read is a [`ParseError`] at its byte offset.

use std::borrow::Cow;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use crate::parse::ParseError;
use crate::source::{FileId, Span};

/// Nodes nest at most this deep inside a resource's values; deeper is an error.
const MAX_VALUE_DEPTH: usize = 96;
/// Modules nest at most this deep (`child_modules`).
const MAX_MODULE_DEPTH: usize = 64;
/// Containers nest at most this deep anywhere in the file.
const MAX_SKIP_DEPTH: usize = 1024;

/// Whether the file is a plan (`planned_values`, `resource_changes`) or a state (`values`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanKind {
    Plan,
    State,
}

impl PlanKind {
    pub fn noun(self) -> &'static str {
        match self {
            PlanKind::Plan => "plan",
            PlanKind::State => "state",
        }
    }
}

/// A JSON value of a resource, spanned at its bytes in the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null(Span),
    Bool(bool, Span),
    Number(f64, Span),
    Str(String, Span),
    List(Vec<Node>, Span),
    Map(Vec<(String, Node)>, Span),
    /// Known only after apply, or sensitive.
    Unknown(Span),
}

impl Node {
    pub fn span(&self) -> Span {
        match self {
            Node::Null(s)
            | Node::Bool(_, s)
            | Node::Number(_, s)
            | Node::Str(_, s)
            | Node::List(_, s)
            | Node::Map(_, s)
            | Node::Unknown(s) => *s,
        }
    }

    /// A map's entry.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries, _) => entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A list's element.
    pub fn at(&self, index: usize) -> Option<&Node> {
        match self {
            Node::List(items, _) => items.get(index),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s, _) => Some(s),
            _ => None,
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Node::Unknown(_))
    }

    /// Whether an unknown value sits anywhere in it.
    pub fn has_unknown(&self) -> bool {
        match self {
            Node::Unknown(_) => true,
            Node::List(items, _) => items.iter().any(Node::has_unknown),
            Node::Map(entries, _) => entries.iter().any(|(_, v)| v.has_unknown()),
            _ => false,
        }
    }

    /// Mark what `marks` says (`true` at a leaf, as `after_unknown` and `sensitive_values`
    /// have it) as unknown; a marked key that the values leave out is added, unknown.
    fn mark_unknown(&mut self, marks: &Node) {
        match (self, marks) {
            (node, Node::Bool(true, _)) => *node = Node::Unknown(node.span()),
            (Node::Map(entries, span), Node::Map(marked, _)) => {
                for (key, mark) in marked {
                    match entries.iter_mut().find(|(k, _)| k == key) {
                        Some((_, value)) => value.mark_unknown(mark),
                        None if matches!(mark, Node::Bool(true, _)) => {
                            entries.push((key.clone(), Node::Unknown(*span)))
                        }
                        None => {}
                    }
                }
            }
            (Node::List(items, _), Node::List(marked, _)) => {
                for (item, mark) in items.iter_mut().zip(marked) {
                    item.mark_unknown(mark);
                }
            }
            _ => {}
        }
    }
}

/// One resource instance of the plan or state.
#[derive(Debug, Clone)]
pub struct PlanResource {
    /// The module instance it is in (`module.irsa["api"]`), empty at the root.
    pub module: String,
    pub data: bool,
    pub kind: String,
    pub name: String,
    /// The full address, `module.irsa["api"].aws_iam_role.this[0]`.
    pub address: String,
    /// Its `address` in the file, where the resource is shown when nothing more precise is.
    pub span: Span,
    pub values: Node,
}

/// What a plan or state file says, as far as irsa-lint reads it.
#[derive(Debug, Clone)]
pub struct Plan {
    pub file: FileId,
    pub kind: PlanKind,
    pub resources: Vec<PlanResource>,
    /// The root module's configuration (`configuration.root_module`): its resources
    /// (`aws_iam_role.api`, `data.aws_eks_cluster.this`) and module calls (`module.irsa`),
    /// to find the root module among the folders of the scan.
    pub root_addresses: Vec<String>,
    /// A block of the configuration, of a type irsa-lint reads, that must have one instance
    /// but has none in the plan: the plan shows part of the configuration (`-target`), and
    /// the rest may make any role or ServiceAccount.
    pub missing: Option<String>,
    pub errors: Vec<ParseError>,
}

/// Why a text is not read as a plan.
#[derive(Debug)]
pub enum NotAPlan {
    /// Valid JSON that is not Terraform's plan or state format.
    OtherJson,
    /// Not readable as JSON at all, at this offset.
    Invalid(usize, String),
}

/// Whether a JSON text may be a plan or state: it names both version keys. Only [`read`]
/// tells, by its top level; this refuses every manifest and policy of a tree at the cost of
/// a search.
pub fn may_be_plan(text: &str) -> bool {
    let holds = |key: &str| memchr::memmem::find(text.as_bytes(), key.as_bytes()).is_some();
    holds("\"terraform_version\"") && holds("\"format_version\"")
}

/// The start offsets of the top-level sections irsa-lint reads, and the kind of file; `None`
/// when it is not a plan or state. `resource_changes` reads that section where it stands
/// (it depends on nothing, and is half a plan's bytes: not scanned twice); it must leave the
/// scanner after the value.
fn top_level<'t>(
    text: &'t str,
    mut resource_changes: impl FnMut(&mut Scanner<'t>) -> Scan<()>,
) -> Scan<Option<(PlanKind, Sections)>> {
    let mut s = Scanner::new(text);
    s.skip_bom();
    let mut sections = HashMap::new();
    if s.peek() != Some(b'{') {
        return Ok(None);
    }
    s.object(|s, key, _| {
        match key.as_ref() {
            "format_version" | "terraform_version" | "planned_values" | "resource_changes"
            | "prior_state" | "values" | "configuration" => {
                s.ws();
                let read_here = key == "resource_changes";
                sections.insert(key.into_owned(), s.pos);
                if read_here {
                    return resource_changes(s);
                }
            }
            _ => {}
        }
        s.skip_value()
    })?;
    s.ws();
    if s.pos < s.b.len() {
        return Err((s.pos, "unexpected text after the JSON value".into()));
    }
    let has = |k: &str| sections.contains_key(k);
    if !has("format_version") || !has("terraform_version") {
        return Ok(None);
    }
    let kind = if has("planned_values") || has("resource_changes") {
        PlanKind::Plan
    } else if has("values") {
        PlanKind::State
    } else {
        return Ok(None);
    };
    Ok(Some((kind, sections)))
}

/// Read a plan or state file; `wanted` says which resource types to build.
pub fn read(file: FileId, text: &str, wanted: &dyn Fn(&str) -> bool) -> Result<Plan, NotAPlan> {
    let mut reader = Reader {
        file,
        text,
        wanted,
        resources: Vec::new(),
        errors: Vec::new(),
        seen: HashSet::new(),
    };
    let mut changes = HashMap::new();
    let found = top_level(text, |s| {
        // Written twice, the section is the last one.
        changes.clear();
        reader.errors.clear();
        let start = s.pos;
        if let Err((offset, message)) = reader.resource_changes(s, &mut changes) {
            // A bad section costs itself only.
            reader.error(offset, message);
            s.pos = start;
            s.skip_value()?;
        }
        Ok(())
    });
    let (kind, sections) = match found {
        Ok(Some(found)) => found,
        Ok(None) => return Err(NotAPlan::OtherJson),
        Err((offset, message)) => return Err(NotAPlan::Invalid(offset, message)),
    };
    let at = |key: &str| sections.get(key).copied();
    let root = |section: &str, s: &mut Scanner<'_>| -> Result<Option<usize>, (usize, String)> {
        let mut found = None;
        s.pos = sections[section];
        if s.peek() != Some(b'{') {
            return Ok(None);
        }
        s.object(|s, key, _| {
            if key == "root_module" {
                s.ws();
                found = Some(s.pos);
            }
            s.skip_value()
        })?;
        Ok(found)
    };
    let mut modules: Vec<(usize, bool)> = Vec::new();
    let section = match kind {
        PlanKind::Plan => "planned_values",
        PlanKind::State => "values",
    };
    if at(section).is_some() {
        let mut s = Scanner::new(text);
        match root(section, &mut s) {
            Ok(Some(pos)) => modules.push((pos, true)),
            Ok(None) => {}
            Err((offset, message)) => reader.error(offset, message),
        }
    }
    // Data sources read while planning are in the prior state only.
    if let Some(pos) = at("prior_state") {
        let mut s = Scanner::new(text);
        s.pos = pos;
        let mut values = None;
        let found = match s.peek() {
            Some(b'{') => s.object(|s, key, _| {
                if key == "values" {
                    s.ws();
                    values = Some(s.pos);
                }
                s.skip_value()
            }),
            _ => Ok(()),
        };
        if let Err((offset, message)) = found {
            reader.error(offset, message);
        }
        if let Some(values) = values {
            let mut sections = HashMap::new();
            sections.insert("values".to_string(), values);
            s.pos = values;
            let mut root_at = None;
            if s.peek() == Some(b'{') {
                let found = s.object(|s, key, _| {
                    if key == "root_module" {
                        s.ws();
                        root_at = Some(s.pos);
                    }
                    s.skip_value()
                });
                if let Err((offset, message)) = found {
                    reader.error(offset, message);
                }
            }
            modules.extend(root_at.map(|p| (p, false)));
        }
    }
    for (pos, managed) in modules {
        reader.guard(pos, |r, s| r.module(s, managed, &changes, 0));
    }
    let mut root_addresses = Vec::new();
    let mut single = Vec::new();
    if let Some(pos) = at("configuration") {
        reader.guard(pos, |r, s| {
            r.configuration(s, &mut root_addresses, &mut single)
        });
    }
    let planned: HashSet<String> = reader
        .resources
        .iter()
        .filter(|r| !r.data)
        .map(|r| without_keys(&r.address))
        .collect();
    let missing = single.into_iter().find(|a| !planned.contains(a));
    Ok(Plan {
        file,
        kind,
        resources: reader.resources,
        root_addresses,
        missing,
        errors: reader.errors,
    })
}

/// What `resource_changes` says of one resource.
struct Change {
    deleted: bool,
    unknown: Option<Node>,
    sensitive: Option<Node>,
}

struct Reader<'t, 'w> {
    file: FileId,
    text: &'t str,
    wanted: &'w dyn Fn(&str) -> bool,
    resources: Vec<PlanResource>,
    errors: Vec<ParseError>,
    seen: HashSet<String>,
}

type Scan<T> = Result<T, (usize, String)>;

/// Where each top-level section's value starts.
type Sections = HashMap<String, usize>;

impl<'t> Reader<'t, '_> {
    fn error(&mut self, offset: usize, message: String) {
        self.errors.push(ParseError {
            span: Span::new(self.file, offset..offset + 1),
            message: format!("plan JSON: {message}"),
        });
    }

    /// Run one section's reader from `pos`; an error ends that section only.
    fn guard(&mut self, pos: usize, f: impl FnOnce(&mut Self, &mut Scanner<'t>) -> Scan<()>) {
        let mut s = Scanner::new(self.text);
        s.pos = pos;
        if let Err((offset, message)) = f(self, &mut s) {
            self.error(offset, message);
        }
    }

    fn span(&self, range: std::ops::Range<usize>) -> Span {
        Span::new(self.file, range)
    }

    fn resource_changes(
        &mut self,
        s: &mut Scanner<'t>,
        changes: &mut HashMap<String, Change>,
    ) -> Scan<()> {
        if s.peek() != Some(b'[') {
            return s.skip_value();
        }
        s.array(|s, _| {
            if s.peek() != Some(b'{') {
                return s.skip_value();
            }
            let (mut address, mut kind, mut change_at) = (None, None, None);
            s.object(|s, key, _| {
                match key.as_ref() {
                    "address" => address = s.string_value()?.map(Cow::into_owned),
                    "type" => kind = s.string_value()?.map(Cow::into_owned),
                    "change" => {
                        s.ws();
                        change_at = Some(s.pos);
                        s.skip_value()?;
                    }
                    _ => s.skip_value()?,
                }
                Ok(())
            })?;
            let (Some(address), Some(kind), Some(change_at)) = (address, kind, change_at) else {
                return Ok(());
            };
            if !(self.wanted)(&kind) {
                return Ok(());
            }
            let end = s.pos;
            s.pos = change_at;
            let mut change = Change {
                deleted: false,
                unknown: None,
                sensitive: None,
            };
            if s.peek() == Some(b'{') {
                s.object(|s, key, _| {
                    match key.as_ref() {
                        "actions" => {
                            let actions = self.value(s, 0)?;
                            change.deleted = match &actions {
                                Node::List(items, _) => {
                                    items
                                        .iter()
                                        .all(|a| matches!(a.as_str(), Some("delete" | "forget")))
                                        && !items.is_empty()
                                }
                                _ => false,
                            };
                        }
                        "after_unknown" => change.unknown = Some(self.value(s, 0)?),
                        "after_sensitive" => change.sensitive = Some(self.value(s, 0)?),
                        _ => s.skip_value()?,
                    }
                    Ok(())
                })?;
            }
            s.pos = end;
            changes.insert(address, change);
            Ok(())
        })
    }

    /// A module of `planned_values`, `values` or the prior state, with its child modules.
    /// `managed`: take managed resources too, not only data sources.
    fn module(
        &mut self,
        s: &mut Scanner<'t>,
        managed: bool,
        changes: &HashMap<String, Change>,
        depth: usize,
    ) -> Scan<()> {
        if depth > MAX_MODULE_DEPTH {
            return Err((s.pos, "modules are nested too deeply".into()));
        }
        if s.peek() != Some(b'{') {
            return s.skip_value();
        }
        s.object(|s, key, _| match key.as_ref() {
            "resources" if s.peek() == Some(b'[') => s.array(|s, _| {
                let start = s.pos;
                let found = self.resource(s, managed, changes);
                if let Err((offset, message)) = found {
                    // One bad resource costs itself only.
                    self.error(offset, message);
                    s.pos = start;
                    s.skip_value()?;
                }
                Ok(())
            }),
            "child_modules" if s.peek() == Some(b'[') => {
                s.array(|s, _| self.module(s, managed, changes, depth + 1))
            }
            _ => s.skip_value(),
        })
    }

    fn resource(
        &mut self,
        s: &mut Scanner<'t>,
        managed: bool,
        changes: &HashMap<String, Change>,
    ) -> Scan<()> {
        if s.peek() != Some(b'{') {
            return s.skip_value();
        }
        let mut address = None;
        let (mut mode, mut kind, mut name) = (None, None, None);
        let (mut values_at, mut sensitive_at) = (None, None);
        s.object(|s, key, _| {
            match key.as_ref() {
                "address" => {
                    s.ws();
                    let start = s.pos;
                    address = s.string_value()?.map(|a| (a.into_owned(), start..s.pos));
                }
                "mode" => mode = s.string_value()?.map(Cow::into_owned),
                "type" => kind = s.string_value()?.map(Cow::into_owned),
                "name" => name = s.string_value()?.map(Cow::into_owned),
                "values" => {
                    s.ws();
                    values_at = Some(s.pos);
                    s.skip_value()?;
                }
                "sensitive_values" => {
                    s.ws();
                    sensitive_at = Some(s.pos);
                    s.skip_value()?;
                }
                _ => s.skip_value()?,
            }
            Ok(())
        })?;
        let (Some((address, address_range)), Some(kind), Some(name)) = (address, kind, name) else {
            return Ok(());
        };
        let data = mode.as_deref() == Some("data");
        if (!managed && !data) || !(self.wanted)(&kind) || self.seen.contains(&address) {
            return Ok(());
        }
        let change = changes.get(&address);
        if change.is_some_and(|c| c.deleted) {
            return Ok(());
        }
        let end = s.pos;
        let span = self.span(address_range);
        let mut values = match values_at {
            Some(pos) => {
                s.pos = pos;
                self.value(s, 0)?
            }
            None => Node::Unknown(span),
        };
        if let Some(pos) = sensitive_at {
            s.pos = pos;
            let marks = self.value(s, 0)?;
            values.mark_unknown(&marks);
        }
        if let Some(change) = change {
            for marks in [&change.unknown, &change.sensitive].into_iter().flatten() {
                values.mark_unknown(marks);
            }
        }
        s.pos = end;
        let module = module_of(&address, data, &kind, &name);
        self.seen.insert(address.clone());
        self.resources.push(PlanResource {
            module,
            data,
            kind,
            name,
            address,
            span,
            values,
        });
        Ok(())
    }

    /// The configuration (`configuration.root_module`): the addresses of the root module's
    /// resources and module calls into `root`, and into `single` the blocks of the types
    /// read that have exactly one instance (no `count` or `for_each` on them or on a module
    /// call around them), by their address without instance keys.
    fn configuration(
        &mut self,
        s: &mut Scanner<'t>,
        root: &mut Vec<String>,
        single: &mut Vec<String>,
    ) -> Scan<()> {
        if s.peek() != Some(b'{') {
            return s.skip_value();
        }
        s.object(|s, key, _| match key.as_ref() {
            "root_module" => self.configured_module(s, "", true, 0, root, single),
            _ => s.skip_value(),
        })
    }

    fn configured_module(
        &mut self,
        s: &mut Scanner<'t>,
        prefix: &str,
        one: bool,
        depth: usize,
        root: &mut Vec<String>,
        single: &mut Vec<String>,
    ) -> Scan<()> {
        if depth > MAX_MODULE_DEPTH {
            return Err((s.pos, "modules are nested too deeply".into()));
        }
        if s.peek() != Some(b'{') {
            return s.skip_value();
        }
        s.object(|s, key, _| match key.as_ref() {
            "resources" if s.peek() == Some(b'[') => s.array(|s, _| {
                if s.peek() != Some(b'{') {
                    return s.skip_value();
                }
                let (mut address, mut kind, mut mode, mut multi) = (None, None, None, false);
                s.object(|s, key, _| {
                    match key.as_ref() {
                        "address" => address = s.string_value()?.map(Cow::into_owned),
                        "type" => kind = s.string_value()?.map(Cow::into_owned),
                        "mode" => mode = s.string_value()?.map(Cow::into_owned),
                        "count_expression" | "for_each_expression" => {
                            multi = true;
                            s.skip_value()?;
                        }
                        _ => s.skip_value()?,
                    }
                    Ok(())
                })?;
                let Some(address) = address else {
                    return Ok(());
                };
                if depth == 0 {
                    root.push(address.clone());
                }
                let managed = mode.as_deref() != Some("data") && !address.starts_with("data.");
                if one && !multi && managed && kind.as_deref().is_some_and(|k| (self.wanted)(k)) {
                    single.push(format!("{prefix}{address}"));
                }
                Ok(())
            }),
            "module_calls" if s.peek() == Some(b'{') => s.object(|s, name, _| {
                if depth == 0 {
                    root.push(format!("module.{name}"));
                }
                let call_prefix = format!("{prefix}module.{name}.");
                if s.peek() != Some(b'{') {
                    return s.skip_value();
                }
                // Whether the call has `count` or `for_each` is known only once its keys
                // are read, and `module` may come first: read the call twice.
                let start = s.pos;
                let mut multi = false;
                s.object(|s, key, _| {
                    multi |= matches!(key.as_ref(), "count_expression" | "for_each_expression");
                    s.skip_value()
                })?;
                let end = s.pos;
                s.pos = start;
                s.object(|s, key, _| match key.as_ref() {
                    "module" => self.configured_module(
                        s,
                        &call_prefix,
                        one && !multi,
                        depth + 1,
                        root,
                        single,
                    ),
                    _ => s.skip_value(),
                })?;
                s.pos = end;
                Ok(())
            }),
            _ => s.skip_value(),
        })
    }

    /// Build the value at the cursor.
    fn value(&mut self, s: &mut Scanner<'t>, depth: usize) -> Scan<Node> {
        if depth > MAX_VALUE_DEPTH {
            return Err((s.pos, "values are nested too deeply".into()));
        }
        s.ws();
        let start = s.pos;
        match s.peek() {
            Some(b'{') => {
                let mut entries = Vec::new();
                s.object(|s, key, _| {
                    let v = self.value(s, depth + 1)?;
                    entries.push((key.into_owned(), v));
                    Ok(())
                })?;
                Ok(Node::Map(entries, self.span(start..s.pos)))
            }
            Some(b'[') => {
                let mut items = Vec::new();
                s.array(|s, _| {
                    items.push(self.value(s, depth + 1)?);
                    Ok(())
                })?;
                Ok(Node::List(items, self.span(start..s.pos)))
            }
            Some(b'"') => {
                let text = s.string()?.into_owned();
                Ok(Node::Str(text, self.span(start..s.pos)))
            }
            Some(b't') => s
                .literal("true")
                .map(|_| Node::Bool(true, self.span(start..s.pos))),
            Some(b'f') => s
                .literal("false")
                .map(|_| Node::Bool(false, self.span(start..s.pos))),
            Some(b'n') => s
                .literal("null")
                .map(|_| Node::Null(self.span(start..s.pos))),
            Some(_) => {
                let n = s.number()?;
                Ok(Node::Number(n, self.span(start..s.pos)))
            }
            None => Err((s.pos, "unexpected end of the file".into())),
        }
    }
}

/// An address without its instance keys: `module.a["x"].aws_iam_role.b[0]` →
/// `module.a.aws_iam_role.b`.
fn without_keys(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for c in address.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' if depth > 0 => in_string = !in_string,
            '[' if !in_string => depth += 1,
            ']' if !in_string && depth > 0 => depth -= 1,
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The module part of a resource address: what comes before `type.name` (or
/// `data.type.name`).
fn module_of(address: &str, data: bool, kind: &str, name: &str) -> String {
    let own = match data {
        true => format!("data.{kind}.{name}"),
        false => format!("{kind}.{name}"),
    };
    let mut search_end = address.len();
    while let Some(at) = address[..search_end].rfind(&own) {
        if at == 0 {
            return String::new();
        }
        if address.as_bytes()[at - 1] == b'.' {
            return address[..at - 1].to_string();
        }
        search_end = at;
    }
    String::new()
}

/// A cursor over JSON text that checks what it passes.
struct Scanner<'t> {
    text: &'t str,
    b: &'t [u8],
    pos: usize,
}

impl<'t> Scanner<'t> {
    fn new(text: &'t str) -> Self {
        Scanner {
            text,
            b: text.as_bytes(),
            pos: 0,
        }
    }

    fn skip_bom(&mut self) {
        if self.text.starts_with('\u{feff}') {
            self.pos = 3;
        }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.pos).copied()
    }

    fn expect(&mut self, c: u8) -> Scan<()> {
        match self.peek() {
            Some(found) if found == c => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err((self.pos, format!("expected `{}`", c as char))),
            None => Err((self.pos, "unexpected end of the file".into())),
        }
    }

    fn literal(&mut self, word: &str) -> Scan<()> {
        if self.b[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(())
        } else {
            Err((self.pos, "expected a JSON value".into()))
        }
    }

    fn number(&mut self) -> Scan<f64> {
        let start = self.pos;
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.b.get(self.pos) {
            self.pos += 1;
        }
        let text = &self.text[start..self.pos];
        let valid = !text.is_empty()
            && !text.starts_with('+')
            && text
                .trim_start_matches('-')
                .starts_with(|c: char| c.is_ascii_digit());
        match text.parse::<f64>() {
            Ok(n) if valid => Ok(n),
            _ => Err((start, "expected a JSON value".into())),
        }
    }

    /// The end of the string starting at the cursor (after its closing quote), and whether it
    /// holds escapes.
    fn string_end(&self) -> Scan<(usize, bool)> {
        let mut i = self.pos + 1;
        let mut escaped = false;
        loop {
            match self.b.get(i) {
                None => return Err((self.pos, "unterminated string".into())),
                Some(b'"') => return Ok((i + 1, escaped)),
                Some(b'\\') => {
                    escaped = true;
                    i += 2;
                }
                Some(c) if *c < 0x20 => {
                    return Err((i, "control character in a string".into()));
                }
                Some(_) => i += 1,
            }
        }
    }

    /// The string at the cursor, decoded.
    fn string(&mut self) -> Scan<Cow<'t, str>> {
        if self.peek() != Some(b'"') {
            return Err((self.pos, "expected a string".into()));
        }
        let (end, escaped) = self.string_end()?;
        let raw = &self.text[self.pos..end];
        let start = self.pos;
        self.pos = end;
        if !escaped {
            return Ok(Cow::Borrowed(&raw[1..raw.len() - 1]));
        }
        serde_json::from_str::<String>(raw)
            .map(Cow::Owned)
            .map_err(|_| (start, "invalid escape in a string".into()))
    }

    /// A string value, or `None` (skipped) when the value is of another type.
    fn string_value(&mut self) -> Scan<Option<Cow<'t, str>>> {
        match self.peek() {
            Some(b'"') => self.string().map(Some),
            _ => self.skip_value().map(|_| None),
        }
    }

    /// Pass over one value without building it.
    fn skip_value(&mut self) -> Scan<()> {
        let mut stack: Vec<u8> = Vec::new();
        // After an opening bracket or a comma: a value (or a closing bracket) comes next.
        loop {
            match self.peek() {
                None => return Err((self.pos, "unexpected end of the file".into())),
                Some(open @ (b'{' | b'[')) => {
                    if stack.len() >= MAX_SKIP_DEPTH {
                        return Err((self.pos, "brackets are nested too deeply".into()));
                    }
                    stack.push(open);
                    self.pos += 1;
                    let close = if open == b'{' { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        stack.pop();
                    } else {
                        if open == b'{' {
                            self.string()?;
                            self.expect(b':')?;
                        }
                        continue;
                    }
                }
                Some(b'"') => {
                    let (end, _) = self.string_end()?;
                    self.pos = end;
                }
                Some(b't') => self.literal("true")?,
                Some(b'f') => self.literal("false")?,
                Some(b'n') => self.literal("null")?,
                Some(_) => {
                    self.number()?;
                }
            }
            // After a value: a comma, a closing bracket, or the end of this value.
            loop {
                let Some(&open) = stack.last() else {
                    return Ok(());
                };
                let close = if open == b'{' { b'}' } else { b']' };
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        if open == b'{' {
                            self.string()?;
                            self.expect(b':')?;
                        }
                        break;
                    }
                    Some(c) if c == close => {
                        self.pos += 1;
                        stack.pop();
                    }
                    Some(_) => {
                        return Err((self.pos, format!("expected `,` or `{}`", close as char)));
                    }
                    None => return Err((self.pos, "unexpected end of the file".into())),
                }
            }
        }
    }

    /// Walk an object: `f` gets each key (and the offset of its quote) with the cursor before
    /// the value, and must pass over the value.
    fn object(
        &mut self,
        mut f: impl FnMut(&mut Self, Cow<'t, str>, usize) -> Scan<()>,
    ) -> Scan<()> {
        self.expect(b'{')?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.ws();
            let key_at = self.pos;
            let key = self.string()?;
            self.expect(b':')?;
            let before = self.pos;
            f(self, key, key_at)?;
            if self.pos == before {
                return Err((self.pos, "expected a JSON value".into()));
            }
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(_) => return Err((self.pos, "expected `,` or `}`".into())),
                None => return Err((self.pos, "unexpected end of the file".into())),
            }
        }
    }

    /// Walk an array: `f` gets each index with the cursor before the element, and must pass
    /// over it.
    fn array(&mut self, mut f: impl FnMut(&mut Self, usize) -> Scan<()>) -> Scan<()> {
        self.expect(b'[')?;
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        let mut i = 0;
        loop {
            self.ws();
            let before = self.pos;
            f(self, i)?;
            if self.pos == before {
                return Err((self.pos, "expected a JSON value".into()));
            }
            i += 1;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(_) => return Err((self.pos, "expected `,` or `]`".into())),
                None => return Err((self.pos, "unexpected end of the file".into())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(_: &str) -> bool {
        true
    }

    const PLAN: &str = r#"{
  "format_version": "1.2",
  "terraform_version": "1.9.5",
  "planned_values": {"root_module": {
    "resources": [
      {"address": "aws_iam_role.api", "mode": "managed", "type": "aws_iam_role", "name": "api",
       "values": {"name": "ledger-api", "arn": null, "tags": {"team": "pay"}},
       "sensitive_values": {"tags": {}}},
      {"address": "aws_iam_role.gone", "mode": "managed", "type": "aws_iam_role", "name": "gone",
       "values": {"name": "gone"}}
    ],
    "child_modules": [{"address": "module.irsa[\"a.b\"]", "resources": [
      {"address": "module.irsa[\"a.b\"].aws_iam_role.this[0]", "mode": "managed",
       "type": "aws_iam_role", "name": "this", "index": 0,
       "values": {"name": "x", "assume_role_policy": "secret"},
       "sensitive_values": {"assume_role_policy": true}}
    ]}]
  }},
  "resource_changes": [
    {"address": "aws_iam_role.api", "type": "aws_iam_role",
     "change": {"actions": ["create"], "after_unknown": {"arn": true, "id": true}}},
    {"address": "aws_iam_role.gone", "type": "aws_iam_role",
     "change": {"actions": ["delete"]}}
  ],
  "prior_state": {"values": {"root_module": {"resources": [
    {"address": "data.aws_caller_identity.current", "mode": "data",
     "type": "aws_caller_identity", "name": "current", "values": {"account_id": "482910375521"}},
    {"address": "aws_iam_role.old", "mode": "managed", "type": "aws_iam_role", "name": "old",
     "values": {"name": "old"}}
  ]}}},
  "configuration": {"root_module": {"resources": [{"address": "aws_iam_role.api"}],
    "module_calls": {"irsa": {"source": "./modules/irsa"}}}}
}"#;

    #[test]
    fn resources_with_unknown_and_sensitive_values_and_prior_data_sources() {
        assert!(may_be_plan(PLAN));
        let plan = read(FileId(0), PLAN, &all).unwrap();
        assert_eq!(plan.kind, PlanKind::Plan);
        let addresses: Vec<&str> = plan.resources.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(
            addresses,
            [
                "aws_iam_role.api",
                "module.irsa[\"a.b\"].aws_iam_role.this[0]",
                "data.aws_caller_identity.current"
            ]
        );
        let api = &plan.resources[0];
        assert_eq!(
            api.values.get("name").and_then(Node::as_str),
            Some("ledger-api")
        );
        assert!(api.values.get("arn").unwrap().is_unknown());
        assert!(api.values.get("id").unwrap().is_unknown());
        let span = api.span;
        assert_eq!(
            &PLAN[span.start as usize..span.end as usize],
            "\"aws_iam_role.api\""
        );
        let this = &plan.resources[1];
        assert_eq!(this.module, "module.irsa[\"a.b\"]");
        assert!(this.values.get("assume_role_policy").unwrap().is_unknown());
        assert_eq!(plan.root_addresses, ["aws_iam_role.api", "module.irsa"]);
        assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    }

    #[test]
    fn other_json_is_not_a_plan_and_hostile_json_is_an_error_with_a_position() {
        assert!(!may_be_plan(
            r#"{"apiVersion": "v1", "kind": "ServiceAccount"}"#
        ));
        let versions_only = r#"{"format_version": "1.0", "terraform_version": "1.5"}"#;
        assert!(may_be_plan(versions_only));
        assert!(matches!(
            read(FileId(0), versions_only, &all),
            Err(NotAPlan::OtherJson)
        ));
        let deep = format!(
            r#"{{"format_version":"1","terraform_version":"1","values":{}{}}}"#,
            "[".repeat(5000),
            "]".repeat(5000)
        );
        assert!(matches!(
            read(FileId(0), &deep, &all),
            Err(NotAPlan::Invalid(..))
        ));
        // Past the 500 levels that parsers which recurse are held to, within the reader's.
        let deep = format!(
            r#"{{"format_version":"1","terraform_version":"1","planned_values":{{}},"variables":{}{}}}"#,
            "[".repeat(MAX_SKIP_DEPTH - 1),
            "]".repeat(MAX_SKIP_DEPTH - 1)
        );
        assert!(read(FileId(0), &deep, &all).is_ok_and(|plan| plan.errors.is_empty()));
        let truncated = &PLAN[..PLAN.len() / 2];
        assert!(matches!(
            read(FileId(0), truncated, &all),
            Err(NotAPlan::Invalid(..))
        ));
        // Wrong types where objects are expected are passed over.
        let odd = r#"{"format_version":"1","terraform_version":"1","planned_values":{"root_module":
            {"resources":[1,"x",{"address":7,"type":[]}],"child_modules":{"a":1}}},
            "resource_changes":{"x":1}}"#;
        let plan = read(FileId(0), odd, &all).unwrap();
        assert!(plan.resources.is_empty());
        let deep_values = format!(
            r#"{{"format_version":"1","terraform_version":"1","values":{{"root_module":{{"resources":[
            {{"address":"aws_iam_role.a","mode":"managed","type":"aws_iam_role","name":"a","values":{}1{}}}]}}}}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        let plan = read(FileId(0), &deep_values, &all).unwrap();
        assert!(plan.resources.is_empty());
        assert_eq!(plan.errors.len(), 1, "{:?}", plan.errors);
        assert!(plan.errors[0].message.contains("nested too deeply"));
    }

    #[test]
    fn strings_end_at_an_unescaped_quote_and_hold_no_control_character() {
        let with = |value: &str| {
            format!(
                r#"{{"format_version":"1","terraform_version":"1","values":{{"root_module":{{"resources":[
                {{"address":"aws_iam_role.a","mode":"managed","type":"aws_iam_role","name":"a","values":{{"name":{value}}}}}]}}}}}}"#
            )
        };
        let name = |value: &str| {
            let plan = read(FileId(0), &with(value), &all).unwrap();
            match &plan.resources[0].values {
                Node::Map(entries, _) => entries[0].1.clone(),
                other => panic!("{other:?}"),
            }
        };
        assert!(matches!(name(r#""a\"b\\""#), Node::Str(s, _) if s == r#"a"b\"#));
        assert!(matches!(name(r#""\u00e9t\u00e9""#), Node::Str(s, _) if s == "été"));
        // A control character is an error where it stands; so is a string left open.
        let text = with("\"a\tb\"");
        let at = text.find('\t').unwrap();
        assert!(
            matches!(read(FileId(0), &text, &all), Err(NotAPlan::Invalid(o, m))
            if o == at && m.contains("control character"))
        );
        let text = with(r#""a\"#);
        assert!(
            matches!(read(FileId(0), &text, &all), Err(NotAPlan::Invalid(_, m))
            if m.contains("unterminated") || m.contains("end of the file"))
        );
    }

    #[test]
    fn a_plan_of_part_of_the_configuration_says_what_it_misses() {
        let plan = |planned: &str, count: &str| {
            format!(
                r#"{{"format_version":"1.2","terraform_version":"1.9.8",
                "planned_values":{{"root_module":{{"child_modules":[{{"address":"module.m[\"k\"]","resources":[{planned}]}}]}}}},
                "configuration":{{"root_module":{{"module_calls":{{"m":{{"module":{{"resources":[
                  {{"address":"aws_iam_role.r","mode":"managed","type":"aws_iam_role"{count}}},
                  {{"address":"aws_s3_bucket.b","mode":"managed","type":"aws_s3_bucket"}}]}},"for_each_expression":{{"references":["local.m"]}}}}}}}}}}}}"#
            )
        };
        let role = r#"{"address":"module.m[\"k\"].aws_iam_role.r","mode":"managed","type":"aws_iam_role","name":"r","values":{"name":"r"}}"#;
        let wanted = |k: &str| k == "aws_iam_role";
        // The module call has `for_each`: none of its instances is required.
        let read = |text: &str| read(FileId(0), text, &wanted).unwrap();
        assert_eq!(read(&plan("", "")).missing, None);
        let single =
            plan("", "").replace(r#","for_each_expression":{"references":["local.m"]}"#, "");
        let partial = read(&single);
        assert!(partial.errors.is_empty(), "{:?}", partial.errors);
        assert_eq!(partial.missing.as_deref(), Some("module.m.aws_iam_role.r"));
        let planned =
            plan(role, "").replace(r#","for_each_expression":{"references":["local.m"]}"#, "");
        assert_eq!(read(&planned).missing, None);
        assert_eq!(
            without_keys(r#"module.a["x[0]"].aws_iam_role.b[0]"#),
            "module.a.aws_iam_role.b"
        );
    }

    #[test]
    fn module_of_an_address() {
        assert_eq!(module_of("aws_iam_role.a", false, "aws_iam_role", "a"), "");
        assert_eq!(
            module_of(
                "module.x[\"aws_iam_role.a\"].aws_iam_role.a[1]",
                false,
                "aws_iam_role",
                "a"
            ),
            "module.x[\"aws_iam_role.a\"]"
        );
        assert_eq!(
            module_of(
                "module.x.data.aws_eks_cluster.c",
                true,
                "aws_eks_cluster",
                "c"
            ),
            "module.x"
        );
    }
}
