//! The `sub` claim of a Kubernetes ServiceAccount token, `system:serviceaccount:<namespace>:<name>`,
//! and whether a trust condition value can ever equal one: Kubernetes names are DNS-1123
//! labels (namespaces) and subdomains (ServiceAccount names), so a subject with another shape,
//! or with a name Kubernetes refuses, is carried by no token at all.
//!
//! Every answer is proven from what is written: a symbolic part may be any text, and a value
//! is impossible only when no text in its place could make it a ServiceAccount's subject.

use crate::aws::policy::Operator;
use crate::eval::value::{Part, Str};

/// What every ServiceAccount token's `sub` starts with.
pub const SUBJECT_PREFIX: &str = "system:serviceaccount:";

/// Why no ServiceAccount token can carry a subject, and the subject meant when it is plain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impossible {
    /// What is wrong, to follow "no service account token carries it: ".
    pub reason: String,
    /// The value with the mistake undone, when there is one obvious correction.
    pub meant: Option<String>,
    /// What Kubernetes accepts, when the reason is a name it refuses.
    pub rule: Option<&'static str>,
}

impl Impossible {
    fn new(reason: impl Into<String>, meant: Option<String>) -> Self {
        Impossible {
            reason: reason.into(),
            meant,
            rule: None,
        }
    }
}

/// Why the value of a `:sub` condition under `op` can never match a ServiceAccount token, or
/// `None` when some token may match it (or the value is not known well enough to tell).
///
/// A `StringEquals` value with `*` or `?` is left alone: the wildcard is compared literally,
/// which is IRSA007's finding. An IAM policy variable (`${aws:...}`) is unknown.
pub fn impossible(op: Operator, value: &Str) -> Option<Impossible> {
    // IRSA031 asks this of every `:sub` value on every run: nothing is allocated before
    // the value is known to need it.
    let literals = || {
        value.parts().iter().filter_map(|p| match p {
            Part::Lit(l) => Some(l.as_str()),
            Part::Sym(_) => None,
        })
    };
    if literals().any(|l| l.contains("${")) {
        return None;
    }
    let wildcards = literals().any(|l| l.contains(['*', '?']));
    if wildcards && op != Operator::Like {
        return None;
    }
    let lowered;
    let value = match op {
        Operator::EqualsIgnoreCase => {
            lowered = value.to_ascii_lowercase();
            &lowered
        }
        _ => value,
    };
    if let Some(text) = value.as_known()
        && !wildcards
    {
        return known_problem(text);
    }
    // A pattern, or a value with symbolic parts: each `*`, `?` or symbol stands for what it
    // may be. Impossible only when no expansion is a ServiceAccount's subject.
    let mut pattern = Vec::new();
    for part in value.parts() {
        match part {
            Part::Lit(text) => pattern.extend(text.chars().map(|c| match c {
                '*' if op == Operator::Like => Glob::Any,
                '?' if op == Operator::Like => Glob::One,
                c => Glob::Char(c),
            })),
            Part::Sym(_) => pattern.push(Glob::Any),
        }
    }
    if may_match_subject(&pattern) {
        return None;
    }
    let mut problem = pattern_problem(value.known_prefix());
    // `system:serviceaccounts:ci:*`: the singular is what was meant.
    if let Some(rest) = value
        .as_known()
        .and_then(|text| text.strip_prefix("system:serviceaccounts:"))
    {
        let singular = format!("{SUBJECT_PREFIX}{rest}");
        if impossible(op, &Str::lit(singular.as_str())).is_none() {
            problem.meant = Some(singular);
        }
    }
    Some(problem)
}

/// A Kubernetes namespace: a DNS-1123 label.
pub fn is_namespace(s: &str) -> bool {
    s.len() <= 63 && is_label(s)
}

/// A ServiceAccount name: a DNS-1123 subdomain.
pub fn is_service_account_name(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_label)
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, without the length limit.
fn is_label(s: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = s.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) => {
            alnum(first) && alnum(last) && bytes.iter().all(|&b| alnum(b) || b == b'-')
        }
        _ => false,
    }
}

/// The problem of a fully known value.
fn known_problem(text: &str) -> Option<Impossible> {
    let Some(rest) = text.strip_prefix(SUBJECT_PREFIX) else {
        return Some(prefix_problem(text));
    };
    let parts: Vec<&str> = rest.split(':').collect();
    match parts.as_slice() {
        [namespace, name] => name_problem(namespace, name),
        [only] => Some(match only.split_once('/') {
            Some((namespace, name)) if is_namespace(namespace) && is_service_account_name(name) => {
                Impossible::new(
                    format!("`{only}` separates namespace and name with `/` instead of `:`"),
                    Some(format!("{SUBJECT_PREFIX}{namespace}:{name}")),
                )
            }
            _ if only.is_empty() => Impossible::new("the namespace and name are missing", None),
            _ => Impossible::new(
                format!(
                    "it has no name part after namespace `{only}` (system:serviceaccount:<namespace>:<name>)"
                ),
                None,
            ),
        }),
        _ if rest.starts_with(SUBJECT_PREFIX) => Some(Impossible::new(
            "system:serviceaccount: is written twice",
            known_problem(rest).is_none().then(|| rest.to_string()),
        )),
        _ => Some(Impossible::new(
            format!(
                "`{rest}` has {} colon-separated parts where a subject has a namespace and a name",
                parts.len()
            ),
            None,
        )),
    }
}

