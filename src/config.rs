//! `.irsa-lint.toml`: finding it, reading it, and checking every key and value in it.
//!
//! This module turns the file into a [`Config`]; it knows the rules' ids and names (to check
//! them) but nothing of command-line flags: the command line lays a `Config` under its own
//! flags, which win. A file with an unknown key, a value of the wrong type or an unknown rule
//! is an error with the line and column of the mistake, never half-applied: an unknown key is
//! most often a typo of a setting the user believes is in force.
//!
//! Relative paths in the file (`exclude`, `var_files`) are relative to the folder the file
//! was found in, or to the working directory for a file given with `--config`.

use crate::open::{self, Links, ReadError};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

use crate::aws::arn::role_arn_problem;
use crate::diagnostic::{Diagnostic, Level};
use crate::eval::workspace::normalize;
use crate::link::ExternalRoles;
use crate::rules;
use crate::source::{LineCol, SourceFile};
use crate::text::closest;

/// The name searched for in the working directory and the folders above it.
pub const FILE_NAME: &str = ".irsa-lint.toml";

/// What `[rules]` sets one rule to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleLevel {
    /// Not run, not reported.
    Off,
    /// Reported at this level, whatever level the rule gives.
    Level(Level),
}

/// The `[rules]` table: rules turned off, and rules whose findings get another level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleLevels(BTreeMap<&'static str, RuleLevel>);

impl RuleLevels {
    pub fn set(&mut self, rule_id: &'static str, level: RuleLevel) {
        self.0.insert(rule_id, level);
    }

    pub fn get(&self, rule_id: &str) -> Option<RuleLevel> {
        self.0.get(rule_id).copied()
    }

    pub fn is_off(&self, rule_id: &str) -> bool {
        self.get(rule_id) == Some(RuleLevel::Off)
    }

    /// Drop the findings of rules turned off; give the others the level set for their rule.
    pub fn apply(&self, diagnostics: &mut Vec<Diagnostic>) {
        diagnostics.retain(|d| !self.is_off(d.rule_id));
        for d in diagnostics {
            if let Some(RuleLevel::Level(level)) = self.get(d.rule_id) {
                d.level = level;
            }
        }
    }
}

/// `exclude`: globs over paths relative to a base folder. A glob that matches a folder
/// excludes everything below it. `*` stays within one folder, `**` crosses folders.
#[derive(Debug, Clone)]
pub struct Exclude {
    /// Absolute and normalized.
    base: PathBuf,
    /// As written, which is what two sets of globs are compared by.
    patterns: Vec<String>,
    globs: GlobSet,
}

impl PartialEq for Exclude {
    fn eq(&self, other: &Self) -> bool {
        self.base == other.base && self.patterns == other.patterns
    }
}

impl Exclude {
    pub fn new(base: &Path, patterns: &[String]) -> Result<Exclude, globset::Error> {
        let mut set = GlobSetBuilder::new();
        for pattern in patterns {
            set.add(glob(pattern)?);
        }
        Ok(Exclude {
            base: normalize(base),
            patterns: patterns.to_vec(),
            globs: set.build()?,
        })
    }

    /// Whether a path (absolute, or relative to `cwd`) is excluded.
    pub fn excludes(&self, path: &Path, cwd: &Path) -> bool {
        let absolute = normalize(&cwd.join(path));
        let Ok(relative) = absolute.strip_prefix(&self.base) else {
            return false;
        };
        relative
            .ancestors()
            .filter(|p| !p.as_os_str().is_empty())
            .any(|p| self.globs.is_match(p))
    }
}

fn glob(pattern: &str) -> Result<globset::Glob, globset::Error> {
    let pattern = pattern.trim_start_matches("./").trim_end_matches('/');
    GlobBuilder::new(pattern).literal_separator(true).build()
}

/// What makes `check` exit 1 (`--fail-on`, `fail_on`): findings at or above a level, and,
/// with `unchecked`, ServiceAccounts whose role link could not be fully checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailOn {
    /// The least severe level that fails; `None` for `never`.
    pub level: Option<Level>,
    /// Also fail when some ServiceAccount's link to its role is not fully checked.
    pub unchecked: bool,
}

