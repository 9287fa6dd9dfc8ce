//! A rule's own tests: a few files given as (path, text), linted in memory, and the rule's
//! findings rendered for a snapshot. For the realistic multi-file projects, see `fixtures/`.
//!
//! ```ignore
//! #[test]
//! fn fires_when_the_annotation_names_another_account() {
//!     let findings = Tester::new(&RULE)
//!         .file("infra/iam.tf", &irsa_role("ledger-worker", "ledger", "ledger-worker"))
//!         .file("k8s/sa.yaml", &service_account("ledger", "ledger-worker", ARN))
//!         .rendered();
//!     insta::assert_snapshot!(findings);
//! }
//! ```

#![cfg(test)]

use std::path::PathBuf;

use crate::coverage::Coverage;
use crate::diagnostic::Diagnostic;
use crate::engine::{Settings, analyze_sources};
use crate::output::{self, Format, RenderOptions};
use crate::rules::RuleMeta;

/// An EKS cluster and its OIDC provider; `local.oidc_issuer` is the issuer without scheme.
pub const OIDC_PROVIDER_TF: &str = r#"resource "aws_eks_cluster" "main" {
  name     = "payments-prod"
  role_arn = "arn:aws:iam::482910375521:role/payments-prod-cluster"
  vpc_config {
    subnet_ids = ["subnet-0c1f6a2e9d4b87a35"]
  }
}

resource "aws_iam_openid_connect_provider" "eks" {
  url            = aws_eks_cluster.main.identity[0].oidc[0].issuer
  client_id_list = ["sts.amazonaws.com"]
}

locals {
  oidc_issuer = replace(aws_iam_openid_connect_provider.eks.url, "https://", "")
}
"#;

/// A role named `name` whose trust admits exactly `namespace/service_account`, with `:aud`.
pub fn irsa_role(name: &str, namespace: &str, service_account: &str) -> String {
    format!(
        r#"resource "aws_iam_role" "{resource}" {{
  name = "{name}"
  assume_role_policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Principal = {{ Federated = aws_iam_openid_connect_provider.eks.arn }}
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {{
        StringEquals = {{
          "${{local.oidc_issuer}}:sub" = "system:serviceaccount:{namespace}:{service_account}"
          "${{local.oidc_issuer}}:aud" = "sts.amazonaws.com"
        }}
      }}
    }}]
  }})
}}
"#,
        resource = name.replace('-', "_"),
    )
}

/// A ServiceAccount manifest annotated with `role_arn`.
pub fn service_account(namespace: &str, name: &str, role_arn: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  namespace: \
         {namespace}\n  annotations:\n    eks.amazonaws.com/role-arn: {role_arn}\n"
    )
}

pub struct Tester {
    rule: &'static RuleMeta,
    files: Vec<(PathBuf, String)>,
}

impl Tester {
    pub fn new(rule: &'static RuleMeta) -> Self {
        Tester {
            rule,
            files: Vec::new(),
        }
    }

    /// Add a file, or replace the text of one added before under the same path.
    pub fn file(mut self, path: &str, text: &str) -> Self {
        let path = PathBuf::from(path);
        self.files.retain(|(p, _)| *p != path);
        self.files.push((path, text.to_string()));
        self
    }

    /// The rule's findings, in output order.
    pub fn findings(&self) -> Vec<Diagnostic> {
        let analysis = analyze_sources(self.files.clone(), &Settings::default());
        analysis
            .diagnostics
            .into_iter()
            .filter(|d| d.rule_id == self.rule.id)
            .collect()
    }

    /// The rule's findings as the human format shows them, without the summary lines.
    pub fn rendered(&self) -> String {
        let analysis = analyze_sources(self.files.clone(), &Settings::default());
        let mine: Vec<Diagnostic> = analysis
            .diagnostics
            .into_iter()
            .filter(|d| d.rule_id == self.rule.id)
            .collect();
        assert!(!mine.is_empty(), "{} does not fire", self.rule.id);
        let mut out = output::render(
            Format::Human,
            &mine,
            &analysis.sources,
            &Coverage::default(),
            &RenderOptions::default(),
        );
        // Only the findings: the two summary lines say nothing about the rule.
        for _ in 0..2 {
            out.pop();
            out.truncate(out.rfind('\n').map_or(0, |i| i + 1));
        }
        out
    }

    pub fn assert_none(&self) {
        let findings = self.findings();
        assert!(
            findings.is_empty(),
            "{} fires: {:?}",
            self.rule.id,
            findings.iter().map(|d| &d.message).collect::<Vec<_>>()
        );
    }
}
