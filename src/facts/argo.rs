//! Argo CD `Application`s (and the `template` of `ApplicationSet`s), and the local Helm charts
//! they or Terraform install.
//!
//! An Application decides where a folder of the repository lands: its manifests or its
//! kustomization get the destination namespace where they set none, and a chart folder gets
//! its release name and namespace. A chart's ServiceAccount follows the common
//! `serviceAccount.{create,name,annotations}` values when its templates read them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use super::charts::{self, DefaultName};
use super::kubernetes::{
    ChartRelease, Values, annotation_settings, chart_service_account, image_tag,
    record_chart_service_accounts, split_key, yaml_value,
};
use super::{Facts, Found, HelmRelease, Spanned, local_chart};
use crate::eval::render::Rendered;
use crate::eval::value::Value;
use crate::eval::workspace::normalize;
use crate::facts::manifests::{ManifestSyntax, extract_manifests};
use crate::source::{FileId, Marker, SourceMap, Span};

/// Folders of manifests claimed by an Application, with the facts it renders for them.
#[derive(Default)]
pub struct Applications {
    pub facts: Facts,
    /// Files whose objects count only as the Application renders them.
    pub owned: HashSet<FileId>,
    /// Kustomize views an Application deploys (their folders).
    pub claimed_views: HashSet<PathBuf>,
}

pub fn render(
    sources: &SourceMap,
    files: &[(FileId, PathBuf)],
    views: &BTreeMap<PathBuf, Facts>,
    loader: &dyn crate::eval::FileLoader,
) -> Applications {
    let mut candidates = (files.iter())
        .filter(|(id, _)| sources.get(*id).mentions(Marker::ArgoCd))
        .peekable();
    let mut out = Applications::default();
    // Most trees have no Argo CD Application: the index of every path is built only for one.
    if candidates.peek().is_none() {
        return out;
    }
    let by_path: HashMap<PathBuf, FileId> =
        files.iter().map(|(id, p)| (normalize(p), *id)).collect();
    let tree = FileTree::new(&by_path);
    let own = own_repositories(sources, files, &tree);
    for (id, path) in candidates {
        let text = &sources.get(*id).text;
        let file = AppFile {
            sources,
            loader,
            by_path: &by_path,
            tree: &tree,
            own_repositories: &own,
            file: *id,
            text,
            dir: normalize(path.parent().unwrap_or(Path::new(""))),
            unit: unit_of_path(&sources.get(*id).path),
            shown: sources.get(*id).path.display().to_string(),
            rendered: None,
        };
        file.applications(views, &mut out);
    }
    out
}

/// The ServiceAccounts of the Argo CD Applications in a manifest Terraform renders
/// (`kubectl_manifest`), spanned in the rendered text `file`. Only remote charts are followed:
/// a folder of the repository, named from Terraform, hides ServiceAccounts.
pub(crate) fn rendered_applications(
    file: FileId,
    rendered: &Rendered,
    unit: &str,
    shown: &str,
) -> Facts {
    let sources = SourceMap::default();
    let by_path = HashMap::new();
    let tree = FileTree::new(&by_path);
    let own = HashSet::new();
    let app_file = AppFile {
        sources: &sources,
        // Only remote charts are followed from a rendering: no chart folder is read.
        loader: &NoChartFiles,
        by_path: &by_path,
        tree: &tree,
        own_repositories: &own,
        file,
        text: rendered.text(),
        dir: PathBuf::new(),
        unit: unit.to_string(),
        shown: shown.to_string(),
        rendered: Some(rendered),
    };
    let mut out = Applications::default();
    app_file.applications(&BTreeMap::new(), &mut out);
    out.facts
}

/// The loader of a rendered Application, which follows no chart folder.
struct NoChartFiles;

impl crate::eval::FileLoader for NoChartFiles {
    fn load(&self, _path: &Path) -> Option<(FileId, std::sync::Arc<str>)> {
        None
    }
}

/// A file (or a rendering) that may hold Applications.
struct AppFile<'a> {
    sources: &'a SourceMap,
    /// Reads a chart folder's files that are not manifests (`_helpers.tpl`).
    loader: &'a dyn crate::eval::FileLoader,
    by_path: &'a HashMap<PathBuf, FileId>,
    tree: &'a FileTree,
    /// The repositories known to be this one (see [`own_repositories`]).
    own_repositories: &'a HashSet<String>,
    file: FileId,
    text: &'a str,
    /// The folder source paths are resolved from.
    dir: PathBuf,
    /// The deployment unit its objects belong to.
    unit: String,
    /// How the Application is named in notes: its file, or how Terraform renders it.
    shown: String,
    /// The rendering the text is, when Terraform renders it: its holes are values.
    rendered: Option<&'a Rendered>,
}

