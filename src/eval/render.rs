//! Templates rendered as Terraform writes them (heredocs, `templatefile()`, `file()`), with
//! where every byte of the result comes from.
//!
//! A value that is not text yet, one that exists only after apply (a role's ARN) or one that
//! cannot be evaluated, is written as a *hole* ([`hole_token`]) that remembers the symbol it
//! stands for and the expression that wrote it. YAML read from the rendered text then keeps its
//! structure, gets its symbolic values back ([`Rendered::restore`]) and, through
//! [`Rendered::span_of`], the user's line and column for every node.
//!
//! A `<<-` heredoc loses its common indentation the way Terraform strips it: per source line,
//! before anything is evaluated, blank lines aside. `~` strip markers and the `$${` and `%%{`
//! escapes are honoured. Rendering counts the bytes it writes: past [`MAX_RENDERED_BYTES`] it
//! stops with a limit diagnostic, and what it would have rendered is unknown.

use std::ops::Range;

use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, FuncCall, TraversalOperator};
use hcl_edit::template::{Directive, Element, HeredocTemplate, Template};

use super::functions::template_scope;
use super::module::{EvalResult, Fail, Module, Scope, module_path};
use super::value::{Part, Str, Symbol, Value};
use crate::source::{FileId, Span};
use crate::text::placeholders::{has_hole_characters, hole_number, hole_token, next_placeholder};

/// The most text one rendering may write (as much as `file()` may read).
pub const MAX_RENDERED_BYTES: usize = 4 * 1024 * 1024;
/// How many `local.x` a rendering follows to the text it names.
const MAX_LOCAL_HOPS: usize = 8;

/// Text as Terraform renders it, with where each byte comes from.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    text: String,
    /// In text order, covering the whole text.
    pieces: Vec<Piece>,
    /// In text order; the `n`th hole is written as `hole_token(n)`.
    holes: Vec<Hole>,
    /// A directive whose condition or collection is unknown wrote a hole: it stands for any
    /// text, lines of YAML among them, so the text's structure is not known.
    pub unknown_structure: bool,
    /// The template file, when `templatefile()` or `file()` rendered one.
    pub template: Option<FileId>,
    /// The template's path as the call names it (`templates/sa.yaml.tftpl`).
    pub template_path: Option<String>,
}

#[derive(Debug, Clone, Copy)]
struct Piece {
    at: usize,
    len: usize,
    from: From,
}

#[derive(Debug, Clone, Copy)]
enum From {
    /// Copied byte for byte from a file, from this offset on.
    Text { file: FileId, start: usize },
    /// Written by the expression at this span (an interpolation's value).
    Written(Span),
}

/// A part of the text that is not known as text.
#[derive(Debug, Clone)]
pub struct Hole {
    /// What it stands for: a value that exists after apply, or [`Symbol::Unknown`].
    pub symbol: Symbol,
    /// The expression that wrote it.
    pub span: Span,
    at: usize,
}

