//! Writes a synthetic monorepo for the benchmark (`scripts/bench.sh`): N services in teams of
//! 50, each team one Terraform root module. Every service has an IRSA role (trust policy
//! written as a heredoc, with `jsonencode` or with an `aws_iam_policy_document`, in turn),
//! unrelated Terraform resources, and one multi-document YAML file with its ServiceAccount,
//! Deployment, Service and ConfigMap. A `platform/` module declares the cluster and its OIDC
//! provider.
//!
//! Every 50th service's ServiceAccount lives in another namespace than its role trusts, so
//! the tree has exactly `N / 50` (rounded up) IRSA003 findings and no other; the generator
//! prints that count. The output depends only on N.
//!
//! Usage: `irsa-lint-gen <N> <folder>`

// A benchmark tool, never installed with irsa-lint: it may write its own trees.
#![allow(clippy::disallowed_methods)]

use std::fmt::Write as _;
use std::path::Path;

const ACCOUNT: &str = "482910375521";
const ISSUER: &str = "oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A9B8D7E6F5A4B3C2D1E0F9A8B";
const SERVICES_PER_TEAM: usize = 50;
/// One service in this many gets a ServiceAccount in the wrong namespace.
const MISMATCH_EVERY: usize = 50;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(n), Some(out)) = (args.get(1).and_then(|n| n.parse().ok()), args.get(2)) else {
        eprintln!("usage: irsa-lint-gen <services> <folder>");
        std::process::exit(2);
    };
    let injected = generate(n, Path::new(out)).unwrap_or_else(|e| {
        eprintln!("irsa-lint-gen: {e}");
        std::process::exit(1);
    });
    println!("{injected}");
}

/// Writes the tree; returns how many findings were injected.
fn generate(services: usize, out: &Path) -> std::io::Result<usize> {
    write(&out.join("platform/cluster.tf"), &platform_tf())?;
    let mut injected = 0;
    for i in 0..services {
        let team = format!("team-{:04}", i / SERVICES_PER_TEAM);
        let svc = Service::new(i);
        let infra = out.join(&team).join("infra");
        if i % SERVICES_PER_TEAM == 0 {
            write(&infra.join("main.tf"), &team_main_tf(&team))?;
        }
        write(&infra.join(format!("{}-iam.tf", svc.name)), &svc.role_tf())?;
        write(
            &infra.join(format!("{}-data.tf", svc.name)),
            &svc.unrelated_tf(),
        )?;
        let k8s = out
            .join(&team)
            .join("k8s")
            .join(format!("{}.yaml", svc.name));
        let namespace = if i % MISMATCH_EVERY == 0 {
            injected += 1;
            format!("{}-preview", svc.namespace)
        } else {
            svc.namespace.clone()
        };
        write(&k8s, &svc.manifests(&namespace))?;
    }
    Ok(injected)
}

fn write(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)
}

fn platform_tf() -> String {
    format!(
        r#"# The shared cluster and its OIDC provider, owned by the platform team.

resource "aws_eks_cluster" "main" {{
  name     = "main"
  role_arn = "arn:aws:iam::{ACCOUNT}:role/eks-cluster"
  version  = "1.30"

  vpc_config {{
    subnet_ids = ["subnet-0a1b2c3d", "subnet-1b2c3d4e", "subnet-2c3d4e5f"]
  }}
}}

resource "aws_iam_openid_connect_provider" "main" {{
  url             = "https://{ISSUER}"
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]
}}
"#
    )
}

fn team_main_tf(team: &str) -> String {
    format!(
        r#"# {team}: roles of the team's services. The cluster is the platform's.

terraform {{
  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }}
  }}
}}

provider "aws" {{
  region = "eu-west-1"
  default_tags {{
    tags = {{ Team = "{team}", ManagedBy = "terraform" }}
  }}
}}

locals {{
  oidc_issuer       = "{ISSUER}"
  oidc_provider_arn = "arn:aws:iam::{ACCOUNT}:oidc-provider/${{local.oidc_issuer}}"
}}
"#
    )
}

struct Service {
    index: usize,
    name: String,
    ident: String,
    namespace: String,
}

impl Service {
    fn new(index: usize) -> Self {
        let name = format!("svc-{index:05}");
        Service {
            index,
            ident: name.replace('-', "_"),
            namespace: format!("ns-{:04}", index / 10),
            name,
        }
    }