impl AppFile<'_> {
    fn applications(&self, views: &BTreeMap<PathBuf, Facts>, out: &mut Applications) {
        for range in crate::parse::yaml::document_ranges(self.text) {
            // A CustomResourceDefinition is a schema, often megabytes: never an Application.
            if crate::parse::yaml::is_schema_document(&self.text[range.clone()]) {
                continue;
            }
            let Some(doc) = crate::parse::yaml::to_json(&self.text[range.clone()]) else {
                continue;
            };
            // An ApplicationSet generates Applications from its template, named by it.
            let (spec, name) = match doc.get("kind").and_then(|k| k.as_str()) {
                Some("Application") => (doc.get("spec"), doc.pointer("/metadata/name")),
                Some("ApplicationSet") => (
                    doc.pointer("/spec/template/spec"),
                    doc.pointer("/spec/template/metadata/name"),
                ),
                _ => (None, None),
            };
            let Some(spec) = spec else { continue };
            // Generator placeholders (`{{region}}`) are filled in per generated Application:
            // what the template says is unknown until then.
            if doc
                .pointer("/spec/template")
                .is_some_and(|t| t.to_string().contains("{{"))
            {
                out.facts.hidden_service_accounts = true;
                continue;
            }
            let app = App {
                file: self,
                range,
                name: name.and_then(|v| v.as_str()).unwrap_or("").to_string(),
            };
            app.render(spec, views, out);
        }
    }
}

fn unit_of_path(path: &Path) -> String {
    path.parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

struct App<'a> {
    file: &'a AppFile<'a>,
    /// This Application's document in the file.
    range: std::ops::Range<usize>,
    name: String,
}

