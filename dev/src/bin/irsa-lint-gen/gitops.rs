//! `irsa-lint-gen --gitops <N> <folder>`: a GitOps monorepo of N services in the shapes
//! Flux v2 and terraform-aws-modules repositories use, in teams of 50.
//!
//! - `terraform/platform/`: the cluster, its OIDC provider, the roles of the platform's
//!   controllers (terraform-aws-modules' `iam-role-for-service-accounts-eks`) and the
//!   `cluster-vars` ConfigMap Terraform writes for Flux (`kubernetes_config_map_v1`).
//! - `terraform/teams/<team>/`: one root module per team that looks the cluster and provider
//!   up, and one file per service with its IRSA role (the module, or an `aws_iam_role` whose
//!   trust is a `jsonencode` or an `aws_iam_policy_document`) and unrelated resources. One
//!   service in ten is installed by Terraform: a `helm_release` of the repository's chart
//!   with its values rendered by `templatefile()` from `values/<svc>.yaml.tftpl`.
//! - `clusters/production/`: Flux's `flux-system` (GitRepository and its Kustomization), one
//!   Flux Kustomization per team (`./apps/<team>`, `postBuild.substitute` for the team's
//!   namespaces and `substituteFrom` the `cluster-vars` ConfigMap and the team's
//!   `<team>-roles` ConfigMap, a file of the tree), and one for the platform's controllers.
//! - `apps/<team>/`: a kustomization listing the services' folders; six services in ten are
//!   a ServiceAccount (namespace and role ARN substituted), Deployment and Service with their
//!   own kustomization (some with a patch), three in ten a Flux HelmRelease of
//!   `./charts/service` whose `values.serviceAccount.annotations` carry the role ARN, written
//!   out or with `${account_id}` and `${cluster_name}`.
//! - `infrastructure/controllers/`: HelmReleases of external-dns and the AWS Load Balancer
//!   Controller, their role ARNs substituted from `cluster-vars`.
//! - `charts/service/`: the chart the services share, as `helm create` scaffolds it.
//!
//! Every 50th service has one mistake, and the tree has no other; in turn: a ServiceAccount in
//! the team's batch namespace (`${batch_namespace}`) its role does not trust (IRSA003), a
//! HelmRelease's role name with a digit missing (IRSA001), a `templatefile()` that renames
//! the ServiceAccount (IRSA003). Returns their count. The output depends only on N.

use std::fmt::Write as _;
use std::path::Path;

use super::{ACCOUNT, MISMATCH_EVERY, SERVICES_PER_TEAM, write};

const CLUSTER: &str = "production";

/// How a service reaches the cluster.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Deploy {
    /// ServiceAccount, Deployment and Service in `apps/`, through the team's Flux Kustomization.
    Manifests,
    /// A Flux HelmRelease of the repository's chart in `apps/`.
    FluxHelm,
    /// A Terraform `helm_release` with `templatefile()` values.
    TerraformHelm,
}

struct Service {
    index: usize,
    name: String,
    ident: String,
    team: String,
    deploy: Deploy,
    /// This service carries the injected mistake.
    broken: bool,
}

impl Service {
    fn new(index: usize) -> Self {
        let name = format!("svc-{index:05}");
        let broken = index.is_multiple_of(MISMATCH_EVERY);
        // The broken services take the three forms in turn; the others six in ten, three in
        // ten and one in ten.
        let deploy = match (broken, index / MISMATCH_EVERY % 3, index % 10) {
            (true, 0, _) | (false, _, 0..=5) => Deploy::Manifests,
            (true, 1, _) | (false, _, 6..=8) => Deploy::FluxHelm,
            _ => Deploy::TerraformHelm,
        };
        Service {
            index,
            ident: name.replace('-', "_"),
            team: team_name(index / SERVICES_PER_TEAM),
            name,
            deploy,
            broken,
        }
    }

    fn role_name(&self) -> String {
        format!("{CLUSTER}-{}", self.name)
    }
}

fn team_name(team: usize) -> String {
    format!("team-{team:04}")
}

