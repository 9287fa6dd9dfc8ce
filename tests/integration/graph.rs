//! `irsa-lint graph`, run as a user runs it: on the bundled examples and on temporary
//! projects, checking each format's shape (the Mermaid and dot grammars are checked here by
//! hand) and that the README shows the binary's real output.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const ALB: &str = "fixtures/examples/alb-controller";
const CLEAN: &str = "fixtures/examples/clean-platform";
const POD_IDENTITY: &str = "fixtures/IRSA020-pod-identity-trust/pass-assume-role-and-tag-session";

/// A role with a generated name behind a provider whose address has quotes, and a
/// ServiceAccount naming a role no scanned file defines.
const MAIN_TF: &str = r#"
resource "aws_eks_cluster" "main" {
  name     = "prod"
  role_arn = "arn:aws:iam::482910375521:role/eks"
}

resource "aws_iam_openid_connect_provider" "eks" {
  for_each       = toset(["prod"])
  url            = aws_eks_cluster.main.identity[0].oidc[0].issuer
  client_id_list = ["sts.amazonaws.com"]
}

locals {
  issuer = replace(aws_eks_cluster.main.identity[0].oidc[0].issuer, "https://", "")
}

resource "aws_iam_role" "api" {
  name_prefix = "api-"
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = aws_iam_openid_connect_provider.eks["prod"].arn }
      Condition = {
        StringEquals = {
          "${local.issuer}:sub" = "system:serviceaccount:pay:api"
          "${local.issuer}:aud" = "sts.amazonaws.com"
        }
      }
    }]
  })
}

resource "kubernetes_service_account_v1" "api" {
  metadata {
    name        = "api"
    namespace   = "pay"
    annotations = { "eks.amazonaws.com/role-arn" = aws_iam_role.api.arn }
  }
}
"#;
const GHOST_YAML: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ghost\n  \
                          namespace: pay\n  annotations:\n    \
                          eks.amazonaws.com/role-arn: arn:aws:iam::482910375521:role/ghost\n";

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run `irsa-lint ARGS` in `cwd`; its stdout, after checking that it succeeded quietly.
fn graph(cwd: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_irsa-lint"))
        .arg("graph")
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("the irsa-lint binary starts");
    let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{args:?}: {stdout}{stderr}");
    assert_eq!(stderr, "", "{args:?}");
    stdout
}

fn temp_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder can be created");
    for (path, text) in [("infra/main.tf", MAIN_TF), ("k8s/ghost.yaml", GHOST_YAML)] {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// The table line of a ServiceAccount, by the start of its first cell.
fn row<'t>(table: &'t str, service_account: &str) -> &'t str {
    table
        .lines()
        .find(|l| l.starts_with(service_account))
        .unwrap_or_else(|| panic!("no row for {service_account} in\n{table}"))
}

#[test]
fn table_shows_ok_and_broken_links_with_their_places() {
    let table = graph(&repository(), &[ALB, CLEAN]);
    let alb = row(
        &table,
        "kube-system/aws-load-balancer-controller (fixtures/examples/alb-controller/k8s/aws-load-balancer-controller/serviceaccount.yaml:4)",
    );
    assert!(
        alb.contains("AwsLoadBalancerController (fixtures/examples/alb-controller/terraform/iam-aws-load-balancer-controller.tf:29)"),
        "{alb}"
    );
    assert!(alb.contains("aws_iam_openid_connect_provider.eks (fixtures/examples/alb-controller/terraform/eks.tf:42)"), "{alb}");
    assert!(
        alb.ends_with("role ok, trust broken (IRSA003), provider ok, cluster ok, policy for aws-load-balancer-controller v2.8.1 unknown"),
        "{alb}"
    );
    let payments = row(
        &table,
        "payments/payments-api (fixtures/examples/clean-platform/",
    );
    assert!(
        payments.ends_with("role ok, trust ok, provider ok, cluster ok"),
        "{payments}"
    );
    assert_eq!(table.lines().count(), 10, "a header and 9 chains:\n{table}");
    assert_columns_aligned(&table);
    assert_eq!(
        graph(&repository(), &[CLEAN, ALB, "--format", "table"]),
        table
    );
}

/// Each column starts where its header does, after two spaces.
fn assert_columns_aligned(table: &str) {
    let header = table.lines().next().unwrap();
    assert!(header.starts_with("SERVICE ACCOUNT "), "{header}");
    for name in ["ROLE", "PROVIDER", "CLUSTER", "STATUS"] {
        let at = header.find(name).unwrap();
        for line in table.lines() {
            assert!(line.is_char_boundary(at), "{line}");
            assert!(line[..at].ends_with("  "), "{name} column in {line:?}");
            assert!(!line[at..].starts_with(' '), "{name} column in {line:?}");
        }
    }
}

