//! IRSA013 annotation-key-typo: an annotation key is a near miss of an IRSA key.

use crate::diagnostic::{Diagnostic, Label, Level};
use crate::facts::{
    AUDIENCE_KEY, Annotation, Origin, REGIONAL_STS_KEY, ROLE_ARN_KEY, TOKEN_EXPIRATION_KEY,
};
use crate::link::LintContext;
use crate::rules::RuleMeta;
use crate::text::edit_distance;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA013",
    name: "annotation-key-typo",
    default_level: Level::Error,
    summary: "an annotation key is a near miss of an eks.amazonaws.com IRSA key and is ignored",
    doc: include_str!("../../rules/IRSA013.md"),
};

const IRSA_KEYS: &[&str] = &[
    ROLE_ARN_KEY,
    AUDIENCE_KEY,
    REGIONAL_STS_KEY,
    TOKEN_EXPIRATION_KEY,
];
const DOMAIN: &str = "eks.amazonaws.com";

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for (sa_id, sa) in ctx.facts.service_accounts_with_ids() {
        for a in &sa.annotations {
            let Some(intended) = intended_key(&a.key.value) else {
                continue;
            };
            if sa.annotation(intended).is_some() {
                continue; // the right key is there too; the near miss is inert
            }
            let owner = format!("service account {}", sa.qualified_name());
            out.push(diagnostic(a, intended, owner, sa.origin).about_service_account(sa_id));
        }
    }
    for w in &ctx.facts.workloads {
        for a in &w.annotations {
            // The exact role-arn key on a workload is IRSA021's finding, not a typo.
            if let Some(intended) = intended_key(&a.key.value) {
                out.push(diagnostic(
                    a,
                    intended,
                    format!("{} {}", w.kind, w.name.value),
                    Origin::Manifest,
                ));
            }
        }
    }
}

fn diagnostic(a: &Annotation, intended: &str, owner: String, origin: Origin) -> Diagnostic {
    let mut d = Diagnostic::new(
        &RULE,
        Label::new(a.key.span, format!("did you mean {intended}?")),
        format!(
            "annotation {} of {owner} is not an IRSA annotation, so the webhook ignores it",
            a.key.value
        ),
    )
    .help(format!("did you mean `{intended}`?"));
    if origin == Origin::Manifest {
        d = d.fix(a.key.span, intended);
    }
    d
}

/// The IRSA key an annotation key was meant to be, when it is a near miss of one.
pub fn intended_key(key: &str) -> Option<&'static str> {
    if IRSA_KEYS.contains(&key) {
        return None;
    }
    let (domain, name) = key.rsplit_once('/')?;
    let domain_close = domain == DOMAIN
        || edit_distance(&domain.to_ascii_lowercase(), DOMAIN) <= 3
        || domain.to_ascii_lowercase().starts_with("eks.amazon");
    if !domain_close {
        return None;
    }
    IRSA_KEYS.iter().copied().find(|k| {
        let want = &k[DOMAIN.len() + 1..];
        normalize(name) == normalize(want) || edit_distance(&name.to_ascii_lowercase(), want) <= 2
    })
}

fn normalize(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '/')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::intended_key;

    #[test]
    fn near_misses_are_found_and_real_keys_are_not() {
        assert_eq!(
            intended_key("eks.amazon.com/role-arn"),
            Some("eks.amazonaws.com/role-arn")
        );
        assert_eq!(
            intended_key("eks.amazonaws.com/role_arn"),
            Some("eks.amazonaws.com/role-arn")
        );
        assert_eq!(
            intended_key("eks.amazonaws.com/rolearn"),
            Some("eks.amazonaws.com/role-arn")
        );
        assert_eq!(
            intended_key("eks.amazonaws.com/audiences"),
            Some("eks.amazonaws.com/audience")
        );
        assert_eq!(intended_key("eks.amazonaws.com/role-arn"), None);
        assert_eq!(intended_key("eks.amazonaws.com/compute-type"), None);
        assert_eq!(intended_key("eks.amazonaws.com/skip-containers"), None);
        assert_eq!(intended_key("iam.amazonaws.com/role"), None);
        assert_eq!(intended_key("meta.helm.sh/release-name"), None);
    }
}
