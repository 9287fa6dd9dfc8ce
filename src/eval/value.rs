//! Terraform values as irsa-lint sees them: known, symbolic or unknown.
//!
//! A *symbolic* string is a concatenation of literal text and [`Symbol`]s: values that only
//! exist after `terraform apply` (a cluster's issuer, the caller's account) but that can still
//! be compared with each other. `"arn:aws:iam::" + account + ":oidc-provider/" + issuer` built
//! in two places compares equal; anything that cannot be decided is [`Tri::Unknown`].

use std::collections::BTreeMap;
use std::fmt;

use smallvec::{SmallVec, smallvec};

/// A value that exists only after apply, named by what it is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Symbol {
    /// The issuer of an EKS cluster without its `https://` scheme
    /// (`oidc.eks.<region>.amazonaws.com/id/<ID>`), keyed by the cluster's name when known,
    /// else by its Terraform address.
    Issuer(String),
    /// The account the AWS provider runs in.
    Account,
    /// The partition the AWS provider runs in (`aws`, `aws-cn`, ...).
    Partition,
    /// The region the AWS provider runs in.
    Region,
    /// The random suffix Terraform appends to a `name_prefix` (or CloudFormation to the name
    /// it generates for a role eksctl does not name), keyed by the role's address.
    NameSuffix(String),
    /// The name of an IAM role that cannot be evaluated (set from a variable with no value,
    /// `terraform.workspace`, another resource's attribute), keyed by the role's address:
    /// unknown as text, but the same role's name wherever its ARN is referenced, so a
    /// ServiceAccount given `aws_iam_role.app.arn` is linked to `aws_iam_role.app`.
    RoleName(String),
    /// Any other after-apply attribute, by its Terraform address.
    Attribute(String),
    /// A part that cannot be evaluated at all (a module output inside a string template).
    /// It never compares equal to anything, not even to itself.
    Unknown,
    /// A placeholder a template tool replaces before a manifest is applied (`${ACCOUNT_ID}`,
    /// `$ACCOUNT_ID`, `{{ .Values.account }}`, `%{ if x }...`), kept as written. The same
    /// placeholder twice in one rendering is the same text.
    Placeholder(String),
}

/// Between a root module's folder and an address in a symbol's key (never in user text).
const ROOT_SEPARATOR: char = '\u{1f}';

/// A symbol key for `address` in the root module at `root`.
pub fn qualified_key(root: &str, address: &str) -> String {
    format!("{root}{ROOT_SEPARATOR}{address}")
}

/// The address part of a key, as shown to the user.
fn shown_key(key: &str) -> &str {
    key.rsplit(ROOT_SEPARATOR).next().unwrap_or(key)
}

impl Symbol {
    pub fn display(&self) -> String {
        match self {
            Symbol::Issuer(c) => format!("<issuer of cluster {}>", shown_key(c)),
            Symbol::Account => "<account id>".into(),
            Symbol::Partition => "<partition>".into(),
            Symbol::Region => "<region>".into(),
            Symbol::NameSuffix(_) => "<random suffix>".into(),
            Symbol::RoleName(key) => format!("<name of {}>", shown_key(key)),
            Symbol::Attribute(a) => format!("<{a}>"),
            Symbol::Unknown => "<unknown>".into(),
            Symbol::Placeholder(text) => text.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    Lit(String),
    Sym(Symbol),
}

/// A string that may contain symbolic parts. Adjacent literals are always merged, so two
/// strings built differently but meaning the same thing have equal parts.
///
/// `origin` is where the string was written in the user's files, when that is known; it
/// follows the value through variables, module inputs and templates of built-in module
/// models, so a finding about a value can point at the line the user wrote. It takes no part
/// in comparisons.
#[derive(Debug, Clone, Default)]
pub struct Str {
    /// One part inline: most strings are one literal, and a string is cloned and dropped with
    /// every fact that holds it.
    parts: SmallVec<[Part; 1]>,
    pub origin: Option<crate::source::Span>,
}

impl PartialEq for Str {
    fn eq(&self, other: &Self) -> bool {
        self.parts == other.parts
    }
}

impl Eq for Str {}

impl std::hash::Hash for Str {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.parts.hash(state);
    }
}

impl PartialOrd for Str {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Str {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.parts.cmp(&other.parts)
    }
}

/// The answer to a question about values that may be symbolic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    Yes,
    No,
    Unknown,
}