#[test]
fn a_role_outside_the_scan_is_unknown_and_pod_identity_has_no_provider() {
    let project = temp_project();
    let table = graph(project.path(), &[]);
    let api = row(&table, "pay/api (infra/main.tf:");
    assert!(api.contains("api-<random suffix> (infra/main.tf:"), "{api}");
    assert!(
        api.contains("aws_iam_openid_connect_provider.eks[\"prod\"]"),
        "{api}"
    );
    assert!(
        api.ends_with("role ok, trust ok, provider ok, cluster ok"),
        "{api}"
    );
    let ghost = row(&table, "pay/ghost (k8s/ghost.yaml:4)");
    assert!(
        ghost.contains("ghost (not in the scan) (k8s/ghost.yaml:7)"),
        "{ghost}"
    );
    assert!(
        ghost.ends_with("role unknown, trust unknown, provider unknown, cluster unknown"),
        "{ghost}"
    );

    let table = graph(&repository().join(POD_IDENTITY), &[]);
    let sa = row(&table, "payments/payments-api (infra/payments-api.tf:");
    assert!(
        sa.contains("pods.eks.amazonaws.com (infra/payments-api.tf:13)"),
        "{sa}"
    );
    assert!(
        sa.ends_with("role ok, trust ok, provider ok, cluster unknown"),
        "{sa}"
    );
}

#[test]
fn nothing_to_draw_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sa.yaml"), "kind: ServiceAccount\n").unwrap();
    assert_eq!(
        graph(dir.path(), &[]),
        "no service account with an IAM role found\n"
    );
    assert_eq!(
        graph(dir.path(), &["--format", "mermaid"]),
        "flowchart LR\n"
    );
}

#[test]
fn mermaid_output_follows_the_grammar() {
    let examples = graph(&repository(), &["--format", "mermaid", ALB, CLEAN]);
    check_mermaid(&examples).unwrap_or_else(|e| panic!("{e}\n{examples}"));
    assert!(
        examples.lines().any(|l| l
            .trim()
            .ends_with("-.->|IRSA003| role_AwsLoadBalancerController")),
        "{examples}"
    );
    let project = temp_project();
    let escaped = graph(project.path(), &["--format", "mermaid"]);
    check_mermaid(&escaped).unwrap_or_else(|e| panic!("{e}\n{escaped}"));
    assert!(escaped.contains("eks[#quot;prod#quot;]"), "{escaped}");
    assert!(
        escaped.contains("-->|unknown| role_ghost_not_in_the_scan"),
        "{escaped}"
    );
}

/// `flowchart LR`, then only `id["label"]` and `a -->|label| b` / `a -.->|label| b` lines,
/// edges between defined nodes.
fn check_mermaid(text: &str) -> Result<(), String> {
    let mut lines = text.lines();
    if lines.next() != Some("flowchart LR") {
        return Err("the first line is not `flowchart LR`".into());
    }
    let mut defined = HashSet::new();
    for line in lines.map(str::trim) {
        if line.matches('"').count() % 2 != 0 {
            return Err(format!("unbalanced quotes: {line}"));
        }
        if let Some((id, rest)) = line.split_once("[\"") {
            let label = rest
                .strip_suffix("\"]")
                .ok_or(format!("node not closed: {line}"))?;
            if !is_id(id) || label.contains('"') {
                return Err(format!("bad node: {line}"));
            }
            defined.insert(id.to_string());
            continue;
        }
        let parts: Vec<&str> = line.split(' ').collect();
        let [from, arrow, to] = parts.as_slice() else {
            return Err(format!("neither a node nor an edge: {line}"));
        };
        let label = arrow
            .strip_prefix("-->|")
            .or_else(|| arrow.strip_prefix("-.->|"))
            .and_then(|a| a.strip_suffix('|'))
            .ok_or(format!("bad arrow: {line}"))?;
        if label.is_empty() || label.contains(['|', '"']) {
            return Err(format!("bad edge label: {line}"));
        }
        if !defined.contains(*from) || !defined.contains(*to) {
            return Err(format!("edge between undefined nodes: {line}"));
        }
    }
    Ok(())
}

