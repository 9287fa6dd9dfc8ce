//! AWS and EKS vocabulary, knowing nothing of Terraform or Kubernetes files: ARNs and
//! partitions (`arn`), IAM policy statements and how IAM evaluates their conditions for a
//! web identity token (`policy`), the annotation keys and principals of EKS (`eks`), and
//! which `sub` values a ServiceAccount token can carry (`subject`).

pub mod arn;
pub mod controllers;
pub mod eks;
pub mod policy;
pub mod subject;