impl Tri {
    pub fn from_bool(b: bool) -> Tri {
        if b { Tri::Yes } else { Tri::No }
    }
}

impl Str {
    pub fn lit(s: impl Into<String>) -> Str {
        let s = s.into();
        if s.is_empty() {
            return Str::default();
        }
        Str {
            parts: smallvec![Part::Lit(s)],
            origin: None,
        }
    }

    pub fn sym(sym: Symbol) -> Str {
        Str {
            parts: smallvec![Part::Sym(sym)],
            origin: None,
        }
    }

    pub fn with_origin(mut self, origin: Option<crate::source::Span>) -> Str {
        self.origin = origin;
        self
    }

    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    pub fn push_str(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if let Some(Part::Lit(last)) = self.parts.last_mut() {
            last.push_str(s);
        } else {
            self.parts.push(Part::Lit(s.to_string()));
        }
    }

    pub fn push_sym(&mut self, sym: Symbol) {
        self.parts.push(Part::Sym(sym));
    }

    pub fn append(&mut self, other: &Str) {
        if self.origin.is_none() {
            self.origin = other.origin;
        }
        for p in &other.parts {
            match p {
                Part::Lit(s) => self.push_str(s),
                Part::Sym(s) => self.push_sym(s.clone()),
            }
        }
    }

    pub fn concat(mut self, other: &Str) -> Str {
        self.append(other);
        self
    }

