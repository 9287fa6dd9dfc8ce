//! The `compact` format: `path:line:col: level[ID] message`, one line per diagnostic.
//!
//! Made for editors' quickfix lists (Vim's `errorformat`, Emacs' compilation mode), so it
//! prints nothing else: no summary, no help, and never a line break inside a diagnostic.

use super::{display_path, line_cols};
use crate::diagnostic::Diagnostic;
use crate::source::SourceMap;

pub(super) fn render(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let span = diagnostic.primary.span;
        let (start, _) = line_cols(sources, span);
        out.push_str(&format!(
            "{}:{}:{}: {}[{}] {}\n",
            display_path(sources, span),
            start.line,
            start.column,
            diagnostic.level.as_str(),
            diagnostic.rule_id,
            one_line(&diagnostic.message),
        ));
    }
    out
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
    fn line_breaks_in_a_message_become_spaces() {
        let project = Project::new();
        let mut diagnostic = project.annotation_typo();
        diagnostic.message = "first line\r\nsecond line\nthird".to_string();
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
