//! Terraform's JSON syntax (`*.tf.json`, `*.tfvars.json`) read into the same hcl-edit [`Body`]
//! that HCL files give, so the evaluator and the fact extractors never learn which syntax a
//! file was written in. Every span is a byte range of the JSON file.
//!
//! Terraform tells a nested block from an object-valued argument by the provider's schema,
//! which irsa-lint does not have. The block names IRSA wiring reads (`metadata`, `statement`,
//! `principals`, `condition`, `dynamic`, ...) are taken as blocks when their value is an object
//! or an array of objects; every other key is an argument.
//!
//! A block has no span of its own (hcl-edit only gives spans to what its parser made): its type
//! name carries the position, at the innermost label (`"ledger"` of
//! `"aws_iam_role": {"ledger": {...}}`), else at the key or array element that opens it.
//! [`crate::eval::module::block_range`] reads a block's extent from its parts.

mod emit;
mod layout;

use std::borrow::Cow;

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block, BlockLabel, Body};
use hcl_edit::{Decorated, Ident};
use jsonc_parser::ast::{Object, ObjectProp, ObjectPropName, Value as Json};

use crate::parse::ParseError;
use crate::source::{FileId, Span};
use emit::{Emitter, Mode, Place, TemplateError, kept_properties};
use layout::{Parsed, PieceId, Pieces};

/// Whether Terraform reads a file of this name as JSON configuration.
pub fn is_tf_json(file_name: &str) -> bool {
    file_name.to_ascii_lowercase().ends_with(".tf.json")
}

/// Whether Terraform reads a file of this name as JSON variable values.
pub fn is_tfvars_json(file_name: &str) -> bool {
    file_name.to_ascii_lowercase().ends_with(".tfvars.json")
}

/// Parse a `.tf.json` file: each root key is a block type (`resource`, `data`, `variable`,
/// `output`, `locals`, `module`, `provider`, `terraform`, ...), nested one object per label.
pub fn parse_tf_json(file: FileId, text: &str) -> Result<Body, ParseError> {
    let text = blank_byte_order_mark(text);
    let root = root_object(file, &text)?;
    let mut planner = Planner::new(file, &text);
    let items = planner.root(&root)?;
    let mut parsed = planner.pieces.parse(file, text.len())?;
    parsed.count_uses(&items);
    Ok(assemble(items, &mut parsed))
}

/// Parse a `.tfvars.json` file: one object whose properties are variable values, taken
/// literally (no templates).
pub fn parse_tfvars_json(file: FileId, text: &str) -> Result<Body, ParseError> {
    let text = blank_byte_order_mark(text);
    let root = root_object(file, &text)?;
    let mut planner = Planner::new(file, &text);
    let mut items = Vec::new();
    for p in kept_properties(&root) {
        let (name, key) = prop_name(p);
        if name != "//" {
            let value = planner.value_piece(&p.value, Mode::Literal)?;
            let key = planner.name(&name, key.start + 1);
            items.push(Item::Attribute { key, value });
        }
    }
    let mut parsed = planner.pieces.parse(file, text.len())?;
    parsed.count_uses(&items);
    Ok(assemble(items, &mut parsed))
}

/// A byte order mark becomes three spaces, so that every offset still matches the file.
fn blank_byte_order_mark(text: &str) -> Cow<'_, str> {
    match text.strip_prefix('\u{feff}') {
        Some(rest) => Cow::Owned(format!("   {rest}")),
        None => Cow::Borrowed(text),
    }
}

fn root_object<'t>(file: FileId, text: &'t str) -> Result<Object<'t>, ParseError> {
    let options = crate::parse::json::strict_options();
    let parsed = jsonc_parser::parse_to_ast(text, &Default::default(), &options).map_err(|e| {
        let message = crate::parse::hcl::lowercase_first(&e.kind().to_string());
        error_at(file, e.range().start, format!("invalid JSON: {message}"))
    })?;
    match parsed.value {
        Some(Json::Object(o)) => Ok(o),
        Some(_) => Err(error_at(
            file,
            0,
            "the root of the file must be a JSON object".into(),
        )),
        None => Err(error_at(file, 0, "invalid JSON: the file is empty".into())),
    }
}

fn error_at(file: FileId, offset: usize, message: String) -> ParseError {
    ParseError {
        span: Span::new(file, offset..offset),
        message,
    }
}