impl Default for FailOn {
    fn default() -> Self {
        FailOn {
            level: Some(Level::Error),
            unchecked: false,
        }
    }
}

impl FailOn {
    /// The words `--fail-on` and `fail_on` take, in the order `--help` lists them.
    pub const WORDS: [&str; 5] = ["error", "warning", "note", "never", "unchecked"];

    /// Read a list of words: at most one level (`error`, `warning`, `note`, `never`; `error`
    /// when none is given) and optionally `unchecked`.
    pub fn from_words<'w>(words: impl IntoIterator<Item = &'w str>) -> Result<FailOn, String> {
        let mut level = None;
        let mut unchecked = false;
        for word in words {
            let this = match word {
                "error" => Some(Level::Error),
                "warning" => Some(Level::Warning),
                "note" => Some(Level::Note),
                "never" => None,
                "unchecked" => {
                    unchecked = true;
                    continue;
                }
                other => {
                    return Err(format!(
                        "`{other}` is not one of {}",
                        Self::WORDS.join(", ")
                    ));
                }
            };
            if level.replace(this).is_some() {
                return Err("name at most one of error, warning, note and never".to_string());
            }
        }
        Ok(FailOn {
            level: level.unwrap_or(Some(Level::Error)),
            unchecked,
        })
    }
}

/// Everything `.irsa-lint.toml` says, checked.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file, as shown in messages.
    pub path: PathBuf,
    pub rules: RuleLevels,
    pub exclude: Option<Exclude>,
    /// Applied before the `--var-file`s of the command line.
    pub var_files: Vec<PathBuf>,
    /// `[variables]`, applied before the `--var`s of the command line.
    pub variables: Vec<(String, String)>,
    pub external_roles: ExternalRoles,
    pub fail_on: Option<FailOn>,
    /// Settings that were read but have no effect yet, to print as warnings.
    pub warnings: Vec<ConfigError>,
}

/// A mistake in the configuration file, with where it is when it is in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub at: Option<LineCol>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some(at) => write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                at.line,
                at.column,
                self.message
            ),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

/// The nearest configuration file for a run in `cwd` (absolute): in it or in a folder above
/// it. Returns the path to show (relative, `../.irsa-lint.toml` when found one folder up) and
/// the folder the file is in.
pub fn find(cwd: &Path) -> Option<(PathBuf, PathBuf)> {
    for (levels_up, folder) in cwd.ancestors().enumerate() {
        let candidate = folder.join(FILE_NAME);
        // Anything by that name but a folder: `load` says why a link or FIFO is not read.
        if candidate.symlink_metadata().is_ok_and(|m| !m.is_dir()) {
            let mut shown = PathBuf::new();
            for _ in 0..levels_up {
                shown.push("..");
            }
            shown.push(FILE_NAME);
            return Some((shown, folder.to_path_buf()));
        }
    }
    None
}

/// Largest configuration file read.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// How the configuration file was come upon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Found by its name in a folder ([`find`]): read only if it lies in that folder once
    /// its links are resolved, so that a link committed in its place cannot show another
    /// file's lines in error messages.
    Found,
    /// Named by `--config`; the caller checked where it leads.
    Named,
}

/// Read and check a configuration file. `shown` names it in messages; relative paths in it
/// are relative to `base`.
pub fn load(file: &Path, shown: &Path, base: &Path, origin: Origin) -> Result<Config, ConfigError> {
    let error = |message: String| ConfigError {
        path: shown.to_path_buf(),
        at: None,
        message,
    };
    if origin == Origin::Found
        && let Some(folder) = file.parent()
        && let Ok(folder) = folder.canonicalize()
        && !open::resolves_below(file, &[folder])
    {
        return Err(error(
            "is a symbolic link leading out of its folder; it was not read".to_string(),
        ));
    }
    let text = open::read_string(file, Links::Follow, MAX_CONFIG_BYTES).map_err(|err| {
        error(match err {
            ReadError::NotFound => "configuration file does not exist".to_string(),
            ReadError::NotUtf8 => "not valid UTF-8 text".to_string(),
            other => format!("cannot read: {other}"),
        })
    })?;
    parse(&text, shown, base)
}

