//! The chart data's worked examples, one unit test each, and how charts are found.

use super::data::DATA;
use super::*;
use crate::eval::value::Value;
use crate::facts::kubernetes::split_key;
use crate::source::{FileId, Span};

/// Evaluate one `examples` entry of `charts.json` and compare every ServiceAccount's name.
fn check_example(id: &str, index: usize) {
    let entry = DATA
        .charts
        .iter()
        .position(|c| c.id == id)
        .unwrap_or_else(|| panic!("no chart {id} in the data"));
    let chart = &CHARTS[entry];
    let example = &DATA.charts[entry].examples[index];
    let version = match &example.version {
        Some(v) => Version::Given(v.clone()),
        None => Version::Latest,
    };
    let eras = chart
        .eras(&version)
        .unwrap_or_else(|| panic!("{id} example {index}: no era for {version:?}"));
    let mut values = Values::default();
    let span = Span::file_start(FileId(0));
    for (path, v) in &example.values {
        let value = match v {
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::String(s) => Value::str(s.clone()),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or_default()),
            serde_json::Value::Null => Value::Null,
            other => panic!("{id} example {index}: value {other}"),
        };
        values.set(split_key(path), value, span);
    }
    let namespace = example.namespace.as_deref().unwrap_or("default");
    let found = service_accounts(eras, &example.release, namespace, None, &values);
    for (sa, expected) in &example.expect {
        let got = found
            .iter()
            .find(|f| f.id == sa)
            .unwrap_or_else(|| panic!("{id} example {index}: no ServiceAccount {sa}"));
        assert_eq!(
            got.name.as_ref().map(|n| n.text.as_str()),
            expected.as_deref(),
            "{id} example {index} (release {}), ServiceAccount {sa}",
            example.release
        );
    }
}

macro_rules! examples {
    ($($test:ident: $chart:literal, $index:literal;)*) => {
        $(
            #[test]
            fn $test() {
                check_example($chart, $index);
            }
        )*

        /// Every example of the data has its test above.
        #[test]
        fn every_example_of_the_data_has_a_test() {
            let listed: Vec<(&str, usize)> = vec![$(($chart, $index)),*];
            for chart in &DATA.charts {
                for index in 0..chart.examples.len() {
                    assert!(
                        listed.contains(&(chart.id.as_str(), index)),
                        "charts.json example {index} of {} has no test in charts/tests.rs",
                        chart.id
                    );
                }
            }
        }
    };
}

examples! {
    aws_load_balancer_controller_0: "aws-load-balancer-controller", 0;
    aws_load_balancer_controller_1: "aws-load-balancer-controller", 1;
    aws_load_balancer_controller_2: "aws-load-balancer-controller", 2;
    aws_load_balancer_controller_3: "aws-load-balancer-controller", 3;
    cluster_autoscaler_0: "cluster-autoscaler", 0;
    cluster_autoscaler_1: "cluster-autoscaler", 1;
    cluster_autoscaler_2: "cluster-autoscaler", 2;
    cluster_autoscaler_3: "cluster-autoscaler", 3;
    cluster_autoscaler_4: "cluster-autoscaler", 4;
    cluster_autoscaler_5: "cluster-autoscaler", 5;
    external_dns_0: "external-dns", 0;
    external_dns_1: "external-dns", 1;
    external_dns_bitnami_0: "external-dns-bitnami", 0;
    external_secrets_0: "external-secrets", 0;
    external_secrets_1: "external-secrets", 1;
    cert_manager_0: "cert-manager", 0;
    cert_manager_1: "cert-manager", 1;
    cert_manager_2: "cert-manager", 2;
    cert_manager_3: "cert-manager", 3;
    cert_manager_4: "cert-manager", 4;
    karpenter_0: "karpenter", 0;
    karpenter_1: "karpenter", 1;
    aws_ebs_csi_driver_0: "aws-ebs-csi-driver", 0;
    aws_ebs_csi_driver_1: "aws-ebs-csi-driver", 1;
    aws_efs_csi_driver_0: "aws-efs-csi-driver", 0;
    aws_efs_csi_driver_1: "aws-efs-csi-driver", 1;
    aws_efs_csi_driver_2: "aws-efs-csi-driver", 2;
    kube_prometheus_stack_0: "kube-prometheus-stack", 0;
    kube_prometheus_stack_1: "kube-prometheus-stack", 1;
    kube_prometheus_stack_2: "kube-prometheus-stack", 2;
    kube_prometheus_stack_3: "kube-prometheus-stack", 3;
    kube_prometheus_stack_4: "kube-prometheus-stack", 4;
    prometheus_operator_0: "prometheus-operator", 0;
    prometheus_operator_1: "prometheus-operator", 1;
    prometheus_cloudwatch_exporter_0: "prometheus-cloudwatch-exporter", 0;
    grafana_0: "grafana", 0;
    grafana_1: "grafana", 1;
    tempo_0: "tempo", 0;
    tempo_1: "tempo", 1;
    tempo_distributed_0: "tempo-distributed", 0;
    loki_0: "loki", 0;
    loki_1: "loki", 1;
    mimir_distributed_0: "mimir-distributed", 0;
    mimir_distributed_1: "mimir-distributed", 1;
    fluent_bit_0: "fluent-bit", 0;
    fluent_bit_1: "fluent-bit", 1;
    aws_for_fluent_bit_0: "aws-for-fluent-bit", 0;
    aws_for_fluent_bit_1: "aws-for-fluent-bit", 1;
    aws_node_termination_handler_0: "aws-node-termination-handler", 0;
    aws_cloudwatch_metrics_0: "aws-cloudwatch-metrics", 0;
    velero_0: "velero", 0;
    velero_1: "velero", 1;
    keda_0: "keda", 0;
    argo_workflows_0: "argo-workflows", 0;
    argo_workflows_1: "argo-workflows", 1;
    argo_cd_0: "argo-cd", 0;
    argo_cd_1: "argo-cd", 1;
    ingress_nginx_0: "ingress-nginx", 0;
    ingress_nginx_1: "ingress-nginx", 1;
    amazon_cloudwatch_observability_0: "amazon-cloudwatch-observability", 0;
    spark_operator_0: "spark-operator", 0;
    spark_operator_1: "spark-operator", 1;
    airflow_0: "airflow", 0;
    airflow_1: "airflow", 1;
    thanos_0: "thanos", 0;
    thanos_1: "thanos", 1;
    flyte_core_0: "flyte-core", 0;
}

