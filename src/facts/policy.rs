//! Trust policies, whichever way they are written: a heredoc, `jsonencode({...})`, `file()`,
//! `templatefile()` or a `data "aws_iam_policy_document"`. All become one [`TrustPolicy`]
//! whose every key and value keeps the span where the user wrote it.

use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Block, Body};
use hcl_edit::template::Element;
use jsonc_parser::ast::{ObjectPropName, Value as JsonValue};

use super::{Condition, Effect, ParseError, Spanned, Statement, TrustPolicy};
use crate::eval::module::{InstanceKey, Module, Resource, Scope};
use crate::eval::template_scope;
use crate::eval::value::{Str, Symbol, Value};
use crate::source::{FileId, Span};

/// How many `local.x` indirections are followed to find where a policy is written.
const MAX_INDIRECTIONS: usize = 8;

/// A policy as a tree of spanned values, before it is read as statements.
#[derive(Debug, Clone)]
enum Node {
    /// A string; `None` when unknown.
    Str(Option<Str>, Span),
    /// A number, boolean or null.
    Scalar(Span),
    List(Vec<Node>, Span),
    Map(Vec<(Spanned<Option<Str>>, Node)>, Span),
    Unknown(Span),
}

impl Node {
    fn span(&self) -> Span {
        match self {
            Node::Str(_, s)
            | Node::Scalar(s)
            | Node::List(_, s)
            | Node::Map(_, s)
            | Node::Unknown(s) => *s,
        }
    }

    /// Field lookup for policy grammar: element names are case-sensitive in IAM.
    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries, _) => entries
                .iter()
                .rev()
                .find(|(k, _)| k.value.as_ref().and_then(Str::as_known) == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    fn has_unknown_keys(&self) -> bool {
        matches!(self, Node::Map(entries, _) if entries.iter().any(|(k, _)| k.value.is_none()))
    }
}

/// Where the trust policy of a role instance is written, read into statements.
/// `errors` receives JSON syntax errors (IRSA000).
pub struct PolicyReader<'m, 'a> {
    pub module: &'m Module<'a>,
    pub errors: Vec<ParseError>,
}

impl<'m, 'a> PolicyReader<'m, 'a> {
    pub fn new(module: &'m Module<'a>) -> Self {
        PolicyReader {
            module,
            errors: Vec::new(),
        }
    }

    /// Read the policy expression of an attribute (`assume_role_policy`).
    pub fn read(
        &mut self,
        file: FileId,
        expr: &'a Expression,
        scope: &Scope,
    ) -> Option<TrustPolicy> {
        self.read_at(file, expr, scope, 0)
    }

    fn read_at(
        &mut self,
        file: FileId,
        expr: &'a Expression,
        scope: &Scope,
        depth: usize,
    ) -> Option<TrustPolicy> {
        if depth > MAX_INDIRECTIONS {
            return None;
        }
        let span = expr_span(file, expr);
        match expr {
            Expression::Parenthesis(p) => self.read_at(file, p.inner(), scope, depth + 1),
            Expression::Traversal(t) => {
                let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
                let root = match &t.expr {
                    Expression::Variable(v) => v.as_str(),
                    _ => return self.read_value(expr, span, scope),
                };
                match (root, ops.as_slice()) {
                    ("local", [TraversalOperator::GetAttr(name)]) => {
                        match self.module.local_expression(name.as_str()) {
                            Some((f, e)) => self.read_at(f, e, &Scope::default(), depth + 1),
                            None => None,
                        }
                    }
                    (
                        "data",
                        [
                            TraversalOperator::GetAttr(kind),
                            TraversalOperator::GetAttr(name),
                            rest @ ..,
                        ],
                    ) if kind.as_str() == "aws_iam_policy_document" => {
                        let doc = self
                            .module
                            .data_source("aws_iam_policy_document", name.as_str())?;
                        let (index, attr) = match rest {
                            [TraversalOperator::GetAttr(a)] => (None, a.as_str()),
                            [TraversalOperator::Index(i), TraversalOperator::GetAttr(a)] => {
                                (Some(i), a.as_str())
                            }
                            [
                                TraversalOperator::LegacyIndex(_),
                                TraversalOperator::GetAttr(a),
                            ] => (None, a.as_str()),
                            _ => return None,
                        };
                        if attr != "json" && attr != "minified_json" {
                            return None;
                        }
                        self.policy_document(doc, index, scope)
                    }
                    _ => self.read_value(expr, span, scope),
                }
            }
            Expression::FuncCall(f) if !f.name.is_namespaced() => match f.name.name.as_str() {
                "jsonencode" => {
                    let arg = f.args.get(0)?;
                    let node = self.node_from_expr(file, arg, scope);
                    statements_from_node(&node)
                }
                "file" | "templatefile" => self.read_policy_file(f, span, scope),
                _ => self.read_value(expr, span, scope),
            },
            Expression::HeredocTemplate(h) => {
                let body = h.template.span()?;
                self.read_json_template(
                    file,
                    self.module.source_text(file)?,
                    body,
                    h.template.iter(),
                    scope,
                )
            }
            _ => self.read_value(expr, span, scope),
        }
    }

