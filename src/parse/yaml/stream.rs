//! A YAML stream, cut into documents and loaded one document at a time.
//!
//! saphyr stops at the first error of a stream and returns nothing, so a typo in one
//! document would hide every other object of the file. Cutting the stream at its document
//! markers first keeps one broken document from hiding the others. This module also guards
//! saphyr's recursion (see [`MAX_NESTING`]) and keeps its alias expansion budget. It knows
//! nothing of Kubernetes.

use std::ops::Range;

use saphyr::{MarkedYaml, YamlLoader};
use saphyr_parser::{Event, Parser, Span, SpannedEventReceiver};

/// saphyr's parser, its tree's `Drop` and its alias expansion recurse once per nesting level,
/// so a hostile file of 100,000 `- ` would overflow the stack. Flow collections are capped at
/// 255 levels by saphyr itself, block ones are not. Real manifests stay below 30 levels.
pub(crate) const MAX_NESTING: usize = 1000;

/// Why a document could not be loaded, at a character index of its chunk.
pub(super) struct LoadError {
    pub(super) char_index: usize,
    pub(super) message: String,
}

/// Byte ranges of a stream's documents, cut at `---` and `...` lines.
///
/// A marker line belongs to the document it starts (`--- !tag`, `--- |` carry content) or
/// ends. Per the YAML spec such a line at column 0 can never be inside a scalar, so cutting
/// there is safe. Chunks with nothing but comments, blank lines and directives are not
/// returned, except that directives stay with the document that follows them.
pub(super) fn split_documents(text: &str) -> Vec<Range<usize>> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut has_content = false;
    let mut line_start = 0;
    for line in lines(text) {
        let line_end = line_start + line.len();
        // Inside a document only its markers matter, and most lines start with neither.
        let may_be_marker = || matches!(line.as_bytes()[0], b'-' | b'.' | 0xEF);
        let kind = match has_content && !may_be_marker() {
            true => LineKind::Content,
            false => classify_line(line),
        };
        match kind {
            LineKind::DocumentStart => {
                if has_content {
                    chunks.push(start..line_start);
                    start = line_start;
                }
                has_content = true;
            }
            LineKind::DocumentEnd => {
                if has_content {
                    chunks.push(start..line_end);
                }
                start = line_end;
                has_content = false;
            }
            LineKind::Content => has_content = true,
            LineKind::Trivia => {}
        }
        line_start = line_end;
    }
    if has_content {
        chunks.push(start..text.len());
    }
    chunks
}

/// The lines of a text, each with its `\n` (as `split_inclusive('\n')`, with memchr's
/// vectorized search).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).map(|at| at + 1);
    ends.chain((!text.is_empty() && !text.ends_with('\n')).then_some(text.len()))
        .map(move |end| {
            let line = &text[start..end];
            start = end;
            line
        })
}

enum LineKind {
    DocumentStart,
    DocumentEnd,
    Content,
    /// Blank, comment or directive.
    Trivia,
}

fn classify_line(line: &str) -> LineKind {
    let line = line.trim_end_matches(['\n', '\r']);
    // A byte order mark may start any document of a stream.
    let line = line.strip_prefix('\u{feff}').unwrap_or(line);
    if is_marker_line(line, "---") {
        return LineKind::DocumentStart;
    }
    if is_marker_line(line, "...") {
        return LineKind::DocumentEnd;
    }
    match line.trim_start_matches([' ', '\t']).bytes().next() {
        None | Some(b'#') => LineKind::Trivia,
        Some(b'%') if line.starts_with('%') => LineKind::Trivia,
        Some(_) => LineKind::Content,
    }
}

/// Whether a document is a `CustomResourceDefinition`, by its root `kind:` line alone: such
/// documents only describe other objects' schemas, are often megabytes of generated
/// OpenAPI, and are skipped before any parsing. A document with no `kind:` at its root, or
/// with several, is not skipped.
pub(crate) fn is_schema_document(chunk: &str) -> bool {
    let bytes = chunk.as_bytes();
    let mut kinds = memchr::memmem::find_iter(bytes, b"kind:")
        .filter(|&at| at == 0 || bytes[at - 1] == b'\n')
        .map(|at| {
            let value = &chunk[at + "kind:".len()..];
            let value = value.split('\n').next().unwrap_or(value);
            let value = value.split(" #").next().unwrap_or(value).trim();
            value.trim_matches(|c| c == '"' || c == '\'')
        });
    matches!(
        (kinds.next(), kinds.next()),
        (Some("CustomResourceDefinition"), None)
    )
}