    /// The text when it has no symbolic part.
    pub fn as_known(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [Part::Lit(s)] => Some(s),
            _ => None,
        }
    }

    pub fn is_known(&self) -> bool {
        self.as_known().is_some()
    }

    /// The literal text before the first symbol.
    pub fn known_prefix(&self) -> &str {
        match self.parts.first() {
            Some(Part::Lit(s)) => s,
            _ => "",
        }
    }

    /// The literal text after the last symbol.
    pub fn known_suffix(&self) -> &str {
        match self.parts.last() {
            Some(Part::Lit(s)) => s,
            _ => "",
        }
    }

    pub fn starts_with(&self, prefix: &str) -> Tri {
        let known = self.known_prefix();
        if known.starts_with(prefix) {
            Tri::Yes
        } else if self.is_known() || !prefix.starts_with(known) {
            Tri::No
        } else if let Some(Part::Sym(Symbol::Issuer(_))) =
            self.parts.get(usize::from(!known.is_empty()))
            && prefix[known.len()..].contains("://")
        {
            // An issuer symbol is a host and path, never a scheme.
            Tri::No
        } else {
            Tri::Unknown
        }
    }

    pub fn ends_with(&self, suffix: &str) -> Tri {
        let known = self.known_suffix();
        if known.ends_with(suffix) {
            Tri::Yes
        } else if self.is_known() || !suffix.ends_with(known) {
            Tri::No
        } else {
            Tri::Unknown
        }
    }

    /// Remove a literal prefix if the string is known to start with it.
    pub fn strip_prefix(&self, prefix: &str) -> Option<Str> {
        if self.starts_with(prefix) != Tri::Yes {
            return None;
        }
        let mut out = self.clone();
        if let Some(Part::Lit(s)) = out.parts.first_mut() {
            s.drain(..prefix.len());
            if s.is_empty() {
                out.parts.remove(0);
            }
        }
        Some(out)
    }

    /// Remove a literal suffix if the string is known to end with it.
    pub fn strip_suffix(&self, suffix: &str) -> Option<Str> {
        if self.ends_with(suffix) != Tri::Yes {
            return None;
        }
        let mut out = self.clone();
        if let Some(Part::Lit(s)) = out.parts.last_mut() {
            s.truncate(s.len() - suffix.len());
            if s.is_empty() {
                out.parts.pop();
            }
        }
        Some(out)
    }

    /// Replace every occurrence of a literal inside the literal parts. Returns `None` when
    /// the needle could straddle a literal and a symbol, where the answer is not known.
    pub fn replace_literal(&self, from: &str, to: &str) -> Option<Str> {
        if from.is_empty() {
            return None;
        }
        let mut out = Str {
            parts: SmallVec::new(),
            origin: self.origin,
        };
        for (i, p) in self.parts.iter().enumerate() {
            match p {
                Part::Lit(s) => {
                    let touches_symbol = i > 0 || i + 1 < self.parts.len();
                    if touches_symbol && partial_overlap(s, from, i > 0, i + 1 < self.parts.len()) {
                        return None;
                    }
                    out.push_str(&s.replace(from, to));
                }
                Part::Sym(s) => out.push_sym(s.clone()),
            }
        }
        Some(out)
    }

    /// Split on a literal separator; `None` if a symbol could contain the separator
    /// in a way that changes the result (symbols never contain `:` or `/` boundaries we
    /// split on, except issuers and attributes, which may contain `/`).
    pub fn split_literal(&self, sep: &str) -> Option<Vec<Str>> {
        let mut out = vec![Str::default().with_origin(self.origin)];
        for p in &self.parts {
            match p {
                Part::Lit(s) => {
                    let mut pieces = s.split(sep);
                    if let Some(first) = pieces.next() {
                        out.last_mut().unwrap().push_str(first);
                    }
                    for piece in pieces {
                        out.push(Str::lit(piece).with_origin(self.origin));
                    }
                }
                Part::Sym(s) => {
                    if symbol_may_contain(s, sep) {
                        return None;
                    }
                    out.last_mut().unwrap().push_sym(s.clone())
                }
            }
        }
        Some(out)
    }

    /// Whether two strings are equal, as far as can be proven.
    pub fn equals(&self, other: &Str) -> Tri {
        if self == other && !self.has_unknown() {
            return Tri::Yes;
        }
        if let (Some(a), Some(b)) = (self.as_known(), other.as_known()) {
            return Tri::from_bool(a == b);
        }
        if ends_disagree(
            (self.known_prefix(), self.known_suffix()),
            (other.known_prefix(), other.known_suffix()),
        ) {
            return Tri::No;
        }
        if self.parts.len() == other.parts.len() {
            // Same shape: decide part by part, with distinct clusters' issuers known to differ.
            let mut all_equal = true;
            for (a, b) in self.parts.iter().zip(&other.parts) {
                match (a, b) {
                    (Part::Lit(x), Part::Lit(y)) if x != y => all_equal = false,
                    (Part::Sym(Symbol::Issuer(x)), Part::Sym(Symbol::Issuer(y))) if x != y => {
                        if is_cluster_name(x) && is_cluster_name(y) {
                            return Tri::No;
                        }
                        all_equal = false;
                    }
                    (Part::Sym(x), Part::Sym(y)) if x != y || *x == Symbol::Unknown => {
                        all_equal = false
                    }
                    (Part::Lit(_), Part::Sym(_)) | (Part::Sym(_), Part::Lit(_)) => {
                        all_equal = false
                    }
                    _ => {}
                }
            }
            if all_equal {
                return Tri::Yes;
            }
        }
        Tri::Unknown
    }

    /// [`Self::equals`] with a literal text, without making a string of it: trust policies
    /// are asked this of every condition value for every ServiceAccount.
    pub fn equals_str(&self, text: &str) -> Tri {
        if let Some(known) = self.as_known() {
            return Tri::from_bool(known == text);
        }
        match ends_disagree((self.known_prefix(), self.known_suffix()), (text, text)) {
            true => Tri::No,
            false => Tri::Unknown,
        }
    }

    pub fn has_unknown(&self) -> bool {
        self.parts.contains(&Part::Sym(Symbol::Unknown))
    }

    /// Lowercase the literal parts (IAM condition keys compare case-insensitively).
    pub fn to_ascii_lowercase(&self) -> Str {
        let mut out = Str {
            parts: SmallVec::new(),
            origin: self.origin,
        };
        // The parts are already merged, and lowercasing keeps each literal non-empty: each
        // lowered literal is a part as it is, not copied again.
        for p in &self.parts {
            out.parts.push(match p {
                Part::Lit(s) => Part::Lit(s.to_ascii_lowercase()),
                Part::Sym(s) => Part::Sym(s.clone()),
            });
        }
        out
    }

    /// A readable rendering, symbols shown as `<...>`.
    pub fn display(&self) -> String {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(l) => s.push_str(l),
                Part::Sym(sym) => s.push_str(&sym.display()),
            }
        }
        s
    }
}

