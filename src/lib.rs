//! irsa-lint finds the silent mistakes in EKS IAM Roles for Service Accounts wiring.
//!
//! The code map, the invariants and the checklists for adding a rule or a fact source are
//! in `ARCHITECTURE.md`.

// Unit tests write temporary projects and run the binary; the shipped code may not.
#![cfg_attr(test, allow(clippy::disallowed_methods))]

pub mod aws;
pub mod baseline;
pub mod config;
pub mod coverage;
pub mod diagnostic;
pub mod discover;
pub mod engine;
pub mod eval;
pub mod facts;
pub mod fix;
pub mod graph;
pub mod link;
pub mod lsp;
pub mod open;
pub mod output;
pub mod parse;
pub mod rules;
pub mod source;
pub mod suppress;
pub mod text;
