//! Facts from one evaluated Terraform module and, recursively, the modules it calls: roles,
//! OIDC providers, clusters, and the Kubernetes objects Terraform creates itself.
//!
//! Facts of a built-in model of a registry module are placed in the user's code: at the
//! input the value came from, or else at the module call.

use std::rc::Rc;
use std::sync::Arc;

use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::Block;

use super::addons;
use super::policy::{PolicyReader, expand_blocks, expr_span, spanned_strings};
use super::{
    AddonRole, Annotation, Cluster, Facts, OidcProvider, Part, PodIdentityAssociation,
    ROLE_ARN_KEY, Role, RoleName, ServiceAccount, Spanned, UnresolvedServiceAccount,
};
use crate::eval::module::{InstanceKey, Module, Resource, Scope};
use crate::eval::value::{Str, Symbol, Value};
use crate::source::Span;

/// The panic boundary of one resource's facts: an internal bug while reading one resource
/// costs that resource (an IRSA000 "internal error" at its labels), not the findings of
/// the rest of its root module. What the resource would have made is out of sight, so no
/// finding may rest on its absence. Values left half-evaluated stay unknown (their cycle
/// guard is never released).
///
/// `IRSA_LINT_TEST_PANIC_ON=fact:ADDRESS` (debug builds only) makes reading that resource
/// panic, to prove the boundary.
fn per_fact<'a>(
    m: &Module<'a>,
    res: &Resource<'a>,
    facts: &mut Facts,
    read: impl FnOnce(&mut Facts),
) {
    let mut own = Facts::default();
    match guard_fact(m, res, || read(&mut own)) {
        Ok(()) => facts.extend(own),
        Err(error) => lost(facts, error),
    }
}

/// [`per_fact`] for a reader that refers to facts already read (by their ids): it writes
/// into `facts` itself, pushing only whole entries.
fn per_fact_in_place<'a>(
    m: &Module<'a>,
    res: &Resource<'a>,
    facts: &mut Facts,
    read: impl FnOnce(&Module<'a>, &Resource<'a>, &mut Facts),
) {
    if let Err(error) = guard_fact(m, res, || read(m, res, &mut *facts)) {
        lost(facts, error);
    }
}

/// What a resource would have made is out of sight: no finding may rest on its absence.
fn lost(facts: &mut Facts, error: crate::parse::ParseError) {
    facts.parse_errors.push(error);
    facts.hidden_roles = true;
    facts.hidden_service_accounts = true;
    facts.hidden_annotations = true;
}

/// Runs `run`; a panic becomes the internal error at the resource's labels.
fn guard_fact<'a>(
    m: &Module<'a>,
    res: &Resource<'a>,
    run: impl FnOnce(),
) -> Result<(), crate::parse::ParseError> {
    // Named only where a test can ask for it: no string per resource in a release build.
    let point = cfg!(debug_assertions).then(|| format!("fact:{}", res.address()));
    crate::parse::catch_panic(point.as_deref(), run).map_err(|message| crate::parse::ParseError {
        span: m.user_span(res.label_span(), None),
        message: format!(
            "internal error while reading {}{}: {message}; please report it",
            m.address,
            res.address()
        ),
    })
}

/// Extract every fact of a module and of the modules it calls. `unit` names the root module's
/// directory (one `terraform apply`).
pub fn extract(m: &Module<'_>, unit: &str) -> Facts {
    extract_placed(m, unit, &mut Vec::new())
}

/// A module instance a module calls, and where its facts lie in the caller's.
pub struct Call<'a> {
    /// The module call's name, and the instance's key.
    pub name: &'a str,
    pub key: InstanceKey,
    pub module: Rc<Module<'a>>,
    /// The caller's facts before the instance's.
    pub before: Part,
    pub part: Part,
}

