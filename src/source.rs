//! Source files, spans and line/column arithmetic.
//!
//! Every fact and every diagnostic points into a [`SourceFile`] by byte offsets. Line and
//! column numbers are computed here and only here, so all output formats agree on them.
//! Columns are 1-based and count Unicode scalar values; UTF-16 columns (for LSP clients)
//! are computed on demand.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, OnceLock};

/// Index of a file in [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A byte range in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, range: std::ops::Range<usize>) -> Self {
        Span {
            file,
            start: range.start as u32,
            end: range.end.max(range.start) as u32,
        }
    }

    /// The empty span at the start of a file, for whole-file diagnostics.
    pub fn file_start(file: FileId) -> Self {
        Span {
            file,
            start: 0,
            end: 0,
        }
    }

    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: u32,
    pub column: u32,
}

/// One file as read from disk (or stdin), with its line index once a position is asked for.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as it should be shown to the user (relative to the working directory
    /// when the file lies below it).
    pub path: PathBuf,
    pub text: Arc<str>,
    found: Arc<Found>,
}

/// What is found in a text when first asked, a function of the text alone: the language
/// server shares it between the runs that read the same text, so that each is found at most
/// once, and only when asked (found for every file on the first lint, the line indexes and
/// markers were 5 MB and 7–10 ms at 10,000 services).
#[derive(Debug, Default)]
pub struct Found {
    /// Built when a position is first asked for: a check asks only of the files it reports
    /// on, and at 100,000 services the indexes of every file were 50 MB.
    index: OnceLock<LineIndex>,
    /// Which [`Marker`]s the text holds, each searched for when first asked: two bits a
    /// marker, asked and found.
    markers: AtomicU16,
}

/// A word some readers look for in whole texts before reading any (an Argo CD
/// Application, a Flux object, a suppression comment). Each is searched for once per text,
/// and the language server keeps the answers with the text: every edit asked them of every
/// file again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    ArgoCd,
    Flux,
    FluxKustomization,
    GitRepository,
    Suppression,
}

impl Marker {
    #[cfg(test)]
    const ALL: [Marker; 5] = [
        Marker::ArgoCd,
        Marker::Flux,
        Marker::FluxKustomization,
        Marker::GitRepository,
        Marker::Suppression,
    ];

    pub const fn word(self) -> &'static str {
        match self {
            Marker::ArgoCd => "argoproj.io",
            Marker::Flux => "fluxcd.io",
            Marker::FluxKustomization => "kustomize.toolkit.fluxcd.io",
            Marker::GitRepository => "kind: GitRepository",
            // What starts a suppression comment's text (`# irsa-lint: ignore IRSA001`).
            Marker::Suppression => "irsa-lint:",
        }
    }

    /// Its bits in [`Found::markers`]: asked, found.
    fn bits(self) -> (u16, u16) {
        let at = 2 * self as u16;
        (1 << at, 1 << (at + 1))
    }
}

/// Where each line of a text starts, and character counts at checkpoints: a function of the
/// text alone, so the language server keeps it for a text that did not change.
#[derive(Debug)]
pub struct LineIndex {
    line_starts: Vec<u32>,
    /// Characters and UTF-16 units before every [`CHECKPOINT_BYTES`]th byte.
    checkpoints: Vec<(u32, u32)>,
}

/// Files up to this size are scanned for a line number ([`SourceFile::line_of`]) instead of
/// being indexed.
const LINE_SCAN_BYTES: usize = 64 * 1024;

/// How far apart the character-count checkpoints of a file are.
const CHECKPOINT_BYTES: usize = 4096;

/// The characters and UTF-16 units a UTF-8 byte starts: a continuation byte starts none, a
/// four-byte sequence is two UTF-16 units.
fn units(b: u8) -> (u32, u32) {
    match b {
        0x80..=0xBF => (0, 0),
        0xF0..=0xFF => (1, 2),
        _ => (1, 1),
    }
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        // Counted first: a growing vector would keep up to twice the memory, for every file.
        let mut line_starts = Vec::with_capacity(memchr::memchr_iter(b'\n', bytes).count() + 1);
        line_starts.push(0);
        line_starts.extend(memchr::memchr_iter(b'\n', bytes).map(|i| i as u32 + 1));
        let mut checkpoints = Vec::with_capacity(bytes.len() / CHECKPOINT_BYTES + 1);
        let (mut chars, mut utf16) = (0u32, 0u32);
        for block in bytes.chunks(CHECKPOINT_BYTES) {
            checkpoints.push((chars, utf16));
            // Configuration is nearly all ASCII: a whole block checked at once.
            if block.is_ascii() {
                chars += block.len() as u32;
                utf16 += block.len() as u32;
                continue;
            }
            for &b in block {
                let (c, u) = units(b);
                chars += c;
                utf16 += u;
            }
        }
        LineIndex {
            line_starts,
            checkpoints,
        }
    }
}