/// Check the text of a configuration file.
pub fn parse(text: &str, shown: &Path, base: &Path) -> Result<Config, ConfigError> {
    let reader = Reader {
        file: SourceFile::new(shown.to_path_buf(), text),
        base,
    };
    let root = DeTable::parse(text).map_err(|err| {
        let at = err.span().map_or(0, |s| s.start);
        reader.error(at..at, format!("invalid TOML: {}", err.message().trim()))
    })?;
    let mut config = Config {
        path: shown.to_path_buf(),
        ..Config::default()
    };
    reader.top_level(root.get_ref(), &mut config)?;
    Ok(config)
}

type Key<'i> = Spanned<DeString<'i>>;
type Value<'i> = Spanned<DeValue<'i>>;

const TOP_LEVEL_KEYS: &[&str] = &[
    "rules",
    "exclude",
    "var_files",
    "variables",
    "helm",
    "external_roles",
    "external_accounts",
    "fail_on",
];

struct Reader<'a> {
    file: SourceFile,
    base: &'a Path,
}

impl Reader<'_> {
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            path: self.file.path.clone(),
            at: Some(self.file.line_col(span.start as u32)),
            message: message.into(),
        }
    }

    fn top_level(&self, root: &DeTable<'_>, config: &mut Config) -> Result<(), ConfigError> {
        for (key, value) in in_file_order(root) {
            match key.get_ref().as_ref() {
                "rules" => self.rules(value, &mut config.rules)?,
                "exclude" => config.exclude = Some(self.exclude(key, value)?),
                "var_files" => config.var_files = self.var_files(value)?,
                "variables" => config.variables = self.variables(value)?,
                "helm" => config.warnings.extend(self.helm(value)?),
                "external_roles" => config.external_roles.roles = self.external_roles(value)?,
                "external_accounts" => {
                    config.external_roles.accounts = self.external_accounts(value)?
                }
                "fail_on" => config.fail_on = Some(self.fail_on(value)?),
                other => return Err(self.unknown_key(key, other, TOP_LEVEL_KEYS)),
            }
        }
        Ok(())
    }

    fn unknown_key(&self, key: &Key<'_>, name: &str, known: &[&str]) -> ConfigError {
        let message = match closest(name, known.iter().copied()) {
            Some(near) => format!("unknown key \"{name}\", did you mean \"{near}\"?"),
            None => format!("unknown key \"{name}\""),
        };
        self.error(key.span(), message)
    }

    /// `[rules]`: rule id or name = "off" | "note" | "warning" | "error".
    fn rules(&self, value: &Value<'_>, levels: &mut RuleLevels) -> Result<(), ConfigError> {
        let table = self.table(value, "rules")?;
        let mut set_by: BTreeMap<&'static str, String> = BTreeMap::new();
        for (key, level) in in_file_order(table) {
            let written = key.get_ref().as_ref();
            let Some(rule) = rules::find(written) else {
                return Err(self.error(key.span(), unknown_rule(written)));
            };
            if let Some(earlier) = set_by.insert(rule.meta.id, written.to_string()) {
                return Err(self.error(
                    key.span(),
                    format!(
                        "rule {} is already set above as \"{earlier}\"",
                        rule.meta.id
                    ),
                ));
            }
            let text = self.string(level, written)?;
            let parsed = match text {
                "off" => RuleLevel::Off,
                "note" => RuleLevel::Level(Level::Note),
                "warning" => RuleLevel::Level(Level::Warning),
                "error" => RuleLevel::Level(Level::Error),
                other => {
                    return Err(self.error(
                        level.span(),
                        format!(
                            "\"{written}\" must be \"off\", \"note\", \"warning\" or \"error\", \
                             not \"{other}\""
                        ),
                    ));
                }
            };
            levels.set(rule.meta.id, parsed);
        }
        Ok(())
    }

    fn exclude(&self, key: &Key<'_>, value: &Value<'_>) -> Result<Exclude, ConfigError> {
        let patterns = self.strings(value, "exclude")?;
        for (pattern, span) in &patterns {
            if let Err(err) = glob(pattern) {
                return Err(self.error(
                    span.clone(),
                    format!("\"{pattern}\" is not a valid glob: {}", err.kind()),
                ));
            }
        }
        let patterns: Vec<String> = patterns.into_iter().map(|(p, _)| p).collect();
        Exclude::new(self.base, &patterns)
            .map_err(|err| self.error(key.span(), format!("invalid exclude glob: {err}")))
    }

    fn var_files(&self, value: &Value<'_>) -> Result<Vec<PathBuf>, ConfigError> {
        let mut out = Vec::new();
        for (file, span) in self.strings(value, "var_files")? {
            let path = self.base.join(&file);
            if !path.is_file() {
                return Err(self.error(span, format!("var file does not exist: {file}")));
            }
            // Values of a var file can reach messages: only files of this tree are read.
            let base = self
                .base
                .canonicalize()
                .unwrap_or_else(|_| self.base.to_path_buf());
            if !open::resolves_below(&path, &[base]) {
                return Err(self.error(
                    span,
                    format!(
                        "var file is outside the folder of the configuration file and was not \
                         read: {file}"
                    ),
                ));
            }
            out.push(path);
        }
        Ok(out)
    }

    /// `[variables]`: name = string, number or boolean, as `--var NAME=VALUE` would set it.
    fn variables(&self, value: &Value<'_>) -> Result<Vec<(String, String)>, ConfigError> {
        let mut out = Vec::new();
        for (name, v) in in_file_order(self.table(value, "variables")?) {
            let text = match v.get_ref() {
                DeValue::String(s) => s.to_string(),
                DeValue::Integer(i) => i.as_str().to_string(),
                DeValue::Float(f) => f.as_str().to_string(),
                DeValue::Boolean(b) => b.to_string(),
                other => {
                    return Err(self.error(
                        v.span(),
                        format!(
                            "variable \"{}\" must be a string, number or boolean, not {}; \
                             put lists and maps in a var file",
                            name.get_ref(),
                            with_article(other.type_str())
                        ),
                    ));
                }
            };
            out.push((name.get_ref().to_string(), text));
        }
        Ok(out)
    }

    /// `[helm.values]`: chart folder = [values files]. Checked, but not applied yet: the
    /// values a local chart is rendered with come from its `helm_release` or Argo CD
    /// Application. Returns the warning that says so.
    fn helm(&self, value: &Value<'_>) -> Result<Vec<ConfigError>, ConfigError> {
        let mut warnings = Vec::new();
        for (key, inner) in in_file_order(self.table(value, "helm")?) {
            if key.get_ref().as_ref() != "values" {
                return Err(self.unknown_key(
                    key,
                    &format!("helm.{}", key.get_ref()),
                    &["helm.values"],
                ));
            }
            for (chart, files) in in_file_order(self.table(inner, "helm.values")?) {
                self.strings(files, &format!("helm.values.{}", chart.get_ref()))?;
            }
            warnings.push(self.error(
                key.span(),
                "[helm.values] is not applied yet: a local chart's values come from its \
                 helm_release or Argo CD Application",
            ));
        }
        Ok(warnings)
    }

    fn external_roles(&self, value: &Value<'_>) -> Result<Vec<String>, ConfigError> {
        let roles = self.strings(value, "external_roles")?;
        for (arn, span) in &roles {
            if let Some(why) = external_role_problem(arn) {
                return Err(self.error(span.clone(), format!("\"{arn}\" {why}")));
            }
        }
        Ok(roles.into_iter().map(|(r, _)| r).collect())
    }

    fn external_accounts(&self, value: &Value<'_>) -> Result<Vec<String>, ConfigError> {
        if let DeValue::Array(items) = value.get_ref()
            && let Some(number) = items.iter().find(|i| i.get_ref().is_integer())
        {
            return Err(self.error(
                number.span(),
                "account ids must be quoted strings (\"012345678901\"): a number loses \
                 leading zeros",
            ));
        }
        let accounts = self.strings(value, "external_accounts")?;
        for (account, span) in &accounts {
            if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                return Err(self.error(
                    span.clone(),
                    format!("account id \"{account}\" is not 12 digits"),
                ));
            }
        }
        Ok(accounts.into_iter().map(|(a, _)| a).collect())
    }

    /// `fail_on = "warning"`, or a list such as `fail_on = ["warning", "unchecked"]`.
    fn fail_on(&self, value: &Value<'_>) -> Result<FailOn, ConfigError> {
        let words: Vec<(String, Range<usize>)> = match value.get_ref() {
            DeValue::String(s) => vec![(s.to_string(), value.span())],
            DeValue::Array(_) => self.strings(value, "fail_on")?,
            other => {
                return Err(self.wrong_type(
                    value,
                    "fail_on",
                    "a string or an array of strings",
                    other,
                ));
            }
        };
        let unknown = words
            .iter()
            .find(|(word, _)| !FailOn::WORDS.contains(&word.as_str()));
        if let Some((word, span)) = unknown {
            return Err(self.error(
                span.clone(),
                format!(
                    "\"fail_on\" must be \"error\", \"warning\", \"note\" or \"never\", and may add \
                     \"unchecked\", not \"{word}\""
                ),
            ));
        }
        FailOn::from_words(words.iter().map(|(w, _)| w.as_str()))
            .map_err(|message| self.error(value.span(), format!("\"fail_on\": {message}")))
    }

    fn string<'v>(&self, value: &'v Value<'_>, key: &str) -> Result<&'v str, ConfigError> {
        match value.get_ref() {
            DeValue::String(s) => Ok(s.as_ref()),
            other => Err(self.wrong_type(value, key, "a string", other)),
        }
    }

    /// An array of strings, each with its span.
    fn strings(
        &self,
        value: &Value<'_>,
        key: &str,
    ) -> Result<Vec<(String, Range<usize>)>, ConfigError> {
        let DeValue::Array(items) = value.get_ref() else {
            return Err(self.wrong_type(value, key, "an array of strings", value.get_ref()));
        };
        items
            .iter()
            .map(|item| match item.get_ref() {
                DeValue::String(s) => Ok((s.to_string(), item.span())),
                other => Err(self.wrong_type(item, key, "an array of strings", other)),
            })
            .collect()
    }

    fn table<'t, 'i>(
        &self,
        value: &'t Value<'i>,
        key: &str,
    ) -> Result<&'t DeTable<'i>, ConfigError> {
        match value.get_ref() {
            DeValue::Table(t) => Ok(t),
            other => Err(self.wrong_type(value, key, "a table", other)),
        }
    }

    fn wrong_type(
        &self,
        at: &Value<'_>,
        key: &str,
        expected: &str,
        found: &DeValue<'_>,
    ) -> ConfigError {
        self.error(
            at.span(),
            format!(
                "\"{key}\" must be {expected}, not {}",
                with_article(found.type_str())
            ),
        )
    }
}

