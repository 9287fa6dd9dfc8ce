//! Baselines: the findings a project has accepted for now, so that only new ones are
//! reported. `--write-baseline FILE` records the current findings; `--baseline FILE` hides
//! the findings recorded there.
//!
//! A finding is recognised by its fingerprint: its rule, the paths of the files its primary
//! and related locations are in (relative to the baseline's folder, so the baseline works
//! from any working directory), what it is about (its subject: the ServiceAccount by
//! namespace and name, the role or Pod Identity association by file and address)
//! and the text at its primary location. Line and column numbers are deliberately absent,
//! so a fingerprint survives edits elsewhere in the files, and so is the message, so that a
//! message can be improved without bringing accepted findings back. The file is a frozen,
//! versioned JSON document (version 2; version 1 files, fingerprinted by message, are still
//! read). This module does no IO: the command line reads and writes the file.

use std::path::{Component, Path, PathBuf};

use foldhash::{HashMap, HashMapExt};
use serde::{Deserialize, Serialize};

use crate::diagnostic::Diagnostic;
use crate::eval::workspace::normalize;
use crate::facts::Facts;
use crate::source::SourceMap;

/// The version of the baseline file format this build writes.
pub const VERSION: u32 = 2;

/// The findings of a baseline file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    /// The folder of the baseline file (absolute): file paths are relative to it.
    dir: PathBuf,
    /// The version the file was written in.
    version: u32,
    entries: Vec<Accepted>,
}

/// One recorded finding.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Accepted {
    fingerprint: String,
    rule: String,
    path: String,
}

/// Where a run is and where its baseline lives, to make paths relative to the baseline.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// The working directory the shown paths are relative to.
    pub cwd: &'a Path,
    /// The folder of the baseline file (for SARIF, the repository root).
    pub dir: &'a Path,
}

#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    findings: Vec<Entry>,
}

/// One accepted finding, the same shape in versions 1 and 2. Only `fingerprint` is compared
/// (and, for version 1, `rule` and `path` when the message changed); the message is for
/// people reviewing the file.
#[derive(Serialize, Deserialize)]
struct Entry {
    fingerprint: String,
    #[serde(default)]
    rule: String,
    #[serde(default)]
    path: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct VersionOnly {
    version: u32,
}

impl Baseline {
    /// Read a baseline file's text; `dir` is the folder it is in.
    pub fn parse(text: &str, dir: &Path) -> Result<Baseline, String> {
        let version: VersionOnly =
            serde_json::from_str(text).map_err(|e| format!("not an irsa-lint baseline: {e}"))?;
        if !(1..=VERSION).contains(&version.version) {
            return Err(format!(
                "baseline version {} is not supported (this irsa-lint reads versions 1 to \
                 {VERSION}); write it again with --write-baseline",
                version.version
            ));
        }
        let file: File =
            serde_json::from_str(text).map_err(|e| format!("not an irsa-lint baseline: {e}"))?;
        let entries = file
            .findings
            .into_iter()
            .map(|e| Accepted {
                fingerprint: e.fingerprint,
                rule: e.rule,
                path: e.path,
            })
            .collect();
        Ok(Baseline {
            dir: normalize(dir),
            version: version.version,
            entries,
        })
    }

    /// Remove the findings the baseline accepts. Each recorded finding hides one current
    /// finding, so a second copy of an accepted mistake is still shown.
    ///
    /// A version 1 file recorded fingerprints of messages: a finding whose message was
    /// reworded since then is matched by its rule and primary file instead, once every exact
    /// match has been made.
    pub fn filter(
        &self,
        diagnostics: &mut Vec<Diagnostic>,
        sources: &SourceMap,
        facts: &Facts,
        cwd: &Path,
    ) {
        let place = Place {
            cwd,
            dir: &self.dir,
        };
        // Recorded findings by fingerprint (and, for version 1, by rule and file), each
        // list consumed from the front as findings match it.
        let mut by_print: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_place: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, e) in self.entries.iter().enumerate().rev() {
            by_print.entry(&e.fingerprint).or_default().push(i);
            by_place
                .entry(place_key(&e.rule, &e.path))
                .or_default()
                .push(i);
        }
        let mut used = vec![false; self.entries.len()];
        let mut take = |list: Option<&mut Vec<usize>>| {
            let list = list?;
            while let Some(i) = list.pop() {
                if !std::mem::replace(&mut used[i], true) {
                    return Some(i);
                }
            }
            None
        };
        let mut kept = Vec::with_capacity(diagnostics.len());
        let mut unmatched = Vec::new();
        for d in diagnostics.drain(..) {
            let print = match self.version {
                1 => fingerprint_v1(&d, sources, place),
                _ => fingerprint(&d, sources, facts, place),
            };
            if take(by_print.get_mut(print.as_str())).is_none() {
                unmatched.push(d);
            }
        }
        for d in unmatched {
            let path = relative_path(&sources.get(d.primary.span.file).path, place);
            let reworded =
                self.version == 1 && take(by_place.get_mut(&place_key(d.rule_id, &path))).is_some();
            if !reworded {
                kept.push(d);
            }
        }
        *diagnostics = kept;
    }
}

