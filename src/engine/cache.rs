//! What the language server keeps between runs: disk texts by modification time, and each
//! file's syntax tree or manifest facts by the text they were computed from. When the editor
//! reports every change on disk ([`Cache::watch`]), also the walk, and disk texts are kept
//! without looking at the files again until a change is reported.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::SystemTime;

use foldhash::{HashMap, HashSet};
use hcl_edit::structure::Body;

use super::loader::Asked;
use super::read::{ReadOutcome, read_text_and_metadata, too_deeply_nested};
use crate::discover::{MissingPath, Walk};
use crate::facts::{Facts, TrustPolicy};
use crate::open::Links;
use crate::parse::ParseError;
use crate::parse::memo::TextMemo;
use crate::source::{FileId, Found, SourceFile};

/// Texts, syntax trees and facts kept between runs, so that re-linting after a one-file
/// edit does not re-read or re-parse the files that did not change.
///
/// A disk text is reused while the file's modification time and length are the ones seen
/// when it was read. A file's syntax tree or manifest facts are reused while its file id,
/// shown path and whole text are the ones they were computed from: they are a function of
/// exactly these (the syntax follows from the file name), so the reuse cannot change a
/// finding.
#[derive(Default)]
pub struct Cache {
    /// Read by every file of every run at once, written only for a file read anew.
    disk: RwLock<HashMap<PathBuf, DiskText>>,
    /// Every change on disk is reported through [`Cache::disk_changed`].
    watching: AtomicBool,
    /// The disk texts and the walk have been checked against the disk since watching began:
    /// until then, a change made before the watch started could go unreported.
    verified: AtomicBool,
    /// The last walk, by the roots walked; kept only while watching.
    walk: Mutex<Option<(Vec<PathBuf>, Walk)>>,
    /// While watching, what was reported since a [`Session`](super::Session) last asked.
    reported: Mutex<Reported>,
    /// What was found in each text (its line index, its markers) and its nesting scan, by
    /// the path it was read from.
    prepared: RwLock<HashMap<PathBuf, Prepared>>,
    pub(super) terraform: PerFile<Result<Body, ParseError>>,
    /// Each manifest file's facts, its ConfigMaps apart (see [`ManifestReading`]), and
    /// whether its ConfigMaps were read.
    pub(super) manifests: PerFile<(ManifestReading, bool)>,
    /// Each standalone root module's parse errors and facts, by directory.
    pub(super) roots: PerInputs<RootResult>,
    /// The directories that take part in local module calls, evaluated together.
    pub(super) called: PerInputs<CalledResult>,
    /// The texts Flux substituted in the last run, read (see [`KeptReadings`]).
    substituted: Mutex<Substituted>,
    /// Flux's builds and the kustomize views of the last run, with what each looked at.
    pub(super) builds: crate::facts::flux::KeptBuilds,
    pub(super) views: crate::facts::kustomize::KeptViews,
    /// Flux's HelmReleases of the last run, resolved, with what each read.
    pub(super) releases: crate::facts::flux::KeptReleases,
    /// What runs made of files' texts (charts, kustomizations), by file id and text.
    pub(super) memo: TextMemo,
}

/// Readings of substituted texts, by file, each with the text it read: a folder that two
/// Flux Kustomizations deploy (one per cluster) is substituted twice.
type Substituted = HashMap<FileId, Vec<(Arc<str>, Arc<Facts>)>>;

/// The texts Flux substitutes in one run, read as the last run read them when it had the
/// same text: a reading of the same file id and text cannot differ. What this run reads is
/// what the next one finds, so a reading no run used is let go.
pub(super) struct KeptReadings<'c> {
    cache: &'c Cache,
    last: Substituted,
    this: Mutex<Substituted>,
}

impl crate::facts::kustomize::Readings for KeptReadings<'_> {
    fn objects(&self, file: FileId, text: &str) -> Facts {
        let same = |readings: &Substituted| {
            (readings.get(&file)?.iter())
                .find(|(read, _)| **read == *text)
                .map(|(read, facts)| (read.clone(), facts.clone()))
        };
        if let Some((_, facts)) = same(&lock(&self.this)) {
            return Facts::clone(&facts);
        }
        let (read, facts) = same(&self.last).unwrap_or_else(|| {
            let facts = crate::facts::kustomize::ReadAnew.objects(file, text);
            (Arc::from(text), Arc::new(facts))
        });
        let copy = Facts::clone(&facts);
        lock(&self.this)
            .entry(file)
            .or_default()
            .push((read, facts));
        copy
    }
}

