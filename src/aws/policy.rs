//! IAM policy statements and how IAM evaluates them for a web identity token: condition
//! operators, `:sub`/`:aud` keys, globs, the web identity action, and whether a trust
//! policy admits a claim. Every answer is three-valued; unknown is never a finding.

use std::sync::OnceLock;

use crate::aws::arn::{federated_issuer, is_eks_issuer};
use crate::eval::value::{Str, Tri};
use crate::source::{Span, Spanned};
use crate::text::glob_match;

pub const WEB_IDENTITY_ACTION: &str = "sts:AssumeRoleWithWebIdentity";

/// A trust (assume-role) policy.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustPolicy {
    pub span: Span,
    pub statements: Vec<Statement>,
    /// False when statements may come from somewhere unknown (a merged document, an unknown
    /// list of statements): no rule may conclude that *no* statement admits something.
    pub complete: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone)]
pub struct Statement {
    pub span: Span,
    /// `None` when unknown.
    pub effect: Option<Effect>,
    /// `None` when unknown (or when the statement uses `NotAction`).
    pub actions: Option<Vec<Spanned<Str>>>,
    /// Federated principals; `None` when unknown.
    pub federated: Option<Vec<Spanned<Str>>>,
    /// Service principals (`pods.eks.amazonaws.com`); `None` when unknown.
    pub services: Option<Vec<Spanned<Str>>>,
    /// Conditions; `None` when unknown.
    pub conditions: Option<Vec<Condition>>,
    /// Whether it is about EKS ServiceAccounts ([`is_eks_statement`]), once asked: rules ask
    /// it of every statement of every role, and the language server keeps the answer with
    /// the statement. Empty when made.
    pub(crate) eks: OnceLock<bool>,
}

/// Statements are equal by what they say: whether one was asked about EKS yet is not part
/// of it.
impl PartialEq for Statement {
    fn eq(&self, other: &Self) -> bool {
        let Statement {
            span,
            effect,
            actions,
            federated,
            services,
            conditions,
            eks: _,
        } = self;
        *span == other.span
            && *effect == other.effect
            && *actions == other.actions
            && *federated == other.federated
            && *services == other.services
            && *conditions == other.conditions
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The operator as written, e.g. `StringEquals`, `ForAnyValue:StringLike`.
    pub operator: Spanned<String>,
    pub key: Spanned<Str>,
    /// `None` when the list of values is unknown.
    pub values: Option<Vec<Spanned<Str>>>,
}

/// Whether a condition key is the `:sub` (or `:aud`) key of some issuer.
pub fn key_is(key: &Str, claim: &str) -> bool {
    // Every rule asks this of every condition: compared in place, nothing allocated.
    let known = key.known_suffix().as_bytes();
    let Some(at) = known.len().checked_sub(claim.len() + 1) else {
        return false;
    };
    known[at] == b':'
        && known[at + 1..]
            .iter()
            .map(u8::to_ascii_lowercase)
            .eq(claim.bytes())
}

/// Positive string operators and how they compare (`ForAnyValue:`, `IfExists` stripped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Equals,
    EqualsIgnoreCase,
    Like,
}

pub fn operator(name: &str) -> Option<Operator> {
    // Rules ask this of every condition for every ServiceAccount: the two operators nearly
    // every trust policy writes are answered before the name is taken apart.
    match name {
        "StringEquals" => return Some(Operator::Equals),
        "StringLike" => return Some(Operator::Like),
        _ => {}
    }
    let base = name.rsplit(':').next().unwrap_or(name);
    let base = base.strip_suffix("IfExists").unwrap_or(base);
    match base {
        "StringEquals" => Some(Operator::Equals),
        "StringEqualsIgnoreCase" => Some(Operator::EqualsIgnoreCase),
        "StringLike" => Some(Operator::Like),
        _ => None,
    }
}

/// Whether a condition value admits a concrete claim value.
pub fn value_admits(op: Operator, pattern: &Str, claim: &str) -> Tri {
    match op {
        Operator::Equals => pattern.equals_str(claim),
        Operator::EqualsIgnoreCase => pattern
            .to_ascii_lowercase()
            .equals(&Str::lit(claim.to_ascii_lowercase())),
        Operator::Like => match pattern.as_known() {
            Some(p) => Tri::from_bool(glob_match(p, claim)),
            None => Tri::Unknown,
        },
    }
}

/// Whether one condition (any of its values) admits a claim value.
pub fn condition_admits(c: &Condition, claim: &str) -> Tri {
    let Some(op) = operator(&c.operator.value) else {
        return Tri::Unknown;
    };
    let Some(values) = &c.values else {
        return Tri::Unknown;
    };
    let mut result = Tri::No;
    for v in values {
        match value_admits(op, &v.value, claim) {
            Tri::Yes => return Tri::Yes,
            Tri::Unknown => result = Tri::Unknown,
            Tri::No => {}
        }
    }
    result
}

/// Whether every positive condition on a claim (`sub`, `aud`) of a statement admits the value.
/// `Yes` also when the statement has no such condition.
pub fn statement_admits(s: &Statement, claim: &str, value: &str) -> Tri {
    let Some(conditions) = &s.conditions else {
        return Tri::Unknown;
    };
    let mut result = Tri::Yes;
    for c in conditions.iter().filter(|c| key_is(&c.key.value, claim)) {
        if operator(&c.operator.value).is_none() {
            continue; // negated or other operators can only narrow further
        }
        match condition_admits(c, value) {
            Tri::No => return Tri::No,
            Tri::Unknown => result = Tri::Unknown,
            Tri::Yes => {}
        }
    }
    result
}