impl Rendered {
    /// A string value as text, every byte shown at `span`, its symbols as holes.
    pub fn of_str(s: &Str, span: Span) -> Option<Rendered> {
        let mut writer = Writer::default();
        writer.value(&Value::String(s.clone()), span);
        (!writer.over_budget && !writer.ambiguous).then_some(writer.out)
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Where the text at `range` comes from: the source text it was copied from, the expression
    /// that wrote it, or (when it spans several) all of them in the first one's file. `None`
    /// past the end of the text.
    pub fn span_of(&self, range: Range<usize>) -> Option<Span> {
        let first = self.pieces.partition_point(|p| p.at + p.len <= range.start);
        let mut found: Option<(FileId, usize, usize)> = None;
        for piece in &self.pieces[first..] {
            if piece.at >= range.end && !(range.is_empty() && piece.at == range.start) {
                break;
            }
            let (file, start, end) = match piece.from {
                From::Text { file, start } => {
                    let from = range.start.max(piece.at);
                    let to = range.end.min(piece.at + piece.len).max(from);
                    (file, start + from - piece.at, start + to - piece.at)
                }
                From::Written(span) => (span.file, span.start as usize, span.end as usize),
            };
            found = match found {
                None => Some((file, start, end)),
                Some((f, lo, hi)) if f == file => Some((f, lo.min(start), hi.max(end))),
                Some(other) => return Some(Span::new(other.0, other.1..other.2)),
            };
        }
        found.map(|(file, start, end)| Span::new(file, start..end))
    }

    /// The hole a token written in the text stands for.
    pub fn hole(&self, token: &str) -> Option<&Hole> {
        self.holes.get(hole_number(token)?)
    }

    /// A string read from the text with its holes as [`Symbol::Placeholder`]s (the manifest
    /// reader's view), with the holes' symbols put back.
    pub fn restore(&self, s: &Str) -> Str {
        let mut out = Str::default().with_origin(s.origin);
        for part in s.parts() {
            match part {
                Part::Sym(Symbol::Placeholder(token)) if let Some(hole) = self.hole(token) => {
                    out.push_sym(hole.symbol.clone())
                }
                Part::Lit(text) => out.push_str(text),
                Part::Sym(symbol) => out.push_sym(symbol.clone()),
            }
        }
        out
    }

    /// Text read from the rendering (a scalar) as a value: unknown when it is nothing but one
    /// hole that stands for an unknown value, else a string with the holes' symbols.
    pub fn scalar(&self, text: &str) -> Value {
        if let Some(hole) = self.hole(text)
            && hole.symbol == Symbol::Unknown
        {
            return Value::Unknown;
        }
        let mut out = Str::default();
        let mut rest = text;
        while let Some((before, placeholder, after)) = next_placeholder(rest) {
            out.push_str(before);
            match self.hole(placeholder) {
                Some(hole) => out.push_sym(hole.symbol.clone()),
                None => out.push_str(placeholder),
            }
            rest = after;
        }
        out.push_str(rest);
        Value::String(out)
    }

    /// Whether the text holds a hole.
    pub fn has_hole(&self, text: &str) -> bool {
        !self.holes.is_empty() && has_hole_characters(text)
    }

    /// The whole text as a string, holes as their symbols.
    pub fn to_str(&self) -> Str {
        let mut out = Str::default();
        let mut at = 0;
        for (n, hole) in self.holes.iter().enumerate() {
            out.push_str(&self.text[at..hole.at]);
            out.push_sym(hole.symbol.clone());
            at = hole.at + hole_token(n).len();
        }
        out.push_str(&self.text[at..]);
        out
    }
}

/// Builds a [`Rendered`] text.
#[derive(Default)]
struct Writer {
    out: Rendered,
    /// Where the run of literal text at the end of the output starts: what a `~` after it
    /// may trim.
    literal_run: usize,
    /// The next literal loses its leading whitespace (a `~` before it).
    strip_next: bool,
    /// The budget is spent: nothing more is written.
    over_budget: bool,
    /// Text that looks like a hole was written: holes would be ambiguous.
    ambiguous: bool,
}

impl Writer {
    fn push(&mut self, text: &str, from: From) {
        if text.is_empty() || self.over_budget {
            return;
        }
        if self.out.text.len() + text.len() > MAX_RENDERED_BYTES {
            self.over_budget = true;
            return;
        }
        let at = self.out.text.len();
        let extends = match (self.out.pieces.last(), from) {
            (Some(last), From::Text { file, start }) => match last.from {
                From::Text {
                    file: last_file,
                    start: last_start,
                } => last_file == file && last_start + last.len == start,
                From::Written(_) => false,
            },
            _ => false,
        };
        match self.out.pieces.last_mut() {
            Some(last) if extends => last.len += text.len(),
            _ => self.out.pieces.push(Piece {
                at,
                len: text.len(),
                from,
            }),
        }
        self.out.text.push_str(text);
    }

