//! EKS add-ons run as ServiceAccounts the add-on itself creates: what irsa-lint knows of each
//! add-on that takes an IAM role (by IRSA, `service_account_role_arn`, or by Pod Identity),
//! and the ServiceAccount facts an add-on resource implies.
//!
//! This is data: to teach irsa-lint an add-on, add a row. An add-on not listed here still
//! creates ServiceAccounts, out of sight: the tree's ServiceAccounts are then not all known.

use crate::source::{Span, Spanned};

use super::{Annotation, Facts, ROLE_ARN_KEY, ServiceAccount};

/// An add-on and the ServiceAccount that assumes the role it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addon {
    /// The add-on's name as EKS knows it (`aws eks describe-addon-versions`).
    pub name: &'static str,
    pub namespace: &'static str,
    pub service_account: &'static str,
}

/// The AWS add-ons that use an IAM role, with the ServiceAccount their documentation tells
/// to trust.
pub const ADDONS: &[Addon] = &[
    addon("vpc-cni", "kube-system", "aws-node"),
    addon("aws-ebs-csi-driver", "kube-system", "ebs-csi-controller-sa"),
    addon("aws-efs-csi-driver", "kube-system", "efs-csi-controller-sa"),
    addon("aws-fsx-csi-driver", "kube-system", "fsx-csi-controller-sa"),
    addon(
        "aws-mountpoint-s3-csi-driver",
        "kube-system",
        "s3-csi-driver-sa",
    ),
    addon(
        "amazon-cloudwatch-observability",
        "amazon-cloudwatch",
        "cloudwatch-agent",
    ),
];

const fn addon(
    name: &'static str,
    namespace: &'static str,
    service_account: &'static str,
) -> Addon {
    Addon {
        name,
        namespace,
        service_account,
    }
}

/// The add-on of this name.
pub fn find(name: &str) -> Option<&'static Addon> {
    ADDONS.iter().find(|a| a.name == name)
}

/// Add-ons that take no IAM role of their own: their ServiceAccounts never matter to IRSA.
const ROLELESS: &[&str] = &[
    "coredns",
    "kube-proxy",
    "eks-pod-identity-agent",
    "snapshot-controller",
    "eks-node-monitoring-agent",
    "metrics-server",
];

/// What an add-on given as `name` means for the facts: a ServiceAccount (with the role given
/// to the add-on as its role-arn annotation, spanned where the user wrote it), nothing for a
/// role-less add-on, or ServiceAccounts out of sight for an add-on not listed.
/// The version an add-on's ServiceAccount runs, when both are known.
pub fn version(
    addon: Option<&Spanned<String>>,
    version: Option<&Spanned<String>>,
) -> Option<super::AddonVersion> {
    Some(super::AddonVersion {
        addon: addon?.value.clone(),
        version: version?.clone(),
    })
}

pub fn service_account(
    name: Option<&Spanned<String>>,
    at: Span,
    role_arn: Option<Spanned<crate::eval::value::Str>>,
    created_by: &str,
    unit: &str,
    facts: &mut Facts,
) {
    let Some(name) = name else {
        facts.hidden_service_accounts = true;
        return;
    };
    if ROLELESS.contains(&name.value.as_str()) {
        return;
    }
    let Some(addon) = find(&name.value) else {
        facts.hidden_service_accounts = true;
        return;
    };
    let annotations = role_arn
        .map(|value| Annotation {
            key: Spanned::new(ROLE_ARN_KEY.to_string(), value.span),
            value: Some(value),
        })
        .into_iter()
        .collect();
    let mut sa = ServiceAccount::terraform(
        at,
        Spanned::new(addon.service_account.to_string(), name.span),
        Some(Spanned::new(addon.namespace.to_string(), name.span)),
        annotations,
        unit,
    );
    sa.fixed = true;
    sa.rendered.push(format!(
        "{}/{} is created by the EKS add-on {} ({created_by}); its name and namespace are fixed",
        addon.namespace, addon.service_account, addon.name
    ));
    facts.service_accounts.push(sa);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::irsa003_trust_subject_mismatch::RULE as TRUST_SUBJECT_MISMATCH;
    use crate::rules::tester::{OIDC_PROVIDER_TF, Tester, irsa_role};

    const CLUSTER_CONFIG: &str = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\n\
        metadata:\n  name: payments-prod\n  region: eu-west-1\naddons:\n  \
        - name: aws-ebs-csi-driver\n    \
        serviceAccountRoleARN: arn:aws:iam::482910375521:role/payments-ebs-csi\n";

    /// An eksctl add-on given an existing role runs as the add-on's ServiceAccount, which
    /// the role's trust must admit.
    #[test]
    fn an_eksctl_addon_role_must_trust_the_addons_service_account() {
        let with_trust = |service_account: &str| {
            Tester::new(&TRUST_SUBJECT_MISMATCH)
                .file("infra/eks.tf", OIDC_PROVIDER_TF)
                .file(
                    "infra/ebs.tf",
                    &irsa_role("payments-ebs-csi", "kube-system", service_account),
                )
                .file("eksctl/cluster.yaml", CLUSTER_CONFIG)
        };
        let findings = with_trust("aws-ebs-csi-driver").findings();
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0]
                .message
                .contains("kube-system/ebs-csi-controller-sa")
        );
        with_trust("ebs-csi-controller-sa").assert_none();
    }

    #[test]
    fn add_ons_are_found_by_their_eks_name() {
        assert_eq!(
            find("aws-ebs-csi-driver").map(|a| a.service_account),
            Some("ebs-csi-controller-sa")
        );
        assert_eq!(find("vpc-cni").map(|a| a.namespace), Some("kube-system"));
        assert!(find("coredns").is_none());
    }
}
