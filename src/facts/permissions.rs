//! Permission policies that reach roles: `aws_iam_role_policy_attachment`,
//! `aws_iam_policy_attachment`, `aws_iam_role_policy`, and a role's own `inline_policy` and
//! `managed_policy_arns`. An attachment whose role cannot be told may reach any role of its
//! root module, and a module irsa-lint cannot follow may attach anything: both are recorded
//! with no role, so that no rule concludes what a role of that unit lacks.

use hcl_edit::expr::{Expression, TraversalOperator};

use super::policy::PolicyReader;
use super::{AttachedPolicy, Facts, RolePolicy, Spanned};
use crate::eval::module::{InstanceKey, Module, Resource, Scope};
use crate::eval::value::{Str, Value};
use crate::source::Span;

/// Every policy attachment of one module (not of the modules it calls).
pub fn extract(m: &Module<'_>, unit: &str, facts: &mut Facts) {
    if m.is_model {
        // A registry module's model does not hold the policies it attaches; the IAM role
        // modules' one `attach_*_policy` flag is known by name, anything else is unknown.
        let policy = module_flag(m).unwrap_or(AttachedPolicy::Unknown);
        for res in m.resources_of("aws_iam_role", false) {
            for_each_role(m, res, unit, facts, |_| vec![policy.clone()]);
        }
        return;
    }
    for name in m.module_call_names() {
        module_policy_arns(m, name, unit, facts);
    }
    for res in m.resources_of("aws_iam_role_policy_attachment", false) {
        attachments(m, res, unit, "role", facts, |m, scope| {
            let a = res.block.body.get_attribute("policy_arn")?;
            Some(policy_by_arn(m, res.file, &a.value, scope))
        });
    }
    for res in m.resources_of("aws_iam_policy_attachment", false) {
        attachments(m, res, unit, "roles", facts, |m, scope| {
            let a = res.block.body.get_attribute("policy_arn")?;
            Some(policy_by_arn(m, res.file, &a.value, scope))
        });
    }
    for res in m.resources_of("aws_iam_role_policy", false) {
        attachments(m, res, unit, "role", facts, |m, scope| {
            let a = res.block.body.get_attribute("policy")?;
            Some(document(m, res.file, &a.value, scope))
        });
    }
    for res in m.resources_of("aws_iam_role", false) {
        own_policies(m, res, unit, facts);
    }
}

/// A role's own `inline_policy` blocks and `managed_policy_arns`, per instance: each a
/// policy of the role. A `dynamic "inline_policy"` or a list that is not written out is
/// unknown.
fn own_policies<'a>(m: &Module<'a>, res: &Resource<'a>, unit: &str, facts: &mut Facts) {
    let body = &res.block.body;
    let managed = body.get_attribute("managed_policy_arns");
    let inline: Vec<_> = body.get_blocks("inline_policy").collect();
    let dynamic = body.get_blocks("dynamic").any(|b| {
        b.labels
            .first()
            .is_some_and(|l| l.as_str() == "inline_policy")
    });
    if managed.is_none() && inline.is_empty() && !dynamic {
        return;
    }
    for_each_role(m, res, unit, facts, |scope| {
        let mut policies = Vec::new();
        if dynamic {
            policies.push(AttachedPolicy::Unknown);
        }
        // An `inline_policy {}` with no policy removes the role's inline policies: nothing.
        for block in &inline {
            if let Some(a) = block.body.get_attribute("policy") {
                policies.push(document(m, res.file, &a.value, scope));
            }
        }
        if let Some(a) = managed {
            match &a.value {
                Expression::Array(items) => {
                    policies.extend(items.iter().map(|e| policy_by_arn(m, res.file, e, scope)))
                }
                _ => policies.push(AttachedPolicy::Unknown),
            }
        }
        policies
    });
}

/// The one `attach_*_policy` flag a terraform-aws-modules/iam IRSA role module is called
/// with, when it is the only policy the module attaches.
fn module_flag(m: &Module<'_>) -> Option<AttachedPolicy> {
    let (source, version) = m.registry_call.as_ref()?;
    if !is_iam_role_module(source) {
        return None;
    }
    let mut on = Vec::new();
    for input in m.input_names() {
        if input.starts_with("attach_") && input.ends_with("_policy") {
            match m.variable(input).ok()? {
                Value::Bool(true) => on.push(input),
                Value::Bool(false) | Value::Null => {}
                _ => return None,
            }
        } else if input.contains("polic") && !CALLER_READS.contains(&input) {
            // Inline policies, policy statements: not read.
            return None;
        }
    }
    let [flag] = on.as_slice() else {
        // No flag: the policies are the caller's `role_policy_arns` (read there).
        return on.is_empty().then_some(AttachedPolicy::None);
    };
    let span = m.input_span(flag)?;
    let exact = version
        .as_deref()
        .map(|v| v.trim().trim_start_matches('=').trim());
    Some(AttachedPolicy::ModuleFlag {
        flag: Spanned::new(flag.to_string(), span),
        module_version: exact.map(str::to_string),
    })
}

