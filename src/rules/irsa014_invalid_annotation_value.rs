//! IRSA014 invalid-annotation-value: sts-regional-endpoints or token-expiration has a value the
//! webhook ignores or changes.

use crate::diagnostic::{Diagnostic, Label, Level};
use crate::facts::{REGIONAL_STS_KEY, TOKEN_EXPIRATION_KEY};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA014",
    name: "invalid-annotation-value",
    default_level: Level::Warning,
    summary: "sts-regional-endpoints or token-expiration has a value the webhook ignores or changes",
    doc: include_str!("../../rules/IRSA014.md"),
};

/// What Go's `strconv.ParseBool` accepts, which is what the webhook uses.
const GO_BOOLS: &[&str] = &[
    "1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False",
];
/// The webhook raises shorter token lifetimes to this many seconds.
const MIN_TOKEN_EXPIRATION: i64 = 600;

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for (sa_id, sa) in ctx.facts.service_accounts_with_ids() {
        for (key, problem) in [
            (
                REGIONAL_STS_KEY,
                regional_sts as fn(&str) -> Option<(String, String)>,
            ),
            (TOKEN_EXPIRATION_KEY, token_expiration),
        ] {
            let Some(value) = sa.annotation(key).and_then(|a| a.value.as_ref()) else {
                continue;
            };
            let Some(text) = value.value.as_known() else {
                continue;
            };
            if text.contains("${") || text.contains("{{") {
                continue;
            }
            if let Some((what, help)) = problem(text) {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        Label::new(value.span, what.clone()),
                        format!("{key} of service account {} {what}", sa.qualified_name()),
                    )
                    .rendered(&sa.rendered)
                    .when(&sa.when)
                    .help(help)
                    .about_service_account(sa_id),
                );
            }
        }
    }
}

fn regional_sts(text: &str) -> Option<(String, String)> {
    (!GO_BOOLS.contains(&text)).then(|| {
        (
            format!("is `{text}`, which the webhook ignores"),
            "use \"true\" or \"false\" (quoted, annotations are strings)".to_string(),
        )
    })
}

fn token_expiration(text: &str) -> Option<(String, String)> {
    match text.parse::<i64>() {
        Err(_) => Some((
            format!("is `{text}`, not a whole number of seconds, so the webhook uses its default"),
            "write the lifetime in seconds, e.g. \"3600\"".to_string(),
        )),
        Ok(n) if n < MIN_TOKEN_EXPIRATION => Some((
            format!("is {n} seconds, which the webhook silently raises to {MIN_TOKEN_EXPIRATION}"),
            format!("use at least {MIN_TOKEN_EXPIRATION} seconds"),
        )),
        Ok(_) => None,
    }
}
