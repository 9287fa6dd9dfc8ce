//! The `human` format: miette code frames for the terminal, then a one-line summary and a
//! line saying what was and was not checked.
//!
//! This is the only module that knows miette. Each [`Diagnostic`] becomes a [`Report`]: the
//! primary label and the related labels in the same file share one frame; a related label
//! in another file becomes a child report with its own source, so both ends of a broken
//! link are shown. Output is deterministic: a fixed width, no hyperlinks, and colour only
//! when asked for.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use foldhash::HashMap;
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, Severity,
    SourceCode, SourceSpan, SpanContents,
};

use super::{Breaks, RenderOptions, Summary, visible};
use crate::coverage::Coverage;
use crate::diagnostic::{Diagnostic, Label, Level};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use crate::text::visible::visible_same_width;

/// What miette writes above a related frame drawn flush left (ours are advice).
const RELATED_HEADING: &str = "Advice:";

/// Wide enough for a role ARN and a trust subject on one line; the width when the output is
/// not a terminal, so that files, pipes and tests do not depend on where they ran.
const WIDTH: usize = 100;
/// A terminal narrower than this still gets this width: below it, a role ARN and its
/// label no longer fit on one line, and wrapping them helps no one.
const MIN_WIDTH: usize = 60;

pub(super) fn render(
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    coverage: &Coverage,
    options: &RenderOptions,
) -> String {
    let theme = if options.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme.clone())
        .with_links(false)
        .with_width(options.width.map_or(WIDTH, |w| w.max(MIN_WIDTH)))
        // Related frames in other files are drawn flush left, like the primary one: nested,
        // miette re-wraps them and a long `path:line:col` header loses its place.
        .with_show_related_as_nested(false)
        // A path, ARN or `path:line:col` is never broken across lines: terminals and editors
        // follow them only whole.
        .with_break_words(false)
        .with_word_separator(textwrap::WordSeparator::AsciiSpace)
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation);
    let mut out = String::new();
    let shown = Shown::default();
    for diagnostic in diagnostics {
        let report = Report::from_diagnostic(diagnostic, sources, &shown);
        let handler = match footer(diagnostic, &theme) {
            Some(footer) => handler.clone().with_footer(footer),
            None => handler.clone(),
        };
        // Writing into a String cannot fail; miette only passes on the writer's errors.
        let mut rendered = String::new();
        handler
            .render_report(&mut rendered, &report)
            .expect("rendering into a String never fails");
        // miette heads each related frame with a severity word of its own; ours carry `☞`.
        for line in rendered.split_inclusive('\n') {
            if line.trim_end() != RELATED_HEADING {
                out.push_str(line);
            }
        }
        out.push('\n');
    }
    if !options.quiet {
        out.push_str(&summary_line(Summary::count(diagnostics)));
        out.push('\n');
        out.push_str(&coverage.summary());
        out.push('\n');
    }
    out
}

/// `2 errors, 1 warning, 0 notes`, or `no problems found`.
fn summary_line(summary: Summary) -> String {
    if summary == Summary::default() {
        return "no problems found".to_string();
    }
    let counted = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    format!(
        "{}, {}, {}",
        counted(summary.errors, "error"),
        counted(summary.warnings, "warning"),
        counted(summary.notes, "note"),
    )
}

/// One diagnostic (or one related location of it) in the shape miette renders.
#[derive(Debug)]
struct Report<'a> {
    code: Option<String>,
    message: String,
    severity: Severity,
    source: FileSource<'a>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report<'a>>,
}

