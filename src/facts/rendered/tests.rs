//! Rendered YAML read with its holes as the values they stand for.

use super::*;
use crate::eval::value::{Str, Symbol};

const HEREDOC: Span = Span {
    file: FileId(3),
    start: 40,
    end: 90,
};

/// `text` with `${role}` standing for a role ARN known only after apply and `${unknown}` for
/// a value that cannot be evaluated.
fn rendering(text: &str) -> Rendered {
    let mut s = Str::default();
    let mut rest = text;
    loop {
        let next = [("${role}", 0), ("${unknown}", 1)]
            .into_iter()
            .filter_map(|(p, kind)| rest.find(p).map(|at| (at, p, kind)))
            .min();
        let Some((at, written, kind)) = next else {
            break;
        };
        s.push_str(&rest[..at]);
        if kind == 0 {
            s.push_str("arn:aws:iam::");
            s.push_sym(Symbol::Account);
            s.push_str(":role/");
            s.push_sym(Symbol::RoleName("aws_iam_role.ledger".into()));
        } else {
            s.push_sym(Symbol::Unknown);
        }
        rest = &rest[at + written.len()..];
    }
    s.push_str(rest);
    Rendered::of_str(&s, HEREDOC).unwrap()
}

#[test]
fn values_keep_their_structure_and_the_role_its_symbols() {
    let r = rendering(
        "serviceAccount:\n  create: true\n  annotations:\n    eks.amazonaws.com/role-arn: ${role}\n",
    );
    let read = values(&r, HEREDOC).unwrap();
    let arn = read
        .value
        .get_attr("serviceAccount")
        .get_attr("annotations")
        .get_attr("eks.amazonaws.com/role-arn");
    let arn = arn.as_str().unwrap();
    assert!(
        arn.parts()
            .contains(&crate::eval::value::Part::Sym(Symbol::Account))
    );
    assert!(
        arn.display()
            .ends_with(":role/<name of aws_iam_role.ledger>")
    );
    assert_eq!(
        read.value.get_attr("serviceAccount").get_attr("create"),
        Value::Bool(true)
    );
}

#[test]
fn an_unknown_value_stays_unknown_and_an_unknown_key_hides_every_key() {
    let r = rendering("serviceAccount:\n  name: ${unknown}\n");
    let read = values(&r, HEREDOC).unwrap();
    assert_eq!(
        read.value.get_attr("serviceAccount").get_attr("name"),
        Value::Unknown
    );
    assert!(values(&rendering("${unknown}: ledger\n"), HEREDOC).is_none());
    assert!(values(&rendering("a: [\n"), HEREDOC).is_none());
}

#[test]
fn a_rendered_service_account_keeps_its_role_and_hides_when_a_key_is_a_hole() {
    let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ledger\n  namespace: payments\n  annotations:\n    eks.amazonaws.com/role-arn: ${role}\n";
    let facts = manifests(&rendering(sa), "infra", HEREDOC);
    let sa_fact = &facts.service_accounts[0];
    assert_eq!(sa_fact.qualified_name(), "payments/ledger");
    assert_eq!(sa_fact.name.span, HEREDOC);
    let arn = &sa_fact.annotation("eks.amazonaws.com/role-arn").unwrap();
    assert!(
        arn.value
            .as_ref()
            .unwrap()
            .value
            .parts()
            .contains(&crate::eval::value::Part::Sym(Symbol::Account))
    );
    let hidden = manifests(
        &rendering(&sa.replace("namespace: payments", "${unknown}: payments")),
        "infra",
        HEREDOC,
    );
    assert!(hidden.service_accounts.is_empty() && hidden.hidden_service_accounts);
    let unknown_name = manifests(
        &rendering(&sa.replace("name: ledger", "name: ${unknown}")),
        "infra",
        HEREDOC,
    );
    assert!(unknown_name.service_accounts.is_empty());
    assert!(unknown_name.hidden_service_accounts);
}

const APPLICATION: &str = "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: cluster-autoscaler
  namespace: argocd
spec:
  source:
    repoURL: https://kubernetes.github.io/autoscaler
    chart: cluster-autoscaler
    targetRevision: 9.43.2
    helm:
      values: |
        rbac:
          serviceAccount:
            name: cluster-autoscaler
            annotations:
              eks.amazonaws.com/role-arn: ${role}
  destination:
    server: https://kubernetes.default.svc
    namespace: kube-system
";

#[test]
fn a_rendered_application_installs_its_chart_with_the_role_kept_symbolic() {
    let facts = applications(&rendering(APPLICATION), "infra", HEREDOC, "the call");
    assert!(!facts.hidden_service_accounts);
    let sa = &facts.service_accounts[0];
    assert_eq!(sa.qualified_name(), "kube-system/cluster-autoscaler");
    let arn = &sa.annotation("eks.amazonaws.com/role-arn").unwrap();
    let arn = &arn.value.as_ref().unwrap().value;
    assert!(
        arn.display()
            .ends_with(":role/<name of aws_iam_role.ledger>")
    );
}

#[test]
fn a_rendered_application_whose_namespace_is_unknown_hides_its_service_account() {
    let text = APPLICATION.replace("namespace: kube-system", "namespace: ${unknown}");
    let facts = applications(&rendering(&text), "infra", HEREDOC, "the call");
    assert!(facts.service_accounts.is_empty());
    assert!(facts.hidden_service_accounts);
}
