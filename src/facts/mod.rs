//! Facts: plain data with spans, extracted from Terraform and Kubernetes files.
//!
//! Facts are what the rules read. They know nothing of rules, renderers or LSP, and every
//! fact carries the span the user would look at. A value that could not be evaluated is
//! `None` (unknown) and must never produce a finding.

pub mod addons;
pub mod argo;
pub mod charts;
pub mod commands;
pub mod config_data;
pub mod eksctl;
pub mod enabled;
pub mod flux;
pub mod helm_template;
pub mod kubernetes;
pub mod kustomize;
pub mod local_chart;
pub mod manifests;
pub mod permissions;
pub mod plan;
pub mod policy;
pub mod rendered;
pub mod terraform;

use std::any::Any;
use std::sync::Arc;

use crate::aws::policy::Admission;
use crate::eval::value::Str;
use crate::parse::ParseError;
use crate::source::Span;

// The AWS vocabulary facts are made of, re-exported so that a fact's parts are found with it.
pub use crate::aws::eks::{
    AUDIENCE_KEY, DEFAULT_AUDIENCE, POD_IDENTITY_SERVICE, REGIONAL_STS_KEY, ROLE_ARN_KEY,
    TOKEN_EXPIRATION_KEY,
};
pub use crate::aws::policy::{Condition, Effect, Statement, TrustPolicy};
pub use crate::source::Spanned;

/// Everything extracted from one run, ready for linking.
#[derive(Debug, Default, Clone)]
pub struct Facts {
    pub roles: Vec<Role>,
    pub providers: Vec<OidcProvider>,
    pub clusters: Vec<Cluster>,
    pub service_accounts: Vec<ServiceAccount>,
    pub workloads: Vec<Workload>,
    pub pod_identities: Vec<PodIdentityAssociation>,
    pub addon_roles: Vec<AddonRole>,
    pub helm_releases: Vec<HelmRelease>,
    /// ConfigMaps and Secrets whose data Flux reads (`postBuild.substituteFrom`, a
    /// HelmRelease's `valuesFrom`), from manifests, kustomize generators and Terraform.
    pub config_data: Vec<ConfigData>,
    /// Flux `HelmRelease` objects as written, moved and patched by kustomize on the way; the
    /// engine turns them into ServiceAccounts and `helm_releases` once every view is
    /// rendered (`flux::resolve_releases`), and empties this list.
    pub release_objects: Vec<flux::ReleaseObject>,
    /// Flux chart sources (`OCIRepository`, `HelmChart`), for a HelmRelease's `chartRef`.
    pub chart_sources: Vec<flux::ChartSource>,
    /// Permission policies attached to roles (and attachments whose role is unknown).
    pub role_policies: Vec<RolePolicy>,
    /// ServiceAccounts with a role whose name or namespace is known only once rendered:
    /// not linked, but shown (`graph`) and counted as not checkable.
    pub unresolved_service_accounts: Vec<UnresolvedServiceAccount>,
    pub parse_errors: Vec<ParseError>,
    /// Templates (Jinja, Helm, sed tokens) that are not Terraform or YAML until rendered:
    /// not linted, counted, and listed with `--verbose`.
    pub unread_templates: Vec<ParseError>,
    /// Where a resource limit stopped evaluation; what lies beyond it is unknown.
    pub limits_hit: Vec<ParseError>,
    /// Template files Terraform renders into manifests or Helm values (`templatefile()`):
    /// their objects count only as rendered, not as the files say.
    pub rendered_templates: Vec<crate::source::FileId>,
    /// Some ServiceAccounts exist that could not be seen (Helm templates, unknown names):
    /// "no manifest defines this ServiceAccount" cannot be proven.
    pub hidden_service_accounts: bool,
    /// Some roles exist whose names cannot be seen (created inside modules): "no role of
    /// this name" cannot be proven.
    pub hidden_roles: bool,
    /// Something may annotate ServiceAccounts out of sight (a Terraform `kubernetes_annotations`
    /// of a ServiceAccount, `kubectl annotate` in a provisioner): "this ServiceAccount has no
    /// role-arn annotation" cannot be proven.
    pub hidden_annotations: bool,
    /// Values read from a Terraform plan or state whose configuration is in the scan: the
    /// span facts carry there, and the plan's line, which findings name as related.
    pub plan_origins: Vec<plan::PlanOrigin>,
}

/// A role's place in [`Facts::roles`]. Ids are meaningful only within the facts that made
/// them; [`Facts::extend`] rebases the ids of what it appends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleId(pub u32);

/// A ServiceAccount's place in [`Facts::service_accounts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SaId(pub u32);

/// A Pod Identity association's place in [`Facts::pod_identities`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AssociationId(pub u32);

impl Facts {
    pub fn role(&self, id: RoleId) -> &Role {
        &self.roles[id.0 as usize]
    }

    pub fn service_account(&self, id: SaId) -> &ServiceAccount {
        &self.service_accounts[id.0 as usize]
    }

    pub fn association(&self, id: AssociationId) -> &PodIdentityAssociation {
        &self.pod_identities[id.0 as usize]
    }

    /// Every role with its id.
    pub fn roles_with_ids(&self) -> impl Iterator<Item = (RoleId, &Role)> {
        self.roles
            .iter()
            .enumerate()
            .map(|(i, r)| (RoleId(i as u32), r))
    }

    /// Every ServiceAccount with its id.
    pub fn service_accounts_with_ids(&self) -> impl Iterator<Item = (SaId, &ServiceAccount)> {
        self.service_accounts
            .iter()
            .enumerate()
            .map(|(i, sa)| (SaId(i as u32), sa))
    }

    /// Every Pod Identity association with its id.
    pub fn associations_with_ids(
        &self,
    ) -> impl Iterator<Item = (AssociationId, &PodIdentityAssociation)> {
        self.pod_identities
            .iter()
            .enumerate()
            .map(|(i, a)| (AssociationId(i as u32), a))
    }

    /// The id the next role pushed will have.
    pub fn next_role_id(&self) -> RoleId {
        RoleId(self.roles.len() as u32)
    }