    /// Fallback: evaluate the whole expression and parse the JSON it yields; every part of the
    /// policy is then shown at the expression.
    fn read_value(&mut self, expr: &Expression, span: Span, scope: &Scope) -> Option<TrustPolicy> {
        let value = self.module.eval(expr, scope).ok()?;
        let text = value.as_known_str()?;
        let parsed = crate::parse::json::parse_value(text)?;
        let node = json_node(&parsed, &|_r| span, &|_r| Rebuilt::AsParsed);
        statements_from_node(&node)
    }

    fn read_policy_file(
        &mut self,
        f: &hcl_edit::expr::FuncCall,
        span: Span,
        scope: &Scope,
    ) -> Option<TrustPolicy> {
        let path_value = self.module.eval(f.args.get(0)?, scope).ok()?;
        let path = crate::eval::module::module_path(&self.module.dir, path_value.as_known_str()?);
        let (file, text) = self.module.loader().load(&path)?;
        if f.name.name.as_str() == "file" {
            let range = 0..text.len();
            return self.read_json_template(file, &text, range, std::iter::empty(), scope);
        }
        let vars = match f.args.get(1) {
            Some(e) => self.module.eval(e, scope).ok()?,
            None => Value::Map(Default::default()),
        };
        let template = hcl_edit::parser::parse_template(&text).ok()?;
        if template.iter().any(|e| matches!(e, Element::Directive(_))) {
            let _ = span;
            return self.read_template_value(&template, &vars, Span::file_start(file));
        }
        let tscope = template_scope(Some(&vars));
        self.read_json_template(file, &text, 0..text.len(), template.iter(), &tscope)
    }

    fn read_template_value(
        &mut self,
        t: &hcl_edit::template::Template,
        vars: &Value,
        span: Span,
    ) -> Option<TrustPolicy> {
        let scope = template_scope(Some(vars));
        let value = self.module.eval_template(t, &scope).ok()?;
        let parsed = crate::parse::json::parse_value(value.as_known_str()?)?;
        statements_from_node(&json_node(&parsed, &|_r| span, &|_r| Rebuilt::AsParsed))
    }

