//! Kustomize, for the parts that decide IRSA wiring: a kustomization's `resources`
//! (files, folders, nested kustomizations, components), `namespace`, `namePrefix` and
//! `nameSuffix` (which also rename `serviceAccountName` references), patches (strategic
//! merge and JSON 6902, inline or in a file, with targets), `commonAnnotations` and
//! `configMapGenerator` / `secretGenerator`. Flux HelmRelease objects and ConfigMaps go
//! through the same transformers as ServiceAccounts and workloads.
//!
//! Each kustomization that no other kustomization uses is a rendered view, linted as the
//! cluster would receive it; files used by a kustomization are not linted alone. Rendered
//! objects keep the spans of the base file's lines, with a note saying which kustomization
//! changed what. A Flux Kustomization renders a folder the same way (`render_folder`), its
//! files read through its post-build substitution.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use super::flux::ReleaseObject;
use super::{
    Annotation, ConfigData, DataValue, Facts, PodServiceAccount, ServiceAccount, Spanned, Workload,
};
use crate::eval::value::{Str, Value};
use crate::eval::workspace::normalize;
use crate::facts::manifests::{ManifestSyntax, extract_manifests};
use crate::parse::memo::TextMemo;
use crate::source::{FileId, SourceFile, SourceMap, Span};
use crate::text::envsubst::Substituted;

/// How a file is changed before it is read (Flux's post-build substitution): `None` when it
/// is read as written.
pub type Transform<'a> = dyn Fn(FileId, &str) -> Option<Substituted> + 'a;

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

/// The scanned YAML files of a run, and their index by path ([`Files`]), made when a build
/// first needs it and then read by every build of the run: the kustomize views' and Flux's.
pub struct Index<'a> {
    files: &'a [(FileId, PathBuf)],
    built: std::sync::OnceLock<Files>,
}

impl<'a> Index<'a> {
    pub fn new(files: &'a [(FileId, PathBuf)]) -> Index<'a> {
        Index {
            files,
            built: std::sync::OnceLock::new(),
        }
    }

    pub fn files(&self) -> &'a [(FileId, PathBuf)] {
        self.files
    }

    fn get(&self) -> &Files {
        self.built.get_or_init(|| Files::new(self.files))
    }
}

/// The scanned files by path, for the builds that read them.
#[derive(Default)]
pub struct Files {
    /// Every scanned file by normalized path. Looked up by the path's text: a path's own
    /// hash and comparison go component by component, a tenth of a kept build's check.
    files: HashMap<OsString, FileId>,
    /// Kustomization files by their folder, in path order and by the folder's text.
    kustomizations: BTreeMap<PathBuf, FileId>,
    kustomization_of: HashMap<OsString, FileId>,
    /// The files in path order, made when a folder's files are first asked for: a Flux
    /// Kustomization of a folder without a kustomization takes every file below it, and
    /// looking through all of them for each one was a tenth of a GitOps tree's rendering.
    in_order: std::sync::OnceLock<Vec<(PathBuf, FileId)>>,
}

impl Files {
    pub fn new(files: &[(FileId, PathBuf)]) -> Files {
        let mut index = Files::default();
        for (id, path) in files {
            let path = normalize(path);
            if is_kustomization(&path) {
                let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                index.kustomization_of.insert(dir.clone().into(), *id);
                index.kustomizations.insert(dir, *id);
            }
            index.files.insert(path.into(), *id);
        }
        index
    }

    /// The scanned file at a normalized path.
    fn file(&self, path: &Path) -> Option<FileId> {
        self.files.get(path.as_os_str()).copied()
    }

    /// The kustomization of a normalized folder.
    fn kustomization(&self, dir: &Path) -> Option<FileId> {
        self.kustomization_of.get(dir.as_os_str()).copied()
    }

    /// The files below `dir`, with their paths, in path order.
    fn below<'a>(&'a self, dir: &'a Path) -> impl Iterator<Item = &'a (PathBuf, FileId)> {
        let in_order = self.in_order.get_or_init(|| {
            let mut files: Vec<(PathBuf, FileId)> = (self.files.iter())
                .map(|(p, id)| (PathBuf::from(p), *id))
                .collect();
            files.sort_unstable();
            files
        });
        // Paths order by component, so the files below a folder follow one another.
        let start = in_order.partition_point(|(p, _)| p.as_path() < dir);
        in_order[start..]
            .iter()
            .take_while(move |(p, _)| p.starts_with(dir))
    }

