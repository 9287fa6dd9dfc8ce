//! Walk the given paths and classify what irsa-lint reads.
//!
//! `.git/`, `.terraform/` and what `.gitignore` ignores are skipped, links are not
//! followed, a folder that cannot be listed is reported, and the order is sorted so that
//! every run sees the same files in the same order.

use std::path::{Path, PathBuf};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

/// Folders that hold copies or caches, never the configuration: Git's own, and the module
/// and provider caches of `terraform init` and Terragrunt. Other hidden folders (a lab's
/// `.workshop/terraform`) may hold real configuration and are read.
const SKIPPED_FOLDERS: &[&str] = &[".git", ".terraform", ".terragrunt-cache"];

/// What a file is to irsa-lint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Terraform,
    TfVars,
    /// A Terragrunt configuration (`terragrunt.hcl`); the files it includes or reads are
    /// read when it does.
    Terragrunt,
    Yaml,
    Json,
}

#[derive(Debug, Clone)]
pub struct Input {
    /// The path to read.
    pub path: PathBuf,
    pub kind: FileKind,
    /// Named on the command line (so read even when it is a symbolic link), rather than
    /// found by the walk.
    pub named: bool,
}

/// Manifests that envsubst or Terraform's `templatefile` render before they are applied.
const MANIFEST_TEMPLATE_SUFFIXES: &[&str] = &[".yaml.tpl", ".yml.tpl", ".tftpl"];

/// The kind of a file by its name, or `None` when irsa-lint does not read it.
pub fn classify(path: &Path) -> Option<FileKind> {
    if is_manifest_template(path) {
        return Some(FileKind::Yaml);
    }
    // A name that is not UTF-8 is still classified by its (ASCII) extension and read.
    let name = path.file_name()?.to_string_lossy();
    let name = name.as_ref();
    // Terraform's JSON syntax, before the `.json` of Kubernetes manifests
    if crate::parse::tfjson::is_tf_json(name) {
        return Some(FileKind::Terraform);
    }
    if crate::parse::tfjson::is_tfvars_json(name) {
        return Some(FileKind::TfVars);
    }
    if name == "terragrunt.hcl" {
        return Some(FileKind::Terragrunt);
    }
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    match ext.as_str() {
        "tf" => Some(FileKind::Terraform),
        "tfvars" => Some(FileKind::TfVars),
        "yaml" | "yml" => Some(FileKind::Yaml),
        "json" => Some(FileKind::Json),
        _ => None,
    }
}

/// Whether a file is a manifest template (`*.yaml.tpl`, `*.yml.tpl`, `*.tftpl`): read as YAML
/// whose placeholders are unknown and whose syntax errors are not reported.
pub fn is_manifest_template(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let name = name.to_ascii_lowercase();
    MANIFEST_TEMPLATE_SUFFIXES
        .iter()
        .any(|suffix| name.len() > suffix.len() && name.ends_with(suffix))
}

/// Folders of documentation (`docs/`, mkdocs `snippets/`): their examples are meant to be
/// read, not applied, so their syntax errors and example accounts are notes.
const DOCUMENTATION_FOLDERS: &[&str] = &["doc", "docs", "documentation", "snippets", "_snippets"];

/// Whether a file lies in a documentation folder.
pub fn is_documentation(path: &Path) -> bool {
    path.parent().is_some_and(|dir| {
        dir.components().any(|c| {
            c.as_os_str()
                .to_str()
                .is_some_and(|c| DOCUMENTATION_FOLDERS.contains(&c.to_ascii_lowercase().as_str()))
        })
    })
}

/// A path given on the command line that does not exist.
#[derive(Debug)]
pub struct MissingPath(pub PathBuf);

/// What the walk found.
#[derive(Debug, Default, Clone)]
pub struct Walk {
    /// Every file to read, sorted and without duplicates.
    pub inputs: Vec<Input>,
    /// Paths the walk could not enter or name (a folder it may not list, a path longer
    /// than the system accepts), with why: each is reported, never skipped in silence.
    pub unreadable: Vec<(PathBuf, String)>,
}

/// Every file to read below the given roots, sorted and without duplicates.
///
/// The walk reads the ignore files itself (`.gitignore` and `.ignore` of each folder, and
/// of the folders above a root up to the repository's top; `.git/info/exclude`), through
/// [`crate::open`] as every other read: a link, FIFO or device in their place is not read,
/// as git does not follow a linked `.gitignore` either.
pub fn discover(roots: &[PathBuf]) -> Result<Walk, MissingPath> {
    let mut walk = Walk::default();
    for root in roots {
        let meta = std::fs::symlink_metadata(root).map_err(|_| MissingPath(root.clone()))?;
        let is_folder = meta.is_dir() || (meta.file_type().is_symlink() && root.is_dir());
        if !is_folder {
            if let Some(kind) = classify(root) {
                walk.inputs.push(Input {
                    path: root.clone(),
                    kind,
                    named: true,
                });
            }
            continue;
        }
        walk_folder(root, &mut walk);
    }
    walk.inputs.sort_by(|a, b| a.path.cmp(&b.path));
    walk.inputs.dedup_by(|a, b| a.path == b.path);
    walk.unreadable.sort();
    walk.unreadable.dedup();
    Ok(walk)
}

