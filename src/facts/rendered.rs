//! YAML that Terraform renders (a heredoc, `templatefile()`, `file()`), read as the rendered
//! text says: the rendering's holes become the values they stand for again (a role ARN known
//! only after apply stays that role's ARN; an unknown value stays unknown), and every position
//! is mapped back to the heredoc or template line the text comes from.
//!
//! A rendering is not read when its keys could be anything: a directive whose condition is
//! unknown wrote part of it, or a hole stands where a mapping key is.

use foldhash::{HashMap, HashMapExt};

use saphyr::{MarkedYaml, Scalar, ScalarStyle, YamlData};

use super::manifests::{ManifestSyntax, extract_manifests, template_may_define_service_accounts};
use super::{Annotation, Facts, PodServiceAccount, ServiceAccount, Spanned};
use crate::eval::render::Rendered;
use crate::eval::value::Value;
use crate::parse::yaml::{ChunkPositions, read_plain_documents, scalar, untag};
use crate::source::{FileId, Span};

/// The rendered text while it is read: no span with this file leaves this module.
const RENDERED: FileId = FileId(u32::MAX);

/// Helm values read from a rendering, each leaf with where it is written.
pub(crate) struct RenderedValues {
    pub value: Value,
    pub spans: HashMap<Vec<String>, Span>,
}

/// Helm values written as YAML text; `None` when the text cannot be read as one document
/// whose keys are known. An empty text is no values (`null`).
pub(crate) fn values(rendered: &Rendered, fallback: Span) -> Option<RenderedValues> {
    if rendered.unknown_structure {
        return None;
    }
    let mut documents = 0;
    let mut unreadable = false;
    let mut out = RenderedValues {
        value: Value::Null,
        spans: HashMap::new(),
    };
    let loaded = read_plain_documents(RENDERED, rendered.text(), &mut |document, positions| {
        documents += 1;
        let reader = ValuesReader {
            rendered,
            positions,
            fallback,
        };
        match reader.value(document, &mut Vec::new(), &mut out.spans) {
            Some(value) => out.value = value,
            None => unreadable = true,
        }
    });
    (loaded && !unreadable && documents <= 1).then_some(out)
}

struct ValuesReader<'r> {
    rendered: &'r Rendered,
    positions: &'r ChunkPositions<'r>,
    fallback: Span,
}

impl ValuesReader<'_> {
    /// Where a span of the rendered text comes from.
    fn span(&self, span: Span) -> Span {
        self.rendered.span_of(span.range()).unwrap_or(self.fallback)
    }

    /// A node as a value, spans of its leaves recorded by key path. `None` when a key is not
    /// known (a hole, or not a scalar): any key could be set.
    fn value(
        &self,
        node: &MarkedYaml,
        path: &mut Vec<String>,
        spans: &mut HashMap<Vec<String>, Span>,
    ) -> Option<Value> {
        let node = untag(node);
        match &node.data {
            YamlData::Mapping(entries) => {
                let mut map = std::collections::BTreeMap::new();
                for (key, value) in entries {
                    let (key_text, _) = scalar(key)?;
                    if self.rendered.has_hole(key_text) {
                        return None;
                    }
                    path.push(key_text.to_string());
                    let value = self.value(value, path, spans)?;
                    path.pop();
                    map.insert(key_text.to_string(), value);
                }
                Some(Value::Map(map))
            }
            YamlData::Sequence(items) => {
                let mut list = Vec::with_capacity(items.len());
                for item in items {
                    list.push(self.value(item, &mut Vec::new(), &mut HashMap::new())?);
                }
                spans.insert(path.clone(), self.span(self.positions.node_span(node)));
                Some(Value::List(list))
            }
            YamlData::Representation(text, style, tag) => {
                spans.insert(
                    path.clone(),
                    self.span(self.positions.scalar_span(node, *style)),
                );
                if self.rendered.has_hole(text) {
                    return Some(self.rendered.scalar(text));
                }
                Some(typed_scalar(text, *style, tag.as_ref()))
            }
            _ => Some(Value::Unknown),
        }
    }
}

/// A scalar as YAML's core schema reads it: a plain `true` is a boolean, a quoted one text.
fn typed_scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&std::borrow::Cow<'_, saphyr::Tag>>,
) -> Value {
    match Scalar::parse_from_cow_and_metadata(std::borrow::Cow::Borrowed(text), style, tag) {
        Some(Scalar::Null) => Value::Null,
        Some(Scalar::Boolean(b)) => Value::Bool(b),
        Some(Scalar::Integer(i)) => Value::Number(i as f64),
        Some(Scalar::FloatingPoint(f)) => Value::Number(f.into_inner()),
        Some(Scalar::String(s)) => Value::str(s.to_string()),
        None => Value::str(text.to_string()),
    }
}

