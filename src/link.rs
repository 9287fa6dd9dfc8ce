//! Linking: ServiceAccount ↔ role ↔ OIDC provider ↔ cluster.
//!
//! Builds the [`LintContext`] the rules read. Links are computed once here so that rules do
//! not each re-derive them (and cannot disagree on them). Every answer is three-valued: a link
//! that cannot be decided is unknown, and rules stay silent on unknown.

use crate::eval::value::{Part, Str, Symbol, Tri};
use crate::facts::{
    Condition, Effect, Facts, OidcProvider, ROLE_ARN_KEY, Role, RoleName, ServiceAccount, Spanned,
    Statement,
};
use crate::source::SourceMap;
use std::collections::HashMap;

pub const WEB_IDENTITY_ACTION: &str = "sts:AssumeRoleWithWebIdentity";

/// A role ARN split into its parts (any part may be symbolic).
#[derive(Debug, Clone)]
pub struct RoleArn {
    pub partition: Str,
    pub account: Str,
    /// `/` or `/a/b/`.
    pub path: Str,
    pub name: Str,
}

impl RoleArn {
    /// Parse `arn:<partition>:iam::<account>:role<path><name>`; `None` when it is not one.
    pub fn parse(arn: &Str) -> Option<RoleArn> {
        let parts = arn.split_literal(":")?;
        let [arn_word, partition, service, region, account, resource] = parts.as_slice() else {
            return None;
        };
        if arn_word.as_known() != Some("arn")
            || service.as_known() != Some("iam")
            || region.as_known() != Some("")
        {
            return None;
        }
        let rest = resource.strip_prefix("role/")?;
        let segments = rest.split_literal("/")?;
        let (name, dirs) = segments.split_last()?;
        let mut path = Str::lit("/");
        for d in dirs {
            path.append(d);
            path.push_str("/");
        }
        Some(RoleArn {
            partition: partition.clone(),
            account: account.clone(),
            path,
            name: name.clone(),
        })
    }
}

/// Accounts that only appear in documentation.
const PLACEHOLDER_ACCOUNTS: &[&str] = &["000000000000", "123456789012", "111122223333"];
const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];
/// Terraform namespaces whose references only render inside Terraform.
const TERRAFORM_ROOTS: &[&str] = &[
    "local.", "var.", "data.", "module.", "aws_", "each.", "count.",
];

/// What is wrong with an annotation value, and how to fix it; `None` when it is a valid role
/// ARN, empty, or wholly a template placeholder (unknown).
pub fn role_arn_problem(text: &str) -> Option<(String, String)> {
    let shape = "arn:<partition>:iam::<12-digit account>:role/<path/><name>";
    if text.is_empty() || is_placeholder(text) {
        return None;
    }
    for root in TERRAFORM_ROOTS {
        if text.contains(&format!("{{{root}")) {
            return Some((
                format!("it contains the Terraform reference `{}`, which is never rendered here", reference_at(text, root)),
                "write the rendered ARN, or create the ServiceAccount from Terraform (kubernetes_service_account_v1) so the reference is evaluated".into(),
            ));
        }
    }
    // A partly templated value is unknown, not wrong: `${ACCOUNT_ID}` (envsubst), `{{ }}`
    // (Helm), `<ACCOUNT_ID>` (replaced by sed before applying).
    if text.contains("${") || text.contains("{{") || has_angle_placeholder(text) {
        return None;
    }
    if text.trim() != text {
        return Some((
            "it has leading or trailing whitespace".into(),
            "remove the whitespace".into(),
        ));
    }
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts.as_slice() else {
        return Some((
            format!("it does not have the shape {shape}"),
            format!("write it as {shape}"),
        ));
    };
    if *arn != "arn" || !PARTITIONS.contains(partition) || *service != "iam" || !region.is_empty() {
        return Some((
            format!("it does not have the shape {shape}"),
            format!("write it as {shape}"),
        ));
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Some((
            format!("account `{account}` is not 12 digits"),
            "use the 12-digit id of the account the role lives in".into(),
        ));
    }
    if PLACEHOLDER_ACCOUNTS.contains(account) {
        return Some((
            format!("account {account} is a documentation placeholder"),
            "replace it with the 12-digit id of the account the role lives in".into(),
        ));
    }
    let Some(path_and_name) = resource.strip_prefix("role/") else {
        let kind = resource.split('/').next().unwrap_or(resource);
        return Some((
            format!("it is an IAM {kind} ARN, not a role ARN"),
            "use the ARN of the IAM role (…:role/<name>), not of its policy".into(),
        ));
    };
    let name = path_and_name.rsplit('/').next().unwrap_or("");
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if !name_ok {
        return Some((
            format!("role name `{name}` is not a valid IAM role name"),
            "role names use letters, digits and +=,.@_- (at most 64)".into(),
        ));
    }
    None
}

