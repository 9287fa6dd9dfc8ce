//! Disabled-by-default configuration, checked as if enabled.
//!
//! Real modules gate add-ons behind flags that default to false (`count = var.enable_x ? 1 :
//! 0`). A root module is evaluated as written, then, when something had no instance, again
//! with every such flag left at its default taken as on (`Module::what_if_enabled`). What the
//! second evaluation adds, and only that, joins the facts, each naming the flags it needs
//! (`when`). The what-if world is used only when it is the written one plus additions: if
//! turning the flags on changes or removes anything that exists (a flag that also switches
//! something off), nothing is added.

use foldhash::{HashMap, HashMapExt};

use super::{Facts, RoleId};

/// The facts of the written configuration, with what the enabled one adds.
pub fn merge(written: Facts, enabled: Facts) -> Facts {
    match additions(&written, enabled) {
        Some(merged) => merged,
        None => written,
    }
}

/// `enabled` with every item the written configuration also has replaced by the written one,
/// or `None` when something written is missing from it.
fn additions(written: &Facts, mut enabled: Facts) -> Option<Facts> {
    /// Keeps, in order, what `enabled` shares with `written` (as written) and what only it
    /// has when gated; returns where each enabled item went.
    fn take<T: Clone>(
        written: &[T],
        enabled: &mut Vec<T>,
        key: impl Fn(&T) -> String,
        gated: impl Fn(&T) -> bool,
    ) -> Option<Vec<Option<usize>>> {
        let mut left: HashMap<String, Vec<&T>> = HashMap::new();
        for item in written {
            left.entry(key(item)).or_default().push(item);
        }
        let mut kept = Vec::with_capacity(enabled.len());
        let mut moved = Vec::with_capacity(enabled.len());
        for item in enabled.drain(..) {
            let place = match left.get_mut(&key(&item)).and_then(Vec::pop) {
                Some(same) => Some(same.clone()),
                // What only the enabled configuration has must say which flags it needs.
                None if gated(&item) => Some(item),
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
    fn unflagged<T: Clone + std::fmt::Debug>(item: &T, clear: impl Fn(&mut T)) -> String {
        let mut item = item.clone();
        clear(&mut item);
        format!("{item:?}")
    }
    let roles = take(
        &written.roles,
        &mut enabled.roles,
        |r| unflagged(r, |r| r.when.clear()),
        |r| !r.when.is_empty(),
    )?;
    take(
        &written.service_accounts,
        &mut enabled.service_accounts,
        |sa| unflagged(sa, |sa| sa.when.clear()),
        |sa| !sa.when.is_empty(),
    )?;
    take(
        &written.pod_identities,
        &mut enabled.pod_identities,
        |a| unflagged(a, |a| a.when.clear()),
        |a| !a.when.is_empty(),
    )?;
    take(
        &written.helm_releases,
        &mut enabled.helm_releases,
        |r| unflagged(r, |r| r.when.clear()),
        |r| !r.when.is_empty(),
    )?;
    // Providers and clusters an add-on flag does not create: the written ones must all be
    // there, and nothing new is taken (a provider does not depend on an add-on).
    take(
        &written.providers,
        &mut enabled.providers,
        |p| format!("{p:?}"),
        |_| false,
    )?;
    take(
        &written.clusters,
        &mut enabled.clusters,
        |c| format!("{c:?}"),
        |_| false,
    )?;
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
