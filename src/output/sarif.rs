//! The `sarif` format: SARIF 2.1.0 for code scanning dashboards (GitHub, Azure DevOps, IDEs).
//!
//! Hand-written serde structs hold only the parts of the standard we fill; they are checked
//! against the official schema in the tests. Every rule of the registry is listed, not only
//! those that fired, so a dashboard can show the documentation of any rule. Columns count
//! Unicode code points, as our line/column arithmetic does, and `columnKind` says so.

use serde::Serialize;

use std::collections::BTreeMap;

use super::{CoverageCounts, UriBase, forward_slash_path, line_cols};
use crate::baseline::{self, Place};
use crate::coverage::Coverage;
use crate::diagnostic::{Diagnostic, Label, Level, REPOSITORY_URL, rule_doc_url};
use crate::rules::{RULES, RuleMeta};
use crate::source::{SourceMap, Span};

const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The base id of the repository root, as CodeQL and the SARIF spec's examples name it.
const SRCROOT: &str = "%SRCROOT%";
/// The key of our `partialFingerprints`; bump the version if the identity ever changes.
const FINGERPRINT_KEY: &str = "irsaLintTextHash/v1";

pub(super) fn render(
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    coverage: &Coverage,
    base: Option<&UriBase>,
) -> String {
    let paths = Paths { sources, base };
    let log = SarifLog {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: env!("CARGO_PKG_NAME"),
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: REPOSITORY_URL,
                    rules: RULES
                        .iter()
                        .map(|rule| ReportingDescriptor::new(rule.meta))
                        .collect(),
                },
            },
            original_uri_base_ids: base.map(|base| {
                BTreeMap::from([(
                    SRCROOT,
                    ArtifactLocation {
                        uri: directory_uri(&base.root),
                        uri_base_id: None,
                    },
                )])
            }),
            column_kind: "unicodeCodePoints",
            properties: RunProperties {
                coverage: CoverageCounts::new(coverage),
            },
            results: diagnostics
                .iter()
                .map(|diagnostic| SarifResult::new(diagnostic, &paths))
                .collect(),
        }],
    };
    let mut out = serde_json::to_string_pretty(&log)
        .expect("the SARIF structs hold only strings and numbers");
    out.push('\n');
    out
}

#[derive(Serialize)]
struct SarifLog {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_uri_base_ids: Option<BTreeMap<&'static str, ArtifactLocation>>,
    column_kind: &'static str,
    results: Vec<SarifResult>,
    properties: RunProperties,
}

/// A property bag (SARIF §3.8): what was and was not checked, as in the JSON format.
#[derive(Serialize)]
struct RunProperties {
    coverage: CoverageCounts,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    information_uri: &'static str,
    rules: Vec<ReportingDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor {
    id: &'static str,
    name: &'static str,
    short_description: Text,
    full_description: Text,
    help: MultiformatText,
    help_uri: String,
    default_configuration: Configuration,
    properties: RuleProperties,
}

/// What code scanning sorts and filters by: `tags`, and for the rules about an over-broad
/// trust (a security weakness rather than a broken link) GitHub's `security-severity`.
#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<&'static str>,
    #[serde(rename = "security-severity", skip_serializing_if = "Option::is_none")]
    security_severity: Option<&'static str>,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct MultiformatText {
    text: &'static str,
    markdown: &'static str,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<Fix>,
    partial_fingerprints: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Text>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

/// SARIF regions are 1-based and the end column is exclusive, as our [`line_cols`] are.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Fix {
    artifact_changes: Vec<ArtifactChange>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement {
    deleted_region: Region,
    inserted_content: Text,
}

impl ReportingDescriptor {
    fn new(rule: &'static RuleMeta) -> Self {
        ReportingDescriptor {
            id: rule.id,
            name: rule.name,
            short_description: Text {
                text: rule.summary.to_string(),
            },
            full_description: Text {
                text: first_paragraph(rule.doc).unwrap_or_else(|| rule.summary.to_string()),
            },
            help: MultiformatText {
                text: rule.doc,
                markdown: rule.doc,
            },
            help_uri: rule_doc_url(rule.id),
            default_configuration: Configuration {
                level: level(rule.default_level),
            },
            properties: rule_properties(rule.id),
        }
    }
}

impl SarifResult {
    fn new(diagnostic: &Diagnostic, paths: &Paths<'_>) -> Self {
        SarifResult {
            rule_id: diagnostic.rule_id,
            rule_index: RULES
                .iter()
                .position(|rule| rule.meta.id == diagnostic.rule_id),
            level: level(diagnostic.level),
            message: Text {
                text: message_text(diagnostic),
            },
            locations: vec![Location {
                id: None,
                physical_location: paths.physical_location(diagnostic.primary.span),
                message: None,
            }],
            related_locations: diagnostic
                .related
                .iter()
                .enumerate()
                .map(|(id, label)| paths.related_location(id, label))
                .collect(),
            fixes: diagnostic
                .fix
                .iter()
                .map(|fix| Fix {
                    artifact_changes: vec![ArtifactChange {
                        artifact_location: paths.artifact_location(fix.span),
                        replacements: vec![Replacement {
                            deleted_region: region(paths.sources, fix.span),
                            inserted_content: Text {
                                text: fix.replacement.clone(),
                            },
                        }],
                    }],
                })
                .collect(),
            partial_fingerprints: BTreeMap::from([(
                FINGERPRINT_KEY,
                baseline::text_fingerprint(diagnostic, paths.sources, paths.place()),
            )]),
        }
    }
}

/// Tags and GitHub security severity (0.1-3.9 low, 4-6.9 medium, 7-8.9 high) by rule. Most
/// rules find a broken link, which fails closed (AccessDenied): `correctness`, ranked by
/// level. The three that find access wider than intended are `security`.
fn rule_properties(id: &str) -> RuleProperties {
    let (kind, security_severity) = match id {
        "IRSA000" => ("syntax", None),
        "IRSA028" => ("suppression", None),
        // Every ServiceAccount of the cluster can assume the role.
        "IRSA009" => ("security", Some("8.0")),
        // Static keys in a manifest win over the role.
        "IRSA024" => ("security", Some("5.5")),
        // Tokens minted for another audience are accepted.
        "IRSA025" => ("security", Some("3.0")),
        _ => ("correctness", None),
    };
    RuleProperties {
        tags: vec!["irsa", "iam", "kubernetes", kind],
        security_severity,
    }
}

/// How a run's paths become URIs: relative to the repository root under `%SRCROOT%` when
/// the run has one, else relative to the working directory as shown.
struct Paths<'a> {
    sources: &'a SourceMap,
    base: Option<&'a UriBase>,
}