impl App<'_> {
    fn render(
        &self,
        spec: &serde_json::Value,
        views: &BTreeMap<PathBuf, Facts>,
        out: &mut Applications,
    ) {
        let Some(namespace) = spec
            .pointer("/destination/namespace")
            .and_then(|v| v.as_str())
        else {
            return;
        };
        // `{{ }}`: an ApplicationSet generator decides; a hole: known after Terraform's apply.
        if namespace.contains("{{") || self.has_hole(namespace) {
            out.facts.hidden_service_accounts = true;
            return;
        }
        let ns_span = self.value_span(&["destination", "namespace"]);
        let sources: Vec<&serde_json::Value> = match spec.get("sources").and_then(|s| s.as_array())
        {
            Some(list) => list.iter().collect(),
            None => spec.get("source").into_iter().collect(),
        };
        for source in sources {
            if let Some(chart) = source.get("chart").and_then(|c| c.as_str()) {
                self.remote_chart(chart, source, namespace, ns_span, out);
            } else if let Some(path) = source.get("path").and_then(|p| p.as_str()) {
                // Argo CD's own kustomize options: a namespace moves every object; patches,
                // images or replicas and the like change what irsa-lint does not replay.
                let kustomize = source.get("kustomize").and_then(|k| k.as_object());
                if kustomize.is_some_and(|k| k.keys().any(|key| key != "namespace")) {
                    // Its objects are not what lands; nothing about them is known.
                    let mut discarded = Applications::default();
                    self.folder(path, source, namespace, ns_span, views, &mut discarded);
                    out.owned.extend(discarded.owned);
                    out.claimed_views.extend(discarded.claimed_views);
                    out.facts.hidden_service_accounts = true;
                    continue;
                }
                match kustomize
                    .and_then(|k| k.get("namespace"))
                    .and_then(|n| n.as_str())
                {
                    Some(forced) if !forced.is_empty() => {
                        let span = self.value_span(&["kustomize", "namespace"]);
                        let before = out.facts.service_accounts.len();
                        self.folder(path, source, forced, span, views, out);
                        for sa in &mut out.facts.service_accounts[before..] {
                            sa.namespace = Spanned::new(forced.to_string(), span);
                            sa.namespace_explicit = true;
                        }
                    }
                    _ => self.folder(path, source, namespace, ns_span, views, out),
                }
            }
        }
    }

    /// The span of the value of the YAML key path `keys` in this Application's document.
    fn value_span(&self, keys: &[&str]) -> Span {
        value_span(self.file.text, self.file.file, self.range.clone(), keys)
    }

    fn release_name(&self, source: &serde_json::Value) -> String {
        source
            .pointer("/helm/releaseName")
            .and_then(|v| v.as_str())
            .unwrap_or(&self.name)
            .to_string()
    }

    /// Helm values an Application sets: `valueFiles` (of the chart folder), `values` (YAML
    /// text), `valuesObject`, then `parameters`, each shown where it is written.
    fn helm_values(
        &self,
        source: &serde_json::Value,
        chart_dir: Option<&Path>,
        values: &mut Values,
    ) {
        let helm = self.value_span(&["helm"]);
        if let (Some(files), Some(dir)) = (
            source
                .pointer("/helm/valueFiles")
                .and_then(|v| v.as_array()),
            chart_dir,
        ) {
            for f in files.iter().filter_map(|f| f.as_str()) {
                match self
                    .file
                    .by_path
                    .get(&normalize(&dir.join(f)))
                    .and_then(|id| yaml_value(&self.file.sources.get(*id).text))
                {
                    Some(v) => values.merge(&v, &|_| helm),
                    None => values.unknown = true,
                }
            }
        }
        if let Some(text) = source.pointer("/helm/values").and_then(|v| v.as_str()) {
            match yaml_value(text).and_then(|v| self.restored(v)) {
                Some(v) => values.merge(&v, &|_| self.value_span(&["helm", "values"])),
                None => values.unknown = true,
            }
        }
        if let Some(object) = source.pointer("/helm/valuesObject")
            && let Some(v) = yaml_value(&object.to_string())
        {
            let Some(v) = self.restored(v) else {
                values.unknown = true;
                return;
            };
            values.merge(&v, &|path| {
                let mut keys = vec!["helm", "valuesObject"];
                keys.extend(path.iter().map(String::as_str));
                self.value_span(&keys)
            });
        }
        for p in source
            .pointer("/helm/parameters")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            if let (Some(name), Some(value)) = (
                p.get("name").and_then(|v| v.as_str()),
                p.get("value").and_then(|v| v.as_str()),
            ) {
                let span = self.value_span(&["parameters", &format!("name: {name}"), "value"]);
                if self.has_hole(name) {
                    values.unknown = true;
                    continue;
                }
                let value = match self.file.rendered {
                    Some(rendered) => rendered.scalar(value),
                    None => Value::str(value),
                };
                values.set(split_key(name), value, span);
            }
        }
    }

    fn remote_chart(
        &self,
        chart: &str,
        source: &serde_json::Value,
        namespace: &str,
        ns_span: Span,
        out: &mut Applications,
    ) {
        let release = self.release_name(source);
        let repository = source.get("repoURL").and_then(|r| r.as_str());
        let Some(known) = charts::find_in(chart, repository).filter(|_| !self.has_hole(&release))
        else {
            out.facts.hidden_service_accounts = true;
            return;
        };
        // For a chart, `targetRevision` is its version (a constraint, or `*`).
        let version = charts::Version::written(
            source
                .get("targetRevision")
                .map(|v| v.as_str().filter(|t| !t.contains("{{"))),
        );
        let Some(eras) = known.eras(&version) else {
            out.facts.hidden_service_accounts = true;
            return;
        };
        let mut values = Values::default();
        self.helm_values(source, None, &mut values);
        let label = self.value_span(&["metadata", "name"]);
        let namespace = Spanned::new(namespace.to_string(), ns_span);
        let unit = self.file.unit.clone();
        out.facts.helm_releases.push(self.release_fact(
            known.name,
            &release,
            &namespace.value,
            &values,
            Some(known.annotation_keys(eras)),
            source,
        ));
        let chart = ChartRelease {
            chart_name: known.name,
            service_account_key: known.service_account,
            default_name: DefaultName::Chart(eras),
            release: &release,
            label,
            namespace,
            unit: &unit,
        };
        for mut sa in record_chart_service_accounts(&chart, &values, &mut out.facts) {
            sa.rendered.push(self.note());
            out.facts.service_accounts.push(sa);
        }
    }

    /// The release as IRSA026 checks it: the values that set a role-arn annotation.
    fn release_fact(
        &self,
        chart: &str,
        release: &str,
        namespace: &str,
        values: &Values,
        annotation_keys: Option<Vec<String>>,
        source: &serde_json::Value,
    ) -> HelmRelease {
        let name_span = self.value_span(&["metadata", "name"]);
        HelmRelease {
            address: format!("Application {}", self.name),
            declared_by: "Argo CD Application",
            span: self.value_span(&["metadata", "name"]),
            chart: chart.to_string(),
            release_name: release.to_string(),
            namespace: namespace.to_string(),
            annotation_settings: annotation_settings(values),
            annotation_keys,
            unit: self.file.unit.clone(),
            existing_service_account: None,
            local_chart: false,
            chart_version: Some(
                self.chart_version(source)
                    .unwrap_or(Spanned::new(None, name_span)),
            ),
            image_tag: image_tag(values, name_span),
            default_version: None,
            when: Vec::new(),
        }
    }

    /// A chart source's `targetRevision`, the chart version Argo CD installs, where it is
    /// written; `None` when it cannot be told (absent, a template, an Application of several
    /// sources, whose `spec.source` this is not).
    fn chart_version(&self, source: &serde_json::Value) -> Option<Spanned<Option<String>>> {
        let text = source.get("targetRevision")?.as_str()?;
        let span = self.value_span(&["spec", "source", "targetRevision"]);
        let written = self.file.text.get(span.start as usize..span.end as usize)?;
        let known = !text.contains("{{") && !self.has_hole(text) && written.contains(text);
        (span.start != span.end).then(|| Spanned::new(known.then(|| text.to_string()), span))
    }

    fn note(&self) -> String {
        format!(
            "deployed by Argo CD Application {} ({})",
            self.name, self.file.shown
        )
    }

    /// Whether text of a rendered Application holds a hole: a value known only after apply.
    fn has_hole(&self, text: &str) -> bool {
        self.file.rendered.is_some_and(|r| r.has_hole(text))
    }

    /// A value read from the Application, its holes put back; `None` when a key is a hole.
    fn restored(&self, value: Value) -> Option<Value> {
        match self.file.rendered {
            Some(rendered) => super::rendered::restore_value(value, rendered),
            None => Some(value),
        }
    }

    /// The folder a source path names: relative to the repository root, which is one of the
    /// Application file's ancestors.
    fn resolve(&self, path: &str) -> Option<PathBuf> {
        self.file.tree.resolve(&self.file.dir, path)
    }

    fn folder(
        &self,
        path: &str,
        source: &serde_json::Value,
        namespace: &str,
        ns_span: Span,
        views: &BTreeMap<PathBuf, Facts>,
        out: &mut Applications,
    ) {
        // The root of a repository resolves to a folder of any scan: it is this one's only
        // when this repository is known by that URL (an Application of another repository
        // with `path: .` must not claim the scan's files).
        let repository = source.get("repoURL").and_then(|r| r.as_str()).map(trim_url);
        let root_of_unknown_repository = is_repository_root(path)
            && repository.is_none_or(|url| !self.file.own_repositories.contains(url));
        let folder = match self.resolve(path) {
            Some(folder) if !root_of_unknown_repository => folder,
            _ => {
                out.facts.hidden_service_accounts = true; // another repository
                return;
            }
        };
        if let Some(&chart_file) = self.file.by_path.get(&folder.join("Chart.yaml")) {
            self.local_chart(&folder, chart_file, source, namespace, ns_span, out);
            return;
        }
        let mut facts = match views.get(&folder) {
            Some(view) => {
                out.claimed_views.insert(folder.clone());
                clone_objects(view)
            }
            None => {
                let recurse = source
                    .pointer("/directory/recurse")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false);
                let mut facts = Facts::default();
                for (p, id) in self.file.tree.files_in(&folder, recurse) {
                    if is_manifest(p) {
                        out.owned.insert(id);
                        facts.extend(self.file.tree.manifest_facts(
                            id,
                            &self.file.sources.get(id).text,
                            &self.file.unit,
                        ));
                    }
                }
                facts
            }
        };
        for sa in &mut facts.service_accounts {
            if !sa.namespace_explicit {
                sa.namespace = Spanned::new(namespace.to_string(), ns_span);
                sa.namespace_explicit = true;
            }
            sa.rendered.push(self.note());
        }
        for w in &mut facts.workloads {
            if w.namespace.is_none() {
                w.namespace = Some(Spanned::new(namespace.to_string(), ns_span));
            }
        }
        for r in &mut facts.release_objects {
            if r.namespace.is_none() {
                r.namespace = Some(Spanned::new(namespace.to_string(), ns_span));
            }
            r.rendered.push(self.note());
        }
        out.facts.extend(facts);
    }

    /// A chart folder of the repository: its ServiceAccount, when its templates follow the
    /// common `serviceAccount` values.
    fn local_chart(
        &self,
        folder: &Path,
        chart_file: FileId,
        source: &serde_json::Value,
        namespace: &str,
        ns_span: Span,
        out: &mut Applications,
    ) {
        let release = self.release_name(source);
        let namespace = Spanned::new(namespace.to_string(), ns_span);
        let unit = self.file.unit.clone();
        let chart = LocalChart {
            sources: self.file.sources,
            by_path: &self.file.tree.files,
            folder,
            chart_file,
            memo: self.file.loader.memo(),
            seen: None,
        };
        let found = local_chart_service_accounts(
            &chart,
            Some(self.file.loader),
            self.value_span(&["metadata", "name"]),
            &release,
            namespace,
            &unit,
            |values| self.helm_values(source, Some(folder), values),
        );
        match found {
            Found::Yes(found) => {
                for mut sa in found {
                    sa.rendered.push(self.note());
                    out.facts.service_accounts.push(sa);
                }
            }
            Found::No => {}
            Found::Unknown => out.facts.hidden_service_accounts = true,
        }
    }
}

