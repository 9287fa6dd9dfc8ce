//! IRSA032 role-not-attached: an IRSA role's trust admits exactly one ServiceAccount, the scan
//! defines that ServiceAccount, and nothing gives it the role: no role-arn annotation, no Pod
//! Identity association, no `AWS_ROLE_ARN` of its own. Its pods run without the role.
//!
//! Only provable when every ServiceAccount and every annotation source is visible: the rule is
//! silent when some ServiceAccounts are hidden, something may annotate them out of sight, or the
//! ServiceAccount's annotations are not all known. A ServiceAccount with a role-arn annotation
//! naming another role is IRSA003's and IRSA001's; a Helm release that sets the annotation where
//! its chart does not read it is IRSA026's.

use foldhash::{HashMap, HashMapExt, HashSet};

use crate::aws::policy::{Operator, allows_web_identity, eks_principals, key_is, operator};
use crate::aws::subject::{SUBJECT_PREFIX, impossible};
use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::value::{Str, Tri};
use crate::facts::{
    Annotation, Effect, Origin, ROLE_ARN_KEY, Role, RoleId, RoleName, SaId, ServiceAccount,
    Spanned, charts,
};
use crate::link::LintContext;
use crate::rules::{RuleMeta, irsa013_annotation_key_typo};

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA032",
    name: "role-not-attached",
    default_level: Level::Note,
    summary: "a role trusts exactly one defined ServiceAccount, which has no role-arn annotation",
    doc: include_str!("../../rules/IRSA032.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    let facts = ctx.facts;
    if facts.hidden_service_accounts || facts.hidden_annotations {
        return;
    }
    let mut defined: HashMap<(&str, &str), Vec<(SaId, &ServiceAccount)>> = HashMap::new();
    for (id, sa) in facts.service_accounts_with_ids() {
        defined
            .entry((sa.namespace.value.as_str(), sa.name.value.as_str()))
            .or_default()
            .push((id, sa));
    }
    // A role a ServiceAccount's annotation names is attached; whether it admits that one is
    // IRSA003's question.
    let used: HashSet<RoleId> = ctx
        .sa_links
        .iter()
        .flat_map(|l| l.roles.iter().copied())
        .collect();
    for (role_id, role) in ctx.irsa_roles() {
        if used.contains(&role_id) {
            continue;
        }
        let Some((subject, namespace, name)) = only_subject(role) else {
            continue;
        };
        // A subject no manifest defines is IRSA015's.
        let Some(definitions) = defined.get(&(namespace.as_str(), name.as_str())) else {
            continue;
        };
        let unattached = definitions.iter().all(|(_, sa)| {
            sa.annotations_known && !tries_role_arn(&sa.annotations) && !annotated_by_chart(ctx, sa)
        });
        if !unattached
            || has_pod_identity(ctx, &namespace, &name)
            || workload_wires_role(ctx, &namespace, &name)
        {
            continue;
        }
        let (sa_id, sa) = definitions[0];
        let arn = role_arn(ctx, role_id, role);
        let d = Diagnostic::new(
            &RULE,
            Label::new(sa.name.span, "no eks.amazonaws.com/role-arn annotation"),
            format!(
                "role {} trusts only service account {}, which has no eks.amazonaws.com/role-arn annotation, so its pods run without the role",
                role_label(role),
                sa.qualified_name()
            ),
        )
        .related(subject.span, format!("role {} trusts {}", role_label(role), subject.value.display()))
        .help(help(ctx, sa, role, arn.as_ref()))
        .rendered(&sa.rendered)
        .in_module(&role.module)
        .about_service_account(sa_id)
        .about_role(role_id);
        out.push(d);
    }
}

/// The one ServiceAccount a role's trust admits: every statement that may allow the web
/// identity action is an Allow for EKS OIDC providers with one `:sub` condition naming
/// exactly one valid subject, the same in each. Returns the value and the namespace and name.
fn only_subject(role: &Role) -> Option<(&Spanned<Str>, String, String)> {
    let trust = role.trust.as_ref()?;
    if !trust.complete {
        return None;
    }
    let mut found: Option<(&Spanned<Str>, String)> = None;
    for s in &trust.statements {
        if s.effect == Some(Effect::Deny) || allows_web_identity(s) == Tri::No {
            continue;
        }
        let federated = s.federated.as_ref()?;
        if s.effect != Some(Effect::Allow)
            || allows_web_identity(s) != Tri::Yes
            || federated.is_empty()
            || eks_principals(s).count() != federated.len()
        {
            return None;
        }
        let subs: Vec<_> = s
            .conditions
            .as_ref()?
            .iter()
            .filter(|c| key_is(&c.key.value, "sub") && operator(&c.operator.value).is_some())
            .collect();
        let [condition] = subs.as_slice() else {
            return None;
        };
        let op = operator(&condition.operator.value)?;
        let [value] = condition.values.as_deref()? else {
            return None;
        };
        let text = value.value.as_known()?;
        if text.contains(['*', '?', '$']) || impossible(op, &value.value).is_some() {
            return None;
        }
        let subject = match op {
            Operator::EqualsIgnoreCase => text.to_ascii_lowercase(),
            _ => text.to_string(),
        };
        match &found {
            Some((_, earlier)) if *earlier != subject => return None,
            Some(_) => {}
            None => found = Some((value, subject)),
        }
    }
    let (value, subject) = found?;
    let (namespace, name) = subject.strip_prefix(SUBJECT_PREFIX)?.split_once(':')?;
    Some((value, namespace.to_string(), name.to_string()))
}