/// Inputs of the IAM role modules that hold no policy, or whose policies the caller's side
/// reads (`role_policy_arns`, v6 `policies`).
const CALLER_READS: &[&str] = &[
    "role_policy_arns",
    "policies",
    "number_of_role_policy_arns",
    "role_permissions_boundary_arn",
    "permissions_boundary",
    "policy_name_prefix",
    "policy_name",
    "policy_path",
    "policy_description",
    "force_detach_policies",
];

/// terraform-aws-modules/iam's IRSA role modules, whose models irsa-lint has.
fn is_iam_role_module(source: &str) -> bool {
    source.contains("terraform-aws-modules/iam/aws//modules/")
        && [
            "iam-role-for-service-accounts",
            "iam-assumable-role-with-oidc",
            "iam-role",
        ]
        .iter()
        .any(|m| source.contains(m))
}

/// The policies a call of an IAM role module attaches by ARN (`role_policy_arns`, v6
/// `policies`), attached to the roles of its instances.
fn module_policy_arns<'a>(m: &Module<'a>, name: &str, unit: &str, facts: &mut Facts) {
    let Some((file, block)) = m.module_call(name) else {
        return;
    };
    let source = block
        .body
        .get_attribute("source")
        .and_then(|a| m.eval_in(file, &a.value, &Scope::default()).ok())
        .and_then(|v| v.as_known_str().map(str::to_string));
    if !source.as_deref().is_some_and(is_iam_role_module) {
        return;
    }
    let Some(instances) = m.module_instances(name) else {
        return;
    };
    let span = m.user_span(
        Span::new(file, crate::eval::module::block_range(block)),
        None,
    );
    for attr in ["role_policy_arns", "policies"] {
        let Some(a) = block.body.get_attribute(attr) else {
            continue;
        };
        let elements: Option<Vec<&Expression>> = match &a.value {
            Expression::Array(items) => Some(items.iter().collect()),
            Expression::Object(o) => Some(o.iter().map(|(_, v)| v.expr()).collect()),
            _ => None,
        };
        let policies: Vec<AttachedPolicy> = match elements {
            Some(elements) => elements
                .into_iter()
                .map(|e| policy_by_arn(m, file, e, &Scope::default()))
                .collect(),
            None => vec![AttachedPolicy::Unknown],
        };
        for (_, child) in instances.iter() {
            for res in child.resources_of("aws_iam_role", false) {
                let Some(roles) = child.instances(res) else {
                    continue;
                };
                for (key, scope) in roles {
                    let address = format!("{}{}{}", child.address, res.address(), key.suffix());
                    let role = child.role_name(res, &scope, &address).ok();
                    for policy in &policies {
                        facts.role_policies.push(RolePolicy {
                            unit: unit.to_string(),
                            role: role.clone(),
                            policy: policy.clone(),
                            span,
                        });
                    }
                }
            }
        }
    }
}

/// Every instance of a role, with the policies `policies` gives in its scope.
fn for_each_role<'a>(
    m: &Module<'a>,
    res: &Resource<'a>,
    unit: &str,
    facts: &mut Facts,
    policies: impl Fn(&Scope) -> Vec<AttachedPolicy>,
) {
    let span = m.user_span(res.label_span(), None);
    let Some(instances) = m.instances(res) else {
        return;
    };
    for (key, scope) in instances {
        let address = format!("{}{}{}", m.address, res.address(), key.suffix());
        let role = m.role_name(res, &scope, &address).ok();
        for policy in policies(&scope) {
            facts.role_policies.push(RolePolicy {
                unit: unit.to_string(),
                role: role.clone(),
                policy,
                span,
            });
        }
    }
}

