//! Kubernetes manifests (YAML or JSON) → ServiceAccount and workload facts, with exact spans.
//!
//! This module reads the few fields IRSA wiring depends on: names, namespaces, annotations,
//! the service account a pod template runs as and the environment variables its containers
//! set. It knows nothing of rules, linking or output, and keeps no syntax tree: each document
//! is loaded (`crate::parse::yaml`), read and dropped.
//!
//! Template placeholders (`${VAR}`, `$VAR`, `{{ }}`, `%{ }`) are unknown, never wrong: an
//! annotation value keeps them as symbols, and a ServiceAccount whose name or namespace holds
//! one is not a fact (it would be compared as written) but hides ServiceAccounts.
//!
//! Reading never fails: a document that cannot be read becomes one [`ParseError`] and the
//! other documents of the file are still read. Spans are byte ranges of the file and cover
//! a value's text only (no quotes), so a fix can replace exactly that text.

use saphyr::{MarkedYaml, YamlData};

use crate::eval::value::{Str, Symbol};
use crate::facts::flux;
use crate::facts::{
    Annotation, Facts, Origin, PodServiceAccount, ROLE_ARN_KEY, ServiceAccount, Spanned,
    UnresolvedServiceAccount, Workload,
};
use crate::parse::ParseError;
use crate::parse::yaml::{
    ChunkPositions, get, get_path, is_null, read_chunks, scalar, sequence, untag,
};
use crate::source::FileId;
use crate::text::placeholders::{has_placeholder, is_template_file, next_placeholder};

/// Which syntax the file was written in. JSON files are only manifests when they look like one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestSyntax {
    Yaml,
    Json,
    /// A manifest that envsubst or Terraform's `templatefile` renders before it is applied
    /// (`*.yaml.tpl`, `*.tftpl`). Read as YAML; it may not be YAML until rendered, so its
    /// syntax errors are never reported.
    Template,
}

/// Extract ServiceAccounts, workloads and parse errors from one manifest file.
/// `unit` is the deployment unit (the engine passes the file's folder); copy it into every fact.
pub fn extract_manifests(file: FileId, text: &str, syntax: ManifestSyntax, unit: &str) -> Facts {
    extract_manifests_read(file, text, syntax, unit, true)
}

/// [`extract_manifests`], reading ConfigMaps and Secrets only when `config_data` (they are
/// only Flux's to read: a scan without Flux objects skips loading them, which in a repository
/// with a ConfigMap beside every ServiceAccount is a fifth of the time and memory).
pub fn extract_manifests_read(
    file: FileId,
    text: &str,
    syntax: ManifestSyntax,
    unit: &str,
    config_data: bool,
) -> Facts {
    let mut facts = Facts::default();
    match syntax {
        // A Helm or Go template is not YAML until rendered, and may define any ServiceAccount.
        // Likewise a Terraform template with directives (`%{ if }`), read with templatefile().
        ManifestSyntax::Yaml if text.contains("{{") || text.contains("%{") => {
            facts.hidden_service_accounts = true;
            return facts;
        }
        // Most JSON files are not manifests; skip them without parsing.
        ManifestSyntax::Json if !(text.contains("\"apiVersion\"") && text.contains("\"kind\"")) => {
            return facts;
        }
        _ => {}
    }
    let mut errors = Vec::new();
    let wanted = |kind: &str| {
        kind_may_yield_facts(kind) && (config_data || !matches!(kind, "ConfigMap" | "Secret"))
    };
    read_chunks(
        file,
        text,
        &wanted,
        &mut |document, positions| {
            ManifestReader {
                positions,
                syntax,
                unit,
                facts: &mut facts,
            }
            .read_document(document)
        },
        &mut |error| errors.push(error),
    );
    // Not every .json file is a manifest: its syntax errors are not ours to report.
    if syntax == ManifestSyntax::Json {
        return facts;
    }
    for error in errors {
        // A template's syntax is its language's: the file is counted as not linted.
        let unread = || ParseError {
            span: error.span,
            message: error.message.clone(),
        };
        if syntax == ManifestSyntax::Template {
            facts.hidden_service_accounts |= template_may_define_service_accounts(text);
            facts.unread_templates.push(unread());
        } else if error.applies_anyway {
            facts.hidden_service_accounts = true;
            if is_template_file(std::path::Path::new(""), text) {
                facts.unread_templates.push(unread());
            }
        } else {
            facts.parse_errors.push(ParseError {
                span: error.span,
                message: error.message,
            });
        }
    }
    facts
}

/// A Helm, Go or Terraform template (`{{ }}`, `%{ }`): not YAML until rendered.
pub(crate) fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("%{")
}

/// A name or namespace as written (see `ManifestReader::identity_field`), for other readers.
pub(crate) fn identity_field(
    positions: &ChunkPositions,
    parent: Option<&MarkedYaml>,
    key: &str,
) -> Option<Spanned<String>> {
    let node = get(parent?, key)?;
    let (text, style) = scalar(node)?;
    if text.is_empty() || is_null(text, style) {
        return None;
    }
    Some(Spanned::new(
        text.to_owned(),
        positions.scalar_span(node, style),
    ))
}

/// `metadata.annotations` (see `ManifestReader::read_annotations`), for other readers.
pub(crate) fn read_annotations(
    positions: &ChunkPositions,
    metadata: Option<&MarkedYaml>,
    out: &mut Vec<Annotation>,
) -> bool {
    let mut facts = Facts::default();
    let reader = ManifestReader {
        positions,
        syntax: ManifestSyntax::Yaml,
        unit: "",
        facts: &mut facts,
    };
    reader.read_annotations(metadata, out)
}

