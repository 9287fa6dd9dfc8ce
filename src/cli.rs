//! The command line: clap's raw flags, then their resolution into validated settings.
//!
//! Parsing (clap) checks the shape of each flag and exits 2 on its own errors. Resolution
//! ([`resolve_check`], [`resolve_graph`]) turns raw flags into what the engine and the
//! renderer need: `check` reads `.irsa-lint.toml` and lays the flags over it (flags win), both
//! decide colour, read standard input for `-` and the `--baseline` file, and reject what clap
//! cannot see (`-` given twice, a `--var-file` that does not exist, a mistake in the
//! configuration file). Nothing here lints, renders or prints.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};
use irsa_lint::baseline::Baseline;
use irsa_lint::config::{self, Config, ConfigError, FailOn};
use irsa_lint::engine::Settings;
use irsa_lint::graph;
use irsa_lint::open::{self, Links, ReadError};
use irsa_lint::output::{Format, RenderOptions, UriBase};

const ABOUT: &str = "Find the silent mistakes in EKS IAM Roles for Service Accounts wiring";

const LONG_ABOUT: &str = "\
Find the silent mistakes in EKS IAM Roles for Service Accounts wiring.

irsa-lint reads Terraform (.tf, .tfvars, and Terragrunt's terragrunt.hcl), Kubernetes
manifests (.yaml, .yml, .json, and .yaml.tpl, .yml.tpl, .tftpl templates) and eksctl
ClusterConfig files side by side and
reports where a ServiceAccount, its IAM role, the role's trust policy and the
cluster's OIDC provider do not fit together. It writes to the scanned files only under --fix, never
uses the network and never runs other programs.";

const EXAMPLES: &str = "\
Examples:
  irsa-lint check                       Lint the current folder
  irsa-lint check infra/ k8s/           Lint Terraform and manifests together
  irsa-lint check --format github .     Annotate a pull request from GitHub Actions
  irsa-lint graph --format mermaid .    Draw ServiceAccount → role → provider → cluster
  irsa-lint check --write-baseline irsa-lint-baseline.json
                                        Accept today's findings; later runs with
                                        --baseline irsa-lint-baseline.json show new ones
  helm template charts/api | irsa-lint check - --stdin-filename rendered.yaml infra/
  irsa-lint check --diff                Show the fixes as a unified diff (--fix applies them)
  irsa-lint explain IRSA003             Why a rule fires and how to fix it";

const CHECK_AFTER_HELP: &str = "\
Exit status:
  0  nothing at or above the --fail-on level was found
  1  at least one finding at or above the --fail-on level (or, with --fail-on unchecked,
     a ServiceAccount whose role link could not be fully checked)
  2  usage error, or a PATH that does not exist

Folders are walked recursively; hidden folders (.git/, .terraform/) and files ignored by
.gitignore are skipped.

Configuration: the nearest .irsa-lint.toml in the working directory or a folder above it
(or --config FILE) sets rule levels, excluded paths, variables, roles managed elsewhere and
fail_on; flags win over it. A finding is suppressed by a comment on its line or alone on the
line above: # irsa-lint: ignore[IRSA003] why it is accepted";

const COMPLETIONS_AFTER_HELP: &str = "\
Examples:
  irsa-lint completions bash > ~/.local/share/bash-completion/completions/irsa-lint
  irsa-lint completions fish > ~/.config/fish/completions/irsa-lint.fish
  irsa-lint completions zsh > ~/.zfunc/_irsa-lint    (a folder on $fpath, before compinit)";

const MAN_AFTER_HELP: &str = "\
Examples:
  irsa-lint man | man -l -                  Read irsa-lint(1) now
  irsa-lint man check > irsa-lint-check.1   Write irsa-lint-check(1) for installing";

/// The subcommands that have a page of their own, irsa-lint-NAME(1); irsa-lint(1) refers
/// to each of them.
pub const MAN_PAGES: [&str; 7] = [
    "check",
    "explain",
    "rules",
    "completions",
    "man",
    "graph",
    "lsp",
];
const GRAPH_AFTER_HELP: &str = "\
Each link is `ok`, `broken (IRSAxxx)` where `check` reports that rule on it, or `unknown`
where the scanned files cannot tell (a role or provider defined elsewhere).

Exit status:
  0  the graph was printed, whatever its links
  2  usage error, or a PATH that does not exist";

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
    /// Print a shell completion script to standard output
    #[command(after_help = COMPLETIONS_AFTER_HELP)]
    Completions(CompletionsArgs),
    /// Print the manual page, in roff, to standard output
    #[command(after_help = MAN_AFTER_HELP)]
    Man(ManArgs),
    /// Show each ServiceAccount's chain: role, OIDC provider, cluster, and which links are
    /// broken
    #[command(after_help = GRAPH_AFTER_HELP)]
    Graph(GraphArgs),
    /// Run a language server on standard input and output, for editors
    #[command(after_help = LSP_AFTER_HELP)]
    Lsp,
}

