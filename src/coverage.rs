//! What a run could and could not check, so that a clean report is never silently empty.
//!
//! Every ServiceAccount that uses an IAM role (a role-arn annotation or a Pod Identity
//! association) is counted once, by the chains `graph` draws for it: fully checked when the
//! link to its role and the role's trust of it were decided (ok, or broken with a finding),
//! partly checked when the role was found but its trust or provider could not be evaluated,
//! and not checkable when the role itself could not be found. The counts are the same in
//! every output format; `--fail-on unchecked` fails on what is not fully checked.

use foldhash::{HashMap, HashMapExt};

use crate::diagnostic::Diagnostic;
use crate::graph::{Chain, Link, Node, Unresolved};
use crate::link::LintContext;

/// How much of the wiring a run checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// ServiceAccounts that use an IAM role.
    pub service_accounts: usize,
    /// Their role was found and its trust of them decided, or a finding says what is wrong.
    pub fully_checked: usize,
    /// Their role was found, but its trust policy or provider could not be evaluated.
    pub partly_checked: usize,
    /// Their role is in `external_roles` / `external_accounts`: managed elsewhere, on purpose.
    pub external: usize,
    /// Their role could not be found: not in the scan.
    pub role_not_in_scan: usize,
    /// Their role ARN is known only once a template is rendered or Terraform applies.
    pub role_not_evaluated: usize,
    /// Their own name or namespace is known only once rendered or applied.
    pub service_account_unknown: usize,
    /// Whether any Terraform or eksctl config was read: without either, no role can be.
    pub infrastructure_read: bool,
    /// Template files (Jinja, Helm, sed tokens) not linted: not Terraform or YAML until
    /// rendered.
    pub templates_not_read: usize,
}

/// Each ServiceAccount's worst chain status.
type Worst = HashMap<Node, Status>;

/// A ServiceAccount counts once, at the worst of its chains.
fn keep_worst(worst: &mut Worst, service_account: Node, status: Status) {
    worst
        .entry(service_account)
        .and_modify(|s| *s = (*s).min(status))
        .or_insert(status);
}

impl Coverage {
    /// Count the chains of a linted scan, one ServiceAccount at a time.
    pub fn of(chains: &[Chain], infrastructure_read: bool) -> Coverage {
        let mut worst = Worst::new();
        for chain in chains {
            keep_worst(&mut worst, chain.service_account.clone(), Status::of(chain));
        }
        Self::count(worst.into_values(), infrastructure_read)
    }

    /// Count a lint's chains as they are made, keeping only each ServiceAccount's worst
    /// status: the same counts as [`Coverage::of`] over [`crate::graph::chains`], without
    /// holding every chain of a monorepo (at 100,000 services that was 300 MB).
    pub fn of_lint(
        ctx: &LintContext,
        diagnostics: &[Diagnostic],
        infrastructure_read: bool,
    ) -> Coverage {
        let add = |mut worst: Worst, chains: Vec<Chain>| {
            for chain in chains {
                let status = Status::of(&chain);
                keep_worst(&mut worst, chain.service_account, status);
            }
            worst
        };
        let join = |mut a: Worst, b: Worst| {
            for (node, status) in b {
                keep_worst(&mut a, node, status);
            }
            a
        };
        let worst = crate::graph::fold_chains(ctx, diagnostics, Worst::new, add, join);
        Self::count(worst.into_values(), infrastructure_read)
    }

    fn count(worst: impl Iterator<Item = Status>, infrastructure_read: bool) -> Coverage {
        let mut coverage = Coverage {
            infrastructure_read,
            ..Coverage::default()
        };
        for status in worst {
            coverage.service_accounts += 1;
            *match status {
                Status::Unresolved(Unresolved::NotInScan) => &mut coverage.role_not_in_scan,
                Status::Unresolved(Unresolved::NotEvaluated) => &mut coverage.role_not_evaluated,
                Status::Unresolved(Unresolved::External) => &mut coverage.external,
                Status::Unresolved(Unresolved::ServiceAccountUnknown) => {
                    &mut coverage.service_account_unknown
                }
                Status::Partly => &mut coverage.partly_checked,
                Status::Fully => &mut coverage.fully_checked,
            } += 1;
        }
        coverage
    }

    /// ServiceAccounts whose role could not be found.
    pub fn not_checkable(&self) -> usize {
        self.role_not_in_scan + self.role_not_evaluated + self.service_account_unknown
    }

    /// ServiceAccounts some link of which is unknown (external roles are not: the
    /// configuration says they are managed elsewhere).
    pub fn unchecked(&self) -> usize {
        self.partly_checked + self.not_checkable()
    }

    /// What was and was not checked, in one line for people.
    pub fn summary(&self) -> String {
        let mut line = self.service_account_summary();
        if self.templates_not_read > 0 {
            line.push_str(&format!(
                "; {} not linted (not YAML or Terraform until rendered or joined; `--verbose` lists them)",
                counted(self.templates_not_read, "template file", "template files")
            ));
        }
        line
    }

