//! `.irsa-lint.toml`, suppression comments and baselines, through the real binary.
//!
//! Every test copies `fixtures/config/payments` into a temporary folder (two findings: IRSA003
//! error on `k8s/api.yaml` line 5, IRSA001 warning on `k8s/reports.yaml` line 8), then adds
//! a configuration file, suppression comments or a baseline, and reads the compact output.

use std::path::Path;
use std::process::{Command, Stdio};

/// IRSA003 (error) on the API's ServiceAccount name.
const API_FINDING: (&str, u32, &str) = ("k8s/api.yaml", 5, "IRSA003");
/// IRSA001 (warning) on the reports ServiceAccount's role-arn.
const REPORTS_FINDING: (&str, u32, &str) = ("k8s/reports.yaml", 8, "IRSA001");

struct Project {
    dir: tempfile::TempDir,
}

#[derive(Debug)]
struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// (path, line, rule id) of each compact output line.
    fn findings(&self) -> Vec<(String, u32, String)> {
        self.stdout
            .lines()
            .map(|line| {
                let mut parts = line.splitn(4, ':');
                let path = parts.next().unwrap().to_string();
                let line_no = parts.next().unwrap().parse().unwrap();
                let rest = parts.nth(1).unwrap();
                let id = rest.split_once('[').unwrap().1.split_once(']').unwrap().0;
                (path, line_no, id.to_string())
            })
            .collect()
    }

    fn has(&self, (path, line, id): (&str, u32, &str)) -> bool {
        self.findings()
            .iter()
            .any(|f| f.0 == path && f.1 == line && f.2 == id)
    }

    /// The level compact output gives the finding at a place.
    fn level_of(&self, (path, line, id): (&str, u32, &str)) -> Option<String> {
        let prefix = format!("{path}:{line}:");
        self.stdout
            .lines()
            .filter(|l| l.starts_with(&prefix) && l.contains(&format!("[{id}]")))
            .find_map(|l| l.split(": ").nth(1)?.split('[').next().map(str::to_string))
    }
}

impl Project {
    fn payments() -> Self {
        let project = Project {
            dir: tempfile::tempdir().expect("a temporary folder can be created"),
        };
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/payments");
        for relative in ["infra/main.tf", "k8s/api.yaml", "k8s/reports.yaml"] {
            let text = std::fs::read_to_string(fixture.join(relative)).unwrap();
            project.file(relative, &text);
        }
        project
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn file(&self, relative: &str, contents: &str) -> &Self {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path().join(relative)).unwrap()
    }

    fn config(&self, toml: &str) -> &Self {
        self.file(".irsa-lint.toml", toml)
    }

    /// Replace the text of one line (1-based) of a file.
    fn edit_line(&self, relative: &str, line: usize, new: &str) -> &Self {
        let text = self.read(relative);
        let mut lines: Vec<&str> = text.lines().collect();
        lines[line - 1] = new;
        self.file(relative, &(lines.join("\n") + "\n"))
    }

    /// Insert lines before a (1-based) line of a file.
    fn insert_before(&self, relative: &str, line: usize, new: &str) -> &Self {
        let text = self.read(relative);
        let mut lines: Vec<&str> = text.lines().collect();
        lines.insert(line - 1, new);
        self.file(relative, &(lines.join("\n") + "\n"))
    }