/// Writes the tree; returns how many findings were injected.
pub fn generate(services: usize, out: &Path) -> std::io::Result<usize> {
    write(&out.join("README.md"), README)?;
    write_platform(out)?;
    write_chart(&out.join("charts/service"))?;
    let clusters = out.join("clusters").join(CLUSTER);
    write(&clusters.join("flux-system/gotk-sync.yaml"), GOTK_SYNC)?;
    write(
        &clusters.join("flux-system/kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - gotk-sync.yaml\n",
    )?;
    write(&clusters.join("infrastructure.yaml"), INFRASTRUCTURE)?;
    let mut injected = 0;
    let teams = services.div_ceil(SERVICES_PER_TEAM);
    for t in 0..teams {
        let members: Vec<Service> = (t * SERVICES_PER_TEAM
            ..services.min((t + 1) * SERVICES_PER_TEAM))
            .map(Service::new)
            .collect();
        injected += members.iter().filter(|s| s.broken).count();
        let team = team_name(t);
        write(
            &clusters.join("teams").join(format!("{team}.yaml")),
            &team_kustomization(&team),
        )?;
        write(
            &clusters.join("teams").join(format!("{team}-roles.yaml")),
            &team_roles(&team, &members),
        )?;
        let infra = out.join("terraform/teams").join(&team);
        write(&infra.join("main.tf"), &team_main_tf(&team))?;
        let apps = out.join("apps").join(&team);
        write(&apps.join("kustomization.yaml"), &team_apps(&members))?;
        write(&apps.join("namespaces.yaml"), NAMESPACES)?;
        for svc in &members {
            write(&infra.join(format!("{}.tf", svc.name)), &svc.terraform())?;
            let dir = apps.join(&svc.name);
            match svc.deploy {
                Deploy::Manifests => {
                    write(&dir.join("kustomization.yaml"), &svc.kustomization())?;
                    write(&dir.join("serviceaccount.yaml"), &svc.service_account())?;
                    write(&dir.join("deployment.yaml"), &svc.deployment())?;
                    write(&dir.join("service.yaml"), &svc.service())?;
                }
                Deploy::FluxHelm => {
                    write(
                        &dir.join("kustomization.yaml"),
                        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - release.yaml\n",
                    )?;
                    write(&dir.join("release.yaml"), &svc.helm_release())?;
                }
                Deploy::TerraformHelm => write(
                    &infra.join(format!("values/{}.yaml.tftpl", svc.name)),
                    &svc.values_template(),
                )?,
            }
        }
    }
    Ok(injected)
}

const README: &str = "# platform-gitops\n\nFlux watches `clusters/production`; Terraform in `terraform/` owns the cluster and\nevery service's IAM role. Generated by irsa-lint-gen --gitops for the benchmark.\n";

fn write_platform(out: &Path) -> std::io::Result<()> {
    let dir = out.join("terraform/platform");
    write(
        &dir.join("eks.tf"),
        &format!(
            r#"# The production cluster and its OIDC provider. Team roots look both up by name.

data "aws_caller_identity" "current" {{}}

resource "aws_iam_role" "cluster" {{
  name = "{CLUSTER}-control-plane"
  assume_role_policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Principal = {{ Service = "eks.amazonaws.com" }}
      Action    = "sts:AssumeRole"
    }}]
  }})
}}

resource "aws_iam_role_policy_attachment" "cluster" {{
  role       = aws_iam_role.cluster.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
}}

resource "aws_eks_cluster" "main" {{
  name     = var.cluster_name
  role_arn = aws_iam_role.cluster.arn
  version  = "1.30"

  vpc_config {{
    subnet_ids              = var.private_subnet_ids
    endpoint_private_access = true
  }}

  depends_on = [aws_iam_role_policy_attachment.cluster]
}}

data "tls_certificate" "eks" {{
  url = aws_eks_cluster.main.identity[0].oidc[0].issuer
}}

resource "aws_iam_openid_connect_provider" "eks" {{
  url             = aws_eks_cluster.main.identity[0].oidc[0].issuer
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = [data.tls_certificate.eks.certificates[0].sha1_fingerprint]
}}

variable "cluster_name" {{
  type    = string
  default = "{CLUSTER}"
}}

