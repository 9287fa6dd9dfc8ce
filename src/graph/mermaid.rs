//! `--format mermaid`: a `flowchart LR` that GitHub and GitLab draw inside a ```mermaid
//! block. Broken links are dashed and labelled with the rule that broke them.
//!
//! Only two kinds of line follow the header: `id["label"]` and `a -->|label| b` (or `-.->`
//! for broken links), so that the output is easy to check and to post-process.

use super::Link;
use crate::text::visible::{Breaks, visible};

pub fn render(chains: &[super::Chain]) -> String {
    let drawing = super::drawing::draw(chains);
    let mut out = String::from("flowchart LR\n");
    for (id, node) in &drawing.nodes {
        let label = format!(
            "{}<br/>{}<br/>{}",
            escape(node.kind.noun()),
            escape(&node.label),
            escape(&node.location.to_string())
        );
        out.push_str(&format!("    {id}[\"{label}\"]\n"));
    }
    for edge in &drawing.edges {
        let arrow = match edge.link {
            Link::Ok => "-->|ok|".to_string(),
            Link::Broken(rule) => format!("-.->|{rule}|"),
            Link::Unknown => "-->|unknown|".to_string(),
        };
        out.push_str(&format!("    {} {arrow} {}\n", edge.from, edge.to));
    }
    out
}

/// Mermaid's entity codes for what would end the quoted label or be read as HTML.
fn escape(text: &str) -> String {
    let mut out = String::new();
    for c in visible(text, Breaks::Escape).chars() {
        match c {
            '#' => out.push_str("#35;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_never_hold_quotes_or_tags() {
        assert_eq!(
            escape(r#"module.irsa["api"] <random suffix> #1"#),
            "module.irsa[#quot;api#quot;] #lt;random suffix#gt; #35;1"
        );
    }
}