    /// `irsa-lint check --format compact ARGS` in a subfolder of the project.
    fn check_in(&self, subfolder: &str, args: &[&str]) -> Run {
        let output = Command::new(env!("CARGO_BIN_EXE_irsa-lint"))
            .args(["check", "--format", "compact"])
            .args(args)
            .current_dir(self.path().join(subfolder))
            .stdin(Stdio::null())
            .output()
            .expect("the irsa-lint binary starts");
        Run {
            status: output.status.code().expect("irsa-lint exits, not killed"),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }

    fn check(&self, args: &[&str]) -> Run {
        self.check_in(".", args)
    }
}

#[test]
fn without_configuration_the_project_has_its_two_findings() {
    let run = Project::payments().check(&[]);
    assert_eq!(run.status, 1, "{run:?}");
    assert!(run.has(API_FINDING) && run.has(REPORTS_FINDING), "{run:?}");
    assert_eq!(run.findings().len(), 2, "{run:?}");
    assert_eq!(run.stderr, "");
}

#[test]
fn a_rule_turned_off_is_not_reported() {
    let project = Project::payments();
    project.config("[rules]\nIRSA003 = \"off\"\n");
    let run = project.check(&[]);
    assert!(!run.has(API_FINDING), "{run:?}");
    assert!(run.has(REPORTS_FINDING), "{run:?}");
    assert_eq!(run.status, 0, "only a warning is left: {run:?}");
    // By name, too.
    project.config("[rules]\ntrust-subject-mismatch = \"off\"\nrole-not-found = \"off\"\n");
    let run = project.check(&[]);
    assert_eq!(run.stdout, "", "{run:?}");
    assert_eq!(run.status, 0);
}

#[test]
fn a_level_from_the_configuration_changes_the_exit_status() {
    let project = Project::payments();
    project.config("[rules]\nIRSA003 = \"off\"\n");
    assert_eq!(project.check(&["--fail-on", "warning"]).status, 1);
    project.config("[rules]\nIRSA003 = \"off\"\nrole-not-found = \"note\"\n");
    let run = project.check(&["--fail-on", "warning"]);
    assert_eq!(run.status, 0, "{run:?}");
    assert_eq!(run.level_of(REPORTS_FINDING).as_deref(), Some("note"));
    project.config("[rules]\nIRSA003 = \"warning\"\nIRSA001 = \"error\"\n");
    let run = project.check(&[]);
    assert_eq!(run.level_of(API_FINDING).as_deref(), Some("warning"));
    assert_eq!(run.level_of(REPORTS_FINDING).as_deref(), Some("error"));
    assert_eq!(run.status, 1);
}

#[test]
fn fail_on_comes_from_the_configuration_and_the_flag_wins() {
    let project = Project::payments();
    project.config("fail_on = \"warning\"\n\n[rules]\nIRSA003 = \"off\"\n");
    assert_eq!(project.check(&[]).status, 1, "the warning fails the run");
    assert_eq!(project.check(&["--fail-on", "error"]).status, 0);
    project.config("fail_on = \"never\"\n");
    assert_eq!(project.check(&[]).status, 0);
    assert_eq!(project.check(&["--fail-on", "error"]).status, 1);
}

#[test]
fn mistakes_in_the_configuration_are_usage_errors_with_their_position() {
    let project = Project::payments();
    let cases = [
        (
            "fail_on = \"warning\"\n\nrulez = { IRSA003 = \"off\" }\n",
            "error: .irsa-lint.toml:3:1: unknown key \"rulez\", did you mean \"rules\"?\n",
        ),
        (
            "[rules]\nIRSA003 = \"off\"\nIRSA999 = \"off\"\n",
            "error: .irsa-lint.toml:3:1: unknown rule \"IRSA999\"; `irsa-lint rules` lists them\n",
        ),
        (
            "[rules]\nrole-not-fond = \"off\"\n",
            "error: .irsa-lint.toml:2:1: unknown rule \"role-not-fond\", did you mean \
             \"role-not-found\"?\n",
        ),
        (
            "[rules]\nIRSA003 = false\n",
            "error: .irsa-lint.toml:2:11: \"IRSA003\" must be a string, not a boolean\n",
        ),
        (
            "exclude = \"k8s\"\n",
            "error: .irsa-lint.toml:1:11: \"exclude\" must be an array of strings, not a string\n",
        ),
        (
            "var_files = [\"prod.tfvars\"]\n",
            "error: .irsa-lint.toml:1:14: var file does not exist: prod.tfvars\n",
        ),
    ];
    for (toml, stderr) in cases {
        project.config(toml);
        let run = project.check(&[]);
        assert_eq!(run.status, 2, "{toml}: {run:?}");
        assert_eq!(run.stderr, stderr, "{toml}");
        assert_eq!(
            run.stdout, "",
            "nothing is linted with a broken configuration"
        );
    }
}

#[test]
fn the_configuration_is_found_in_a_folder_above() {
    let project = Project::payments();
    project.config("exclude = [\"k8s/reports.yaml\"]\n\n[rules]\nIRSA003 = \"warning\"\n");
    // Relative paths in the file are relative to its folder, wherever the run starts.
    let run = project.check_in("infra", &[".."]);
    assert_eq!(run.status, 0, "{run:?}");
    assert_eq!(
        run.findings(),
        [("../k8s/api.yaml".to_string(), 5, "IRSA003".to_string())]
    );
    assert_eq!(
        run.level_of(("../k8s/api.yaml", 5, "IRSA003")).as_deref(),
        Some("warning")
    );
    // Its mistakes are shown with the path from the working directory.
    project.config("rulez = 1\n");
    let run = project.check_in("infra", &[".."]);
    assert_eq!(run.status, 2);
    assert!(
        run.stderr
            .starts_with("error: ../.irsa-lint.toml:1:1: unknown key \"rulez\""),
        "{run:?}"
    );
}

#[test]
fn config_flag_names_another_file_relative_to_the_working_directory() {
    let project = Project::payments();
    project.config("[rules]\nIRSA001 = \"off\"\n");
    project.file(
        "ci/strict.toml",
        "fail_on = \"warning\"\nexclude = [\"k8s/api.yaml\"]\n",
    );
    let run = project.check(&["--config", "ci/strict.toml"]);
    // Only the named file applies (IRSA001 is on), its globs relative to the working
    // directory (k8s/api.yaml is not read).
    assert!(run.has(REPORTS_FINDING), "{run:?}");
    assert!(!run.has(API_FINDING), "{run:?}");
    assert_eq!(run.status, 1, "its fail_on applies");
    let run = project.check(&["--config", "ci/missing.toml"]);
    assert_eq!(run.status, 2);
    assert_eq!(
        run.stderr,
        "error: ci/missing.toml: configuration file does not exist\n"
    );
}

#[test]
fn exclude_skips_found_files_but_not_files_named_on_the_command_line() {
    let project = Project::payments();
    project.config("exclude = [\"k8s/reports.*\", \"legacy\"]\n");
    project.file("legacy/broken.tf", "resource \"aws_iam_role\" \"x\" {\n");
    let run = project.check(&[]);
    assert_eq!(
        run.findings(),
        [("k8s/api.yaml".to_string(), 5, "IRSA003".to_string())],
        "{run:?}"
    );
    let run = project.check(&["infra", "k8s/api.yaml", "k8s/reports.yaml"]);
    assert!(run.has(REPORTS_FINDING), "a named file is read: {run:?}");
}

#[test]
fn external_roles_and_accounts_silence_role_not_found() {
    let project = Project::payments();
    for toml in [
        "external_roles = [\"arn:aws:iam::482910375521:role/reports-reader\"]\n",
        "external_roles = [\"arn:aws:iam::482910375521:role/reports-*\"]\n",
        "external_accounts = [\"482910375521\"]\n",
    ] {
        project.config(toml);
        let run = project.check(&[]);
        assert!(!run.has(REPORTS_FINDING), "{toml}: {run:?}");
        assert!(
            run.has(API_FINDING),
            "other rules are unaffected: {toml}: {run:?}"
        );
    }
    project.config("external_roles = [\"arn:aws:iam::482910375521:role/billing\"]\n");
    assert!(
        project.check(&[]).has(REPORTS_FINDING),
        "another role is still missing"
    );
    project.config("external_roles = [\"reports-reader\"]\n");
    let run = project.check(&[]);
    assert_eq!(run.status, 2);
    assert!(
        run.stderr.starts_with(
            "error: .irsa-lint.toml:1:19: \"reports-reader\" is not a role ARN: it does not \
             have the shape"
        ),
        "{run:?}"
    );
}

#[test]
fn variables_and_var_files_come_from_the_configuration_and_flags_win() {
    let project = Project::payments();
    // The trusted ServiceAccount's name becomes a variable: unknown, so nothing is wrong.
    let main = project.read("infra/main.tf").replace(
        "system:serviceaccount:payments:payments-api",
        "system:serviceaccount:payments:${var.api_service_account}",
    );
    project.file(
        "infra/main.tf",
        &(main + "\nvariable \"api_service_account\" {\n  type = string\n}\n"),
    );
    assert!(!project.check(&[]).has(API_FINDING));
    project.config("[variables]\napi_service_account = \"payments-api\"\n");
    assert!(project.check(&[]).has(API_FINDING), "the variable is set");
    assert!(
        !project
            .check(&["--var", "api_service_account=api"])
            .has(API_FINDING),
        "--var wins over [variables]"
    );
    project.file("prod.tfvars", "api_service_account = \"payments-api\"\n");
    project.file("fixed.tfvars", "api_service_account = \"api\"\n");
    project.config("var_files = [\"prod.tfvars\"]\n");
    assert!(project.check(&[]).has(API_FINDING), "the var file is read");
    assert!(
        !project
            .check(&["--var-file", "fixed.tfvars"])
            .has(API_FINDING),
        "--var-file is applied after the configuration's"
    );
}

#[test]
fn helm_values_are_checked_but_said_to_be_not_applied_yet() {
    let project = Project::payments();
    project.config("[helm.values]\n\"charts/ledger\" = [\"values-prod.yaml\"]\n");
    let run = project.check(&[]);
    assert_eq!(run.status, 1, "{run:?}");
    assert!(
        run.stderr
            .starts_with("warning: .irsa-lint.toml:1:7: [helm.values] is not applied yet"),
        "{run:?}"
    );
}

#[test]
fn a_suppression_with_a_reason_hides_its_finding() {
    let project = Project::payments();
    project.insert_before(
        "k8s/api.yaml",
        5,
        "  # irsa-lint: ignore[IRSA003] renamed to payments-api in the next release",
    );
    project.edit_line(
        "k8s/reports.yaml",
        8,
        "    eks.amazonaws.com/role-arn: arn:aws:iam::482910375521:role/reports-reader  \
         # irsa-lint: ignore[role-not-found] created by the data platform team",
    );
    let run = project.check(&["--fail-on", "note"]);
    assert_eq!(run.stdout, "", "{run:?}");
    assert_eq!(run.status, 0);
    for format in ["json", "sarif", "github", "human"] {
        let run = project.check(&["--format", format]);
        assert!(!run.stdout.contains("IRSA003 "), "{format}: {}", run.stdout);
        assert!(!run.stdout.contains("IRSA001"), "{format}: {}", run.stdout);
    }
}

/// A suppression's IRSA028 findings, as (line, message) in `k8s/api.yaml`.
fn invalid_suppressions(run: &Run) -> Vec<(u32, String)> {
    run.stdout
        .lines()
        .filter(|l| l.contains("[IRSA028]"))
        .map(|l| {
            let line = l.split(':').nth(1).unwrap().parse().unwrap();
            (line, l.split_once("] ").unwrap().1.to_string())
        })
        .collect()
}

#[test]
fn a_suppression_without_a_reason_still_suppresses_and_is_reported() {
    let project = Project::payments();
    project.insert_before("k8s/api.yaml", 5, "  # irsa-lint: ignore[IRSA003]");
    let run = project.check(&[]);
    assert!(!run.has(("k8s/api.yaml", 6, "IRSA003")), "{run:?}");
    assert_eq!(
        invalid_suppressions(&run),
        [(5, "suppression of IRSA003 gives no reason".to_string())]
    );
    assert_eq!(
        run.level_of(("k8s/api.yaml", 5, "IRSA028")).as_deref(),
        Some("warning")
    );
}

#[test]
fn a_suppression_of_an_unknown_rule_is_reported_and_suppresses_nothing() {
    let project = Project::payments();
    project.insert_before(
        "k8s/api.yaml",
        5,
        "  # irsa-lint: ignore[IRSA03] renamed in the next release",
    );
    let run = project.check(&[]);
    assert!(run.has(("k8s/api.yaml", 6, "IRSA003")), "{run:?}");
    assert_eq!(
        invalid_suppressions(&run),
        [(
            5,
            "suppression names IRSA03, which is not a rule (did you mean `IRSA003`?)".to_string()
        )]
    );
}

#[test]
fn a_suppression_that_suppresses_nothing_is_reported_unless_its_rule_is_off() {
    let project = Project::payments();
    // One line too high: the line below it is `metadata:`, not the finding's.
    project.insert_before(
        "k8s/api.yaml",
        4,
        "# irsa-lint: ignore[IRSA003] renamed in the next release",
    );
    let run = project.check(&[]);
    assert!(run.has(("k8s/api.yaml", 6, "IRSA003")), "{run:?}");
    assert_eq!(
        invalid_suppressions(&run),
        [(
            4,
            "suppression of IRSA003 (trust-subject-mismatch) suppresses nothing".to_string()
        )]
    );
    project.config("[rules]\nIRSA003 = \"off\"\n");
    assert_eq!(invalid_suppressions(&project.check(&[])), []);
    project.config("[rules]\ninvalid-suppression = \"off\"\n");
    assert_eq!(invalid_suppressions(&project.check(&[])), []);
}

#[test]
fn a_baseline_hides_recorded_findings_after_unrelated_edits_and_shows_new_ones() {
    let project = Project::payments();
    let run = project.check(&["--write-baseline", "irsa-lint-baseline.json"]);
    assert_eq!(run.status, 0, "{run:?}");
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "wrote 2 findings to irsa-lint-baseline.json; run with --baseline \
         irsa-lint-baseline.json to report only new ones\n"
    );
    let written: serde_json::Value =
        serde_json::from_str(&project.read("irsa-lint-baseline.json")).unwrap();
    assert_eq!(written["version"], 2);
    assert_eq!(written["findings"].as_array().unwrap().len(), 2);