fn is_marker_line(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

/// Load the documents of one chunk whose root `kind` is `wanted`, keeping scalars as written.
///
/// Returns every such document completed before an error, and the error. Other documents
/// are only checked for syntax. Drives saphyr's parser event by event instead of calling
/// its recursive `Parser::load`, which is what lets the nesting depth be checked before
/// anything recurses.
pub(super) fn load_documents<'input>(
    chunk: &'input str,
    wanted: &dyn Fn(&str) -> bool,
) -> (Vec<MarkedYaml<'input>>, Option<LoadError>) {
    match load_gated(chunk, Some(wanted)) {
        Some(loaded) => loaded,
        // A skipped document wrote `kind` again; the later one wins and may be wanted.
        None => load_gated(chunk, None).unwrap_or_default(),
    }
}

/// Load every document of one chunk, whatever its root: YAML that is not a Kubernetes
/// object (Helm values).
pub(super) fn load_all_documents(chunk: &str) -> (Vec<MarkedYaml<'_>>, Option<LoadError>) {
    load_gated(chunk, None).unwrap_or_default()
}

/// `None` when a document skipped by `wanted` turns out to have a second `kind`.
fn load_gated<'input>(
    chunk: &'input str,
    wanted: Option<&dyn Fn(&str) -> bool>,
) -> Option<(Vec<MarkedYaml<'input>>, Option<LoadError>)> {
    let mut parser = Parser::new_from_str(chunk);
    let mut loader = YamlLoader::<MarkedYaml>::default();
    // Keep `3600` as the text "3600" rather than a number whose text is lost.
    loader.early_parse(false);
    // kubectl lets the later of two equal keys win; the YAML spec would reject the file.
    loader.allow_duplicate_keys(true);
    let mut gate = wanted.map(KindGate::new);
    let mut depth = 0usize;
    let error = loop {
        let (event, span) = match parser.next_event() {
            None => break None,
            Some(Ok(next)) => next,
            Some(Err(error)) => {
                break Some(LoadError::from_scan(error.marker().index(), error.info()));
            }
        };
        match event {
            Event::MappingStart(..) | Event::SequenceStart(..) => depth += 1,
            Event::MappingEnd | Event::SequenceEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_NESTING {
            break Some(LoadError {
                char_index: span.start.index(),
                message: format!("nesting deeper than {MAX_NESTING} levels"),
            });
        }
        match gate.as_mut() {
            None => loader.on_event(event, span),
            Some(gate) => {
                if gate.watch(&event, depth) == Watch::KindRewrittenWhileSkipping {
                    return None;
                }
                gate.route(event, span, &mut loader);
            }
        }
        if let Some(error) = loader.error() {
            // The alias expansion budget (billion laughs) is enforced by the loader.
            break Some(LoadError::from_scan(error.marker().index(), error.info()));
        }
    };
    Some((loader.into_documents(), error))
}

impl LoadError {
    fn from_scan(char_index: usize, info: &str) -> Self {
        LoadError {
            char_index,
            message: format!("invalid YAML: {info}"),
        }
    }
}

/// Decides per document whether saphyr's tree is worth building.
///
/// Only some kinds can yield facts, while ConfigMaps and CRDs make up most of the bytes of a
/// large repository. Checking their syntax without building a tree was measured 1.3 to 1.8
/// times faster.
/// Events are held back until the root mapping's `kind` is known (it is usually the first
/// or second key), then replayed into the loader or dropped.
struct KindGate<'w, 'input> {
    wanted: &'w dyn Fn(&str) -> bool,
    state: GateState,
    held: Vec<(Event<'input>, Span)>,
    root_is_mapping: bool,
    /// The next complete node directly in the root mapping is a key (else a value).
    next_is_key: bool,
    after_kind_key: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum GateState {
    Hold,
    Load,
    Skip,
}

#[derive(PartialEq, Eq)]
enum Watch {
    Continue,
    KindRewrittenWhileSkipping,
}

impl<'w, 'input> KindGate<'w, 'input> {
    fn new(wanted: &'w dyn Fn(&str) -> bool) -> Self {
        KindGate {
            wanted,
            state: GateState::Hold,
            held: Vec::new(),
            root_is_mapping: false,
            next_is_key: true,
            after_kind_key: false,
        }
    }

    /// Follow the root mapping's keys; `depth` is the nesting after `event`.
    fn watch(&mut self, event: &Event, depth: usize) -> Watch {
        match event {
            Event::DocumentStart(_) => {
                self.reset();
                return Watch::Continue;
            }
            // No `kind` at the root: the document yields no facts.
            Event::DocumentEnd if self.state == GateState::Hold => {
                self.state = GateState::Skip;
                return Watch::Continue;
            }
            Event::MappingStart(..) if depth == 1 => {
                self.root_is_mapping = true;
                return Watch::Continue;
            }
            // Only a root mapping can be an object.
            Event::SequenceStart(..) if depth == 1 && self.state == GateState::Hold => {
                self.state = GateState::Skip;
                return Watch::Continue;
            }
            _ => {}
        }
        let completes_root_node = self.root_is_mapping
            && depth == 1
            && matches!(
                event,
                Event::Scalar(..) | Event::Alias(..) | Event::MappingEnd | Event::SequenceEnd
            );
        if !completes_root_node {
            return Watch::Continue;
        }
        let is_key = self.next_is_key;
        self.next_is_key = !is_key;
        if is_key {
            self.after_kind_key = matches!(event, Event::Scalar(key, ..) if key == "kind");
            // An alias key might stand for `kind`: only the tree can tell.
            if matches!(event, Event::Alias(..)) {
                return self.decide(GateState::Load);
            }
            return Watch::Continue;
        }
        if !std::mem::take(&mut self.after_kind_key) {
            return Watch::Continue;
        }
        match event {
            Event::Scalar(kind, ..) if !(self.wanted)(kind) => self.decide(GateState::Skip),
            _ => self.decide(GateState::Load),
        }
    }

    /// Settle the document's fate; a second `kind` after a skip needs the whole tree.
    fn decide(&mut self, wanted_state: GateState) -> Watch {
        match self.state {
            GateState::Hold => self.state = wanted_state,
            GateState::Skip => return Watch::KindRewrittenWhileSkipping,
            GateState::Load => {}
        }
        Watch::Continue
    }

    fn reset(&mut self) {
        self.state = GateState::Hold;
        self.held.clear();
        self.root_is_mapping = false;
        self.next_is_key = true;
        self.after_kind_key = false;
    }

    fn route(
        &mut self,
        event: Event<'input>,
        span: Span,
        loader: &mut YamlLoader<'input, MarkedYaml<'input>>,
    ) {
        match self.state {
            GateState::Hold => self.held.push((event, span)),
            GateState::Load => {
                for (held_event, held_span) in self.held.drain(..) {
                    loader.on_event(held_event, held_span);
                }
                loader.on_event(event, span);
            }
            GateState::Skip => self.held.clear(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(text: &str) -> Vec<&str> {
        split_documents(text)
            .into_iter()
            .map(|range| &text[range])
            .collect()
    }

    #[test]
    fn a_custom_resource_definition_is_known_by_its_root_kind_line() {
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  names:\n    kind: Widget\n";
        assert!(is_schema_document(crd));
        assert!(is_schema_document(
            "kind: \"CustomResourceDefinition\" # generated\n"
        ));
        // A List of CRDs, a ServiceAccount, and a document whose kind is written twice.
        assert!(!is_schema_document(
            "kind: List\nitems:\n- kind: CustomResourceDefinition\n"
        ));
        assert!(!is_schema_document(
            "kind: ServiceAccount\nmetadata:\n  name: crd-reader\n"
        ));
        assert!(!is_schema_document(
            "kind: CustomResourceDefinition\nkind: ServiceAccount\n"
        ));
    }

    #[test]
    fn documents_are_cut_at_markers_and_directives_stay_with_their_document() {
        let text = "# header\na: 1\n---\nb: 2\n...\n%YAML 1.2\n---\nc: 3\n--- |\n  d\n";
        assert_eq!(
            chunks(text),
            [
                "# header\na: 1\n",
                "---\nb: 2\n...\n",
                "%YAML 1.2\n---\nc: 3\n",
                "--- |\n  d\n"
            ]
        );
    }

    #[test]
    fn indented_or_glued_dashes_are_not_markers() {
        let text = "a: |\n  ---\n---x: 1\n--- \r\nb: 2\r\n";
        assert_eq!(chunks(text), ["a: |\n  ---\n---x: 1\n", "--- \r\nb: 2\r\n"]);
    }

    #[test]
    fn a_marker_after_a_byte_order_mark_or_on_the_last_line_still_cuts() {
        let text = "a: 1\n\u{feff}--- # second\nb: 2\n---";
        assert_eq!(
            chunks(text),
            ["a: 1\n", "\u{feff}--- # second\nb: 2\n", "---"]
        );
    }

    #[test]
    fn lines_keep_their_breaks_as_split_inclusive_does() {
        for text in ["", "\n", "a", "a\n", "a\r\nb", "\n\nc\n", "é\n---\n"] {
            assert_eq!(
                lines(text).collect::<Vec<_>>(),
                text.split_inclusive('\n').collect::<Vec<_>>(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn the_schema_kind_line_may_end_with_crlf_or_the_text_and_must_be_at_column_0() {
        assert!(is_schema_document(
            "apiVersion: apiextensions.k8s.io/v1\r\nkind: CustomResourceDefinition\r\n"
        ));
        assert!(is_schema_document(
            "metadata:\n  name: widgets.example.com\nkind: CustomResourceDefinition"
        ));
        assert!(!is_schema_document(
            "kind: List\nitems:\n  - kind: CustomResourceDefinition\n"
        ));
        assert!(!is_schema_document(
            "spec:\n  kind: CustomResourceDefinition\n"
        ));
    }

    #[test]
    fn comments_before_a_marker_stay_with_the_next_document() {
        let text = "# only a comment\n---\nb: 2\n...\n# trailing\n";
        assert_eq!(chunks(text), ["# only a comment\n---\nb: 2\n...\n"]);
    }
}
