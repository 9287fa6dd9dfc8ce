//! IRSA012 invalid-role-arn: the role-arn annotation cannot be a role ARN.

use crate::aws::arn::{has_documentation_account, role_arn_problem};
use crate::diagnostic::{Diagnostic, Label, Level};
use crate::discover::is_documentation;
use crate::facts::ROLE_ARN_KEY;
use crate::link::LintContext;
use crate::rules::RuleMeta;
use crate::rules::irsa000_parse_error::DOCUMENTATION;
use crate::text::placeholders::instruction_in;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA012",
    name: "invalid-role-arn",
    default_level: Level::Error,
    summary: "the role-arn annotation cannot be a role ARN",
    doc: include_str!("../../rules/IRSA012.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for (sa_id, sa) in ctx.facts.service_accounts_with_ids() {
        // Linked: its annotation was found to be a role ARN.
        if ctx.link_of(sa_id).is_some() {
            continue;
        }
        let Some(value) = sa.annotation(ROLE_ARN_KEY).and_then(|a| a.value.as_ref()) else {
            continue;
        };
        let Some(text) = value.value.as_known() else {
            continue;
        };
        let Some((problem, help)) = role_arn_problem(text) else {
            continue;
        };
        // An example account or a note for the reader in documentation is what the page
        // means it to be.
        let in_documentation = is_documentation(&ctx.sources.get(value.span.file).path);
        let example = has_documentation_account(text) || instruction_in(text).is_some();
        let mut diagnostic = Diagnostic::new(
            &RULE,
            Label::new(value.span, problem.clone()),
            format!(
                "role-arn annotation of service account {} is not a role ARN: {problem}",
                sa.qualified_name()
            ),
        )
        .rendered(&sa.rendered)
        .when(&sa.when)
        .help(help)
        .about_service_account(sa_id);
        if in_documentation && example {
            diagnostic = diagnostic.level(Level::Note).note(DOCUMENTATION);
        }
        out.push(diagnostic);
    }
}

#[cfg(test)]
mod tests {
    use crate::aws::arn::role_arn_problem as problem;

    #[test]
    fn valid_and_placeholder_values_are_not_problems() {
        assert!(problem("arn:aws:iam::482910375521:role/irsa/payments-api").is_none());
        assert!(problem("${ROLE_ARN}").is_none());
        assert!(problem("arn:aws:iam::${ACCOUNT_ID}:role/x").is_none());
        assert!(problem("arn:aws:iam::<ACCOUNT_ID>:role/agent").is_none());
    }

    #[test]
    fn seed_article_value_is_a_problem() {
        let (what, _) =
            problem("arn:aws:iam::{local.account_id}:role/AwsLoadBalancerController").unwrap();
        assert!(what.contains("local.account_id"), "{what}");
        assert!(problem("arn:aws:iam::123456789012:role/x").is_some());
        assert!(problem("arn:aws:iam::482910375521:policy/x").is_some());
        assert!(problem("arn:aws:iam:482910375521:role/x").is_some());
    }
}
