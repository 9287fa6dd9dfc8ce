# irsa-lint model: aws-ia/eks-blueprints-addons/aws
# majors: 1-1
#
# The add-ons of this module that run with an IRSA role: for each enabled one, a role that
# trusts the add-on's ServiceAccount and the ServiceAccount its chart creates with the role's
# ARN. Names and namespaces default as the module documents, and follow the add-on's
# `namespace`, `service_account_name`, `role_name` and `role_name_use_prefix` settings.

variable "oidc_provider_arn" { default = null }
variable "cluster_name" { default = null }

locals {
  oidc_issuer = element(split("oidc-provider/", var.oidc_provider_arn), 1)
}
variable "cert_manager_route53_hosted_zone_arns" { default = [] }

# aws_load_balancer_controller
variable "enable_aws_load_balancer_controller" { default = false }
variable "aws_load_balancer_controller" { default = {} }

locals {
  aws_load_balancer_controller_namespace       = try(var.aws_load_balancer_controller.namespace, "kube-system")
  aws_load_balancer_controller_service_account = try(var.aws_load_balancer_controller.service_account_name, "aws-load-balancer-controller-sa")
  aws_load_balancer_controller_role_name       = try(var.aws_load_balancer_controller.role_name, "alb-controller")
  aws_load_balancer_controller_create_role     = var.enable_aws_load_balancer_controller && try(var.aws_load_balancer_controller.create_role, true)
}

resource "aws_iam_role" "aws_load_balancer_controller" {
  count = local.aws_load_balancer_controller_create_role ? 1 : 0

  name        = try(var.aws_load_balancer_controller.role_name_use_prefix, true) ? null : local.aws_load_balancer_controller_role_name
  name_prefix = try(var.aws_load_balancer_controller.role_name_use_prefix, true) ? "${local.aws_load_balancer_controller_role_name}-" : null
  path        = try(var.aws_load_balancer_controller.role_path, null)
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = var.oidc_provider_arn }
      Condition = {
        StringEquals = {
          "${local.oidc_issuer}:sub" = "system:serviceaccount:${local.aws_load_balancer_controller_namespace}:${local.aws_load_balancer_controller_service_account}"
          "${local.oidc_issuer}:aud" = "sts.amazonaws.com"
        }
      }
    }]
  })
}

resource "kubernetes_service_account_v1" "aws_load_balancer_controller" {
  count = var.enable_aws_load_balancer_controller ? 1 : 0

  metadata {
    name      = local.aws_load_balancer_controller_service_account
    namespace = local.aws_load_balancer_controller_namespace
    annotations = {
      "eks.amazonaws.com/role-arn" = try(aws_iam_role.aws_load_balancer_controller[0].arn, null)
    }
  }
}

# external_dns
variable "enable_external_dns" { default = false }
variable "external_dns" { default = {} }

locals {
  external_dns_namespace       = try(var.external_dns.namespace, "external-dns")
  external_dns_service_account = try(var.external_dns.service_account_name, "external-dns-sa")
  external_dns_role_name       = try(var.external_dns.role_name, "external-dns")
  external_dns_create_role     = var.enable_external_dns && try(var.external_dns.create_role, true)
}

resource "aws_iam_role" "external_dns" {
  count = local.external_dns_create_role ? 1 : 0

  name        = try(var.external_dns.role_name_use_prefix, true) ? null : local.external_dns_role_name
  name_prefix = try(var.external_dns.role_name_use_prefix, true) ? "${local.external_dns_role_name}-" : null
  path        = try(var.external_dns.role_path, null)
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = var.oidc_provider_arn }
      Condition = {
        StringEquals = {
          "${local.oidc_issuer}:sub" = "system:serviceaccount:${local.external_dns_namespace}:${local.external_dns_service_account}"
          "${local.oidc_issuer}:aud" = "sts.amazonaws.com"
        }
      }
    }]
  })
}

resource "kubernetes_service_account_v1" "external_dns" {
  count = var.enable_external_dns ? 1 : 0

  metadata {
    name      = local.external_dns_service_account
    namespace = local.external_dns_namespace
    annotations = {
      "eks.amazonaws.com/role-arn" = try(aws_iam_role.external_dns[0].arn, null)
    }
  }
}

# cluster_autoscaler
variable "enable_cluster_autoscaler" { default = false }
variable "cluster_autoscaler" { default = {} }

locals {
  cluster_autoscaler_namespace       = try(var.cluster_autoscaler.namespace, "kube-system")
  cluster_autoscaler_service_account = try(var.cluster_autoscaler.service_account_name, "cluster-autoscaler-sa")
  cluster_autoscaler_role_name       = try(var.cluster_autoscaler.role_name, "cluster-autoscaler")
  cluster_autoscaler_create_role     = var.enable_cluster_autoscaler && try(var.cluster_autoscaler.create_role, true)
}