    /// The YAML files below `dir` (not in a folder of `except`), in path order.
    fn yaml_below<'a>(
        &'a self,
        dir: &'a Path,
        except: &'a [&PathBuf],
    ) -> impl Iterator<Item = FileId> + 'a {
        self.below(dir)
            .filter(|(p, _)| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
            .filter(move |(p, _)| !except.iter().any(|k| p.starts_with(k)))
            .map(|(_, id)| *id)
    }

    /// The folders of the kustomizations below `dir` (not its own), in path order.
    fn kustomizations_below<'a>(&'a self, dir: &'a Path) -> impl Iterator<Item = &'a PathBuf> {
        use std::ops::Bound;
        (self.kustomizations)
            .range::<Path, _>((Bound::Excluded(dir), Bound::Unbounded))
            .map(|(k, _)| k)
            .take_while(move |k| k.starts_with(dir))
    }
}

#[derive(Clone, Copy)]
struct Tree<'s> {
    sources: &'s SourceMap,
    index: &'s Files,
    transform: Option<&'s Transform<'s>>,
    /// Where the files' objects are read.
    readings: &'s dyn Readings,
    /// Where kustomizations' documents are kept, read once.
    memo: Option<&'s TextMemo>,
    /// What the build looks at, when it is to be kept.
    seen: Option<&'s RefCell<Seen>>,
}

/// What a build looked at: each path it looked up and what was there, each folder it
/// listed, and each file whose path or text it read. A build that finds all of them as they
/// were, with the same transform, cannot differ from the last: the language server keeps
/// Flux's builds and the kustomize views by it ([`Kept`]).
#[derive(Default)]
pub struct Seen {
    files: Vec<(FileId, PathBuf, Arc<str>)>,
    read: HashSet<FileId>,
    /// A path, whether it was looked up as a kustomization's folder, and what was there.
    paths: Vec<(PathBuf, bool, Option<FileId>)>,
    /// A folder, the folders left out of it, and its YAML files.
    listings: Vec<(PathBuf, Vec<PathBuf>, Vec<FileId>)>,
    /// A folder and the folders of the kustomizations below it.
    nested: Vec<(PathBuf, Vec<PathBuf>)>,
    /// A folder and every file below it, whatever its name.
    below: Vec<(PathBuf, Vec<FileId>)>,
}

impl Seen {
    /// Record that a build read this file's path or text.
    pub fn file(&mut self, sources: &SourceMap, id: FileId) {
        if self.read.insert(id) {
            let file = sources.get(id);
            self.files.push((id, file.path.clone(), file.text.clone()));
        }
    }

    /// Record that a build looked up the file at a path (normalized) and found `found`.
    pub fn path(&mut self, path: &Path, found: Option<FileId>) {
        self.paths.push((normalize(path), false, found));
    }

    /// Record that a build listed every file below a folder, and found `files`.
    pub fn listed(&mut self, dir: &Path, files: Vec<FileId>) {
        self.below.push((normalize(dir), files));
    }

    /// Whether `sources` and `index` show the build everything as it saw it.
    pub fn holds(&self, sources: &SourceMap, index: &Index<'_>) -> bool {
        let files_hold = self.files.iter().all(|(id, path, text)| {
            (id.0 as usize) < sources.len() && {
                let now = sources.get(*id);
                now.path.as_os_str() == path.as_os_str()
                    && (Arc::ptr_eq(&now.text, text) || *now.text == **text)
            }
        });
        if !files_hold {
            return false;
        }
        let index = index.get();
        (self.paths.iter()).all(|(path, kustomization, found)| {
            let now = match kustomization {
                true => index.kustomization(path),
                false => index.file(path),
            };
            now == *found
        }) && (self.listings.iter()).all(|(dir, except, ids)| {
            let except: Vec<&PathBuf> = except.iter().collect();
            index.yaml_below(dir, &except).eq(ids.iter().copied())
        }) && (self.nested.iter())
            .all(|(dir, nested)| index.kustomizations_below(dir).eq(nested.iter()))
            && (self.below.iter())
                .all(|(dir, ids)| index.below(dir).map(|(_, id)| id).eq(ids.iter()))
    }
}

/// Builds of the last run, each with what it looked at ([`Seen`]), kept by the language
/// server: a build of the same key, in a run of the same context, that finds everything it
/// looked at as it was, is the same build. What a run builds or takes is what the next one
/// finds; a build no run used is let go.
pub struct Kept<K, T> {
    last: Mutex<Generation<K, T>>,
}