impl Drop for KeptReadings<'_> {
    fn drop(&mut self) {
        *lock(&self.cache.substituted) = std::mem::take(&mut *lock(&self.this));
    }
}

/// What a manifest file says, and its ConfigMaps and Secrets: read always, copied into a
/// run only when Flux objects may read them; and whether it was read to the end (not stopped
/// by an internal error). Shared, so that a hit is not copied twice.
pub(super) type ManifestReading = crate::facts::kustomize::FileReading;

/// Give a run its own copy of each kept role's trust policy, allocated together. Shared with
/// the cache instead, the policies lay where evaluation had made them, among freed syntax
/// trees: the rules of an edit at 10,000 services took a fifth longer to read them, and the
/// server's memory grew by a third over 1,000 edits (pages its short-lived blocks pinned),
/// against a tenth with the copy, at no measured cost per edit.
pub(super) fn own_trust(facts: &mut Facts) {
    for role in &mut facts.roles {
        if let Some(trust) = &mut role.trust {
            *trust = Arc::new(TrustPolicy::clone(trust));
        }
    }
}

/// What a standalone root module gives: its parse errors, and its facts when it has files;
/// and what its evaluation asked the loader.
pub(super) type RootResult = Arc<(Vec<ParseError>, Option<Facts>, Vec<Asked>)>;

/// What the directories that call local modules (and those they call) give: the called
/// directories, each directory's parse errors, and each root's facts.
pub(super) type CalledResult = Arc<Called>;

#[derive(Clone)]
pub(super) struct Called {
    /// The directories the callers call, and their files when evaluated.
    pub called: HashSet<PathBuf>,
    pub callees: CacheInputs,
    pub parse_errors: Vec<(PathBuf, Vec<ParseError>)>,
    pub roots: Vec<(PathBuf, Facts)>,
    /// What the roots' evaluations asked the loader.
    pub asked: Vec<Asked>,
}

/// A text read from disk anew, by its path.
pub(super) struct FreshDisk(PathBuf, DiskText);

/// What was found in a text not kept before, by the path it was read from.
pub(super) struct FreshText(PathBuf, Prepared);

/// What a text gives, kept with the text it was computed from.
struct Prepared {
    text: Arc<str>,
    /// Shared with every run's reading of the text, each thing found when first asked.
    found: Arc<Found>,
    /// What the scan of the run that kept the text said. A full run does not scan a text
    /// whose own reader bounds it (a Terraform template by name, a JSON text that may be a
    /// plan): kept as `None`, it must not be taken for "not too deep" by a caller that would
    /// parse it otherwise. The patches take only YAML and Terraform that is no template.
    too_deep: Option<usize>,
}

struct DiskText {
    modified: SystemTime,
    len: u64,
    text: Arc<str>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("disk_texts", &read_lock(&self.disk).len())
            .field("terraform_files", &lock(&self.terraform.0).len())
            .field("manifests", &lock(&self.manifests.0).len())
            .finish()
    }
}

/// A poisoned lock only means another thread panicked while holding it; every entry is
/// written whole, so the map is still consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read_lock<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write_lock<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// The changes reported while watching, for a session to read only the files they name.
#[derive(Default)]
struct Reported {
    /// Counts the walks forgotten and the watches begun: a session that saw the same count
    /// lints the same files, and reads them the same unless a change names them.
    walks: u64,
    /// Each file (or folder) a relevant change was reported for.
    paths: Vec<PathBuf>,
}

/// What changed on disk, as an editor's file watcher reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskChange {
    Created,
    Changed,
    Deleted,
}