/// `<ACCOUNT_ID>`-style placeholders: a bracketed upper-case word.
fn has_angle_placeholder(text: &str) -> bool {
    text.split('<').skip(1).any(|rest| {
        rest.split_once('>').is_some_and(|(word, _)| {
            !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '-')
        })
    })
}

/// A value that is wholly `${VAR}`, `$VAR` or `{{ ... }}`: rendered later, unknown now.
fn is_placeholder(text: &str) -> bool {
    let t = text.trim();
    (t.starts_with("${") && t.ends_with('}') && t.matches("${").count() == 1)
        || (t.starts_with("{{") && t.ends_with("}}"))
        || (t.starts_with('$')
            && t[1..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && t.len() > 1)
}

/// The reference starting at `root` inside `{...}`, for the message.
fn reference_at(text: &str, root: &str) -> String {
    let start = text.find(&format!("{{{root}")).map(|i| i + 1).unwrap_or(0);
    let end = text[start..]
        .find('}')
        .map(|i| start + i)
        .unwrap_or(text.len());
    text[start..end].to_string()
}

/// The link from a ServiceAccount's role-arn annotation to the roles it may name.
#[derive(Debug, Clone)]
pub struct SaLink {
    pub sa: usize,
    pub value: Spanned<Str>,
    pub arn: RoleArn,
    /// Roles whose name is proven equal to the ARN's name.
    pub roles: Vec<usize>,
    /// Some role's name cannot be evaluated or is a prefix that could match.
    pub maybe_other: bool,
}

/// Roles managed outside the scanned files (`external_roles` and `external_accounts` in
/// `.irsa-lint.toml`): an annotation naming one is not a role the scan failed to find.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExternalRoles {
    /// Role ARNs; `*` matches any run of characters.
    pub roles: Vec<String>,
    /// 12-digit account ids whose roles are all managed elsewhere.
    pub accounts: Vec<String>,
}

impl ExternalRoles {
    /// Whether the annotation of a link names one of them. Only a fully known ARN can match a
    /// listed role; an account matches as soon as it is known.
    pub fn contains(&self, link: &SaLink) -> bool {
        let in_account = link
            .arn
            .account
            .as_known()
            .is_some_and(|account| self.accounts.iter().any(|a| a == account));
        let listed = link
            .value
            .value
            .as_known()
            .is_some_and(|arn| self.roles.iter().any(|role| glob_match(role, arn)));
        in_account || listed
    }
}

pub struct LintContext<'a> {
    pub facts: &'a Facts,
    pub sources: &'a SourceMap,
    pub sa_links: Vec<SaLink>,
    /// Roles the configuration says are managed elsewhere.
    pub external_roles: ExternalRoles,
    /// The account of each role (by index in `facts.roles`), computed once: rules ask often.
    role_accounts: Vec<Option<String>>,
}

impl<'a> LintContext<'a> {
    pub fn new(facts: &'a Facts, sources: &'a SourceMap) -> Self {
        let roles_by_name = RolesByName::new(facts);
        let sa_links = facts
            .service_accounts
            .iter()
            .enumerate()
            .filter_map(|(i, sa)| link_service_account(facts, &roles_by_name, i, sa))
            .collect();
        let mut ctx = LintContext {
            facts,
            sources,
            sa_links,
            external_roles: ExternalRoles::default(),
            role_accounts: Vec::new(),
        };
        ctx.role_accounts = facts
            .roles
            .iter()
            .map(|r| ctx.compute_role_account(r))
            .collect();
        ctx
    }

    pub fn with_external_roles(mut self, external_roles: ExternalRoles) -> Self {
        self.external_roles = external_roles;
        self
    }

