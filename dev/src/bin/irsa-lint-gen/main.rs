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
//! With `--plan <MB>`, it writes instead a plan-only deployment repository: `plan/plan.json`,
//! a Terraform plan (`terraform show -json`) of at least that many megabytes whose
//! `module.irsa["svc-NNNNN"]` instances each create a role among many unrelated resources,
//! and `k8s/` with each role's ServiceAccount; every 50th ServiceAccount is in the wrong
//! namespace, and the count of those is printed.
//!
//! With `--gitops <N>`, it writes a GitOps monorepo of N services instead: Flux
//! Kustomizations with post-build substitution and HelmReleases, Terraform roots with
//! terraform-aws-modules IRSA roles and `templatefile()` Helm values (see `gitops.rs`).
//!
//! Usage: `irsa-lint-gen <N> <folder>`, `irsa-lint-gen --plan <MB> <folder>`,
//! `irsa-lint-gen --gitops <N> <folder>`

// A benchmark tool, never installed with irsa-lint: it may write its own trees.
#![allow(clippy::disallowed_methods)]

mod gitops;

use std::fmt::Write as _;
use std::path::Path;

const ACCOUNT: &str = "482910375521";
const ISSUER: &str = "oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A9B8D7E6F5A4B3C2D1E0F9A8B";
const SERVICES_PER_TEAM: usize = 50;
/// One service in this many gets a ServiceAccount in the wrong namespace.
const MISMATCH_EVERY: usize = 50;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--gitops") {
        let (Some(n), Some(out)) = (args.get(2).and_then(|n| n.parse().ok()), args.get(3)) else {
            eprintln!("usage: irsa-lint-gen --gitops <services> <folder>");
            std::process::exit(2);
        };
        let injected = gitops::generate(n, Path::new(out)).unwrap_or_else(|e| {
            eprintln!("irsa-lint-gen: {e}");
            std::process::exit(1);
        });
        println!("{injected}");
        return;
    }
    if args.get(1).map(String::as_str) == Some("--plan") {
        let (Some(mb), Some(out)) = (args.get(2).and_then(|n| n.parse().ok()), args.get(3)) else {
            eprintln!("usage: irsa-lint-gen --plan <megabytes> <folder>");
            std::process::exit(2);
        };
        let injected = generate_plan(mb, Path::new(out)).unwrap_or_else(|e| {
            eprintln!("irsa-lint-gen: {e}");
            std::process::exit(1);
        });
        println!("{injected}");
        return;
    }
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

