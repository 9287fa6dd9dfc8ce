//! irsa-lint finds the silent mistakes in EKS IAM Roles for Service Accounts wiring.
//!
//! # Code map
//! - `source`: files, spans, line/column.
//! - `config`: `.irsa-lint.toml`, found, read and checked (with positions) into settings.
//! - `discover`: walk the given paths, classify files.
//! - `parse/`: HCL, Terraform JSON (into the same syntax tree as HCL), YAML and policy JSON,
//!   never failing.
//! - `eval/`: Terraform values (known / symbolic / unknown) and module evaluation: local
//!   modules through their callers, registry modules through the Terraform models in
//!   `eval/models/` (`workspace`, `models`, `module`, `expr`, `functions`, `types`).
//! - `facts/`: roles, trust statements, providers, clusters, ServiceAccounts, workloads, Pod
//!   Identity associations, from Terraform (`terraform`, `policy`, `kubernetes` with the chart
//!   data in `charts`), manifests rendered the way they reach the cluster (`kustomize`,
//!   `argo`) and eksctl configs (`eksctl`).
//! - `link`: ServiceAccount ↔ role ↔ provider ↔ cluster.
//! - `rules/`: one file per rule, one registry list.
//! - `diagnostic`: the one finding model.
//! - `suppress`: `# irsa-lint: ignore[ID] reason` comments, applied after the rules.
//! - `baseline`: fingerprints of accepted findings (`--write-baseline`, `--baseline`).
//! - `output/`: human, json, sarif, compact, github renderers.
//! - `graph/`: the chains ServiceAccount → role → provider → cluster, with each link's state
//!   taken from the findings; table, dot and Mermaid renderers.
//! - `engine`: discover → parse → evaluate → extract → link → rules → suppress → levels →
//!   baseline → sort.
//! - `lsp/`: the language server (`irsa-lint lsp`); the only place LSP types appear.
//! - `dev/` (a crate of its own, never installed): `irsa-lint-gen` and
//!   `irsa-lint-parse-floor`, the benchmark's synthetic monorepo and its parse-only floor
//!   (`scripts/bench.sh`), and `cargo bench -p irsa-lint-dev`.
//!
//! # Invariants
//! - **Parsing never fails**: errors become IRSA000 diagnostics and the rest is still linted.
//! - **Unknown is not wrong**: a value that cannot be evaluated never produces a finding.
//! - **Never write**: nothing under the scanned roots is ever modified.
//! - **Deterministic**: diagnostics are sorted by file, position and rule id.
//! - **Linear**: nothing compares every fact with every other (links go through indexes),
//!   and only the syntax trees that local module calls need are held at once.
//! - **Facts point at the user's lines**: a fact made by a built-in module model or a
//!   rendering tool (kustomize, Argo CD, Helm values) carries the span of the input the user
//!   wrote, with notes saying what changed it on the way.
//! - **One result for every consumer**: rule levels, suppressions and the baseline are applied
//!   in the engine, so every output format (and an editor) sees the same findings.

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
pub mod graph;
pub mod link;
pub mod lsp;
pub mod output;
pub mod parse;
pub mod rules;
pub mod source;
pub mod suppress;
pub mod text;