const LSP_AFTER_HELP: &str = r#"The server lints the workspace folders the editor opens, with unsaved edits in place of the
files on disk, and re-lints after every edit of a .tf, .tfvars, .yaml, .yml or .json file.
Hover over a finding shows its rule's documentation; findings with a known fix offer it as a
quick fix; each finding's code links to its rule's page.

Editors (README.md, section "Editors", has the same):
  VS Code      the irsa-lint extension (editors/vscode in the repository) runs `irsa-lint lsp`
  Neovim 0.11  init.lua:
                 vim.lsp.config('irsa_lint', {
                   cmd = { 'irsa-lint', 'lsp' },
                   filetypes = { 'terraform', 'terraform-vars', 'hcl', 'yaml', 'json' },
                   root_markers = { '.irsa-lint.toml', '.git' },
                 })
                 vim.lsp.enable('irsa_lint')
  Neovim 0.8-0.10  init.lua:
                 vim.api.nvim_create_autocmd('FileType', {
                   pattern = { 'terraform', 'terraform-vars', 'hcl', 'yaml', 'json' },
                   callback = function(args)
                     local root = vim.fs.find({ '.irsa-lint.toml', '.git' },
                       { upward = true, path = vim.fs.dirname(vim.api.nvim_buf_get_name(args.buf)) })[1]
                     vim.lsp.start({ name = 'irsa_lint', cmd = { 'irsa-lint', 'lsp' },
                       root_dir = root and vim.fs.dirname(root) or vim.fn.getcwd() })
                   end,
                 })
  Neovim 0.7   with nvim-lspconfig, init.lua:
                 local configs = require('lspconfig.configs')
                 if not configs.irsa_lint then
                   configs.irsa_lint = { default_config = {
                     cmd = { 'irsa-lint', 'lsp' },
                     filetypes = { 'terraform', 'terraform-vars', 'hcl', 'yaml', 'json' },
                     root_dir = require('lspconfig.util').root_pattern('.irsa-lint.toml', '.git'),
                   } }
                 end
                 require('lspconfig').irsa_lint.setup({})
  Helix        languages.toml (language-servers replaces the list: keep the defaults):
                 [language-server.irsa-lint]
                 command = "irsa-lint"
                 args = ["lsp"]
                 [[language]]
                 name = "hcl"
                 language-servers = ["terraform-ls", "irsa-lint"]
                 [[language]]
                 name = "yaml"
                 language-servers = ["yaml-language-server", "irsa-lint"]
  Emacs        eglot, init.el:
                 (with-eval-after-load 'eglot
                   (add-to-list 'eglot-server-programs
                                '((terraform-mode hcl-mode yaml-mode yaml-ts-mode)
                                  . ("irsa-lint" "lsp"))))
                 (add-hook 'terraform-mode-hook #'eglot-ensure)
  Zed          starts language servers only from extensions, and irsa-lint has none yet;
               a task runs `irsa-lint check --format compact`, whose path:line:col
               locations open on click (README.md, section "Editors")."#;

