//! Reading the inputs: a file's text from an editor overlay, the cache or the disk, with the
//! limits that keep one hostile file from costing the run (size, nesting depth, not a
//! regular file) and git-crypt files recognised as unknown rather than broken.

use std::fs::Metadata;
use std::path::Path;
use std::sync::Arc;

use super::Settings;
use super::cache::FreshDisk;
use crate::discover::Input;
use crate::open::{self, Links, ReadError};
use crate::parse::ParseError;
use crate::source::{FileId, Span};

/// What reading one input gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadOutcome {
    Text(Arc<str>),
    /// Encrypted in the repository (git-crypt): its content is unknown, not broken.
    Encrypted,
    /// Why it could not be read; reported as IRSA000 on the file.
    Unreadable(String),
}

impl ReadOutcome {
    fn from_disk(result: Result<String, ReadOutcome>) -> ReadOutcome {
        match result {
            Ok(text) => ReadOutcome::Text(text.into()),
            Err(outcome) => outcome,
        }
    }
}

/// Files larger than this are not parsed (one IRSA000 says so).
pub use crate::open::MAX_FILE_BYTES;

/// Files whose brackets nest deeper than this are not parsed (one IRSA000 says where): the
/// parsers and the evaluator recurse per level, and no real configuration comes close.
pub const MAX_NESTING: usize = 500;

/// The offset of the first bracket that opens level `MAX_NESTING + 1`, counting `[`, `{`
/// and `(` outside double-quoted strings. A cheap scan that bounds every parser's and the
/// evaluator's recursion at once, whatever the syntax.
pub(super) fn too_deeply_nested(text: &str) -> Option<usize> {
    // No more opening brackets than the limit cannot open a level past it. Counted first, in
    // a loop the compiler vectorizes: the scan below goes a byte at a time, over every text
    // of a run (30 MB at 10,000 services), and nearly none has that many.
    let opening = (text.bytes())
        .filter(|b| matches!(b, b'[' | b'{' | b'('))
        .count();
    if opening <= MAX_NESTING {
        return None;
    }
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            // A string ends at its closing quote or at the end of its line; a backslash
            // escapes the byte after it. Strings are most of a large JSON document's bytes:
            // searched, not walked.
            b'"' => loop {
                // Left open to the end of the text, it holds every bracket after it.
                at += 1 + memchr::memchr3(b'"', b'\\', b'\n', bytes.get(at + 1..)?)?;
                if bytes[at] != b'\\' {
                    break;
                }
                at += 1;
            },
            b'[' | b'{' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(at);
                }
            }
            b']' | b'}' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        at += 1;
    }
    None
}

pub(super) fn too_deep_error(id: FileId, offset: usize) -> ParseError {
    ParseError {
        span: Span::new(id, offset..offset + 1),
        message: format!(
            "brackets are nested more than {MAX_NESTING} levels deep here; the file was not parsed"
        ),
    }
}

/// An editor's text for the file when there is one, else the file on disk.
pub(super) fn read_input(input: &Input, settings: &Settings) -> ReadOutcome {
    let (outcome, fresh) = read_input_unkept(input, settings);
    if let (Some(cache), Some(fresh)) = (&settings.cache, fresh) {
        cache.keep_read(std::iter::once(fresh));
    }
    outcome
}

/// [`read_input`], with a text the language server's cache read anew given back to keep
/// ([`Cache::keep_read`](super::Cache::keep_read)).
pub(super) fn read_input_unkept(
    input: &Input,
    settings: &Settings,
) -> (ReadOutcome, Option<FreshDisk>) {
    let path = input.path.as_path();
    if settings.too_large.contains(path) {
        let too_large = ReadError::TooLarge(MAX_FILE_BYTES).to_string();
        return (ReadOutcome::Unreadable(too_large), None);
    }
    if let Some(text) = settings.overlays.get(path) {
        if text.len() as u64 > MAX_FILE_BYTES {
            let too_large = ReadError::TooLarge(MAX_FILE_BYTES).to_string();
            return (ReadOutcome::Unreadable(too_large), None);
        }
        return (ReadOutcome::Text(text.clone()), None);
    }
    // A link the user named is read; one the walk came upon is not.
    let links = match input.named {
        true => Links::Follow,
        false => Links::Listed,
    };
    match &settings.cache {
        Some(cache) => cache.read(path, links),
        None => (ReadOutcome::from_disk(read_text(path, links)), None),
    }
}

