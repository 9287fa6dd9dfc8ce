//! IRSA029 invalid-provider-arn: a trust statement's Federated principal names an EKS cluster's
//! issuer, but is not the ARN of its OIDC provider
//! (`arn:<partition>:iam::<account>:oidc-provider/<issuer host/path>`): the issuer URL, its
//! host and path, or an ARN with the scheme or another ARN where the issuer belongs.
//!
//! It reports the principal; IRSA010 (oidc-provider-not-declared) stays silent on a principal
//! this rule reports, and IRSA006 (condition-key-has-scheme) on a condition key a module built
//! from the same input.

use crate::aws::arn::{ProviderArnMistake, ProviderArnProblem, federated_issuer, issuer_partition};
use crate::aws::policy::allows_web_identity;
use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::value::{Str, Tri};
use crate::facts::{Effect, OidcProvider, RoleId, Spanned, Statement};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA029",
    name: "invalid-provider-arn",
    default_level: Level::Error,
    summary: "a Federated principal names an EKS issuer but is not an OIDC provider ARN",
    doc: include_str!("../../rules/IRSA029.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for (role_id, role, s) in ctx.trust_statements() {
        for (principal, problem) in invalid_principals(s) {
            let shown = principal.value.display();
            let d = Diagnostic::new(
                &RULE,
                Label::new(
                    principal.span,
                    "not arn:<partition>:iam::<account>:oidc-provider/<issuer>",
                ),
                format!(
                    "Federated principal {shown} is not an OIDC provider ARN: {}",
                    problem.reason
                ),
            )
            .help(help(ctx, role_id, &problem));
            let d = match fix(ctx, principal, &problem) {
                Some(fixed) => d.fix(principal.span, fixed),
                None => d,
            };
            out.push(d.in_module(&role.module).about_role(role_id));
        }
    }
}

/// The Federated principals of a statement this rule reports, with what is wrong with each.
/// Statements that deny, or that provably do not allow the web identity action, are left
/// alone.
pub fn invalid_principals(s: &Statement) -> Vec<(&Spanned<Str>, ProviderArnProblem)> {
    if s.effect == Some(Effect::Deny) || allows_web_identity(s) == Tri::No {
        return Vec::new();
    }
    s.federated
        .iter()
        .flatten()
        .filter_map(|p| Some((p, crate::aws::arn::provider_arn_problem(&p.value)?)))
        .collect()
}

/// Whether this rule reports a principal of the statement (for the rules that stay silent on
/// it).
pub fn reports(s: &Statement, principal: &Spanned<Str>) -> bool {
    invalid_principals(s)
        .iter()
        .any(|(p, _)| std::ptr::eq(*p, principal))
}

/// The corrected principal: the declared provider whose issuer it names, else the ARN it
/// should have been.
fn help(ctx: &LintContext, role: RoleId, problem: &ProviderArnProblem) -> String {
    if problem.kind == ProviderArnMistake::ArnInArn {
        let inner = problem.issuer.as_ref().map(|i| {
            format!(
                "arn:<partition>:iam::<account>:oidc-provider/{}",
                i.display()
            )
        });
        return format!(
            "the issuer was given as a provider ARN: where an issuer URL is expected (provider_url, provider_urls, oidc_provider_urls) pass the URL, e.g. module.eks.cluster_oidc_issuer_url; the principal is then {}",
            inner.unwrap_or_else(|| "the provider's ARN".to_string())
        );
    }
    let Some(issuer) = &problem.issuer else {
        return "write arn:<partition>:iam::<12-digit account>:oidc-provider/<issuer host/path>, or better reference the provider (aws_iam_openid_connect_provider.<name>.arn)".to_string();
    };
    if let Some(provider) = declared_provider(ctx, issuer) {
        return format!(
            "use the ARN of the OIDC provider of this issuer: {}",
            provider_reference(provider)
        );
    }
    let partition = issuer_partition(issuer).unwrap_or_else(|| "<partition>".to_string());
    let account = ctx.role_account(role).unwrap_or("<account>");
    format!(
        "use the OIDC provider's ARN (aws_iam_openid_connect_provider.<name>.arn, or module.eks.oidc_provider_arn), which is arn:{partition}:iam::{account}:oidc-provider/{}",
        issuer.display()
    )
}

/// The declared provider whose issuer is provably this one.
fn declared_provider<'a>(ctx: &LintContext<'a>, issuer: &Str) -> Option<&'a OidcProvider> {
    ctx.facts.providers.iter().find(|p| {
        p.arn
            .as_ref()
            .and_then(federated_issuer)
            .is_some_and(|i| i.equals(issuer) == Tri::Yes)
    })
}

/// How Terraform code refers to a provider's ARN: the resource's `arn`, or the output of the
/// terraform-aws-modules/eks module that creates it.
fn provider_reference(provider: &OidcProvider) -> String {
    let eks_module_provider = ".aws_iam_openid_connect_provider.oidc_provider[0]";
    match provider.address.strip_suffix(eks_module_provider) {
        Some(module) if module.starts_with("module.") => format!("{module}.oidc_provider_arn"),
        _ => format!("{}.arn", provider.address),
    }
}