    /// Literal template text.
    fn literal(&mut self, text: &str, from: From) {
        self.ambiguous |= has_hole_characters(text);
        let mut text = text;
        let mut from = from;
        if self.strip_next {
            let kept = text.trim_start();
            if let From::Text { file, start } = from {
                from = From::Text {
                    file,
                    start: start + text.len() - kept.len(),
                };
            }
            text = kept;
            self.strip_next = text.is_empty();
        }
        self.push(text, from);
    }

    /// An interpolated value, written where `span` is.
    fn value(&mut self, value: &Value, span: Span) {
        match value.to_str() {
            Some(s) => {
                for part in s.parts() {
                    match part {
                        Part::Lit(text) => {
                            self.ambiguous |= has_hole_characters(text);
                            self.push(text, From::Written(span));
                        }
                        Part::Sym(symbol) => self.hole(symbol.clone(), span),
                    }
                }
            }
            None => self.hole(Symbol::Unknown, span),
        }
        self.end_of_literal();
    }

    fn hole(&mut self, symbol: Symbol, span: Span) {
        let at = self.out.text.len();
        self.push(&hole_token(self.out.holes.len()), From::Written(span));
        if !self.over_budget {
            self.out.holes.push(Hole { symbol, span, at });
        }
        self.end_of_literal();
    }

    fn end_of_literal(&mut self) {
        self.literal_run = self.out.text.len();
        self.strip_next = false;
    }

    /// A `~` before a marker: the literal text just before it loses its trailing whitespace.
    fn strip_tail(&mut self) {
        let run = &self.out.text[self.literal_run..];
        let keep = self.literal_run + run.trim_end().len();
        self.out.text.truncate(keep);
        while let Some(last) = self.out.pieces.last_mut() {
            if last.at >= keep {
                self.out.pieces.pop();
            } else {
                last.len = last.len.min(keep - last.at);
                break;
            }
        }
    }
}

/// The text a template is written in, and how its literals map to it.
struct Source<'t> {
    file: FileId,
    text: &'t str,
    /// Where the template's text starts (after a heredoc's opening line).
    body_start: usize,
    /// Literals are written raw (a heredoc or a template file); else quoted, with escapes.
    raw: bool,
    /// Columns a `<<-` heredoc strips from each line.
    indent: usize,
}

impl<'a> Module<'a> {
    /// The text an expression renders to, with where each byte comes from: a heredoc, a quoted
    /// string, `templatefile()`, `file()`, or a local that holds one, is rendered from what is
    /// written; any other expression from its value, every byte shown at the expression. `None`
    /// when it is not text, cannot be evaluated, or exceeds the budget.
    pub fn render(&self, file: FileId, expr: &Expression, scope: &Scope) -> Option<Rendered> {
        self.render_hops(file, expr, scope, 0)
    }