/// The role-arn annotation, or a near miss of its key (IRSA013's finding).
fn tries_role_arn(annotations: &[Annotation]) -> bool {
    annotations.iter().any(|a| {
        a.key.value == ROLE_ARN_KEY
            || irsa013_annotation_key_typo::intended_key(&a.key.value) == Some(ROLE_ARN_KEY)
    })
}

/// A ServiceAccount a Helm release makes, whose release sets the role-arn annotation under some
/// values key (IRSA026 reports it when the chart does not read that key).
fn annotated_by_chart(ctx: &LintContext, sa: &ServiceAccount) -> bool {
    ctx.facts
        .helm_releases
        .iter()
        .any(|r| r.span == sa.span && !r.annotation_settings.is_empty())
}

fn has_pod_identity(ctx: &LintContext, namespace: &str, name: &str) -> bool {
    ctx.facts
        .pod_identities
        .iter()
        .any(|a| a.namespace.value == namespace && a.service_account.value == name)
}

/// A workload that may run as the ServiceAccount and wires a role itself: `AWS_ROLE_ARN` in
/// its own `env` (without the webhook), or the role-arn annotation (or a near miss of it) on
/// the workload, which IRSA021 and IRSA013 report.
fn workload_wires_role(ctx: &LintContext, namespace: &str, name: &str) -> bool {
    ctx.facts.workloads.iter().any(|w| {
        let runs_as = w.service_account_name().is_none_or(|n| n == name)
            && w.namespace.as_ref().is_none_or(|n| n.value == namespace);
        runs_as
            && (w.env.iter().any(|e| e.value == "AWS_ROLE_ARN") || tries_role_arn(&w.annotations))
    })
}

fn role_label(role: &Role) -> String {
    match &role.name {
        RoleName::Exact(name) => name.display(),
        RoleName::Prefix(prefix) => format!("{}<random suffix>", prefix.display()),
        RoleName::Unknown => role.address.clone(),
    }
}

/// The role's ARN, when its name and path are known; `exact` when its account is too.
fn role_arn(ctx: &LintContext, id: RoleId, role: &Role) -> Option<(String, bool)> {
    let RoleName::Exact(name) = &role.name else {
        return None;
    };
    let name = name.as_known()?;
    let path = role.path.as_ref()?.as_known()?;
    let account = ctx.role_account(id);
    let partition = ctx
        .role_partition(role)
        .unwrap_or_else(|| "aws".to_string());
    Some((
        format!(
            "arn:{partition}:iam::{}:role{path}{name}",
            account.unwrap_or("<account>")
        ),
        account.is_some(),
    ))
}

