//! What irsa-lint knows about Helm charts that run with an IRSA role: which ServiceAccounts
//! each creates, where its values hold their names, namespaces and annotations, and how the
//! chart's helpers name them by default, era by era of chart versions.
//!
//! This is data: `data/charts/charts.json`, generated from the charts' own sources by
//! `scripts/charts/regenerate.py` and embedded at compile time (`data`). Its semantics are
//! those of `data/charts/README.md`: `names` evaluates the name templates, `version`
//! picks the eras a release's chart version may fall in. To teach irsa-lint a chart, add it
//! to `data/charts/curated.json` and regenerate.

mod data;
mod names;
mod version;

use std::sync::LazyLock;

use self::data::{DATA, Entry, Era};
pub(crate) use self::names::Rendered;
use self::names::{Context, Evaluated};
use self::version::{Constraint, SemVer};
use super::kubernetes::Values;
use crate::source::Span;

/// How a chart names the ServiceAccount it creates when no name is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultName {
    /// The chart's fullname, as `helm create` templates it: `fullnameOverride`, else the
    /// release name when it contains the chart name (or `nameOverride`), else
    /// `<release>-<chart>`.
    Fullname,
    /// A fixed name.
    Fixed(&'static str),
    /// Templated in a way irsa-lint does not follow: unknown unless set.
    Unknown,
    /// As the chart data says, for the chart versions of these eras.
    Chart(Eras),
}

/// Eras of one chart of the data (inclusive), the ones a release's chart version may be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eras {
    entry: usize,
    first: usize,
    last: usize,
}

/// A chart version as a release asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    /// None given: Helm installs the newest.
    Latest,
    /// An exact version or a constraint (`~1.2`, `>=4 <5`), as written.
    Given(String),
    /// Given, but not known here (a variable without a value): any version.
    Unknown,
}

impl Version {
    /// The version a `version` attribute or field gives: absent is the latest, an empty or
    /// `*` text is any version.
    pub fn written(text: Option<Option<&str>>) -> Version {
        match text {
            None => Version::Latest,
            Some(None) => Version::Unknown,
            Some(Some(t)) if t.trim().is_empty() => Version::Latest,
            Some(Some(t)) => Version::Given(t.trim().to_string()),
        }
    }
}

#[derive(Debug)]
pub struct Chart {
    pub name: &'static str,
    /// The values key of the `serviceAccount` block of its first ServiceAccount (newest
    /// chart version), e.g. `rbac.serviceAccount`.
    pub service_account: &'static str,
    /// How the newest chart version names its ServiceAccounts.
    pub default_name: DefaultName,
    /// Values keys of the chart's other `serviceAccount` blocks (newest chart version).
    pub other_service_accounts: &'static [&'static str],
    entry: usize,
}

/// The charts of the data, in its order, built once.
static CHARTS: LazyLock<Vec<Chart>> = LazyLock::new(|| {
    DATA.charts
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let last = entry.eras.len().saturating_sub(1);
            let blocks: Vec<&'static str> = entry
                .eras
                .last()
                .map(|era| {
                    era.service_accounts
                        .iter()
                        .map(|sa| block_of(&sa.annotations))
                        .collect()
                })
                .unwrap_or_default();
            Chart {
                name: &entry.chart,
                service_account: blocks.first().copied().unwrap_or("serviceAccount"),
                default_name: DefaultName::Chart(Eras {
                    entry: i,
                    first: last,
                    last,
                }),
                other_service_accounts: Vec::leak(blocks.get(1..).unwrap_or_default().to_vec()),
                entry: i,
            }
        })
        .collect()
});

/// `controller.serviceAccount.annotations` → `controller.serviceAccount`.
fn block_of(annotations: &str) -> &str {
    annotations
        .strip_suffix(".annotations")
        .unwrap_or(annotations)
}

