//! Kustomize, for the parts that decide IRSA wiring: a kustomization's `resources`
//! (files, folders, nested kustomizations, components), `namespace`, `namePrefix` and
//! `nameSuffix` (which also rename `serviceAccountName` references), patches (strategic
//! merge and JSON 6902, inline or in a file, with targets) and `commonAnnotations`.
//!
//! Each kustomization that no other kustomization uses is a rendered view, linted as the
//! cluster would receive it; files used by a kustomization are not linted alone. Rendered
//! objects keep the spans of the base file's lines, with a note saying which kustomization
//! changed what.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::{Annotation, Facts, PodServiceAccount, ServiceAccount, Spanned, Workload};
use crate::eval::value::Str;
use crate::eval::workspace::normalize;
use crate::facts::manifests::{ManifestSyntax, extract_manifests};
use crate::source::{FileId, SourceMap, Span};

const KUSTOMIZATION_FILES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];
/// How deep kustomizations may nest before the rest is unknown (a cycle ends here).
const MAX_DEPTH: usize = 20;

/// The rendered views and the files they own.
#[derive(Default)]
pub struct Rendered {
    /// The objects of each view, by the folder of its kustomization.
    pub views: BTreeMap<PathBuf, Facts>,
    /// Files read through a kustomization: their objects count only as rendered.
    pub owned: HashSet<FileId>,
}

pub fn is_kustomization(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| KUSTOMIZATION_FILES.contains(&n))
}

struct Tree<'s> {
    sources: &'s SourceMap,
    /// Every scanned file by normalized path.
    files: HashMap<PathBuf, FileId>,
    /// Kustomization files by their folder.
    kustomizations: BTreeMap<PathBuf, FileId>,
}

pub fn render_all(sources: &SourceMap, files: &[(FileId, PathBuf)]) -> Rendered {
    let mut tree = Tree {
        sources,
        files: HashMap::new(),
        kustomizations: BTreeMap::new(),
    };
    for (id, path) in files {
        let path = normalize(path);
        if is_kustomization(&path) {
            tree.kustomizations.insert(
                path.parent().map(Path::to_path_buf).unwrap_or_default(),
                *id,
            );
        }
        tree.files.insert(path, *id);
    }
    let mut out = Rendered::default();
    if tree.kustomizations.is_empty() {
        return out;
    }
    // A kustomization another one uses is a base, not a view of its own.
    let mut used = HashSet::new();
    for (dir, id) in &tree.kustomizations {
        for entry in tree.entries(*id, &["resources", "bases", "components"]) {
            let target = normalize(&dir.join(&entry));
            if tree.kustomizations.contains_key(&target) {
                used.insert(target);
            }
        }
    }
    for (dir, id) in &tree.kustomizations {
        out.owned.insert(*id);
        if used.contains(dir) {
            continue;
        }
        let unit = tree
            .sources
            .get(*id)
            .path
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let view = tree.render(dir, *id, &unit, 0, &mut out.owned);
        out.views.insert(dir.clone(), view);
    }
    out
}

