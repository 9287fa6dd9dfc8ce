//! Manifest facts: each YAML/JSON file read on its own (in parallel, cached per text), then
//! kustomize views, Argo CD Applications and Flux Kustomizations decide which objects reach
//! the cluster, and how. Flux Kustomizations are rendered later (`crate::facts::flux::render`),
//! once the ConfigMaps Terraform writes are known; here they only claim their files.

use std::sync::Arc;

use foldhash::HashSet;
use rayon::prelude::*;

use super::guard::guarded;
use super::{Cache, InputFile, unit_of};
use crate::discover::{self, FileKind};
use crate::eval::FileLoader;
use crate::facts::eksctl::extract_cluster_config;
use crate::facts::kustomize::{FileReading, Index, ReadAlone, is_kustomization};
use crate::facts::manifests::{ManifestSyntax, extract_manifests_read};
use crate::facts::{Facts, Part, Removal, flux};
use crate::parse::memo::TextMemo;
use crate::source::{FileId, Marker, SourceMap};

/// The YAML files, for the renderers that read files by path.
pub(super) fn yaml_files(files: &[InputFile]) -> Vec<(FileId, std::path::PathBuf)> {
    files
        .iter()
        .filter(|f| f.kind == FileKind::Yaml)
        .map(|f| (f.id, f.path.clone()))
        .collect()
}

/// What the manifest files say before Terraform's renderings are known: each file on its
/// own, and the kustomize views.
pub(super) struct ManifestFiles {
    /// Every file's facts, one list of each kind for all files, in file order.
    facts: Facts,
    /// Where each file's facts lie in `facts`. A `Facts` per file was 440 bytes of empty
    /// lists and a small block per list until the merge: at 100,000 files, a tenth of the
    /// peak memory, and then copied.
    files: Vec<(FileId, Part)>,
    rendered: crate::facts::kustomize::Rendered,
}

/// Read every manifest file on its own (in parallel, cached per text) and render the
/// kustomizations, which take in the objects of the files they use as already read.
pub(super) fn read(
    sources: &SourceMap,
    files: &[InputFile],
    index: &Index<'_>,
    cache: Option<&Cache>,
    memo: &TextMemo,
) -> ManifestFiles {
    let yaml_files = index.files();
    // ConfigMaps are read only for Flux objects to use.
    let config_data = (yaml_files.iter()).any(|(id, _)| sources.get(*id).mentions(Marker::Flux));
    let for_views = near_kustomizations(yaml_files);
    let read_file = |file: &InputFile| {
        let (facts, alone) = read_file(
            sources,
            file,
            cache,
            config_data,
            for_views.contains(&file.id),
        )?;
        Some((file.id, facts, alone))
    };
    // The files are gathered a few dozen at a time into one list of each kind, and those
    // merged once, each list sized once: lists gathered per thread and merged two by two
    // grew by doubling, into fresh memory the kernel zeroes first, and a `Facts` per file was
    // 440 bytes of empty lists and a block per list until the merge (at 100,000 files, a
    // tenth of a check's peak memory). The language server takes each file's facts as the
    // cache gives them, one to a chunk, so that every edit asks the allocator for the same
    // sizes (gathered as the threads split the work, its memory grew by a fifth over 200
    // edits). Each chunk is a task of its own, that a thread done with the Terraform roots
    // read beside can take.
    let gathered = if cache.is_some() { 1 } else { GATHERED };
    let gathered: Vec<_> = files
        .par_chunks(gathered)
        .with_max_len(1)
        .map(|chunk| {
            let mut all = Facts::default();
            let mut parts = Vec::with_capacity(chunk.len());
            let mut alone = Vec::new();
            for (id, mut facts, file_alone) in chunk.iter().filter_map(read_file) {
                parts.push((id, facts.part()));
                all.extend(facts);
                alone.extend(file_alone.map(|f| (id, f)));
            }
            (all, parts, alone)
        })
        .collect();
    let mut facts = Vec::with_capacity(gathered.len());
    let mut files = Vec::with_capacity(gathered.iter().map(|(_, parts, _)| parts.len()).sum());
    let mut alone = ReadAlone::default();
    for (more, more_parts, more_alone) in gathered {
        facts.push(more);
        files.extend(more_parts);
        alone.extend(more_alone);
    }
    let mut facts = Facts::concat(facts);
    // The files a kustomization uses count only as rendered: their objects go.
    let rendered = crate::facts::kustomize::render_all(
        sources,
        index,
        &alone,
        Some(memo),
        cache.map(|cache| &cache.views),
    );
    drop(alone);
    if !rendered.owned.is_empty() {
        let parts: Vec<(Part, Removal)> = (files.iter())
            .map(|(id, part)| match rendered.owned.contains(id) {
                true => (*part, Removal::Objects),
                false => (*part, Removal::Nothing),
            })
            .collect();
        facts.remove_parts(&parts);
        for (id, part) in &mut files {
            if rendered.owned.contains(id) {
                *part = part.without_objects();
            }
        }
    }
    ManifestFiles {
        facts,
        files,
        rendered,
    }
}