    /// JSON written as template text: interpolations are masked with same-length placeholders
    /// so byte offsets stay those of the file, then each JSON string is rebuilt from the raw
    /// text and the interpolations' values.
    fn read_json_template<'e>(
        &mut self,
        file: FileId,
        text: &str,
        range: std::ops::Range<usize>,
        elements: impl Iterator<Item = &'e Element>,
        scope: &Scope,
    ) -> Option<TrustPolicy> {
        let mut holes: Vec<(std::ops::Range<usize>, Option<Str>)> = Vec::new();
        for e in elements {
            match e {
                Element::Literal(_) => {}
                Element::Interpolation(i) => {
                    let r = i.span()?;
                    let v = self
                        .module
                        .eval(&i.expr, scope)
                        .ok()
                        .and_then(|v| v.to_str());
                    holes.push((r, v));
                }
                // `%{ if }` / `%{ for }` inside a policy: the JSON shape is not the text's.
                Element::Directive(_) => return None,
            }
        }
        let slice = text.get(range.clone())?;
        let mut masked = slice.as_bytes().to_vec();
        for (r, _) in &holes {
            for b in &mut masked[r.start - range.start..r.end - range.start] {
                *b = b'x';
            }
        }
        let masked = String::from_utf8(masked).ok()?;
        if !holes_inside_strings(&masked, &holes, range.start) {
            return None;
        }
        let parsed = match crate::parse::json::parse(&masked) {
            Ok(v) => v,
            Err(offset_and_message) => {
                let (offset, message) = offset_and_message;
                let at = range.start + offset;
                self.errors.push(ParseError {
                    span: Span::new(file, at..at),
                    message: format!("invalid JSON in trust policy: {message}"),
                });
                return None;
            }
        };
        let base = range.start;
        let to_span = |r: std::ops::Range<usize>| Span::new(file, base + r.start..base + r.end);
        let rebuild = |r: std::ops::Range<usize>| {
            rebuild_string(text, base + r.start + 1, base + r.end - 1, &holes)
        };
        let node = json_node(&parsed, &to_span, &rebuild);
        statements_from_node(&node)
    }

    /// Statements of a `data "aws_iam_policy_document"`, read from its blocks.
    fn policy_document(
        &mut self,
        doc: &Resource<'a>,
        index: Option<&Expression>,
        scope: &Scope,
    ) -> Option<TrustPolicy> {
        let m = self.module;
        let instances = m.instances(doc)?;
        let (_, doc_scope) = match index {
            None => instances.into_iter().next()?,
            Some(i) => {
                let key = m.eval(i, scope).ok()?;
                let wanted = match &key {
                    Value::Number(n) => InstanceKey::Index(*n as usize),
                    v => InstanceKey::Key(v.as_known_str()?.to_string()),
                };
                instances.into_iter().find(|(k, _)| *k == wanted)?
            }
        };
        let body = &doc.block.body;
        let merges_other_documents = [
            "source_policy_documents",
            "override_policy_documents",
            "source_json",
            "override_json",
        ]
        .iter()
        .filter_map(|a| body.get_attribute(a))
        .any(|a| !matches!(m.eval_in(doc.file, &a.value, &doc_scope), Ok(Value::Null)));
        let complete = !merges_other_documents;
        let mut statements = Vec::new();
        let mut known = true;
        for (block, s) in expand_blocks(m, body, "statement", &doc_scope, &mut known) {
            statements.push(self.document_statement(doc.file, block, &s));
        }
        Some(TrustPolicy {
            span: m.user_span(doc.label_span(), None),
            statements,
            complete: complete && known,
        })
    }

    fn document_statement(&mut self, file: FileId, block: &'a Block, scope: &Scope) -> Statement {
        let m = self.module;
        let body = &block.body;
        let span = Span::new(file, crate::eval::module::block_range(block));
        let effect = match body.get_attribute("effect") {
            None => Some(Effect::Allow),
            Some(a) => match m
                .eval(&a.value, scope)
                .ok()
                .as_ref()
                .and_then(Value::as_known_str)
            {
                Some("Allow") => Some(Effect::Allow),
                Some("Deny") => Some(Effect::Deny),
                _ => None,
            },
        };
        let actions = if body.has_attribute("not_actions") {
            None
        } else {
            match body.get_attribute("actions") {
                Some(a) => spanned_strings(m, file, &a.value, scope),
                None => Some(Vec::new()),
            }
        };
        let mut known = true;
        let mut federated = Some(Vec::new());
        let mut services = Some(Vec::new());
        for (p, s) in expand_blocks(m, body, "principals", scope, &mut known) {
            let kind = p
                .body
                .get_attribute("type")
                .and_then(|a| m.eval(&a.value, &s).ok());
            let ids = p
                .body
                .get_attribute("identifiers")
                .and_then(|a| spanned_strings(m, file, &a.value, &s));
            match (kind.as_ref().and_then(Value::as_known_str), ids) {
                (Some("Federated"), Some(ids)) => {
                    federated.iter_mut().for_each(|l| l.extend(ids.clone()))
                }
                (Some("Service"), Some(ids)) => {
                    services.iter_mut().for_each(|l| l.extend(ids.clone()))
                }
                (Some(_), Some(_)) => {}
                _ => {
                    federated = None;
                    services = None;
                }
            }
        }
        if !known {
            federated = None;
            services = None;
        }
        let mut cond_known = true;
        let mut conditions = Vec::new();
        for (c, s) in expand_blocks(m, body, "condition", scope, &mut cond_known) {
            let test = c.body.get_attribute("test");
            let variable = c.body.get_attribute("variable");
            let values = c.body.get_attribute("values");
            let (Some(test), Some(variable)) = (test, variable) else {
                cond_known = false;
                continue;
            };
            let op = m.eval(&test.value, &s).ok();
            let key = m.eval(&variable.value, &s).ok().and_then(|v| v.to_str());
            let (Some(op), Some(key)) = (op.as_ref().and_then(Value::as_known_str), key) else {
                cond_known = false;
                continue;
            };
            let operator_span = m.user_span(expr_span(file, &test.value), None);
            let key_span = m.user_span(expr_span(file, &variable.value), key.origin);
            conditions.push(Condition {
                operator: Spanned::new(op.to_string(), operator_span),
                key: Spanned::new(key, key_span),
                values: values.and_then(|v| spanned_strings(m, file, &v.value, &s)),
            });
        }
        Statement {
            span: m.user_span(span, None),
            effect,
            actions,
            federated,
            services,
            conditions: cond_known.then_some(conditions),
            eks: Default::default(),
        }
    }

    /// A policy written as an HCL expression (the argument of `jsonencode`).
    fn node_from_expr(&mut self, file: FileId, expr: &Expression, scope: &Scope) -> Node {
        let span = self.module.user_span(expr_span(file, expr), None);
        match expr {
            Expression::Object(o) => {
                let mut entries = Vec::new();
                for (k, v) in o.iter() {
                    let key = match k {
                        ObjectKey::Ident(i) => Some(Str::lit(i.as_str())),
                        ObjectKey::Expression(e) => {
                            self.module.eval(e, scope).ok().and_then(|v| v.to_str())
                        }
                    };
                    let key_span = self.module.user_span(
                        Span::new(file, k.span().unwrap_or(0..0)),
                        key.as_ref().and_then(|k| k.origin),
                    );
                    entries.push((
                        Spanned::new(key, key_span),
                        self.node_from_expr(file, v.expr(), scope),
                    ));
                }
                Node::Map(entries, span)
            }
            Expression::Array(a) => Node::List(
                a.iter()
                    .map(|e| self.node_from_expr(file, e, scope))
                    .collect(),
                span,
            ),
            Expression::Parenthesis(p) => self.node_from_expr(file, p.inner(), scope),
            other => match self.module.eval(other, scope) {
                Ok(v) => {
                    let origin = v.as_str().and_then(|s| s.origin);
                    node_from_value(&v, self.module.user_span(expr_span(file, other), origin))
                }
                Err(_) => Node::Unknown(span),
            },
        }
    }
}