impl Tree<'_> {
    fn document(&self, id: FileId) -> Option<serde_json::Value> {
        crate::parse::yaml::to_json(&self.sources.get(id).text)
    }

    /// The string entries of some list fields of a kustomization.
    fn entries(&self, id: FileId, fields: &[&str]) -> Vec<String> {
        let Some(doc) = self.document(id) else {
            return Vec::new();
        };
        fields
            .iter()
            .filter_map(|f| doc.get(*f)?.as_array())
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    /// The objects of one kustomization, transformed as `kustomize build` would.
    fn render(
        &self,
        dir: &Path,
        id: FileId,
        unit: &str,
        depth: usize,
        owned: &mut HashSet<FileId>,
    ) -> Facts {
        let mut facts = Facts::default();
        let Some(doc) = self.document(id) else {
            facts.hidden_service_accounts = true;
            return facts;
        };
        if depth > MAX_DEPTH {
            facts.hidden_service_accounts = true;
            return facts;
        }
        let shown = self.sources.get(id).path.display().to_string();
        for entry in self.entries(id, &["resources", "bases", "components"]) {
            if entry.contains("://") || entry.starts_with("github.com/") || entry.contains("?ref=")
            {
                facts.hidden_service_accounts = true; // a remote base: unknown
                continue;
            }
            let target = normalize(&dir.join(&entry));
            if let Some(&sub) = self.kustomizations.get(&target) {
                facts.extend(self.render(&target, sub, unit, depth + 1, owned));
            } else if let Some(&file) = self.files.get(&target) {
                owned.insert(file);
                facts.extend(self.objects(file, unit));
            } else {
                facts.hidden_service_accounts = true;
            }
        }
        let at = At {
            dir,
            id,
            shown: &shown,
            unit,
        };
        self.apply_patches(&doc, &at, owned, &mut facts);
        apply_names(&doc, &shown, &mut facts);
        apply_namespace(&doc, &shown, &mut facts);
        self.apply_common_annotations(&doc, id, &shown, &mut facts);
        facts
    }

    /// The ServiceAccounts and workloads of a resource file, in this view's unit. Its syntax
    /// errors are reported when the file is read on its own.
    fn objects(&self, file: FileId, unit: &str) -> Facts {
        let text = &self.sources.get(file).text;
        let mut facts = extract_manifests(file, text, ManifestSyntax::Yaml, unit);
        facts.parse_errors.clear();
        facts
    }

    fn apply_common_annotations(
        &self,
        doc: &serde_json::Value,
        id: FileId,
        shown: &str,
        facts: &mut Facts,
    ) {
        let Some(map) = doc.get("commonAnnotations").and_then(|v| v.as_object()) else {
            return;
        };
        let span = key_span(self.sources, id, "commonAnnotations");
        for sa in &mut facts.service_accounts {
            for (k, v) in map {
                let value = v.as_str().map(|s| Spanned::new(Str::lit(s), span));
                set_annotation(&mut sa.annotations, k, value, span);
                sa.rendered.push(format!(
                    "annotation {k} added by commonAnnotations of {shown}"
                ));
            }
        }
    }

    /// `patchesStrategicMerge`, `patchesJson6902` and `patches` (with or without `target`).
    fn apply_patches(
        &self,
        doc: &serde_json::Value,
        at: &At<'_>,
        owned: &mut HashSet<FileId>,
        facts: &mut Facts,
    ) {
        let At {
            dir,
            id,
            shown,
            unit,
        } = *at;
        let mut patches: Vec<(Patch, Option<Target>)> = Vec::new();
        let entry_span = |field: &str| key_span(self.sources, id, field);
        for p in doc
            .get("patchesStrategicMerge")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            if let Some(text) = p.as_str() {
                patches.push((
                    self.patch_source(dir, text, entry_span("patchesStrategicMerge"), owned),
                    None,
                ));
            }
        }
        for p in doc
            .get("patchesJson6902")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            let target = Target::from(p.get("target"));
            let ops = match (
                p.get("path").and_then(|v| v.as_str()),
                p.get("patch").and_then(|v| v.as_str()),
            ) {
                (Some(path), _) => self.file_text(dir, path, owned).map(|(_, t)| t),
                (None, Some(inline)) => Some(inline.to_string()),
                _ => None,
            };
            patches.push((
                Patch::Json(
                    ops.and_then(|t| json_ops(&t)),
                    entry_span("patchesJson6902"),
                ),
                target,
            ));
        }
        for p in doc
            .get("patches")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            let target = Target::from(p.get("target"));
            let span = entry_span("patches");
            let patch = match (
                p.get("path").and_then(|v| v.as_str()),
                p.get("patch").and_then(|v| v.as_str()),
            ) {
                (Some(path), _) => self.patch_source(dir, path, span, owned),
                (None, Some(inline)) => inline_patch(inline, span),
                _ => Patch::Unknown,
            };
            patches.push((patch, target));
        }
        for (patch, target) in patches {
            apply_patch(&patch, target.as_ref(), shown, unit, facts);
        }
    }

    fn file_text(
        &self,
        dir: &Path,
        path: &str,
        owned: &mut HashSet<FileId>,
    ) -> Option<(FileId, String)> {
        let id = *self.files.get(&normalize(&dir.join(path)))?;
        owned.insert(id);
        Some((id, self.sources.get(id).text.to_string()))
    }

    /// A patch given as a file: a strategic merge patch is read with its spans, JSON 6902 ops
    /// (a YAML or JSON list) without.
    fn patch_source(
        &self,
        dir: &Path,
        path: &str,
        span: Span,
        owned: &mut HashSet<FileId>,
    ) -> Patch {
        match self.file_text(dir, path, owned) {
            Some((id, text)) => match json_ops(&text) {
                Some(ops) => Patch::Json(Some(ops), span),
                None => Patch::Merge(Box::new(self.objects(id, ""))),
            },
            None => Patch::Unknown,
        }
    }
}

