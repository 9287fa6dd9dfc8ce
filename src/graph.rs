//! The wiring graph: for every ServiceAccount that uses an IAM role, the chain
//! ServiceAccount → role → OIDC provider → cluster, each link `ok`, `broken (IRSAxxx)` or
//! `unknown`, and the role's trust of the ServiceAccount (its `:sub`/`:aud` conditions)
//! as a link of its own, so that a namespace typo is shown where it is.
//!
//! It draws what `check` already knows and decides nothing of its own: the nodes come from
//! the facts and their links, and a link is broken only where a rule reported a finding on
//! it. A link the files cannot settle is unknown, never broken. Rendering (`table`, `dot`,
//! `mermaid`) sees only [`Chain`]s, never facts, spans or diagnostics.

mod dot;
mod drawing;
mod findings;
mod irsa;
mod mermaid;
mod pod_identity;
mod table;

use std::fmt;

use crate::diagnostic::Diagnostic;
use crate::eval::value::Tri;
use crate::facts::{Cluster, OidcProvider};
use crate::link::LintContext;
use crate::source::Span;

use findings::Findings;

/// How `irsa-lint graph` prints the chains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns: service account, role, provider, cluster, status.
    Table,
    /// A Graphviz digraph (`dot -Tsvg`).
    Dot,
    /// A Mermaid flowchart, which GitHub and GitLab draw in Markdown.
    Mermaid,
}

/// Where a node is written, as `path:line`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub path: String,
    pub line: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.path, self.line)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeKind {
    ServiceAccount,
    Role,
    /// An OIDC provider, trusted through `sts:AssumeRoleWithWebIdentity` (IRSA).
    Provider,
    /// The Pod Identity service, which a Pod Identity role trusts in place of a provider.
    PodIdentity,
    Cluster,
}

impl NodeKind {
    /// What the node is, for drawings where no column header says it.
    pub fn noun(self) -> &'static str {
        match self {
            NodeKind::ServiceAccount => "ServiceAccount",
            NodeKind::Role => "IAM role",
            NodeKind::Provider => "OIDC provider",
            NodeKind::PodIdentity => "Pod Identity",
            NodeKind::Cluster => "EKS cluster",
        }
    }
}

/// One thing in the chain. Fields are in sort order: by place first, so that chains are
/// listed in the order of the files.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Node {
    pub location: Location,
    pub kind: NodeKind,
    /// What the user calls it: `payments/api`, a role name, a Terraform address.
    pub label: String,
}

/// The state of one link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Link {
    Ok,
    /// A rule reported this link: its id.
    Broken(&'static str),
    /// The files cannot tell (a role or provider outside the scan, a value known only after
    /// apply).
    Unknown,
}

impl Link {
    /// Both links in a row: the first broken one, else unknown if either is, else ok.
    pub fn and(self, then: Link) -> Link {
        match (self, then) {
            (Link::Broken(rule), _) | (_, Link::Broken(rule)) => Link::Broken(rule),
            (Link::Ok, Link::Ok) => Link::Ok,
            _ => Link::Unknown,
        }
    }
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Link::Ok => f.write_str("ok"),
            Link::Broken(rule) => write!(f, "broken ({rule})"),
            Link::Unknown => f.write_str("unknown"),
        }
    }
}

/// Why the link to a chain's role is unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unresolved {
    /// No scanned Terraform or eksctl config defines a role of that name (in that account).
    #[default]
    NotInScan,
    /// The role ARN is known only once a template is rendered or Terraform applies.
    NotEvaluated,
    /// The configuration lists the role (or its account) as managed elsewhere.
    External,
    /// The ServiceAccount's own name or namespace is known only once rendered or applied.
    ServiceAccountUnknown,
}