/// Blocks of a kind, written out or generated by `dynamic` over a known collection, each with
/// the scope its content is evaluated in. `known` turns false when a `dynamic` block's
/// collection is unknown.
pub(crate) fn expand_blocks<'a>(
    m: &Module<'a>,
    body: &'a Body,
    kind: &str,
    scope: &Scope,
    known: &mut bool,
) -> Vec<(&'a Block, Scope)> {
    let mut out = Vec::new();
    for block in body.blocks() {
        if block.ident.as_str() == kind {
            out.push((block, scope.clone()));
            continue;
        }
        let is_dynamic_of_kind = block.ident.as_str() == "dynamic"
            && block.labels.first().map(|l| l.as_str()) == Some(kind);
        if !is_dynamic_of_kind {
            continue;
        }
        let iterator = block
            .body
            .get_attribute("iterator")
            .and_then(|a| match &a.value {
                Expression::Variable(v) => Some(v.as_str().to_string()),
                _ => None,
            })
            .unwrap_or_else(|| kind.to_string());
        let collection = block
            .body
            .get_attribute("for_each")
            .and_then(|a| m.eval(&a.value, scope).ok());
        let content = block.body.get_blocks("content").next();
        let (Some(collection), Some(content)) = (collection, content) else {
            *known = false;
            continue;
        };
        let items: Vec<(Value, Value)> = match &collection {
            Value::List(l) => l
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::Number(i as f64), v.clone()))
                .collect(),
            Value::Map(map) => map
                .iter()
                .map(|(k, v)| (Value::str(k.clone()), v.clone()))
                .collect(),
            _ => {
                *known = false;
                continue;
            }
        };
        for (k, v) in items {
            let iter_value = crate::eval::module::map_value([("key", k), ("value", v)]);
            out.push((content, scope.with(&iterator, iter_value)));
        }
    }
    out
}

/// The strings of a list attribute, each spanned at its element when the list is written out.
/// `None` when any element is unknown.
pub(crate) fn spanned_strings(
    m: &Module<'_>,
    file: FileId,
    expr: &Expression,
    scope: &Scope,
) -> Option<Vec<Spanned<Str>>> {
    let mut out = Vec::new();
    if let Expression::Array(a) = expr {
        for e in a.iter() {
            push_strings(m, expr_span(file, e), m.eval(e, scope).ok()?, &mut out)?;
        }
        return Some(out);
    }
    push_strings(
        m,
        expr_span(file, expr),
        m.eval(expr, scope).ok()?,
        &mut out,
    )?;
    Some(out)
}

