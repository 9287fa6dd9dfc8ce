//! The `compact` format: `path:line:col: level[ID] message`, one line per diagnostic.
//!
//! Made for editors' quickfix lists (Vim's `errorformat`, Emacs' compilation mode), so it
//! prints nothing else: no summary, no help but its "did you mean", and never a line break
//! inside a diagnostic.

use super::{Breaks, line_cols, text_path, visible};
use crate::diagnostic::Diagnostic;
use crate::source::SourceMap;

pub(super) fn render(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let span = diagnostic.primary.span;
        let (start, _) = line_cols(sources, span);
        out.push_str(&format!(
            "{}:{}:{}: {}[{}] {}{}\n",
            text_path(sources, span),
            start.line,
            start.column,
            diagnostic.level.as_str(),
            diagnostic.rule_id,
            visible(&one_line(&diagnostic.message), Breaks::Escape),
            did_you_mean(diagnostic).map_or(String::new(), |s| format!(" ({s})")),
        ));
    }
    out
}

/// The suggestion of a near miss, from the help or the primary label, when the message does
/// not already carry it: in a quickfix list it is the fix.
fn did_you_mean(diagnostic: &Diagnostic) -> Option<String> {
    const ASK: &str = "did you mean";
    if diagnostic.message.contains(ASK) {
        return None;
    }
    [
        diagnostic.help.as_deref(),
        Some(&diagnostic.primary.message),
    ]
    .into_iter()
    .flatten()
    .find_map(|text| {
        let from = text.find(ASK)?;
        let rest = &text[from..];
        let end = rest.find('?').map_or(rest.len(), |q| q + 1);
        Some(visible(&one_line(&rest[..end]), Breaks::Escape).into_owned())
    })
}

/// A message is meant to be one line; if one is not, a quickfix parser must still see one
/// diagnostic, so line breaks become spaces.
fn one_line(message: &str) -> String {
    message
        .split(['\r', '\n'])
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::test_project::Project;

    #[test]
    fn one_line_per_diagnostic_and_nothing_else() {
        let project = Project::new();
        insta::assert_snapshot!(render(&project.both(), &project.sources));
    }

    #[test]
    fn the_help_s_did_you_mean_is_kept_on_the_line() {
        let project = Project::new();
        let mut diagnostic = project.annotation_typo();
        diagnostic.help = Some("did you mean `eks.amazonaws.com/role-arn`? Keys are exact.".into());
        let line = render(&[diagnostic.clone()], &project.sources);
        assert!(
            line.ends_with("is not read by EKS (did you mean `eks.amazonaws.com/role-arn`?)\n"),
            "{line}"
        );
        diagnostic.help = None;
        let line = render(&[diagnostic], &project.sources);
        assert!(!line.contains("did you mean"), "{line}");
    }

    #[test]
    fn line_breaks_in_a_message_become_spaces() {
        let project = Project::new();
        let mut diagnostic = project.annotation_typo();
        diagnostic.message = "first line\r\nsecond line\nthird".to_string();
        diagnostic.help = None;
        diagnostic.level = crate::diagnostic::Level::Note;
        assert_eq!(
            render(&[diagnostic], &project.sources),
            "k8s/service account.yaml:8:5: note[IRSA013] first line second line third\n"
        );
    }

    #[test]
    fn no_diagnostics_prints_nothing() {
        let project = Project::new();
        assert_eq!(render(&[], &project.sources), "");
    }
}
