//! The panic boundary: an internal bug while reading one file or evaluating one root module
//! costs that file or module an IRSA000, never the run.

use crate::parse::ParseError;
use crate::source::{FileId, Span};

/// The last line of defence: a panic while reading one file (or evaluating one root module,
/// named by its first file) becomes an IRSA000 error on that file instead of ending the
/// run. The error fails the fixture and CLI tests like any unexpected finding.
///
/// `IRSA_LINT_TEST_PANIC_ON` (debug builds only) makes the boundary provable: set to a
/// file name, reading that file panics; set to `eval:` and a file name, evaluating the
/// root module of that file does.
pub(super) fn guarded<T>(
    file: FileId,
    name: &std::ffi::OsStr,
    stage: &str,
    work: impl FnOnce() -> T,
) -> Result<T, ParseError> {
    let point = name.to_str().map(|name| format!("{stage}{name}"));
    crate::parse::catch_panic(point.as_deref(), work).map_err(|message| ParseError {
        span: Span::file_start(file),
        message: format!("internal error while reading this file: {message}; please report it"),
    })
}
