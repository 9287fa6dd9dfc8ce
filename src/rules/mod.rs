//! The rule registry: one module per rule, listed once, in id order.
//!
//! A rule is pure: it reads the linked facts in [`LintContext`] and pushes diagnostics. It
//! does no IO, renders nothing and never panics on odd input. Each rule's documentation lives
//! in `rules/<ID>.md` and is embedded here, so `explain`, SARIF and LSP hover print one text.

use crate::diagnostic::Diagnostic;
pub use crate::diagnostic::RuleMeta;
use crate::link::LintContext;

pub struct Rule {
    pub meta: &'static RuleMeta,
    pub check: fn(&LintContext, &mut Vec<Diagnostic>),
    /// What its findings depend on. The language server keeps the findings of rules that
    /// read only the infrastructure while an edit changes only manifests' objects.
    pub reads: Reads,
}

/// The facts a rule's findings depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// Anything.
    All,
    /// Roles, OIDC providers, clusters, policies and the texts they are written in: no
    /// ServiceAccount, workload, link or syntax error. Checked against every fixture by
    /// `infrastructure_rules_read_no_manifest_object`.
    Infrastructure,
}

pub mod irsa000_parse_error;
pub mod irsa001_role_not_found;
pub mod irsa002_account_mismatch;
pub mod irsa003_trust_subject_mismatch;
pub mod irsa004_audience_mismatch;
pub mod irsa005_issuer_mismatch;
pub mod irsa006_condition_key_has_scheme;
pub mod irsa007_wildcard_with_string_equals;
pub mod irsa008_web_identity_action_missing;
pub mod irsa009_subject_unrestricted;
pub mod irsa010_oidc_provider_not_declared;
pub mod irsa011_role_path_mismatch;
pub mod irsa012_invalid_role_arn;
pub mod irsa013_annotation_key_typo;
pub mod irsa014_invalid_annotation_value;
pub mod irsa015_trust_subject_without_service_account;
pub mod irsa016_workload_service_account_elsewhere;
pub mod irsa017_partition_mismatch;
pub mod irsa018_conflicting_service_account;
pub mod irsa019_irsa_and_pod_identity;
pub mod irsa020_pod_identity_trust;
pub mod irsa021_role_arn_on_workload;
pub mod irsa022_generated_role_name_hardcoded;
pub mod irsa023_pod_identity_role_in_annotation;
pub mod irsa024_env_overrides_irsa;
pub mod irsa025_audience_condition_missing;
pub mod irsa026_chart_ignores_annotation;
pub mod irsa027_addon_service_account_mismatch;
pub mod irsa028_invalid_suppression;
pub mod irsa029_invalid_provider_arn;
pub mod irsa030_controller_policy_outdated;
pub mod irsa031_impossible_trust_subject;
pub mod irsa032_role_not_attached;
#[cfg(test)]
pub mod tester;

/// Builds [`RULES`] from the rule modules, each of which has a `RULE` and a `check`.
/// A rule marked `(infrastructure)` reads only [`Reads::Infrastructure`].
macro_rules! rule_table {
    (@reads) => { Reads::All };
    (@reads infrastructure) => { Reads::Infrastructure };
    ($($module:ident $(($reads:ident))?),* $(,)?) => {
        /// Every rule, in id order.
        pub static RULES: &[Rule] = &[
            $(Rule {
                meta: &$module::RULE,
                check: $module::check,
                reads: rule_table!(@reads $($reads)?),
            },)*
        ];
    };
}

rule_table! {
    irsa000_parse_error,
    irsa001_role_not_found,
    irsa002_account_mismatch,
    irsa003_trust_subject_mismatch,
    irsa004_audience_mismatch,
    irsa005_issuer_mismatch (infrastructure),
    irsa006_condition_key_has_scheme (infrastructure),
    irsa007_wildcard_with_string_equals (infrastructure),
    irsa008_web_identity_action_missing (infrastructure),
    irsa009_subject_unrestricted (infrastructure),
    irsa010_oidc_provider_not_declared (infrastructure),
    irsa011_role_path_mismatch,
    irsa012_invalid_role_arn,
    irsa013_annotation_key_typo,
    irsa014_invalid_annotation_value,
    irsa015_trust_subject_without_service_account,
    irsa016_workload_service_account_elsewhere,
    irsa017_partition_mismatch,
    irsa018_conflicting_service_account,
    irsa019_irsa_and_pod_identity,
    irsa020_pod_identity_trust,
    irsa021_role_arn_on_workload,
    irsa022_generated_role_name_hardcoded,
    irsa023_pod_identity_role_in_annotation,
    irsa024_env_overrides_irsa,
    irsa025_audience_condition_missing (infrastructure),
    irsa026_chart_ignores_annotation,
    irsa027_addon_service_account_mismatch,
    irsa028_invalid_suppression,
    irsa029_invalid_provider_arn (infrastructure),
    irsa030_controller_policy_outdated,
    irsa031_impossible_trust_subject,
    irsa032_role_not_attached,
}

/// Find a rule by id (`IRSA003`, any case) or name (`trust-subject-mismatch`).
pub fn find(id_or_name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| {
        r.meta.id.eq_ignore_ascii_case(id_or_name) || r.meta.name.eq_ignore_ascii_case(id_or_name)
    })
}

/// The rule id (`IRSA003`) or name closest to a mistyped one, spelled as the rule spells it,
/// for "did you mean".
pub fn suggest(id_or_name: &str) -> Option<&'static str> {
    let query = id_or_name.to_ascii_lowercase();
    let ids: Vec<String> = RULES
        .iter()
        .map(|r| r.meta.id.to_ascii_lowercase())
        .collect();
    let names = RULES.iter().map(|r| r.meta.name);
    let near = crate::text::closest(&query, names.chain(ids.iter().map(String::as_str)))?;
    let rule = find(near)?;
    Some(if near == rule.meta.name {
        rule.meta.name
    } else {
        rule.meta.id
    })
}

/// Run every rule over the linked facts.
pub fn run_all(ctx: &LintContext) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for rule in RULES {
        (rule.check)(ctx, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Settings, analyze};

    /// What the language server's patches rely on: a rule marked `(infrastructure)` finds
    /// the same with every ServiceAccount, workload and syntax error gone, in every fixture.
    #[test]
    fn infrastructure_rules_read_no_manifest_object() {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut cases = 0;
        let mut found = 0;
        for rule_dir in std::fs::read_dir(&fixtures).unwrap() {
            for case in std::fs::read_dir(rule_dir.unwrap().path()).unwrap() {
                let case = case.unwrap().path();
                if !case.is_dir() {
                    continue;
                }
                let settings = Settings {
                    paths: vec![case.clone()],
                    ..Settings::default()
                };
                let analysis = analyze(&settings).unwrap();
                let mut bare = analysis.facts.clone();
                bare.service_accounts.clear();
                bare.workloads.clear();
                bare.parse_errors.clear();
                let full = LintContext::new(&analysis.facts, &analysis.sources);
                let without = LintContext::new(&bare, &analysis.sources);
                for rule in RULES.iter().filter(|r| r.reads == Reads::Infrastructure) {
                    let (mut a, mut b) = (Vec::new(), Vec::new());
                    (rule.check)(&full, &mut a);
                    (rule.check)(&without, &mut b);
                    assert_eq!(a, b, "{} in {}", rule.meta.id, case.display());
                    found += a.len();
                }
                cases += 1;
            }
        }
        assert!(cases > 350 && found > 20, "{cases} cases, {found} findings");
    }
}