/// [`extract`], with each module instance `m` calls and where its facts lie.
pub fn extract_placed<'a>(m: &Module<'a>, unit: &str, calls: &mut Vec<Call<'a>>) -> Facts {
    let mut facts = Facts::default();
    let accounts = provider_accounts(m);
    for res in m.resources_of("aws_iam_role", false) {
        per_fact(m, res, &mut facts, |f| roles(m, res, &accounts, unit, f));
    }
    for data in [false, true] {
        for res in m.resources_of("aws_iam_openid_connect_provider", data) {
            per_fact(m, res, &mut facts, |f| providers(m, res, f));
        }
        for res in m.resources_of("aws_eks_cluster", data) {
            per_fact(m, res, &mut facts, |f| clusters(m, res, f));
        }
    }
    for kind in [
        "kubernetes_service_account",
        "kubernetes_service_account_v1",
    ] {
        for res in m.resources_of(kind, false) {
            per_fact(m, res, &mut facts, |f| service_accounts(m, res, unit, f));
        }
    }
    for res in m.resources_of("aws_eks_pod_identity_association", false) {
        per_fact(m, res, &mut facts, |f| pod_identities(m, res, unit, f));
    }
    for res in m.resources_of("aws_eks_addon", false) {
        per_fact(m, res, &mut facts, |f| eks_addons(m, res, unit, f));
    }
    for kind in ["null_resource", "terraform_data"] {
        for res in m.resources_of(kind, false) {
            per_fact(m, res, &mut facts, |f| local_exec_commands(m, res, unit, f));
        }
    }
    for res in m.resources_of("irsa_lint_addon_role", false) {
        // It names roles already read by their ids: it reads them where they are, and
        // pushes only whole entries.
        per_fact_in_place(m, res, &mut facts, addon_roles);
    }
    facts.hidden_annotations |= annotates_service_accounts(m);
    // Anything a model marks as creating ServiceAccounts out of sight.
    if m.resources_of("irsa_lint_hidden_service_accounts", false)
        .iter()
        .any(|r| m.instances(r).is_none_or(|i| !i.is_empty()))
    {
        facts.hidden_service_accounts = true;
    }
    facts.extend(super::kubernetes::extract(m, unit));
    super::config_data::extract(m, unit, &mut facts);
    super::permissions::extract(m, unit, &mut facts);
    for name in m.module_call_names() {
        match m.module_instances(name) {
            Some(instances) => {
                for (key, child) in instances.iter() {
                    let mut child_facts = extract(child, unit);
                    calls.push(Call {
                        name,
                        key: key.clone(),
                        module: child.clone(),
                        before: facts.part(),
                        part: child_facts.part(),
                    });
                    facts.extend(child_facts);
                }
            }
            // A module we cannot follow may create any role or ServiceAccount.
            None => {
                facts.hidden_roles = true;
                facts.hidden_service_accounts = true;
                // It may attach a policy to any role it is told about: a role of this
                // unit then has permissions out of sight.
                let told_of_roles = m
                    .module_call(name)
                    .and_then(|(file, block)| {
                        let text = m.source_text(file)?;
                        text.get(crate::eval::module::block_range(block))
                    })
                    .is_none_or(|text| {
                        let text = text.to_ascii_lowercase();
                        ["iam_role", "role_name", "role_arn", "roles", "role ="]
                            .iter()
                            .any(|r| text.contains(r))
                    });
                if told_of_roles
                    && let Some(span) = m
                        .call_site
                        .or_else(|| m.files.first().map(|f| Span::file_start(f.0)))
                {
                    facts.role_policies.push(super::RolePolicy {
                        unit: unit.to_string(),
                        role: None,
                        policy: super::AttachedPolicy::Unknown,
                        span,
                    });
                }
            }
        }
    }
    facts
}

/// What only the configuration says, of a module and the modules it calls: the
/// ServiceAccounts and annotations `local-exec` commands make (a plan does not hold
/// provisioners).
pub fn command_facts(m: &Module<'_>, unit: &str) -> Facts {
    let mut facts = Facts::default();
    for kind in ["null_resource", "terraform_data"] {
        for res in m.resources_of(kind, false) {
            local_exec_commands(m, res, unit, &mut facts);
        }
    }
    facts.hidden_annotations |= annotates_service_accounts(m);
    for name in m.module_call_names() {
        if let Some(instances) = m.module_instances(name) {
            for (_, child) in instances.iter() {
                facts.extend(command_facts(child, unit));
            }
        }
    }
    facts
}

fn address<'a>(m: &Module<'a>, res: &Resource<'a>, key: &InstanceKey) -> String {
    format!("{}{}{}", m.address, res.address(), key.suffix())
}