impl<'a> Report<'a> {
    fn from_diagnostic(diagnostic: &Diagnostic, sources: &'a SourceMap, shown: &Shown) -> Self {
        let primary_file = diagnostic.primary.span.file;
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            label_text(&diagnostic.primary),
            source_span(sources, diagnostic.primary.span),
        )];
        let mut related = Vec::new();
        // On a long line (a plan's JSON), each label gets a frame (an excerpt) of its own.
        let long_line = |span: Span| {
            let text = &sources.get(span.file).text;
            let offset = floor_boundary(text, (span.start as usize).min(text.len()));
            line_bounds(text, offset).len() > LONG_LINE
        };
        for label in &diagnostic.related {
            if label.span.file == primary_file
                && !long_line(label.span)
                && !long_line(diagnostic.primary.span)
            {
                labels.push(LabeledSpan::new_with_span(
                    label_text(label),
                    source_span(sources, label.span),
                ));
            } else {
                related.push(Report::related_elsewhere(label, sources, shown));
            }
        }
        Report {
            code: Some(format!("{} {}", diagnostic.rule_id, diagnostic.rule_name)),
            message: visible(&diagnostic.message, Breaks::Keep).into_owned(),
            severity: severity(diagnostic.level),
            source: FileSource::new(sources, primary_file, shown),
            labels,
            related,
        }
    }

    /// A related label in another file: its message heads the child report and the frame
    /// underlines the span without repeating the message.
    fn related_elsewhere(label: &Label, sources: &'a SourceMap, shown: &Shown) -> Self {
        Report {
            code: None,
            message: visible(&label.message, Breaks::Keep).into_owned(),
            severity: Severity::Advice,
            source: FileSource::new(sources, label.span.file, shown),
            labels: vec![LabeledSpan::new_primary_with_span(
                None,
                source_span(sources, label.span),
            )],
            related: Vec::new(),
        }
    }
}

/// Help and notes go in miette's footer rather than its `help()`: the footer comes after
/// the related frames, so the advice closes the report as in rustc, and miette has no
/// notes of its own.
fn footer(diagnostic: &Diagnostic, theme: &GraphicalTheme) -> Option<String> {
    let help = theme.styles.help.style("help:");
    let note = theme.styles.advice.style("note:");
    let mut lines: Vec<String> = diagnostic
        .help
        .iter()
        .map(|text| format!("{help} {}", visible(text, Breaks::Keep)))
        .collect();
    lines.extend(
        (diagnostic.notes.iter()).map(|text| format!("{note} {}", visible(text, Breaks::Keep))),
    );
    (!lines.is_empty()).then(|| lines.join("\n"))
}

fn label_text(label: &Label) -> Option<String> {
    (!label.message.is_empty()).then(|| visible(&label.message, Breaks::Keep).into_owned())
}

fn severity(level: Level) -> Severity {
    match level {
        Level::Error => Severity::Error,
        Level::Warning => Severity::Warning,
        Level::Note => Severity::Advice,
    }
}

/// A file as miette reads it. miette counts columns in bytes and lines at every `\r`; the
/// frame header takes our line and column instead, so all formats print the same position.
/// miette writes the lines of a frame as they are: what it reads is the text with every
/// character that would act on the terminal replaced, byte for byte.
#[derive(Debug)]
struct FileSource<'a> {
    file: &'a SourceFile,
    /// The text with its acting characters replaced, when it has any.
    shown: Option<Arc<str>>,
    path: String,
}

/// Each file's text as frames show it, made once per file however many findings it has.
#[derive(Default)]
struct Shown(RefCell<HashMap<FileId, Option<Arc<str>>>>);

impl<'a> FileSource<'a> {
    fn new(sources: &'a SourceMap, id: FileId, shown: &Shown) -> Self {
        let file = sources.get(id);
        let text = shown
            .0
            .borrow_mut()
            .entry(id)
            .or_insert_with(|| match visible_same_width(&file.text) {
                Cow::Borrowed(_) => None,
                Cow::Owned(text) => Some(text.into()),
            })
            .clone();
        FileSource {
            file,
            shown: text,
            path: visible(&file.path.display().to_string(), Breaks::Escape).into_owned(),
        }
    }
}

impl SourceCode for FileSource<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let file = self.file;
        let text: &str = self.shown.as_deref().unwrap_or(&file.text);
        if let Some(window) = long_line_window(text, span.offset(), span.len()) {
            // miette's header shows this position as the frame's.
            let start = file.line_col(span.offset() as u32);
            let data = &text.as_bytes()[window.clone()];
            return Ok(Box::new(MietteSpanContents::new_named(
                self.path.clone(),
                data,
                (window.start, window.len()).into(),
                start.line as usize - 1,
                start.column as usize - 1,
                1,
            )));
        }
        let contents = text.read_span(span, context_lines_before, context_lines_after)?;
        let start = file.line_col(contents.span().offset() as u32);
        Ok(Box::new(MietteSpanContents::new_named(
            self.path.clone(),
            contents.data(),
            *contents.span(),
            start.line as usize - 1,
            start.column as usize - 1,
            contents.line_count(),
        )))
    }
}

