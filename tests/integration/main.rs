//! The one integration test binary: every file under `tests/integration/` is a module here,
//! so the suite links once. Add a module for a new area rather than a new test binary.
//!
//! Modules:
//! - `cli`: runs the real `irsa-lint` binary on temporary folders and checks what a user
//!   sees: exit statuses, each output format, stdin, ignored files, relative paths,
//!   determinism and that the scanned tree is never modified.
//! - `distribution`: the ways irsa-lint is installed without Rust, each exercised: the
//!   wheel installed by pip into a fresh virtualenv, the GitHub Action's steps run as a
//!   runner would and its metadata checked by actionlint, the release workflow's targets and
//!   artifacts, the VS Code extension packaged by vsce (tools from `scripts/test.sh`).
//! - `graph`: `irsa-lint graph` on the examples and temporary projects: the table's links,
//!   the Mermaid and dot grammars, and the README's picture matching the real output.
//! - `config`: `.irsa-lint.toml` (rule levels, exclude, variables, external roles, fail_on),
//!   suppression comments and baselines, through the real binary.
//! - `lsp`: runs `irsa-lint lsp` as an editor would, over framed JSON-RPC on stdio: findings
//!   at UTF-16 positions, cleared and restored across files by unsaved edits, hover, quick
//!   fix, clean shutdown.
//! - `modules`: findings inside modules name the module instances behind them.
//! - `plans`: Terraform plan and state JSON given with `--plan` (outside the tree, on
//!   standard input), files that are not plans, hostile plans, and a plan `terraform` writes
//!   itself when it and a provider mirror are at hand (`IRSA_LINT_TF_MIRROR`).
//! - `precommit`: the real `pre-commit` runs our hooks on a throwaway git repository: the
//!   Rust hook's settings, the `language: system` hook on an installed binary, and the
//!   mirror's `language: python` hook installing our wheel; pre-commit must be on PATH
//!   (`scripts/test.sh` installs it).
//! - `robustness`: hostile and broken input (binary files, deep nesting, alias bombs,
//!   symlink loops, FIFOs, cycles): no panic, no hang, the rest of the tree still linted.
//! - `safety`: the README's guarantees: the fixtures are not written, the shipped code starts
//!   no process and opens no socket, `file()` never reads outside the scanned roots.
//! - `real_world`: patterns from public repositories that were once false findings or crashes.
//! - `terragrunt`: Terragrunt units on disk: modules run through their units only,
//!   `get_repo_root()` and included or read files below the scanned roots, and what a unit
//!   does not show (var files, generated code, skipped units) staying unknown.
//!
//! The fixture cases and the rule docs' examples run in a test binary of their own
//! (`tests/fixtures/`), one named trial per case.

// Tests write temporary projects and run the binary, pre-commit and git; their maps are on
// no hot path, so std's hasher serves.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod cli;
mod config;
mod distribution;
mod graph;
mod lsp;
mod modules;
mod plans;
mod precommit;
mod real_world;
mod robustness;
mod safety;
mod terragrunt;

/// Copy a folder (a fixture case, an example, the editor extension) into `to`.
fn copy_folder(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
