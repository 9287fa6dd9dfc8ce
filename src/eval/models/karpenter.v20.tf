# irsa-lint model: terraform-aws-modules/eks/aws//modules/karpenter
# majors: 20-20
#
# The Karpenter submodule in v20: one controller role, named `iam_role_name` (by default
# `KarpenterController`, used as a prefix unless `iam_role_use_name_prefix` is false). Its
# trust admits EKS Pod Identity with `enable_pod_identity` (the default; 20.0 and 20.1 always
# did) and, with `enable_irsa`, `irsa_namespace_service_accounts` (by default
# `karpenter:karpenter`) of the provider in `irsa_oidc_provider_arn`. Since 20.10, with
# `create_pod_identity_association` the module associates the role with `namespace` /
# `service_account` (by default `kube-system` / `karpenter`). The node role and the
# interruption queue play no part in IRSA and are left out.

variable "create" { default = true }
variable "cluster_name" { default = "" }
variable "create_iam_role" { default = true }
variable "iam_role_name" { default = "KarpenterController" }
variable "iam_role_use_name_prefix" { default = true }
variable "iam_role_path" { default = "/" }
variable "enable_pod_identity" { default = true }
variable "enable_irsa" { default = false }
variable "irsa_oidc_provider_arn" { default = "" }
variable "irsa_namespace_service_accounts" { default = ["karpenter:karpenter"] }
variable "irsa_assume_role_condition_test" { default = "StringEquals" }
variable "create_pod_identity_association" { default = false }
variable "namespace" { default = "kube-system" }
variable "service_account" { default = "karpenter" }

locals {
  create_iam_role = var.create && var.create_iam_role
  oidc_issuer     = element(split("oidc-provider/", var.irsa_oidc_provider_arn), 1)
}

data "aws_iam_policy_document" "controller_assume_role" {
  count = local.create_iam_role ? 1 : 0

  dynamic "statement" {
    for_each = var.enable_pod_identity ? [1] : []

    content {
      actions = ["sts:AssumeRole", "sts:TagSession"]

      principals {
        type        = "Service"
        identifiers = ["pods.eks.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.enable_irsa ? [1] : []

    content {
      actions = ["sts:AssumeRoleWithWebIdentity"]

      principals {
        type        = "Federated"
        identifiers = [var.irsa_oidc_provider_arn]
      }

      condition {
        test     = var.irsa_assume_role_condition_test
        variable = "${local.oidc_issuer}:sub"
        values   = [for sa in var.irsa_namespace_service_accounts : "system:serviceaccount:${sa}"]
      }

      condition {
        test     = var.irsa_assume_role_condition_test
        variable = "${local.oidc_issuer}:aud"
        values   = ["sts.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role" "controller" {
  count = local.create_iam_role ? 1 : 0

  name               = var.iam_role_use_name_prefix ? null : var.iam_role_name
  name_prefix        = var.iam_role_use_name_prefix ? "${var.iam_role_name}-" : null
  path               = var.iam_role_path
  assume_role_policy = data.aws_iam_policy_document.controller_assume_role[0].json
}

resource "aws_eks_pod_identity_association" "karpenter" {
  count = local.create_iam_role && var.enable_pod_identity && var.create_pod_identity_association ? 1 : 0

  cluster_name    = var.cluster_name
  namespace       = var.namespace
  service_account = var.service_account
  role_arn        = aws_iam_role.controller[0].arn
}

output "iam_role_name" { value = try(aws_iam_role.controller[0].name, null) }
output "iam_role_arn" { value = try(aws_iam_role.controller[0].arn, null) }
output "namespace" { value = var.namespace }
output "service_account" { value = var.service_account }