/// What to read, shared by `check` and `graph`; see [`resolve_inputs`].
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Files or folders to read; `-` reads standard input (named by --stdin-filename)
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Terraform variables file, applied after terraform.tfvars and *.auto.tfvars
    /// (repeatable)
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,

    /// Set a Terraform variable, applied last (repeatable)
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,

    /// Terraform plan or state JSON (`terraform show -json tfplan > plan.json`) whose known
    /// values win over what the configuration evaluates to; findings stay on the .tf lines
    /// (repeatable; `-` reads standard input). Plan JSON in the scanned folders is read too
    #[arg(long = "plan", value_name = "FILE")]
    pub plans: Vec<PathBuf>,

    /// File name to show for standard input; its extension (.tf, .yaml, ...) says how to
    /// read it
    #[arg(long, value_name = "NAME", default_value = "stdin.yaml")]
    pub stdin_filename: PathBuf,

    /// Read this configuration file instead of the nearest .irsa-lint.toml; relative paths
    /// in it are relative to the working directory
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `check` flags as the user typed them; see [`resolve_check`] for what they become.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// How to print findings
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Human)]
    pub format: Format,

    /// Exit 1 when a finding is at least this severe; add `unchecked` (e.g.
    /// `--fail-on warning,unchecked`) to exit 1 also when a ServiceAccount's role link could
    /// not be fully checked [default: fail_on of .irsa-lint.toml, or error]
    #[arg(long, value_enum, value_name = "LEVEL", value_delimiter = ',')]
    pub fail_on: Vec<FailOnWord>,

    /// Colour the human format; `auto` colours only a terminal, and never when NO_COLOR is
    /// set
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Report only findings that this baseline file (from --write-baseline) does not record
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Record the current findings in FILE as accepted, print nothing and exit 0
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    pub write_baseline: Option<PathBuf>,

    /// Also list, as notes, the template files (Jinja, Helm, sed tokens) that were not
    /// linted; the summary always counts them
    #[arg(long, short)]
    pub verbose: bool,

    /// Run only these rules, by id or name (comma-separated, repeatable)
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub select: Vec<String>,

    /// Do not run these rules, by id or name (comma-separated, repeatable)
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub ignore: Vec<String>,

    /// Print the findings and nothing else: no summary or coverage line, no warnings
    #[arg(long, short, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Write the report to FILE instead of standard output (a symbolic link is refused)
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output_file: Option<PathBuf>,

    /// The same as --color never
    #[arg(long)]
    pub no_color: bool,

    /// Exit 0 whatever is found; usage errors still exit 2
    #[arg(long)]
    pub exit_zero: bool,

    /// Apply the unambiguous fixes in place (the quick fixes the language server offers),
    /// keeping formatting and comments, then report what remains
    #[arg(long, conflicts_with_all = ["diff", "write_baseline"])]
    pub fix: bool,

    /// Print the fixes --fix would apply as a unified diff, and change nothing
    #[arg(long, conflicts_with = "write_baseline")]
    pub diff: bool,
}

/// What `check` does with the findings' fixes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FixMode {
    /// Report them (the default): nothing is written.
    #[default]
    Report,
    /// `--fix`: write them, then lint again.
    Apply,
    /// `--diff`: print them as a unified diff.
    Diff,
}

/// `graph` flags as the user typed them; see [`resolve_graph`].
#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// How to print the chains
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = graph::Format::Table)]
    pub format: graph::Format,
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

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Print irsa-lint-COMMAND(1) instead of irsa-lint(1)
    #[arg(value_name = "COMMAND", value_parser = MAN_PAGES)]
    pub command: Option<String>,
}

/// One word of `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOnWord {
    /// Fail on errors only
    Error,
    /// Fail on warnings and errors
    Warning,
    /// Fail on any finding
    Note,
    /// Never fail on findings, whatever is found
    Never,
    /// Also fail when a ServiceAccount's role link could not be fully checked
    Unchecked,
}

