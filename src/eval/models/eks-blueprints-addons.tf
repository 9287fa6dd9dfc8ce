# irsa-lint model: aws-ia/eks-blueprints-addons/aws
# majors: 1-1
#
# The add-ons of this module that run with an IRSA role: for each enabled one, a role that
# trusts the add-on's ServiceAccount and the ServiceAccount its chart creates with the role's
# ARN. Names and namespaces default as the module documents, and follow the add-on's
# `namespace`, `service_account_name`, `role_name` and `role_name_use_prefix` settings.

variable "oidc_provider_arn" { default = null }
variable "cluster_name" { default = null }
variable "cert_manager_route53_hosted_zone_arns" { default = [] }
variable "enable_aws_load_balancer_controller" { default = false }
variable "aws_load_balancer_controller" { default = {} }
variable "enable_external_dns" { default = false }
variable "external_dns" { default = {} }
variable "enable_cluster_autoscaler" { default = false }
variable "cluster_autoscaler" { default = {} }
variable "enable_cert_manager" { default = false }
variable "cert_manager" { default = {} }
variable "enable_external_secrets" { default = false }
variable "external_secrets" { default = {} }
variable "enable_karpenter" { default = false }
variable "karpenter" { default = {} }
variable "enable_aws_efs_csi_driver" { default = false }
variable "aws_efs_csi_driver" { default = {} }
variable "enable_aws_for_fluentbit" { default = false }
variable "aws_for_fluentbit" { default = {} }

locals {
  oidc_issuer = element(split("oidc-provider/", var.oidc_provider_arn), 1)

  # Each add-on: whether it is enabled, its settings, and the module's documented defaults.
  addons = {
    aws_load_balancer_controller = {
      enabled         = var.enable_aws_load_balancer_controller
      create_role     = var.enable_aws_load_balancer_controller && try(var.aws_load_balancer_controller.create_role, true)
      namespace       = try(var.aws_load_balancer_controller.namespace, "kube-system")
      service_account = try(var.aws_load_balancer_controller.service_account_name, "aws-load-balancer-controller-sa")
      role_name       = try(var.aws_load_balancer_controller.role_name, "alb-controller")
      use_prefix      = try(var.aws_load_balancer_controller.role_name_use_prefix, true)
      role_path       = try(var.aws_load_balancer_controller.role_path, null)
    }
    external_dns = {
      enabled         = var.enable_external_dns
      create_role     = var.enable_external_dns && try(var.external_dns.create_role, true)
      namespace       = try(var.external_dns.namespace, "external-dns")
      service_account = try(var.external_dns.service_account_name, "external-dns-sa")
      role_name       = try(var.external_dns.role_name, "external-dns")
      use_prefix      = try(var.external_dns.role_name_use_prefix, true)
      role_path       = try(var.external_dns.role_path, null)
    }
    cluster_autoscaler = {
      enabled         = var.enable_cluster_autoscaler
      create_role     = var.enable_cluster_autoscaler && try(var.cluster_autoscaler.create_role, true)
      namespace       = try(var.cluster_autoscaler.namespace, "kube-system")
      service_account = try(var.cluster_autoscaler.service_account_name, "cluster-autoscaler-sa")
      role_name       = try(var.cluster_autoscaler.role_name, "cluster-autoscaler")
      use_prefix      = try(var.cluster_autoscaler.role_name_use_prefix, true)
      role_path       = try(var.cluster_autoscaler.role_path, null)
    }
    cert_manager = {
      enabled         = var.enable_cert_manager
      create_role     = var.enable_cert_manager && length(var.cert_manager_route53_hosted_zone_arns) > 0 && try(var.cert_manager.create_role, true)
      namespace       = try(var.cert_manager.namespace, "cert-manager")
      service_account = try(var.cert_manager.service_account_name, "cert-manager")
      role_name       = try(var.cert_manager.role_name, "cert-manager")
      use_prefix      = try(var.cert_manager.role_name_use_prefix, true)
      role_path       = try(var.cert_manager.role_path, null)
    }
    external_secrets = {
      enabled         = var.enable_external_secrets
      create_role     = var.enable_external_secrets && try(var.external_secrets.create_role, true)
      namespace       = try(var.external_secrets.namespace, "external-secrets")
      service_account = try(var.external_secrets.service_account_name, "external-secrets-sa")
      role_name       = try(var.external_secrets.role_name, "external-secrets")
      use_prefix      = try(var.external_secrets.role_name_use_prefix, true)
      role_path       = try(var.external_secrets.role_path, null)
    }
    karpenter = {
      enabled         = var.enable_karpenter
      create_role     = var.enable_karpenter && try(var.karpenter.create_role, true)
      namespace       = try(var.karpenter.namespace, "karpenter")
      service_account = try(var.karpenter.service_account_name, "karpenter")
      role_name       = try(var.karpenter.role_name, "karpenter")
      use_prefix      = try(var.karpenter.role_name_use_prefix, true)
      role_path       = try(var.karpenter.role_path, null)
    }
    aws_efs_csi_driver = {
      enabled         = var.enable_aws_efs_csi_driver
      create_role     = var.enable_aws_efs_csi_driver && try(var.aws_efs_csi_driver.create_role, true)
      namespace       = try(var.aws_efs_csi_driver.namespace, "kube-system")
      service_account = try(var.aws_efs_csi_driver.service_account_name, "efs-csi-controller-sa")
      role_name       = try(var.aws_efs_csi_driver.role_name, "aws-efs-csi-driver")
      use_prefix      = try(var.aws_efs_csi_driver.role_name_use_prefix, true)
      role_path       = try(var.aws_efs_csi_driver.role_path, null)
    }
    aws_for_fluentbit = {
      enabled         = var.enable_aws_for_fluentbit
      create_role     = var.enable_aws_for_fluentbit && try(var.aws_for_fluentbit.create_role, true)
      namespace       = try(var.aws_for_fluentbit.namespace, "kube-system")
      service_account = try(var.aws_for_fluentbit.service_account_name, "aws-for-fluent-bit-sa")
      role_name       = try(var.aws_for_fluentbit.role_name, "aws-for-fluent-bit")
      use_prefix      = try(var.aws_for_fluentbit.role_name_use_prefix, true)
      role_path       = try(var.aws_for_fluentbit.role_path, null)
    }
  }
}

resource "aws_iam_role" "addon" {
  for_each = { for name, addon in local.addons : name => addon if addon.create_role }

  name        = each.value.use_prefix ? null : each.value.role_name
  name_prefix = each.value.use_prefix ? "${each.value.role_name}-" : null
  path        = each.value.role_path
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = var.oidc_provider_arn }
      Condition = {
        StringEquals = {
          "${local.oidc_issuer}:sub" = "system:serviceaccount:${each.value.namespace}:${each.value.service_account}"
          "${local.oidc_issuer}:aud" = "sts.amazonaws.com"
        }
      }
    }]
  })
}

resource "kubernetes_service_account_v1" "addon" {
  for_each = { for name, addon in local.addons : name => addon if addon.enabled }

  metadata {
    name      = each.value.service_account
    namespace = each.value.namespace
    annotations = {
      "eks.amazonaws.com/role-arn" = try(aws_iam_role.addon[each.key].arn, null)
    }
  }
}
