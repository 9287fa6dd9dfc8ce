//! Chains of ServiceAccounts with an `eks.amazonaws.com/role-arn` annotation: the role the
//! annotation names, the OIDC provider the role's trust policy names, the provider's cluster.

use rayon::prelude::*;

use foldhash::{HashMap, HashMapExt};

use super::findings::{
    ANNOTATION_RULES, CONTROLLER_RULES, Findings, PRINCIPAL_RULES, SUBJECT_RULES,
};
use super::{
    Chain, Link, Node, NodeKind, Tail, Unresolved, cluster_of_issuer, cluster_of_provider, node,
};
use crate::aws::arn::{RoleArn, federated_issuer, role_arn_problem};
use crate::aws::policy::{Admission, allows_web_identity, statement_admits};
use crate::eval::value::Str;
use crate::eval::value::Tri;
use crate::facts::{Effect, ROLE_ARN_KEY, Role, RoleId, RoleName, SaId, ServiceAccount, Spanned};
use crate::link::{LintContext, SaLink};
use crate::rules::irsa030_controller_policy_outdated as irsa030;

/// Each ServiceAccount's chains, made side by side and folded as they are made: `fold` takes
/// one ServiceAccount's chains into an accumulator, `reduce` joins two accumulators.
pub fn fold<T: Send>(
    ctx: &LintContext,
    findings: &Findings,
    identity: impl Fn() -> T + Sync + Send,
    fold: impl Fn(T, Vec<Chain>) -> T + Sync + Send,
    reduce: impl Fn(T, T) -> T + Sync + Send,
) -> T {
    let controllers = controllers(ctx, findings);
    ctx.facts
        .service_accounts_with_ids()
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|(sa_id, sa)| {
            let mut chains = Vec::new();
            service_account_chains(ctx, findings, sa_id, sa, &mut chains);
            for chain in &mut chains {
                chain.controller = controllers.get(&sa_id).cloned();
            }
            chains
        })
        .fold(&identity, &fold)
        .reduce(&identity, &reduce)
}

/// The known controller each ServiceAccount runs, and its policy's state: broken only where
/// IRSA030 reported it, ok where the policy provably fits.
fn controllers(ctx: &LintContext, findings: &Findings) -> HashMap<SaId, (String, Link)> {
    let mut out = HashMap::new();
    for e in irsa030::verdicts(ctx) {
        let link = match e.fits {
            Some(true) => Link::Ok,
            Some(false) => findings
                .about(e.service_account, CONTROLLER_RULES)
                .map_or(Link::Unknown, Link::Broken),
            None => Link::Unknown,
        };
        // Of several (a Deployment and an add-on), the first broken one.
        out.entry(e.service_account)
            .and_modify(|(_, l): &mut (String, Link)| *l = l.and(link))
            .or_insert((e.controller.clone(), link));
    }
    out
}

fn service_account_chains(
    ctx: &LintContext,
    findings: &Findings,
    sa_id: SaId,
    sa: &ServiceAccount,
    out: &mut Vec<Chain>,
) {
    let Some(annotation) = sa.annotation(ROLE_ARN_KEY) else {
        return;
    };
    let sa_node = node(
        ctx,
        NodeKind::ServiceAccount,
        sa.qualified_name(),
        sa.name.span,
    );
    // A value Terraform cannot evaluate names no role the graph could show.
    let Some(value) = &annotation.value else {
        out.push(Chain::unresolved(sa_node, None, Unresolved::NotEvaluated));
        return;
    };
    let broken = findings.within(value.span, ANNOTATION_RULES);
    let link = ctx.link_of(sa_id);
    let linked = link.map(|l| ctx.linked_roles(l)).unwrap_or_default();
    let to_role = match broken {
        Some(rule) => Link::Broken(rule),
        None if linked.is_empty() => Link::Unknown,
        None => Link::Ok,
    };
    let shown = shown_roles(ctx, link, linked);
    if shown.is_empty() {
        let (role, why) = role_not_scanned(ctx, link, value);
        let mut chain = Chain::new(sa_node, Some(role), to_role, Tail::UNKNOWN);
        chain.unresolved = (to_role == Link::Unknown).then_some(why);
        out.push(chain);
        return;
    }
    for role in shown {
        let role_node = role_node(ctx, role);
        let tail = tail(ctx, findings, sa_id, sa, role);
        let mut chain = Chain::new(sa_node.clone(), Some(role_node), to_role, tail);
        // Roles of that name in another account: not the one the annotation names.
        chain.unresolved = (to_role == Link::Unknown).then_some(Unresolved::NotInScan);
        out.push(chain);
    }
}

/// The roles the annotation is linked to; when none is (its account differs), the roles of
/// that name, so that the broken link points at the role that was probably meant.
fn shown_roles<'a>(
    ctx: &LintContext<'a>,
    link: Option<&SaLink>,
    linked: Vec<(RoleId, &'a Role)>,
) -> Vec<&'a Role> {
    if !linked.is_empty() {
        return linked.into_iter().map(|(_, role)| role).collect();
    }
    link.map(|l| l.roles.iter().map(|&id| ctx.facts.role(id)).collect())
        .unwrap_or_default()
}

