//! What each subcommand does with resolved settings: call the library, print, pick the exit
//! status.
//!
//! Findings and requested output go to stdout; anything about the invocation itself goes to
//! stderr as `error: ...`. This module owns the exit statuses and nothing else decides them.

use std::io::{self, Write};
use std::path::Path;

use irsa_lint::baseline;
use irsa_lint::config::FailOn;
use irsa_lint::coverage::Coverage;
use irsa_lint::diagnostic::Diagnostic;
use irsa_lint::engine::{self, Analysis};
use irsa_lint::fix;
use irsa_lint::graph;
use irsa_lint::open::Links;
use irsa_lint::output::{self, Breaks, visible};
use irsa_lint::rules::{self, RULES, Rule};
use irsa_lint::text;

use clap::CommandFactory;

use crate::cli::{
    self, CheckArgs, Cli, CompletionsArgs, Environment, ExplainArgs, FixMode, GraphArgs, ManArgs,
    RulesArgs, RulesFormat,
};

/// Nothing at or above the `--fail-on` level, or a successful `explain` / `rules`.
pub const SUCCESS: u8 = 0;
/// At least one finding at or above the `--fail-on` level.
pub const FINDINGS: u8 = 1;
/// The invocation cannot run: a usage error, a missing path, an unknown rule.
pub const USAGE: u8 = 2;
/// The language server's client exited without `shutdown` first, or the connection broke
/// (the status the protocol asks for).
pub const LSP_ABORTED: u8 = 1;

pub fn check(args: CheckArgs) -> u8 {
    let read_stdin = || irsa_lint::open::read_stdin(irsa_lint::open::MAX_FILE_BYTES);
    let cwd = std::env::current_dir().unwrap_or_default();
    let settings = match cli::resolve_check(args, Environment::current(), &cwd, read_stdin) {
        Ok(settings) => settings,
        Err(err) => return usage_error(&err),
    };
    if !settings.render.quiet {
        for warning in &settings.warnings {
            eprintln!("warning: {warning}");
        }
    }
    // The facts too: a baseline names what each finding is about.
    let report = match engine::analyze(&settings.engine) {
        Ok(analysis) => analysis,
        Err(err) => return usage_error(&err),
    };
    if report.files_read == 0 && !settings.render.quiet {
        eprintln!("{NOTHING_READ}");
    }
    let report = match settings.fix {
        FixMode::Report => report,
        FixMode::Diff => return print_diff(&report, &settings, &cwd),
        FixMode::Apply => match apply_fixes(report, &settings, &cwd) {
            Ok(report) => report,
            Err(status) => return status,
        },
    };
    if let Some(path) = &settings.write_baseline {
        return write_baseline(path, &report, &cwd);
    }
    let rendered = output::render(
        settings.format,
        &report.diagnostics,
        &report.sources,
        &report.coverage,
        &settings.render,
    );
    match &settings.output_file {
        Some(path) => {
            if let Err(err) = crate::write::regular_file(path, rendered.as_bytes()) {
                eprintln!("error: cannot write {}: {err}", path.display());
                return USAGE;
            }
        }
        None => print(&rendered),
    }
    let failed = fails(&report.diagnostics, &report.coverage, settings.fail_on);
    let status = if failed && !settings.exit_zero {
        FINDINGS
    } else {
        SUCCESS
    };
    // The process ends here: freeing every text and fact one by one would only delay it.
    std::mem::forget(report);
    status
}

/// The fixes of the findings, planned against the files as they are now.
fn plan_fixes(report: &Analysis, cwd: &Path) -> fix::Plan {
    let read = |path: &Path| {
        irsa_lint::open::read_string(path, Links::Follow, irsa_lint::open::MAX_FILE_BYTES).ok()
    };
    fix::plan(&report.diagnostics, &report.sources, cwd, read)
}

fn say_skipped(plan: &fix::Plan, settings: &cli::CheckSettings) {
    if settings.render.quiet {
        return;
    }
    for skipped in &plan.skipped {
        eprintln!(
            "note: the {} fix in {} was not applied: {}",
            skipped.rule,
            shown(&skipped.shown),
            visible(skipped.why, Breaks::Escape)
        );
    }
}

/// A path of the scanned tree as a message on the terminal shows it.
fn shown(path: &Path) -> String {
    visible(&path.display().to_string(), Breaks::Escape).into_owned()
}

/// `--diff`: every fix as a unified diff on stdout; exits 1 when there is one (there is
/// something to fix), as `ruff check --diff` does.
fn print_diff(report: &Analysis, settings: &cli::CheckSettings, cwd: &Path) -> u8 {
    let plan = plan_fixes(report, cwd);
    say_skipped(&plan, settings);
    let diff: String = plan.files.iter().map(fix::unified_diff).collect();
    print(&diff);
    if plan.files.is_empty() || settings.exit_zero {
        SUCCESS
    } else {
        FINDINGS
    }
}