impl<K, T> Default for Kept<K, T> {
    fn default() -> Self {
        Kept {
            last: Mutex::default(),
        }
    }
}

/// A build, its key and what it looked at.
type Build<K, T> = Arc<(K, Seen, T)>;

struct Generation<K, T> {
    /// What every build of the run read besides what it recorded, written out.
    context: String,
    builds: Vec<Build<K, T>>,
}

impl<K, T> Default for Generation<K, T> {
    fn default() -> Self {
        Generation {
            context: String::new(),
            builds: Vec::new(),
        }
    }
}

/// The key of a kept build.
pub trait KeptKey: PartialEq + Clone {
    /// Where to look for the key: only builds of the same slot are compared with it. One
    /// slot for all suits a few dozen builds; thousands need their keys spread.
    fn slot(&self) -> u64 {
        0
    }
}

impl<K: KeptKey, T: Clone> Kept<K, T> {
    /// One run's builds; `context` is what all of them read besides what each records.
    pub fn run(&self, context: String) -> KeptRun<'_, K, T> {
        let mut last = std::mem::take(&mut *lock(&self.last));
        if last.context != context {
            last.builds.clear();
        }
        let mut slots: HashMap<u64, Vec<Build<K, T>>> = HashMap::new();
        for kept in last.builds {
            slots.entry(kept.0.slot()).or_default().push(kept);
        }
        KeptRun {
            kept: self,
            context,
            last: slots,
            this: Mutex::new(Vec::new()),
        }
    }
}

/// A run's use of [`Kept`]: given back to it when dropped.
pub struct KeptRun<'k, K: KeptKey, T: Clone> {
    kept: &'k Kept<K, T>,
    context: String,
    last: HashMap<u64, Vec<Build<K, T>>>,
    this: Mutex<Vec<Build<K, T>>>,
}

impl<K: KeptKey, T: Clone> KeptRun<'_, K, T> {
    /// The last run's build of `key` when `holds` says what it looked at is unchanged, else
    /// `build`'s, which records what it looks at.
    pub fn build(
        &self,
        key: &K,
        holds: impl Fn(&Seen) -> bool,
        build: impl FnOnce(&RefCell<Seen>) -> T,
    ) -> T {
        let same = (self.last.get(&key.slot()).into_iter().flatten())
            .find(|kept| kept.0 == *key && holds(&kept.1));
        if let Some(same) = same {
            lock(&self.this).push(same.clone());
            return same.2.clone();
        }
        let seen = RefCell::new(Seen::default());
        let built = build(&seen);
        let kept = (key.clone(), seen.into_inner(), built.clone());
        lock(&self.this).push(Arc::new(kept));
        built
    }
}

impl<K: KeptKey, T: Clone> Drop for KeptRun<'_, K, T> {
    fn drop(&mut self) {
        *lock(&self.kept.last) = Generation {
            context: std::mem::take(&mut self.context),
            builds: std::mem::take(&mut *lock(&self.this)),
        };
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The kustomize views of the last run (see [`render_all`]), by folder and kustomization.
pub type KeptViews = Kept<(PathBuf, FileId), (Facts, HashSet<FileId>)>;

impl KeptKey for (PathBuf, FileId) {}

/// A kustomization's document (`None` when it is not YAML), read once.
struct Document(Option<serde_json::Value>);

/// Where a build reads the objects of a file's text (as written, or as Flux substituted
/// it), without its syntax errors and in any unit (a build moves them to its own with
/// [`Facts::set_unit`]): anew, or as read already.
pub trait Readings: Sync {
    fn objects(&self, file: FileId, text: &str) -> Facts;
}

/// Every text read anew.
pub struct ReadAnew;

impl Readings for ReadAnew {
    fn objects(&self, file: FileId, text: &str) -> Facts {
        let mut facts = extract_manifests(file, text, ManifestSyntax::Yaml, "");
        facts.parse_errors.clear();
        facts
    }
}

/// A file read on its own: its facts but its ConfigMaps and Secrets, those apart, and
/// whether it was read to the end. Shared with the language server's cache, and copied only
/// for a view that is rendered (a kept view takes none).
pub type FileReading = Arc<(Facts, Vec<ConfigData>, bool)>;

/// The objects of files already read on their own, by file, with the text read: read once
/// for both the file and the views that take it in. Another text is read anew.
pub type ReadAlone = HashMap<FileId, (Arc<str>, FileReading)>;

impl Readings for ReadAlone {
    fn objects(&self, file: FileId, text: &str) -> Facts {
        match self.get(&file) {
            Some((read, reading)) if **read == *text => {
                let (facts, config_data, _) = &**reading;
                Facts {
                    config_data: config_data.clone(),
                    parse_errors: Vec::new(),
                    ..facts.clone()
                }
            }
            _ => ReadAnew.objects(file, text),
        }
    }
}

impl<'s> Tree<'s> {
    /// A file the build reads the path or text of.
    fn source(&self, id: FileId) -> &'s SourceFile {
        if let Some(seen) = self.seen {
            seen.borrow_mut().file(self.sources, id);
        }
        self.sources.get(id)
    }

    /// The file at a path, if one was scanned.
    fn file_at(&self, path: &Path) -> Option<FileId> {
        let found = self.index.file(path);
        if let Some(seen) = self.seen {
            (seen.borrow_mut().paths).push((path.to_path_buf(), false, found));
        }
        found
    }

    /// The kustomization of a folder, if it has one.
    fn kustomization_at(&self, dir: &Path) -> Option<FileId> {
        let found = self.index.kustomization(dir);
        if let Some(seen) = self.seen {
            (seen.borrow_mut().paths).push((dir.to_path_buf(), true, found));
        }
        found
    }
}

