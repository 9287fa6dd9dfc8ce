//! IRSA031 impossible-trust-subject: a `:sub` condition value of an EKS trust statement that no
//! ServiceAccount token can ever carry: not `system:serviceaccount:<namespace>:<name>`, or a
//! namespace or name Kubernetes refuses; for `StringLike`, a pattern no such subject matches.
//!
//! Rules that compare subjects with ServiceAccounts (IRSA003, IRSA015, IRSA027) stay silent on
//! a value this rule reports: the subject is wrong whatever it is compared with.

use std::cell::OnceCell;

use crate::aws::arn::{is_eks_issuer, key_issuer};
use crate::aws::policy::{Operator, allows_web_identity, eks_principals, key_is, operator};
use crate::aws::subject::{Impossible, SUBJECT_PREFIX, impossible};
use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::value::{Str, Tri};
use crate::facts::{Condition, Effect, Role, Spanned, Statement};
use crate::link::LintContext;
use crate::rules::RuleMeta;
use crate::text::closest;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA031",
    name: "impossible-trust-subject",
    default_level: Level::Error,
    summary: "a trust policy's :sub value is no subject a ServiceAccount token can carry",
    doc: include_str!("../../rules/IRSA031.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    // Made for the first finding's help: a clean workspace has none.
    let defined: OnceCell<Vec<String>> = OnceCell::new();
    let defined = || {
        defined.get_or_init(|| {
            (ctx.facts.service_accounts.iter())
                .map(|sa| sa.subject())
                .collect()
        })
    };
    for (role_id, role) in ctx.facts.roles_with_ids() {
        for found in impossible_subjects(role) {
            let ImpossibleSubject {
                condition,
                value,
                problem,
            } = found;
            let shown = value.value.display();
            let pattern = operator(&condition.operator.value) == Some(Operator::Like)
                && shown.contains(['*', '?']);
            let message = if pattern {
                format!(
                    "{} pattern {shown} matches no service account token's subject: {}",
                    condition.operator.value, problem.reason
                )
            } else {
                format!(
                    "trust policy admits subject {shown}, which no service account token carries: {}",
                    problem.reason
                )
            };
            let label = if pattern {
                "matches no service account"
            } else {
                "no service account has this subject"
            };
            let mut d = Diagnostic::new(&RULE, Label::new(value.span, label), message).help(help(
                ctx,
                value,
                &problem,
                defined(),
            ));
            if let Some(rule) = problem.rule {
                d = d.note(rule);
            }
            out.push(d.in_module(&role.module).about_role(role_id));
        }
    }
}

/// A `:sub` value this rule reports, with its condition.
pub struct ImpossibleSubject<'r> {
    pub condition: &'r Condition,
    pub value: &'r Spanned<Str>,
    pub problem: Impossible,
}

/// The `:sub` values of a role's trust that no ServiceAccount token can carry: in Allow
/// statements for web identity, under a positive string operator, where the statement is
/// provably about Kubernetes ServiceAccounts (an EKS provider or issuer, or a value written
/// as a ServiceAccount subject).
pub fn impossible_subjects(role: &Role) -> Vec<ImpossibleSubject<'_>> {
    let mut out = Vec::new();
    let Some(trust) = &role.trust else {
        return out;
    };
    for s in &trust.statements {
        if s.effect != Some(Effect::Allow) || allows_web_identity(s) == Tri::No {
            continue;
        }
        for condition in s.conditions.iter().flatten() {
            if !key_is(&condition.key.value, "sub") {
                continue;
            }
            let Some(op) = operator(&condition.operator.value) else {
                continue;
            };
            for value in condition.values.iter().flatten() {
                if !is_kubernetes_subject(s, condition, &value.value) {
                    continue;
                }
                if let Some(problem) = impossible(op, &value.value) {
                    out.push(ImpossibleSubject {
                        condition,
                        value,
                        problem,
                    });
                }
            }
        }
    }
    out
}

/// Whether this rule reports a value of the role's trust (for the rules that stay silent on
/// it).
pub fn reports(role: &Role, value: &Spanned<Str>) -> bool {
    impossible_subjects(role)
        .iter()
        .any(|found| std::ptr::eq(found.value, value))
}

/// The statement trusts an EKS cluster's tokens (its principal or its condition key names
/// one), or the value was written for a ServiceAccount (`system:serviceaccount...`): a
/// `:sub` of another OIDC provider (GitHub, GitLab) has another shape and is left alone.
fn is_kubernetes_subject(s: &Statement, condition: &Condition, value: &Str) -> bool {
    key_issuer(&condition.key.value).is_some_and(|issuer| is_eks_issuer(&issuer))
        || eks_principals(s).next().is_some()
        || value.starts_with("system:serviceaccount") == Tri::Yes
}

