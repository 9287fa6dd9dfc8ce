//! The Flux objects and ConfigMaps read from one manifest document, with the spans of what
//! is written: `HelmRelease` (helm.toolkit.fluxcd.io), the chart sources a `chartRef` names
//! (`OCIRepository`, `HelmChart`), and `ConfigMap` / `Secret` data.

use crate::facts::charts;
use std::collections::BTreeMap;

use saphyr::{MarkedYaml, ScalarStyle, YamlData};

use super::{ChartSource, ChartSpec, ReleaseObject, ValuesFrom};
use crate::eval::value::Value;
use crate::facts::kubernetes::Values;
use crate::facts::manifests::{identity_field, template_str};
use crate::facts::{ConfigData, DataValue, Spanned};
use crate::parse::yaml::{ChunkPositions, get, get_path, is_null, scalar, sequence, untag};
use crate::source::Span;
use crate::text::placeholders::has_placeholder;

/// A name-like field as written.
enum Field {
    Absent,
    Known(Spanned<String>),
    /// A placeholder, or not a scalar.
    Unknown,
}

fn field(positions: &ChunkPositions, parent: Option<&MarkedYaml>, key: &str) -> Field {
    match identity_field(positions, parent, key) {
        Some(f) if has_placeholder(&f.value) => Field::Unknown,
        Some(f) => Field::Known(f),
        None if parent
            .and_then(|p| get(p, key))
            .is_some_and(|node| scalar(node).is_none()) =>
        {
            Field::Unknown
        }
        None => Field::Absent,
    }
}

/// A field that may be absent: `None` when absent, and `known` turns false on a placeholder.
fn optional(
    positions: &ChunkPositions,
    parent: Option<&MarkedYaml>,
    key: &str,
    known: &mut bool,
) -> Option<Spanned<String>> {
    match field(positions, parent, key) {
        Field::Known(v) => Some(v),
        Field::Absent => None,
        Field::Unknown => {
            *known = false;
            None
        }
    }
}

fn text(node: Option<&MarkedYaml>, key: &str) -> Option<String> {
    let (text, style) = scalar(get(node?, key)?)?;
    (!is_null(text, style)).then(|| text.to_string())
}

/// A `HelmRelease` of helm.toolkit.fluxcd.io (any version): what decides its ServiceAccount.
pub(crate) fn read_release(
    object: &MarkedYaml,
    positions: &ChunkPositions,
    unit: &str,
) -> Option<ReleaseObject> {
    let metadata = get(object, "metadata");
    let spec = get(object, "spec");
    let mut known = true;
    let name = match field(positions, metadata, "name") {
        Field::Known(name) => name,
        Field::Absent => return None,
        Field::Unknown => {
            known = false;
            Spanned::new(String::new(), positions.node_span(object))
        }
    };
    let namespace = optional(positions, metadata, "namespace", &mut known);
    let release_name = optional(positions, spec, "releaseName", &mut known);
    let target_namespace = optional(positions, spec, "targetNamespace", &mut known);
    let chart = read_chart_spec(spec, positions, &mut known);
    // Post-renderers (kustomize patches of the rendered chart) may rename, move or annotate
    // the chart's ServiceAccount: what the release makes is then unknown.
    if spec.and_then(|s| get(s, "postRenderers")).is_some() {
        known = false;
    }
    let values = spec.and_then(|s| get(s, "values")).map(|node| {
        let mut values = Values::default();
        read_values(node, positions, &mut values);
        values
    });
    let values_from = spec
        .and_then(|s| get(s, "valuesFrom"))
        .map(|node| read_values_from(node, positions));
    Some(ReleaseObject {
        span: positions.node_span(object),
        name,
        namespace,
        release_name,
        target_namespace,
        chart,
        values,
        values_from,
        known,
        unit: unit.to_string(),
        rendered: Vec::new(),
    })
}

