//! Disabled-by-default configuration, checked as if enabled.
//!
//! Real modules gate add-ons behind flags that default to false (`count = var.enable_x ? 1 :
//! 0`). A root module is evaluated as written, then, when something had no instance, again
//! with every such flag left at its default taken as on (`Module::what_if_enabled`). What the
//! second evaluation adds, and only that, joins the facts, each naming the flags it needs
//! (`when`). The what-if world is used only when it is the written one plus additions: if
//! turning the flags on changes or removes anything that exists (a flag that also switches
//! something off), nothing is added. When the flags all lie in the modules the root calls,
//! only those module instances are evaluated again ([`merge_by_calls`]).

use foldhash::{HashMap, HashMapExt};

use super::terraform::{Call, extract};
use super::{
    Cluster, Facts, HelmRelease, OidcProvider, PodIdentityAssociation, Role, RoleId, ServiceAccount,
};
use crate::eval::module::Module;
use crate::source::Span;

/// The facts of the written configuration, with what the enabled one adds.
pub fn merge(written: Facts, enabled: Facts) -> Facts {
    match additions(&written, enabled) {
        Some(merged) => merged,
        None => written,
    }
}

/// [`merge`] for a root module whose flags all lie in the modules it calls, each evaluated
/// again alone: what a what-if evaluation of the whole root would give, without evaluating
/// the root's own resources twice (they are most of a root that installs charts).
///
/// Each module instance the root calls (`calls`, from [`extract_placed`]) is made again as
/// if its flags were on ([`Module::what_if_instances`]), and what it adds joins in its
/// place. That is the whole root's what-if evaluation when the root's own values are the
/// same in both: none of its own variables is a flag left off ([`Module::flips_gates`]),
/// and every output it read of a module instance is the same in the instance made again
/// (all of them kept: none read while two calls waited on each other). Otherwise it
/// changes nothing and answers false: the whole root is to be evaluated again.
pub fn merge_by_calls<'a>(
    root: &Module<'a>,
    unit: &str,
    facts: &mut Facts,
    calls: &[Call<'a>],
) -> bool {
    if root.flips_gates() || root.read_provisional_instances() {
        return false;
    }
    let world = root.what_if_world();
    let mut twins = Vec::with_capacity(calls.len());
    for (at, call) in calls.iter().enumerate() {
        if at > 0 && calls[at - 1].name == call.name {
            continue;
        }
        match root.what_if_instances(call.name, &world) {
            Some(made) => twins.extend(made),
            None => return false,
        }
    }
    // The same instances, in the same order, giving the root what they gave it.
    let same = twins.len() == calls.len()
        && (calls.iter().zip(&twins))
            .all(|(call, (key, twin))| call.key == *key && call.module.same_outputs_read(twin));
    if !same {
        return false;
    }
    let mut merged = Vec::with_capacity(calls.len());
    for (call, (_, twin)) in calls.iter().zip(&twins) {
        let enabled = extract(twin, unit);
        // As for the whole root: a what-if evaluation cut short adds nothing.
        if world.cut() {
            return true;
        }
        let Some(written) = facts.part_cloned(call.before, call.part) else {
            return false;
        };
        match additions(&written, enabled) {
            Some(facts) => merged.push(facts),
            // Something written is missing when the flags are on: nothing is added.
            None => return true,
        }
    }
    // A flag an addition raises (a ServiceAccount out of sight) is the run's: the whole
    // root's evaluation says which.
    if (calls.iter().zip(&mut merged)).any(|(call, facts)| facts.part().hidden != call.part.hidden)
    {
        return false;
    }
    // From the last, so that the places of those before stay where they were.
    for (call, merged) in calls.iter().zip(merged).rev() {
        let replaced = facts.replace_part(call.before, call.part, merged);
        debug_assert!(
            replaced.is_some(),
            "a module instance's facts not where recorded"
        );
    }
    true
}