/// The ignore files a folder may hold, most precedent first; `.git/info/exclude` comes after.
pub const IGNORE_FILES: [&str; 2] = [".ignore", ".gitignore"];

/// The ignore files of one folder, most precedent first (`.ignore` over `.gitignore` over
/// `.git/info/exclude`).
struct Ignores {
    /// Each with its kind: 0 for `.ignore`, 1 for `.gitignore`, 2 for `info/exclude`.
    matchers: Vec<(usize, Gitignore)>,
}

impl Ignores {
    /// Read the ignore files of `dir`; `has` says whether the folder holds a name.
    fn of(dir: &Path, has: impl Fn(&str) -> bool) -> Ignores {
        let mut matchers = Vec::new();
        for (kind, name) in IGNORE_FILES.into_iter().enumerate() {
            if has(name) {
                matchers.push((kind, ignore_file(dir, &dir.join(name))));
            }
        }
        if has(".git") && dir.join(".git").is_dir() {
            let exclude = dir.join(".git").join("info").join("exclude");
            matchers.push((2, ignore_file(dir, &exclude)));
        }
        matchers.retain(|(_, m)| !m.is_empty());
        Ignores { matchers }
    }

    /// Whether `path` (in or below the folder) is ignored or re-included here, per kind of
    /// ignore file.
    fn matched(&self, path: &Path, is_dir: bool, found: &mut [Match<()>; 3]) {
        for (kind, matcher) in &self.matchers {
            let slot = &mut found[*kind];
            if slot.is_none() {
                *slot = match matcher.matched(path, is_dir) {
                    Match::None => Match::None,
                    Match::Ignore(_) => Match::Ignore(()),
                    Match::Whitelist(_) => Match::Whitelist(()),
                };
            }
        }
    }
}

/// Largest ignore file read; a larger one is not applied.
const MAX_IGNORE_FILE_BYTES: u64 = 1024 * 1024;

/// The patterns of one ignore file, matched relative to `dir`; none when it cannot be read.
fn ignore_file(dir: &Path, file: &Path) -> Gitignore {
    let mut builder = GitignoreBuilder::new(dir);
    let Ok(bytes) =
        crate::open::read_bytes(file, crate::open::Links::Refuse, MAX_IGNORE_FILE_BYTES)
    else {
        return Gitignore::empty();
    };
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        // As git: lines that are not text are skipped, and a byte order mark is not a pattern.
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line = if i == 0 {
            line.trim_start_matches('\u{feff}')
        } else {
            line
        };
        let _ = builder.add_line(Some(file.to_path_buf()), line);
    }
    builder.build().unwrap_or_else(|_| Gitignore::empty())
}

/// Whether a path is ignored: per kind of ignore file, the deepest folder that matches it
/// decides; `.ignore` decides before `.gitignore`, before `.git/info/exclude`.
fn is_ignored(
    levels: &[Ignores],
    above: &[(PathBuf, Ignores)],
    path: &Path,
    absolute: impl Fn() -> Option<PathBuf>,
    is_dir: bool,
) -> bool {
    // Slots per kind: the deepest folder's matchers come first in each level.
    let mut found = [Match::None, Match::None, Match::None];
    for level in levels.iter().rev() {
        level.matched(path, is_dir, &mut found);
    }
    if !above.is_empty()
        && let Some(absolute) = absolute()
    {
        for (_, level) in above.iter().rev() {
            level.matched(&absolute, is_dir, &mut found);
        }
    }
    found
        .iter()
        .find(|m| !m.is_none())
        .is_some_and(Match::is_ignore)
}

/// The ignore files of the folders above `root`, from the top down, up to the repository's
/// top (the nearest folder with `.git`); none when the root is not in a repository.
fn ignores_above(root: &Path) -> Vec<(PathBuf, Ignores)> {
    let Ok(absolute) = root.canonicalize() else {
        return Vec::new();
    };
    let mut above = Vec::new();
    let mut in_repository = absolute.join(".git").exists();
    for dir in absolute.ancestors().skip(1) {
        if in_repository {
            break;
        }
        in_repository = dir.join(".git").symlink_metadata().is_ok();
        let has = |name: &str| dir.join(name).symlink_metadata().is_ok();
        above.push((dir.to_path_buf(), Ignores::of(dir, has)));
    }
    if !in_repository {
        return Vec::new();
    }
    above.reverse();
    above.retain(|(_, ignores)| !ignores.matchers.is_empty());
    above
}