    fn render_hops(
        &self,
        file: FileId,
        expr: &Expression,
        scope: &Scope,
        hops: usize,
    ) -> Option<Rendered> {
        let span = Span::new(file, expr.span().unwrap_or(0..0));
        match expr {
            Expression::Parenthesis(p) => self.render_hops(file, p.inner(), scope, hops),
            Expression::HeredocTemplate(h) => {
                let previous = self.set_current_file(Some(file));
                let rendered = self.render_heredoc(file, h, scope).ok().flatten();
                self.set_current_file(previous);
                rendered
            }
            Expression::StringTemplate(t) => {
                let source = Source {
                    file,
                    text: self.source_text(file).unwrap_or(""),
                    body_start: 0,
                    raw: false,
                    indent: 0,
                };
                let previous = self.set_current_file(Some(file));
                let rendered = self.render_elements(&source, t.iter(), scope, span);
                self.set_current_file(previous);
                rendered
            }
            Expression::FuncCall(f) if !f.name.is_namespaced() => match f.name.name.as_str() {
                "templatefile" | "file" => {
                    let previous = self.set_current_file(Some(file));
                    let rendered = self.render_file_call(f, scope, span);
                    self.set_current_file(previous);
                    rendered
                }
                _ => self.render_value(file, expr, scope, span),
            },
            Expression::Traversal(t) if hops < MAX_LOCAL_HOPS && t.operators.len() == 1 => {
                let local = match (&t.expr, t.operators[0].value()) {
                    (Expression::Variable(v), TraversalOperator::GetAttr(name))
                        if v.as_str() == "local" =>
                    {
                        self.local_expression(name.as_str())
                    }
                    _ => None,
                };
                match local {
                    Some((local_file, local_expr)) => {
                        self.render_hops(local_file, local_expr, &Scope::default(), hops + 1)
                    }
                    None => self.render_value(file, expr, scope, span),
                }
            }
            _ => self.render_value(file, expr, scope, span),
        }
    }

    /// Any expression, rendered from its value: every byte is shown at the expression.
    fn render_value(
        &self,
        file: FileId,
        expr: &Expression,
        scope: &Scope,
        span: Span,
    ) -> Option<Rendered> {
        let value = self.eval_in(file, expr, scope).ok()?;
        Rendered::of_str(value.as_str()?, span)
    }

    /// A heredoc, rendered from its text; `Ok(None)` when its text is not at hand (or it
    /// cannot be rendered), `Err` when an interpolation provably fails (Terraform would stop).
    fn render_heredoc(
        &self,
        file: FileId,
        h: &HeredocTemplate,
        scope: &Scope,
    ) -> Result<Option<Rendered>, Fail> {
        let Some(source) = self.heredoc_source(file, h) else {
            return Ok(None);
        };
        let span = Span::new(file, h.span().unwrap_or(0..0));
        let mut writer = Writer::default();
        self.render_template(&mut writer, &source, &h.template, scope, false, false)?;
        Ok(self.finish(writer, span))
    }

    /// The value of a heredoc in the current file. Its literals are read from the file: the
    /// parser's own `<<-` stripping is not Terraform's when a line starts with `${`.
    pub(super) fn heredoc_value(&self, h: &HeredocTemplate, scope: &Scope) -> EvalResult {
        let source = self
            .current_file()
            .and_then(|file| Some((file, self.heredoc_source(file, h)?)));
        let Some((file, source)) = source else {
            return self.eval_template(&h.template, scope);
        };
        let span = Span::new(file, h.span().unwrap_or(0..0));
        let mut writer = Writer::default();
        self.render_template(&mut writer, &source, &h.template, scope, false, false)?;
        Ok(match self.finish(writer, span) {
            Some(rendered) => Value::String(rendered.to_str()),
            None => Value::Unknown,
        })
    }

    /// `templatefile()` as a value.
    pub(super) fn templatefile_value(&self, file: FileId, text: &str, vars: &Value) -> EvalResult {
        let span = Span::file_start(file);
        Ok(match self.render_template_file(file, text, vars, span)? {
            Some(rendered) => Value::String(rendered.to_str()),
            None => Value::Unknown,
        })
    }

