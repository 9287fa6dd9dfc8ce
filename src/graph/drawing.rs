//! Chains as a drawing: each node once with an id, each edge once. A role several
//! ServiceAccounts use is one node with several incoming edges.
//!
//! Ids are built from the node's kind and label, so that a reader of the dot or Mermaid
//! source recognises them, and use only `[A-Za-z0-9_]`, which every renderer accepts.

use foldhash::HashSet;

use super::{Chain, Link, Node, NodeKind};

pub struct Drawing<'c> {
    /// In the order of first appearance in the (sorted) chains.
    pub nodes: Vec<(String, &'c Node)>,
    pub edges: Vec<Edge>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub link: Link,
}

pub fn draw(chains: &[Chain]) -> Drawing<'_> {
    let mut drawing = Drawing {
        nodes: Vec::new(),
        edges: Vec::new(),
    };
    for chain in chains {
        let hops = [
            // One edge to the role: broken if the annotation or the trust is.
            (chain.role.as_ref(), chain.to_role.and(chain.to_trust)),
            (chain.provider.as_ref(), chain.to_provider),
            (chain.cluster.as_ref(), chain.to_cluster),
        ];
        let mut from = drawing.id_of(&chain.service_account);
        for (node, link) in hops {
            let Some(node) = node else { break };
            let to = drawing.id_of(node);
            let edge = Edge { from, to, link };
            if !drawing.edges.contains(&edge) {
                drawing.edges.push(edge.clone());
            }
            from = edge.to;
        }
    }
    drawing
}

impl<'c> Drawing<'c> {
    /// The node's id, giving it one on first sight.
    fn id_of(&mut self, node: &'c Node) -> String {
        if let Some((id, _)) = self.nodes.iter().find(|(_, n)| *n == node) {
            return id.clone();
        }
        let base = format!("{}_{}", prefix(node.kind), sanitize(&node.label));
        let taken: HashSet<&str> = self.nodes.iter().map(|(id, _)| id.as_str()).collect();
        let id = (1..)
            .map(|n| match n {
                1 => base.clone(),
                n => format!("{base}_{n}"),
            })
            .find(|id| !taken.contains(id.as_str()))
            .expect("some numbered id is free");
        self.nodes.push((id.clone(), node));
        id
    }
}

fn prefix(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::ServiceAccount => "sa",
        NodeKind::Role => "role",
        NodeKind::Provider => "provider",
        NodeKind::PodIdentity => "pod_identity",
        NodeKind::Cluster => "cluster",
    }
}

/// Letters and digits kept, every other run of characters one `_`.
fn sanitize(label: &str) -> String {
    let mut out = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Location;

    fn node(kind: NodeKind, label: &str, line: u32) -> Node {
        Node {
            location: Location {
                path: "a.yaml".into(),
                line,
            },
            kind,
            label: label.into(),
        }
    }

    #[test]
    fn ids_are_readable_unique_and_shared_nodes_drawn_once() {
        let role = node(NodeKind::Role, "ledger-writer", 9);
        let chain = |sa: Node| Chain {
            service_account: sa,
            role: Some(role.clone()),
            to_role: Link::Ok,
            to_trust: Link::Ok,
            unresolved: None,
            provider: None,
            to_provider: Link::Unknown,
            cluster: None,
            to_cluster: Link::Unknown,
            controller: None,
        };
        let chains = [
            chain(node(NodeKind::ServiceAccount, "pay/api", 1)),
            chain(node(NodeKind::ServiceAccount, "pay.api", 2)),
        ];
        let drawing = draw(&chains);
        let ids: Vec<&str> = drawing.nodes.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["sa_pay_api", "role_ledger_writer", "sa_pay_api_2"]);
        assert_eq!(drawing.edges.len(), 2);
        assert!(drawing.edges.iter().all(|e| e.to == "role_ledger_writer"));
    }
}
