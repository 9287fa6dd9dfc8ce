//! The GitOps tree of the benchmark (`irsa-lint-gen --gitops`) is what it says it is: every
//! ServiceAccount it writes (substituted manifests, Flux HelmReleases of the repository's
//! chart, `templatefile()` values of a `helm_release`, the controllers' HelmReleases) is
//! linked to its role and fully checked, and the findings are the mistakes it injects, each
//! where the generator put it.

// A benchmark tool's test: it runs the generator, which writes its tree.
#![allow(clippy::disallowed_methods)]

use irsa_lint::engine::{Settings, lint};

#[test]
fn the_gitops_tree_is_fully_checked_and_its_findings_are_the_injected_mistakes() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let tree = dir.path().join("tree");
    // Three teams: the three kinds of mistake, one each.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_irsa-lint-gen"))
        .args(["--gitops", "150"])
        .arg(&tree)
        .output()
        .expect("irsa-lint-gen runs");
    assert!(output.status.success(), "irsa-lint-gen failed");
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "3");

    let report = lint(&Settings {
        paths: vec![tree.clone()],
        display_root: Some(tree),
        ..Settings::default()
    })
    .expect("the tree exists");
    let found: Vec<(String, &str)> = report
        .diagnostics
        .iter()
        .map(|d| {
            let path = report.sources.get(d.primary.span.file).path.display();
            (path.to_string(), d.rule_id)
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "apps/team-0000/svc-00000/serviceaccount.yaml".to_string(),
                "IRSA003"
            ),
            (
                "apps/team-0001/svc-00050/release.yaml".to_string(),
                "IRSA001"
            ),
            (
                "terraform/teams/team-0002/values/svc-00100.yaml.tftpl".to_string(),
                "IRSA003"
            ),
        ]
    );
    // 150 services and the two controllers.
    assert_eq!(report.coverage.service_accounts, 152);
    assert_eq!(report.coverage.fully_checked, 152);
}