impl Cache {
    /// The readings of one run's substituted texts, kept for the next when dropped.
    pub(super) fn readings(&self) -> KeptReadings<'_> {
        KeptReadings {
            cache: self,
            last: std::mem::take(&mut *lock(&self.substituted)),
            this: Mutex::default(),
        }
    }

    /// From now on, every change on disk below the roots is reported through
    /// [`Cache::disk_changed`] (an editor watches the workspace), so a run need not walk
    /// the folders again nor look at each file's modification time. The next run still does
    /// both once, to see what changed before the watch began.
    pub fn watch(&self) {
        self.verified.store(false, Ordering::SeqCst);
        *lock(&self.walk) = None;
        lock(&self.reported).walks += 1;
        self.watching.store(true, Ordering::SeqCst);
    }

    /// A file or folder was created, changed or deleted. Whether that can change what is
    /// linted: a file irsa-lint reads (or its configuration), an ignore file, or a folder
    /// the walk lists again.
    pub fn disk_changed(&self, path: &Path, change: DiskChange) -> bool {
        // The walk's ignore files, and any file named like `.git/info/exclude`.
        let ignore_file = path.file_name().is_some_and(|n| {
            crate::discover::IGNORE_FILES.iter().any(|f| n == *f) || n == "exclude"
        });
        let read = crate::discover::classify(path).is_some()
            || path
                .file_name()
                .is_some_and(|n| n == crate::config::FILE_NAME);
        let walked_below = |walk: &Walk| {
            walk.inputs.iter().any(|i| i.path.starts_with(path))
                || walk.unreadable.iter().any(|(p, _)| p.starts_with(path))
        };
        let mut walk = lock(&self.walk);
        let relevant = match change {
            DiskChange::Changed => read || ignore_file,
            // A new folder may hold files to read; a new file that is not read changes nothing.
            DiskChange::Created => read || ignore_file || !path.is_file(),
            DiskChange::Deleted => {
                read || ignore_file || walk.as_ref().is_none_or(|(_, w)| walked_below(w))
            }
        };
        let walk_changed = relevant && (change != DiskChange::Changed || ignore_file);
        if walk_changed {
            *walk = None;
        }
        drop(walk);
        if relevant && self.watching.load(Ordering::SeqCst) {
            let mut reported = lock(&self.reported);
            reported.walks += u64::from(walk_changed);
            reported.paths.push(path.to_path_buf());
        }
        // A file is one entry; a folder created or deleted, every entry below it. A checkout
        // reports thousands of files one by one: each is one removal, not a scan.
        let mut disk = write_lock(&self.disk);
        if relevant && disk.remove(path).is_none() && change != DiskChange::Changed {
            disk.retain(|p, _| !p.starts_with(path));
        }
        relevant
    }

    /// The count of walks forgotten and watches begun; and, while every change on disk is
    /// reported and the texts kept were checked since, the paths of every change since the
    /// last call. One session reads them: a cache serves one.
    pub(super) fn take_reported(&self) -> (u64, Option<Vec<PathBuf>>) {
        let mut reported = lock(&self.reported);
        let paths = std::mem::take(&mut reported.paths);
        let trusted = self.watching.load(Ordering::SeqCst) && self.verified.load(Ordering::SeqCst);
        (reported.walks, trusted.then_some(paths))
    }

    /// The files below `roots`: the last walk when every change since is reported, else a
    /// new walk.
    pub(super) fn discover(&self, roots: &[PathBuf]) -> Result<Walk, MissingPath> {
        if !self.watching.load(Ordering::SeqCst) {
            return crate::discover::discover(roots);
        }
        if let Some((walked, walk)) = &*lock(&self.walk)
            && walked == roots
        {
            return Ok(walk.clone());
        }
        let walk = crate::discover::discover(roots)?;
        *lock(&self.walk) = Some((roots.to_vec(), walk.clone()));
        Ok(walk)
    }

    /// Every file has been read (or its modification time compared) once since watching
    /// began: from now on, a text is kept until a change to its file is reported.
    pub(super) fn read_all(&self) {
        if self.watching.load(Ordering::SeqCst) {
            self.verified.store(true, Ordering::SeqCst);
        }
    }

    /// Room for the texts and prepared files of `files` files: grown one file at a time by
    /// the threads that read them, the maps were rehashed, under their write locks, at
    /// every doubling of the first lint.
    pub(super) fn make_room(&self, files: usize) {
        let mut disk = write_lock(&self.disk);
        let more = files.saturating_sub(disk.len());
        disk.reserve(more);
        drop(disk);
        let mut prepared = write_lock(&self.prepared);
        let more = files.saturating_sub(prepared.len());
        prepared.reserve(more);
    }

    /// The file, sharing what runs found in its text (its line index, built when first
    /// asked, not on each run that reports on the file), and where its nesting goes too
    /// deep: kept from the last run while the text read from `path` is the same. A text
    /// not kept yet comes with what to keep ([`Cache::keep_prepared`]).
    pub(super) fn prepare(
        &self,
        path: &Path,
        shown: PathBuf,
        text: Arc<str>,
        too_deep: impl FnOnce(&str) -> Option<usize>,
    ) -> (SourceFile, Option<usize>, Option<FreshText>) {
        if let Some(hit) = read_lock(&self.prepared).get(path)
            && (Arc::ptr_eq(&hit.text, &text) || *hit.text == *text)
        {
            let file = SourceFile::sharing(shown, text, hit.found.clone());
            return (file, hit.too_deep, None);
        }
        let deep = too_deep(&text);
        let file = SourceFile::new(shown, text.clone());
        let entry = Prepared {
            text,
            found: file.found().clone(),
            too_deep: deep,
        };
        (file, deep, Some(FreshText(path.to_path_buf(), entry)))
    }

    /// [`Cache::prepare`] for the files of a patch, kept at once.
    pub(super) fn prepare_and_keep(
        &self,
        path: &Path,
        shown: PathBuf,
        text: Arc<str>,
    ) -> (SourceFile, Option<usize>) {
        let (file, too_deep, fresh) = self.prepare(path, shown, text, too_deeply_nested);
        self.keep_prepared(fresh.into_iter());
        (file, too_deep)
    }

    /// Keep what [`Cache::prepare`] found in texts not kept before.
    pub(super) fn keep_prepared(&self, fresh: impl Iterator<Item = FreshText>) {
        insert_all(
            &self.prepared,
            fresh.map(|FreshText(path, entry)| (path, entry)),
        );
    }

    /// The file's text, from the cache when the file is unchanged since it was read; a text
    /// read anew comes with what to keep ([`Cache::keep_read`]).
    pub(super) fn read(&self, path: &Path, links: Links) -> (ReadOutcome, Option<FreshDisk>) {
        if self.verified.load(Ordering::SeqCst)
            && let Some(hit) = read_lock(&self.disk).get(path)
        {
            return (ReadOutcome::Text(hit.text.clone()), None);
        }
        let stamp = |m: &std::fs::Metadata| Some((m.modified().ok()?, m.len()));
        // A text kept from before is compared by its file's stamp; a file not read before is
        // read at once (a first lint looked up each file's metadata once more).
        let kept = (read_lock(&self.disk).get(path))
            .map(|hit| ((hit.modified, hit.len), hit.text.clone()));
        if let Some((kept_stamp, text)) = kept
            && std::fs::metadata(path).ok().as_ref().and_then(stamp) == Some(kept_stamp)
        {
            return (ReadOutcome::Text(text), None);
        }
        // Stamped as opened, before reading: a write between the two makes the stamp stale,
        // so the next run reads the file again rather than keeping an old text.
        let (text, metadata) = match read_text_and_metadata(path, links) {
            Ok(read) => read,
            Err(outcome) => return (outcome, None),
        };
        let text: Arc<str> = text.into();
        let fresh = stamp(&metadata).map(|(modified, len)| {
            let entry = DiskText {
                modified,
                len,
                text: text.clone(),
            };
            FreshDisk(path.to_path_buf(), entry)
        });
        (ReadOutcome::Text(text), fresh)
    }

    /// Keep the texts [`Cache::read`] read anew.
    pub(super) fn keep_read(&self, fresh: impl Iterator<Item = FreshDisk>) {
        insert_all(
            &self.disk,
            fresh.map(|FreshDisk(path, entry)| (path, entry)),
        );
    }
}