/// The span of an attribute's value: where the user wrote it (see [`Module::user_span`]).
fn value_span(
    m: &Module<'_>,
    file: crate::source::FileId,
    expr: &Expression,
    value: Option<&Value>,
) -> Span {
    let origin = value.and_then(Value::as_str).and_then(|s| s.origin);
    m.user_span(expr_span(file, expr), origin)
}

/// A string argument; `Null` (not set) is `None`, like an absent argument.
fn set_string<'a>(
    m: &Module<'a>,
    res: &Resource<'a>,
    scope: &Scope,
    name: &str,
) -> Option<(Value, Span)> {
    let a = res.block.body.get_attribute(name)?;
    let v = m
        .eval_in(res.file, &a.value, scope)
        .unwrap_or(Value::Unknown);
    if matches!(v, Value::Null) {
        return None;
    }
    let span = value_span(m, res.file, &a.value, Some(&v));
    Some((v, span))
}

fn roles<'a>(
    m: &Module<'a>,
    res: &Resource<'a>,
    accounts: &[String],
    unit: &str,
    facts: &mut Facts,
) {
    let label = m.user_span(res.label_span(), None);
    let body = &res.block.body;
    let Some(instances) = m.instances(res) else {
        let address = format!("{}{}", m.address, res.address());
        facts.roles.push(Role {
            when: m.gates_of(res),
            symbol_key: m.symbol_key(&address),
            address,
            module: m.address.trim_end_matches('.').to_string(),
            unit: unit.to_string(),
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
        let known = |v: Value| match v {
            Value::String(s) if !s.has_unknown() => Some(s),
            _ => None,
        };
        let address = address(m, res, &key);
        // A name that cannot be evaluated is the role's own symbol, as in references to it
        // (`Module::role_name`); with neither name nor prefix, Terraform generates one.
        let symbol_key = m.symbol_key(&address);
        let unevaluated = || RoleName::Exact(Str::sym(Symbol::RoleName(symbol_key.clone())));
        let (name, name_span) = if let Some((v, span)) = set_string(m, res, &scope, "name") {
            (
                known(v).map(RoleName::Exact).unwrap_or_else(unevaluated),
                span,
            )
        } else if let Some((v, span)) = set_string(m, res, &scope, "name_prefix") {
            (
                known(v).map(RoleName::Prefix).unwrap_or_else(unevaluated),
                span,
            )
        } else {
            (RoleName::Prefix(Str::default()), label)
        };
        let (path, path_span) = match set_string(m, res, &scope, "path") {
            Some((v, span)) => (known(v), Some(span)),
            None => (Some(Str::lit("/")), None),
        };
        let mut reader = PolicyReader::new(m);
        let trust = body
            .get_attribute("assume_role_policy")
            .and_then(|a| reader.read(res.file, &a.value, &scope))
            .map(Arc::new);
        facts.parse_errors.extend(reader.errors);
        facts.roles.push(Role {
            when: m.gates_of(res),
            address,
            symbol_key,
            module: m.address.trim_end_matches('.').to_string(),
            unit: unit.to_string(),
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

fn providers<'a>(m: &Module<'a>, res: &Resource<'a>, facts: &mut Facts) {
    let Some(instances) = m.instances(res) else {
        return;
    };
    let body = &res.block.body;
    for (key, scope) in instances {
        let url = set_string(m, res, &scope, "url").and_then(|(v, span)| {
            let v = v.as_str()?.clone();
            (!v.has_unknown()).then(|| Spanned::new(v, span))
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
            address: address(m, res, &key),
            span: m.user_span(res.label_span(), None),
            url,
            client_ids,
            arn,
        });
    }
}

fn clusters<'a>(m: &Module<'a>, res: &Resource<'a>, facts: &mut Facts) {
    let Some(instances) = m.instances(res) else {
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
            address: address(m, res, &key),
            span: m.user_span(res.label_span(), None),
            name,
            issuer,
        });
    }
}

fn service_accounts<'a>(m: &Module<'a>, res: &Resource<'a>, unit: &str, facts: &mut Facts) {
    let Some(instances) = m.instances(res) else {
        facts.hidden_service_accounts = true;
        return;
    };
    let Some(metadata) = res.block.body.get_blocks("metadata").next() else {
        return;
    };
    for (_, scope) in instances {
        match service_account(m, res, metadata, &scope, unit) {
            Some(mut sa) => {
                sa.when = m.gates_of(res);
                facts.service_accounts.push(sa);
            }
            None => {
                facts.hidden_service_accounts = true;
                // Given a role, it is shown as not checkable rather than dropped.
                let (annotations, _) = metadata
                    .body
                    .get_attribute("annotations")
                    .map(|a| annotations_of(m, res.file, &a.value, &scope))
                    .unwrap_or_default();
                if let Some(role) = annotations.iter().find(|a| a.key.value == ROLE_ARN_KEY) {
                    facts
                        .unresolved_service_accounts
                        .push(UnresolvedServiceAccount {
                            span: m.user_span(res.label_span(), None),
                            why: "its name or namespace is known only after apply".to_string(),
                            role_arn: role.value.clone(),
                        });
                }
            }
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
        let v = m.eval_in(file, &a.value, scope).ok()?;
        let span = value_span(m, file, &a.value, Some(&v));
        Some(Spanned::new(v.as_known_str()?.to_string(), span))
    };
    let name = known("name")?;
    let namespace = match metadata.body.get_attribute("namespace") {
        Some(_) => Some(known("namespace")?),
        None => None,
    };
    let (annotations, annotations_known) = metadata
        .body
        .get_attribute("annotations")
        .map(|a| annotations_of(m, file, &a.value, scope))
        .unwrap_or((Vec::new(), true));
    let span = m.user_span(res.label_span(), None);
    let mut sa = ServiceAccount::terraform(span, name, namespace, annotations, unit);
    sa.annotations_known = annotations_known;
    Some(sa)
}

/// The annotations of a Terraform map, each key and value spanned where it is written, and
/// whether every key is known (not when the map or a key cannot be evaluated).
pub(super) fn annotations_of(
    m: &Module<'_>,
    file: crate::source::FileId,
    expr: &Expression,
    scope: &Scope,
) -> (Vec<Annotation>, bool) {
    let mut out = Vec::new();
    let mut known = true;
    match expr {
        Expression::Object(o) => {
            for (k, v) in o.iter() {
                let key = match k {
                    ObjectKey::Ident(i) => Some(i.as_str().to_string()),
                    ObjectKey::Expression(e) => m
                        .eval_in(file, e, scope)
                        .ok()
                        .and_then(|v| v.as_known_str().map(str::to_string)),
                };
                let Some(key) = key else {
                    known = false;
                    continue;
                };
                let value = m.eval_in(file, v.expr(), scope).ok();
                let span = value_span(m, file, v.expr(), value.as_ref());
                let value = value.and_then(|v| v.to_str()).filter(|s| !s.has_unknown());
                out.push(Annotation {
                    key: Spanned::new(
                        key,
                        m.user_span(Span::new(file, k.span().unwrap_or(0..0)), None),
                    ),
                    value: value.map(|s| Spanned::new(s, span)),
                });
            }
        }
        other => match m.eval_in(file, other, scope) {
            Ok(Value::Map(map)) => {
                let span = m.user_span(expr_span(file, other), None);
                for (k, v) in map {
                    let value = v.to_str().filter(|s| !s.has_unknown());
                    out.push(Annotation {
                        key: Spanned::new(k, span),
                        value: value.map(|s| {
                            let at = m.user_span(span, s.origin);
                            Spanned::new(s, at)
                        }),
                    });
                }
            }
            Ok(Value::Null) => {}
            _ => known = false,
        },
    }
    (out, known)
}

/// The `local-exec` commands of a resource that annotate or install ServiceAccounts.
fn local_exec_commands<'a>(m: &Module<'a>, res: &Resource<'a>, unit: &str, facts: &mut Facts) {
    let provisioners: Vec<&Block> = res
        .block
        .body
        .blocks()
        .filter(|b| {
            b.ident.as_str() == "provisioner"
                && b.labels.first().map(|l| l.as_str()) == Some("local-exec")
        })
        .collect();
    if provisioners.is_empty() {
        return;
    }
    let Some(instances) = m.instances(res) else {
        return;
    };
    for (key, scope) in instances {
        let resource = address(m, res, &key);
        for provisioner in &provisioners {
            let Some(a) = provisioner.body.get_attribute("command") else {
                continue;
            };
            let Ok(Value::String(text)) = m.eval_in(res.file, &a.value, &scope) else {
                continue;
            };
            let span = m.user_span(expr_span(res.file, &a.value), None);
            // The source shows the command only where the span is the user's own.
            let source = (span.file == res.file && !m.is_model)
                .then(|| m.source_text(res.file))
                .flatten()
                .and_then(|t| t.get(span.start as usize..span.end as usize));
            let command = super::commands::Command {
                text: &text,
                span,
                source,
                resource: &resource,
                unit,
            };
            let before = facts.service_accounts.len();
            super::commands::facts(&command, facts);
            for sa in &mut facts.service_accounts[before..] {
                sa.when = m.gates_of(res);
            }
        }
    }
}

/// `aws_eks_addon`: the add-on's own ServiceAccount, with the role given to it
/// (`service_account_role_arn`) as its role, and its Pod Identity associations.
fn eks_addons<'a>(m: &Module<'a>, res: &Resource<'a>, unit: &str, facts: &mut Facts) {
    let Some(instances) = m.instances(res) else {
        facts.hidden_service_accounts = true;
        return;
    };
    for (key, scope) in instances {
        let name = set_string(m, res, &scope, "addon_name")
            .and_then(|(v, span)| Some(Spanned::new(v.as_known_str()?.to_string(), span)));
        // In a model (the eks module's `cluster_addons`), the lines the user wrote for this
        // add-on's entry.
        let entry = |attr: &str| match &key {
            InstanceKey::Key(k) => m.input_entry_span(k, attr),
            _ => None,
        };
        let role_set = set_string(m, res, &scope, "service_account_role_arn");
        let role_is_set = role_set.is_some();
        let role_arn = role_set.and_then(|(v, span)| {
            let s = v.as_str()?.clone();
            let span = entry("service_account_role_arn").unwrap_or(span);
            (!s.has_unknown()).then(|| Spanned::new(s, span))
        });
        // A role given but unknown is an annotation irsa-lint cannot read.
        let annotations_known = role_arn.is_some() || !role_is_set;
        let address = address(m, res, &key);
        let at = m.user_span(res.label_span(), None);
        let association_at = entry("pod_identity_association").unwrap_or(at);
        // The version the add-on is pinned to; a data source (the newest for the cluster's
        // Kubernetes version) is unknown.
        let version = set_string(m, res, &scope, "addon_version").and_then(|(v, span)| {
            let span = entry("addon_version").unwrap_or(span);
            Some(Spanned::new(v.as_known_str()?.to_string(), span))
        });
        let before = facts.service_accounts.len();
        addons::service_account(name.as_ref(), at, role_arn, &address, unit, facts);
        for sa in &mut facts.service_accounts[before..] {
            sa.when = m.gates_of(res);
            sa.annotations_known = annotations_known;
            sa.addon_version = addons::version(name.as_ref(), version.as_ref());
        }
        let mut known = true;
        let associations = expand_blocks(
            m,
            &res.block.body,
            "pod_identity_association",
            &scope,
            &mut known,
        );
        for (block, scope) in associations {
            let value = |name: &str| {
                let a = block.body.get_attribute(name)?;
                let v = m.eval_in(res.file, &a.value, &scope).ok()?;
                let span = value_span(m, res.file, &a.value, Some(&v));
                Some((v, span))
            };
            let (Some(addon), Some((service_account, sa_span))) = (
                name.as_ref().and_then(|n| addons::find(&n.value)),
                value("service_account"),
            ) else {
                continue;
            };
            let Some(service_account) = service_account.as_known_str() else {
                continue;
            };
            let role_arn = value("role_arn").and_then(|(v, span)| {
                let s = v.as_str()?.clone();
                (!s.has_unknown()).then(|| Spanned::new(s, span))
            });
            facts.pod_identities.push(PodIdentityAssociation {
                when: m.gates_of(res),
                address: format!("{address}.pod_identity_association"),
                unit: unit.to_string(),
                span: association_at,
                namespace: Spanned::new(addon.namespace.to_string(), sa_span),
                service_account: Spanned::new(service_account.to_string(), sa_span),
                role_arn,
            });
        }
    }
}

