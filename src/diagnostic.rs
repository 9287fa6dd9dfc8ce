//! The one diagnostic model every rule produces and every output format consumes.
//!
//! It knows nothing of miette, serde, SARIF or LSP: the renderers in `output/` and the
//! language server convert it at the edge.

use crate::facts::{AssociationId, RoleId, SaId};
use crate::source::Span;

/// How serious a finding is. Ordered so that `Note < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Note,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Note => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// The project's home page; rule documentation lives under it (`rules/<ID>.md`).
pub const REPOSITORY_URL: &str = "https://github.com/irsa-lint/irsa-lint";

/// What a rule is, independent of what it checks.
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable forever: never renumbered, never reused.
    pub id: &'static str,
    /// The kebab-case name of the problem, accepted wherever an id is.
    pub name: &'static str,
    pub default_level: Level,
    /// One line, lowercase, no trailing period.
    pub summary: &'static str,
    /// The Markdown documentation (`rules/<ID>.md`).
    pub doc: &'static str,
}

/// Where a rule's documentation is read on the web: the page SARIF's `helpUri` and the
/// language server's `codeDescription.href` link to.
pub fn rule_doc_url(rule_id: &str) -> String {
    format!("{REPOSITORY_URL}/blob/main/rules/{rule_id}.md")
}

/// A place in a file with a short explanation of what is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

impl Label {
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Label {
            span,
            message: message.into(),
        }
    }
}

/// A replacement that fixes the finding when there is exactly one obvious fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub span: Span,
    pub replacement: String,
}

/// What a finding is about: the ServiceAccount, role or Pod Identity association of the
/// wiring whose link it breaks. Views of the wiring (`graph`) and the baseline's fingerprint
/// read this, never the message text, so that a message can be improved freely.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Subject {
    pub service_account: Option<SaId>,
    pub role: Option<RoleId>,
    pub association: Option<AssociationId>,
}

/// One finding: exactly one primary location (what the user should change), any number of
/// related locations (the other ends of the broken link, possibly in other files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub rule_id: &'static str,
    pub rule_name: &'static str,
    pub level: Level,
    /// What is wrong, lowercase, no trailing period, with concrete names.
    pub message: String,
    pub primary: Label,
    pub related: Vec<Label>,
    /// How to fix it, with the corrected value when it is known.
    pub help: Option<String>,
    pub notes: Vec<String>,
    pub fix: Option<Fix>,
    pub subject: Subject,
}

impl Diagnostic {
    pub fn new(rule: &RuleMeta, primary: Label, message: impl Into<String>) -> Self {
        Diagnostic {
            rule_id: rule.id,
            rule_name: rule.name,
            level: rule.default_level,
            message: message.into(),
            primary,
            related: Vec::new(),
            help: None,
            notes: Vec::new(),
            fix: None,
            subject: Subject::default(),
        }
    }

    /// The finding is about this ServiceAccount.
    pub fn about_service_account(mut self, id: SaId) -> Self {
        self.subject.service_account = Some(id);
        self
    }

    /// The finding is about this role.
    pub fn about_role(mut self, id: RoleId) -> Self {
        self.subject.role = Some(id);
        self
    }

    /// The finding is about this Pod Identity association.
    pub fn about_association(mut self, id: AssociationId) -> Self {
        self.subject.association = Some(id);
        self
    }

    pub fn level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    pub fn related(mut self, span: Span, message: impl Into<String>) -> Self {
        self.related.push(Label::new(span, message));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Add a note, once: both ends of a link may say the same thing.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        let note = note.into();
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
        self
    }

    /// Name the module instance a finding comes from (`in module.irsa["api"]`), when the
    /// thing it is about lives in a module.
    pub fn in_module(self, module: &str) -> Self {
        if module.is_empty() {
            self
        } else {
            self.note(format!("in {module}"))
        }
    }

    /// Repeat how a rendering tool changed the object the finding is about.
    pub fn rendered(mut self, how: &[String]) -> Self {
        self.notes.extend(how.iter().cloned());
        self
    }

    /// Say which flags must be on for what the finding is about to exist (`var.enable_x`):
    /// found by evaluating the configuration with the flags that default to false on.
    pub fn when(self, gates: &[String]) -> Self {
        if gates.is_empty() {
            return self;
        }
        self.note(format!(
            "only when {}: off by default, checked as if on",
            gates.join(" and ")
        ))
    }

    pub fn fix(mut self, span: Span, replacement: impl Into<String>) -> Self {
        self.fix = Some(Fix {
            span,
            replacement: replacement.into(),
        });
        self
    }

    /// The key output is sorted by: file, position, rule id, message.
    pub fn sort_key(&self) -> (crate::source::FileId, u32, u32, &'static str, &str) {
        (
            self.primary.span.file,
            self.primary.span.start,
            self.primary.span.end,
            self.rule_id,
            &self.message,
        )
    }
}
