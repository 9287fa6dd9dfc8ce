//! The `github` format: GitHub Actions workflow commands that annotate a pull request.
//!
//! One `::error`, `::warning` or `::notice` command per diagnostic, with the primary
//! location. Values are escaped as the Actions toolkit does (`escapeData`,
//! `escapeProperty` in actions/toolkit's `command.ts`), so a message can never end the
//! command early or inject another one.

use super::{Breaks, forward_slash_path, line_cols, visible};
use crate::diagnostic::{Diagnostic, Level};
use crate::source::SourceMap;

pub(super) fn render(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let span = diagnostic.primary.span;
        let (start, end) = line_cols(sources, span);
        let title = format!("{} {}", diagnostic.rule_id, diagnostic.rule_name);
        out.push_str(&format!(
            "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            command(diagnostic.level),
            escape_property(&visible(&forward_slash_path(sources, span), Breaks::Escape)),
            start.line,
            start.column,
            end.line,
            end.column,
            escape_property(&title),
            escape_data(&annotation_text(diagnostic)),
        ));
    }
    out
}

fn command(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Note => "notice",
    }
}

/// The annotation shows only this text beside the code, so the help goes on a second line
/// where a reviewer sees how to fix it.
fn annotation_text(diagnostic: &Diagnostic) -> String {
    let message = visible(&diagnostic.message, Breaks::Keep);
    match &diagnostic.help {
        Some(help) => format!("{message}\nhelp: {}", visible(help, Breaks::Keep)),
        None => message.into_owned(),
    }
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::test_project::Project;

    #[test]
    fn one_command_per_diagnostic_with_escaped_help_line() {
        let project = Project::new();
        insta::assert_snapshot!(render(&project.both(), &project.sources));
    }

    #[test]
    fn notes_become_notices_and_data_is_escaped() {
        let mut sources = SourceMap::default();
        let file = sources.add("ci/a,b:c%.yaml".into(), "x: 100%\r\n");
        let diagnostic = Diagnostic::new(
            &crate::rules::irsa025_audience_condition_missing::RULE,
            crate::diagnostic::Label::new(crate::source::Span::new(file, 3..7), "here"),
            "100% of\r\nit",
        )
        .level(Level::Note);
        assert_eq!(
            render(&[diagnostic], &sources),
            "::notice file=ci/a%2Cb%3Ac%25.yaml,line=1,col=4,endLine=1,endColumn=8,\
             title=IRSA025 audience-condition-missing::100%25 of%0D%0Ait\n"
        );
    }

    #[test]
    fn properties_escape_colons_and_commas_after_percent() {
        assert_eq!(escape_property("a:b,c%3A\n"), "a%3Ab%2Cc%253A%0A");
        assert_eq!(escape_data("a:b,c%\r\n"), "a:b,c%25%0D%0A");
    }
}
