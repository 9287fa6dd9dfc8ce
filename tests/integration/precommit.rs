//! The pre-commit hook, run by the real `pre-commit` on a throwaway git repository.
//!
//! The repository's `.pre-commit-config.yaml` has a `repo: local` hook made from our
//! `.pre-commit-hooks.yaml` with two changes: `language: system` and the built binary as
//! `entry`. That spares pre-commit a `cargo install` of irsa-lint (minutes, and the crate
//! registry) while `files`, `pass_filenames` and `require_serial` are the real file's.
//!
//! `pre-commit` must be on PATH; `scripts/test.sh` (the README's test command) installs it
//! from PyPI into a virtualenv under `target/`. Without it these tests fail rather than
//! skip. HOME, PRE_COMMIT_HOME and git's configuration all point into the temporary folder,
//! so nothing outside it is written.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml::{Mapping, Value};

const HOOK_ID: &str = "irsa-lint";
/// The hook for an irsa-lint already installed (`language: system`).
const SYSTEM_HOOK_ID: &str = "irsa-lint-system";
const ALB_TRUST: &str = "terraform/iam-aws-load-balancer-controller.tf";
const ALB_SERVICE_ACCOUNT: &str = "k8s/aws-load-balancer-controller/serviceaccount.yaml";

/// Variables that would make git or pre-commit look outside the temporary repository, or
/// skip hooks: set when `cargo test` itself runs inside a git hook, or by a user's shell.
const INHERITED_VARIABLES: [&str; 9] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_CONFIG",
    "SKIP",
    "PRE_COMMIT_ALLOW_NO_CONFIG",
    "XDG_CONFIG_HOME",
];

fn repository_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn hooks_manifest() -> Value {
    let path = repository_root().join(".pre-commit-hooks.yaml");
    let text = std::fs::read_to_string(&path).expect(".pre-commit-hooks.yaml is readable");
    serde_yaml::from_str(&text).expect(".pre-commit-hooks.yaml is YAML")
}

/// Our hook's entry in `.pre-commit-hooks.yaml`.
fn published_hook() -> Mapping {
    let manifest = hooks_manifest();
    let hooks = manifest
        .as_sequence()
        .expect("the manifest is a list of hooks");
    let hook = hooks
        .iter()
        .find(|hook| hook["id"] == HOOK_ID)
        .unwrap_or_else(|| panic!("no hook with id {HOOK_ID} in {hooks:?}"));
    hook.as_mapping().unwrap().clone()
}

/// The published hook as a `repo: local` hook that runs the binary under test.
fn local_hook_config() -> String {
    let binary = env!("CARGO_BIN_EXE_irsa-lint");
    // pre-commit splits `entry` like a shell; quoting keeps a path with spaces whole.
    assert!(!binary.contains('\''), "cannot quote {binary}");
    let mut hook = published_hook();
    hook.insert("language".into(), "system".into());
    hook.insert("entry".into(), format!("'{binary}' check").into());
    let local_repository = Mapping::from_iter([
        ("repo".into(), "local".into()),
        ("hooks".into(), Value::Sequence(vec![Value::Mapping(hook)])),
    ]);
    let config = Mapping::from_iter([(
        "repos".into(),
        Value::Sequence(vec![Value::Mapping(local_repository)]),
    )]);
    serde_yaml::to_string(&config).unwrap()
}

/// What one run of a program showed.
#[derive(Debug)]
struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

/// A git repository in a temporary folder, with a home folder and a pre-commit cache of its
/// own beside it.
struct HookRepository {
    dir: tempfile::TempDir,
    /// Variables set for every program run in the repository (PATH, pip's options).
    env: Vec<(String, std::ffi::OsString)>,
}

impl HookRepository {
    /// A repository whose `.pre-commit-config.yaml` has our hook and nothing else,
    /// committed.
    fn new() -> Self {
        Self::with_config(&local_hook_config(), Vec::new())
    }

