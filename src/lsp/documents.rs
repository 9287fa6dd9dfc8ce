//! The documents the client has open: their URIs, versions and in-memory texts, which the
//! engine reads instead of the files on disk.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lsp_types::{TextDocumentContentChangeEvent, Uri};

use crate::source::SourceFile;

#[derive(Debug, Clone)]
pub struct Document {
    /// The URI exactly as the client sent it: diagnostics go back under the same spelling.
    pub uri: Uri,
    pub version: i32,
    pub text: Arc<str>,
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
    /// for; ranged ones are applied too, so a client that sends them anyway is not misread.
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
            document.text = match change.range {
                None => change.text.into(),
                Some(range) => {
                    let file = SourceFile::new(PathBuf::new(), document.text.clone());
                    let start = file.offset_of_utf16(range.start.line, range.start.character);
                    let end = file.offset_of_utf16(range.end.line, range.end.character);
                    let mut text = document.text.to_string();
                    text.replace_range(start as usize..end.max(start) as usize, &change.text);
                    text.into()
                }
            };
        }
        document.version = version;
        true
    }

    /// The texts the engine reads instead of the disk.
    pub fn overlays(&self) -> HashMap<PathBuf, Arc<str>> {
        self.open
            .iter()
            .map(|(path, d)| (path.clone(), d.text.clone()))
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

    use lsp_types::{Position, Range};

    use super::*;

    #[test]
    fn ranged_changes_count_utf16_columns() {
        let mut documents = Documents::default();
        let path = PathBuf::from("/w/sa.yaml");
        let document = Document {
            uri: Uri::from_str("file:///w/sa.yaml").unwrap(),
            version: 1,
            text: "# 台帳😀 role/ledger-apii\n".into(),
        };
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
        assert_eq!(&*document.text, "# 台帳😀 role/ledger-api\n");
        assert_eq!(document.version, 2);
    }
}