impl Paths<'_> {
    fn place(&self) -> Place<'_> {
        match self.base {
            Some(base) => Place {
                cwd: &base.cwd,
                dir: &base.root,
            },
            None => Place {
                cwd: std::path::Path::new(""),
                dir: std::path::Path::new(""),
            },
        }
    }

    fn artifact_location(&self, span: Span) -> ArtifactLocation {
        let shown = &self.sources.get(span.file).path;
        if let Some(base) = self.base {
            if let Some(relative) = baseline::path_below(shown, self.place()) {
                return ArtifactLocation {
                    uri: path_to_uri(&relative),
                    uri_base_id: Some(SRCROOT),
                };
            }
            // Outside the repository (a --var-file named elsewhere): absolute.
            let absolute = base.cwd.join(shown);
            return ArtifactLocation {
                uri: path_to_uri(&absolute.to_string_lossy().replace('\\', "/")),
                uri_base_id: None,
            };
        }
        ArtifactLocation {
            uri: path_to_uri(&forward_slash_path(self.sources, span)),
            uri_base_id: None,
        }
    }

    fn physical_location(&self, span: Span) -> PhysicalLocation {
        PhysicalLocation {
            artifact_location: self.artifact_location(span),
            region: region(self.sources, span),
        }
    }

    fn related_location(&self, id: usize, label: &Label) -> Location {
        Location {
            id: Some(id),
            physical_location: self.physical_location(label.span),
            message: Some(Text {
                text: label.message.clone(),
            }),
        }
    }
}

/// An absolute folder as a `file://` URI ending in `/`, as `originalUriBaseIds` wants.
fn directory_uri(dir: &std::path::Path) -> String {
    let mut uri = path_to_uri(&dir.to_string_lossy().replace('\\', "/"));
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// SARIF has one message per result: the help and notes follow the message on their own
/// lines, as in the human output.
fn message_text(diagnostic: &Diagnostic) -> String {
    let mut text = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    for note in &diagnostic.notes {
        text.push_str("\nnote: ");
        text.push_str(note);
    }
    text
}

fn region(sources: &SourceMap, span: Span) -> Region {
    let (start, end) = line_cols(sources, span);
    Region {
        start_line: start.line,
        start_column: start.column,
        end_line: end.line,
        end_column: end.column,
    }
}

fn level(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Note => "note",
    }
}