/// The scan's files as folders: which folders hold files, the files below a folder, and
/// the manifests' facts, each extracted once however many Applications deploy its folder.
struct FileTree {
    /// Every folder that holds a file at some depth.
    folders: HashSet<PathBuf>,
    /// Every file, in path order: the files below a folder are one run of it.
    files: std::collections::BTreeMap<PathBuf, FileId>,
    extracted: std::cell::RefCell<HashMap<(FileId, String), Facts>>,
}

impl FileTree {
    fn new(by_path: &HashMap<PathBuf, FileId>) -> FileTree {
        let mut folders = HashSet::new();
        for path in by_path.keys() {
            for folder in path.ancestors().skip(1) {
                if !folders.insert(folder.to_path_buf()) {
                    break; // and so were its ancestors
                }
            }
        }
        FileTree {
            folders,
            files: by_path.iter().map(|(p, id)| (p.clone(), *id)).collect(),
            extracted: Default::default(),
        }
    }

    /// The folder a source path names, relative to the repository root, which is `dir` or
    /// one of its ancestors (the nearest that has such a folder).
    fn resolve(&self, dir: &Path, path: &str) -> Option<PathBuf> {
        dir.ancestors()
            .map(|d| normalize(&d.join(path)))
            .find(|candidate| self.folders.contains(candidate))
    }