/// `--fix`: write the fixes, then lint again so that the report shows what remains.
fn apply_fixes(
    report: Analysis,
    settings: &cli::CheckSettings,
    cwd: &Path,
) -> Result<Analysis, u8> {
    let plan = plan_fixes(&report, cwd);
    say_skipped(&plan, settings);
    if plan.files.is_empty() {
        return Ok(report);
    }
    let mut fixed = 0;
    for file in &plan.files {
        if let Err(err) = crate::write::regular_file(&file.path, file.after.as_bytes()) {
            eprintln!("error: cannot write {}: {err}", shown(&file.shown));
            return Err(USAGE);
        }
        fixed += file.rules.len();
    }
    if !settings.render.quiet {
        let files = plan.files.len();
        eprintln!(
            "applied {fixed} {} in {files} {}",
            plural(fixed, "fix", "fixes"),
            plural(files, "file", "files")
        );
    }
    std::mem::forget(report);
    engine::analyze(&settings.engine).map_err(|err| usage_error(&err))
}

fn plural<'w>(n: usize, one: &'w str, many: &'w str) -> &'w str {
    if n == 1 { one } else { many }
}

const NOTHING_READ: &str = "warning: no .tf, .tfvars, .yaml, .yml or .json file found to lint";

/// Print the wiring graph. Broken links are what `check` is for: the graph always exits 0.
pub fn graph(args: GraphArgs) -> u8 {
    let read_stdin = || irsa_lint::open::read_stdin(irsa_lint::open::MAX_FILE_BYTES);
    let cwd = std::env::current_dir().unwrap_or_default();
    let settings = match cli::resolve_graph(args, &cwd, read_stdin) {
        Ok(settings) => settings,
        Err(err) => return usage_error(&err),
    };
    for warning in &settings.warnings {
        eprintln!("warning: {warning}");
    }
    let analysis = match engine::analyze(&settings.engine) {
        Ok(analysis) => analysis,
        Err(err) => return usage_error(&err),
    };
    if analysis.files_read == 0 {
        eprintln!("{NOTHING_READ}");
    }
    let chains = graph::chains(&analysis.context(), &analysis.diagnostics);
    print(&graph::render(settings.format, &chains));
    0
}

/// Record the findings as accepted. Nothing is printed on stdout: the findings are not the
/// output of this run, the file is.
fn write_baseline(path: &Path, report: &Analysis, cwd: &Path) -> u8 {
    let absolute = cwd.join(path);
    let place = baseline::Place {
        cwd,
        dir: absolute.parent().unwrap_or(cwd),
    };
    let text = baseline::render(&report.diagnostics, &report.sources, &report.facts, place);
    if let Err(err) = crate::write::regular_file(&absolute, text.as_bytes()) {
        eprintln!("error: cannot write baseline {}: {err}", path.display());
        return USAGE;
    }
    let count = report.diagnostics.len();
    let findings = if count == 1 { "finding" } else { "findings" };
    eprintln!(
        "wrote {count} {findings} to {}; run with --baseline {} to report only new ones",
        path.display(),
        path.display()
    );
    SUCCESS
}

pub fn explain(args: ExplainArgs) -> u8 {
    let Some(rule) = rules::find(&args.rule) else {
        eprintln!("error: no rule has the id or name `{}`", args.rule);
        let close = close_rules(&args.rule);
        if !close.is_empty() {
            let names: Vec<String> = close
                .iter()
                .map(|r| format!("{} ({})", r.meta.id, r.meta.name))
                .collect();
            eprintln!("  did you mean: {}?", names.join(", "));
        }
        eprintln!("  run `irsa-lint rules` to list every rule");
        return USAGE;
    };
    let doc = rule.meta.doc;
    if doc.ends_with('\n') {
        print(doc);
    } else {
        print(&format!("{doc}\n"));
    }
    // The controller data is part of IRSA030's documentation: which releases it knows.
    if rule.meta.id == rules::irsa030_controller_policy_outdated::RULE.id {
        print(&rules::irsa030_controller_policy_outdated::data_summary());
    }
    SUCCESS
}

pub fn rules(args: RulesArgs) -> u8 {
    match args.format {
        RulesFormat::Human => print(&rules_table()),
        RulesFormat::Json => print(&rules_json()),
    }
    SUCCESS
}

pub fn completions(args: CompletionsArgs) -> u8 {
    print(&completion_script(args.shell));
    SUCCESS
}

pub fn man(args: ManArgs) -> u8 {
    print(&man_page(args.command.as_deref()));
    SUCCESS
}

