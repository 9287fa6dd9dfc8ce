# irsa-lint model: terraform-aws-modules/eks-pod-identity/aws
# majors: 1-2
#
# One role trusting the EKS Pod Identity service, associated with the ServiceAccounts in
# `associations` (each may override `association_defaults`).

variable "create" { default = true }
variable "name" { default = "" }
variable "use_name_prefix" { default = true }
variable "path" { default = null }
variable "associations" { default = {} }
variable "association_defaults" { default = {} }

data "aws_iam_policy_document" "assume" {
  count = var.create ? 1 : 0

  statement {
    sid     = "AllowEksAuthToAssumeRoleForPodIdentity"
    actions = ["sts:AssumeRole", "sts:TagSession"]

    principals {
      type        = "Service"
      identifiers = ["pods.eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  count = var.create ? 1 : 0

  name               = var.use_name_prefix ? null : var.name
  name_prefix        = var.use_name_prefix ? "${var.name}-" : null
  path               = var.path
  assume_role_policy = data.aws_iam_policy_document.assume[0].json
}

resource "aws_eks_pod_identity_association" "this" {
  for_each = { for k, v in var.associations : k => merge(var.association_defaults, v) if var.create }

  cluster_name    = each.value.cluster_name
  namespace       = each.value.namespace
  service_account = each.value.service_account
  role_arn        = try(each.value.role_arn, aws_iam_role.this[0].arn)
}

output "iam_role_arn" { value = try(aws_iam_role.this[0].arn, null) }
output "iam_role_name" { value = try(aws_iam_role.this[0].name, null) }