variable "private_subnet_ids" {{
  type    = list(string)
  default = ["subnet-0a4c2e81f3b95d762", "subnet-07e91b3d5c2a48f16", "subnet-0f2d6a8c41e7b9035"]
}}
"#
        ),
    )?;
    write(
        &dir.join("controllers.tf"),
        r#"# Roles of the controllers Flux installs from infrastructure/controllers.

module "external_dns_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "~> 5.48"

  role_name                     = "${var.cluster_name}-external-dns"
  attach_external_dns_policy    = true
  external_dns_hosted_zone_arns = ["arn:aws:route53:::hostedzone/Z0472914Q8ZJ1HW3VWWQ"]

  oidc_providers = {
    main = {
      provider_arn               = aws_iam_openid_connect_provider.eks.arn
      namespace_service_accounts = ["external-dns:external-dns"]
    }
  }
}

module "load_balancer_controller_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "~> 5.48"

  role_name                              = "${var.cluster_name}-aws-load-balancer-controller"
  attach_load_balancer_controller_policy = true

  oidc_providers = {
    main = {
      provider_arn               = aws_iam_openid_connect_provider.eks.arn
      namespace_service_accounts = ["kube-system:aws-load-balancer-controller"]
    }
  }
}
"#,
    )?;
    write(
        &dir.join("flux-vars.tf"),
        r#"# Values the Flux Kustomizations in clusters/production substitute into the manifests
# (postBuild.substituteFrom).
resource "kubernetes_config_map_v1" "cluster_vars" {
  metadata {
    name      = "cluster-vars"
    namespace = "flux-system"
  }

  data = {
    cluster_name                     = aws_eks_cluster.main.name
    account_id                       = data.aws_caller_identity.current.account_id
    aws_region                       = "eu-west-1"
    external_dns_role_arn            = module.external_dns_irsa.iam_role_arn
    load_balancer_controller_role_arn = module.load_balancer_controller_irsa.iam_role_arn
  }
}
"#,
    )?;
    write(
        &dir.join("versions.tf"),
        r#"terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.70"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.33"
    }
    tls = {
      source  = "hashicorp/tls"
      version = "~> 4.0"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
}
"#,
    )?;
    let controllers = out.join("infrastructure/controllers");
    write(
        &controllers.join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - external-dns\n  - aws-load-balancer-controller\n",
    )?;
    for (name, namespace, chart, version, url, var, extra) in [
        (
            "external-dns",
            "external-dns",
            "external-dns",
            "1.15.x",
            "https://kubernetes-sigs.github.io/external-dns",
            "external_dns_role_arn",
            "    provider:\n      name: aws\n    policy: sync\n    txtOwnerId: ${cluster_name}\n    domainFilters:\n      - acme-payments.io\n",
        ),
        (
            "aws-load-balancer-controller",
            "kube-system",
            "aws-load-balancer-controller",
            "1.9.x",
            "https://aws.github.io/eks-charts",
            "load_balancer_controller_role_arn",
            "    clusterName: ${cluster_name}\n    region: ${aws_region}\n    replicaCount: 2\n",
        ),
    ] {
        let dir = controllers.join(name);
        let mut resources = String::from(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
        );
        if namespace != "kube-system" {
            resources.push_str("  - namespace.yaml\n");
            write(
                &dir.join("namespace.yaml"),
                &format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n"),
            )?;
        }
        resources.push_str("  - repository.yaml\n  - release.yaml\n");
        write(&dir.join("kustomization.yaml"), &resources)?;
        write(
            &dir.join("repository.yaml"),
            &format!(
                "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  interval: 24h\n  url: {url}\n"
            ),
        )?;
        write(
            &dir.join("release.yaml"),
            &format!(
                r#"apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
  namespace: {namespace}
spec:
  interval: 30m
  chart:
    spec:
      chart: {chart}
      version: "{version}"
      sourceRef:
        kind: HelmRepository
        name: {name}
  install:
    crds: CreateReplace
  values:
{extra}    serviceAccount:
      create: true
      name: {name}
      annotations:
        # Written by Terraform into flux-system/cluster-vars.
        eks.amazonaws.com/role-arn: ${{{var}}}
"#
            ),
        )?;
    }
    Ok(())
}

