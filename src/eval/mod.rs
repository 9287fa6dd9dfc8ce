//! Terraform evaluation: known, symbolic and unknown values.
//!
//! The evaluator is ours (hcl-rs's has neither Terraform's functions nor unknowns). It works
//! on one module directory at a time, lazily: only what a fact needs is evaluated, locals and
//! resource attributes are memoised, cycles and runaway expressions end as unknown.

pub mod budget;
mod expr;
mod functions;
pub mod terragrunt;
pub use functions::template_scope;
pub mod models;
pub mod module;
pub mod render;
mod types;
pub mod value;
pub mod workspace;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::source::FileId;

/// Reads files that Terraform code refers to (`file()`, `templatefile()`), registering them
/// so that spans can point into them. Implementations refuse paths outside the scanned roots.
pub trait FileLoader: Sync {
    fn load(&self, path: &Path) -> Option<(FileId, Arc<str>)>;

    /// The root of the repository `dir` is in, as Terragrunt's `get_repo_root()` returns it:
    /// the nearest folder with a `.git` within the scanned roots, else the scanned root that
    /// holds `dir`. `None` when `dir` is not below a scanned root.
    fn repo_root(&self, _dir: &Path) -> Option<PathBuf> {
        None
    }

    /// The scanned files directly in `dir` (a chart's `templates/`), as paths `load` takes;
    /// `None` when the loader cannot list them.
    fn files_in(&self, _dir: &Path) -> Option<Vec<PathBuf>> {
        None
    }

    /// Where what is made of the files it reads is kept for the run (a chart's parsed files).
    fn memo(&self) -> Option<&crate::parse::memo::TextMemo> {
        None
    }
}
#[cfg(test)]
pub(crate) mod tests;
