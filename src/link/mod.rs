//! Linking: ServiceAccount ↔ role ↔ OIDC provider ↔ cluster.
//!
//! Builds the [`LintContext`] the rules read: the indexes that find, for each
//! ServiceAccount, the roles its annotation names. Links are computed once here so that
//! rules do not each re-derive them (and cannot disagree on them). Every answer is
//! three-valued: a link that cannot be decided is unknown, and rules stay silent on unknown.
//! What IAM and ARNs mean lives in `crate::aws`.

use foldhash::{HashMap, HashMapExt};

use rayon::prelude::*;

use crate::aws::arn::{
    PartitionFree, RoleArn, federated_issuer, issuer_partition, role_arn_problem, without_partition,
};
use crate::aws::policy::{Effect, Statement, is_eks_statement};
use crate::eval::value::{Str, Symbol, Tri};
use crate::facts::{
    AssociationId, Facts, OidcProvider, ROLE_ARN_KEY, Role, RoleId, RoleName, SaId, ServiceAccount,
    Spanned,
};
use crate::source::SourceMap;
use crate::text::glob_match;

/// The link from a ServiceAccount's role-arn annotation to the roles it may name.
#[derive(Debug, Clone)]
pub struct SaLink {
    pub sa: SaId,
    /// The subject of its tokens (`system:serviceaccount:<namespace>:<name>`), made once:
    /// several rules compare it with every linked role's trust.
    pub subject: String,
    pub value: Spanned<Str>,
    pub arn: RoleArn,
    /// Roles whose name is proven equal to the ARN's name.
    pub roles: Vec<RoleId>,
    /// Some role's name cannot be evaluated or is a prefix that could match.
    pub maybe_other: bool,
}

/// Roles managed outside the scanned files (`external_roles` and `external_accounts` in
/// `.irsa-lint.toml`): an annotation naming one is not a role the scan failed to find.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExternalRoles {
    /// Role ARNs; `*` matches any run of characters.
    pub roles: Vec<String>,
    /// 12-digit account ids whose roles are all managed elsewhere.
    pub accounts: Vec<String>,
}

impl ExternalRoles {
    /// Whether the annotation of a link names one of them. Only a fully known ARN can match a
    /// listed role; an account matches as soon as it is known.
    pub fn contains(&self, link: &SaLink) -> bool {
        let in_account = link
            .arn
            .account
            .as_known()
            .is_some_and(|account| self.accounts.iter().any(|a| a == account));
        let listed = link
            .value
            .value
            .as_known()
            .is_some_and(|arn| self.roles.iter().any(|role| glob_match(role, arn)));
        in_account || listed
    }
}

pub struct LintContext<'a> {
    pub facts: &'a Facts,
    pub sources: &'a SourceMap,
    pub sa_links: Vec<SaLink>,
    /// Roles the configuration says are managed elsewhere.
    pub external_roles: ExternalRoles,
    /// The account of each role (by id), computed once: rules ask often.
    role_accounts: Vec<Option<String>>,
    /// Each provider's ARN without its partition (by provider index), for `providers_named`.
    provider_arns: Vec<Option<Str>>,
    /// Each Pod Identity association's role ARN and the roles proven to have its name.
    association_links: Vec<Option<(RoleArn, Vec<RoleId>)>>,
    /// IRSA030's verdicts, set by the rule (or by the first reader): the graph shows them
    /// without evaluating every controller's policy again.
    pub controller_verdicts: std::sync::OnceLock<Vec<ControllerVerdict>>,
}

/// What linking derives from the facts, on its own: the language server keeps it with the
/// facts across edits that change only ServiceAccounts ([`Links::replace_service_accounts`]).
#[derive(Debug, Default)]
pub struct Links {
    sa_links: Vec<SaLink>,
    role_accounts: Vec<Option<String>>,
    provider_arns: Vec<Option<Str>>,
    association_links: Vec<Option<(RoleArn, Vec<RoleId>)>>,
}