/// Where to add the annotation, in the form the ServiceAccount is written in.
fn help(
    ctx: &LintContext,
    sa: &ServiceAccount,
    role: &Role,
    arn: Option<&(String, bool)>,
) -> String {
    // Terraform refers to a role of the root module by its address.
    let reference = (role.module.is_empty() && !role.address.contains(':'))
        .then(|| format!("{}.arn", role.address));
    let release = ctx
        .facts
        .helm_releases
        .iter()
        .find(|r| r.span == sa.span)
        .and_then(|r| charts::find(&r.chart));
    // In Terraform, a reference rather than a typed ARN.
    let terraform_value = match (&reference, arn) {
        (Some(reference), _) => reference.clone(),
        (None, _) if role.module.starts_with("module.") => {
            format!("the role ARN output of {}", role.module)
        }
        (None, Some((arn, _))) => format!("\"{arn}\""),
        (None, None) => "the role's ARN".to_string(),
    };
    let values_key = sa.role_arn_values_key.clone().or_else(|| {
        release.map(|chart| format!("{}.eks\\.amazonaws\\.com/role-arn", chart.annotations_key()))
    });
    match (sa.origin, values_key) {
        (Origin::Terraform, Some(key)) => {
            format!("set {key} = {terraform_value} in the release's values")
        }
        (Origin::Terraform, None) => format!(
            "add \"{ROLE_ARN_KEY}\" = {terraform_value} to the service account's annotations"
        ),
        (Origin::Manifest, _) => match arn {
            Some((arn, _)) => format!("annotate the service account with {ROLE_ARN_KEY}: {arn}"),
            None => format!("annotate the service account with {ROLE_ARN_KEY} and the role's ARN"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::tester::{OIDC_PROVIDER_TF, Tester, irsa_role, service_account};

    const PLAIN_SA: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ledger-api\n  namespace: payments\n";

    fn project(sa: &str) -> Tester {
        Tester::new(&RULE)
            .file("infra/eks.tf", OIDC_PROVIDER_TF)
            .file(
                "infra/iam.tf",
                &irsa_role("payments-ledger-api", "payments", "ledger-api"),
            )
            .file("k8s/sa.yaml", sa)
    }

    #[test]
    fn a_trusted_service_account_without_the_annotation_is_noted() {
        let tester = project(PLAIN_SA);
        assert_eq!(tester.findings().len(), 1);
        insta::assert_snapshot!(tester.rendered());
    }

    #[test]
    fn silent_when_the_service_account_has_a_role_arn_annotation() {
        let arn = "arn:aws:iam::482910375521:role/";
        project(&service_account(
            "payments",
            "ledger-api",
            &format!("{arn}payments-ledger-api"),
        ))
        .assert_none();
        // Another role: IRSA001 or IRSA003 compare them.
        project(&service_account(
            "payments",
            "ledger-api",
            &format!("{arn}ledger"),
        ))
        .assert_none();
        // A misspelt key: IRSA013's.
        project(&format!(
            "{PLAIN_SA}  annotations:\n    eks.amazonaws.com/rolearn: {arn}payments-ledger-api\n"
        ))
        .assert_none();
    }

    #[test]
    fn silent_when_the_annotations_cannot_all_be_read() {
        Tester::new(&RULE)
            .file("infra/eks.tf", OIDC_PROVIDER_TF)
            .file(
                "infra/iam.tf",
                &irsa_role("payments-ledger-api", "payments", "ledger-api"),
            )
            .file(
                "k8s/sa.yaml.tpl",
                &format!("{PLAIN_SA}  annotations: ${{SA_ANNOTATIONS}}\n"),
            )
            .assert_none();
        let terraform_sa = r#"variable "annotations" {}
resource "kubernetes_service_account_v1" "ledger_api" {
  metadata {
    name        = "ledger-api"
    namespace   = "payments"
    annotations = var.annotations
  }
}
"#;
        Tester::new(&RULE)
            .file("infra/eks.tf", OIDC_PROVIDER_TF)
            .file(
                "infra/iam.tf",
                &irsa_role("payments-ledger-api", "payments", "ledger-api"),
            )
            .file("infra/sa.tf", terraform_sa)
            .assert_none();
    }

    #[test]
    fn silent_when_something_else_may_attach_the_role() {
        let annotate = r#"resource "kubernetes_annotations" "ledger_api" {
  api_version = "v1"
  kind        = "ServiceAccount"
  metadata {
    name      = "ledger-api"
    namespace = "payments"
  }
  annotations = { "eks.amazonaws.com/role-arn" = aws_iam_role.payments_ledger_api.arn }
}
"#;
        project(PLAIN_SA)
            .file("infra/annotate.tf", annotate)
            .assert_none();
        let pod_identity = r#"resource "aws_eks_pod_identity_association" "ledger_api" {
  cluster_name    = "payments-prod"
  namespace       = "payments"
  service_account = "ledger-api"
  role_arn        = "arn:aws:iam::482910375521:role/ledger-pod-identity"
}
"#;
        project(PLAIN_SA)
            .file("infra/pod-identity.tf", pod_identity)
            .assert_none();
        let own_env = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ledger-api\n  namespace: payments\nspec:\n  serviceAccountName: ledger-api\n  containers:\n    - name: api\n      image: ledger:1\n      env:\n        - name: AWS_ROLE_ARN\n          value: arn:aws:iam::482910375521:role/payments-ledger-api\n";
        project(PLAIN_SA)
            .file("k8s/pod.yaml", own_env)
            .assert_none();
        // A chart irsa-lint does not know may define the same ServiceAccount, annotated.
        let unknown_chart = r#"resource "helm_release" "ledger" {
  name       = "ledger"
  chart      = "oci://registry.example.com/charts/ledger"
  namespace  = "payments"
}
"#;
        project(PLAIN_SA)
            .file("infra/helm.tf", unknown_chart)
            .assert_none();
    }

    #[test]
    fn silent_unless_the_trust_admits_exactly_one_service_account() {
        let two = irsa_role("payments-ledger-api", "payments", "ledger-api").replace(
            "\"system:serviceaccount:payments:ledger-api\"",
            "[\"system:serviceaccount:payments:ledger-api\", \"system:serviceaccount:payments:ledger-worker\"]",
        );
        project(PLAIN_SA).file("infra/iam.tf", &two).assert_none();
        let glob = irsa_role("payments-ledger-api", "payments", "ledger-api")
            .replace("StringEquals", "StringLike")
            .replace("payments:ledger-api", "payments:*");
        project(PLAIN_SA).file("infra/iam.tf", &glob).assert_none();
    }
}
