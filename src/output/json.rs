//! The `json` format, version 1: a frozen document for scripts and other tools.
//!
//! These structs are the contract described in docs/json-format.md. They are filled from
//! our [`Diagnostic`] and never serialize an internal type, so refactoring the engine can
//! not change the output by accident. A change that is not purely additive needs a new
//! `version` and a new set of structs next to these.

use serde::Serialize;

use super::{CoverageCounts, Summary, display_path, line_cols};
use crate::coverage::Coverage;
use crate::diagnostic::Diagnostic;
use crate::source::{SourceMap, Span};

const FORMAT_VERSION: u32 = 1;

pub(super) fn render(
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    coverage: &Coverage,
) -> String {
    let document = Document::new(diagnostics, sources, coverage);
    let mut out = serde_json::to_string_pretty(&document)
        .expect("the v1 structs hold only strings, numbers and lists");
    out.push('\n');
    out
}

#[derive(Serialize)]
struct Document {
    version: u32,
    tool: Tool,
    summary: Counts,
    /// Added in 0.2 (additive): what was and was not checked.
    coverage: CoverageCounts,
    diagnostics: Vec<JsonDiagnostic>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Counts {
    errors: usize,
    warnings: usize,
    notes: usize,
}

#[derive(Serialize)]
struct JsonDiagnostic {
    rule_id: String,
    rule_name: String,
    level: &'static str,
    message: String,
    help: Option<String>,
    notes: Vec<String>,
    location: Location,
    related: Vec<Related>,
    fix: Option<Fix>,
}

#[derive(Serialize)]
struct Related {
    message: String,
    location: Location,
}

#[derive(Serialize)]
struct Fix {
    location: Location,
    replacement: String,
}

#[derive(Serialize)]
struct Location {
    path: String,
    start: Position,
    end: Position,
    byte_start: u32,
    byte_end: u32,
}

#[derive(Serialize)]
struct Position {
    line: u32,
    column: u32,
}

impl Document {
    fn new(diagnostics: &[Diagnostic], sources: &SourceMap, coverage: &Coverage) -> Self {
        let summary = Summary::count(diagnostics);
        Document {
            version: FORMAT_VERSION,
            tool: Tool {
                name: env!("CARGO_PKG_NAME"),
                version: env!("CARGO_PKG_VERSION"),
            },
            summary: Counts {
                errors: summary.errors,
                warnings: summary.warnings,
                notes: summary.notes,
            },
            coverage: CoverageCounts::new(coverage),
            diagnostics: diagnostics
                .iter()
                .map(|diagnostic| JsonDiagnostic::new(diagnostic, sources))
                .collect(),
        }
    }
}

impl JsonDiagnostic {
    fn new(diagnostic: &Diagnostic, sources: &SourceMap) -> Self {
        JsonDiagnostic {
            rule_id: diagnostic.rule_id.to_string(),
            rule_name: diagnostic.rule_name.to_string(),
            level: diagnostic.level.as_str(),
            message: diagnostic.message.clone(),
            help: diagnostic.help.clone(),
            notes: diagnostic.notes.clone(),
            location: Location::new(sources, diagnostic.primary.span),
            related: diagnostic
                .related
                .iter()
                .map(|label| Related {
                    message: label.message.clone(),
                    location: Location::new(sources, label.span),
                })
                .collect(),
            fix: diagnostic.fix.as_ref().map(|fix| Fix {
                location: Location::new(sources, fix.span),
                replacement: fix.replacement.clone(),
            }),
        }
    }
}

impl Location {
    fn new(sources: &SourceMap, span: Span) -> Self {
        let (start, end) = line_cols(sources, span);
        Location {
            path: display_path(sources, span),
            start: Position {
                line: start.line,
                column: start.column,
            },
            end: Position {
                line: end.line,
                column: end.column,
            },
            byte_start: span.start,
            byte_end: span.end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::test_project::Project;

    /// Freezes version 1: a change to this snapshot other than an added field is a breaking
    /// change for users' scripts.
    #[test]
    fn one_diagnostic_renders_exactly_the_v1_document() {
        let project = Project::new();
        let out = render(
            &[project.subject_mismatch()],
            &project.sources,
            &Coverage::default(),
        );
        let out = out.replace(env!("CARGO_PKG_VERSION"), "CRATE_VERSION");
        insta::assert_snapshot!(out);
    }

    #[test]
    fn absent_help_and_fix_are_null_and_empty_lists_stay() {
        let project = Project::new();
        let mut diagnostic = project.annotation_typo();
        diagnostic.help = None;
        let out = render(&[diagnostic], &project.sources, &Coverage::default());
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        let diagnostic = &value["diagnostics"][0];
        assert_eq!(diagnostic["help"], serde_json::Value::Null);
        assert_eq!(diagnostic["fix"], serde_json::Value::Null);
        assert_eq!(diagnostic["notes"], serde_json::json!([]));
        assert_eq!(diagnostic["related"], serde_json::json!([]));
        assert_eq!(value["summary"]["warnings"], 1);
    }

    #[test]
    fn no_diagnostics_is_still_a_complete_document() {
        let project = Project::new();
        let value: serde_json::Value =
            serde_json::from_str(&render(&[], &project.sources, &Coverage::default())).unwrap();
        assert_eq!(value["version"], 1);
        assert_eq!(value["diagnostics"], serde_json::json!([]));
        assert_eq!(value["summary"]["errors"], 0);
    }
}
