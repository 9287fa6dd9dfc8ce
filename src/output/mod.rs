//! Renders sorted diagnostics for people, editors, CI and other tools.
//!
//! Each format lives in its own module and converts our plain [`Diagnostic`] at this edge:
//! `human` is the only module that knows miette, `json` and `sarif` own their serde structs.
//! Nothing here decides what is reported, sorts, filters or writes to stdout: the caller
//! passes the final list and prints the string it gets back.

mod compact;
mod github;
mod human;
mod json;
mod sarif;

use std::fmt;
use std::str::FromStr;

use crate::coverage::Coverage;
use crate::diagnostic::{Diagnostic, Level};
use crate::source::{LineCol, SourceMap, Span};
pub use crate::text::visible::{Breaks, visible};

/// An output format, named on the command line as `human`, `json`, `sarif`, `compact` or
/// `github`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    /// Code frames with labels, help and notes, then a one-line summary.
    Human,
    /// A versioned JSON document (see docs/json-format.md).
    Json,
    /// SARIF 2.1.0, for code scanning dashboards.
    Sarif,
    /// `path:line:col: level[ID] message`, one line each, for editors' quickfix lists.
    Compact,
    /// GitHub Actions workflow commands that annotate pull requests.
    Github,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Human,
        Format::Json,
        Format::Sarif,
        Format::Compact,
        Format::Github,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Compact => "compact",
            Format::Github => "github",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|format| format.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "unknown format `{s}`, expected one of: {}",
                    names.join(", ")
                )
            })
    }
}

/// Settings that change how a format looks, never what it contains.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// ANSI colours in the `human` format; ignored by the others.
    pub color: bool,
    /// `--quiet`: the `human` format prints the findings only, without its summary lines.
    pub quiet: bool,
    /// The terminal's width in columns for the `human` format; `None` (not a terminal) is a
    /// fixed 100. Paths, ARNs and `path:line:col` are never broken, whatever the width.
    pub width: Option<usize>,
    /// Where `sarif` URIs start (`%SRCROOT%`); `None`: relative to the working directory,
    /// without a base id.
    pub uri_base: Option<UriBase>,
}

/// The repository root a run's SARIF paths are relative to, whatever sub-folder it ran in,
/// as code scanning resolves them against the checkout.
#[derive(Debug, Clone)]
pub struct UriBase {
    /// Absolute.
    pub root: std::path::PathBuf,
    /// The working directory the shown paths are relative to; absolute.
    pub cwd: std::path::PathBuf,
}

impl UriBase {
    /// The nearest folder at or above `cwd` holding `.git` (a folder, or a file in a
    /// worktree); `cwd` itself outside a repository.
    pub fn repository(cwd: &std::path::Path) -> Self {
        let root = cwd
            .ancestors()
            .find(|dir| dir.join(".git").symlink_metadata().is_ok())
            .unwrap_or(cwd);
        UriBase {
            root: root.to_path_buf(),
            cwd: cwd.to_path_buf(),
        }
    }
}

/// Render all diagnostics (already sorted) as one string to print on stdout. `human`,
/// `json` and `sarif` also say what was and was not checked; the line-per-finding formats
/// print findings only.
pub fn render(
    format: Format,
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    coverage: &Coverage,
    options: &RenderOptions,
) -> String {
    match format {
        Format::Human => human::render(diagnostics, sources, coverage, options),
        Format::Json => json::render(diagnostics, sources, coverage),
        Format::Sarif => sarif::render(diagnostics, sources, coverage, options.uri_base.as_ref()),
        Format::Compact => compact::render(diagnostics, sources),
        Format::Github => github::render(diagnostics, sources),
    }
}

/// The coverage counts as `json` (top level) and `sarif` (run properties) carry them: part
/// of the frozen JSON v1 contract (docs/json-format.md).
#[derive(Debug, serde::Serialize)]
struct CoverageCounts {
    service_accounts: usize,
    fully_checked: usize,
    partly_checked: usize,
    not_checkable: usize,
    role_not_in_scan: usize,
    role_not_evaluated: usize,
    service_account_unknown: usize,
    external: usize,
    infrastructure_read: bool,
    templates_not_read: usize,
    summary: String,
}

impl CoverageCounts {
    fn new(coverage: &Coverage) -> Self {
        CoverageCounts {
            service_accounts: coverage.service_accounts,
            fully_checked: coverage.fully_checked,
            partly_checked: coverage.partly_checked,
            not_checkable: coverage.not_checkable(),
            role_not_in_scan: coverage.role_not_in_scan,
            role_not_evaluated: coverage.role_not_evaluated,
            service_account_unknown: coverage.service_account_unknown,
            external: coverage.external,
            infrastructure_read: coverage.infrastructure_read,
            templates_not_read: coverage.templates_not_read,
            summary: coverage.summary(),
        }
    }
}

/// How many diagnostics of each level there are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Summary {
    errors: usize,
    warnings: usize,
    notes: usize,
}

impl Summary {
    fn count(diagnostics: &[Diagnostic]) -> Self {
        let mut summary = Summary::default();
        for diagnostic in diagnostics {
            match diagnostic.level {
                Level::Error => summary.errors += 1,
                Level::Warning => summary.warnings += 1,
                Level::Note => summary.notes += 1,
            }
        }
        summary
    }
}

