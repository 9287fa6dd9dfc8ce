//! How irsa-lint reaches users without a Rust toolchain, each path exercised for real: the
//! wheel (pip), the GitHub Action (its steps run here, actionlint checks its metadata), the
//! release workflow (actionlint, and the targets and artifacts it builds), the VS Code
//! extension (packaged with vsce), and the versions all of them name.
//!
//! The tools come from `scripts/test.sh`: actionlint and vsce on PATH, and in
//! `IRSA_LINT_TEST_TOOLS` the wheelhouse (the irsa-lint wheel built from this checkout by
//! maturin, and the wheels pip installs offline beside it) and the extension's runtime
//! dependencies. Without them these tests fail rather than skip. Nothing here reaches a
//! network: pip runs with `--no-index`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_yaml::Value;
use toml::de::{DeTable, DeValue};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn repository_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `target/test-tools`, as scripts/test.sh exports it.
fn test_tools() -> PathBuf {
    let tools = std::env::var_os("IRSA_LINT_TEST_TOOLS").unwrap_or_else(|| {
        panic!(
            "IRSA_LINT_TEST_TOOLS is not set. These tests install the wheel and run actionlint \
             and vsce; run the suite with scripts/test.sh, which builds and installs them"
        )
    });
    PathBuf::from(tools)
}

/// The folder pip reads offline: the irsa-lint wheel and the build backends it needs.
pub fn wheelhouse() -> PathBuf {
    test_tools().join("wheelhouse")
}

/// The irsa-lint wheel scripts/test.sh built from this checkout.
fn irsa_lint_wheel() -> PathBuf {
    let wheels: Vec<PathBuf> = std::fs::read_dir(wheelhouse())
        .expect("the wheelhouse exists")
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.starts_with("irsa_lint-") && name.ends_with(".whl")
        })
        .collect();
    let [wheel] = &wheels[..] else {
        panic!("expected one irsa-lint wheel in the wheelhouse, found {wheels:?}");
    };
    wheel.clone()
}

fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|err| panic!("{command:?} cannot be started: {err}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: {}\n{}\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// A virtualenv of its own in `dir`; returns its bin folder.
fn virtualenv(dir: &Path) -> PathBuf {
    let venv = dir.join("venv");
    let output = run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    assert_success(&output, "python3 -m venv");
    venv.join("bin")
}

/// Pip offline: only the wheelhouse.
fn offline_pip(command: &mut Command) -> &mut Command {
    command
        .env("PIP_NO_INDEX", "1")
        .env("PIP_FIND_LINKS", wheelhouse())
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_EXTRA_INDEX_URL")
}

/// The names of the files in a zip archive (a wheel, a .vsix), listed by Python's zipfile.
fn zip_names(archive: &Path) -> Vec<String> {
    let output = run(Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))",
        ])
        .arg(archive));
    assert_success(&output, "listing the archive");
    text(&output.stdout).lines().map(str::to_string).collect()
}

fn zip_member(archive: &Path, name: &str) -> String {
    let output = run(Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())",
        ])
        .arg(archive)
        .arg(name));
    assert_success(&output, "reading the archive");
    text(&output.stdout)
}

#[test]
fn the_wheel_holds_the_binary_and_the_crates_metadata() {
    let wheel = irsa_lint_wheel();
    let name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!("irsa_lint-{VERSION}-py3-none-")),
        "{name}: no Python ABI, any Python 3"
    );
    let names = zip_names(&wheel);
    let script = format!("irsa_lint-{VERSION}.data/scripts/irsa-lint");
    assert!(names.contains(&script), "{names:?}");
    // Nothing but the binary and the package's metadata: no Python code.
    for name in &names {
        assert!(
            *name == script || name.starts_with(&format!("irsa_lint-{VERSION}.dist-info/")),
            "{name} in the wheel"
        );
    }
    let metadata = zip_member(&wheel, &format!("irsa_lint-{VERSION}.dist-info/METADATA"));
    for line in [
        "Name: irsa-lint".to_string(),
        format!("Version: {VERSION}"),
        "License-Expression: MIT OR Apache-2.0".to_string(),
        "Project-URL: Homepage, https://github.com/irsa-lint/irsa-lint".to_string(),
    ] {
        assert!(metadata.lines().any(|l| l == line), "{line} in\n{metadata}");
    }
    assert!(
        metadata.contains("Find the silent mistakes in EKS IAM Roles"),
        "the README is the long description"
    );
    for licence in ["LICENSE-MIT", "LICENSE-APACHE"] {
        assert!(
            names.iter().any(|n| n.ends_with(&format!("/{licence}"))),
            "{licence} in {names:?}"
        );
    }
}

