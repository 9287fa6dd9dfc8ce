//! IRSA028 invalid-suppression: an `irsa-lint: ignore[...]` comment that gives no reason,
//! names no rule or an unknown one, or suppresses nothing.
//!
//! Unlike the other rules, this one reads suppressions, not facts, and runs after them: a
//! suppression that suppresses nothing is known only once every other rule has run. The
//! engine's suppression pass ([`crate::suppress`]) finds the comments and applies them, then
//! calls [`check_suppressions`]; the registry's [`check`] therefore does nothing.

use crate::diagnostic::{Diagnostic, Label, Level};
use crate::link::LintContext;
use crate::rules::{self, RuleMeta};
use crate::suppress::{NamedRule, Suppression};

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA028",
    name: "invalid-suppression",
    default_level: Level::Warning,
    summary: "an irsa-lint: ignore[...] comment gives no reason, names an unknown rule or suppresses nothing",
    doc: include_str!("../../rules/IRSA028.md"),
};

const SHAPE: &str = "`# irsa-lint: ignore[IRSA003] why the finding is accepted`";

fn malformed(s: &Suppression) -> Diagnostic {
    Diagnostic::new(
        &RULE,
        Label::new(s.comment, "not a suppression"),
        "irsa-lint comment is not a suppression, so it suppresses nothing",
    )
    .help(format!("write it as {SHAPE}"))
}

fn names_no_rule(s: &Suppression) -> Diagnostic {
    Diagnostic::new(
        &RULE,
        Label::new(s.comment, "no rule between the brackets"),
        "suppression names no rule",
    )
    .help(format!(
        "put the rule's id or name between the brackets: {SHAPE}"
    ))
}

fn unknown_rule(named: &NamedRule) -> Diagnostic {
    let help = match rules::suggest(&named.written) {
        Some(near) => format!("did you mean `{near}`?"),
        None => "`irsa-lint rules` lists every rule's id and name".to_string(),
    };
    Diagnostic::new(
        &RULE,
        Label::new(named.span, "no rule has this id or name"),
        format!("suppression names {}, which is not a rule", named.written),
    )
    .help(help)
}

fn missing_reason(s: &Suppression) -> Diagnostic {
    let ids: Vec<&str> = s.rules.iter().map(|n| n.written.as_str()).collect();
    Diagnostic::new(
        &RULE,
        Label::new(s.comment, "no reason after the brackets"),
        format!("suppression of {} gives no reason", ids.join(", ")),
    )
    .help(format!(
        "say why the finding is accepted after the brackets: `irsa-lint: ignore[{}] the role \
         is managed by the platform team`",
        ids.join(", ")
    ))
}

fn suppresses_nothing(s: &Suppression, named: &NamedRule, rule: &RuleMeta) -> Diagnostic {
    let place = if s.own_line {
        "on the next line that is not a comment"
    } else {
        "on this line"
    };
    Diagnostic::new(
        &RULE,
        Label::new(named.span, format!("no {} finding {place}", rule.id)),
        format!(
            "suppression of {} ({}) suppresses nothing",
            rule.id, rule.name
        ),
    )
    .help(format!(
        "remove it, or move it to the line where the {} finding starts or alone on the line \
         above",
        rule.id
    ))
}

/// The registry's entry: nothing to do while the other rules run (see the module comment).
pub fn check(_ctx: &LintContext, _out: &mut Vec<Diagnostic>) {}

/// Report every invalid suppression. `is_off` tells which rules did not run: a suppression of
/// one of them is not reported as suppressing nothing, since it may be needed again.
pub fn check_suppressions(
    suppressions: &[Suppression],
    is_off: &dyn Fn(&str) -> bool,
    out: &mut Vec<Diagnostic>,
) {
    for s in suppressions {
        if !s.well_formed {
            out.push(malformed(s));
            continue;
        }
        if s.rules.is_empty() {
            out.push(names_no_rule(s));
            continue;
        }
        for named in s.rules.iter().filter(|n| n.rule.is_none()) {
            out.push(unknown_rule(named));
        }
        if s.reason.is_none() {
            out.push(missing_reason(s));
        }
        for named in &s.rules {
            if let Some(rule) = named.rule
                && !named.used
                && !is_off(rule.id)
            {
                out.push(suppresses_nothing(s, named, rule));
            }
        }
    }
}