impl FailOnWord {
    fn word(self) -> &'static str {
        match self {
            FailOnWord::Error => "error",
            FailOnWord::Warning => "warning",
            FailOnWord::Note => "note",
            FailOnWord::Never => "never",
            FailOnWord::Unchecked => "unchecked",
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
    /// `--exit-zero`: findings never change the exit status.
    pub exit_zero: bool,
    /// `-o`: the report goes to this file instead of standard output.
    pub output_file: Option<PathBuf>,
    pub fix: FixMode,
    /// `--write-baseline`: record the findings there instead of printing them.
    pub write_baseline: Option<PathBuf>,
    /// About the configuration, for stderr: settings that have no effect yet.
    pub warnings: Vec<String>,
}

/// The parts of the process's surroundings that change how `check` behaves, passed in so
/// that resolution can be tested without a terminal.
#[derive(Debug, Clone, Copy)]
pub struct Environment {
    pub stdout_is_terminal: bool,
    /// NO_COLOR is set to a non-empty value (https://no-color.org).
    pub no_color: bool,
    /// Columns of the terminal standard output is, when it is one.
    pub terminal_width: Option<usize>,
}

impl Environment {
    pub fn current() -> Self {
        use std::io::IsTerminal;
        let stdout = io::stdout();
        Environment {
            stdout_is_terminal: stdout.is_terminal(),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            terminal_width: terminal_size::terminal_size_of(&stdout)
                .map(|(width, _)| usize::from(width.0)),
        }
    }
}

/// `--select` and `--ignore` over the configuration's `[rules]`: a rule not selected, or
/// ignored, is off; a selected rule keeps the level the configuration gives it.
fn select_rules(
    levels: &mut config::RuleLevels,
    select: &[String],
    ignore: &[String],
) -> Result<(), UsageError> {
    let find = |flag: &'static str, word: &String| {
        irsa_lint::rules::find(word)
            .map(|rule| rule.meta.id)
            .ok_or_else(|| UsageError::UnknownRule {
                flag,
                word: word.clone(),
                suggestion: irsa_lint::rules::suggest(word),
            })
    };
    let selected = select
        .iter()
        .map(|w| find("--select", w))
        .collect::<Result<Vec<_>, _>>()?;
    let ignored = ignore
        .iter()
        .map(|w| find("--ignore", w))
        .collect::<Result<Vec<_>, _>>()?;
    for rule in irsa_lint::rules::RULES {
        let id = rule.meta.id;
        if (!selected.is_empty() && !selected.contains(&id)) || ignored.contains(&id) {
            levels.set(id, config::RuleLevel::Off);
        }
    }
    Ok(())
}

/// A `check` invocation that clap accepted but that cannot run.
#[derive(Debug)]
pub enum UsageError {
    StdinGivenTwice,
    MissingVarFile(PathBuf),
    MissingPlan(PathBuf),
    VarFileLeadsOut(PathBuf),
    PlanLeadsOut(PathBuf),
    UnreadableStdin(io::Error),
    Config(ConfigError),
    Baseline {
        path: PathBuf,
        message: String,
    },
    FailOn(String),
    FixStdin,
    UnknownRule {
        flag: &'static str,
        word: String,
        suggestion: Option<&'static str>,
    },
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
            UsageError::MissingPlan(path) => {
                write!(f, "plan file does not exist: {}", path.display())
            }
            UsageError::VarFileLeadsOut(path) => {
                write!(f, "var file {}: {LEADS_OUT}", path.display())
            }
            UsageError::PlanLeadsOut(path) => {
                write!(f, "plan file {}: {LEADS_OUT}", path.display())
            }
            UsageError::UnreadableStdin(err) if err.kind() == io::ErrorKind::InvalidData => {
                write!(f, "standard input is not valid UTF-8 text")
            }
            UsageError::UnreadableStdin(err) => write!(f, "cannot read standard input: {err}"),
            UsageError::Config(err) => write!(f, "{err}"),
            UsageError::Baseline { path, message } => {
                write!(f, "baseline {}: {message}", path.display())
            }
            UsageError::FailOn(message) => write!(f, "--fail-on: {message}"),
            UsageError::FixStdin => write!(
                f,
                "--fix cannot write standard input back; use --diff to see its fixes"
            ),
            UsageError::UnknownRule {
                flag,
                word,
                suggestion,
            } => {
                write!(f, "{flag}: no rule has the id or name `{word}`")?;
                match suggestion {
                    Some(near) => write!(f, "; did you mean `{near}`?"),
                    None => write!(f, "; `irsa-lint rules` lists them"),
                }
            }
        }
    }
}

