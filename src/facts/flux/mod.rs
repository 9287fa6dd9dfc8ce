//! Flux (fluxcd.io), for the parts that decide IRSA wiring.
//!
//! - A `HelmRelease` (helm.toolkit.fluxcd.io v2beta1, v2beta2, v2) installs a chart. Its
//!   ServiceAccount follows from the chart (`spec.chart.spec.chart` of a HelmRepository, a
//!   chart folder of the repository for a GitRepository, or `spec.chartRef`), its values
//!   (`valuesFrom` ConfigMaps of the scan in order, then `spec.values`), its release name
//!   (`spec.releaseName`, else `<targetNamespace>-<name>` when it has a target namespace, else
//!   its name) and its namespace (`spec.targetNamespace`, else its own).
//! - A `Kustomization` (kustomize.toolkit.fluxcd.io) deploys a folder of the repository
//!   (`spec.path`) as kustomize builds it (a kustomization, or every manifest below it),
//!   substitutes `${var}` from `postBuild.substitute` and `postBuild.substituteFrom`
//!   (ConfigMaps of the scan, those Terraform writes among them; a Secret's values are
//!   unknown) in every object that does not opt out, and moves every object to
//!   `spec.targetNamespace`.
//!
//! A variable nothing in the files defines stays a placeholder, unknown: it may come from a
//! Secret or a ConfigMap out of sight. `plan` (manifests stage) finds the Kustomizations and
//! the files and views they own; `render` and `resolve_releases` run once Terraform's facts
//! are known too, since Terraform may write the ConfigMaps a Kustomization reads.

mod objects;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use foldhash::{HashMap, HashMapExt, HashSet};
use rayon::prelude::*;

pub(crate) use objects::{read_chart_source, read_config_data, read_release};

use super::argo::{LocalChart, files_below, local_chart_service_account, value_span};
use super::charts;
use super::kubernetes::{
    ChartRelease, Values, annotation_settings, chart_service_account, image_tag, split_key,
    unresolved, yaml_value,
};
use super::kustomize::Seen;
use super::{ConfigData, Facts, Found, HelmRelease, Spanned};
use crate::eval::value::{Part, Str, Symbol, Value};
use crate::eval::workspace::normalize;
use crate::source::{FileId, Marker, SourceMap, Span};
use crate::text::envsubst::{Edit, Lookup, Substituted, substitute};

/// A Flux `HelmRelease` as written, then moved and patched by kustomize. Fields that are
/// `None` are not written (a patch sets only some).
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseObject {
    /// The whole object.
    pub span: Span,
    pub name: Spanned<String>,
    pub namespace: Option<Spanned<String>>,
    pub release_name: Option<Spanned<String>>,
    pub target_namespace: Option<Spanned<String>>,
    pub chart: Option<ChartSpec>,
    /// `spec.values`, with the span of each leaf.
    pub(crate) values: Option<Values>,
    pub values_from: Option<Vec<ValuesFrom>>,
    /// False when something that decides its ServiceAccount cannot be read: a placeholder in
    /// its name or namespace, a patch irsa-lint does not follow.
    pub known: bool,
    pub unit: String,
    /// How rendering changed it (see [`super::ServiceAccount::rendered`]).
    pub rendered: Vec<String>,
}

/// Where a HelmRelease's chart comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ChartSpec {
    /// `spec.chart.spec`: a chart name of a HelmRepository, or a path in a GitRepository or
    /// Bucket.
    Template {
        /// `None` when not known.
        chart: Option<Spanned<String>>,
        source_kind: String,
        source_name: Option<String>,
        source_namespace: Option<String>,
        /// `valuesFiles` of the chart source: values irsa-lint does not read.
        values_files: bool,
        /// `version`: which chart version's values keys apply.
        version: charts::Version,
        /// Where `version` is written.
        version_at: Option<Span>,
    },
    /// `spec.chartRef`: an `OCIRepository` or a `HelmChart`.
    Ref {
        kind: String,
        name: Option<String>,
        namespace: Option<String>,
    },
}

/// One entry of `spec.valuesFrom`.
#[derive(Debug, Clone, PartialEq)]
pub struct ValuesFrom {
    pub kind: String,
    /// `None` when not known.
    pub name: Option<String>,
    pub values_key: String,
    pub target_path: Option<String>,
    pub optional: bool,
    pub span: Span,
}

/// A chart source a `chartRef` can name: an `OCIRepository` (its URL) or a `HelmChart` (its
/// chart).
#[derive(Debug, Clone)]
pub struct ChartSource {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    /// The URL or chart; `None` when not known.
    pub chart: Option<String>,
}

impl ReleaseObject {
    /// The spans that decide its ServiceAccount and role: name, namespaces, release name,
    /// and the values under a ServiceAccount key or naming the release.
    fn identity_spans(&self) -> Vec<Span> {
        let mut spans = vec![self.name.span];
        for s in [&self.namespace, &self.release_name, &self.target_namespace]
            .into_iter()
            .flatten()
        {
            spans.push(s.span);
        }
        if let Some(values) = &self.values {
            for (path, span) in &values.spans {
                let relevant = path.iter().any(|k| {
                    let k = k.to_ascii_lowercase();
                    k.contains("serviceaccount")
                        || k.contains("role-arn")
                        || k.ends_with("override")
                });
                if relevant {
                    spans.push(*span);
                }
            }
        }
        spans
    }

    pub(crate) fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        self.span = f(self.span);
        self.name.span = f(self.name.span);
        for s in [
            &mut self.namespace,
            &mut self.release_name,
            &mut self.target_namespace,
        ]
        .into_iter()
        .flatten()
        {
            s.span = f(s.span);
        }
        if let Some(ChartSpec::Template {
            chart, version_at, ..
        }) = &mut self.chart
        {
            for span in chart.iter_mut().map(|c| &mut c.span).chain(version_at) {
                *span = f(*span);
            }
        }
        if let Some(values) = &mut self.values {
            for s in values
                .spans
                .values_mut()
                .chain(values.key_spans.values_mut())
            {
                *s = f(*s);
            }
        }
        for v in self.values_from.iter_mut().flatten() {
            v.span = f(v.span);
        }
    }

    /// A strategic merge patch of this object: values merge (the patch's win), other fields
    /// the patch writes replace this object's (lists included, as for any custom resource).
    pub(crate) fn merge_patch(&mut self, patch: &ReleaseObject) {
        self.known &= patch.known;
        if patch.release_name.is_some() {
            self.release_name = patch.release_name.clone();
        }
        if patch.target_namespace.is_some() {
            self.target_namespace = patch.target_namespace.clone();
        }
        if patch.chart.is_some() {
            self.chart = patch.chart.clone();
        }
        if patch.values_from.is_some() {
            self.values_from = patch.values_from.clone();
        }
        if let Some(values) = &patch.values {
            merge_values(
                self.values.get_or_insert_with(Values::default),
                values,
                patch.span,
            );
        }
    }
}

