//! Hostile and broken input: every case must end without a panic or a hang, report what it
//! can with a position, and still lint the rest of the tree. Each tree holds a witness pair
//! next to the bad file (a ServiceAccount with a misspelt annotation key, IRSA013); its
//! finding must still appear. Crashes found by fuzzing (`scripts/fuzz.sh`) are kept here.
//!
//! A file that vanishes between the walk and the read is a unit test in `engine.rs` (the
//! gap cannot be hit from outside). A cycle through locals is reported (an IRSA000 warning)
//! and its values stay unknown.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use irsa_lint::engine::{Report, Settings, lint};

/// A ServiceAccount whose annotation key is misspelt: IRSA013 on line 7, a finding that
/// depends on this file alone (an unknown role name elsewhere would hide IRSA001).
const WITNESS_SA: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n  \
                          namespace: pay\n  annotations:\n    eks.amazonaws.com/role-arm: \
                          arn:aws:iam::482910375521:role/ledger-api\n";

/// An `aws_iam_role` block that is never closed: IRSA000 at line 2, column 13.
const BROKEN_TF: &str = "resource \"aws_iam_role\" \"x\" {\n  name = \"a\"\n";

/// Generous: a debug build on a busy two-core machine. A hang is minutes, not seconds.
const TIME_LIMIT: Duration = Duration::from_secs(60);

struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    /// A tree with the witness pair in `witness/`.
    fn new() -> Tree {
        let tree = Tree {
            dir: tempfile::tempdir().unwrap(),
        };
        tree.file("witness/sa.yaml", WITNESS_SA);
        tree
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn file(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Lint the whole tree within the time limit, on another thread so that a hang fails
    /// the test instead of blocking the suite.
    fn lint(&self) -> Linted {
        lint_within_limit(vec![self.path().to_path_buf()])
    }

    /// Run the real binary on the tree; returns the exit status and the JSON output.
    fn run(&self) -> (i32, serde_json::Value) {
        let out = Command::new(env!("CARGO_BIN_EXE_irsa-lint"))
            .args(["check", "--format", "json", "."])
            .current_dir(self.path())
            .output()
            .unwrap();
        let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
        });
        (out.status.code().unwrap_or(-1), json)
    }
}

struct Linted {
    report: Report,
    root: PathBuf,
}

fn lint_within_limit(paths: Vec<PathBuf>) -> Linted {
    let root = paths[0].clone();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let settings = Settings {
            paths,
            ..Settings::default()
        };
        let _ = send.send(lint(&settings).unwrap());
    });
    let report = receive
        .recv_timeout(TIME_LIMIT)
        .expect("linting ends within the time limit, without a panic");
    Linted { report, root }
}

impl Linted {
    /// (file relative to the tree, line, column, rule id, message) of every finding.
    fn findings(&self) -> Vec<(String, u32, u32, &'static str, String)> {
        let sources = &self.report.sources;
        self.report
            .diagnostics
            .iter()
            .map(|d| {
                let file = sources.get(d.primary.span.file);
                let at = file.line_col(d.primary.span.start);
                let path = file.path.strip_prefix(&self.root).unwrap_or(&file.path);
                let path = path.to_string_lossy().replace('\\', "/");
                (path, at.line, at.column, d.rule_id, d.message.clone())
            })
            .collect()
    }

    fn in_file(&self, name: &str) -> Vec<(u32, u32, &'static str, String)> {
        self.findings()
            .into_iter()
            .filter(|f| f.0 == name)
            .map(|(_, line, column, id, message)| (line, column, id, message))
            .collect()
    }

    /// The witness pair's finding is still there: the rest of the tree was linted.
    fn assert_witness(&self) {
        let witness = self.in_file("witness/sa.yaml");
        assert!(
            witness.iter().any(|f| f.0 == 7 && f.2 == "IRSA013"),
            "the rest of the tree is still linted: {:?}",
            self.findings()
        );
    }
}

#[test]
fn a_binary_file_named_tf_is_one_parse_error_at_its_start() {
    let tree = Tree::new();
    tree.file("infra/blob.tf", [0u8, 159, 146, 150, 0xff, 0, 1, 2]);
    let linted = tree.lint();
    linted.assert_witness();
    let blob = linted.in_file("infra/blob.tf");
    assert_eq!(blob.len(), 1, "{blob:?}");
    assert_eq!((blob[0].0, blob[0].1, blob[0].2), (1, 1, "IRSA000"));
    assert!(blob[0].3.contains("not valid UTF-8"), "{blob:?}");
    let (status, _) = tree.run();
    assert_eq!(status, 1, "a parse error is an error-level finding");
}

#[test]
fn invalid_utf8_in_a_manifest_is_one_parse_error() {
    let tree = Tree::new();
    let mut text = WITNESS_SA.replace("pay", "other").into_bytes();
    text.extend_from_slice(b"  label: caf\xe9\n");
    tree.file("k8s/latin1.yaml", text);
    let linted = tree.lint();
    linted.assert_witness();
    let latin1 = linted.in_file("k8s/latin1.yaml");
    assert_eq!(latin1.len(), 1, "{latin1:?}");
    assert_eq!((latin1[0].0, latin1[0].2), (1, "IRSA000"));
}

#[test]
fn a_byte_order_mark_keeps_positions() {
    let tree = Tree::new();
    tree.file("infra/bom.tf", format!("\u{feff}{BROKEN_TF}"));
    tree.file("k8s/bom.yaml", format!("\u{feff}{WITNESS_SA}"));
    let linted = tree.lint();
    linted.assert_witness();
    let bom = linted.in_file("infra/bom.tf");
    assert_eq!(bom.len(), 1, "{bom:?}");
    assert_eq!((bom[0].0, bom[0].2), (2, "IRSA000"));
    let sa = linted.in_file("k8s/bom.yaml");
    assert!(sa.iter().any(|f| f.0 == 7 && f.2 == "IRSA013"), "{sa:?}");
}

#[test]
fn crlf_line_endings_keep_lines_and_columns() {
    let tree = Tree::new();
    tree.file("infra/lf.tf", BROKEN_TF);
    tree.file("other/crlf.tf", BROKEN_TF.replace('\n', "\r\n"));
    tree.file("k8s/crlf.yaml", WITNESS_SA.replace('\n', "\r\n"));
    let linted = tree.lint();
    linted.assert_witness();
    let lf = linted.in_file("infra/lf.tf");
    let crlf = linted.in_file("other/crlf.tf");
    assert_eq!(lf.len(), 1, "{lf:?}");
    assert_eq!((lf[0].0, lf[0].1), (crlf[0].0, crlf[0].1), "{crlf:?}");
    let sa = linted.in_file("k8s/crlf.yaml");
    assert!(sa.iter().any(|f| f.0 == 7 && f.2 == "IRSA013"), "{sa:?}");
}