/// What `graph` runs with, once every flag has been validated.
#[derive(Debug)]
pub struct GraphSettings {
    pub engine: Settings,
    pub format: graph::Format,
    /// About the configuration, for stderr: settings that have no effect yet.
    pub warnings: Vec<String>,
}

/// Turn raw `check` flags into settings, over the configuration file found from `cwd` (an
/// absolute path) or named by `--config`. `read_stdin` is called only when a PATH is `-`.
pub fn resolve_check(
    args: CheckArgs,
    env: Environment,
    cwd: &Path,
    read_stdin: impl FnOnce() -> io::Result<String>,
) -> Result<CheckSettings, UsageError> {
    let (mut engine, config) = configured_inputs(args.input, cwd, read_stdin)?;
    if args.fix && engine.stdin.is_some() {
        return Err(UsageError::FixStdin);
    }
    engine.verbose = args.verbose;
    select_rules(&mut engine.rule_levels, &args.select, &args.ignore)?;
    engine.baseline = match &args.baseline {
        Some(path) => Some(read_baseline(path, cwd)?),
        None => None,
    };
    let fail_on = match args.fail_on.as_slice() {
        [] => config.as_ref().and_then(|c| c.fail_on).unwrap_or_default(),
        words => FailOn::from_words(words.iter().map(|w| w.word())).map_err(UsageError::FailOn)?,
    };
    let config = config.unwrap_or_default();
    Ok(CheckSettings {
        engine,
        format: args.format,
        render: RenderOptions {
            // A file is no terminal: colour only when asked for.
            color: match (&args.output_file, args.no_color) {
                (_, true) => false,
                (Some(_), false) => args.color == ColorChoice::Always,
                (None, false) => use_color(args.color, env),
            },
            quiet: args.quiet,
            width: match &args.output_file {
                Some(_) => None,
                None => env.terminal_width,
            },
            uri_base: (args.format == Format::Sarif).then(|| UriBase::repository(cwd)),
        },
        fail_on,
        exit_zero: args.exit_zero,
        output_file: args.output_file,
        fix: match (args.fix, args.diff) {
            (true, _) => FixMode::Apply,
            (false, true) => FixMode::Diff,
            (false, false) => FixMode::Report,
        },
        write_baseline: args.write_baseline,
        warnings: config.warnings.iter().map(ToString::to_string).collect(),
    })
}

/// Turn raw `graph` flags into settings, as [`resolve_check`] does (without the
/// configuration file's rule settings, which do not change the chains).
pub fn resolve_graph(
    args: GraphArgs,
    cwd: &Path,
    read_stdin: impl FnOnce() -> io::Result<String>,
) -> Result<GraphSettings, UsageError> {
    let (engine, config) = configured_inputs(args.input, cwd, read_stdin)?;
    Ok(GraphSettings {
        engine,
        format: args.format,
        warnings: config
            .map(|c| c.warnings.iter().map(ToString::to_string).collect())
            .unwrap_or_default(),
    })
}

