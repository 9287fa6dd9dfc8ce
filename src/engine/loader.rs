//! The `file()` / `templatefile()` loader: files Terraform code reads by path. Files already
//! read are shared; new ones get ids after the ones in the source map and are registered
//! afterwards. On disk only files below the scanned roots are read; in memory, only the
//! texts given.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use foldhash::{HashMap, HashMapExt};

use super::read::read_text;
use super::{InputFile, Roots};
use crate::eval::FileLoader;
use crate::eval::workspace::normalize;
use crate::open::Links;
use crate::parse::memo::TextMemo;
use crate::source::{FileId, SourceMap};

pub(super) struct Loader<'s> {
    /// The scanned roots, canonical; `None` when the inputs are texts in memory.
    roots: Option<Vec<PathBuf>>,
    /// The roots on disk as given, each with its canonical path.
    given: Vec<(PathBuf, PathBuf)>,
    /// The files already read, indexed only when the first `file()` call asks for them:
    /// most trees never call it, and resolving every path costs a system call per file.
    files: &'s [InputFile],
    sources: &'s SourceMap,
    known: OnceLock<HashMap<PathBuf, (FileId, Arc<str>)>>,
    /// `known`'s paths by folder, sorted, for listings.
    folders: OnceLock<HashMap<PathBuf, Vec<PathBuf>>>,
    extra: Mutex<Vec<(PathBuf, Arc<str>)>>,
    extra_index: Mutex<HashMap<PathBuf, FileId>>,
    base: u32,
    /// The files of the scan it gave, the paths it found nothing at, and whether it listed a
    /// folder: with `extra`, what Terraform's facts depend on beyond its own files.
    served: Mutex<Vec<FileId>>,
    missed: Mutex<Vec<PathBuf>>,
    listed: AtomicBool,
    /// What is made of the files it reads (see [`FileLoader::memo`]).
    memo: &'s TextMemo,
}

/// What the evaluations read through the loader (see [`Loader::reads`]).
pub(super) struct Reads {
    /// Files of the scan, by id.
    pub scanned: Vec<FileId>,
    /// Paths where no file could be read.
    pub missed: Vec<PathBuf>,
    /// Whether it listed a folder's files. A listing is of the scanned files only, so it
    /// changes only with the files scanned; but the files a listing named may be read by
    /// other means than the loader (a chart's templates).
    pub listed: bool,
}

impl<'s> Loader<'s> {
    /// `memo` keeps what is made of the files read: the run's, or the language server's.
    pub(super) fn new(
        sources: &'s SourceMap,
        files: &'s [InputFile],
        roots: &Roots,
        memo: &'s TextMemo,
    ) -> Self {
        let given: Vec<(PathBuf, PathBuf)> = match roots {
            Roots::Disk(paths) => paths
                .iter()
                .filter_map(|r| Some((r.clone(), r.canonicalize().ok()?)))
                .collect(),
            Roots::Memory => Vec::new(),
        };
        let roots = match roots {
            Roots::Disk(_) => Some(given.iter().map(|(_, c)| c.clone()).collect()),
            Roots::Memory => None,
        };
        Loader {
            roots,
            given,
            files,
            sources,
            known: OnceLock::new(),
            folders: OnceLock::new(),
            extra: Mutex::new(Vec::new()),
            extra_index: Mutex::new(HashMap::new()),
            base: sources.len() as u32,
            served: Mutex::new(Vec::new()),
            missed: Mutex::new(Vec::new()),
            listed: AtomicBool::new(false),
            memo,
        }
    }

    /// Where a path leads: the canonical file on disk, or the normalized path in memory.
    fn resolve(&self, path: &Path) -> Option<PathBuf> {
        match self.roots {
            Some(_) => path.canonicalize().ok(),
            None => Some(normalize(path)),
        }
    }

    /// [`Self::resolve`] for a file the walk found, without a system call when it can be
    /// spared: the walk follows no link below a root, so such a file is its root's canonical
    /// path joined with the rest of its own. A file a root names itself, and a file outside
    /// the roots (a plan given by `--plan`, which may be a link), is resolved on disk.
    fn canonical(&self, path: &Path) -> Option<PathBuf> {
        if self.given.iter().any(|(given, _)| given == path) {
            return self.resolve(path);
        }
        let below = self.given.iter().find_map(|(given, canonical)| {
            let rest = path.strip_prefix(given).ok()?;
            Some(canonical.join(rest))
        });
        below.or_else(|| self.resolve(path))
    }

    fn known(&self) -> &HashMap<PathBuf, (FileId, Arc<str>)> {
        self.known.get_or_init(|| {
            self.files
                .iter()
                .filter_map(|f| {
                    let text = self.sources.get(f.id).text.clone();
                    Some((self.canonical(&f.path)?, (f.id, text)))
                })
                .collect()
        })
    }

    /// What the evaluations asked for beyond their own files, but for the files outside the
    /// scan ([`Loader::into_read`]); `None` when a thread panicked while recording it.
    pub(super) fn reads(&self) -> Option<Reads> {
        Some(Reads {
            scanned: self.served.lock().ok()?.clone(),
            missed: self.missed.lock().ok()?.clone(),
            listed: self.listed.load(Ordering::SeqCst),
        })
    }

    fn missed(&self, path: &Path) -> Option<(FileId, Arc<str>)> {
        if let Ok(mut missed) = self.missed.lock() {
            missed.push(path.to_path_buf());
        }
        None
    }

    /// The files `file()` read that the source map does not hold, in the order of their ids.
    pub(super) fn into_read(self) -> Vec<(PathBuf, Arc<str>)> {
        self.extra.into_inner().unwrap_or_default()
    }
}

