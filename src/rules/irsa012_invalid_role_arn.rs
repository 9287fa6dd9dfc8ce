//! IRSA012 invalid-role-arn: the role-arn annotation cannot be a role ARN.

use crate::diagnostic::{Diagnostic, Label, Level};
use crate::facts::ROLE_ARN_KEY;
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA012",
    name: "invalid-role-arn",
    default_level: Level::Error,
    summary: "the role-arn annotation cannot be a role ARN",
    doc: include_str!("../../rules/IRSA012.md"),
};

/// Accounts that only appear in documentation.
const PLACEHOLDER_ACCOUNTS: &[&str] = &["000000000000", "123456789012", "111122223333"];
const PARTITIONS: &[&str] = &["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"];
/// Terraform namespaces whose references only render inside Terraform.
const TERRAFORM_ROOTS: &[&str] = &["local.", "var.", "data.", "module.", "aws_", "each.", "count."];

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for sa in &ctx.facts.service_accounts {
        let Some(value) = sa.annotation(ROLE_ARN_KEY).and_then(|a| a.value.as_ref()) else { continue };
        let Some(text) = value.value.as_known() else { continue };
        let Some((problem, help)) = problem(text) else { continue };
        out.push(
            Diagnostic::new(
                &RULE,
                Label::new(value.span, problem.clone()),
                format!("role-arn annotation of service account {} is not a role ARN: {problem}", sa.qualified_name()),
            )
            .help(help),
        );
    }
}

/// What is wrong with an annotation value, and how to fix it; `None` when it is a valid role
/// ARN, empty, or wholly a template placeholder (unknown).
fn problem(text: &str) -> Option<(String, String)> {
    let shape = "arn:<partition>:iam::<12-digit account>:role/<path/><name>";
    if text.is_empty() || is_placeholder(text) {
        return None;
    }
    for root in TERRAFORM_ROOTS {
        if text.contains(&format!("{{{root}")) {
            return Some((
                format!("it contains the Terraform reference `{}`, which is never rendered here", reference_at(text, root)),
                "write the rendered ARN, or create the ServiceAccount from Terraform (kubernetes_service_account_v1) so the reference is evaluated".into(),
            ));
        }
    }
    if text.contains("${") || text.contains("{{") {
        return None; // a partly templated value: unknown, not wrong
    }
    if text.trim() != text {
        return Some(("it has leading or trailing whitespace".into(), "remove the whitespace".into()));
    }
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts.as_slice() else {
        return Some((format!("it does not have the shape {shape}"), format!("write it as {shape}")));
    };
    if *arn != "arn" || !PARTITIONS.contains(partition) || *service != "iam" || !region.is_empty() {
        return Some((format!("it does not have the shape {shape}"), format!("write it as {shape}")));
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Some((format!("account `{account}` is not 12 digits"), "use the 12-digit id of the account the role lives in".into()));
    }
    if PLACEHOLDER_ACCOUNTS.contains(account) {
        return Some((
            format!("account {account} is a documentation placeholder"),
            "replace it with the 12-digit id of the account the role lives in".into(),
        ));
    }
    let Some(path_and_name) = resource.strip_prefix("role/") else {
        let kind = resource.split('/').next().unwrap_or(resource);
        return Some((format!("it is an IAM {kind} ARN, not a role ARN"), "use the ARN of the IAM role (…:role/<name>), not of its policy".into()));
    };
    let name = path_and_name.rsplit('/').next().unwrap_or("");
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if !name_ok {
        return Some((format!("role name `{name}` is not a valid IAM role name"), "role names use letters, digits and +=,.@_- (at most 64)".into()));
    }
    None
}

/// A value that is wholly `${VAR}`, `$VAR` or `{{ ... }}`: rendered later, unknown now.
fn is_placeholder(text: &str) -> bool {
    let t = text.trim();
    (t.starts_with("${") && t.ends_with('}') && t.matches("${").count() == 1)
        || (t.starts_with("{{") && t.ends_with("}}"))
        || (t.starts_with('$') && t[1..].chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && t.len() > 1)
}

/// The reference starting at `root` inside `{...}`, for the message.
fn reference_at(text: &str, root: &str) -> String {
    let start = text.find(&format!("{{{root}")).map(|i| i + 1).unwrap_or(0);
    let end = text[start..].find('}').map(|i| start + i).unwrap_or(text.len());
    text[start..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::problem;

    #[test]
    fn valid_and_placeholder_values_are_not_problems() {
        assert!(problem("arn:aws:iam::482910375521:role/irsa/payments-api").is_none());
        assert!(problem("${ROLE_ARN}").is_none());
        assert!(problem("arn:aws:iam::${ACCOUNT_ID}:role/x").is_none());
    }

    #[test]
    fn seed_article_value_is_a_problem() {
        let (what, _) = problem("arn:aws:iam::{local.account_id}:role/AwsLoadBalancerController").unwrap();
        assert!(what.contains("local.account_id"), "{what}");
        assert!(problem("arn:aws:iam::123456789012:role/x").is_some());
        assert!(problem("arn:aws:iam::482910375521:policy/x").is_some());
        assert!(problem("arn:aws:iam:482910375521:role/x").is_some());
    }
}
