//! IRSA006 condition-key-has-scheme: a trust condition key starts with `https://`.

use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::value::Tri;
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA006",
    name: "condition-key-has-scheme",
    default_level: Level::Error,
    summary: "a trust condition key starts with https://, so it never matches",
    doc: include_str!("../../rules/IRSA006.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for (role_id, role, s) in ctx.trust_statements() {
        for c in s.conditions.iter().flatten() {
            let scheme = ["https://", "http://"]
                .into_iter()
                .find(|p| c.key.value.starts_with(p) == Tri::Yes);
            let Some(scheme) = scheme else { continue };
            let fixed = c
                .key
                .value
                .strip_prefix(scheme)
                .map(|k| k.display())
                .unwrap_or_default();
            out.push(
                Diagnostic::new(
                    &RULE,
                    Label::new(c.key.span, format!("starts with {scheme}")),
                    format!("condition key {} starts with {scheme}, so it never matches a token claim", c.key.value.display()),
                )
                .help(format!(
                    "IAM names OIDC condition keys without the scheme: use {fixed}, e.g. built with replace(<issuer url>, \"https://\", \"\")"
                )).in_module(&role.module)
                .when(&role.when).about_role(role_id));
        }
    }
}