impl SourceFile {
    pub fn new(path: PathBuf, text: impl Into<Arc<str>>) -> Self {
        SourceFile::sharing(path, text.into(), Arc::default())
    }

    /// A file whose text's [`Found`] is shared with other readings of the same text (the
    /// text must be the one it was found in).
    pub fn sharing(path: PathBuf, text: Arc<str>, found: Arc<Found>) -> Self {
        SourceFile { path, text, found }
    }

    /// What was found in the text so far, for [`SourceFile::sharing`].
    pub fn found(&self) -> &Arc<Found> {
        &self.found
    }

    /// Whether the text holds the marker's word.
    pub fn mentions(&self, marker: Marker) -> bool {
        let (asked, found) = marker.bits();
        let known = self.found.markers.load(Ordering::Relaxed);
        if known & asked != 0 {
            return known & found != 0;
        }
        let holds = memchr::memmem::find(self.text.as_bytes(), marker.word().as_bytes()).is_some();
        let bits = if holds { asked | found } else { asked };
        self.found.markers.fetch_or(bits, Ordering::Relaxed);
        holds
    }

    fn index(&self) -> &LineIndex {
        self.found.index.get_or_init(|| LineIndex::new(&self.text))
    }

    /// Characters and UTF-16 units before a byte offset (on a char boundary): from the
    /// checkpoint below it, so a column on a line of megabytes costs at most
    /// [`CHECKPOINT_BYTES`], not the line.
    fn units_before(&self, offset: usize) -> (u32, u32) {
        // The end of a text a whole number of blocks long is counted from the last block.
        let block =
            (offset / CHECKPOINT_BYTES).min(self.index().checkpoints.len().saturating_sub(1));
        let Some(&(mut chars, mut utf16)) = self.index().checkpoints.get(block) else {
            return (0, 0);
        };
        for &b in &self.text.as_bytes()[block * CHECKPOINT_BYTES..offset] {
            let (c, u) = units(b);
            chars += c;
            utf16 += u;
        }
        (chars, utf16)
    }

    /// Clamp an offset into the text and onto a char boundary.
    fn clamp(&self, offset: u32) -> usize {
        let mut offset = (offset as usize).min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    fn line_index(&self, offset: usize) -> usize {
        match self.index().line_starts.binary_search(&(offset as u32)) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// 1-based line and column (in Unicode scalar values) of a byte offset.
    pub fn line_col(&self, offset: u32) -> LineCol {
        let offset = self.clamp(offset);
        let line = self.line_index(offset);
        let start = self.index().line_starts[line] as usize;
        let column = self.units_before(offset).0 - self.units_before(start).0 + 1;
        LineCol {
            line: line as u32 + 1,
            column,
        }
    }

    /// The 1-based line of a byte offset, as [`Self::line_col`] gives it, without building
    /// the line index when there is none yet: views that show a line for every
    /// ServiceAccount and role (coverage, `graph`) would otherwise index every file.
    pub fn line_of(&self, offset: u32) -> u32 {
        // A long file asked for many lines is indexed once, not scanned again each time.
        if self.found.index.get().is_some() || self.text.len() > LINE_SCAN_BYTES {
            return self.line_col(offset).line;
        }
        let offset = self.clamp(offset);
        memchr::memchr_iter(b'\n', &self.text.as_bytes()[..offset]).count() as u32 + 1
    }

    /// 0-based line and UTF-16 column of a byte offset, as LSP clients count them.
    pub fn line_utf16(&self, offset: u32) -> (u32, u32) {
        let offset = self.clamp(offset);
        let line = self.line_index(offset);
        let start = self.index().line_starts[line] as usize;
        let column = self.units_before(offset).1 - self.units_before(start).1;
        (line as u32, column)
    }

    /// Byte offset of a 0-based line and UTF-16 column (the inverse of [`Self::line_utf16`]).
    pub fn offset_of_utf16(&self, line: u32, column: u32) -> u32 {
        let Some(&start) = self.index().line_starts.get(line as usize) else {
            return self.text.len() as u32;
        };
        let mut remaining = column as usize;
        let mut offset = start as usize;
        for c in self.text[start as usize..].chars() {
            if remaining == 0 || c == '\n' {
                break;
            }
            remaining = remaining.saturating_sub(c.len_utf16());
            offset += c.len_utf8();
        }
        offset as u32
    }

    /// The text of the (1-based) line, without its line ending.
    pub fn line_text(&self, line: u32) -> &str {
        let starts = &self.index().line_starts;
        let i = (line as usize).saturating_sub(1).min(starts.len() - 1);
        let start = starts[i] as usize;
        let end = starts
            .get(i + 1)
            .map(|&e| e as usize)
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    pub fn slice(&self, span: Span) -> &str {
        let start = self.clamp(span.start);
        let end = self.clamp(span.end).max(start);
        &self.text[start..end]
    }
}

/// All files of one run. Files are only added, never removed, so a [`FileId`] stays valid.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, path: PathBuf, text: impl Into<Arc<str>>) -> FileId {
        self.push(SourceFile::new(path, text))
    }

    /// Room for this many more files.
    pub fn reserve(&mut self, additional: usize) {
        self.files.reserve_exact(additional);
    }

    /// Add a file made elsewhere (on another thread).
    pub fn push(&mut self, file: SourceFile) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(file);
        id
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// Put another text in a file's place (an edit the language server patches a run with),
    /// and give back the file it held.
    pub fn replace(&mut self, id: FileId, file: SourceFile) -> SourceFile {
        std::mem::replace(&mut self.files[id.0 as usize], file)
    }

    pub fn find(&self, path: &Path) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| f.path == path)
            .map(|i| FileId(i as u32))
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_answer_as_a_search_and_travel_with_the_text() {
        let text = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n";
        let file = SourceFile::new("clusters/prod/apps.yaml".into(), text);
        assert!(file.mentions(Marker::FluxKustomization));
        assert!(!file.mentions(Marker::ArgoCd));
        // Asked again, from the bits kept.
        assert!(file.mentions(Marker::FluxKustomization) && !file.mentions(Marker::ArgoCd));
        let kept = SourceFile::sharing(file.path.clone(), file.text.clone(), file.found().clone());
        for marker in Marker::ALL {
            assert_eq!(
                kept.mentions(marker),
                text.contains(marker.word()),
                "{marker:?}"
            );
        }
    }