/// Generated from the clap definitions, so a new flag or subcommand completes without a
/// second list to keep in step.
fn completion_script(shell: clap_complete::Shell) -> String {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "irsa-lint", &mut script);
    String::from_utf8(script).expect("clap_complete writes UTF-8")
}

/// irsa-lint(1), or irsa-lint-SUBCOMMAND(1), from the same clap definitions as `--help`.
/// `subcommand` is one of [`cli::MAN_PAGES`] (clap checked it).
fn man_page(subcommand: Option<&str>) -> String {
    // `help` would be a page that only says to read the others.
    let mut command = Cli::command().disable_help_subcommand(true);
    // Building gives each subcommand its display name, irsa-lint-check, for its title.
    command.build();
    let page_command = match subcommand {
        None => command,
        Some(name) => command
            .find_subcommand(name)
            .expect("clap accepts only the names in MAN_PAGES")
            .clone(),
    };
    let mut page = Vec::new();
    clap_mangen::Man::new(page_command)
        .source(format!("irsa-lint {}", env!("CARGO_PKG_VERSION")))
        .render(&mut page)
        .expect("rendering into memory cannot fail");
    String::from_utf8(page).expect("clap_mangen writes UTF-8")
}

pub fn lsp() -> u8 {
    match irsa_lint::lsp::run() {
        Ok(()) => SUCCESS,
        Err(err) => {
            eprintln!("error: language server: {err}");
            LSP_ABORTED
        }
    }
}

fn usage_error(err: &dyn std::fmt::Display) -> u8 {
    eprintln!("error: {err}");
    USAGE
}

/// Write to stdout. A reader that goes away early (`irsa-lint rules | head -1`) is not an
/// error: the exit status still says what was found.
fn print(text: &str) {
    let mut stdout = io::stdout().lock();
    let written = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    if let Err(err) = written
        && err.kind() != io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write to standard output: {err}");
    }
}

fn fails(diagnostics: &[Diagnostic], coverage: &Coverage, fail_on: FailOn) -> bool {
    let found = fail_on
        .level
        .is_some_and(|threshold| diagnostics.iter().any(|d| d.level >= threshold));
    found || (fail_on.unchecked && coverage.unchecked() > 0)
}

/// Rules whose id or name is a few typos away from what was asked, closest first; an id
/// written without its zeros (`irsa3`) names its rule.
fn close_rules(query: &str) -> Vec<&'static Rule> {
    let query = query.to_ascii_lowercase();
    if let Some(number) = query
        .strip_prefix("irsa")
        .and_then(|n| n.parse::<u32>().ok())
        && let Some(rule) = rules::find(&format!("IRSA{number:03}"))
    {
        return vec![rule];
    }
    let ids: Vec<String> = RULES
        .iter()
        .map(|r| r.meta.id.to_ascii_lowercase())
        .collect();
    let names = RULES.iter().map(|r| r.meta.name);
    let mut close: Vec<&'static Rule> = Vec::new();
    for near in text::close_matches(&query, names.chain(ids.iter().map(String::as_str))) {
        if let Some(rule) = rules::find(near)
            && !close.iter().any(|r| r.meta.id == rule.meta.id)
        {
            close.push(rule);
        }
    }
    close.truncate(5);
    close
}

/// One line per rule with aligned columns, under a header.
fn rules_table() -> String {
    let header = ["ID", "NAME", "LEVEL", "SUMMARY"];
    let rows: Vec<[&str; 4]> = RULES
        .iter()
        .map(|r| {
            let m = r.meta;
            [m.id, m.name, m.default_level.as_str(), m.summary]
        })
        .collect();
    let width = |column: usize| {
        rows.iter()
            .map(|row| row[column].len())
            .chain([header[column].len()])
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2)];
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        out.push_str(&format!(
            "{:w0$}  {:w1$}  {:w2$}  {}\n",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
        ));
    }
    out
}

#[derive(serde::Serialize)]
struct RuleRow {
    id: &'static str,
    name: &'static str,
    default_level: &'static str,
    summary: &'static str,
}