/// A value read from a rendering's text by a reader that knows no holes (YAML nested in a
/// string), with the holes' values put back; `None` when a key is a hole.
pub(crate) fn restore_value(value: Value, rendered: &Rendered) -> Option<Value> {
    Some(match value {
        Value::String(s) => match s.as_known() {
            Some(text) if rendered.has_hole(text) => rendered.scalar(text),
            _ => Value::String(s),
        },
        Value::List(items) => Value::List(
            items
                .into_iter()
                .map(|item| restore_value(item, rendered))
                .collect::<Option<_>>()?,
        ),
        Value::Map(map) => {
            let mut out = std::collections::BTreeMap::new();
            for (key, item) in map {
                if rendered.has_hole(&key) {
                    return None;
                }
                out.insert(key, restore_value(item, rendered)?);
            }
            Value::Map(out)
        }
        other => other,
    })
}

/// The Kubernetes objects of a rendered manifest, as the manifest reader reads them, shown
/// where the rendering's bytes come from (`fallback` when they come from nowhere), with
/// the holes' symbols put back. A rendering that cannot be read hides ServiceAccounts.
pub(crate) fn manifests(rendered: &Rendered, unit: &str, fallback: Span) -> Facts {
    let unreadable = Facts {
        hidden_service_accounts: true,
        ..Facts::default()
    };
    if rendered.unknown_structure || hole_in_a_key(rendered) {
        return unreadable;
    }
    let mut facts = extract_manifests(RENDERED, rendered.text(), ManifestSyntax::Yaml, unit);
    if !facts.parse_errors.is_empty() {
        // Not YAML as rendered here (a value irsa-lint renders otherwise, or a text that is
        // not a manifest): what it would apply is unseen, and its errors are not the user's.
        return Facts {
            hidden_service_accounts: template_may_define_service_accounts(rendered.text()),
            ..Facts::default()
        };
    }
    let remap = Remap { rendered, fallback };
    remap.service_accounts(&mut facts.service_accounts);
    for w in &mut facts.workloads {
        w.span = remap.span(w.span);
        w.name.span = remap.span(w.name.span);
        if let Some(ns) = &mut w.namespace {
            ns.span = remap.span(ns.span);
        }
        if let PodServiceAccount::Named(name) = &mut w.service_account {
            name.span = remap.span(name.span);
        }
        remap.annotations(&mut w.annotations);
        for env in &mut w.env {
            env.span = remap.span(env.span);
        }
    }
    for u in &mut facts.unresolved_service_accounts {
        u.span = remap.span(u.span);
        if let Some(arn) = &mut u.role_arn {
            *arn = Spanned::new(rendered.restore(&arn.value), remap.span(arn.span));
        }
    }
    facts
}

/// The ServiceAccounts of the Argo CD Applications in a rendered manifest (see
/// [`super::argo::rendered_applications`]), shown where the rendering's bytes come from.
pub(crate) fn applications(rendered: &Rendered, unit: &str, fallback: Span, shown: &str) -> Facts {
    if rendered.unknown_structure {
        return Facts {
            hidden_service_accounts: true,
            ..Facts::default()
        };
    }
    let mut facts = super::argo::rendered_applications(RENDERED, rendered, unit, shown);
    Remap { rendered, fallback }.service_accounts(&mut facts.service_accounts);
    facts
}

struct Remap<'r> {
    rendered: &'r Rendered,
    fallback: Span,
}

impl Remap<'_> {
    fn service_accounts(&self, service_accounts: &mut [ServiceAccount]) {
        for sa in service_accounts {
            sa.span = self.span(sa.span);
            sa.name.span = self.span(sa.name.span);
            sa.namespace.span = self.span(sa.namespace.span);
            self.annotations(&mut sa.annotations);
        }
    }

    fn span(&self, span: Span) -> Span {
        if span.file != RENDERED {
            return span;
        }
        self.rendered.span_of(span.range()).unwrap_or(self.fallback)
    }

    fn annotations(&self, annotations: &mut [Annotation]) {
        for a in annotations {
            a.key.span = self.span(a.key.span);
            if let Some(value) = &mut a.value {
                *value = Spanned::new(self.rendered.restore(&value.value), self.span(value.span));
            }
        }
    }
}

/// Whether a hole stands where a mapping key is, anywhere in the rendering.
fn hole_in_a_key(rendered: &Rendered) -> bool {
    if !rendered.has_hole(rendered.text()) {
        return false;
    }
    let mut found = false;
    read_plain_documents(RENDERED, rendered.text(), &mut |document, _| {
        found |= key_has_hole(rendered, document)
    });
    found
}

fn key_has_hole(rendered: &Rendered, node: &MarkedYaml) -> bool {
    match &untag(node).data {
        YamlData::Mapping(entries) => entries.iter().any(|(key, value)| {
            scalar(key).is_none_or(|(text, _)| rendered.has_hole(text))
                || key_has_hole(rendered, value)
        }),
        YamlData::Sequence(items) => items.iter().any(|item| key_has_hole(rendered, item)),
        _ => false,
    }
}

pub(crate) mod resources;

#[cfg(test)]
mod tests;