/// Issuer symbols keyed by a cluster name (not a `resource.address`) come from clusters
/// whose name is known; two different names are two different clusters.
fn is_cluster_name(key: &str) -> bool {
    !key.contains('.')
}

fn symbol_may_contain(sym: &Symbol, sep: &str) -> bool {
    let only = |allowed: fn(char) -> bool| sep.chars().all(allowed);
    match sym {
        // 12 digits; a timestamp-like suffix
        Symbol::Account | Symbol::NameSuffix(_) => only(|c| c.is_ascii_digit()),
        // `aws-cn`, `eu-west-1`
        Symbol::Partition | Symbol::Region => only(|c| c.is_ascii_alphanumeric() || c == '-'),
        // `oidc.eks.<region>.amazonaws.com/id/<HEX>`: never a `:`, never an ARN fragment
        Symbol::Issuer(_) => sep == "/" || sep == "." || only(|c| c.is_ascii_alphanumeric()),
        // An IAM role name: letters, digits and `+=,.@_-`, never `/` or `:`.
        Symbol::RoleName(_) => !sep.contains(['/', ':']),
        Symbol::Attribute(_) | Symbol::Unknown => true,
        // One field of an ARN (the account, the name), never its `:` separators.
        Symbol::Placeholder(_) => !sep.contains(':'),
    }
}