/// Merge values read elsewhere (their spans kept) into `into`.
fn merge_values(into: &mut Values, from: &Values, fallback: Span) {
    into.merge(&Value::Map(from.tree.clone()), &|path| {
        from.spans.get(path).copied().unwrap_or(fallback)
    });
    into.key_spans
        .extend(from.key_spans.iter().map(|(k, v)| (k.clone(), *v)));
    into.unknown |= from.unknown;
}

/// The Flux Kustomizations of the scan and what they own.
#[derive(Default)]
pub struct Plan {
    kustomizations: Vec<Kustomization>,
    /// Files whose objects count only as some Flux Kustomization renders them.
    pub owned: HashSet<FileId>,
    /// Kustomize views below a Flux Kustomization's folder: rendered by it, not alone.
    pub claimed_views: HashSet<PathBuf>,
    /// Some Kustomization deploys a folder that is not in the scan or not known.
    pub hidden: bool,
}

#[derive(Clone, PartialEq)]
struct Kustomization {
    file: FileId,
    /// Its document in the file.
    range: std::ops::Range<usize>,
    name: String,
    namespace: Option<String>,
    folder: PathBuf,
    spec: serde_json::Value,
}

impl super::kustomize::KeptKey for Kustomization {}

impl Kustomization {
    fn shown(&self, sources: &SourceMap) -> String {
        let name = match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        };
        format!(
            "Flux Kustomization {name} ({})",
            sources.get(self.file).path.display()
        )
    }

    fn span_of(&self, sources: &SourceMap, keys: &[&str]) -> Span {
        value_span(
            &sources.get(self.file).text,
            self.file,
            self.range.clone(),
            keys,
        )
    }
}