    /// Where a heredoc's text is, and how much a `<<-` heredoc strips from its lines.
    fn heredoc_source(&self, file: FileId, h: &HeredocTemplate) -> Option<Source<'a>> {
        let text = self.source_text(file)?;
        let range = h.span()?;
        let written = text.get(range.clone())?;
        if !written.starts_with("<<") {
            return None;
        }
        let body_start = range.start + written.find('\n')? + 1;
        let mut source = Source {
            file,
            text,
            body_start,
            raw: true,
            indent: 0,
        };
        if written.starts_with("<<-") {
            source.indent = heredoc_indent(&source, &h.template)?;
        }
        Some(source)
    }

    /// `templatefile(path, vars)` or `file(path)`, read through the loader.
    fn render_file_call(&self, f: &FuncCall, scope: &Scope, span: Span) -> Option<Rendered> {
        let path_value = self.eval(f.args.get(0)?, scope).ok()?;
        let path = path_value.as_known_str()?;
        let (template_file, text) = self.loader.load(&module_path(&self.dir, path))?;
        if text.len() > super::functions::MAX_FILE_BYTES {
            return None;
        }
        let shown = path.strip_prefix("./").unwrap_or(path).to_string();
        let mut rendered = if f.name.name.as_str() == "file" {
            let mut writer = Writer::default();
            writer.literal(
                &text,
                From::Text {
                    file: template_file,
                    start: 0,
                },
            );
            self.finish(writer, span)?
        } else {
            let vars = match f.args.get(1) {
                Some(e) => self.eval(e, scope).ok()?,
                None => return None,
            };
            self.render_template_file(template_file, &text, &vars, span)
                .ok()??
        };
        rendered.template = Some(template_file);
        rendered.template_path = Some(shown);
        Some(rendered)
    }

    /// A template file's text rendered with `vars`, as `templatefile()` does: `Ok(None)` when
    /// it cannot be rendered, `Err` when an interpolation provably fails.
    fn render_template_file(
        &self,
        file: FileId,
        text: &str,
        vars: &Value,
        span: Span,
    ) -> Result<Option<Rendered>, Fail> {
        let Ok(template) = hcl_edit::parser::parse_template(text) else {
            return Ok(None);
        };
        // Terraform refuses a template that calls `templatefile` again; without this, a
        // template that includes itself would recurse until the stack overflows.
        if self.in_template.replace(true) {
            return Ok(None);
        }
        let source = Source {
            file,
            text,
            body_start: 0,
            raw: true,
            indent: 0,
        };
        let previous = self.set_current_file(Some(file));
        let mut writer = Writer::default();
        let result = self.render_template(
            &mut writer,
            &source,
            &template,
            &template_scope(Some(vars)),
            false,
            false,
        );
        self.set_current_file(previous);
        self.in_template.set(false);
        result?;
        Ok(self.finish(writer, span))
    }

    fn render_elements<'e>(
        &self,
        source: &Source<'_>,
        elements: impl Iterator<Item = &'e Element>,
        scope: &Scope,
        span: Span,
    ) -> Option<Rendered> {
        let mut writer = Writer::default();
        for element in elements {
            self.render_element(&mut writer, source, element, scope)
                .ok()?;
        }
        self.finish(writer, span)
    }

    /// The rendering, or `None` (with a limit diagnostic at `span`) when it ran over budget.
    fn finish(&self, writer: Writer, span: Span) -> Option<Rendered> {
        if writer.over_budget {
            self.limit_hit(
                self.user_span(span, None),
                format!(
                    "rendering this template stopped after {} MiB; what it renders is unknown",
                    MAX_RENDERED_BYTES / (1024 * 1024)
                ),
            );
            return None;
        }
        (!writer.ambiguous).then_some(writer.out)
    }

    /// A template's elements, `lead` and `tail` saying whether the markers around it strip
    /// the whitespace at its start and end.
    fn render_template(
        &self,
        writer: &mut Writer,
        source: &Source<'_>,
        template: &Template,
        scope: &Scope,
        lead: bool,
        tail: bool,
    ) -> Result<(), Fail> {
        writer.strip_next = lead;
        for element in template.iter() {
            if writer.over_budget {
                return Ok(());
            }
            self.render_element(writer, source, element, scope)?;
        }
        if tail {
            writer.strip_tail();
        }
        Ok(())
    }

    fn render_element(
        &self,
        writer: &mut Writer,
        source: &Source<'_>,
        element: &Element,
        scope: &Scope,
    ) -> Result<(), Fail> {
        match element {
            Element::Literal(literal) => {
                self.render_literal(writer, source, literal.value(), literal.span())
            }
            Element::Interpolation(i) => {
                if i.strip.strip_start() {
                    writer.strip_tail();
                }
                let value = self.eval(&i.expr, scope)?;
                let at = i.expr.span().or(i.span()).unwrap_or(0..0);
                writer.value(&value, Span::new(source.file, at));
                writer.strip_next = i.strip.strip_end();
            }
            Element::Directive(d) => {
                writer.strip_next = false;
                self.render_directive(writer, source, d, scope)?;
            }
        }
        Ok(())
    }

    fn render_literal(
        &self,
        writer: &mut Writer,
        source: &Source<'_>,
        value: &str,
        span: Option<Range<usize>>,
    ) {
        let raw = span
            .clone()
            .and_then(|r| Some((r.start, source.text.get(r)?)));
        match raw {
            Some((start, raw)) if source.raw => {
                let begins_line =
                    start == source.body_start || source.text[..start].ends_with('\n');
                write_raw_literal(writer, source, raw, start, begins_line);
            }
            Some((start, raw)) if raw == value => writer.literal(
                value,
                From::Text {
                    file: source.file,
                    start,
                },
            ),
            // Escapes (`\"`, `\n`) make the value differ from the text: shown as a whole.
            _ => writer.literal(
                value,
                From::Written(Span::new(source.file, span.unwrap_or(0..0))),
            ),
        }
    }

    fn render_directive(
        &self,
        writer: &mut Writer,
        source: &Source<'_>,
        directive: &Directive,
        scope: &Scope,
    ) -> Result<(), Fail> {
        let span = Span::new(source.file, directive.span().unwrap_or(0..0));
        match directive {
            Directive::If(i) => {
                if i.if_expr.strip.strip_start() {
                    writer.strip_tail();
                }
                let endif_strips = i.endif_expr.strip.strip_start();
                match self.eval(&i.if_expr.cond_expr, scope)?.truthy() {
                    Some(true) => {
                        let tail = match &i.else_expr {
                            Some(e) => e.strip.strip_start(),
                            None => endif_strips,
                        };
                        let lead = i.if_expr.strip.strip_end();
                        self.render_template(
                            writer,
                            source,
                            &i.if_expr.template,
                            scope,
                            lead,
                            tail,
                        )?
                    }
                    Some(false) => {
                        if let Some(e) = &i.else_expr {
                            let lead = e.strip.strip_end();
                            self.render_template(
                                writer,
                                source,
                                &e.template,
                                scope,
                                lead,
                                endif_strips,
                            )?
                        }
                    }
                    None => {
                        writer.out.unknown_structure = true;
                        writer.hole(Symbol::Unknown, span);
                    }
                }
                writer.end_of_literal();
                writer.strip_next = i.endif_expr.strip.strip_end();
            }
            Directive::For(f) => {
                let fe = &f.for_expr;
                if fe.strip.strip_start() {
                    writer.strip_tail();
                }
                let collection = self.eval(&fe.collection_expr, scope)?;
                let items = match collection {
                    Value::Unknown => None,
                    Value::List(_) | Value::Map(_) => self.items(&collection),
                    _ => Some(Vec::new()),
                };
                match items {
                    Some(items) => {
                        for (k, v) in items {
                            if writer.over_budget || !self.step() {
                                break;
                            }
                            let mut s = scope.with(fe.value_var.as_str(), v);
                            if let Some(kv) = &fe.key_var {
                                s = s.with(kv.as_str(), k);
                            }
                            let lead = fe.strip.strip_end();
                            let tail = f.endfor_expr.strip.strip_start();
                            self.render_template(writer, source, &fe.template, &s, lead, tail)?;
                        }
                    }
                    None => {
                        writer.out.unknown_structure = true;
                        writer.hole(Symbol::Unknown, span);
                    }
                }
                writer.end_of_literal();
                writer.strip_next = f.endfor_expr.strip.strip_end();
            }
        }
        Ok(())
    }
}