fn pod_identities<'a>(m: &Module<'a>, res: &Resource<'a>, unit: &str, facts: &mut Facts) {
    let Some(instances) = m.instances(res) else {
        return;
    };
    for (key, scope) in instances {
        let text = |name: &str| -> Option<Spanned<String>> {
            let (v, span) = set_string(m, res, &scope, name)?;
            Some(Spanned::new(v.as_known_str()?.to_string(), span))
        };
        let (Some(namespace), Some(service_account)) = (text("namespace"), text("service_account"))
        else {
            continue;
        };
        let role_arn = set_string(m, res, &scope, "role_arn").and_then(|(v, span)| {
            let s = v.as_str()?.clone();
            (!s.has_unknown()).then(|| Spanned::new(s, span))
        });
        facts.pod_identities.push(PodIdentityAssociation {
            when: m.gates_of(res),
            address: address(m, res, &key),
            unit: unit.to_string(),
            span: m.user_span(res.label_span(), None),
            namespace,
            service_account,
            role_arn,
        });
    }
}

/// `irsa_lint_addon_role` is a pseudo-resource of the built-in models: the role the model
/// builds for an add-on, and the add-on's own ServiceAccount.
fn addon_roles<'a>(m: &Module<'a>, res: &Resource<'a>, facts: &mut Facts) {
    let Some(instances) = m.instances(res) else {
        return;
    };
    for (_, scope) in instances {
        let text = |name: &str| {
            set_string(m, res, &scope, name).and_then(|(v, _)| v.as_known_str().map(str::to_string))
        };
        let (Some(role), Some(addon), Some(flag), Some(namespace), Some(service_account)) = (
            text("role_address"),
            text("addon"),
            text("flag"),
            text("namespace"),
            text("service_account"),
        ) else {
            continue;
        };
        // The role is the module's own, extracted before its add-on roles.
        let role_address = format!("{}{role}", m.address);
        let Some((role, _)) = facts
            .roles_with_ids()
            .find(|(_, r)| r.address == role_address)
        else {
            continue;
        };
        facts.addon_roles.push(AddonRole {
            role,
            addon,
            span: m
                .input_span(&flag)
                .unwrap_or_else(|| m.user_span(res.label_span(), None)),
            flag,
            namespace,
            service_account,
            when: m.gates_of(res),
        });
    }
}