/// Walk one folder root: links are not followed, hidden files are read, what the ignore
/// files ignore and [`SKIPPED_FOLDERS`] are skipped.
fn walk_folder(root: &Path, walk: &mut Walk) {
    let above = ignores_above(root);
    let absolute_root = std::cell::OnceCell::new();
    let absolute = |path: &Path| -> Option<PathBuf> {
        let base = absolute_root
            .get_or_init(|| root.canonicalize().ok())
            .as_ref()?;
        Some(base.join(path.strip_prefix(root).ok()?))
    };
    // Depth-first, in name order: (folder, depth of its ignore level).
    let mut levels: Vec<Ignores> = Vec::new();
    let mut stack: Vec<(PathBuf, usize)> = vec![(root.to_path_buf(), 0)];
    while let Some((dir, depth)) = stack.pop() {
        levels.truncate(depth);
        let listed = match std::fs::read_dir(&dir) {
            Ok(listed) => listed,
            Err(err) => {
                walk.unreadable.push((
                    dir,
                    format!(
                        "cannot list this folder: {}",
                        crate::open::ReadError::from(err)
                    ),
                ));
                continue;
            }
        };
        let mut entries = Vec::new();
        for entry in listed {
            match entry.and_then(|e| Ok((e.file_name(), e.file_type()?))) {
                Ok(entry) => entries.push(entry),
                Err(err) => walk.unreadable.push((
                    dir.clone(),
                    format!(
                        "cannot list this folder: {}",
                        crate::open::ReadError::from(err)
                    ),
                )),
            }
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let has = |name: &str| entries.iter().any(|(n, _)| n == name);
        levels.push(Ignores::of(&dir, has));
        let mut folders = Vec::new();
        for (name, kind) in entries {
            if SKIPPED_FOLDERS.iter().any(|f| name == *f) {
                continue;
            }
            let path = dir.join(&name);
            let is_dir = kind.is_dir();
            if !(is_dir || kind.is_file()) {
                continue;
            }
            if is_ignored(&levels, &above, &path, || absolute(&path), is_dir) {
                continue;
            }
            if is_dir {
                folders.push(path);
            } else if let Some(kind) = classify(&path) {
                walk.inputs.push(Input {
                    path,
                    kind,
                    named: false,
                });
            }
        }
        // Popped in name order.
        stack.extend(folders.into_iter().rev().map(|f| (f, depth + 1)));
    }
}

/// The path as shown to the user: relative to the working directory when below it.
pub fn display_path(path: &Path, cwd: &Path) -> PathBuf {
    let stripped = path.strip_prefix("./").unwrap_or(path);
    if stripped.is_absolute()
        && let Ok(rel) = stripped.strip_prefix(cwd)
    {
        return rel.to_path_buf();
    }
    stripped.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terraform_json_is_terraform_and_other_json_is_manifests() {
        let kind = |name: &str| classify(Path::new(name));
        assert_eq!(kind("infra/main.tf.json"), Some(FileKind::Terraform));
        assert_eq!(kind("infra/CDK.TF.JSON"), Some(FileKind::Terraform));
        assert_eq!(kind("infra/terraform.tfvars.json"), Some(FileKind::TfVars));
        assert_eq!(kind("infra/prod.auto.tfvars.json"), Some(FileKind::TfVars));
        assert_eq!(kind("k8s/serviceaccount.json"), Some(FileKind::Json));
        assert_eq!(kind("infra/main.tf"), Some(FileKind::Terraform));
    }

    #[test]
    fn terragrunt_units_are_read_and_other_hcl_only_when_included() {
        let kind = |name: &str| classify(Path::new(name));
        assert_eq!(
            kind("live/prod/irsa/terragrunt.hcl"),
            Some(FileKind::Terragrunt)
        );
        assert_eq!(kind("live/root.hcl"), None);
        assert_eq!(kind("live/prod/account.hcl"), None);
        assert_eq!(kind("live/prod/irsa/.terraform.lock.hcl"), None);
    }

    #[test]
    fn manifest_templates_are_read_as_yaml() {
        for name in ["k8s/sa.yaml.tpl", "SA.YML.TPL", "templates/aws-auth.tftpl"] {
            assert_eq!(classify(Path::new(name)), Some(FileKind::Yaml), "{name}");
            assert!(is_manifest_template(Path::new(name)), "{name}");
        }
        for name in ["k8s/sa.yaml", "trust.json.tpl", "notes.tpl", ".tftpl"] {
            assert!(!is_manifest_template(Path::new(name)), "{name}");
        }
        assert_eq!(classify(Path::new("trust.json.tpl")), None);
        assert_eq!(classify(Path::new("k8s/sa.yaml")), Some(FileKind::Yaml));
    }
}