fn is_id(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[test]
fn dot_output_is_a_balanced_digraph() {
    let project = temp_project();
    for (cwd, args) in [
        (repository(), vec!["--format", "dot", ALB, CLEAN]),
        (project.path().to_path_buf(), vec!["--format", "dot"]),
    ] {
        let dot = graph(&cwd, &args);
        assert!(dot.starts_with("digraph "), "{dot}");
        assert_eq!(brace_depth_after(&dot), Ok(0), "{dot}");
    }
    let dot = graph(&repository(), &["--format", "dot", ALB]);
    assert!(dot.contains("[label=\"IRSA003\", style=dashed"), "{dot}");
}

/// The nesting depth at the end, counting braces outside quoted strings; `Err` when a
/// brace closes more than was opened or a string is not closed.
fn brace_depth_after(dot: &str) -> Result<usize, String> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for c in dot.chars() {
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (_, false, '"') => in_string = !in_string,
            (false, _, '{') => depth += 1,
            (false, _, '}') => depth = depth.checked_sub(1).ok_or("a `}` too many")?,
            _ => {}
        }
    }
    if in_string {
        return Err("a string is not closed".into());
    }
    Ok(depth)
}

#[test]
fn readme_shows_the_real_mermaid_output_for_the_alb_example() {
    let readme = std::fs::read_to_string(repository().join("README.md")).unwrap();
    let section = readme
        .split("\n## Wiring graph\n")
        .nth(1)
        .expect("the README has a Wiring graph section");
    let block = section
        .split("```mermaid\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the section has a mermaid block");
    let real = graph(&repository().join(ALB), &["--format", "mermaid"]);
    assert_eq!(block, real, "update the README's mermaid block");
}

/// `graph` sees the scan `check` sees: `.irsa-lint.toml`'s `external_roles` makes the ghost
/// role "managed elsewhere", and its `exclude` drops a folder.
#[test]
fn graph_reads_the_configuration_file_as_check_does() {
    let project = temp_project();
    let write = |path: &str, text: &str| {
        let path = project.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "vendor/old/ghost.yaml",
        &GHOST_YAML.replace("ghost", "old-ghost"),
    );
    let before = graph(project.path(), &[]);
    assert!(before.contains("pay/old-ghost"), "{before}");
    write(
        ".irsa-lint.toml",
        "exclude = [\"vendor/**\"]\nexternal_roles = [\"arn:aws:iam::482910375521:role/ghost\"]\n",
    );
    let table = graph(project.path(), &[]);
    assert!(!table.contains("pay/old-ghost"), "{table}");
    let ghost = row(&table, "pay/ghost (k8s/ghost.yaml:4)");
    assert!(ghost.contains("ghost (managed elsewhere)"), "{ghost}");
}

/// A Federated principal known only after apply (a module output) is not called "not
/// declared": only IRSA010 proves that.
#[test]
fn an_unevaluated_provider_is_never_called_not_declared() {
    let project = tempfile::tempdir().unwrap();
    let tf = MAIN_TF.replace(
        "aws_iam_openid_connect_provider.eks[\"prod\"].arn",
        "\"arn:aws:iam::482910375521:oidc-provider/${module.eks.oidc_provider}\"",
    );
    std::fs::create_dir_all(project.path().join("infra")).unwrap();
    std::fs::write(project.path().join("infra/main.tf"), tf).unwrap();
    let table = graph(project.path(), &[]);
    let api = row(&table, "pay/api (infra/main.tf:");
    assert!(!api.contains("not declared"), "{api}");
    assert!(api.contains("(known once applied)"), "{api}");
    assert!(api.ends_with("provider unknown, cluster unknown"), "{api}");
}

#[test]
fn a_controller_shows_its_version_and_whether_its_policy_fits() {
    const GROUP: &str = "fixtures/IRSA030-controller-policy-outdated";
    let status = |case: &str, service_account: &str| {
        let table = graph(&repository(), &[&format!("{GROUP}/{case}")]);
        let line = row(&table, service_account).to_string();
        line[line.find("role ").expect("a status column")..].to_string()
    };
    assert_eq!(
        status("fail-deployment-image", "external-dns/external-dns"),
        "role ok, trust ok, provider ok, cluster ok, policy for external-dns v0.17.0 broken (IRSA030)"
    );
    assert_eq!(
        status("pass-karpenter-module-flag-pre-v1", "karpenter/karpenter"),
        "role ok, trust ok, provider ok, cluster ok, policy for karpenter v0.31.4 ok"
    );
    // A version the files cannot tell (kustomize retags the image): no controller shown.
    assert_eq!(
        status(
            "pass-deployment-image-retagged-by-kustomize",
            "external-dns/external-dns"
        ),
        "role ok, trust ok, provider ok, cluster ok"
    );
}
