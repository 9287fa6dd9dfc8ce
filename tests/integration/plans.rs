//! Terraform plan and state JSON through the real binary: `--plan` files outside the tree and
//! on standard input, plans that are not plans, hostile plans, and (when `terraform` and a
//! provider mirror are at hand) a plan Terraform itself wrote.

use std::path::Path;
use std::process::{Command, Stdio};

const CASE: &str = "fixtures/plans/variable-set-in-ci-namespace-differs/infra";
const FINDING: &str = "main.tf:28:17: error[IRSA003] service account payments-prod/ledger-api";

fn case_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(CASE).join(name);
    std::fs::read_to_string(path).expect("the fixture exists")
}

/// The configuration of the fixture without its plan, in a temporary folder.
fn configuration_only() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["main.tf", "variables.tf"] {
        std::fs::write(dir.path().join(name), case_file(name)).unwrap();
    }
    dir
}

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_irsa-lint"))
        .args(args)
        .current_dir(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        let _ = child.stdin.take().unwrap().write_all(text.as_bytes());
    }
    let out = child.wait_with_output().unwrap();
    Run {
        status: out.status.code().expect("irsa-lint exits, not killed"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

#[test]
fn a_plan_outside_the_tree_puts_its_findings_on_the_configuration() {
    let project = configuration_only();
    let without = run(project.path(), &["check", "--format", "compact", "."], None);
    assert_eq!(without.status, 0, "{}{}", without.stdout, without.stderr);
    let elsewhere = tempfile::tempdir().unwrap();
    let plan = elsewhere.path().join("plan.json");
    std::fs::write(&plan, case_file("plan.json")).unwrap();
    let plan = plan.to_str().unwrap();
    let with = run(
        project.path(),
        &["check", "--format", "compact", ".", "--plan", plan],
        None,
    );
    assert_eq!(with.status, 1, "{}{}", with.stdout, with.stderr);
    assert!(with.stdout.starts_with(FINDING), "{}", with.stdout);
    assert_eq!(with.stdout.lines().count(), 1, "{}", with.stdout);
    // The related location is the plan's line, in the JSON output too.
    let json = run(
        project.path(),
        &["check", "--format", "json", "--plan", plan],
        None,
    );
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let related = &report["diagnostics"][0]["related"];
    let plan_line = related
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["message"] == "planned value (plan.json)")
        .unwrap_or_else(|| panic!("{related}"));
    assert_eq!(plan_line["location"]["start"]["line"], 50, "{related}");
}

#[test]
fn a_plan_on_standard_input() {
    let project = configuration_only();
    let args = [
        "check",
        "--format",
        "compact",
        "--plan",
        "-",
        "--stdin-filename",
        "plan.json",
    ];
    let piped = run(project.path(), &args, Some(&case_file("plan.json")));
    assert_eq!(piped.status, 1, "{}{}", piped.stdout, piped.stderr);
    assert!(piped.stdout.starts_with(FINDING), "{}", piped.stdout);
    // `-` as a path and as the plan: standard input is read once.
    let twice = run(project.path(), &["check", "-", "--plan", "-"], Some("{}"));
    assert_eq!(twice.status, 2, "{}", twice.stderr);
}

#[test]
fn what_is_not_a_plan_is_said_where() {
    let project = configuration_only();
    let other = project.path().join("other.json");
    std::fs::write(&other, r#"{"apiVersion": "v1", "kind": "ConfigMap"}"#).unwrap();
    let run_on = |args: &[&str]| run(project.path(), args, None);
    let not_a_plan = run_on(&["check", "--format", "compact", "--plan", "other.json"]);
    assert_eq!(not_a_plan.status, 1, "{}", not_a_plan.stderr);
    assert!(
        not_a_plan
            .stdout
            .contains("other.json:1:1: error[IRSA000] not a Terraform plan or state"),
        "{}",
        not_a_plan.stdout
    );
    let missing = run_on(&["check", "--plan", "missing.json"]);
    assert_eq!(missing.status, 2);
    assert!(
        missing
            .stderr
            .contains("plan file does not exist: missing.json"),
        "{}",
        missing.stderr
    );
}

/// Plans a hostile or broken pipeline could write: each is IRSA000 with a position, never a
/// crash, and the rest of the tree is still linted.
#[test]
fn hostile_plans_are_irsa000_with_a_position() {
    let head = r#"{"format_version":"1.2","terraform_version":"1.9.8","planned_values":"#;
    let resource = |values: &str| {
        format!(
            r#"{head}{{"root_module":{{"resources":[{{"address":"aws_iam_role.a","mode":"managed","type":"aws_iam_role","name":"a","values":{values}}}]}}}}}}"#
        )
    };
    let huge = "x".repeat(20 << 20);
    let cases: Vec<(&str, String)> = vec![
        ("truncated", case_file("plan.json")[..4000].to_string()),
        // Deeper than the reader's bound (1,024 levels); a plan is not held to the 500 of
        // the parsers that recurse.
        (
            "deep",
            format!("{head}{}{}}}", "[".repeat(1100), "]".repeat(1100)),
        ),
        (
            "deep-values",
            resource(&format!("{}1{}", "{\"a\":".repeat(300), "}".repeat(300))),
        ),
        (
            "wrong-types",
            resource(r#"{"name":["x"],"assume_role_policy":{"Statement":7},"path":false}"#),
        ),
        (
            "huge-string",
            resource(&format!(
                r#"{{"name":"{huge}","assume_role_policy":"{huge}"}}"#
            )),
        ),
        ("bad-escape", resource(r#"{"name":"a\qb"}"#)),
        ("trailing", format!("{} x", resource("{}"))),
    ];
    for (name, text) in cases {
        let project = configuration_only();
        std::fs::write(project.path().join("plan.json"), &text).unwrap();
        let out = run(
            project.path(),
            &["check", "--format", "compact", "--plan", "plan.json"],
            None,
        );
        assert!(matches!(out.status, 0 | 1), "{name}: {}", out.stderr);
        for line in out.stdout.lines().filter(|l| l.contains("IRSA000")) {
            assert!(line.starts_with("plan.json:"), "{name}: {line}");
        }
        let expect_error = !matches!(name, "wrong-types" | "huge-string");
        assert_eq!(
            out.stdout.contains("IRSA000"),
            expect_error,
            "{name}: {}",
            out.stdout
        );
    }
}

/// A plan Terraform writes itself, when `terraform` is installed and
/// `IRSA_LINT_TF_MIRROR` names a provider mirror folder holding hashicorp/aws (the test
/// needs no network); skipped otherwise.
#[test]
fn a_plan_terraform_wrote() {
    let Ok(mirror) = std::env::var("IRSA_LINT_TF_MIRROR") else {
        eprintln!("skipped: IRSA_LINT_TF_MIRROR is not set");
        return;
    };
    if Command::new("terraform").arg("version").output().is_err() {
        eprintln!("skipped: terraform is not installed");
        return;
    }
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    let config = format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path = {mirror:?}\n    include = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n}}\n"
    );
    std::fs::write(dir.join("cli.tfrc"), config).unwrap();
    std::fs::write(
        dir.join("main.tf"),
        r#"provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "AKIAEXAMPLEEXAMPLE00"
  secret_key                  = "example"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

variable "environment" { type = string }

resource "aws_iam_role" "ledger" {
  name = "ledger-${var.environment}"
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = "arn:aws:iam::482910375521:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/AB12" }
    }]
  })
}