    pub fn extend(&mut self, mut other: Facts) {
        let base = self.roles.len() as u32;
        for addon in &mut other.addon_roles {
            addon.role.0 += base;
        }
        append(&mut self.roles, other.roles);
        append(&mut self.providers, other.providers);
        append(&mut self.clusters, other.clusters);
        append(&mut self.service_accounts, other.service_accounts);
        append(&mut self.workloads, other.workloads);
        append(&mut self.pod_identities, other.pod_identities);
        append(&mut self.addon_roles, other.addon_roles);
        append(&mut self.helm_releases, other.helm_releases);
        append(&mut self.config_data, other.config_data);
        append(&mut self.release_objects, other.release_objects);
        append(&mut self.chart_sources, other.chart_sources);
        append(&mut self.role_policies, other.role_policies);
        append(
            &mut self.unresolved_service_accounts,
            other.unresolved_service_accounts,
        );
        append(&mut self.parse_errors, other.parse_errors);
        append(&mut self.unread_templates, other.unread_templates);
        append(&mut self.limits_hit, other.limits_hit);
        append(&mut self.rendered_templates, other.rendered_templates);
        self.hidden_service_accounts |= other.hidden_service_accounts;
        self.hidden_roles |= other.hidden_roles;
        self.hidden_annotations |= other.hidden_annotations;
        append(&mut self.plan_origins, other.plan_origins);
    }

    /// Facts extended with each of `parts` in turn, every list sized once. Grown by
    /// doubling, a list touches about twice its size in fresh memory, which the kernel
    /// zeroes first: merging a 10,000-service tree's files spent 6% of a check's CPU
    /// there.
    pub fn concat(mut parts: Vec<Facts>) -> Facts {
        // The entries of each list, and how many parts have some: a list only one part
        // has is moved in whole (see `append`).
        let mut lens = [(0, 0); LISTS];
        for part in &mut parts {
            for ((len, parts), (list, _)) in lens.iter_mut().zip(part.lists_mut()) {
                *len += list.len();
                *parts += usize::from(list.len() > 0);
            }
        }
        let mut all = Facts::default();
        for ((list, _), (len, parts)) in all.lists_mut().into_iter().zip(lens) {
            if parts > 1 {
                list.reserve_exact(len);
            }
        }
        for part in parts {
            all.extend(part);
        }
        all
    }

    /// Every list without room to grow, for facts kept long. A list grown from empty has room
    /// for at least four entries: the language server's cache kept a file's one
    /// ServiceAccount, workload and ConfigMap with 2 KB of room, 20 MB at 10,000 services.
    pub fn shrink_to_fit(&mut self) {
        for (list, _) in self.lists_mut() {
            list.shrink_to_fit();
        }
    }

    /// Where these facts lie in facts made by extending parts one after another (see
    /// [`Facts::remove_parts`]): how many entries each list holds, and the flags.
    pub fn part(&mut self) -> Part {
        let mut part = Part {
            lens: [0; LISTS],
            hidden: [
                self.hidden_service_accounts,
                self.hidden_roles,
                self.hidden_annotations,
            ],
        };
        for (len, (list, _)) in part.lens.iter_mut().zip(self.lists_mut()) {
            *len = list.len() as u32;
        }
        part
    }

    /// Take parts out of facts that are exactly `parts` (each with its [`Facts::part`]),
    /// extended one after another: of each part, nothing, its Kubernetes objects (as
    /// [`Facts::drop_objects`]) or all of it. The parts' order is kept, and add-on roles
    /// keep pointing at their roles.
    pub fn remove_parts(&mut self, parts: &[(Part, Removal)]) {
        if parts
            .iter()
            .all(|(_, removal)| *removal == Removal::Nothing)
        {
            return;
        }
        // Where each role that stays moves to, when whole parts with roles go.
        let roles_gone = parts
            .iter()
            .any(|(part, removal)| *removal == Removal::All && part.lens[ROLES] > 0);
        let mut role_moves: Vec<Option<u32>> = Vec::new();
        if roles_gone {
            let mut next = 0;
            for (part, removal) in parts {
                for _ in 0..part.lens[ROLES] {
                    role_moves.push((*removal != Removal::All).then(|| {
                        next += 1;
                        next - 1
                    }));
                }
            }
        }
        for (list_index, (list, object)) in self.lists_mut().into_iter().enumerate() {
            // Each part's entries are next to each other, in the order of the parts; a list
            // is walked once, with what is left of the current part.
            let mut runs = parts.iter().map(|(part, removal)| {
                let keep = match removal {
                    Removal::Nothing => true,
                    Removal::Objects => !object,
                    Removal::All => false,
                };
                (part.lens[list_index], keep)
            });
            let mut run = (0, true);
            list.retain_in_order(&mut || {
                while run.0 == 0 {
                    match runs.next() {
                        Some(next) => run = next,
                        // Past every part: not one of them (never, when the parts are right).
                        None => return true,
                    }
                }
                run.0 -= 1;
                run.1
            });
        }
        if roles_gone {
            self.addon_roles.retain_mut(|addon| {
                match role_moves.get(addon.role.0 as usize).copied().flatten() {
                    Some(to) => {
                        addon.role = RoleId(to);
                        true
                    }
                    None => false,
                }
            });
        }
        let kept = || parts.iter().filter(|(_, removal)| *removal != Removal::All);
        self.hidden_service_accounts = kept().any(|(part, _)| part.hidden[0]);
        self.hidden_roles = kept().any(|(part, _)| part.hidden[1]);
        self.hidden_annotations = kept().any(|(part, _)| part.hidden[2]);
    }

