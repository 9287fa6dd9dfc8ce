//! The guarantees in the README's "Guarantees" section, checked: linting never writes the
//! scanned tree, the code starts no process and opens no socket, and Terraform's `file()`
//! never reads outside the scanned roots.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use irsa_lint::engine::{Settings, lint};

type Snapshot = BTreeMap<PathBuf, Option<(Vec<u8>, SystemTime)>>;

/// Every folder and file below `root`, with each file's bytes and modification time.
fn snapshot(root: &Path) -> Snapshot {
    fn walk(root: &Path, dir: &Path, out: &mut Snapshot) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(root).unwrap().to_path_buf();
            if path.is_dir() {
                out.insert(relative, None);
                walk(root, &path, out);
            } else {
                let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
                out.insert(relative, Some((std::fs::read(&path).unwrap(), modified)));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

#[test]
fn linting_every_fixture_writes_nothing() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixtures = repo.join("fixtures");
    let before = snapshot(&fixtures);
    for args in [
        &["check", "--format", "json", "fixtures"][..],
        &["check", "--format", "sarif", "fixtures"],
        &["check", "--format", "human", "fixtures"],
        &["graph", "fixtures"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_irsa-lint"))
            .args(args)
            .current_dir(repo)
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {out:?}"
        );
    }
    assert!(before == snapshot(&fixtures), "the fixtures changed");
}

/// The source files of the binary and library, without their unit tests.
fn shipped_sources() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let shipped = match text.find("#[cfg(test)]") {
                    Some(at) => text[..at].to_string(),
                    None => text,
                };
                out.push((path, shipped));
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    assert!(out.len() > 20, "the sources were found");
    out
}

#[test]
fn no_subprocess_and_no_network_in_the_shipped_code() {
    const FORBIDDEN: &[&str] = &[
        "process::Command",
        "Command::new(",
        "std::net",
        "TcpStream",
        "TcpListener",
        "UdpSocket",
        "UnixStream",
        "ToSocketAddrs",
    ];
    for (path, text) in shipped_sources() {
        for word in FORBIDDEN {
            assert!(!text.contains(word), "{} uses {word}", path.display());
        }
    }
    let manifest = include_str!("../../Cargo.toml");
    let dependencies = manifest.split("[dev-dependencies]").next().unwrap();
    for client in ["reqwest", "ureq", "hyper", "curl", "attohttpc", "isahc"] {
        assert!(!dependencies.contains(client), "depends on {client}");
    }
}

#[test]
fn the_only_file_ever_written_is_the_one_named() {
    const WRITES: &[&str] = &[
        "fs::write",
        "File::create",
        "OpenOptions",
        "create_dir",
        "remove_file",
        "remove_dir",
        "fs::rename",
        "fs::copy",
        "set_permissions",
    ];
    let mut writers = Vec::new();
    let mut reader = None;
    for (path, text) in shipped_sources() {
        if path.ends_with("src/open.rs") {
            reader = Some(text.clone());
        }
        for word in WRITES {
            if text.contains(word) {
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                writers.push((name, *word));
            }
        }
    }
    // The file `--write-baseline` or `-o` names, through one no-follow writer. (The benchmark
    // generator, which writes its output tree, lives in dev/ and is not part of the linter.)
    writers.sort();
    // The one reader needs `OpenOptions` for its flags (no-block, no-follow), and opens
    // for reading only.
    assert_eq!(
        writers,
        [
            ("open.rs".to_string(), "OpenOptions"),
            ("write.rs".to_string(), "OpenOptions")
        ]
    );
    let reader = reader.expect("src/open.rs is shipped");
    for flag in [
        ".write(",
        ".append(",
        ".create(",
        ".truncate(",
        ".create_new(",
    ] {
        assert!(!reader.contains(flag), "src/open.rs sets {flag}");
    }
}

/// A trust policy whose condition key has a scheme: IRSA006 wherever it is read.
const POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"Federated": "arn:aws:iam::482910375521:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A"},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {"StringEquals": {"https://oidc.eks.eu-west-1.amazonaws.com/id/5C5E1F0A:sub": "system:serviceaccount:pay:api"}}
  }]
}
"#;