fn read_chart_spec(
    spec: Option<&MarkedYaml>,
    positions: &ChunkPositions,
    known: &mut bool,
) -> Option<ChartSpec> {
    if let Some(chart_ref) = spec.and_then(|s| get(s, "chartRef")) {
        let name = optional(positions, Some(chart_ref), "name", known);
        return Some(ChartSpec::Ref {
            kind: text(Some(chart_ref), "kind").unwrap_or_default(),
            name: name.map(|n| n.value),
            namespace: text(Some(chart_ref), "namespace"),
        });
    }
    let template = spec.and_then(|s| get_path(s, &["chart", "spec"]))?;
    let source = get(template, "sourceRef");
    let values_files = !sequence(get(template, "valuesFiles")).is_empty()
        || text(Some(template), "valuesFile").is_some();
    // Absent: the newest; a placeholder or other value not known here: any version.
    let version = match get(template, "version") {
        None => charts::Version::Latest,
        Some(_) => match text(Some(template), "version") {
            Some(v) if !v.contains("${") => charts::Version::written(Some(Some(&v))),
            _ => charts::Version::Unknown,
        },
    };
    Some(ChartSpec::Template {
        chart: optional(positions, Some(template), "chart", known),
        source_kind: text(source, "kind").unwrap_or_else(|| "HelmRepository".to_string()),
        source_name: text(source, "name"),
        source_namespace: text(source, "namespace"),
        values_files,
        version,
        version_at: get(template, "version").map(|v| positions.node_span(v)),
    })
}

fn read_values_from(node: &MarkedYaml, positions: &ChunkPositions) -> Vec<ValuesFrom> {
    let mut out = Vec::new();
    if !matches!(untag(node).data, YamlData::Sequence(_)) {
        // A placeholder for the whole list: some source out of sight.
        out.push(ValuesFrom {
            kind: String::new(),
            name: None,
            values_key: String::new(),
            target_path: None,
            optional: false,
            span: positions.node_span(node),
        });
        return out;
    }
    for item in sequence(Some(node)) {
        let mut known = true;
        let name = optional(positions, Some(item), "name", &mut known).map(|n| n.value);
        out.push(ValuesFrom {
            kind: text(Some(item), "kind").unwrap_or_default(),
            name: name.filter(|_| known),
            values_key: text(Some(item), "valuesKey").unwrap_or_else(|| "values.yaml".into()),
            target_path: text(Some(item), "targetPath"),
            optional: text(Some(item), "optional").as_deref() == Some("true"),
            span: positions.node_span(item),
        });
    }
    out
}

/// Helm values written as YAML, merged into `values` with the span of every leaf and key.
pub(crate) fn read_values(node: &MarkedYaml, positions: &ChunkPositions, values: &mut Values) {
    let node = untag(node);
    match &node.data {
        YamlData::Mapping(_) => {
            let mut reader = ValuesReader {
                positions,
                spans: Default::default(),
                key_spans: Default::default(),
                unknown: false,
            };
            let value = reader.value(node, &mut Vec::new(), true);
            let fallback = positions.node_span(node);
            values.merge(&value, &|path| {
                reader.spans.get(path).copied().unwrap_or(fallback)
            });
            values.key_spans.extend(reader.key_spans);
            values.unknown |= reader.unknown;
        }
        YamlData::Representation(text, style, _) if is_null(text, *style) => {}
        _ => values.unknown = true,
    }
}

struct ValuesReader<'p, 'a> {
    positions: &'p ChunkPositions<'a>,
    spans: foldhash::HashMap<Vec<String>, Span>,
    key_spans: foldhash::HashMap<Vec<String>, Span>,
    unknown: bool,
}

impl ValuesReader<'_, '_> {
    /// The value of a node; `record` keeps the spans of its leaves (not inside lists).
    fn value(&mut self, node: &MarkedYaml, path: &mut Vec<String>, record: bool) -> Value {
        let node = untag(node);
        match &node.data {
            YamlData::Mapping(entries) => {
                let mut map = BTreeMap::new();
                for (k, v) in entries {
                    let Some((key, style)) = scalar(k) else {
                        self.unknown = true;
                        continue;
                    };
                    path.push(key.to_string());
                    if record {
                        self.key_spans
                            .insert(path.clone(), self.positions.scalar_span(k, style));
                    }
                    let value = self.value(v, path, record);
                    map.insert(key.to_string(), value);
                    path.pop();
                }
                Value::Map(map)
            }
            YamlData::Sequence(items) => {
                if record {
                    self.spans
                        .insert(path.clone(), self.positions.node_span(node));
                }
                Value::List(items.iter().map(|i| self.value(i, path, false)).collect())
            }
            YamlData::Representation(text, style, _) => {
                if record {
                    self.spans
                        .insert(path.clone(), self.positions.scalar_span(node, *style));
                }
                scalar_value(text, *style)
            }
            _ => Value::Unknown,
        }
    }
}

