//! Many pieces of HCL text, each placed at a byte offset of the JSON file, parsed in a few
//! parses so that every node's span is an offset of the JSON file.
//!
//! hcl-edit gives a node a span only while parsing it: the node's offset in the text parsed.
//! So each piece is written at its offset into a buffer of spaces, and the buffer is parsed as
//! one HCL tuple, `[piece, piece, ...]`. Pieces that overlap (a block's type name and its
//! label, both written at the label's key) go into further buffers: a file takes as many
//! parses as pieces overlap at one place, a handful however large the file is.

use foldhash::HashMap;

use hcl_edit::expr::Expression;
use hcl_edit::template::Element;
use hcl_edit::visit_mut::{VisitMut, visit_expr_mut};
use hcl_edit::{Decorate, Decorated, Span as _};

use super::emit::Emitted;

use crate::parse::ParseError;
use crate::source::{FileId, Span};

pub(super) type PieceId = usize;

/// Pieces to parse, each `(offset, HCL text)`. The same text at the same place is one piece.
#[derive(Default)]
pub(super) struct Pieces {
    pieces: Vec<(usize, String)>,
    by_place: HashMap<(usize, String), PieceId>,
    /// Values of literal strings written as stand-ins, by the offset where they start.
    literals: HashMap<usize, String>,
}

impl Pieces {
    /// A piece at a file offset; offset 0 is taken by the tuple's `[` and is never a value's.
    pub fn add(&mut self, offset: usize, text: String) -> PieceId {
        debug_assert!(offset > 0, "a piece starts inside the root object");
        let key = (offset.max(1), text);
        if let Some(&id) = self.by_place.get(&key) {
            return id;
        }
        let id = self.pieces.len();
        self.pieces.push(key.clone());
        self.by_place.insert(key, id);
        id
    }

    pub fn add_emitted(&mut self, offset: usize, emitted: Emitted) -> PieceId {
        self.literals.extend(emitted.literals);
        self.add(offset, emitted.text)
    }

    /// Parse every piece. An error is placed where the buffer has it, which is where the JSON
    /// has it too.
    pub fn parse(self, file: FileId, file_len: usize) -> Result<Parsed, ParseError> {
        let mut exprs: Vec<Option<Expression>> = vec![None; self.pieces.len()];
        let error = |offset: usize, message: String| ParseError {
            span: Span::new(file, offset.min(file_len)..offset.min(file_len)),
            message: format!("invalid Terraform expression: {message}"),
        };
        for layer in self.layers() {
            let buffer = self.buffer(&layer);
            let parsed = hcl_edit::parser::parse_expr(&buffer).map_err(|err| {
                let message = crate::parse::hcl::lowercase_first(err.message());
                error(err.location().offset(), message)
            })?;
            let items = match parsed {
                Expression::Array(items) if items.len() == layer.len() => items,
                _ => return Err(error(0, "the file could not be rewritten as HCL".into())),
            };
            for (id, mut expr) in layer.into_iter().zip(items) {
                expr.decor_mut().clear();
                UnwrapSingleInterpolation.visit_expr_mut(&mut expr);
                RestoreLiterals(&self.literals).visit_expr_mut(&mut expr);
                exprs[id] = Some(expr);
            }
        }
        let uses = vec![0; exprs.len()];
        Ok(Parsed { exprs, uses })
    }

    /// Pieces grouped so that none in a group overlaps or touches another (a comma goes in
    /// between), each group in offset order.
    fn layers(&self) -> Vec<Vec<PieceId>> {
        let mut order: Vec<PieceId> = (0..self.pieces.len()).collect();
        order.sort_by_key(|&id| self.pieces[id].0);
        let mut layers: Vec<(usize, Vec<PieceId>)> = Vec::new();
        for id in order {
            let (start, text) = &self.pieces[id];
            let end = start + text.len();
            match layers.iter_mut().find(|(last_end, _)| last_end < start) {
                Some((last_end, ids)) => {
                    *last_end = end;
                    ids.push(id);
                }
                None => layers.push((end, vec![id])),
            }
        }
        layers.into_iter().map(|(_, ids)| ids).collect()
    }

    /// `[` at offset 0, each piece at its offset followed by a comma, `]` last.
    fn buffer(&self, layer: &[PieceId]) -> String {
        let last_end = layer
            .last()
            .map(|&id| self.pieces[id].0 + self.pieces[id].1.len())
            .unwrap_or(0);
        let mut buffer = vec![b' '; last_end + 2];
        buffer[0] = b'[';
        for &id in layer {
            let (start, text) = &self.pieces[id];
            buffer[*start..start + text.len()].copy_from_slice(text.as_bytes());
            buffer[start + text.len()] = b',';
        }
        buffer[last_end + 1] = b']';
        String::from_utf8(buffer).expect("whole pieces of UTF-8 between ASCII")
    }
}

/// The parsed pieces, each handed out as often as it was added.
pub(super) struct Parsed {
    exprs: Vec<Option<Expression>>,
    uses: Vec<u32>,
}

impl Parsed {
    /// Count how often each piece will be taken, before taking any.
    pub fn count_uses(&mut self, items: &[super::Item]) {
        super::piece_uses(items, &mut self.uses);
    }

    pub fn take(&mut self, id: PieceId) -> Expression {
        self.uses[id] = self.uses[id].saturating_sub(1);
        let expr = if self.uses[id] == 0 {
            self.exprs[id].take()
        } else {
            self.exprs[id].clone()
        };
        expr.expect("each piece is taken as often as it was added")
    }
}

/// A template that is one interpolation and nothing else is the interpolated value itself,
/// not that value turned into a string (`"${data.x.json}"` is the reference).
struct UnwrapSingleInterpolation;

impl VisitMut for UnwrapSingleInterpolation {
    fn visit_expr_mut(&mut self, expr: &mut Expression) {
        visit_expr_mut(self, expr);
        if let Expression::StringTemplate(t) = expr
            && let Some(Element::Interpolation(i)) = t.as_single_element_mut()
        {
            let null = Expression::Null(Decorated::new(hcl_edit::expr::Null));
            *expr = std::mem::replace(&mut i.expr, null);
        }
    }
}

/// Literal strings written as same-length stand-ins get their real value back.
struct RestoreLiterals<'l>(&'l HashMap<usize, String>);

impl VisitMut for RestoreLiterals<'_> {
    fn visit_string_mut(&mut self, s: &mut Decorated<String>) {
        if let Some(value) = s.span().and_then(|r| self.0.get(&r.start)) {
            *s.value_mut() = value.clone();
        }
    }
}