/// The span of a top-level key of a kustomization, for what it sets.
/// The kustomization being rendered: its folder, file, name as shown, and the deployment
/// unit of the view.
#[derive(Clone, Copy)]
struct At<'a> {
    dir: &'a Path,
    id: FileId,
    shown: &'a str,
    unit: &'a str,
}

fn key_span(sources: &SourceMap, id: FileId, key: &str) -> Span {
    let text = &sources.get(id).text;
    let at = text.lines().scan(0, |offset, line| {
        let start = *offset;
        *offset += line.len() + 1;
        Some((start, line))
    });
    for (start, line) in at {
        if line.starts_with(key) && line[key.len()..].trim_start().starts_with(':') {
            return Span::new(id, start..start + key.len());
        }
    }
    Span::file_start(id)
}

enum Patch {
    /// Objects of a strategic merge patch, read as facts with their spans.
    Merge(Box<Facts>),
    /// JSON 6902 operations; `None` when they cannot be read.
    Json(Option<Vec<JsonOp>>, Span),
    Unknown,
}

struct JsonOp {
    op: String,
    path: String,
    value: Option<serde_json::Value>,
}

fn json_ops(text: &str) -> Option<Vec<JsonOp>> {
    let value = crate::parse::yaml::to_json(text)?;
    value
        .as_array()?
        .iter()
        .map(|op| {
            Some(JsonOp {
                op: op.get("op")?.as_str()?.to_string(),
                path: op.get("path")?.as_str()?.to_string(),
                value: op.get("value").cloned(),
            })
        })
        .collect()
}

/// An inline `patch:` is a strategic merge patch or a JSON 6902 list; its objects are shown at
/// the kustomization's `patches` entry.
fn inline_patch(text: &str, span: Span) -> Patch {
    if let Some(ops) = json_ops(text) {
        return Patch::Json(Some(ops), span);
    }
    let mut facts = extract_manifests(span.file, text, ManifestSyntax::Yaml, "");
    facts.parse_errors.clear();
    respan(&mut facts, span);
    Patch::Merge(Box::new(facts))
}

/// Move every span of facts read from text that is not a file of its own.
fn respan(facts: &mut Facts, span: Span) {
    for sa in &mut facts.service_accounts {
        sa.span = span;
        sa.name.span = span;
        sa.namespace.span = span;
        for a in &mut sa.annotations {
            a.key.span = span;
            if let Some(v) = &mut a.value {
                v.span = span;
            }
        }
    }
    for w in &mut facts.workloads {
        w.span = span;
        w.name.span = span;
        if let Some(ns) = &mut w.namespace {
            ns.span = span;
        }
        if let PodServiceAccount::Named(sa) = &mut w.service_account {
            sa.span = span;
        }
    }
}

struct Target {
    kind: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
}

impl Target {
    fn from(v: Option<&serde_json::Value>) -> Option<Target> {
        let v = v?;
        let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        Some(Target {
            kind: field("kind"),
            name: field("name"),
            namespace: field("namespace"),
        })
    }

