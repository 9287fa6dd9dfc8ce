//! Facts from one evaluated Terraform module: roles, OIDC providers, clusters and the
//! ServiceAccounts Terraform creates itself.

use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::Block;

use super::policy::{PolicyReader, expr_span, spanned_strings};
use super::{
    Annotation, Cluster, Facts, OidcProvider, Origin, Role, RoleName, ServiceAccount, Spanned,
};
use crate::eval::module::{InstanceKey, Module, Resource, Scope};
use crate::eval::value::{Str, Value};
use crate::source::Span;

/// Extract every fact of a module. `unit` names the module directory.
pub fn extract(m: &Module<'_>, unit: &str) -> Facts {
    let mut facts = Facts::default();
    let accounts = provider_accounts(m);
    for res in m.resources_of("aws_iam_role", false) {
        roles(m, res, &accounts, &mut facts);
    }
    for data in [false, true] {
        for res in m.resources_of("aws_iam_openid_connect_provider", data) {
            providers(m, res, &mut facts);
        }
        for res in m.resources_of("aws_eks_cluster", data) {
            clusters(m, res, &mut facts);
        }
    }
    for kind in [
        "kubernetes_service_account",
        "kubernetes_service_account_v1",
    ] {
        for res in m.resources_of(kind, false) {
            service_accounts(m, res, unit, &mut facts);
        }
    }
    // Charts and raw manifests applied from Terraform create ServiceAccounts we cannot see.
    let opaque = ["helm_release", "kubernetes_manifest", "kubectl_manifest"];
    if opaque.iter().any(|k| !m.resources_of(k, false).is_empty()) {
        facts.hidden_service_accounts = true;
    }
    // Modules create roles and ServiceAccounts this version does not look into.
    if m.has_module_calls() {
        facts.hidden_roles = true;
        facts.hidden_service_accounts = true;
    }
    facts
}

/// Instances of a resource; an unknown set of instances yields nothing and is reported
/// through `unknown`.
fn each_instance<'a>(m: &Module<'a>, res: &Resource<'a>) -> Option<Vec<(InstanceKey, Scope)>> {
    m.instances(res)
}

fn address(res: &Resource<'_>, key: &InstanceKey) -> String {
    format!("{}{}", res.address(), key.suffix())
}

fn roles(m: &Module<'_>, res: &Resource<'_>, accounts: &[String], facts: &mut Facts) {
    let label = res.label_span();
    let body = &res.block.body;
    let Some(instances) = each_instance(m, res) else {
        facts.roles.push(Role {
            address: res.address(),
            span: label,
            name: RoleName::Unknown,
            name_span: label,
            path: None,
            path_span: None,
            trust: None,
            provider_accounts: accounts.to_vec(),
        });
        return;
    };
    for (key, scope) in instances {
        let (name, name_span) = if let Some(a) = body.get_attribute("name") {
            let name = match m.eval(&a.value, &scope) {
                Ok(Value::String(s)) if !s.has_unknown() => RoleName::Exact(s),
                _ => RoleName::Unknown,
            };
            (name, expr_span(res.file, &a.value))
        } else if let Some(a) = body.get_attribute("name_prefix") {
            let name = match m.eval(&a.value, &scope) {
                Ok(Value::String(s)) if !s.has_unknown() => RoleName::Prefix(s),
                _ => RoleName::Unknown,
            };
            (name, expr_span(res.file, &a.value))
        } else {
            (RoleName::Unknown, label)
        };
        let (path, path_span) = match body.get_attribute("path") {
            Some(a) => (
                m.eval(&a.value, &scope)
                    .ok()
                    .and_then(|v| v.as_str().cloned())
                    .filter(|s| !s.has_unknown()),
                Some(expr_span(res.file, &a.value)),
            ),
            None => (Some(Str::lit("/")), None),
        };
        let mut reader = PolicyReader::new(m);
        let trust = body
            .get_attribute("assume_role_policy")
            .and_then(|a| reader.read(res.file, &a.value, &scope));
        facts.parse_errors.extend(reader.errors);
        facts.roles.push(Role {
            address: address(res, &key),
            span: label,
            name,
            name_span,
            path,
            path_span,
            trust,
            provider_accounts: accounts.to_vec(),
        });
    }
}

fn providers(m: &Module<'_>, res: &Resource<'_>, facts: &mut Facts) {
    let Some(instances) = each_instance(m, res) else {
        return;
    };
    let body = &res.block.body;
    for (key, scope) in instances {
        let url = body.get_attribute("url").and_then(|a| {
            let v = m.eval(&a.value, &scope).ok()?.as_str()?.clone();
            (!v.has_unknown()).then(|| Spanned::new(v, expr_span(res.file, &a.value)))
        });
        let client_ids = body
            .get_attribute("client_id_list")
            .and_then(|a| spanned_strings(m, res.file, &a.value, &scope));
        let arn = m
            .instance_attr(res, &key, &scope, "arn")
            .ok()
            .and_then(|v| v.as_str().cloned())
            .filter(|s| !s.has_unknown());
        facts.providers.push(OidcProvider {
            address: address(res, &key),
            span: res.label_span(),
            url,
            client_ids,
            arn,
        });
    }
}

