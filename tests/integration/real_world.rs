//! Patterns found by running irsa-lint on public EKS repositories, each once a false finding
//! or a crash.

use std::path::Path;

use irsa_lint::engine::{Report, Settings, lint};

fn lint_tree(files: &[(&str, &[u8])]) -> (tempfile::TempDir, Report) {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
    let report = lint(&Settings {
        paths: vec![dir.path().to_path_buf()],
        ..Settings::default()
    })
    .unwrap();
    (dir, report)
}

fn rule_ids(report: &Report) -> Vec<&'static str> {
    report.diagnostics.iter().map(|d| d.rule_id).collect()
}

const ROLE_WITH_VARIABLE_NAMESPACE: &[u8] = br#"
variable "namespace" { default = "default" }
resource "aws_iam_role" "api" {
  name = "payments-api"
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = "arn:aws:iam::482910375521:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/7D1E3F9A" }
      Condition = { StringEquals = {
        "oidc.eks.eu-west-1.amazonaws.com/id/7D1E3F9A:sub" = "system:serviceaccount:${var.namespace}:payments-api"
        "oidc.eks.eu-west-1.amazonaws.com/id/7D1E3F9A:aud" = "sts.amazonaws.com"
      } }
    }]
  })
}
"#;

const SERVICE_ACCOUNT_IN_PAYMENTS: &[u8] = br#"
apiVersion: v1
kind: ServiceAccount
metadata:
  name: payments-api
  namespace: payments
  annotations:
    eks.amazonaws.com/role-arn: arn:aws:iam::482910375521:role/payments-api
"#;

#[test]
fn git_crypt_files_are_unknown_not_broken_and_hide_their_values() {
    let (_dir, report) = lint_tree(&[
        ("infra/iam.tf", ROLE_WITH_VARIABLE_NAMESPACE),
        // The real namespace is in an encrypted tfvars: the default proves nothing.
        ("infra/terraform.tfvars", b"\0GITCRYPT\0\x93\x01\xfe"),
        ("k8s/sa.yaml", SERVICE_ACCOUNT_IN_PAYMENTS),
    ]);
    assert_eq!(
        rule_ids(&report),
        Vec::<&str>::new(),
        "{:#?}",
        report.diagnostics
    );
    // Without the encrypted file, the default namespace is what Terraform uses.
    let (_dir, report) = lint_tree(&[
        ("infra/iam.tf", ROLE_WITH_VARIABLE_NAMESPACE),
        ("k8s/sa.yaml", SERVICE_ACCOUNT_IN_PAYMENTS),
    ]);
    assert_eq!(rule_ids(&report), vec!["IRSA003"]);
}

#[test]
fn pod_identity_in_one_lab_does_not_meet_irsa_in_another() {
    let association = br#"
resource "aws_eks_pod_identity_association" "carts" {
  cluster_name    = var.cluster_name
  namespace       = "carts"
  service_account = "carts"
  role_arn        = "arn:aws:iam::482910375521:role/carts-pod-identity"
}
variable "cluster_name" {}
"#;
    let sa = br#"
apiVersion: v1
kind: ServiceAccount
metadata:
  name: carts
  namespace: carts
  annotations:
    eks.amazonaws.com/role-arn: arn:aws:iam::482910375521:role/carts-irsa
"#;
    let (_dir, report) = lint_tree(&[
        ("labs/pod-identity/main.tf", association),
        ("labs/irsa/sa.yaml", sa),
    ]);
    assert!(
        !rule_ids(&report).contains(&"IRSA019"),
        "{:#?}",
        report.diagnostics
    );
}

#[test]
fn modules_reading_each_others_outputs_and_repeated_object_keys_are_read() {
    let main = br#"
module "eks" {
  source       = "terraform-aws-modules/eks/aws"
  version      = "~> 20.31"
  cluster_name = "platform"
  cluster_addons = {
    aws-ebs-csi-driver = { service_account_role_arn = module.ebs_csi_irsa.iam_role_arn }
  }
  tags = { Service = "platform", Service = "eks" }
}

module "ebs_csi_irsa" {
  source                = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version               = "~> 5.48"
  role_name             = "ebs-csi"
  attach_ebs_csi_policy = true
  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["kube-system:aws-ebs-csi-driver"]
    }
  }
}
"#;
    let (_dir, report) = lint_tree(&[("infra/main.tf", main)]);
    assert_eq!(
        rule_ids(&report),
        vec!["IRSA027"],
        "{:#?}",
        report.diagnostics
    );
    let d = &report.diagnostics[0];
    let file = report.sources.get(d.primary.span.file);
    assert!(file.path.ends_with(Path::new("infra/main.tf")));
    assert_eq!(
        file.line_col(d.primary.span.start).line,
        20,
        "at the namespace_service_accounts element"
    );
}