/// How many files a check gathers in one list of each kind before the lists are merged.
const GATHERED: usize = 64;

/// The YAML files a kustomization may use: those in its folder or below (a base elsewhere
/// is read again when a view takes it in).
fn near_kustomizations(files: &[(FileId, std::path::PathBuf)]) -> HashSet<FileId> {
    let folders: HashSet<&std::path::Path> = (files.iter())
        .filter(|(_, path)| is_kustomization(path))
        .filter_map(|(_, path)| path.parent())
        .collect();
    if folders.is_empty() {
        return HashSet::default();
    }
    (files.iter())
        .filter(|(_, path)| !is_kustomization(path))
        .filter(|(_, path)| path.ancestors().skip(1).any(|d| folders.contains(d)))
        .map(|(id, _)| *id)
        .collect()
}

/// What one manifest file says on its own (`None` for a file of another kind), with its
/// ConfigMaps when `config_data`: from the cache when its text was read before.
pub(super) fn file_facts(
    sources: &SourceMap,
    file: &InputFile,
    cache: Option<&Cache>,
    config_data: bool,
) -> Option<Facts> {
    read_file(sources, file, cache, config_data, false).map(|(facts, _)| facts)
}

/// A file's objects as a kustomize view reads them, with the text read (see [`ReadAlone`]).
type ReadFacts = (Arc<str>, FileReading);

/// [`file_facts`], and when `for_views`, the file's objects as a kustomize view reads them,
/// when that is the same reading: a YAML file read to the end, with no eksctl config (which
/// only the file's own reading reads).
fn read_file(
    sources: &SourceMap,
    InputFile { id, kind, path }: &InputFile,
    cache: Option<&Cache>,
    config_data: bool,
    for_views: bool,
) -> Option<(Facts, Option<ReadFacts>)> {
    let syntax = match kind {
        FileKind::Yaml if discover::is_manifest_template(path) => ManifestSyntax::Template,
        FileKind::Yaml => ManifestSyntax::Yaml,
        FileKind::Json => ManifestSyntax::Json,
        _ => return None,
    };
    let for_views = for_views
        && syntax == ManifestSyntax::Yaml
        && !sources.get(*id).text.contains("ClusterConfig");
    // The file's facts, and whether it was read to the end.
    let extract = |config_data| {
        let name = path.file_name().unwrap_or_default();
        match guarded(*id, name, "", || {
            file_manifest_facts(sources, *id, syntax, config_data)
        }) {
            Ok(facts) => (facts, true),
            Err(error) => (
                Facts {
                    parse_errors: vec![error],
                    ..Facts::default()
                },
                false,
            ),
        }
    };
    // What a view takes in: every object, ConfigMaps too (without the syntax errors, which
    // `ReadAlone` leaves out).
    let alone = |reading: FileReading| (sources.get(*id).text.clone(), reading);
    Some(match cache {
        // A cached reading (the language server's) keeps the ConfigMaps apart, to be copied
        // only when Flux may read them. It reads them only when this run needs them (or a
        // view): a tree without Flux kept 10,000 ConfigMaps for nothing. A run that needs
        // them reads again a file read without.
        Some(cache) => {
            let needed = config_data || for_views;
            let holds = |(_, read): &(FileReading, bool)| *read || !needed;
            let (cached, _) = cache.manifests.get(*id, sources.get(*id), holds, || {
                let (mut facts, whole) = extract(needed);
                let mut config_data = std::mem::take(&mut facts.config_data);
                facts.shrink_to_fit();
                config_data.shrink_to_fit();
                (Arc::new((facts, config_data, whole)), needed)
            });
            let (cached_facts, cached_config_data, whole) = &*cached;
            let mut facts = cached_facts.clone();
            if config_data {
                facts.config_data = cached_config_data.clone();
            }
            let alone = (for_views && *whole).then(|| alone(cached.clone()));
            (facts, alone)
        }
        None if for_views => {
            let (mut facts, whole) = extract(true);
            let all_config_data = std::mem::take(&mut facts.config_data);
            let alone =
                whole.then(|| alone(Arc::new((facts.clone(), all_config_data.clone(), true))));
            if config_data {
                facts.config_data = all_config_data;
            }
            (facts, alone)
        }
        None => (extract(config_data).0, None),
    })
}