/// The display path of a span's file, as the user typed or sees it.
fn display_path(sources: &SourceMap, span: Span) -> String {
    sources.get(span.file).path.display().to_string()
}

/// The display path as the text formats print it: any character in it that would act on a
/// terminal or log made visible ([`visible`]). JSON and SARIF escape by their own syntax.
fn text_path(sources: &SourceMap, span: Span) -> String {
    visible(&display_path(sources, span), Breaks::Escape).into_owned()
}

/// 1-based line and column of both ends of a span; the end is exclusive, so an empty span
/// starts and ends at the same place.
fn line_cols(sources: &SourceMap, span: Span) -> (LineCol, LineCol) {
    let file = sources.get(span.file);
    (file.line_col(span.start), file.line_col(span.end))
}

/// The display path with `/` separators on every platform, for formats read by tools
/// (GitHub annotations, SARIF URIs) that expect repository-style paths.
fn forward_slash_path(sources: &SourceMap, span: Span) -> String {
    let path = display_path(sources, span);
    if std::path::MAIN_SEPARATOR == '\\' {
        path.replace('\\', "/")
    } else {
        path
    }
}

/// The same small project for every format's tests: a Terraform file and a ServiceAccount
/// manifest (with a space in its path), with non-ASCII text before spans on the same line.
#[cfg(test)]
mod test_project {
    use crate::diagnostic::{Diagnostic, Label, Level};
    use crate::rules;
    use crate::source::{FileId, SourceMap, Span};

    pub const TF: &str = r#"resource "aws_iam_role" "ledger_writer" {
  name = "ledger-writer"
}

locals {
  # Vertrauensstellung für den Zahlungsdienst
  subjects = { "Zahlungsverkehr–Ä" = "system:serviceaccount:billing:api" }
}
"#;

    pub const YAML: &str = "apiVersion: v1
kind: ServiceAccount
metadata:
  name: api
  namespace: payments
  annotations:
    beschreibung: \"Zahlungsdienst – API\"
    eks.amazonaws.com/rolearn: arn:aws:iam::111122223333:role/ledger-writer
";

    pub struct Project {
        pub sources: SourceMap,
        pub tf: FileId,
        pub yaml: FileId,
    }

    impl Project {
        pub fn new() -> Self {
            let mut sources = SourceMap::default();
            let tf = sources.add("infra/iam.tf".into(), TF);
            let yaml = sources.add("k8s/service account.yaml".into(), YAML);
            Project { sources, tf, yaml }
        }

        /// The span of the first occurrence of `needle` in a file.
        pub fn span(&self, file: FileId, needle: &str) -> Span {
            let text = &self.sources.get(file).text;
            let start = text.find(needle).expect("needle is in the test file");
            Span::new(file, start..start + needle.len())
        }

        /// An error whose primary label is in the `.tf` file and whose related labels are
        /// in both files; with help, a note and a fix.
        pub fn subject_mismatch(&self) -> Diagnostic {
            let subject = self.span(self.tf, "\"system:serviceaccount:billing:api\"");
            let role = self.span(self.tf, "\"ledger-writer\"");
            let arn = self.span(self.yaml, "arn:aws:iam::111122223333:role/ledger-writer");
            Diagnostic::new(
                &rules::irsa003_trust_subject_mismatch::RULE,
                Label::new(subject, "trust policy only allows billing/api"),
                "service account payments/api assumes role ledger-writer, whose trust policy only allows system:serviceaccount:billing:api",
            )
            .related(arn, "payments/api uses this role")
            .related(role, "role defined here")
            .help("allow system:serviceaccount:payments:api")
            .note("the sub claim of the projected token is system:serviceaccount:<namespace>:<name>")
            .fix(subject, "\"system:serviceaccount:payments:api\"")
        }

        /// A warning in the `.yaml` file with nothing but a primary label.
        pub fn annotation_typo(&self) -> Diagnostic {
            let key = self.span(self.yaml, "eks.amazonaws.com/rolearn");
            Diagnostic::new(
                &rules::irsa013_annotation_key_typo::RULE,
                Label::new(key, "unknown annotation"),
                "annotation eks.amazonaws.com/rolearn is not read by EKS",
            )
            .level(Level::Warning)
            .help("did you mean eks.amazonaws.com/role-arn?")
        }

        pub fn both(&self) -> Vec<Diagnostic> {
            vec![self.subject_mismatch(), self.annotation_typo()]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip_through_from_str_and_value_enum() {
        use clap::ValueEnum;
        for format in Format::ALL {
            assert_eq!(format.name().parse::<Format>(), Ok(format));
            let possible = format.to_possible_value().expect("every format is listed");
            assert_eq!(possible.get_name(), format.name());
        }
        assert!("xml".parse::<Format>().unwrap_err().contains("human, json"));
    }

    #[test]
    fn summary_counts_each_level() {
        let project = test_project::Project::new();
        let summary = Summary::count(&project.both());
        assert_eq!(
            summary,
            Summary {
                errors: 1,
                warnings: 1,
                notes: 0
            }
        );
    }
}