/// What `check` and `graph` share: the input flags over the configuration file found from
/// `cwd` (an absolute path) or named by `--config`, so that both see the same scan (its
/// rule levels, exclusions, variables and external roles). The configuration's remaining
/// settings are returned for the caller.
fn configured_inputs(
    mut args: InputArgs,
    cwd: &Path,
    read_stdin: impl FnOnce() -> io::Result<String>,
) -> Result<(Settings, Option<ConfigRest>), UsageError> {
    let config = read_config(args.config.take().as_deref(), cwd)?;
    let mut engine = resolve_inputs(args, cwd, read_stdin)?;
    let Some(config) = config else {
        return Ok((engine, None));
    };
    // The file's first, so that values from the command line are applied last.
    engine.var_files = config
        .var_files
        .into_iter()
        .chain(engine.var_files)
        .collect();
    engine.vars = config.variables.into_iter().chain(engine.vars).collect();
    engine.rule_levels = config.rules;
    engine.exclude = config.exclude;
    engine.external_roles = config.external_roles;
    let rest = ConfigRest {
        fail_on: config.fail_on,
        warnings: config.warnings,
    };
    Ok((engine, Some(rest)))
}

/// The configuration file's settings that are not the engine's.
#[derive(Debug, Default)]
struct ConfigRest {
    fail_on: Option<FailOn>,
    warnings: Vec<config::ConfigError>,
}

/// The engine's settings from the input flags. `read_stdin` is called only when a PATH is
/// `-`.
fn resolve_inputs(
    args: InputArgs,
    cwd: &Path,
    read_stdin: impl FnOnce() -> io::Result<String>,
) -> Result<Settings, UsageError> {
    let is_stdin = |path: &PathBuf| path.as_os_str() == "-";
    let (mut stdin_markers, mut paths): (Vec<PathBuf>, Vec<PathBuf>) =
        args.paths.into_iter().partition(is_stdin);
    let (plan_markers, plans): (Vec<PathBuf>, Vec<PathBuf>) =
        args.plans.into_iter().partition(is_stdin);
    let stdin_plan = !plan_markers.is_empty();
    stdin_markers.extend(plan_markers);
    let stdin = match stdin_markers.len() {
        0 => None,
        1 => {
            let text = read_stdin().map_err(UsageError::UnreadableStdin)?;
            Some((args.stdin_filename, text))
        }
        _ => return Err(UsageError::StdinGivenTwice),
    };
    if paths.is_empty() && (stdin.is_none() || stdin_plan) {
        paths.push(PathBuf::from("."));
    }
    if let Some(missing) = args.var_files.iter().find(|p| !Path::is_file(p)) {
        return Err(UsageError::MissingVarFile(missing.clone()));
    }
    if let Some(missing) = plans.iter().find(|p| !Path::is_file(p)) {
        return Err(UsageError::MissingPlan(missing.clone()));
    }
    if let Some(out) = args
        .var_files
        .iter()
        .find(|p| !open::named_path_allowed(p, cwd))
    {
        return Err(UsageError::VarFileLeadsOut(out.clone()));
    }
    if let Some(out) = plans.iter().find(|p| !open::named_path_allowed(p, cwd)) {
        return Err(UsageError::PlanLeadsOut(out.clone()));
    }
    Ok(Settings {
        paths,
        plans,
        stdin_plan,
        var_files: args.var_files,
        vars: args.vars,
        stdin,
        ..Settings::default()
    })
}

/// The file `--config` names (its relative paths relative to `cwd`, as on the command line),
/// else the nearest `.irsa-lint.toml` (relative to its folder), else none.
fn read_config(flag: Option<&Path>, cwd: &Path) -> Result<Option<Config>, UsageError> {
    let (file, shown, base, origin) = match flag {
        Some(path) => {
            if !open::named_path_allowed(path, cwd) {
                return Err(UsageError::Config(ConfigError {
                    path: path.to_path_buf(),
                    at: None,
                    message: LEADS_OUT.to_string(),
                }));
            }
            let origin = config::Origin::Named;
            (
                cwd.join(path),
                path.to_path_buf(),
                cwd.to_path_buf(),
                origin,
            )
        }
        None => match config::find(cwd) {
            Some((shown, folder)) => {
                let file = folder.join(config::FILE_NAME);
                (file, shown, folder, config::Origin::Found)
            }
            None => return Ok(None),
        },
    };
    config::load(&file, &shown, &base, origin)
        .map(Some)
        .map_err(UsageError::Config)
}