/// Lines longer than this (a plan's JSON is one line of megabytes) are shown as an excerpt
/// around the span, which is underlined at most [`LONG_LINE_SPAN`] bytes long.
const LONG_LINE: usize = 1000;
const LONG_LINE_SPAN: usize = 200;
/// Bytes of a long line shown on each side of the span.
const LONG_LINE_CONTEXT: usize = 60;

/// The line holding `offset`, searched at most [`LONG_LINE`] bytes either way: a range
/// longer than [`LONG_LINE`] means a long line (whose ends were not looked for).
fn line_bounds(text: &str, offset: usize) -> std::ops::Range<usize> {
    let bytes = text.as_bytes();
    let from = offset.saturating_sub(LONG_LINE + 1);
    let start = bytes[from..offset]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(from, |i| from + i + 1);
    let to = (offset + LONG_LINE + 1).min(bytes.len());
    let end = bytes[offset..to]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(to, |i| offset + i);
    start..end
}

fn floor_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// For a span on a line longer than [`LONG_LINE`]: the excerpt of the line to show.
fn long_line_window(text: &str, offset: usize, len: usize) -> Option<std::ops::Range<usize>> {
    let offset = floor_boundary(text, offset.min(text.len()));
    let line = line_bounds(text, offset);
    if line.len() <= LONG_LINE {
        return None;
    }
    let start = floor_boundary(
        text,
        offset.saturating_sub(LONG_LINE_CONTEXT).max(line.start),
    );
    let end = (offset + len.min(LONG_LINE_SPAN) + LONG_LINE_CONTEXT).min(line.end);
    Some(start..floor_boundary(text, end).max(start))
}

