//! Syntax only: HCL, Terraform JSON, YAML, strict JSON and Go templates (Helm's), with
//! positions. Parsing never
//! fails: each parser returns what it could read plus errors, which become IRSA000
//! diagnostics. Nothing here knows AWS, Kubernetes or what a fact is.

pub mod gotemplate;
pub mod hcl;
pub mod json;
pub mod plan;
pub mod tfjson;
pub mod yaml;

use crate::source::Span;

/// A file, YAML document or embedded policy that could not be parsed, or a limit that
/// stopped reading it.
#[derive(Debug, Clone)]
pub struct ParseError {
    pub span: Span,
    pub message: String,
}

impl ParseError {
    /// Whether the text breaks the language's grammar, as opposed to a limit that stopped
    /// reading it or a failure of irsa-lint itself. A template's grammar errors are the
    /// template language's (`crate::text::placeholders::is_template_file`).
    pub fn is_grammar(&self) -> bool {
        const GRAMMARS: &[&str] = &["invalid HCL: ", "invalid YAML: ", "invalid JSON: "];
        GRAMMARS.iter().any(|g| self.message.starts_with(g))
    }
}