impl Links {
    pub fn new(facts: &Facts) -> Links {
        let roles_by_name = RolesByName::new(facts);
        // Each ServiceAccount is linked on its own: side by side, in ServiceAccount order.
        // One slot per ServiceAccount, written in place: collected through a filter, the
        // links were gathered in pieces and then copied, both alive at once.
        let slots: Vec<Option<SaLink>> = (facts.service_accounts.par_iter().enumerate())
            .map(|(i, sa)| link_service_account(facts, &roles_by_name, SaId(i as u32), sa))
            .collect();
        // Collected in place: a filter reuses the vector, `flatten` would copy it.
        #[allow(clippy::filter_map_identity)]
        let sa_links = slots.into_iter().filter_map(|slot| slot).collect();
        let association_links = facts
            .pod_identities
            .iter()
            .map(|a| {
                let arn = RoleArn::parse(&a.role_arn.as_ref()?.value)?;
                let (roles, _) = roles_named(facts, &roles_by_name, &arn);
                Some((arn, roles))
            })
            .collect();
        Links {
            sa_links,
            // A split of every Federated principal of every role: side by side too.
            role_accounts: facts.roles.par_iter().map(role_account).collect(),
            provider_arns: (facts.providers.iter())
                .map(|p| p.arn.as_ref().map(without_partition))
                .collect(),
            association_links,
        }
    }

    /// The ServiceAccounts `at..at + removed` were replaced with `added` others, and nothing
    /// else changed: link those, and renumber the ServiceAccounts after them.
    pub fn replace_service_accounts(
        &mut self,
        facts: &Facts,
        at: usize,
        removed: usize,
        added: usize,
    ) {
        let start = self.sa_links.partition_point(|l| (l.sa.0 as usize) < at);
        let end = self
            .sa_links
            .partition_point(|l| (l.sa.0 as usize) < at + removed);
        let roles_by_name = RolesByName::new(facts);
        let linked: Vec<SaLink> = (at..at + added)
            .filter_map(|i| {
                let sa = &facts.service_accounts[i];
                link_service_account(facts, &roles_by_name, SaId(i as u32), sa)
            })
            .collect();
        let count = linked.len();
        self.sa_links.splice(start..end, linked);
        for link in &mut self.sa_links[start + count..] {
            link.sa.0 = (link.sa.0 as usize + added - removed) as u32;
        }
    }
}

/// What IRSA030 decided about a ServiceAccount that runs a known controller.
#[derive(Debug, Clone)]
pub struct ControllerVerdict {
    pub service_account: SaId,
    /// The controller and version: `aws-load-balancer-controller v2.9.0`.
    pub controller: String,
    /// Whether the policy reaching its role fits that version; `None` when the files cannot
    /// tell.
    pub fits: Option<bool>,
}

impl<'a> LintContext<'a> {
    pub fn new(facts: &'a Facts, sources: &'a SourceMap) -> Self {
        LintContext::with_links(facts, sources, Links::new(facts))
    }

    /// The context of facts already linked ([`Links::new`] of these very facts).
    pub fn with_links(facts: &'a Facts, sources: &'a SourceMap, links: Links) -> Self {
        let Links {
            sa_links,
            role_accounts,
            provider_arns,
            association_links,
        } = links;
        LintContext {
            facts,
            sources,
            sa_links,
            external_roles: ExternalRoles::default(),
            role_accounts,
            provider_arns,
            association_links,
            controller_verdicts: std::sync::OnceLock::new(),
        }
    }

    /// Its links, to be kept with the facts (see [`Links`]).
    pub fn into_links(self) -> Links {
        Links {
            sa_links: self.sa_links,
            role_accounts: self.role_accounts,
            provider_arns: self.provider_arns,
            association_links: self.association_links,
        }
    }

    pub fn with_external_roles(mut self, external_roles: ExternalRoles) -> Self {
        self.external_roles = external_roles;
        self
    }

    /// The account a role lives in, when the files say so.
    pub fn role_account(&self, role: RoleId) -> Option<&str> {
        self.role_accounts[role.0 as usize].as_deref()
    }