    /// Replace one part of facts extended part after part: the part that starts where
    /// `before` ends and is `old` long becomes `new`, and add-on roles keep pointing at
    /// their roles. The run's flags are every part's, so `new` must raise `old`'s: else
    /// nothing changes and `None` is given. Gives where the new part lies.
    /// `None` too, with nothing changed, when a list is shorter than the parts say.
    pub fn replace_part(&mut self, before: Part, old: Part, mut new: Facts) -> Option<Part> {
        let part = new.part();
        if part.hidden != old.hidden {
            return None;
        }
        let roles_at = before.lens[ROLES];
        for addon in &mut new.addon_roles {
            addon.role.0 += roles_at;
        }
        let (old_roles, new_roles) = (old.lens[ROLES], part.lens[ROLES]);
        let addons_at = before.lens[ADDON_ROLES] as usize;
        let new_addons = addons_at..addons_at + part.lens[ADDON_ROLES] as usize;
        // A list the part has nothing in, before and after, is left alone: later stages may
        // have taken entries out of it before the part's place (HelmRelease objects, once
        // resolved), which moves no entry of the part.
        let touched = |i: usize| old.lens[i] > 0 || part.lens[i] > 0;
        // Every list is checked to hold the part before any changes.
        let fits = |(i, (list, _)): (usize, (&mut dyn List, bool))| {
            !touched(i) || before.lens[i] as usize + old.lens[i] as usize <= list.len()
        };
        if !self.lists_mut().into_iter().enumerate().all(fits) {
            return None;
        }
        let lists = self.lists_mut().into_iter().zip(new.lists_mut());
        for (i, ((list, _), (new_list, _))) in lists.enumerate() {
            if touched(i) {
                list.splice_in(before.lens[i] as usize, old.lens[i] as usize, new_list);
            }
        }
        // The roles of the parts after this one moved by the difference.
        for (i, addon) in self.addon_roles.iter_mut().enumerate() {
            if !new_addons.contains(&i) && addon.role.0 >= roles_at + old_roles {
                addon.role.0 = addon.role.0 - old_roles + new_roles;
            }
        }
        Some(part)
    }

    /// A copy of the part that starts where `before` ends and is `part` long, as it was
    /// before it was extended into these facts; `None` when a list is shorter.
    pub fn part_cloned(&mut self, before: Part, part: Part) -> Option<Facts> {
        let mut copy = Facts::default();
        let lists = self.lists_mut().into_iter().zip(copy.lists_mut());
        for (i, ((list, _), (into, _))) in lists.enumerate() {
            let (at, len) = (before.lens[i] as usize, part.lens[i] as usize);
            if len > 0 && !list.clone_range(at, len, into) {
                return None;
            }
        }
        for addon in &mut copy.addon_roles {
            addon.role.0 -= before.lens[ROLES];
        }
        [
            copy.hidden_service_accounts,
            copy.hidden_roles,
            copy.hidden_annotations,
        ] = part.hidden;
        Some(copy)
    }

    /// Whether only the links and the rules read these facts, and their places in their
    /// lists are all they need: no ConfigMap data (Flux substitutes it), no Flux object, no
    /// template rendered for manifests, no template set apart, no limit hit and no plan.
    /// Parse errors aside: some are set apart from their list later, so a part's place in
    /// it is not kept ([`Part::without_errors`]). Every field is named, so a new list
    /// cannot be forgotten.
    pub fn only_linked(&self) -> bool {
        let Facts {
            roles: _,
            providers: _,
            clusters: _,
            service_accounts: _,
            workloads: _,
            pod_identities: _,
            addon_roles: _,
            helm_releases: _,
            config_data,
            release_objects,
            chart_sources,
            role_policies: _,
            unresolved_service_accounts: _,
            parse_errors: _,
            unread_templates,
            limits_hit,
            rendered_templates,
            hidden_service_accounts: _,
            hidden_roles: _,
            hidden_annotations: _,
            plan_origins,
        } = self;
        config_data.is_empty()
            && release_objects.is_empty()
            && chart_sources.is_empty()
            && unread_templates.is_empty()
            && limits_hit.is_empty()
            && rendered_templates.is_empty()
            && plan_origins.is_empty()
    }

    /// Facts a manifest reader read for one deployment unit, as it reads them for `unit`: a
    /// file's objects, read once, serve each kustomize view that takes the file in.
    pub fn set_unit(&mut self, unit: &str) {
        for sa in &mut self.service_accounts {
            sa.unit = unit.to_owned();
        }
        for workload in &mut self.workloads {
            workload.unit = unit.to_owned();
        }
        for release in &mut self.release_objects {
            release.unit = unit.to_owned();
        }
        for data in &mut self.config_data {
            data.dir = unit.to_owned();
        }
    }

    /// Drop the Kubernetes objects another renderer deploys: ServiceAccounts, workloads,
    /// HelmRelease objects and ServiceAccounts seen only once rendered. ConfigMaps stay, as
    /// objects references may name.
    pub fn drop_objects(&mut self) {
        for (list, object) in self.lists_mut() {
            if object {
                list.retain_in_order(&mut || false);
            }
        }
    }

    /// Every list, and whether it holds Kubernetes objects that a renderer may deploy
    /// instead of the files ([`Facts::drop_objects`]). Every field is named, so a new list
    /// cannot be forgotten.
    fn lists_mut(&mut self) -> [(&mut dyn List, bool); LISTS] {
        let Facts {
            roles,
            providers,
            clusters,
            service_accounts,
            workloads,
            pod_identities,
            addon_roles,
            helm_releases,
            config_data,
            release_objects,
            chart_sources,
            role_policies,
            unresolved_service_accounts,
            parse_errors,
            unread_templates,
            limits_hit,
            rendered_templates,
            hidden_service_accounts: _,
            hidden_roles: _,
            hidden_annotations: _,
            plan_origins,
        } = self;
        // `roles` first: `ROLES` is its place.
        [
            (roles, false),
            (providers, false),
            (clusters, false),
            (service_accounts, true),
            (workloads, true),
            (pod_identities, false),
            (addon_roles, false),
            (helm_releases, false),
            (config_data, false),
            (release_objects, true),
            (chart_sources, false),
            (role_policies, false),
            (unresolved_service_accounts, true),
            (parse_errors, false),
            (unread_templates, false),
            (limits_hit, false),
            (rendered_templates, false),
            (plan_origins, false),
        ]
    }
}

/// How many lists [`Facts`] has.
const LISTS: usize = 18;

/// The places of `roles`, `addon_roles` and `parse_errors` in [`Facts::lists_mut`].
const ROLES: usize = 0;
const ADDON_ROLES: usize = 6;
const PARSE_ERRORS: usize = 13;

