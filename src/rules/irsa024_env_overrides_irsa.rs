//! IRSA024 env-overrides-irsa: a container of a pod whose ServiceAccount uses IRSA sets AWS
//! credential variables itself, which the webhook keeps or the SDK prefers over the role.

use crate::aws::arn::RoleArn;
use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::value::{Part, Str};
use crate::facts::{ROLE_ARN_KEY, ServiceAccount, Spanned, Workload};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA024",
    name: "env-overrides-irsa",
    default_level: Level::Warning,
    summary: "a container sets AWS credential variables that override its ServiceAccount's IRSA role",
    doc: include_str!("../../rules/IRSA024.md"),
};

/// Variables the webhook injects; when a container sets either, it injects neither.
const WEBHOOK_VARIABLES: &[&str] = &["AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"];
/// Static keys, which every AWS SDK reads before the web identity token.
const STATIC_KEY_VARIABLES: &[&str] = &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];

fn diagnostic(
    w: &Workload,
    variable: &Spanned<String>,
    sa: &ServiceAccount,
    role_arn: &Spanned<Str>,
) -> Diagnostic {
    let name = &variable.value;
    let role = RoleArn::parse(&role_arn.value)
        .map_or_else(|| role_arn.value.display(), |arn| arn.name.display());
    let (workload, sa_name) = (workload_name(w), sa.qualified_name());
    let (label, message, help) = if STATIC_KEY_VARIABLES.contains(&name.as_str()) {
        (
            "static keys win over the role",
            format!(
                "environment variable {name} set by {workload} takes precedence over role {role} of service account {sa_name}"
            ),
            format!(
                "remove {}, and grant what the keys allowed to role {role}",
                STATIC_KEY_VARIABLES.join(" and ")
            ),
        )
    } else {
        (
            "the webhook injects nothing into a container that sets this",
            format!(
                "environment variable {name} set by {workload} stops the webhook from injecting role {role} of service account {sa_name}"
            ),
            format!(
                "remove {name}; the webhook sets AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE from the ServiceAccount's {ROLE_ARN_KEY} annotation, and a value written here goes stale when that changes"
            ),
        )
    };
    Diagnostic::new(&RULE, Label::new(variable.span, label), message)
        .related(
            role_arn.span,
            format!("service account {sa_name} uses role {role} through IRSA"),
        )
        .help(help)
}

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    for w in &ctx.facts.workloads {
        let overriding: Vec<_> = w
            .env
            .iter()
            .filter(|v| is_credential_variable(&v.value))
            .collect();
        if overriding.is_empty() {
            continue;
        }
        let Some((sa, role_arn)) = irsa_service_account(ctx, w) else {
            continue;
        };
        for variable in overriding {
            out.push(diagnostic(w, variable, sa, role_arn));
        }
    }
}

fn is_credential_variable(name: &str) -> bool {
    WEBHOOK_VARIABLES.contains(&name) || STATIC_KEY_VARIABLES.contains(&name)
}

/// The ServiceAccount the workload runs as and its role-arn annotation, when it provably uses
/// IRSA. A workload without a namespace is applied with `kubectl -n`: it is matched with the
/// ServiceAccounts of its own folder. Definitions in the workload's folder win over others;
/// when several remain, all must use IRSA.
fn irsa_service_account<'a>(
    ctx: &LintContext<'a>,
    w: &Workload,
) -> Option<(&'a ServiceAccount, &'a Spanned<Str>)> {
    let sa_name = w.service_account_name()?;
    let candidates: Vec<&ServiceAccount> = ctx
        .facts
        .service_accounts
        .iter()
        .filter(|sa| sa.name.value == sa_name)
        .filter(|sa| match &w.namespace {
            Some(ns) => sa.namespace.value == ns.value,
            None => sa.unit == w.unit,
        })
        .collect();
    let same_unit: Vec<&ServiceAccount> = candidates
        .iter()
        .copied()
        .filter(|sa| sa.unit == w.unit)
        .collect();
    let chosen = if same_unit.is_empty() {
        candidates
    } else {
        same_unit
    };
    let with_roles: Vec<_> = chosen
        .iter()
        .map(|sa| role_arn(sa).map(|arn| (*sa, arn)))
        .collect::<Option<_>>()?;
    with_roles.into_iter().next()
}

/// The role-arn annotation's value when it surely names a role: an empty value turns IRSA off,
/// and a value that is wholly unknown might render empty.
fn role_arn(sa: &ServiceAccount) -> Option<&Spanned<Str>> {
    let value = sa.annotation(ROLE_ARN_KEY)?.value.as_ref()?;
    let has_text = value
        .value
        .parts()
        .iter()
        .any(|p| matches!(p, Part::Lit(text) if !text.trim().is_empty()));
    has_text.then_some(value)
}

fn workload_name(w: &Workload) -> String {
    match &w.namespace {
        Some(ns) => format!("{} {}/{}", w.kind, ns.value, w.name.value),
        None => format!("{} {}", w.kind, w.name.value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::manifests::{ManifestSyntax, extract_manifests};
    use crate::source::{FileId, SourceMap};

    const SA: &str = "kind: ServiceAccount\nmetadata:\n  name: api\n  namespace: pay\n  \
                      annotations:\n    eks.amazonaws.com/role-arn: ROLE\n---\n";

    fn messages(text: &str) -> Vec<String> {
        let mut sources = SourceMap::default();
        let file = sources.add("k8s/api.yaml".into(), text);
        assert_eq!(file, FileId(0));
        let facts = extract_manifests(file, text, ManifestSyntax::Yaml, "k8s");
        let mut out = Vec::new();
        check(&LintContext::new(&facts, &sources), &mut out);
        out.into_iter().map(|d| d.message).collect()
    }

    fn pod(role: &str, spec: &str) -> String {
        SA.replace("ROLE", role)
            + "kind: Pod\nmetadata:\n  name: p\n  namespace: pay\nspec:\n"
            + spec
    }

    const ENV: &str =
        "  containers:\n  - name: app\n    env:\n    - name: AWS_ROLE_ARN\n      value: x\n";

    #[test]
    fn an_init_container_counts_and_names_the_role() {
        let spec = "  serviceAccountName: api\n  initContainers:\n  - name: init\n    env:\n    \
                    - name: AWS_SECRET_ACCESS_KEY\n      valueFrom: {secretKeyRef: {name: k, key: s}}\n";
        assert_eq!(
            messages(&pod("arn:aws:iam::482910375521:role/pay-api", spec)),
            [
                "environment variable AWS_SECRET_ACCESS_KEY set by Pod pay/p takes precedence over role pay-api of service account pay/api"
            ]
        );
    }

    #[test]
    fn a_role_that_may_be_empty_or_a_service_account_that_is_unknown_is_silent() {
        let named = format!("  serviceAccountName: api\n{ENV}");
        assert!(messages(&pod("''", &named)).is_empty());
        assert!(messages(&pod("${ROLE_ARN}", &named)).is_empty());
        assert_eq!(
            messages(&pod("arn:aws:iam::${ACCOUNT_ID}:role/pay-api", &named)).len(),
            1
        );
        let placeholder = format!("  serviceAccountName: ${{SA_NAME}}\n{ENV}");
        assert!(messages(&pod("arn:aws:iam::482910375521:role/pay-api", &placeholder)).is_empty());
        // No serviceAccountName: the pod runs as `default`, which has no role here.
        assert!(messages(&pod("arn:aws:iam::482910375521:role/pay-api", ENV)).is_empty());
    }
}
