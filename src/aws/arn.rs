//! ARNs: role ARNs split into parts (any part may be symbolic), what is wrong with an
//! annotation value that should be one, partitions, and the issuer a Federated principal or
//! a condition key names.

use std::cell::OnceCell;

use crate::eval::value::{Part, Str, Symbol, Tri};
use crate::text::placeholders::{has_placeholder, instruction_in, is_placeholder};

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

/// Whether an ARN names one of the accounts AWS documentation uses in examples.
pub fn has_documentation_account(text: &str) -> bool {
    text.split(':')
        .nth(4)
        .is_some_and(|account| PLACEHOLDER_ACCOUNTS.contains(&account))
}

/// What is wrong with an annotation value, and how to fix it; `None` when it is a valid role
/// ARN, empty, or wholly a template placeholder (unknown).
pub fn role_arn_problem(text: &str) -> Option<(String, String)> {
    let shape = "arn:<partition>:iam::<12-digit account>:role/<path/><name>";
    if text.is_empty() || is_placeholder(text) {
        return None;
    }
    for root in TERRAFORM_ROOTS {
        if (text.match_indices('{')).any(|(at, _)| text[at + 1..].starts_with(root)) {
            return Some((
                format!("it contains the Terraform reference `{}`, which is never rendered here", reference_at(text, root)),
                "write the rendered ARN, or create the ServiceAccount from Terraform (kubernetes_service_account_v1) so the reference is evaluated".into(),
            ));
        }
    }
    // A note for a person is no value, and nothing renders it.
    if let Some(instruction) = instruction_in(text) {
        return Some((
            format!("it holds the instruction `{instruction}`, not a value"),
            "replace the instruction with the role's ARN".into(),
        ));
    }
    // A partly templated value is unknown, not wrong: `${ACCOUNT_ID}` (envsubst), `{{ }}`
    // (Helm), `$(VAR)` (kustomize), `<ACCOUNT_ID>` or `__ACCOUNT_ID__` (replaced by a script
    // before applying).
    if has_placeholder(text) {
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

/// The reference starting at `root` inside `{...}`, for the message.
fn reference_at(text: &str, root: &str) -> String {
    let start = text.find(&format!("{{{root}")).map(|i| i + 1).unwrap_or(0);
    let end = text[start..]
        .find('}')
        .map(|i| start + i)
        .unwrap_or(text.len());
    text[start..end].to_string()
}

/// What is wrong with a Federated principal meant for an EKS cluster's OIDC provider.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderArnProblem {
    /// What the value is instead, to follow "is not an OIDC provider ARN: ".
    pub reason: String,
    pub kind: ProviderArnMistake,
    /// The issuer's host and path the principal was meant to name, when it can be told.
    pub issuer: Option<Str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderArnMistake {
    /// The issuer URL, `https://oidc.eks...`.
    IssuerUrl,
    /// The issuer's host and path, `oidc.eks...`.
    IssuerHost,
    /// An ARN whose issuer keeps its scheme: `...:oidc-provider/https://oidc.eks...`.
    SchemeInArn,
    /// An ARN where the issuer belongs: `...:oidc-provider/arn:...:oidc-provider/oidc.eks...`.
    ArnInArn,
    /// Some other part of the ARN is wrong (service, region, account, resource type).
    Malformed,
}

/// Why a Federated principal that names an EKS issuer is not
/// `arn:<partition>:iam::<account>:oidc-provider/<issuer host/path>`; `None` when it is one,
/// when it names no EKS issuer (SAML, Cognito, another OIDC provider), or when its symbolic
/// parts could still make it one.
pub fn provider_arn_problem(principal: &Str) -> Option<ProviderArnProblem> {
    let names_eks_issuer = principal.parts().iter().any(|p| match p {
        Part::Sym(Symbol::Issuer(_)) => true,
        Part::Lit(l) => l.contains("oidc.eks."),
        _ => false,
    });
    if !names_eks_issuer {
        return None;
    }
    let problem = |kind, reason: &str, issuer: Option<Str>| {
        Some(ProviderArnProblem {
            reason: reason.to_string(),
            kind,
            issuer,
        })
    };
    for scheme in ["https://", "http://"] {
        if principal.starts_with(scheme) == Tri::Yes {
            return problem(
                ProviderArnMistake::IssuerUrl,
                "it is the cluster's issuer URL",
                principal.strip_prefix(scheme),
            );
        }
    }
    let starts_with_issuer = matches!(
        principal.parts().first(),
        Some(Part::Sym(Symbol::Issuer(_)))
    );
    if starts_with_issuer || principal.starts_with("oidc.eks.") == Tri::Yes {
        return problem(
            ProviderArnMistake::IssuerHost,
            "it is the issuer's host and path",
            Some(principal.clone()),
        );
    }
    // Every principal is asked: its literal parts are walked in place, nothing allocated.
    let literals = || {
        principal.parts().iter().filter_map(|p| match p {
            Part::Lit(l) => Some(l.as_str()),
            Part::Sym(_) => None,
        })
    };
    let after_marker = |principal: &Str| -> Option<Str> {
        let parts = principal.split_literal("oidc-provider/")?;
        parts.last().cloned()
    };
    let markers: usize = literals()
        .map(|l| l.matches("oidc-provider/").count())
        .sum();
    if markers > 1 || literals().any(|l| l.contains("oidc-provider/arn:")) {
        return problem(
            ProviderArnMistake::ArnInArn,
            "oidc-provider/ is followed by another ARN instead of the issuer",
            after_marker(principal),
        );
    }
    for (scheme, marked) in [
        ("https://", "oidc-provider/https://"),
        ("http://", "oidc-provider/http://"),
    ] {
        if literals().any(|l| l.contains(marked)) {
            return problem(
                ProviderArnMistake::SchemeInArn,
                &format!("the issuer after oidc-provider/ keeps its {scheme} scheme"),
                after_marker(principal).and_then(|i| i.strip_prefix(scheme)),
            );
        }
    }
    let text = principal.as_known()?;
    let malformed = |reason: &str| problem(ProviderArnMistake::Malformed, reason, None);
    let mut fields = text.splitn(6, ':');
    let parts: [Option<&str>; 6] = std::array::from_fn(|_| fields.next());
    let not_iam = "it is not an IAM ARN (arn:<partition>:iam::<account>:...)";
    let [
        Some(arn),
        Some(partition),
        Some(service),
        Some(region),
        Some(account),
        Some(resource),
    ] = parts
    else {
        return malformed(if text.starts_with("arn:") {
            not_iam
        } else {
            "it is not an ARN"
        });
    };
    if arn != "arn" {
        return malformed("it is not an ARN");
    }
    if !PARTITIONS.contains(&partition) {
        return malformed(&format!("`{partition}` is not an AWS partition"));
    }
    if service != "iam" || !region.is_empty() {
        return malformed(not_iam);
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return malformed(&format!("account `{account}` is not 12 digits"));
    }
    let Some(issuer) = resource.strip_prefix("oidc-provider/") else {
        let kind = resource.split('/').next().unwrap_or(resource);
        return malformed(&format!(
            "its resource is `{kind}`, not oidc-provider/<issuer>"
        ));
    };
    if !issuer.starts_with("oidc.eks.") {
        return malformed("the issuer does not follow oidc-provider/");
    }
    None
}

/// An ARN to compare with ARNs [`without_partition`], its own partition dropped. Known texts,
/// as nearly all are, are compared in place; a symbolic ARN is cut once, when first compared.
/// Rules compare each ServiceAccount's trust with every declared provider.
pub struct PartitionFree<'a> {
    arn: &'a Str,
    cut: OnceCell<Str>,
}

impl<'a> PartitionFree<'a> {
    pub fn new(arn: &'a Str) -> Self {
        PartitionFree {
            arn,
            cut: OnceCell::new(),
        }
    }

    /// Whether it is `unpartitioned`, an ARN without its partition.
    pub fn equals(&self, unpartitioned: &Str) -> Tri {
        let known = (unpartitioned.as_known())
            .zip(self.arn.as_known())
            .and_then(|(a, b)| Some((a, b.strip_prefix("arn:")?.split_once(':')?.1)));
        match known {
            Some((a, after)) => Tri::from_bool(a.strip_prefix("arn::") == Some(after)),
            None => unpartitioned.equals(self.cut.get_or_init(|| without_partition(self.arn))),
        }
    }
}

/// `arn:<partition>:rest` with the partition dropped, so a literal `aws` and the provider's
/// symbolic partition compare equal.
pub fn without_partition(arn: &Str) -> Str {
    // Nearly every ARN is fully known: cut the text, without splitting it into pieces.
    if let Some(text) = arn.as_known() {
        return match text
            .strip_prefix("arn:")
            .and_then(|rest| rest.split_once(':'))
        {
            Some((_, after)) => Str::lit(format!("arn::{after}")).with_origin(arn.origin),
            None => arn.clone(),
        };
    }
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
    const MARK: &str = "oidc-provider/";
    if let Some(text) = federated.as_known() {
        let (_, issuer) = text.split_once(MARK)?;
        return (!issuer.contains(MARK)).then(|| Str::lit(issuer).with_origin(federated.origin));
    }
    let parts = federated.split_literal(MARK)?;
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

pub fn issuer_partition(issuer: &Str) -> Option<String> {
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

    /// Compared in place, known ARNs must answer as their copies without a partition do.
    #[test]
    fn arns_compared_in_place_answer_as_their_copies() {
        let issuer = Str::sym(crate::eval::value::Symbol::Issuer("eks".into()));
        let mut symbolic = Str::lit("arn:aws:iam::1:oidc-provider/");
        symbolic.append(&issuer);
        let arns = [
            Str::lit("arn:aws:iam::1:oidc-provider/oidc.eks.x/id/A"),
            Str::lit("arn:aws-cn:iam::1:oidc-provider/oidc.eks.x/id/A"),
            Str::lit("arn:aws:iam::2:oidc-provider/oidc.eks.x/id/A"),
            Str::lit("arn:aws:sts:iam::1:oidc-provider/oidc.eks.x/id/A"),
            Str::lit("arn::x"),
            Str::lit("arn:aws"),
            Str::lit("not-an-arn:a:b"),
            symbolic,
        ];
        for declared in &arns {
            let unpartitioned = without_partition(declared);
            for named in &arns {
                assert_eq!(
                    PartitionFree::new(named).equals(&unpartitioned),
                    unpartitioned.equals(&without_partition(named)),
                    "{declared:?} {named:?}"
                );
            }
        }
    }

    /// Known ARNs take a shortcut: it must agree with the piecewise path symbolic ARNs take
    /// (a symbol that holds no `:` or `oidc-provider/` splits the same way around it).
    #[test]
    fn known_and_symbolic_arns_lose_their_partition_alike() {
        let issuer = Str::sym(crate::eval::value::Symbol::Issuer("eks".into()));
        let provider = |partition: &str| {
            let mut arn = Str::lit(format!("arn:{partition}:iam::482910375521:oidc-provider/"));
            arn.append(&issuer);
            arn
        };
        let mut expected = Str::lit("arn::iam::482910375521:oidc-provider/");
        expected.append(&issuer);
        assert_eq!(without_partition(&provider("aws")), expected);
        assert_eq!(without_partition(&provider("aws-cn")), expected);
        for (known, stripped) in [
            ("arn:aws:iam::1:role/x", "arn::iam::1:role/x"),
            (
                "arn:aws-us-gov:iam::1:oidc-provider/oidc.eks.x/id/A",
                "arn::iam::1:oidc-provider/oidc.eks.x/id/A",
            ),
            ("arn::x", "arn::x"),
            ("arn:aws", "arn:aws"),
            ("not-an-arn:a:b", "not-an-arn:a:b"),
        ] {
            assert_eq!(
                without_partition(&Str::lit(known)),
                Str::lit(stripped),
                "{known}"
            );
        }
        assert_eq!(federated_issuer(&provider("aws")), Some(issuer));
        assert_eq!(
            federated_issuer(&Str::lit("arn:aws:iam::1:oidc-provider/oidc.eks.x/id/A")),
            Some(Str::lit("oidc.eks.x/id/A"))
        );
        assert_eq!(federated_issuer(&Str::lit("arn:aws:iam::1:role/x")), None);
        assert_eq!(
            federated_issuer(&Str::lit("oidc-provider/a/oidc-provider/b")),
            None
        );
        assert_eq!(
            federated_issuer(&Str::lit("x:oidc-provider/")),
            Some(Str::default())
        );
    }
}
