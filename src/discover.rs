//! Walk the given paths and classify what irsa-lint reads.
//!
//! `.git/`, `.terraform/` and what `.gitignore` ignores are skipped, links
//! are not followed, and the order is sorted so that every run sees the same files in the
//! same order.

use std::path::{Path, PathBuf};

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

/// Every file to read below the given roots, sorted and without duplicates.
pub fn discover(roots: &[PathBuf]) -> Result<Vec<Input>, MissingPath> {
    let mut out = Vec::new();
    for root in roots {
        let meta = std::fs::symlink_metadata(root).map_err(|_| MissingPath(root.clone()))?;
        let is_folder = meta.is_dir() || (meta.file_type().is_symlink() && root.is_dir());
        if !is_folder {
            if let Some(kind) = classify(root) {
                out.push(Input {
                    path: root.clone(),
                    kind,
                });
            }
            continue;
        }
        let walker = ignore::WalkBuilder::new(root)
            .hidden(false)
            .filter_entry(|e| !SKIPPED_FOLDERS.iter().any(|f| e.file_name() == *f))
            .git_ignore(true)
            .git_exclude(true)
            .git_global(false)
            .require_git(false)
            .follow_links(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .build();
        for entry in walker.flatten() {
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            if let Some(kind) = classify(entry.path()) {
                out.push(Input {
                    path: entry.into_path(),
                    kind,
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup_by(|a, b| a.path == b.path);
    Ok(out)
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
