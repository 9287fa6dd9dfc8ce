//! Charts of the repository itself (`chart = "../charts/ledger"`, an Argo CD source `path`):
//! their ServiceAccount templates rendered for one release, with the chart's `values.yaml`
//! under the release's values, and the local charts it depends on rendered with the values
//! the parent passes them (`ledger.serviceAccount.annotations` for the `ledger`
//! dependency). Whatever `.Values` path a template reads its name or annotations from, the
//! ServiceAccount comes out at values level, spanned where the value was written.
//!
//! A chart whose ServiceAccount templates use what `helm_template` does not follow, whose
//! values are not all known, or that depends on a chart of another repository is unknown.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use foldhash::{HashMap, HashMapExt};

use super::helm_template::Renderer;
use super::kubernetes::{Values, yaml_value};
use super::{Annotation, Found, ServiceAccount, Spanned};
use crate::eval::value::{Str, Value};
use crate::eval::workspace::normalize;
use crate::parse::gotemplate::{self, Node};
use crate::parse::memo::TextMemo;
use crate::source::{FileId, Span};

/// How deep local charts may depend on each other.
const MAX_DEPENDENCY_DEPTH: usize = 4;

/// The files of the repository a chart folder is read from.
pub(crate) trait ChartFiles {
    fn read(&self, path: &Path) -> Option<(FileId, Arc<str>)>;
    /// The template files of a chart folder's `templates/`.
    fn templates(&self, dir: &Path) -> Vec<PathBuf>;
    /// Whether `templates` lists every template of the chart folder, or only the usual names
    /// of a ServiceAccount template and the helpers.
    fn lists_every_template(&self, dir: &Path) -> bool;
    /// Where what is made of the files is kept for the run.
    fn memo(&self) -> Option<&TextMemo> {
        None
    }
}

/// A file's YAML as a value (`None` when it is not YAML), made once per run.
struct YamlOf(Option<Value>);
/// Where each scalar of a values file is written ([`leaf_spans`]), made once per run.
struct SpansOf(HashMap<Vec<String>, Span>);
/// A template file parsed, made once per run.
struct TemplateOf(Option<gotemplate::Template>);

/// What `make` makes of a file read from `files`: kept in the run's memo when there is one.
fn made<T: std::any::Any + Send + Sync>(
    files: &dyn ChartFiles,
    (id, text): &(FileId, Arc<str>),
    make: impl FnOnce(&str) -> T,
) -> Arc<T> {
    match files.memo() {
        Some(memo) => memo.get(*id, text, || make(text)),
        None => Arc::new(make(text)),
    }
}

fn yaml_of(files: &dyn ChartFiles, read: &(FileId, Arc<str>)) -> Arc<YamlOf> {
    made(files, read, |text| YamlOf(yaml_value(text)))
}

fn spans_of(files: &dyn ChartFiles, read: &(FileId, Arc<str>)) -> Arc<SpansOf> {
    made(files, read, |text| SpansOf(leaf_spans(read.0, text)))
}

/// The scanned files of a repository (an Argo CD Application's), and the loader for the
/// chart files that are not manifests (`_helpers.tpl`).
pub(crate) struct RepositoryFiles<'a> {
    pub chart: &'a super::argo::LocalChart<'a>,
    pub loader: Option<&'a dyn crate::eval::FileLoader>,
}

/// Helpers files charts usually have, which are not scanned as manifests.
const USUAL_HELPERS: &[&str] = &["_helpers.tpl", "_helper.tpl", "helpers.tpl", "_common.tpl"];

impl ChartFiles for RepositoryFiles<'_> {
    fn read(&self, path: &Path) -> Option<(FileId, Arc<str>)> {
        match self.chart.file_at(path) {
            Some(id) => Some((id, self.chart.text(id).clone())),
            None => self.loader?.load(path),
        }
    }

    fn templates(&self, dir: &Path) -> Vec<PathBuf> {
        let templates = dir.join("templates");
        let mut found: Vec<PathBuf> = (self.chart.files_below(&templates).into_iter())
            .filter(|(p, _)| {
                p.extension()
                    .is_some_and(|e| e == "yaml" || e == "yml" || e == "tpl")
            })
            .map(|(p, _)| p.clone())
            .collect();
        found.extend(USUAL_HELPERS.iter().map(|n| templates.join(n)));
        found.sort();
        found.dedup();
        found
    }

    fn lists_every_template(&self, _dir: &Path) -> bool {
        true
    }

    fn memo(&self) -> Option<&TextMemo> {
        self.chart.memo.or_else(|| self.loader?.memo())
    }
}

