//! Built-in models of registry modules, written in Terraform.
//!
//! irsa-lint never downloads a module. For the registry modules IRSA code uses most, it ships
//! a small Terraform model of what the module is documented to do (`models/*.tf`): which role
//! it creates, which ServiceAccounts its trust admits, what its outputs are. A module call
//! whose source and version match a model is evaluated like a local module with the model as
//! its code; any other registry module stays unknown.
//!
//! To teach irsa-lint a module, add a `.tf` file to `models/` with the two header lines
//! (`# irsa-lint model: <registry source>` and `# majors: <first>-<last>`) and list it below.

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use super::workspace::{ModuleDir, ParsedFile};
use crate::source::{FileId, SourceMap};

/// Every model, by file name.
pub(crate) const MODELS: &[(&str, &str)] = &[
    (
        "eks-blueprints-addon.tf",
        include_str!("models/eks-blueprints-addon.tf"),
    ),
    (
        "eks-blueprints-addons.tf",
        include_str!("models/eks-blueprints-addons.tf"),
    ),
    (
        "eks-pod-identity.tf",
        include_str!("models/eks-pod-identity.tf"),
    ),
    ("eks.tf", include_str!("models/eks.tf")),
    (
        "iam-assumable-role-with-oidc.v3.tf",
        include_str!("models/iam-assumable-role-with-oidc.v3.tf"),
    ),
    (
        "iam-assumable-role-with-oidc.v5.tf",
        include_str!("models/iam-assumable-role-with-oidc.v5.tf"),
    ),
    (
        "iam-role-for-service-accounts-eks.v5.tf",
        include_str!("models/iam-role-for-service-accounts-eks.v5.tf"),
    ),
    (
        "iam-role-for-service-accounts.v6.tf",
        include_str!("models/iam-role-for-service-accounts.v6.tf"),
    ),
    ("iam-role.v6.tf", include_str!("models/iam-role.v6.tf")),
    ("karpenter.v19.tf", include_str!("models/karpenter.v19.tf")),
    ("karpenter.v20.tf", include_str!("models/karpenter.v20.tf")),
    ("karpenter.v21.tf", include_str!("models/karpenter.v21.tf")),
];

pub struct Model {
    /// The normalized registry source, e.g. `terraform-aws-modules/iam/aws//modules/iam-role`.
    pub source: String,
    /// The major versions the model describes.
    pub majors: RangeInclusive<u64>,
    pub dir: ModuleDir,
}

/// Every model's syntax tree, parsed once per process (the language server lints on every
/// edit); `None` for one that does not parse.
fn parsed() -> &'static [Option<hcl_edit::structure::Body>] {
    static PARSED: OnceLock<Vec<Option<hcl_edit::structure::Body>>> = OnceLock::new();
    PARSED.get_or_init(|| {
        MODELS
            .iter()
            .map(|(_, text)| hcl_edit::parser::parse_body(text).ok())
            .collect()
    })
}

/// Every model, its text registered so that spans into it stay valid.
pub fn load(sources: &mut SourceMap) -> Vec<Model> {
    build(&mut |path, text| sources.add(path, text))
}

/// Every model, as [`load`] made them into sources whose first model is `first`: for an
/// evaluation again with the sources of a run that loaded them.
pub fn placed(first: FileId) -> Vec<Model> {
    let mut next = first.0;
    build(&mut |_, _| {
        next += 1;
        FileId(next - 1)
    })
}

/// Every model, each text given an id by `register`.
fn build(register: &mut dyn FnMut(PathBuf, &'static str) -> FileId) -> Vec<Model> {
    MODELS
        .iter()
        .zip(parsed())
        .filter_map(|((name, text), body)| {
            let source = header(text, "# irsa-lint model:")?;
            let majors = header(text, "# majors:")?;
            let (first, last) = majors.split_once('-')?;
            let majors = first.trim().parse().ok()?..=last.trim().parse().ok()?;
            let path = PathBuf::from(format!("<irsa-lint model>/{name}"));
            let id = register(path.clone(), text);
            let body = body.clone()?;
            let file = ParsedFile {
                id,
                body,
                text: Arc::from(*text),
            };
            Some(Model {
                source: normalize_source(source)?,
                majors,
                dir: ModuleDir {
                    dir: path,
                    files: vec![file],
                    is_model: true,
                },
            })
        })
        .collect()
}

fn header<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .map(str::trim)
}