/// Render every kustomization no other one uses; `read` has the objects of files read
/// already, `memo` keeps the kustomizations' documents, `kept` the last run's views.
pub fn render_all(
    sources: &SourceMap,
    index: &Index<'_>,
    read: &ReadAlone,
    memo: Option<&TextMemo>,
    kept: Option<&KeptViews>,
) -> Rendered {
    // Without a kustomization there is nothing to render, and no index of every file to
    // build: the language server asked for one on every edit.
    if !index.files().iter().any(|(_, path)| is_kustomization(path)) {
        return Rendered::default();
    }
    let tree = Tree {
        sources,
        index: index.get(),
        transform: None,
        readings: read,
        memo,
        seen: None,
    };
    let mut out = Rendered::default();
    let kustomizations = &tree.index.kustomizations;
    if kustomizations.is_empty() {
        return out;
    }
    // A kustomization another one uses is a base, not a view of its own.
    let mut used = HashSet::new();
    for (dir, id) in kustomizations {
        for entry in tree.entries(*id, &["resources", "bases", "components"]) {
            let target = normalize(&dir.join(&entry));
            if tree.index.kustomization(&target).is_some() {
                used.insert(target);
            }
        }
    }
    let kept = kept.map(|kept| kept.run(String::new()));
    for (dir, id) in kustomizations {
        out.owned.insert(*id);
        if used.contains(dir) {
            continue;
        }
        let render = |seen: Option<&RefCell<Seen>>| {
            let tree = Tree { seen, ..tree };
            let unit = (tree.source(*id).path.parent())
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let mut owned = HashSet::new();
            let view = tree.render(dir, *id, &unit, 0, &mut owned, &mut HashSet::new());
            (view, owned)
        };
        let (view, owned) = match &kept {
            Some(kept) => kept.build(
                &(dir.clone(), *id),
                |seen| seen.holds(sources, index),
                |seen| render(Some(seen)),
            ),
            None => render(None),
        };
        out.owned.extend(owned);
        out.views.insert(dir.clone(), view);
    }
    out
}

/// Where a Flux build of a folder reads (see [`render_folder`]).
pub struct FolderBuild<'a> {
    pub sources: &'a SourceMap,
    pub index: &'a Index<'a>,
    pub transform: &'a Transform<'a>,
    pub readings: &'a dyn Readings,
    pub memo: Option<&'a TextMemo>,
    pub seen: Option<&'a RefCell<Seen>>,
}

