//! The documents the client has open: their URIs, versions and in-memory texts, which the
//! engine reads instead of the files on disk.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use foldhash::{HashMap, HashSet};
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
    /// In chunks of whole lines, each with its count of line breaks: a ranged edit finds
    /// its line by walking the chunks and copies only the chunks it touches, so a long run
    /// of edits costs what each changes, not the length of the text each time.
    Held(Vec<Chunk>),
    /// Larger than the engine reads: not kept. Reported as such until a whole-text change
    /// brings it back under the limit; ranged edits cannot apply to it.
    TooLarge,
}

/// Lines of a text. Every chunk but the last ends with `\n`, so no line spans two.
#[derive(Debug, Clone)]
struct Chunk {
    text: String,
    newlines: usize,
}

/// About how much one chunk holds: an edit copies at most its chunks.
const CHUNK_BYTES: usize = 16 * 1024;

impl Chunk {
    fn new(text: &str) -> Chunk {
        Chunk {
            newlines: text.bytes().filter(|b| *b == b'\n').count(),
            text: text.to_string(),
        }
    }
}

/// A text in chunks of about [`CHUNK_BYTES`], cut after a line break.
fn chunks_of(mut text: &str) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    while text.len() > CHUNK_BYTES {
        let Some(at) = text.as_bytes()[CHUNK_BYTES - 1..]
            .iter()
            .position(|b| *b == b'\n')
        else {
            break;
        };
        let cut = CHUNK_BYTES + at;
        if cut == text.len() {
            break;
        }
        chunks.push(Chunk::new(&text[..cut]));
        text = &text[cut..];
    }
    chunks.push(Chunk::new(text));
    chunks
}

impl Text {
    fn new(text: String) -> Text {
        if text.len() as u64 > MAX_FILE_BYTES {
            return Text::TooLarge;
        }
        Text::Held(chunks_of(&text))
    }

    fn len(chunks: &[Chunk]) -> usize {
        chunks.iter().map(|c| c.text.len()).sum()
    }

    /// Replace the text between two positions (0-based line, UTF-16 column).
    fn edit(&mut self, range: Range, new: &str) {
        let Text::Held(chunks) = self else {
            return;
        };
        let start = locate(chunks, range.start);
        let end = locate(chunks, range.end).max(start);
        let removed =
            Text::len(&chunks[start.0..=end.0]) - start.1 - (chunks[end.0].text.len() - end.1);
        if (Text::len(chunks) - removed + new.len()) as u64 > MAX_FILE_BYTES {
            *self = Text::TooLarge;
            return;
        }
        // The touched chunks become one, and a small one joins the next, so that chunks do
        // not dwindle to a line each.
        let mut last = end.0;
        let mut merged = String::with_capacity(start.1 + new.len() + CHUNK_BYTES);
        merged.push_str(&chunks[start.0].text[..start.1]);
        merged.push_str(new);
        merged.push_str(&chunks[end.0].text[end.1..]);
        if merged.len() < CHUNK_BYTES / 4 && last + 1 < chunks.len() {
            last += 1;
            merged.push_str(&chunks[last].text);
        }
        let mut replacement = chunks_of(&merged);
        if replacement.len() == 1 && replacement[0].text.is_empty() && chunks.len() > 1 {
            replacement.clear();
        }
        chunks.splice(start.0..=last, replacement);
        if chunks.is_empty() {
            chunks.push(Chunk::new(""));
        }
    }

    /// The whole text.
    fn to_text(&self) -> Option<String> {
        let Text::Held(chunks) = self else {
            return None;
        };
        let mut text = String::with_capacity(Text::len(chunks));
        for chunk in chunks {
            text.push_str(&chunk.text);
        }
        Some(text)
    }
}

/// The chunk and the byte offset in it of a position, clamped into the text: a column past
/// the end of its line is the line's end, a line past the last is the end of the text.
fn locate(chunks: &[Chunk], position: Position) -> (usize, usize) {
    let mut line = position.line as usize;
    let last = chunks.len() - 1;
    for (i, chunk) in chunks.iter().enumerate() {
        if line >= chunk.newlines && i < last {
            line -= chunk.newlines;
            continue;
        }
        if line > chunk.newlines {
            return (i, chunk.text.len());
        }
        let text = &chunk.text;
        let start = match line {
            0 => 0,
            _ => {
                let mut seen = 0;
                let at = text.bytes().position(|b| {
                    seen += usize::from(b == b'\n');
                    seen == line
                });
                at.map_or(text.len(), |at| at + 1)
            }
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
        return (i, offset);
    }
    (last, chunks[last].text.len())
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
    pub fn text(&self) -> Option<String> {
        self.text.to_text()
    }

    fn too_large(&self) -> bool {
        matches!(self.text, Text::TooLarge)
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
            .filter(|(_, d)| d.too_large())
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
        assert_eq!(
            document.text().as_deref(),
            Some("# 台帳😀 role/ledger-api\n")
        );
        assert_eq!(document.version, 2);
    }

    /// The byte offset of a position in a text indexed afresh: what an edit in place must
    /// agree with.
    fn fresh_offset(text: &str, position: Position) -> usize {
        let file = crate::source::SourceFile::new(PathBuf::new(), text);
        file.offset_of_utf16(position.line, position.character) as usize
    }

    /// Ranged edits applied in place, across chunks, agree with each edit applied to the
    /// whole text indexed afresh: many edits that add and remove lines in a text of many
    /// chunks, with wide characters, lines past the end and columns past a line's end.
    #[test]
    fn ranged_edits_in_place_agree_with_a_fresh_index() {
        let line = "  eks.amazonaws.com/role-arn: arn:aws:iam::482910375521:role/台帳😀\n";
        let mut expected = line.repeat(1500);
        let mut text = Text::new(expected.clone());
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n) as u32
        };
        let inserts = ["", "x", "\n", "a\nb\n", "名前😀\n\n", &line.repeat(400)];
        for _ in 0..300 {
            let lines = expected.lines().count() as u64 + 2;
            let at = |l, c| Position {
                line: l,
                character: c,
            };
            let a = at(next(lines), next(90));
            let b = at(a.line + next(3), next(90));
            let new = inserts[next(inserts.len() as u64) as usize];
            text.edit(Range { start: a, end: b }, new);
            let start = fresh_offset(&expected, a);
            let end = fresh_offset(&expected, b).max(start);
            expected.replace_range(start..end, new);
            assert_eq!(text.to_text().as_deref(), Some(expected.as_str()));
            if expected.len() > 200_000 {
                let cut = expected.as_bytes()[..100_000]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |i| i + 1);
                expected.truncate(cut);
                text = Text::new(expected.clone());
            }
        }
        let Text::Held(chunks) = &text else {
            unreachable!()
        };
        assert!(chunks.len() > 3, "the text is held in several chunks");
        for chunk in &chunks[..chunks.len() - 1] {
            assert!(chunk.text.ends_with('\n'));
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
