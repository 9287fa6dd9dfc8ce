# irsa-lint model: terraform-aws-modules/iam/aws//modules/iam-assumable-role-with-oidc
# majors: 2-3
#
# The module as v2 (from 2.6) and v3 document it: one role trusting the providers in
# `provider_url(s)` for the listed subjects, with outputs still named `this_iam_role_*` (v4
# dropped the prefix). There is no audience input before v4.
#
# Before 3.7 the module wrote every provider into one statement, so with two or more
# provider URLs each token also had to satisfy the other providers' `:sub` conditions. The
# model writes one statement per provider, as 3.7 and later do: it never admits less than
# the real role, so a role it admits a ServiceAccount for is never reported.

variable "create_role" { default = false }
variable "role_name" { default = null }
variable "role_name_prefix" { default = null }
variable "role_path" { default = "/" }
variable "provider_url" { default = "" }
variable "provider_urls" { default = [] }
variable "aws_account_id" { default = "" }
variable "oidc_fully_qualified_subjects" { default = [] }
variable "oidc_subjects_with_wildcards" { default = [] }

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = var.aws_account_id != "" ? var.aws_account_id : data.aws_caller_identity.current.account_id
  urls = [
    for url in compact(distinct(concat(var.provider_urls, [var.provider_url]))) :
    replace(url, "https://", "")
  ]
}

data "aws_iam_policy_document" "assume_role_with_oidc" {
  count = var.create_role ? 1 : 0

  dynamic "statement" {
    for_each = local.urls

    content {
      effect  = "Allow"
      actions = ["sts:AssumeRoleWithWebIdentity"]

      principals {
        type        = "Federated"
        identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.account_id}:oidc-provider/${statement.value}"]
      }

      dynamic "condition" {
        for_each = length(var.oidc_fully_qualified_subjects) > 0 ? [statement.value] : []
        content {
          test     = "StringEquals"
          variable = "${condition.value}:sub"
          values   = var.oidc_fully_qualified_subjects
        }
      }

      dynamic "condition" {
        for_each = length(var.oidc_subjects_with_wildcards) > 0 ? [statement.value] : []
        content {
          test     = "StringLike"
          variable = "${condition.value}:sub"
          values   = var.oidc_subjects_with_wildcards
        }
      }
    }
  }
}

resource "aws_iam_role" "this" {
  count = var.create_role ? 1 : 0

  name               = var.role_name
  name_prefix        = var.role_name_prefix
  path               = var.role_path
  assume_role_policy = data.aws_iam_policy_document.assume_role_with_oidc[0].json
}

output "this_iam_role_arn" { value = try(aws_iam_role.this[0].arn, "") }
output "this_iam_role_name" { value = try(aws_iam_role.this[0].name, "") }
output "this_iam_role_path" { value = try(aws_iam_role.this[0].path, "") }