/// Insert what the threads of a run found, all under one write lock: each thread inserting
/// as it went, one file at a time, made the first lint's read and sources stages 7 and
/// 10 ms longer at 10,000 services.
fn insert_all<T>(map: &RwLock<HashMap<PathBuf, T>>, entries: impl Iterator<Item = (PathBuf, T)>) {
    let mut map = write_lock(map);
    for (path, entry) in entries {
        map.insert(path, entry);
    }
}

/// The inputs of an evaluation: every file it read (id, shown path, text) and what else it
/// depends on (the number of files in the run, which places the built-in models' ids, and
/// the variables given).
#[derive(Debug, Clone)]
pub(super) struct CacheInputs {
    pub files: Vec<(FileId, PathBuf, Arc<str>)>,
    pub context: String,
}

impl PartialEq for CacheInputs {
    fn eq(&self, other: &Self) -> bool {
        self.context == other.context
            && self.files.len() == other.files.len()
            && self.files.iter().zip(&other.files).all(|(a, b)| {
                a.0 == b.0 && same_path(&a.1, &b.1) && (Arc::ptr_eq(&a.2, &b.2) || a.2 == b.2)
            })
    }
}

/// The same path written the same way. Paths here come from the same walk, so one written
/// differently (`a//b` for `a/b`) is only a cache miss; comparing bytes instead of `Path`'s
/// components is what lets the language server compare tens of thousands on every edit.
fn same_path(a: &Path, b: &Path) -> bool {
    a.as_os_str() == b.as_os_str()
}