fn role_reading(path: &str) -> String {
    format!(
        "resource \"aws_iam_role\" \"api\" {{\n  name = \"api\"\n  \
         assume_role_policy = file(\"${{path.module}}/{path}\")\n}}\n"
    )
}

#[test]
fn file_never_reads_outside_the_scanned_roots() {
    let outer = tempfile::tempdir().unwrap();
    std::fs::write(outer.path().join("outside.json"), POLICY).unwrap();
    let repo = outer.path().join("repo");
    std::fs::create_dir_all(repo.join("infra")).unwrap();
    std::fs::create_dir_all(repo.join("inside")).unwrap();
    std::fs::write(repo.join("inside/policy.txt"), POLICY).unwrap();
    let lint_with = |main_tf: String| {
        std::fs::write(repo.join("infra/main.tf"), main_tf).unwrap();
        let report = lint(&Settings {
            paths: vec![repo.clone()],
            ..Settings::default()
        })
        .unwrap();
        let ids: Vec<_> = report.diagnostics.iter().map(|d| d.rule_id).collect();
        let read_outside = report
            .sources
            .iter()
            .any(|(_, f)| f.path.to_string_lossy().contains("outside.json"));
        (ids, read_outside)
    };
    // The same policy below the root is read, so the check below can fail.
    let (inside, _) = lint_with(role_reading("../inside/policy.txt"));
    assert!(inside.contains(&"IRSA006"), "{inside:?}");
    let (outside, read_outside) = lint_with(role_reading("../../outside.json"));
    assert!(!outside.contains(&"IRSA006"), "{outside:?}");
    assert!(!read_outside);
    #[cfg(unix)]
    {
        // Nor through a link below the root that points out of it.
        std::os::unix::fs::symlink(
            outer.path().join("outside.json"),
            repo.join("infra/link.txt"),
        )
        .unwrap();
        let (linked, read_outside) = lint_with(role_reading("link.txt"));
        assert!(!linked.contains(&"IRSA006"), "{linked:?}");
        assert!(!read_outside);
    }
}

/// A fresh clone has nothing beside it: no build or test file may name a folder outside
/// the repository (the SARIF schema is vendored in `tests/data/`).
#[test]
fn nothing_in_the_build_or_tests_reads_outside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut offenders = Vec::new();
    for dir in ["src", "tests", "dev", "scripts", ".ci", "fuzz/fuzz_targets"] {
        for file in files_below(&root.join(dir)) {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            // Spelt in pieces, so that this test is not itself a file that names them.
            let outside = [
                concat!("../", "shared"),
                concat!("IRSA_LINT_", "SHARED_DIR"),
            ];
            if outside.iter().any(|word| text.contains(word)) {
                offenders.push(file.display().to_string());
            }
        }
    }
    assert_eq!(offenders, Vec::<String>::new());
}

fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_below(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Architecture invariant: the library's top-level modules depend on each other without
/// cycles (shipped code only; tests may reach anywhere), so each layer can be read and
/// changed knowing only the ones below it.
#[test]
fn modules_depend_on_each_other_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut edges: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for file in files_below(&src) {
        let rel = file.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if ["main", "cli", "commands", "lib"].contains(&top.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        if text.contains("#![cfg(test)]") {
            continue;
        }
        let shipped = text.split("#[cfg(test)]").next().unwrap();
        for line in shipped
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
        {
            for (at, _) in line.match_indices("crate::") {
                let name: String = line[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if !name.is_empty() && name != top {
                    edges.entry(top.clone()).or_default().insert(name);
                }
            }
        }
    }
    assert!(edges.len() > 10, "the modules were found: {edges:?}");
    // A module that reaches itself through others is on a cycle.
    let mut cycles = Vec::new();
    for start in edges.keys() {
        let mut seen = std::collections::BTreeSet::new();
        let mut stack: Vec<&String> = edges[start].iter().collect();
        while let Some(next) = stack.pop() {
            if next == start {
                cycles.push(start.clone());
                break;
            }
            if seen.insert(next.clone()) {
                stack.extend(edges.get(next).into_iter().flatten());
            }
        }
    }
    assert_eq!(
        cycles,
        Vec::<String>::new(),
        "module dependencies: {edges:#?}"
    );
}