/// The decoded name of a property and the range of its key (with quotes).
fn prop_name(p: &ObjectProp<'_>) -> (String, std::ops::Range<usize>) {
    match &p.name {
        ObjectPropName::String(s) => (s.value.to_string(), s.range.start..s.range.end),
        ObjectPropName::Word(w) => (w.value.to_string(), w.range.start..w.range.end),
    }
}

/// The body of a file before its pieces are parsed: what goes where, with piece ids.
enum Item {
    Attribute { key: Name, value: PieceId },
    Block(PlannedBlock),
}

struct PlannedBlock {
    ident: Name,
    labels: Vec<(String, PieceId)>,
    body: Vec<Item>,
}

/// An identifier; it has a piece (and so a span) when it can be parsed as a variable.
struct Name {
    name: String,
    piece: Option<PieceId>,
}

/// Where a body sits: the root block type it belongs to and the block it is the body of.
#[derive(Clone, Copy)]
struct Context<'a> {
    root: &'a str,
    block: &'a str,
}

/// Labels each root block type takes; other root keys are not Terraform blocks.
fn root_block_labels(name: &str) -> Option<usize> {
    match name {
        "resource" | "data" | "ephemeral" => Some(2),
        "variable" | "output" | "module" | "provider" | "check" => Some(1),
        "terraform" | "locals" | "moved" | "import" | "removed" => Some(0),
        _ => None,
    }
}

/// Nested block types of resources, data sources and providers that irsa-lint reads (or that
/// Terraform itself defines), with the labels each takes.
fn nested_block_labels(ctx: Context<'_>, key: &str) -> Option<usize> {
    const UNLABELED: &[&str] = &[
        "metadata",
        "statement",
        "principals",
        "not_principals",
        "condition",
        "set",
        "set_list",
        "set_sensitive",
        "content",
        "identity",
        "oidc",
        "lifecycle",
        "assume_role",
        "assume_role_with_web_identity",
        "default_tags",
        "connection",
        "precondition",
        "postcondition",
    ];
    match (ctx.root, ctx.block, key) {
        ("terraform", "terraform", "required_providers" | "cloud") => Some(0),
        ("terraform", "terraform", "backend" | "provider_meta") => Some(1),
        ("variable", "variable", "validation") => Some(0),
        ("output", "output", "precondition") => Some(0),
        ("terraform" | "variable" | "output" | "locals" | "module", ..) => None,
        (_, _, "dynamic" | "provisioner") => Some(1),
        (_, _, key) => UNLABELED.contains(&key).then_some(0),
    }
}

/// Arguments Terraform takes literally in JSON, without reading templates.
fn attribute_mode(ctx: Context<'_>, key: &str) -> Mode {
    let literal = match (ctx.root, ctx.block, key) {
        ("terraform", ..) | ("variable", "variable", _) => true,
        ("output", "output", k) => matches!(k, "description" | "sensitive" | "depends_on"),
        ("module", "module", k) => matches!(k, "source" | "version" | "providers" | "depends_on"),
        ("provider", "provider", k) => matches!(k, "alias" | "version"),
        (_, "resource" | "data" | "ephemeral", k) => matches!(k, "provider" | "depends_on"),
        (_, "lifecycle", k) => matches!(k, "ignore_changes" | "replace_triggered_by"),
        (_, "connection", k) => k == "type",
        _ => false,
    };
    if literal {
        Mode::Literal
    } else {
        Mode::Template
    }
}

/// A block's value: an object, or an array of objects (possibly empty: no block).
fn is_block_value(v: &Json<'_>) -> bool {
    match v {
        Json::Object(_) | Json::NullKeyword(_) => true,
        Json::Array(a) => a.elements.iter().all(|e| matches!(e, Json::Object(_))),
        _ => false,
    }
}

fn value_start(v: &Json<'_>) -> usize {
    match v {
        Json::StringLit(s) => s.range.start,
        Json::NumberLit(n) => n.range.start,
        Json::BooleanLit(b) => b.range.start,
        Json::NullKeyword(n) => n.range.start,
        Json::Array(a) => a.range.start,
        Json::Object(o) => o.range.start,
    }
}

/// Walks the JSON and records which piece of HCL text goes where.
struct Planner<'t> {
    file: FileId,
    text: &'t str,
    pieces: Pieces,
}

