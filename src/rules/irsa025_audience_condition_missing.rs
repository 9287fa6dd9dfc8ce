//! IRSA025 audience-condition-missing: an EKS OIDC trust statement checks `:sub` but not `:aud`.

use crate::aws::policy::{allows_web_identity, is_eks_statement, key_is, operator};
use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::value::Tri;
use crate::facts::Effect;
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA025",
    name: "audience-condition-missing",
    default_level: Level::Note,
    summary: "an EKS OIDC trust statement checks :sub but not :aud",
    doc: include_str!("../../rules/IRSA025.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for (role_id, role, s) in ctx.trust_statements() {
        if s.effect != Some(Effect::Allow)
            || allows_web_identity(s) != Tri::Yes
            || !is_eks_statement(s)
        {
            continue;
        }
        let Some(conditions) = &s.conditions else {
            continue;
        };
        if conditions.iter().any(|c| key_is(&c.key.value, "aud")) {
            continue;
        }
        let Some(sub) = conditions
            .iter()
            .find(|c| key_is(&c.key.value, "sub") && operator(&c.operator.value).is_some())
        else {
            continue;
        };
        // An issuer irsa-lint cannot evaluate is named as what it is, not as `<unknown>`.
        let issuer = match sub.key.value.has_unknown() {
            true => "<issuer>:".to_string(),
            false => sub.key.value.display().trim_end_matches("sub").to_string(),
        };
        let sub_key = issuer.clone() + "sub";
        let aud_key = issuer + "aud";
        out.push(
            Diagnostic::new(
                &RULE,
                Label::new(sub.key.span, "only the subject is checked"),
                format!("trust statement checks {sub_key} but not {aud_key}"),
            )
            .help(format!("add a StringEquals condition {aud_key} = sts.amazonaws.com (or the audience your service accounts request)")).in_module(&role.module)
                .when(&role.when).about_role(role_id));
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::tester::Tester;

    #[test]
    fn an_issuer_that_cannot_be_evaluated_is_named_the_issuer() {
        let findings = Tester::new(&RULE)
            .file(
                "infra/reporting.tf",
                r#"
variable "oidc_issuer" {
  type = string
}

resource "aws_iam_role" "reporting" {
  name = "reporting-exporter"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = "arn:aws:iam::111122223333:oidc-provider/${var.oidc_issuer}" }
      Condition = {
        StringEquals = { "${var.oidc_issuer}:sub" = "system:serviceaccount:reporting:exporter" }
      }
    }]
  })
}
"#,
            )
            .findings();
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].message,
            "trust statement checks <issuer>:sub but not <issuer>:aud"
        );
    }
}