#[test]
fn charts_are_found_however_the_chart_argument_is_written() {
    let name = |c: &str| find(c).map(|c| c.id());
    assert_eq!(
        name("aws-load-balancer-controller"),
        Some("aws-load-balancer-controller")
    );
    assert_eq!(
        name("eks/aws-load-balancer-controller"),
        Some("aws-load-balancer-controller")
    );
    assert_eq!(
        name("oci://public.ecr.aws/karpenter/karpenter"),
        Some("karpenter")
    );
    assert_eq!(name("../charts/external-dns"), Some("external-dns"));
    assert_eq!(name("external-dns-1.14.3.tgz"), Some("external-dns"));
    assert_eq!(name("nginx"), None);
    // Other charts whose names start with a known one's.
    assert_eq!(name("karpenter-crd"), None);
    assert_eq!(name("cert-manager-csi-driver"), None);
    assert_eq!(name("aws-load-balancer-controller-crds.tgz"), None);
}

#[test]
fn the_repository_tells_apart_two_charts_of_one_name() {
    let id = |c: &str, r: Option<&str>| find_in(c, r).map(|c| c.id());
    assert_eq!(id("external-dns", None), Some("external-dns"));
    assert_eq!(
        id("bitnami/external-dns", None),
        Some("external-dns-bitnami")
    );
    assert_eq!(
        id("external-dns", Some("https://charts.bitnami.com/bitnami/")),
        Some("external-dns-bitnami")
    );
    assert_eq!(
        id(
            "external-dns",
            Some("oci://registry-1.docker.io/bitnamicharts")
        ),
        Some("external-dns-bitnami")
    );
    assert_eq!(
        id(
            "external-dns",
            Some("https://kubernetes-sigs.github.io/external-dns")
        ),
        Some("external-dns")
    );
    assert_eq!(
        id("karpenter", Some("oci://public.ecr.aws/karpenter")),
        Some("karpenter")
    );
    // Argo CD writes OCI repositories without a scheme.
    assert_eq!(
        id("karpenter", Some("public.ecr.aws/karpenter")),
        Some("karpenter")
    );
    // The community Airflow chart is not Apache's.
    assert_eq!(
        id("airflow", Some("https://airflow-helm.github.io/charts")),
        None
    );
}

#[test]
fn csi_charts_read_their_node_service_account_annotations_too() {
    let efs = find("aws-efs-csi-driver").unwrap();
    assert!(efs.reads_annotations_at("controller.serviceAccount.annotations"));
    assert!(efs.reads_annotations_at("node.serviceAccount.annotations"));
    assert!(!efs.reads_annotations_at("serviceAccount.annotations"));
    assert_eq!(efs.service_account, "controller.serviceAccount");
    assert_eq!(efs.other_service_accounts, ["node.serviceAccount"]);
}

#[test]
fn a_version_picks_its_era_and_a_range_every_era_it_spans() {
    let kps = find("kube-prometheus-stack").unwrap();
    let span = |v: &str| {
        let e = kps.eras(&Version::Given(v.into())).unwrap();
        (e.first, e.last)
    };
    assert_eq!(span("45.7.1"), (0, 0));
    assert_eq!(span("v56.6.2"), (1, 1));
    assert_eq!(span("~56.6"), (0, 1));
    assert_eq!(span(">=71.0.0"), (2, 2));
    assert_eq!(span("*"), (0, 2));
    // Published before the data's first era: unknown.
    let efs = find("aws-efs-csi-driver").unwrap();
    assert!(efs.eras(&Version::Given("1.1.1".into())).is_none());
}

#[test]
fn names_known_only_where_every_era_agrees() {
    let efs = find("aws-efs-csi-driver").unwrap();
    let values = Values::default();
    let names = |version: Version| {
        let eras = efs.eras(&version).unwrap();
        service_accounts(eras, "aws-efs-csi-driver", "kube-system", None, &values)
            .into_iter()
            .map(|sa| (sa.id, sa.name.map(|n| n.text)))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(Version::Given("3.1.5".into())),
        [
            ("controller", Some("efs-csi-controller-sa".to_string())),
            ("node", Some("efs-csi-node-sa".to_string()))
        ]
    );
    // 2.0.0 to 2.1.3 name the controller after the release and have no node ServiceAccount.
    assert_eq!(
        names(Version::Unknown),
        [("controller", None), ("node", None)]
    );
    assert_eq!(
        names(Version::Given(">=2.2.0".into())),
        [
            ("controller", Some("efs-csi-controller-sa".to_string())),
            ("node", Some("efs-csi-node-sa".to_string()))
        ]
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

#[test]
fn the_snapshot_date_is_known() {
    let date = snapshot_date().unwrap();
    assert_eq!(date.len(), 10, "{date}");
}