/// kubectl (go-yaml, a port of libyaml) breaks lines at NEL, LINE SEPARATOR and PARAGRAPH
/// SEPARATOR too: a manifest written with them is read as kubectl reads it, not as one line
/// holding nothing, and positions count lines as editors do (at `\n` only).
#[test]
fn unicode_line_breaks_are_read_as_kubectl_reads_them() {
    let tree = Tree::new();
    let sa = WITNESS_SA
        .replacen('\n', "\u{2028}", 1)
        .replacen('\n', "\u{85}", 1)
        .replacen('\n', "\u{2029}", 1)
        .replace('\n', "\u{2028}");
    tree.file("k8s/sa.yaml", &sa);
    let linted = tree.lint();
    linted.assert_witness();
    let key = sa.find("eks.amazonaws.com/role-arm").unwrap();
    let column = sa[..key].chars().count() as u32 + 1;
    let found = linted.in_file("k8s/sa.yaml");
    assert_eq!(
        found.iter().map(|f| (f.0, f.1, f.2)).collect::<Vec<_>>(),
        [(1, column, "IRSA013")],
        "{found:?}"
    );
}

#[test]
fn tabs_are_one_column_each() {
    let tree = Tree::new();
    tree.file("infra/tabs.tf", BROKEN_TF.replace("  ", "\t"));
    let linted = tree.lint();
    linted.assert_witness();
    let tabs = linted.in_file("infra/tabs.tf");
    assert_eq!(tabs.len(), 1, "{tabs:?}");
    assert_eq!((tabs[0].0, tabs[0].2), (2, "IRSA000"));
}

#[test]
fn empty_files_are_read_and_say_nothing() {
    let tree = Tree::new();
    for name in [
        "infra/empty.tf",
        "k8s/empty.yaml",
        "k8s/empty.json",
        "x.tf.json",
    ] {
        tree.file(name, "");
    }
    let linted = tree.lint();
    linted.assert_witness();
    for name in ["infra/empty.tf", "k8s/empty.yaml"] {
        assert_eq!(linted.in_file(name), [], "{name}");
    }
}

#[test]
fn a_file_over_the_size_limit_is_reported_and_not_read() {
    let tree = Tree::new();
    let big = tree.file("infra/big.tf", "");
    // Sparse: 50 MB on paper, nothing on disk.
    std::fs::File::options()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(50 * 1024 * 1024)
        .unwrap();
    let linted = tree.lint();
    linted.assert_witness();
    let found = linted.in_file("infra/big.tf");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].0, found[0].1, found[0].2), (1, 1, "IRSA000"));
    assert!(found[0].3.contains("larger than 16 MiB"), "{found:?}");
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    let depth = 100_000;
    let tree = Tree::new();
    let open = "[".repeat(depth);
    let close = "]".repeat(depth);
    tree.file(
        "infra/deep.tf",
        format!("locals {{\n  x = {open}{close}\n}}\n"),
    );
    let braces = "{\"a\": ".repeat(depth) + "1" + &"}".repeat(depth);
    tree.file("k8s/deep.json", &braces);
    // Named like a plan, which a plan's reader would bound, but not one.
    tree.file(
        "k8s/deep-versions.json",
        format!(r#"{{"format_version": "1.2", "terraform_version": "1.9.8", "x": {braces}}}"#),
    );
    tree.file("k8s/deep.yaml", format!("{open}{close}\n"));
    tree.file(
        "json/main.tf.json",
        format!("{{\"locals\": {{\"x\": {braces}}}}}"),
    );
    let linted = tree.lint();
    linted.assert_witness();
    for name in [
        "infra/deep.tf",
        "k8s/deep.json",
        "k8s/deep-versions.json",
        "k8s/deep.yaml",
        "json/main.tf.json",
    ] {
        let found = linted.in_file(name);
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        assert_eq!(found[0].2, "IRSA000", "{name}");
        assert!(
            found[0].3.contains("nested more than 500 levels"),
            "{found:?}"
        );
    }
    let found = linted.in_file("infra/deep.tf");
    // `locals {` is the first level: the 500th `[` opens level 501.
    assert_eq!(
        (found[0].0, found[0].1),
        (2, 506),
        "at the bracket that is too deep"
    );
}

#[test]
fn a_yaml_alias_bomb_ends_quickly() {
    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let mut previous = 'a';
    for name in "bcdefghi".chars() {
        let refs = vec![format!("*{previous}"); 9].join(",");
        bomb.push_str(&format!("{name}: &{name} [{refs}]\n"));
        previous = name;
    }
    let tree = Tree::new();
    tree.file(
        "k8s/bomb.yaml",
        format!("apiVersion: v1\nkind: ServiceAccount\n{bomb}"),
    );
    let started = Instant::now();
    let linted = tree.lint();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    linted.assert_witness();
}

#[test]
fn duplicate_yaml_keys_do_not_stop_the_run() {
    let tree = Tree::new();
    let duplicated = WITNESS_SA.replace("  name: api\n", "  name: api\n  name: api\n");
    tree.file("k8s/duplicate.yaml", duplicated.replace("pay", "other"));
    let linted = tree.lint();
    linted.assert_witness();
}

#[test]
fn a_ten_megabyte_line_is_read_in_bounded_time() {
    let tree = Tree::new();
    let line = "x".repeat(10 * 1024 * 1024);
    tree.file("infra/long.tf", format!("locals {{ long = \"{line}\" }}\n"));
    tree.file(
        "k8s/long.yaml",
        format!("# {line}\n{}", WITNESS_SA.replace("pay", "x")),
    );
    let started = Instant::now();
    let linted = tree.lint();
    assert!(started.elapsed() < TIME_LIMIT);
    linted.assert_witness();
    assert_eq!(linted.in_file("infra/long.tf"), []);
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_not_followed() {
    let tree = Tree::new();
    std::fs::create_dir_all(tree.path().join("loop")).unwrap();
    std::os::unix::fs::symlink("..", tree.path().join("loop/up")).unwrap();
    std::os::unix::fs::symlink("self", tree.path().join("loop/self")).unwrap();
    std::os::unix::fs::symlink("b.tf", tree.path().join("loop/a.tf")).unwrap();
    std::os::unix::fs::symlink("a.tf", tree.path().join("loop/b.tf")).unwrap();
    let linted = tree.lint();
    linted.assert_witness();
    assert!(linted.findings().iter().all(|f| !f.0.starts_with("loop")));
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_root_is_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.tf"), BROKEN_TF).unwrap();
    let tree = Tree::new();
    std::os::unix::fs::symlink(outside.path(), tree.path().join("outside")).unwrap();
    let link = tree.path().join("linked.tf");
    std::os::unix::fs::symlink(outside.path().join("secret.tf"), link).unwrap();
    let linted = tree.lint();
    linted.assert_witness();
    let ids: Vec<_> = linted.findings().into_iter().map(|f| f.3).collect();
    assert!(!ids.contains(&"IRSA000"), "{:?}", linted.findings());
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_reported_or_read_as_root() {
    use std::os::unix::fs::PermissionsExt;
    let tree = Tree::new();
    let locked = tree.file("infra/locked.tf", BROKEN_TF);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root (CI containers) reads a mode-000 file anyway: then it is linted like any other.
    let readable_anyway = std::fs::read(&locked).is_ok();
    let linted = tree.lint();
    linted.assert_witness();
    let found = linted.in_file("infra/locked.tf");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].2, "IRSA000");
    if readable_anyway {
        assert_eq!(found[0].0, 2, "read and parsed: {found:?}");
    } else {
        assert_eq!((found[0].0, found[0].1), (1, 1));
        assert!(found[0].3.contains("permission denied"), "{found:?}");
    }
}