/// Files Terraform code may read (`helm_release.chart` of a folder): they cannot be listed,
/// so the usual names are tried. Each file is asked of the loader once, however often one
/// release's rendering reads it.
pub(crate) struct LoaderFiles<'a> {
    loader: &'a dyn crate::eval::FileLoader,
    read: RefCell<HashMap<PathBuf, Option<LoadedFile>>>,
}

/// A file the loader read: its id and text.
type LoadedFile = (FileId, Arc<str>);

impl<'a> LoaderFiles<'a> {
    pub(crate) fn new(loader: &'a dyn crate::eval::FileLoader) -> Self {
        LoaderFiles {
            loader,
            read: RefCell::default(),
        }
    }
}

/// Where charts usually write their ServiceAccount.
const USUAL_TEMPLATES: &[&str] = &[
    "serviceaccount.yaml",
    "service-account.yaml",
    "serviceAccount.yaml",
    "sa.yaml",
];

impl ChartFiles for LoaderFiles<'_> {
    fn read(&self, path: &Path) -> Option<(FileId, Arc<str>)> {
        if let Some(read) = self.read.borrow().get(path) {
            return read.clone();
        }
        let read = self.loader.load(path);
        self.read
            .borrow_mut()
            .insert(path.to_path_buf(), read.clone());
        read
    }

    /// The scanned templates (every `.yaml`), and the usual helpers files, which are not
    /// scanned; the usual names when the loader cannot list the folder.
    fn templates(&self, dir: &Path) -> Vec<PathBuf> {
        let templates = dir.join("templates");
        let mut found = match self.loader.files_in(&templates) {
            Some(listed) => listed,
            None => USUAL_TEMPLATES.iter().map(|n| templates.join(n)).collect(),
        };
        found.extend(USUAL_HELPERS.iter().map(|n| templates.join(n)));
        found
    }

    /// A folder the scan did not list (a path it skipped) is not known to be complete.
    fn lists_every_template(&self, dir: &Path) -> bool {
        self.loader
            .files_in(&dir.join("templates"))
            .is_some_and(|listed| !listed.is_empty())
    }

    fn memo(&self) -> Option<&TextMemo> {
        self.loader.memo()
    }
}

/// The release a chart folder is installed as.
pub(crate) struct Release<'a> {
    pub name: &'a str,
    pub namespace: Spanned<String>,
    /// Where the release is written (a `helm_release` label, an Application's name).
    pub label: Span,
    pub unit: &'a str,
}

/// One chart to render: the folder, its `Chart.yaml` and the values it sees.
struct Rendering {
    dir: PathBuf,
    chart: Value,
    values: Values,
}

/// A chart folder's `values.yaml`, then the release's own values (`extra`).
pub(crate) fn chart_values(
    files: &dyn ChartFiles,
    dir: &Path,
    extra: impl FnOnce(&mut Values),
) -> Values {
    let mut values = Values::default();
    if let Some(read) = files.read(&dir.join("values.yaml")) {
        match &yaml_of(files, &read).0 {
            Some(v) => {
                let spans = spans_of(files, &read);
                let id = read.0;
                values.merge(v, &|path| {
                    spans.0.get(path).copied().unwrap_or(Span::file_start(id))
                })
            }
            None => values.unknown = true,
        }
    }
    extra(&mut values);
    values
}