/// The folder every scanned file lies in: where a source's paths start.
fn scan_root(paths: &[&PathBuf]) -> PathBuf {
    let mut root: Option<PathBuf> = None;
    for p in paths {
        let dir = p.parent().unwrap_or(Path::new(""));
        root = Some(match root {
            None => dir.to_path_buf(),
            Some(r) => r
                .components()
                .zip(dir.components())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    root.unwrap_or_default()
}

/// The folder a source path names: relative to the source's root, which is the scan's root
/// or one of the folders between it and the file that names the path (the shallowest that
/// has it wins). `None` when no such folder holds files.
fn resolve_source_path(
    path: &str,
    from: &Path,
    root: &Path,
    by_path: &BTreeMap<PathBuf, FileId>,
) -> Option<PathBuf> {
    let rel = path.trim_start_matches("./").trim_start_matches('/');
    let rel = rel.trim_end_matches('/');
    if rel.is_empty() || rel == "." {
        return Some(root.to_path_buf());
    }
    let mut dirs: Vec<&Path> = from.ancestors().filter(|d| d.starts_with(root)).collect();
    dirs.reverse();
    for d in dirs {
        let candidate = normalize(&d.join(rel));
        if files_below(by_path, &candidate).any(|(p, _)| p != &candidate) {
            return Some(candidate);
        }
    }
    None
}

/// Find the Flux Kustomizations and what they deploy. Kustomize views (`views`, by folder)
/// below one's folder are claimed by it.
pub fn plan(
    sources: &SourceMap,
    files: &[(FileId, PathBuf)],
    views: &BTreeMap<PathBuf, Facts>,
) -> Plan {
    let mut plan = Plan::default();
    if !(files.iter()).any(|(id, _)| sources.get(*id).mentions(Marker::FluxKustomization)) {
        return plan;
    }
    let by_path: BTreeMap<PathBuf, FileId> =
        files.iter().map(|(id, p)| (normalize(p), *id)).collect();
    let root = scan_root(&by_path.keys().collect::<Vec<_>>());
    let repositories = git_repositories(sources, files);
    for (id, path) in files {
        if !sources.get(*id).mentions(Marker::FluxKustomization) {
            continue;
        }
        let text = &sources.get(*id).text;
        for range in crate::parse::yaml::document_ranges(text) {
            // Only a document that may be a Kustomization is worth reading (not the CRDs).
            if !may_be_kind(&text[range.clone()], "Kustomization") {
                continue;
            }
            let Some(doc) = crate::parse::yaml::to_json(&text[range.clone()]) else {
                continue;
            };
            let is_flux = doc.get("kind").and_then(|k| k.as_str()) == Some("Kustomization")
                && doc
                    .get("apiVersion")
                    .and_then(|v| v.as_str())
                    .is_some_and(|v| v.starts_with("kustomize.toolkit.fluxcd.io/"));
            if !is_flux {
                continue;
            }
            let spec = doc.get("spec").cloned().unwrap_or_default();
            let text_of = |key: &str| spec.get(key).and_then(|v| v.as_str()).unwrap_or("");
            // A parent Kustomization's substitution decides these: unknown here.
            if [text_of("path"), text_of("targetNamespace")]
                .iter()
                .any(|t| crate::text::placeholders::has_placeholder(t))
            {
                plan.hidden = true;
                continue;
            }
            if repositories.is_other(&spec) {
                plan.hidden = true; // deploys another repository's files
                continue;
            }
            let dir = normalize(path.parent().unwrap_or(Path::new("")));
            let Some(folder) = resolve_source_path(text_of("path"), &dir, &root, &by_path) else {
                plan.hidden = true; // another repository, or a folder not scanned
                continue;
            };
            for view in views.keys().filter(|v| v.starts_with(&folder)) {
                plan.claimed_views.insert(view.clone());
            }
            plan.owned
                .extend(files_below(&by_path, &folder).map(|(_, file)| file));
            let metadata = |key: &str| {
                doc.pointer(&format!("/metadata/{key}"))
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            plan.kustomizations.push(Kustomization {
                file: *id,
                range,
                name: metadata("name").unwrap_or_default(),
                namespace: metadata("namespace"),
                folder,
                spec,
            });
        }
    }
    plan
}

/// Whether a document may be an object of `kind`: a top-level `kind:` line says so, or the
/// document is written in flow style (JSON).
fn may_be_kind(doc: &str, kind: &str) -> bool {
    doc.lines().any(|line| {
        line.strip_prefix("kind:").is_some_and(|v| {
            let v = v.split(" #").next().unwrap_or(v).trim();
            v.trim_matches(|c| c == '"' || c == '\'') == kind
        }) || line.trim_start().starts_with('{')
    })
}

/// The `GitRepository` sources of the scan, by name, with their URLs.
struct GitRepositories {
    urls: HashMap<String, String>,
}

impl GitRepositories {
    /// Whether a Kustomization's `sourceRef` names a source other than the repository Flux
    /// was bootstrapped from (`flux-system`): its path then names that source's folders, not
    /// the scan's. Such are a GitRepository of the scan with another URL, and an OCI artifact
    /// or bucket not named `flux-system`. A GitRepository the scan does not declare (made by
    /// Terraform) and an ExternalArtifact (a split of this repository) are taken to be this
    /// repository.
    fn is_other(&self, spec: &serde_json::Value) -> bool {
        let kind = spec
            .pointer("/sourceRef/kind")
            .and_then(|v| v.as_str())
            .unwrap_or("GitRepository");
        let Some(name) = spec.pointer("/sourceRef/name").and_then(|v| v.as_str()) else {
            return false;
        };
        if name == "flux-system" {
            return false;
        }
        if matches!(kind, "OCIRepository" | "Bucket") {
            return true;
        }
        if kind != "GitRepository" {
            return false;
        }
        let Some(url) = self.urls.get(name) else {
            return false;
        };
        let own = self.urls.get("flux-system");
        own.is_none_or(|own| trim_url(own) != trim_url(url))
    }
}

/// A Git URL without its scheme, user, `.git` suffix or trailing slash.
fn trim_url(url: &str) -> &str {
    let url = url.split_once("://").map_or(url, |(_, rest)| rest);
    let url = url.split_once('@').map_or(url, |(_, rest)| rest);
    let url = url.trim_end_matches('/');
    url.strip_suffix(".git").unwrap_or(url)
}

fn git_repositories(sources: &SourceMap, files: &[(FileId, PathBuf)]) -> GitRepositories {
    let mut urls = HashMap::new();
    for (id, _) in files {
        if !sources.get(*id).mentions(Marker::GitRepository) {
            continue;
        }
        let text = &sources.get(*id).text;
        for range in crate::parse::yaml::document_ranges(text) {
            if !may_be_kind(&text[range.clone()], "GitRepository") {
                continue;
            }
            let Some(doc) = crate::parse::yaml::to_json(&text[range]) else {
                continue;
            };
            if doc.get("kind").and_then(|k| k.as_str()) != Some("GitRepository") {
                continue;
            }
            let name = doc.pointer("/metadata/name").and_then(|v| v.as_str());
            let url = doc.pointer("/spec/url").and_then(|v| v.as_str());
            if let (Some(name), Some(url)) = (name, url) {
                urls.insert(name.to_string(), url.to_string());
            }
        }
    }
    GitRepositories { urls }
}

/// How close a folder is to another: the leading folders they share, then the folder names
/// both have (`clusters/production` and `infra/production` share `production`).
fn closeness(a: &str, b: &str) -> (usize, usize) {
    let a: Vec<_> = Path::new(a).components().collect();
    let b: Vec<_> = Path::new(b).components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let shared = a[common..]
        .iter()
        .filter(|c| b[common..].contains(c))
        .count();
    (common, shared)
}

/// The ConfigMaps (or Secrets) a reference in `namespace` may name, of those with its name
/// the closest to `near`. An object whose namespace is not known may be any.
fn candidates<'a>(
    all: &'a [ConfigData],
    secret: bool,
    name: &str,
    namespace: Option<&str>,
    near: &str,
) -> Vec<&'a ConfigData> {
    let matching: Vec<&ConfigData> = all
        .iter()
        .filter(|c| {
            c.secret == secret
                && c.name == name
                && match (&c.namespace, namespace) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                }
        })
        .collect();
    let best = matching.iter().map(|c| closeness(near, &c.dir)).max();
    matching
        .into_iter()
        .filter(|c| Some(closeness(near, &c.dir)) == best)
        .collect()
}

/// What the candidates say of one key: `Ok(None)` when none has it and all keys are known,
/// `Err(())` when it cannot be told (a Secret's value, candidates that disagree, keys not
/// all known), `Ok(Some(..))` with the value and the candidate it comes from.
fn key_of<'a>(
    candidates: &[&'a ConfigData],
    key: &str,
) -> Result<Option<(&'a super::DataValue, &'a ConfigData)>, ()> {
    let mut found: Option<(&super::DataValue, &ConfigData)> = None;
    let mut missing_somewhere = false;
    for c in candidates {
        match c.data.get(key) {
            Some(Some(v)) => {
                if let Some((seen, _)) = found
                    && seen.value.value != v.value.value
                {
                    return Err(());
                }
                found.get_or_insert((v, c));
            }
            Some(None) => return Err(()),
            None if !c.keys_known => return Err(()),
            None => missing_somewhere = true,
        }
    }
    let _ = missing_somewhere;
    Ok(found)
}

/// What a variable is, and where its value comes from, for notes.
struct VarSource {
    value: Lookup,
    /// The value as shown (symbols displayed).
    shown: String,
    from: String,
}

/// The text that stands for the `n`th Terraform symbol of a substituted value: a placeholder
/// to the manifest reader, put back as the symbol once read (`restore_symbols`).
fn symbol_marker(n: usize) -> String {
    format!("${{__irsa_lint_symbol_{n}}}")
}

/// A value as substituted text: literal parts as written, symbols as markers.
pub(crate) fn marked_text(value: &Str, symbols: &RefCell<Vec<Symbol>>) -> String {
    let mut text = String::new();
    for part in value.parts() {
        match part {
            Part::Lit(l) => text.push_str(l),
            Part::Sym(sym) => {
                let mut table = symbols.borrow_mut();
                table.push(sym.clone());
                text.push_str(&symbol_marker(table.len() - 1));
            }
        }
    }
    text
}

pub(crate) fn restore_str(s: &Str, symbols: &[Symbol]) -> Str {
    if !s
        .parts()
        .iter()
        .any(|p| matches!(p, Part::Sym(Symbol::Placeholder(_))))
    {
        return s.clone();
    }
    let mut out = Str::default();
    for part in s.parts() {
        match part {
            Part::Lit(l) => out.push_str(l),
            Part::Sym(Symbol::Placeholder(p)) => {
                let index = p
                    .strip_prefix("${__irsa_lint_symbol_")
                    .and_then(|rest| rest.strip_suffix('}'))
                    .and_then(|n| n.parse::<usize>().ok());
                match index.and_then(|n| symbols.get(n)) {
                    Some(sym) => out.push_sym(sym.clone()),
                    None => out.push_sym(Symbol::Placeholder(p.clone())),
                }
            }
            Part::Sym(sym) => out.push_sym(sym.clone()),
        }
    }
    out.with_origin(s.origin)
}

fn restore_value(v: &mut Value, symbols: &[Symbol]) {
    match v {
        Value::String(s) => *s = restore_str(s, symbols),
        Value::List(items) => items.iter_mut().for_each(|i| restore_value(i, symbols)),
        Value::Map(map) => map.values_mut().for_each(|i| restore_value(i, symbols)),
        _ => {}
    }
}

/// Put back the Terraform symbols substitution wrote as markers.
fn restore_symbols(facts: &mut Facts, symbols: &[Symbol]) {
    if symbols.is_empty() {
        return;
    }
    let annotations = |list: &mut Vec<super::Annotation>| {
        for a in list {
            if let Some(v) = &mut a.value {
                v.value = restore_str(&v.value, symbols);
            }
        }
    };
    for sa in &mut facts.service_accounts {
        annotations(&mut sa.annotations);
    }
    for w in &mut facts.workloads {
        annotations(&mut w.annotations);
    }
    for u in &mut facts.unresolved_service_accounts {
        if let Some(r) = &mut u.role_arn {
            r.value = restore_str(&r.value, symbols);
        }
    }
    for r in &mut facts.release_objects {
        if let Some(values) = &mut r.values {
            for v in values.tree.values_mut() {
                restore_value(v, symbols);
            }
        }
    }
    for c in &mut facts.config_data {
        for v in c.data.values_mut().flatten() {
            v.value.value = restore_str(&v.value.value, symbols);
        }
    }
}

/// The variables of one Kustomization's post-build step.
struct Vars<'a> {
    sources: &'a SourceMap,
    /// What the build looks at, when it is kept: the files of the values it notes.
    seen: Option<&'a RefCell<Seen>>,
    /// The Terraform symbols of values substituted so far (see [`symbol_marker`]).
    symbols: RefCell<Vec<Symbol>>,
    inline: BTreeMap<String, (String, Span)>,
    /// `substituteFrom` in order: the candidates of each reference, or `None` when the
    /// reference may define anything (a Secret or ConfigMap out of sight).
    from: Vec<Option<Vec<&'a ConfigData>>>,
}