resource "aws_iam_role" "cluster_autoscaler" {
  count = local.cluster_autoscaler_create_role ? 1 : 0

  name        = try(var.cluster_autoscaler.role_name_use_prefix, true) ? null : local.cluster_autoscaler_role_name
  name_prefix = try(var.cluster_autoscaler.role_name_use_prefix, true) ? "${local.cluster_autoscaler_role_name}-" : null
  path        = try(var.cluster_autoscaler.role_path, null)
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = var.oidc_provider_arn }
      Condition = {
        StringEquals = {
          "${local.oidc_issuer}:sub" = "system:serviceaccount:${local.cluster_autoscaler_namespace}:${local.cluster_autoscaler_service_account}"
          "${local.oidc_issuer}:aud" = "sts.amazonaws.com"
        }
      }
    }]
  })
}

resource "kubernetes_service_account_v1" "cluster_autoscaler" {
  count = var.enable_cluster_autoscaler ? 1 : 0

  metadata {
    name      = local.cluster_autoscaler_service_account
    namespace = local.cluster_autoscaler_namespace
    annotations = {
      "eks.amazonaws.com/role-arn" = try(aws_iam_role.cluster_autoscaler[0].arn, null)
    }
  }
}

# cert_manager
variable "enable_cert_manager" { default = false }
variable "cert_manager" { default = {} }

locals {
  cert_manager_namespace       = try(var.cert_manager.namespace, "cert-manager")
  cert_manager_service_account = try(var.cert_manager.service_account_name, "cert-manager")
  cert_manager_role_name       = try(var.cert_manager.role_name, "cert-manager")
  cert_manager_create_role     = var.enable_cert_manager && length(var.cert_manager_route53_hosted_zone_arns) > 0 && try(var.cert_manager.create_role, true)
}

resource "aws_iam_role" "cert_manager" {
  count = local.cert_manager_create_role ? 1 : 0

  name        = try(var.cert_manager.role_name_use_prefix, true) ? null : local.cert_manager_role_name
  name_prefix = try(var.cert_manager.role_name_use_prefix, true) ? "${local.cert_manager_role_name}-" : null
  path        = try(var.cert_manager.role_path, null)
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = var.oidc_provider_arn }
      Condition = {
        StringEquals = {
          "${local.oidc_issuer}:sub" = "system:serviceaccount:${local.cert_manager_namespace}:${local.cert_manager_service_account}"
          "${local.oidc_issuer}:aud" = "sts.amazonaws.com"
        }
      }
    }]
  })
}

resource "kubernetes_service_account_v1" "cert_manager" {
  count = var.enable_cert_manager ? 1 : 0

  metadata {
    name      = local.cert_manager_service_account
    namespace = local.cert_manager_namespace
    annotations = {
      "eks.amazonaws.com/role-arn" = try(aws_iam_role.cert_manager[0].arn, null)
    }
  }
}

# external_secrets
variable "enable_external_secrets" { default = false }
variable "external_secrets" { default = {} }

locals {
  external_secrets_namespace       = try(var.external_secrets.namespace, "external-secrets")
  external_secrets_service_account = try(var.external_secrets.service_account_name, "external-secrets-sa")
  external_secrets_role_name       = try(var.external_secrets.role_name, "external-secrets")
  external_secrets_create_role     = var.enable_external_secrets && try(var.external_secrets.create_role, true)
}

resource "aws_iam_role" "external_secrets" {
  count = local.external_secrets_create_role ? 1 : 0

  name        = try(var.external_secrets.role_name_use_prefix, true) ? null : local.external_secrets_role_name
  name_prefix = try(var.external_secrets.role_name_use_prefix, true) ? "${local.external_secrets_role_name}-" : null
  path        = try(var.external_secrets.role_path, null)
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = var.oidc_provider_arn }
      Condition = {
        StringEquals = {
          "${local.oidc_issuer}:sub" = "system:serviceaccount:${local.external_secrets_namespace}:${local.external_secrets_service_account}"
          "${local.oidc_issuer}:aud" = "sts.amazonaws.com"
        }
      }
    }]
  })
}

resource "kubernetes_service_account_v1" "external_secrets" {
  count = var.enable_external_secrets ? 1 : 0

  metadata {
    name      = local.external_secrets_service_account
    namespace = local.external_secrets_namespace
    annotations = {
      "eks.amazonaws.com/role-arn" = try(aws_iam_role.external_secrets[0].arn, null)
    }
  }
}

# karpenter
variable "enable_karpenter" { default = false }
variable "karpenter" { default = {} }

locals {
  karpenter_namespace       = try(var.karpenter.namespace, "karpenter")
  karpenter_service_account = try(var.karpenter.service_account_name, "karpenter")
  karpenter_role_name       = try(var.karpenter.role_name, "karpenter")
  karpenter_create_role     = var.enable_karpenter && try(var.karpenter.create_role, true)
}

