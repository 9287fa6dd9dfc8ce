//! Suppression comments: `# irsa-lint: ignore[IRSA003] reason` (`//` works too in
//! Terraform), on the line where a finding's primary location starts or alone on a line
//! above it.
//!
//! The engine applies them after every rule has run, so the command line, every output
//! format and an editor see the same findings. Comments are found by a plain text search of
//! each file for `irsa-lint:`, not by the parsers: a suppression works the same in HCL,
//! YAML and manifest templates, and in a file that does not parse. This module finds and
//! applies suppressions; which ones are invalid, and how that is reported, is rule IRSA028's
//! ([`crate::rules::irsa028_invalid_suppression`]).

use foldhash::{HashMap, HashMapExt};

use crate::diagnostic::{Diagnostic, RuleMeta};
use crate::source::{FileId, Marker, SourceFile, SourceMap, Span};

/// Finds a rule by the id or name written in a comment (the registry's `find`).
pub type FindRule = fn(&str) -> Option<&'static RuleMeta>;

/// What starts a suppression, after the comment marker.
pub const MARKER: &str = Marker::Suppression.word();

/// One `irsa-lint:` comment.
#[derive(Debug, Clone)]
pub struct Suppression {
    /// The comment, from its `#` or `//` to the end of the line.
    pub comment: Span,
    /// The 1-based line whose findings it suppresses: its own line for a comment after code,
    /// the next line that is not a comment for a comment alone on its line.
    pub target_line: u32,
    /// Whether the comment is alone on its line (it then suppresses on a line below).
    pub own_line: bool,
    /// `false` when the comment is not `irsa-lint: ignore[...]`.
    pub well_formed: bool,
    /// The rules named between the brackets, in order.
    pub rules: Vec<NamedRule>,
    /// The text after the brackets, trimmed; `None` when there is none.
    pub reason: Option<String>,
}

/// One id or name between the brackets of a suppression.
#[derive(Debug, Clone)]
pub struct NamedRule {
    pub written: String,
    pub span: Span,
    /// `None` when no rule has this id or name.
    pub rule: Option<&'static RuleMeta>,
    /// Whether it suppressed at least one finding.
    pub used: bool,
}

/// Remove the findings that suppressions name. Returns the findings kept and every
/// suppression, marked with what it suppressed, for IRSA028 to judge.
pub fn apply(
    diagnostics: Vec<Diagnostic>,
    sources: &SourceMap,
    find_rule: FindRule,
) -> (Vec<Diagnostic>, Vec<Suppression>) {
    let mut suppressions = scan(sources, find_rule);
    if suppressions.is_empty() {
        return (diagnostics, suppressions);
    }
    let mut by_line: HashMap<(FileId, u32), Vec<usize>> = HashMap::new();
    for (i, s) in suppressions.iter().enumerate() {
        by_line
            .entry((s.comment.file, s.target_line))
            .or_default()
            .push(i);
    }
    let mut kept = Vec::with_capacity(diagnostics.len());
    for d in diagnostics {
        let file = d.primary.span.file;
        let line = sources.get(file).line_col(d.primary.span.start).line;
        let mut suppressed = false;
        for &i in by_line.get(&(file, line)).into_iter().flatten() {
            for named in &mut suppressions[i].rules {
                if named.rule.is_some_and(|r| r.id == d.rule_id) {
                    named.used = true;
                    suppressed = true;
                }
            }
        }
        if !suppressed {
            kept.push(d);
        }
    }
    (kept, suppressions)
}

/// Every suppression comment in the files that can hold comments (not JSON).
pub fn scan(sources: &SourceMap, find_rule: FindRule) -> Vec<Suppression> {
    sources
        .iter()
        .filter(|(_, file)| takes_comments(file) && file.mentions(Marker::Suppression))
        .flat_map(|(id, file)| scan_file(id, file, find_rule))
        .collect()
}

fn takes_comments(file: &SourceFile) -> bool {
    !file
        .path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

fn scan_file(id: FileId, file: &SourceFile, find_rule: FindRule) -> Vec<Suppression> {
    let lines: Vec<(usize, &str)> = line_starts(&file.text);
    // The first line at or after each line that is not a comment, in one pass from the end:
    // a run of thousands of comment lines costs its length, not its square.
    let mut next_code = vec![lines.len(); lines.len() + 1];
    for j in (0..lines.len()).rev() {
        next_code[j] = match is_comment_line(lines[j].1) {
            true => next_code[j + 1],
            false => j,
        };
    }
    let mut out = Vec::new();
    for (index, &(start, line)) in lines.iter().enumerate() {
        let Some(at) = comment_start(line) else {
            continue;
        };
        let own_line = line[..at].trim().is_empty();
        let target_index = match next_code[index + 1] {
            _ if !own_line => index,
            j if j < lines.len() => j,
            _ => index + 1,
        };
        let comment = Comment {
            id,
            start: start + at,
            text: &line[at..],
            target_line: target_index as u32 + 1,
            own_line,
        };
        out.push(parse_comment(comment, find_rule));
    }
    out
}

/// Each line's byte offset and text, without its line ending.
fn line_starts(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    for line in text.split('\n') {
        out.push((start, line.strip_suffix('\r').unwrap_or(line)));
        start += line.len() + 1;
    }
    out
}

/// Where the comment marker (`#` or `//`) of an `irsa-lint:` comment starts in a line. The
/// marker must start the line or follow whitespace, as a YAML comment must.
fn comment_start(line: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = line[from..].find(MARKER) {
        let at = from + found;
        let before = line[..at].trim_end();
        let marker = ["#", "//"]
            .iter()
            .find(|m| before.ends_with(*m))
            .map(|m| before.len() - m.len());
        if let Some(start) = marker
            && line[..start]
                .chars()
                .next_back()
                .is_none_or(char::is_whitespace)
        {
            return Some(start);
        }
        from = at + MARKER.len();
    }
    None
}

fn is_comment_line(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('#') || t.starts_with("//")
}

/// Parse `# irsa-lint: ignore[A, B] reason`, starting at the comment marker at byte `start`
/// of the file.
/// One comment that starts with the marker, where it is and what it applies to.
struct Comment<'t> {
    id: FileId,
    start: usize,
    text: &'t str,
    target_line: u32,
    own_line: bool,
}