    /// Every trust statement of every role, with its role.
    pub fn trust_statements(&self) -> impl Iterator<Item = (RoleId, &'a Role, &'a Statement)> + 'a {
        self.facts.roles_with_ids().flat_map(|(id, r)| {
            r.trust
                .iter()
                .flat_map(move |t| t.statements.iter().map(move |s| (id, r, s)))
        })
    }

    /// Roles that trust an EKS OIDC provider with the web identity action.
    pub fn irsa_roles(&self) -> impl Iterator<Item = (RoleId, &'a Role)> + 'a {
        self.facts.roles_with_ids().filter(|(_, r)| {
            r.trust.as_ref().is_some_and(|t| {
                t.statements
                    .iter()
                    .any(|s| is_eks_statement(s) && s.effect == Some(Effect::Allow))
            })
        })
    }

    /// The link of a ServiceAccount, if it has one.
    pub fn link_of(&self, sa: SaId) -> Option<&SaLink> {
        // Links are made in ServiceAccount order, so a binary search finds one.
        let at = self.sa_links.binary_search_by_key(&sa, |l| l.sa).ok()?;
        self.sa_links.get(at)
    }

    pub fn service_account(&self, link: &SaLink) -> &'a ServiceAccount {
        self.facts.service_account(link.sa)
    }

    /// The roles a link names whose account is not known to differ from the annotation's:
    /// the roles the ServiceAccount really assumes, as far as the files tell.
    ///
    /// Roles of one name in several deployments (`envs/staging`, `envs/production`) are told
    /// apart by account when both are known, then by the ServiceAccount's place: the role
    /// whose files share the most of its path (an ancestor folder first, then folder names
    /// such as `production`). Candidates that cannot be told apart are all returned, and
    /// rules then conclude only what holds for every one of them.
    pub fn linked_roles(&self, link: &SaLink) -> Vec<(RoleId, &'a Role)> {
        let unit = &self.service_account(link).unit;
        self.of_its_deployment(unit, link.arn.account.as_known(), &link.roles)
    }

    /// The roles a Pod Identity association's `role_arn` names, chosen by deployment as
    /// [`LintContext::linked_roles`] does. Empty when its role is unknown or not scanned.
    pub fn association_roles(&self, id: AssociationId) -> Vec<(RoleId, &'a Role)> {
        let Some((arn, roles)) = &self.association_links[id.0 as usize] else {
            return Vec::new();
        };
        let unit = &self.facts.association(id).unit;
        self.of_its_deployment(unit, arn.account.as_known(), roles)
    }

    /// Of the roles one ARN names, those of the deployment (`unit`) using it.
    fn of_its_deployment(
        &self,
        unit: &str,
        account: Option<&str>,
        ids: &[RoleId],
    ) -> Vec<(RoleId, &'a Role)> {
        let roles: Vec<(RoleId, &'a Role)> = ids
            .iter()
            .filter(|&&id| match (account, self.role_account(id)) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            })
            .map(|&id| (id, self.facts.role(id)))
            .collect();
        let in_one_unit = roles.windows(2).all(|w| w[0].1.unit == w[1].1.unit);
        if in_one_unit {
            return roles;
        }
        // Deployment units: a root module's folder, a manifest's folder or its overlay.
        let unit = std::path::Path::new(unit);
        let scored: Vec<_> = roles
            .into_iter()
            .map(|r| {
                (
                    deployment_closeness(unit, std::path::Path::new(&r.1.unit)),
                    r,
                )
            })
            .collect();
        let best = scored.iter().map(|(score, _)| *score).max();
        scored
            .into_iter()
            .filter(|(score, _)| Some(*score) == best)
            .map(|(_, r)| r)
            .collect()
    }

    /// The declared OIDC providers a Federated principal provably names. The partition is
    /// taken as the one the principal spells out, since a provider's own partition is only
    /// known after apply.
    pub fn providers_named(&self, federated: &Str) -> Vec<&'a OidcProvider> {
        let federated = PartitionFree::new(federated);
        (self.facts.providers.iter())
            .zip(&self.provider_arns)
            .filter(|(_, arn)| {
                arn.as_ref()
                    .is_some_and(|a| federated.equals(a) == Tri::Yes)
            })
            .map(|(p, _)| p)
            .collect()
    }

    /// Whether every declared OIDC provider's ARN is known and provably not the one a
    /// Federated principal names (partitions aside, as in [`LintContext::providers_named`]).
    pub fn names_no_declared_provider(&self, federated: &Str) -> bool {
        let federated = PartitionFree::new(federated);
        (self.provider_arns.iter())
            .all(|arn| arn.as_ref().is_some_and(|a| federated.equals(a) == Tri::No))
    }

    /// The partition a role lives in: from its trust's Federated ARNs or their issuer regions.
    pub fn role_partition(&self, role: &Role) -> Option<String> {
        let mut found: Option<String> = None;
        for s in role.trust.as_ref()?.statements.iter() {
            for f in s.federated.iter().flatten() {
                let from_arn = match f.value.as_known() {
                    // Known, as most are: cut, not split into pieces.
                    Some(text) => (text.strip_prefix("arn:"))
                        .map(|rest| {
                            rest.split_once(':')
                                .map_or(rest, |(partition, _)| partition)
                        })
                        .map(str::to_string),
                    None => f
                        .value
                        .split_literal(":")
                        .and_then(|p| {
                            (p.len() >= 2 && p[0].as_known() == Some("arn"))
                                .then(|| p[1].as_known().map(str::to_string))
                        })
                        .flatten(),
                };
                let from_issuer = federated_issuer(&f.value).and_then(|i| issuer_partition(&i));
                for p in [from_arn, from_issuer].into_iter().flatten() {
                    if found.as_ref().is_some_and(|a| *a != p) {
                        return None;
                    }
                    found = Some(p);
                }
            }
        }
        found
    }
}

