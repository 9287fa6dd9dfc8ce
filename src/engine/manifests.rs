//! Manifest facts: each YAML/JSON file read on its own (in parallel, cached per text), then
//! kustomize views and Argo CD Applications decide which objects reach the cluster, and
//! how.

use rayon::prelude::*;

use super::guard::guarded;
use super::{Cache, InputFile, unit_of};
use crate::discover::{self, FileKind};
use crate::eval::FileLoader;
use crate::facts::Facts;
use crate::facts::eksctl::extract_cluster_config;
use crate::facts::manifests::{ManifestSyntax, extract_manifests};
use crate::source::{FileId, SourceMap};

/// The facts of every manifest file, as rendered by kustomize and Argo CD.
/// `loader` reads the files of a chart folder that are not manifests (`_helpers.tpl`).
pub(super) fn facts(
    sources: &SourceMap,
    files: &[InputFile],
    cache: Option<&Cache>,
    loader: &dyn FileLoader,
) -> Facts {
    let yaml_files: Vec<(FileId, std::path::PathBuf)> = files
        .iter()
        .filter(|f| f.kind == FileKind::Yaml)
        .map(|f| (f.id, f.path.clone()))
        .collect();
    // Kustomizations first: the files they use count only as rendered.
    let rendered = crate::facts::kustomize::render_all(sources, &yaml_files);
    let per_file: Vec<Facts> = files
        .par_iter()
        .filter_map(|InputFile { id, kind, path }| {
            let syntax = match kind {
                FileKind::Yaml if discover::is_manifest_template(path) => ManifestSyntax::Template,
                FileKind::Yaml => ManifestSyntax::Yaml,
                FileKind::Json => ManifestSyntax::Json,
                _ => return None,
            };
            let extract = || {
                let name = path.file_name().unwrap_or_default();
                guarded(*id, name, "", || file_manifest_facts(sources, *id, syntax)).unwrap_or_else(
                    |error| Facts {
                        parse_errors: vec![error],
                        ..Facts::default()
                    },
                )
            };
            let mut facts = match cache {
                Some(cache) => cache.manifests.get(*id, sources.get(*id), extract),
                None => extract(),
            };
            if rendered.owned.contains(id) {
                facts.service_accounts.clear();
                facts.workloads.clear();
            }
            Some(facts)
        })
        .collect();
    // Argo CD Applications decide where folders and charts land.
    let applications = crate::facts::argo::render(sources, &yaml_files, &rendered.views, loader);
    let mut facts = applications.facts;
    for (dir, view) in rendered.views {
        if !applications.claimed_views.contains(&dir) {
            facts.extend(view);
        }
    }
    let manifests = files
        .iter()
        .filter(|f| matches!(f.kind, FileKind::Yaml | FileKind::Json));
    for (mut f, file) in per_file.into_iter().zip(manifests) {
        if applications.owned.contains(&file.id) {
            f.service_accounts.clear();
            f.workloads.clear();
        }
        facts.extend(f);
    }
    facts
}

/// What one manifest file says on its own, before kustomize and Argo CD views are applied.
fn file_manifest_facts(sources: &SourceMap, id: FileId, syntax: ManifestSyntax) -> Facts {
    let text = &sources.get(id).text;
    let unit = unit_of(sources, id);
    let mut facts = extract_manifests(id, text, syntax, &unit);
    // The manifest reader skips ClusterConfig documents (a kind it does not read) but
    // reports the file's syntax errors; the eksctl reader reads only those documents.
    if syntax == ManifestSyntax::Yaml && text.contains("ClusterConfig") {
        facts.extend(extract_cluster_config(id, text, &unit));
    }
    facts
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    struct NoFiles;

    impl FileLoader for NoFiles {
        fn load(&self, _path: &std::path::Path) -> Option<(FileId, std::sync::Arc<str>)> {
            None
        }
    }

    fn yaml_facts(text: &str) -> Facts {
        let mut sources = SourceMap::default();
        let path = PathBuf::from("cluster/cluster.yaml");
        let id = sources.add(path.clone(), text);
        let file = InputFile {
            id,
            kind: FileKind::Yaml,
            path,
        };
        facts(&sources, &[file], None, &NoFiles)
    }

    const CLUSTER_CONFIG: &str = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\n\
                                  metadata: {name: prod, region: eu-west-1}\niam:\n  \
                                  withOIDC: true\n  serviceAccounts:\n    \
                                  - metadata: {name: api, namespace: pay}\n      \
                                  attachPolicyARNs: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n";

    #[test]
    fn a_cluster_config_file_is_read_once_and_its_errors_reported_once() {
        let text = format!(
            "{CLUSTER_CONFIG}---\napiVersion: v1\nkind: ServiceAccount\n\
             metadata: {{name: worker, namespace: pay}}\n---\nkind: ConfigMap\ndata: [broken\n"
        );
        let facts = yaml_facts(&text);
        let mut names: Vec<_> = facts
            .service_accounts
            .iter()
            .map(|sa| sa.qualified_name())
            .collect();
        names.sort();
        assert_eq!(names, ["pay/api", "pay/worker"]);
        assert_eq!(facts.roles.len(), 1);
        assert_eq!(facts.providers.len(), 1);
        assert_eq!(facts.parse_errors.len(), 1);
        let units: Vec<_> = facts.service_accounts.iter().map(|sa| &sa.unit).collect();
        assert_eq!(units, ["cluster", "cluster (eksctl cluster prod)"]);
        let broken = CLUSTER_CONFIG.replace("{name: api,", "{name: [api,");
        let facts = yaml_facts(&broken);
        assert!(facts.roles.is_empty() && facts.service_accounts.is_empty());
        assert_eq!(facts.parse_errors.len(), 1);
    }
}
