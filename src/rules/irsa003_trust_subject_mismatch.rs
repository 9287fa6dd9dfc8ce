//! IRSA003 trust-subject-mismatch: the role's trust `:sub` condition does not admit the
//! ServiceAccount that uses the role.

use crate::aws::policy::Admission;
use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::value::Str;
use crate::facts::{RoleId, ServiceAccount, Spanned};
use crate::link::LintContext;
use crate::rules::{RuleMeta, irsa031_impossible_trust_subject};
use crate::text::{edit_distance, glob_match};

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA003",
    name: "trust-subject-mismatch",
    default_level: Level::Error,
    summary: "the role's trust policy does not admit the ServiceAccount that uses it",
    doc: include_str!("../../rules/IRSA003.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for link in &ctx.sa_links {
        let roles = ctx.linked_roles(link);
        if roles.is_empty() {
            continue;
        }
        let sa = ctx.service_account(link);
        let subject = &link.subject;
        let mut rejections = Vec::new();
        for &(id, role) in &roles {
            match role.admits("sub", subject, None) {
                Admission::Rejected(values) => rejections.push((id, role, values)),
                _ => break,
            }
        }
        if rejections.len() != roles.len() {
            continue;
        }
        let (role_id, role, values) = &rejections[0];
        // An add-on's own ServiceAccount and the role a module builds for that add-on are
        // IRSA027's to compare.
        let addon_role = |id: &RoleId| ctx.facts.addon_roles.iter().any(|a| a.role == *id);
        if sa.fixed && rejections.iter().all(|(id, _, _)| addon_role(id)) {
            continue;
        }
        // A subject no ServiceAccount token can carry is IRSA031's finding.
        if values
            .iter()
            .any(|v| irsa031_impossible_trust_subject::reports(role, v))
        {
            continue;
        }
        // A StringEquals value with a wildcard that would match is IRSA007's finding.
        if values.iter().any(|v| {
            v.value
                .as_known()
                .is_some_and(|t| t.contains(['*', '?']) && glob_match(t, subject))
        }) {
            continue;
        }
        out.push(
            diagnostic(sa, subject, &link.arn.name, role.name_span, values, ctx)
                .in_module(&role.module)
                .when(&role.when)
                .about_service_account(link.sa)
                .about_role(*role_id),
        );
    }
}

