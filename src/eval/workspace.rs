//! All Terraform of a run: module directories by path and the built-in models of registry
//! modules, so that a module call can be followed to its source.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use foldhash::HashMap;
use hcl_edit::structure::Body;

use super::FileLoader;
use super::models::Model;
use crate::source::FileId;

/// One parsed `.tf` file.
pub struct ParsedFile {
    pub id: FileId,
    pub body: Body,
    pub text: Arc<str>,
}

/// The `.tf` files of one directory: one Terraform module.
pub struct ModuleDir {
    pub dir: PathBuf,
    pub files: Vec<ParsedFile>,
    /// A built-in model of a registry module, not the user's code: its spans are never shown.
    pub is_model: bool,
}

impl ModuleDir {
    /// Local module sources (`./x`, `../x`) its module blocks call, resolved to directories.
    pub fn local_calls(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for f in &self.files {
            for block in f.body.blocks().filter(|b| b.ident.as_str() == "module") {
                if let Some(source) = literal_source(block)
                    && is_local_source(&source)
                {
                    out.push(normalize(&self.dir.join(source)));
                }
            }
        }
        out
    }
}

pub struct Workspace<'l> {
    pub dirs: HashMap<PathBuf, ModuleDir>,
    pub models: Vec<Model>,
    pub loader: &'l dyn FileLoader,
    /// What the whole run may still evaluate (see [`super::budget`]).
    pub budget: &'l super::budget::Budget,
}

impl Workspace<'_> {
    /// The directory a local source points at, when it was scanned.
    pub fn local_dir(&self, from: &Path, source: &str) -> Option<&ModuleDir> {
        self.dirs.get(&normalize(&from.join(source)))
    }

    /// The model of a registry module for a version constraint, if irsa-lint knows it.
    pub fn model(&self, source: &str, version: Option<&str>) -> Option<&Model> {
        let wanted = match (version, super::models::source_ref(source)) {
            (Some(v), _) => super::models::constraint_major(v),
            // A Git source pins its release with `?ref=`; a branch or a commit could be any.
            (None, Some(r)) => Some(super::models::ref_major(r)?),
            (None, None) => None,
        };
        let source = super::models::normalize_source(source)?;
        let mut candidates: Vec<&Model> =
            self.models.iter().filter(|m| m.source == source).collect();
        candidates.sort_by_key(|m| *m.majors.start());
        match wanted {
            Some(major) => candidates.into_iter().find(|m| m.majors.contains(&major)),
            // No constraint: Terraform takes the newest release.
            None => candidates.pop(),
        }
    }
}

pub fn literal_source(block: &hcl_edit::structure::Block) -> Option<String> {
    match &block.body.get_attribute("source")?.value {
        hcl_edit::expr::Expression::String(s) => Some(s.value().to_string()),
        _ => None,
    }
}

pub fn is_local_source(source: &str) -> bool {
    source.starts_with("./") || source.starts_with("../")
}

/// Resolve `.` and `..` without touching the file system (the path may not exist).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            // `..` cancels a folder name, never another `..` (`../../x` stays two up), and
            // stops at the root.
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}