impl Chart {
    fn entry(&self) -> &'static Entry {
        &DATA.charts[self.entry]
    }

    /// The data's id of the chart (`external-dns-bitnami` where two charts share a name).
    pub fn id(&self) -> &'static str {
        &self.entry().id
    }

    pub fn annotations_key(&self) -> String {
        format!("{}.annotations", self.service_account)
    }

    /// Whether some version of the chart reads ServiceAccount annotations under this values
    /// key (`x.annotations`).
    pub fn reads_annotations_at(&self, key: &str) -> bool {
        self.entry()
            .eras
            .iter()
            .flat_map(|e| &e.service_accounts)
            .any(|sa| sa.annotations == key)
    }

    /// The eras a chart version may be in; `None` when no era holds it (a version the data
    /// does not cover, or no version of the chart at all).
    pub fn eras(&self, version: &Version) -> Option<Eras> {
        let eras = &self.entry().eras;
        let last = eras.len().checked_sub(1)?;
        let (first, last) = match version {
            Version::Latest => (last, last),
            Version::Unknown => (0, last),
            Version::Given(text) => match SemVer::parse(text) {
                Some(exact) => {
                    let i = eras.iter().position(|e| era_holds(e, &exact))?;
                    (i, i)
                }
                None => {
                    let constraint = Constraint::parse(text).unwrap_or(Constraint::parse("*")?);
                    let admitted: Vec<usize> = (0..eras.len())
                        .filter(|i| {
                            let b = &eras[*i].versions;
                            let min = b.min.as_deref().and_then(SemVer::parse);
                            let max = b.max.as_deref().and_then(SemVer::parse);
                            constraint.overlaps(min.as_ref(), max.as_ref())
                        })
                        .collect();
                    (*admitted.first()?, *admitted.last()?)
                }
            },
        };
        Some(Eras {
            entry: self.entry,
            first,
            last,
        })
    }

    /// The values keys of every annotations map the chart reads in these eras, the first
    /// ServiceAccount's of the newest era first.
    pub fn annotation_keys(&self, eras: Eras) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        for sa in eras.eras().iter().rev().flat_map(|e| &e.service_accounts) {
            if !keys.contains(&sa.annotations) {
                keys.push(sa.annotations.clone());
            }
        }
        keys
    }
}

fn era_holds(era: &Era, v: &SemVer) -> bool {
    let bound = |b: &Option<String>| b.as_deref().map(SemVer::parse);
    let above_min = match bound(&era.versions.min) {
        None => true,
        Some(Some(min)) => *v >= min,
        Some(None) => false,
    };
    let below_max = match bound(&era.versions.max) {
        None => true,
        Some(Some(max)) => *v <= max,
        Some(None) => false,
    };
    above_min && below_max
}

impl Eras {
    fn eras(&self) -> &'static [Era] {
        &DATA.charts[self.entry].eras[self.first..=self.last]
    }

    pub fn chart(&self) -> &'static Chart {
        &CHARTS[self.entry]
    }
}

/// The chart of a `chart` argument: `name`, `repo/name`, an OCI or HTTP URL, or a path.
pub fn find(chart: &str) -> Option<&'static Chart> {
    find_in(chart, None)
}

/// The chart of a `chart` argument from a repository (`helm_release.repository`, an Argo CD
/// `repoURL`, a Flux `HelmRepository` URL). Where two charts share a name, the repository,
/// an OCI reference or the repository alias (`bitnami/external-dns`) tells them apart; a
/// repository that is none of a chart's is another chart of the same name.
pub fn find_in(chart: &str, repository: Option<&str>) -> Option<&'static Chart> {
    let written = chart.trim().trim_end_matches('/');
    let last = written.rsplit('/').next()?;
    let name = match last.strip_suffix(".tgz") {
        // `name-1.2.3.tgz` archives
        Some(archive) => archive_name(archive),
        None => last,
    };
    // A URL as the chart (`oci://…/karpenter`) says where it comes from, as a repository does.
    let (reference, repository) = match written.contains("://") {
        true => (Some(normalize_url(written)), None),
        false => (
            None,
            repository.map(normalize_url).filter(|r| !r.is_empty()),
        ),
    };
    let source = |c: &Chart| -> Source {
        let e = c.entry();
        let oci = || e.oci.iter().map(|o| normalize_url(o));
        if let Some(reference) = &reference {
            return match oci().any(|o| o == *reference) {
                true => Source::Named,
                false => Source::Other,
            };
        }
        if let Some(r) = &repository {
            let known = e.repositories.iter().any(|k| normalize_url(&k.url) == *r)
                || oci().any(|o| o == format!("{r}/{name}"));
            return match known {
                true => Source::Named,
                false => Source::Other,
            };
        }
        match e.aliases.iter().any(|a| a == written) {
            true => Source::Named,
            false => Source::Unsaid,
        }
    };
    let fitting: Vec<(&'static Chart, Source)> = CHARTS
        .iter()
        .filter(|c| c.name == name)
        .map(|c| (c, source(c)))
        .filter(|(_, s)| *s != Source::Other)
        .collect();
    if let Some((c, _)) = fitting.iter().find(|(_, s)| *s == Source::Named) {
        return Some(c);
    }
    match fitting.as_slice() {
        [(one, _)] => Some(one),
        many => many
            .iter()
            .map(|(c, _)| *c)
            .find(|c| c.entry().default_for_name),
    }
}

