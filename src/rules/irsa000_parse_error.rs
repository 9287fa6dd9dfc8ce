//! IRSA000 parse-error: a file, a YAML document or a trust-policy JSON cannot be parsed.

use crate::diagnostic::{Diagnostic, Label, Level};
use crate::discover::is_documentation;
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA000",
    name: "parse-error",
    default_level: Level::Error,
    summary: "a Terraform file, manifest, YAML document or trust-policy JSON cannot be parsed",
    doc: include_str!("../../rules/IRSA000.md"),
};

/// Why a finding in documentation is a note.
pub const DOCUMENTATION: &str =
    "in a documentation folder: read, not applied, so a note rather than an error";

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for e in &ctx.facts.parse_errors {
        let help = match e.message.starts_with("internal error") {
            true => {
                "this is a bug in irsa-lint, not in the file; every other file was still checked"
            }
            false => "fix the syntax; the rest of the file and every other file were still checked",
        };
        // A snippet in documentation is read, not applied: its syntax is the page's business.
        let in_documentation =
            e.is_grammar() && is_documentation(&ctx.sources.get(e.span.file).path);
        let mut diagnostic = Diagnostic::new(
            &RULE,
            Label::new(e.span, "cannot be parsed here"),
            e.message.clone(),
        )
        .help(help);
        if in_documentation {
            diagnostic = diagnostic.level(Level::Note).note(DOCUMENTATION);
        }
        out.push(diagnostic);
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

/// With `--verbose`: each template set apart unread, as a note (see
/// `Facts::unread_templates`). Not a rule's finding of its own: the count is in every report.
pub fn unread_templates(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for t in &ctx.facts.unread_templates {
        out.push(
            Diagnostic::new(
                &RULE,
                Label::new(t.span, "template syntax"),
                format!("template not linted: {}", t.message),
            )
            .level(Level::Note)
            .help("lint the rendered output (helm template, jinja, envsubst) to have it checked"),
        );
    }
}