/// The version a chart of the repository itself runs by default, spanned where it is
/// written: the image tag its `values.yaml` sets (`image.tag`, Karpenter's
/// `controller.image.tag`), else its `Chart.yaml` `appVersion` (which charts use when the tag
/// is empty). `None` when either file cannot be read, or when the chart wraps others
/// (`dependencies`): its own version then says nothing of what runs.
pub(crate) fn default_version(files: &dyn ChartFiles, dir: &Path) -> Option<Spanned<String>> {
    let chart_read = files.read(&dir.join("Chart.yaml"))?;
    let chart = yaml_of(files, &chart_read);
    let Some(Value::Map(map)) = &chart.0 else {
        return None;
    };
    match map.get("dependencies") {
        None | Some(Value::Null) => {}
        Some(Value::List(l)) if l.is_empty() => {}
        Some(_) => return None,
    }
    // The non-empty string at `key` of a file read as `value`, spanned where it is written.
    let leaf = |read: &(FileId, Arc<str>), value: &Value, key: &[&str]| {
        let mut at = value;
        for k in key {
            at = match at {
                Value::Map(m) => match m.get(*k) {
                    Some(v) => v,
                    None => return Some(None),
                },
                _ => return Some(None),
            };
        }
        let key: Vec<String> = key.iter().map(|k| k.to_string()).collect();
        Some(match at.as_known_str() {
            Some(t) if !t.is_empty() => {
                let span = *spans_of(files, read).0.get(key.as_slice())?;
                Some(Spanned::new(t.to_string(), span))
            }
            _ => None,
        })
    };
    if let Some(read) = files.read(&dir.join("values.yaml")) {
        let values = yaml_of(files, &read);
        let values = values.0.as_ref()?;
        for key in [&["image", "tag"][..], &["controller", "image", "tag"]] {
            if let Some(tag) = leaf(&read, values, key)? {
                return Some(tag);
            }
        }
    }
    leaf(&chart_read, chart.0.as_ref()?, &["appVersion"])?
}

/// Where each scalar of a values file is written, by key path.
fn leaf_spans(file: FileId, text: &str) -> HashMap<Vec<String>, Span> {
    use crate::parse::yaml::{ChunkPositions, read_plain_documents, scalar};
    use saphyr::{MarkedYaml, YamlData};
    fn walk(
        node: &MarkedYaml,
        positions: &ChunkPositions,
        path: &mut Vec<String>,
        out: &mut HashMap<Vec<String>, Span>,
    ) {
        match &crate::parse::yaml::untag(node).data {
            YamlData::Mapping(entries) => {
                for (k, v) in entries {
                    let Some((key, _)) = scalar(k) else { continue };
                    path.push(key.to_string());
                    walk(v, positions, path, out);
                    path.pop();
                }
            }
            YamlData::Representation(..) => {
                out.insert(path.clone(), positions.node_span(node));
            }
            _ => {}
        }
    }
    let mut out = HashMap::new();
    read_plain_documents(file, text, &mut |document, positions| {
        walk(document, positions, &mut Vec::new(), &mut out)
    });
    out
}

/// The ServiceAccounts a chart folder makes for a release with these values (the chart's
/// `values.yaml` under the release's own).
pub(crate) fn service_accounts(
    files: &dyn ChartFiles,
    dir: &Path,
    release: &Release<'_>,
    values: &Values,
) -> Found<Vec<ServiceAccount>> {
    let values = Values {
        tree: values.tree.clone(),
        spans: values.spans.clone(),
        key_spans: HashMap::new(),
        unknown: values.unknown,
        templates: Vec::new(),
    };
    let Some(chart) = read_yaml(files, &dir.join("Chart.yaml")) else {
        return Found::Unknown;
    };
    let mut charts = Vec::new();
    if collect(files, dir, chart, values, release.label, 0, &mut charts).is_none() {
        return Found::Unknown;
    }
    // Named templates are shared by a chart and its dependencies.
    let mut defines = HashMap::new();
    let mut service_account_templates = Vec::new();
    for (i, c) in charts.iter().enumerate() {
        for path in files.templates(&c.dir) {
            let Some(read) = files.read(&path) else {
                continue;
            };
            let text = &read.1;
            let mentions = text.contains("ServiceAccount");
            let is_helper = path.extension().is_some_and(|e| e == "tpl");
            if !mentions && !is_helper && !text.contains("define") {
                continue;
            }
            let parsed = made(files, &read, |text| TemplateOf(gotemplate::parse(text)));
            let Some(template) = &parsed.0 else {
                if mentions {
                    return Found::Unknown;
                }
                continue;
            };
            for (name, body) in &template.defines {
                if mentions && body_mentions_service_account(body) {
                    // A ServiceAccount written by a named template: not followed.
                    return Found::Unknown;
                }
                defines.entry(name.clone()).or_insert_with(|| body.clone());
            }
            if mentions && !is_helper {
                service_account_templates.push((i, path, parsed.clone()));
            }
        }
    }
    let mut found = Vec::new();
    for (i, path, parsed) in &service_account_templates {
        let Some(template) = &parsed.0 else { continue };
        let nodes = &template.nodes;
        let c = &charts[*i];
        let root = root(c, release, path);
        let mut renderer = Renderer::new(&defines);
        let Some(text) = renderer.render(nodes, &root) else {
            return Found::Unknown;
        };
        for document in documents(&text) {
            match document_service_account(&renderer, document, release) {
                Found::Yes(sa) => found.push(sa),
                Found::No => {}
                Found::Unknown => return Found::Unknown,
            }
        }
    }
    match found.is_empty() {
        // Templates it could not list may hold one.
        true if !charts.iter().all(|c| files.lists_every_template(&c.dir)) => Found::Unknown,
        true => Found::No,
        false => Found::Yes(found),
    }
}

