//! `--format table`: one line per chain, in aligned columns, for a reader in a terminal.

use super::{Chain, Node};
use crate::text::visible::{Breaks, visible};

const HEADER: [&str; 5] = ["SERVICE ACCOUNT", "ROLE", "PROVIDER", "CLUSTER", "STATUS"];

pub fn render(chains: &[Chain]) -> String {
    if chains.is_empty() {
        return "no service account with an IAM role found\n".to_string();
    }
    let rows: Vec<[String; 5]> = chains.iter().map(row).collect();
    let header = HEADER.map(String::from);
    let width = |column: usize| {
        rows.iter()
            .chain([&header])
            .map(|row| row[column].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2), width(3)];
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        for (cell, width) in row.iter().zip(widths) {
            out.push_str(&format!("{cell:width$}  "));
        }
        out.push_str(&row[4]);
        out.push('\n');
    }
    out
}

/// Each node as `label (path:line)`; the status names each link by the node it leads to.
fn row(chain: &Chain) -> [String; 5] {
    let mut status = format!(
        "role {}, trust {}, provider {}, cluster {}",
        chain.to_role, chain.to_trust, chain.to_provider, chain.to_cluster
    );
    if let Some((controller, policy)) = &chain.controller {
        status.push_str(&format!(", policy for {controller} {policy}"));
    }
    [
        cell(Some(&chain.service_account)),
        cell(chain.role.as_ref()),
        cell(chain.provider.as_ref()),
        cell(chain.cluster.as_ref()),
        status,
    ]
}

fn cell(node: Option<&Node>) -> String {
    match node {
        Some(node) => {
            let text = format!("{} ({})", node.label, node.location);
            visible(&text, Breaks::Escape).into_owned()
        }
        None => "-".to_string(),
    }
}
