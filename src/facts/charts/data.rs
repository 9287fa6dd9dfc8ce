//! The chart data of `data/charts/charts.json`, embedded at compile time and read once.
//!
//! Only what evaluation needs is kept; the evidence the regenerator records (`derived`,
//! `notes`, version lists beyond the uncovered ones) is skipped when the file is read.
//! `data/charts/README.md` is the normative description of every field.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

/// The file, as `scripts/charts/regenerate.py` writes it.
const CHARTS_JSON: &str = include_str!("../../../data/charts/charts.json");

/// Read on first use; a file that does not read is a build mistake the unit tests catch, and
/// at run time it leaves irsa-lint knowing no chart rather than crashing.
pub(crate) static DATA: LazyLock<Data> =
    LazyLock::new(|| serde_json::from_str(CHARTS_JSON).unwrap_or_default());

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Data {
    #[serde(default)]
    pub sources: BTreeMap<String, Source>,
    #[serde(default)]
    pub charts: Vec<Entry>,
}

/// Where a chart's rules were read: a checkout at a commit (dated), or single stored files.
#[derive(Debug, Deserialize)]
pub(crate) struct Source {
    pub checkout: bool,
    pub date: Option<String>,
}

/// One chart (`chart` is its `Chart.yaml` name; `id` tells apart two charts of one name).
#[derive(Debug, Deserialize)]
pub(crate) struct Entry {
    pub id: String,
    pub chart: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub repositories: Vec<Repository>,
    #[serde(default)]
    pub oci: Vec<String>,
    #[serde(default)]
    pub default_for_name: bool,
    pub eras: Vec<Era>,
    #[cfg(test)]
    #[serde(default)]
    pub examples: Vec<Example>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Repository {
    pub url: String,
}

/// A version range in which the chart's naming rules and values keys stay the same.
#[derive(Debug, Deserialize)]
pub(crate) struct Era {
    pub versions: Bounds,
    pub chart_name: String,
    pub name: Option<NameRule>,
    pub fullname: Option<FullnameRule>,
    #[serde(default)]
    pub defaults: BTreeMap<String, serde_json::Value>,
    pub service_accounts: Vec<SaRule>,
}

/// Inclusive bounds; `None` is open.
#[derive(Debug, Deserialize)]
pub(crate) struct Bounds {
    pub min: Option<String>,
    pub max: Option<String>,
}

/// The chart's `<chart>.name` helper.
#[derive(Debug, Deserialize)]
pub(crate) struct NameRule {
    pub base: Text,
    pub truncate: Option<usize>,
}

/// The chart's `<chart>.fullname` helper.
#[derive(Debug, Deserialize)]
pub(crate) struct FullnameRule {
    #[serde(rename = "override")]
    pub override_path: Option<String>,
    pub base: Text,
    pub collapse: Collapse,
    pub truncate: Option<usize>,
}

/// When the release name stands for the whole fullname.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Collapse {
    /// The release name contains the base (`helm create`).
    Contains,
    /// The release name is the base (cluster-autoscaler).
    Equals,
    Never,
}

/// A template, a template cut to a length, or a list of those: the first that renders
/// non-empty.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Text {
    Many(Vec<TextItem>),
    One(TextItem),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum TextItem {
    Template(String),
    Cut { template: String, truncate: usize },
}

impl Text {
    pub fn items(&self) -> &[TextItem] {
        match self {
            Text::Many(items) => items,
            Text::One(item) => std::slice::from_ref(item),
        }
    }
}

/// One ServiceAccount a chart makes: where its values are and how its name is made.
#[derive(Debug, Deserialize)]
pub(crate) struct SaRule {
    pub id: String,
    /// The values path the name helper switches on; `None`: always the default branch.
    pub create: Option<String>,
    /// Values paths that must all be true for the object to be rendered; `None`: `[create]`.
    pub created_if: Option<Vec<String>>,
    /// Values paths of the name, first non-empty wins.
    #[serde(default)]
    pub name: Vec<String>,
    /// Values path of the annotations map.
    pub annotations: String,
    /// The name when no name value is set and `create` is true; `None`: unknown.
    pub default: Option<Text>,
    /// The same when `create` is false.
    pub not_created: Option<Text>,
    pub namespace: Text,
}

impl SaRule {
    /// The values paths that must all be true for the chart to render the object.
    pub fn gates(&self) -> Vec<&str> {
        match (&self.created_if, &self.create) {
            (Some(paths), _) => paths.iter().map(String::as_str).collect(),
            (None, Some(create)) => vec![create.as_str()],
            (None, None) => Vec::new(),
        }
    }
}

/// A worked example the data must give: each is a unit test (`charts/tests.rs`).
#[cfg(test)]
#[derive(Debug, Deserialize)]
pub(crate) struct Example {
    pub release: String,
    pub namespace: Option<String>,
    pub version: Option<String>,
    #[serde(default)]
    pub values: BTreeMap<String, serde_json::Value>,
    pub expect: BTreeMap<String, Option<String>>,
}

impl Data {
    /// The date of the newest checkout the data was read from: the snapshot date.
    pub fn snapshot_date(&self) -> Option<&str> {
        self.sources
            .values()
            .filter(|s| s.checkout)
            .filter_map(|s| s.date.as_deref())
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_chart_data_reads() {
        let data: Data = serde_json::from_str(CHARTS_JSON).expect("charts.json reads");
        assert!(data.charts.len() >= 30, "{} charts", data.charts.len());
        assert!(data.charts.iter().all(|c| !c.eras.is_empty()));
        assert!(data.snapshot_date().is_some());
    }
}