/// A list of facts, whatever it holds.
trait List {
    fn len(&self) -> usize;
    /// Keep the entries for which `keep` answers true, asked of each entry once, in order.
    fn retain_in_order(&mut self, keep: &mut dyn FnMut() -> bool);
    /// Replace `remove` entries from `at` with every entry of `new`, a list of the same kind
    /// (the same place in another [`Facts::lists_mut`]).
    fn splice_in(&mut self, at: usize, remove: usize, new: &mut dyn List);
    fn as_any(&mut self) -> &mut dyn Any;
    fn reserve_exact(&mut self, additional: usize);
    fn shrink_to_fit(&mut self);
    /// Append copies of `len` entries from `at` to `into`, a list of the same kind; false
    /// when this list is shorter.
    fn clone_range(&mut self, at: usize, len: usize, into: &mut dyn List) -> bool;
}

impl<T: Clone + 'static> List for Vec<T> {
    fn len(&self) -> usize {
        Vec::len(self)
    }

    fn retain_in_order(&mut self, keep: &mut dyn FnMut() -> bool) {
        // `retain` visits each entry exactly once, in the original order.
        self.retain(|_| keep());
    }

    fn splice_in(&mut self, at: usize, remove: usize, new: &mut dyn List) {
        // Lists of one place in `lists_mut` are of one type: the cast cannot fail.
        if let Some(new) = new.as_any().downcast_mut::<Vec<T>>() {
            self.splice(at..at + remove, new.drain(..));
        }
    }

    fn as_any(&mut self) -> &mut dyn Any {
        self
    }

    fn reserve_exact(&mut self, additional: usize) {
        Vec::reserve_exact(self, additional);
    }

    fn shrink_to_fit(&mut self) {
        Vec::shrink_to_fit(self);
    }

    fn clone_range(&mut self, at: usize, len: usize, into: &mut dyn List) -> bool {
        let (Some(range), Some(into)) = (
            self.get(at..at + len),
            into.as_any().downcast_mut::<Vec<T>>(),
        ) else {
            return false;
        };
        into.extend_from_slice(range);
        true
    }
}

/// Where one part lies in facts extended part after part (see [`Facts::remove_parts`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Part {
    lens: [u32; LISTS],
    /// `hidden_service_accounts`, `hidden_roles`, `hidden_annotations`.
    hidden: [bool; 3],
}

impl Part {
    /// Where what follows `self` and then `next` begins: their lengths added.
    pub fn then(mut self, next: Part) -> Part {
        for (len, next) in self.lens.iter_mut().zip(next.lens) {
            *len += next;
        }
        for (hidden, next) in self.hidden.iter_mut().zip(next.hidden) {
            *hidden |= next;
        }
        self
    }

    /// The part as if it had no parse error: for parts whose errors are found by the files
    /// they are about instead, as the errors set apart later leave no place certain.
    pub fn without_errors(mut self) -> Part {
        self.lens[PARSE_ERRORS] = 0;
        self
    }

    /// Where the part lies once its Kubernetes objects are taken out
    /// ([`Facts::remove_parts`] with [`Removal::Objects`]).
    pub fn without_objects(mut self) -> Part {
        let mut any = Facts::default();
        for (len, (_, object)) in self.lens.iter_mut().zip(any.lists_mut()) {
            if object {
                *len = 0;
            }
        }
        self
    }
}

/// What [`Facts::remove_parts`] takes out of one part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Nothing,
    /// Its Kubernetes objects ([`Facts::drop_objects`]).
    Objects,
    All,
}

/// `from` after `into`'s items. The run's facts start empty, and a list of 100,000 roles
/// moved in whole is not copied: the copy and the original were both alive at once. A list
/// given room for every part beforehand (a merge sized once) is filled, not replaced.
fn append<T>(into: &mut Vec<T>, from: Vec<T>) {
    if into.is_empty() && into.capacity() < from.len() {
        *into = from;
    } else {
        into.extend(from);
    }
}

impl Facts {
    /// Every span of the Kubernetes objects (ServiceAccounts, workloads, unresolved
    /// ServiceAccounts, HelmRelease objects, ConfigMaps) and parse errors, for a reader of a
    /// text that is not the file as written (a substituted one) to point back into the file.
    pub(crate) fn map_object_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        for sa in &mut self.service_accounts {
            sa.span = f(sa.span);
            sa.name.span = f(sa.name.span);
            sa.namespace.span = f(sa.namespace.span);
            map_annotations(&mut sa.annotations, f);
        }
        for w in &mut self.workloads {
            w.span = f(w.span);
            w.name.span = f(w.name.span);
            if let Some(ns) = &mut w.namespace {
                ns.span = f(ns.span);
            }
            if let PodServiceAccount::Named(sa) = &mut w.service_account {
                sa.span = f(sa.span);
            }
            map_annotations(&mut w.annotations, f);
            for v in w.env.iter_mut().chain(w.images.iter_mut().flatten()) {
                v.span = f(v.span);
            }
        }
        for u in &mut self.unresolved_service_accounts {
            u.span = f(u.span);
            if let Some(r) = &mut u.role_arn {
                r.span = f(r.span);
            }
        }
        for r in &mut self.release_objects {
            r.map_spans(f);
        }
        for c in &mut self.config_data {
            c.span = f(c.span);
            for v in c.data.values_mut().flatten() {
                v.value.span = f(v.value.span);
                v.yaml_at = v.yaml_at.map(f);
            }
        }
        for e in &mut self.parse_errors {
            e.span = f(e.span);
        }
    }
}

fn map_annotations(annotations: &mut [Annotation], f: &dyn Fn(Span) -> Span) {
    for a in annotations {
        a.key.span = f(a.key.span);
        if let Some(v) = &mut a.value {
            v.span = f(v.span);
        }
    }
}

/// Whether something exists, when the files can tell: a rendering that creates an object,
/// provably creates none, or may create one the files do not show.
#[derive(Debug, Clone, PartialEq)]
pub enum Found<T> {
    Yes(T),
    No,
    Unknown,
}

/// An IAM role name as written: exact, a prefix Terraform (or CloudFormation, for eksctl)
/// completes with a random suffix, or unknown.
#[derive(Debug, Clone, PartialEq)]
pub enum RoleName {
    Exact(Str),
    Prefix(Str),
    Unknown,
}