/// An attachment's role (or roles) and policy, per instance.
fn attachments<'a>(
    m: &Module<'a>,
    res: &Resource<'a>,
    unit: &str,
    role_attr: &str,
    facts: &mut Facts,
    policy: impl Fn(&Module<'a>, &Scope) -> Option<AttachedPolicy>,
) {
    let span = m.user_span(res.label_span(), None);
    let unknown = |facts: &mut Facts| {
        facts.role_policies.push(RolePolicy {
            unit: unit.to_string(),
            role: None,
            policy: AttachedPolicy::Unknown,
            span,
        })
    };
    let Some(instances) = m.instances(res) else {
        unknown(facts);
        return;
    };
    for (_, scope) in instances {
        let roles = res
            .block
            .body
            .get_attribute(role_attr)
            .and_then(|a| m.eval_in(res.file, &a.value, &scope).ok());
        let roles: Option<Vec<Str>> = match roles {
            Some(Value::String(s)) => Some(vec![s]),
            Some(Value::List(l)) => l.iter().map(|v| v.as_str().cloned()).collect(),
            Some(Value::Null) => Some(Vec::new()),
            _ => None,
        };
        let roles = roles.filter(|r| r.iter().all(|s| !s.has_unknown()));
        let Some(roles) = roles else {
            unknown(facts);
            continue;
        };
        let policy = policy(m, &scope).unwrap_or(AttachedPolicy::Unknown);
        for role in roles {
            facts.role_policies.push(RolePolicy {
                unit: unit.to_string(),
                role: Some(role),
                policy: policy.clone(),
                span,
            });
        }
    }
}

/// A policy named by its ARN: an `aws_iam_policy` of this module, or a fixed ARN (an AWS
/// managed policy).
fn policy_by_arn<'a>(
    m: &Module<'a>,
    file: crate::source::FileId,
    expr: &'a Expression,
    scope: &Scope,
) -> AttachedPolicy {
    if let Some(p) = policy_resource(m, expr, scope) {
        return p;
    }
    match m.eval_in(file, expr, scope) {
        Ok(Value::String(s)) if !s.has_unknown() => {
            let span = m.user_span(super::policy::expr_span(file, expr), s.origin);
            AttachedPolicy::Managed(Spanned::new(s, span))
        }
        _ => AttachedPolicy::Unknown,
    }
}

/// `aws_iam_policy.<name>.arn` (or `[key]`): that policy's document.
fn policy_resource<'a>(
    m: &Module<'a>,
    expr: &'a Expression,
    scope: &Scope,
) -> Option<AttachedPolicy> {
    let Expression::Traversal(t) = expr else {
        return None;
    };
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    if root.as_str() != "aws_iam_policy" {
        return None;
    }
    let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
    let (name, index, attr) = match ops.as_slice() {
        [TraversalOperator::GetAttr(n), TraversalOperator::GetAttr(a)] => (n, None, a),
        [
            TraversalOperator::GetAttr(n),
            TraversalOperator::Index(i),
            TraversalOperator::GetAttr(a),
        ] => (n, Some(i), a),
        _ => return Some(AttachedPolicy::Unknown),
    };
    if !matches!(attr.as_str(), "arn" | "id") {
        return Some(AttachedPolicy::Unknown);
    }
    let Some(policy) = m.resource("aws_iam_policy", name.as_str()) else {
        return Some(AttachedPolicy::Unknown);
    };
    let Some(instances) = m.instances(policy) else {
        return Some(AttachedPolicy::Unknown);
    };
    let scope_of = match index {
        None if instances.len() == 1 => instances.into_iter().next().map(|(_, s)| s),
        None => None,
        Some(i) => {
            let wanted = match m.eval(i, scope).ok()? {
                Value::Number(n) => InstanceKey::Index(n as usize),
                v => InstanceKey::Key(v.as_known_str()?.to_string()),
            };
            instances
                .into_iter()
                .find(|(k, _)| *k == wanted)
                .map(|(_, s)| s)
        }
    };
    let (Some(policy_scope), Some(attr)) = (scope_of, policy.block.body.get_attribute("policy"))
    else {
        return Some(AttachedPolicy::Unknown);
    };
    Some(document(m, policy.file, &attr.value, &policy_scope))
}

fn document<'a>(
    m: &Module<'a>,
    file: crate::source::FileId,
    expr: &'a Expression,
    scope: &Scope,
) -> AttachedPolicy {
    // Syntax errors in a permission policy are not this reader's to report.
    let mut reader = PolicyReader::new(m);
    match reader.read(file, expr, scope) {
        Some(p) => AttachedPolicy::document(p),
        None => AttachedPolicy::Unknown,
    }
}