/// A value that does not start with `system:serviceaccount:`.
fn prefix_problem(text: &str) -> Impossible {
    let fixed = |rest: &str| {
        let meant = format!("{SUBJECT_PREFIX}{rest}");
        known_problem(&meant).is_none().then_some(meant)
    };
    if let Some(rest) = text.strip_prefix("system:serviceaccounts:") {
        return Impossible::new(
            "system:serviceaccounts (plural) is the group of ServiceAccounts, not a token subject",
            fixed(rest),
        );
    }
    if let Some(rest) = text.strip_prefix("serviceaccount:") {
        return Impossible::new("it does not start with system:", fixed(rest));
    }
    let lower = text.to_ascii_lowercase();
    if lower != text && lower.starts_with(SUBJECT_PREFIX) && known_problem(&lower).is_none() {
        return Impossible::new(
            "token subjects are lowercase and IAM compares them case-sensitively",
            Some(lower),
        );
    }
    if let Some((namespace, name)) = text.split_once(':')
        && is_namespace(namespace)
        && is_service_account_name(name)
    {
        return Impossible::new(
            "it does not start with system:serviceaccount:",
            fixed(&format!("{namespace}:{name}")),
        );
    }
    Impossible::new(
        "it does not start with system:serviceaccount: (system:serviceaccount:<namespace>:<name>)",
        None,
    )
}

/// A value of the right shape whose namespace or name Kubernetes refuses.
fn name_problem(namespace: &str, name: &str) -> Option<Impossible> {
    let valid_namespace = is_namespace(namespace);
    let valid_name = is_service_account_name(name);
    if valid_namespace && valid_name {
        return None;
    }
    let (what, text, rule) = if !valid_namespace {
        (
            "namespace",
            namespace,
            "a namespace is at most 63 lowercase letters, digits and `-`, starting and ending with a letter or digit",
        )
    } else {
        (
            "service account name",
            name,
            "a service account name is lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit",
        )
    };
    let reason = if text.is_empty() {
        format!("the {what} is empty")
    } else {
        format!("`{text}` is not a valid Kubernetes {what}")
    };
    let namespace = normalized(namespace);
    let name = normalized(name);
    let meant = (is_namespace(&namespace) && is_service_account_name(&name))
        .then(|| format!("{SUBJECT_PREFIX}{namespace}:{name}"));
    let mut problem = Impossible::new(reason, meant);
    problem.rule = Some(rule);
    Some(problem)
}

/// The name Kubernetes would accept that a name with capitals or `_` was probably meant as.
fn normalized(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// What is wrong with a pattern no subject matches, told from its literal start.
fn pattern_problem(prefix: &str) -> Impossible {
    let common = prefix
        .bytes()
        .zip(SUBJECT_PREFIX.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    if common < SUBJECT_PREFIX.len().min(prefix.len()) {
        if prefix.starts_with("system:serviceaccounts") {
            return Impossible::new(
                "system:serviceaccounts (plural) is the group of ServiceAccounts, not a token subject",
                None,
            );
        }
        return Impossible::new("it does not start with system:serviceaccount:", None);
    }
    Impossible::new(
        "no system:serviceaccount:<namespace>:<name> with a valid namespace and name matches it",
        None,
    )
}

/// One element of a pattern: a character, `?` or `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Glob {
    Char(char),
    One,
    Any,
}

/// The states of an automaton accepting exactly `system:serviceaccount:<label>:<subdomain>`
/// (without the length limits, so that it never proves too much): `Prefix(n)` has read `n`
/// bytes of the prefix; the others say what the last character of the namespace or name was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum State {
    Prefix(usize),
    NamespaceStart,
    NamespaceAlnum,
    NamespaceDash,
    NameStart,
    NameAlnum,
    NameDash,
    NameDot,
}

fn step(state: State, c: char) -> Option<State> {
    let alnum = c.is_ascii_lowercase() || c.is_ascii_digit();
    use State::*;
    match state {
        Prefix(n) => (c.is_ascii() && SUBJECT_PREFIX.as_bytes()[n] == c as u8).then(|| {
            if n + 1 == SUBJECT_PREFIX.len() {
                NamespaceStart
            } else {
                Prefix(n + 1)
            }
        }),
        NamespaceStart => alnum.then_some(NamespaceAlnum),
        NamespaceAlnum => match c {
            ':' => Some(NameStart),
            '-' => Some(NamespaceDash),
            _ => alnum.then_some(NamespaceAlnum),
        },
        NamespaceDash => match c {
            '-' => Some(NamespaceDash),
            _ => alnum.then_some(NamespaceAlnum),
        },
        NameStart | NameDot => alnum.then_some(NameAlnum),
        NameAlnum => match c {
            '-' => Some(NameDash),
            '.' => Some(NameDot),
            _ => alnum.then_some(NameAlnum),
        },
        NameDash => match c {
            '-' => Some(NameDash),
            _ => alnum.then_some(NameAlnum),
        },
    }
}