/// Clamped into the text and onto char boundaries, so that a stale span still renders a
/// frame rather than miette's "failed to read contents" line. On a very long line, at most
/// [`LONG_LINE_SPAN`] bytes are underlined.
fn source_span(sources: &SourceMap, span: Span) -> SourceSpan {
    let text = &sources.get(span.file).text;
    let clamp = |offset: u32| {
        let mut offset = (offset as usize).min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    };
    let start = clamp(span.start);
    let mut end = clamp(span.end).max(start);
    if end - start > LONG_LINE_SPAN && line_bounds(text, start).len() > LONG_LINE {
        end = floor_boundary(text, start + LONG_LINE_SPAN).max(start);
    }
    (start, end - start).into()
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code
            .as_ref()
            .map(|code| Box::new(code) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<Severity> {
        Some(self.severity)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related
                .iter()
                .map(|report| report as &dyn miette::Diagnostic),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::test_project::Project;

    fn render_plain(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
        render(
            diagnostics,
            sources,
            &Coverage::default(),
            &RenderOptions::default(),
        )
    }

    /// Both files' frames, code, labels, help and notes, the summary and the coverage line;
    /// columns count characters, and no path or `path:line:col` is broken across lines.
    #[test]
    fn shows_frames_of_both_files_with_code_help_and_notes() {
        let project = Project::new();
        let out = render_plain(&project.both(), &project.sources);
        assert!(
            !out.contains('\u{1b}'),
            "no ANSI escapes without colour: {out:?}"
        );
        insta::assert_snapshot!(out);
    }

    /// A related location in a file whose path is longer than the line: its
    /// `path:line:col` header stays whole.
    #[test]
    fn a_long_related_path_is_never_broken() {
        let mut sources = SourceMap::default();
        let long = "fixtures/IRSA001-role-not-found/fail-unlike-name-trusting-role/infra/iam-aws-load-balancer-controller.tf";
        let tf = sources.add(
            long.into(),
            "resource \"aws_iam_role\" \"x\" {\n  name = \"AwsLoadBalancerController\"\n}\n",
        );
        let yaml = sources.add(
            "k8s/sa.yaml".into(),
            "role: arn:aws:iam::730335467890:role/alb-controller-role\n",
        );
        let name = sources.get(tf).text.find("\"AwsLoad").unwrap();
        let diagnostic = Diagnostic::new(
            &crate::rules::irsa001_role_not_found::RULE,
            Label::new(Span::new(yaml, 6..57), "no role of this name"),
            "service account kube-system/aws-load-balancer-controller uses role alb-controller-role, which the scanned Terraform and eksctl configs do not define",
        )
        .related(Span::new(tf, name..name + 27), "role AwsLoadBalancerController trusts system:serviceaccount:kube-system:aws-load-balancer-controller");
        let out = render_plain(&[diagnostic], &sources);
        assert!(out.contains(&format!("[{long}:2:10]\n")), "{out}");
        insta::assert_snapshot!(out);
    }

    /// A plan's JSON is one line of megabytes: a span on it is shown as an excerpt, and
    /// a span of megabytes is underlined in part.
    #[test]
    fn a_span_on_a_line_of_megabytes_is_an_excerpt() {
        let mut sources = SourceMap::default();
        let filler = "{\"x\":1},".repeat(400_000);
        let huge = "p".repeat(3_000_000);
        let text = format!("{{\"a\":[{filler}\"{huge}\",\"needle\"]}}");
        let plan = sources.add("plan.json".into(), text.as_str());
        let needle = text.find("needle").unwrap();
        let start = text.find('p').unwrap();
        let diagnostic = Diagnostic::new(
            &crate::rules::irsa001_role_not_found::RULE,
            Label::new(Span::new(plan, start..start + huge.len()), "a huge value"),
            "a finding on a long line",
        )
        .related(Span::new(plan, needle..needle + 6), "the needle");
        let out = render_plain(&[diagnostic], &sources);
        assert!(out.len() < 8000, "{}", out.len());
        assert!(out.contains("\"needle\"]}"), "{out}");
        assert!(
            out.contains(&format!("[plan.json:1:{}]", start + 1)),
            "{out}"
        );
    }

    /// On a terminal the message wraps at its width; an ARN, a subject and a
    /// `path:line:col` stay whole however narrow it is.
    #[test]
    fn wraps_at_the_terminal_width_without_breaking_arns_or_paths() {
        let project = Project::new();
        let at = |width| {
            let options = RenderOptions {
                width: Some(width),
                ..RenderOptions::default()
            };
            render(
                &project.both(),
                &project.sources,
                &Coverage::default(),
                &options,
            )
        };
        let (narrow, wide) = (at(40), at(200));
        assert!(
            narrow.lines().count() > wide.lines().count(),
            "{narrow}\n{wide}"
        );
        for whole in [
            "system:serviceaccount:billing:api",
            "[k8s/service account.yaml:8:5]",
            "[infra/iam.tf:7:38]",
        ] {
            assert!(narrow.contains(whole), "{whole} broken in:\n{narrow}");
            assert!(wide.contains(whole), "{whole} broken in:\n{wide}");
        }
        assert_eq!(render_plain(&project.both(), &project.sources), at(100));
    }

    #[test]
    fn colour_adds_ansi_escapes() {
        let project = Project::new();
        let out = render(
            &project.both(),
            &project.sources,
            &Coverage::default(),
            &RenderOptions {
                color: true,
                ..RenderOptions::default()
            },
        );
        assert!(out.contains('\u{1b}'), "{out:?}");
    }

    #[test]
    fn no_diagnostics_prints_only_the_summary_and_the_coverage() {
        let project = Project::new();
        assert_eq!(
            render_plain(&[], &project.sources),
            "no problems found\nno ServiceAccount in the scan uses an IAM role\n"
        );
    }

    #[test]
    fn summary_pluralises_each_count() {
        let summary = Summary {
            errors: 2,
            warnings: 1,
            notes: 0,
        };
        assert_eq!(summary_line(summary), "2 errors, 1 warning, 0 notes");
    }

    #[test]
    fn empty_span_in_an_empty_file_renders() {
        let mut sources = SourceMap::default();
        let empty = sources.add("empty.yaml".into(), "");
        let diagnostic = Diagnostic::new(
            &crate::rules::irsa000_parse_error::RULE,
            Label::new(Span::file_start(empty), "here"),
            "document is empty",
        );
        let out = render_plain(&[diagnostic], &sources);
        println!("{out}");
        assert!(out.contains("document is empty"), "{out}");
        assert!(!out.contains("Failed to read"), "{out}");
    }
}