/// How close a role's folder is to a ServiceAccount's: the number of leading folders they
/// share (an ancestor root is closest), then the number of folder names both paths have
/// (`k8s/overlays/production` and `infra/envs/production` share `production`).
fn deployment_closeness(sa_dir: &std::path::Path, role_dir: &std::path::Path) -> (usize, usize) {
    let sa: Vec<_> = sa_dir.components().collect();
    let role: Vec<_> = role_dir.components().collect();
    let common = sa.iter().zip(&role).take_while(|(a, b)| a == b).count();
    let shared = sa[common..]
        .iter()
        .filter(|c| role[common..].contains(c))
        .count();
    (common, shared)
}

/// The account a role lives in: its provider's `allowed_account_ids` when there is one,
/// else the account of its trust's Federated ARNs when they agree.
fn role_account(role: &Role) -> Option<String> {
    if let [account] = role.provider_accounts.as_slice() {
        return Some(account.clone());
    }
    let mut found: Option<String> = None;
    for s in role.trust.as_ref()?.statements.iter() {
        for f in s.federated.iter().flatten() {
            let parts = f.value.split_literal(":")?;
            if parts.len() >= 5
                && parts[0].as_known() == Some("arn")
                && parts[2].as_known() == Some("iam")
            {
                let account = parts[4].as_known()?.to_string();
                // Not an account at all: IRSA029 reports the principal, and no annotation can
                // be compared with it.
                if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                if found.as_ref().is_some_and(|a| *a != account) {
                    return None;
                }
                found = Some(account);
            }
        }
    }
    found
}

fn link_service_account(
    facts: &Facts,
    roles_by_name: &RolesByName,
    id: SaId,
    sa: &ServiceAccount,
) -> Option<SaLink> {
    let value = sa.annotation(ROLE_ARN_KEY)?.value.clone()?;
    // An annotation that cannot be a role ARN is IRSA012's finding alone.
    if value
        .value
        .as_known()
        .is_some_and(|t| role_arn_problem(t).is_some())
    {
        return None;
    }
    let arn = RoleArn::parse(&value.value)?;
    let (roles, maybe_other) = roles_named(facts, roles_by_name, &arn);
    Some(SaLink {
        sa: id,
        subject: sa.subject(),
        value,
        arn,
        roles,
        maybe_other,
    })
}

