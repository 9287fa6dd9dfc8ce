//! Baselines: the findings a project has accepted for now, so that only new ones are
//! reported. `--write-baseline FILE` records the current findings; `--baseline FILE` hides
//! the findings recorded there.
//!
//! A finding is recognised by its fingerprint: its rule, the paths of the files its primary
//! and related locations are in (relative to the baseline's folder, so the baseline works
//! from any working directory) and its message. Line and column numbers are deliberately
//! absent, so a fingerprint survives edits elsewhere in the files: messages name things
//! (ServiceAccounts, roles, subjects), never positions, and any `line N`/`column N` a parser
//! puts in one is blanked. The file is a frozen, versioned JSON document, not a dump of
//! internal types. This module does no IO: the command line reads and writes the file.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::diagnostic::Diagnostic;
use crate::eval::workspace::normalize;
use crate::source::SourceMap;

/// The version of the baseline file format this build reads and writes.
pub const VERSION: u32 = 1;

/// The findings of a baseline file, by fingerprint, with how many findings each covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    /// The folder of the baseline file (absolute): file paths are relative to it.
    dir: PathBuf,
    counts: HashMap<String, usize>,
}

/// Where a run is and where its baseline lives, to make paths relative to the baseline.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// The working directory the shown paths are relative to.
    pub cwd: &'a Path,
    /// The folder of the baseline file.
    pub dir: &'a Path,
}

#[derive(Serialize, Deserialize)]
struct FileV1 {
    version: u32,
    findings: Vec<EntryV1>,
}

/// One accepted finding. Only `fingerprint` is compared; the rest is for people reviewing
/// the file.
#[derive(Serialize, Deserialize)]
struct EntryV1 {
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
        if version.version != VERSION {
            return Err(format!(
                "baseline version {} is not supported (this irsa-lint reads version {VERSION}); \
                 write it again with --write-baseline",
                version.version
            ));
        }
        let file: FileV1 =
            serde_json::from_str(text).map_err(|e| format!("not an irsa-lint baseline: {e}"))?;
        let mut counts = HashMap::new();
        for entry in file.findings {
            *counts.entry(entry.fingerprint).or_insert(0) += 1;
        }
        Ok(Baseline {
            dir: normalize(dir),
            counts,
        })
    }

    /// Remove the findings the baseline accepts. Each recorded finding hides one current
    /// finding with its fingerprint, so a second copy of an accepted mistake is still shown.
    pub fn filter(&self, diagnostics: &mut Vec<Diagnostic>, sources: &SourceMap, cwd: &Path) {
        let place = Place {
            cwd,
            dir: &self.dir,
        };
        let mut left = self.counts.clone();
        diagnostics.retain(|d| match left.get_mut(&fingerprint(d, sources, place)) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        });
    }
}

/// The baseline file for a run's findings, sorted so that it changes only when findings do.
pub fn render(diagnostics: &[Diagnostic], sources: &SourceMap, place: Place<'_>) -> String {
    let mut findings: Vec<EntryV1> = diagnostics
        .iter()
        .map(|d| EntryV1 {
            fingerprint: fingerprint(d, sources, place),
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
    let file = FileV1 {
        version: VERSION,
        findings,
    };
    let mut out = serde_json::to_string_pretty(&file).expect("baseline entries are plain strings");
    out.push('\n');
    out
}

/// A finding's identity without positions: rule, files, message (16 hex digits).
pub fn fingerprint(d: &Diagnostic, sources: &SourceMap, place: Place<'_>) -> String {
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
    identity.push_str(&without_positions(&d.message));
    format!("{:016x}", fnv1a(identity.as_bytes()))
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
    fn fingerprints_ignore_positions_but_not_files_or_messages() {
        let mut sources = SourceMap::default();
        let a = finding(&mut sources, "k8s/sa.yaml", "a: 1\nb: 2\n", 0);
        let moved = finding(&mut sources, "k8s/sa.yaml", "# new\na: 1\nb: 2\n", 6);
        let elsewhere = finding(&mut sources, "k8s/other.yaml", "a: 1\n", 0);
        let fp = |d: &Diagnostic| fingerprint(d, &sources, here());
        assert_eq!(fp(&a), fp(&moved));
        assert_ne!(fp(&a), fp(&elsewhere));
        let mut renamed = a.clone();
        renamed.message = "service account payments/worker uses role x".into();
        assert_ne!(fp(&a), fp(&renamed));
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
        let text = render(std::slice::from_ref(&d), &sources, here());
        let baseline = Baseline::parse(&text, Path::new("/project")).unwrap();
        let mut twice = vec![d.clone(), d];
        baseline.filter(&mut twice, &sources, Path::new("/project"));
        assert_eq!(twice.len(), 1, "the second copy is new");
        assert!(Baseline::parse("{\"version\": 2, \"findings\": []}", Path::new("/")).is_err());
        assert!(Baseline::parse("[]", Path::new("/")).is_err());
    }
}
