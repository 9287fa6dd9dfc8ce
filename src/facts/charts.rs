//! What irsa-lint knows about Helm charts that run with an IRSA role: where each chart reads
//! its ServiceAccount's name and annotations, and what the name is by default.
//!
//! This is data: to teach irsa-lint a chart, add an entry.

/// How a chart names the ServiceAccount it creates when no name is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultName {
    /// The chart's fullname, as `helm create` templates it: `fullnameOverride`, else the
    /// release name when it contains the chart name (or `nameOverride`), else
    /// `<release>-<chart>`.
    Fullname,
    /// A fixed name.
    Fixed(&'static str),
    /// Templated in a way irsa-lint does not follow: unknown unless set.
    Unknown,
}

#[derive(Debug)]
pub struct Chart {
    pub name: &'static str,
    /// The values key of the `serviceAccount` block, e.g. `rbac.serviceAccount`.
    pub service_account: &'static str,
    pub default_name: DefaultName,
    /// Values keys of the chart's other `serviceAccount` blocks (a node DaemonSet's), whose
    /// annotations it also reads. Their ServiceAccounts are not modelled.
    pub other_service_accounts: &'static [&'static str],
}

impl Chart {
    pub fn annotations_key(&self) -> String {
        format!("{}.annotations", self.service_account)
    }

    /// Whether the chart reads annotations under this values key (`x.annotations`): its
    /// ServiceAccount's, or one of its other ServiceAccounts'.
    pub fn reads_annotations_at(&self, key: &str) -> bool {
        std::iter::once(self.service_account)
            .chain(self.other_service_accounts.iter().copied())
            .any(|sa| key == format!("{sa}.annotations"))
    }
}

pub const CHARTS: &[Chart] = &[
    Chart {
        name: "aws-ebs-csi-driver",
        service_account: "controller.serviceAccount",
        default_name: DefaultName::Fixed("ebs-csi-controller-sa"),
        other_service_accounts: &["node.serviceAccount"],
    },
    Chart {
        name: "aws-efs-csi-driver",
        service_account: "controller.serviceAccount",
        default_name: DefaultName::Fixed("efs-csi-controller-sa"),
        other_service_accounts: &["node.serviceAccount"],
    },
    Chart {
        name: "aws-for-fluent-bit",
        service_account: "serviceAccount",
        default_name: DefaultName::Fullname,
        other_service_accounts: &[],
    },
    Chart {
        name: "aws-load-balancer-controller",
        service_account: "serviceAccount",
        default_name: DefaultName::Fullname,
        other_service_accounts: &[],
    },
    Chart {
        name: "cert-manager",
        service_account: "serviceAccount",
        default_name: DefaultName::Fullname,
        other_service_accounts: &[],
    },
    Chart {
        name: "cluster-autoscaler",
        service_account: "rbac.serviceAccount",
        default_name: DefaultName::Unknown,
        other_service_accounts: &[],
    },
    Chart {
        name: "external-dns",
        service_account: "serviceAccount",
        default_name: DefaultName::Fullname,
        other_service_accounts: &[],
    },
    Chart {
        name: "external-secrets",
        service_account: "serviceAccount",
        default_name: DefaultName::Fullname,
        other_service_accounts: &[],
    },
    Chart {
        name: "karpenter",
        service_account: "serviceAccount",
        default_name: DefaultName::Fullname,
        other_service_accounts: &[],
    },
];

/// The chart of a `chart` argument: `name`, `repo/name`, an OCI or HTTP URL, or a path.
pub fn find(chart: &str) -> Option<&'static Chart> {
    let name = chart.trim_end_matches('/').rsplit('/').next()?;
    let name = name.split(".tgz").next()?;
    // `name-1.2.3` archives
    CHARTS.iter().find(|c| {
        name == c.name
            || name
                .strip_prefix(c.name)
                .is_some_and(|v| v.starts_with("-"))
    })
}

/// The fullname `helm create` templates produce.
pub fn fullname(
    release: &str,
    chart: &str,
    name_override: Option<&str>,
    fullname_override: Option<&str>,
) -> String {
    if let Some(f) = fullname_override.filter(|f| !f.is_empty()) {
        return truncate(f);
    }
    let name = name_override.filter(|n| !n.is_empty()).unwrap_or(chart);
    if release.contains(name) {
        truncate(release)
    } else {
        truncate(&format!("{release}-{name}"))
    }
}

/// Kubernetes names are cut at 63 characters and lose a trailing `-`.
fn truncate(s: &str) -> String {
    let cut: String = s.chars().take(63).collect();
    cut.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_found_however_the_chart_argument_is_written() {
        assert_eq!(
            find("aws-load-balancer-controller").unwrap().name,
            "aws-load-balancer-controller"
        );
        assert_eq!(
            find("eks/aws-load-balancer-controller").unwrap().name,
            "aws-load-balancer-controller"
        );
        assert_eq!(
            find("oci://public.ecr.aws/karpenter/karpenter")
                .unwrap()
                .name,
            "karpenter"
        );
        assert_eq!(find("../charts/external-dns").unwrap().name, "external-dns");
        assert!(find("nginx").is_none());
    }

    #[test]
    fn csi_charts_read_their_node_service_account_annotations_too() {
        let efs = find("aws-efs-csi-driver").unwrap();
        assert!(efs.reads_annotations_at("controller.serviceAccount.annotations"));
        assert!(efs.reads_annotations_at("node.serviceAccount.annotations"));
        assert!(!efs.reads_annotations_at("serviceAccount.annotations"));
        assert!(
            !find("external-dns")
                .unwrap()
                .reads_annotations_at("node.serviceAccount.annotations")
        );
    }

    #[test]
    fn fullname_follows_helm_create() {
        assert_eq!(
            fullname(
                "aws-load-balancer-controller",
                "aws-load-balancer-controller",
                None,
                None
            ),
            "aws-load-balancer-controller"
        );
        assert_eq!(
            fullname("alb", "aws-load-balancer-controller", None, None),
            "alb-aws-load-balancer-controller"
        );
        assert_eq!(fullname("x", "external-dns", None, Some("dns")), "dns");
    }
}