/// What an evaluation asked the loader, and the answer: a result kept from an evaluation
/// still holds while every answer is the same ([`answers_hold`]).
#[derive(Clone, Debug)]
pub(super) enum Asked {
    /// A file (`file()`, `templatefile()`, a chart's files), with its id and text.
    File(PathBuf, Option<(FileId, Arc<str>)>),
    /// A folder's listing.
    Listing(PathBuf, Option<Vec<PathBuf>>),
    /// The repository root of a folder.
    RepoRoot(PathBuf, Option<PathBuf>),
}

thread_local! {
    /// What the evaluation running on this thread asked the loader, when one is recorded.
    static ASKED: RefCell<Option<Vec<Asked>>> = const { RefCell::new(None) };
}

/// Run `f` (one evaluation, which runs on one thread) and return what it asked the loader
/// for: its result depends on those files, listings and folders besides its own files. An
/// evaluation recorded inside another counts for both.
pub(super) fn reads_files<T>(f: impl FnOnce() -> T) -> (T, Vec<Asked>) {
    let outer = ASKED.replace(Some(Vec::new()));
    let value = f();
    let asked = ASKED.take().unwrap_or_default();
    ASKED.set(outer.map(|mut outer| {
        outer.extend(asked.iter().cloned());
        outer
    }));
    (value, asked)
}

fn asked(what: impl FnOnce() -> Asked) {
    ASKED.with_borrow_mut(|asked| {
        if let Some(asked) = asked {
            asked.push(what());
        }
    });
}

/// Whether the loader answers each question as it did (the same file, by id and text; the
/// same listing; the same root). Asking again is what the evaluation would do: the loader
/// records it as read ([`Loader::reads`]).
pub(super) fn answers_hold(loader: &dyn FileLoader, asked: &[Asked]) -> bool {
    asked.iter().all(|asked| match asked {
        Asked::File(path, given) => match (loader.load(path), given) {
            (Some((id, text)), Some((given_id, given_text))) => {
                id == *given_id && (Arc::ptr_eq(&text, given_text) || text == *given_text)
            }
            (None, None) => true,
            _ => false,
        },
        Asked::Listing(dir, given) => loader.files_in(dir) == *given,
        Asked::RepoRoot(dir, given) => loader.repo_root(dir) == *given,
    })
}

impl FileLoader for Loader<'_> {
    fn memo(&self) -> Option<&TextMemo> {
        Some(self.memo)
    }

    fn repo_root(&self, dir: &Path) -> Option<PathBuf> {
        let root = self.find_repo_root(dir);
        asked(|| Asked::RepoRoot(dir.to_path_buf(), root.clone()));
        root
    }

    fn files_in(&self, dir: &Path) -> Option<Vec<PathBuf>> {
        let listed = self.list(dir);
        asked(|| Asked::Listing(dir.to_path_buf(), listed.clone()));
        listed
    }

    fn load(&self, path: &Path) -> Option<(FileId, Arc<str>)> {
        let loaded = self.serve(path);
        asked(|| Asked::File(path.to_path_buf(), loaded.clone()));
        loaded
    }
}

impl Loader<'_> {
    fn find_repo_root(&self, dir: &Path) -> Option<PathBuf> {
        // In memory, the texts' paths are relative to one root.
        let Some(roots) = &self.roots else {
            return Some(PathBuf::from("."));
        };
        let mut root = None;
        for ancestor in dir.ancestors().filter(|a| !a.as_os_str().is_empty()) {
            let Ok(canonical) = ancestor.canonicalize() else {
                continue;
            };
            // Never look above the scanned roots.
            if !roots.iter().any(|r| canonical.starts_with(r)) {
                break;
            }
            if ancestor.join(".git").symlink_metadata().is_ok() {
                return Some(ancestor.to_path_buf());
            }
            root = Some(ancestor.to_path_buf());
        }
        root
    }

    fn list(&self, dir: &Path) -> Option<Vec<PathBuf>> {
        self.listed.store(true, Ordering::SeqCst);
        let dir = self.resolve(dir)?;
        let folders = self.folders.get_or_init(|| {
            let mut folders: HashMap<PathBuf, Vec<PathBuf>> = HashMap::new();
            for path in self.known().keys() {
                if let Some(parent) = path.parent() {
                    folders
                        .entry(parent.to_path_buf())
                        .or_default()
                        .push(path.clone());
                }
            }
            folders.values_mut().for_each(|files| files.sort());
            folders
        });
        Some(folders.get(&dir).cloned().unwrap_or_default())
    }

    fn serve(&self, path: &Path) -> Option<(FileId, Arc<str>)> {
        let Some(resolved) = self.resolve(path) else {
            return self.missed(path);
        };
        if let Some((id, text)) = self.known().get(&resolved) {
            if let Ok(mut served) = self.served.lock() {
                served.push(*id);
            }
            return Some((*id, text.clone()));
        }
        // In memory, only the texts given exist.
        let roots = self.roots.as_ref()?;
        if !roots.iter().any(|r| resolved.starts_with(r)) {
            return None;
        }
        let mut index = self.extra_index.lock().ok()?;
        let mut extra = self.extra.lock().ok()?;
        if let Some(id) = index.get(&resolved) {
            return Some((*id, extra[(id.0 - self.base) as usize].1.clone()));
        }
        // Resolved, so no link is left: one swapped in since is refused, not followed.
        let Ok(text) = read_text(&resolved, Links::Refuse) else {
            return self.missed(&resolved);
        };
        let text: Arc<str> = text.into();
        let id = FileId(self.base + extra.len() as u32);
        extra.push((resolved.clone(), text.clone()));
        index.insert(resolved, id);
        Some((id, text))
    }
}