fn write_chart(dir: &Path) -> std::io::Result<()> {
    write(
        &dir.join("Chart.yaml"),
        "apiVersion: v2\nname: service\ndescription: The chart every stateless HTTP service of the company runs with\ntype: application\nversion: 1.8.0\nappVersion: \"1.0.0\"\n",
    )?;
    write(
        &dir.join("values.yaml"),
        r#"replicaCount: 2

image:
  repository: 482910375521.dkr.ecr.eu-west-1.amazonaws.com/app
  pullPolicy: IfNotPresent
  tag: ""

nameOverride: ""
fullnameOverride: ""

serviceAccount:
  # Whether a ServiceAccount should be created
  create: true
  # Annotations to add to the ServiceAccount (the IRSA role ARN)
  annotations: {}
  # The name of the ServiceAccount; the full name of the release when empty
  name: ""

service:
  type: ClusterIP
  port: 80

resources: {}
"#,
    )?;
    write(
        &dir.join("templates/_helpers.tpl"),
        r#"{{/*
Expand the name of the chart.
*/}}
{{- define "service.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name.
*/}}
{{- define "service.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Common labels
*/}}
{{- define "service.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "service.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Create the name of the service account to use
*/}}
{{- define "service.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "service.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}
"#,
    )?;
    write(
        &dir.join("templates/serviceaccount.yaml"),
        r#"{{- if .Values.serviceAccount.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "service.serviceAccountName" . }}
  labels:
    {{- include "service.labels" . | nindent 4 }}
  {{- with .Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
"#,
    )?;
    write(
        &dir.join("templates/deployment.yaml"),
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "service.fullname" . }}
  labels:
    {{- include "service.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ include "service.name" . }}
      app.kubernetes.io/instance: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{ include "service.name" . }}
        app.kubernetes.io/instance: {{ .Release.Name }}
    spec:
      serviceAccountName: {{ include "service.serviceAccountName" . }}
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: 8080
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
"#,
    )
}

const GOTK_SYNC: &str = r#"# This manifest was generated by flux. DO NOT EDIT.
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  secretRef:
    name: flux-system
  url: ssh://git@github.com/acme-payments/platform-gitops
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./clusters/production
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"#;

const INFRASTRUCTURE: &str = r#"---
# Platform controllers. Terraform (terraform/platform) writes the cluster-vars ConfigMap
# with the ARNs of the roles it creates for them.
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: infra-controllers
  namespace: flux-system
spec:
  interval: 1h
  retryInterval: 1m
  timeout: 5m
  sourceRef:
    kind: GitRepository
    name: flux-system
  path: ./infrastructure/controllers
  prune: true
  wait: true
  postBuild:
    substituteFrom:
      - kind: ConfigMap
        name: cluster-vars
"#;

/// The namespaces of a team, both substituted by its Flux Kustomization.
const NAMESPACES: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: ${team_namespace}
  labels:
    elbv2.k8s.aws/pod-readiness-gate-inject: enabled
---
apiVersion: v1
kind: Namespace
metadata:
  name: ${batch_namespace}
"#;

fn team_kustomization(team: &str) -> String {
    format!(
        r#"apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {team}
  namespace: flux-system
spec:
  interval: 10m
  retryInterval: 2m
  dependsOn:
    - name: infra-controllers
  sourceRef:
    kind: GitRepository
    name: flux-system
  path: ./apps/{team}
  prune: true
  postBuild:
    substitute:
      team_namespace: {team}
      batch_namespace: {team}-batch
    substituteFrom:
      - kind: ConfigMap
        name: cluster-vars
      - kind: ConfigMap
        name: {team}-roles
"#
    )
}

/// The role ARNs of a team's plain-manifest services, substituted into their
/// ServiceAccounts.
fn team_roles(team: &str, members: &[Service]) -> String {
    let mut out = format!(
        "# IRSA roles of {team}'s services (terraform/teams/{team}).\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {team}-roles\n  namespace: flux-system\ndata:\n"
    );
    for svc in members.iter().filter(|s| s.deploy == Deploy::Manifests) {
        let _ = writeln!(
            out,
            "  {}_role_arn: arn:aws:iam::{ACCOUNT}:role/{}",
            svc.ident,
            svc.role_name()
        );
    }
    out
}

fn team_apps(members: &[Service]) -> String {
    let mut out = String::from(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - namespaces.yaml\n",
    );
    for svc in members.iter().filter(|s| s.deploy != Deploy::TerraformHelm) {
        let _ = writeln!(out, "  - {}", svc.name);
    }
    out
}

