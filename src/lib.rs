//! irsa-lint finds the silent mistakes in EKS IAM Roles for Service Accounts wiring.
//!
//! # Code map
//! - `source`: files, spans, line/column.
//! - `discover`: walk the given paths, classify files.
//! - `parse/`: HCL, Terraform JSON (into the same syntax tree as HCL), YAML and policy JSON,
//!   never failing.
//! - `eval/`: Terraform values (known / symbolic / unknown) and module evaluation.
//! - `facts/`: roles, trust statements, providers, clusters, ServiceAccounts, workloads, from
//!   Terraform, manifests and eksctl configs.
//! - `link`: ServiceAccount ↔ role ↔ provider ↔ cluster.
//! - `rules/`: one file per rule, one registry list.
//! - `diagnostic`: the one finding model.
//! - `output/`: human, json, sarif, compact, github renderers.
//! - `engine`: discover → parse → evaluate → extract → link → rules → sort.
//! - `lsp/`: the language server (`irsa-lint lsp`); the only place LSP types appear.
//!
//! # Invariants
//! - **Parsing never fails**: errors become IRSA000 diagnostics and the rest is still linted.
//! - **Unknown is not wrong**: a value that cannot be evaluated never produces a finding.
//! - **Never write**: nothing under the scanned roots is ever modified.
//! - **Deterministic**: diagnostics are sorted by file, position and rule id.

pub mod diagnostic;
pub mod discover;
pub mod engine;
pub mod eval;
pub mod facts;
pub mod link;
pub mod lsp;
pub mod output;
pub mod parse;
pub mod rules;
pub mod source;