/// A literal as written in a heredoc or template file: line by line, each line that starts in
/// the source losing a `<<-` heredoc's indent (blank lines keep theirs, as in Terraform), and
/// `$${` / `%%{` written as `${` / `%{`.
fn write_raw_literal(
    writer: &mut Writer,
    source: &Source<'_>,
    raw: &str,
    start: usize,
    begins_line: bool,
) {
    let mut offset = start;
    for (i, line) in raw.split_inclusive('\n').enumerate() {
        let mut text = line;
        let mut at = offset;
        let blank = line.trim().is_empty() && line.ends_with('\n');
        if source.indent > 0 && (i > 0 || begins_line) && !blank {
            let strip: usize = line
                .chars()
                .take_while(|c| c.is_whitespace() && *c != '\n')
                .take(source.indent)
                .map(char::len_utf8)
                .sum();
            text = &line[strip..];
            at += strip;
        }
        write_unescaped(writer, source.file, text, at);
        offset += line.len();
    }
}

/// Raw template text with its `$${` and `%%{` escapes resolved, mapped byte for byte.
fn write_unescaped(writer: &mut Writer, file: FileId, text: &str, start: usize) {
    let mut rest = text;
    let mut at = start;
    while let Some(i) = next_escape(rest) {
        // `$${` is written `${`: the first character is kept, the second skipped.
        writer.literal(&rest[..=i], From::Text { file, start: at });
        rest = &rest[i + 2..];
        at += i + 2;
    }
    writer.literal(rest, From::Text { file, start: at });
}

