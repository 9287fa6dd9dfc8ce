//! Syntax only: HCL, Terraform JSON, YAML, strict JSON and Go templates (Helm's), with
//! positions. Parsing never
//! fails: each parser returns what it could read plus errors, which become IRSA000
//! diagnostics. Nothing here knows AWS, Kubernetes or what a fact is.

pub mod gotemplate;
pub mod hcl;
pub mod json;
pub mod memo;
pub mod plan;
pub mod tfjson;
pub mod yaml;

use crate::source::Span;

/// Run `work`; a panic becomes its message, so that an internal bug costs the work it was
/// doing (a file, a root module, a resource), never the run. In debug builds,
/// `IRSA_LINT_TEST_PANIC_ON=<point>` makes the work at that point panic, to prove the boundary.
pub(crate) fn catch_panic<T>(point: Option<&str>, work: impl FnOnce() -> T) -> Result<T, String> {
    let run = || {
        if cfg!(debug_assertions)
            && let Ok(target) = std::env::var("IRSA_LINT_TEST_PANIC_ON")
            && point.is_some_and(|p| p == target)
        {
            panic!("test panic requested by IRSA_LINT_TEST_PANIC_ON={target}");
        }
        work()
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string())
    })
}

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
