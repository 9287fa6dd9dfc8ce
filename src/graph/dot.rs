//! `--format dot`: a Graphviz digraph (`irsa-lint graph --format dot | dot -Tsvg`).

use super::Link;
use super::drawing::Drawing;
use crate::text::visible::{Breaks, visible};

pub fn render(chains: &[super::Chain]) -> String {
    let drawing = super::drawing::draw(chains);
    let mut out = String::from("digraph irsa {\n");
    out.push_str("    rankdir=LR;\n");
    out.push_str("    node [shape=box, fontname=\"Helvetica\"];\n");
    out.push_str("    edge [fontname=\"Helvetica\"];\n");
    nodes(&drawing, &mut out);
    for edge in &drawing.edges {
        let style = match edge.link {
            Link::Ok => "label=\"ok\", color=\"darkgreen\"".to_string(),
            Link::Broken(rule) => {
                format!("label=\"{rule}\", style=dashed, color=\"red\", fontcolor=\"red\"")
            }
            Link::Unknown => "label=\"unknown\", style=dotted, color=\"gray40\"".to_string(),
        };
        out.push_str(&format!("    {} -> {} [{style}];\n", edge.from, edge.to));
    }
    out.push_str("}\n");
    out
}

fn nodes(drawing: &Drawing, out: &mut String) {
    for (id, node) in &drawing.nodes {
        let label = format!("{}\n{}\n{}", node.kind.noun(), node.label, node.location);
        out.push_str(&format!("    {id} [label=\"{}\"];\n", escape(&label)));
    }
}

/// A DOT quoted string: backslashes and quotes escaped, newlines as `\n`.
fn escape(text: &str) -> String {
    visible(text, Breaks::Keep)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