/// A scalar typed as YAML reads it; strings keep their placeholders as symbols.
fn scalar_value(text: &str, style: ScalarStyle) -> Value {
    if style != ScalarStyle::Plain {
        return Value::String(template_str(text));
    }
    match saphyr::Scalar::parse_from_cow_and_metadata(text.into(), style, None) {
        Some(saphyr::Scalar::Null) => Value::Null,
        Some(saphyr::Scalar::Boolean(b)) => Value::Bool(b),
        Some(saphyr::Scalar::Integer(i)) => Value::Number(i as f64),
        Some(saphyr::Scalar::FloatingPoint(f)) => Value::Number(f.into_inner()),
        _ => Value::String(template_str(text)),
    }
}

/// An `OCIRepository` (its `url`) or a `HelmChart` (its `chart`) of source.toolkit.fluxcd.io.
pub(crate) fn read_chart_source(
    object: &MarkedYaml,
    positions: &ChunkPositions,
    kind: &str,
) -> Option<ChartSource> {
    let metadata = get(object, "metadata");
    let Field::Known(name) = field(positions, metadata, "name") else {
        return None;
    };
    let spec = get(object, "spec");
    let chart = match kind {
        "OCIRepository" => text(spec, "url"),
        _ => text(spec, "chart"),
    }
    .filter(|c| !has_placeholder(c));
    Some(ChartSource {
        kind: kind.to_string(),
        name: name.value,
        namespace: text(metadata, "namespace"),
        chart,
    })
}

/// A `ConfigMap` or `Secret`: its keys, and a ConfigMap's values. A Secret's values are never
/// read (encrypted, sealed or replaced in the cluster).
pub(crate) fn read_config_data(
    object: &MarkedYaml,
    positions: &ChunkPositions,
    secret: bool,
    unit: &str,
) -> Option<ConfigData> {
    let metadata = get(object, "metadata");
    let Field::Known(name) = field(positions, metadata, "name") else {
        return None;
    };
    let namespace = match field(positions, metadata, "namespace") {
        Field::Known(ns) => Some(ns.value),
        _ => None,
    };
    let mut data = BTreeMap::new();
    let mut keys_known = true;
    let fields: &[&str] = if secret {
        &["data", "stringData"]
    } else {
        &["data", "binaryData"]
    };
    for (i, key) in fields.iter().enumerate() {
        let Some(node) = get(object, key).map(untag) else {
            continue;
        };
        let entries = match &node.data {
            YamlData::Mapping(entries) => entries,
            YamlData::Representation(text, style, _) if is_null(text, *style) => continue,
            _ => {
                keys_known = false;
                continue;
            }
        };
        for (k, v) in entries {
            let Some((key, _)) = scalar(k).filter(|(k, _)| !has_placeholder(k)) else {
                keys_known = false;
                continue;
            };
            let value = match scalar(v) {
                // Only a ConfigMap's `data` holds text.
                Some((text, style)) if !secret && i == 0 => {
                    let span = positions.scalar_span(v, style);
                    Some(DataValue {
                        value: Spanned::new(template_str(text), span),
                        yaml_at: (style == ScalarStyle::Literal)
                            .then(|| block_lines(positions, span)),
                        edits: Vec::new(),
                    })
                }
                _ => None,
            };
            data.insert(key.to_string(), value);
        }
    }
    let kind = if secret { "Secret" } else { "ConfigMap" };
    let shown = match &namespace {
        Some(ns) => format!("{kind} {ns}/{}", name.value),
        None => format!("{kind} {}", name.value),
    };
    Some(ConfigData {
        secret,
        name: name.value,
        namespace,
        data,
        keys_known,
        span: positions.node_span(object),
        shown,
        dir: unit.to_string(),
    })
}

/// A literal block scalar's lines as written, with their indentation: YAML of its own whose
/// positions are the file's.
fn block_lines(positions: &ChunkPositions, span: Span) -> Span {
    let text = positions.file_text();
    let start = text[..span.start as usize].rfind('\n').map_or(0, |i| i + 1);
    Span::new(span.file, start..span.end as usize)
}