fn read_baseline(path: &Path, cwd: &Path) -> Result<Baseline, UsageError> {
    let error = |message: String| UsageError::Baseline {
        path: path.to_path_buf(),
        message,
    };
    if !open::named_path_allowed(path, cwd) {
        return Err(error(LEADS_OUT.to_string()));
    }
    let absolute = cwd.join(path);
    let text = open::read_string(&absolute, Links::Follow, open::MAX_FILE_BYTES).map_err(
        |err| match err {
            ReadError::NotFound => error("file does not exist".to_string()),
            other => error(format!("cannot read: {other}")),
        },
    )?;
    let dir = absolute.parent().unwrap_or(cwd);
    Baseline::parse(&text, dir).map_err(error)
}

/// Why a file named inside the working folder is not read: a link leads it out.
const LEADS_OUT: &str = "is a symbolic link from the working folder to a file outside it; \
                         name the file itself to read it";

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
    use irsa_lint::diagnostic::Level;

    use super::*;

    const PIPE: Environment = Environment {
        stdout_is_terminal: false,
        no_color: false,
        terminal_width: None,
    };

    fn check_args(argv: &[&str]) -> CheckArgs {
        let cli = Cli::try_parse_from(["irsa-lint", "check"].iter().chain(argv))
            .expect("the test's flags are valid");
        match cli.command {
            Command::Check(args) => args,
            other => panic!("expected check, got {other:?}"),
        }
    }

    /// A working directory with no configuration file in it or above it.
    fn no_config() -> PathBuf {
        std::env::temp_dir().join("irsa-lint-unit-tests-without-configuration")
    }

    fn resolve(argv: &[&str]) -> Result<CheckSettings, UsageError> {
        resolve_check(check_args(argv), PIPE, &no_config(), || {
            Ok("from stdin".to_string())
        })
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
        let settings = resolve_check(check_args(&[]), PIPE, &no_config(), no_stdin).unwrap();
        assert_eq!(settings.engine.paths, vec![PathBuf::from(".")]);
        assert!(settings.engine.stdin.is_none());
        assert_eq!(settings.format, Format::Human);
        assert_eq!(settings.fail_on, FailOn::default());
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
        let err = resolve_check(check_args(&["-"]), PIPE, &no_config(), invalid).unwrap_err();
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
            terminal_width: Some(120),
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
    fn select_and_ignore_take_ids_or_names_and_turn_the_rest_off() {
        let settings = resolve(&["--select", "IRSA001,trust-subject-mismatch"]).unwrap();
        let levels = &settings.engine.rule_levels;
        assert!(!levels.is_off("IRSA001"));
        assert!(!levels.is_off("IRSA003"));
        assert!(levels.is_off("IRSA006"));
        let settings = resolve(&["--ignore", "irsa006", "--ignore", "IRSA013"]).unwrap();
        let levels = &settings.engine.rule_levels;
        assert!(levels.is_off("IRSA006") && levels.is_off("IRSA013"));
        assert!(!levels.is_off("IRSA001"));
    }

    #[test]
    fn an_unknown_rule_in_select_is_a_usage_error_with_a_suggestion() {
        let err = resolve(&["--select", "trust-subject-mismach"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--select: no rule has the id or name `trust-subject-mismach`; \
             did you mean `trust-subject-mismatch`?"
        );
    }

    #[test]
    fn a_report_file_gets_no_colour_and_no_terminal_width_unless_asked() {
        let terminal = Environment {
            stdout_is_terminal: true,
            no_color: false,
            terminal_width: Some(140),
        };
        let run = |argv: &[&str]| {
            resolve_check(check_args(argv), terminal, &no_config(), no_stdin)
                .unwrap()
                .render
        };
        let on_terminal = run(&[]);
        assert!(on_terminal.color);
        assert_eq!(on_terminal.width, Some(140));
        let to_file = run(&["-o", "report.txt"]);
        assert!(!to_file.color);
        assert_eq!(to_file.width, None);
        assert!(run(&["-o", "report.txt", "--color", "always"]).color);
        assert!(!run(&["--no-color"]).color);
        assert!(!run(&["--no-color", "--color", "always"]).color);
    }

    #[test]
    fn quiet_and_verbose_cannot_be_combined() {
        let err = Cli::try_parse_from(["irsa-lint", "check", "-q", "-v"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn completions_take_one_of_the_supported_shells() {
        for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
            let cli = Cli::try_parse_from(["irsa-lint", "completions", shell]).unwrap();
            assert!(matches!(cli.command, Command::Completions(_)), "{shell}");
        }
        let err = Cli::try_parse_from(["irsa-lint", "completions", "tcsh"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::InvalidValue);
        let err = Cli::try_parse_from(["irsa-lint", "completions"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
    }

    #[test]
    fn every_subcommand_but_help_has_a_man_page() {
        let subcommands: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .filter(|name| name != "help")
            .collect();
        assert_eq!(subcommands, MAN_PAGES);
    }

    #[test]
    fn graph_reads_inputs_like_check_and_defaults_to_a_table() {
        let cli = Cli::try_parse_from(["irsa-lint", "graph", "infra", "--var", "env=prod"])
            .expect("the test's flags are valid");
        let Command::Graph(args) = cli.command else {
            panic!("expected graph");
        };
        let settings = resolve_graph(args, &no_config(), no_stdin).unwrap();
        assert_eq!(settings.format, graph::Format::Table);
        assert_eq!(settings.engine.paths, vec![PathBuf::from("infra")]);
        assert_eq!(settings.engine.vars, vec![("env".into(), "prod".into())]);
        let err = Cli::try_parse_from(["irsa-lint", "graph", "--format", "human"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::InvalidValue);
    }

    #[test]
    fn flags_win_over_the_configuration_file() {
        let project = tempfile::tempdir().unwrap();
        std::fs::write(
            project.path().join(config::FILE_NAME),
            "fail_on = \"warning\"\n[variables]\nregion = \"us-east-1\"\n",
        )
        .unwrap();
        let resolve_in = |argv: &[&str]| {
            resolve_check(check_args(argv), PIPE, project.path(), no_stdin).unwrap()
        };
        let from_file = resolve_in(&[]);
        assert_eq!(from_file.fail_on.level, Some(Level::Warning));
        let flags = resolve_in(&["--fail-on", "never", "--var", "region=eu-west-1"]);
        assert_eq!(flags.fail_on.level, None);
        // Both are applied in order: the flag's value last, so it wins.
        assert_eq!(
            flags.engine.vars,
            [
                ("region".to_string(), "us-east-1".to_string()),
                ("region".to_string(), "eu-west-1".to_string()),
            ]
        );
    }

    #[test]
    fn baseline_and_write_baseline_exclude_each_other() {
        let err = Cli::try_parse_from([
            "irsa-lint",
            "check",
            "--baseline",
            "a.json",
            "--write-baseline",
            "b.json",
        ])
        .unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn fail_on_takes_one_level_and_unchecked() {
        let fail_on = |argv: &[&str]| {
            resolve_check(check_args(argv), PIPE, &no_config(), no_stdin).map(|s| s.fail_on)
        };
        let strict = fail_on(&["--fail-on", "warning,unchecked"]).unwrap();
        assert_eq!(strict.level, Some(Level::Warning));
        assert!(strict.unchecked);
        let unchecked = fail_on(&["--fail-on", "unchecked"]).unwrap();
        assert_eq!(unchecked.level, Some(Level::Error), "errors still fail");
        assert!(unchecked.unchecked);
        let only_unchecked = fail_on(&["--fail-on", "never,unchecked"]).unwrap();
        assert_eq!(only_unchecked.level, None);
        let two_levels = fail_on(&["--fail-on", "note,error"]).unwrap_err();
        assert_eq!(
            two_levels.to_string(),
            "--fail-on: name at most one of error, warning, note and never"
        );
    }
}