fn diagnostic(
    sa: &ServiceAccount,
    subject: &str,
    role_name: &Str,
    role_span: crate::source::Span,
    values: &[&Spanned<Str>],
    ctx: &LintContext,
) -> Diagnostic {
    let admitted: Vec<String> = values.iter().map(|v| v.value.display()).collect();
    let closest = values
        .iter()
        .filter_map(|v| Some((v, split_subject(v.value.as_known()?)?)))
        .min_by_key(|(_, (ns, name))| {
            usize::from(!glob_match(ns, &sa.namespace.value))
                + usize::from(!glob_match(name, &sa.name.value))
        });
    let ns_ok = |ns: &str| glob_match(ns, &sa.namespace.value);
    let name_ok = |name: &str| glob_match(name, &sa.name.value);
    if sa.fixed
        && let Some(first) = values.first()
    {
        return fixed_service_account(sa, subject, role_name, &admitted, values, first);
    }
    // Only a namespace typo is fixed, and only when the scan says which side is right:
    // the ServiceAccount's namespace is used elsewhere (or is kube-system or default) and
    // no ServiceAccount lives in the trust's. A differing name could be either side's typo.
    let service_accounts_in = |ns: &str| {
        ctx.facts
            .service_accounts
            .iter()
            .filter(|s| s.namespace.value == ns)
            .count()
    };
    let typo_fix = closest.and_then(|(value, (ns, name))| {
        let theirs = sa.namespace.value.as_str();
        let clear = name_ok(name)
            && !ns_ok(ns)
            && is_typo(ns, theirs)
            && service_accounts_in(ns) == 0
            && (service_accounts_in(theirs) >= 2 || matches!(theirs, "kube-system" | "default"));
        clear.then(|| subject_fix(value, ctx.sources, subject))?
    });
    let (primary, label, help) = match closest.map(|(_, parts)| parts) {
        Some((ns, name)) if name_ok(name) && !ns_ok(ns) => {
            let span = if sa.namespace_explicit {
                sa.namespace.span
            } else {
                sa.name.span
            };
            (
                span,
                format!("namespace {}", sa.namespace.value),
                if is_typo(ns, &sa.namespace.value) {
                    format!(
                        "the trust policy's namespace {ns} looks like a typo: did you mean {subject}?"
                    )
                } else {
                    format!(
                        "the namespace differs: move the service account to namespace {ns}, or admit {subject} in the trust policy"
                    )
                },
            )
        }
        Some((ns, name)) if ns_ok(ns) && !name_ok(name) => (
            sa.name.span,
            format!("service account name {}", sa.name.value),
            if is_typo(name, &sa.name.value) {
                format!("the trust policy's name {name} looks like a typo: did you mean {subject}?")
            } else {
                format!(
                    "the name differs: rename the service account to {name}, or admit {subject} in the trust policy"
                )
            },
        ),
        _ => (
            sa.name.span,
            format!("subject {subject}"),
            format!(
                "admit {subject} in the role's trust policy, or use the service account it names"
            ),
        ),
    };
    let admitted_text = if admitted.is_empty() {
        "no service account".to_string()
    } else {
        admitted.join(", ")
    };
    let mut d = Diagnostic::new(
        &RULE,
        Label::new(primary, label),
        format!(
            "service account {} assumes role {}, whose trust policy only admits {admitted_text}",
            sa.qualified_name(),
            role_name.display()
        ),
    )
    .rendered(&sa.rendered)
    .when(&sa.when)
    .help(help);
    for v in values {
        d = d.related(v.span, format!("trust policy admits {}", v.value.display()));
    }
    if values.is_empty() {
        d = d.related(role_span, format!("role {}", role_name.display()));
    }
    if let Some((span, replacement)) = typo_fix {
        d = d.fix(span, replacement);
    }
    d
}

/// The trust value rewritten to admit `subject`, when the wrong subject is written out
/// whole, once, in the value's own text (not behind a variable).
fn subject_fix(
    value: &Spanned<Str>,
    sources: &crate::source::SourceMap,
    subject: &str,
) -> Option<(crate::source::Span, String)> {
    let wrong = value.value.as_known()?;
    let written = sources.get(value.span.file).slice(value.span);
    (written.matches(wrong).count() == 1).then(|| (value.span, written.replacen(wrong, subject, 1)))
}

/// The ServiceAccount's name is fixed by what creates it (an EKS add-on): the trust policy is
/// what to change, so it is the primary location.
fn fixed_service_account(
    sa: &ServiceAccount,
    subject: &str,
    role_name: &Str,
    admitted: &[String],
    values: &[&Spanned<Str>],
    first: &Spanned<Str>,
) -> Diagnostic {
    let mut d = Diagnostic::new(
        &RULE,
        Label::new(first.span, format!("admits {}", first.value.display())),
        format!(
            "service account {} assumes role {}, whose trust policy only admits {}",
            sa.qualified_name(),
            role_name.display(),
            admitted.join(", ")
        ),
    )
    .rendered(&sa.rendered)
    .when(&sa.when)
    .related(sa.name.span, format!("runs as {}", sa.qualified_name()))
    .help(format!("admit {subject} in the role's trust policy"));
    for v in &values[1..] {
        d = d.related(v.span, format!("trust policy admits {}", v.value.display()));
    }
    d
}

/// A literal that differs by a character or two from what the ServiceAccount says.
fn is_typo(written: &str, actual: &str) -> bool {
    !written.contains(['*', '?']) && edit_distance(written, actual) <= 2
}