/// A file's text from the disk, or why there is none. `links` says whether the path may
/// be a symbolic link (a path the user named, or one already resolved) or not (a file the
/// walk found). Terraform plan JSON may be larger than other files.
pub(super) fn read_text(path: &Path, links: Links) -> Result<String, ReadOutcome> {
    read_text_and_metadata(path, links).map(|(text, _)| text)
}

/// [`read_text`], with the file's metadata as it was opened (see
/// [`open::read_bytes_and_metadata`]).
pub(super) fn read_text_and_metadata(
    path: &Path,
    links: Links,
) -> Result<(String, Metadata), ReadOutcome> {
    let read = match open::read_bytes_and_metadata(path, links, MAX_FILE_BYTES) {
        Err(ReadError::TooLarge(_)) if starts_like_a_plan(path, links) => {
            open::read_bytes_and_metadata(path, links, super::plan::MAX_PLAN_BYTES)
        }
        read => read,
    };
    let (bytes, metadata) = read.map_err(|err| {
        ReadOutcome::Unreadable(match err {
            ReadError::NotFound => "cannot read file: file vanished while reading".to_string(),
            ReadError::PermissionDenied => "cannot read file: permission denied".to_string(),
            ReadError::Other(message) => format!("cannot read file: {message}"),
            ReadError::NotRegular(_) | ReadError::SymbolicLink => {
                "not a regular file, so it was not read".to_string()
            }
            other => other.to_string(),
        })
    })?;
    if bytes.starts_with(GIT_CRYPT_HEADER) {
        return Err(ReadOutcome::Encrypted);
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| ReadOutcome::Unreadable("file is not valid UTF-8 text".to_string()))?;
    Ok((text, metadata))
}

/// Whether a `.json` file starts as `terraform show -json` writes: plans may be far larger
/// than other files, and are read in one pass without a tree (`crate::parse::plan`).
fn starts_like_a_plan(path: &Path, links: Links) -> bool {
    if !path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        return false;
    }
    let Ok(head) = open::read_prefix(path, links, 4096) else {
        return false;
    };
    let head = String::from_utf8_lossy(&head);
    head.contains("\"format_version\"") && head.contains("\"terraform_version\"")
}

/// Files kept encrypted in the repository by git-crypt start with this header.
const GIT_CRYPT_HEADER: &[u8] = b"\0GITCRYPT\0";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover;

    #[test]
    fn nesting_is_told_by_depth_not_by_count() {
        let deep = |n: usize| "[".repeat(n) + &"]".repeat(n);
        assert_eq!(too_deeply_nested(&"[]".repeat(MAX_NESTING + 100)), None);
        assert_eq!(too_deeply_nested(&deep(MAX_NESTING)), None);
        assert_eq!(too_deeply_nested(&deep(MAX_NESTING + 1)), Some(MAX_NESTING));
        // Brackets in a string open nothing.
        let quoted = format!("\"{}\"[]", "[".repeat(MAX_NESTING + 1));
        assert_eq!(too_deeply_nested(&quoted), None);
    }

    #[test]
    fn a_string_ends_at_its_quote_or_line_and_a_backslash_escapes_one_byte() {
        let opened = "[".repeat(MAX_NESTING);
        // Each string closes before the last bracket, which opens one level too many.
        for string in [r#""a""#, r#""a\"b""#, r#""a\\""#, "\"a\n", "\"a\\\"\n"] {
            let text = format!("{opened}{string}[");
            let last = text.len() - 1;
            assert_eq!(too_deeply_nested(&text), Some(last), "{string:?}");
        }
        // A string escaping its closing quote, or left open, holds the brackets after it.
        for string in [r#""a\""#, "\"a", r#""a\"#] {
            let text = format!("{opened}{string}[");
            assert_eq!(too_deeply_nested(&text), None, "{string:?}");
        }
    }

    /// A file that the walk found and that is gone when it is read (deleted by another
    /// process in between) is one IRSA000 on its path; the rest of the run goes on.
    #[test]
    fn a_file_that_vanishes_after_the_walk_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.tf");
        std::fs::write(&path, "locals {}\n").unwrap();
        let found = discover::discover(&[dir.path().to_path_buf()])
            .unwrap()
            .inputs;
        assert_eq!(found.len(), 1);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            read_input(&found[0], &Settings::default()),
            ReadOutcome::Unreadable("cannot read file: file vanished while reading".into())
        );
    }
}
