//! Hover and code actions, answered from the last published findings and the open texts.
//!
//! Nothing here lints: the server re-lints before answering when an edit is pending, so
//! the findings and the text a request's positions refer to are the same version.

// lsp-types' `WorkspaceEdit` holds std's map.
#[allow(clippy::disallowed_types)]
use std::collections::HashMap;
use std::path::PathBuf;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Hover, HoverContents, MarkupContent,
    MarkupKind, Position, Range, TextEdit, WorkspaceEdit,
};

use super::convert::{Finding, contains, overlaps};
use crate::rules;
use crate::source::SourceFile;

/// The documentation of the rules whose findings cover the position, or of the rule id
/// written under the cursor (`# irsa-lint: IRSA003` in a comment).
pub fn hover(findings: &[Finding], text: Option<&str>, position: Position) -> Option<Hover> {
    let mut ids: Vec<&'static str> = Vec::new();
    let mut range = None;
    for finding in findings {
        if contains(&finding.diagnostic.range, position) && !ids.contains(&finding.rule_id) {
            ids.push(finding.rule_id);
            range.get_or_insert(finding.diagnostic.range);
        }
    }
    if ids.is_empty()
        && let Some((word, word_range)) = text.and_then(|t| word_at(t, position))
        && word.len() > 4
        && word[..4].eq_ignore_ascii_case("IRSA")
        && let Some(rule) = rules::find(&word)
    {
        ids.push(rule.meta.id);
        range = Some(word_range);
    }
    let docs: Vec<&str> = ids
        .iter()
        .filter_map(|id| Some(rules::find(id)?.meta.doc.trim_end()))
        .collect();
    if docs.is_empty() {
        return None;
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: docs.join("\n\n---\n\n"),
        }),
        range,
    })
}

/// The ASCII word (letters and digits) at a position, with its range.
fn word_at(text: &str, position: Position) -> Option<(String, Range)> {
    let file = SourceFile::new(PathBuf::new(), text);
    let offset = file.offset_of_utf16(position.line, position.character) as usize;
    let bytes = text.as_bytes();
    let is_word = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_alphanumeric);
    let mut start = offset;
    while start > 0 && is_word(start - 1) {
        start -= 1;
    }
    let mut end = offset;
    while is_word(end) {
        end += 1;
    }
    if start == end {
        return None;
    }
    let at = |offset: usize| {
        let (line, character) = file.line_utf16(offset as u32);
        Position { line, character }
    };
    let range = Range {
        start: at(start),
        end: at(end),
    };
    Some((text[start..end].to_string(), range))
}

/// A quick fix for each finding with a known fix whose range meets the requested one.
pub fn code_actions(
    findings: &[Finding],
    range: Range,
    only: Option<&[CodeActionKind]>,
) -> Vec<CodeActionOrCommand> {
    let wants_quick_fixes = only.is_none_or(|kinds| {
        kinds
            .iter()
            .any(|k| CodeActionKind::QUICKFIX.as_str().starts_with(k.as_str()))
    });
    if !wants_quick_fixes {
        return Vec::new();
    }
    findings
        .iter()
        .filter(|f| overlaps(&f.diagnostic.range, &range))
        .filter_map(|finding| {
            let fix = finding.fix.as_ref()?;
            let edit = TextEdit {
                range: fix.range,
                new_text: fix.replacement.clone(),
            };
            #[allow(clippy::disallowed_types)]
            let changes = HashMap::from([(fix.uri.clone(), vec![edit])]);
            Some(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Replace with `{}` ({})", fix.replacement, finding.rule_id),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![finding.diagnostic.clone()]),
                edit: Some(WorkspaceEdit {
                    changes: Some(changes),
                    ..WorkspaceEdit::default()
                }),
                is_preferred: Some(true),
                ..CodeAction::default()
            }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    #[test]
    fn a_rule_id_in_a_comment_hovers_with_its_doc() {
        let text = "a: 1\n# 台帳 see IRSA003 here\n";
        // `IRSA003` starts at UTF-16 column 9 of line 1.
        let hover = hover(&[], Some(text), at(1, 12)).expect("a hover");
        let HoverContents::Markup(markup) = hover.contents else {
            panic!("expected markup");
        };
        assert!(markup.value.starts_with("# IRSA003"), "{}", markup.value);
        assert_eq!(
            hover.range,
            Some(Range {
                start: at(1, 9),
                end: at(1, 16)
            })
        );
        assert!(super::hover(&[], Some(text), at(1, 3)).is_none());
        assert!(super::hover(&[], Some("IRSA999\n"), at(0, 1)).is_none());
    }

    #[test]
    fn a_fix_is_offered_as_a_quick_fix_where_its_finding_is() {
        use std::str::FromStr;
        let uri = lsp_types::Uri::from_str("file:///w/sa.yaml").unwrap();
        let range = Range {
            start: at(3, 10),
            end: at(3, 20),
        };
        let finding = Finding {
            rule_id: "IRSA001",
            diagnostic: lsp_types::Diagnostic {
                range,
                ..Default::default()
            },
            fix: Some(super::super::convert::QuickFix {
                uri: uri.clone(),
                range,
                replacement: "role/ledger-api".into(),
            }),
        };
        let findings = [finding];
        let actions = code_actions(&findings, Range::new(at(3, 12), at(3, 12)), None);
        let [CodeActionOrCommand::CodeAction(action)] = &actions[..] else {
            panic!("expected one code action, got {actions:?}");
        };
        assert_eq!(action.kind, Some(CodeActionKind::QUICKFIX));
        let changes = action.edit.as_ref().unwrap().changes.as_ref().unwrap();
        assert_eq!(changes[&uri][0].new_text, "role/ledger-api");
        let elsewhere = Range::new(at(4, 0), at(4, 1));
        assert!(code_actions(&findings, elsewhere, None).is_empty());
        let refactors = [CodeActionKind::REFACTOR];
        assert!(code_actions(&findings, range, Some(&refactors)).is_empty());
    }
}