/// The objects of a folder as a Flux Kustomization deploys it: its kustomization, or else
/// every manifest below it (a subfolder with a kustomization of its own as one resource), each
/// file read through `transform`, its objects from `readings` (kustomizations' documents kept
/// in `memo`). What the build looks at is recorded in `seen`, when given.
pub fn render_folder(build: FolderBuild<'_>, dir: &Path, unit: &str) -> Facts {
    let files = build.index.get();
    let seen = build.seen;
    let tree = Tree {
        sources: build.sources,
        index: files,
        transform: Some(build.transform),
        readings: build.readings,
        memo: build.memo,
        seen,
    };
    let mut owned = HashSet::new();
    if let Some(id) = tree.kustomization_at(dir) {
        return tree.render(dir, id, unit, 0, &mut owned, &mut HashSet::new());
    }
    // Flux generates a kustomization: the topmost kustomizations below the folder, and every
    // YAML file outside them.
    let nested: Vec<&PathBuf> = files.kustomizations_below(dir).collect();
    if let Some(seen) = seen {
        let listed = nested.iter().map(|k| (*k).clone()).collect();
        seen.borrow_mut().nested.push((dir.to_path_buf(), listed));
    }
    let topmost: Vec<&PathBuf> = nested
        .iter()
        .filter(|k| !nested.iter().any(|o| k.starts_with(o) && o != *k))
        .copied()
        .collect();
    let mut facts = Facts::default();
    let mut included = HashSet::new();
    for k in &topmost {
        let Some(id) = tree.kustomization_at(k) else {
            continue;
        };
        owned.insert(id);
        facts.extend(tree.render(k, id, unit, 1, &mut owned, &mut included));
    }
    let below: Vec<FileId> = files.yaml_below(dir, &topmost).collect();
    if let Some(seen) = seen {
        let except = topmost.iter().map(|k| (*k).clone()).collect();
        (seen.borrow_mut().listings).push((dir.to_path_buf(), except, below.clone()));
    }
    for id in below {
        facts.extend(tree.objects(id, unit));
    }
    facts
}