/// `system:serviceaccount:<ns>:<name>` → (ns, name).
fn split_subject(subject: &str) -> Option<(&str, &str)> {
    let rest = subject.strip_prefix("system:serviceaccount:")?;
    rest.split_once(':')
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::tester::Tester;

    /// A cluster read by name, its provider, and a role per service (for_each) whose name
    /// comes from a variable with no default: known only at plan time.
    const ROLES_TF: &str = r#"variable "cluster_name" { type = string }
data "aws_eks_cluster" "this" { name = var.cluster_name }
resource "aws_iam_openid_connect_provider" "eks" {
  url            = data.aws_eks_cluster.this.identity[0].oidc[0].issuer
  client_id_list = ["sts.amazonaws.com"]
}
locals {
  issuer   = replace(aws_iam_openid_connect_provider.eks.url, "https://", "")
  services = { api = "payments-api", worker = "payments-worker" }
}
resource "aws_iam_role" "svc" {
  for_each = local.services
  name     = "${var.cluster_name}-${each.value}"
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = aws_iam_openid_connect_provider.eks.arn }
      Condition = { StringEquals = {
        "${local.issuer}:sub" = "system:serviceaccount:payments:${each.value}"
        "${local.issuer}:aud" = "sts.amazonaws.com"
      } }
    }]
  })
}
"#;

    fn service_account(namespace: &str, role_arn: &str) -> String {
        format!(
            "locals {{ api_role = {role_arn} }}\n\
             resource \"kubernetes_service_account_v1\" \"api\" {{\n  metadata {{\n    \
             name = \"payments-api\"\n    namespace = \"{namespace}\"\n    \
             annotations = {{ \"eks.amazonaws.com/role-arn\" = local.api_role }}\n  }}\n}}\n"
        )
    }

    /// A reference names exactly one role, whatever its name: the instance of a for_each,
    /// through a local, is linked and checked.
    #[test]
    fn a_role_referenced_by_address_is_linked_although_its_name_is_unknown() {
        let tester = Tester::new(&RULE).file("infra/iam.tf", ROLES_TF).file(
            "infra/k8s.tf",
            &service_account("payment", "aws_iam_role.svc[\"api\"].arn"),
        );
        insta::assert_snapshot!(tester.rendered());
        Tester::new(&RULE)
            .file("infra/iam.tf", ROLES_TF)
            .file(
                "infra/k8s.tf",
                &service_account("payments", "aws_iam_role.svc[\"api\"].arn"),
            )
            .assert_none();
    }

    /// The other instance's ARN names the other role, whose trust admits the worker only.
    #[test]
    fn each_for_each_instance_is_its_own_role() {
        let findings = Tester::new(&RULE)
            .file("infra/iam.tf", ROLES_TF)
            .file(
                "infra/k8s.tf",
                &service_account("payments", "aws_iam_role.svc[\"worker\"].arn"),
            )
            .findings();
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0]
                .message
                .contains("only admits system:serviceaccount:payments:payments-worker"),
            "{}",
            findings[0].message
        );
    }

    /// Every environment has its own `aws_iam_role.svc`: a reference is to the role of its
    /// own root module, never to the one of the same address in another environment.
    #[test]
    fn a_reference_names_the_role_of_its_own_root_module() {
        let swapped = |env: &str, other: &str| {
            ROLES_TF.replace(
                "system:serviceaccount:payments:${each.value}",
                &format!("system:serviceaccount:payments-{other}:${{each.value}}"),
            ) + &service_account(&format!("payments-{env}"), "aws_iam_role.svc[\"api\"].arn")
        };
        let findings = Tester::new(&RULE)
            .file("envs/staging/main.tf", &swapped("staging", "production"))
            .file("envs/production/main.tf", &swapped("production", "staging"))
            .findings();
        assert_eq!(findings.len(), 2, "both environments are reported");
        Tester::new(&RULE)
            .file("envs/staging/main.tf", &swapped("staging", "staging"))
            .file(
                "envs/production/main.tf",
                &swapped("production", "production"),
            )
            .assert_none();
    }
}
