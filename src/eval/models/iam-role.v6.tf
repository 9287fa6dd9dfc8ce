# irsa-lint model: terraform-aws-modules/iam/aws//modules/iam-role
# majors: 6-6
#
# The generic v6 role; with `enable_oidc` it trusts the providers in `oidc_provider_urls`
# for `oidc_subjects` (StringEquals) and `oidc_wildcard_subjects` (StringLike).

variable "create" { default = true }
variable "name" { default = null }
variable "use_name_prefix" { default = true }
variable "path" { default = null }
variable "enable_oidc" { default = false }
variable "oidc_provider_urls" { default = [] }
variable "oidc_account_id" { default = null }
variable "oidc_subjects" { default = [] }
variable "oidc_wildcard_subjects" { default = [] }
variable "oidc_audiences" { default = [] }
# Trust of other principals is not modelled: a role with it is not complete.
variable "trust_policy_permissions" { default = {} }
variable "enable_github_oidc" { default = false }
variable "enable_bitbucket_oidc" { default = false }

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  oidc_providers = [for url in var.oidc_provider_urls : replace(url, "https://", "")]
  account_id     = coalesce(var.oidc_account_id, data.aws_caller_identity.current.account_id)
}

data "aws_iam_policy_document" "this" {
  count = var.create ? 1 : 0
  # Other trust (services, accounts, GitHub) is merged in by the real module.
  source_policy_documents = length(var.trust_policy_permissions) > 0 || var.enable_github_oidc || var.enable_bitbucket_oidc ? ["unmodelled"] : null

  dynamic "statement" {
    for_each = var.enable_oidc ? local.oidc_providers : []

    content {
      effect  = "Allow"
      actions = ["sts:TagSession", "sts:AssumeRoleWithWebIdentity"]

      principals {
        type        = "Federated"
        identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.account_id}:oidc-provider/${statement.value}"]
      }

      dynamic "condition" {
        for_each = length(var.oidc_subjects) > 0 ? [statement.value] : []
        content {
          test     = "StringEquals"
          variable = "${condition.value}:sub"
          values   = var.oidc_subjects
        }
      }

      dynamic "condition" {
        for_each = length(var.oidc_wildcard_subjects) > 0 ? [statement.value] : []
        content {
          test     = "StringLike"
          variable = "${condition.value}:sub"
          values   = var.oidc_wildcard_subjects
        }
      }

      dynamic "condition" {
        for_each = length(var.oidc_audiences) > 0 ? [statement.value] : []
        content {
          test     = "StringEquals"
          variable = "${condition.value}:aud"
          values   = var.oidc_audiences
        }
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

output "arn" { value = try(aws_iam_role.this[0].arn, null) }
output "name" { value = try(aws_iam_role.this[0].name, null) }