fn parse_comment(comment: Comment<'_>, find_rule: FindRule) -> Suppression {
    let Comment {
        id,
        start,
        text: comment,
        target_line,
        own_line,
    } = comment;
    let span =
        |range: std::ops::Range<usize>| Span::new(id, start + range.start..start + range.end);
    let mut suppression = Suppression {
        comment: span(0..comment.len()),
        target_line,
        own_line,
        well_formed: false,
        rules: Vec::new(),
        reason: None,
    };
    let after_marker = comment.find(MARKER).map_or(0, |i| i + MARKER.len());
    let rest = &comment[after_marker..];
    let directive = rest.trim_start();
    let directive_at = after_marker + (rest.len() - directive.len());
    let Some(inside) = directive.strip_prefix("ignore[") else {
        return suppression;
    };
    let Some(close) = inside.find(']') else {
        return suppression;
    };
    suppression.well_formed = true;
    let list_at = directive_at + "ignore[".len();
    let mut offset = list_at;
    for part in inside[..close].split(',') {
        let trimmed = part.trim();
        if !trimmed.is_empty() {
            let lead = part.len() - part.trim_start().len();
            suppression.rules.push(NamedRule {
                written: trimmed.to_string(),
                span: span(offset + lead..offset + lead + trimmed.len()),
                rule: find_rule(trimmed),
                used: false,
            });
        }
        offset += part.len() + 1;
    }
    let reason = inside[close + 1..].trim();
    suppression.reason = (!reason.is_empty()).then(|| reason.to_string());
    suppression
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_text(path: &str, text: &str) -> Vec<Suppression> {
        let mut sources = SourceMap::default();
        sources.add(path.into(), text);
        scan(&sources, |name| crate::rules::find(name).map(|r| r.meta))
    }

    #[test]
    fn a_trailing_comment_targets_its_line_and_an_own_line_comment_the_next_code_line() {
        let text = "a: 1 # irsa-lint: ignore[IRSA003] because\n\
                    # irsa-lint: ignore[IRSA001] one\n\
                    // irsa-lint: ignore[IRSA009] two\n\
                    b: 2\n";
        let found = scan_text("k8s/sa.yaml", text);
        let targets: Vec<(u32, bool)> = found.iter().map(|s| (s.target_line, s.own_line)).collect();
        assert_eq!(targets, [(1, false), (4, true), (4, true)]);
        assert_eq!(found[0].reason.as_deref(), Some("because"));
    }

    #[test]
    fn ids_and_names_are_split_with_their_spans() {
        let text = "x = 1 // irsa-lint: ignore[ IRSA003 , role-not-found,nope ]  why not\n";
        let found = scan_text("main.tf", text);
        let s = &found[0];
        assert!(s.well_formed);
        let named: Vec<(&str, Option<&str>, &str)> = s
            .rules
            .iter()
            .map(|n| {
                (
                    n.written.as_str(),
                    n.rule.map(|r| r.id),
                    &text[n.span.range()],
                )
            })
            .collect();
        assert_eq!(
            named,
            [
                ("IRSA003", Some("IRSA003"), "IRSA003"),
                ("role-not-found", Some("IRSA001"), "role-not-found"),
                ("nope", None, "nope"),
            ]
        );
        assert_eq!(s.reason.as_deref(), Some("why not"));
        assert_eq!(&text[s.comment.range()], &text[6..text.len() - 1]);
    }

    #[test]
    fn only_comments_count() {
        assert!(scan_text("a.yaml", "url: http://x/irsa-lint:ignore[IRSA003]\n").is_empty());
        assert!(scan_text("a.yaml", "a: b#irsa-lint: ignore[IRSA003] x\n").is_empty());
        assert!(scan_text("a.json", "{\"a\": \"# irsa-lint: ignore[IRSA003] x\"}\n").is_empty());
        let malformed = scan_text("a.yaml", "# irsa-lint: disable IRSA003\n");
        assert_eq!(malformed.len(), 1);
        assert!(!malformed[0].well_formed);
        let no_reason = scan_text("a.yaml", "# irsa-lint: ignore[IRSA003]\r\nb: 1\r\n");
        assert!(no_reason[0].well_formed && no_reason[0].reason.is_none());
        assert_eq!(no_reason[0].target_line, 2);
    }
}