/// Whether a template that could not be read may have defined a ServiceAccount: it names the
/// kind, or leaves a kind to a placeholder. A shell script named `.tftpl` does neither.
pub(crate) fn template_may_define_service_accounts(text: &str) -> bool {
    text.contains("ServiceAccount")
        || text
            .lines()
            .any(|line| line.trim_start().starts_with("kind:") && has_placeholder(line))
}

/// Documents of other kinds are only checked for syntax (see `stream::load_documents`).
fn kind_may_yield_facts(kind: &str) -> bool {
    matches!(
        kind,
        "ServiceAccount" | "HelmRelease" | "OCIRepository" | "HelmChart" | "ConfigMap" | "Secret"
    ) || kind.ends_with("List")
        || workload_shape(kind).is_some()
        || has_placeholder(kind)
}

/// A name or namespace as a manifest sets it.
enum Identity {
    /// Not set, null or empty.
    Absent,
    Known(Spanned<String>),
    /// A template placeholder, or a value that is not a scalar: known only once rendered.
    Unknown,
}

/// Turns the loaded documents of one chunk into facts.
struct ManifestReader<'a> {
    positions: &'a ChunkPositions<'a>,
    syntax: ManifestSyntax,
    unit: &'a str,
    facts: &'a mut Facts,
}

/// Where a workload keeps its pod spec and the metadata of its pod template(s).
struct WorkloadShape {
    pod_spec: &'static [&'static str],
    template_metadata: &'static [&'static [&'static str]],
}

fn workload_shape(kind: &str) -> Option<WorkloadShape> {
    const TEMPLATE_SPEC: &[&str] = &["spec", "template", "spec"];
    const TEMPLATE_METADATA: &[&str] = &["spec", "template", "metadata"];
    let shape = match kind {
        "Pod" => WorkloadShape {
            pod_spec: &["spec"],
            template_metadata: &[],
        },
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "Rollout" => {
            WorkloadShape {
                pod_spec: TEMPLATE_SPEC,
                template_metadata: &[TEMPLATE_METADATA],
            }
        }
        "CronJob" => WorkloadShape {
            pod_spec: &["spec", "jobTemplate", "spec", "template", "spec"],
            template_metadata: &[
                &["spec", "jobTemplate", "metadata"],
                &["spec", "jobTemplate", "spec", "template", "metadata"],
            ],
        },
        _ => return None,
    };
    Some(shape)
}