/// What a chart reference and repository say of one chart of the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Its repository, OCI reference or alias.
    Named,
    /// Nothing: the name alone.
    Unsaid,
    /// Another repository: another chart of the same name.
    Other,
}

/// The chart name of an archive name: `external-dns-1.14.3` → `external-dns`.
fn archive_name(archive: &str) -> &str {
    for (i, _) in archive.match_indices('-') {
        let rest = &archive[i + 1..];
        let rest = rest.strip_prefix('v').unwrap_or(rest);
        if rest.starts_with(|c: char| c.is_ascii_digit()) && SemVer::parse(rest).is_some() {
            return &archive[..i];
        }
    }
    archive
}

/// A repository URL without scheme, `www.` or trailing slash, for comparing.
fn normalize_url(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    let url = url.split_once("://").map_or(url, |(_scheme, rest)| rest);
    url.to_ascii_lowercase()
}

/// The fullname `helm create` templates produce.
pub fn fullname(
    release: &str,
    chart: &str,
    name_override: Option<&str>,
    fullname_override: Option<&str>,
) -> String {
    if let Some(f) = fullname_override.filter(|f| !f.is_empty()) {
        return names::truncate(f, Some(63));
    }
    let name = name_override.filter(|n| !n.is_empty()).unwrap_or(chart);
    if release.contains(name) {
        names::truncate(release, Some(63))
    } else {
        names::truncate(&format!("{release}-{name}"), Some(63))
    }
}

/// One ServiceAccount a known chart makes for a release.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChartServiceAccount {
    /// The data's id of it in the chart (`controller`, `node`).
    pub id: &'static str,
    /// `None` when unknown; a name made from no user value has no span.
    pub name: Option<Rendered>,
    pub namespace: Option<Rendered>,
    /// Whether the chart renders the object; `None` when unknown.
    pub created: Option<bool>,
    /// The values key of its annotations map.
    pub annotations: &'static str,
}

/// The ServiceAccounts of a release of a known chart. Where the release's version may fall in
/// several eras, a part of a ServiceAccount is known only when every era gives the same; a
/// ServiceAccount some of the eras do not have is unknown.
pub(crate) fn service_accounts(
    eras: Eras,
    release: &str,
    namespace: &str,
    namespace_span: Option<Span>,
    values: &Values,
) -> Vec<ChartServiceAccount> {
    let mut ids: Vec<&'static str> = Vec::new();
    for era in eras.eras().iter().rev() {
        for sa in &era.service_accounts {
            if !ids.contains(&sa.id.as_str()) {
                ids.push(&sa.id);
            }
        }
    }
    ids.into_iter()
        .map(|id| {
            let per_era: Vec<Option<(Evaluated, &'static str)>> = eras
                .eras()
                .iter()
                .map(|era| {
                    let sa = era.service_accounts.iter().find(|s| s.id == id)?;
                    let ctx = Context {
                        era,
                        release,
                        namespace,
                        namespace_span,
                        values,
                    };
                    Some((ctx.evaluate(sa), sa.annotations.as_str()))
                })
                .collect();
            agree(id, &per_era)
        })
        .collect()
}

/// What every era says alike; anything else unknown.
fn agree(id: &'static str, per_era: &[Option<(Evaluated, &'static str)>]) -> ChartServiceAccount {
    let unknown = |annotations| ChartServiceAccount {
        id,
        name: None,
        namespace: None,
        created: None,
        annotations,
    };
    let Some(Some((first, annotations))) = per_era.last() else {
        return unknown("");
    };
    let same_text = |a: &Option<Rendered>, b: &Option<Rendered>| match (a, b) {
        (Some(a), Some(b)) => a.text == b.text,
        _ => false,
    };
    let all_agree = per_era.iter().all(|e| {
        e.as_ref().is_some_and(|(e, a)| {
            a == annotations
                && e.created == first.created
                && (e.name == first.name || same_text(&e.name, &first.name))
                && (e.namespace == first.namespace || same_text(&e.namespace, &first.namespace))
        })
    });
    if !all_agree {
        return unknown(annotations);
    }
    ChartServiceAccount {
        id,
        name: first.name.clone(),
        namespace: first.namespace.clone(),
        created: first.created,
        annotations,
    }
}

/// The date of the newest chart source the data was read from.
pub fn snapshot_date() -> Option<&'static str> {
    DATA.snapshot_date()
}

#[cfg(test)]
mod tests;