/// The roles proven to have the name an ARN gives, and whether some other role may have it.
fn roles_named(facts: &Facts, roles_by_name: &RolesByName, arn: &RoleArn) -> (Vec<RoleId>, bool) {
    let mut roles = Vec::new();
    let mut maybe_other = false;
    for id in roles_by_name.candidates(&arn.name) {
        let role = facts.role(id);
        match &role.name {
            RoleName::Exact(name) => match name.equals(&arn.name) {
                Tri::Yes => roles.push(id),
                Tri::Unknown => maybe_other = true,
                Tri::No => {}
            },
            RoleName::Prefix(prefix) => {
                // The role's own ARN from Terraform carries its generated name symbolically.
                let mut generated = prefix.clone();
                generated.push_sym(Symbol::NameSuffix(role.symbol_key.clone()));
                if generated.equals(&arn.name) == Tri::Yes {
                    roles.push(id);
                } else if arn.name.starts_with(prefix.as_known().unwrap_or("")) != Tri::No {
                    maybe_other = true;
                }
            }
            RoleName::Unknown => maybe_other = true,
        }
    }
    if roles.is_empty() && !maybe_other {
        maybe_other = roles_by_name.any_other_may_be(facts, &arn.name);
    }
    (roles, maybe_other)
}

/// Roles by their name when it is fully known, so that linking a ServiceAccount does not
/// compare its annotation with every role (quadratic in a large monorepo). Two known names
/// are equal exactly when their texts are, so a known annotation name can only match the
/// roles filed under it and the roles whose name is not fully known.
struct RolesByName<'f> {
    known: HashMap<&'f str, Vec<RoleId>>,
    /// Roles whose exact name is symbolic (a role's own unevaluated name, a name built from
    /// the account): an annotation names one of them only with the very same parts.
    symbolic: HashMap<&'f Str, Vec<RoleId>>,
    /// Roles with a generated or unknown name: every annotation is compared with them.
    others: Vec<RoleId>,
}

impl<'f> RolesByName<'f> {
    fn new(facts: &'f Facts) -> Self {
        let mut known: HashMap<&str, Vec<RoleId>> = HashMap::new();
        let mut symbolic: HashMap<&Str, Vec<RoleId>> = HashMap::new();
        let mut others = Vec::new();
        for (id, role) in facts.roles_with_ids() {
            match &role.name {
                RoleName::Exact(name) if let Some(text) = name.as_known() => {
                    known.entry(text).or_default().push(id)
                }
                RoleName::Exact(name) if !name.has_unknown() => {
                    symbolic.entry(name).or_default().push(id)
                }
                _ => others.push(id),
            }
        }
        RolesByName {
            known,
            symbolic,
            others,
        }
    }

    /// The roles `name` may equal, in order: a known name only those of that name, a
    /// symbolic one only those with the same parts (equality of symbolic strings is
    /// structural), and either every role whose name is generated or unknown.
    fn candidates(&self, name: &Str) -> Vec<RoleId> {
        let mut candidates = self.others.clone();
        match name.as_known() {
            Some(text) => candidates.extend(self.known.get(text).into_iter().flatten()),
            None => candidates.extend(self.symbolic.get(name).into_iter().flatten()),
        }
        candidates.sort_unstable();
        candidates
    }

    /// Whether a role outside [`RolesByName::candidates`] may still have this name: an
    /// annotation whose name is not known could be any role's. Asked only when no role is
    /// proven to be the one named, so the scan over every role is rare.
    fn any_other_may_be(&self, facts: &Facts, name: &Str) -> bool {
        if name.as_known().is_some() {
            return false;
        }
        let exact = self.known.values().chain(self.symbolic.values()).flatten();
        exact.into_iter().any(|&id| match &facts.role(id).name {
            RoleName::Exact(n) => n.equals(name) != Tri::No,
            _ => false,
        })
    }
}