/// A role the scan does not define, shown where the annotation names it: by its name when
/// the annotation is a role ARN, else as written; and why it is not known.
fn role_not_scanned(
    ctx: &LintContext,
    link: Option<&SaLink>,
    value: &Spanned<Str>,
) -> (Node, Unresolved) {
    let written = value.value.display();
    let (label, why) = match link
        .map(|l| &l.arn)
        .or(RoleArn::parse(&value.value).as_ref())
    {
        Some(arn) if link.is_some_and(|l| ctx.external_roles.contains(l)) => (
            format!("{} (managed elsewhere)", arn.name.display()),
            Unresolved::External,
        ),
        // A role the scan might hold under a name it cannot evaluate (or in a module or
        // template it cannot read) is not "not in the scan": only not matched.
        Some(arn) if link.is_some_and(|l| l.maybe_other) || ctx.facts.hidden_roles => (
            format!("{} (not matched)", arn.name.display()),
            Unresolved::NotInScan,
        ),
        Some(arn) => (
            format!("{} (not in the scan)", arn.name.display()),
            Unresolved::NotInScan,
        ),
        None if value.value.as_known().and_then(role_arn_problem).is_some() => {
            (format!("{written} (not a role ARN)"), Unresolved::NotInScan)
        }
        None => (
            format!("{written} (known once rendered)"),
            Unresolved::NotEvaluated,
        ),
    };
    (node(ctx, NodeKind::Role, label, value.span), why)
}

pub fn role_node(ctx: &LintContext, role: &Role) -> Node {
    let label = match &role.name {
        RoleName::Exact(name) => name.display(),
        RoleName::Prefix(prefix) => format!("{}<random suffix>", prefix.display()),
        RoleName::Unknown => role.address.clone(),
    };
    node(ctx, NodeKind::Role, label, role.span)
}

/// The provider the role's trust names for this ServiceAccount, and its cluster.
fn tail(
    ctx: &LintContext,
    findings: &Findings,
    sa_id: SaId,
    sa: &ServiceAccount,
    role: &Role,
) -> Tail {
    let principals = trusted_principals(role, &sa.subject());
    let admission = role.admits("sub", &sa.subject(), None);
    // The trust's verdict on this ServiceAccount: its own link, not the provider's.
    let trust_broken = findings
        .against_service_account(sa_id)
        .or_else(|| match &admission {
            // The rejecting subject is one no token carries (IRSA031 reports it, not IRSA003).
            Admission::Rejected(values) => values
                .iter()
                .find_map(|v| findings.within(v.span, SUBJECT_RULES)),
            _ => None,
        });
    let to_trust = match trust_broken {
        Some(rule) => Link::Broken(rule),
        None if matches!(admission, Admission::Admitted) => Link::Ok,
        None => Link::Unknown,
    };
    let principal_broken = principals
        .iter()
        .find_map(|p| findings.within(p.span, PRINCIPAL_RULES));
    let declared = principals
        .iter()
        .find_map(|p| ctx.providers_named(&p.value).into_iter().next());
    if let Some(provider) = declared {
        let (cluster, to_cluster) = cluster_of_provider(ctx, provider);
        return Tail {
            to_trust,
            provider: Some(super::provider_node(ctx, provider)),
            to_provider: principal_broken.map_or(Link::Ok, Link::Broken),
            cluster,
            to_cluster,
        };
    }
    let to_provider = principal_broken.map_or(Link::Unknown, Link::Broken);
    match principals.first() {
        Some(principal) => Tail {
            to_trust,
            ..undeclared_provider_tail(ctx, principal, to_provider)
        },
        None => Tail {
            to_trust,
            to_provider,
            ..Tail::UNKNOWN
        },
    }
}

/// A Federated principal no declared provider matches: shown where the trust policy names
/// it; its issuer may still be a scanned cluster's.
fn undeclared_provider_tail(
    ctx: &LintContext,
    principal: &Spanned<Str>,
    to_provider: Link,
) -> Tail {
    let issuer = federated_issuer(&principal.value);
    let name = issuer
        .as_ref()
        .map_or_else(|| principal.value.display(), Str::display);
    // "Not declared" only when check proved it (IRSA010); an ARN known only after apply, or
    // one the scan cannot match (a provider whose own ARN is unknown), is not evaluated.
    let why = match to_provider {
        Link::Broken("IRSA010") => "not declared",
        Link::Broken(_) => "not an OIDC provider ARN",
        _ if principal.value.as_known().is_none() => "known once applied",
        _ => "not matched",
    };
    let provider = node(
        ctx,
        NodeKind::Provider,
        format!("{name} ({why})"),
        principal.span,
    );
    let (cluster, to_cluster) = match &issuer {
        Some(issuer) => cluster_of_issuer(ctx, issuer),
        None => (None, Link::Unknown),
    };
    Tail {
        provider: Some(provider),
        to_provider,
        cluster,
        to_cluster,
        ..Tail::UNKNOWN
    }
}

/// The Federated principals of the web-identity statements that may admit `subject`; of all
/// web-identity statements when none does, to show which provider the rejecting role trusts.
fn trusted_principals<'r>(role: &'r Role, subject: &str) -> Vec<&'r Spanned<Str>> {
    let Some(trust) = &role.trust else {
        return Vec::new();
    };
    let web_identity: Vec<_> = trust
        .statements
        .iter()
        .filter(|s| s.effect != Some(Effect::Deny) && allows_web_identity(s) != Tri::No)
        .collect();
    let admitting: Vec<_> = web_identity
        .iter()
        .filter(|s| statement_admits(s, "sub", subject) != Tri::No)
        .collect();
    let chosen = if admitting.is_empty() {
        web_identity.iter().collect()
    } else {
        admitting
    };
    chosen
        .into_iter()
        .flat_map(|s| s.federated.iter().flatten())
        .collect()
}