/// ServiceAccount → role → provider → cluster. A missing node ends the chain there; the
/// links after it are unknown.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Chain {
    pub service_account: Node,
    pub role: Option<Node>,
    /// The annotation (or association) names the role.
    pub to_role: Link,
    /// The role's trust admits this ServiceAccount's token (subject and audience).
    pub to_trust: Link,
    /// Why `to_role` is unknown, when it is.
    pub unresolved: Option<Unresolved>,
    pub provider: Option<Node>,
    pub to_provider: Link,
    pub cluster: Option<Node>,
    pub to_cluster: Link,
    /// A known controller the ServiceAccount runs (`external-dns v0.17.0`), and whether the
    /// policy reaching its role allows what that version needs (IRSA030).
    pub controller: Option<(String, Link)>,
}

/// The provider and cluster end of a chain, found from a role.
#[derive(Debug, Clone)]
struct Tail {
    to_trust: Link,
    provider: Option<Node>,
    to_provider: Link,
    cluster: Option<Node>,
    to_cluster: Link,
}

impl Tail {
    const UNKNOWN: Tail = Tail {
        to_trust: Link::Unknown,
        provider: None,
        to_provider: Link::Unknown,
        cluster: None,
        to_cluster: Link::Unknown,
    };
}

impl Chain {
    /// A chain whose role is not known, and why.
    fn unresolved(service_account: Node, role: Option<Node>, why: Unresolved) -> Chain {
        Chain {
            unresolved: Some(why),
            ..Chain::new(service_account, role, Link::Unknown, Tail::UNKNOWN)
        }
    }

    fn new(service_account: Node, role: Option<Node>, to_role: Link, tail: Tail) -> Chain {
        Chain {
            service_account,
            role,
            to_role,
            to_trust: tail.to_trust,
            unresolved: None,
            provider: tail.provider,
            to_provider: tail.to_provider,
            cluster: tail.cluster,
            to_cluster: tail.to_cluster,
            controller: None,
        }
    }
}

/// Every chain of a linted scan, sorted by the ServiceAccount's place, duplicates removed.
pub fn chains(ctx: &LintContext, diagnostics: &[Diagnostic]) -> Vec<Chain> {
    let mut out = fold_chains(
        ctx,
        diagnostics,
        Vec::new,
        |mut all, chains| {
            all.extend(chains);
            all
        },
        |mut a, b| {
            a.extend(b);
            a
        },
    );
    out.sort();
    out.dedup();
    out
}

/// Every chain of the scan, in no particular order and possibly twice, folded as it is made
/// (see [`irsa::fold`]) rather than kept: `check` counts them without holding them all.
pub fn fold_chains<T: Send>(
    ctx: &LintContext,
    diagnostics: &[Diagnostic],
    identity: impl Fn() -> T + Sync + Send,
    fold: impl Fn(T, Vec<Chain>) -> T + Sync + Send,
    reduce: impl Fn(T, T) -> T + Sync + Send,
) -> T {
    let findings = Findings::new(diagnostics);
    let mut others = Vec::new();
    pod_identity::chains(ctx, &findings, &mut others);
    unresolved_chains(ctx, &mut others);
    let annotated = irsa::fold(ctx, &findings, &identity, &fold, &reduce);
    fold(annotated, others)
}

/// ServiceAccounts given a role whose name or namespace the files cannot tell: one row each,
/// marked unknown with the reason, instead of vanishing.
fn unresolved_chains(ctx: &LintContext, out: &mut Vec<Chain>) {
    for sa in &ctx.facts.unresolved_service_accounts {
        let label = format!("? ({})", sa.why);
        let sa_node = node(ctx, NodeKind::ServiceAccount, label, sa.span);
        let role = sa.role_arn.as_ref().map(|arn| {
            let name = crate::aws::arn::RoleArn::parse(&arn.value)
                .map_or_else(|| arn.value.display(), |a| a.name.display());
            node(ctx, NodeKind::Role, name, arn.span)
        });
        out.push(Chain::unresolved(
            sa_node,
            role,
            Unresolved::ServiceAccountUnknown,
        ));
    }
}