fn read_yaml(files: &dyn ChartFiles, path: &Path) -> Option<Value> {
    let read = files.read(path)?;
    (yaml_of(files, &read).0.clone()).filter(|v| matches!(v, Value::Map(_)))
}

/// The chart and, depth first, the local charts it depends on, each with the values it sees.
/// `None` when one cannot be followed (another repository's chart, unknown values).
fn collect(
    files: &dyn ChartFiles,
    dir: &Path,
    chart: Value,
    mut values: Values,
    label: Span,
    depth: usize,
    out: &mut Vec<Rendering>,
) -> Option<()> {
    if values.unknown || depth > MAX_DEPENDENCY_DEPTH {
        return None;
    }
    annotate(&mut values);
    let dependencies = match chart.get_attr("dependencies") {
        Value::List(l) => l,
        Value::Unknown | Value::Null => Vec::new(),
        _ => return None,
    };
    let parent = &values;
    for d in dependencies {
        let name = d.get_attr("name").as_known_str()?.to_string();
        let key = match d.get_attr("alias") {
            Value::String(a) => a.as_known()?.to_string(),
            _ => name.clone(),
        };
        if let Value::String(condition) = d.get_attr("condition") {
            // The first path of the condition that is set decides.
            let mut on = None;
            for path in condition.as_known()?.split(',') {
                let path: Vec<String> = path.trim().split('.').map(str::to_string).collect();
                match parent.get(&path) {
                    Some(&Value::Bool(b)) => {
                        on = Some(b);
                        break;
                    }
                    Some(Value::Null) | None => {}
                    Some(_) => return None,
                }
            }
            if on == Some(false) {
                continue;
            }
        }
        let repository = d.get_attr("repository");
        let dep_dir = match repository.as_known_str() {
            Some(r) if r.starts_with("file://") => {
                normalize(&dir.join(r.trim_start_matches("file://")))
            }
            Some("") | None if matches!(repository, Value::Null | Value::String(_)) => {
                dir.join("charts").join(&name)
            }
            _ => return None, // another repository's chart
        };
        let mut dep_chart = read_yaml(files, &dep_dir.join("Chart.yaml"))?;
        // Helm renames an aliased dependency: its `.Chart.Name` is the alias.
        if let Value::Map(m) = &mut dep_chart {
            m.insert("name".to_string(), Value::str(key.clone()));
        }
        let mut dep_values = Values::default();
        if let Some(read) = files.read(&dep_dir.join("values.yaml")) {
            let spans = spans_of(files, &read);
            let id = read.0;
            dep_values.merge(yaml_of(files, &read).0.as_ref()?, &|path| {
                spans.0.get(path).copied().unwrap_or(Span::file_start(id))
            });
        }
        // The parent's values under the dependency's key, and `global`, as Helm passes them.
        for passed in [key.as_str(), "global"] {
            if let Some(v) = parent.tree.get(passed) {
                let spans = &parent.spans;
                dep_values.merge(v, &|path| {
                    let mut full = vec![passed.to_string()];
                    full.extend(path.iter().cloned());
                    spans.get(&full).copied().unwrap_or(label)
                });
            }
        }
        if let Some(global) = parent.tree.get("global")
            && !matches!(global, Value::Map(_))
        {
            return None;
        }
        collect(
            files,
            &dep_dir,
            dep_chart,
            dep_values,
            label,
            depth + 1,
            out,
        )?;
    }
    out.push(Rendering {
        dir: dir.to_path_buf(),
        chart,
        values,
    });
    Some(())
}

