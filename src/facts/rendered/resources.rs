//! Terraform resources whose attribute is manifest text that Terraform renders
//! (`kubectl_manifest`, `kubernetes_manifest` with `yamldecode`, a `.yaml` `local_file`): each
//! instance's rendering read as Kubernetes objects, Argo CD Applications among them, with a
//! note naming the template and the resource that renders it.

use hcl_edit::expr::Expression;

use crate::eval::module::{InstanceKey, Module, Resource};
use crate::eval::render::Rendered;
use crate::facts::Facts;
use crate::facts::policy::expr_span;
use crate::source::Span;

/// `local_file { content = ... }` that writes a Kubernetes manifest, for a later `kubectl
/// apply`: read like `kubectl_manifest`.
pub(crate) fn local_file<'a>(m: &Module<'a>, res: &Resource<'a>, unit: &str, facts: &mut Facts) {
    let Some(attr) = res.block.body.get_attribute("content") else {
        return;
    };
    let filename = res
        .block
        .body
        .get_attribute("filename")
        .and_then(|a| match &a.value {
            Expression::String(s) => Some(s.value().to_string()),
            Expression::StringTemplate(t) => t.iter().last().and_then(|e| match e {
                hcl_edit::template::Element::Literal(l) => Some(l.value().to_string()),
                _ => None,
            }),
            _ => None,
        });
    // Scripts, kubeconfigs and JSON documents are written the same way.
    if !filename.is_some_and(|f| f.ends_with(".yaml") || f.ends_with(".yml")) {
        return;
    }
    manifest_text(m, res, &attr.value, unit, facts);
}

/// A resource whose attribute is manifest text: each instance rendered and read.
pub(crate) fn manifest_text<'a>(
    m: &Module<'a>,
    res: &Resource<'a>,
    text: &Expression,
    unit: &str,
    facts: &mut Facts,
) {
    let Some(instances) = m.instances(res) else {
        facts.hidden_service_accounts = true;
        return;
    };
    let fallback = m.user_span(expr_span(res.file, text), None);
    for (key, scope) in instances {
        match m.render(res.file, text, &scope) {
            Some(rendered) => objects(m, res, &key, &rendered, unit, fallback, facts),
            None => facts.hidden_service_accounts = true,
        }
    }
}

/// The objects of one rendered manifest, Argo CD Applications included, created by `res`.
pub(crate) fn objects<'a>(
    m: &Module<'a>,
    res: &Resource<'a>,
    key: &InstanceKey,
    rendered: &Rendered,
    unit: &str,
    fallback: Span,
    facts: &mut Facts,
) {
    let address = format!("{}{}{}", m.address, res.address(), key.suffix());
    let note = rendered
        .template_path
        .as_ref()
        .map(|path| format!("rendered from {path} by {address}"));
    let mut objects = super::manifests(rendered, unit, fallback);
    for sa in &mut objects.service_accounts {
        sa.rendered.extend(note.clone());
    }
    for w in &mut objects.workloads {
        w.rendered.extend(note.clone());
    }
    if rendered.text().contains("argoproj.io") {
        let shown = note.unwrap_or(address);
        objects.extend(super::applications(rendered, unit, fallback, &shown));
    }
    for sa in &mut objects.service_accounts {
        // Terraform creates it: its lines are Terraform's to change, not a manifest's.
        sa.origin = crate::facts::Origin::Terraform;
        sa.when = m.gates_of(res);
    }
    // `config_data` reads these resources' ConfigMaps with Terraform's values put back in;
    // read here too, with holes for those values, the two copies would disagree.
    if matches!(
        res.kind,
        "kubectl_manifest" | "local_file" | "local_sensitive_file"
    ) {
        objects.config_data.clear();
    }
    facts.rendered_templates.extend(rendered.template);
    facts.extend(objects);
}