resource "aws_eks_pod_identity_association" "ledger" {
  count           = 2
  cluster_name    = "payments-${var.environment}"
  namespace       = "payments"
  service_account = "ledger-${count.index}"
  role_arn        = aws_iam_role.ledger.arn
}
"#,
    )
    .unwrap();
    let terraform = |args: &[&str]| {
        let out = Command::new("terraform")
            .args(args)
            .current_dir(dir)
            .env("TF_CLI_CONFIG_FILE", dir.join("cli.tfrc"))
            .env("TF_IN_AUTOMATION", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "terraform {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    terraform(&["init", "-input=false"]);
    terraform(&[
        "plan",
        "-input=false",
        "-refresh=false",
        "-var",
        "environment=prod",
        "-out",
        "tfplan",
    ]);
    let plan = terraform(&["show", "-json", "tfplan"]);
    std::fs::write(dir.join("plan.json"), plan).unwrap();
    let out = run(dir, &["check", "--format", "compact", "."], None);
    let lines: Vec<&str> = out.stdout.lines().collect();
    // The trust has no `:sub` condition (read as the code writes it, so at the statement's
    // own line); both associations use a role that does not trust Pod Identity, whose ARN
    // is known only after apply and found from the role the configuration references.
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    assert!(
        lines[0].starts_with("main.tf:18:33: warning[IRSA009]"),
        "{}",
        out.stdout
    );
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.starts_with("main.tf:28:21: error[IRSA020]")),
        "{}",
        out.stdout
    );
}

/// A plan of part of the configuration (`terraform plan -target=...`) does not prove that
/// a role the rest of the configuration makes is missing.
#[test]
fn a_targeted_plan_proves_nothing_missing() {
    let project = configuration_only();
    let worker = case_file("main.tf")
        .split("resource \"kubernetes_service_account_v1\"")
        .next()
        .unwrap()
        .replace("\"ledger\"", "\"worker\"")
        .replace("ledger-api-${var.environment}", "ledger-worker")
        .replace("data \"aws_caller_identity\" \"current\" {}", "");
    std::fs::write(project.path().join("worker.tf"), worker).unwrap();
    let annotated = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ledger-batch\n  \
        namespace: payments-prod\n  annotations:\n    eks.amazonaws.com/role-arn: \
        arn:aws:iam::482910375521:role/ledger-api-prod\n";
    std::fs::write(project.path().join("batch.yaml"), annotated).unwrap();
    let mut plan: serde_json::Value = serde_json::from_str(&case_file("plan.json")).unwrap();
    // The plan shows the worker's role, not the ledger's.
    let resources = plan["planned_values"]["root_module"]["resources"]
        .as_array_mut()
        .unwrap();
    for r in resources.iter_mut().filter(|r| r["type"] == "aws_iam_role") {
        r["address"] = "aws_iam_role.worker".into();
        r["name"] = "worker".into();
        r["values"]["name"] = "ledger-worker".into();
    }
    let configured = plan["configuration"]["root_module"]["resources"]
        .as_array_mut()
        .unwrap();
    let mut worker_config = configured[0].clone();
    worker_config["address"] = "aws_iam_role.worker".into();
    worker_config["name"] = "worker".into();
    configured.push(worker_config);
    let lint = |plan: &serde_json::Value| {
        std::fs::write(project.path().join("plan.json"), plan.to_string()).unwrap();
        run(project.path(), &["check", "--format", "compact", "."], None).stdout
    };
    let targeted = lint(&plan);
    assert!(!targeted.contains("IRSA001"), "{targeted}");
    // The same plan of a configuration without the ledger's role proves it missing.
    std::fs::remove_file(project.path().join("main.tf")).unwrap();
    plan["configuration"]["root_module"]["resources"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["address"] != "aws_iam_role.ledger");
    let whole = lint(&plan);
    assert!(
        whole.contains("batch.yaml:7:33: warning[IRSA001]"),
        "{whole}"
    );
}