/// Give every string of the values the span where it was written, so that it keeps it
/// through the templates.
fn annotate(values: &mut Values) {
    fn walk(v: &mut Value, path: &mut Vec<String>, spans: &HashMap<Vec<String>, Span>) {
        match v {
            Value::Map(m) => {
                for (k, x) in m.iter_mut() {
                    path.push(k.clone());
                    walk(x, path, spans);
                    path.pop();
                }
            }
            Value::String(s) if s.origin.is_none() => {
                s.origin = spans.get(path.as_slice()).copied();
            }
            _ => {}
        }
    }
    let mut tree = Value::Map(std::mem::take(&mut values.tree));
    walk(&mut tree, &mut Vec::new(), &values.spans);
    if let Value::Map(m) = tree {
        values.tree = m;
    }
}

/// `.` of a template: `.Values`, `.Release`, `.Chart` (its `Chart.yaml` fields, capitalized),
/// `.Template`; `.Capabilities` and `.Files` are unknown.
fn root(c: &Rendering, release: &Release<'_>, template: &Path) -> Value {
    let text = |s: &str| Value::str(s.to_string());
    let mut chart = BTreeMap::new();
    if let Value::Map(m) = &c.chart {
        for (k, v) in m {
            let mut key = k.clone();
            if let Some(first) = key.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            chart.insert(key, v.clone());
        }
    }
    let template_name = template.to_string_lossy().to_string();
    Value::Map(BTreeMap::from([
        ("Values".to_string(), Value::Map(c.values.tree.clone())),
        (
            "Release".to_string(),
            Value::Map(BTreeMap::from([
                ("Name".to_string(), text(release.name)),
                ("Namespace".to_string(), text(&release.namespace.value)),
                ("Service".to_string(), text("Helm")),
                ("IsInstall".to_string(), Value::Bool(true)),
                ("IsUpgrade".to_string(), Value::Bool(false)),
                ("Revision".to_string(), Value::Number(1.0)),
            ])),
        ),
        ("Chart".to_string(), Value::Map(chart)),
        (
            "Template".to_string(),
            Value::Map(BTreeMap::from([
                ("Name".to_string(), text(&template_name)),
                ("BasePath".to_string(), text("templates")),
            ])),
        ),
        ("Capabilities".to_string(), Value::Unknown),
        ("Files".to_string(), Value::Unknown),
    ]))
}

fn body_mentions_service_account(nodes: &[Node]) -> bool {
    nodes.iter().any(|n| match n {
        Node::Text(t) => t.contains("kind: ServiceAccount"),
        Node::If {
            branches,
            otherwise,
        } => {
            branches
                .iter()
                .any(|(_, b)| body_mentions_service_account(b))
                || body_mentions_service_account(otherwise)
        }
        Node::With {
            body, otherwise, ..
        }
        | Node::Range {
            body, otherwise, ..
        } => body_mentions_service_account(body) || body_mentions_service_account(otherwise),
        _ => false,
    })
}

/// The YAML documents of a rendered template.
fn documents(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with("---") {
            out.push(&text[start..at]);
            start = at + line.len();
        }
        at += line.len();
    }
    out.push(&text[start..]);
    out.into_iter().filter(|d| !d.trim().is_empty()).collect()
}