impl<'t> Planner<'t> {
    fn new(file: FileId, text: &'t str) -> Self {
        Planner {
            file,
            text,
            pieces: Pieces::default(),
        }
    }

    fn root(&mut self, root: &Object<'_>) -> Result<Vec<Item>, ParseError> {
        let mut items = Vec::new();
        for p in &root.properties {
            let (name, key) = prop_name(p);
            let Some(labels) = root_block_labels(&name) else {
                continue; // `"//"` comments, and keys Terraform would reject
            };
            let ctx = Context {
                root: &name,
                block: &name,
            };
            let target = BlockTarget::new(&name, labels, ctx, key.start + 1);
            self.blocks(&target, &p.value, Vec::new(), &mut items)?;
        }
        Ok(items)
    }

    /// Blocks of one type from a property's value: one object per label level, and arrays
    /// of objects wherever order matters or blocks repeat.
    fn blocks(
        &mut self,
        target: &BlockTarget<'_>,
        value: &Json<'_>,
        labels: Vec<(String, PieceId)>,
        out: &mut Vec<Item>,
    ) -> Result<(), ParseError> {
        match value {
            Json::NullKeyword(_) => {} // no block, as Terraform reads it
            Json::Array(a) => {
                for e in &a.elements {
                    let at = if labels.is_empty() {
                        value_start(e)
                    } else {
                        target.at
                    };
                    self.blocks(&target.at(at), e, labels.clone(), out)?;
                }
            }
            Json::Object(o) if labels.len() == target.labels => {
                let body = self.body(o, target.ctx)?;
                let ident = self.name(target.ident, target.at);
                out.push(Item::Block(PlannedBlock {
                    ident,
                    labels,
                    body,
                }));
            }
            Json::Object(o) => {
                for p in kept_properties(o) {
                    let (name, key) = prop_name(p);
                    let label = self.literal_piece(key.clone())?;
                    let mut labels = labels.clone();
                    labels.push((name, label));
                    self.blocks(&target.at(key.start), &p.value, labels, out)?;
                }
            }
            _ => {
                let message = format!("a {} block must be written as a JSON object", target.ident);
                return Err(error_at(self.file, value_start(value), message));
            }
        }
        Ok(())
    }

    fn body(&mut self, o: &Object<'_>, ctx: Context<'_>) -> Result<Vec<Item>, ParseError> {
        let mut items = Vec::new();
        for p in kept_properties(o) {
            let (name, key) = prop_name(p);
            if name == "//" {
                continue;
            }
            if let Some(labels) = nested_block_labels(ctx, &name)
                && is_block_value(&p.value)
            {
                let nested = Context {
                    root: ctx.root,
                    block: &name,
                };
                let target = BlockTarget::new(&name, labels, nested, key.start + 1);
                self.blocks(&target, &p.value, Vec::new(), &mut items)?;
                continue;
            }
            let value = match (&p.value, ctx.block, name.as_str()) {
                // `iterator` names a variable: HCL writes it bare, JSON as a string
                (Json::StringLit(s), "dynamic", "iterator")
                    if Ident::try_new(&*s.value).is_ok() =>
                {
                    self.pieces.add(s.range.start + 1, s.value.to_string())
                }
                (v, ..) => self.value_piece(v, attribute_mode(ctx, &name))?,
            };
            let key = self.name(&name, key.start + 1);
            items.push(Item::Attribute { key, value });
        }
        Ok(items)
    }

    fn value_piece(&mut self, v: &Json<'_>, mode: Mode) -> Result<PieceId, ParseError> {
        let start = value_start(v);
        let mut emitter = Emitter::new(self.text, start);
        emitter.value(v, mode).map_err(|e| self.template_error(e))?;
        Ok(self.pieces.add_emitted(start, emitter.finish()))
    }

    /// A JSON string (a key) as a plain HCL string: block labels are never templates.
    fn literal_piece(&mut self, range: std::ops::Range<usize>) -> Result<PieceId, ParseError> {
        let start = range.start;
        let mut emitter = Emitter::new(self.text, start);
        emitter
            .string(range, Mode::Literal, Place::Value)
            .map_err(|e| self.template_error(e))?;
        Ok(self.pieces.add_emitted(start, emitter.finish()))
    }

