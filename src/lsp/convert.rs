//! Our [`Diagnostic`]s → LSP diagnostics, grouped by the file the client shows them in.
//!
//! Ranges are 0-based lines and UTF-16 columns, as LSP clients count them unless another
//! encoding was negotiated (this server offers none). Spans into files the client cannot
//! open (the built-in module models) are left out.

use std::collections::BTreeMap;
use std::path::PathBuf;

use foldhash::{HashMap, HashMapExt};
use lsp_types::{
    CodeDescription, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
    Position, Range, Uri,
};

use crate::diagnostic::{Diagnostic, Level, rule_doc_url};
use crate::engine::Report;
use crate::source::{FileId, SourceMap, Span};

/// One diagnostic as published, with what hover and code actions need from it.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule_id: &'static str,
    pub diagnostic: lsp_types::Diagnostic,
    pub fix: Option<QuickFix>,
}

/// A replacement the user can apply in one click.
#[derive(Debug, Clone)]
pub struct QuickFix {
    pub uri: Uri,
    pub range: Range,
    pub replacement: String,
}

/// The findings of one file and the URI the client knows it by.
#[derive(Debug, Clone)]
pub struct FileFindings {
    pub uri: Uri,
    pub findings: Vec<Finding>,
}

/// Every finding of a report, by the absolute path of the file its primary label is in.
/// `open` gives the URI the client used for each open document, so diagnostics go back
/// under the exact spelling the client sent.
pub fn findings_by_file(
    report: &Report,
    open: &HashMap<PathBuf, Uri>,
) -> BTreeMap<PathBuf, FileFindings> {
    let mut files = Files::new(&report.sources, open);
    let mut out: BTreeMap<PathBuf, FileFindings> = BTreeMap::new();
    for d in &report.diagnostics {
        let Some((path, uri)) = files.locate(d.primary.span.file) else {
            continue;
        };
        let finding = to_finding(d, &mut files);
        out.entry(path)
            .or_insert_with(|| FileFindings {
                uri,
                findings: Vec::new(),
            })
            .findings
            .push(finding);
    }
    out
}

fn to_finding(d: &Diagnostic, files: &mut Files) -> Finding {
    let related: Vec<DiagnosticRelatedInformation> = d
        .related
        .iter()
        .filter_map(|label| {
            let (_, uri) = files.locate(label.span.file)?;
            Some(DiagnosticRelatedInformation {
                location: Location::new(uri, files.range(label.span)),
                message: label.message.clone(),
            })
        })
        .collect();
    let fix = d.fix.as_ref().and_then(|fix| {
        let (_, uri) = files.locate(fix.span.file)?;
        Some(QuickFix {
            uri,
            range: files.range(fix.span),
            replacement: fix.replacement.clone(),
        })
    });
    let diagnostic = lsp_types::Diagnostic {
        range: files.range(d.primary.span),
        severity: Some(severity(d.level)),
        code: Some(NumberOrString::String(d.rule_id.to_string())),
        // Editors link the code to this page (VS Code shows IRSA003 as a link).
        code_description: code_description(d.rule_id),
        source: Some("irsa-lint".to_string()),
        message: message(d),
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    };
    Finding {
        rule_id: d.rule_id,
        diagnostic,
        fix,
    }
}

fn code_description(rule_id: &str) -> Option<CodeDescription> {
    let href = rule_doc_url(rule_id).parse().ok()?;
    Some(CodeDescription { href })
}

fn severity(level: Level) -> DiagnosticSeverity {
    match level {
        Level::Error => DiagnosticSeverity::ERROR,
        Level::Warning => DiagnosticSeverity::WARNING,
        Level::Note => DiagnosticSeverity::INFORMATION,
    }
}

/// The message, then help and notes on lines of their own (editors show one text).
fn message(d: &Diagnostic) -> String {
    let mut text = d.message.clone();
    if let Some(help) = &d.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    for note in &d.notes {
        text.push_str("\nnote: ");
        text.push_str(note);
    }
    text
}

/// Where the report's files are on disk and how to name them to the client.
struct Files<'a> {
    sources: &'a SourceMap,
    open: &'a HashMap<PathBuf, Uri>,
    cwd: PathBuf,
    located: HashMap<FileId, Option<(PathBuf, Uri)>>,
}

impl<'a> Files<'a> {
    fn new(sources: &'a SourceMap, open: &'a HashMap<PathBuf, Uri>) -> Self {
        Files {
            sources,
            open,
            cwd: std::env::current_dir().unwrap_or_default(),
            located: HashMap::new(),
        }
    }

    /// The absolute path and URI of a file, or `None` when it is not a file the client can
    /// open (a built-in model).
    fn locate(&mut self, id: FileId) -> Option<(PathBuf, Uri)> {
        let (sources, open, cwd) = (self.sources, self.open, &self.cwd);
        self.located
            .entry(id)
            .or_insert_with(|| {
                // The engine shows paths below the working directory relative to it; joining
                // undoes exactly that and leaves absolute paths as they are.
                let path = cwd.join(&sources.get(id).path);
                match open.get(&path) {
                    Some(uri) => Some((path, uri.clone())),
                    None if path.is_file() => {
                        let uri = super::uri::from_path(&path)?;
                        Some((path, uri))
                    }
                    None => None,
                }
            })
            .clone()
    }

    fn range(&self, span: Span) -> Range {
        range_of(self.sources, span)
    }
}

/// A span as an LSP range (0-based lines, UTF-16 columns).
pub fn range_of(sources: &SourceMap, span: Span) -> Range {
    let file = sources.get(span.file);
    let position = |offset| {
        let (line, character) = file.line_utf16(offset);
        Position { line, character }
    };
    Range {
        start: position(span.start),
        end: position(span.end),
    }
}

/// Whether a position lies in a range, its end included (a cursor right after the last
/// character is still on the word).
pub fn contains(range: &Range, position: Position) -> bool {
    range.start <= position && position <= range.end
}

/// Whether two ranges share at least one position.
pub fn overlaps(a: &Range, b: &Range) -> bool {
    a.start <= b.end && b.start <= a.end
}