/// Push a string or each string of a list, spanned where the user wrote it.
fn push_strings(
    m: &Module<'_>,
    span: Span,
    value: Value,
    out: &mut Vec<Spanned<Str>>,
) -> Option<()> {
    let items = match value {
        Value::List(items) => items,
        v => vec![v],
    };
    for item in items {
        let s = item.to_str()?;
        let at = m.user_span(span, s.origin);
        out.push(Spanned::new(s, at));
    }
    Some(())
}

pub fn expr_span(file: FileId, expr: &Expression) -> Span {
    Span::new(file, expr.span().unwrap_or(0..0))
}

fn node_from_value(v: &Value, span: Span) -> Node {
    match v {
        Value::String(s) => Node::Str(Some(s.clone()), span),
        Value::List(l) => Node::List(l.iter().map(|x| node_from_value(x, span)).collect(), span),
        Value::Map(m) => Node::Map(
            m.iter()
                .map(|(k, x)| {
                    (
                        Spanned::new(Some(Str::lit(k.clone())), span),
                        node_from_value(x, span),
                    )
                })
                .collect(),
            span,
        ),
        Value::Unknown => Node::Unknown(span),
        _ => Node::Scalar(span),
    }
}

/// A JSON AST as a [`Node`]. `span_of` maps a range of the parsed text to a file span;
/// `string_of` rebuilds a string's value from the template where interpolations sit in it.
fn json_node(
    v: &JsonValue<'_>,
    span_of: &dyn Fn(std::ops::Range<usize>) -> Span,
    string_of: &dyn Fn(std::ops::Range<usize>) -> Rebuilt,
) -> Node {
    let range = |r: &jsonc_parser::common::Range| r.start..r.end;
    match v {
        JsonValue::StringLit(s) => {
            let value = string_of(range(&s.range)).or_parsed(&s.value);
            Node::Str(value, span_of(range(&s.range)))
        }
        JsonValue::Array(a) => Node::List(
            a.elements
                .iter()
                .map(|e| json_node(e, span_of, string_of))
                .collect(),
            span_of(range(&a.range)),
        ),
        JsonValue::Object(o) => Node::Map(
            o.properties
                .iter()
                .map(|p| {
                    let (key, r) = match &p.name {
                        ObjectPropName::String(s) => (
                            string_of(range(&s.range)).or_parsed(&s.value),
                            range(&s.range),
                        ),
                        ObjectPropName::Word(w) => {
                            (Some(Str::lit(w.value.to_string())), range(&w.range))
                        }
                    };
                    (
                        Spanned::new(key, span_of(r)),
                        json_node(&p.value, span_of, string_of),
                    )
                })
                .collect(),
            span_of(range(&o.range)),
        ),
        JsonValue::NumberLit(n) => Node::Scalar(span_of(range(&n.range))),
        JsonValue::BooleanLit(b) => Node::Scalar(span_of(range(&b.range))),
        JsonValue::NullKeyword(n) => Node::Scalar(span_of(range(&n.range))),
    }
}

/// Whether every interpolation sits inside a JSON string of the masked text.
fn holes_inside_strings(
    masked: &str,
    holes: &[(std::ops::Range<usize>, Option<Str>)],
    base: usize,
) -> bool {
    let bytes = masked.as_bytes();
    let mut inside = vec![false; bytes.len() + 1];
    let (mut in_string, mut escaped) = (false, false);
    for (i, &b) in bytes.iter().enumerate() {
        inside[i] = in_string;
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        }
    }
    holes
        .iter()
        .all(|(r, _)| inside.get(r.start - base).copied().unwrap_or(false))
}

