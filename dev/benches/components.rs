//! Component timings on the 1,000-service synthetic monorepo (`irsa-lint-gen`): parsing,
//! the whole engine (discovery, parsing, evaluation, facts, rules), linking and the rules
//! on their own. Plain `std::time` (no harness); each figure is the best of five runs.
//! The whole-program comparison with the parse-only floor is `scripts/bench.sh`.
//!
//! Run with `cargo bench -p irsa-lint-dev --bench components`.

// A benchmark tool, never installed with irsa-lint: it may write its own trees.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use irsa_lint::discover::{self, FileKind};
use irsa_lint::engine::{Settings, analyze};
use irsa_lint::facts::manifests::{ManifestSyntax, extract_manifests};
use irsa_lint::link::LintContext;
use irsa_lint::source::FileId;

fn main() {
    // `cargo test --all-targets` runs this too, without `--bench`: a quick smoke run then.
    let bench = std::env::args().any(|a| a == "--bench");
    let (services, runs) = if bench { (1000, 5) } else { (20, 1) };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let tree = dir.path().join("tree");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_irsa-lint-gen"))
        .arg(services.to_string())
        .arg(&tree)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("irsa-lint-gen runs");
    assert!(status.success(), "irsa-lint-gen failed");
    let texts = read_all(&tree);
    let bytes: usize = texts.iter().map(|(_, _, t)| t.len()).sum();
    println!("{services} services, {} files, {bytes} bytes", texts.len());

    report(runs, "parse (hcl-edit + manifest reader)", || {
        for (i, (_, kind, text)) in texts.iter().enumerate() {
            let id = FileId(i as u32);
            match kind {
                FileKind::Terraform | FileKind::TfVars | FileKind::Terragrunt => {
                    let _ = irsa_lint::parse::hcl::parse_body(id, text);
                }
                _ => {
                    let _ = extract_manifests(id, text, ManifestSyntax::Yaml, "");
                }
            }
        }
    });
    let settings = Settings {
        paths: vec![tree.clone()],
        ..Settings::default()
    };
    report(runs, "engine (everything but output)", || {
        analyze(&settings).expect("the tree exists");
    });
    let analysis = analyze(&settings).expect("the tree exists");
    report(runs, "link (LintContext::new)", || {
        LintContext::new(&analysis.facts, &analysis.sources);
    });
    let ctx = analysis.context();
    report(runs, "rules", || {
        let mut out = Vec::new();
        for rule in irsa_lint::rules::RULES {
            (rule.check)(&ctx, &mut out);
        }
    });
}

fn read_all(tree: &Path) -> Vec<(PathBuf, FileKind, String)> {
    let inputs = discover::discover(&[tree.to_path_buf()]).expect("the tree exists");
    inputs
        .inputs
        .into_iter()
        .map(|i| {
            let text = std::fs::read_to_string(&i.path).expect("a generated file");
            (i.path, i.kind, text)
        })
        .collect()
}

fn report(runs: usize, name: &str, mut run: impl FnMut()) {
    let best = (0..runs)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .min()
        .unwrap_or(Duration::ZERO);
    println!("{name:<40} {:>8.1} ms", best.as_secs_f64() * 1e3);
}
