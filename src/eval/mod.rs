//! Terraform evaluation: known, symbolic and unknown values.
//!
//! The evaluator is ours (hcl-rs's has neither Terraform's functions nor unknowns). It works
//! on one module directory at a time, lazily: only what a fact needs is evaluated, locals and
//! resource attributes are memoised, cycles and runaway expressions end as unknown.

mod expr;
mod functions;
pub use functions::template_scope;
pub mod models;
pub mod module;
mod types;
pub mod value;
pub mod workspace;

use std::path::Path;
use std::sync::Arc;

use crate::source::FileId;

/// Reads files that Terraform code refers to (`file()`, `templatefile()`), registering them
/// so that spans can point into them. Implementations refuse paths outside the scanned roots.
pub trait FileLoader: Sync {
    fn load(&self, path: &Path) -> Option<(FileId, Arc<str>)>;
}
#[cfg(test)]
mod tests;