/// An `aws_iam_role` instance (one per `for_each` key or `count` index), or a role an eksctl
/// config makes.
#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    /// Terraform address, e.g. `aws_iam_role.alb["prod"]`; for eksctl
    /// `eksctl:<cluster>:<namespace>/<name>`.
    pub address: String,
    /// The key of the symbols that stand for this role's generated name suffix or
    /// unevaluated name: the address, qualified by the root module where addresses repeat.
    pub symbol_key: String,
    /// The module instance the role is declared in (`module.irsa["api"]`), empty at the root.
    pub module: String,
    /// The root module (one `terraform apply`) the role belongs to; the folder of an eksctl
    /// config.
    pub unit: String,
    /// The block's labels, where "the role" is shown when nothing more precise exists.
    pub span: Span,
    pub name: RoleName,
    /// Where the name (or prefix) is written; the block span when it is absent.
    pub name_span: Span,
    /// The role's path (`/` when absent); `None` when unknown.
    pub path: Option<Str>,
    pub path_span: Option<Span>,
    /// The trust policy; `None` when it could not be evaluated. Shared: the language server's
    /// cache hands the same roles to every run.
    pub trust: Option<Arc<TrustPolicy>>,
    /// Accounts the AWS provider of this module is restricted to (`allowed_account_ids`).
    pub provider_accounts: Vec<String>,
    /// The flags (`var.enable_x`) that exist only when on: a role of a what-if evaluation.
    pub when: Vec<String>,
}

impl Role {
    /// How the role's trust policy answers `claim` = `value` (see [`TrustPolicy::admits`]);
    /// unknown when the trust policy is.
    pub fn admits(&self, claim: &str, value: &str, subject: Option<&str>) -> Admission<'_> {
        match &self.trust {
            Some(trust) => trust.admits(claim, value, subject),
            None => Admission::Unknown,
        }
    }

    /// Whether the role's trust names exactly this subject (see [`TrustPolicy::names_exactly`]).
    pub fn trusts_exactly(&self, subject: &str) -> bool {
        self.trust
            .as_ref()
            .is_some_and(|t| t.names_exactly(subject))
    }
}

/// An `aws_iam_openid_connect_provider` (resource or data source).
#[derive(Debug, Clone, PartialEq)]
pub struct OidcProvider {
    pub address: String,
    pub span: Span,
    /// The issuer URL as configured (usually with `https://`); `None` when unknown.
    pub url: Option<Spanned<Str>>,
    /// `None` when unknown or not written (data sources).
    pub client_ids: Option<Vec<Spanned<Str>>>,
    /// The provider's ARN, `None` when it cannot be derived.
    pub arn: Option<Str>,
}

/// An EKS cluster (resource or data source).
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub address: String,
    pub span: Span,
    pub name: Option<Str>,
    /// The issuer without `https://`.
    pub issuer: Str,
}

/// Where a Kubernetes object was declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A YAML or JSON file where its values are written as they apply: a manifest, or an
    /// eksctl config (whose ServiceAccounts eksctl creates).
    Manifest,
    Terraform,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    pub key: Spanned<String>,
    /// `None` when unknown (a Terraform expression that cannot be evaluated).
    pub value: Option<Spanned<Str>>,
}

/// A Kubernetes ServiceAccount.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceAccount {
    /// The whole object (document or resource block).
    pub span: Span,
    pub name: Spanned<String>,
    /// The namespace (`default` when absent, then spanned at the name).
    pub namespace: Spanned<String>,
    pub namespace_explicit: bool,
    pub annotations: Vec<Annotation>,
    /// Whether every annotation key is known. False when the annotations are set (in part) by
    /// a value irsa-lint cannot read, an unknown map, key or Helm values, or a template
    /// placeholder: an annotation may then exist that `annotations` does not list.
    pub annotations_known: bool,
    /// The deployment unit: manifests in one folder are applied together.
    pub unit: String,
    pub origin: Origin,
    /// How a rendering tool changed the object on its way to the cluster (`namespace set to
    /// prod by overlays/prod/kustomization.yaml`); findings about it repeat these as notes.
    pub rendered: Vec<String>,
    /// Its name and namespace are fixed by what creates it (an EKS add-on): a trust that
    /// rejects it is what must change.
    pub fixed: bool,
    /// The flags that must be on for it to exist (see [`Role::when`]).
    pub when: Vec<String>,
    /// Made by a Helm chart: the values key that sets its role-arn annotation
    /// (`controller.serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn`).
    pub role_arn_values_key: Option<String>,
    /// An EKS add-on's own ServiceAccount: the add-on and the version it is pinned to
    /// (`addon_version`, an eksctl add-on's `version`), when that is known.
    pub addon_version: Option<AddonVersion>,
}

/// The version an EKS add-on is pinned to.
#[derive(Debug, Clone, PartialEq)]
pub struct AddonVersion {
    /// The add-on's name (`aws-ebs-csi-driver`).
    pub addon: String,
    /// As written: `v1.35.0-eksbuild.1`.
    pub version: Spanned<String>,
}

impl ServiceAccount {
    /// A ServiceAccount Terraform creates (a resource, a Helm release, a manifest in
    /// Terraform), in the deployment unit of its root module. `namespace` is `None` when it is
    /// not set: `default`, spanned at the name.
    pub fn terraform(
        span: Span,
        name: Spanned<String>,
        namespace: Option<Spanned<String>>,
        annotations: Vec<Annotation>,
        unit: &str,
    ) -> ServiceAccount {
        let namespace_explicit = namespace.is_some();
        let namespace = namespace.unwrap_or_else(|| Spanned::new("default".to_string(), name.span));
        ServiceAccount {
            span,
            namespace_explicit,
            name,
            namespace,
            annotations,
            annotations_known: true,
            unit: unit.to_string(),
            origin: Origin::Terraform,
            rendered: Vec::new(),
            fixed: false,
            when: Vec::new(),
            role_arn_values_key: None,
            addon_version: None,
        }
    }

    pub fn annotation(&self, key: &str) -> Option<&Annotation> {
        self.annotations.iter().find(|a| a.key.value == key)
    }

    /// The `sub` claim of this ServiceAccount's projected token.
    pub fn subject(&self) -> String {
        format!(
            "system:serviceaccount:{}:{}",
            self.namespace.value, self.name.value
        )
    }

