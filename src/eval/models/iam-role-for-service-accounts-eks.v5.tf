# irsa-lint model: terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks
# majors: 4-5
#
# What the module is documented to do, written for irsa-lint's evaluator: one role whose
# trust policy admits `namespace_service_accounts` of each OIDC provider in `oidc_providers`.
#
# The module appeared in 4.12 and kept its inputs and outputs through v5 (v5 made
# `role_policy_arns` a map). `assume_role_condition_test` exists since 4.14 and the `:aud`
# condition since 4.22; the model writes the condition for every v4 release, since it admits
# the audience every IRSA token carries.

variable "create_role" { default = true }
variable "role_name" { default = null }
variable "role_name_prefix" { default = null }
variable "role_path" { default = "/" }
variable "oidc_providers" { default = {} }
variable "assume_role_condition_test" { default = "StringEquals" }
variable "attach_ebs_csi_policy" { default = false }
variable "attach_efs_csi_policy" { default = false }
variable "attach_vpc_cni_policy" { default = false }
variable "attach_mountpoint_s3_csi_policy" { default = false }

data "aws_iam_policy_document" "this" {
  count = var.create_role ? 1 : 0

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
        test     = var.assume_role_condition_test
        variable = "${element(split("oidc-provider/", statement.value.provider_arn), 1)}:sub"
        values   = [for sa in statement.value.namespace_service_accounts : "system:serviceaccount:${sa}"]
      }

      condition {
        test     = var.assume_role_condition_test
        variable = "${element(split("oidc-provider/", statement.value.provider_arn), 1)}:aud"
        values   = ["sts.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role" "this" {
  count = var.create_role ? 1 : 0

  name               = var.role_name
  name_prefix        = var.role_name_prefix
  path               = var.role_path
  assume_role_policy = data.aws_iam_policy_document.this[0].json
}

# The add-ons the policy flags are made for, and the ServiceAccount each runs as.
resource "irsa_lint_addon_role" "ebs_csi" {
  count           = var.create_role && var.attach_ebs_csi_policy ? 1 : 0
  role_address    = "aws_iam_role.this[0]"
  addon           = "aws-ebs-csi-driver"
  flag            = "attach_ebs_csi_policy"
  namespace       = "kube-system"
  service_account = "ebs-csi-controller-sa"
}

resource "irsa_lint_addon_role" "efs_csi" {
  count           = var.create_role && var.attach_efs_csi_policy ? 1 : 0
  role_address    = "aws_iam_role.this[0]"
  addon           = "aws-efs-csi-driver"
  flag            = "attach_efs_csi_policy"
  namespace       = "kube-system"
  service_account = "efs-csi-controller-sa"
}

resource "irsa_lint_addon_role" "vpc_cni" {
  count           = var.create_role && var.attach_vpc_cni_policy ? 1 : 0
  role_address    = "aws_iam_role.this[0]"
  addon           = "vpc-cni"
  flag            = "attach_vpc_cni_policy"
  namespace       = "kube-system"
  service_account = "aws-node"
}

resource "irsa_lint_addon_role" "mountpoint_s3_csi" {
  count           = var.create_role && var.attach_mountpoint_s3_csi_policy ? 1 : 0
  role_address    = "aws_iam_role.this[0]"
  addon           = "aws-mountpoint-s3-csi-driver"
  flag            = "attach_mountpoint_s3_csi_policy"
  namespace       = "kube-system"
  service_account = "s3-csi-driver-sa"
}

output "iam_role_arn" { value = try(aws_iam_role.this[0].arn, "") }
output "iam_role_name" { value = try(aws_iam_role.this[0].name, "") }
output "iam_role_path" { value = try(aws_iam_role.this[0].path, "") }
