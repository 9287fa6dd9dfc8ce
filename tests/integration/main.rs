//! The one integration test binary (one link step instead of one per file).
//!
//! - `fixtures`: every fixture project, findings checked against inline markers.

mod fixtures;