fn clusters(m: &Module<'_>, res: &Resource<'_>, facts: &mut Facts) {
    let Some(instances) = each_instance(m, res) else {
        return;
    };
    for (key, scope) in instances {
        let issuer = m
            .instance_attr(res, &key, &scope, "identity")
            .ok()
            .map(|v| {
                v.index(&Value::Number(0.0))
                    .get_attr("oidc")
                    .index(&Value::Number(0.0))
                    .get_attr("issuer")
            });
        let Some(issuer) = issuer
            .as_ref()
            .and_then(Value::as_str)
            .and_then(|s| s.strip_prefix("https://"))
        else {
            continue;
        };
        let name = m
            .configured_attr(res, &scope, "name")
            .ok()
            .and_then(|v| v.as_str().cloned());
        facts.clusters.push(Cluster {
            address: address(res, &key),
            span: res.label_span(),
            name,
            issuer,
        });
    }
}

fn service_accounts(m: &Module<'_>, res: &Resource<'_>, unit: &str, facts: &mut Facts) {
    let Some(instances) = each_instance(m, res) else {
        facts.hidden_service_accounts = true;
        return;
    };
    let Some(metadata) = res.block.body.get_blocks("metadata").next() else {
        return;
    };
    for (_, scope) in instances {
        match service_account(m, res, metadata, &scope, unit) {
            Some(sa) => facts.service_accounts.push(sa),
            None => facts.hidden_service_accounts = true,
        }
    }
}

fn service_account(
    m: &Module<'_>,
    res: &Resource<'_>,
    metadata: &Block,
    scope: &Scope,
    unit: &str,
) -> Option<ServiceAccount> {
    let file = res.file;
    let known = |name: &str| -> Option<Spanned<String>> {
        let a = metadata.body.get_attribute(name)?;
        let v = m.eval(&a.value, scope).ok()?;
        Some(Spanned::new(
            v.as_known_str()?.to_string(),
            expr_span(file, &a.value),
        ))
    };
    let name = known("name")?;
    let (namespace, explicit) = match metadata.body.get_attribute("namespace") {
        Some(_) => (known("namespace")?, true),
        None => (Spanned::new("default".to_string(), name.span), false),
    };
    let mut annotations = Vec::new();
    if let Some(a) = metadata.body.get_attribute("annotations") {
        match &a.value {
            Expression::Object(o) => {
                for (k, v) in o.iter() {
                    let key = match k {
                        ObjectKey::Ident(i) => Some(i.as_str().to_string()),
                        ObjectKey::Expression(e) => m
                            .eval(e, scope)
                            .ok()
                            .and_then(|v| v.as_known_str().map(str::to_string)),
                    };
                    let Some(key) = key else { continue };
                    let value = m
                        .eval(v.expr(), scope)
                        .ok()
                        .and_then(|v| v.to_str())
                        .filter(|s| !s.has_unknown());
                    annotations.push(Annotation {
                        key: Spanned::new(key, Span::new(file, k.span().unwrap_or(0..0))),
                        value: value.map(|s| Spanned::new(s, expr_span(file, v.expr()))),
                    });
                }
            }
            other => {
                if let Ok(Value::Map(map)) = m.eval(other, scope) {
                    let span = expr_span(file, other);
                    for (k, v) in map {
                        annotations.push(Annotation {
                            key: Spanned::new(k, span),
                            value: v
                                .to_str()
                                .filter(|s| !s.has_unknown())
                                .map(|s| Spanned::new(s, span)),
                        });
                    }
                }
            }
        }
    }
    Some(ServiceAccount {
        span: res.label_span(),
        name,
        namespace,
        namespace_explicit: explicit,
        annotations,
        unit: unit.to_string(),
        origin: Origin::Terraform,
    })
}

/// The accounts a module's single AWS provider is pinned to with `allowed_account_ids`.
fn provider_accounts(m: &Module<'_>) -> Vec<String> {
    let providers: Vec<&Block> = m
        .files
        .iter()
        .flat_map(|(_, body, _)| body.blocks())
        .filter(|b| {
            b.ident.as_str() == "provider" && b.labels.first().map(|l| l.as_str()) == Some("aws")
        })
        .collect();
    let [provider] = providers.as_slice() else {
        return Vec::new();
    };
    let Some(a) = provider.body.get_attribute("allowed_account_ids") else {
        return Vec::new();
    };
    match m.eval(&a.value, &Scope::default()) {
        Ok(Value::List(l)) => l
            .iter()
            .filter_map(|v| v.as_known_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}