/// The chains in one format, ending with a newline.
pub fn render(format: Format, chains: &[Chain]) -> String {
    match format {
        Format::Table => table::render(chains),
        Format::Dot => dot::render(chains),
        Format::Mermaid => mermaid::render(chains),
    }
}

fn node(ctx: &LintContext, kind: NodeKind, label: impl Into<String>, span: Span) -> Node {
    let file = ctx.sources.get(span.file);
    Node {
        location: Location {
            path: file.path.display().to_string(),
            line: file.line_of(span.start),
        },
        kind,
        label: label.into(),
    }
}

fn provider_node(ctx: &LintContext, provider: &OidcProvider) -> Node {
    node(ctx, NodeKind::Provider, &provider.address, provider.span)
}

/// The cluster whose issuer the provider's URL is, when the files prove it.
fn cluster_of_provider(ctx: &LintContext, provider: &OidcProvider) -> (Option<Node>, Link) {
    let issuer = provider.url.as_ref().map(|url| {
        url.value
            .strip_prefix("https://")
            .unwrap_or_else(|| url.value.clone())
    });
    match issuer {
        Some(issuer) => cluster_of_issuer(ctx, &issuer),
        None => (None, Link::Unknown),
    }
}

fn cluster_of_issuer(ctx: &LintContext, issuer: &crate::eval::value::Str) -> (Option<Node>, Link) {
    let cluster = ctx
        .facts
        .clusters
        .iter()
        .find(|c| c.issuer.equals(issuer) == Tri::Yes);
    match cluster {
        Some(c) => (Some(cluster_node(ctx, c)), Link::Ok),
        None => (None, Link::Unknown),
    }
}

fn cluster_node(ctx: &LintContext, cluster: &Cluster) -> Node {
    let label = match cluster.name.as_ref().and_then(|n| n.as_known()) {
        Some(name) => format!("{name} ({})", cluster.address),
        None => cluster.address.clone(),
    };
    node(ctx, NodeKind::Cluster, label, cluster.span)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(path: &str, line: u32, kind: NodeKind, label: &str) -> Node {
        Node {
            location: Location {
                path: path.into(),
                line,
            },
            kind,
            label: label.into(),
        }
    }

    /// An ok chain, one broken at the trust, one whose role is not in the scan.
    fn chains() -> Vec<Chain> {
        let provider = at(
            "infra/eks.tf",
            42,
            NodeKind::Provider,
            "aws_iam_openid_connect_provider.eks",
        );
        let cluster = at(
            "infra/eks.tf",
            25,
            NodeKind::Cluster,
            "shop-prod (aws_eks_cluster.main)",
        );
        let tail = |to_trust| Tail {
            to_trust,
            provider: Some(provider.clone()),
            to_provider: Link::Ok,
            cluster: Some(cluster.clone()),
            to_cluster: Link::Ok,
        };
        let sa = |line, name| at("k8s/sa.yaml", line, NodeKind::ServiceAccount, name);
        let role = |line, name| Some(at("infra/iam.tf", line, NodeKind::Role, name));
        vec![
            Chain::new(
                sa(4, "pay/api"),
                role(3, "pay-api"),
                Link::Ok,
                tail(Link::Ok),
            ),
            Chain::new(
                sa(12, "pay/worker"),
                role(19, "pay-worker"),
                Link::Ok,
                tail(Link::Broken("IRSA003")),
            ),
            Chain::unresolved(
                sa(20, "pay/reports"),
                Some(at(
                    "k8s/sa.yaml",
                    25,
                    NodeKind::Role,
                    "reports (not in the scan)",
                )),
                Unresolved::NotInScan,
            ),
        ]
    }

    #[test]
    fn table_dot_and_mermaid_draw_the_same_chains() {
        let chains = chains();
        insta::assert_snapshot!("table", render(Format::Table, &chains));
        insta::assert_snapshot!("dot", render(Format::Dot, &chains));
        insta::assert_snapshot!("mermaid", render(Format::Mermaid, &chains));
    }
}
