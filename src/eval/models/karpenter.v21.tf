# irsa-lint model: terraform-aws-modules/eks/aws//modules/karpenter
# majors: 21-21
#
# The Karpenter submodule in v21 is for EKS Pod Identity only: one controller role, named as
# in v20, trusting `pods.eks.amazonaws.com`, and by default (`create_pod_identity_association`)
# associated with `namespace` / `service_account` (`kube-system` / `karpenter`). Trust added
# with `iam_role_source_assume_policy_documents` or `..._override_...` (how IRSA is kept in
# v21) is not modelled: such a role's trust is not complete. The node role and the
# interruption queue play no part in IRSA and are left out.

variable "create" { default = true }
variable "cluster_name" { default = "" }
variable "create_iam_role" { default = true }
variable "iam_role_name" { default = "KarpenterController" }
variable "iam_role_use_name_prefix" { default = true }
variable "iam_role_path" { default = "/" }
variable "iam_role_source_assume_policy_documents" { default = [] }
variable "iam_role_override_assume_policy_documents" { default = [] }
variable "create_pod_identity_association" { default = true }
variable "namespace" { default = "kube-system" }
variable "service_account" { default = "karpenter" }

locals {
  create_iam_role = var.create && var.create_iam_role
  more_trust      = length(coalesce(var.iam_role_source_assume_policy_documents, [])) + length(coalesce(var.iam_role_override_assume_policy_documents, [])) > 0
}

data "aws_iam_policy_document" "controller_assume_role" {
  count = local.create_iam_role ? 1 : 0
  # The real module merges these documents into the trust.
  source_policy_documents = local.more_trust ? ["unmodelled"] : null

  statement {
    sid     = "PodIdentity"
    actions = ["sts:AssumeRole", "sts:TagSession"]

    principals {
      type        = "Service"
      identifiers = ["pods.eks.amazonaws.com"]
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
  count = local.create_iam_role && var.create_pod_identity_association ? 1 : 0

  cluster_name    = var.cluster_name
  namespace       = var.namespace
  service_account = var.service_account
  role_arn        = aws_iam_role.controller[0].arn
}

output "iam_role_name" { value = try(aws_iam_role.controller[0].name, null) }
output "iam_role_arn" { value = try(aws_iam_role.controller[0].arn, null) }
output "namespace" { value = var.namespace }
output "service_account" { value = var.service_account }