fn place_key(rule: &str, path: &str) -> String {
    format!("{rule}\0{path}")
}

/// The baseline file for a run's findings, sorted so that it changes only when findings do.
pub fn render(
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    facts: &Facts,
    place: Place<'_>,
) -> String {
    let mut findings: Vec<Entry> = diagnostics
        .iter()
        .map(|d| Entry {
            fingerprint: fingerprint(d, sources, facts, place),
            rule: d.rule_id.to_string(),
            path: relative_path(&sources.get(d.primary.span.file).path, place),
            message: d.message.clone(),
        })
        .collect();
    findings.sort_by(|a, b| {
        (&a.path, &a.rule, &a.message, &a.fingerprint).cmp(&(
            &b.path,
            &b.rule,
            &b.message,
            &b.fingerprint,
        ))
    });
    let file = File {
        version: VERSION,
        findings,
    };
    let mut out = serde_json::to_string_pretty(&file).expect("baseline entries are plain strings");
    out.push('\n');
    out
}

/// A finding's identity without positions or message (16 hex digits): rule, files,
/// subject, and the text at its primary location.
pub fn fingerprint(d: &Diagnostic, sources: &SourceMap, facts: &Facts, place: Place<'_>) -> String {
    let mut identity = files_identity(d, sources, place);
    if let Some(id) = d.subject.service_account {
        let sa = facts.service_account(id);
        identity.push_str(&format!("sa {}\0", sa.qualified_name()));
    }
    // A role or association by its address in the file that declares it (a root module's
    // folder is shown relative to the working directory, so it is not an identity).
    let declared = |span: crate::source::Span| relative_path(&sources.get(span.file).path, place);
    if let Some(id) = d.subject.role {
        let role = facts.role(id);
        identity.push_str(&format!("role {} {}\0", declared(role.span), role.address));
    }
    if let Some(id) = d.subject.association {
        let association = facts.association(id);
        let file = declared(association.span);
        identity.push_str(&format!("association {file} {}\0", association.address));
    }
    let at = sources.get(d.primary.span.file).slice(d.primary.span);
    identity.push_str(&at.split_whitespace().collect::<Vec<_>>().join(" "));
    format!("{:016x}", fnv1a(identity.as_bytes()))
}

/// A finding's identity from the files alone (16 hex digits), for SARIF's
/// `partialFingerprints`: rule, files relative to `place.dir`, and the text at the primary and
/// related locations. No positions or message, so moving or rewording keeps it; no facts,
/// so any renderer can compute it.
pub fn text_fingerprint(d: &Diagnostic, sources: &SourceMap, place: Place<'_>) -> String {
    let mut identity = files_identity(d, sources, place);
    for label in std::iter::once(&d.primary).chain(&d.related) {
        let at = sources.get(label.span.file).slice(label.span);
        identity.push_str(&at.split_whitespace().collect::<Vec<_>>().join(" "));
        identity.push('\0');
    }
    format!("{:016x}", fnv1a(identity.as_bytes()))
}

/// A shown path relative to `place.dir` with `/` separators, or `None` when it is not below
/// that folder.
pub fn path_below(shown: &Path, place: Place<'_>) -> Option<String> {
    let relative = relative_path(shown, place);
    (relative != ".." && !relative.starts_with("../")).then_some(relative)
}

/// Version 1: rule, files, message (with positions in it blanked).
fn fingerprint_v1(d: &Diagnostic, sources: &SourceMap, place: Place<'_>) -> String {
    let mut identity = files_identity(d, sources, place);
    identity.push_str(&without_positions(&d.message));
    format!("{:016x}", fnv1a(identity.as_bytes()))
}

/// `rule \0 primary file \0 related files...`, the part both versions share.
fn files_identity(d: &Diagnostic, sources: &SourceMap, place: Place<'_>) -> String {
    let primary = relative_path(&sources.get(d.primary.span.file).path, place);
    let mut related: Vec<String> = d
        .related
        .iter()
        .map(|l| relative_path(&sources.get(l.span.file).path, place))
        .collect();
    related.sort();
    related.dedup();
    let mut identity = format!("{}\0{primary}\0", d.rule_id);
    for r in &related {
        identity.push_str(r);
        identity.push('\0');
    }
    identity
}

/// A shown path relative to the baseline's folder, with `/` separators.
fn relative_path(shown: &Path, place: Place<'_>) -> String {
    let absolute = normalize(&place.cwd.join(shown));
    let base = normalize(place.dir);
    let ours: Vec<Component> = absolute.components().collect();
    let theirs: Vec<Component> = base.components().collect();
    let common = ours.iter().zip(&theirs).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); theirs.len() - common];
    parts.extend(
        ours[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

/// The message with the number after `line` or `column` blanked, so that a parser's
/// position in a message does not change the fingerprint.
fn without_positions(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while !rest.is_empty() {
        let next = ["line ", "column "]
            .iter()
            .filter_map(|w| rest.find(w).map(|i| (i, w.len())))
            .min();
        let Some((at, len)) = next else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..at + len]);
        rest = &rest[at + len..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            out.push('_');
            rest = &rest[digits..];
        }
    }
    out
}

