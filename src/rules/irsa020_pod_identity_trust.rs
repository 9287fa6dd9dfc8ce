//! IRSA020 pod-identity-trust: a role used by a Pod Identity association does not trust
//! `pods.eks.amazonaws.com` with `sts:AssumeRole` and `sts:TagSession`.

use crate::aws::arn::RoleArn;
use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::value::Tri;
use crate::facts::{Effect, Role, Statement};
use crate::link::LintContext;
use crate::rules::RuleMeta;
use crate::text::glob_match;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA020",
    name: "pod-identity-trust",
    default_level: Level::Error,
    summary: "a role used by a Pod Identity association does not trust pods.eks.amazonaws.com with sts:AssumeRole and sts:TagSession",
    doc: include_str!("../../rules/IRSA020.md"),
};

pub use crate::facts::POD_IDENTITY_SERVICE;

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for (assoc_id, assoc) in ctx.facts.associations_with_ids() {
        let Some(role_arn) = &assoc.role_arn else {
            continue;
        };
        let Some(arn) = RoleArn::parse(&role_arn.value) else {
            continue;
        };
        let roles = ctx.association_roles(assoc_id);
        if roles.is_empty() || !roles.iter().all(|(_, r)| trusts_pod_identity(r) == Tri::No) {
            continue;
        }
        let (role_id, role) = roles[0];
        out.push(
            Diagnostic::new(
                &RULE,
                Label::new(role_arn.span, "role used for Pod Identity"),
                format!(
                    "Pod Identity association for {}/{} uses role {}, which does not trust {POD_IDENTITY_SERVICE} with sts:AssumeRole and sts:TagSession",
                    assoc.namespace.value,
                    assoc.service_account.value,
                    arn.name.display()
                ),
            )
            .related(role.name_span, format!("role {}", arn.name.display()))
            .help(format!(
                "add a trust statement: Allow, Principal {{ Service = \"{POD_IDENTITY_SERVICE}\" }}, Action [\"sts:AssumeRole\", \"sts:TagSession\"]"
            )).in_module(&role.module)
                .when(&role.when)
            .about_association(assoc_id)
            .when(&assoc.when)
            .about_role(role_id));
    }
}

/// Whether some Allow statement trusts the Pod Identity service with both actions.
pub fn trusts_pod_identity(role: &Role) -> Tri {
    let Some(trust) = &role.trust else {
        return Tri::Unknown;
    };
    let mut result = Tri::No;
    for s in &trust.statements {
        match statement_trusts(s) {
            Tri::Yes => return Tri::Yes,
            Tri::Unknown => result = Tri::Unknown,
            Tri::No => {}
        }
    }
    if result == Tri::No && !trust.complete {
        return Tri::Unknown;
    }
    result
}

fn statement_trusts(s: &Statement) -> Tri {
    let (Some(effect), Some(services), Some(actions)) = (s.effect, &s.services, &s.actions) else {
        return Tri::Unknown;
    };
    if effect != Effect::Allow {
        return Tri::No;
    }
    let service = services.iter().map(|v| {
        v.value
            .equals(&crate::eval::value::Str::lit(POD_IDENTITY_SERVICE))
    });
    let service = service.fold(Tri::No, |acc, t| match (acc, t) {
        (Tri::Yes, _) | (_, Tri::Yes) => Tri::Yes,
        (Tri::Unknown, _) | (_, Tri::Unknown) => Tri::Unknown,
        _ => Tri::No,
    });
    if service != Tri::Yes {
        return service;
    }
    let allows = |action: &str| -> Tri {
        let mut r = Tri::No;
        for a in actions {
            match a.value.as_known() {
                Some(p) if glob_match(&p.to_ascii_lowercase(), &action.to_ascii_lowercase()) => {
                    return Tri::Yes;
                }
                Some(_) => {}
                None => r = Tri::Unknown,
            }
        }
        r
    };
    match (allows("sts:AssumeRole"), allows("sts:TagSession")) {
        (Tri::Yes, Tri::Yes) => Tri::Yes,
        (Tri::No, _) | (_, Tri::No) => Tri::No,
        _ => Tri::Unknown,
    }
}
