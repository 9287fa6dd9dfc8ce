//! IRSA006 condition-key-has-scheme: a trust condition key starts with `https://`.

use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::value::Tri;
use crate::link::LintContext;
use crate::rules::{RuleMeta, irsa029_invalid_provider_arn};
use crate::source::Span;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA006",
    name: "condition-key-has-scheme",
    default_level: Level::Error,
    summary: "a trust condition key starts with https://, so it never matches",
    doc: include_str!("../../rules/IRSA006.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for (role_id, role, s) in ctx.trust_statements() {
        // A key a module built from the same input as a principal IRSA029 reports (an issuer
        // URL given as `provider_arn`) is that finding: one value, one mistake.
        let invalid_principals: Vec<_> = irsa029_invalid_provider_arn::invalid_principals(s)
            .iter()
            .map(|(p, _)| p.span)
            .collect();
        for c in s.conditions.iter().flatten() {
            if invalid_principals.contains(&c.key.span) {
                continue;
            }
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
            let mut d = Diagnostic::new(
                &RULE,
                Label::new(c.key.span, format!("starts with {scheme}")),
                format!("condition key {} starts with {scheme}, so it never matches a token claim", c.key.value.display()),
            )
            .help(format!(
                "IAM names OIDC condition keys without the scheme: use {fixed}, e.g. built with replace(<issuer url>, \"https://\", \"\")"
            ));
            // Where the scheme is written in the key itself (not in a variable it
            // interpolates), deleting it is the fix.
            let written = ctx.sources.get(c.key.span.file).slice(c.key.span);
            let quote = usize::from(written.starts_with('"'));
            if written[quote..].starts_with(scheme) {
                let start = c.key.span.start as usize + quote;
                let span = Span::new(c.key.span.file, start..start + scheme.len());
                d = d.fix(span, "");
            }
            out.push(
                d.in_module(&role.module)
                    .when(&role.when)
                    .about_role(role_id),
            );
        }
    }
}