/// A rendered document's ServiceAccount: `No` for another kind.
fn document_service_account(
    renderer: &Renderer<'_>,
    document: &str,
    release: &Release<'_>,
) -> Found<ServiceAccount> {
    let Some(object) = yaml_value(document) else {
        return if document.contains("ServiceAccount") {
            Found::Unknown
        } else {
            Found::No
        };
    };
    let field = |v: &Value| match v {
        Value::String(s) => match s.as_known() {
            Some(t) => renderer.text_value(t),
            None => v.clone(),
        },
        other => other.clone(),
    };
    match field(&object.get_attr("kind")) {
        Value::String(k) if k.as_known() == Some("ServiceAccount") => {}
        Value::String(k) if k.as_known().is_some() => return Found::No,
        _ => return Found::Unknown,
    }
    let metadata = object.get_attr("metadata");
    let spanned = |s: Str| {
        let span = s.origin.unwrap_or(release.label);
        s.as_known().map(|t| Spanned::new(t.to_string(), span))
    };
    let name = match field(&metadata.get_attr("name")) {
        Value::String(s) => match spanned(s) {
            Some(n) if !n.value.is_empty() => n,
            _ => return Found::Unknown,
        },
        _ => return Found::Unknown,
    };
    let member = |key: &str| match &metadata {
        Value::Map(m) => m.get(key).cloned().unwrap_or(Value::Null),
        _ => Value::Null,
    };
    let namespace = match field(&member("namespace")) {
        Value::Null => release.namespace.clone(),
        Value::String(s) => match spanned(s) {
            Some(n) if !n.value.is_empty() => n,
            Some(_) => release.namespace.clone(),
            None => return Found::Unknown,
        },
        _ => return Found::Unknown,
    };
    let mut annotations = Vec::new();
    let mut annotations_known = true;
    match member("annotations") {
        Value::Map(m) => {
            for (k, v) in &m {
                let key = match renderer.text_value(k) {
                    Value::String(s) => s.as_known().map(str::to_string),
                    _ => None,
                };
                let Some(key) = key else {
                    annotations_known = false;
                    continue;
                };
                let value = match field(v) {
                    Value::String(s) if !s.has_unknown() => {
                        let span = s.origin.unwrap_or(release.label);
                        Some(Spanned::new(s, span))
                    }
                    Value::Bool(_) | Value::Number(_) => {
                        v.to_str().map(|s| Spanned::new(s, release.label))
                    }
                    _ => None,
                };
                let key_span = value.as_ref().map(|v| v.span).unwrap_or(release.label);
                annotations.push(Annotation {
                    key: Spanned::new(key, key_span),
                    value,
                });
            }
        }
        Value::Null => {}
        _ => annotations_known = false,
    }
    let mut sa = ServiceAccount::terraform(
        release.label,
        name,
        Some(namespace),
        annotations,
        release.unit,
    );
    sa.namespace_explicit = true;
    sa.annotations_known = annotations_known;
    Found::Yes(sa)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chart files held in memory, each its own file id.
    struct Files(Vec<(&'static str, &'static str)>);

    impl ChartFiles for Files {
        fn read(&self, path: &Path) -> Option<(FileId, Arc<str>)> {
            let i = self.0.iter().position(|(p, _)| Path::new(p) == path)?;
            Some((FileId(i as u32), Arc::from(self.0[i].1)))
        }

        fn templates(&self, dir: &Path) -> Vec<PathBuf> {
            let templates = dir.join("templates");
            self.0
                .iter()
                .map(|(p, _)| PathBuf::from(p))
                .filter(|p| p.parent() == Some(templates.as_path()))
                .collect()
        }

        fn lists_every_template(&self, _dir: &Path) -> bool {
            true
        }
    }

    const HELPERS: &str = "{{- define \"api.fullname\" -}}\n\
        {{- if contains .Chart.Name .Release.Name }}{{ .Release.Name }}\
        {{- else }}{{ printf \"%s-%s\" .Release.Name .Chart.Name | trunc 63 }}{{ end }}\n\
        {{- end }}\n";
    const SA: &str = "{{- if .Values.serviceAccount.create }}\napiVersion: v1\n\
        kind: ServiceAccount\nmetadata:\n  name: {{ .Values.serviceAccount.name | default (include \"api.fullname\" .) }}\n\
        {{- with .Values.serviceAccount.annotations }}\n  annotations:\n    {{- toYaml . | nindent 4 }}\n{{- end }}\n{{- end }}\n";

    fn names(files: &Files, dir: &str) -> Found<Vec<(String, String, Option<String>)>> {
        let release = Release {
            name: "shop",
            namespace: Spanned::new("web".to_string(), Span::file_start(FileId(99))),
            label: Span::file_start(FileId(99)),
            unit: "",
        };
        let values = chart_values(files, Path::new(dir), |_| {});
        match service_accounts(files, Path::new(dir), &release, &values) {
            Found::Yes(found) => Found::Yes(
                found
                    .into_iter()
                    .map(|sa| {
                        let role = sa
                            .annotations
                            .iter()
                            .find_map(|a| a.value.as_ref().map(|v| format!("{:?}", v.value)));
                        (sa.namespace.value, sa.name.value, role)
                    })
                    .collect(),
            ),
            Found::No => Found::No,
            Found::Unknown => Found::Unknown,
        }
    }

    fn umbrella(dependencies: &'static str, values: &'static str) -> Files {
        Files(vec![
            ("shop/Chart.yaml", dependencies),
            ("shop/values.yaml", values),
            ("api/Chart.yaml", "name: api\nversion: 1.0.0\n"),
            (
                "api/values.yaml",
                "serviceAccount:\n  create: true\n  name: \"\"\n",
            ),
            ("api/templates/_helpers.tpl", HELPERS),
            ("api/templates/serviceaccount.yaml", SA),
        ])
    }

    #[test]
    fn a_dependency_gets_the_values_under_its_name_or_alias() {
        let files = umbrella(
            "name: shop\ndependencies:\n  - name: api\n    repository: file://../api\n",
            "api:\n  serviceAccount:\n    annotations:\n      eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/api\n",
        );
        let Found::Yes(found) = names(&files, "shop") else {
            panic!("not found")
        };
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, "shop-api");
        assert!(found[0].2.as_deref().unwrap().contains("role/api"));

        let files = umbrella(
            "name: shop\ndependencies:\n  - name: api\n    alias: orders\n    repository: file://../api\n",
            "orders:\n  serviceAccount:\n    create: true\n",
        );
        let Found::Yes(found) = names(&files, "shop") else {
            panic!("not found")
        };
        // The alias is the dependency's chart name.
        assert_eq!(found[0].1, "shop-orders");
    }

    #[test]
    fn a_name_from_a_values_file_points_at_its_line() {
        let values = "replicaCount: 2\nserviceAccount:\n  create: true\n  name: ledger-api\n";
        let files = Files(vec![
            ("api/Chart.yaml", "name: api\n"),
            ("api/values.yaml", values),
            ("api/templates/_helpers.tpl", HELPERS),
            ("api/templates/serviceaccount.yaml", SA),
        ]);
        let release = Release {
            name: "shop",
            namespace: Spanned::new("web".to_string(), Span::file_start(FileId(99))),
            label: Span::file_start(FileId(99)),
            unit: "",
        };
        let v = chart_values(&files, Path::new("api"), |_| {});
        let Found::Yes(found) = service_accounts(&files, Path::new("api"), &release, &v) else {
            panic!("not found")
        };
        let name = &found[0].name;
        assert_eq!(name.value, "ledger-api");
        assert_eq!(name.span.file, FileId(1));
        assert_eq!(
            &values[name.span.start as usize..name.span.end as usize],
            "ledger-api"
        );
    }

    #[test]
    fn a_dependency_off_by_its_condition_is_not_read() {
        let files = umbrella(
            "name: shop\ndependencies:\n  - name: api\n    repository: file://../api\n    condition: api.enabled\n",
            "api:\n  enabled: false\n",
        );
        assert!(matches!(names(&files, "shop"), Found::No));
    }

    #[test]
    fn a_dependency_from_another_repository_is_unknown() {
        let files = umbrella(
            "name: shop\ndependencies:\n  - name: redis\n    repository: https://charts.bitnami.com/bitnami\n",
            "",
        );
        assert!(matches!(names(&files, "shop"), Found::Unknown));
    }

    #[test]
    fn a_template_it_cannot_render_is_unknown() {
        let files = Files(vec![
            ("api/Chart.yaml", "name: api\n"),
            (
                "api/templates/sa.yaml",
                "kind: ServiceAccount\nmetadata:\n  name: {{ tpl .Values.name . }}\n",
            ),
        ]);
        assert!(matches!(names(&files, "api"), Found::Unknown));
    }
}