/// The value of the JSON string whose content is `text[start..end]`: literal stretches are
/// JSON-unescaped, interpolations contribute their values.
fn rebuild_string(
    text: &str,
    start: usize,
    end: usize,
    holes: &[(std::ops::Range<usize>, Option<Str>)],
) -> Rebuilt {
    let inner: Vec<&(std::ops::Range<usize>, Option<Str>)> = holes
        .iter()
        .filter(|(r, _)| r.start >= start && r.end <= end)
        .collect();
    if inner.is_empty() {
        return Rebuilt::AsParsed;
    }
    let rebuilt = || -> Option<Str> {
        let mut out = Str::default();
        let mut pos = start;
        for (r, v) in inner {
            out.push_str(&crate::parse::json::unescape(text.get(pos..r.start)?)?);
            match v {
                Some(v) => out.append(v),
                None => out.push_sym(Symbol::Unknown),
            }
            pos = r.end;
        }
        out.push_str(&crate::parse::json::unescape(text.get(pos..end)?)?);
        Some(out)
    };
    rebuilt().map_or(Rebuilt::AsParsed, Rebuilt::Value)
}

/// A JSON string's value where a template may interpolate into it.
enum Rebuilt {
    /// No interpolation in this string (or none that can be undone): the parsed text.
    AsParsed,
    /// The literal text with the interpolated values.
    Value(Str),
}

impl Rebuilt {
    fn or_parsed(self, parsed: &str) -> Option<Str> {
        match self {
            Rebuilt::AsParsed => Some(Str::lit(parsed.to_string())),
            Rebuilt::Value(value) => Some(value),
        }
    }
}

/// Read statements from a policy tree. `None` when the statement list itself is unknown.
fn statements_from_node(root: &Node) -> Option<TrustPolicy> {
    let span = root.span();
    let list = root.get("Statement")?;
    let nodes: Vec<&Node> = match list {
        Node::List(items, _) => items.iter().collect(),
        Node::Map(..) => vec![list],
        _ => return None,
    };
    let mut complete = !root.has_unknown_keys();
    let mut statements = Vec::new();
    for n in nodes {
        match n {
            Node::Map(..) => statements.push(statement_from_node(n)),
            _ => complete = false,
        }
    }
    Some(TrustPolicy {
        span,
        statements,
        complete,
    })
}

fn statement_from_node(n: &Node) -> Statement {
    let effect = match n.get("Effect") {
        Some(Node::Str(Some(s), _)) => match s.as_known() {
            Some("Allow") => Some(Effect::Allow),
            Some("Deny") => Some(Effect::Deny),
            _ => None,
        },
        _ => None,
    };
    let actions = if n.get("NotAction").is_some() {
        None
    } else {
        match n.get("Action") {
            Some(a) => string_list(a),
            None => Some(Vec::new()),
        }
    };
    let principal = |kind: &str| match n.get("Principal") {
        None => Some(Vec::new()),
        Some(p @ Node::Map(..)) if !p.has_unknown_keys() => match p.get(kind) {
            Some(f) => string_list(f),
            None => Some(Vec::new()),
        },
        Some(Node::Str(Some(_), _)) => Some(Vec::new()),
        _ => None,
    };
    let (federated, services) = (principal("Federated"), principal("Service"));
    let conditions = match n.get("Condition") {
        None => Some(Vec::new()),
        Some(c) => conditions_from_node(c),
    };
    Statement {
        span: n.span(),
        effect,
        actions,
        federated,
        services,
        conditions,
        eks: Default::default(),
    }
}

fn conditions_from_node(c: &Node) -> Option<Vec<Condition>> {
    let Node::Map(ops, _) = c else { return None };
    let mut out = Vec::new();
    for (op, body) in ops {
        let op_name = op.value.as_ref()?.as_known()?.to_string();
        let Node::Map(keys, _) = body else {
            return None;
        };
        for (key, values) in keys {
            out.push(Condition {
                operator: Spanned::new(op_name.clone(), op.span),
                key: Spanned::new(key.value.clone()?, key.span),
                values: string_list(values),
            });
        }
    }
    Some(out)
}

fn string_list(n: &Node) -> Option<Vec<Spanned<Str>>> {
    match n {
        Node::Str(Some(s), span) => Some(vec![Spanned::new(s.clone(), *span)]),
        Node::List(items, _) => items
            .iter()
            .map(|i| match i {
                Node::Str(Some(s), span) => Some(Spanned::new(s.clone(), *span)),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// A policy document given as JSON text whose positions are not the user's (a decoded
/// string of a Terraform plan): every statement, key and value is spanned at `span`. `None`
/// when the text is not a JSON policy with a statement list.
pub fn policy_from_json_text(text: &str, span: Span) -> Option<TrustPolicy> {
    let parsed = crate::parse::json::parse_value(text)?;
    let root = json_node(&parsed, &|_| span, &|_| Rebuilt::AsParsed);
    statements_from_node(&root)
}