    fn name(&mut self, name: &str, at: usize) -> Name {
        let parses_as_variable =
            Ident::try_new(name).is_ok() && !matches!(name, "true" | "false" | "null" | "for");
        Name {
            name: name.to_string(),
            piece: parses_as_variable.then(|| self.pieces.add(at, name.to_string())),
        }
    }

    fn template_error(&self, e: TemplateError) -> ParseError {
        error_at(self.file, e.offset, e.message)
    }
}

/// The block type being read, its label count and context, and where its name is placed.
struct BlockTarget<'a> {
    ident: &'a str,
    labels: usize,
    ctx: Context<'a>,
    at: usize,
}

impl<'a> BlockTarget<'a> {
    fn new(ident: &'a str, labels: usize, ctx: Context<'a>, at: usize) -> Self {
        BlockTarget {
            ident,
            labels,
            ctx,
            at,
        }
    }

    fn at(&self, at: usize) -> BlockTarget<'a> {
        BlockTarget::new(self.ident, self.labels, self.ctx, at)
    }
}

/// The planned body with the parsed pieces put in.
fn assemble(items: Vec<Item>, parsed: &mut Parsed) -> Body {
    let mut body = Body::new();
    for item in items {
        match item {
            Item::Attribute { key, value } => {
                body.push(Attribute::new(ident(key, parsed), parsed.take(value)));
            }
            Item::Block(b) => {
                let mut block = Block::new(ident(b.ident, parsed));
                block.labels = b
                    .labels
                    .into_iter()
                    .map(|(name, piece)| match parsed.take(piece) {
                        Expression::String(s) => BlockLabel::String(s),
                        _ => BlockLabel::String(Decorated::new(name)),
                    })
                    .collect();
                block.body = assemble(b.body, parsed);
                body.push(block);
            }
        }
    }
    body
}

/// How often each piece is put into the body (a type label serves every block below it).
fn piece_uses(items: &[Item], uses: &mut [u32]) {
    for item in items {
        match item {
            Item::Attribute { key, value } => {
                uses[*value] += 1;
                key.piece.iter().for_each(|&p| uses[p] += 1);
            }
            Item::Block(b) => {
                b.ident.piece.iter().for_each(|&p| uses[p] += 1);
                b.labels.iter().for_each(|(_, p)| uses[*p] += 1);
                piece_uses(&b.body, uses);
            }
        }
    }
}