    /// The account a role lives in, when the files say so.
    pub fn role_account(&self, role: &Role) -> Option<String> {
        match self
            .role_index(role)
            .and_then(|i| self.role_accounts.get(i))
        {
            Some(account) => account.clone(),
            None => self.compute_role_account(role),
        }
    }

    /// The index of `role` in `facts.roles`, found from its address: rules ask for every
    /// role, and a search would make them quadratic.
    fn role_index(&self, role: &Role) -> Option<usize> {
        let size = std::mem::size_of::<Role>().max(1);
        let base = self.facts.roles.as_ptr() as usize;
        let offset = (role as *const Role as usize).checked_sub(base)?;
        let index = offset / size;
        (offset % size == 0 && index < self.facts.roles.len()).then_some(index)
    }

    /// Every trust statement of every role, with its role.
    pub fn trust_statements(&self) -> impl Iterator<Item = (&'a Role, &'a Statement)> + '_ {
        self.facts.roles.iter().flat_map(|r| {
            r.trust
                .iter()
                .flat_map(move |t| t.statements.iter().map(move |s| (r, s)))
        })
    }

    /// Roles that trust an EKS OIDC provider with the web identity action.
    pub fn irsa_roles(&self) -> impl Iterator<Item = &'a Role> + '_ {
        self.facts.roles.iter().filter(|r| {
            r.trust.as_ref().is_some_and(|t| {
                t.statements
                    .iter()
                    .any(|s| is_eks_statement(s) && s.effect == Some(Effect::Allow))
            })
        })
    }

    /// The link of the ServiceAccount at `sa` in `facts.service_accounts`, if it has one.
    pub fn link_of(&self, sa: usize) -> Option<&SaLink> {
        // Links are made in ServiceAccount order, so a binary search finds one.
        let at = self.sa_links.binary_search_by_key(&sa, |l| l.sa).ok()?;
        self.sa_links.get(at)
    }

    pub fn service_account(&self, link: &SaLink) -> &'a ServiceAccount {
        &self.facts.service_accounts[link.sa]
    }

    /// The roles a link names whose account is not known to differ from the annotation's:
    /// the roles the ServiceAccount really assumes, as far as the files tell.
    pub fn linked_roles(&self, link: &SaLink) -> Vec<&'a Role> {
        let account = link.arn.account.as_known();
        link.roles
            .iter()
            .filter(|&&i| {
                match (
                    account,
                    self.role_accounts.get(i).and_then(Option::as_deref),
                ) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                }
            })
            .map(|&i| &self.facts.roles[i])
            .collect()
    }

    /// The declared OIDC providers a Federated principal provably names. The partition is
    /// taken as the one the principal spells out, since a provider's own partition is only
    /// known after apply.
    pub fn providers_named(&self, federated: &Str) -> Vec<&'a OidcProvider> {
        let federated = without_partition(federated);
        self.facts
            .providers
            .iter()
            .filter(|p| {
                p.arn
                    .as_ref()
                    .is_some_and(|arn| without_partition(arn).equals(&federated) == Tri::Yes)
            })
            .collect()
    }

    fn compute_role_account(&self, role: &Role) -> Option<String> {
        if let [account] = role.provider_accounts.as_slice() {
            return Some(account.clone());
        }
        let mut found: Option<String> = None;
        for s in role.trust.as_ref()?.statements.iter() {
            for f in s.federated.iter().flatten() {
                let parts = f.value.split_literal(":")?;
                if parts.len() >= 5
                    && parts[0].as_known() == Some("arn")
                    && parts[2].as_known() == Some("iam")
                {
                    let account = parts[4].as_known()?.to_string();
                    if found.as_ref().is_some_and(|a| *a != account) {
                        return None;
                    }
                    found = Some(account);
                }
            }
        }
        found
    }

    /// The partition a role lives in: from its trust's Federated ARNs or their issuer regions.
    pub fn role_partition(&self, role: &Role) -> Option<String> {
        let mut found: Option<String> = None;
        for s in role.trust.as_ref()?.statements.iter() {
            for f in s.federated.iter().flatten() {
                let from_arn = f
                    .value
                    .split_literal(":")
                    .and_then(|p| {
                        (p.len() >= 2 && p[0].as_known() == Some("arn"))
                            .then(|| p[1].as_known().map(str::to_string))
                    })
                    .flatten();
                let from_issuer = federated_issuer(&f.value).and_then(|i| issuer_partition(&i));
                for p in [from_arn, from_issuer].into_iter().flatten() {
                    if found.as_ref().is_some_and(|a| *a != p) {
                        return None;
                    }
                    found = Some(p);
                }
            }
        }
        found
    }
}