    /// A repository with this `.pre-commit-config.yaml`, committed; `env` is set for
    /// pre-commit, git and the hooks.
    fn with_config(config: &str, env: Vec<(String, std::ffi::OsString)>) -> Self {
        let repository = HookRepository {
            dir: tempfile::tempdir().expect("a temporary folder can be created"),
            env,
        };
        std::fs::create_dir_all(repository.root()).unwrap();
        std::fs::create_dir_all(repository.home()).unwrap();
        repository.require_pre_commit();
        repository.git(&["init", "--quiet"]);
        repository.git(&["config", "user.email", "ci@example.com"]);
        repository.git(&["config", "user.name", "irsa-lint tests"]);
        repository.git(&["config", "commit.gpgsign", "false"]);
        repository.write(".pre-commit-config.yaml", config);
        repository.commit_all("add pre-commit configuration");
        repository
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("repository")
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(self.root())
            .env("HOME", self.home())
            .env("PRE_COMMIT_HOME", self.dir.path().join("pre-commit-home"))
            .env("XDG_CACHE_HOME", self.home().join(".cache"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.home().join(".gitconfig"));
        for variable in INHERITED_VARIABLES {
            command.env_remove(variable);
        }
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command
    }

    fn require_pre_commit(&self) {
        match self.command("pre-commit").arg("--version").output() {
            Ok(output) if output.status.success() => {}
            Ok(output) => panic!(
                "`pre-commit --version` failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ),
            Err(err) => panic!(
                "pre-commit is not on PATH ({err}). These tests run the real pre-commit; \
                 run the suite with scripts/test.sh, which installs it"
            ),
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Run {
        let output = self
            .command(program)
            .args(args)
            .output()
            .unwrap_or_else(|err| panic!("{program} cannot be started: {err}"));
        Run {
            status: output.status.code().expect("exits, not killed"),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn git(&self, args: &[&str]) {
        let run = self.run("git", args);
        assert_eq!(run.status, 0, "git {args:?}: {run:?}");
    }

    fn pre_commit(&self, args: &[&str]) -> Run {
        let args: Vec<&str> = ["run", "--color", "never"]
            .iter()
            .chain(args)
            .copied()
            .collect();
        self.run("pre-commit", &args)
    }

    fn write(&self, relative: &str, contents: &str) {
        let path = self.root().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    fn replace(&self, relative: &str, from: &str, to: &str) {
        let text = std::fs::read_to_string(self.root().join(relative)).unwrap();
        assert!(text.contains(from), "{from} in {relative}");
        self.write(relative, &text.replace(from, to));
    }

    /// Copy `fixtures/examples/NAME` into the repository's root.
    fn add_example(&self, name: &str) {
        let example = repository_root().join("fixtures/examples").join(name);
        crate::copy_folder(&example, &self.root());
    }

    fn commit_all(&self, message: &str) {
        self.git(&["add", "--all"]);
        self.git(&["commit", "--quiet", "--no-verify", "--message", message]);
    }
}

#[test]
fn a_broken_trust_fails_the_hook_until_it_is_fixed() {
    let repository = HookRepository::new();
    repository.add_example("alb-controller");
    repository.commit_all("add the load balancer controller");

    let run = repository.pre_commit(&["--all-files"]);
    assert_ne!(run.status, 0, "{run:?}");
    assert!(run.stdout.contains("- hook id: irsa-lint"), "{run:?}");
    assert!(run.stdout.contains("IRSA003"), "{run:?}");

    // The trust policy's typo, kube-sytem; IRSA014 stays, a warning, below `--fail-on`.
    repository.replace(ALB_TRUST, ":kube-sytem:", ":kube-system:");
    repository.commit_all("fix the trust policy's namespace");
    let run = repository.pre_commit(&["--all-files"]);
    assert_eq!(run.status, 0, "{run:?}");
    assert!(run.stdout.contains("Passed"), "{run:?}");
    assert!(!run.stdout.contains("IRSA003"), "{run:?}");
}

#[test]
fn a_clean_platform_passes() {
    let repository = HookRepository::new();
    repository.add_example("clean-platform");
    repository.commit_all("add the platform");
    let run = repository.pre_commit(&["--all-files"]);
    assert_eq!(run.status, 0, "{run:?}");
    assert!(run.stdout.contains("Passed"), "{run:?}");
}

/// The reason for `pass_filenames: false`: the broken link's other end is in a file the
/// commit does not touch.
#[test]
fn staging_only_the_manifest_still_lints_the_whole_tree() {
    let repository = HookRepository::new();
    repository.add_example("alb-controller");
    repository.commit_all("add the load balancer controller");
    repository.replace(
        ALB_SERVICE_ACCOUNT,
        "  labels:\n",
        "  labels:\n    team: platform\n",
    );
    repository.git(&["add", ALB_SERVICE_ACCOUNT]);

    let run = repository.pre_commit(&[]);
    assert_ne!(run.status, 0, "{run:?}");
    assert!(run.stdout.contains("IRSA003"), "{run:?}");
    assert!(run.stdout.contains(ALB_TRUST), "{run:?}");
}

#[test]
fn files_irsa_lint_does_not_read_do_not_run_the_hook() {
    let repository = HookRepository::new();
    repository.add_example("alb-controller");
    repository.commit_all("add the load balancer controller");
    let run = repository.pre_commit(&["--files", "README.md"]);
    assert_eq!(run.status, 0, "{run:?}");
    assert!(run.stdout.contains("Skipped"), "{run:?}");
}

#[test]
fn every_kind_of_file_irsa_lint_reads_runs_the_hook() {
    let repository = HookRepository::new();
    let files = [
        ("main.tf", ""),
        ("terraform.tfvars", ""),
        ("main.tf.json", "{}"),
        ("k8s/app.yaml", ""),
        ("k8s/app.yml", ""),
        ("k8s/app.json", "{}"),
        ("k8s/app.yaml.tpl", ""),
        ("templates/trust.tftpl", ""),
        ("live/prod/app/terragrunt.hcl", ""),
        ("live/root.hcl", ""),
    ];
    for (name, contents) in files {
        repository.write(name, contents);
    }
    repository.commit_all("one file of each kind");
    for (name, _) in files {
        let run = repository.pre_commit(&["--files", name]);
        assert_eq!(run.status, 0, "{name}: {run:?}");
        assert!(run.stdout.contains("Passed"), "{name}: {run:?}");
    }
}

#[test]
fn the_published_hook_lints_the_whole_repository_once() {
    let hook = published_hook();
    let field = |name: &str| {
        hook.get(name)
            .unwrap_or_else(|| panic!("{name} in {hook:?}"))
    };
    assert_eq!(field("language"), "rust");
    assert_eq!(field("id"), HOOK_ID);
    assert_eq!(field("entry"), "irsa-lint check");
    assert_eq!(field("pass_filenames"), &Value::Bool(false));
    assert_eq!(field("require_serial"), &Value::Bool(true));
    let files = field("files").as_str().unwrap();
    assert_eq!(files, r"\.(tf|tfvars|tftpl|hcl|ya?ml|ya?ml\.tpl|json)$");
    let manifest = hooks_manifest();
    let ids: Vec<&str> = manifest
        .as_sequence()
        .unwrap()
        .iter()
        .map(|hook| hook["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [HOOK_ID, SYSTEM_HOOK_ID]);
    let readme = include_str!("../../README.md");
    assert!(
        readme.contains(&format!("        files: {files}\n")),
        "the README's `repo: local` hook reads the same files"
    );
}

#[test]
fn pre_commit_accepts_the_published_hook_manifest() {
    let repository = HookRepository::new();
    let manifest = repository_root().join(".pre-commit-hooks.yaml");
    let run = repository.run(
        "pre-commit",
        &["validate-manifest", manifest.to_str().unwrap()],
    );
    assert_eq!(run.status, 0, "{run:?}");
    assert_eq!(run.stderr, "", "no deprecation warnings either");
}

/// Every hook we publish, in both manifests, lints the same files the same way; only the
/// language (how irsa-lint gets installed) differs.
#[test]
fn every_published_hook_agrees_with_the_rust_hook() {
    let rust_hook = published_hook();
    let mirror_text =
        std::fs::read_to_string(repository_root().join("pre-commit-mirror/.pre-commit-hooks.yaml"))
            .unwrap();
    let mirror: Value = serde_yaml::from_str(&mirror_text).unwrap();
    let mut hooks: Vec<(Value, &str)> = hooks_manifest()
        .as_sequence()
        .unwrap()
        .iter()
        .map(|hook| (hook.clone(), "root"))
        .collect();
    hooks.extend(
        mirror
            .as_sequence()
            .unwrap()
            .iter()
            .map(|hook| (hook.clone(), "mirror")),
    );
    let languages: Vec<(&str, &str)> = hooks
        .iter()
        .map(|(hook, manifest)| (hook["language"].as_str().unwrap(), *manifest))
        .collect();
    assert_eq!(
        languages,
        [("rust", "root"), ("system", "root"), ("python", "mirror")]
    );
    for (hook, manifest) in &hooks {
        for field in ["entry", "files", "pass_filenames", "require_serial"] {
            assert_eq!(
                hook[field], rust_hook[field],
                "{field} of the {manifest} hook {:?}",
                hook["id"]
            );
        }
    }
}

/// A git repository holding a copy of `files` (paths relative to this repository, put at
/// the same place), committed; pre-commit clones it like a hook repository on GitHub.
/// Returns its folder and the commit to use as `rev`.
fn hook_source_repository(dir: &Path, files: &[(&str, &str)]) -> (PathBuf, String) {
    let root = dir.join("hook-source");
    std::fs::create_dir_all(&root).unwrap();
    for (from, to) in files {
        let target = root.join(to);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(repository_root().join(from), target).unwrap();
    }
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .current_dir(&root)
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", dir.join("hook-source.gitconfig"))
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    git(&["init", "--quiet"]);
    git(&["add", "--all"]);
    git(&[
        "-c",
        "user.email=ci@example.com",
        "-c",
        "user.name=irsa-lint tests",
        "-c",
        "commit.gpgsign=false",
        "commit",
        "--quiet",
        "--message",
        "hooks",
    ]);
    let rev = git(&["rev-parse", "HEAD"]).trim().to_string();
    (root, rev)
}

fn remote_hook_config(repo: &Path, rev: &str, id: &str) -> String {
    let hook = Mapping::from_iter([("id".into(), id.into())]);
    let repository = Mapping::from_iter([
        ("repo".into(), repo.to_str().unwrap().into()),
        ("rev".into(), rev.into()),
        ("hooks".into(), Value::Sequence(vec![Value::Mapping(hook)])),
    ]);
    let config = Mapping::from_iter([(
        "repos".into(),
        Value::Sequence(vec![Value::Mapping(repository)]),
    )]);
    serde_yaml::to_string(&config).unwrap()
}

/// `irsa-lint-system` from the published manifest, as a user's config names it, runs the
/// irsa-lint on PATH: nothing is built.
#[test]
fn the_system_hook_runs_the_installed_binary() {
    let sources = tempfile::tempdir().unwrap();
    let (repo, rev) = hook_source_repository(
        sources.path(),
        &[(".pre-commit-hooks.yaml", ".pre-commit-hooks.yaml")],
    );
    // Only our binary, under its installed name, in front of the usual PATH.
    let bin = sources.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_irsa-lint"), bin.join("irsa-lint")).unwrap();
    let path = std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let repository = HookRepository::with_config(
        &remote_hook_config(&repo, &rev, SYSTEM_HOOK_ID),
        vec![("PATH".into(), path)],
    );
    repository.add_example("alb-controller");
    repository.commit_all("add the load balancer controller");

    let run = repository.pre_commit(&["--all-files"]);
    assert_ne!(run.status, 0, "{run:?}");
    assert!(
        run.stdout.contains("- hook id: irsa-lint-system"),
        "{run:?}"
    );
    assert!(run.stdout.contains("IRSA003"), "{run:?}");
    repository.replace(ALB_TRUST, ":kube-sytem:", ":kube-system:");
    repository.commit_all("fix the trust policy's namespace");
    let run = repository.pre_commit(&["--all-files"]);
    assert_eq!(run.status, 0, "{run:?}");
}

/// The mirror's `language: python` hook: pre-commit installs the mirror package, which pulls
/// the irsa-lint wheel, into a virtualenv of its own. pip is kept offline, reading only the
/// wheelhouse scripts/test.sh fills (our wheel and the mirror's build backend, no source
/// distribution of irsa-lint), so the wheel installed is the one built from this checkout
/// and nothing is compiled.
#[test]
fn the_python_hook_installs_the_wheel_and_runs_it() {
    let sources = tempfile::tempdir().unwrap();
    let (repo, rev) = hook_source_repository(
        sources.path(),
        &[
            (
                "pre-commit-mirror/.pre-commit-hooks.yaml",
                ".pre-commit-hooks.yaml",
            ),
            ("pre-commit-mirror/pyproject.toml", "pyproject.toml"),
            ("pre-commit-mirror/README.md", "README.md"),
        ],
    );
    let wheelhouse = crate::distribution::wheelhouse();
    let repository = HookRepository::with_config(
        &remote_hook_config(&repo, &rev, HOOK_ID),
        vec![
            ("PIP_NO_INDEX".into(), "1".into()),
            ("PIP_FIND_LINKS".into(), wheelhouse.into()),
            ("PIP_DISABLE_PIP_VERSION_CHECK".into(), "1".into()),
        ],
    );
    repository.add_example("alb-controller");
    repository.commit_all("add the load balancer controller");

    let run = repository.pre_commit(&["--all-files"]);
    assert_ne!(run.status, 0, "{run:?}");
    assert!(run.stdout.contains("- hook id: irsa-lint"), "{run:?}");
    assert!(run.stdout.contains("IRSA003"), "{run:?}");
    // The binary that ran is the wheel's, in the virtualenv pre-commit made for the hook
    // (first on the hook's PATH).
    let installed = installed_in_hook_virtualenvs(&repository.dir.path().join("pre-commit-home"));
    assert_eq!(installed.len(), 1, "{installed:?}");
    repository.replace(ALB_TRUST, ":kube-sytem:", ":kube-system:");
    repository.commit_all("fix the trust policy's namespace");
    let run = repository.pre_commit(&["--all-files"]);
    assert_eq!(run.status, 0, "{run:?}");
}

/// `irsa-lint` binaries in the `py_env-*/bin` folders under pre-commit's cache.
fn installed_in_hook_virtualenvs(pre_commit_home: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for clone in std::fs::read_dir(pre_commit_home).unwrap() {
        let clone = clone.unwrap().path();
        let Ok(entries) = std::fs::read_dir(&clone) else {
            continue;
        };
        for entry in entries {
            let env = entry.unwrap().path();
            let binary = env.join("bin/irsa-lint");
            let is_python_env = env
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("py_env-"));
            if is_python_env && binary.is_file() {
                found.push(binary);
            }
        }
    }
    found
}

#[test]
fn pre_commit_accepts_the_mirror_manifest() {
    let repository = HookRepository::new();
    let manifest = repository_root().join("pre-commit-mirror/.pre-commit-hooks.yaml");
    let run = repository.run(
        "pre-commit",
        &["validate-manifest", manifest.to_str().unwrap()],
    );
    assert_eq!(run.status, 0, "{run:?}");
    assert_eq!(run.stderr, "", "no deprecation warnings either");
}