    /// The files directly in `folder`, or at any depth below it.
    fn files_in<'t>(
        &'t self,
        folder: &'t Path,
        recurse: bool,
    ) -> impl Iterator<Item = (&'t PathBuf, FileId)> + 't {
        files_below(&self.files, folder).filter(move |(p, _)| recurse || p.parent() == Some(folder))
    }

    fn manifest_facts(&self, id: FileId, text: &str, unit: &str) -> Facts {
        let key = (id, unit.to_string());
        if let Some(facts) = self.extracted.borrow().get(&key) {
            return facts.clone();
        }
        let mut facts = extract_manifests(id, text, ManifestSyntax::Yaml, unit);
        facts.parse_errors.clear();
        self.extracted.borrow_mut().insert(key, facts.clone());
        facts
    }
}

/// The files of `files` at any depth below `folder` (and `folder` itself, if a file): one
/// run of the map, since paths sort by component.
pub(crate) fn files_below<'t>(
    files: &'t BTreeMap<PathBuf, FileId>,
    folder: &'t Path,
) -> impl Iterator<Item = (&'t PathBuf, FileId)> + 't {
    files
        .range(folder.to_path_buf()..)
        .take_while(move |(p, _)| p.starts_with(folder))
        .map(|(p, id)| (p, *id))
}

/// `.`, `./` or nothing: the root of whatever repository the source names.
fn is_repository_root(path: &str) -> bool {
    matches!(path.trim_end_matches('/'), "" | ".")
}

/// A Git URL without its scheme, user, `.git` suffix or trailing slash.
fn trim_url(url: &str) -> &str {
    let url = url.split_once("://").map_or(url, |(_, rest)| rest);
    let url = url.split_once('@').map_or(url, |(_, rest)| rest);
    let url = url.trim_end_matches('/');
    url.strip_suffix(".git").unwrap_or(url)
}

/// The repositories this scan is known to be: those of Applications whose source path names
/// a folder of the scan other than its root (`apps/monitoring` is evidence, `.` fits any).
fn own_repositories(
    sources: &SourceMap,
    files: &[(FileId, PathBuf)],
    tree: &FileTree,
) -> HashSet<String> {
    let mut own = HashSet::new();
    for (id, path) in files {
        if !sources.get(*id).mentions(Marker::ArgoCd) {
            continue;
        }
        let text = &sources.get(*id).text;
        let dir = normalize(path.parent().unwrap_or(Path::new("")));
        for range in crate::parse::yaml::document_ranges(text) {
            if crate::parse::yaml::is_schema_document(&text[range.clone()]) {
                continue;
            }
            let Some(doc) = crate::parse::yaml::to_json(&text[range]) else {
                continue;
            };
            let spec = match doc.get("kind").and_then(|k| k.as_str()) {
                Some("Application") => doc.get("spec"),
                Some("ApplicationSet") => doc.pointer("/spec/template/spec"),
                _ => None,
            };
            let Some(spec) = spec else { continue };
            let sources = match spec.get("sources").and_then(|s| s.as_array()) {
                Some(list) => list.iter().collect(),
                None => spec.get("source").into_iter().collect::<Vec<_>>(),
            };
            for source in sources {
                if let (Some(url), Some(path)) = (
                    source.get("repoURL").and_then(|r| r.as_str()),
                    source.get("path").and_then(|p| p.as_str()),
                ) && !is_repository_root(path)
                    && !path.contains("{{")
                    && tree.resolve(&dir, path).is_some()
                {
                    own.insert(trim_url(url).to_string());
                }
            }
        }
    }
    own
}

/// The span of the value of the YAML key path `keys` (each found after the previous one) in
/// one document (`range`) of a file, without a trailing comment; the document's start when
/// it is not found.
pub(crate) fn value_span(
    text: &str,
    file: FileId,
    range: std::ops::Range<usize>,
    keys: &[&str],
) -> Span {
    let doc = &text[range.clone()];
    let mut at = 0;
    for key in keys {
        let pattern = format!("{key}:");
        let found = doc[at..].match_indices(&pattern).find(|(i, _)| {
            let start = at + i;
            start == 0 || matches!(doc.as_bytes()[start - 1], b' ' | b'\n' | b'-')
        });
        match found {
            Some((i, _)) => at += i + pattern.len(),
            None => return Span::new(file, range.start..range.start),
        }
    }
    let line_end = doc[at..].find('\n').map(|j| at + j).unwrap_or(doc.len());
    let line = &doc[at..line_end];
    let value = line.split(" #").next().unwrap_or(line).trim();
    let offset = at + line.find(value).unwrap_or(0);
    let start = range.start + offset;
    Span::new(file, start..start + value.len())
}

fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    ) && !path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("kustomization"))
}