    pub fn qualified_name(&self) -> String {
        format!("{}/{}", self.namespace.value, self.name.value)
    }
}

/// A ServiceAccount given a role whose name or namespace cannot be known from the files (a
/// template placeholder, a variable with no value): where it is written and why.
#[derive(Debug, Clone)]
pub struct UnresolvedServiceAccount {
    pub span: Span,
    /// Why its identity is unknown, e.g. `name is a template placeholder`.
    pub why: String,
    /// Its role-arn, as far as it is known.
    pub role_arn: Option<Spanned<Str>>,
}

/// A Pod or an object with a pod template.
#[derive(Debug, Clone)]
pub struct Workload {
    pub kind: String,
    pub span: Span,
    pub name: Spanned<String>,
    /// `None` when the manifest does not say (the namespace comes from `kubectl -n`) or
    /// leaves it to a template placeholder.
    pub namespace: Option<Spanned<String>>,
    /// `serviceAccountName` (or the deprecated `serviceAccount`).
    pub service_account: PodServiceAccount,
    /// Annotations of the object's own metadata and of its pod template(s).
    pub annotations: Vec<Annotation>,
    /// Names of the environment variables the pod's containers and init containers set in
    /// `env` (not `envFrom`, whose names are unknown), each spanned at the name.
    pub env: Vec<Spanned<String>>,
    /// The `image` of each of its containers (not init containers), spanned at the value;
    /// `None` when a patch or transformer may have changed them.
    pub images: Option<Vec<Spanned<String>>>,
    pub unit: String,
    /// How a rendering tool changed the object (see [`ServiceAccount::rendered`]).
    pub rendered: Vec<String>,
}

impl Workload {
    /// The name of the ServiceAccount the pod runs as; `None` when it is unknown.
    pub fn service_account_name(&self) -> Option<&str> {
        match &self.service_account {
            PodServiceAccount::Default => Some("default"),
            PodServiceAccount::Named(name) => Some(&name.value),
            PodServiceAccount::Unknown => None,
        }
    }
}

/// The ServiceAccount a pod spec names.
#[derive(Debug, Clone, PartialEq)]
pub enum PodServiceAccount {
    /// Not set: Kubernetes runs the pod as `default`.
    Default,
    Named(Spanned<String>),
    /// Set to a template placeholder or to something that is not a name: known only once
    /// the template is rendered.
    Unknown,
}

/// An `aws_eks_pod_identity_association` (or one a module model or an eksctl config
/// creates).
#[derive(Debug, Clone, PartialEq)]
pub struct PodIdentityAssociation {
    pub address: String,
    /// The root module (one `terraform apply`) it belongs to.
    pub unit: String,
    pub span: Span,
    pub namespace: Spanned<String>,
    pub service_account: Spanned<String>,
    /// `None` when unknown.
    pub role_arn: Option<Spanned<Str>>,
    /// The flags that must be on for it to exist (see [`Role::when`]).
    pub when: Vec<String>,
}

/// A role a module builds for a known add-on (a policy flag such as
/// `attach_ebs_csi_policy = true`), and the ServiceAccount that add-on runs as by default.
#[derive(Debug, Clone)]
pub struct AddonRole {
    /// The role the module builds for the add-on.
    pub role: RoleId,
    pub addon: String,
    /// The input that says which add-on it is for, e.g. `attach_ebs_csi_policy`.
    pub flag: String,
    pub span: Span,
    pub namespace: String,
    pub service_account: String,
    /// The flags that must be on for the module to build the role for this add-on.
    pub when: Vec<String>,
}

/// What a Helm release installs, as far as IRSA is concerned.
#[derive(Debug, Clone, PartialEq)]
pub struct HelmRelease {
    pub address: String,
    /// What declares it, as shown next to its span: `helm_release`, `Flux HelmRelease`,
    /// `Argo CD Application`.
    pub declared_by: &'static str,
    pub span: Span,
    /// The chart as written (`aws-load-balancer-controller`, `../charts/x`).
    pub chart: String,
    pub release_name: String,
    pub namespace: String,
    /// Values that set an IRSA annotation, by dotted key path as written.
    pub annotation_settings: Vec<Spanned<String>>,
    /// The values keys of the annotations maps the chart reads, of every ServiceAccount it
    /// may make at the release's chart version (`rbac.serviceAccount.annotations`); `None`
    /// when irsa-lint does not know them all.
    pub annotation_keys: Option<Vec<String>>,
    /// The root module (one `terraform apply`) it belongs to.
    pub unit: String,
    /// The namespace and name of the ServiceAccount made elsewhere that the chart runs as
    /// (`serviceAccount.create=false`), when known.
    pub existing_service_account: Option<(String, String)>,
    /// The chart comes from the repository itself (a path), not a chart repository.
    pub local_chart: bool,
    /// The `version` argument: `None` when absent (the newest chart is installed), the text
    /// when known, spanned at the argument.
    pub chart_version: Option<Spanned<Option<String>>>,
    /// The `image.tag` value, when the release sets it.
    pub image_tag: Option<Spanned<Option<String>>>,
    /// A chart of the repository itself (named [`HelmRelease::chart`] in its `Chart.yaml`):
    /// the version it runs by default, its `values.yaml` image tag or else its `appVersion`.
    pub default_version: Option<Spanned<String>>,
    /// The flags that must be on for it to exist (see [`Role::when`]).
    pub when: Vec<String>,
}

/// A ConfigMap or a Secret: its keys, and the values irsa-lint can read (never a Secret's).
#[derive(Debug, Clone)]
pub struct ConfigData {
    pub secret: bool,
    pub name: String,
    /// `None` when not set or not known: the namespace it is applied to decides.
    pub namespace: Option<String>,
    /// Every key seen, with its value when known.
    pub data: std::collections::BTreeMap<String, Option<DataValue>>,
    /// Whether every key is known; when false, a key not in `data` may still exist.
    pub keys_known: bool,
    /// The object or resource.
    pub span: Span,
    /// How it is named in notes: `ConfigMap flux-system/cluster-vars`,
    /// `kubernetes_config_map_v1.cluster_vars`.
    pub shown: String,
    /// The folder that declares it (a manifest's, a Terraform root module's): of several
    /// objects of one name, readers take the closest to themselves.
    pub dir: String,
}

