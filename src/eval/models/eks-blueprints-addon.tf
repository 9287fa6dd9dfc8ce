# irsa-lint model: aws-ia/eks-blueprints-addon/aws
# majors: 1-1
#
# One add-on: a Helm release of `chart` named `name` (else the chart) in `namespace` (else
# `default`), with `values`, `set` and `set_sensitive` as given, and, with `create_role`, an
# IRSA role whose ARN the module writes into every values key in `set_irsa_names`. The role
# is named `role_name` (else `name`), as a prefix unless `role_name_use_prefix` is false, and
# trusts, for each entry of `oidc_providers`, `system:serviceaccount:<namespace>:
# <service_account>` (the entry's `namespace`, else the release's). Statements added with
# `trust_policy_statements` are not modelled: such a role's trust is not complete. A
# `postrender` may change whatever the chart renders, ServiceAccounts included.

variable "create" { default = true }
variable "create_release" { default = true }
variable "name" { default = "" }
variable "namespace" { default = null }
variable "chart" { default = "" }
variable "values" { default = null }
variable "set" { default = [] }
variable "set_sensitive" { default = [] }
variable "set_irsa_names" { default = [] }
variable "postrender" { default = {} }
variable "create_role" { default = false }
variable "role_name" { default = null }
variable "role_name_use_prefix" { default = true }
variable "role_path" { default = "/" }
variable "oidc_providers" { default = {} }
variable "assume_role_condition_test" { default = "StringEquals" }
variable "trust_policy_statements" { default = null }

locals {
  namespace      = try(coalesce(var.namespace, "default"))
  create_release = var.create && var.create_release
  create_role    = var.create && var.create_role
  role_name      = try(coalesce(var.role_name, var.name), "")
  postrender     = var.postrender == null ? false : length(var.postrender) > 0
}

resource "helm_release" "this" {
  count = local.create_release ? 1 : 0

  name      = try(coalesce(var.name, var.chart), "")
  namespace = local.namespace
  # A post-renderer may change whatever the chart renders: the release's ServiceAccount is
  # then unknown.
  chart = local.postrender ? null : var.chart
  values    = var.values == null ? [] : var.values

  dynamic "set" {
    for_each = var.set

    content {
      name  = set.value.name
      value = set.value.value
    }
  }

  dynamic "set" {
    for_each = local.create_role ? var.set_irsa_names : []

    content {
      name  = set.value
      value = aws_iam_role.this[0].arn
    }
  }

  dynamic "set_sensitive" {
    for_each = var.set_sensitive

    content {
      name  = set_sensitive.value.name
      value = set_sensitive.value.value
    }
  }
}

data "aws_iam_policy_document" "assume" {
  count = local.create_role ? 1 : 0
  # The real module adds these statements to the trust.
  source_policy_documents = var.trust_policy_statements == null ? null : length(var.trust_policy_statements) > 0 ? ["unmodelled"] : null

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
        values   = ["system:serviceaccount:${try(statement.value.namespace, local.namespace)}:${statement.value.service_account}"]
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
  count = local.create_role ? 1 : 0

  name               = var.role_name_use_prefix ? null : local.role_name
  name_prefix        = var.role_name_use_prefix ? "${local.role_name}-" : null
  path               = var.role_path
  assume_role_policy = data.aws_iam_policy_document.assume[0].json
}

output "name" { value = local.create_release ? try(coalesce(var.name, var.chart), "") : null }
output "namespace" { value = local.create_release ? local.namespace : null }
output "chart" { value = local.create_release ? var.chart : null }
output "iam_role_arn" { value = try(aws_iam_role.this[0].arn, null) }
output "iam_role_name" { value = try(aws_iam_role.this[0].name, null) }
output "iam_role_path" { value = try(aws_iam_role.this[0].path, null) }