    // Unrelated edits move both findings down.
    project.insert_before("k8s/api.yaml", 1, "# owned by the payments team");
    project.insert_before(
        "k8s/reports.yaml",
        1,
        "# owned by the data team\n# since 2024",
    );
    project.insert_before("infra/main.tf", 1, "# payments infrastructure");
    let run = project.check(&["--baseline", "irsa-lint-baseline.json", "--fail-on", "note"]);
    assert_eq!(run.stdout, "", "{run:?}");
    assert_eq!(run.status, 0);
    // From another folder, with other relative paths, too.
    let run = project.check_in("k8s", &["--baseline", "../irsa-lint-baseline.json", ".."]);
    assert_eq!(run.stdout, "", "{run:?}");

    // A new mistake: another ServiceAccount with a role nobody defines.
    let reports = project.read("k8s/reports.yaml")
        + "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: billing\n  \
           namespace: payments\n  annotations:\n    eks.amazonaws.com/role-arn: \
           arn:aws:iam::482910375521:role/billing-writer\n";
    project.file("k8s/reports.yaml", &reports);
    let run = project.check(&["--baseline", "irsa-lint-baseline.json"]);
    assert_eq!(
        run.findings(),
        [("k8s/reports.yaml".to_string(), 18, "IRSA001".to_string())],
        "{run:?}"
    );
    assert!(run.stdout.contains("payments/billing"), "{run:?}");
    assert_eq!(run.status, 0, "the new finding is a warning");
}

#[test]
fn a_missing_or_foreign_baseline_is_a_usage_error() {
    let project = Project::payments();
    let run = project.check(&["--baseline", "nope.json"]);
    assert_eq!(run.status, 2);
    assert_eq!(
        run.stderr,
        "error: baseline nope.json: file does not exist\n"
    );
    project.file("other.json", "{\"version\": 7, \"findings\": []}\n");
    let run = project.check(&["--baseline", "other.json"]);
    assert_eq!(run.status, 2);
    assert!(
        run.stderr
            .starts_with("error: baseline other.json: baseline version 7 is not supported"),
        "{run:?}"
    );
}