/// A value of a ConfigMap's data.
#[derive(Debug, Clone)]
pub struct DataValue {
    /// The value, spanned where it is written.
    pub value: Spanned<Str>,
    /// A span whose text reads as the value's YAML with positions (a generator's file, a
    /// literal block scalar), for Helm values read from it to point at their own lines.
    pub yaml_at: Option<Span>,
    /// What Flux's post-build substitution changed in the text at `yaml_at` (whose value is
    /// the substituted text): read the value, and map its positions back through these.
    pub edits: Vec<crate::text::envsubst::Edit>,
}

impl AttachedPolicy {
    /// A policy document read into statements, kept only when it may concern a controller.
    pub fn document(doc: TrustPolicy) -> AttachedPolicy {
        let unrelated = doc.complete
            && doc.statements.iter().all(|s| {
                s.effect == Some(Effect::Allow)
                    && s.conditions.as_ref().is_some_and(Vec::is_empty)
                    && s.actions.as_ref().is_some_and(|actions| {
                        actions.iter().all(|a| {
                            a.value
                                .as_known()
                                .is_some_and(|a| !crate::aws::controllers::concerns_a_controller(a))
                        })
                    })
            });
        match unrelated {
            true => AttachedPolicy::Unrelated,
            false => AttachedPolicy::Document(Arc::new(doc)),
        }
    }
}

/// A permission policy that reaches a role, or may reach any role of its unit.
#[derive(Debug, Clone)]
pub struct RolePolicy {
    /// The root module (one `terraform apply`) the attachment belongs to.
    pub unit: String,
    /// The role's name as the attachment evaluates it (`aws_iam_role.x.name`); `None` when
    /// it cannot be told: the policy may then reach any role of the unit.
    pub role: Option<Str>,
    pub policy: AttachedPolicy,
    /// The attachment (or the role that carries the policy itself).
    pub span: Span,
}

/// What an attachment attaches.
#[derive(Debug, Clone)]
pub enum AttachedPolicy {
    /// A policy document read into statements (`aws_iam_policy`, `aws_iam_role_policy`).
    Document(Arc<TrustPolicy>),
    /// A policy known only by its ARN (an AWS managed policy).
    Managed(Spanned<Str>),
    /// The one policy a terraform-aws-modules/iam role module attaches for an
    /// `attach_*_policy` flag, spanned at the flag, at the module version the caller pins
    /// (`None` when it is a constraint or not written).
    ModuleFlag {
        flag: Spanned<String>,
        module_version: Option<String>,
    },
    /// Nothing: a module builds the role without a policy of its own.
    None,
    /// A document that allows, without conditions, only actions no known controller needs
    /// (`s3:GetObject`): it can neither grant nor deny what IRSA030 compares, so its
    /// statements are not kept. At 100,000 services these documents were a tenth of the
    /// memory.
    Unrelated,
    Unknown,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::eksctl::extract_cluster_config;
    use crate::facts::manifests::{ManifestSyntax, extract_manifests_read};
    use crate::source::FileId;

    /// An eksctl config with one IRSA ServiceAccount: a role and its ServiceAccount.
    pub(crate) const CLUSTER: &str = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\n\
                           metadata: {name: prod, region: eu-west-1}\niam:\n  withOIDC: true\n  \
                           serviceAccounts:\n    - metadata: {name: api, namespace: pay}\n      \
                           attachPolicyARNs: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n";

    const WORKER: &str = "apiVersion: v1\nkind: ServiceAccount\n\
                          metadata: {name: worker, namespace: pay}\n---\n\
                          apiVersion: v1\nkind: ConfigMap\nmetadata: {name: worker, namespace: pay}\n\
                          data: {QUEUE: jobs}\n";

    fn files(facts: &[ServiceAccount]) -> Vec<(u32, &str)> {
        facts
            .iter()
            .map(|sa| (sa.span.file.0, &*sa.name.value))
            .collect()
    }

    #[test]
    fn parts_taken_out_leave_the_others_and_their_ids_as_they_were() {
        let mut worker =
            extract_manifests_read(FileId(0), WORKER, ManifestSyntax::Yaml, "apps", true);
        worker.hidden_annotations = true;
        let mut rendered = extract_cluster_config(FileId(1), CLUSTER, "cluster");
        rendered.hidden_roles = true;
        let mut deployed = extract_cluster_config(FileId(2), CLUSTER, "cluster");
        // An add-on role of the third part's role: it must follow its role to its new place.
        deployed.addon_roles.push(AddonRole {
            role: RoleId(0),
            addon: "aws-ebs-csi-driver".into(),
            flag: "attach_ebs_csi_policy".into(),
            span: Span::file_start(FileId(2)),
            namespace: "kube-system".into(),
            service_account: "ebs-csi-controller-sa".into(),
            when: Vec::new(),
        });
        let mut all = Facts::default();
        let mut parts = Vec::new();
        for (mut facts, removal) in [
            (worker, Removal::Nothing),
            (rendered, Removal::All),
            (deployed, Removal::Objects),
        ] {
            parts.push((facts.part(), removal));
            all.extend(facts);
        }
        assert_eq!(
            files(&all.service_accounts),
            [(0, "worker"), (1, "api"), (2, "api")]
        );
        assert_eq!(all.addon_roles[0].role, RoleId(1));

        all.remove_parts(&parts);
        // The third part keeps its role and loses its ServiceAccount (an object).
        assert_eq!(files(&all.service_accounts), [(0, "worker")]);
        let roles: Vec<u32> = all.roles.iter().map(|r| r.span.file.0).collect();
        assert_eq!(roles, [2]);
        assert_eq!(all.addon_roles.len(), 1);
        assert_eq!(all.role(all.addon_roles[0].role).span.file, FileId(2));
        // ConfigMaps are not objects: they stay.
        assert_eq!(all.config_data.len(), 1);
        // The flags of the part taken out whole go with it.
        assert!(all.hidden_annotations && !all.hidden_roles);
    }

