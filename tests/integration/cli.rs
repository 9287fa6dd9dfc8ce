//! The real `irsa-lint` binary, run the way a user runs it: in a project folder, with
//! relative paths, reading what it prints and its exit status.
//!
//! Only IRSA000 (parse-error) is used to make findings: a Terraform file whose block is
//! never closed. That keeps these tests about the command line, not about any rule.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use irsa_lint::rules::RULES;
use serde_json::Value;

/// An `aws_iam_role` block that is never closed: IRSA000 at line 2, column 13.
const BROKEN_TF: &str = "resource \"aws_iam_role\" \"x\" {\n  name = \"a\"\n";
const VALID_TF: &str = "resource \"aws_iam_role\" \"ok\" {\n  name = \"ok\"\n}\n";
const IRSA000_DOC: &str = include_str!("../../rules/IRSA000.md");
const FORMATS: [&str; 5] = ["human", "json", "sarif", "compact", "github"];

/// A temporary project folder, deleted when dropped.
struct Project {
    dir: tempfile::TempDir,
}

/// What one run of the binary showed.
#[derive(Debug)]
struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

impl Project {
    fn new() -> Self {
        Project {
            dir: tempfile::tempdir().expect("a temporary folder can be created"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn file(&self, relative: &str, contents: impl AsRef<[u8]>) -> &Self {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    /// Run `irsa-lint ARGS` in the project folder with nothing on stdin.
    fn run(&self, args: &[&str]) -> Run {
        self.run_in(".", args, None, &[])
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        self.run_in(".", args, Some(stdin), &[])
    }

    fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.run_in(".", args, None, env)
    }

    fn run_in(
        &self,
        subfolder: &str,
        args: &[&str],
        stdin: Option<&str>,
        env: &[(&str, &str)],
    ) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_irsa-lint"));
        command
            .args(args)
            .current_dir(self.path().join(subfolder))
            .env_remove("NO_COLOR")
            .envs(env.iter().copied())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("the irsa-lint binary starts");
        if let Some(text) = stdin {
            // irsa-lint may exit on a usage error before reading; that is not this
            // harness's failure to report.
            let mut pipe = child.stdin.take().unwrap();
            if let Err(err) = pipe.write_all(text.as_bytes()) {
                assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
            }
        }
        let output = child.wait_with_output().unwrap();
        Run {
            status: output.status.code().expect("irsa-lint exits, not killed"),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }

    /// Every folder and file below the project, with each file's bytes.
    fn snapshot(&self) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
        fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                let relative = path.strip_prefix(root).unwrap().to_path_buf();
                if path.is_dir() {
                    out.insert(relative, None);
                    walk(root, &path, out);
                } else {
                    out.insert(relative, Some(std::fs::read(&path).unwrap()));
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(self.path(), self.path(), &mut out);
        out
    }
}

/// A project with one finding: `infra/main.tf` does not parse; `k8s/` has a valid file.
fn broken_project() -> Project {
    let project = Project::new();
    project
        .file("infra/main.tf", BROKEN_TF)
        .file("infra/variables.tf", VALID_TF)
        .file("k8s/sa.yaml", "apiVersion: v1\nkind: ServiceAccount\n");
    project
}

fn clean_project() -> Project {
    let project = Project::new();
    project.file("infra/main.tf", VALID_TF);
    project
}

/// A project with findings in several folders and of several kinds, to shake out any
/// dependence on thread timing.
fn busy_project() -> Project {
    let project = Project::new();
    for unit in ["alpha", "beta", "gamma", "delta"] {
        project
            .file(&format!("{unit}/main.tf"), BROKEN_TF)
            .file(&format!("{unit}/ok.tf"), VALID_TF)
            .file(&format!("{unit}/terraform.tfvars"), "region = \n");
    }
    project.file("beta/latin1.tf", b"# caf\xe9\n");
    project
}

fn parse_json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[test]
fn exit_status_follows_fail_on() {
    let broken = broken_project();
    let clean = clean_project();
    let cases: [(&[&str], i32, i32); 5] = [
        (&[], 1, 0),
        (&["--fail-on", "error"], 1, 0),
        (&["--fail-on", "warning"], 1, 0),
        (&["--fail-on", "note"], 1, 0),
        (&["--fail-on", "never"], 0, 0),
    ];
    for (flags, on_broken, on_clean) in cases {
        let args: Vec<&str> = ["check"].iter().chain(flags).copied().collect();
        let run = broken.run(&args);
        assert_eq!(run.status, on_broken, "broken project, {flags:?}: {run:?}");
        assert!(run.stderr.is_empty(), "{run:?}");
        assert_eq!(
            clean.run(&args).status,
            on_clean,
            "clean project, {flags:?}"
        );
    }
}

#[test]
fn clean_project_says_no_problems() {
    let run = clean_project().run(&["check"]);
    assert_eq!(run.status, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "no problems found\nno ServiceAccount in the scan uses an IAM role\n"
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn a_folder_without_lintable_files_warns_on_stderr() {
    let project = Project::new();
    project.file("README.md", "# nothing to lint\n");
    let run = project.run(&["check", "--format", "compact"]);
    assert_eq!(run.status, 0, "{run:?}");
    assert_eq!(run.stdout, "");
    assert!(run.stderr.starts_with("warning: no .tf"), "{run:?}");
}

#[test]
fn missing_path_exits_2_with_its_name() {
    for fail_on in ["error", "never"] {
        let run = broken_project().run(&["check", "infra", "nope", "--fail-on", fail_on]);
        assert_eq!(run.status, 2, "{run:?}");
        assert_eq!(run.stderr, "error: path does not exist: nope\n");
        assert_eq!(run.stdout, "");
    }
}

#[test]
fn var_without_equals_is_a_usage_error() {
    let project = clean_project();
    let run = project.run(&["check", "--var", "region"]);
    assert_eq!(run.status, 2, "{run:?}");
    assert!(run.stderr.contains("--var <NAME=VALUE>"), "{run:?}");
    assert!(run.stderr.contains("expected NAME=VALUE"), "{run:?}");
    assert_eq!(run.stdout, "");
    let run = project.run(&["check", "--var", "region=eu-west-1", "--var", "a=b=c"]);
    assert_eq!(run.status, 0, "{run:?}");
}

#[test]
fn missing_var_file_is_a_usage_error() {
    let project = clean_project();
    project.file("prod.tfvars", "region = \"eu-west-1\"\n");
    let run = project.run(&["check", "--var-file", "staging.tfvars"]);
    assert_eq!(run.status, 2, "{run:?}");
    assert_eq!(
        run.stderr,
        "error: var file does not exist: staging.tfvars\n"
    );
    assert_eq!(
        project.run(&["check", "--var-file", "prod.tfvars"]).status,
        0
    );
}

#[test]
fn clap_usage_errors_exit_2() {
    let project = broken_project();
    let cases: [&[&str]; 6] = [
        &[],
        &["lint"],
        &["check", "--format", "xml"],
        &["check", "--fail-on", "sometimes", "--fail-on", "never"],
        &["check", "--colour", "never"],
        &["explain"],
    ];
    for args in cases {
        let run = project.run(args);
        assert_eq!(run.status, 2, "{args:?}: {run:?}");
        assert_eq!(run.stdout, "", "{args:?}");
        assert!(!run.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn dash_twice_is_a_usage_error() {
    let run = clean_project().run_with_stdin(&["check", "-", "-"], VALID_TF);
    assert_eq!(run.status, 2, "{run:?}");
    assert!(run.stderr.starts_with("error: `-`"), "{run:?}");
}

#[test]
fn version_and_help() {
    let project = Project::new();
    let run = project.run(&["--version"]);
    assert_eq!(run.status, 0);
    assert_eq!(
        run.stdout,
        format!("irsa-lint {}\n", env!("CARGO_PKG_VERSION"))
    );
    let run = project.run(&["--help"]);
    assert_eq!(run.status, 0);
    assert!(
        run.stdout
            .starts_with("Find the silent mistakes in EKS IAM Roles for Service Accounts wiring")
    );
    for command in ["check", "explain", "rules"] {
        assert!(run.stdout.contains(&format!("  {command} ")), "{command}");
    }
    let run = project.run(&["check", "--help"]);
    assert_eq!(run.status, 0);
    for flag in [
        "--format",
        "--fail-on",
        "--var-file",
        "--var <NAME=VALUE>",
        "--stdin-filename",
        "--color",
        "Exit status:",
    ] {
        assert!(run.stdout.contains(flag), "{flag} in {}", run.stdout);
    }
}

#[test]
fn human_format_shows_the_frame_and_a_summary() {
    let run = broken_project().run(&["check"]);
    assert_eq!(run.status, 1);
    assert!(run.stdout.contains("IRSA000 parse-error"), "{}", run.stdout);
    assert!(
        run.stdout.contains("[infra/main.tf:2:13]"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.ends_with(
            "\n1 error, 0 warnings, 0 notes\nno ServiceAccount in the scan uses an IAM role\n"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn json_format_is_version_1() {
    let run = broken_project().run(&["check", "--format", "json"]);
    assert_eq!(run.status, 1);
    let json = parse_json(&run);
    assert_eq!(json["version"], 1);
    assert_eq!(json["tool"]["name"], "irsa-lint");
    assert_eq!(json["summary"]["errors"], 1);
    let diagnostics = json["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0]["rule_id"], "IRSA000");
    assert_eq!(diagnostics[0]["rule_name"], "parse-error");
    assert_eq!(diagnostics[0]["level"], "error");
    let location = &diagnostics[0]["location"];
    assert_eq!(location["path"], "infra/main.tf");
    assert_eq!(location["start"]["line"], 2);
    assert_eq!(location["start"]["column"], 13);
}

#[test]
fn json_format_without_findings_is_a_complete_document() {
    let run = clean_project().run(&["check", "--format", "json"]);
    assert_eq!(run.status, 0);
    let json = parse_json(&run);
    assert_eq!(json["version"], 1);
    assert_eq!(json["diagnostics"], Value::Array(Vec::new()));
}

#[test]
fn compact_format_is_one_line_per_finding() {
    let run = broken_project().run(&["check", "--format", "compact"]);
    assert_eq!(run.status, 1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    assert!(
        lines[0].starts_with("infra/main.tf:2:13: error[IRSA000] invalid HCL: "),
        "{}",
        lines[0]
    );
}

#[test]
fn github_format_is_workflow_commands() {
    let run = broken_project().run(&["check", "--format", "github"]);
    assert_eq!(run.status, 1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    assert!(
        lines[0].starts_with(
            "::error file=infra/main.tf,line=2,col=13,endLine=2,endColumn=13,\
             title=IRSA000 parse-error::invalid HCL: "
        ),
        "{}",
        lines[0]
    );
}

#[test]
fn sarif_format_is_version_2_1_0() {
    let run = broken_project().run(&["check", "--format", "sarif"]);
    assert_eq!(run.status, 1);
    let sarif = parse_json(&run);
    assert_eq!(sarif["version"], "2.1.0");
    let run0 = &sarif["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "irsa-lint");
    let results = run0["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "IRSA000");
    let location = &results[0]["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "infra/main.tf");
    assert_eq!(location["region"]["startLine"], 2);
}

#[test]
fn output_is_byte_identical_across_runs_and_argument_orders() {
    let project = busy_project();
    for format in FORMATS {
        let first = project.run(&["check", "--format", format]);
        assert_eq!(first.status, 1, "{format}: {first:?}");
        let again = project.run(&["check", "--format", format]);
        assert_eq!(first.stdout, again.stdout, "{format} differs between runs");
        let reordered = project.run(&[
            "check", "--format", format, "delta", "beta", "gamma", "alpha",
        ]);
        assert_eq!(
            first.stdout, reordered.stdout,
            "{format} depends on argument order"
        );
    }
    let compact = project.run(&["check", "--format", "compact"]).stdout;
    let files: Vec<&str> = compact
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    let mut sorted = files.clone();
    sorted.sort();
    assert_eq!(files, sorted, "findings are sorted by file");
    assert_eq!(files.len(), 9, "{compact}");
}

#[test]
fn no_ansi_escapes_unless_colour_is_forced() {
    let project = broken_project();
    let has_escape = |run: &Run| run.stdout.contains('\u{1b}');
    // stdout is a pipe here, as in CI, so `auto` means no colour.
    assert!(!has_escape(&project.run(&["check"])));
    assert!(!has_escape(
        &project.run_with_env(&["check"], &[("NO_COLOR", "1")])
    ));
    assert!(!has_escape(&project.run(&["check", "--color", "never"])));
    assert!(!has_escape(&project.run_with_env(
        &["check", "--color", "auto"],
        &[("NO_COLOR", "1")]
    )));
    // The check above can fail: forced colour does print escapes.
    let forced = project.run(&["check", "--color", "always"]);
    assert_eq!(forced.status, 1);
    assert!(has_escape(&forced), "{}", forced.stdout);
    for format in ["json", "sarif", "compact", "github"] {
        let run = project.run(&["check", "--color", "always", "--format", format]);
        assert!(!has_escape(&run), "{format} is never coloured");
    }
}

#[test]
fn explain_prints_the_rule_doc_by_id_or_name() {
    let project = Project::new();
    for query in ["IRSA000", "irsa000", "parse-error", "Parse-Error"] {
        let run = project.run(&["explain", query]);
        assert_eq!(run.status, 0, "{query}: {run:?}");
        assert_eq!(run.stdout, IRSA000_DOC, "{query}");
        assert_eq!(run.stderr, "");
    }
}

#[test]
fn explain_unknown_rule_exits_2_and_suggests() {
    let project = Project::new();
    let run = project.run(&["explain", "nope"]);
    assert_eq!(run.status, 2, "{run:?}");
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .starts_with("error: no rule has the id or name `nope`\n")
    );
    assert!(run.stderr.contains("irsa-lint rules"), "{}", run.stderr);
    let run = project.run(&["explain", "parse-eror"]);
    assert_eq!(run.status, 2);
    assert!(
        run.stderr.contains("did you mean: IRSA000 (parse-error)?"),
        "{}",
        run.stderr
    );
}

#[test]
fn rules_lists_every_rule_in_id_order() {
    let ids: Vec<&str> = RULES.iter().map(|r| r.meta.id).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "the registry is in id order, without repeats: {ids:?}"
    );
    let run = Project::new().run(&["rules"]);
    assert_eq!(run.status, 0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("ID"), "a header comes first");
    let ids: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let expected: Vec<&str> = RULES.iter().map(|r| r.meta.id).collect();
    assert_eq!(ids, expected);
    for (line, rule) in lines[1..].iter().zip(RULES) {
        assert!(line.contains(rule.meta.name), "{line}");
        assert!(line.ends_with(rule.meta.summary), "{line}");
    }
}

#[test]
fn rules_as_json() {
    let run = Project::new().run(&["rules", "--format", "json"]);
    assert_eq!(run.status, 0);
    let rules = parse_json(&run);
    let rules = rules.as_array().unwrap();
    assert_eq!(rules.len(), RULES.len());
    assert_eq!(
        rules[0],
        serde_json::json!({
            "id": "IRSA000",
            "name": "parse-error",
            "default_level": "error",
            "summary": RULES[0].meta.summary,
        })
    );
}

#[test]
fn stdin_is_read_as_the_named_file() {
    let project = clean_project();
    let args = [
        "check",
        "-",
        "--stdin-filename",
        "main.tf",
        "--format",
        "compact",
    ];
    let run = project.run_with_stdin(&args, BROKEN_TF);
    assert_eq!(run.status, 1, "{run:?}");
    assert!(
        run.stdout
            .starts_with("main.tf:2:13: error[IRSA000] invalid HCL: "),
        "{}",
        run.stdout
    );
    assert_eq!(run.stdout.lines().count(), 1, "only stdin, not the folder");
    let run = project.run_with_stdin(&args, VALID_TF);
    assert_eq!(run.status, 0, "{run:?}");
}

#[test]
fn stdin_together_with_folders() {
    let project = broken_project();
    let run = project.run_with_stdin(
        &[
            "check",
            "-",
            "infra",
            "--stdin-filename",
            "rendered/main.tf",
            "--format",
            "compact",
        ],
        BROKEN_TF,
    );
    assert_eq!(run.status, 1, "{run:?}");
    let files: Vec<&str> = run
        .stdout
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(files, ["infra/main.tf", "rendered/main.tf"]);
}

#[test]
fn gitignored_and_hidden_files_are_not_read() {
    let project = clean_project();
    project
        .file(".gitignore", "generated/\nscratch.tf\n")
        .file("generated/main.tf", BROKEN_TF)
        .file("infra/scratch.tf", BROKEN_TF)
        .file(".terraform/modules/vpc/main.tf", BROKEN_TF)
        .file("infra/.terraform/modules/eks/main.tf", BROKEN_TF)
        .file(".git/hooks/x.tf", BROKEN_TF);
    let run = project.run(&["check", "--format", "compact"]);
    assert_eq!(run.status, 0, "{run:?}");
    assert_eq!(run.stdout, "");
    // The same broken text outside those places is found, so the check above can fail.
    project.file("infra/visible.tf", BROKEN_TF);
    let run = project.run(&["check", "--format", "compact"]);
    assert_eq!(run.status, 1);
    let files: Vec<&str> = run
        .stdout
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(files, ["infra/visible.tf"]);
}

#[test]
fn a_file_path_lints_only_that_file() {
    let project = broken_project();
    project.file("infra/other.tf", BROKEN_TF);
    for path in ["infra/main.tf", "./infra/main.tf"] {
        let run = project.run(&["check", path, "--format", "compact"]);
        assert_eq!(run.status, 1, "{path}: {run:?}");
        assert_eq!(run.stdout.lines().count(), 1, "{path}: {}", run.stdout);
        assert!(
            run.stdout.starts_with("infra/main.tf:2:13: "),
            "{path}: {}",
            run.stdout
        );
    }
    let run = project.run(&["check", "infra/variables.tf"]);
    assert_eq!(run.status, 0, "{run:?}");
}

#[test]
fn paths_are_shown_relative_to_the_working_directory() {
    let project = broken_project();
    let absolute = project.path().canonicalize().unwrap();
    let absolute_infra = absolute.join("infra");
    let cases: [(&str, &[&str], &str); 5] = [
        (".", &[], "infra/main.tf:2:13: "),
        (".", &["."], "infra/main.tf:2:13: "),
        (".", &["./infra/"], "infra/main.tf:2:13: "),
        (
            ".",
            &[absolute_infra.to_str().unwrap()],
            "infra/main.tf:2:13: ",
        ),
        ("infra", &[], "main.tf:2:13: "),
    ];
    for (cwd, paths, expected) in cases {
        let args: Vec<&str> = ["check", "--format", "compact"]
            .iter()
            .chain(paths)
            .copied()
            .collect();
        let run = project.run_in(cwd, &args, None, &[]);
        assert_eq!(run.status, 1, "{cwd} {paths:?}: {run:?}");
        assert!(
            run.stdout.starts_with(expected),
            "{cwd} {paths:?}: {}",
            run.stdout
        );
    }
}

#[test]
fn the_scanned_tree_is_not_modified() {
    let project = busy_project();
    project
        .file(".gitignore", "ignored/\n")
        .file("ignored/main.tf", BROKEN_TF)
        .file("k8s/sa.yaml", "apiVersion: v1\nkind: ServiceAccount\n")
        .file("prod.tfvars", "region = \"eu-west-1\"\n");
    let before = project.snapshot();
    for format in FORMATS {
        project.run(&["check", "--format", format, "--var-file", "prod.tfvars"]);
    }
    project.run_with_stdin(
        &["check", "-", ".", "--stdin-filename", "alpha/main.tf"],
        VALID_TF,
    );
    project.run(&["check", "--fail-on", "never", "--var", "region=us-east-1"]);
    assert_eq!(project.snapshot(), before);
}

/// What `kustomize build overlays/prod` or `helm template` would print, piped in, gives the
/// same findings as linting the sources themselves.
#[test]
fn rendered_output_on_stdin_gives_the_findings_of_the_sources() {
    let project = Project::new();
    project.file(
        "infra/iam.tf",
        r#"
resource "aws_iam_role" "api" {
  name = "payments-api"
  assume_role_policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = "arn:aws:iam::482910375521:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/7D1E3F9A" }
      Condition = { StringEquals = {
        "oidc.eks.eu-west-1.amazonaws.com/id/7D1E3F9A:sub" = "system:serviceaccount:payments:payments-api"
        "oidc.eks.eu-west-1.amazonaws.com/id/7D1E3F9A:aud" = "sts.amazonaws.com"
      } }
    }]
  })
}
"#,
    );
    project.file(
        "k8s/base/serviceaccount.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: payments-api\n  namespace: payments\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::482910375521:role/payments-api\n",
    );
    project.file(
        "k8s/base/kustomization.yaml",
        "resources:\n  - serviceaccount.yaml\n",
    );
    project.file(
        "k8s/overlays/prod/kustomization.yaml",
        "namespace: payments-prod\nnamePrefix: prod-\nresources:\n  - ../../base\n",
    );
    // `kustomize build k8s/overlays/prod`, written out by hand.
    let rendered = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::482910375521:role/payments-api\n  name: prod-payments-api\n  namespace: payments-prod\n";
    let findings = |run: &Run| -> Vec<(String, String)> {
        parse_json(run)["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["rule_id"].as_str().unwrap().to_string(),
                    d["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let from_sources = project.run(&["check", "infra", "k8s", "--format", "json"]);
    let from_stdin = project.run_with_stdin(
        &[
            "check",
            "-",
            "--stdin-filename",
            "rendered.yaml",
            "infra",
            "--format",
            "json",
        ],
        rendered,
    );
    assert_eq!(from_sources.status, 1, "{from_sources:?}");
    assert!(!findings(&from_sources).is_empty());
    assert_eq!(findings(&from_stdin), findings(&from_sources));
}

/// The two lines of README.md's Quick start: its first `sh` block.
fn quick_start_lines() -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md is readable");
    let section = readme
        .split("\n## Quick start\n")
        .nth(1)
        .expect("README.md has a Quick start section");
    let section = section.split("\n## ").next().unwrap();
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("the Quick start has a sh block");
    block.lines().map(str::to_string).collect()
}

/// The Quick start's first line runs the linter on a bundled example and passes; its
/// second is the test command (`scripts/quickstart.sh` runs both on a fresh clone in CI).
#[test]
fn the_quick_start_lints_a_bundled_example_and_names_the_test_script() {
    let lines = quick_start_lines();
    assert_eq!(lines.len(), 2, "exactly two lines: {lines:?}");
    let args = lines[0]
        .strip_prefix("cargo run --release -- ")
        .expect("the first line runs the linter through cargo");
    let args: Vec<&str> = args.split_whitespace().collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(env!("CARGO_BIN_EXE_irsa-lint"))
        .args(&args)
        .current_dir(root)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("IRSA003 trust-subject-mismatch"),
        "{stdout}"
    );
    assert_eq!(lines[1], "scripts/test.sh");
    let script = std::fs::read_to_string(root.join("scripts/test.sh")).unwrap();
    assert!(script.contains("cargo test --workspace --all-targets"));
}

/// Runs the binary in the repository's root on a fixture folder.
fn run_on_fixture(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_irsa-lint"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    Run {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

const MIXED_COVERAGE: &str = "4 ServiceAccounts with a role: 1 fully checked, 1 partly checked \
    (the role's trust policy or provider could not be evaluated), 2 not checkable (1: no \
    scanned Terraform or eksctl config defines the role; 1: the role ARN is known only once \
    rendered or applied); run `irsa-lint graph` to see each link";

/// A clean report still says what it could not check, in every format that has a summary,
/// and `--fail-on unchecked` turns what was not fully checked into a failure.
#[test]
fn coverage_is_reported_in_every_format_and_unchecked_can_fail() {
    let case = "fixtures/coverage/mixed";
    let human = run_on_fixture(&["check", case]);
    assert_eq!(human.status, 0, "{human:?}");
    assert_eq!(
        human.stdout,
        format!("no problems found\n{MIXED_COVERAGE}\n")
    );

    let json = run_on_fixture(&["check", "--format", "json", case]);
    let document: Value = serde_json::from_str(&json.stdout).unwrap();
    let expected = serde_json::json!({
        "service_accounts": 4,
        "fully_checked": 1,
        "partly_checked": 1,
        "not_checkable": 2,
        "role_not_in_scan": 1,
        "role_not_evaluated": 1,
        "service_account_unknown": 0,
        "external": 0,
        "infrastructure_read": true,
        "templates_not_read": 0,
        "summary": MIXED_COVERAGE,
    });
    assert_eq!(document["coverage"], expected);

    let sarif = run_on_fixture(&["check", "--format", "sarif", case]);
    let log: Value = serde_json::from_str(&sarif.stdout).unwrap();
    assert_eq!(log["runs"][0]["properties"]["coverage"], expected);

    for fail_on in ["unchecked", "never,unchecked", "warning,unchecked"] {
        let strict = run_on_fixture(&["check", "--fail-on", fail_on, case]);
        assert_eq!(strict.status, 1, "--fail-on {fail_on}: {strict:?}");
    }
    let fully = run_on_fixture(&[
        "check",
        "--fail-on",
        "unchecked",
        "fixtures/examples/clean-platform",
    ]);
    assert_eq!(fully.status, 0, "everything checked: {fully:?}");
}

#[test]
fn manifests_without_terraform_say_nothing_could_be_checked() {
    let run = run_on_fixture(&["check", "fixtures/coverage/manifests-only"]);
    assert_eq!(run.status, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "no problems found\nno Terraform or eksctl config in the scan: the roles of 2 \
         ServiceAccounts could not be checked (lint the Terraform that defines the roles \
         together with the manifests)\n"
    );
    let unchecked = run_on_fixture(&[
        "check",
        "--fail-on",
        "unchecked",
        "fixtures/coverage/manifests-only",
    ]);
    assert_eq!(unchecked.status, 1);
}

#[test]
fn templates_are_counted_always_and_listed_with_verbose() {
    let case = "fixtures/templates/jinja-sed-and-fragments-stay-silent";
    let quiet = run_on_fixture(&["check", "--format", "json", case]);
    assert_eq!(quiet.status, 0, "{quiet:?}");
    let document: Value = serde_json::from_str(&quiet.stdout).unwrap();
    assert_eq!(document["coverage"]["templates_not_read"], 3);
    assert_eq!(document["diagnostics"], serde_json::json!([]));

    let verbose = run_on_fixture(&["check", "--verbose", "--format", "compact", case]);
    assert_eq!(verbose.status, 0, "{verbose:?}");
    let listed: Vec<&str> = verbose
        .stdout
        .lines()
        .map(|line| line.split(':').next().unwrap_or(""))
        .collect();
    assert_eq!(
        listed,
        [
            format!("{case}/bootstrap/eks-connector.yaml"),
            format!("{case}/helm-values/external-dns.yaml"),
            format!("{case}/terraform/platform/irsa.j2.tf"),
        ]
    );
    assert!(
        verbose.stdout.contains("note[IRSA000] template not linted"),
        "{}",
        verbose.stdout
    );
}

/// A ServiceAccount with a mistyped annotation key (IRSA013) next to a Terraform file that
/// does not parse (IRSA000): two findings of two rules.
fn two_rule_project() -> Project {
    let project = broken_project();
    project.file(
        "k8s/sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n  namespace: payments\n  \
         annotations:\n    eks.amazonaws.com/rolearn: arn:aws:iam::210987654321:role/payments-api\n",
    );
    project
}

fn rule_ids(run: &Run) -> Vec<String> {
    parse_json(run)["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn select_and_ignore_choose_rules_by_id_or_name() {
    let project = two_rule_project();
    let all = project.run(&["check", "--format", "json"]);
    assert_eq!(rule_ids(&all), ["IRSA000", "IRSA013"], "{all:?}");
    let run = project.run(&[
        "check",
        "--format",
        "json",
        "--select",
        "annotation-key-typo",
    ]);
    assert_eq!(rule_ids(&run), ["IRSA013"], "{run:?}");
    assert_eq!(run.status, 1, "{run:?}");
    let run = project.run(&["check", "--format", "json", "--ignore", "IRSA013"]);
    assert_eq!(rule_ids(&run), ["IRSA000"], "{run:?}");
    let run = project.run(&["check", "--select", "IRSA013,IRSA999"]);
    assert_eq!(run.status, 2, "{run:?}");
    assert!(
        run.stderr
            .starts_with("error: --select: no rule has the id or name `IRSA999`"),
        "{run:?}"
    );
}

#[test]
fn exit_zero_reports_the_findings_and_exits_0() {
    let run = broken_project().run(&["check", "--exit-zero", "--format", "compact"]);
    assert_eq!(run.status, 0, "{run:?}");
    assert!(run.stdout.contains("error[IRSA000]"), "{run:?}");
    let missing = broken_project().run(&["check", "--exit-zero", "no-such-folder"]);
    assert_eq!(missing.status, 2, "usage errors still exit 2: {missing:?}");
}

#[test]
fn quiet_prints_the_findings_and_nothing_else() {
    let run = broken_project().run(&["check", "--quiet"]);
    assert_eq!(run.status, 1, "{run:?}");
    assert!(run.stdout.contains("IRSA000"), "{run:?}");
    assert!(!run.stdout.contains("1 error"), "no summary: {run:?}");
    assert!(
        !run.stdout.contains("ServiceAccount"),
        "no coverage line: {run:?}"
    );
    let empty = Project::new();
    empty.file("README.md", "# nothing to lint\n");
    let run = empty.run(&["check", "-q"]);
    assert_eq!(
        (run.status, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
}

#[test]
fn output_file_holds_the_report_and_stdout_stays_empty() {
    let project = broken_project();
    let run = project.run(&["check", "--format", "sarif", "-o", "report.sarif"]);
    assert_eq!(
        run.status, 1,
        "the exit status still says what was found: {run:?}"
    );
    assert_eq!(run.stdout, "");
    let written = std::fs::read_to_string(project.path().join("report.sarif")).unwrap();
    let sarif: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    // Human output to a file: no colour even when forced on the terminal's behalf.
    let run = project.run_with_env(&["check", "-o", "report.txt"], &[("CLICOLOR_FORCE", "1")]);
    assert_eq!(run.status, 1, "{run:?}");
    let text = std::fs::read_to_string(project.path().join("report.txt")).unwrap();
    assert!(
        text.contains("IRSA000") && !text.contains('\u{1b}'),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn output_file_refuses_a_symbolic_link() {
    let project = broken_project();
    project.file("precious.txt", "keep me\n");
    std::os::unix::fs::symlink("precious.txt", project.path().join("report.txt")).unwrap();
    let run = project.run(&["check", "-o", "report.txt"]);
    assert_eq!(run.status, 2, "{run:?}");
    assert!(
        run.stderr
            .starts_with("error: cannot write report.txt: is a symbolic link"),
        "{run:?}"
    );
    let kept = std::fs::read_to_string(project.path().join("precious.txt")).unwrap();
    assert_eq!(kept, "keep me\n");
}

/// Microsoft's SARIF validator, with the rules GitHub code scanning applies on upload (`Gh`)
/// and SARIF's own best practices (`Sarif`), finds nothing in our output, run from a
/// sub-folder of a repository. `scripts/test.sh` installs it and names it in
/// `SARIF_MULTITOOL`.
#[test]
fn sarif_passes_microsoft_sarif_multitool_with_github_rules() {
    let Some(multitool) = std::env::var_os("SARIF_MULTITOOL") else {
        panic!(
            "SARIF_MULTITOOL is not set. This test runs Microsoft's sarif-multitool; run the \
             suite with scripts/test.sh, which installs it"
        );
    };
    let repository = Project::new();
    repository.file(".git/HEAD", "ref: refs/heads/main\n");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/examples/alb-controller");
    for entry in walkdir(&example) {
        let relative = entry.strip_prefix(&example).unwrap();
        let bytes = std::fs::read(&entry).unwrap();
        repository.file(&format!("platform/{}", relative.display()), bytes);
    }
    let run = repository.run_in("platform", &["check", "--format", "sarif"], None, &[]);
    assert_eq!(run.status, 1, "the example has findings: {run:?}");
    let log: Value = serde_json::from_str(&run.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for result in results {
        let location = &result["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(location["uriBaseId"], "%SRCROOT%", "{result:#}");
        assert!(
            location["uri"].as_str().unwrap().starts_with("platform/"),
            "relative to the repository root, not the working folder: {result:#}"
        );
        assert!(result["partialFingerprints"].is_object(), "{result:#}");
    }
    let sarif = repository.path().join("irsa-lint.sarif");
    std::fs::write(&sarif, &run.stdout).unwrap();
    let verdict = repository.path().join("verdict.sarif");
    let output = Command::new(&multitool)
        .args(["validate", "--rule-kind", "Gh;Sarif", "--output"])
        .arg(&verdict)
        .arg(&sarif)
        .output()
        .expect("sarif-multitool starts");
    assert!(output.status.success(), "{output:?}");
    let verdict: Value = serde_json::from_str(&std::fs::read_to_string(&verdict).unwrap()).unwrap();
    let complaints: Vec<String> = verdict["runs"][0]["results"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|r| format!("{} {} {}", r["ruleId"], r["level"], r["message"]))
        .collect();
    assert_eq!(complaints, Vec::<String>::new());
}

/// Every file below `dir`, for copying a bundled example.
fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walkdir(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// A ServiceAccount whose annotation key is mistyped, with comments around it.
const TYPO_SA: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n  \
                       namespace: payments\n  annotations:\n    # the payments role\n    \
                       eks.amazonaws.com/rolearn: arn:aws:iam::210987654321:role/payments-api  # prod\n";

#[test]
fn diff_prints_the_fixes_and_writes_nothing() {
    let project = Project::new();
    project.file("k8s/sa.yaml", TYPO_SA);
    let before = project.snapshot();
    let run = project.run(&["check", "--diff"]);
    assert_eq!(run.status, 1, "there is something to fix: {run:?}");
    assert_eq!(
        run.stdout,
        "--- a/k8s/sa.yaml\n+++ b/k8s/sa.yaml\n@@ -5,4 +5,4 @@\n   namespace: payments\n   \
         annotations:\n     # the payments role\n-    eks.amazonaws.com/rolearn: \
         arn:aws:iam::210987654321:role/payments-api  # prod\n+    eks.amazonaws.com/role-arn: \
         arn:aws:iam::210987654321:role/payments-api  # prod\n"
    );
    assert_eq!(project.snapshot(), before, "--diff writes nothing");
}

#[test]
fn fix_applies_in_place_relints_and_a_second_fix_changes_nothing() {
    let project = Project::new();
    project.file("k8s/sa.yaml", TYPO_SA);
    let run = project.run(&["check", "--fix", "--format", "compact"]);
    assert_eq!(run.status, 0, "nothing remains: {run:?}");
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "applied 1 fix in 1 file\n");
    let fixed = std::fs::read_to_string(project.path().join("k8s/sa.yaml")).unwrap();
    assert_eq!(fixed, TYPO_SA.replace("/rolearn", "/role-arn"));
    let after = project.snapshot();
    let again = project.run(&["check", "--fix"]);
    assert_eq!((again.status, again.stderr.as_str()), (0, ""), "{again:?}");
    assert_eq!(project.snapshot(), after, "a second --fix changes nothing");
}

#[test]
fn fix_leaves_what_it_cannot_fix_reported_and_refuses_stdin() {
    let project = broken_project();
    project.file("k8s/api.yaml", TYPO_SA);
    let run = project.run(&["check", "--fix", "--format", "compact"]);
    assert_eq!(run.status, 1, "the syntax error remains: {run:?}");
    assert!(run.stdout.contains("error[IRSA000]"), "{run:?}");
    assert!(!run.stdout.contains("IRSA013"), "{run:?}");
    let run = project.run_with_stdin(&["check", "--fix", "-"], TYPO_SA);
    assert_eq!(run.status, 2, "{run:?}");
    assert!(
        run.stderr.contains("--fix cannot write standard input"),
        "{run:?}"
    );
    let run = project.run_with_stdin(&["check", "--diff", "-"], TYPO_SA);
    assert_eq!(
        run.status, 0,
        "standard input is not a file to diff: {run:?}"
    );
    assert!(run.stderr.contains("was not applied"), "{run:?}");
}

/// A folder given through a link (a checkout under a linked workspace folder) is linted as
/// the folder itself: a template that Terraform renders with `templatefile()` is still the
/// walked file, reported once, as rendered, not also read as a manifest of its own.
#[test]
fn a_root_given_through_a_link_shares_rendered_templates_with_the_walk() {
    let project = Project::new();
    let case = "fixtures/terraform-forms/local-file-templatefile-namespace-differs";
    crate::copy_folder(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join(case),
        &project.path().join("platform"),
    );
    std::os::unix::fs::symlink("platform", project.path().join("linked")).unwrap();
    let findings = |root: &str| {
        let run = project.run(&["check", root, "--format", "compact"]);
        assert_eq!(run.status, 1, "{run:?}");
        let prefix = format!("{root}/");
        run.stdout
            .lines()
            .map(|l| l.strip_prefix(&prefix).unwrap_or(l).to_string())
            .collect::<Vec<_>>()
    };
    let direct = findings("platform");
    assert_eq!(direct.len(), 1, "{direct:?}");
    assert!(
        direct[0].starts_with("infra/templates/serviceaccount.yaml.tpl:5:"),
        "{direct:?}"
    );
    assert_eq!(findings("linked"), direct);
}

/// `IRSA_LINT_TIMINGS=1`, for performance work, writes each stage's time and the slowest
/// rules to standard error, and changes nothing else.
#[test]
fn timings_go_to_standard_error_only() {
    let project = broken_project();
    let args = ["check", "--format", "json"];
    let plain = project.run(&args);
    let timed = project.run_with_env(&args, &[("IRSA_LINT_TIMINGS", "1")]);
    assert_eq!(timed.status, plain.status);
    assert_eq!(timed.stdout, plain.stdout);
    assert!(!plain.stderr.contains("timing:"), "{}", plain.stderr);
    let stages: Vec<&str> = timed
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("timing: "))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    for stage in [
        "walk", "read", "sources", "link", "slowest", "rules", "coverage",
    ] {
        assert!(stages.contains(&stage), "{stage}: {}", timed.stderr);
    }
    assert!(
        timed.stderr.contains("timing: slowest rules IRSA0"),
        "{}",
        timed.stderr
    );
}