fn clone_objects(view: &Facts) -> Facts {
    Facts {
        service_accounts: view.service_accounts.clone(),
        workloads: view.workloads.clone(),
        release_objects: view.release_objects.clone(),
        hidden_service_accounts: view.hidden_service_accounts,
        ..Facts::default()
    }
}

/// The ServiceAccount of a chart folder for one release: `No` when it creates none,
/// `Unknown` when that cannot be told (templates that do not read `serviceAccount` values).
/// A chart folder of the repository: its `Chart.yaml` among the files read.
pub(crate) struct LocalChart<'a> {
    pub sources: &'a SourceMap,
    /// Every file read, by path.
    pub by_path: &'a BTreeMap<PathBuf, FileId>,
    pub folder: &'a Path,
    pub chart_file: FileId,
    /// Where what is made of the chart's files is kept for the run.
    pub memo: Option<&'a crate::parse::memo::TextMemo>,
    /// What reading the chart looks at, when what is made of it is to be kept.
    pub seen: Option<&'a std::cell::RefCell<super::kustomize::Seen>>,
}

impl LocalChart<'_> {
    /// The text of a file of the scan, recorded as read.
    pub(crate) fn text(&self, id: FileId) -> &std::sync::Arc<str> {
        if let Some(seen) = self.seen {
            seen.borrow_mut().file(self.sources, id);
        }
        &self.sources.get(id).text
    }

    /// The scanned file at a path, recorded as looked up.
    pub(crate) fn file_at(&self, path: &Path) -> Option<FileId> {
        let found = self.by_path.get(path).copied();
        if let Some(seen) = self.seen {
            seen.borrow_mut().path(path, found);
        }
        found
    }

    /// Every scanned file below a folder, recorded as listed.
    pub(crate) fn files_below<'d>(&'d self, dir: &'d Path) -> Vec<(&'d PathBuf, FileId)> {
        let found: Vec<(&PathBuf, FileId)> = files_below(self.by_path, dir).collect();
        if let Some(seen) = self.seen {
            seen.borrow_mut()
                .listed(dir, found.iter().map(|(_, id)| *id).collect());
        }
        found
    }
}