    #[test]
    fn columns_on_a_megabyte_line_come_from_checkpoints() {
        let line: String = "é😀a".repeat(150_000);
        let text = format!("first\n{line}\n");
        let file = SourceFile::new(PathBuf::from("long.yaml"), text.as_str());
        let started = std::time::Instant::now();
        for (n, (offset, _)) in line.char_indices().enumerate().step_by(9_973) {
            let at = 6 + offset as u32;
            assert_eq!(
                file.line_col(at),
                LineCol {
                    line: 2,
                    column: n as u32 + 1
                }
            );
            let utf16: usize = line[..offset].chars().map(char::len_utf16).sum();
            assert_eq!(file.line_utf16(at), (1, utf16 as u32));
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    /// A diagnostic at the very end of a file a whole number of 4 KiB blocks long (a finding
    /// about a missing key is placed there) gets its column like any other offset.
    #[test]
    fn the_end_of_a_text_of_whole_blocks_has_a_column() {
        let text = format!("{}\n{}", "a".repeat(4095), "é".repeat(2048));
        assert_eq!(text.len(), 2 * CHECKPOINT_BYTES);
        let file = SourceFile::new("values.yaml".into(), text.as_str());
        let end = text.len() as u32;
        assert_eq!(
            file.line_col(end),
            LineCol {
                line: 2,
                column: 2049
            }
        );
        assert_eq!(file.line_utf16(end), (1, 2048));
    }

    #[test]
    fn line_col_counts_characters_and_utf16_units() {
        let f = SourceFile::new("a.yaml".into(), "a: 1\r\nname: \"日本😀x\"\n");
        let x = f.text.find('x').unwrap() as u32;
        assert_eq!(
            f.line_col(x),
            LineCol {
                line: 2,
                column: 11
            }
        );
        assert_eq!(f.line_utf16(x), (1, 11));
        assert_eq!(f.offset_of_utf16(1, 11), x);
        assert_eq!(f.line_text(1), "a: 1");
    }

    /// A line asked for without an index (coverage and `graph` ask for one per
    /// ServiceAccount and role) is the line the index gives, at every offset of short and
    /// long files, past the end included.
    #[test]
    fn a_line_without_the_index_is_the_line_with_it() {
        let short = "a: 1\r\nname: \"日本😀x\"\n\n- b\n".to_string();
        let long = format!("{}\n{}", "key: é\n".repeat(10_000), "last: 1");
        for text in [short, long] {
            let scanned = SourceFile::new("a.yaml".into(), text.as_str());
            let indexed = SourceFile::new("a.yaml".into(), text.as_str());
            for offset in (0..=text.len() as u32 + 2).step_by(7) {
                assert_eq!(
                    scanned.line_of(offset),
                    indexed.line_col(offset).line,
                    "{offset}"
                );
            }
        }
    }
}