fn team_main_tf(team: &str) -> String {
    format!(
        r#"# {team}: IAM roles of the team's services, and the services Terraform installs.
# The cluster and its OIDC provider belong to terraform/platform.

terraform {{
  required_version = ">= 1.6.0"

  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = "~> 5.70"
    }}
    helm = {{
      source  = "hashicorp/helm"
      version = "~> 2.15"
    }}
  }}

  backend "s3" {{
    bucket = "acme-terraform-state"
    key    = "teams/{team}.tfstate"
    region = "eu-west-1"
  }}
}}

provider "aws" {{
  region = "eu-west-1"
  default_tags {{
    tags = {{ Team = "{team}", ManagedBy = "terraform" }}
  }}
}}

variable "cluster_name" {{
  type    = string
  default = "{CLUSTER}"
}}

data "aws_eks_cluster" "this" {{
  name = var.cluster_name
}}

data "aws_iam_openid_connect_provider" "this" {{
  url = data.aws_eks_cluster.this.identity[0].oidc[0].issuer
}}

provider "helm" {{
  kubernetes {{
    host                   = data.aws_eks_cluster.this.endpoint
    cluster_ca_certificate = base64decode(data.aws_eks_cluster.this.certificate_authority[0].data)
  }}
}}

locals {{
  oidc_provider_arn = data.aws_iam_openid_connect_provider.this.arn
  oidc_issuer       = replace(data.aws_eks_cluster.this.identity[0].oidc[0].issuer, "https://", "")
}}
"#
    )
}

