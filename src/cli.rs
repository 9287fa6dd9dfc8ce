//! The command line: clap's raw flags, then their resolution into validated settings.
//!
//! Parsing (clap) checks the shape of each flag and exits 2 on its own errors. Resolution
//! ([`resolve_check`]) turns raw `check` flags into what the engine and the renderer need:
//! it decides colour, reads standard input for `-`, and rejects what clap cannot see (`-`
//! given twice, a `--var-file` that does not exist). Nothing here lints, renders or prints.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};
use irsa_lint::diagnostic::Level;
use irsa_lint::engine::Settings;
use irsa_lint::output::{Format, RenderOptions};

const ABOUT: &str = "Find the silent mistakes in EKS IAM Roles for Service Accounts wiring";

const LONG_ABOUT: &str = "\
Find the silent mistakes in EKS IAM Roles for Service Accounts wiring.

irsa-lint reads Terraform (.tf, .tfvars), Kubernetes manifests (.yaml, .yml, .json, and
.yaml.tpl, .yml.tpl, .tftpl templates) and eksctl ClusterConfig files side by side and
reports where a ServiceAccount, its IAM role, the role's trust policy and the
cluster's OIDC provider do not fit together. It never writes to the scanned files, never
uses the network and never runs other programs.";

const EXAMPLES: &str = "\
Examples:
  irsa-lint check                       Lint the current folder
  irsa-lint check infra/ k8s/           Lint Terraform and manifests together
  irsa-lint check --format github .     Annotate a pull request from GitHub Actions
  helm template charts/api | irsa-lint check - --stdin-filename rendered.yaml infra/
  irsa-lint explain IRSA003             Why a rule fires and how to fix it";

const CHECK_AFTER_HELP: &str = "\
Exit status:
  0  nothing at or above the --fail-on level was found
  1  at least one finding at or above the --fail-on level
  2  usage error, or a PATH that does not exist

Folders are walked recursively; hidden folders (.git/, .terraform/) and files ignored by
.gitignore are skipped.";

#[derive(Debug, Parser)]
#[command(
    name = "irsa-lint",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = EXAMPLES,
    propagate_version = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint Terraform and Kubernetes manifests together (default: the current folder)
    #[command(after_help = CHECK_AFTER_HELP)]
    Check(CheckArgs),
    /// Print a rule's documentation: what it finds, why it matters, how to fix it
    Explain(ExplainArgs),
    /// List every rule with its name, default level and summary
    Rules(RulesArgs),
    /// Run a language server on standard input and output, for editors
    #[command(after_help = LSP_AFTER_HELP)]
    Lsp,
}

const LSP_AFTER_HELP: &str = "\
The server lints the workspace folders the editor opens, with unsaved edits in place of the
files on disk, and re-lints after every edit of a .tf, .tfvars, .yaml, .yml or .json file.
Hover over a finding shows its rule's documentation; findings with a known fix offer it as a
quick fix.";

/// `check` flags as the user typed them; see [`resolve_check`] for what they become.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or folders to lint; `-` reads standard input (named by --stdin-filename)
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// How to print findings
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Human)]
    pub format: Format,

    /// Exit 1 when a finding is at least this severe
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = FailOn::Error)]
    pub fail_on: FailOn,

    /// Terraform variables file, applied after terraform.tfvars and *.auto.tfvars
    /// (repeatable)
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,

    /// Set a Terraform variable, applied last (repeatable)
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,

    /// File name to show for standard input; its extension (.tf, .yaml, ...) says how to
    /// read it
    #[arg(long, value_name = "NAME", default_value = "stdin.yaml")]
    pub stdin_filename: PathBuf,

    /// Colour the human format; `auto` colours only a terminal, and never when NO_COLOR is
    /// set
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A rule id (IRSA003, any case) or name (trust-subject-mismatch)
    #[arg(value_name = "RULE")]
    pub rule: String,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// How to print the list
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = RulesFormat::Human)]
    pub format: RulesFormat,
}

/// The least severe level that makes `check` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Fail on errors only
    Error,
    /// Fail on warnings and errors
    Warning,
    /// Fail on any finding
    Note,
    /// Always exit 0, whatever is found
    Never,
}

