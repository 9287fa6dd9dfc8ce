//! The documents the client has open: their URIs, versions and in-memory texts, which the
//! engine reads instead of the files on disk.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lsp_types::{Position, Range, TextDocumentContentChangeEvent, Uri};

use crate::open::MAX_FILE_BYTES;

#[derive(Debug, Clone)]
pub struct Document {
    /// The URI exactly as the client sent it: diagnostics go back under the same spelling.
    pub uri: Uri,
    pub version: i32,
    text: Text,
}

/// An open document's text, edited in place.
#[derive(Debug, Clone)]
enum Text {
    /// The byte offset where each line starts, kept up to date edit by edit, so that a
    /// ranged edit finds its place without indexing the whole text again.
    Held {
        text: String,
        line_starts: Vec<usize>,
    },
    /// Larger than the engine reads: not kept. Reported as such until a whole-text change
    /// brings it back under the limit; ranged edits cannot apply to it.
    TooLarge,
}

impl Text {
    fn new(text: String) -> Text {
        if text.len() as u64 > MAX_FILE_BYTES {
            return Text::TooLarge;
        }
        let mut line_starts = vec![0];
        line_starts.extend(memchr_newlines(&text, 0));
        Text::Held { text, line_starts }
    }

    /// Replace the text between two positions (0-based line, UTF-16 column).
    fn edit(&mut self, range: Range, new: &str) {
        let Text::Held { text, line_starts } = self else {
            return;
        };
        let start = offset_of(text, line_starts, range.start);
        let end = offset_of(text, line_starts, range.end).max(start);
        if (text.len() - (end - start) + new.len()) as u64 > MAX_FILE_BYTES {
            *self = Text::TooLarge;
            return;
        }
        text.replace_range(start..end, new);
        // Lines that started inside the replaced range are gone; those of the new text come
        // in their place, and every later one moves by the change in length.
        let first_after = line_starts.partition_point(|&s| s <= start);
        let first_kept = line_starts.partition_point(|&s| s <= end);
        let delta = new.len() as isize - (end - start) as isize;
        for s in &mut line_starts[first_kept..] {
            *s = (*s as isize + delta) as usize;
        }
        let inserted: Vec<usize> = memchr_newlines(new, start).collect();
        line_starts.splice(first_after..first_kept, inserted);
    }
}

/// The start of the line after each `\n` of `text`, offset by `base`.
fn memchr_newlines(text: &str, base: usize) -> impl Iterator<Item = usize> + '_ {
    text.bytes()
        .enumerate()
        .filter(|(_, b)| *b == b'\n')
        .map(move |(i, _)| base + i + 1)
}

/// The byte offset of a position, clamped into the text: a column past the end of its line
/// is the line's end, a line past the last is the end of the text.
fn offset_of(text: &str, line_starts: &[usize], position: Position) -> usize {
    let Some(&start) = line_starts.get(position.line as usize) else {
        return text.len();
    };
    let mut remaining = position.character as usize;
    let mut offset = start;
    for c in text[start..].chars() {
        if remaining == 0 || c == '\n' {
            break;
        }
        remaining = remaining.saturating_sub(c.len_utf16());
        offset += c.len_utf8();
    }
    offset
}

impl Document {
    pub fn new(uri: Uri, version: i32, text: String) -> Document {
        Document {
            uri,
            version,
            text: Text::new(text),
        }
    }

    /// The text, unless it is too large to be kept.
    pub fn text(&self) -> Option<&str> {
        match &self.text {
            Text::Held { text, .. } => Some(text),
            Text::TooLarge => None,
        }
    }
}

#[derive(Debug, Default)]
pub struct Documents {
    open: HashMap<PathBuf, Document>,
}

impl Documents {
    pub fn open(&mut self, path: PathBuf, document: Document) {
        self.open.insert(path, document);
    }

    pub fn close(&mut self, path: &Path) -> bool {
        self.open.remove(path).is_some()
    }

    pub fn get(&self, path: &Path) -> Option<&Document> {
        self.open.get(path)
    }

    /// Apply the client's changes in order. Whole-text changes are what this server asks
    /// for; ranged ones are applied too, in place, so a client that sends them anyway is
    /// not misread and a long run of them costs what each changes.
    pub fn change(
        &mut self,
        path: &Path,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
    ) -> bool {
        let Some(document) = self.open.get_mut(path) else {
            return false;
        };
        for change in changes {
            match change.range {
                None => document.text = Text::new(change.text),
                Some(range) => document.text.edit(range, &change.text),
            }
        }
        document.version = version;
        true
    }

