# irsa-lint model: terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts
# majors: 6-6
#
# v6 renamed the inputs (`name`, `use_name_prefix` defaulting to true, `path`,
# `trust_condition_test`) and the outputs (`arn`, `name`).

variable "create" { default = true }
variable "name" { default = null }
variable "use_name_prefix" { default = true }
variable "path" { default = null }
variable "oidc_providers" { default = {} }
variable "trust_condition_test" { default = "StringEquals" }
variable "attach_ebs_csi_policy" { default = false }
variable "attach_efs_csi_policy" { default = false }
variable "attach_vpc_cni_policy" { default = false }
variable "attach_mountpoint_s3_csi_policy" { default = false }

data "aws_iam_policy_document" "this" {
  count = var.create ? 1 : 0

  dynamic "statement" {
    for_each = var.oidc_providers

    content {
      effect  = "Allow"
      actions = ["sts:AssumeRoleWithWebIdentity"]

      principals {
        type        = "Federated"
        identifiers = [statement.value.provider_arn]
      }

      condition {
        test     = var.trust_condition_test
        variable = "${element(split("oidc-provider/", statement.value.provider_arn), 1)}:sub"
        values   = [for sa in statement.value.namespace_service_accounts : "system:serviceaccount:${sa}"]
      }

      condition {
        test     = var.trust_condition_test
        variable = "${element(split("oidc-provider/", statement.value.provider_arn), 1)}:aud"
        values   = ["sts.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role" "this" {
  count = var.create ? 1 : 0

  name               = var.use_name_prefix ? null : var.name
  name_prefix        = var.use_name_prefix ? "${var.name}-" : null
  path               = var.path
  assume_role_policy = data.aws_iam_policy_document.this[0].json
}

resource "irsa_lint_addon_role" "ebs_csi" {
  count           = var.create && var.attach_ebs_csi_policy ? 1 : 0
  role_address    = "aws_iam_role.this[0]"
  addon           = "aws-ebs-csi-driver"
  flag            = "attach_ebs_csi_policy"
  namespace       = "kube-system"
  service_account = "ebs-csi-controller-sa"
}

resource "irsa_lint_addon_role" "efs_csi" {
  count           = var.create && var.attach_efs_csi_policy ? 1 : 0
  role_address    = "aws_iam_role.this[0]"
  addon           = "aws-efs-csi-driver"
  flag            = "attach_efs_csi_policy"
  namespace       = "kube-system"
  service_account = "efs-csi-controller-sa"
}

resource "irsa_lint_addon_role" "vpc_cni" {
  count           = var.create && var.attach_vpc_cni_policy ? 1 : 0
  role_address    = "aws_iam_role.this[0]"
  addon           = "vpc-cni"
  flag            = "attach_vpc_cni_policy"
  namespace       = "kube-system"
  service_account = "aws-node"
}

resource "irsa_lint_addon_role" "mountpoint_s3_csi" {
  count           = var.create && var.attach_mountpoint_s3_csi_policy ? 1 : 0
  role_address    = "aws_iam_role.this[0]"
  addon           = "aws-mountpoint-s3-csi-driver"
  flag            = "attach_mountpoint_s3_csi_policy"
  namespace       = "kube-system"
  service_account = "s3-csi-driver-sa"
}

output "arn" { value = try(aws_iam_role.this[0].arn, null) }
output "name" { value = try(aws_iam_role.this[0].name, null) }
output "path" { value = try(aws_iam_role.this[0].path, null) }