fn ident(name: Name, parsed: &mut Parsed) -> Decorated<Ident> {
    match name.piece.map(|p| parsed.take(p)) {
        Some(Expression::Variable(v)) => v,
        _ => Decorated::new(Ident::new_unchecked(name.name)),
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use foldhash::{HashMap, HashMapExt};
    use hcl_edit::Span as _;
    use hcl_edit::expr::{Expression, TraversalOperator};
    use hcl_edit::structure::{Block, Body};

    use super::{parse_tf_json, parse_tfvars_json};
    use crate::engine::{Settings, lint};
    use crate::eval::FileLoader;
    use crate::eval::module::{Module, block_range};
    use crate::eval::value::Value;
    use crate::eval::workspace::{ModuleDir, ParsedFile, Workspace};
    use crate::source::{FileId, SourceMap};

    const FILE: FileId = FileId(7);

    fn parse(text: &str) -> Body {
        parse_tf_json(FILE, text).unwrap_or_else(|e| panic!("{}: {}", e.span.start, e.message))
    }

    /// The text an expression's span covers.
    fn spanned<'t>(text: &'t str, expr: &Expression) -> &'t str {
        &text[expr.span().expect("every converted expression has a span")]
    }

    fn block<'b>(body: &'b Body, ident: &str, labels: &[&str]) -> &'b Block {
        body.blocks()
            .find(|b| {
                b.ident.as_str() == ident
                    && b.labels
                        .iter()
                        .map(|l| l.as_str())
                        .eq(labels.iter().copied())
            })
            .unwrap_or_else(|| panic!("no block {ident} {labels:?}"))
    }

    struct NoFiles;

    impl FileLoader for NoFiles {
        fn load(&self, _path: &Path) -> Option<(FileId, Arc<str>)> {
            None
        }
    }

    /// Evaluate `local.<name>` of a module made of one `.tf.json` file.
    fn local(json: &str, name: &str) -> Value {
        let module_dir = ModuleDir {
            dir: PathBuf::from("root"),
            files: vec![ParsedFile {
                id: FILE,
                body: parse(json),
                text: Arc::from(json),
            }],
            is_model: false,
        };
        let ws = Workspace {
            dirs: HashMap::from_iter([(PathBuf::from("root"), module_dir)]),
            models: Vec::new(),
            loader: &NoFiles,
            budget: &crate::eval::budget::Budget::default(),
        };
        let m = Module::root(&ws, &ws.dirs[&PathBuf::from("root")], HashMap::new());
        m.local(name).unwrap_or(Value::Unknown)
    }

    #[test]
    fn a_lone_interpolation_is_the_reference_itself() {
        let json = r#"{
  "variable": {
    "ns": { "default": "payments" },
    "subnets": { "type": "list(string)", "default": ["subnet-0b3e7a19", "subnet-06d2f8e4"] }
  },
  "locals": {
    "ns": "${var.ns}",
    "subnets": "${var.subnets}",
    "subject": "system:serviceaccount:${var.ns}:payments-api"
  }
}"#;
        assert_eq!(local(json, "ns"), Value::str("payments"));
        // Not the list turned into a string: the list.
        assert_eq!(
            local(json, "subnets"),
            Value::List(vec![
                Value::str("subnet-0b3e7a19"),
                Value::str("subnet-06d2f8e4")
            ])
        );
        assert_eq!(
            local(json, "subject"),
            Value::str("system:serviceaccount:payments:payments-api")
        );

        let body = parse(json);
        let ns = &block(&body, "locals", &[])
            .body
            .get_attribute("ns")
            .unwrap()
            .value;
        let Expression::Traversal(t) = ns else {
            panic!("expected a reference, got {ns:?}")
        };
        assert_eq!(spanned(json, ns), "var.ns");
        assert!(
            matches!(t.operators[0].value(), TraversalOperator::GetAttr(a) if a.as_str() == "ns")
        );
        let subject = &block(&body, "locals", &[])
            .body
            .get_attribute("subject")
            .unwrap()
            .value;
        assert_eq!(
            spanned(json, subject),
            r#""system:serviceaccount:${var.ns}:payments-api""#
        );
    }

    #[test]
    fn block_labels_and_names_sit_at_their_keys() {
        let json = r#"{
  "resource": {
    "aws_iam_role": {
      "payments_api": { "name": "ledger-prod-payments-api" },
      "ledger_worker": { "name": "ledger-prod-ledger-worker" }
    }
  }
}"#;
        let body = parse(json);
        for name in ["payments_api", "ledger_worker"] {
            let b = block(&body, "resource", &["aws_iam_role", name]);
            let type_label = b.labels[0].span().unwrap();
            let name_label = b.labels[1].span().unwrap();
            assert_eq!(&json[type_label.clone()], r#""aws_iam_role""#);
            assert_eq!(&json[name_label.clone()], format!("\"{name}\""));
            // "this resource" is shown at its name, not at the `resource` key above it
            assert_eq!(b.ident.span().unwrap().start, name_label.start);
            let range = block_range(b);
            assert!(json[range].starts_with(&format!("\"{name}\": {{ \"name\"")));
        }
    }

    #[test]
    fn minified_json_keeps_every_position() {
        let json = r#"{"provider":{"aws":[{"region":"eu-west-1"},{"alias":"dr","region":"eu-central-1"}]},"resource":{"aws_iam_role":{"a":{"name":"ledger-a"},"b":{"name":"${var.prefix}-b","lifecycle":null}}}}"#;
        let body = parse(json);
        let providers: Vec<&Block> = body.get_blocks("provider").collect();
        assert_eq!(providers.len(), 2);
        for p in &providers {
            assert_eq!(&json[p.labels[0].span().unwrap()], r#""aws""#);
        }
        let alias = &providers[1].body.get_attribute("alias").unwrap().value;
        assert!(matches!(alias, Expression::String(s) if s.value() == "dr"));
        assert_eq!(spanned(json, alias), r#""dr""#);
        let b = block(&body, "resource", &["aws_iam_role", "b"]);
        assert_eq!(&json[b.labels[1].span().unwrap()], r#""b""#);
        assert_eq!(
            spanned(json, &b.body.get_attribute("name").unwrap().value),
            r#""${var.prefix}-b""#
        );
        assert_eq!(b.body.blocks().count(), 0, "a null block is no block");
        let a = block(&body, "resource", &["aws_iam_role", "a"]);
        assert_eq!(
            spanned(json, &a.body.get_attribute("name").unwrap().value),
            r#""ledger-a""#
        );
        assert_eq!(
            &json[a.body.get_attribute("name").unwrap().key.span().unwrap()],
            "name"
        );
    }

    #[test]
    fn nested_blocks_and_dynamic_blocks_are_blocks() {
        let json = r#"{
  "data": {
    "aws_iam_policy_document": {
      "assume": {
        "//": "one statement per cluster",
        "statement": [{
          "actions": ["sts:AssumeRoleWithWebIdentity"],
          "principals": { "type": "Federated", "identifiers": ["${var.provider_arn}"] },
          "dynamic": {
            "condition": {
              "for_each": "${var.subjects}",
              "iterator": "subject",
              "content": { "test": "StringEquals", "variable": "sub", "values": ["${subject.value}"] }
            }
          }
        }]
      }
    }
  }
}"#;
        let body = parse(json);
        let doc = block(&body, "data", &["aws_iam_policy_document", "assume"]);
        assert!(!doc.body.has_attribute("//"));
        let statement = block(&doc.body, "statement", &[]);
        assert!(json[block_range(statement)].starts_with("{\n          \"actions\""));
        block(&statement.body, "principals", &[]);
        let dynamic = block(&statement.body, "dynamic", &["condition"]);
        let iterator = &dynamic.body.get_attribute("iterator").unwrap().value;
        assert!(matches!(iterator, Expression::Variable(v) if v.as_str() == "subject"));
        assert_eq!(spanned(json, iterator), "subject");
        let content = block(&dynamic.body, "content", &[]);
        let values = &content.body.get_attribute("values").unwrap().value;
        assert_eq!(spanned(json, values), r#"["${subject.value}"]"#);
    }

    #[test]
    fn literal_arguments_are_not_templates() {
        let json = r#"{
  "variable": { "greeting": { "default": "hello ${name}", "type": "string" } },
  "module": { "irsa": { "source": "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts", "version": "~> 5.0", "role_name": "${var.name}" } }
}"#;
        let body = parse(json);
        let default = &block(&body, "variable", &["greeting"])
            .body
            .get_attribute("default")
            .unwrap()
            .value;
        assert!(matches!(default, Expression::String(s) if s.value() == "hello ${name}"));
        assert_eq!(spanned(json, default), r#""hello ${name}""#);
        let module = block(&body, "module", &["irsa"]);
        for key in ["source", "version"] {
            assert!(matches!(
                module.body.get_attribute(key).unwrap().value,
                Expression::String(_)
            ));
        }
        assert!(matches!(
            module.body.get_attribute("role_name").unwrap().value,
            Expression::Traversal(_)
        ));
    }

    #[test]
    fn escapes_are_decoded_and_later_tokens_keep_their_offsets() {
        let json = r#"{
  "locals": {
    "line": "a\nb\u0041\"c\"",
    "picked": "${var.env == \"prod\" ? \"system:serviceaccount:prod:api\" : \"none\"}",
    "emoji": "\ud83d\ude00\/\t",
    "after": "${var.x}"
  }
}"#;
        assert_eq!(local(json, "line"), Value::str("a\nbA\"c\""));
        assert_eq!(local(json, "emoji"), Value::str("\u{1f600}/\t"));
        let body = parse(json);
        let locals = block(&body, "locals", &[]);
        let Expression::Conditional(c) = &locals.body.get_attribute("picked").unwrap().value else {
            panic!("expected a conditional")
        };
        // A string inside an interpolation starts at the quote after its backslash.
        let at = json.find("system:serviceaccount:prod").unwrap() - 1;
        assert_eq!(c.true_expr.span().unwrap().start, at);
        assert_eq!(
            spanned(json, &locals.body.get_attribute("after").unwrap().value),
            "var.x"
        );
    }

    #[test]
    fn tfvars_values_are_literal_json() {
        let json = r#"{ "cluster_name": "ledger-${env}", "//": "set by the pipeline", "subnets": ["subnet-0b3e7a19"] }"#;
        let body = parse_tfvars_json(FILE, json).unwrap();
        let name = &body.get_attribute("cluster_name").unwrap().value;
        assert!(matches!(name, Expression::String(s) if s.value() == "ledger-${env}"));
        assert_eq!(spanned(json, name), r#""ledger-${env}""#);
        assert!(!body.has_attribute("//"));
        assert!(body.has_attribute("subnets"));
    }

    #[test]
    fn a_syntax_error_is_one_error_where_it_is() {
        let json = "{\n  \"locals\": {\n    \"a\": \"x\",\n  }\n}";
        let err = parse_tf_json(FILE, json).unwrap_err();
        assert!(err.message.starts_with("invalid JSON: "), "{}", err.message);
        assert_eq!(err.span.file, FILE);
        assert!(err.span.start as usize >= json.find("\"x\",").unwrap() + 3);

        let json = r#"{ "locals": { "a": "${var.x" } }"#;
        let err = parse_tf_json(FILE, json).unwrap_err();
        assert!(
            err.message.starts_with("invalid template: "),
            "{}",
            err.message
        );
        assert!(err.span.start as usize > json.find("${").unwrap());
    }

    /// Write files below a fresh folder, lint it, and return the report.
    fn lint_files(files: &[(&str, &str)]) -> (tempfile::TempDir, crate::engine::Report) {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let report = lint(&Settings {
            paths: vec![dir.path().to_path_buf()],
            ..Settings::default()
        })
        .unwrap();
        (dir, report)
    }

    fn position(sources: &SourceMap, span: crate::source::Span) -> (String, u32, u32) {
        let file = sources.get(span.file);
        let at = file.line_col(span.start);
        let name = file.path.file_name().unwrap().to_string_lossy().to_string();
        (name, at.line, at.column)
    }

    /// Line and column (1-based) of a byte offset of `text`.
    fn line_col(text: &str, offset: usize) -> (u32, u32) {
        let before = &text[..offset];
        let line = before.matches('\n').count() as u32 + 1;
        let column = before.rsplit('\n').next().unwrap().chars().count() as u32 + 1;
        (line, column)
    }

    const ISSUER: &str = "oidc.eks.eu-west-1.amazonaws.com/id/5C1A9F0E3B7D2E8A4F6C0B19D7E3A2F1";

    const SERVICE_ACCOUNT: &str = "apiVersion: v1
kind: ServiceAccount
metadata:
  name: payments-api
  namespace: payments
  annotations:
    eks.amazonaws.com/role-arn: arn:aws:iam::482910375521:role/ledger-prod-payments-api
";

    #[test]
    fn a_jsonencode_trust_policy_in_json_is_shown_at_its_sub_value() {
        let policy = format!(
            r#"${{jsonencode({{"Version" = "2012-10-17", "Statement" = [{{"Effect" = "Allow", "Principal" = {{"Federated" = aws_iam_openid_connect_provider.eks.arn}}, "Action" = "sts:AssumeRoleWithWebIdentity", "Condition" = {{"StringEquals" = {{"{ISSUER}:sub" = "system:serviceaccount:billing:payments-api"}}}}}}]}})}}"#
        );
        let iam = serde_json::json!({
            "resource": {
                "aws_iam_openid_connect_provider": {
                    "eks": { "url": format!("https://{ISSUER}"), "client_id_list": ["sts.amazonaws.com"] }
                },
                "aws_iam_role": {
                    "payments_api": { "name": "ledger-prod-payments-api", "assume_role_policy": policy }
                }
            }
        });
        let iam = serde_json::to_string_pretty(&iam).unwrap();
        let (_dir, report) = lint_files(&[
            ("infra/iam.tf.json", &iam),
            ("k8s/serviceaccount.yaml", SERVICE_ACCOUNT),
        ]);
        let d = report
            .diagnostics
            .iter()
            .find(|d| d.rule_id == "IRSA003")
            .expect("IRSA003 for the namespace");
        assert_eq!(
            position(&report.sources, d.primary.span).0,
            "serviceaccount.yaml"
        );
        let admitted = &d.related[0];
        // The escaped quote's `"`, just before the value inside the JSON string.
        let at = iam.find("system:serviceaccount:billing").unwrap() - 1;
        let (line, column) = line_col(&iam, at);
        assert_eq!(
            position(&report.sources, admitted.span),
            ("iam.tf.json".to_string(), line, column)
        );
    }

    #[test]
    fn a_policy_document_and_service_account_in_json_are_shown_where_written() {
        let iam = format!(
            r#"{{
  "data": {{
    "aws_iam_policy_document": {{
      "payments_api_assume": {{
        "statement": {{
          "actions": ["sts:AssumeRoleWithWebIdentity"],
          "principals": {{ "type": "Federated", "identifiers": ["${{aws_iam_openid_connect_provider.eks.arn}}"] }},
          "condition": [
            {{ "test": "StringEquals", "variable": "{ISSUER}:sub", "values": ["system:serviceaccount:billing:payments-api"] }},
            {{ "test": "StringEquals", "variable": "{ISSUER}:aud", "values": ["sts.amazonaws.com"] }}
          ]
        }}
      }}
    }}
  }},
  "resource": {{
    "aws_iam_openid_connect_provider": {{
      "eks": {{ "url": "https://{ISSUER}", "client_id_list": ["sts.amazonaws.com"] }}
    }},
    "aws_iam_role": {{
      "payments_api": {{
        "name": "ledger-prod-payments-api",
        "assume_role_policy": "${{data.aws_iam_policy_document.payments_api_assume.json}}"
      }}
    }},
    "kubernetes_service_account_v1": {{
      "payments_api": {{
        "metadata": {{
          "name": "payments-api",
          "namespace": "payments",
          "annotations": {{ "eks.amazonaws.com/role-arn": "${{aws_iam_role.payments_api.arn}}" }}
        }}
      }}
    }}
  }}
}}"#
        );
        let (_dir, report) = lint_files(&[("infra/iam.tf.json", &iam)]);
        let found: Vec<_> = report.diagnostics.iter().map(|d| d.rule_id).collect();
        assert_eq!(found, ["IRSA003"], "{:#?}", report.diagnostics);
        let d = &report.diagnostics[0];
        let namespace = iam.find(r#""payments","#).unwrap();
        let (line, column) = line_col(&iam, namespace);
        assert_eq!(
            position(&report.sources, d.primary.span),
            ("iam.tf.json".to_string(), line, column)
        );
        assert_eq!(
            report
                .sources
                .get(d.primary.span.file)
                .slice(d.primary.span),
            r#""payments""#
        );
        let value = iam.find(r#""system:serviceaccount:billing"#).unwrap();
        let (line, column) = line_col(&iam, value);
        assert_eq!(
            position(&report.sources, d.related[0].span),
            ("iam.tf.json".to_string(), line, column)
        );
    }

    #[test]
    fn json_variable_files_are_loaded_like_their_hcl_twins() {
        let main = r#"{
  "variable": { "namespace": { "type": "string", "default": "payments" } },
  "resource": {
    "kubernetes_service_account_v1": {
      "api": { "metadata": { "name": "payments-api", "namespace": "${var.namespace}",
        "annotations": { "eks.amazonaws.com/role-arn": "arn:aws:iam::482910375521:role/ledger-prod-payments-api" } } }
    },
    "aws_iam_role": {
      "api": { "name": "ledger-prod-payments-api", "assume_role_policy": "${jsonencode({Statement = [{Effect = \"Allow\", Action = \"sts:AssumeRoleWithWebIdentity\", Principal = {Federated = \"arn:aws:iam::482910375521:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/5C1A9F0E\"}, Condition = {StringEquals = {\"oidc.eks.eu-west-1.amazonaws.com/id/5C1A9F0E:sub\" = \"system:serviceaccount:billing:payments-api\"}}}]})}" }
    }
  }
}"#;
        let subjects = |files: &[(&str, &str)]| -> Vec<String> {
            let (_dir, report) = lint_files(files);
            report
                .diagnostics
                .iter()
                .filter(|d| d.rule_id == "IRSA003")
                .map(|d| d.message.clone())
                .collect()
        };
        assert_eq!(subjects(&[("main.tf.json", main)]).len(), 1);
        let billing = r#"{ "namespace": "billing" }"#;
        assert!(subjects(&[("main.tf.json", main), ("terraform.tfvars.json", billing)]).is_empty());
        assert!(subjects(&[("main.tf.json", main), ("prod.auto.tfvars.json", billing)]).is_empty());
        // Only files Terraform loads by itself.
        assert_eq!(
            subjects(&[("main.tf.json", main), ("prod.tfvars.json", billing)]).len(),
            1
        );
    }
}