/// A table's entries in the order they are written, so that the first mistake reported is
/// the first in the file.
fn in_file_order<'t, 'i>(table: &'t DeTable<'i>) -> Vec<(&'t Key<'i>, &'t Value<'i>)> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
}

fn with_article(type_name: &str) -> String {
    match type_name.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {type_name}"),
        _ => format!("a {type_name}"),
    }
}

fn unknown_rule(written: &str) -> String {
    match rules::suggest(written) {
        Some(near) => format!("unknown rule \"{written}\", did you mean \"{near}\"?"),
        None => format!("unknown rule \"{written}\"; `irsa-lint rules` lists them"),
    }
}

/// Why an `external_roles` entry cannot name a role, or `None` when it can.
fn external_role_problem(arn: &str) -> Option<String> {
    if arn.contains('*') {
        let shaped = arn.starts_with("arn:") && arn.contains(":role/");
        return (!shaped)
            .then(|| "is not a role ARN (arn:<partition>:iam::<account>:role/...)".into());
    }
    if arn.trim().is_empty() {
        return Some("is not a role ARN".into());
    }
    role_arn_problem(arn).map(|(why, _)| format!("is not a role ARN: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Config, ConfigError> {
        parse(text, Path::new(FILE_NAME), Path::new("/project"))
    }

    fn error(text: &str) -> String {
        read(text).unwrap_err().to_string()
    }

    #[test]
    fn rules_by_id_or_name_any_case() {
        let config = read(
            "[rules]\nIRSA015 = \"off\"\ntrust-subject-mismatch = \"warning\"\nirsa001 = \"error\"\n",
        )
        .unwrap();
        assert!(config.rules.is_off("IRSA015"));
        assert_eq!(
            config.rules.get("IRSA003"),
            Some(RuleLevel::Level(Level::Warning))
        );
        assert_eq!(
            config.rules.get("IRSA001"),
            Some(RuleLevel::Level(Level::Error))
        );
        assert_eq!(config.rules.get("IRSA002"), None);
    }

    #[test]
    fn fail_on_is_a_level_or_a_list_that_adds_unchecked() {
        let fail_on = |text: &str| read(text).unwrap().fail_on.unwrap();
        let level = fail_on("fail_on = \"warning\"\n");
        assert_eq!(
            (level.level, level.unchecked),
            (Some(Level::Warning), false)
        );
        let strict = fail_on("fail_on = [\"note\", \"unchecked\"]\n");
        assert_eq!((strict.level, strict.unchecked), (Some(Level::Note), true));
        let unchecked = fail_on("fail_on = [\"unchecked\"]\n");
        assert_eq!(
            (unchecked.level, unchecked.unchecked),
            (Some(Level::Error), true)
        );
    }

    #[test]
    fn mistakes_are_reported_at_their_line_and_column() {
        assert_eq!(
            error("fail_on = \"warning\"\n\nrulez = 1\n"),
            ".irsa-lint.toml:3:1: unknown key \"rulez\", did you mean \"rules\"?"
        );
        assert_eq!(
            error("[rules]\nIRSA999 = \"off\"\n"),
            ".irsa-lint.toml:2:1: unknown rule \"IRSA999\"; `irsa-lint rules` lists them"
        );
        assert_eq!(
            error("[rules]\ntrust-subject-mismach = \"off\"\n"),
            ".irsa-lint.toml:2:1: unknown rule \"trust-subject-mismach\", did you mean \
             \"trust-subject-mismatch\"?"
        );
        assert_eq!(
            error("[rules]\nIRSA003 = \"warn\"\n"),
            ".irsa-lint.toml:2:11: \"IRSA003\" must be \"off\", \"note\", \"warning\" or \
             \"error\", not \"warn\""
        );
        assert_eq!(
            error("exclude = \"vendor\"\n"),
            ".irsa-lint.toml:1:11: \"exclude\" must be an array of strings, not a string"
        );
        assert_eq!(
            error("exclude = [\"a\", 3]\n"),
            ".irsa-lint.toml:1:17: \"exclude\" must be an array of strings, not an integer"
        );
        assert_eq!(
            error("fail_on = \"sometimes\"\n"),
            ".irsa-lint.toml:1:11: \"fail_on\" must be \"error\", \"warning\", \"note\" or \
             \"never\", and may add \"unchecked\", not \"sometimes\""
        );
        assert_eq!(
            error("fail_on = [\"warning\", \"error\"]\n"),
            ".irsa-lint.toml:1:11: \"fail_on\": name at most one of error, warning, note and never"
        );
    }

    #[test]
    fn the_first_mistake_in_the_file_is_reported() {
        // The parser's tables are sorted by key; the error must still be the first written.
        assert!(
            error("zzz = 1\naaa = 2\n").starts_with(".irsa-lint.toml:1:1: unknown key \"zzz\"")
        );
    }

    #[test]
    fn a_rule_set_twice_under_id_and_name_is_an_error() {
        assert_eq!(
            error("[rules]\nIRSA003 = \"off\"\ntrust-subject-mismatch = \"error\"\n"),
            ".irsa-lint.toml:3:1: rule IRSA003 is already set above as \"IRSA003\""
        );
    }

    #[test]
    fn invalid_toml_is_reported_with_its_position() {
        let message = error("[rules\n");
        assert!(message.starts_with(".irsa-lint.toml:1:"), "{message}");
        assert!(message.contains("invalid TOML"), "{message}");
    }

    #[test]
    fn variables_take_strings_numbers_and_booleans() {
        let config =
            read("[variables]\nregion = \"eu-west-1\"\nreplicas = 3\nenabled = true\n").unwrap();
        assert_eq!(
            config.variables,
            [
                ("region".to_string(), "eu-west-1".to_string()),
                ("replicas".to_string(), "3".to_string()),
                ("enabled".to_string(), "true".to_string()),
            ]
        );
        assert_eq!(
            error("[variables]\ntags = [\"a\"]\n"),
            ".irsa-lint.toml:2:8: variable \"tags\" must be a string, number or boolean, not \
             an array; put lists and maps in a var file"
        );
    }

    #[test]
    fn external_roles_and_accounts_are_checked() {
        let config = read(
            "external_roles = [\"arn:aws:iam::482910375521:role/reports-reader\", \
             \"arn:aws:iam::482910375521:role/data-*\"]\nexternal_accounts = [\"210987654321\"]\n",
        )
        .unwrap();
        assert_eq!(config.external_roles.roles.len(), 2);
        assert_eq!(config.external_roles.accounts, ["210987654321"]);
        assert!(error("external_roles = [\"reports-reader\"]\n").contains("is not a role ARN"));
        assert!(error("external_accounts = [482910375521]\n").contains("quoted strings"));
        assert!(error("external_accounts = [\"4829\"]\n").contains("is not 12 digits"));
    }

    #[test]
    fn helm_values_are_checked_and_warned_about() {
        let config = read("[helm.values]\n\"charts/ledger\" = [\"values-prod.yaml\"]\n").unwrap();
        assert_eq!(config.warnings.len(), 1);
        assert!(config.warnings[0].message.contains("not applied yet"));
        assert_eq!(
            error("[helm.values]\n\"charts/ledger\" = \"values-prod.yaml\"\n"),
            ".irsa-lint.toml:2:19: \"helm.values.charts/ledger\" must be an array of strings, \
             not a string"
        );
        assert!(error("[helm]\nvalue = {}\n").contains("unknown key \"helm.value\""));
    }

    #[test]
    fn exclude_globs_match_paths_below_the_base_and_whole_folders() {
        let exclude = Exclude::new(
            Path::new("/project"),
            &[
                "legacy".to_string(),
                "k8s/*.tmp.yaml".to_string(),
                "**/vendor/".to_string(),
            ],
        )
        .unwrap();
        let cwd = Path::new("/project/infra");
        assert!(exclude.excludes(Path::new("../legacy/main.tf"), cwd));
        assert!(exclude.excludes(Path::new("/project/k8s/sa.tmp.yaml"), cwd));
        assert!(!exclude.excludes(Path::new("/project/k8s/deep/sa.tmp.yaml"), cwd));
        assert!(exclude.excludes(Path::new("modules/vendor/x/main.tf"), cwd));
        assert!(!exclude.excludes(Path::new("main.tf"), cwd));
        assert!(!exclude.excludes(Path::new("/elsewhere/legacy/main.tf"), cwd));
    }

    #[test]
    fn levels_apply_and_off_drops() {
        let mut levels = RuleLevels::default();
        levels.set("IRSA000", RuleLevel::Level(Level::Note));
        let span = crate::source::Span::file_start(crate::source::FileId(0));
        let label = crate::diagnostic::Label::new(span, "here");
        let mut diagnostics = vec![Diagnostic::new(rules::RULES[0].meta, label, "a")];
        levels.apply(&mut diagnostics);
        assert_eq!(diagnostics[0].level, Level::Note);
        levels.set("IRSA000", RuleLevel::Off);
        levels.apply(&mut diagnostics);
        assert!(diagnostics.is_empty());
    }
}