fn link_service_account(
    facts: &Facts,
    roles_by_name: &RolesByName,
    index: usize,
    sa: &ServiceAccount,
) -> Option<SaLink> {
    let value = sa.annotation(ROLE_ARN_KEY)?.value.clone()?;
    // An annotation that cannot be a role ARN is IRSA012's finding alone.
    if value
        .value
        .as_known()
        .is_some_and(|t| role_arn_problem(t).is_some())
    {
        return None;
    }
    let arn = RoleArn::parse(&value.value)?;
    let mut roles = Vec::new();
    let mut maybe_other = false;
    let candidates = roles_by_name.candidates(&arn.name);
    for i in candidates {
        let role = &facts.roles[i];
        match &role.name {
            RoleName::Exact(name) => match name.equals(&arn.name) {
                Tri::Yes => roles.push(i),
                Tri::Unknown => maybe_other = true,
                Tri::No => {}
            },
            RoleName::Prefix(prefix) => {
                // The role's own ARN from Terraform carries its generated name symbolically.
                let mut generated = prefix.clone();
                generated.push_sym(Symbol::NameSuffix(role.address.clone()));
                if generated.equals(&arn.name) == Tri::Yes {
                    roles.push(i);
                } else if arn.name.starts_with(prefix.as_known().unwrap_or("")) != Tri::No {
                    maybe_other = true;
                }
            }
            RoleName::Unknown => maybe_other = true,
        }
    }
    Some(SaLink {
        sa: index,
        value,
        arn,
        roles,
        maybe_other,
    })
}

/// `arn:<partition>:rest` with the partition dropped, so a literal `aws` and the provider's
/// symbolic partition compare equal.
pub fn without_partition(arn: &Str) -> Str {
    match arn.split_literal(":") {
        Some(parts) if parts.len() > 2 && parts[0].as_known() == Some("arn") => {
            let mut out = Str::lit("arn::");
            for (i, p) in parts[2..].iter().enumerate() {
                if i > 0 {
                    out.push_str(":");
                }
                out.append(p);
            }
            out
        }
        _ => arn.clone(),
    }
}

/// The issuer (host and path) a Federated principal ARN names.
pub fn federated_issuer(federated: &Str) -> Option<Str> {
    let parts = federated.split_literal("oidc-provider/")?;
    match parts.as_slice() {
        [_, issuer] => Some(issuer.clone()),
        _ => None,
    }
}

/// The issuer part of a condition key (`<issuer>:sub` → `<issuer>`).
pub fn key_issuer(key: &Str) -> Option<Str> {
    let lower = key.to_ascii_lowercase();
    lower
        .strip_suffix(":sub")
        .or_else(|| lower.strip_suffix(":aud"))
}

pub fn is_eks_issuer(issuer: &Str) -> bool {
    matches!(issuer.parts().first(), Some(Part::Sym(Symbol::Issuer(_))))
        || issuer.starts_with("oidc.eks.") == Tri::Yes
}

fn issuer_partition(issuer: &Str) -> Option<String> {
    let host = issuer.as_known().or_else(|| match issuer.parts().first() {
        Some(Part::Lit(l)) => Some(l.as_str()),
        _ => None,
    })?;
    let region = host.strip_prefix("oidc.eks.")?.split('.').next()?;
    if region.is_empty() {
        return None;
    }
    Some(region_partition(region).to_string())
}

pub fn region_partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else {
        "aws"
    }
}

/// Whether a condition key is the `:sub` (or `:aud`) key of some issuer.
pub fn key_is(key: &Str, claim: &str) -> bool {
    key.to_ascii_lowercase().ends_with(&format!(":{claim}")) == Tri::Yes
}

/// Positive string operators and how they compare (`ForAnyValue:`, `IfExists` stripped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Equals,
    EqualsIgnoreCase,
    Like,
}