impl ManifestReader<'_> {
    /// A document is one object, or a `List` (`v1/List`, `ServiceAccountList`, ...) of them.
    fn read_document(&mut self, document: &MarkedYaml) {
        let Some((kind, _)) = get(document, "kind").and_then(scalar) else {
            return;
        };
        if self.syntax == ManifestSyntax::Json && get(document, "apiVersion").is_none() {
            return;
        }
        if !kind.ends_with("List") {
            self.read_object(document);
            return;
        }
        if let Some(YamlData::Sequence(items)) = get(document, "items").map(|i| &untag(i).data) {
            for item in items {
                self.read_object(item);
            }
        }
    }

    fn read_object(&mut self, object: &MarkedYaml) {
        let Some((kind, _)) = get(object, "kind").and_then(scalar) else {
            return;
        };
        if has_placeholder(kind) {
            // Any kind once rendered, a ServiceAccount among them.
            self.facts.hidden_service_accounts = true;
        } else if kind == "ServiceAccount" {
            self.read_service_account(object);
        } else if let Some(shape) = workload_shape(kind) {
            self.read_workload(object, kind, &shape);
        } else {
            self.read_flux_object(object, kind);
        }
    }

    /// Flux HelmReleases and chart sources, and ConfigMap and Secret data they may read.
    fn read_flux_object(&mut self, object: &MarkedYaml, kind: &str) {
        let api = get(object, "apiVersion")
            .and_then(scalar)
            .map_or("", |(text, _)| text);
        let positions = self.positions;
        match kind {
            "HelmRelease" if api.starts_with("helm.toolkit.fluxcd.io/") => self
                .facts
                .release_objects
                .extend(flux::read_release(object, positions, self.unit)),
            "OCIRepository" | "HelmChart" if api.starts_with("source.toolkit.fluxcd.io/") => self
                .facts
                .chart_sources
                .extend(flux::read_chart_source(object, positions, kind)),
            "ConfigMap" | "Secret" if api == "v1" || api.is_empty() => {
                self.facts.config_data.extend(flux::read_config_data(
                    object,
                    positions,
                    kind == "Secret",
                    self.unit,
                ))
            }
            _ => {}
        }
    }

    /// A ServiceAccount that exists but cannot be told apart: it hides ServiceAccounts, and
    /// one given a role is shown as not checkable.
    fn unresolved(&mut self, object: &MarkedYaml, why: &str, annotations: &[Annotation]) {
        self.facts.hidden_service_accounts = true;
        let role = annotations.iter().find(|a| a.key.value == ROLE_ARN_KEY);
        if let Some(role) = role {
            self.facts
                .unresolved_service_accounts
                .push(UnresolvedServiceAccount {
                    span: self.positions.node_span(object),
                    why: why.to_string(),
                    role_arn: role.value.clone(),
                });
        }
    }

    fn read_service_account(&mut self, object: &MarkedYaml) {
        let metadata = get(object, "metadata");
        let mut annotations = Vec::new();
        let annotations_known = self.read_annotations(metadata, &mut annotations);
        let name = match self.identity(metadata, "name") {
            Identity::Known(name) => name,
            Identity::Absent => return,
            Identity::Unknown => {
                self.unresolved(object, "its name is known only once rendered", &annotations);
                return;
            }
        };
        let (namespace, namespace_explicit) = match self.identity(metadata, "namespace") {
            Identity::Known(namespace) => (namespace, true),
            Identity::Absent => (Spanned::new("default".to_owned(), name.span), false),
            Identity::Unknown => {
                self.unresolved(
                    object,
                    "its namespace is known only once rendered",
                    &annotations,
                );
                return;
            }
        };
        // Lists grown by pushing hold room for four: at 100,000 ServiceAccounts of one
        // annotation each, 34 MB of it.
        annotations.shrink_to_fit();
        self.facts.service_accounts.push(ServiceAccount {
            when: Vec::new(),
            role_arn_values_key: None,
            addon_version: None,
            span: self.positions.node_span(object),
            name,
            namespace,
            namespace_explicit,
            annotations,
            annotations_known,
            unit: self.unit.to_owned(),
            origin: Origin::Manifest,
            rendered: Vec::new(),
            fixed: false,
        });
    }

    fn read_workload(&mut self, object: &MarkedYaml, kind: &str, shape: &WorkloadShape) {
        let metadata = get(object, "metadata");
        let Some(name) = self.identity_field(metadata, "name") else {
            return;
        };
        let pod_spec = get_path(object, shape.pod_spec);
        // Kubernetes itself falls back to the deprecated field when the new one is empty.
        let service_account = match self.identity(pod_spec, "serviceAccountName") {
            Identity::Absent => self.identity(pod_spec, "serviceAccount"),
            set => set,
        };
        let service_account = match service_account {
            Identity::Absent => PodServiceAccount::Default,
            Identity::Known(name) => PodServiceAccount::Named(name),
            Identity::Unknown => PodServiceAccount::Unknown,
        };
        let namespace = match self.identity(metadata, "namespace") {
            Identity::Known(namespace) => Some(namespace),
            Identity::Absent | Identity::Unknown => None,
        };
        let mut annotations = Vec::new();
        self.read_annotations(metadata, &mut annotations);
        for path in shape.template_metadata {
            self.read_annotations(get_path(object, path), &mut annotations);
        }
        annotations.shrink_to_fit();
        self.facts.workloads.push(Workload {
            kind: kind.to_owned(),
            span: self.positions.node_span(object),
            name,
            namespace,
            service_account,
            annotations,
            env: self.read_env(pod_spec),
            images: Some(self.read_images(pod_spec)),
            unit: self.unit.to_owned(),
            rendered: Vec::new(),
        });
    }

    /// Names of the variables the pod spec's containers and init containers set in `env`.
    fn read_env(&self, pod_spec: Option<&MarkedYaml>) -> Vec<Spanned<String>> {
        let mut names = Vec::new();
        for containers in ["initContainers", "containers"] {
            for container in sequence(pod_spec.and_then(|spec| get(spec, containers))) {
                for variable in sequence(get(container, "env")) {
                    names.extend(self.identity_field(Some(variable), "name"));
                }
            }
        }
        names.shrink_to_fit();
        names
    }

    /// A name or namespace, telling a placeholder (unknown) from an absent field.
    fn identity(&self, parent: Option<&MarkedYaml>, key: &str) -> Identity {
        match self.identity_field(parent, key) {
            Some(field) if has_placeholder(&field.value) => Identity::Unknown,
            Some(field) => Identity::Known(field),
            None if parent
                .and_then(|p| get(p, key))
                .is_some_and(|node| scalar(node).is_none()) =>
            {
                Identity::Unknown
            }
            None => Identity::Absent,
        }
    }

    /// The images of the pod spec's containers (init containers run something else first),
    /// each spanned at its value; a template placeholder is left out.
    fn read_images(&self, pod_spec: Option<&MarkedYaml>) -> Vec<Spanned<String>> {
        let mut images: Vec<_> = sequence(pod_spec.and_then(|spec| get(spec, "containers")))
            .iter()
            .filter_map(|container| self.identity_field(Some(container), "image"))
            .filter(|image| !has_placeholder(&image.value))
            .collect();
        images.shrink_to_fit();
        images
    }

    /// A name, namespace or service account name as written. Null and empty mean "not set",
    /// as they do to Kubernetes; a value that is not a scalar is `None` too (see `identity`).
    fn identity_field(&self, parent: Option<&MarkedYaml>, key: &str) -> Option<Spanned<String>> {
        identity_field(self.positions, parent, key)
    }

    /// Append `metadata.annotations`. Values are kept as written (`3600`, `true`); a null
    /// value is the empty string; a key or value that is not a scalar is skipped. Returns
    /// whether every key is known: false when the annotations are not a mapping (a
    /// placeholder) or a key is not a scalar or holds a placeholder.
    fn read_annotations(&self, metadata: Option<&MarkedYaml>, out: &mut Vec<Annotation>) -> bool {
        let annotations = metadata.and_then(|m| get(m, "annotations")).map(untag);
        let entries = match annotations.map(|a| &a.data) {
            Some(YamlData::Mapping(entries)) => entries,
            None => return true,
            Some(_) => {
                return annotations
                    .and_then(scalar)
                    .is_some_and(|(text, style)| is_null(text, style));
            }
        };
        let mut known = true;
        let first_of_this_mapping = out.len();
        for (key, value) in entries {
            let Some((key_text, key_style)) = scalar(key) else {
                known = false;
                continue;
            };
            known &= !has_placeholder(key_text);
            let Some((value_text, value_style)) = scalar(value) else {
                known = false;
                continue;
            };
            if is_null(key_text, key_style) {
                continue;
            }
            let value_text = if is_null(value_text, value_style) {
                ""
            } else {
                value_text
            };
            // `a` and `"a"` are different keys to saphyr but the same to kubectl: the later wins.
            if let Some(earlier) = out[first_of_this_mapping..]
                .iter()
                .position(|a| a.key.value == key_text)
            {
                out.remove(first_of_this_mapping + earlier);
            }
            out.push(Annotation {
                key: Spanned::new(
                    key_text.to_owned(),
                    self.positions.scalar_span(key, key_style),
                ),
                value: Some(Spanned::new(
                    template_str(value_text),
                    self.positions.scalar_span(value, value_style),
                )),
            });
        }
        known
    }
}

