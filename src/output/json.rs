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

    /// Freezes version 1: a change here is a breaking change for users' scripts.
    #[test]
    fn one_diagnostic_renders_exactly_the_v1_document() {
        let project = Project::new();
        let out = render(
            &[project.subject_mismatch()],
            &project.sources,
            &Coverage::default(),
        );
        let expected = r#"{
  "version": 1,
  "tool": {
    "name": "irsa-lint",
    "version": "CRATE_VERSION"
  },
  "summary": {
    "errors": 1,
    "warnings": 0,
    "notes": 0
  },
  "coverage": {
    "service_accounts": 0,
    "fully_checked": 0,
    "partly_checked": 0,
    "not_checkable": 0,
    "role_not_in_scan": 0,
    "role_not_evaluated": 0,
    "external": 0,
    "infrastructure_read": false,
    "summary": "no ServiceAccount in the scan uses an IAM role"
  },
  "diagnostics": [
    {
      "rule_id": "IRSA003",
      "rule_name": "trust-subject-mismatch",
      "level": "error",
      "message": "service account payments/api assumes role ledger-writer, whose trust policy only allows system:serviceaccount:billing:api",
      "help": "allow system:serviceaccount:payments:api",
      "notes": [
        "the sub claim of the projected token is system:serviceaccount:<namespace>:<name>"
      ],
      "location": {
        "path": "infra/iam.tf",
        "start": {
          "line": 7,
          "column": 38
        },
        "end": {
          "line": 7,
          "column": 73
        },
        "byte_start": 166,
        "byte_end": 201
      },
      "related": [
        {
          "message": "payments/api uses this role",
          "location": {
            "path": "k8s/service account.yaml",
            "start": {
              "line": 8,
              "column": 32
            },
            "end": {
              "line": 8,
              "column": 76
            },
            "byte_start": 169,
            "byte_end": 213
          }
        },
        {
          "message": "role defined here",
          "location": {
            "path": "infra/iam.tf",
            "start": {
              "line": 2,
              "column": 10
            },
            "end": {
              "line": 2,
              "column": 25
            },
            "byte_start": 51,
            "byte_end": 66
          }
        }
      ],
      "fix": {
        "location": {
          "path": "infra/iam.tf",
          "start": {
            "line": 7,
            "column": 38
          },
          "end": {
            "line": 7,
            "column": 73
          },
          "byte_start": 166,
          "byte_end": 201
        },
        "replacement": "\"system:serviceaccount:payments:api\""
      }
    }
  ]
}
"#
        .replace("CRATE_VERSION", env!("CARGO_PKG_VERSION"));
        assert_eq!(out, expected);
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