pub fn operator(name: &str) -> Option<Operator> {
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
        Operator::Equals => pattern.equals(&Str::lit(claim)),
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

/// Whether any web-identity Allow statement of the role admits `claim` = `value`. For `aud`,
/// only statements that also admit `subject` are considered.
pub fn role_admits<'r>(
    role: &'r Role,
    claim: &str,
    value: &str,
    subject: Option<&str>,
) -> Admission<'r> {
    let Some(trust) = &role.trust else {
        return Admission::Unknown;
    };
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

/// Whether a web-identity Allow statement of the role names `subject` itself (a value equal
/// to it, not a pattern it happens to match) and all its `:sub` conditions admit it: the role
/// is meant for exactly this ServiceAccount.
pub fn role_trusts_exactly(role: &Role, subject: &str) -> bool {
    let Some(trust) = &role.trust else {
        return false;
    };
    trust.statements.iter().any(|s| {
        s.effect == Some(Effect::Allow)
            && allows_web_identity(s) == Tri::Yes
            && statement_admits(s, "sub", subject) == Tri::Yes
            && s.conditions.iter().flatten().any(|c| {
                key_is(&c.key.value, "sub")
                    && c.values.iter().flatten().any(|v| {
                        v.value.as_known().is_some_and(|text| {
                            names_exactly(operator(&c.operator.value), text, subject)
                        })
                    })
            })
    })
}

fn names_exactly(op: Option<Operator>, value: &str, subject: &str) -> bool {
    match op {
        Some(Operator::Equals) => value == subject,
        Some(Operator::EqualsIgnoreCase) => value.eq_ignore_ascii_case(subject),
        Some(Operator::Like) => value == subject && !value.contains(['*', '?']),
        None => false,
    }
}

/// IAM's `StringLike` glob: `*` any run of characters, `?` one character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Levenshtein distance, for "did you mean".
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest candidate within a distance that scales with the length, for "did you mean".
pub fn closest<'c>(wanted: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let limit = (wanted.chars().count() / 5).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (edit_distance(wanted, c), c))
        .filter(|(d, c)| *d <= limit && *c != wanted)
        .min()
        .map(|(_, c)| c)
}

/// Roles by their name when it is fully known, so that linking a ServiceAccount does not
/// compare its annotation with every role (quadratic in a large monorepo). Two known names
/// are equal exactly when their texts are, so a known annotation name can only match the
/// roles filed under it and the roles whose name is not fully known.
struct RolesByName<'f> {
    known: HashMap<&'f str, Vec<usize>>,
    /// Roles with a symbolic, generated or unknown name: every annotation is compared with
    /// them.
    others: Vec<usize>,
    all: usize,
}

impl<'f> RolesByName<'f> {
    fn new(facts: &'f Facts) -> Self {
        let mut known: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut others = Vec::new();
        for (i, role) in facts.roles.iter().enumerate() {
            match &role.name {
                RoleName::Exact(name) if let Some(text) = name.as_known() => {
                    known.entry(text).or_default().push(i)
                }
                _ => others.push(i),
            }
        }
        RolesByName {
            known,
            others,
            all: facts.roles.len(),
        }
    }

    /// The indexes of the roles `name` may equal, in order.
    fn candidates(&self, name: &Str) -> Vec<usize> {
        let Some(text) = name.as_known() else {
            return (0..self.all).collect();
        };
        let mut candidates = self.others.clone();
        candidates.extend(self.known.get(text).into_iter().flatten());
        candidates.sort_unstable();
        candidates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arn_with_path_parses() {
        let arn = RoleArn::parse(&Str::lit(
            "arn:aws:iam::482910375521:role/irsa/payments/ledger-api",
        ))
        .unwrap();
        assert_eq!(arn.path, Str::lit("/irsa/payments/"));
        assert_eq!(arn.name, Str::lit("ledger-api"));
        assert_eq!(arn.account, Str::lit("482910375521"));
        assert!(RoleArn::parse(&Str::lit("arn:aws:iam::482910375521:policy/x")).is_none());
    }

    #[test]
    fn glob_follows_iam_string_like() {
        assert!(glob_match(
            "system:serviceaccount:payments:*",
            "system:serviceaccount:payments:api"
        ));
        assert!(!glob_match(
            "system:serviceaccount:payments:*",
            "system:serviceaccount:billing:api"
        ));
        assert!(glob_match("sts:Assume*", "sts:AssumeRoleWithWebIdentity"));
        assert!(glob_match("a?c", "abc"));
    }
}