/// A plan of at least `megabytes` and the ServiceAccounts of its roles; returns how many
/// findings were injected.
fn generate_plan(megabytes: usize, out: &Path) -> std::io::Result<usize> {
    use std::io::Write as _;
    let target = megabytes * 1_000_000;
    let dir = out.join("plan");
    std::fs::create_dir_all(&dir)?;
    let mut plan = std::io::BufWriter::new(std::fs::File::create(dir.join("plan.json"))?);
    let mut written = 0usize;
    let emit = |plan: &mut std::io::BufWriter<std::fs::File>, written: &mut usize, text: &str| {
        *written += text.len();
        plan.write_all(text.as_bytes())
    };
    emit(
        &mut plan,
        &mut written,
        "{\"format_version\":\"1.2\",\"terraform_version\":\"1.9.8\",\"planned_values\":{\"root_module\":{\"child_modules\":[",
    )?;
    let mut injected = 0;
    let mut changes = String::new();
    let mut i = 0;
    while written < target || i == 0 {
        let before = changes.len();
        let svc = Service::new(i);
        let module = format!("module.irsa[\\\"{}\\\"]", svc.name);
        let subject = format!("system:serviceaccount:{}:{}", svc.namespace, svc.name);
        let trust = format!(
            "{{\\\"Statement\\\":[{{\\\"Action\\\":\\\"sts:AssumeRoleWithWebIdentity\\\",\\\"Condition\\\":{{\\\"StringEquals\\\":{{\\\"{ISSUER}:aud\\\":\\\"sts.amazonaws.com\\\",\\\"{ISSUER}:sub\\\":\\\"{subject}\\\"}}}},\\\"Effect\\\":\\\"Allow\\\",\\\"Principal\\\":{{\\\"Federated\\\":\\\"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}\\\"}}}}],\\\"Version\\\":\\\"2012-10-17\\\"}}"
        );
        let role_values = format!(
            "{{\"assume_role_policy\":\"{trust}\",\"description\":null,\"force_detach_policies\":false,\"max_session_duration\":3600,\"name\":\"{}\",\"path\":\"/\",\"permissions_boundary\":null,\"tags\":{{\"Service\":\"{}\"}}}}",
            svc.name, svc.name
        );
        let mut resources = vec![format!(
            "{{\"address\":\"{module}.aws_iam_role.this[0]\",\"mode\":\"managed\",\"type\":\"aws_iam_role\",\"name\":\"this\",\"index\":0,\"provider_name\":\"registry.terraform.io/hashicorp/aws\",\"schema_version\":0,\"values\":{role_values},\"sensitive_values\":{{\"inline_policy\":[],\"managed_policy_arns\":[],\"tags\":{{}},\"tags_all\":{{}}}}}}"
        )];
        let _ = write!(
            changes,
            ",{{\"address\":\"{module}.aws_iam_role.this[0]\",\"module_address\":\"{module}\",\"mode\":\"managed\",\"type\":\"aws_iam_role\",\"name\":\"this\",\"index\":0,\"change\":{{\"actions\":[\"create\"],\"before\":null,\"after\":{role_values},\"after_unknown\":{{\"arn\":true,\"id\":true,\"unique_id\":true}}}}}}"
        );
        // Unrelated resources: what most of a real plan is.
        for k in 0..12 {
            let values = format!(
                "{{\"bucket\":\"acme-{}-{k}\",\"force_destroy\":false,\"tags\":{{\"Service\":\"{}\",\"CostCenter\":\"cc-{:04}\"}},\"grant\":[{{\"permissions\":[\"READ\",\"WRITE\"],\"type\":\"CanonicalUser\"}}],\"lifecycle_rule\":[{{\"enabled\":true,\"expiration\":[{{\"days\":{}}}],\"id\":\"expire\",\"prefix\":\"logs/\"}}],\"policy\":\"{{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{{\\\"Effect\\\":\\\"Deny\\\",\\\"Principal\\\":\\\"*\\\",\\\"Action\\\":\\\"s3:*\\\",\\\"Resource\\\":\\\"arn:aws:s3:::acme-{}-{k}/*\\\",\\\"Condition\\\":{{\\\"Bool\\\":{{\\\"aws:SecureTransport\\\":\\\"false\\\"}}}}}}]}}\"}}",
                svc.name,
                svc.name,
                i % 7919,
                30 + k,
                svc.name
            );
            resources.push(format!(
                "{{\"address\":\"{module}.aws_s3_bucket.data[{k}]\",\"mode\":\"managed\",\"type\":\"aws_s3_bucket\",\"name\":\"data\",\"index\":{k},\"provider_name\":\"registry.terraform.io/hashicorp/aws\",\"schema_version\":0,\"values\":{values},\"sensitive_values\":{{\"grant\":[{{\"permissions\":[false,false]}}],\"tags\":{{}}}}}}"
            ));
            let _ = write!(
                changes,
                ",{{\"address\":\"{module}.aws_s3_bucket.data[{k}]\",\"module_address\":\"{module}\",\"mode\":\"managed\",\"type\":\"aws_s3_bucket\",\"name\":\"data\",\"index\":{k},\"change\":{{\"actions\":[\"create\"],\"before\":null,\"after\":{values},\"after_unknown\":{{\"arn\":true,\"id\":true}}}}}}"
            );
        }
        let separator = if i == 0 { "" } else { "," };
        emit(
            &mut plan,
            &mut written,
            &format!(
                "{separator}{{\"resources\":[{}],\"address\":\"{module}\"}}",
                resources.join(",")
            ),
        )?;
        written += changes.len() - before;
        let namespace = if i % MISMATCH_EVERY == 0 {
            injected += 1;
            format!("{}-preview", svc.namespace)
        } else {
            svc.namespace.clone()
        };
        let manifest = format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {}\n  namespace: {namespace}\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::{ACCOUNT}:role/{}\n",
            svc.name, svc.name
        );
        write(
            &out.join("k8s").join(format!("{}.yaml", svc.name)),
            &manifest,
        )?;
        i += 1;
        if changes.len() > 1 << 20 {
            // Keep the resource changes on disk, not in memory: a second file joined below.
            append(&dir.join("changes.part"), &changes)?;
            changes.clear();
        }
    }
    append(&dir.join("changes.part"), &changes)?;
    plan.write_all(b"]}},\"resource_changes\":[")?;
    let parts = std::fs::read_to_string(dir.join("changes.part"))?;
    plan.write_all(parts.trim_start_matches(',').as_bytes())?;
    std::fs::remove_file(dir.join("changes.part"))?;
    plan.write_all(
        b"],\"configuration\":{\"root_module\":{\"module_calls\":{\"irsa\":{\"source\":\"./modules/irsa\"}}}},\"applyable\":true,\"complete\":true,\"errored\":false}\n",
    )?;
    plan.flush()?;
    Ok(injected)
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())
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
