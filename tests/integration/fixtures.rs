//! Runs every fixture project under `fixtures/` and checks the exact set of findings against
//! the expectations written next to the input: a `# expect: IRSA003` comment on the line where
//! a finding's primary location starts, or an `expect.txt` line `path:LINE IRSA003` where a
//! comment is impossible (inside JSON). A level after the id (`# expect: IRSA001 error`) is
//! checked too. Also checks that every rule has fixtures that fire and fixtures that stay
//! silent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use irsa_lint::engine::{Settings, lint};
use irsa_lint::rules::RULES;

/// (file relative to the case folder, line, rule id)
type Finding = (String, u32, String);

/// A level an expectation names (`# expect: IRSA001 error`), checked against the finding.
type Level = (Finding, String);

const LEVELS: [&str; 3] = ["error", "warning", "note"];

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Every case folder: `fixtures/<group>/<case>/`.
fn cases() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for group in sorted_dirs(&fixtures_root()) {
        out.extend(sorted_dirs(&group));
    }
    out
}

fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(files_below(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn relative(path: &Path, base: &Path) -> String {
    let path = path.strip_prefix(base).unwrap_or(path);
    path.to_string_lossy().replace('\\', "/")
}

/// The findings a case expects, from inline markers and `expect.txt`.
fn expected(case: &Path) -> Vec<Finding> {
    let mut out = Vec::new();
    for file in files_below(case) {
        let rel = relative(&file, case);
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        if rel == "expect.txt" {
            for line in text
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            {
                let (place, ids) = line
                    .split_once(' ')
                    .unwrap_or_else(|| panic!("bad expect.txt line in {}: {line}", case.display()));
                let (path, line_no) = place.rsplit_once(':').expect("expect.txt: path:LINE ID");
                for id in ids.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    out.push((
                        path.to_string(),
                        line_no.parse().expect("expect.txt line number"),
                        id.to_string(),
                    ));
                }
            }
            continue;
        }
        for (i, line) in text.lines().enumerate() {
            for (id, _) in markers(line) {
                out.push((rel.clone(), i as u32 + 1, id));
            }
        }
    }
    out.sort();
    out
}

/// The `# expect:` marks of one line: each rule id with the level written after it, if any.
fn markers(line: &str) -> Vec<(String, Option<String>)> {
    let Some(at) = line.find("# expect:") else {
        return Vec::new();
    };
    line[at + "# expect:".len()..]
        .split(',')
        .filter_map(|mark| {
            let mut words = mark.split_whitespace();
            let id = words.next()?.to_string();
            let level = words
                .next()
                .filter(|w| LEVELS.contains(w))
                .map(String::from);
            Some((id, level))
        })
        .collect()
}

/// The levels a case's marks name.
fn expected_levels(case: &Path) -> Vec<Level> {
    let mut out = Vec::new();
    for file in files_below(case) {
        let rel = relative(&file, case);
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            for (id, level) in markers(line) {
                if let Some(level) = level {
                    out.push(((rel.clone(), i as u32 + 1, id), level));
                }
            }
        }
    }
    out
}

/// The findings the linter reports for a case folder, with their levels.
fn actual(case: &Path) -> (Vec<Finding>, Vec<Level>, String) {
    let report = lint(&Settings {
        paths: vec![case.to_path_buf()],
        ..Settings::default()
    })
    .expect("fixture folders exist");
    let cwd = std::env::current_dir().unwrap();
    let case_shown = irsa_lint::discover::display_path(case, &cwd);
    let mut out: Vec<Finding> = Vec::new();
    let mut levels: Vec<Level> = Vec::new();
    let mut explained = String::new();
    for d in &report.diagnostics {
        let file = report.sources.get(d.primary.span.file);
        let line = file.line_col(d.primary.span.start).line;
        let rel = relative(&file.path, &case_shown);
        let level = d.level.as_str();
        explained.push_str(&format!(
            "  {rel}:{line} {} {level} {}\n",
            d.rule_id, d.message
        ));
        let finding = (rel, line, d.rule_id.to_string());
        levels.push((finding.clone(), level.to_string()));
        out.push(finding);
    }
    out.sort();
    (out, levels, explained)
}

#[test]
fn every_fixture_reports_exactly_what_it_marks() {
    let cases = cases();
    assert!(
        cases.len() > 20,
        "expected many fixture cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let want = expected(case);
        let (got, levels, explained) = actual(case);
        let wrong_levels: Vec<_> = expected_levels(case)
            .into_iter()
            .filter(|want| levels.iter().any(|got| got.0 == want.0) && !levels.contains(want))
            .collect();
        if want != got || !wrong_levels.is_empty() {
            let missing: Vec<_> = want.iter().filter(|f| !got.contains(f)).collect();
            let extra: Vec<_> = got.iter().filter(|f| !want.contains(f)).collect();
            failures.push(format!(
                "{}\n  missing: {missing:?}\n  unexpected: {extra:?}\n  \
                 other level than marked: {wrong_levels:?}\n  reported:\n{explained}",
                relative(case, &fixtures_root())
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixture cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_rule_has_failing_and_passing_fixtures() {
    let mut by_rule: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for case in cases() {
        let group = case
            .parent()
            .and_then(|g| g.file_name())
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let name = case
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        for rule in RULES {
            if !group.starts_with(&format!("{}-", rule.meta.id)) {
                continue;
            }
            let entry = by_rule.entry(rule.meta.id).or_default();
            let fires = expected(&case).iter().any(|(_, _, id)| id == rule.meta.id);
            if name.starts_with("fail") {
                assert!(
                    fires,
                    "{group}/{name} is a failing case but marks no {}",
                    rule.meta.id
                );
                entry.0 += 1;
            } else if name.starts_with("pass") {
                assert!(
                    !fires,
                    "{group}/{name} is a passing look-alike but marks {}",
                    rule.meta.id
                );
                entry.1 += 1;
            }
        }
    }
    for rule in RULES {
        let (fail, pass) = by_rule.get(rule.meta.id).copied().unwrap_or_default();
        assert!(
            fail > 0 && pass > 0,
            "{} {} needs fixtures: {fail} failing, {pass} passing",
            rule.meta.id,
            rule.meta.name
        );
    }
}

/// The same broken link, written in every layout (heredoc, jsonencode, policy document, file,
/// templatefile; issuer literal, variable, tfvars or reference; ServiceAccount in YAML, JSON,
/// a List or Terraform), gives the same finding with the same message.
#[test]
fn every_layout_gives_the_same_finding() {
    let layouts = sorted_dirs(&fixtures_root().join("layouts"));
    assert!(
        layouts.len() >= 10,
        "expected the layout variants, found {}",
        layouts.len()
    );
    let messages = |case: &Path| -> Vec<(String, String)> {
        let report = lint(&Settings {
            paths: vec![case.to_path_buf()],
            ..Settings::default()
        })
        .expect("layout folders exist");
        report
            .diagnostics
            .iter()
            .map(|d| (d.rule_id.to_string(), d.message.clone()))
            .collect()
    };
    let first = messages(&layouts[0]);
    assert!(!first.is_empty());
    for case in &layouts[1..] {
        assert_eq!(
            messages(case),
            first,
            "{} differs from {}",
            relative(case, &fixtures_root()),
            relative(&layouts[0], &fixtures_root())
        );
    }
}
