//! Findings inside modules: one finding per place, naming every module instance behind it.

use irsa_lint::engine::{Settings, lint};

#[test]
fn a_mistake_inside_a_module_names_each_instance_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("modules/irsa")).unwrap();
    std::fs::write(
        root.join("main.tf"),
        r#"
resource "aws_eks_cluster" "main" {
  name = "platform"
}

module "irsa" {
  source    = "./modules/irsa"
  for_each  = { api = "payments", worker = "billing" }
  name      = "ledger-${each.key}"
  namespace = each.value
  issuer    = aws_eks_cluster.main.identity[0].oidc[0].issuer
}
"#,
    )
    .unwrap();
    std::fs::write(
        root.join("modules/irsa/main.tf"),
        r#"
variable "name" {}
variable "namespace" {}
variable "issuer" {}

resource "aws_iam_role" "this" {
  name = var.name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = "arn:aws:iam::482910375521:oidc-provider/${replace(var.issuer, "https://", "")}" }
      Condition = {
        StringEquals = {
          "${var.issuer}:sub" = "system:serviceaccount:${var.namespace}:${var.name}"
          "${var.issuer}:aud" = "sts.amazonaws.com"
        }
      }
    }]
  })
}
"#,
    )
    .unwrap();
    let report = lint(&Settings {
        paths: vec![root.to_path_buf()],
        ..Settings::default()
    })
    .unwrap();
    let scheme: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.rule_id == "IRSA006")
        .collect();
    // Two keys (:sub and :aud) in one module file, each reported once for both instances.
    assert_eq!(scheme.len(), 2, "{:#?}", report.diagnostics);
    for d in scheme {
        let file = report.sources.get(d.primary.span.file);
        assert!(
            file.path.ends_with("modules/irsa/main.tf"),
            "{}",
            file.path.display()
        );
        assert_eq!(
            d.notes,
            vec!["in module.irsa[\"api\"]", "in module.irsa[\"worker\"]"]
        );
    }
}