#[cfg(unix)]
#[test]
fn a_file_name_that_is_not_utf8_is_still_read() {
    use std::os::unix::ffi::OsStrExt;
    let tree = Tree::new();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.tf");
    std::fs::write(tree.path().join("infra").join(name), BROKEN_TF)
        .or_else(|_| {
            std::fs::create_dir_all(tree.path().join("infra"))?;
            std::fs::write(tree.path().join("infra").join(name), BROKEN_TF)
        })
        .unwrap();
    let linted = tree.lint();
    linted.assert_witness();
    let found: Vec<_> = linted
        .findings()
        .into_iter()
        .filter(|f| f.0.starts_with("infra/caf"))
        .collect();
    assert_eq!(found.len(), 1, "{:?}", linted.findings());
    assert_eq!((found[0].1, found[0].3), (2, "IRSA000"));
}

#[cfg(unix)]
#[test]
fn a_fifo_is_skipped_not_waited_on() {
    let tree = Tree::new();
    let fifo = tree.path().join("infra/pipe.tf");
    std::fs::create_dir_all(fifo.parent().unwrap()).unwrap();
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let linted = tree.lint();
    linted.assert_witness();
    // Named on the command line, it is reported, not opened.
    let named = lint_within_limit(vec![fifo.clone(), tree.path().join("witness")]);
    let found = named.findings();
    let ids: Vec<_> = found.iter().map(|f| f.3).collect();
    assert_eq!(ids, ["IRSA000", "IRSA013"], "{found:?}");
    assert!(found[0].4.contains("not a regular file"), "{found:?}");
}

/// What a bounded run of the binary gave.
#[derive(Debug)]
struct Bounded {
    status: i32,
    stdout: String,
    stderr: String,
}

/// The hostile-input promise: every run ends within this time, in this much memory.
const HOSTILE_TIME: Duration = Duration::from_secs(20);
const HOSTILE_MEMORY_KIB: u64 = 1536 * 1024;