    fn service_account_summary(&self) -> String {
        let n = self.service_accounts;
        if n == 0 {
            return "no ServiceAccount in the scan uses an IAM role".to_string();
        }
        if !self.infrastructure_read {
            return format!(
                "no Terraform or eksctl config in the scan: the {} of {} could not be checked \
                 (lint the Terraform that defines the roles together with the manifests)",
                plural(n, "role", "roles").1,
                counted(n, "ServiceAccount", "ServiceAccounts"),
            );
        }
        let mut parts = vec![format!("{} fully checked", self.fully_checked)];
        if self.partly_checked > 0 {
            parts.push(format!(
                "{} partly checked (the role's trust policy or provider could not be evaluated)",
                self.partly_checked
            ));
        }
        let mut why = Vec::new();
        if self.role_not_in_scan > 0 {
            why.push(format!(
                "{}no scanned Terraform or eksctl config defines the role",
                self.count_if_mixed(self.role_not_in_scan)
            ));
        }
        if self.role_not_evaluated > 0 {
            why.push(format!(
                "{}the role ARN is known only once rendered or applied",
                self.count_if_mixed(self.role_not_evaluated)
            ));
        }
        if self.service_account_unknown > 0 {
            why.push(format!(
                "{}the ServiceAccount's name is known only once rendered or applied",
                self.count_if_mixed(self.service_account_unknown)
            ));
        }
        if !why.is_empty() {
            parts.push(format!(
                "{} not checkable ({})",
                self.not_checkable(),
                why.join("; ")
            ));
        }
        if self.external > 0 {
            parts.push(format!(
                "{} managed elsewhere (external_roles)",
                self.external
            ));
        }
        let mut line = format!(
            "{} with a role: {}",
            counted(n, "ServiceAccount", "ServiceAccounts"),
            parts.join(", ")
        );
        if self.unchecked() > 0 {
            line.push_str("; run `irsa-lint graph` to see each link");
        }
        line
    }

    /// `2: ` before a reason when there are several reasons, nothing when there is one.
    fn count_if_mixed(&self, count: usize) -> String {
        let reasons = [
            self.role_not_in_scan,
            self.role_not_evaluated,
            self.service_account_unknown,
        ];
        if reasons.iter().filter(|&&n| n > 0).count() > 1 {
            format!("{count}: ")
        } else {
            String::new()
        }
    }
}

/// How far one chain was checked, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Status {
    Unresolved(Unresolved),
    Partly,
    Fully,
}

impl Status {
    fn of(chain: &Chain) -> Status {
        // Past the role: its trust of the ServiceAccount, and the provider that trust names.
        match (chain.to_role, chain.to_trust.and(chain.to_provider)) {
            (Link::Unknown, _) => Status::Unresolved(chain.unresolved.unwrap_or_default()),
            // A broken link to the role is a finding: checked, and found wrong.
            (Link::Broken(_), _) | (_, Link::Broken(_)) => Status::Fully,
            (Link::Ok, Link::Ok) => Status::Fully,
            (Link::Ok, Link::Unknown) => Status::Partly,
        }
    }
}

fn counted(n: usize, one: &str, many: &str) -> String {
    let (n, word) = plural(n, one, many);
    format!("{n} {word}")
}

fn plural<'w>(n: usize, one: &'w str, many: &'w str) -> (usize, &'w str) {
    (n, if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Location, NodeKind};

    fn sa(name: &str) -> Node {
        Node {
            location: Location {
                path: "k8s/sa.yaml".into(),
                line: 1,
            },
            kind: NodeKind::ServiceAccount,
            label: name.into(),
        }
    }

    fn chain(name: &str, to_role: Link, to_provider: Link, why: Option<Unresolved>) -> Chain {
        Chain {
            service_account: sa(name),
            role: None,
            to_role,
            to_trust: Link::Ok,
            unresolved: why,
            provider: None,
            to_provider,
            cluster: None,
            to_cluster: Link::Unknown,
            controller: None,
        }
    }

    #[test]
    fn each_service_account_counts_once_at_its_least_checked_chain() {
        let chains = [
            chain("pay/api", Link::Ok, Link::Ok, None),
            chain("pay/api", Link::Ok, Link::Unknown, None),
            chain("pay/worker", Link::Broken("IRSA001"), Link::Unknown, None),
            chain(
                "pay/cron",
                Link::Unknown,
                Link::Unknown,
                Some(Unresolved::NotInScan),
            ),
            chain(
                "pay/batch",
                Link::Unknown,
                Link::Unknown,
                Some(Unresolved::External),
            ),
        ];
        let coverage = Coverage::of(&chains, true);
        assert_eq!(coverage.service_accounts, 4);
        assert_eq!(coverage.fully_checked, 1);
        assert_eq!(coverage.partly_checked, 1);
        assert_eq!(coverage.role_not_in_scan, 1);
        assert_eq!(coverage.external, 1);
        assert_eq!(coverage.unchecked(), 2);
        assert_eq!(
            coverage.summary(),
            "4 ServiceAccounts with a role: 1 fully checked, 1 partly checked (the role's trust \
             policy or provider could not be evaluated), 1 not checkable (no scanned Terraform \
             or eksctl config defines the role), 1 managed elsewhere (external_roles); run \
             `irsa-lint graph` to see each link"
        );
    }

    #[test]
    fn manifests_alone_say_that_nothing_could_be_checked() {
        let chains = [chain(
            "pay/api",
            Link::Unknown,
            Link::Unknown,
            Some(Unresolved::NotInScan),
        )];
        assert_eq!(
            Coverage::of(&chains, false).summary(),
            "no Terraform or eksctl config in the scan: the role of 1 ServiceAccount could not \
             be checked (lint the Terraform that defines the roles together with the manifests)"
        );
        assert_eq!(
            Coverage::of(&[], true).summary(),
            "no ServiceAccount in the scan uses an IAM role"
        );
    }
}