/// Whether each manifest file's facts reach the run as the file says them, in file order and
/// nothing else: no kustomization, and no file names an Argo CD or Flux object (whose
/// renderers read other files by path).
pub(super) fn as_files_say(sources: &SourceMap, files: &[InputFile], read: &ManifestFiles) -> bool {
    read.rendered.views.is_empty()
        && read.rendered.owned.is_empty()
        && files
            .iter()
            .filter(|f| f.kind == FileKind::Yaml)
            .all(|f| says_only_itself(sources.get(f.id)))
}

/// A text that no Argo CD or Flux renderer reads.
pub(super) fn says_only_itself(file: &crate::source::SourceFile) -> bool {
    !file.mentions(Marker::ArgoCd) && !file.mentions(Marker::Flux)
}

/// The facts of every manifest file, as kustomize and Argo CD render them, without the files
/// Flux Kustomizations deploy; and the Flux Kustomizations to render (once the ConfigMaps
/// Terraform writes are known). A template that Terraform renders (`templatefile()`) counts
/// only as Terraform renders it: its own facts, and the Applications it holds as written, are
/// left out.
/// `loader` reads the files of a chart folder that are not manifests (`_helpers.tpl`).
pub(super) fn facts(
    sources: &SourceMap,
    files: &[InputFile],
    read: ManifestFiles,
    rendered_by_terraform: &HashSet<FileId>,
    loader: &dyn FileLoader,
) -> (Facts, flux::Plan) {
    let yaml_files: Vec<(FileId, std::path::PathBuf)> = yaml_files(files)
        .into_iter()
        .filter(|(id, _)| !rendered_by_terraform.contains(id))
        .collect();
    // Argo CD Applications decide where folders and charts land, Flux Kustomizations where
    // folders land.
    let applications =
        crate::facts::argo::render(sources, &yaml_files, &read.rendered.views, loader);
    let plan = flux::plan(sources, &yaml_files, &read.rendered.views);
    let mut facts = applications.facts;
    for (dir, mut view) in read.rendered.views {
        if applications.claimed_views.contains(&dir) || plan.claimed_views.contains(&dir) {
            view.drop_objects();
        }
        facts.extend(view);
    }
    let parts: Vec<(Part, Removal)> = (read.files.iter())
        .map(|(id, part)| {
            let removal = if rendered_by_terraform.contains(id) {
                Removal::All
            } else if applications.owned.contains(id) || plan.owned.contains(id) {
                Removal::Objects
            } else {
                Removal::Nothing
            };
            (*part, removal)
        })
        .collect();
    let mut files = read.facts;
    files.remove_parts(&parts);
    // Moved in whole when nothing came before (no kustomize view, no Argo CD Application).
    facts.extend(files);
    (facts, plan)
}

/// What one manifest file says on its own, before kustomize and Argo CD views are applied.
fn file_manifest_facts(
    sources: &SourceMap,
    id: FileId,
    syntax: ManifestSyntax,
    config_data: bool,
) -> Facts {
    let text = &sources.get(id).text;
    let unit = unit_of(sources, id);
    let mut facts = extract_manifests_read(id, text, syntax, &unit, config_data);
    // The manifest reader skips ClusterConfig documents (a kind it does not read) but
    // reports the file's syntax errors; the eksctl reader reads only those documents.
    if syntax == ManifestSyntax::Yaml && text.contains("ClusterConfig") {
        facts.extend(extract_cluster_config(id, text, &unit));
    }
    facts
}

#[cfg(test)]
mod tests {
    use foldhash::HashSetExt;

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
        let files = [file];
        let yaml_files = yaml_files(&files);
        let index = Index::new(&yaml_files);
        let read = read(&sources, &files, &index, None, &TextMemo::default());
        facts(&sources, &files, read, &HashSet::new(), &NoFiles).0
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
