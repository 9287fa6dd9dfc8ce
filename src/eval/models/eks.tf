# irsa-lint model: terraform-aws-modules/eks/aws
# majors: 17-21
#
# The cluster and, with `enable_irsa` (the default), its IAM OIDC provider. The outputs IRSA
# code reads are symbolic values tied to this module instance's cluster.

variable "cluster_name" { default = null }
variable "name" { default = null }
variable "enable_irsa" { default = true }
variable "create" { default = true }
variable "create_cluster" { default = true }
# EKS add-ons (`cluster_addons` before v21, `addons` since): each runs as the ServiceAccount
# EKS creates for it, given `service_account_role_arn` or Pod Identity associations.
variable "cluster_addons" { default = {} }
variable "addons" { default = {} }

locals {
  # v21 renamed `cluster_name` to `name`.
  name   = coalesce(var.name, var.cluster_name)
  create = var.create && var.create_cluster
}

resource "aws_eks_cluster" "this" {
  count = local.create ? 1 : 0
  name  = local.name
}

resource "aws_iam_openid_connect_provider" "oidc_provider" {
  count = local.create && var.enable_irsa ? 1 : 0

  # The module adds `sts.<dns suffix>` of the partition, which is only known after apply.
  client_id_list = ["sts.${data.aws_partition.current.dns_suffix}"]
  url            = aws_eks_cluster.this[0].identity[0].oidc[0].issuer
}

data "aws_partition" "current" {}

resource "aws_eks_addon" "this" {
  for_each = local.create ? merge(var.cluster_addons, var.addons) : {}

  addon_name               = try(each.value.name, each.key)
  service_account_role_arn = try(each.value.service_account_role_arn, null)

  dynamic "pod_identity_association" {
    for_each = try(each.value.pod_identity_association, [])
    content {
      role_arn        = pod_identity_association.value.role_arn
      service_account = pod_identity_association.value.service_account
    }
  }
}

output "cluster_name" { value = try(aws_eks_cluster.this[0].name, "") }
output "cluster_id" { value = try(aws_eks_cluster.this[0].id, "") }
output "cluster_oidc_issuer_url" { value = try(aws_eks_cluster.this[0].identity[0].oidc[0].issuer, null) }
output "oidc_provider" { value = try(replace(aws_eks_cluster.this[0].identity[0].oidc[0].issuer, "https://", ""), null) }
output "oidc_provider_arn" { value = try(aws_iam_openid_connect_provider.oidc_provider[0].arn, null) }