fn rules_json() -> String {
    let rows: Vec<RuleRow> = RULES
        .iter()
        .map(|r| RuleRow {
            id: r.meta.id,
            name: r.meta.name,
            default_level: r.meta.default_level.as_str(),
            summary: r.meta.summary,
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&rows).expect("rule rows are plain strings");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use irsa_lint::diagnostic::{Label, Level};
    use irsa_lint::source::{FileId, Span};

    use super::*;

    fn finding(level: Level) -> Diagnostic {
        let span = Span::file_start(FileId(0));
        Diagnostic::new(RULES[0].meta, Label::new(span, "here"), "a finding").level(level)
    }

    fn fail_on(words: &[&str]) -> FailOn {
        FailOn::from_words(words.iter().copied()).unwrap()
    }

    #[test]
    fn fail_on_compares_levels_at_or_above() {
        let all_checked = Coverage::default();
        let fails = |diagnostics: &[Diagnostic], words: &[&str]| {
            fails(diagnostics, &all_checked, fail_on(words))
        };
        let warning = [finding(Level::Warning)];
        assert!(!fails(&warning, &["error"]));
        assert!(fails(&warning, &["warning"]));
        assert!(fails(&warning, &["note"]));
        assert!(!fails(&warning, &["never"]));
        let note = [finding(Level::Note)];
        assert!(!fails(&note, &["warning"]));
        assert!(fails(&note, &["note"]));
        let error = [finding(Level::Error)];
        assert!(fails(&error, &["error"]));
        assert!(!fails(&error, &["never"]));
        assert!(!fails(&[], &["note"]));
    }

    #[test]
    fn fail_on_unchecked_fails_on_any_link_not_fully_checked() {
        let unchecked = Coverage {
            service_accounts: 2,
            fully_checked: 1,
            role_not_in_scan: 1,
            infrastructure_read: true,
            ..Coverage::default()
        };
        assert!(!fails(&[], &unchecked, fail_on(&["error"])));
        assert!(fails(&[], &unchecked, fail_on(&["unchecked"])));
        assert!(fails(&[], &unchecked, fail_on(&["never", "unchecked"])));
        let external = Coverage {
            role_not_in_scan: 0,
            external: 1,
            ..unchecked
        };
        assert!(!fails(&[], &external, fail_on(&["unchecked"])));
    }

    #[test]
    fn close_rules_suggests_near_ids_and_names() {
        let ids = |query| -> Vec<&str> { close_rules(query).iter().map(|r| r.meta.id).collect() };
        assert_eq!(ids("parse-eror"), ["IRSA000"]);
        assert_eq!(ids("trust-subject-mismach"), ["IRSA003"]);
        assert_eq!(ids("irsa3")[0], "IRSA003");
        assert!(ids("nope").is_empty());
    }

    #[test]
    fn completion_scripts_name_every_subcommand() {
        use clap_complete::Shell;
        let bash = completion_script(Shell::Bash);
        for subcommand in ["check", "explain", "rules", "completions", "man"] {
            assert!(bash.contains(subcommand), "{subcommand} in {bash}");
        }
        assert!(bash.contains("--fail-on"), "{bash}");
        for shell in [Shell::Zsh, Shell::Fish, Shell::PowerShell, Shell::Elvish] {
            let script = completion_script(shell);
            assert!(script.contains("explain"), "{shell}: {script}");
        }
    }

    /// The page's `.TH` line. Only clap_mangen's definition of the apostrophe string
    /// (`.ie` / `.el`) may come before it.
    fn title_line(page: &str) -> &str {
        let first_request = page
            .lines()
            .find(|line| !line.starts_with(".ie ") && !line.starts_with(".el "))
            .unwrap_or_default();
        assert!(first_request.starts_with(".TH "), "{page}");
        first_request
    }

    #[test]
    fn man_page_is_roff_referring_to_each_subcommand_page() {
        let page = man_page(None);
        let version = env!("CARGO_PKG_VERSION");
        let title = format!(".TH irsa-lint 1  \"irsa-lint {version}\" ");
        assert_eq!(title_line(&page), title);
        for subcommand in cli::MAN_PAGES {
            let reference = format!("irsa\\-lint\\-{}(1)", subcommand.replace('-', "\\-"));
            assert!(page.contains(&reference), "{reference} in {page}");
        }
        assert!(!page.contains("irsa\\-lint\\-help(1)"), "{page}");
    }

    #[test]
    fn subcommand_man_pages_are_titled_and_list_their_flags() {
        let page = man_page(Some("check"));
        assert!(page.contains("\\-\\-fail\\-on"), "{page}");
        assert!(page.contains("Exit status:"), "{page}");
        for subcommand in cli::MAN_PAGES {
            let page = man_page(Some(subcommand));
            let version = env!("CARGO_PKG_VERSION");
            let title = format!(".TH irsa-lint-{subcommand} 1  \"irsa-lint {version}\" ");
            assert_eq!(title_line(&page), title);
        }
    }

    #[test]
    fn rules_table_aligns_columns_under_a_header() {
        let table = rules_table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), RULES.len() + 1);
        assert!(lines[0].starts_with("ID "));
        let name_column = lines[0].find("NAME").unwrap();
        let level_column = lines[0].find("LEVEL").unwrap();
        for (line, rule) in lines[1..].iter().zip(RULES) {
            assert_eq!(&line[name_column..][..rule.meta.name.len()], rule.meta.name);
            let level = rule.meta.default_level.as_str();
            assert_eq!(&line[level_column..][..level.len()], level);
            assert!(line.ends_with(rule.meta.summary));
        }
    }
}
