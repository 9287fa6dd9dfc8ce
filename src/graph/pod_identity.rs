//! Chains of ServiceAccounts a Pod Identity association gives a role. There is no OIDC
//! provider: the role trusts the Pod Identity service (`pods.eks.amazonaws.com`), which
//! takes the provider's place. The association's cluster is not among the facts, so that
//! last link is unknown.

use super::findings::{Findings, POD_IDENTITY_TRUST_RULES};
use super::irsa::role_node;
use super::{Chain, Link, Node, NodeKind, Tail, Unresolved, node};
use crate::aws::arn::RoleArn;
use crate::eval::value::{Str, Tri};
use crate::facts::{POD_IDENTITY_SERVICE, PodIdentityAssociation, Role};
use crate::link::LintContext;
use crate::rules::irsa020_pod_identity_trust::trusts_pod_identity;

pub fn chains(ctx: &LintContext, findings: &Findings, out: &mut Vec<Chain>) {
    for (id, assoc) in ctx.facts.associations_with_ids() {
        let sa_node = service_account_node(ctx, assoc);
        let Some(role_arn) = &assoc.role_arn else {
            out.push(Chain::unresolved(sa_node, None, Unresolved::NotEvaluated));
            continue;
        };
        let roles = ctx.association_roles(id);
        if roles.is_empty() {
            let name = RoleArn::parse(&role_arn.value)
                .map_or_else(|| role_arn.value.display(), |arn| arn.name.display());
            let label = format!("{name} (not in the scan)");
            let role = node(ctx, NodeKind::Role, label, role_arn.span);
            out.push(Chain::unresolved(
                sa_node,
                Some(role),
                Unresolved::NotInScan,
            ));
            continue;
        }
        let broken = findings.within(role_arn.span, POD_IDENTITY_TRUST_RULES);
        for (_, role) in roles {
            let to_provider = match broken {
                Some(rule) => Link::Broken(rule),
                None if trusts_pod_identity(role) == Tri::Yes => Link::Ok,
                None => Link::Unknown,
            };
            // The association names the ServiceAccount: the role's trust admits the Pod
            // Identity service, not a subject.
            let tail = Tail {
                to_trust: Link::Ok,
                provider: service_node(ctx, role),
                to_provider,
                ..Tail::UNKNOWN
            };
            out.push(Chain::new(
                sa_node.clone(),
                Some(role_node(ctx, role)),
                Link::Ok,
                tail,
            ));
        }
    }
}

/// The ServiceAccount's own definition when the scan has one, else where the association
/// names it.
fn service_account_node(ctx: &LintContext, assoc: &PodIdentityAssociation) -> Node {
    let label = format!("{}/{}", assoc.namespace.value, assoc.service_account.value);
    let defined = ctx.facts.service_accounts.iter().find(|sa| {
        sa.namespace.value == assoc.namespace.value && sa.name.value == assoc.service_account.value
    });
    let span = defined.map_or(assoc.service_account.span, |sa| sa.name.span);
    node(ctx, NodeKind::ServiceAccount, label, span)
}

/// The Pod Identity service as the role's trust names it; the trust policy itself when it
/// does not name the service.
fn service_node(ctx: &LintContext, role: &Role) -> Option<Node> {
    let trust = role.trust.as_ref()?;
    let service = Str::lit(POD_IDENTITY_SERVICE);
    let named = trust
        .statements
        .iter()
        .flat_map(|s| s.services.iter().flatten())
        .find(|s| s.value.equals(&service) == Tri::Yes);
    let span = named.map_or(trust.span, |s| s.span);
    Some(node(ctx, NodeKind::PodIdentity, POD_IDENTITY_SERVICE, span))
}