/// A registry source in one spelling: `namespace/name/provider[//subdir]`, lowercase, with
/// GitHub URLs of `terraform-<provider>-<name>` repositories mapped to their registry address.
pub fn normalize_source(source: &str) -> Option<String> {
    let source = source.trim().to_ascii_lowercase();
    let source = source.split('?').next()?;
    let (address, subdir) = match source.split_once("//") {
        // `git::https://...` and `https://...` have a `//` in the scheme
        Some((scheme, rest)) if scheme.ends_with(':') => match rest.split_once("//") {
            Some((a, s)) => (format!("{scheme}//{a}"), Some(s.to_string())),
            None => (format!("{scheme}//{rest}"), None),
        },
        Some((a, s)) => (a.to_string(), Some(s.to_string())),
        None => (source.to_string(), None),
    };
    let address = address
        .trim_start_matches("git::")
        .trim_start_matches("https://")
        .trim_start_matches("registry.terraform.io/")
        .trim_end_matches(".git")
        .to_string();
    let address = match address.strip_prefix("github.com/") {
        Some(repo) => {
            let (owner, name) = repo.split_once('/')?;
            let rest = name.strip_prefix("terraform-")?;
            let (provider, module) = rest.split_once('-')?;
            format!("{owner}/{module}/{provider}")
        }
        None => address,
    };
    Some(match subdir {
        Some(s) if !s.is_empty() => format!("{address}//{}", s.trim_end_matches('/')),
        _ => address,
    })
}

/// The `ref` query parameter of a Git source (`...//modules/karpenter?ref=v19.21.0`).
pub fn source_ref(source: &str) -> Option<&str> {
    let (_, query) = source.split_once('?')?;
    query.split('&').find_map(|p| p.strip_prefix("ref="))
}

/// The major version of a ref naming a release (`v19.21.0`, `tags/0.3.1`, `5`); `None` for a
/// branch or a commit.
pub fn ref_major(r: &str) -> Option<u64> {
    let r = r.strip_prefix("tags/").unwrap_or(r);
    let r = r.strip_prefix(['v', 'V']).unwrap_or(r);
    let release = r.split(['-', '+']).next()?;
    let parts: Vec<&str> = release.split('.').collect();
    let numeric = parts
        .iter()
        .all(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    if !numeric || parts.len() > 3 {
        return None;
    }
    parts[0].parse().ok()
}

/// The lowest major version a constraint allows (`~> 5.30` → 5, `>= 20.0, < 21` → 20).
pub fn constraint_major(constraint: &str) -> Option<u64> {
    constraint
        .split(',')
        .filter(|part| !part.trim_start().starts_with('<') && !part.trim_start().starts_with("!="))
        .find_map(|part| {
            let digits: String = part
                .trim()
                .trim_start_matches(|c: char| !c.is_ascii_digit())
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_and_versions_in_the_spellings_people_use() {
        assert_eq!(
            normalize_source(
                "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
            )
            .as_deref(),
            Some("terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks")
        );
        assert_eq!(
            normalize_source("git::https://github.com/terraform-aws-modules/terraform-aws-iam.git//modules/iam-role?ref=v6.1.0")
                .as_deref(),
            Some("terraform-aws-modules/iam/aws//modules/iam-role")
        );
        assert_eq!(constraint_major("~> 5.30"), Some(5));
        assert_eq!(constraint_major(">= 20.0, < 21.0"), Some(20));
        assert_eq!(constraint_major("< 6.0, >= 5.1"), Some(5));
        assert_eq!(constraint_major("5.39.0"), Some(5));
    }

    #[test]
    fn models_placed_have_the_ids_loading_gave_them() {
        let mut sources = SourceMap::default();
        sources.add(PathBuf::from("infra/main.tf"), "");
        let first = FileId(sources.len() as u32);
        let ids = |models: Vec<Model>| -> Vec<FileId> {
            models.iter().map(|m| m.dir.files[0].id).collect()
        };
        let loaded = ids(load(&mut sources));
        assert_eq!(loaded.len(), MODELS.len());
        assert_eq!(ids(placed(first)), loaded);
        assert_eq!(loaded[0], first);
    }

    #[test]
    fn a_git_ref_pins_a_release_only_when_it_names_one() {
        let source = "git::https://github.com/terraform-aws-modules/terraform-aws-eks.git//modules/karpenter?ref=v19.21.0";
        assert_eq!(source_ref(source), Some("v19.21.0"));
        assert_eq!(ref_major("v19.21.0"), Some(19));
        assert_eq!(ref_major("tags/0.3.1"), Some(0));
        assert_eq!(ref_major("4.7.0"), Some(4));
        assert_eq!(ref_major("v1.2.0-rc1"), Some(1));
        assert_eq!(ref_major("main"), None);
        assert_eq!(ref_major("64b19ecfc23025718cd687e24b7115777fd09666"), None);
        assert_eq!(ref_major("0486d25"), None);
        assert_eq!(
            source_ref("terraform-aws-modules/eks/aws//modules/karpenter"),
            None
        );
    }

    #[test]
    fn every_model_parses_and_has_its_header() {
        let mut sources = SourceMap::default();
        assert_eq!(load(&mut sources).len(), MODELS.len());
    }
}