impl Service {
    /// The namespace its ServiceAccount lives in, as the manifests write it.
    fn namespace_placeholder(&self) -> &'static str {
        if self.broken {
            // Moved to the batch namespace; its role still trusts the team's.
            "${batch_namespace}"
        } else {
            "${team_namespace}"
        }
    }

    fn terraform(&self) -> String {
        let (name, ident, team) = (&self.name, &self.ident, &self.team);
        let subject = format!("system:serviceaccount:{team}:{name}");
        let mut out = format!("# {name}: IAM role (IRSA) and data stores.\n");
        let role_arn = match self.index % 4 {
            0 | 2 => {
                let _ = write!(
                    out,
                    r#"
module "{ident}_irsa" {{
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "~> 5.48"

  role_name = "${{var.cluster_name}}-{name}"
  role_policy_arns = {{
    data = aws_iam_policy.{ident}.arn
  }}

  oidc_providers = {{
    main = {{
      provider_arn               = local.oidc_provider_arn
      namespace_service_accounts = ["{team}:{name}"]
    }}
  }}
}}

resource "aws_iam_policy" "{ident}" {{
  name = "${{var.cluster_name}}-{name}-data"
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject", "sqs:SendMessage", "sqs:ReceiveMessage"]
      Resource = ["${{aws_s3_bucket.{ident}.arn}}/*", aws_sqs_queue.{ident}.arn]
    }}]
  }})
}}
"#
                );
                format!("module.{ident}_irsa.iam_role_arn")
            }
            1 => {
                let _ = write!(
                    out,
                    r#"
resource "aws_iam_role" "{ident}" {{
  name = "${{var.cluster_name}}-{name}"
  assume_role_policy = jsonencode({{
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
  }})
}}
{}"#,
                    inline_policy(ident, name)
                );
                format!("aws_iam_role.{ident}.arn")
            }
            _ => {
                let _ = write!(
                    out,
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

resource "aws_iam_role" "{ident}" {{
  name               = "${{var.cluster_name}}-{name}"
  assume_role_policy = data.aws_iam_policy_document.{ident}_trust.json
}}
{}"#,
                    inline_policy(ident, name)
                );
                format!("aws_iam_role.{ident}.arn")
            }
        };
        let _ = write!(
            out,
            r#"
resource "aws_s3_bucket" "{ident}" {{
  bucket = "acme-${{var.cluster_name}}-{name}"
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
  name                       = "${{var.cluster_name}}-{name}-events"
  visibility_timeout_seconds = 60
  message_retention_seconds  = 345600
}}
"#
        );
        if self.deploy == Deploy::TerraformHelm {
            // Renamed in the values: the role still trusts the service's own name.
            let service_account = if self.broken {
                format!("{name}-worker")
            } else {
                name.clone()
            };
            let _ = write!(
                out,
                r#"
resource "helm_release" "{ident}" {{
  name      = "{name}"
  chart     = "${{path.module}}/../../../charts/service"
  namespace = "{team}"

  values = [
    templatefile("${{path.module}}/values/{name}.yaml.tftpl", {{
      role_arn        = {role_arn}
      service_account = "{service_account}"
      image_tag       = "1.{minor}.0"
      bucket          = aws_s3_bucket.{ident}.bucket
      queue_url       = aws_sqs_queue.{ident}.url
    }})
  ]
}}
"#,
                minor = self.index % 97
            );
        }
        out
    }

    fn kustomization(&self) -> String {
        let mut out = String::from(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - serviceaccount.yaml\n  - deployment.yaml\n  - service.yaml\n",
        );
        if self.index.is_multiple_of(3) {
            let _ = write!(
                out,
                "patches:\n  - target:\n      kind: Deployment\n      name: {}\n    patch: |-\n      - op: replace\n        path: /spec/replicas\n        value: 3\n",
                self.name
            );
        }
        out
    }

    fn service_account(&self) -> String {
        format!(
            r#"apiVersion: v1
kind: ServiceAccount
metadata:
  name: {name}
  namespace: {namespace}
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/part-of: {team}
  annotations:
    # From the {team}-roles ConfigMap (clusters/{CLUSTER}/teams).
    eks.amazonaws.com/role-arn: ${{{ident}_role_arn}}
"#,
            name = self.name,
            namespace = self.namespace_placeholder(),
            team = self.team,
            ident = self.ident
        )
    }

    fn deployment(&self) -> String {
        format!(
            r#"apiVersion: apps/v1
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
          env:
            - name: AWS_REGION
              value: ${{aws_region}}
            - name: BUCKET
              value: acme-${{cluster_name}}-{name}
            - name: QUEUE
              value: ${{cluster_name}}-{name}-events
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
            limits:
              memory: 256Mi
"#,
            name = self.name,
            namespace = self.namespace_placeholder(),
            minor = self.index % 97
        )
    }

    fn service(&self) -> String {
        format!(
            r#"apiVersion: v1
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
"#,
            name = self.name,
            namespace = self.namespace_placeholder()
        )
    }

    fn helm_release(&self) -> String {
        let role = if self.broken {
            // A digit lost: no role has this name.
            format!("svc-{:04}", self.index)
        } else {
            self.name.clone()
        };
        // Written out, or from the cluster's variables.
        let arn = if self.index.is_multiple_of(2) {
            format!("arn:aws:iam::${{account_id}}:role/${{cluster_name}}-{role}")
        } else {
            format!("arn:aws:iam::{ACCOUNT}:role/{CLUSTER}-{role}")
        };
        format!(
            r#"apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
  namespace: ${{team_namespace}}
spec:
  interval: 10m
  chart:
    spec:
      chart: ./charts/service
      reconcileStrategy: Revision
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
  install:
    remediation:
      retries: 3
  values:
    replicaCount: 2
    image:
      repository: {ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/{name}
      tag: 1.{minor}.0
    serviceAccount:
      create: true
      name: {name}
      annotations:
        eks.amazonaws.com/role-arn: {arn}
    resources:
      requests:
        cpu: 100m
        memory: 128Mi
"#,
            name = self.name,
            minor = self.index % 97
        )
    }

    fn values_template(&self) -> String {
        format!(
            r#"# Rendered by helm_release.{ident} ({name}.tf).
replicaCount: 2

image:
  repository: {ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/{name}
  tag: ${{image_tag}}

serviceAccount:
  create: true
  name: ${{service_account}}
  annotations:
    eks.amazonaws.com/role-arn: ${{role_arn}}

env:
  BUCKET: ${{bucket}}
  QUEUE_URL: ${{queue_url}}

resources:
  requests:
    cpu: 100m
    memory: 128Mi
"#,
            ident = self.ident,
            name = self.name
        )
    }
}

fn inline_policy(ident: &str, name: &str) -> String {
    format!(
        r#"
resource "aws_iam_role_policy" "{ident}" {{
  name = "{name}-data"
  role = aws_iam_role.{ident}.id
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject", "sqs:SendMessage", "sqs:ReceiveMessage"]
      Resource = ["${{aws_s3_bucket.{ident}.arn}}/*", aws_sqs_queue.{ident}.arn]
    }}]
  }})
}}
"#
    )
}