resource "aws_iam_role" "karpenter" {
  count = local.karpenter_create_role ? 1 : 0

  name        = try(var.karpenter.role_name_use_prefix, true) ? null : local.karpenter_role_name
  name_prefix = try(var.karpenter.role_name_use_prefix, true) ? "${local.karpenter_role_name}-" : null
  path        = try(var.karpenter.role_path, null)
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = var.oidc_provider_arn }
      Condition = {
        StringEquals = {
          "${local.oidc_issuer}:sub" = "system:serviceaccount:${local.karpenter_namespace}:${local.karpenter_service_account}"
          "${local.oidc_issuer}:aud" = "sts.amazonaws.com"
        }
      }
    }]
  })
}

resource "kubernetes_service_account_v1" "karpenter" {
  count = var.enable_karpenter ? 1 : 0

  metadata {
    name      = local.karpenter_service_account
    namespace = local.karpenter_namespace
    annotations = {
      "eks.amazonaws.com/role-arn" = try(aws_iam_role.karpenter[0].arn, null)
    }
  }
}

# aws_efs_csi_driver
variable "enable_aws_efs_csi_driver" { default = false }
variable "aws_efs_csi_driver" { default = {} }

locals {
  aws_efs_csi_driver_namespace       = try(var.aws_efs_csi_driver.namespace, "kube-system")
  aws_efs_csi_driver_service_account = try(var.aws_efs_csi_driver.service_account_name, "efs-csi-controller-sa")
  aws_efs_csi_driver_role_name       = try(var.aws_efs_csi_driver.role_name, "aws-efs-csi-driver")
  aws_efs_csi_driver_create_role     = var.enable_aws_efs_csi_driver && try(var.aws_efs_csi_driver.create_role, true)
}

resource "aws_iam_role" "aws_efs_csi_driver" {
  count = local.aws_efs_csi_driver_create_role ? 1 : 0

  name        = try(var.aws_efs_csi_driver.role_name_use_prefix, true) ? null : local.aws_efs_csi_driver_role_name
  name_prefix = try(var.aws_efs_csi_driver.role_name_use_prefix, true) ? "${local.aws_efs_csi_driver_role_name}-" : null
  path        = try(var.aws_efs_csi_driver.role_path, null)
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = var.oidc_provider_arn }
      Condition = {
        StringEquals = {
          "${local.oidc_issuer}:sub" = "system:serviceaccount:${local.aws_efs_csi_driver_namespace}:${local.aws_efs_csi_driver_service_account}"
          "${local.oidc_issuer}:aud" = "sts.amazonaws.com"
        }
      }
    }]
  })
}

resource "kubernetes_service_account_v1" "aws_efs_csi_driver" {
  count = var.enable_aws_efs_csi_driver ? 1 : 0

  metadata {
    name      = local.aws_efs_csi_driver_service_account
    namespace = local.aws_efs_csi_driver_namespace
    annotations = {
      "eks.amazonaws.com/role-arn" = try(aws_iam_role.aws_efs_csi_driver[0].arn, null)
    }
  }
}

# aws_for_fluentbit
variable "enable_aws_for_fluentbit" { default = false }
variable "aws_for_fluentbit" { default = {} }

locals {
  aws_for_fluentbit_namespace       = try(var.aws_for_fluentbit.namespace, "kube-system")
  aws_for_fluentbit_service_account = try(var.aws_for_fluentbit.service_account_name, "aws-for-fluent-bit-sa")
  aws_for_fluentbit_role_name       = try(var.aws_for_fluentbit.role_name, "aws-for-fluent-bit")
  aws_for_fluentbit_create_role     = var.enable_aws_for_fluentbit && try(var.aws_for_fluentbit.create_role, true)
}

resource "aws_iam_role" "aws_for_fluentbit" {
  count = local.aws_for_fluentbit_create_role ? 1 : 0

  name        = try(var.aws_for_fluentbit.role_name_use_prefix, true) ? null : local.aws_for_fluentbit_role_name
  name_prefix = try(var.aws_for_fluentbit.role_name_use_prefix, true) ? "${local.aws_for_fluentbit_role_name}-" : null
  path        = try(var.aws_for_fluentbit.role_path, null)
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = var.oidc_provider_arn }
      Condition = {
        StringEquals = {
          "${local.oidc_issuer}:sub" = "system:serviceaccount:${local.aws_for_fluentbit_namespace}:${local.aws_for_fluentbit_service_account}"
          "${local.oidc_issuer}:aud" = "sts.amazonaws.com"
        }
      }
    }]
  })
}

resource "kubernetes_service_account_v1" "aws_for_fluentbit" {
  count = var.enable_aws_for_fluentbit ? 1 : 0

  metadata {
    name      = local.aws_for_fluentbit_service_account
    namespace = local.aws_for_fluentbit_namespace
    annotations = {
      "eks.amazonaws.com/role-arn" = try(aws_iam_role.aws_for_fluentbit[0].arn, null)
    }
  }
}