/// The text as a string whose placeholders are symbolic; a known string when it has none.
pub(super) fn template_str(text: &str) -> Str {
    let mut out = Str::default();
    let mut rest = text;
    while let Some((before, placeholder, after)) = next_placeholder(rest) {
        out.push_str(before);
        out.push_sym(Symbol::Placeholder(placeholder.to_owned()));
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::eval::value::Str;
    use crate::source::{LineCol, SourceFile, Span};

    const FILE: FileId = FileId(0);

    fn yaml(text: &str) -> Facts {
        extract_manifests(FILE, text, ManifestSyntax::Yaml, "deploy/app")
    }

    /// ConfigMaps are Flux's to read: a scan without Flux objects does not load them, and
    /// loses nothing else.
    #[test]
    fn config_maps_are_read_only_when_asked() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-vars\n\
                    data:\n  role_arn: arn:aws:iam::210987654321:role/api\n---\n\
                    apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n";
        let read = |config_data| {
            extract_manifests_read(FILE, text, ManifestSyntax::Yaml, "k8s", config_data)
        };
        let (with, without) = (read(true), read(false));
        assert_eq!(with.config_data.len(), 1);
        assert!(without.config_data.is_empty());
        assert_eq!(with.service_accounts.len(), 1);
        assert_eq!(without.service_accounts.len(), 1);
        assert!(without.parse_errors.is_empty());
    }

    fn line_col(text: &str, span: Span) -> LineCol {
        SourceFile::new("m.yaml".into(), text).line_col(span.start)
    }

    fn slice(text: &str, span: Span) -> &str {
        &text[span.range()]
    }

    #[test]
    fn namespace_position_is_exact_after_non_ascii_text() {
        let text = "# Zahlungsdienst für Ärzte 😀\napiVersion: v1\nkind: ServiceAccount\n\
                    metadata:\n  name: \"zähler\"\n  namespace: 'paiement-é'\n";
        let facts = yaml(text);
        let sa = &facts.service_accounts[0];
        assert_eq!(sa.name.value, "zähler");
        assert_eq!(slice(text, sa.name.span), "zähler");
        assert_eq!(slice(text, sa.namespace.span), "paiement-é");
        assert_eq!(
            line_col(text, sa.namespace.span),
            LineCol {
                line: 6,
                column: 15
            }
        );
        assert!(sa.namespace_explicit);
        assert_eq!(sa.unit, "deploy/app");
        assert_eq!(sa.origin, Origin::Manifest);
    }

    #[test]
    fn namespace_position_is_exact_in_a_crlf_file_with_a_bom() {
        let text = "\u{feff}apiVersion: v1\r\nkind: ServiceAccount\r\nmetadata:\r\n  \
                    name: api # ☃\r\n  namespace: payments\r\n";
        let facts = yaml(text);
        let sa = &facts.service_accounts[0];
        assert_eq!(slice(text, sa.namespace.span), "payments");
        assert_eq!(
            line_col(text, sa.namespace.span),
            LineCol {
                line: 5,
                column: 14
            }
        );
        assert!(facts.parse_errors.is_empty());
    }

    #[test]
    fn spans_stay_exact_after_a_non_ascii_directive_and_before_trailing_comments() {
        let text = "%FOO bär\n---\nkind: ServiceAccount\nmetadata:\n  \
                    name: \"api\"  # the API\n  namespace: 'pay'\t\n  annotations:\n    \
                    note: |\n      !important\n    tagged: !!str &a |\n      x\n";
        let facts = yaml(text);
        let sa = &facts.service_accounts[0];
        assert_eq!(slice(text, sa.name.span), "api");
        assert_eq!(slice(text, sa.namespace.span), "pay");
        assert_eq!(
            line_col(text, sa.namespace.span),
            LineCol {
                line: 6,
                column: 15
            }
        );
        let value_of = |key: &str| sa.annotation(key).unwrap().value.clone().unwrap().span;
        assert_eq!(slice(text, value_of("note")), "!important");
        assert_eq!(slice(text, value_of("tagged")), "x");
    }

    #[test]
    fn a_broken_document_is_one_error_and_the_others_are_still_read() {
        let text = "kind: ServiceAccount\nmetadata:\n  name: first\n---\n\
                    kind: ServiceAccount\nmetadata:\n  name: [broken\n  other: x\n---\n\
                    kind: ServiceAccount\nmetadata:\n  name: third\n";
        let facts = yaml(text);
        let names: Vec<_> = facts
            .service_accounts
            .iter()
            .map(|sa| sa.name.value.as_str())
            .collect();
        assert_eq!(names, ["first", "third"]);
        assert_eq!(facts.parse_errors.len(), 1);
        let error = &facts.parse_errors[0];
        assert!(
            error.message.starts_with("invalid YAML: "),
            "{}",
            error.message
        );
        assert!(!error.message.ends_with('.'));
        assert_eq!(line_col(text, error.span).line, 8);
    }

    #[test]
    fn terraform_templates_are_not_reported_as_broken_yaml() {
        let directives = "service:\n%{ if enable_ipv6 ~}\n  ipv6: true\n%{ endif ~}\n";
        let facts = yaml(directives);
        assert!(facts.parse_errors.is_empty() && facts.hidden_service_accounts);
        let placeholders =
            "controller:\n  ipFamilies:\n    - ${enable_ipv6 ? \"IPv6\" : \"IPv4\"}\n";
        let facts = yaml(placeholders);
        assert!(facts.parse_errors.is_empty() && facts.hidden_service_accounts);
    }

    #[test]
    fn what_kubectl_reads_is_not_a_parse_error() {
        // A flow sequence closed at its key's indentation: saphyr refuses it, libyaml (and
        // kubectl's go-yaml) read it.
        let text = "kind: NodePool\nspec:\n  values: [\n    \"c5d\",\n    \"m5d\"\n  ]\n";
        assert!(
            yaml(text).parse_errors.is_empty(),
            "{:?}",
            yaml(text).parse_errors
        );
        let broken = "kind: ConfigMap\ndata:\n  a: \"unterminated\n";
        assert_eq!(yaml(broken).parse_errors.len(), 1);
    }

    #[test]
    fn namespace_defaults_to_default_at_the_name() {
        let text = "kind: ServiceAccount\nmetadata:\n  name: api\n  namespace:\n";
        let sa = &yaml(text).service_accounts[0];
        assert_eq!(sa.namespace.value, "default");
        assert_eq!(sa.namespace.span, sa.name.span);
        assert!(!sa.namespace_explicit);
        assert_eq!(sa.qualified_name(), "default/api");
    }

    #[test]
    fn annotations_keep_values_as_written_with_spans_inside_quotes() {
        let text = "kind: ServiceAccount\nmetadata:\n  name: api\n  annotations:\n    \
                    \"eks.amazonaws.com/role-arn\": 'arn:aws:iam::111122223333:role/api'\n    \
                    eks.amazonaws.com/token-expiration: 3600\n    \
                    eks.amazonaws.com/sts-regional-endpoints: true\n    \
                    empty: ~\n    nested: {a: b}\n";
        let sa = &yaml(text).service_accounts[0];
        let role = sa.annotation("eks.amazonaws.com/role-arn").unwrap();
        let value = role.value.as_ref().unwrap();
        assert_eq!(slice(text, role.key.span), "eks.amazonaws.com/role-arn");
        assert_eq!(
            slice(text, value.span),
            "arn:aws:iam::111122223333:role/api"
        );
        let text_of = |key: &str| {
            sa.annotation(key)
                .unwrap()
                .value
                .as_ref()
                .unwrap()
                .value
                .clone()
        };
        assert_eq!(
            text_of("eks.amazonaws.com/token-expiration"),
            Str::lit("3600")
        );
        assert_eq!(
            text_of("eks.amazonaws.com/sts-regional-endpoints"),
            Str::lit("true")
        );
        assert_eq!(text_of("empty"), Str::lit(""));
        assert!(sa.annotation("nested").is_none());
    }

    #[test]
    fn a_key_written_twice_takes_the_later_value() {
        let text = "kind: ServiceAccount\nmetadata:\n  name: old\n  name: new\n  \
                    annotations:\n    a: 1\n    \"a\": 2\n    a: 3\n";
        let sa = &yaml(text).service_accounts[0];
        assert_eq!(sa.name.value, "new");
        assert_eq!(sa.annotations.len(), 1);
        let value = sa.annotations[0].value.as_ref().unwrap();
        assert_eq!(value.value, Str::lit("3"));
        assert_eq!(slice(text, value.span), "3");
    }

    #[test]
    fn kind_is_found_wherever_it_is_written_and_the_later_one_wins() {
        let text = "metadata: {name: last}\nkind: ServiceAccount\n---\n\
                    kind: ConfigMap\nmetadata: {name: rewritten}\n\"kind\": ServiceAccount\n---\n\
                    kind: ServiceAccount\nmetadata: {name: demoted}\nkind: ConfigMap\n---\n\
                    {kind: ServiceAccount, metadata: {name: flow}}\n---\n\
                    x: &k kind\n*k : ServiceAccount\nmetadata: {name: aliased}\n";
        let names: Vec<_> = yaml(text)
            .service_accounts
            .iter()
            .map(|sa| sa.name.value.clone())
            .collect();
        assert_eq!(names, ["last", "rewritten", "flow", "aliased"]);
    }

    #[test]
    fn every_object_of_a_list_is_read() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- kind: ServiceAccount\n  \
                    metadata: {name: a, namespace: ns}\n- kind: Deployment\n  metadata:\n    \
                    name: web\n  spec:\n    template:\n      spec:\n        serviceAccountName: a\n\
                    - just a string\n";
        let facts = yaml(text);
        assert_eq!(facts.service_accounts[0].qualified_name(), "ns/a");
        let web = &facts.workloads[0];
        assert_eq!(
            (web.kind.as_str(), web.name.value.as_str()),
            ("Deployment", "web")
        );
        assert_eq!(web.service_account_name(), Some("a"));
        assert!(web.namespace.is_none());
    }

    #[test]
    fn cronjob_reads_its_job_and_pod_template_annotations() {
        let text = "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\n  \
                    namespace: jobs\n  annotations: {own: '1'}\nspec:\n  jobTemplate:\n    \
                    metadata:\n      annotations: {job: '2'}\n    spec:\n      template:\n        \
                    metadata:\n          annotations:\n            \
                    eks.amazonaws.com/role-arn: arn:aws:iam::1:role/x\n        spec:\n          \
                    serviceAccount: legacy\n";
        let facts = yaml(text);
        let job = &facts.workloads[0];
        assert_eq!(job.kind, "CronJob");
        assert_eq!(job.namespace.as_ref().unwrap().value, "jobs");
        assert_eq!(job.service_account_name(), Some("legacy"));
        let keys: Vec<_> = job
            .annotations
            .iter()
            .map(|a| a.key.value.as_str())
            .collect();
        assert_eq!(keys, ["own", "job", "eks.amazonaws.com/role-arn"]);
    }

    #[test]
    fn service_account_name_wins_over_the_deprecated_field() {
        let text = "kind: Pod\nmetadata:\n  name: p\nspec:\n  serviceAccount: old\n  \
                    serviceAccountName: new\n";
        let pod = &yaml(text).workloads[0];
        assert_eq!(pod.service_account_name(), Some("new"));
    }

    #[test]
    fn object_span_runs_from_first_key_to_last_value() {
        let text = "# leading\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  \
                    name: api\n  labels: {a: b}\n# trailing comment\n\n---\nkind: Pod\n";
        let sa = &yaml(text).service_accounts[0];
        assert!(slice(text, sa.span).starts_with("apiVersion: v1\n"));
        assert!(slice(text, sa.span).ends_with("labels: {a: b}"));
    }

    #[test]
    fn a_billion_laughs_is_an_error_not_a_hang() {
        // 10 anchors of 10 aliases each: 10^10 nodes if expanded.
        let bomb = |kind: &str| {
            let mut text = format!("kind: {kind}\nmetadata: {{name: bomb}}\n");
            text.push_str("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
            for i in 1..10 {
                let refs = vec![format!("*a{}", i - 1); 10].join(", ");
                text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
            }
            text + "---\nkind: ServiceAccount\nmetadata: {name: after}\n"
        };
        let started = Instant::now();
        let facts = yaml(&bomb("ServiceAccount"));
        assert_eq!(facts.parse_errors.len(), 1);
        assert!(facts.parse_errors[0].message.contains("alias"));
        assert_eq!(facts.service_accounts.len(), 1);
        assert_eq!(facts.service_accounts[0].name.value, "after");
        // A kind that yields no facts is only checked for syntax: its aliases never expand.
        let facts = yaml(&bomb("Service"));
        assert!(facts.parse_errors.is_empty());
        assert_eq!(facts.service_accounts.len(), 1);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        for text in ["[".repeat(100_000), "- ".repeat(100_000) + "x\n"] {
            let facts = yaml(&text);
            assert_eq!(facts.parse_errors.len(), 1, "{}", &text[..4]);
        }
        let facts = yaml(&("- ".repeat(100_000) + "x\n"));
        assert_eq!(
            facts.parse_errors[0].message,
            format!(
                "nesting deeper than {} levels",
                crate::parse::yaml::stream::MAX_NESTING
            )
        );
    }

    #[test]
    fn nesting_just_below_the_limit_is_read() {
        // The document's own mapping is one level, each `- ` another.
        let dashes = crate::parse::yaml::stream::MAX_NESTING - 1;
        let text = format!(
            "kind: Pod\nmetadata: {{name: p}}\nx:\n{}y\n",
            "- ".repeat(dashes)
        );
        let facts = yaml(&text);
        assert!(facts.parse_errors.is_empty(), "{:?}", facts.parse_errors);
        assert_eq!(facts.workloads.len(), 1);
    }

    #[test]
    fn helm_templates_are_skipped_and_hide_service_accounts() {
        let text = "kind: ServiceAccount\nmetadata:\n  name: {{ .Values.name }}\n";
        let facts = yaml(text);
        assert!(facts.hidden_service_accounts);
        assert!(facts.service_accounts.is_empty() && facts.parse_errors.is_empty());
    }

    #[test]
    fn json_that_is_not_a_manifest_is_silent() {
        let json = |text: &str| extract_manifests(FILE, text, ManifestSyntax::Json, ".");
        let broken = json(r#"{"apiVersion": "v1", "kind": "ServiceAccount", "#);
        assert!(broken.parse_errors.is_empty());
        assert!(
            json(r#"{"kind": "ServiceAccount", "metadata": {"name": "a"}}"#)
                .service_accounts
                .is_empty()
        );
        assert!(
            json(r#"{"compilerOptions": {"strict": true}}"#)
                .parse_errors
                .is_empty()
        );
        let text = "{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"ServiceAccount\",\n\t\
                    \"metadata\": {\"name\": \"api\", \"namespace\": \"pay\\u00e9\"}\n}\n";
        let facts = json(text);
        let sa = &facts.service_accounts[0];
        assert_eq!(sa.namespace.value, "payé");
        assert_eq!(slice(text, sa.namespace.span), "pay\\u00e9");
        assert!(slice(text, sa.span).starts_with('{') && slice(text, sa.span).ends_with('}'));
    }

    fn template(text: &str) -> Facts {
        extract_manifests(FILE, text, ManifestSyntax::Template, "k8s")
    }

    /// The rule ids the whole rule set reports for one manifest file.
    fn rule_ids(text: &str, syntax: ManifestSyntax) -> Vec<&'static str> {
        let mut sources = crate::source::SourceMap::default();
        let file = sources.add("k8s/sa.yaml.tpl".into(), text);
        let facts = extract_manifests(file, text, syntax, "k8s");
        let ctx = crate::link::LintContext::new(&facts, &sources);
        crate::rules::run_all(&ctx)
            .iter()
            .map(|d| d.rule_id)
            .collect()
    }

    #[test]
    fn a_placeholder_in_a_service_account_name_or_namespace_hides_it() {
        for (name, namespace) in [
            ("${SA_NAME}", "pay"),
            ("api", "$NAMESPACE"),
            ("\"{{ .Values.name }}\"", "pay"),
            ("{{ .Values.name }}", "pay"),
            ("api-%{ if blue }blue%{ endif }", "pay"),
        ] {
            let text = format!(
                "kind: ServiceAccount\nmetadata:\n  name: {name}\n  namespace: {namespace}\n---\n\
                 kind: ServiceAccount\nmetadata:\n  name: worker\n  namespace: pay\n"
            );
            let facts = template(&text);
            assert!(facts.hidden_service_accounts, "{name} {namespace}");
            assert!(
                facts.parse_errors.is_empty(),
                "{name}: {:?}",
                facts.parse_errors
            );
            let names: Vec<_> = facts
                .service_accounts
                .iter()
                .map(|s| s.qualified_name())
                .collect();
            assert_eq!(names, ["pay/worker"], "{name} {namespace}");
        }
        let literal = template("kind: ServiceAccount\nmetadata:\n  name: api\n  namespace: pay\n");
        assert!(!literal.hidden_service_accounts);
        assert_eq!(literal.service_accounts.len(), 1);
    }

    #[test]
    fn a_placeholder_annotation_value_stays_a_value_with_its_text() {
        let text = "kind: ServiceAccount\nmetadata:\n  name: api\n  namespace: pay\n  annotations:\n    \
                    eks.amazonaws.com/role-arn: arn:aws:iam::${ACCOUNT_ID}:role/pay-api\n";
        let facts = template(text);
        let sa = &facts.service_accounts[0];
        let value = sa
            .annotation("eks.amazonaws.com/role-arn")
            .unwrap()
            .value
            .clone()
            .unwrap();
        assert_eq!(value.value.as_known(), None);
        assert_eq!(
            value.value.display(),
            "arn:aws:iam::${ACCOUNT_ID}:role/pay-api"
        );
        assert_eq!(
            slice(text, value.span),
            "arn:aws:iam::${ACCOUNT_ID}:role/pay-api"
        );
        let arn = crate::aws::arn::RoleArn::parse(&value.value).unwrap();
        assert_eq!(
            (arn.account.as_known(), arn.name.as_known()),
            (None, Some("pay-api"))
        );
    }

    #[test]
    fn placeholder_values_are_never_findings_of_the_annotation_rules() {
        let sa = |annotations: &str| {
            format!(
                "kind: ServiceAccount\nmetadata:\n  name: api\n  namespace: pay\n  annotations:\n{annotations}"
            )
        };
        let cases = [
            // IRSA012: not a role ARN as written, fine once rendered.
            sa("    eks.amazonaws.com/role-arn: arn:aws:iam::$ACCOUNT_ID:role/pay-api\n"),
            sa(
                "    eks.amazonaws.com/role-arn: '%{ if prod }arn:aws:iam::482910375521:role/pay-api%{ endif }'\n",
            ),
            sa("    eks.amazonaws.com/role-arn: ${ROLE_ARN}\n"),
            sa("    eks.amazonaws.com/role-arn: \"{{ .Values.roleArn }}\"\n"),
            // IRSA013: a key left to a placeholder is not a near miss.
            sa("    eks.amazonaws.com/${ROLE_KEY}: arn:aws:iam::482910375521:role/pay-api\n"),
            // IRSA014: neither a Go bool nor a number as written.
            sa(
                "    eks.amazonaws.com/sts-regional-endpoints: $REGIONAL\n    \
                eks.amazonaws.com/token-expiration: ${TOKEN_SECONDS}\n",
            ),
            // IRSA018: the same ServiceAccount twice, once with a placeholder account.
            sa("    eks.amazonaws.com/role-arn: arn:aws:iam::${ACCOUNT_ID}:role/pay-api\n")
                + "---\n"
                + &sa("    eks.amazonaws.com/role-arn: arn:aws:iam::482910375521:role/pay-api\n"),
        ];
        for text in &cases {
            for syntax in [ManifestSyntax::Template, ManifestSyntax::Yaml] {
                assert_eq!(
                    rule_ids(text, syntax),
                    Vec::<&str>::new(),
                    "{syntax:?}\n{text}"
                );
            }
        }
        // The literal parts are still compared: two different role names conflict.
        let conflict =
            sa("    eks.amazonaws.com/role-arn: arn:aws:iam::${ACCOUNT_ID}:role/pay-api\n")
                + "---\n"
                + &sa(
                    "    eks.amazonaws.com/role-arn: arn:aws:iam::${ACCOUNT_ID}:role/pay-worker\n",
                );
        assert_eq!(rule_ids(&conflict, ManifestSyntax::Template), ["IRSA018"]);
    }

    #[test]
    fn a_workload_placeholder_service_account_or_namespace_is_unknown() {
        let text = "kind: Deployment\nmetadata:\n  name: api\n  namespace: ${NAMESPACE}\nspec:\n  \
                    template:\n    spec:\n      serviceAccountName: ${SERVICE_ACCOUNT}\n";
        let facts = template(text);
        let w = &facts.workloads[0];
        assert!(w.namespace.is_none());
        assert_eq!(w.service_account, PodServiceAccount::Unknown);
        assert_eq!(w.service_account_name(), None);
        assert!(!facts.hidden_service_accounts);
        let absent = yaml("kind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n");
        assert_eq!(
            absent.workloads[0].service_account,
            PodServiceAccount::Default
        );
    }

    #[test]
    fn env_names_of_containers_and_init_containers_are_read_at_the_name() {
        let text = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly}\nspec:\n  \
                    jobTemplate:\n    spec:\n      template:\n        spec:\n          \
                    initContainers:\n          - name: init\n            env:\n            \
                    - {name: \"AWS_ROLE_ARN\", value: x}\n          containers:\n          \
                    - name: job\n            envFrom:\n            - secretRef: {name: aws}\n            \
                    env:\n            - name: AWS_REGION\n              value: eu-west-1\n            \
                    - name: AWS_ACCESS_KEY_ID\n              valueFrom:\n                \
                    secretKeyRef: {name: aws, key: id}\n            - value: no-name\n          \
                    - name: sidecar\n";
        let facts = yaml(text);
        let env: Vec<_> = facts.workloads[0]
            .env
            .iter()
            .map(|v| v.value.as_str())
            .collect();
        assert_eq!(env, ["AWS_ROLE_ARN", "AWS_REGION", "AWS_ACCESS_KEY_ID"]);
        for v in &facts.workloads[0].env {
            assert_eq!(slice(text, v.span), v.value);
        }
    }

    #[test]
    fn annotations_are_known_unless_a_placeholder_or_a_non_scalar_hides_one() {
        let sa = "kind: ServiceAccount\nmetadata:\n  name: api\n  namespace: pay\n";
        let known = |text: &str| template(text).service_accounts[0].annotations_known;
        assert!(known(sa));
        assert!(known(&format!("{sa}  annotations: {{team: pay}}\n")));
        assert!(known(&format!("{sa}  annotations:\n")));
        assert!(!known(&format!("{sa}  annotations: ${{ANNOTATIONS}}\n")));
        assert!(!known(&format!("{sa}  annotations:\n    ${{KEY}}: x\n")));
        assert!(!known(&format!("{sa}  annotations:\n    a: [1]\n")));
    }

    #[test]
    fn a_template_that_is_not_yaml_is_never_an_error() {
        let directives = "%{ for sa in service_accounts ~}\n---\nkind: ServiceAccount\nmetadata:\n  \
                          name: ${sa}\n  namespace: [%{ endfor ~}\n";
        let facts = template(directives);
        assert!(facts.parse_errors.is_empty());
        assert!(facts.hidden_service_accounts);
        let script = "#!/bin/bash\nset -o xtrace\n/etc/eks/bootstrap.sh ${cluster_name} \\\n  \
                      --kubelet-extra-args '--node-labels=${labels}' : [\n";
        let facts = template(script);
        assert!(facts.parse_errors.is_empty());
        assert!(!facts.hidden_service_accounts);
        assert!(template("kind: ${KIND}\nmetadata: {name: x}\n").hidden_service_accounts);
    }

    #[test]
    fn odd_shapes_are_skipped_quietly() {
        for text in [
            "",
            "# only a comment\n",
            "---\n...\n",
            "- a\n- b\n",
            "just a string\n",
            "kind: [ServiceAccount]\n",
            "kind: ServiceAccount\nmetadata: [name]\n",
            "kind: ServiceAccount\nmetadata:\n  name: {a: b}\n",
            "kind: Deployment\nmetadata: {name: d}\nspec: [template]\n",
            "kind: List\nitems: {a: b}\n",
            "? [complex, key]\n: value\nkind: Pod\n",
        ] {
            let facts = yaml(text);
            assert!(
                facts.parse_errors.is_empty(),
                "{text:?}: {:?}",
                facts.parse_errors
            );
            assert!(facts.service_accounts.is_empty(), "{text:?}");
        }
    }

    /// A file read once serves each kustomize view that takes it in, moved to the view's
    /// unit (`Facts::set_unit`): that must be the reading the view would make itself, for
    /// every manifest of the fixtures.
    #[test]
    fn facts_moved_to_a_unit_are_those_read_for_it() {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut stack = vec![fixtures];
        let (mut files, mut objects) = (0, [0; 4]);
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if !path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                // Maps print in no fixed order: the unit is compared where it is written.
                let mut moved = extract_manifests(FILE, &text, ManifestSyntax::Yaml, "apps/base");
                moved.set_unit("clusters/prod");
                let read = extract_manifests(FILE, &text, ManifestSyntax::Yaml, "clusters/prod");
                let (moved_shown, read_shown) = (format!("{moved:?}"), format!("{read:?}"));
                assert!(!moved_shown.contains("apps/base"), "{}", path.display());
                assert_eq!(
                    (
                        moved_shown.len(),
                        moved_shown.matches("clusters/prod").count()
                    ),
                    (
                        read_shown.len(),
                        read_shown.matches("clusters/prod").count()
                    ),
                    "{}",
                    path.display()
                );
                files += 1;
                for (n, len) in objects.iter_mut().zip([
                    read.service_accounts.len(),
                    read.workloads.len(),
                    read.release_objects.len(),
                    read.config_data.len(),
                ]) {
                    *n += len;
                }
            }
        }
        assert!(
            files > 500 && objects.iter().all(|n| *n > 5),
            "{files} files, {objects:?} objects"
        );
    }
}