impl<'a> Vars<'a> {
    fn new(
        k: &Kustomization,
        sources: &'a SourceMap,
        config: &'a [ConfigData],
        near: &str,
        seen: Option<&'a RefCell<Seen>>,
    ) -> Option<Vars<'a>> {
        let post_build = k.spec.get("postBuild")?;
        let mut inline = BTreeMap::new();
        if let Some(map) = post_build.get("substitute").and_then(|v| v.as_object()) {
            for (name, value) in map {
                let text = match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let span = k.span_of(sources, &["postBuild", "substitute", name]);
                inline.insert(name.clone(), (text.replace('\n', ""), span));
            }
        }
        let mut from = Vec::new();
        for reference in post_build
            .get("substituteFrom")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            let kind = reference.get("kind").and_then(|v| v.as_str()).unwrap_or("");
            let name = reference.get("name").and_then(|v| v.as_str());
            let found = match (kind, name) {
                ("ConfigMap" | "Secret", Some(name)) => {
                    let secret = kind == "Secret";
                    let c = candidates(config, secret, name, k.namespace.as_deref(), near);
                    (!c.is_empty()).then_some(c)
                }
                _ => None,
            };
            from.push(found);
        }
        Some(Vars {
            sources,
            seen,
            symbols: RefCell::default(),
            inline,
            from,
        })
    }

    /// Whether substitution provably does nothing: Flux substitutes only when some variable
    /// is defined.
    fn none_defined(&self) -> bool {
        self.inline.is_empty()
            && self.from.iter().all(|f| {
                f.as_ref()
                    .is_some_and(|c| c.iter().all(|c| c.data.is_empty() && c.keys_known))
            })
    }

    fn lookup(&self, name: &str) -> VarSource {
        if let Some((value, span)) = self.inline.get(name) {
            return VarSource {
                value: Lookup::Value(value.clone()),
                shown: value.clone(),
                from: format!("postBuild.substitute ({})", self.at(*span)),
            };
        }
        let unknown = VarSource {
            value: Lookup::Unknown,
            shown: String::new(),
            from: String::new(),
        };
        for reference in self.from.iter().rev() {
            let Some(candidates) = reference else {
                return unknown;
            };
            match key_of(candidates, name) {
                Err(()) => return unknown,
                Ok(None) => continue,
                // A Terraform value known only after apply keeps its symbols.
                Ok(Some((v, c))) if !v.value.value.has_unknown() => {
                    let value = v.value.value.replace_literal("\n", "");
                    let value = value.unwrap_or_else(|| v.value.value.clone());
                    return VarSource {
                        value: Lookup::Value(marked_text(&value, &self.symbols)),
                        shown: value.display(),
                        from: format!("{} ({})", c.shown, self.at(v.value.span)),
                    };
                }
                Ok(Some(_)) => return unknown,
            }
        }
        VarSource {
            value: Lookup::Undefined,
            shown: String::new(),
            from: String::new(),
        }
    }

    /// `path:line` of a span, for notes.
    fn at(&self, span: Span) -> String {
        if let Some(seen) = self.seen {
            seen.borrow_mut().file(self.sources, span.file);
        }
        let file = self.sources.get(span.file);
        format!("{}:{}", file.path.display(), file.line_col(span.start).line)
    }
}