/// One character of each kind the automaton tells apart, and every character of the prefix.
fn alphabet() -> impl Iterator<Item = char> {
    "system:serviceaccount-.a0".chars()
}

/// Whether some expansion of the pattern is a ServiceAccount's subject: a search over
/// (position in the pattern, automaton state).
fn may_match_subject(pattern: &[Glob]) -> bool {
    use foldhash::{HashSet, HashSetExt};
    let mut seen: HashSet<(usize, State)> = HashSet::new();
    let mut todo = vec![(0usize, State::Prefix(0))];
    while let Some((i, state)) = todo.pop() {
        if !seen.insert((i, state)) {
            continue;
        }
        let Some(glob) = pattern.get(i) else {
            if state == State::NameAlnum {
                return true;
            }
            continue;
        };
        match glob {
            Glob::Char(c) => todo.extend(step(state, *c).map(|s| (i + 1, s))),
            Glob::One => todo.extend(alphabet().filter_map(|c| step(state, c).map(|s| (i + 1, s)))),
            Glob::Any => {
                todo.push((i + 1, state));
                todo.extend(alphabet().filter_map(|c| step(state, c).map(|s| (i, s))));
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::value::Symbol;

    fn check(op: Operator, text: &str) -> Option<Impossible> {
        impossible(op, &Str::lit(text))
    }

    #[test]
    fn valid_subjects_are_possible() {
        for s in [
            "system:serviceaccount:kube-system:aws-load-balancer-controller",
            "system:serviceaccount:a:b.c-d",
            "system:serviceaccount:0:0",
        ] {
            assert_eq!(check(Operator::Equals, s), None, "{s}");
        }
        assert_eq!(
            check(
                Operator::EqualsIgnoreCase,
                "system:serviceaccount:Jenkins:Agent"
            ),
            None
        );
    }

    #[test]
    fn wrong_shapes_and_names_are_impossible() {
        let plural = check(Operator::Equals, "system:serviceaccounts:ci:jenkins").unwrap();
        assert_eq!(
            plural.meant.as_deref(),
            Some("system:serviceaccount:ci:jenkins")
        );
        let underscore = check(
            Operator::Equals,
            "system:serviceaccount:operator_jenkins:jenkins",
        )
        .unwrap();
        assert_eq!(
            underscore.meant.as_deref(),
            Some("system:serviceaccount:operator-jenkins:jenkins")
        );
        for s in [
            "serviceaccount:ci:jenkins",
            "ci:jenkins",
            "system:serviceaccount:aws-node",
            "system:serviceaccount:kube-system/aws-node",
            "system:serviceaccount:system:serviceaccount:kube-system:aws-node",
            "system:serviceaccount:kube-system:aws-node:extra",
            "system:serviceaccount:Jenkins:agent",
            "system:serviceaccount:ci:",
            "system:serviceaccount:ci:a..b",
            "system:serviceaccount:-ci:a",
        ] {
            assert!(check(Operator::Equals, s).is_some(), "{s}");
        }
        let long = format!("system:serviceaccount:{}:a", "n".repeat(64));
        assert!(check(Operator::Equals, &long).is_some());
    }

    #[test]
    fn patterns_are_impossible_only_when_no_expansion_is_a_subject() {
        for possible in [
            "*",
            "system:*",
            "system:serviceaccount:*",
            "system:serviceaccount:*:*",
            "system:serviceaccount:team-?:api",
            "*:api",
            "system:serviceaccount:ci:jenkins-*",
        ] {
            assert_eq!(check(Operator::Like, possible), None, "{possible}");
        }
        for impossible_pattern in [
            "system:serviceaccounts:*",
            "system:serviceaccount:operator_*:jenkins",
            "system:serviceaccount:ci:*_worker",
            "serviceaccount:*",
        ] {
            assert!(
                check(Operator::Like, impossible_pattern).is_some(),
                "{impossible_pattern}"
            );
        }
        // With StringEquals a wildcard is compared literally: IRSA007's finding.
        assert_eq!(check(Operator::Equals, "system:serviceaccounts:*"), None);
    }

    #[test]
    fn symbolic_parts_may_be_anything() {
        let mut namespace = Str::lit("system:serviceaccount:");
        namespace.push_sym(Symbol::Unknown);
        namespace.push_str(":api");
        assert_eq!(impossible(Operator::Equals, &namespace), None);
        let mut plural = Str::lit("system:serviceaccounts:");
        plural.push_sym(Symbol::Unknown);
        assert!(impossible(Operator::Equals, &plural).is_some());
        assert_eq!(
            impossible(Operator::Equals, &Str::sym(Symbol::Unknown)),
            None
        );
    }
}