/// A relative path becomes a relative URI reference (resolved by viewers against the
/// checkout); an absolute one becomes a `file://` URI. Everything but unreserved
/// characters and `/` is percent-encoded; a `:` would otherwise read as a URI scheme.
fn path_to_uri(path: &str) -> String {
    let is_absolute = std::path::Path::new(path).is_absolute();
    let mut uri = String::with_capacity(path.len() + 8);
    if is_absolute {
        uri.push_str(if path.starts_with('/') {
            "file://"
        } else {
            "file:///"
        });
    }
    for byte in path.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/')
            || (is_absolute && byte == b':');
        if keep {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

/// The first paragraph of a rule doc, after its `# ID: name` title and any headings,
/// joined into one line.
fn first_paragraph(doc: &str) -> Option<String> {
    let is_heading_or_blank = |line: &&str| line.is_empty() || line.starts_with('#');
    let paragraph: Vec<&str> = doc
        .lines()
        .map(str::trim)
        .skip_while(is_heading_or_blank)
        .take_while(|line| !is_heading_or_blank(line))
        .collect();
    (!paragraph.is_empty()).then(|| paragraph.join(" "))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::output::test_project::Project;

    /// The official OASIS SARIF 2.1.0 schema, vendored in `tests/data/` so that the test
    /// needs nothing beside the checkout.
    fn official_schema() -> Value {
        let text = include_str!("../../tests/data/sarif-schema-2.1.0.json");
        // The published 2.1.0 schema has a stray `]` in the `language` patterns, which
        // jsonschema (rightly) rejects as a regex; the SARIF errata fix it (oasis-tcs/sarif-spec
        // issue 488). We never emit `language`, so using the corrected pattern changes nothing
        // about what our output is checked against.
        let text = text.replace(
            r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#,
            r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#,
        );
        serde_json::from_str(&text).expect("the SARIF schema is JSON")
    }

    /// Every violation of the official schema, as `path: message` lines.
    fn schema_violations(instance: &Value) -> Vec<String> {
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(true)
            .build(&official_schema())
            .expect("the SARIF schema compiles");
        validator
            .iter_errors(instance)
            .map(|error| format!("{}: {error}", error.instance_path()))
            .collect()
    }

    fn rendered(project: &Project) -> Value {
        let out = render(
            &project.both(),
            &project.sources,
            &Coverage::default(),
            None,
        );
        println!("{out}");
        serde_json::from_str(&out).unwrap()
    }

    #[test]
    fn output_conforms_to_the_official_schema() {
        let project = Project::new();
        let log = rendered(&project);
        assert_eq!(schema_violations(&log), Vec::<String>::new(), "{log:#}");
        let empty: Value =
            serde_json::from_str(&render(&[], &project.sources, &Coverage::default(), None))
                .unwrap();
        assert_eq!(schema_violations(&empty), Vec::<String>::new());
    }

    /// Proves the conformance test can fail: a 0-based line is what a renderer bug
    /// would most likely produce.
    #[test]
    fn schema_rejects_a_region_starting_on_line_zero() {
        let project = Project::new();
        let mut log = rendered(&project);
        log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
            json!(0);
        let violations = schema_violations(&log);
        assert!(
            violations.iter().any(|v| v.contains("startLine")),
            "{violations:?}"
        );
    }

    /// Proves formats are asserted too: `uri-reference` rejects a raw space.
    #[test]
    fn schema_rejects_an_unencoded_space_in_a_uri() {
        let project = Project::new();
        let mut log = rendered(&project);
        log["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
            json!("k8s/service account.yaml");
        let violations = schema_violations(&log);
        assert!(
            violations.iter().any(|v| v.contains("/uri")),
            "{violations:?}"
        );
    }

    /// The results and run properties, pinned; the rule descriptors are checked against the
    /// registry below.
    #[test]
    fn result_points_at_primary_and_related_locations() {
        let project = Project::new();
        let log = rendered(&project);
        let run = &log["runs"][0];
        assert_eq!(run["columnKind"], "unicodeCodePoints");
        let index = run["results"][0]["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(run["tool"]["driver"]["rules"][index]["id"], "IRSA003");
        let pinned = json!({"results": run["results"], "properties": run["properties"]});
        insta::assert_snapshot!(serde_json::to_string_pretty(&pinned).unwrap());
    }

    /// The doc's first paragraph after the `# ID: name` title, written out independently of
    /// the code under test.
    fn rules_doc_first_paragraph(doc: &str) -> String {
        doc.lines()
            .skip_while(|l| l.starts_with('#') || l.trim().is_empty())
            .take_while(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn driver_lists_every_rule_with_its_documentation() {
        let project = Project::new();
        let log = rendered(&project);
        let driver = &log["runs"][0]["tool"]["driver"];
        assert_eq!(driver["name"], "irsa-lint");
        assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
        let rules = driver["rules"].as_array().unwrap();
        assert_eq!(rules.len(), RULES.len());
        for (descriptor, rule) in rules.iter().zip(RULES) {
            assert_eq!(descriptor["id"], rule.meta.id);
            assert_eq!(descriptor["name"], rule.meta.name);
            assert_eq!(descriptor["shortDescription"]["text"], rule.meta.summary);
            assert_eq!(descriptor["help"]["markdown"], rule.meta.doc);
            assert_eq!(
                descriptor["helpUri"],
                format!(
                    "https://github.com/irsa-lint/irsa-lint/blob/main/rules/{}.md",
                    rule.meta.id
                )
            );
        }
        let irsa003 = &rules[3];
        let first_paragraph = rules_doc_first_paragraph(RULES[3].meta.doc);
        assert!(first_paragraph.starts_with("The role's trust policy"));
        assert_eq!(irsa003["fullDescription"]["text"], first_paragraph);
        assert_eq!(irsa003["defaultConfiguration"]["level"], "error");
    }

    /// Run from `infra/` of a repository: every URI is relative to its root, under
    /// `%SRCROOT%`, which `originalUriBaseIds` defines as an absolute folder URI.
    #[cfg(unix)]
    #[test]
    fn uris_are_relative_to_the_repository_root_under_srcroot() {
        let project = Project::new();
        let base = UriBase {
            root: "/srv/checkout".into(),
            cwd: "/srv/checkout/deploy".into(),
        };
        let out = render(
            &project.both(),
            &project.sources,
            &Coverage::default(),
            Some(&base),
        );
        let log: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(schema_violations(&log), Vec::<String>::new(), "{log:#}");
        let run = &log["runs"][0];
        assert_eq!(
            run["originalUriBaseIds"],
            json!({"%SRCROOT%": {"uri": "file:///srv/checkout/"}})
        );
        let location = &run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(
            *location,
            json!({"uri": "deploy/infra/iam.tf", "uriBaseId": "%SRCROOT%"})
        );
        let related = &run["results"][0]["relatedLocations"][0]["physicalLocation"];
        assert_eq!(related["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    }

    /// The fingerprint survives a moved line and a reworded message, and differs by rule.
    #[test]
    fn partial_fingerprints_ignore_positions_and_wording() {
        let project = Project::new();
        let fingerprint = |diagnostics: &[Diagnostic]| {
            let out = render(diagnostics, &project.sources, &Coverage::default(), None);
            let log: Value = serde_json::from_str(&out).unwrap();
            log["runs"][0]["results"][0]["partialFingerprints"][FINGERPRINT_KEY]
                .as_str()
                .unwrap()
                .to_string()
        };
        let original = project.annotation_typo();
        let mut reworded = original.clone();
        reworded.message = "another wording".into();
        let mut other_rule = original.clone();
        other_rule.rule_id = "IRSA014";
        let first = fingerprint(std::slice::from_ref(&original));
        assert_eq!(first.len(), 16);
        assert_eq!(first, fingerprint(&[reworded]));
        assert_ne!(first, fingerprint(&[other_rule]));
    }

    #[test]
    fn over_broad_trust_rules_carry_a_security_severity() {
        let log = rendered(&Project::new());
        let rules = log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap();
        let rule = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap()["properties"].clone();
        assert_eq!(rule("IRSA009")["security-severity"], "8.0");
        assert!(
            rule("IRSA009")["tags"]
                .as_array()
                .unwrap()
                .contains(&json!("security"))
        );
        assert_eq!(rule("IRSA003")["security-severity"], Value::Null);
        assert!(
            rule("IRSA003")["tags"]
                .as_array()
                .unwrap()
                .contains(&json!("correctness"))
        );
        for rule in rules {
            let severity = &rule["properties"]["security-severity"];
            if let Some(text) = severity.as_str() {
                let value: f64 = text.parse().unwrap();
                assert!((0.1..=10.0).contains(&value), "{rule:#}");
            }
        }
    }

    #[test]
    fn first_paragraph_skips_title_and_joins_lines() {
        let doc = "# IRSA999: example\n\n## What it does\nFinds one\nthing.\n\nMore.\n";
        assert_eq!(first_paragraph(doc).as_deref(), Some("Finds one thing."));
        assert_eq!(first_paragraph("# IRSA999: only a title\n"), None);
    }

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(
            path_to_uri("k8s/service account.yaml"),
            "k8s/service%20account.yaml"
        );
        assert_eq!(path_to_uri("a:b/100%#ä.tf"), "a%3Ab/100%25%23%C3%A4.tf");
    }

    #[cfg(unix)]
    #[test]
    fn absolute_paths_become_file_uris() {
        assert_eq!(
            path_to_uri("/srv/infra/main.tf"),
            "file:///srv/infra/main.tf"
        );
    }

    #[cfg(windows)]
    #[test]
    fn absolute_paths_become_file_uris() {
        assert_eq!(path_to_uri("C:/infra/main.tf"), "file:///C:/infra/main.tf");
    }
}