    fn matches(&self, kind: &str, name: &str, namespace: Option<&str>) -> bool {
        let name_ok = |pattern: &str| pattern == name || pattern == ".*" || pattern == "*";
        self.kind.as_deref().is_none_or(|k| k == kind)
            && self.name.as_deref().is_none_or(name_ok)
            && self
                .namespace
                .as_deref()
                .is_none_or(|n| Some(n) == namespace)
    }
}

fn apply_patch(patch: &Patch, target: Option<&Target>, shown: &str, unit: &str, facts: &mut Facts) {
    match patch {
        Patch::Unknown => facts.hidden_service_accounts = true,
        Patch::Merge(objects) => {
            for p in &objects.service_accounts {
                let applies = |sa: &ServiceAccount| match target {
                    Some(t) => {
                        t.matches("ServiceAccount", &sa.name.value, Some(&sa.namespace.value))
                    }
                    None => {
                        sa.name.value == p.name.value
                            && (!p.namespace_explicit || sa.namespace.value == p.namespace.value)
                    }
                };
                for sa in facts.service_accounts.iter_mut().filter(|sa| applies(sa)) {
                    sa.annotations_known &= p.annotations_known;
                    for a in &p.annotations {
                        set_annotation(
                            &mut sa.annotations,
                            &a.key.value,
                            a.value.clone(),
                            a.key.span,
                        );
                    }
                    sa.rendered.push(format!("patched by a patch of {shown}"));
                }
            }
            for p in &objects.workloads {
                for w in facts
                    .workloads
                    .iter_mut()
                    .filter(|w| w.kind == p.kind && w.name.value == p.name.value)
                {
                    if let PodServiceAccount::Named(_) = &p.service_account {
                        w.service_account = p.service_account.clone();
                    }
                    w.annotations.extend(p.annotations.iter().cloned());
                    w.rendered.push(format!("patched by a patch of {shown}"));
                }
            }
            let _ = unit;
        }
        Patch::Json(None, _) => facts.hidden_service_accounts = true,
        Patch::Json(Some(ops), span) => {
            let Some(t) = target else { return };
            for sa in facts.service_accounts.iter_mut() {
                if t.matches("ServiceAccount", &sa.name.value, Some(&sa.namespace.value)) {
                    for op in ops {
                        json_op_on_service_account(op, *span, shown, sa);
                    }
                }
            }
            for w in facts.workloads.iter_mut() {
                let ns = w.namespace.as_ref().map(|n| n.value.as_str());
                if t.matches(&w.kind, &w.name.value, ns) {
                    for op in ops {
                        json_op_on_workload(op, *span, shown, w);
                    }
                }
            }
        }
    }
}

