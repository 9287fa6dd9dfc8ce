//! A YAML stream, cut into documents and loaded one document at a time.
//!
//! saphyr stops at the first error of a stream and returns nothing, so a typo in one
//! document would hide every other object of the file. Cutting the stream at its document
//! markers first keeps one broken document from hiding the others. This module also guards
//! saphyr's recursion (see [`MAX_NESTING`]) and keeps its alias expansion budget. It knows
//! nothing of Kubernetes.

use std::ops::Range;

use saphyr::{MarkedYaml, YamlLoader};
use saphyr_parser::{Event, Parser, SpannedEventReceiver};

/// saphyr's parser, its tree's `Drop` and its alias expansion recurse once per nesting level,
/// so a hostile file of 100,000 `- ` would overflow the stack. Flow collections are capped at
/// 255 levels by saphyr itself, block ones are not. Real manifests stay below 30 levels.
pub(super) const MAX_NESTING: usize = 1000;

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
    for line in text.split_inclusive('\n') {
        let line_end = line_start + line.len();
        match classify_line(line) {
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

fn is_marker_line(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

/// Load the documents of one chunk, keeping scalars as written.
///
/// Returns every document completed before an error, and the error. Drives saphyr's parser
/// event by event instead of calling its recursive `Parser::load`, which is what lets the
/// nesting depth be checked before anything recurses.
pub(super) fn load_documents(chunk: &str) -> (Vec<MarkedYaml<'_>>, Option<LoadError>) {
    let mut parser = Parser::new_from_str(chunk);
    let mut loader = YamlLoader::<MarkedYaml>::default();
    // Keep `3600` as the text "3600" rather than a number whose text is lost.
    loader.early_parse(false);
    // kubectl lets the later of two equal keys win; the YAML spec would reject the file.
    loader.allow_duplicate_keys(true);
    let mut depth = 0usize;
    let error = loop {
        let (event, span) = match parser.next_event() {
            None => break None,
            Some(Ok(next)) => next,
            Some(Err(error)) => {
                break Some(LoadError {
                    char_index: error.marker().index(),
                    message: format!("invalid YAML: {}", error.info()),
                });
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
        loader.on_event(event, span);
        if let Some(error) = loader.error() {
            // The alias expansion budget (billion laughs) is enforced by the loader.
            break Some(LoadError {
                char_index: error.marker().index(),
                message: format!("invalid YAML: {}", error.info()),
            });
        }
    };
    (loader.into_documents(), error)
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
    fn comments_before_a_marker_stay_with_the_next_document() {
        let text = "# only a comment\n---\nb: 2\n...\n# trailing\n";
        assert_eq!(chunks(text), ["# only a comment\n---\nb: 2\n...\n"]);
    }
}