/// The annotation (or label) by which an object opts out of substitution.
const SUBSTITUTE_KEY: &str = "kustomize.toolkit.fluxcd.io/substitute";

/// Substitute a file's text document by document, leaving out documents that opt out.
fn substitute_file(text: &str, lookup: &dyn Fn(&str) -> Lookup) -> Substituted {
    let mut out = Substituted::default();
    let mut copied = 0;
    for range in crate::parse::yaml::document_ranges(text) {
        let doc = &text[range.clone()];
        if !doc.contains("${") && !doc.contains("$$") {
            continue;
        }
        let opted_out = doc.contains(SUBSTITUTE_KEY)
            && crate::parse::yaml::to_json(doc).is_some_and(|d| {
                ["annotations", "labels"].iter().any(|f| {
                    d.pointer(&format!("/metadata/{f}"))
                        .and_then(|m| m.get(SUBSTITUTE_KEY))
                        .and_then(|v| v.as_str())
                        == Some("disabled")
                })
            });
        if opted_out {
            continue;
        }
        let s = substitute(doc, lookup);
        if s.edits.is_empty() {
            continue;
        }
        out.text.push_str(&text[copied..range.start]);
        let base_out = out.text.len();
        for mut e in s.edits {
            e.original = e.original.start + range.start..e.original.end + range.start;
            e.substituted = e.substituted.start + base_out..e.substituted.end + base_out;
            out.edits.push(e);
        }
        out.text.push_str(&s.text);
        copied = range.end;
    }
    out.text.push_str(&text[copied..]);
    out
}

/// The spans that decide an object's identity and role: its name, namespace and annotations.
fn identity_spans(
    name: &Spanned<String>,
    namespace: Option<&Spanned<String>>,
    annotations: &[super::Annotation],
) -> Vec<Span> {
    let mut spans = vec![name.span];
    spans.extend(namespace.map(|n| n.span));
    for a in annotations {
        spans.push(a.key.span);
        spans.extend(a.value.as_ref().map(|v| v.span));
    }
    spans
}

/// A substitution's range in the file as written, and the note that says what it did.
type SubstitutionNote = (std::ops::Range<usize>, String);

/// The objects every Flux Kustomization of the plan deploys, substituted with what the
/// files say of its variables (`config`: every ConfigMap and Secret seen). `kept` has the
/// builds of the last run (the language server's), and is given this run's.
pub fn render(
    plan: &Plan,
    sources: &SourceMap,
    index: &super::kustomize::Index<'_>,
    config: &[ConfigData],
    readings: &dyn super::kustomize::Readings,
    memo: Option<&crate::parse::memo::TextMemo>,
    kept: Option<&KeptBuilds>,
) -> Facts {
    let mut out = Facts {
        hidden_service_accounts: plan.hidden,
        ..Facts::default()
    };
    if plan.kustomizations.is_empty() {
        return out;
    }
    let build = |k: &Kustomization, seen: Option<&RefCell<Seen>>| {
        render_kustomization(k, sources, index, config, readings, memo, seen)
    };
    let Some(kept) = kept else {
        // Each Kustomization on its own, in parallel; their facts joined in the plan's order.
        let rendered: Vec<Facts> = (plan.kustomizations.par_iter())
            .map(|k| build(k, None))
            .collect();
        for facts in rendered {
            out.extend(facts);
        }
        return out;
    };
    // The builds read their variables from the ConfigMaps and Secrets: the run's context.
    let kept = kept.0.run(format!("{config:?}"));
    let rendered: Vec<Facts> = (plan.kustomizations.par_iter())
        .map(|k| {
            let holds = |seen: &Seen| seen.holds(sources, index);
            kept.build(k, holds, |seen| build(k, Some(seen)))
        })
        .collect();
    for facts in rendered {
        out.extend(facts);
    }
    out
}

/// Flux's builds of the last run (see [`super::kustomize::Kept`]): the language server's
/// edits render again only the Kustomizations that deploy what changed.
#[derive(Default)]
pub struct KeptBuilds(super::kustomize::Kept<Kustomization, Facts>);

