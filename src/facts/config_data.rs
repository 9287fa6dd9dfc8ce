//! ConfigMaps Terraform writes, for Flux to read (`postBuild.substituteFrom`, `valuesFrom`):
//! `kubernetes_config_map`, `kubernetes_config_map_v1`, `kubernetes_config_map_v1_data`
//! (data added to a ConfigMap made elsewhere), a `kubectl_manifest` or a `local_file` whose
//! YAML is a ConfigMap; and the keys of the Secrets it writes (`kubernetes_secret`,
//! `kubernetes_secret_v1`), whose values are never read.
//!
//! Values keep what Terraform knows of them: a role's ARN whose account is known only after
//! apply stays symbolic, and is still linked to its role by name.

use std::cell::RefCell;
use std::collections::BTreeMap;

use hcl_edit::expr::Expression;

use super::policy::expr_span;
use super::terraform::annotations_of;
use super::{ConfigData, DataValue, Facts, Spanned};
use crate::eval::module::{Module, Resource};
use crate::eval::value::{Str, Value};

pub fn extract(m: &Module<'_>, unit: &str, facts: &mut Facts) {
    for (kind, secret) in [
        ("kubernetes_config_map", false),
        ("kubernetes_config_map_v1", false),
        ("kubernetes_config_map_v1_data", false),
        ("kubernetes_secret", true),
        ("kubernetes_secret_v1", true),
    ] {
        for res in m.resources_of(kind, false) {
            resource(m, res, secret, unit, facts);
        }
    }
    for (kind, attribute) in [
        ("kubectl_manifest", "yaml_body"),
        ("local_file", "content"),
        ("local_sensitive_file", "content"),
    ] {
        for res in m.resources_of(kind, false) {
            yaml_text(m, res, attribute, unit, facts);
        }
    }
}

fn shown(m: &Module<'_>, res: &Resource<'_>, key: &crate::eval::module::InstanceKey) -> String {
    format!("{}{}{}", m.address, res.address(), key.suffix())
}

/// A `kubernetes_config_map*` or `kubernetes_secret*` resource: `metadata` and `data`.
fn resource<'a>(m: &Module<'a>, res: &Resource<'a>, secret: bool, unit: &str, facts: &mut Facts) {
    let Some(metadata) = res.block.body.get_blocks("metadata").next() else {
        return;
    };
    let Some(instances) = m.instances(res) else {
        return;
    };
    let file = res.file;
    for (key, scope) in instances {
        let text = |attribute: &str| {
            let a = metadata.body.get_attribute(attribute)?;
            Some(
                m.eval_in(file, &a.value, &scope)
                    .ok()
                    .and_then(|v| v.as_known_str().map(str::to_string)),
            )
        };
        // A ConfigMap whose name is not known is no candidate for any reference.
        let Some(Some(name)) = text("name") else {
            continue;
        };
        // The provider's default namespace; not known, it may be any.
        let namespace = text("namespace").unwrap_or_else(|| Some("default".to_string()));
        let mut data = BTreeMap::new();
        let mut keys_known = true;
        for field in ["data", "binary_data"] {
            let Some(a) = res.block.body.get_attribute(field) else {
                continue;
            };
            let (entries, known) = annotations_of(m, file, &a.value, &scope);
            keys_known &= known;
            for entry in entries {
                let value = entry
                    .value
                    .filter(|_| !secret && field == "data")
                    .map(|value| DataValue {
                        value,
                        yaml_at: None,
                        edits: Vec::new(),
                    });
                data.insert(entry.key.value, value);
            }
        }
        facts.config_data.push(ConfigData {
            secret,
            name,
            namespace,
            data,
            keys_known,
            span: m.user_span(res.label_span(), None),
            shown: shown(m, res, &key),
            dir: unit.to_string(),
        });
    }
}

/// A ConfigMap written as YAML text (`kubectl_manifest`, `local_file`), when the text is
/// known; its values are spanned at the attribute.
fn yaml_text<'a>(
    m: &Module<'a>,
    res: &Resource<'a>,
    attribute: &str,
    unit: &str,
    facts: &mut Facts,
) {
    let Some(attr) = res.block.body.get_attribute(attribute) else {
        return;
    };
    // `file()` of a manifest of the tree: read as a manifest already.
    if matches!(&attr.value, Expression::FuncCall(f) if f.name.name.as_str() == "file") {
        return;
    }
    let Some(instances) = m.instances(res) else {
        return;
    };
    let span = m.user_span(expr_span(res.file, &attr.value), None);
    for (key, scope) in instances {
        // Terraform values known only after apply (a role's ARN) are carried through the
        // YAML as markers, and put back in the values read.
        let symbols = RefCell::default();
        let Some(text) = m
            .eval_in(res.file, &attr.value, &scope)
            .ok()
            .and_then(|v| v.to_str())
            .filter(|s| !s.has_unknown())
            .map(|s| super::flux::marked_text(&s, &symbols))
        else {
            continue;
        };
        let symbols = symbols.into_inner();
        if !text.contains("ConfigMap") {
            continue;
        }
        for range in crate::parse::yaml::document_ranges(&text) {
            let Some(doc) = crate::parse::yaml::to_json(&text[range]) else {
                continue;
            };
            if doc.get("kind").and_then(|k| k.as_str()) != Some("ConfigMap") {
                continue;
            }
            let field = |f: &str| {
                doc.pointer(&format!("/metadata/{f}"))
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            let Some(name) = field("name") else {
                continue;
            };
            let mut data = BTreeMap::new();
            for (k, v) in doc
                .get("data")
                .and_then(|d| d.as_object())
                .into_iter()
                .flatten()
            {
                let value = match v {
                    serde_json::Value::String(s) => {
                        let s = super::manifests::template_str(s);
                        Value::String(super::flux::restore_str(&s, &symbols))
                    }
                    _ => Value::Unknown,
                };
                let value = value.to_str().map(|s: Str| DataValue {
                    value: Spanned::new(s, span),
                    yaml_at: None,
                    edits: Vec::new(),
                });
                data.insert(k.clone(), value);
            }
            facts.config_data.push(ConfigData {
                secret: false,
                name,
                namespace: field("namespace"),
                data,
                keys_known: true,
                span,
                shown: shown(m, res, &key),
                dir: unit.to_string(),
            });
        }
    }
}