/// What was evaluated from a set of inputs, by a key (a directory).
pub(super) struct PerInputs<T>(Mutex<HashMap<PathBuf, (CacheInputs, T)>>);

impl<T> Default for PerInputs<T> {
    fn default() -> Self {
        PerInputs(Mutex::default())
    }
}

impl<T: Clone> PerInputs<T> {
    /// The stored result when it was computed from these very inputs and `holds` accepts
    /// it, or else `compute`'s, stored for next time. Neither runs under the lock.
    pub(super) fn get(
        &self,
        key: &Path,
        inputs: CacheInputs,
        holds: impl FnOnce(&T) -> bool,
        compute: impl FnOnce() -> T,
    ) -> T {
        if let Some(hit) = self.lookup(key, &inputs, |_| true)
            && holds(&hit)
        {
            return hit;
        }
        let value = compute();
        self.store(key, inputs, value.clone());
        value
    }

    /// The stored result when it was computed from these inputs and `valid` accepts it.
    pub(super) fn lookup(
        &self,
        key: &Path,
        inputs: &CacheInputs,
        valid: impl Fn(&T) -> bool,
    ) -> Option<T> {
        let map = lock(&self.0);
        let (stored, value) = map.get(key)?;
        (stored == inputs && valid(value)).then(|| value.clone())
    }

    pub(super) fn store(&self, key: &Path, inputs: CacheInputs, value: T) {
        lock(&self.0).insert(key.to_path_buf(), (inputs, value));
    }
}

/// What was computed from each file.
pub(super) struct PerFile<T>(Mutex<HashMap<FileId, Computed<T>>>);

/// A value and the input it was computed from.
struct Computed<T> {
    shown: PathBuf,
    text: Arc<str>,
    value: T,
}

impl<T> Default for PerFile<T> {
    fn default() -> Self {
        PerFile(Mutex::default())
    }
}

impl<T> PerFile<T> {
    /// The stored result for this file and text when `holds` accepts it, or `compute`'s,
    /// stored for next time. The lock is not held while computing, so files are still
    /// parsed in parallel.
    pub(super) fn get(
        &self,
        id: FileId,
        file: &SourceFile,
        holds: impl FnOnce(&T) -> bool,
        compute: impl FnOnce() -> T,
    ) -> T
    where
        T: Clone,
    {
        if let Some(hit) = lock(&self.0).get(&id)
            && same_path(&hit.shown, &file.path)
            && (Arc::ptr_eq(&hit.text, &file.text) || hit.text == file.text)
            && holds(&hit.value)
        {
            return hit.value.clone();
        }
        let value = compute();
        let entry = Computed {
            shown: file.path.clone(),
            text: file.text.clone(),
            value: value.clone(),
        };
        lock(&self.0).insert(id, entry);
        value
    }
}
