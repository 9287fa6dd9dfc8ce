//! IRSA004 audience-mismatch: the ServiceAccount's token audience is not admitted by the trust
//! policy's `:aud` condition, or is not in the OIDC provider's client_id_list.

use crate::aws::policy::{Admission, allows_web_identity, statement_admits};
use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::value::Tri;
use crate::facts::{
    AUDIENCE_KEY, DEFAULT_AUDIENCE, OidcProvider, Role, RoleId, ServiceAccount, Spanned,
};
use crate::link::{LintContext, SaLink};
use crate::rules::RuleMeta;
use crate::source::Span;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA004",
    name: "audience-mismatch",
    default_level: Level::Error,
    summary: "the ServiceAccount's token audience is not admitted by the trust policy or the OIDC provider",
    doc: include_str!("../../rules/IRSA004.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for link in &ctx.sa_links {
        let roles = ctx.linked_roles(link);
        if roles.is_empty() {
            continue;
        }
        let sa = ctx.service_account(link);
        let annotation = sa.annotation(AUDIENCE_KEY);
        let (audience, audience_span) = match annotation {
            Some(a) => match a
                .value
                .as_ref()
                .and_then(|v| Some((v.value.as_known()?, v.span)))
            {
                Some((v, span)) => (v, Some(span)),
                None => continue,
            },
            None => (DEFAULT_AUDIENCE, None),
        };
        let subject = &link.subject;
        if let Some(d) = trust_rejects(&roles, link, audience, audience_span, subject, sa) {
            out.push(about(d, link, &roles));
        } else if let Some(d) = provider_rejects(ctx, &roles, audience, audience_span, subject, sa)
        {
            out.push(about(d, link, &roles));
        }
    }
}

/// The finding is about the ServiceAccount and the role it assumes.
fn about(d: Diagnostic, link: &SaLink, roles: &[(RoleId, &Role)]) -> Diagnostic {
    let (id, role) = roles[0];
    d.in_module(&role.module)
        .when(&role.when)
        .about_service_account(link.sa)
        .about_role(id)
}

fn trust_rejects(
    roles: &[(RoleId, &Role)],
    link: &SaLink,
    audience: &str,
    audience_span: Option<Span>,
    subject: &str,
    sa: &ServiceAccount,
) -> Option<Diagnostic> {
    let mut values: Vec<&Spanned<crate::eval::value::Str>> = Vec::new();
    for (_, role) in roles {
        match role.admits("aud", audience, Some(subject)) {
            Admission::Rejected(v) if !v.is_empty() => values.extend(v),
            _ => return None,
        }
    }
    let (primary, related) = match audience_span {
        Some(span) => (
            Label::new(span, format!("audience {audience}")),
            values.as_slice(),
        ),
        None => (
            Label::new(values[0].span, "does not admit the default audience"),
            &values[1..],
        ),
    };
    let admitted: Vec<String> = values.iter().map(|v| v.value.display()).collect();
    let mut d = Diagnostic::new(
        &RULE,
        primary,
        format!(
            "service account {} requests tokens for audience {audience}, but the trust policy of role {} only admits {}",
            sa.qualified_name(),
            link.arn.name.display(),
            admitted.join(", ")
        ),
    )
    .help(if audience_span.is_some() {
        format!("use an audience the trust policy admits ({}), or admit {audience} in the `:aud` condition", admitted.join(", "))
    } else {
        format!("without an {AUDIENCE_KEY} annotation the token audience is {DEFAULT_AUDIENCE}: admit it in the `:aud` condition")
    });
    for v in related {
        d = d.related(
            v.span,
            format!("trust policy admits audience {}", v.value.display()),
        );
    }
    Some(d)
}

fn provider_rejects(
    ctx: &LintContext,
    roles: &[(RoleId, &Role)],
    audience: &str,
    audience_span: Option<Span>,
    subject: &str,
    sa: &ServiceAccount,
) -> Option<Diagnostic> {
    let mut rejecting: Vec<&OidcProvider> = Vec::new();
    for (_, role) in roles {
        for s in &role.trust.as_ref()?.statements {
            if allows_web_identity(s) != Tri::Yes || statement_admits(s, "sub", subject) != Tri::Yes
            {
                continue;
            }
            for f in s.federated.as_ref()? {
                let providers = ctx.providers_named(&f.value);
                if providers.is_empty() {
                    return None;
                }
                for p in providers {
                    let ids = p.client_ids.as_ref()?;
                    if ids.iter().any(|id| {
                        id.value.equals(&crate::eval::value::Str::lit(audience)) != Tri::No
                    }) {
                        return None;
                    }
                    rejecting.push(p);
                }
            }
        }
    }
    let provider = rejecting.first()?;
    let ids = provider.client_ids.as_ref()?;
    let listed: Vec<String> = ids.iter().map(|i| i.value.display()).collect();
    let provider_span = ids.first().map(|i| i.span).unwrap_or(provider.span);
    let primary = match audience_span {
        Some(span) => Label::new(span, format!("audience {audience}")),
        None => Label::new(provider_span, format!("does not list {audience}")),
    };
    let mut d = Diagnostic::new(
        &RULE,
        primary,
        format!(
            "service account {} requests tokens for audience {audience}, which OIDC provider {} does not accept (client_id_list: {})",
            sa.qualified_name(),
            provider.address,
            listed.join(", ")
        ),
    )
    .help(format!("add {audience} to the provider's client_id_list, or use an audience it lists"));
    if audience_span.is_some() {
        d = d.related(
            provider_span,
            format!("client_id_list of {}", provider.address),
        );
    }
    Some(d)
}