/// Could `needle` start in this literal and continue into a neighbouring symbol?
fn partial_overlap(s: &str, needle: &str, sym_before: bool, sym_after: bool) -> bool {
    (1..needle.len()).any(|k| {
        needle.is_char_boundary(k)
            && ((sym_after && s.ends_with(&needle[..k]))
                || (sym_before && s.starts_with(&needle[k..])))
    })
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

/// A Terraform value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(Str),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// Cannot be evaluated from the files: a module output, a data source, a remote state.
    Unknown,
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::String(Str::lit(s))
    }

    pub fn as_str(&self) -> Option<&Str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as a string the way Terraform converts primitives to strings.
    pub fn to_str(&self) -> Option<Str> {
        match self {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(Str::lit(b.to_string())),
            Value::Number(n) => Some(Str::lit(format_number(*n))),
            _ => None,
        }
    }

    pub fn as_known_str(&self) -> Option<&str> {
        self.as_str().and_then(Str::as_known)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// Whether the value contains an unknown anywhere.
    pub fn has_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::List(l) => l.iter().any(Value::has_unknown),
            Value::Map(m) => m.values().any(Value::has_unknown),
            _ => false,
        }
    }

    pub fn get_attr(&self, name: &str) -> Value {
        match self {
            Value::Map(m) => m.get(name).cloned().unwrap_or(Value::Unknown),
            _ => Value::Unknown,
        }
    }

    pub fn index(&self, key: &Value) -> Value {
        match (self, key) {
            (Value::List(l), Value::Number(n)) if *n >= 0.0 => {
                l.get(*n as usize).cloned().unwrap_or(Value::Unknown)
            }
            (Value::List(l), Value::String(s)) => {
                match s.as_known().and_then(|s| s.parse::<usize>().ok()) {
                    Some(i) => l.get(i).cloned().unwrap_or(Value::Unknown),
                    None => Value::Unknown,
                }
            }
            (Value::Map(m), k) => match k.to_str().as_ref().and_then(Str::as_known) {
                Some(k) => m.get(k).cloned().unwrap_or(Value::Unknown),
                None => Value::Unknown,
            },
            _ => Value::Unknown,
        }
    }

    pub fn truthy(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::String(s) => match s.as_known() {
                Some("true") => Some(true),
                Some("false") => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// The elements of a list, set or tuple value.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }
}

pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Whether two strings, given as their literal text before the first symbol and after the
/// last (a known string is both), provably differ: one start is not a start of the other, or
/// one end not an end of the other.
fn ends_disagree((pa, sa): (&str, &str), (pb, sb): (&str, &str)) -> bool {
    let n = pa.len().min(pb.len());
    if pa.as_bytes()[..n] != pb.as_bytes()[..n] {
        return true;
    }
    let n = sa.len().min(sb.len());
    sa.as_bytes()[sa.len() - n..] != sb.as_bytes()[sb.len() - n..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer(c: &str) -> Str {
        Str::sym(Symbol::Issuer(c.into()))
    }

    #[test]
    fn symbolic_strings_built_differently_compare_equal() {
        let mut a = Str::lit("https://");
        a.append(&issuer("main"));
        let stripped = a.replace_literal("https://", "").unwrap();
        let b = stripped.concat(&Str::lit(":sub"));
        let mut c = issuer("main");
        c.push_str(":sub");
        assert_eq!(b.equals(&c), Tri::Yes);
        assert_eq!(b.starts_with("https://"), Tri::No);
        assert_eq!(a.starts_with("https://"), Tri::Yes);
    }

    #[test]
    fn undecidable_comparisons_are_unknown() {
        let mut a = Str::lit("arn:");
        a.push_sym(Symbol::Partition);
        assert_eq!(a.equals(&Str::lit("arn:aws")), Tri::Unknown);
        assert_eq!(a.equals(&Str::lit("urn:aws")), Tri::No);
        assert_eq!(issuer("a").equals(&issuer("b")), Tri::No);
        assert_eq!(
            issuer("aws_eks_cluster.a").equals(&issuer("b")),
            Tri::Unknown
        );
    }

    /// Comparing with a text answers as comparing with the literal string of it.
    #[test]
    fn equals_str_is_equals_with_a_literal() {
        let mut partitioned = Str::lit("arn:");
        partitioned.push_sym(Symbol::Partition);
        partitioned.push_str(":iam::1:role/x");
        let mut key = issuer("main");
        key.push_str(":sub");
        let strings = [
            Str::lit(""),
            Str::lit("system:serviceaccount:a:b"),
            partitioned,
            key,
            issuer("main"),
            Str::sym(Symbol::Unknown),
        ];
        let texts = [
            "",
            "system:serviceaccount:a:b",
            "system:serviceaccount:a:c",
            "arn:aws:iam::1:role/x",
            "arn:aws:iam::1:role/y",
            "urn:aws:iam::1:role/x",
            "oidc.eks.eu-west-1.amazonaws.com/id/1:sub",
            "oidc.eks.eu-west-1.amazonaws.com/id/1:aud",
            ":sub",
        ];
        for s in &strings {
            for t in texts {
                assert_eq!(s.equals_str(t), s.equals(&Str::lit(t)), "{s:?} {t}");
            }
        }
    }
}