impl FailOn {
    /// The level at and above which findings fail the run; `None` for `never`.
    pub fn threshold(self) -> Option<Level> {
        match self {
            FailOn::Error => Some(Level::Error),
            FailOn::Warning => Some(Level::Warning),
            FailOn::Note => Some(Level::Note),
            FailOn::Never => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is not set
    Auto,
    /// Always colour, even into a pipe or file
    Always,
    /// Never colour
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    /// An aligned table
    Human,
    /// An array of {id, name, default_level, summary}
    Json,
}

/// `NAME=VALUE`, split at the first `=`, so that a value may itself contain `=`.
fn parse_var(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((name, _)) if name.trim().is_empty() => {
            Err("the variable name before `=` is empty".to_string())
        }
        Some((name, value)) => Ok((name.to_string(), value.to_string())),
        None => Err("expected NAME=VALUE, with an `=` after the name".to_string()),
    }
}

/// What `check` runs with, once every flag has been validated.
#[derive(Debug)]
pub struct CheckSettings {
    pub engine: Settings,
    pub format: Format,
    pub render: RenderOptions,
    pub fail_on: FailOn,
}

/// The parts of the process's surroundings that change how `check` behaves, passed in so
/// that resolution can be tested without a terminal.
#[derive(Debug, Clone, Copy)]
pub struct Environment {
    pub stdout_is_terminal: bool,
    /// NO_COLOR is set to a non-empty value (https://no-color.org).
    pub no_color: bool,
}

impl Environment {
    pub fn current() -> Self {
        use std::io::IsTerminal;
        Environment {
            stdout_is_terminal: io::stdout().is_terminal(),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        }
    }
}

/// A `check` invocation that clap accepted but that cannot run.
#[derive(Debug)]
pub enum UsageError {
    StdinGivenTwice,
    MissingVarFile(PathBuf),
    UnreadableStdin(io::Error),
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::StdinGivenTwice => {
                write!(f, "`-` (standard input) can be given only once")
            }
            UsageError::MissingVarFile(path) => {
                write!(f, "var file does not exist: {}", path.display())
            }
            UsageError::UnreadableStdin(err) if err.kind() == io::ErrorKind::InvalidData => {
                write!(f, "standard input is not valid UTF-8 text")
            }
            UsageError::UnreadableStdin(err) => write!(f, "cannot read standard input: {err}"),
        }
    }
}

/// Turn raw `check` flags into settings. `read_stdin` is called only when a PATH is `-`.
pub fn resolve_check(
    args: CheckArgs,
    env: Environment,
    read_stdin: impl FnOnce() -> io::Result<String>,
) -> Result<CheckSettings, UsageError> {
    let is_stdin = |path: &PathBuf| path.as_os_str() == "-";
    let (stdin_markers, mut paths): (Vec<PathBuf>, Vec<PathBuf>) =
        args.paths.into_iter().partition(is_stdin);
    let stdin = match stdin_markers.len() {
        0 => None,
        1 => {
            let text = read_stdin().map_err(UsageError::UnreadableStdin)?;
            Some((args.stdin_filename, text))
        }
        _ => return Err(UsageError::StdinGivenTwice),
    };
    if paths.is_empty() && stdin.is_none() {
        paths.push(PathBuf::from("."));
    }
    if let Some(missing) = args.var_files.iter().find(|p| !Path::is_file(p)) {
        return Err(UsageError::MissingVarFile(missing.clone()));
    }
    Ok(CheckSettings {
        engine: Settings {
            paths,
            var_files: args.var_files,
            vars: args.vars,
            stdin,
            ..Settings::default()
        },
        format: args.format,
        render: RenderOptions {
            color: use_color(args.color, env),
        },
        fail_on: args.fail_on,
    })
}