/// Whether the statement allows `sts:AssumeRoleWithWebIdentity`.
pub fn allows_web_identity(s: &Statement) -> Tri {
    let Some(actions) = &s.actions else {
        return Tri::Unknown;
    };
    let mut result = Tri::No;
    for a in actions {
        match a.value.as_known() {
            // Actions ignore case; the action itself is no glob, so it matches itself first.
            Some(p) if p.eq_ignore_ascii_case(WEB_IDENTITY_ACTION) => return Tri::Yes,
            // Without a wildcard, a glob is an equality.
            Some(p) if !p.bytes().any(|b| b == b'*' || b == b'?') => {}
            Some(p) => {
                if glob_match(
                    &p.to_ascii_lowercase(),
                    &WEB_IDENTITY_ACTION.to_ascii_lowercase(),
                ) {
                    return Tri::Yes;
                }
            }
            None => result = Tri::Unknown,
        }
    }
    result
}

/// The Federated principals of a statement that are EKS OIDC providers.
pub fn eks_principals(s: &Statement) -> impl Iterator<Item = &Spanned<Str>> {
    s.federated
        .iter()
        .flatten()
        .filter(|f| federated_issuer(&f.value).is_some_and(|i| is_eks_issuer(&i)))
}

/// A statement about Kubernetes service accounts of an EKS cluster: its Federated principal is
/// an EKS OIDC provider, or its `:sub` condition names `system:serviceaccount:` subjects.
pub fn is_eks_statement(s: &Statement) -> bool {
    *s.eks.get_or_init(|| eks_statement(s))
}

fn eks_statement(s: &Statement) -> bool {
    let federated = s
        .federated
        .iter()
        .flatten()
        .any(|f| federated_issuer(&f.value).is_some_and(|i| is_eks_issuer(&i)));
    let subjects = s.conditions.iter().flatten().any(|c| {
        key_is(&c.key.value, "sub")
            && c.values
                .iter()
                .flatten()
                .any(|v| v.value.starts_with("system:serviceaccount:") == Tri::Yes)
    });
    federated || subjects
}

/// How a role's trust policy answers one claim value (`sub` or `aud`).
#[derive(Debug)]
pub enum Admission<'a> {
    Admitted,
    Unknown,
    /// Provably rejected; the condition values that reject it, for the message.
    Rejected(Vec<&'a Spanned<Str>>),
}

impl TrustPolicy {
    /// Whether any web-identity Allow statement admits `claim` = `value`. For `aud`, only
    /// statements that also admit `subject` are considered.
    pub fn admits(&self, claim: &str, value: &str, subject: Option<&str>) -> Admission<'_> {
        let trust = self;
        let mut rejecting = Vec::new();
        let mut relevant = 0;
        for s in &trust.statements {
            if s.effect == Some(Effect::Deny)
                || allows_web_identity(s) == Tri::No
                || s.federated.as_ref().is_some_and(|f| f.is_empty())
            {
                continue;
            }
            if let Some(subject) = subject
                && statement_admits(s, "sub", subject) == Tri::No
            {
                continue;
            }
            relevant += 1;
            let certain =
                s.effect.is_some() && allows_web_identity(s) == Tri::Yes && s.federated.is_some();
            match statement_admits(s, claim, value) {
                Tri::No => rejecting.extend(
                    s.conditions
                        .iter()
                        .flatten()
                        .filter(|c| {
                            key_is(&c.key.value, claim) && operator(&c.operator.value).is_some()
                        })
                        .flat_map(|c| c.values.iter().flatten()),
                ),
                Tri::Yes if certain => return Admission::Admitted,
                _ => return Admission::Unknown,
            }
        }
        if relevant == 0 || !trust.complete {
            return Admission::Unknown;
        }
        Admission::Rejected(rejecting)
    }

    /// Whether a web-identity Allow statement names `subject` itself (a value equal to it, not a
    /// pattern it happens to match) and all its `:sub` conditions admit it: the role is meant for
    /// exactly this ServiceAccount.
    pub fn names_exactly(&self, subject: &str) -> bool {
        self.statements.iter().any(|s| {
            s.effect == Some(Effect::Allow)
                && allows_web_identity(s) == Tri::Yes
                && statement_admits(s, "sub", subject) == Tri::Yes
                && s.conditions.iter().flatten().any(|c| {
                    key_is(&c.key.value, "sub")
                        && c.values.iter().flatten().any(|v| {
                            v.value.as_known().is_some_and(|text| {
                                value_names_exactly(operator(&c.operator.value), text, subject)
                            })
                        })
                })
        })
    }
}

fn value_names_exactly(op: Option<Operator>, value: &str, subject: &str) -> bool {
    match op {
        Some(Operator::Equals) => value == subject,
        Some(Operator::EqualsIgnoreCase) => value.eq_ignore_ascii_case(subject),
        Some(Operator::Like) => value == subject && !value.contains(['*', '?']),
        None => false,
    }
}