/// The objects one Flux Kustomization deploys, substituted (see [`render`]).
fn render_kustomization(
    k: &Kustomization,
    sources: &SourceMap,
    index: &super::kustomize::Index<'_>,
    config: &[ConfigData],
    readings: &dyn super::kustomize::Readings,
    memo: Option<&crate::parse::memo::TextMemo>,
    seen: Option<&RefCell<Seen>>,
) -> Facts {
    if let Some(seen) = seen {
        seen.borrow_mut().file(sources, k.file);
    }
    let unit = sources
        .get(k.file)
        .path
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let shown = k.shown(sources);
    let vars = Vars::new(k, sources, config, &unit, seen);
    // What each file's substitution did, for notes: the original range and its note.
    let notes: RefCell<HashMap<FileId, Vec<SubstitutionNote>>> = RefCell::default();
    let cache: RefCell<HashMap<FileId, Option<Substituted>>> = RefCell::default();
    let transform = |file: FileId, text: &str| -> Option<Substituted> {
        let vars = vars.as_ref().filter(|v| !v.none_defined())?;
        if let Some(done) = cache.borrow().get(&file) {
            return done.clone();
        }
        let froms: RefCell<BTreeMap<String, (String, String)>> = RefCell::default();
        let s = substitute_file(text, &|name| {
            let found = vars.lookup(name);
            froms
                .borrow_mut()
                .insert(name.to_string(), (found.shown, found.from));
            found.value
        });
        let result = (!s.edits.is_empty()).then_some(s);
        if let Some(s) = &result {
            let froms = froms.borrow();
            let mut list = Vec::new();
            for e in &s.edits {
                let Some(var) = &e.variable else { continue };
                let written = &text[e.original.clone()];
                let note = match froms.get(var) {
                    Some((value, from)) if !e.defaulted => {
                        format!("{written} is {value}, from {from}, substituted by {shown}")
                    }
                    _ => format!(
                        "{written} defaulted to {}: no variable of {shown} sets {var}",
                        &s.text[e.substituted.clone()]
                    ),
                };
                list.push((e.original.clone(), note));
            }
            notes.borrow_mut().entry(file).or_default().extend(list);
        }
        cache.borrow_mut().insert(file, result.clone());
        result
    };
    let build = super::kustomize::FolderBuild {
        sources,
        index,
        transform: &transform,
        readings,
        memo,
        seen,
    };
    let mut facts = super::kustomize::render_folder(build, &k.folder, &unit);
    if let Some(vars) = &vars {
        restore_symbols(&mut facts, &vars.symbols.borrow());
    }
    let patches_span = k.span_of(sources, &["patches"]);
    let namespace_span = k.span_of(sources, &["targetNamespace"]);
    if !super::kustomize::apply_flux_spec(&k.spec, patches_span, namespace_span, &shown, &mut facts)
    {
        return Facts {
            hidden_service_accounts: true,
            config_data: facts.config_data,
            ..Facts::default()
        };
    }
    let notes = notes.take();
    // Only the substitutions in what decides the identity and role are worth a note.
    let notes_in = |spans: &[Span]| -> Vec<String> {
        let mut found: Vec<(FileId, &SubstitutionNote)> = spans
            .iter()
            .flat_map(|span| {
                let overlaps = |(r, _): &&SubstitutionNote| {
                    r.start < span.end as usize && r.end > span.start as usize
                };
                let list = notes.get(&span.file).into_iter().flatten().filter(overlaps);
                list.map(|n| (span.file, n))
            })
            .collect();
        found.sort_by_key(|(file, (r, _))| (*file, r.start));
        found.dedup_by_key(|(file, (r, _))| (*file, r.start));
        found.into_iter().map(|(_, (_, n))| n.clone()).collect()
    };
    let deployed = format!("deployed by {shown}");
    for sa in &mut facts.service_accounts {
        sa.rendered.extend(notes_in(&identity_spans(
            &sa.name,
            Some(&sa.namespace),
            &sa.annotations,
        )));
        sa.rendered.push(deployed.clone());
        sa.unit = unit.clone();
    }
    for w in &mut facts.workloads {
        let mut spans = identity_spans(&w.name, w.namespace.as_ref(), &w.annotations);
        if let super::PodServiceAccount::Named(sa) = &w.service_account {
            spans.push(sa.span);
        }
        w.rendered.extend(notes_in(&spans));
        w.rendered.push(deployed.clone());
        w.unit = unit.clone();
    }
    for r in &mut facts.release_objects {
        r.rendered.extend(notes_in(&r.identity_spans()));
        r.rendered.push(deployed.clone());
        r.unit = unit.clone();
    }
    facts.parse_errors.clear();
    facts
}

/// Turn every HelmRelease object of `facts` into the ServiceAccount its chart creates and a
/// [`HelmRelease`] fact, with the ConfigMaps of `facts` for `valuesFrom`.
/// `memo` keeps what is made of a chart's files for the run.
pub fn resolve_releases(
    facts: &mut Facts,
    sources: &SourceMap,
    index: &super::kustomize::Index<'_>,
    memo: Option<&crate::parse::memo::TextMemo>,
    kept: Option<&KeptReleases>,
) {
    let objects = std::mem::take(&mut facts.release_objects);
    if objects.is_empty() {
        return;
    }
    let by_path: BTreeMap<PathBuf, FileId> = (index.files().iter())
        .map(|(id, p)| (normalize(p), *id))
        .collect();
    let paths: HashMap<FileId, &PathBuf> = by_path.iter().map(|(p, id)| (*id, p)).collect();
    let root = scan_root(&by_path.keys().collect::<Vec<_>>());
    let resolver = Resolver {
        sources,
        by_path: &by_path,
        paths: &paths,
        root: &root,
        config: &facts.config_data,
        chart_sources: &facts.chart_sources,
        memo,
    };
    // Each release on its own, in parallel; their facts joined in order. Which chart each
    // installs is found anew in every run: it is where what the language server keeps of a
    // release is looked up.
    let releases: Vec<KeptRelease> = (objects.into_par_iter())
        .map(|release| {
            let chart = resolver.chart(&release);
            KeptRelease { release, chart }
        })
        .collect();
    let resolve = |r: &KeptRelease, seen: Option<&RefCell<Seen>>| {
        let mut out = Facts::default();
        resolver.resolve(&r.release, &r.chart, &mut out, seen);
        out
    };
    let resolved: Vec<Facts> = match kept {
        None => releases.par_iter().map(|r| resolve(r, None)).collect(),
        Some(kept) => {
            // The releases read their values from the ConfigMaps and Secrets, and a chartRef
            // names a chart source: the run's context.
            let context = format!("{:?}|{:?}", facts.config_data, facts.chart_sources);
            let kept = kept.0.run(context);
            (releases.par_iter())
                .map(|r| {
                    let holds = |seen: &Seen| seen.holds(sources, index);
                    kept.build(r, holds, |seen| resolve(r, Some(seen)))
                })
                .collect()
        }
    };
    for out in resolved {
        facts.extend(out);
    }
}

/// The Flux HelmReleases' resolutions of the last run (see [`super::kustomize::Kept`]): the
/// language server's edits resolve again only the releases whose object, chart or files
/// read changed.
#[derive(Default)]
pub struct KeptReleases(super::kustomize::Kept<KeptRelease, Facts>);

/// A HelmRelease and the chart it installs: the key of a kept resolution.
#[derive(Clone, PartialEq)]
pub struct KeptRelease {
    release: ReleaseObject,
    chart: Chart,
}

impl super::kustomize::KeptKey for KeptRelease {
    /// Thousands of releases: each is looked for among the kept ones of its place and name.
    fn slot(&self) -> u64 {
        use std::hash::BuildHasher;
        let seed = foldhash::quality::FixedState::with_seed(0);
        seed.hash_one((self.release.span, &self.release.name.value))
    }
}