/// A principal written out in full with the scheme inside the ARN: the same text without it.
fn fix(
    ctx: &LintContext,
    principal: &Spanned<Str>,
    problem: &ProviderArnProblem,
) -> Option<String> {
    if problem.kind != ProviderArnMistake::SchemeInArn {
        return None;
    }
    let text = principal.value.as_known()?;
    let written = ctx.sources.get(principal.span.file).slice(principal.span);
    if written.trim_matches('"') != text {
        return None;
    }
    let fixed = text
        .replacen("oidc-provider/https://", "oidc-provider/", 1)
        .replacen("oidc-provider/http://", "oidc-provider/", 1);
    Some(written.replace(text, &fixed))
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::tester::{OIDC_PROVIDER_TF, Tester};

    /// A role whose trust's Federated principal is `principal` (an HCL expression).
    fn role(principal: &str) -> String {
        format!(
            r#"resource "aws_iam_role" "ledger_api" {{
  name = "payments-ledger-api"
  assume_role_policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Principal = {{ Federated = {principal} }}
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {{
        StringEquals = {{
          "${{local.oidc_issuer}}:sub" = "system:serviceaccount:payments:ledger-api"
          "${{local.oidc_issuer}}:aud" = "sts.amazonaws.com"
        }}
      }}
    }}]
  }})
}}
"#
        )
    }

    fn project(principal: &str) -> Tester {
        Tester::new(&RULE)
            .file("infra/eks.tf", OIDC_PROVIDER_TF)
            .file("infra/iam.tf", &role(principal))
    }

    #[test]
    fn the_issuer_url_is_not_the_provider_arn() {
        let tester = project("aws_eks_cluster.main.identity[0].oidc[0].issuer");
        assert_eq!(tester.findings().len(), 1);
        insta::assert_snapshot!(tester.rendered());
    }

    #[test]
    fn the_host_and_path_is_not_the_provider_arn() {
        let findings = project("local.oidc_issuer").findings();
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("host and path"));
        let findings = project("aws_iam_openid_connect_provider.eks.url").findings();
        assert_eq!(findings.len(), 1);
    }

    #[test]
    fn a_scheme_inside_a_written_out_arn_is_fixed() {
        let written = "arn:aws:iam::482910375521:oidc-provider/https://oidc.eks.eu-west-1.amazonaws.com/id/5C0FA8E2";
        let findings = project(&format!("\"{written}\"")).findings();
        assert_eq!(findings.len(), 1);
        let fix = findings[0].fix.as_ref().expect("the scheme can be dropped");
        assert_eq!(
            fix.replacement,
            "\"arn:aws:iam::482910375521:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/5C0FA8E2\""
        );
    }

    /// A module input: the finding is at `provider_arn`, and the `https://` condition keys the
    /// module builds from it are not reported again by IRSA006.
    #[test]
    fn a_module_input_is_reported_once_where_it_is_written() {
        let module = r#"module "ledger_api_irsa" {
  source    = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version   = "~> 5.30"
  role_name = "payments-ledger-api"
  oidc_providers = {
    main = {
      provider_arn               = aws_eks_cluster.main.identity[0].oidc[0].issuer
      namespace_service_accounts = ["payments:ledger-api"]
    }
  }
}
"#;
        let tester = Tester::new(&RULE)
            .file("infra/eks.tf", OIDC_PROVIDER_TF)
            .file("infra/iam.tf", module);
        insta::assert_snapshot!(tester.rendered());
        let analysis = crate::engine::analyze_sources(
            vec![
                ("infra/eks.tf".into(), OIDC_PROVIDER_TF.to_string()),
                ("infra/iam.tf".into(), module.to_string()),
            ],
            &crate::engine::Settings::default(),
        );
        let ids: Vec<&str> = analysis.diagnostics.iter().map(|d| d.rule_id).collect();
        assert_eq!(ids, ["IRSA029"]);
    }

    /// The account is what is wrong, not the annotation: IRSA002 does not compare with it.
    #[test]
    fn an_account_that_is_not_twelve_digits_is_reported_once() {
        let principal = "\"arn:aws:iam::48291037552:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/5C0FA8E2\"";
        let sa = crate::rules::tester::service_account(
            "payments",
            "ledger-api",
            "arn:aws:iam::482910375521:role/payments-ledger-api",
        );
        let analysis = crate::engine::analyze_sources(
            vec![
                ("infra/eks.tf".into(), OIDC_PROVIDER_TF.to_string()),
                ("infra/iam.tf".into(), role(principal)),
                ("k8s/sa.yaml".into(), sa),
            ],
            &crate::engine::Settings::default(),
        );
        let ids: Vec<&str> = analysis.diagnostics.iter().map(|d| d.rule_id).collect();
        assert_eq!(ids, ["IRSA029"]);
    }

    #[test]
    fn silent_for_provider_arns_and_other_principals() {
        for principal in [
            "aws_iam_openid_connect_provider.eks.arn",
            "\"arn:aws:iam::482910375521:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/5C0FA8E2\"",
            "\"arn:aws:iam::482910375521:oidc-provider/${local.oidc_issuer}\"",
            "\"arn:aws:iam::482910375521:saml-provider/okta\"",
            "\"cognito-identity.amazonaws.com\"",
            "var.oidc_provider_arn",
        ] {
            project(principal).assert_none();
        }
    }
}