/// `enabled` with every item the written configuration also has replaced by the written one,
/// or `None` when something written is missing from it.
fn additions(written: &Facts, mut enabled: Facts) -> Option<Facts> {
    /// Keeps, in order, what `enabled` shares with `written` (as written) and what only it
    /// has when gated; returns where each enabled item went. Items are compared without
    /// the flags they need, among the written ones declared at the same place.
    fn take<T: Gated>(written: &[T], enabled: &mut Vec<T>) -> Option<Vec<Option<usize>>> {
        let mut left: HashMap<Span, Vec<&T>> = HashMap::new();
        for item in written {
            left.entry(item.place()).or_default().push(item);
        }
        let mut kept = Vec::with_capacity(enabled.len());
        let mut moved = Vec::with_capacity(enabled.len());
        for mut item in enabled.drain(..) {
            let flags = item.flags_mut().map(std::mem::take).unwrap_or_default();
            let same = left.get_mut(&item.place()).and_then(|written| {
                let at = written.iter().rposition(|w| match w.flags() {
                    [] => **w == item,
                    // Flags of a written item: from a what-if evaluation of its own.
                    _ => {
                        let mut w = (*w).clone();
                        if let Some(flags) = w.flags_mut() {
                            flags.clear();
                        }
                        w == item
                    }
                })?;
                Some(written.remove(at))
            });
            let place = match same {
                Some(same) => Some(same.clone()),
                // What only the enabled configuration has must say which flags it needs.
                None if !flags.is_empty() => {
                    if let Some(when) = item.flags_mut() {
                        *when = flags;
                    }
                    Some(item)
                }
                None => None,
            };
            moved.push(place.map(|item| {
                kept.push(item);
                kept.len() - 1
            }));
        }
        *enabled = kept;
        left.values().all(Vec::is_empty).then_some(moved)
    }
    let roles = take(&written.roles, &mut enabled.roles)?;
    take(&written.service_accounts, &mut enabled.service_accounts)?;
    take(&written.pod_identities, &mut enabled.pod_identities)?;
    take(&written.helm_releases, &mut enabled.helm_releases)?;
    // Providers and clusters an add-on flag does not create: the written ones must all be
    // there, and nothing new is taken (a provider does not depend on an add-on).
    take(&written.providers, &mut enabled.providers)?;
    take(&written.clusters, &mut enabled.clusters)?;
    // An add-on role is kept when written, or when the flags that make its role exist are
    // the flags that make it one. A flag turned on inside a module that builds the role
    // anyway (`attach_ebs_csi_policy` of an IAM module) says what the flag would do, not
    // what the configuration is: the role as written is for something else.
    let addon_roles = std::mem::take(&mut enabled.addon_roles);
    enabled.addon_roles = addon_roles
        .into_iter()
        .filter_map(|mut a| {
            let role = RoleId(roles[a.role.0 as usize]? as u32);
            let role_facts = &enabled.roles[role.0 as usize];
            let as_written = written
                .addon_roles
                .iter()
                .any(|w| written.role(w.role).address == role_facts.address && w.flag == a.flag);
            let made_with_its_role = !role_facts.when.is_empty()
                && a.when.iter().all(|flag| role_facts.when.contains(flag));
            a.role = role;
            if as_written {
                a.when.clear();
            }
            (as_written || made_with_its_role).then_some(a)
        })
        .collect();
    enabled.workloads = written.workloads.clone();
    enabled.unresolved_service_accounts = written.unresolved_service_accounts.clone();
    enabled.parse_errors = written.parse_errors.clone();
    enabled.limits_hit = written.limits_hit.clone();
    enabled.hidden_service_accounts |= written.hidden_service_accounts;
    enabled.hidden_roles |= written.hidden_roles;
    Some(enabled)
}

/// Something a what-if evaluation may add, with the flags it needs to exist.
trait Gated: Clone + PartialEq {
    /// Where it is declared: the written item it may be is declared there too.
    fn place(&self) -> Span;
    /// The flags it needs (`when`): none for what no flag creates.
    fn flags(&self) -> &[String] {
        &[]
    }
    fn flags_mut(&mut self) -> Option<&mut Vec<String>> {
        None
    }
}

/// Items with their `span` and `when`.
macro_rules! gated {
    ($($kind:ty),*) => {$(
        impl Gated for $kind {
            fn place(&self) -> Span {
                self.span
            }
            fn flags(&self) -> &[String] {
                &self.when
            }
            fn flags_mut(&mut self) -> Option<&mut Vec<String>> {
                Some(&mut self.when)
            }
        }
    )*};
}
gated!(Role, ServiceAccount, PodIdentityAssociation, HelmRelease);

impl Gated for OidcProvider {
    fn place(&self) -> Span {
        self.span
    }
}

impl Gated for Cluster {
    fn place(&self) -> Span {
        self.span
    }
}

#[cfg(test)]
mod tests {
    use foldhash::HashMap;

    use super::*;
    use crate::facts::eksctl::extract_cluster_config;
    use crate::facts::tests::CLUSTER;
    use crate::source::FileId;

    /// The roles of two files' configs, as written.
    fn written() -> Facts {
        let mut facts = extract_cluster_config(FileId(0), CLUSTER, "cluster");
        facts.extend(extract_cluster_config(FileId(1), CLUSTER, "cluster"));
        facts
    }

    fn roles(facts: &Facts) -> Vec<(u32, Vec<String>)> {
        (facts.roles.iter())
            .map(|r| (r.span.file.0, r.when.clone()))
            .collect()
    }