/// Whether the module may annotate a ServiceAccount out of sight: a `kubernetes_annotations`
/// resource whose kind is not provably another one, or a `local-exec` provisioner whose
/// command runs `kubectl annotate` or `patch` on a ServiceAccount or names the role-arn key.
fn annotates_service_accounts(m: &Module<'_>) -> bool {
    let annotations_resource = m
        .resources_of("kubernetes_annotations", false)
        .iter()
        .any(|r| {
            let kind = r
                .block
                .body
                .get_attribute("kind")
                .and_then(|a| m.eval_in(r.file, &a.value, &Scope::default()).ok());
            kind.as_ref()
                .and_then(Value::as_known_str)
                .is_none_or(|k| k == "ServiceAccount")
        });
    if annotations_resource {
        return true;
    }
    m.files.iter().any(|(_, body, text)| {
        body.blocks()
            .filter(|b| b.ident.as_str() == "resource")
            .flat_map(|b| b.body.blocks())
            .filter(|p| {
                p.ident.as_str() == "provisioner"
                    && p.labels.first().map(|l| l.as_str()) == Some("local-exec")
            })
            .filter_map(|p| p.body.get_attribute("command"))
            .filter_map(|a| a.value.span().and_then(|r| text.get(r)))
            .any(|command| {
                let command = command.to_ascii_lowercase();
                let on_service_account = ["serviceaccount", " sa ", " sa/", "sa/"]
                    .iter()
                    .any(|w| command.contains(w));
                command.contains("role-arn")
                    || (on_service_account
                        && (command.contains("annotate") || command.contains("patch")))
            })
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