#[cfg(test)]
mod template_tests {
    use super::*;

    fn shown(text: &str) -> Vec<String> {
        template_str(text)
            .parts()
            .iter()
            .map(|p| match p {
                crate::eval::value::Part::Lit(l) => format!("lit {l}"),
                crate::eval::value::Part::Sym(s) => format!("sym {}", s.display()),
            })
            .collect()
    }

    #[test]
    fn every_placeholder_form_is_a_symbol_between_literals() {
        assert_eq!(
            shown("arn:aws:iam::${ACCOUNT_ID}:role/api"),
            ["lit arn:aws:iam::", "sym ${ACCOUNT_ID}", "lit :role/api"]
        );
        assert_eq!(
            shown("arn:aws:iam::$ACCOUNT_ID:role/api"),
            ["lit arn:aws:iam::", "sym $ACCOUNT_ID", "lit :role/api"]
        );
        assert_eq!(shown("{{ .Values.arn }}"), ["sym {{ .Values.arn }}"]);
        assert_eq!(
            shown("a-%{ if x }b%{ endif }"),
            ["lit a-", "sym %{ if x }", "lit b", "sym %{ endif }"]
        );
        assert_eq!(
            shown("${jsonencode({a = 1})}-x"),
            ["sym ${jsonencode({a = 1})}", "lit -x"]
        );
    }

    #[test]
    fn text_without_placeholders_stays_known() {
        for text in [
            "arn:aws:iam::482910375521:role/api",
            "cost $5",
            "a$",
            "{a}",
            "50%",
        ] {
            assert_eq!(template_str(text).as_known(), Some(text), "{text}");
            assert!(!has_placeholder(text));
        }
        assert!(has_placeholder("pay-${ENV}"));
        assert!(has_placeholder("{{ .Release.Namespace }}"));
    }
}