/// Run the binary in `dir` within [`HOSTILE_TIME`] and [`HOSTILE_MEMORY_KIB`] of address
/// space (`ulimit -v`); a run past either fails the test.
#[cfg(unix)]
fn run_bounded(dir: &Path, args: &[&str]) -> Bounded {
    let script = format!("ulimit -v {HOSTILE_MEMORY_KIB}; exec \"$0\" \"$@\"");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_irsa-lint"))
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > HOSTILE_TIME {
            let _ = child.kill();
            panic!("irsa-lint {args:?} did not end within {HOSTILE_TIME:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    Bounded {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

/// A secret kept outside the scanned tree, in a file that is not valid TOML, HCL or JSON:
/// an error message that quoted it would leak it into a CI log.
const SECRET: &str = "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY {\n";

#[cfg(unix)]
fn secret_outside() -> (tempfile::TempDir, PathBuf) {
    let outside = tempfile::tempdir().unwrap();
    let path = outside.path().join("credentials");
    std::fs::write(&path, SECRET).unwrap();
    (outside, path)
}

#[cfg(unix)]
fn assert_no_secret(run: &Bounded) {
    assert!(
        !run.stdout.contains("wJalrXUtnFEMI") && !run.stderr.contains("wJalrXUtnFEMI"),
        "the secret reached the output: {run:?}"
    );
}

/// Ignore files are read by the walk through the one checked open: a FIFO, a link to a
/// device and a link out of the tree in their place are not read (as git does not follow
/// a linked `.gitignore`), and the run lints the rest; a regular `.gitignore` still works.
#[cfg(unix)]
#[test]
fn ignore_files_that_are_fifos_devices_or_links_are_not_read() {
    let tree = Tree::new();
    mkfifo(&tree.path().join(".gitignore"));
    tree.file("infra/.keep", "");
    std::os::unix::fs::symlink("/dev/zero", tree.path().join("infra/.ignore")).unwrap();
    std::fs::create_dir_all(tree.path().join(".git/info")).unwrap();
    mkfifo(&tree.path().join(".git/info/exclude"));
    let (_outside, secret) = secret_outside();
    tree.file("apps/.keep", "");
    std::os::unix::fs::symlink(&secret, tree.path().join("apps/.gitignore")).unwrap();
    tree.file("generated/.gitignore", "# rendered by CI\n*.tf\n");
    tree.file("generated/broken.tf", BROKEN_TF);
    let run = run_bounded(tree.path(), &["check", "--format", "json", "."]);
    assert_eq!(run.status, 1, "{run:?}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let found: Vec<(String, String)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let at = &d["location"]["path"];
            (
                at.as_str().unwrap_or("").to_string(),
                d["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [("witness/sa.yaml".to_string(), "IRSA013".to_string())],
        "the ignored file stays ignored and the witness is reported: {run:?}"
    );
}

/// `.irsa-lint.toml` committed as a link to a file elsewhere is not read: the run stops with
/// a usage error that says so, and no line of the other file reaches the output.
#[cfg(unix)]
#[test]
fn a_configuration_file_linked_out_of_its_folder_is_not_read() {
    let tree = Tree::new();
    let (_outside, secret) = secret_outside();
    std::os::unix::fs::symlink(&secret, tree.path().join(".irsa-lint.toml")).unwrap();
    let run = run_bounded(tree.path(), &["check", "."]);
    assert_eq!(run.status, 2, "{run:?}");
    assert!(
        run.stderr
            .contains(".irsa-lint.toml: is a symbolic link leading out of its folder"),
        "{run:?}"
    );
    assert_no_secret(&run);
    // The same link named with `--config` from inside the working folder.
    std::fs::rename(
        tree.path().join(".irsa-lint.toml"),
        tree.path().join("lint.toml"),
    )
    .unwrap();
    let run = run_bounded(tree.path(), &["check", "--config", "lint.toml", "."]);
    assert_eq!(run.status, 2, "{run:?}");
    assert!(
        run.stderr.contains("lint.toml: is a symbolic link"),
        "{run:?}"
    );
    assert_no_secret(&run);
    // A link that stays in the folder is read as the file it names.
    std::fs::remove_file(tree.path().join("lint.toml")).unwrap();
    tree.file("config/irsa-lint.toml", "[rules]\nIRSA013 = \"off\"\n");
    std::os::unix::fs::symlink("config/irsa-lint.toml", tree.path().join(".irsa-lint.toml"))
        .unwrap();
    let run = run_bounded(tree.path(), &["check", "."]);
    assert_eq!(run.status, 0, "{run:?}");
}

/// `var_files` may name only files below the configuration's folder: `..`, an absolute
/// path or a link out of it is a configuration error that names the entry, not its content.
#[cfg(unix)]
#[test]
fn var_files_outside_the_configuration_folder_are_not_read() {
    let (outside, secret) = secret_outside();
    let tree = Tree::new();
    std::os::unix::fs::symlink(&secret, tree.path().join("prod.tfvars")).unwrap();
    let relative = format!(
        "../{}/credentials",
        outside.path().file_name().unwrap().to_string_lossy()
    );
    for entry in [
        "prod.tfvars".to_string(),
        secret.display().to_string(),
        relative,
    ] {
        tree.file(".irsa-lint.toml", format!("var_files = [\"{entry}\"]\n"));
        let run = run_bounded(tree.path(), &["check", "."]);
        assert_eq!(run.status, 2, "{entry}: {run:?}");
        assert!(
            run.stderr
                .contains("var file is outside the folder of the configuration file"),
            "{entry}: {run:?}"
        );
        assert_no_secret(&run);
    }
}

/// Files named on the command line are opened only if they are regular files: a FIFO or a
/// device is an error at once, never a hang or a read to the end of `/dev/zero`; a link
/// from the working folder to a file outside it is refused.
#[cfg(unix)]
#[test]
fn named_files_that_are_fifos_devices_or_links_out_are_refused() {
    let tree = Tree::new();
    mkfifo(&tree.path().join("baseline.json"));
    let (_outside, secret) = secret_outside();
    std::os::unix::fs::symlink(&secret, tree.path().join("accepted.json")).unwrap();
    let cases: [(&[&str], &str); 7] = [
        (&["--baseline", "baseline.json"], "a FIFO"),
        (&["--baseline", "/dev/zero"], "a device"),
        (&["--baseline", "accepted.json"], "is a symbolic link"),
        (&["--config", "/dev/zero"], "a device"),
        (&["--var-file", "accepted.json"], "is a symbolic link"),
        (&["--plan", "accepted.json"], "is a symbolic link"),
        (&["--plan", "baseline.json"], "plan file"),
    ];
    for (flags, said) in cases {
        let args: Vec<&str> = ["check"]
            .iter()
            .chain(flags)
            .chain(&["."])
            .copied()
            .collect();
        let run = run_bounded(tree.path(), &args);
        assert_eq!(run.status, 2, "{flags:?}: {run:?}");
        assert!(run.stderr.contains(said), "{flags:?}: {run:?}");
        assert_no_secret(&run);
    }
}

/// Standard input is read up to the size limit, like a file: an endless input is refused
/// at 16 MiB instead of filling the memory.
#[cfg(unix)]
#[test]
fn an_endless_standard_input_stops_at_the_size_limit() {
    let tree = Tree::new();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {HOSTILE_MEMORY_KIB}; exec \"$0\" check - < /dev/zero"
        ))
        .arg(env!("CARGO_BIN_EXE_irsa-lint"))
        .current_dir(tree.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > HOSTILE_TIME {
            let _ = child.kill();
            panic!("reading an endless standard input did not end");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("input is larger than 16 MiB"), "{stderr}");
}

/// `--write-baseline` and `-o` never write through a link or into a FIFO: the target of a
/// committed link keeps its content and a FIFO without a reader does not block the run.
#[cfg(unix)]
#[test]
fn named_outputs_are_never_written_through_links_or_fifos() {
    let tree = Tree::new();
    tree.file("precious.txt", "keep me\n");
    std::os::unix::fs::symlink("precious.txt", tree.path().join(".irsa-baseline.json")).unwrap();
    mkfifo(&tree.path().join("report.sarif"));
    for flags in [
        ["--write-baseline", ".irsa-baseline.json"],
        ["-o", ".irsa-baseline.json"],
        ["--write-baseline", "report.sarif"],
        ["-o", "report.sarif"],
    ] {
        let args: Vec<&str> = ["check"]
            .iter()
            .chain(&flags)
            .chain(&["."])
            .copied()
            .collect();
        let run = run_bounded(tree.path(), &args);
        assert_eq!(run.status, 2, "{flags:?}: {run:?}");
        assert!(
            run.stderr.starts_with("error: cannot write"),
            "{flags:?}: {run:?}"
        );
    }
    let kept = std::fs::read_to_string(tree.path().join("precious.txt")).unwrap();
    assert_eq!(kept, "keep me\n");
}

/// A folder the walk cannot list (its path is longer than the system accepts) is one
/// IRSA000 on it, never a silent skip.
#[cfg(unix)]
#[test]
fn a_folder_past_path_max_is_reported_not_skipped() {
    let tree = Tree::new();
    // Made with short names, then renamed from the deepest up: no call ever names a path
    // past PATH_MAX (4096 bytes), the result is one.
    let mut short = tree.path().join("deep");
    for _ in 0..24 {
        short.push("d");
    }
    std::fs::create_dir_all(&short).unwrap();
    std::fs::write(short.join("sa.yaml"), WITNESS_SA).unwrap();
    let long = "l".repeat(200);
    while short.file_name() == Some(std::ffi::OsStr::new("d")) {
        std::fs::rename(&short, short.with_file_name(&long)).unwrap();
        short.pop();
    }
    let linted = tree.lint();
    linted.assert_witness();
    let deep: Vec<_> = linted
        .findings()
        .into_iter()
        .filter(|f| f.0.starts_with("deep/"))
        .collect();
    assert_eq!(deep.len(), 1, "{deep:?}");
    assert_eq!(deep[0].3, "IRSA000");
    assert!(
        deep[0]
            .4
            .contains("the path is longer than the system accepts"),
        "{deep:?}"
    );
}

/// A file name with a line break and YAML values with terminal escapes are printed as
/// text: no format forges a line of its own (a `compact` line or a GitHub workflow command),
/// and no escape reaches the terminal raw, with or without colour.
#[cfg(unix)]
#[test]
fn file_names_and_values_cannot_forge_lines_or_drive_the_terminal() {
    let tree = Tree::new();
    // The key is misspelt (IRSA013) and the name, quoted in the message, holds ESC
    // sequences that would clear the screen and set the window title, and a C1 control.
    let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  \
              name: \"api\\e[2J\\e]0;pwned\\a\\N\"\n  namespace: pay\n  \
              annotations:\n    eks.amazonaws.com/role-arm: \
              arn:aws:iam::482910375521:role/ledger-api\n";
    let name = "k8s/sa.yaml\n::error file=ci.yml,line=1::forged\n\u{1b}[31mred.yaml";
    tree.file(name, sa);
    // A ServiceAccount with a role, for `graph`: its name holds the same escapes.
    tree.file("k8s/chained.yaml", sa.replace("role-arm", "role-arn"));
    for format in ["table", "dot", "mermaid"] {
        let run = run_bounded(tree.path(), &["graph", "--format", format, "."]);
        assert_eq!(run.status, 0, "{format}: {run:?}");
        assert!(
            run.stdout.contains("\\u{1b}[2J"),
            "{format}: {}",
            run.stdout
        );
        assert!(
            !run.stdout.contains(['\u{1b}', '\u{7}', '\u{85}']),
            "{format}: {:?}",
            run.stdout
        );
    }
    for args in [
        &["check", "--format", "compact", "."][..],
        &["check", "--format", "github", "."],
        &["check", "--color", "never", "."],
        &["check", "--color", "always", "."],
    ] {
        let run = run_bounded(tree.path(), args);
        assert_eq!(run.status, 1, "{args:?}: {run:?}");
        let forged: Vec<&str> = run
            .stdout
            .lines()
            .filter(|l| l.starts_with("::error file=ci.yml") || l.starts_with("forged"))
            .collect();
        assert_eq!(forged, Vec::<&str>::new(), "{args:?}: {}", run.stdout);
        // With colour on, only miette's own SGR sequences (`ESC [ ... m`) appear.
        let raw: Vec<&str> = run
            .stdout
            .split('\u{1b}')
            .skip(1)
            .filter(|after| {
                !(after.starts_with('[') && after.contains('m')) || after.starts_with("[2J")
            })
            .collect();
        assert_eq!(raw, Vec::<&str>::new(), "{args:?}: {:?}", run.stdout);
        assert!(
            !run.stdout.contains('\u{7}') && !run.stdout.contains('\u{85}'),
            "{args:?}"
        );
        assert!(
            run.stdout.contains("\\u{1b}[2J"),
            "{args:?}: {}",
            run.stdout
        );
        if args[1] != "--color" {
            // Both findings are there, one line each.
            let lines = run.stdout.lines().filter(|l| l.contains("IRSA013")).count();
            assert_eq!(lines, 2, "{args:?}: {}", run.stdout);
        }
    }
}

#[test]
fn a_template_that_includes_itself_ends() {
    let tree = Tree::new();
    tree.file(
        "infra/main.tf",
        "locals { x = templatefile(\"${path.module}/self.tpl\", {}) }\n\
         resource \"aws_iam_role\" \"r\" {\n  name = local.x\n}\n",
    );
    tree.file(
        "infra/self.tpl",
        "${templatefile(\"${path.module}/self.tpl\", {})}",
    );
    tree.lint().assert_witness();
}

#[test]
fn a_module_that_sources_itself_is_reported_at_the_call_and_its_folder_still_linted() {
    let tree = Tree::new();
    tree.file(
        "infra/main.tf",
        "module \"again\" {\n  source = \"./\"\n}\nmodule \"dot\" {\n  source = \"./.\"\n}\n\
         module \"up\" {\n  source = \"../infra\"\n}\n",
    );
    tree.file("infra/iam.tf", WITNESS_TF);
    tree.file("k8s/sa.yaml", WITNESS_TF_SA);
    // two folders that call each other, neither called from outside
    tree.file(
        "ping/main.tf",
        format!(
            "module \"pong\" {{\n  source = \"../pong\"\n}}\n{}",
            WITNESS_TF.replace("exporter", "ping")
        ),
    );
    tree.file(
        "pong/main.tf",
        "module \"ping\" {\n  source = \"../ping\"\n}\n",
    );
    tree.file("k8s/ping.yaml", WITNESS_TF_SA.replace("exporter", "ping"));
    let linted = tree.lint();
    linted.assert_witness();
    let calls = linted.in_file("infra/main.tf");
    let lines: Vec<(u32, &str)> = calls.iter().map(|f| (f.0, f.2)).collect();
    assert_eq!(
        lines,
        [(1, "IRSA000"), (4, "IRSA000"), (7, "IRSA000")],
        "{calls:?}"
    );
    assert!(
        calls.iter().all(|f| f.3.contains("calls its own folder")),
        "{calls:?}"
    );
    // the folder's own role is still linted as a root
    let sa = linted.in_file("k8s/sa.yaml");
    assert!(
        sa.iter().any(|f| f.0 == 5 && f.2 == "IRSA003"),
        "{:?}",
        linted.findings()
    );
    let ping = linted.in_file("k8s/ping.yaml");
    assert!(
        ping.iter().any(|f| f.0 == 5 && f.2 == "IRSA003"),
        "{:?}",
        linted.findings()
    );
    let cycle: Vec<_> = linted
        .findings()
        .into_iter()
        .filter(|f| f.3 == "IRSA000" && f.4.contains("which calls this module"))
        .collect();
    assert!(!cycle.is_empty(), "{:?}", linted.findings());
}

#[test]
fn for_each_over_a_million_element_range_is_bounded() {
    let tree = Tree::new();
    tree.file(
        "infra/main.tf",
        "resource \"aws_iam_role\" \"many\" {\n  for_each = toset([for i in range(1000000) : \
         tostring(i)])\n  name = \"r-${each.key}\"\n}\n",
    );
    tree.lint().assert_witness();
}

#[test]
fn locals_that_reference_each_other_are_reported_as_a_cycle() {
    let tree = Tree::new();
    tree.file(
        "infra/main.tf",
        "locals {\n  a = local.b\n  b = \"${local.a}-x\"\n}\n\
         resource \"aws_iam_role\" \"cycle\" {\n  name = local.a\n}\n",
    );
    let linted = tree.lint();
    linted.assert_witness();
    let cycle = linted.in_file("infra/main.tf");
    assert_eq!(cycle.len(), 1, "{cycle:?}");
    assert_eq!((cycle[0].0, cycle[0].2), (2, "IRSA000"));
    assert!(
        cycle[0].3.contains("local.a depends on itself"),
        "{cycle:?}"
    );
}

#[test]
fn modules_nested_too_deep_are_named_where_evaluation_stopped() {
    let tree = Tree::new();
    for i in 0..20 {
        tree.file(
            &format!("infra/m{i}/main.tf"),
            format!("module \"next\" {{\n  source = \"../m{}\"\n}}\n", i + 1),
        );
    }
    let linted = tree.lint();
    linted.assert_witness();
    let stopped = linted.in_file("infra/m16/main.tf");
    assert_eq!(stopped.len(), 1, "{:?}", linted.findings());
    assert_eq!((stopped[0].0, stopped[0].2), (1, "IRSA000"));
    assert!(
        stopped[0].3.contains("module next is nested more than 16"),
        "{stopped:?}"
    );
    let level = linted
        .report
        .diagnostics
        .iter()
        .find(|d| d.rule_id == "IRSA000");
    assert_eq!(level.unwrap().level.as_str(), "warning");
}

#[test]
fn the_evaluation_budget_is_reported_once_per_root_where_it_stopped() {
    let tree = Tree::new();
    tree.file(
        "infra/main.tf",
        "locals {\n  grid = [for i in range(3000) : [for j in range(3000) : \"${i}-${j}\"]]\n}\n\
         resource \"aws_iam_role\" \"r\" {\n  name = local.grid[1][2]\n}\n",
    );
    let linted = tree.lint();
    linted.assert_witness();
    let stopped = linted.in_file("infra/main.tf");
    assert_eq!(stopped.len(), 1, "{stopped:?}");
    // Inside the inner `for`, at its template, where the budget ran out (the bytes budget
    // counts each value's size in memory, so this column moves when a value's layout does).
    assert_eq!(
        (stopped[0].0, stopped[0].1, stopped[0].2),
        (2, 61, "IRSA000")
    );
    assert!(
        stopped[0].3.contains("stopped here")
            && stopped[0]
                .3
                .contains("is spent; the values it had not reached are unknown"),
        "{stopped:?}"
    );
}

/// A role that trusts `monitoring/exporter` and a ServiceAccount `pay/exporter` using it:
/// IRSA003 on line 5 of `witness-tf/sa.yaml`, a finding that needs Terraform evaluated.
const WITNESS_TF: &str = "resource \"aws_iam_role\" \"exporter\" {\n  name = \"exporter\"\n  \
    assume_role_policy = jsonencode({\n    Version = \"2012-10-17\"\n    Statement = [{\n      \
    Effect = \"Allow\"\n      Action = \"sts:AssumeRoleWithWebIdentity\"\n      Principal = { \
    Federated = \"arn:aws:iam::482910375521:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/5C0FA8E2\" }\n      \
    Condition = { StringEquals = {\n        \"oidc.eks.eu-west-1.amazonaws.com/id/5C0FA8E2:sub\" = \
    \"system:serviceaccount:monitoring:exporter\"\n        \"oidc.eks.eu-west-1.amazonaws.com/id/5C0FA8E2:aud\" = \
    \"sts.amazonaws.com\"\n      } }\n    }]\n  })\n}\n";
const WITNESS_TF_SA: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: exporter\n  \
    namespace: pay\n  annotations:\n    eks.amazonaws.com/role-arn: \
    arn:aws:iam::482910375521:role/exporter\n";

/// Every hostile root below is beside a Terraform pair that is still evaluated and reported
/// (its root's share of the budget is its own) and the YAML witness. Each ends well within
/// the time limit, says where evaluation stopped when it did, and never reports a finding
/// from what it did not finish.
fn hostile_terraform(main_tf: &str, extra: &[(&str, &[u8])]) -> Linted {
    let tree = Tree::new();
    tree.file("witness-tf/iam.tf", WITNESS_TF);
    tree.file("witness-tf/sa.yaml", WITNESS_TF_SA);
    tree.file("infra/main.tf", main_tf);
    for (path, text) in extra {
        tree.file(path, text);
    }
    // within TIME_LIMIT (a debug build on a busy machine); a release build takes seconds
    let linted = tree.lint();
    linted.assert_witness();
    let pair = linted.in_file("witness-tf/sa.yaml");
    assert!(
        pair.iter().any(|f| f.0 == 5 && f.2 == "IRSA003"),
        "the Terraform beside it is still evaluated: {:?}",
        linted.findings()
    );
    let infra: Vec<_> = linted
        .in_file("infra/main.tf")
        .into_iter()
        .filter(|f| f.2 != "IRSA000")
        .collect();
    assert!(
        infra.is_empty(),
        "no finding from a partial evaluation: {infra:?}"
    );
    linted
}

/// The one IRSA000 of `infra/main.tf`: evaluation stopped, at a line of the file.
fn stopped_in_infra(linted: &Linted, line: u32, what: &str) {
    let stopped = linted.in_file("infra/main.tf");
    assert_eq!(stopped.len(), 1, "{stopped:?}");
    assert_eq!(
        (stopped[0].0, stopped[0].2),
        (line, "IRSA000"),
        "{stopped:?}"
    );
    assert!(
        stopped[0].3.contains("stopped here") && stopped[0].3.contains(what),
        "{stopped:?}"
    );
}

const ROLE_NAMED_X: &str = "resource \"aws_iam_role\" \"r\" {\n  name = local.x\n}\n";

#[test]
fn functions_at_hostile_magnitudes_end_without_a_panic() {
    // `range` where `x += 1` does not move `x`, `substr` past every size, a negative index
    let linted = hostile_terraform(
        &format!(
            "locals {{\n  a = range(1e17, 1e17 + 100, 1)\n  b = substr(\"abc\", 1, 1e300)\n  \
             c = substr(\"abc\", 18446744073709551615, 18446744073709551615)\n  \
             d = element([\"a\"], -1)\n  x = \"${{length(local.a)}}${{local.b}}${{local.c}}${{local.d}}\"\n}}\n{ROLE_NAMED_X}"
        ),
        &[],
    );
    let infra = linted.in_file("infra/main.tf");
    assert!(infra.is_empty(), "{infra:?}");
}

#[test]
fn doubling_strings_and_lists_through_locals_ends_at_the_budget() {
    let mut main = String::from("locals {\n  s0 = \"abcdefghijklmnop\"\n  l0 = [\"a\", \"b\"]\n");
    for i in 0..40 {
        main.push_str(&format!(
            "  s{n} = \"${{local.s{i}}}${{local.s{i}}}\"\n  l{n} = [local.l{i}, local.l{i}]\n",
            n = i + 1
        ));
    }
    main.push_str(&format!(
        "  x = \"${{local.s40}}${{jsonencode(local.l40)}}\"\n}}\n{ROLE_NAMED_X}"
    ));
    let linted = hostile_terraform(&main, &[]);
    let stopped = linted.in_file("infra/main.tf");
    assert_eq!(stopped.len(), 1, "{stopped:?}");
    assert!(stopped[0].3.contains("is spent"), "{stopped:?}");
}

#[test]
fn replace_join_and_file_amplification_end_at_the_budget() {
    let linted = hostile_terraform(
        &format!(
            "locals {{\n  a = join(\"\", [for i in range(5000) : \"a\"])\n  \
             b = replace(local.a, \"a\", replace(local.a, \"a\", local.a))\n  \
             c = [for i in range(10000) : file(\"${{path.module}}/big.txt\")]\n  \
             x = \"${{length(local.b)}}${{length(local.c)}}\"\n}}\n{ROLE_NAMED_X}"
        ),
        &[("infra/big.txt", &vec![b'x'; 2 << 20])],
    );
    stopped_in_infra(&linted, 3, "is spent");
}

#[test]
fn a_template_for_inside_a_for_is_counted() {
    let linted = hostile_terraform(
        &format!(
            "locals {{\n  n = [for i in range(5000) : i]\n  \
             x = \"%{{for a in local.n}}%{{for b in local.n}}${{a}}${{b}}%{{endfor}}%{{endfor}}\"\n}}\n{ROLE_NAMED_X}"
        ),
        &[],
    );
    stopped_in_infra(&linted, 3, "is spent");
}

#[test]
fn distinct_over_a_huge_split_is_linear() {
    let items: Vec<String> = (0..100_000).map(|i| format!("s{i}")).collect();
    let linted = hostile_terraform(
        &format!(
            "locals {{\n  x = length(distinct(split(\",\", file(\"${{path.module}}/list.csv\"))))\n}}\n{ROLE_NAMED_X}"
        ),
        &[("infra/list.csv", items.join(",").as_bytes())],
    );
    let infra = linted.in_file("infra/main.tf");
    assert!(infra.is_empty(), "{infra:?}");
}

#[test]
fn a_chain_of_locals_or_resources_each_naming_the_next_does_not_overflow_the_stack() {
    let mut locals = String::from("locals {\n");
    for i in 0..150_000 {
        locals.push_str(&format!("  l{i} = local.l{}\n", i + 1));
    }
    locals.push_str(&format!(
        "  l150000 = \"end\"\n  x = local.l0\n}}\n{ROLE_NAMED_X}"
    ));
    let linted = hostile_terraform(&locals, &[]);
    // at the local 1,000 references down
    stopped_in_infra(&linted, 1000, "nested");

    // 50,000 resources: past the depth limit 50 times over, and parsed in seconds by a
    // debug build (150,000 take 3 s in a release build).
    let mut roles = String::new();
    for i in 0..50_000 {
        roles.push_str(&format!(
            "resource \"aws_iam_role\" \"r{i}\" {{\n  name = aws_iam_role.r{}.name\n}}\n",
            i + 1
        ));
    }
    roles.push_str("resource \"aws_iam_role\" \"r50000\" {\n  name = \"end\"\n}\n");
    let linted = hostile_terraform(&roles, &[]);
    let stopped = linted.in_file("infra/main.tf");
    assert!(
        !stopped.is_empty()
            && stopped
                .iter()
                .all(|f| f.2 == "IRSA000" && f.3.contains("nested")),
        "{stopped:?}"
    );
}

#[test]
fn the_budget_is_for_the_whole_run_not_per_root() {
    // Each root alone stays within its share; together they pass the run's budget, which
    // stops them rather than letting each spend its share.
    let tree = Tree::new();
    let root = "locals {\n  grid = [for i in range(300) : [for j in range(600) : j]]\n  \
                x = length(local.grid)\n}\nresource \"aws_iam_role\" \"r\" {\n  name = local.x\n}\n";
    for i in 0..24 {
        tree.file(&format!("envs/e{i}/main.tf"), root);
    }
    let linted = tree.lint();
    linted.assert_witness();
    let stopped: Vec<_> = linted
        .findings()
        .into_iter()
        .filter(|f| f.3 == "IRSA000")
        .collect();
    assert!(
        stopped.iter().any(|f| f.4.contains("the run's budget")),
        "{stopped:?}"
    );
    assert!(
        stopped
            .iter()
            .all(|f| !f.4.contains("this root module's share")),
        "each root alone is within its share: {stopped:?}"
    );
    assert!(stopped.len() < 24, "some roots finished first: {stopped:?}");
}

/// Run the real binary with `IRSA_LINT_TEST_PANIC_ON` set (honoured by debug builds only).
fn run_with_panic_on(tree: &Tree, target: &str) -> (i32, Vec<(String, String, String)>) {
    let out = Command::new(env!("CARGO_BIN_EXE_irsa-lint"))
        .args(["check", "--format", "json", "."])
        .env("IRSA_LINT_TEST_PANIC_ON", target)
        .current_dir(tree.path())
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = json["diagnostics"]
        .as_array()
        .unwrap_or_else(|| panic!("{json}"))
        .iter()
        .map(|d| {
            let path = d["location"]["path"].as_str().or(d["path"].as_str());
            (
                path.unwrap_or_default().to_string(),
                d["rule_id"]
                    .as_str()
                    .or(d["code"].as_str())
                    .unwrap_or_default()
                    .to_string(),
                d["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    (out.status.code().unwrap_or(-1), findings)
}

#[cfg(debug_assertions)]
#[test]
fn a_panic_while_reading_one_file_is_an_internal_error_on_that_file() {
    let tree = Tree::new();
    tree.file("infra/main.tf", "locals { a = 1 }\n");
    tree.file("k8s/other.yaml", WITNESS_SA.replace("pay", "other"));
    for (target, file) in [
        ("main.tf", "infra/main.tf"),
        ("other.yaml", "k8s/other.yaml"),
        ("eval:main.tf", "infra/main.tf"),
    ] {
        let (status, findings) = run_with_panic_on(&tree, target);
        assert_eq!(status, 1, "{target}: an internal error fails the run");
        let internal: Vec<_> = findings
            .iter()
            .filter(|f| f.2.starts_with("internal error while reading this file"))
            .collect();
        assert_eq!(internal.len(), 1, "{target}: {findings:?}");
        assert_eq!(internal[0].0, file, "{target}");
        assert!(
            internal[0].2.contains("test panic requested"),
            "{internal:?}"
        );
        assert!(internal[0].2.ends_with("please report it"), "{internal:?}");
        assert!(
            findings.iter().any(|f| f.0 == "witness/sa.yaml"),
            "{target}: the rest of the tree is still linted: {findings:?}"
        );
    }
}

#[test]
fn terragrunt_includes_that_multiply_nest_or_loop_end() {
    let tree = Tree::new();
    // Each file includes the next one twice: 2^40 evaluations without a bound.
    for i in 0..40 {
        let next = format!("{}.hcl", i + 1);
        tree.file(
            &format!("live/{i}.hcl"),
            format!(
                "include \"a\" {{\n  path = \"{next}\"\n}}\n\ninclude \"b\" {{\n  path = \"{next}\"\n}}\n\n\
                 locals {{\n  me = read_terragrunt_config(\"{i}.hcl\")\n}}\n\ninputs = {{\n  n{i} = {i}\n}}\n"
            ),
        );
    }
    tree.file("live/40.hcl", "inputs = {}\n");
    tree.file(
        "live/app/terragrunt.hcl",
        "include \"nested\" {\n  path = \"../deep.hcl\"\n}\n\ninclude \"root\" {\n  path = \"../0.hcl\"\n}\n\n\
         include \"self\" {\n  path = \"terragrunt.hcl\"\n}\n\ninclude \"folder\" {\n  path = \"..\"\n}\n",
    );
    tree.file(
        "live/deep.hcl",
        format!(
            "locals {{\n  x = {}1{}\n}}\n",
            "[".repeat(600),
            "]".repeat(600)
        ),
    );
    let linted = tree.lint();
    linted.assert_witness();
    let deep = linted.in_file("live/deep.hcl");
    assert!(
        deep.iter()
            .any(|f| f.2 == "IRSA000" && f.3.contains("nested")),
        "{deep:?}"
    );
    let findings = linted.findings();
    assert!(
        findings
            .iter()
            .any(|f| f.3 == "IRSA000" && f.4.contains("configuration cycle")),
        "{findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f.3 == "IRSA000" && f.4.contains("more than")),
        "{findings:?}"
    );
}

/// An Argo CD Application of `repo` deploying `path`, recursively, to namespace `addons`.
fn argo_application(name: &str, repo: &str, path: &str) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  \
         namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: {repo}\n    \
         targetRevision: main\n    path: {path}\n    directory:\n      recurse: true\n  \
         destination:\n    server: https://kubernetes.default.svc\n    namespace: addons\n---\n"
    )
}

#[test]
fn argo_applications_of_another_repository_or_by_the_thousand_do_not_claim_the_scan() {
    let tree = Tree::new();
    tree.file("infra/iam.tf", WITNESS_TF);
    // no namespace: deployed by an Application of this repository, it would land in `addons`
    tree.file(
        "k8s/sa.yaml",
        WITNESS_TF_SA.replace("  namespace: pay\n", ""),
    );
    let mut apps = argo_application("upstream", "https://github.com/example-org/addons.git", ".");
    for i in 0..1_000 {
        apps.push_str(&argo_application(
            &format!("copy-{i}"),
            "https://github.com/example-org/other.git",
            "./",
        ));
    }
    tree.file("argocd/apps.yaml", apps);
    let started = Instant::now();
    let linted = tree.lint();
    assert!(started.elapsed() < TIME_LIMIT, "{:?}", started.elapsed());
    linted.assert_witness();
    let sa = linted.in_file("k8s/sa.yaml");
    assert!(
        sa.iter()
            .any(|f| f.2 == "IRSA003" && f.3.contains("default/exporter")),
        "the ServiceAccount is still the scan's own: {:?}",
        linted.findings()
    );

    // The same URL also deploys a folder of this scan: it is this repository, and `.` is its
    // root.
    tree.file(
        "argocd/apps.yaml",
        argo_application("upstream", "https://github.com/example-org/addons.git", ".")
            + &argo_application("k8s", "git@github.com:example-org/addons", "k8s"),
    );
    let linted = tree.lint();
    assert!(
        linted
            .findings()
            .iter()
            .any(|f| f.3 == "IRSA003" && f.4.contains("addons/exporter")),
        "{:?}",
        linted.findings()
    );
}

#[cfg(debug_assertions)]
#[test]
fn a_panic_while_reading_one_resource_keeps_the_findings_of_the_rest_of_its_module() {
    let tree = Tree::new();
    tree.file("infra/iam.tf", WITNESS_TF);
    tree.file("infra/ledger.tf", WITNESS_TF.replace("exporter", "ledger"));
    tree.file("k8s/sa.yaml", WITNESS_TF_SA);
    let (status, findings) = run_with_panic_on(&tree, "fact:aws_iam_role.ledger");
    assert_eq!(status, 1);
    let internal: Vec<_> = findings
        .iter()
        .filter(|f| {
            f.2.starts_with("internal error while reading aws_iam_role.ledger")
        })
        .collect();
    assert_eq!(internal.len(), 1, "{findings:?}");
    assert_eq!(internal[0].0, "infra/ledger.tf");
    assert!(
        findings
            .iter()
            .any(|f| f.0 == "k8s/sa.yaml" && f.1 == "IRSA003"),
        "the other role of the same module is still linted: {findings:?}"
    );
}

/// A base listed again in the same build (each of 20 levels lists the next three times) is
/// what `kustomize build` refuses as duplicate resources: reported once where it is listed
/// again, never rendered 3^20 times, and the rest of the tree still linted. A base that two
/// separate overlays each list once is no duplicate.
#[test]
fn a_base_listed_again_in_one_build_is_reported_not_rendered_again() {
    let tree = Tree::new();
    for level in 0..20 {
        let next = format!("  - ../level-{:02}\n", level + 1);
        tree.file(
            &format!("deploy/level-{level:02}/kustomization.yaml"),
            format!("resources:\n{next}{next}{next}"),
        );
    }
    tree.file(
        "deploy/level-20/kustomization.yaml",
        "resources:\n  - serviceaccount.yaml\n",
    );
    tree.file(
        "deploy/level-20/serviceaccount.yaml",
        WITNESS_SA.replace("name: ", "name: deep-"),
    );
    tree.file("apps/base/kustomization.yaml", "resources:\n  - sa.yaml\n");
    tree.file(
        "apps/base/sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n  namespace: apps\n",
    );
    for overlay in ["staging", "prod"] {
        tree.file(
            &format!("apps/{overlay}/kustomization.yaml"),
            format!("namespace: apps-{overlay}\nresources:\n  - ../base\n"),
        );
    }
    let linted = tree.lint();
    // Each repeat where it stands: lines 3 and 4 of every level.
    let repeated = linted.in_file("deploy/level-00/kustomization.yaml");
    let lines: Vec<(u32, &str)> = repeated.iter().map(|f| (f.0, f.2)).collect();
    assert_eq!(lines, [(3, "IRSA000"), (4, "IRSA000")], "{repeated:?}");
    assert!(
        repeated[0].3.contains("duplicate resources"),
        "{repeated:?}"
    );
    let all = linted.findings();
    let repeats = all
        .iter()
        .filter(|f| f.4.contains("duplicate resources"))
        .count();
    assert_eq!(repeats, 40, "{all:?}");
    for overlay in ["staging", "prod"] {
        let path = format!("apps/{overlay}/kustomization.yaml");
        assert!(linted.in_file(&path).is_empty(), "{:?}", linted.findings());
    }
    linted.assert_witness();
}

/// A run of 100,000 own-line comments (each naming a rule to suppress) is scanned in time
/// linear in its length: each comment's target line is found once, not by walking the rest
/// of the run again; and the rest of the tree is still linted.
#[test]
fn a_long_run_of_suppression_comments_is_scanned_in_linear_time() {
    let tree = Tree::new();
    let comments = "# irsa-lint: disable=IRSA013\n".repeat(100_000);
    tree.file(
        "k8s/commented.yaml",
        format!("{comments}apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n"),
    );
    let started = Instant::now();
    let linted = tree.lint();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    linted.assert_witness();
}
