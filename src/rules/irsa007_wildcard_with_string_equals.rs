//! IRSA007 wildcard-with-string-equals: `*` or `?` in a `StringEquals` value of a `:sub` or
//! `:aud` condition.

use crate::aws::policy::{Operator, key_is, operator};
use crate::diagnostic::{Diagnostic, Label, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA007",
    name: "wildcard-with-string-equals",
    default_level: Level::Error,
    summary: "a * or ? in a StringEquals :sub/:aud value only matches itself literally",
    doc: include_str!("../../rules/IRSA007.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for (role_id, role, s) in ctx.trust_statements() {
        for c in s.conditions.iter().flatten() {
            if !matches!(
                operator(&c.operator.value),
                Some(Operator::Equals | Operator::EqualsIgnoreCase)
            ) {
                continue;
            }
            if !(key_is(&c.key.value, "sub") || key_is(&c.key.value, "aud")) {
                continue;
            }
            for v in c.values.iter().flatten() {
                let Some(text) = v.value.as_known() else {
                    continue;
                };
                if !text.contains(['*', '?']) {
                    continue;
                }
                let like = c
                    .operator
                    .value
                    .replace("StringEqualsIgnoreCase", "StringLike")
                    .replace("StringEquals", "StringLike");
                let mut d = Diagnostic::new(
                    &RULE,
                    Label::new(v.span, "wildcard compared literally"),
                    format!(
                        "{} compares {text} literally, so the wildcard never matches",
                        c.operator.value
                    ),
                )
                .related(c.operator.span, format!("operator {}", c.operator.value))
                .help(format!("use {like} for wildcard matching"));
                let written = ctx.sources.get(c.operator.span.file).slice(c.operator.span);
                if written.trim_matches('"') == c.operator.value {
                    d = d.fix(c.operator.span, written.replace(&c.operator.value, &like));
                }
                out.push(
                    d.in_module(&role.module)
                        .when(&role.when)
                        .about_role(role_id),
                );
            }
        }
    }
}