/// The subject meant: the correction when it is plain (written the way the user wrote it, for
/// a module input that adds `system:serviceaccount:`), or a defined ServiceAccount close to it.
fn help(
    ctx: &LintContext,
    value: &Spanned<Str>,
    problem: &Impossible,
    defined: &[String],
) -> String {
    let shape = "system:serviceaccount:<namespace>:<name>, with the ServiceAccount's namespace and name as Kubernetes has them";
    let Some(text) = value.value.as_known() else {
        return format!("write the subject as {shape}");
    };
    let written = ctx.sources.get(value.span.file).slice(value.span);
    let written = written.trim().trim_matches(['"', '\'']);
    // A module input such as namespace_service_accounts: the module adds the prefix.
    let module_input = written != text && text.strip_prefix(SUBJECT_PREFIX) == Some(written);
    let meant = problem
        .meant
        .clone()
        .or_else(|| closest(text, defined.iter().map(String::as_str)).map(str::to_string));
    match meant {
        Some(meant) if module_input => match meant.strip_prefix(SUBJECT_PREFIX) {
            Some(input) => format!(
                "write `{input}`: the module turns each <namespace>:<name> into {SUBJECT_PREFIX}<namespace>:<name>"
            ),
            None => format!("write the subject as {shape}"),
        },
        Some(meant) if defined.contains(&meant) => {
            format!("did you mean {meant}? a ServiceAccount with that subject is defined")
        }
        Some(meant) => format!("did you mean {meant}?"),
        None if module_input => {
            "write each entry as <namespace>:<name>: the module adds system:serviceaccount:"
                .to_string()
        }
        None => format!("write the subject as {shape}"),
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::tester::{OIDC_PROVIDER_TF, Tester, service_account};

    /// A role whose trust admits `subject` under `operator`, with `:aud`.
    fn role(operator: &str, subject: &str) -> String {
        format!(
            r#"resource "aws_iam_role" "jenkins" {{
  name = "jenkins-operator"
  assume_role_policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Principal = {{ Federated = aws_iam_openid_connect_provider.eks.arn }}
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {{
        {operator} = {{
          "${{local.oidc_issuer}}:sub" = "{subject}"
        }}
        StringEquals = {{
          "${{local.oidc_issuer}}:aud" = "sts.amazonaws.com"
        }}
      }}
    }}]
  }})
}}
"#
        )
    }

    fn project(operator: &str, subject: &str) -> Tester {
        Tester::new(&RULE)
            .file("infra/eks.tf", OIDC_PROVIDER_TF)
            .file("infra/iam.tf", &role(operator, subject))
            .file(
                "k8s/sa.yaml",
                &service_account(
                    "operator-jenkins",
                    "jenkins",
                    "arn:aws:iam::482910375521:role/jenkins-operator",
                ),
            )
    }

    /// The ServiceAccount uses the role and is rejected, but the subject is the mistake:
    /// IRSA031 alone, offering the defined ServiceAccount.
    #[test]
    fn an_invalid_namespace_is_reported_instead_of_the_mismatch() {
        let tester = project(
            "StringEquals",
            "system:serviceaccount:operator_jenkins:jenkins",
        );
        insta::assert_snapshot!(tester.rendered());
        let analysis = crate::engine::analyze_sources(
            vec![
                ("infra/eks.tf".into(), OIDC_PROVIDER_TF.to_string()),
                (
                    "infra/iam.tf".into(),
                    role(
                        "StringEquals",
                        "system:serviceaccount:operator_jenkins:jenkins",
                    ),
                ),
                (
                    "k8s/sa.yaml".into(),
                    service_account(
                        "operator-jenkins",
                        "jenkins",
                        "arn:aws:iam::482910375521:role/jenkins-operator",
                    ),
                ),
            ],
            &crate::engine::Settings::default(),
        );
        let ids: Vec<&str> = analysis.diagnostics.iter().map(|d| d.rule_id).collect();
        assert_eq!(ids, ["IRSA031"]);
    }

    #[test]
    fn impossible_shapes_fire() {
        for subject in [
            "system:serviceaccounts:operator-jenkins:jenkins",
            "serviceaccount:operator-jenkins:jenkins",
            "system:serviceaccount:operator-jenkins",
            "system:serviceaccount:operator-jenkins:jenkins:agent",
            "system:serviceaccount:Operator-Jenkins:jenkins",
        ] {
            assert_eq!(
                project("StringEquals", subject).findings().len(),
                1,
                "{subject}"
            );
        }
        let plural = project("StringLike", "system:serviceaccounts:operator-jenkins:*");
        let findings = plural.findings();
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0]
                .help
                .as_deref()
                .unwrap()
                .contains("system:serviceaccount:operator-jenkins:*")
        );
    }

    #[test]
    fn silent_for_possible_subjects() {
        for (operator, subject) in [
            (
                "StringEquals",
                "system:serviceaccount:operator-jenkins:jenkins",
            ),
            ("StringLike", "system:serviceaccount:operator-jenkins:*"),
            ("StringLike", "system:*"),
            (
                "StringEqualsIgnoreCase",
                "system:serviceaccount:Operator-Jenkins:Jenkins",
            ),
            // A wildcard compared literally is IRSA007's.
            ("StringEquals", "system:serviceaccounts:*"),
            // An IAM policy variable is known only when IAM evaluates it.
            (
                "StringLike",
                "system:serviceaccount:$${aws:PrincipalTag/team}:*",
            ),
        ] {
            project(operator, subject).assert_none();
        }
    }

    #[test]
    fn the_subjects_of_other_oidc_providers_are_left_alone() {
        let github = r#"resource "aws_iam_role" "deploy" {
  name = "github-deploy"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = "arn:aws:iam::482910375521:oidc-provider/token.actions.githubusercontent.com" }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringLike = {
          "token.actions.githubusercontent.com:sub" = "repo:acme/payments:ref:refs/heads/main"
        }
      }
    }]
  })
}
"#;
        Tester::new(&RULE)
            .file("infra/github.tf", github)
            .assert_none();
    }
}