/// JSON pointer segments, `~1` and `~0` unescaped.
fn pointer(path: &str) -> Vec<String> {
    path.trim_start_matches('/')
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

fn json_op_on_service_account(op: &JsonOp, span: Span, shown: &str, sa: &mut ServiceAccount) {
    let path = pointer(&op.path);
    let text = op
        .value
        .as_ref()
        .and_then(|v| v.as_str())
        .map(str::to_string);
    match (
        op.op.as_str(),
        path.iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
    ) {
        ("add" | "replace", ["metadata", "annotations", key]) => {
            set_annotation(
                &mut sa.annotations,
                key,
                text.map(|t| Spanned::new(Str::lit(t), span)),
                span,
            );
        }
        ("remove", ["metadata", "annotations", key]) => {
            sa.annotations.retain(|a| a.key.value != *key)
        }
        ("add" | "replace", ["metadata", "annotations"]) => {
            sa.annotations.clear();
            sa.annotations_known = op.value.as_ref().is_some_and(|v| v.is_object());
            for (k, v) in op
                .value
                .as_ref()
                .and_then(|v| v.as_object())
                .into_iter()
                .flatten()
            {
                let value = v.as_str().map(|s| Spanned::new(Str::lit(s), span));
                set_annotation(&mut sa.annotations, k, value, span);
            }
        }
        ("add" | "replace", ["metadata", "namespace"]) => {
            if let Some(t) = text {
                sa.namespace = Spanned::new(t, sa.namespace.span);
                sa.namespace_explicit = true;
            }
        }
        ("add" | "replace", ["metadata", "name"]) => {
            if let Some(t) = text {
                sa.name = Spanned::new(t, sa.name.span);
            }
        }
        _ => return,
    }
    sa.rendered
        .push(format!("{} {} by a JSON patch of {shown}", op.op, op.path));
}

fn json_op_on_workload(op: &JsonOp, span: Span, shown: &str, w: &mut Workload) {
    let path = pointer(&op.path);
    let is_service_account = matches!(
        path.last().map(String::as_str),
        Some("serviceAccountName" | "serviceAccount")
    );
    if !is_service_account || !matches!(op.op.as_str(), "add" | "replace") {
        return;
    }
    if let Some(t) = op.value.as_ref().and_then(|v| v.as_str()) {
        w.service_account = PodServiceAccount::Named(Spanned::new(t.to_string(), span));
        w.rendered.push(format!(
            "serviceAccountName set to {t} by a JSON patch of {shown}"
        ));
    }
}

fn set_annotation(
    annotations: &mut Vec<Annotation>,
    key: &str,
    value: Option<Spanned<Str>>,
    key_span: Span,
) {
    annotations.retain(|a| a.key.value != key);
    annotations.push(Annotation {
        key: Spanned::new(key.to_string(), key_span),
        value,
    });
}

/// `namePrefix` / `nameSuffix` rename every object, and the references to renamed
/// ServiceAccounts in workloads of the same view.
fn apply_names(doc: &serde_json::Value, shown: &str, facts: &mut Facts) {
    let prefix = doc.get("namePrefix").and_then(|v| v.as_str()).unwrap_or("");
    let suffix = doc.get("nameSuffix").and_then(|v| v.as_str()).unwrap_or("");
    if prefix.is_empty() && suffix.is_empty() {
        return;
    }
    let mut renamed = HashSet::new();
    for sa in &mut facts.service_accounts {
        renamed.insert(sa.name.value.clone());
        let new = format!("{prefix}{}{suffix}", sa.name.value);
        sa.rendered.push(format!(
            "name {} renamed to {new} by namePrefix/nameSuffix of {shown}",
            sa.name.value
        ));
        sa.name.value = new;
    }
    for w in &mut facts.workloads {
        w.name.value = format!("{prefix}{}{suffix}", w.name.value);
        if let PodServiceAccount::Named(sa) = &mut w.service_account
            && renamed.contains(&sa.value)
        {
            let new = format!("{prefix}{}{suffix}", sa.value);
            w.rendered.push(format!(
                "serviceAccountName {} renamed to {new} by {shown}",
                sa.value
            ));
            sa.value = new;
        }
    }
}

/// `namespace` moves every object of the view into one namespace.
fn apply_namespace(doc: &serde_json::Value, shown: &str, facts: &mut Facts) {
    // An empty namespace sets nothing (kustomize's transformer returns early on it).
    let Some(ns) = doc
        .get("namespace")
        .and_then(|v| v.as_str())
        .filter(|ns| !ns.is_empty())
    else {
        return;
    };
    for sa in &mut facts.service_accounts {
        if !sa.namespace_explicit {
            sa.rendered
                .push(format!("namespace set to {ns} by {shown}"));
        } else if sa.namespace.value != ns {
            sa.rendered.push(format!(
                "namespace {} changed to {ns} by {shown}",
                sa.namespace.value
            ));
        }
        sa.namespace.value = ns.to_string();
        sa.namespace_explicit = true;
    }
    for w in &mut facts.workloads {
        match &mut w.namespace {
            Some(existing) => existing.value = ns.to_string(),
            None => w.namespace = Some(Spanned::new(ns.to_string(), w.name.span)),
        }
    }
}
