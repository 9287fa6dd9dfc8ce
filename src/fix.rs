//! `check --fix` and `check --diff`: the fixes findings carry (the same edits the language
//! server offers as quick fixes), as byte-exact replacements that keep every other byte of
//! the file, its formatting and comments included.
//!
//! A fix is applied only where it is unambiguous: its file on disk still holds exactly the
//! text that was linted (a rendered template, standard input or a file changed since is
//! left alone), and no other fix overlaps it. Planning writes nothing; the caller writes
//! [`FileFix::after`] under `--fix` or prints [`unified_diff`] under `--diff`.

use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::source::{FileId, SourceMap};

/// The edits of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFix {
    pub file: FileId,
    /// As shown in the output.
    pub shown: PathBuf,
    /// Where it is on disk.
    pub path: PathBuf,
    pub before: String,
    pub after: String,
    /// The rules whose fixes were applied, one entry per edit.
    pub rules: Vec<&'static str>,
}

/// A fix that was not applied, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub shown: PathBuf,
    pub rule: &'static str,
    pub why: &'static str,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub files: Vec<FileFix>,
    pub skipped: Vec<Skipped>,
}

/// The fixes of `diagnostics`, per file, in path order. Shown paths are resolved against
/// `base` (the folder they are shown relative to); `read` gives a file's current text.
pub fn plan(
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    base: &Path,
    read: impl Fn(&Path) -> Option<String>,
) -> Plan {
    let mut by_file: Vec<(FileId, Vec<Edit>)> = Vec::new();
    for d in diagnostics {
        let Some(fix) = &d.fix else { continue };
        let edit = Edit {
            start: fix.span.start as usize,
            end: fix.span.end as usize,
            replacement: fix.replacement.clone(),
            rule: d.rule_id,
        };
        match by_file.iter_mut().find(|(file, _)| *file == fix.span.file) {
            Some((_, edits)) => edits.push(edit),
            None => by_file.push((fix.span.file, vec![edit])),
        }
    }
    let mut plan = Plan::default();
    for (file, mut edits) in by_file {
        let source = sources.get(file);
        let path = base.join(&source.path);
        let skip_all = |plan: &mut Plan, edits: &[Edit], why| {
            plan.skipped.extend(edits.iter().map(|e| Skipped {
                shown: source.path.clone(),
                rule: e.rule,
                why,
            }));
        };
        if read(&path).as_deref() != Some(&*source.text) {
            skip_all(
                &mut plan,
                &edits,
                "the file on disk is not the text that was linted",
            );
            continue;
        }
        edits.sort_by_key(|e| (e.start, e.end));
        edits.dedup_by(|b, a| {
            a.start == b.start && a.end == b.end && a.replacement == b.replacement
        });
        let mut after = String::with_capacity(source.text.len());
        let mut at = 0;
        let mut rules = Vec::new();
        for edit in edits {
            let valid = edit.start >= at
                && edit.end <= source.text.len()
                && source.text.is_char_boundary(edit.start)
                && source.text.is_char_boundary(edit.end);
            if !valid {
                skip_all(
                    &mut plan,
                    std::slice::from_ref(&edit),
                    "it overlaps another fix",
                );
                continue;
            }
            after.push_str(&source.text[at..edit.start]);
            after.push_str(&edit.replacement);
            at = edit.end;
            rules.push(edit.rule);
        }
        after.push_str(&source.text[at..]);
        if after != *source.text {
            plan.files.push(FileFix {
                file,
                shown: source.path.clone(),
                path,
                before: source.text.to_string(),
                after,
                rules,
            });
        }
    }
    plan.files.sort_by(|a, b| a.shown.cmp(&b.shown));
    plan
}

struct Edit {
    start: usize,
    end: usize,
    replacement: String,
    rule: &'static str,
}

/// A unified diff of one file's fix, `a/` and `b/` prefixed as git prints them.
pub fn unified_diff(fix: &FileFix) -> String {
    let shown = fix.shown.to_string_lossy().replace('\\', "/");
    similar::TextDiff::from_lines(&fix.before, &fix.after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{shown}"), &format!("b/{shown}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Fix, Label};
    use crate::source::Span;

    fn finding(sources: &SourceMap, file: FileId, text: &str, replacement: &str) -> Diagnostic {
        let start = sources.get(file).text.find(text).unwrap();
        let span = Span::new(file, start..start + text.len());
        let mut d = Diagnostic::new(
            &crate::rules::irsa013_annotation_key_typo::RULE,
            Label::new(span, "here"),
            "a finding",
        );
        d.fix = Some(Fix {
            span,
            replacement: replacement.into(),
        });
        d
    }

    const SA: &str =
        "metadata:\n  annotations:\n    # the role\n    eks.amazonaws.com/rolearn: arn  # keep\n";

    #[test]
    fn replaces_exactly_the_span_and_keeps_comments() {
        let mut sources = SourceMap::default();
        let file = sources.add("k8s/sa.yaml".into(), SA);
        let d = finding(
            &sources,
            file,
            "eks.amazonaws.com/rolearn",
            "eks.amazonaws.com/role-arn",
        );
        let plan = plan(&[d.clone(), d], &sources, Path::new("/repo"), |_| {
            Some(SA.into())
        });
        assert!(plan.skipped.is_empty());
        assert_eq!(plan.files.len(), 1);
        assert_eq!(plan.files[0].path, Path::new("/repo/k8s/sa.yaml"));
        assert_eq!(
            plan.files[0].after,
            SA.replace("/rolearn", "/role-arn"),
            "the same fix twice is applied once"
        );
        assert_eq!(
            unified_diff(&plan.files[0]),
            "--- a/k8s/sa.yaml\n+++ b/k8s/sa.yaml\n@@ -1,4 +1,4 @@\n metadata:\n   annotations:\n     # the role\n-    eks.amazonaws.com/rolearn: arn  # keep\n+    eks.amazonaws.com/role-arn: arn  # keep\n"
        );
    }

    #[test]
    fn a_file_that_differs_from_what_was_linted_is_left_alone() {
        let mut sources = SourceMap::default();
        let file = sources.add("k8s/sa.yaml".into(), SA);
        let d = finding(&sources, file, "eks.amazonaws.com/rolearn", "x");
        let plan = plan(&[d], &sources, Path::new("/repo"), |_| {
            Some(format!("{SA}# edited\n"))
        });
        assert!(plan.files.is_empty());
        assert_eq!(plan.skipped.len(), 1);
        let plan = plan_missing(&sources, file);
        assert_eq!(
            plan.skipped[0].why,
            "the file on disk is not the text that was linted"
        );
    }

    fn plan_missing(sources: &SourceMap, file: FileId) -> Plan {
        let d = finding(sources, file, "annotations", "x");
        plan(&[d], sources, Path::new("/repo"), |_| None)
    }

    #[test]
    fn overlapping_fixes_keep_the_first() {
        let mut sources = SourceMap::default();
        let file = sources.add("k8s/sa.yaml".into(), SA);
        let whole = finding(&sources, file, "eks.amazonaws.com/rolearn", "A");
        let inner = finding(&sources, file, "amazonaws", "B");
        let plan = plan(&[inner, whole], &sources, Path::new(""), |_| {
            Some(SA.into())
        });
        assert_eq!(
            plan.files[0].after,
            SA.replace("eks.amazonaws.com/rolearn", "A")
        );
        assert_eq!(plan.skipped[0].why, "it overlaps another fix");
    }
}