/// A chart as a HelmRelease names it.
#[derive(Clone)]
enum Chart {
    Known(&'static charts::Chart),
    /// A chart folder of the repository and its `Chart.yaml`.
    Local(PathBuf, FileId),
    Unknown,
}

impl PartialEq for Chart {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Chart::Known(a), Chart::Known(b)) => std::ptr::eq(*a, *b),
            (Chart::Local(a, x), Chart::Local(b, y)) => a == b && x == y,
            (Chart::Unknown, Chart::Unknown) => true,
            _ => false,
        }
    }
}

struct Resolver<'a> {
    sources: &'a SourceMap,
    by_path: &'a BTreeMap<PathBuf, FileId>,
    /// Each file's path as walked (`by_path` the other way).
    paths: &'a HashMap<FileId, &'a PathBuf>,
    root: &'a Path,
    config: &'a [ConfigData],
    chart_sources: &'a [ChartSource],
    memo: Option<&'a crate::parse::memo::TextMemo>,
}

impl Resolver<'_> {
    /// The facts of one release of `chart`; `seen` records the files it reads.
    fn resolve(
        &self,
        r: &ReleaseObject,
        chart: &Chart,
        out: &mut Facts,
        seen: Option<&RefCell<Seen>>,
    ) {
        let namespace = r.target_namespace.clone().or_else(|| r.namespace.clone());
        let (true, Some(namespace)) = (r.known, namespace) else {
            out.hidden_service_accounts = true;
            return;
        };
        let release = match (&r.release_name, &r.target_namespace) {
            (Some(name), _) => name.value.clone(),
            (None, Some(target)) => format!("{}-{}", target.value, r.name.value),
            (None, None) => r.name.value.clone(),
        };
        // Flux shortens a longer name with a hash of it.
        if release.len() > 53 {
            out.hidden_service_accounts = true;
            return;
        }
        let mut values = Values::default();
        self.values_from(r, &mut values, seen);
        if let Some(v) = &r.values {
            merge_values(&mut values, v, r.span);
        }
        if let Some(ChartSpec::Template {
            values_files: true, ..
        }) = &r.chart
        {
            values.unknown = true;
        }
        let settings = annotation_settings(&values);
        let label = r.name.span;
        let image_tag = image_tag(&values, label);
        let shown_name = format!("{}/{}", namespace.value, r.name.value);
        let (chart_name, found, default_version) = match chart {
            Chart::Known(known) => {
                let chart = ChartRelease {
                    chart_name: known.name,
                    service_account_key: known.service_account,
                    default_name: known.default_name,
                    release: &release,
                    label,
                    namespace: namespace.clone(),
                    unit: &r.unit,
                };
                let found = chart_service_account(&chart, &values);
                if matches!(found, Found::Unknown) {
                    out.unresolved_service_accounts
                        .extend(unresolved(&chart, &values));
                }
                (known.name.to_string(), found, None)
            }
            Chart::Local(folder, chart_file) => {
                let chart = LocalChart {
                    sources: self.sources,
                    by_path: self.by_path,
                    folder,
                    chart_file: *chart_file,
                    memo: self.memo,
                    seen,
                };
                let found = local_chart_service_account(
                    &chart,
                    &release,
                    namespace.clone(),
                    &r.unit,
                    |v| {
                        let release_values = std::mem::take(&mut values);
                        merge_values(v, &release_values, r.span);
                    },
                );
                let name = yaml_value(chart.text(*chart_file))
                    .and_then(|c| c.get_attr("name").as_known_str().map(str::to_string))
                    .unwrap_or_default();
                let files = super::local_chart::RepositoryFiles {
                    chart: &chart,
                    loader: None,
                };
                let default_version = super::local_chart::default_version(&files, folder);
                (name, found, default_version)
            }
            Chart::Unknown => {
                out.hidden_service_accounts = true;
                return;
            }
        };
        match found {
            Found::Yes(mut sa) => {
                sa.origin = super::Origin::Manifest;
                sa.rendered = r.rendered.clone();
                sa.rendered
                    .push(format!("installed by Flux HelmRelease {shown_name}"));
                out.service_accounts.push(sa);
            }
            Found::No => {}
            Found::Unknown => out.hidden_service_accounts = true,
        }
        out.helm_releases.push(HelmRelease {
            address: format!("HelmRelease {shown_name}"),
            declared_by: "Flux HelmRelease",
            span: label,
            chart: chart_name,
            release_name: release,
            namespace: namespace.value,
            annotation_settings: settings,
            // The keys of the versions the release may install (every version, for a chartRef).
            annotation_keys: match &chart {
                Chart::Known(known) => {
                    let version = match &r.chart {
                        Some(ChartSpec::Template { version, .. }) => version.clone(),
                        _ => charts::Version::Unknown,
                    };
                    known.eras(&version).map(|eras| known.annotation_keys(eras))
                }
                _ => None,
            },
            unit: r.unit.clone(),
            existing_service_account: None,
            local_chart: matches!(chart, Chart::Local(..)),
            chart_version: match &r.chart {
                Some(ChartSpec::Template {
                    version: charts::Version::Latest,
                    ..
                }) => None,
                Some(ChartSpec::Template {
                    version: charts::Version::Given(v),
                    version_at: Some(at),
                    ..
                }) => Some(Spanned::new(Some(v.clone()), *at)),
                _ => Some(Spanned::new(None, label)),
            },
            image_tag,
            default_version,
            when: Vec::new(),
        });
    }

    fn chart(&self, r: &ReleaseObject) -> Chart {
        let release_ns = r.namespace.as_ref().map(|n| n.value.as_str());
        match &r.chart {
            Some(ChartSpec::Template {
                chart: Some(chart),
                source_kind,
                ..
            }) => {
                if matches!(source_kind.as_str(), "GitRepository" | "Bucket")
                    && let Some(local) = self.local_chart(&chart.value, r.span.file)
                {
                    return local;
                }
                charts::find(&chart.value).map_or(Chart::Unknown, Chart::Known)
            }
            Some(ChartSpec::Ref {
                kind,
                name: Some(name),
                namespace,
            }) => {
                let namespace = namespace.as_deref().or(release_ns);
                let found: Vec<&ChartSource> = self
                    .chart_sources
                    .iter()
                    .filter(|s| {
                        &s.kind == kind
                            && &s.name == name
                            && match (&s.namespace, namespace) {
                                (Some(a), Some(b)) => a == b,
                                _ => true,
                            }
                    })
                    .collect();
                let named: Vec<&str> = found.iter().filter_map(|s| s.chart.as_deref()).collect();
                let known: Vec<&charts::Chart> =
                    named.iter().filter_map(|c| charts::find(c)).collect();
                match known.first() {
                    Some(first)
                        if known.len() == found.len()
                            && known.iter().all(|c| c.name == first.name) =>
                    {
                        Chart::Known(first)
                    }
                    _ => Chart::Unknown,
                }
            }
            _ => Chart::Unknown,
        }
    }

    /// A chart path of a GitRepository or Bucket that is a chart folder of the scan.
    fn local_chart(&self, path: &str, from: FileId) -> Option<Chart> {
        let dir = normalize(
            self.sources
                .get(from)
                .path
                .parent()
                .unwrap_or(Path::new("")),
        );
        // The shown path may differ from the walked one: find the file's own path.
        let dir = self
            .paths
            .get(&from)
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or(dir);
        let folder = resolve_source_path(path, &dir, self.root, self.by_path)?;
        let chart_file = *self.by_path.get(&folder.join("Chart.yaml"))?;
        Some(Chart::Local(folder, chart_file))
    }

    /// `valuesFrom` in order, each ConfigMap's key read as YAML (or set at `targetPath`).
    fn values_from(&self, r: &ReleaseObject, values: &mut Values, seen: Option<&RefCell<Seen>>) {
        let namespace = r.namespace.as_ref().map(|n| n.value.as_str());
        for from in r.values_from.iter().flatten() {
            let secret = match from.kind.as_str() {
                "ConfigMap" => false,
                "Secret" => true,
                _ => {
                    values.unknown = true;
                    continue;
                }
            };
            let Some(name) = &from.name else {
                values.unknown = true;
                continue;
            };
            let candidates = candidates(self.config, secret, name, namespace, &r.unit);
            if candidates.is_empty() {
                values.unknown = true;
                continue;
            }
            let value = match key_of(&candidates, &from.values_key) {
                Ok(Some((v, _))) => v,
                Ok(None) if from.optional => continue,
                _ => {
                    values.unknown = true;
                    continue;
                }
            };
            if let Some(path) = &from.target_path {
                values.set(
                    split_key(path),
                    Value::String(value.value.value.clone()),
                    value.value.span,
                );
                continue;
            }
            match value.yaml_at {
                Some(at) if !value.edits.is_empty() => match value.value.value.as_known() {
                    Some(text) => self.read_substituted_values(at, text, &value.edits, values),
                    None => values.unknown = true,
                },
                Some(at) => {
                    if let Some(seen) = seen {
                        seen.borrow_mut().file(self.sources, at.file);
                    }
                    self.read_values_at(at, values)
                }
                None => match value.value.value.as_known().and_then(yaml_value) {
                    Some(v) => values.merge(&v, &|_| value.value.span),
                    None => values.unknown = true,
                },
            }
        }
    }

    /// Values of a whole file as Flux's post-build step substituted it (`text`, changed by
    /// `edits`), each spanned at its original in the file.
    fn read_substituted_values(&self, at: Span, text: &str, edits: &[Edit], values: &mut Values) {
        let mut read = Values::default();
        let loaded = crate::parse::yaml::read_plain_documents(at.file, text, &mut |doc, p| {
            objects::read_values(doc, p, &mut read)
        });
        let s = Substituted {
            text: String::new(),
            edits: edits.to_vec(),
        };
        let back = |span: &mut Span| {
            let r = s.original_range(span.range());
            span.start = r.start as u32;
            span.end = r.end as u32;
        };
        read.spans.values_mut().for_each(back);
        read.key_spans.values_mut().for_each(back);
        read.unknown |= !loaded;
        merge_values(values, &read, at);
    }

    /// Values written as YAML at `at` (a file, a literal block), with their own positions.
    fn read_values_at(&self, at: Span, values: &mut Values) {
        let text = &self.sources.get(at.file).text[at.range()];
        let mut read = Values::default();
        let loaded = crate::parse::yaml::read_plain_documents(at.file, text, &mut |doc, p| {
            objects::read_values(doc, p, &mut read)
        });
        let shift = |s: &mut Span| {
            s.start += at.start;
            s.end += at.start;
        };
        read.spans.values_mut().for_each(shift);
        read.key_spans.values_mut().for_each(shift);
        read.unknown |= !loaded;
        merge_values(values, &read, at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_top_level_kind_line_names_the_kind() {
        let crd = "kind: CustomResourceDefinition\nspec:\n  names:\n    kind: Kustomization\n";
        assert!(!may_be_kind(crd, "Kustomization"));
        assert!(may_be_kind(
            "kind: \"Kustomization\" # flux\n",
            "Kustomization"
        ));
        assert!(may_be_kind(
            "{\"kind\": \"Kustomization\"}\n",
            "Kustomization"
        ));
    }

    #[test]
    fn another_repository_is_told_by_its_url() {
        let repos = GitRepositories {
            urls: HashMap::from_iter([
                (
                    "flux-system".to_string(),
                    "ssh://git@github.com/acme/fleet.git".to_string(),
                ),
                (
                    "fleet".to_string(),
                    "https://github.com/acme/fleet".to_string(),
                ),
                (
                    "team".to_string(),
                    "https://github.com/acme/team".to_string(),
                ),
            ]),
        };
        let spec = |kind: &str, name: &str| serde_json::json!({ "sourceRef": { "kind": kind, "name": name } });
        assert!(!repos.is_other(&spec("GitRepository", "flux-system")));
        assert!(!repos.is_other(&spec("GitRepository", "fleet")));
        assert!(repos.is_other(&spec("GitRepository", "team")));
        // Not declared in the scan: taken to be this repository.
        assert!(!repos.is_other(&spec("GitRepository", "made-by-terraform")));
        assert!(!repos.is_other(&spec("ExternalArtifact", "infra-artifact")));
        assert!(repos.is_other(&spec("OCIRepository", "capacitor")));
    }
}