fn next_escape(text: &str) -> Option<usize> {
    match (text.find("$${"), text.find("%%{")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (found, None) | (None, found) => found,
    }
}

/// How many columns Terraform strips from the lines of a `<<-` heredoc: the least
/// indentation of a line that is not blank, zero when a line starts with an interpolation or
/// a directive. `None` when a literal's text cannot be found.
fn heredoc_indent(source: &Source<'_>, template: &Template) -> Option<usize> {
    let mut least = usize::MAX;
    let mut newline = true;
    visit_tokens(source, template, &mut least, &mut newline)?;
    Some(if least == usize::MAX { 0 } else { least })
}

fn visit_tokens(
    source: &Source<'_>,
    template: &Template,
    least: &mut usize,
    newline: &mut bool,
) -> Option<()> {
    let marker = |least: &mut usize, newline: &mut bool| {
        if *newline {
            *least = 0;
        }
        *newline = false;
    };
    for element in template.iter() {
        match element {
            Element::Literal(literal) => {
                let raw = source.text.get(literal.span()?)?;
                for (i, line) in raw.split_inclusive('\n').enumerate() {
                    if i == 0 && !*newline {
                        continue;
                    }
                    let indent = line
                        .chars()
                        .take_while(|c| c.is_whitespace() && *c != '\n')
                        .count();
                    let blank = line.trim().is_empty() && line.ends_with('\n');
                    if !blank {
                        *least = (*least).min(indent);
                    }
                }
                if !raw.is_empty() {
                    *newline = raw.ends_with('\n');
                }
            }
            Element::Interpolation(_) => marker(least, newline),
            Element::Directive(d) => {
                marker(least, newline);
                match &**d {
                    Directive::If(i) => {
                        visit_tokens(source, &i.if_expr.template, least, newline)?;
                        if let Some(e) = &i.else_expr {
                            marker(least, newline);
                            visit_tokens(source, &e.template, least, newline)?;
                        }
                    }
                    Directive::For(f) => {
                        visit_tokens(source, &f.for_expr.template, least, newline)?;
                    }
                }
                marker(least, newline);
            }
        }
    }
    Some(())
}

#[cfg(test)]
mod tests;