/// 64-bit FNV-1a: small, and stable across builds and platforms, unlike std's hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Label;
    use crate::rules::RULES;
    use crate::source::Span;

    fn finding(sources: &mut SourceMap, path: &str, text: &str, at: usize) -> Diagnostic {
        let id = sources.add(path.into(), text);
        Diagnostic::new(
            RULES[1].meta,
            Label::new(Span::new(id, at..at + 3), "here"),
            "service account payments/api uses role x",
        )
    }

    fn here() -> Place<'static> {
        Place {
            cwd: Path::new("/project"),
            dir: Path::new("/project"),
        }
    }

    #[test]
    fn fingerprints_ignore_positions_and_messages_but_not_files_or_text() {
        let mut sources = SourceMap::default();
        let a = finding(&mut sources, "k8s/sa.yaml", "a: 1\nb: 2\n", 0);
        let moved = finding(&mut sources, "k8s/sa.yaml", "# new\na: 1\nb: 2\n", 6);
        let elsewhere = finding(&mut sources, "k8s/other.yaml", "a: 1\n", 0);
        let other_text = finding(&mut sources, "k8s/sa.yaml", "c: 1\n", 0);
        let facts = Facts::default();
        let fp = |d: &Diagnostic| fingerprint(d, &sources, &facts, here());
        assert_eq!(fp(&a), fp(&moved));
        assert_ne!(fp(&a), fp(&elsewhere));
        assert_ne!(fp(&a), fp(&other_text));
        let mut reworded = a.clone();
        reworded.message = "service account payments/api names role x, which is missing".into();
        assert_eq!(fp(&a), fp(&reworded), "the message is not the identity");
    }

    #[test]
    fn paths_are_relative_to_the_baseline_folder() {
        let from_infra = Place {
            cwd: Path::new("/project/infra"),
            dir: Path::new("/project/ci"),
        };
        assert_eq!(
            relative_path(Path::new("../k8s/sa.yaml"), from_infra),
            "../k8s/sa.yaml"
        );
        assert_eq!(relative_path(Path::new("main.tf"), here()), "main.tf");
    }

    #[test]
    fn positions_in_messages_are_blanked() {
        assert_eq!(
            without_positions("invalid HCL: expected `}` at line 12, column 3"),
            "invalid HCL: expected `}` at line _, column _"
        );
        assert_eq!(without_positions("no line here"), "no line here");
    }

    #[test]
    fn a_written_baseline_hides_what_it_recorded_once_each() {
        let mut sources = SourceMap::default();
        let d = finding(&mut sources, "k8s/sa.yaml", "a: 1\n", 0);
        let facts = Facts::default();
        let text = render(std::slice::from_ref(&d), &sources, &facts, here());
        assert!(text.contains("\"version\": 2"), "{text}");
        let baseline = Baseline::parse(&text, Path::new("/project")).unwrap();
        let mut twice = vec![d.clone(), d];
        baseline.filter(&mut twice, &sources, &facts, Path::new("/project"));
        assert_eq!(twice.len(), 1, "the second copy is new");
        assert!(Baseline::parse("{\"version\": 3, \"findings\": []}", Path::new("/")).is_err());
        assert!(Baseline::parse("[]", Path::new("/")).is_err());
    }

    /// A baseline written by an older irsa-lint (version 1, fingerprinted by message) keeps
    /// suppressing a finding whose message has been improved since.
    #[test]
    fn a_version_1_baseline_keeps_suppressing_after_a_message_change() {
        let mut sources = SourceMap::default();
        let d = finding(&mut sources, "k8s/sa.yaml", "a: 1\n", 0);
        let v1 = format!(
            "{{\"version\": 1, \"findings\": [{{\"fingerprint\": \"{}\", \"rule\": \"{}\", \
             \"path\": \"k8s/sa.yaml\", \"message\": \"{}\"}}]}}",
            fingerprint_v1(&d, &sources, here()),
            d.rule_id,
            d.message
        );
        let baseline = Baseline::parse(&v1, Path::new("/project")).unwrap();
        let facts = Facts::default();
        let mut reworded = d.clone();
        reworded.message = "service account payments/api names role x, defined nowhere".into();
        let mut found = vec![reworded.clone()];
        baseline.filter(&mut found, &sources, &facts, Path::new("/project"));
        assert!(found.is_empty(), "still accepted: {found:?}");
        let mut two = vec![d, reworded];
        baseline.filter(&mut two, &sources, &facts, Path::new("/project"));
        assert_eq!(two.len(), 1, "one recorded finding hides one");
    }
}
