# irsa-lint model: terraform-aws-modules/eks/aws//modules/karpenter
# majors: 18-19
#
# The Karpenter submodule as 18.31 (where it appeared) through v19 document it: with
# `create_irsa` (the default), the controller's IRSA role, trusting
# `irsa_namespace_service_accounts` (by default `karpenter:karpenter`) of the provider in
# `irsa_oidc_provider_arn`. Its name is `irsa_name`, by default `KarpenterIRSA-<cluster
# name>`, used as a prefix unless `irsa_use_name_prefix` is false. The node role (trusting
# EC2) and the interruption queue play no part in IRSA and are left out.

variable "create" { default = true }
variable "cluster_name" { default = "" }
variable "create_irsa" { default = true }
variable "irsa_name" { default = null }
variable "irsa_use_name_prefix" { default = true }
variable "irsa_path" { default = "/" }
variable "irsa_oidc_provider_arn" { default = "" }
variable "irsa_namespace_service_accounts" { default = ["karpenter:karpenter"] }
variable "irsa_assume_role_condition_test" { default = "StringEquals" }

locals {
  create_irsa = var.create && var.create_irsa
  irsa_name   = coalesce(var.irsa_name, "KarpenterIRSA-${var.cluster_name}")
  oidc_issuer = element(split("oidc-provider/", var.irsa_oidc_provider_arn), 1)
}

data "aws_iam_policy_document" "irsa_assume_role" {
  count = local.create_irsa ? 1 : 0

  statement {
    effect  = "Allow"
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

resource "aws_iam_role" "irsa" {
  count = local.create_irsa ? 1 : 0

  name               = var.irsa_use_name_prefix ? null : local.irsa_name
  name_prefix        = var.irsa_use_name_prefix ? "${local.irsa_name}-" : null
  path               = var.irsa_path
  assume_role_policy = data.aws_iam_policy_document.irsa_assume_role[0].json
}

output "irsa_name" { value = try(aws_iam_role.irsa[0].name, null) }
output "irsa_arn" { value = try(aws_iam_role.irsa[0].arn, null) }