fn use_color(choice: ColorChoice, env: Environment) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => env.stdout_is_terminal && !env.no_color,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    const PIPE: Environment = Environment {
        stdout_is_terminal: false,
        no_color: false,
    };

    fn check_args(argv: &[&str]) -> CheckArgs {
        let cli = Cli::try_parse_from(["irsa-lint", "check"].iter().chain(argv))
            .expect("the test's flags are valid");
        match cli.command {
            Command::Check(args) => args,
            other => panic!("expected check, got {other:?}"),
        }
    }

    fn resolve(argv: &[&str]) -> Result<CheckSettings, UsageError> {
        resolve_check(check_args(argv), PIPE, || Ok("from stdin".to_string()))
    }

    fn no_stdin() -> io::Result<String> {
        unreachable!("standard input is read only for `-`")
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_path_means_the_current_folder() {
        let settings = resolve_check(check_args(&[]), PIPE, no_stdin).unwrap();
        assert_eq!(settings.engine.paths, vec![PathBuf::from(".")]);
        assert!(settings.engine.stdin.is_none());
        assert_eq!(settings.format, Format::Human);
        assert_eq!(settings.fail_on, FailOn::Error);
    }

    #[test]
    fn dash_reads_stdin_under_the_default_name() {
        let settings = resolve(&["-"]).unwrap();
        assert!(
            settings.engine.paths.is_empty(),
            "`-` alone does not add `.`"
        );
        let (name, text) = settings.engine.stdin.unwrap();
        assert_eq!(name, PathBuf::from("stdin.yaml"));
        assert_eq!(text, "from stdin");
    }

    #[test]
    fn dash_with_folders_and_a_stdin_filename() {
        let settings = resolve(&["infra", "-", "--stdin-filename", "rendered.yaml"]).unwrap();
        assert_eq!(settings.engine.paths, vec![PathBuf::from("infra")]);
        assert_eq!(
            settings.engine.stdin.unwrap().0,
            PathBuf::from("rendered.yaml")
        );
    }

    #[test]
    fn dash_twice_is_a_usage_error() {
        let err = resolve(&["-", "-"]).unwrap_err();
        assert!(matches!(err, UsageError::StdinGivenTwice), "{err:?}");
    }

    #[test]
    fn unreadable_stdin_is_a_usage_error_that_says_why() {
        let invalid = || Err(io::Error::new(io::ErrorKind::InvalidData, "bad bytes"));
        let err = resolve_check(check_args(&["-"]), PIPE, invalid).unwrap_err();
        assert_eq!(err.to_string(), "standard input is not valid UTF-8 text");
    }

    #[test]
    fn missing_var_file_is_a_usage_error() {
        let err = resolve(&["--var-file", "no/such/file.tfvars"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "var file does not exist: no/such/file.tfvars"
        );
    }

    #[test]
    fn vars_split_at_the_first_equals_sign() {
        let settings = resolve(&["--var", "region=eu-west-1", "--var", "tags=a=b"]).unwrap();
        assert_eq!(
            settings.engine.vars,
            vec![
                ("region".to_string(), "eu-west-1".to_string()),
                ("tags".to_string(), "a=b".to_string()),
            ]
        );
        assert_eq!(parse_var("empty="), Ok(("empty".into(), String::new())));
    }

    #[test]
    fn var_without_equals_or_name_is_rejected_by_clap() {
        for bad in ["region", "=eu-west-1"] {
            let err = Cli::try_parse_from(["irsa-lint", "check", "--var", bad]).unwrap_err();
            assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation, "{bad}");
        }
    }

    #[test]
    fn auto_colour_needs_a_terminal_and_no_no_color() {
        let terminal = Environment {
            stdout_is_terminal: true,
            no_color: false,
        };
        let terminal_no_color = Environment {
            no_color: true,
            ..terminal
        };
        assert!(use_color(ColorChoice::Auto, terminal));
        assert!(!use_color(ColorChoice::Auto, terminal_no_color));
        assert!(!use_color(ColorChoice::Auto, PIPE));
        assert!(use_color(ColorChoice::Always, terminal_no_color));
        assert!(!use_color(ColorChoice::Never, terminal));
    }

    #[test]
    fn fail_on_thresholds() {
        assert_eq!(FailOn::Error.threshold(), Some(Level::Error));
        assert_eq!(FailOn::Warning.threshold(), Some(Level::Warning));
        assert_eq!(FailOn::Note.threshold(), Some(Level::Note));
        assert_eq!(FailOn::Never.threshold(), None);
    }
}
