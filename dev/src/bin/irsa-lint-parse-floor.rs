//! The benchmark's floor (`scripts/bench.sh`): find the files `irsa-lint check` would read,
//! read them and parse them with the same parsers (hcl-edit for Terraform, saphyr's event
//! parser for YAML, serde_json for JSON) on all cores, and nothing else — no evaluation,
//! no facts, no rules. Where a parser can check syntax without building a tree (YAML's
//! events, JSON read into `IgnoredAny`), the floor builds none: a Terraform plan of 50 MB is
//! checked in a sixth of the time its tree would take. `check` cannot be faster than this; the benchmark reports how close
//! it gets. The files are those the walk finds, as `check` reads them: templates that
//! Terraform renders (`*.tftpl`, `*.yaml.tpl`) are YAML here as there, read once though
//! `check` also reads their renderings; a chart's helpers (`_helpers.tpl`), which `check`
//! reads only when a release of the chart needs them, are left out.
//!
//! Usage: `irsa-lint-parse-floor [PATH]...`; prints files, bytes and parse errors.

// A benchmark tool, never installed with irsa-lint: it may write its own trees.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;

use irsa_lint::discover::{self, FileKind};
use rayon::prelude::*;

/// The allocator `irsa-lint` runs with, so the floor measures parsing, not allocators.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut roots: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if roots.is_empty() {
        roots.push(PathBuf::from("."));
    }
    let inputs = discover::discover(&roots)
        .unwrap_or_else(|missing| {
            eprintln!("path does not exist: {}", missing.0.display());
            std::process::exit(2);
        })
        .inputs;
    let (bytes, errors) = inputs
        .par_iter()
        .map(|input| {
            let Ok(text) = std::fs::read_to_string(&input.path) else {
                return (0, 1);
            };
            (text.len(), usize::from(!parses(input.kind, &text)))
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    println!("files {} bytes {bytes} errors {errors}", inputs.len());
}

fn parses(kind: FileKind, text: &str) -> bool {
    match kind {
        FileKind::Terraform | FileKind::TfVars | FileKind::Terragrunt => {
            hcl_edit::parser::parse_body(text).is_ok()
        }
        FileKind::Yaml => yaml_events(text),
        FileKind::Json => serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok(),
    }
}

/// Every event of the stream, with its span, as the manifest reader consumes them.
fn yaml_events(text: &str) -> bool {
    let mut parser = saphyr_parser::Parser::new_from_str(text);
    loop {
        match parser.next_event() {
            None => return true,
            Some(Ok(_)) => {}
            Some(Err(_)) => return false,
        }
    }
}