    /// The texts the engine reads instead of the disk.
    pub fn overlays(&self) -> HashMap<PathBuf, Arc<str>> {
        self.open
            .iter()
            .filter_map(|(path, d)| Some((path.clone(), d.text()?.into())))
            .collect()
    }

    /// The open documents too large to be read: the engine reports each as such rather
    /// than read the file on disk.
    pub fn too_large(&self) -> HashSet<PathBuf> {
        self.open
            .iter()
            .filter(|(_, d)| d.text().is_none())
            .map(|(path, _)| path.clone())
            .collect()
    }

    /// The URI the client uses for each open document.
    pub fn uris(&self) -> HashMap<PathBuf, Uri> {
        self.open
            .iter()
            .map(|(path, d)| (path.clone(), d.uri.clone()))
            .collect()
    }

    pub fn paths(&self) -> impl Iterator<Item = &PathBuf> {
        self.open.keys()
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn ranged_changes_count_utf16_columns() {
        let mut documents = Documents::default();
        let path = PathBuf::from("/w/sa.yaml");
        let uri = Uri::from_str("file:///w/sa.yaml").unwrap();
        let document = Document::new(uri, 1, "# 台帳😀 role/ledger-apii\n".into());
        documents.open(path.clone(), document);
        // `😀` is two UTF-16 units: `role` starts at column 7, the last `i` at 21.
        let at = |character| Position { line: 0, character };
        let change = TextDocumentContentChangeEvent {
            range: Some(Range {
                start: at(21),
                end: at(22),
            }),
            range_length: None,
            text: String::new(),
        };
        assert!(documents.change(&path, 2, vec![change]));
        let document = documents.get(&path).unwrap();
        assert_eq!(document.text(), Some("# 台帳😀 role/ledger-api\n"));
        assert_eq!(document.version, 2);
    }

    /// Ranged edits applied in place keep the line index right: after many edits that add
    /// and remove lines, the text is what applying each to a fresh copy gives.
    #[test]
    fn ranged_edits_keep_the_line_index_in_step() {
        let mut text =
            Text::new("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n".into());
        let mut expected = String::from(text_of(&text));
        let edits: [(u32, u32, u32, u32, &str); 6] = [
            (1, 6, 1, 20, "Pod"),
            (0, 0, 0, 0, "# 台帳😀\n"),
            (3, 2, 4, 2, ""),
            (9, 0, 9, 0, "tail\n"),
            (2, 0, 3, 100, "x\ny\nz"),
            (0, 4, 0, 5, "!"),
        ];
        for (l1, c1, l2, c2, new) in edits {
            let at = |line, character| Position { line, character };
            let range = Range {
                start: at(l1, c1),
                end: at(l2, c2),
            };
            text.edit(range, new);
            // The same edit through a freshly indexed copy.
            let fresh = Text::new(expected.clone());
            let Text::Held { line_starts, .. } = &fresh else {
                unreachable!()
            };
            let start = offset_of(&expected, line_starts, range.start);
            let end = offset_of(&expected, line_starts, range.end).max(start);
            expected.replace_range(start..end, new);
            assert_eq!(text_of(&text), expected);
            let Text::Held {
                line_starts: kept, ..
            } = &text
            else {
                unreachable!()
            };
            let Text::Held {
                line_starts: rebuilt,
                ..
            } = Text::new(expected.clone())
            else {
                unreachable!()
            };
            assert_eq!(kept, &rebuilt);
        }
    }

    fn text_of(text: &Text) -> &str {
        match text {
            Text::Held { text, .. } => text,
            Text::TooLarge => "",
        }
    }

    #[test]
    fn a_document_over_the_limit_is_not_kept() {
        let big = "#".repeat(MAX_FILE_BYTES as usize + 1);
        assert!(matches!(Text::new(big), Text::TooLarge));
        let mut text = Text::new("#".repeat(MAX_FILE_BYTES as usize));
        let end = Position {
            line: 0,
            character: 0,
        };
        text.edit(Range { start: end, end }, "x");
        assert!(matches!(text, Text::TooLarge));
    }
}