/// The one ServiceAccount of a chart folder for one release: `Unknown` when it makes several
/// (see [`local_chart_service_accounts`]), for readers that take one.
pub(crate) fn local_chart_service_account(
    chart: &LocalChart<'_>,
    release: &str,
    namespace: Spanned<String>,
    unit: &str,
    extra_values: impl FnOnce(&mut Values),
) -> Found<super::ServiceAccount> {
    let label = Span::file_start(chart.chart_file);
    match local_chart_service_accounts(chart, None, label, release, namespace, unit, extra_values) {
        Found::Yes(mut found) if found.len() == 1 => Found::Yes(found.remove(0)),
        Found::Yes(_) | Found::Unknown => Found::Unknown,
        Found::No => Found::No,
    }
}

/// The ServiceAccounts of a chart folder for one release: `No` when it creates none,
/// `Unknown` when that cannot be told.
pub(crate) fn local_chart_service_accounts(
    chart: &LocalChart<'_>,
    loader: Option<&dyn crate::eval::FileLoader>,
    label: Span,
    release: &str,
    namespace: Spanned<String>,
    unit: &str,
    extra_values: impl FnOnce(&mut Values),
) -> Found<Vec<super::ServiceAccount>> {
    // Its templates rendered for the release; a chart they cannot be rendered for is read
    // by the common `serviceAccount` values, as `helm create` scaffolds them.
    let local_release = local_chart::Release {
        name: release,
        namespace: namespace.clone(),
        label,
        unit,
    };
    let files = local_chart::RepositoryFiles { chart, loader };
    let values = local_chart::chart_values(&files, chart.folder, extra_values);
    match local_chart::service_accounts(&files, chart.folder, &local_release, &values) {
        Found::Unknown => match convention_service_account(chart, release, namespace, unit, values)
        {
            Found::Yes(sa) => Found::Yes(vec![sa]),
            Found::No => Found::No,
            Found::Unknown => Found::Unknown,
        },
        found => found,
    }
}

/// The ServiceAccount of a chart whose templates read the common `serviceAccount` values.
fn convention_service_account(
    chart: &LocalChart<'_>,
    release: &str,
    namespace: Spanned<String>,
    unit: &str,
    values: Values,
) -> Found<super::ServiceAccount> {
    let local = chart;
    let (folder, chart_file) = (local.folder, local.chart_file);
    let Some(chart) = yaml_value(local.text(chart_file)) else {
        return Found::Unknown;
    };
    let Some(chart_name) = chart.get_attr("name").as_known_str().map(str::to_string) else {
        return Found::Unknown;
    };
    // Only a chart whose templates read the common values is understood.
    let templates = folder.join("templates");
    let reads_convention = (local.files_below(&templates).into_iter()).any(|(_, id)| {
        local
            .text(id)
            .contains(".Values.serviceAccount.annotations")
    });
    if !reads_convention {
        return Found::Unknown;
    }
    let label = Span::file_start(chart_file);
    let chart = ChartRelease {
        chart_name: &chart_name,
        service_account_key: "serviceAccount",
        default_name: DefaultName::Fullname,
        release,
        label,
        namespace,
        unit,
    };
    chart_service_account(&chart, &values)
}