    #[test]
    fn what_a_flag_adds_joins_with_the_flag_it_needs() {
        let mut enabled = written();
        let mut gated = extract_cluster_config(FileId(2), CLUSTER, "cluster");
        gated.roles[0].when = vec!["var.enable_api = true".into()];
        enabled.extend(gated);
        // Asked about EKS in one evaluation only: the same statements all the same.
        for role in &enabled.roles {
            for statement in &role.trust.as_ref().unwrap().statements {
                crate::aws::policy::is_eks_statement(statement);
            }
        }
        let merged = merge(written(), enabled);
        assert_eq!(
            roles(&merged),
            [
                (0, vec![]),
                (1, vec![]),
                (2, vec!["var.enable_api = true".to_string()])
            ]
        );
    }

    /// A root calling `modules/irsa`, whose S3 policy is attached only when its flag is on.
    const IRSA_MODULE: &str = r#"
        variable "name" {}
        variable "attach_s3_policy" { default = false }
        resource "aws_iam_role" "this" {
          name = var.name
          assume_role_policy = jsonencode({
            Statement = [{
              Effect    = "Allow"
              Action    = "sts:AssumeRoleWithWebIdentity"
              Principal = { Federated = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE" }
            }]
          })
        }
        resource "aws_iam_role_policy_attachment" "s3" {
          count      = var.attach_s3_policy ? 1 : 0
          role       = aws_iam_role.this.name
          policy_arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
        }
        output "role_name" { value = aws_iam_role.this.name }
        output "policy_count" { value = var.attach_s3_policy ? 1 : 0 }
    "#;

    /// What the root's what-if evaluation merges: by its module calls (`None` when that
    /// cannot tell), and of the whole root.
    fn both_merges(root: &str) -> (Option<String>, String) {
        let ws = crate::eval::tests::workspace(&[
            ("root", &[root]),
            ("root/modules/irsa", &[IRSA_MODULE]),
        ]);
        let dir = &ws.dirs[&std::path::PathBuf::from("root")];
        let module = Module::root(&ws, dir, HashMap::new());
        let mut calls = Vec::new();
        let written = super::super::terraform::extract_placed(&module, "root", &mut calls);
        assert!(module.saw_no_instances());
        let mut by_calls = written.clone();
        let by_calls = merge_by_calls(&module, "root", &mut by_calls, &calls).then_some(by_calls);
        let mut enabled = Module::root(&ws, dir, HashMap::new());
        enabled.what_if_enabled();
        let whole = merge(written, extract(&enabled, "root"));
        let text = |facts: &Facts| format!("{:?} {:?}", facts.roles, facts.role_policies);
        (by_calls.map(|f| text(&f)), text(&whole))
    }

    #[test]
    fn flags_of_called_modules_alone_are_evaluated_again_alone() {
        let root = r#"
            module "ledger" {
              source = "./modules/irsa"
              name   = "ledger-api"
            }
            resource "aws_iam_role_policy" "ledger_queue" {
              role   = module.ledger.role_name
              policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "sqs:*", Resource = "*" }] })
            }
        "#;
        let (by_calls, whole) = both_merges(root);
        assert_eq!(by_calls, Some(whole.clone()));
        assert!(whole.contains("AmazonS3ReadOnlyAccess"));
    }

    #[test]
    fn a_flag_the_root_sees_is_left_to_the_whole_root() {
        // The root reads an output the flag changes: its own role is then another, so the
        // flag adds nothing (see `a_flag_that_changes_what_is_written_adds_nothing`).
        let reads_flagged_output = r#"
            module "ledger" {
              source = "./modules/irsa"
              name   = "ledger-api"
            }
            resource "aws_iam_role" "audit" {
              name               = "ledger-audit-${module.ledger.policy_count}"
              assume_role_policy = "{}"
            }
        "#;
        let (by_calls, whole) = both_merges(reads_flagged_output);
        assert_eq!(by_calls, None);
        assert!(!whole.contains("AmazonS3ReadOnlyAccess"));
        // A flag of the root's own.
        let own_flag = r#"
            variable "audit" { default = false }
            module "ledger" {
              source = "./modules/irsa"
              name   = "ledger-api"
            }
            resource "aws_iam_role" "audit" {
              count = var.audit ? 1 : 0
              name  = "ledger-audit"
              assume_role_policy = "{}"
            }
        "#;
        let (by_calls, whole) = both_merges(own_flag);
        assert_eq!(by_calls, None);
        assert!(whole.contains("ledger-audit"));
    }

    #[test]
    fn a_flag_that_changes_what_is_written_adds_nothing() {
        let mut enabled = written();
        let mut gated = extract_cluster_config(FileId(2), CLUSTER, "cluster");
        gated.roles[0].when = vec!["var.enable_api = true".into()];
        enabled.extend(gated);
        enabled.roles[1].path = None;
        assert_eq!(
            roles(&merge(written(), enabled)),
            [(0, vec![]), (1, vec![])]
        );
        // Nor one that removes it.
        let mut enabled = written();
        enabled.roles.pop();
        assert_eq!(
            roles(&merge(written(), enabled)),
            [(0, vec![]), (1, vec![])]
        );
    }
}