    /// Two roles from eksctl configs, with an add-on role of the second: a part of facts.
    fn roles_part(first: u32) -> Facts {
        let mut part = extract_cluster_config(FileId(first), CLUSTER, "cluster");
        let mut second = extract_cluster_config(FileId(first + 1), CLUSTER, "cluster");
        second.addon_roles.push(AddonRole {
            role: RoleId(0),
            addon: "aws-ebs-csi-driver".into(),
            flag: "attach_ebs_csi_policy".into(),
            span: Span::file_start(FileId(first + 1)),
            namespace: "kube-system".into(),
            service_account: "ebs-csi-controller-sa".into(),
            when: Vec::new(),
        });
        part.extend(second);
        part
    }

    /// Each role's file, and the file of each add-on role's role.
    fn placed(facts: &Facts) -> (Vec<u32>, Vec<u32>) {
        let roles = facts.roles.iter().map(|r| r.span.file.0).collect();
        let addons = (facts.addon_roles.iter())
            .map(|a| facts.role(a.role).span.file.0)
            .collect();
        (roles, addons)
    }

    #[test]
    fn a_part_replaced_is_as_if_extended_in_its_place() {
        let extended = |parts: Vec<Facts>| {
            let mut all = Facts::default();
            let mut places = Vec::new();
            for mut part in parts {
                places.push(part.part());
                all.extend(part);
            }
            (all, places)
        };
        let (mut all, places) = extended(vec![roles_part(0), roles_part(2), roles_part(4)]);
        // The middle part has one role fewer, then one more: the last part's add-on role
        // follows its role both ways.
        let shorter = extract_cluster_config(FileId(6), CLUSTER, "cluster");
        let (expected, _) = extended(vec![roles_part(0), shorter.clone(), roles_part(4)]);
        let middle = all.replace_part(places[0], places[1], shorter).unwrap();
        assert_eq!(placed(&all), placed(&expected));
        assert_eq!(placed(&all), (vec![0, 1, 6, 4, 5], vec![1, 5]));

        let (expected, _) = extended(vec![roles_part(0), roles_part(8), roles_part(4)]);
        all.replace_part(places[0], middle, roles_part(8)).unwrap();
        assert_eq!(placed(&all), placed(&expected));
        assert_eq!(placed(&all), (vec![0, 1, 8, 9, 4, 5], vec![1, 9, 5]));
    }

    #[test]
    fn parts_concatenated_are_the_parts_extended_in_turn() {
        let mut flagged = roles_part(2);
        flagged.hidden_service_accounts = true;
        let worker = extract_manifests_read(FileId(9), WORKER, ManifestSyntax::Yaml, "apps", true);
        let parts = || {
            vec![
                roles_part(0),
                flagged.clone(),
                worker.clone(),
                roles_part(4),
            ]
        };
        let mut extended = Facts::default();
        for part in parts() {
            extended.extend(part);
        }
        let all = Facts::concat(parts());
        // Add-on roles follow their roles; a list only one part has comes in whole.
        assert_eq!(placed(&all), placed(&extended));
        assert_eq!(placed(&all), (vec![0, 1, 2, 3, 4, 5], vec![1, 3, 5]));
        assert_eq!(
            files(&all.service_accounts),
            files(&extended.service_accounts)
        );
        assert_eq!(files(&all.service_accounts)[4], (9, "worker"));
        assert_eq!(all.config_data.len(), 1);
        assert!(all.hidden_service_accounts && !all.hidden_roles);
        // Each list with entries from several parts was sized once.
        assert_eq!(all.roles.capacity(), 6);
    }

    #[test]
    fn a_part_cloned_is_the_part_as_it_was_extended() {
        let mut hiding = roles_part(2);
        hiding.hidden_roles = true;
        let mut all = roles_part(0);
        let before = all.part();
        let part = hiding.part();
        all.extend(hiding);
        all.extend(roles_part(4));
        let mut copy = all.part_cloned(before, part).unwrap();
        assert_eq!(placed(&copy), (vec![2, 3], vec![3]));
        assert!(copy.hidden_roles && !copy.hidden_service_accounts);
        assert_eq!(copy.part().lens, part.lens);
        // A part said to lie past the end of its lists.
        let end = all.part();
        assert!(all.part_cloned(end, part).is_none());
    }

    #[test]
    fn the_places_named_are_the_lists_places() {
        let mut facts = roles_part(0);
        facts.parse_errors.push(ParseError {
            span: Span::file_start(FileId(0)),
            message: "invalid HCL".into(),
        });
        let part = facts.part();
        assert_eq!(
            [
                part.lens[ROLES],
                part.lens[ADDON_ROLES],
                part.lens[PARSE_ERRORS]
            ],
            [2, 1, 1]
        );
        assert_eq!(part.without_errors().lens[PARSE_ERRORS], 0);
    }

    #[test]
    fn lists_a_part_has_nothing_in_are_left_alone() {
        let roles = |file| Facts {
            roles: extract_cluster_config(FileId(file), CLUSTER, "cluster").roles,
            ..Facts::default()
        };
        let mut all = roles(0);
        all.extend(roles(1));
        // A later stage took entries out of a list the part has nothing in (as resolving
        // HelmRelease objects takes them): the part's place in it is past its end.
        let mut before = roles(0).part();
        before.lens[PARSE_ERRORS] = 3;
        all.replace_part(before, roles(1).part(), roles(7)).unwrap();
        assert_eq!(placed(&all).0, [0, 7]);
    }

    #[test]
    fn a_part_that_raises_other_flags_or_is_not_there_is_not_replaced() {
        let mut all = roles_part(0);
        let place = all.part();
        let mut hiding = roles_part(2);
        hiding.hidden_roles = true;
        assert!(all.replace_part(Part::default(), place, hiding).is_none());
        // A part said to begin past the end of its lists.
        assert!(all.replace_part(place, place, roles_part(2)).is_none());

        assert_eq!(placed(&all), (vec![0, 1], vec![1]));
    }

    #[test]
    fn no_part_taken_out_changes_nothing() {
        let mut all = extract_manifests_read(FileId(0), WORKER, ManifestSyntax::Yaml, "apps", true);
        let parts = [(all.part(), Removal::Nothing)];
        all.remove_parts(&parts);
        assert_eq!(files(&all.service_accounts), [(0, "worker")]);
        all.drop_objects();
        assert!(all.service_accounts.is_empty() && all.config_data.len() == 1);
    }
}
