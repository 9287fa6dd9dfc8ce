//! IRSA000 parse-error: a file, a YAML document or a trust-policy JSON cannot be parsed.

use crate::diagnostic::{Diagnostic, Label, Level};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA000",
    name: "parse-error",
    default_level: Level::Error,
    summary: "a Terraform file, manifest, YAML document or trust-policy JSON cannot be parsed",
    doc: include_str!("../../rules/IRSA000.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for e in &ctx.facts.parse_errors {
        let help = match e.message.starts_with("internal error") {
            true => {
                "this is a bug in irsa-lint, not in the file; every other file was still checked"
            }
            false => "fix the syntax; the rest of the file and every other file were still checked",
        };
        out.push(
            Diagnostic::new(
                &RULE,
                Label::new(e.span, "cannot be parsed here"),
                e.message.clone(),
            )
            .help(help),
        );
    }
    for e in &ctx.facts.limits_hit {
        out.push(
            Diagnostic::new(&RULE, Label::new(e.span, "evaluation stopped here"), e.message.clone())
                .level(Level::Warning)
                .help("no finding depends on the unknown values; simplify the configuration to have it checked")
                .note("irsa-lint bounds evaluation so that no input can make it run forever"),
        );
    }
}