/// `pip install irsa-lint` in a fresh virtualenv gives a working `irsa-lint` command.
#[test]
fn the_wheel_installs_into_a_fresh_virtualenv_and_lints() {
    let dir = tempfile::tempdir().unwrap();
    let bin = virtualenv(dir.path());
    let output = run(offline_pip(Command::new(bin.join("python")).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "irsa-lint",
    ])));
    assert_success(&output, "pip install irsa-lint");

    let irsa_lint = bin.join("irsa-lint");
    let output = run(Command::new(&irsa_lint).arg("--version"));
    assert_success(&output, "irsa-lint --version");
    assert_eq!(text(&output.stdout).trim(), format!("irsa-lint {VERSION}"));

    let output = run(Command::new(&irsa_lint)
        .args([
            "check",
            "--format",
            "compact",
            "fixtures/examples/alb-controller",
        ])
        .current_dir(repository_root()));
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        text(&output.stdout).contains("error[IRSA003]"),
        "{output:?}"
    );
}

/// The Action's steps, run here as a runner would run them: the install step puts the
/// wheel into a virtualenv and on GITHUB_PATH, the SARIF step writes a report that does not
/// fail the job, the last step annotates and fails on the error. Only the upload (GitHub's
/// own action) is not run.
#[test]
fn the_actions_steps_install_irsa_lint_write_sarif_and_fail_on_errors() {
    let action = action();
    let steps = action["runs"]["steps"].as_sequence().unwrap();
    let uses: Vec<&str> = steps
        .iter()
        .filter_map(|step| step["uses"].as_str())
        .collect();
    assert_eq!(uses, ["github/codeql-action/upload-sarif@v4"]);
    let script = |name: &str| -> (String, Vec<(String, String)>) {
        let step = steps
            .iter()
            .find(|step| step["name"] == name)
            .unwrap_or_else(|| panic!("a step named {name}"));
        assert_eq!(step["shell"], "bash");
        let env = step["env"]
            .as_mapping()
            .map(|env| {
                env.iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().unwrap().to_string(),
                            input_default(&action, v.as_str().unwrap()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        (step["run"].as_str().unwrap().to_string(), env)
    };

    let dir = tempfile::tempdir().unwrap();
    let runner_temp = dir.path().join("runner-temp");
    let workspace = dir.path().join("workspace");
    std::fs::create_dir_all(&runner_temp).unwrap();
    crate::copy_folder(
        &repository_root().join("fixtures/examples/alb-controller"),
        &workspace,
    );
    let github_path = dir.path().join("github-path");
    let github_output = dir.path().join("github-output");
    std::fs::write(&github_path, "").unwrap();
    std::fs::write(&github_output, "").unwrap();
    let run_step = |name: &str, path: &std::ffi::OsStr| -> Output {
        let (script, env) = script(name);
        let mut command = Command::new("bash");
        command
            .args(["-e", "-o", "pipefail", "-c", &script])
            .current_dir(&workspace)
            .env("RUNNER_TEMP", &runner_temp)
            .env("RUNNER_OS", "Linux")
            .env("GITHUB_PATH", &github_path)
            .env("GITHUB_OUTPUT", &github_output)
            .env("PATH", path)
            .envs(env);
        run(offline_pip(&mut command))
    };

    let system_path = std::env::var_os("PATH").unwrap_or_default();
    let output = run_step("Install irsa-lint", &system_path);
    assert_success(&output, "the install step");
    assert!(
        text(&output.stdout).contains(&format!("irsa-lint {VERSION}")),
        "{output:?}"
    );
    let added = std::fs::read_to_string(&github_path).unwrap();
    let added = PathBuf::from(added.trim());
    assert!(added.join("irsa-lint").is_file(), "{added:?}");
    let path =
        std::env::join_paths(std::iter::once(added).chain(std::env::split_paths(&system_path)))
            .unwrap();

    let output = run_step("Write the SARIF report", &path);
    assert_success(&output, "the SARIF step never fails the job");
    assert_eq!(
        std::fs::read_to_string(&github_output).unwrap(),
        "sarif-file=irsa-lint.sarif\n"
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(workspace.join("irsa-lint.sarif")).unwrap())
            .unwrap();
    let rules: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["ruleId"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"IRSA003"), "{rules:?}");

    let output = run_step("Annotate the pull request", &path);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        text(&output.stdout).contains("::error file=terraform/iam-aws-load-balancer-controller.tf")
            || text(&output.stdout).contains("::error file=k8s/"),
        "{output:?}"
    );
}

fn action() -> Value {
    let text = std::fs::read_to_string(repository_root().join("action.yml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// `${{ inputs.NAME }}` → that input's default; anything else as written.
fn input_default(action: &Value, expression: &str) -> String {
    match expression
        .strip_prefix("${{ inputs.")
        .and_then(|rest| rest.strip_suffix(" }}"))
    {
        Some(input) => action["inputs"][input]["default"]
            .as_str()
            .unwrap_or_else(|| panic!("input {input} has a default"))
            .to_string(),
        None => expression.to_string(),
    }
}

/// actionlint in `dir`: its status and output.
fn actionlint(dir: &Path, args: &[&str]) -> (i32, String) {
    let output = Command::new("actionlint")
        .args(["-no-color"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|err| {
            panic!(
                "actionlint is not on PATH ({err}); run the suite with scripts/test.sh, which \
                 installs it"
            )
        });
    (
        output.status.code().unwrap(),
        text(&output.stdout) + &text(&output.stderr),
    )
}

/// actionlint reads an action's metadata where a workflow uses it: a workflow in a copy of
/// the repository uses `./` with every input, and passes; one with an input the action does
/// not declare fails, which shows action.yml was read.
#[test]
fn actionlint_accepts_a_workflow_using_the_action() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repository_root().join("action.yml"),
        dir.path().join("action.yml"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    let inputs: Vec<String> = action()["inputs"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|key| key.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        inputs,
        [
            "version",
            "paths",
            "args",
            "fail-on",
            "upload-sarif",
            "sarif-file",
            "category"
        ]
    );
    let workflow = |extra: &str| {
        format!(
            "name: irsa-lint\non:\n  pull_request:\npermissions:\n  contents: read\n  security-events: write\njobs:\n  irsa-lint:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v5\n      - id: lint\n        uses: ./\n        with:\n          version: \"{VERSION}\"\n          paths: infra k8s\n          args: --config ci/irsa-lint.toml\n          fail-on: warning\n          upload-sarif: \"true\"\n          sarif-file: reports/irsa-lint.sarif\n          category: irsa-lint\n{extra}      - run: echo \"${{{{ steps.lint.outputs.sarif-file }}}}\"\n"
        )
    };
    // actionlint finds the project, and `./`, by its git repository.
    let output = run(Command::new("git")
        .args(["init", "--quiet"])
        .current_dir(dir.path())
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE"));
    assert_success(&output, "git init");
    let path = dir.path().join(".github/workflows/irsa-lint.yml");
    std::fs::write(&path, workflow("")).unwrap();
    let (status, output) = actionlint(dir.path(), &[]);
    assert_eq!(status, 0, "{output}");

    std::fs::write(&path, workflow("          fail_on: warning\n")).unwrap();
    let (status, output) = actionlint(dir.path(), &[]);
    assert_ne!(status, 0, "{output}");
    assert!(
        output.contains("input \"fail_on\" is not defined in action \"irsa-lint\""),
        "{output}"
    );
}

#[test]
fn the_actions_default_version_is_this_one() {
    assert_eq!(action()["inputs"]["version"]["default"], VERSION);
}

fn release_workflow() -> Value {
    let text =
        std::fs::read_to_string(repository_root().join(".github/workflows/release.yml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// The `target` of each entry of a job's matrix, with another field of the entry.
fn matrix(workflow: &Value, job: &str, field: &str) -> Vec<(String, String)> {
    workflow["jobs"][job]["strategy"]["matrix"]["include"]
        .as_sequence()
        .unwrap_or_else(|| panic!("job {job} has a matrix"))
        .iter()
        .map(|entry| {
            (
                entry["target"].as_str().unwrap().to_string(),
                entry[field].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn actionlint_accepts_the_release_workflow() {
    let (status, output) = actionlint(repository_root(), &[".github/workflows/release.yml"]);
    assert_eq!(status, 0, "{output}");
}

/// The release's plan: which platforms get an archive and which a wheel, and what the
/// archives are called. A change of platform is a change of this test.
#[test]
fn the_release_builds_these_archives_and_wheels() {
    let workflow = release_workflow();
    let archives: Vec<String> = matrix(&workflow, "binaries", "archive")
        .into_iter()
        .map(|(target, archive)| format!("irsa-lint-{target}.{archive}"))
        .collect();
    assert_eq!(
        archives,
        [
            "irsa-lint-x86_64-unknown-linux-musl.tar.gz",
            "irsa-lint-aarch64-unknown-linux-musl.tar.gz",
            "irsa-lint-x86_64-apple-darwin.tar.gz",
            "irsa-lint-aarch64-apple-darwin.tar.gz",
            "irsa-lint-x86_64-pc-windows-msvc.zip",
        ]
    );
    let wheels = matrix(&workflow, "wheels", "manylinux");
    assert_eq!(
        wheels,
        [
            ("x86_64-unknown-linux-gnu".into(), "2_17".into()),
            ("aarch64-unknown-linux-gnu".into(), "2_17".into()),
            ("x86_64-unknown-linux-musl".into(), "musllinux_1_2".into()),
            ("aarch64-unknown-linux-musl".into(), "musllinux_1_2".into()),
            ("x86_64-apple-darwin".into(), "off".into()),
            ("aarch64-apple-darwin".into(), "off".into()),
            ("x86_64-pc-windows-msvc".into(), "off".into()),
        ]
    );
    // The package step names the archive `irsa-lint-$TARGET.$ARCHIVE` with the binary,
    // the README and both licences in it, each beside its SHA-256 sum.
    let steps = workflow["jobs"]["binaries"]["steps"].as_sequence().unwrap();
    let package = steps.iter().find(|s| s["id"] == "package").unwrap();
    let script = package["run"].as_str().unwrap();
    assert!(script.contains("name=\"irsa-lint-$TARGET\""), "{script}");
    assert!(
        script.contains("README.md LICENSE-MIT LICENSE-APACHE \"$name/\""),
        "{script}"
    );
    assert!(script.contains("> \"$file.sha256\""), "{script}");
    // Binaries are built from the lock file, as tested.
    let build = steps.iter().find(|s| s["name"] == "Build").unwrap();
    assert!(
        build["run"]
            .as_str()
            .unwrap()
            .contains("--release --locked")
    );
    // Only tags publish: the release and PyPI jobs wait for every build.
    let release = &workflow["jobs"]["github-release"];
    assert_eq!(
        release["needs"],
        serde_yaml::from_str::<Value>("[binaries, wheels, sdist, vscode]").unwrap()
    );
    assert_eq!(release["steps"][0]["with"]["pattern"], "{binary-*,vscode}");
    // The .vsix is packaged by the vsce the tests use.
    let vscode = workflow["jobs"]["vscode"]["steps"][2]["run"]
        .as_str()
        .unwrap();
    let tools: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repository_root().join("scripts/test-tools-npm/package.json"))
            .unwrap(),
    )
    .unwrap();
    let vsce = tools["dependencies"]["@vscode/vsce"].as_str().unwrap();
    assert!(
        vscode.contains(&format!(
            "npx --yes @vscode/vsce@{vsce} package --out irsa-lint-vscode.vsix"
        )),
        "{vscode}"
    );
    assert_eq!(release["if"], "startsWith(github.ref, 'refs/tags/')");
    assert_eq!(workflow["jobs"]["pypi"]["needs"][0], "github-release");
}

/// `vsce package` makes a .vsix of editors/vscode with its runtime dependencies, as a user
/// building it by hand would.
#[test]
fn the_vscode_extension_packages_into_a_vsix() {
    let dir = tempfile::tempdir().unwrap();
    let extension = dir.path().join("extension");
    crate::copy_folder(&repository_root().join("editors/vscode"), &extension);
    let _ = std::fs::remove_dir_all(extension.join("node_modules"));
    crate::copy_folder(
        &test_tools().join("vscode-extension/node_modules"),
        &extension.join("node_modules"),
    );
    let output = run(Command::new("node")
        .arg("--check")
        .arg(extension.join("extension.js")));
    assert_success(&output, "extension.js is valid JavaScript");

    let vsix = dir.path().join("irsa-lint.vsix");
    let output = Command::new("vsce")
        .args(["package", "--out"])
        .arg(&vsix)
        .current_dir(&extension)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|err| {
            panic!("vsce is not on PATH ({err}); run the suite with scripts/test.sh")
        });
    assert_success(&output, "vsce package");
    let names = zip_names(&vsix);
    for name in [
        "extension/package.json",
        "extension/extension.js",
        "extension/readme.md",
        "extension/LICENSE.txt",
        "extension/node_modules/vscode-languageclient/package.json",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:#?}");
    }
    assert!(
        !names
            .iter()
            .any(|n| n.ends_with("package-lock.json") && !n.contains("node_modules")),
        "{names:#?}"
    );
}

/// The extension starts `irsa-lint lsp` on the files irsa-lint reads.
#[test]
fn the_vscode_extension_starts_the_language_server() {
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repository_root().join("editors/vscode/package.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["version"], VERSION);
    assert_eq!(manifest["main"], "./extension.js");
    let client = &manifest["dependencies"]["vscode-languageclient"];
    assert!(client.is_string(), "{manifest}");
    let source =
        std::fs::read_to_string(repository_root().join("editors/vscode/extension.js")).unwrap();
    assert!(source.contains("args: ['lsp']"), "{source}");
    assert!(source.contains("require('vscode-languageclient/node')"));
    // The patterns cover each kind of file the pre-commit hook runs on.
    for pattern in ["{tf,tfvars,tftpl,hcl}", "{yaml,yml,json}", "{yaml,yml}.tpl"] {
        assert!(source.contains(pattern), "{pattern}");
    }
}

/// Every file that names the release version names this one.
#[test]
fn every_package_names_the_crates_version() {
    let root = repository_root();
    let mirror =
        toml_json(&std::fs::read_to_string(root.join("pre-commit-mirror/pyproject.toml")).unwrap());
    assert_eq!(mirror["project"]["version"], VERSION);
    assert_eq!(
        mirror["project"]["dependencies"],
        serde_json::json!([format!("irsa-lint=={VERSION}")])
    );
    let pyproject = toml_json(&std::fs::read_to_string(root.join("pyproject.toml")).unwrap());
    // maturin takes the version from Cargo.toml.
    assert_eq!(
        pyproject["project"]["dynamic"],
        serde_json::json!(["version"])
    );
    assert_eq!(pyproject["tool"]["maturin"]["bindings"], "bin");
    let readme = include_str!("../../README.md");
    assert!(readme.contains(&format!("uses: irsa-lint/irsa-lint@v{VERSION}")));
    assert!(readme.contains(&format!("rev: v{VERSION}")));
}

/// The crate's manifest has what crates.io shows and `cargo publish` asks for, and the
/// licence files it names exist.
#[test]
fn the_crate_carries_its_licence_and_metadata() {
    let manifest = toml_json(include_str!("../../Cargo.toml"));
    let package = &manifest["package"];
    assert_eq!(package["license"], "MIT OR Apache-2.0");
    for field in ["description", "repository", "readme", "rust-version"] {
        assert!(package[field].is_string(), "{field}");
    }
    assert!(package["keywords"].as_array().unwrap().len() <= 5);
    let include: Vec<&str> = package["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for file in [
        "/LICENSE-MIT",
        "/LICENSE-APACHE",
        "/README.md",
        "/rules/*.md",
    ] {
        assert!(include.contains(&file), "{file} in {include:?}");
    }
    assert!(!include.iter().any(|f| f.starts_with("/fixtures")));
    let apache = std::fs::read_to_string(repository_root().join("LICENSE-APACHE")).unwrap();
    assert!(apache.contains("Apache License") && apache.contains("Version 2.0, January 2004"));
    let mit = std::fs::read_to_string(repository_root().join("LICENSE-MIT")).unwrap();
    assert!(mit.starts_with("MIT License\n"));
}

/// `irsa-lint lsp --help` and the README give the same set-up for each editor.
#[test]
fn lsp_help_and_readme_set_up_the_same_editors() {
    let output = run(Command::new(env!("CARGO_BIN_EXE_irsa-lint")).args(["lsp", "--help"]));
    assert_success(&output, "irsa-lint lsp --help");
    let help = text(&output.stdout);
    let readme = include_str!("../../README.md");
    for line in [
        "vim.lsp.config('irsa_lint', {",
        "root_markers = { '.irsa-lint.toml', '.git' },",
        "vim.lsp.enable('irsa_lint')",
        "vim.lsp.start({ name = 'irsa_lint', cmd = { 'irsa-lint', 'lsp' },",
        "filetypes = { 'terraform', 'terraform-vars', 'hcl', 'yaml', 'json' },",
        "root_dir = require('lspconfig.util').root_pattern('.irsa-lint.toml', '.git'),",
        "require('lspconfig').irsa_lint.setup({})",
        "[language-server.irsa-lint]",
        "language-servers = [\"terraform-ls\", \"irsa-lint\"]",
        "language-servers = [\"yaml-language-server\", \"irsa-lint\"]",
        "'((terraform-mode hcl-mode yaml-mode yaml-ts-mode)",
        ". (\"irsa-lint\" \"lsp\"))))",
        "(add-hook 'terraform-mode-hook #'eglot-ensure)",
        "irsa-lint check --format compact",
    ] {
        assert!(help.contains(line), "{line} in lsp --help:\n{help}");
        assert!(readme.contains(line), "{line} in README.md");
    }
    for editor in [
        "VS Code",
        "Neovim 0.11",
        "Neovim 0.8-0.10",
        "Neovim 0.7",
        "Helix",
        "Emacs",
        "Zed",
    ] {
        assert!(help.contains(editor), "{editor}");
    }
}

/// A TOML document as JSON, to index like the YAML and JSON above.
fn toml_json(text: &str) -> serde_json::Value {
    let table = DeTable::parse(text).expect("valid TOML");
    toml_table_json(table.get_ref())
}

fn toml_table_json(table: &DeTable) -> serde_json::Value {
    table
        .iter()
        .map(|(key, value)| (key.get_ref().to_string(), toml_value_json(value.get_ref())))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn toml_value_json(value: &DeValue) -> serde_json::Value {
    match value {
        DeValue::String(text) => text.to_string().into(),
        DeValue::Boolean(flag) => (*flag).into(),
        DeValue::Array(items) => items
            .iter()
            .map(|item| toml_value_json(item.get_ref()))
            .collect(),
        DeValue::Table(table) => toml_table_json(table),
        // Numbers and dates: not asked about here.
        _ => serde_json::Value::Null,
    }
}

/// The first fenced block of `language` after `marker` in the README.
fn readme_block(marker: &str, language: &str) -> &'static str {
    let readme = include_str!("../../README.md");
    let after = &readme[readme.find(marker).unwrap_or_else(|| panic!("{marker}"))..];
    let fence = format!("```{language}\n");
    let start = after.find(&fence).unwrap() + fence.len();
    let end = start + after[start..].find("```\n").unwrap();
    &after[start..end]
}

/// The README's Helix and Zed set-ups are valid TOML and JSON that start `irsa-lint lsp`
/// (and `irsa-lint check`) for the languages irsa-lint reads.
#[test]
fn the_readmes_helix_and_zed_set_ups_parse() {
    let helix = toml_json(readme_block("**Helix**", "toml"));
    assert_eq!(
        helix["language-server"]["irsa-lint"]["command"],
        "irsa-lint"
    );
    assert_eq!(
        helix["language-server"]["irsa-lint"]["args"],
        serde_json::json!(["lsp"])
    );
    let languages: Vec<&str> = helix["language"]
        .as_array()
        .unwrap()
        .iter()
        .map(|language| {
            let servers = language["language-servers"].as_array().unwrap();
            assert_eq!(servers.last().unwrap(), "irsa-lint", "{language}");
            language["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(languages, ["hcl", "yaml"]);

    let zed: serde_json::Value = serde_json::from_str(readme_block("**Zed**", "json")).unwrap();
    assert_eq!(zed[0]["command"], "irsa-lint check --format compact");
}

/// The source distribution, which pip builds where no wheel fits the platform (with a Rust
/// toolchain), holds what the crate builds from and is a Cargo project on its own: the
/// benchmark crate of the workspace is left out and the manifest still loads.
#[test]
fn the_source_distribution_stands_alone() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(Command::new("maturin")
        .args(["sdist", "--out"])
        .arg(dir.path())
        .current_dir(repository_root()));
    assert_success(&output, "maturin sdist");
    let sdist = dir.path().join(format!("irsa_lint-{VERSION}.tar.gz"));
    let extract = run(Command::new("python3")
        .args([
            "-c",
            "import sys, tarfile; t = tarfile.open(sys.argv[1]); t.extractall(sys.argv[2], **({'filter': 'data'} if hasattr(tarfile, 'data_filter') else {})); print('\\n'.join(t.getnames()))",
        ])
        .arg(&sdist)
        .arg(dir.path()));
    assert_success(&extract, "extracting the sdist");
    let names = text(&extract.stdout);
    let prefix = format!("irsa_lint-{VERSION}/");
    for file in [
        "pyproject.toml",
        "Cargo.toml",
        "Cargo.lock",
        "LICENSE-MIT",
        "LICENSE-APACHE",
        "README.md",
        "src/main.rs",
        "rules/IRSA001.md",
        "src/eval/models/eks-pod-identity.tf",
    ] {
        let name = format!("{prefix}{file}");
        assert!(names.lines().any(|n| n == name), "{name} in the sdist");
    }
    for absent in ["fixtures/", "fuzz/", "dev/", "editors/", "target/"] {
        let name = format!("{prefix}{absent}");
        assert!(
            !names.lines().any(|n| n.starts_with(&name)),
            "{name} in the sdist"
        );
    }
    // Every file the code embeds is in it, or the crate does not build from it.
    for embedded in embedded_files(&repository_root().join("src")) {
        let name = format!("{prefix}{embedded}");
        assert!(names.lines().any(|n| n == name), "{name} in the sdist");
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = run(Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(dir.path().join(&prefix)));
    assert_success(&output, "cargo metadata in the unpacked sdist");
}

/// The files `include_str!` and `include_bytes!` name in the Rust files under `dir`,
/// relative to the repository's root.
fn embedded_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(embedded_files(&path));
            continue;
        }
        if path.extension().is_none_or(|extension| extension != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        for macro_call in ["include_str!(\"", "include_bytes!(\""] {
            for (at, _) in source.match_indices(macro_call) {
                let rest = &source[at + macro_call.len()..];
                let relative = &rest[..rest.find('"').unwrap()];
                let mut resolved = path.parent().unwrap().to_path_buf();
                for part in Path::new(relative).components() {
                    match part {
                        std::path::Component::ParentDir => {
                            resolved.pop();
                        }
                        other => resolved.push(other),
                    }
                }
                let inside = resolved
                    .strip_prefix(repository_root())
                    .unwrap_or_else(|_| {
                        panic!(
                            "{} embeds {relative}, outside the repository",
                            path.display()
                        )
                    });
                found.push(inside.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found
}
