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

/// The fixtures whose roles and ServiceAccounts come from the built-in models of registry
/// modules.
fn model_fixtures() -> Vec<std::path::PathBuf> {
    let forms = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/terraform-forms");
    let mut out: Vec<_> = std::fs::read_dir(&forms)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            [
                "v2-",
                "v3-",
                "v4-",
                "v5-",
                "v6-",
                "karpenter-",
                "blueprints-addon",
            ]
            .iter()
            .any(|prefix| name.starts_with(prefix))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn findings_through_a_module_model_point_at_the_users_lines() {
    let cases = model_fixtures();
    assert!(cases.len() >= 10, "{cases:?}");
    let mut findings = 0;
    for case in cases {
        let report = lint(&Settings {
            paths: vec![case.clone()],
            ..Settings::default()
        })
        .unwrap();
        for d in &report.diagnostics {
            findings += 1;
            for label in std::iter::once(&d.primary).chain(&d.related) {
                let path = &report.sources.get(label.span.file).path;
                assert!(
                    !path.starts_with("<irsa-lint model>") && path.exists(),
                    "{} in {}: label {:?} in {}",
                    d.rule_id,
                    case.display(),
                    label.message,
                    path.display()
                );
            }
        }
    }
    assert!(findings > 0);
}

#[test]
fn a_karpenter_subject_is_reported_at_the_input_and_names_the_instance() {
    let case = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/terraform-forms/karpenter-v20-irsa-namespace-differs");
    let report = lint(&Settings {
        paths: vec![case],
        ..Settings::default()
    })
    .unwrap();
    let [d] = report.diagnostics.as_slice() else {
        panic!("{:#?}", report.diagnostics);
    };
    assert_eq!(d.rule_id, "IRSA003");
    assert_eq!(d.notes, vec!["in module.karpenter"]);
    let subject = &d.related[0];
    let file = report.sources.get(subject.span.file);
    let text = &file.text[subject.span.start as usize..subject.span.end as usize];
    assert_eq!(text, r#""kube-system:karpenter""#);
}