    fn subject(&self) -> String {
        format!("system:serviceaccount:{}:{}", self.namespace, self.name)
    }

    fn role_tf(&self) -> String {
        let (name, ident, subject) = (&self.name, &self.ident, self.subject());
        let (trust, extra) = match self.index % 3 {
            0 => (heredoc_trust(&subject), String::new()),
            1 => (jsonencode_trust(&subject), String::new()),
            _ => (
                format!("data.aws_iam_policy_document.{ident}_trust.json"),
                policy_document_trust(ident, &subject),
            ),
        };
        format!(
            r#"# IRSA role of {name}.
{extra}
resource "aws_iam_role" "{ident}" {{
  name               = "{name}"
  assume_role_policy = {trust}
}}

resource "aws_iam_role_policy" "{ident}" {{
  name = "{name}-data"
  role = aws_iam_role.{ident}.id
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject"]
      Resource = "${{aws_s3_bucket.{ident}.arn}}/*"
    }}]
  }})
}}
"#
        )
    }

    fn unrelated_tf(&self) -> String {
        let (name, ident) = (&self.name, &self.ident);
        format!(
            r#"resource "aws_s3_bucket" "{ident}" {{
  bucket = "acme-{name}-data"
  tags = {{
    Service = "{name}"
  }}
}}

resource "aws_s3_bucket_versioning" "{ident}" {{
  bucket = aws_s3_bucket.{ident}.id
  versioning_configuration {{
    status = "Enabled"
  }}
}}

resource "aws_sqs_queue" "{ident}" {{
  name                       = "{name}-events"
  visibility_timeout_seconds = 60
  message_retention_seconds  = 345600
}}

resource "aws_cloudwatch_log_group" "{ident}" {{
  name              = "/acme/{name}"
  retention_in_days = 30
}}
"#
        )
    }

    fn manifests(&self, namespace: &str) -> String {
        let name = &self.name;
        let mut out = String::new();
        let _ = write!(
            out,
            r#"apiVersion: v1
kind: ServiceAccount
metadata:
  name: {name}
  namespace: {namespace}
  labels:
    app.kubernetes.io/name: {name}
  annotations:
    eks.amazonaws.com/role-arn: arn:aws:iam::{ACCOUNT}:role/{name}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {namespace}
  labels:
    app.kubernetes.io/name: {name}
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
    spec:
      serviceAccountName: {name}
      containers:
        - name: app
          image: {ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/{name}:1.{minor}.0
          ports:
            - name: http
              containerPort: 8080
          envFrom:
            - configMapRef:
                name: {name}
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
            limits:
              memory: 256Mi
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {namespace}
spec:
  selector:
    app.kubernetes.io/name: {name}
  ports:
    - name: http
      port: 80
      targetPort: http
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: {namespace}
data:
  LOG_LEVEL: info
  BUCKET: acme-{name}-data
  QUEUE: {name}-events
"#,
            minor = self.index % 97
        );
        out
    }
}

fn heredoc_trust(subject: &str) -> String {
    format!(
        r#"<<EOF
{{
  "Version": "2012-10-17",
  "Statement": [
    {{
      "Effect": "Allow",
      "Principal": {{ "Federated": "${{local.oidc_provider_arn}}" }},
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {{
        "StringEquals": {{
          "${{local.oidc_issuer}}:sub": "{subject}",
          "${{local.oidc_issuer}}:aud": "sts.amazonaws.com"
        }}
      }}
    }}
  ]
}}
EOF"#
    )
}

fn jsonencode_trust(subject: &str) -> String {
    format!(
        r#"jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Principal = {{ Federated = local.oidc_provider_arn }}
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {{
        StringEquals = {{
          "${{local.oidc_issuer}}:sub" = "{subject}"
          "${{local.oidc_issuer}}:aud" = "sts.amazonaws.com"
        }}
      }}
    }}]
  }})"#
    )
}

fn policy_document_trust(ident: &str, subject: &str) -> String {
    format!(
        r#"
data "aws_iam_policy_document" "{ident}_trust" {{
  statement {{
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {{
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }}
    condition {{
      test     = "StringEquals"
      variable = "${{local.oidc_issuer}}:sub"
      values   = ["{subject}"]
    }}
    condition {{
      test     = "StringEquals"
      variable = "${{local.oidc_issuer}}:aud"
      values   = ["sts.amazonaws.com"]
    }}
  }}
}}
"#
    )
}