impl Tree<'_> {
    /// A file's text substituted by the tree's transform, when that changes anything.
    fn substituted(&self, id: FileId) -> Option<Substituted> {
        self.transform.and_then(|t| t(id, &self.source(id).text))
    }

    /// A kustomization's document as the build reads it: its text as written is read once.
    fn document(&self, id: FileId) -> Arc<Document> {
        let read = |text: &str| Document(crate::parse::yaml::to_json(text));
        match (self.substituted(id), self.memo) {
            (Some(s), _) => Arc::new(read(&s.text)),
            (None, Some(memo)) => {
                let text = &self.source(id).text;
                memo.get(id, text, || read(text))
            }
            (None, None) => Arc::new(read(&self.source(id).text)),
        }
    }

    /// The string entries of some list fields of a kustomization.
    fn entries(&self, id: FileId, fields: &[&str]) -> Vec<String> {
        (self.document(id).0.as_ref())
            .map(|doc| entries_of(doc, fields))
            .unwrap_or_default()
    }

    /// The objects of one kustomization, transformed as `kustomize build` would.
    /// `included` holds every folder and file this build has taken in so far: one listed
    /// again (twice in a list, or by two bases) makes `kustomize build` fail with duplicate
    /// resources, and is not rendered again, so a build costs linear time in what it lists
    /// even when every level lists the same base three times.
    fn render(
        &self,
        dir: &Path,
        id: FileId,
        unit: &str,
        depth: usize,
        owned: &mut HashSet<FileId>,
        included: &mut HashSet<PathBuf>,
    ) -> Facts {
        let mut facts = Facts::default();
        let document = self.document(id);
        let Some(doc) = &document.0 else {
            facts.hidden_service_accounts = true;
            return facts;
        };
        if depth > MAX_DEPTH {
            facts.hidden_service_accounts = true;
            return facts;
        }
        let shown = self.source(id).path.display().to_string();
        // How often each entry was met in this file so far: a repeat is shown where it is.
        let mut met: HashMap<String, usize> = HashMap::new();
        for entry in entries_of(doc, &["resources", "bases", "components"]) {
            let nth = met.entry(entry.clone()).or_default();
            *nth += 1;
            let nth = *nth - 1;
            if entry.contains("://") || entry.starts_with("github.com/") || entry.contains("?ref=")
            {
                facts.hidden_service_accounts = true; // a remote base: unknown
                continue;
            }
            let target = normalize(&dir.join(&entry));
            if !included.insert(target.clone()) {
                facts.hidden_service_accounts = true;
                let text = &self.source(id).text;
                let at = (text.match_indices(entry.as_str()).nth(nth))
                    .or_else(|| text.match_indices(entry.as_str()).next())
                    .map_or(0, |(at, _)| at);
                facts.parse_errors.push(crate::parse::ParseError {
                    span: Span::new(id, at..at + entry.len()),
                    message: format!(
                        "{entry} is already part of this build (listed twice, here or through \
                         a base): kustomize build fails with duplicate resources, so what it \
                         would deploy is not known"
                    ),
                });
                continue;
            }
            if let Some(sub) = self.kustomization_at(&target) {
                facts.extend(self.render(&target, sub, unit, depth + 1, owned, included));
            } else if let Some(file) = self.file_at(&target) {
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
        self.generators(doc, &at, owned, &mut facts);
        self.apply_patches(doc, &at, owned, &mut facts);
        apply_names(doc, &shown, &mut facts);
        apply_namespace(doc, &shown, &mut facts);
        apply_images(doc, &mut facts);
        self.apply_common_annotations(doc, id, &shown, &mut facts);
        facts
    }

    /// The ServiceAccounts and workloads of a resource file, in this view's unit. Its syntax
    /// errors are reported when the file is read on its own.
    fn objects(&self, file: FileId, unit: &str) -> Facts {
        let substituted = self.substituted(file);
        let text = match &substituted {
            Some(substituted) => substituted.text.as_str(),
            None => &self.source(file).text,
        };
        let mut facts = self.readings.objects(file, text);
        facts.set_unit(unit);
        if let Some(substituted) = substituted {
            facts.map_object_spans(&|span| {
                if span.file == file {
                    Span::new(file, substituted.original_range(span.range()))
                } else {
                    span
                }
            });
        }
        facts
    }

    /// `configMapGenerator` and `secretGenerator`: ConfigMaps with the data of their `files`
    /// (spanned at the file, whose YAML keeps its positions) and `literals`, Secrets with
    /// their keys. A generated name's hash suffix is left out: references to it name it
    /// without one (kustomize rewrites those it knows).
    fn generators(
        &self,
        doc: &serde_json::Value,
        at: &At<'_>,
        owned: &mut HashSet<FileId>,
        facts: &mut Facts,
    ) {
        for (field, secret) in [("configMapGenerator", false), ("secretGenerator", true)] {
            let span = key_span(self.source(at.id), at.id, field);
            for generator in doc
                .get(field)
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
            {
                let Some(name) = generator.get("name").and_then(|v| v.as_str()) else {
                    continue;
                };
                let namespace = generator
                    .get("namespace")
                    .and_then(|v| v.as_str())
                    .map(str::to_string);
                let merges = generator
                    .get("behavior")
                    .and_then(|v| v.as_str())
                    .is_some_and(|b| b != "create");
                let mut config = ConfigData {
                    secret,
                    name: name.to_string(),
                    shown: format!(
                        "{} {name} (generated by {})",
                        if secret { "Secret" } else { "ConfigMap" },
                        at.shown
                    ),
                    namespace,
                    data: BTreeMap::new(),
                    keys_known: !merges,
                    span,
                    dir: at.unit.to_string(),
                };
                let list = |key: &str| -> Vec<String> {
                    generator
                        .get(key)
                        .and_then(|v| v.as_array())
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                };
                for entry in list("files") {
                    let (key, path) = match entry.split_once('=') {
                        Some((k, p)) => (k.to_string(), p.to_string()),
                        None => (
                            Path::new(&entry)
                                .file_name()
                                .map(|n| n.to_string_lossy().into_owned())
                                .unwrap_or_default(),
                            entry.clone(),
                        ),
                    };
                    let file = self.file_at(&normalize(&at.dir.join(&path)));
                    let value = file.filter(|_| !secret).map(|id| {
                        owned.insert(id);
                        // A file the post-build step changes is read as substituted.
                        let text = &self.source(id).text;
                        let whole = Span::new(id, 0..text.len());
                        let (value, edits) = match self.substituted(id) {
                            Some(s) => (s.text, s.edits),
                            None => (text.to_string(), Vec::new()),
                        };
                        DataValue {
                            value: Spanned::new(Str::lit(value), whole),
                            yaml_at: Some(whole),
                            edits,
                        }
                    });
                    if file.is_none() {
                        config.keys_known = false;
                    }
                    config.data.insert(key, value);
                }
                for literal in list("literals") {
                    let (key, value) = literal.split_once('=').unwrap_or((&literal, ""));
                    let value = (!secret).then(|| DataValue {
                        value: Spanned::new(Str::lit(value), span),
                        yaml_at: None,
                        edits: Vec::new(),
                    });
                    config.data.insert(key.to_string(), value);
                }
                if !list("envs").is_empty() || generator.get("env").is_some() {
                    config.keys_known = false;
                }
                facts.config_data.push(config);
            }
        }
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
        let span = key_span(self.source(id), id, "commonAnnotations");
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
        let entry_span = |field: &str| key_span(self.source(id), id, field);
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
        let id = self.file_at(&normalize(&dir.join(path)))?;
        owned.insert(id);
        let text = match self.substituted(id) {
            Some(s) => s.text,
            None => self.source(id).text.to_string(),
        };
        Some((id, text))
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

/// The string entries of some list fields of a kustomization's document.
fn entries_of(doc: &serde_json::Value, fields: &[&str]) -> Vec<String> {
    fields
        .iter()
        .filter_map(|f| doc.get(*f)?.as_array())
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn key_span(file: &SourceFile, id: FileId, key: &str) -> Span {
    let text = &file.text;
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
    facts.map_object_spans(&|_| span);
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
            for p in &objects.release_objects {
                let applies = |r: &ReleaseObject| match target {
                    Some(t) => t.matches(
                        "HelmRelease",
                        &r.name.value,
                        r.namespace.as_ref().map(|n| n.value.as_str()),
                    ),
                    None => {
                        r.name.value == p.name.value
                            && p.namespace.as_ref().is_none_or(|pn| {
                                r.namespace.as_ref().is_some_and(|n| n.value == pn.value)
                            })
                    }
                };
                for r in facts.release_objects.iter_mut().filter(|r| applies(r)) {
                    r.merge_patch(p);
                    r.rendered.push(format!("patched by a patch of {shown}"));
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
                    if p.images.as_ref().is_none_or(|images| !images.is_empty()) {
                        w.images = None;
                    }
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
            for r in facts.release_objects.iter_mut() {
                let ns = r.namespace.as_ref().map(|n| n.value.as_str());
                if t.matches("HelmRelease", &r.name.value, ns) {
                    for op in ops {
                        json_op_on_release(op, *span, r);
                    }
                    r.rendered
                        .push(format!("patched by a JSON patch of {shown}"));
                }
            }
        }
    }
}

/// What a Flux Kustomization's own spec does to the objects of its folder, as kustomize
/// would: inline `patches` (with targets), `namePrefix` / `nameSuffix`, and
/// `targetNamespace`, which moves every object (spanned at `namespace_span`). Returns false
/// when the spec changes objects in a way not followed (v1beta2's `patchesStrategicMerge`
/// and `patchesJson6902`, `components`, EKS annotations in `commonMetadata`): they are then
/// unknown.
pub fn apply_flux_spec(
    spec: &serde_json::Value,
    patches_span: Span,
    namespace_span: Span,
    shown: &str,
    facts: &mut Facts,
) -> bool {
    // Components the spec adds, and EKS annotations `commonMetadata` puts on every object,
    // are not followed either.
    let eks_annotation = spec
        .pointer("/commonMetadata/annotations")
        .and_then(|v| v.as_object())
        .is_some_and(|m| m.keys().any(|k| k.starts_with("eks.amazonaws.com/")));
    if spec.get("patchesStrategicMerge").is_some()
        || spec.get("patchesJson6902").is_some()
        || spec.get("components").is_some()
        || eks_annotation
    {
        return false;
    }
    for p in spec
        .get("patches")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        let target = Target::from(p.get("target"));
        let patch = match p.get("patch").and_then(|v| v.as_str()) {
            Some(inline) => inline_patch(inline, patches_span),
            None => Patch::Unknown,
        };
        apply_patch(&patch, target.as_ref(), shown, "", facts);
    }
    apply_names(spec, shown, facts);
    apply_images(spec, facts);
    if let Some(ns) = spec
        .get("targetNamespace")
        .and_then(|v| v.as_str())
        .filter(|ns| !ns.is_empty())
    {
        let doc = serde_json::json!({ "namespace": ns });
        apply_namespace(&doc, &format!("spec.targetNamespace of {shown}"), facts);
        for sa in &mut facts.service_accounts {
            sa.namespace.span = namespace_span;
        }
        for w in &mut facts.workloads {
            if let Some(n) = &mut w.namespace {
                n.span = namespace_span;
            }
        }
        for r in &mut facts.release_objects {
            if let Some(n) = &mut r.namespace {
                n.span = namespace_span;
            }
        }
    }
    true
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
    // A container's image, or containers as a whole, changed: which image runs is unknown.
    if path
        .iter()
        .any(|p| matches!(p.as_str(), "containers" | "image" | "template" | "spec"))
        && path.last().is_none_or(|p| !p.starts_with("serviceAccount"))
    {
        w.images = None;
    }
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

/// A JSON 6902 operation on a HelmRelease: its values are followed; a change of what names
/// the release, its namespace or its chart makes them unknown; anything else (a chart
/// version, an interval) changes nothing irsa-lint reads.
fn json_op_on_release(op: &JsonOp, span: Span, r: &mut ReleaseObject) {
    let path = pointer(&op.path);
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    match path.as_slice() {
        ["spec", "values", rest @ ..] => {
            let values = r.values.get_or_insert_with(Default::default);
            let keys: Vec<String> = rest.iter().map(|k| k.to_string()).collect();
            match (op.op.as_str(), &op.value) {
                ("add" | "replace", Some(v)) if keys.is_empty() => {
                    *values = Default::default();
                    values.merge(&json_value(v), &|_| span);
                }
                ("add" | "replace", Some(v)) if !keys.iter().any(|k| k == "-") => {
                    match json_value(v) {
                        Value::Map(m) => {
                            let mut wrapped = Value::Map(m);
                            for k in keys.iter().rev() {
                                wrapped = Value::Map(BTreeMap::from([(k.clone(), wrapped)]));
                            }
                            values.merge(&wrapped, &|_| span);
                        }
                        leaf => values.set(keys, leaf, span),
                    }
                }
                ("remove", _) if !keys.is_empty() => {
                    values.set(keys, Value::Null, span);
                }
                _ => values.unknown = true,
            }
        }
        ["metadata", "name" | "namespace"]
        | [
            "spec",
            "releaseName" | "targetNamespace" | "chart" | "chartRef" | "valuesFrom",
            ..,
        ] => r.known = false,
        _ => {}
    }
}

/// A JSON value as a Terraform-style value (strings known).
fn json_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => n.as_f64().map_or(Value::Unknown, Value::Number),
        serde_json::Value::String(s) => Value::str(s.clone()),
        serde_json::Value::Array(a) => Value::List(a.iter().map(json_value).collect()),
        serde_json::Value::Object(o) => {
            Value::Map(o.iter().map(|(k, v)| (k.clone(), json_value(v))).collect())
        }
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

/// `images` (and `replacements`, which may write anywhere) set container images that are
/// not followed: every workload's images are then unknown.
fn apply_images(doc: &serde_json::Value, facts: &mut Facts) {
    if doc.get("images").is_some() || doc.get("replacements").is_some() {
        for w in &mut facts.workloads {
            w.images = None;
        }
    }
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
    for r in &mut facts.release_objects {
        let new = format!("{prefix}{}{suffix}", r.name.value);
        r.rendered.push(format!(
            "name {} renamed to {new} by namePrefix/nameSuffix of {shown}",
            r.name.value
        ));
        r.name.value = new;
    }
    for c in &mut facts.config_data {
        c.name = format!("{prefix}{}{suffix}", c.name);
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
    for r in &mut facts.release_objects {
        match &mut r.namespace {
            Some(existing) if existing.value != ns => {
                r.rendered.push(format!(
                    "namespace {} changed to {ns} by {shown}",
                    existing.value
                ));
                existing.value = ns.to_string();
            }
            Some(_) => {}
            None => {
                r.rendered.push(format!("namespace set to {ns} by {shown}"));
                r.namespace = Some(Spanned::new(ns.to_string(), r.name.span));
            }
        }
    }
    for c in &mut facts.config_data {
        c.namespace = Some(ns.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder's files are a range of the files in path order: a sibling whose name starts
    /// with the folder's (`team-2`, `team.yaml`) is not in it, nor is a nested
    /// kustomization's folder or a file that is not YAML.
    #[test]
    fn the_yaml_below_a_folder_are_its_own_and_in_path_order() {
        let paths = [
            "apps/team-2/api.yaml",
            "apps/team/worker.yml",
            "apps/team.yaml",
            "apps/team/sub/kustomization.yaml",
            "apps/team/sub/billing.yaml",
            "apps/team/api.yaml",
            "apps/team/README.md",
            "apps/teams/api.yaml",
        ];
        let files: Vec<(FileId, PathBuf)> = (paths.iter().enumerate())
            .map(|(i, p)| (FileId(i as u32), PathBuf::from(p)))
            .collect();
        let index = Files::new(&files);
        let sub = PathBuf::from("apps/team/sub");
        let below: Vec<&str> = index
            .yaml_below(Path::new("apps/team"), &[&sub])
            .map(|id| paths[id.0 as usize])
            .collect();
        assert_eq!(below, ["apps/team/api.yaml", "apps/team/worker.yml"]);
    }
}
