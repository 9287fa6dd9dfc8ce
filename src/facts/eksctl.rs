//! eksctl `ClusterConfig` files → the roles, ServiceAccounts, OIDC provider and Pod Identity
//! associations eksctl creates from them.
//!
//! For each `iam.serviceAccounts` entry eksctl deploys a CloudFormation stack with one IAM
//! role whose trust policy admits exactly that ServiceAccount, then creates the ServiceAccount
//! annotated with the role's ARN. This module writes down what eksctl would create as the same
//! facts Terraform and manifests yield, so every rule sees them. What only exists after
//! `eksctl create` (the account, the cluster's issuer, CloudFormation's random suffix) is
//! symbolic. Everything is spanned at the entry the user wrote.
//!
//! It knows nothing of rules. It reports no syntax errors: the manifest reader reads every
//! YAML file, this one included, and reports them once.

use std::sync::Arc;

use saphyr::{MarkedYaml, ScalarStyle, YamlData};

use crate::aws::arn::region_partition;
use crate::aws::policy::WEB_IDENTITY_ACTION;
use crate::eval::value::{Str, Symbol};
use crate::facts::manifests::{identity_field, is_template, read_annotations};
use crate::facts::{
    Annotation, Condition, DEFAULT_AUDIENCE, Effect, Facts, OidcProvider, Origin,
    POD_IDENTITY_SERVICE, PodIdentityAssociation, ROLE_ARN_KEY, Role, RoleName, ServiceAccount,
    Spanned, Statement, TrustPolicy,
};
use crate::parse::yaml::{ChunkPositions, get, is_null, read_documents, scalar, untag};
use crate::source::{FileId, Span};
use crate::text::placeholders::has_placeholder;

/// Extract what the `ClusterConfig` documents of one file create. `unit` is the file's
/// folder (the engine passes it, as for manifests); see [`cluster_unit`].
pub fn extract_cluster_config(file: FileId, text: &str, unit: &str) -> Facts {
    let mut facts = Facts::default();
    if is_template(text) {
        hide_everything(&mut facts);
        return facts;
    }
    let unseen = read_documents(
        file,
        text,
        &|kind| kind == "ClusterConfig",
        &mut |doc, at| {
            read_cluster_config(doc, at, unit, &mut facts);
        },
    );
    // A document eksctl reads but saphyr does not may create anything.
    if unseen {
        hide_everything(&mut facts);
    }
    facts
}

fn hide_everything(facts: &mut Facts) {
    facts.hidden_service_accounts = true;
    facts.hidden_roles = true;
}

fn read_cluster_config(doc: &MarkedYaml, at: &ChunkPositions, unit: &str, facts: &mut Facts) {
    let api_version = get(doc, "apiVersion").and_then(scalar);
    if !api_version.is_some_and(|(v, _)| v.starts_with("eksctl.io/")) {
        return;
    }
    let metadata = get(doc, "metadata");
    let Some(name) = identity_field(at, metadata, "name") else {
        // eksctl refuses such a config; what it would create is unknown.
        hide_everything(facts);
        return;
    };
    let partition = match identity_field(at, metadata, "region") {
        Some(region) if !has_placeholder(&region.value) => {
            Str::lit(region_partition(&region.value))
        }
        _ => Str::sym(Symbol::Partition),
    };
    let mut reader = ConfigReader {
        unit: cluster_unit(unit, &name.value),
        cluster: name.value.clone(),
        partition,
        at,
        facts,
    };
    let iam = get(doc, "iam");
    let roles_before = reader.facts.roles.len();
    for entry in items(iam.and_then(|i| get(i, "serviceAccounts"))) {
        reader.read_service_account(entry);
    }
    let makes_irsa_roles = reader.facts.roles.len() > roles_before;
    reader.read_oidc_provider(iam, name.span, makes_irsa_roles);
    for entry in items(iam.and_then(|i| get(i, "podIdentityAssociations"))) {
        reader.read_pod_identity_association(entry);
    }
    reader.read_addons(doc);
}

/// The deployment unit of a cluster's facts: its config's folder and its name. Configs of
/// several clusters often share a folder (`dev.yaml`, `prod.yaml`), and each is applied to
/// its own cluster, so the folder alone would make them one.
fn cluster_unit(folder: &str, cluster: &str) -> String {
    if folder.is_empty() {
        format!("eksctl cluster {cluster}")
    } else {
        format!("{folder} (eksctl cluster {cluster})")
    }
}

/// The items of a sequence; nothing when the node is absent or not a sequence.
fn items<'n, 'input>(node: Option<&'n MarkedYaml<'input>>) -> &'n [MarkedYaml<'input>] {
    match node.map(|n| &untag(n).data) {
        Some(YamlData::Sequence(items)) => items,
        _ => &[],
    }
}

/// A boolean as eksctl's YAML reader (go-yaml, YAML 1.1) reads it: `true`, `yes`, `on`, ...
fn flag(parent: Option<&MarkedYaml>, key: &str) -> bool {
    const TRUE: &[&str] = &[
        "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y",
    ];
    let value = parent.and_then(|p| get(p, key)).and_then(scalar);
    value.is_some_and(|(text, style)| style == ScalarStyle::Plain && TRUE.contains(&text))
}

/// Whether a key is written with a value (not null, not an empty collection).
fn is_set(parent: &MarkedYaml, key: &str) -> bool {
    match get(parent, key).map(|n| &untag(n).data) {
        None => false,
        Some(YamlData::Sequence(items)) => !items.is_empty(),
        Some(YamlData::Mapping(entries)) => !entries.is_empty(),
        Some(_) => get(parent, key)
            .and_then(scalar)
            .is_none_or(|(text, style)| !is_null(text, style)),
    }
}

/// The name CloudFormation gives a role eksctl does not name: `<stack>-Role1-<random>`, as a
/// prefix the random part completes.
///
/// The random part has 12 or 13 characters, and when the whole would pass IAM's 64, the
/// stack name is cut short (to 43–45 characters in names seen in the wild, a trailing `-`
/// dropped): then only its first 43 characters are certain.
///
/// A cluster name written as a placeholder (`${CLUSTER_NAME}`) leaves only `eksctl-` certain.
fn generated_role_prefix(stack: &str) -> Str {
    const LONGEST_UNCUT_STACK: usize = 64 - "-Role1-".len() - 13;
    const SHORTEST_CUT: usize = 43;
    let known = stack.split('$').next().unwrap_or_default();
    if known == stack && stack.chars().count() <= LONGEST_UNCUT_STACK {
        return Str::lit(format!("{stack}-Role1-"));
    }
    let cut: String = known.chars().take(SHORTEST_CUT).collect();
    Str::lit(cut.trim_end_matches('-'))
}

/// Reads one `ClusterConfig` into facts.
struct ConfigReader<'a> {
    /// `metadata.name`.
    cluster: String,
    /// From `metadata.region`; symbolic when the region is not written.
    partition: Str,
    unit: String,
    at: &'a ChunkPositions<'a>,
    facts: &'a mut Facts,
}

impl ConfigReader<'_> {
    fn issuer(&self) -> Str {
        Str::sym(Symbol::Issuer(self.cluster.clone()))
    }

    /// `arn:<partition>:iam::<account>:<resource>`.
    fn iam_arn(&self, resource: &Str) -> Str {
        let mut arn = Str::lit("arn:").concat(&self.partition);
        arn.push_str(":iam::");
        arn.push_sym(Symbol::Account);
        arn.push_str(":");
        arn.concat(resource)
    }

    fn role_arn(&self, name: &Str) -> Str {
        self.iam_arn(&Str::lit("role/").concat(name))
    }

    fn provider_arn(&self) -> Str {
        self.iam_arn(&Str::lit("oidc-provider/").concat(&self.issuer()))
    }

    /// The cluster's IAM OIDC provider. eksctl creates it for `iam.withOIDC: true`, and
    /// refuses to create a ServiceAccount's role without one (made for an existing cluster
    /// by `eksctl utils associate-iam-oidc-provider`): it exists whenever such roles are
    /// made here. Spanned at `withOIDC`, else at the cluster's name.
    fn read_oidc_provider(
        &mut self,
        iam: Option<&MarkedYaml>,
        cluster_name: Span,
        makes_irsa_roles: bool,
    ) {
        let span = match iam.and_then(|i| get(i, "withOIDC")) {
            Some(node) if flag(iam, "withOIDC") => self.scalar_span(node),
            _ if makes_irsa_roles => cluster_name,
            _ => return,
        };
        let url = Str::lit("https://").concat(&self.issuer());
        self.facts.providers.push(OidcProvider {
            address: format!("eksctl:{}", self.cluster),
            span,
            url: Some(Spanned::new(url, span)),
            client_ids: Some(vec![Spanned::new(Str::lit(DEFAULT_AUDIENCE), span)]),
            arn: Some(self.provider_arn()),
        });
    }

    fn scalar_span(&self, node: &MarkedYaml) -> Span {
        let style = scalar(node).map_or(ScalarStyle::Plain, |(_, style)| style);
        self.at.scalar_span(node, style)
    }

    fn field(&self, parent: &MarkedYaml, key: &str) -> Option<Spanned<String>> {
        identity_field(self.at, Some(parent), key)
    }

    /// One `iam.serviceAccounts` entry: a role (unless `attachRoleARN` names an existing
    /// one) and, unless `roleOnly`, the ServiceAccount annotated with its ARN.
    fn read_service_account(&mut self, entry: &MarkedYaml) {
        let metadata = get(entry, "metadata");
        // eksctl refuses an entry without a name.
        let Some(name) = identity_field(self.at, metadata, "name") else {
            return;
        };
        let (namespace, namespace_explicit) = match identity_field(self.at, metadata, "namespace") {
            Some(namespace) => (namespace, true),
            None => (Spanned::new("default".to_owned(), name.span), false),
        };
        if self.hides_placeholders(&[&name, &namespace]) {
            return;
        }
        let role_arn = match self.field(entry, "attachRoleARN") {
            Some(arn) => Spanned::new(Str::lit(arn.value), arn.span),
            None => self.irsa_role(entry, &name, &namespace),
        };
        if flag(Some(entry), "roleOnly") {
            return;
        }
        let mut annotations = Vec::new();
        let annotations_known = read_annotations(self.at, metadata, &mut annotations);
        // eksctl sets the annotation to the role it attaches, whatever was written.
        annotations.retain(|a| a.key.value != ROLE_ARN_KEY);
        annotations.push(Annotation {
            key: Spanned::new(ROLE_ARN_KEY.to_owned(), role_arn.span),
            value: Some(role_arn),
        });
        self.facts.service_accounts.push(ServiceAccount {
            when: Vec::new(),
            role_arn_values_key: None,
            addon_version: None,
            span: self.at.node_span(entry),
            name,
            namespace,
            namespace_explicit,
            annotations,
            annotations_known,
            unit: self.unit.clone(),
            origin: Origin::Manifest,
            rendered: Vec::new(),
            fixed: false,
        });
    }

    /// The role eksctl creates for a ServiceAccount entry; returns its ARN, spanned where the
    /// role is named.
    fn irsa_role(
        &mut self,
        entry: &MarkedYaml,
        name: &Spanned<String>,
        namespace: &Spanned<String>,
    ) -> Spanned<Str> {
        let (ns, sa) = (&namespace.value, &name.value);
        let address = format!("eksctl:{}:{ns}/{sa}", self.cluster);
        let stack = format!("eksctl-{}-addon-iamserviceaccount-{ns}-{sa}", self.cluster);
        let (role_name, name_span) = self.role_name(entry, "roleName", &stack, name.span);
        // `subjectPattern` admits a StringLike glob of names in the namespace instead.
        let (operator, names, span) = match self.field(entry, "subjectPattern") {
            Some(glob) => ("StringLike", glob.value, glob.span),
            None => ("StringEquals", sa.clone(), name.span),
        };
        let subject = Str::lit(format!("system:serviceaccount:{ns}:{names}"));
        let subject = Spanned::new(subject, span);
        let trust = self.web_identity_trust(name_span, operator, subject);
        let arn = self.role_arn(&generated_or_exact(&role_name, &address));
        self.push_role(address, role_name, name_span, trust);
        Spanned::new(arn, name_span)
    }

    /// The role's name from `key`, or the prefix CloudFormation completes; and where the role
    /// is shown: at the name, else at `fallback` (the entry's ServiceAccount name).
    fn role_name(
        &self,
        entry: &MarkedYaml,
        key: &str,
        stack: &str,
        fallback: Span,
    ) -> (RoleName, Span) {
        match self.field(entry, key) {
            Some(name) if has_placeholder(&name.value) => (RoleName::Unknown, name.span),
            Some(name) => (RoleName::Exact(Str::lit(name.value)), name.span),
            None => (RoleName::Prefix(generated_role_prefix(stack)), fallback),
        }
    }

    /// A ServiceAccount named by placeholders (`${APP_NAME}`) is unseen: its real name is
    /// only known once the file is rendered.
    fn hides_placeholders(&mut self, identity: &[&Spanned<String>]) -> bool {
        let hidden = identity.iter().any(|field| has_placeholder(&field.value));
        if hidden {
            hide_everything(self.facts);
        }
        hidden
    }

    fn push_role(&mut self, address: String, name: RoleName, span: Span, trust: TrustPolicy) {
        self.facts.roles.push(Role {
            when: Vec::new(),
            symbol_key: address.clone(),
            address,
            module: String::new(),
            unit: self.unit.clone(),
            span,
            name,
            name_span: span,
            path: Some(Str::lit("/")),
            path_span: None,
            trust: Some(Arc::new(trust)),
            provider_accounts: Vec::new(),
        });
    }

    /// The trust policy eksctl writes for a ServiceAccount's role: the cluster's OIDC
    /// provider, with the `sub` condition given and `aud` = `sts.amazonaws.com`.
    fn web_identity_trust(&self, span: Span, operator: &str, subject: Spanned<Str>) -> TrustPolicy {
        let at = |value: Str| Spanned::new(value, span);
        let condition = |operator: &str, claim: &str, value: Spanned<Str>| Condition {
            operator: Spanned::new(operator.to_owned(), value.span),
            key: at(self.issuer().concat(&Str::lit(format!(":{claim}")))),
            values: Some(vec![value]),
        };
        let conditions = vec![
            condition(operator, "sub", subject),
            condition("StringEquals", "aud", at(Str::lit(DEFAULT_AUDIENCE))),
        ];
        let statement = Statement {
            span,
            effect: Some(Effect::Allow),
            actions: Some(vec![at(Str::lit(WEB_IDENTITY_ACTION))]),
            federated: Some(vec![at(self.provider_arn())]),
            services: Some(Vec::new()),
            conditions: Some(conditions),
            eks: Default::default(),
        };
        TrustPolicy {
            span,
            statements: vec![statement],
            complete: true,
        }
    }

    /// One `iam.podIdentityAssociations` entry: the association, the role eksctl creates
    /// when `roleARN` is absent, and the ServiceAccount when `createServiceAccount` is set.
    fn read_pod_identity_association(&mut self, entry: &MarkedYaml) {
        let (Some(namespace), Some(service_account)) = (
            self.field(entry, "namespace"),
            self.field(entry, "serviceAccountName"),
        ) else {
            return;
        };
        if self.hides_placeholders(&[&namespace, &service_account]) {
            return;
        }
        let (ns, sa) = (&namespace.value, &service_account.value);
        let address = format!("eksctl:{}:pod-identity:{ns}/{sa}", self.cluster);
        let role_arn = match self.field(entry, "roleARN") {
            Some(arn) => Spanned::new(Str::lit(arn.value), arn.span),
            None => self.pod_identity_role(entry, &namespace, &service_account),
        };
        if flag(Some(entry), "createServiceAccount") {
            self.facts.service_accounts.push(ServiceAccount {
                when: Vec::new(),
                role_arn_values_key: None,
                addon_version: None,
                span: self.at.node_span(entry),
                name: service_account.clone(),
                namespace: namespace.clone(),
                namespace_explicit: true,
                annotations: Vec::new(),
                annotations_known: true,
                unit: self.unit.clone(),
                origin: Origin::Manifest,
                rendered: Vec::new(),
                fixed: false,
            });
        }
        self.facts.pod_identities.push(PodIdentityAssociation {
            when: Vec::new(),
            address,
            unit: self.unit.clone(),
            span: service_account.span,
            namespace,
            service_account,
            role_arn: Some(role_arn),
        });
    }

    /// The role eksctl creates for a Pod Identity association; returns its ARN, spanned where
    /// the role is named.
    fn pod_identity_role(
        &mut self,
        entry: &MarkedYaml,
        namespace: &Spanned<String>,
        service_account: &Spanned<String>,
    ) -> Spanned<Str> {
        let (ns, sa) = (&namespace.value, &service_account.value);
        let address = format!("eksctl:{}:pod-identity-role:{ns}/{sa}", self.cluster);
        let stack = format!("eksctl-{}-podidentityrole-{ns}-{sa}", self.cluster);
        let (name, span) = self.role_name(entry, "roleName", &stack, service_account.span);
        let arn = self.role_arn(&generated_or_exact(&name, &address));
        self.push_role(address, name, span, pod_identity_trust(span));
        Spanned::new(arn, span)
    }

    /// Add-ons with IAM settings and Karpenter get ServiceAccounts (and roles) from EKS or
    /// Helm, out of sight. An add-on without them is no more hidden than in any cluster: its
    /// ServiceAccounts (`kube-system/aws-node`, ...) are never in manifests.
    fn read_addons(&mut self, doc: &MarkedYaml) {
        let auto_pod_identity = flag(get(doc, "addonsConfig"), "autoApplyPodIdentityAssociations");
        if auto_pod_identity || get(doc, "karpenter").is_some() {
            hide_everything(self.facts);
        }
        for addon in items(get(doc, "addons")) {
            let creates_role = ["attachPolicyARNs", "attachPolicy", "wellKnownPolicies"]
                .iter()
                .any(|key| is_set(addon, key))
                || flag(Some(addon), "useDefaultPodIdentityAssociations")
                || items(get(addon, "podIdentityAssociations"))
                    .iter()
                    .any(|p| self.field(p, "roleARN").is_none());
            let uses_role = creates_role
                || self.field(addon, "serviceAccountRoleARN").is_some()
                || is_set(addon, "podIdentityAssociations");
            self.facts.hidden_service_accounts |= uses_role;
            self.facts.hidden_roles |= creates_role;
            self.addon_service_account(addon);
        }
    }

    /// An add-on given an existing role (`serviceAccountRoleARN`) runs as its own
    /// ServiceAccount with that role: a fact, so the role's trust is checked against it.
    fn addon_service_account(&mut self, addon: &MarkedYaml) {
        let (Some(name), Some(role_arn)) = (
            self.field(addon, "name"),
            self.field(addon, "serviceAccountRoleARN"),
        ) else {
            return;
        };
        if has_placeholder(&role_arn.value) {
            return;
        }
        let role_arn = Spanned::new(Str::lit(role_arn.value), role_arn.span);
        let mut facts = Facts::default();
        let at = self.at.node_span(addon);
        let created_by = format!("eksctl addons of cluster {}", self.cluster);
        super::addons::service_account(
            Some(&name),
            at,
            Some(role_arn),
            &created_by,
            &self.unit,
            &mut facts,
        );
        let version = self
            .field(addon, "version")
            .filter(|v| !has_placeholder(&v.value));
        for mut sa in facts.service_accounts {
            sa.origin = Origin::Manifest;
            sa.addon_version = super::addons::version(Some(&name), version.as_ref());
            self.facts.service_accounts.push(sa);
        }
    }
}

/// A role's name as it appears in its ARN: the exact name, or the prefix followed by the
/// random suffix of the role at `address` (as `link` builds it, so the two compare equal).
fn generated_or_exact(name: &RoleName, address: &str) -> Str {
    match name {
        RoleName::Exact(name) => name.clone(),
        RoleName::Prefix(prefix) => {
            let mut generated = prefix.clone();
            generated.push_sym(Symbol::NameSuffix(address.to_owned()));
            generated
        }
        RoleName::Unknown => Str::sym(Symbol::Unknown),
    }
}

/// The trust policy eksctl writes for a Pod Identity role.
fn pod_identity_trust(span: Span) -> TrustPolicy {
    let at = |value: &str| Spanned::new(Str::lit(value), span);
    let statement = Statement {
        span,
        effect: Some(Effect::Allow),
        actions: Some(vec![at("sts:AssumeRole"), at("sts:TagSession")]),
        federated: Some(Vec::new()),
        services: Some(vec![at(POD_IDENTITY_SERVICE)]),
        conditions: Some(Vec::new()),
        eks: Default::default(),
    };
    TrustPolicy {
        span,
        statements: vec![statement],
        complete: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Facts, RoleName};
    use crate::link::LintContext;
    use crate::source::{FileId, SourceMap};

    const FILE: FileId = FileId(0);

    fn config(text: &str) -> Facts {
        extract_cluster_config(FILE, text, "clusters/prod")
    }

    fn slice(text: &str, span: Span) -> &str {
        &text[span.range()]
    }

    const HEADER: &str = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  \
                          name: prod\n  region: eu-west-1\niam:\n  withOIDC: true\n";

    const LEDGER: &str = "  serviceAccounts:\n    - metadata:\n        name: ledger-api\n        \
                          namespace: payments\n        annotations:\n          team: ledger\n      \
                          attachPolicyARNs: [arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess]\n";

    /// The indexes of the roles each ServiceAccount's annotation provably names.
    fn linked_roles(facts: &Facts) -> Vec<Vec<usize>> {
        let sources = SourceMap::default();
        let ctx = LintContext::new(facts, &sources);
        ctx.sa_links
            .iter()
            .map(|l| l.roles.iter().map(|r| r.0 as usize).collect())
            .collect()
    }

    #[test]
    fn a_service_account_entry_is_the_role_eksctl_creates_and_its_service_account() {
        let text = format!("{HEADER}{LEDGER}");
        let facts = config(&text);
        let role = &facts.roles[0];
        assert_eq!(role.address, "eksctl:prod:payments/ledger-api");
        assert_eq!(role.unit, "clusters/prod (eksctl cluster prod)");
        // Too long to be kept whole: CloudFormation cuts the stack name short.
        assert_eq!(
            role.name,
            RoleName::Prefix(Str::lit("eksctl-prod-addon-iamserviceaccount-payment"))
        );
        assert_eq!(slice(&text, role.span), "ledger-api");
        let trust = role.trust.as_ref().unwrap();
        assert!(trust.complete);
        let statement = &trust.statements[0];
        assert_eq!(statement.effect, Some(Effect::Allow));
        let actions = statement.actions.as_ref().unwrap();
        assert_eq!(actions[0].value, Str::lit(WEB_IDENTITY_ACTION));
        let federated = &statement.federated.as_ref().unwrap()[0].value;
        assert_eq!(
            federated.display(),
            "arn:aws:iam::<account id>:oidc-provider/<issuer of cluster prod>"
        );
        let conditions: Vec<_> = statement
            .conditions
            .iter()
            .flatten()
            .map(|c| {
                let value = &c.values.as_ref().unwrap()[0].value;
                (
                    c.operator.value.as_str(),
                    c.key.value.display(),
                    value.display(),
                )
            })
            .collect();
        assert_eq!(
            conditions,
            [
                (
                    "StringEquals",
                    "<issuer of cluster prod>:sub".to_string(),
                    "system:serviceaccount:payments:ledger-api".to_string()
                ),
                (
                    "StringEquals",
                    "<issuer of cluster prod>:aud".to_string(),
                    "sts.amazonaws.com".to_string()
                ),
            ]
        );
        let sa = &facts.service_accounts[0];
        assert_eq!(sa.qualified_name(), "payments/ledger-api");
        assert!(sa.namespace_explicit);
        assert_eq!(sa.origin, Origin::Manifest);
        assert_eq!(slice(&text, sa.namespace.span), "payments");
        assert!(slice(&text, sa.span).starts_with("metadata:"));
        assert!(sa.annotation("team").is_some());
        assert_eq!(linked_roles(&facts), [vec![0]]);
    }

    #[test]
    fn the_provider_eksctl_creates_is_the_one_its_roles_trust() {
        let text = format!("{HEADER}{LEDGER}");
        let facts = config(&text);
        let provider = &facts.providers[0];
        assert_eq!(slice(&text, provider.span), "true");
        let statement = &facts.roles[0].trust.as_ref().unwrap().statements[0];
        let federated = &statement.federated.as_ref().unwrap()[0].value;
        assert_eq!(provider.arn.as_ref(), Some(federated));
        // Without withOIDC, eksctl makes roles only for a cluster that has a provider.
        let without_oidc = text.replace("withOIDC: true", "withOIDC: false");
        let provider = config(&without_oidc).providers.remove(0);
        assert_eq!(slice(&without_oidc, provider.span), "prod");
        let no_roles = HEADER.replace("withOIDC: true", "withOIDC: false");
        assert!(config(&no_roles).providers.is_empty());
    }

    #[test]
    fn a_named_role_is_exact_and_spanned_at_its_name() {
        let text = format!("{HEADER}{LEDGER}      roleName: ledger-api-irsa\n");
        let facts = config(&text);
        let role = &facts.roles[0];
        assert_eq!(role.name, RoleName::Exact(Str::lit("ledger-api-irsa")));
        assert_eq!(slice(&text, role.name_span), "ledger-api-irsa");
        assert_eq!(
            slice(&text, role.trust.as_ref().unwrap().span),
            "ledger-api-irsa"
        );
        let arn = facts.service_accounts[0].annotation(ROLE_ARN_KEY).unwrap();
        let arn = arn.value.as_ref().unwrap();
        assert_eq!(
            arn.value.display(),
            "arn:aws:iam::<account id>:role/ledger-api-irsa"
        );
        assert_eq!(linked_roles(&facts), [vec![0]]);
    }

    #[test]
    fn role_only_creates_no_service_account() {
        let text = format!("{HEADER}{LEDGER}      roleOnly: true\n");
        let facts = config(&text);
        assert_eq!(facts.roles.len(), 1);
        assert!(facts.service_accounts.is_empty());
    }

    #[test]
    fn attach_role_arn_creates_no_role_and_annotates_that_arn() {
        let text = format!(
            "{HEADER}{LEDGER}      attachRoleARN: \"arn:aws:iam::482910375521:role/ledger\"\n"
        );
        let facts = config(&text);
        assert!(facts.roles.is_empty());
        let sa = &facts.service_accounts[0];
        let arn = sa.annotation(ROLE_ARN_KEY).unwrap().value.as_ref().unwrap();
        assert_eq!(arn.value, Str::lit("arn:aws:iam::482910375521:role/ledger"));
        assert_eq!(
            slice(&text, arn.span),
            "arn:aws:iam::482910375521:role/ledger"
        );
    }

    #[test]
    fn a_role_arn_written_in_the_annotations_is_replaced_by_eksctl() {
        let text = format!("{HEADER}{LEDGER}").replace(
            "team: ledger",
            "eks.amazonaws.com/role-arn: arn:aws:iam::482910375521:role/old",
        );
        let facts = config(&text);
        let sa = &facts.service_accounts[0];
        assert_eq!(sa.annotations.len(), 1);
        assert_eq!(linked_roles(&facts), [vec![0]]);
    }

    #[test]
    fn namespace_defaults_to_default_at_the_name() {
        let text = format!("{HEADER}{LEDGER}").replace("        namespace: payments\n", "");
        let facts = config(&text);
        let sa = &facts.service_accounts[0];
        assert_eq!(sa.qualified_name(), "default/ledger-api");
        assert!(!sa.namespace_explicit);
        assert_eq!(sa.namespace.span, sa.name.span);
        assert_eq!(facts.roles[0].address, "eksctl:prod:default/ledger-api");
    }

    #[test]
    fn the_region_decides_the_partition() {
        for (region, partition) in [
            ("cn-north-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("ap-southeast-2", "aws"),
        ] {
            let text = format!("{HEADER}{LEDGER}").replace("eu-west-1", region);
            let facts = config(&text);
            let arn = facts.service_accounts[0].annotation(ROLE_ARN_KEY).unwrap();
            let arn = arn.value.as_ref().unwrap().value.display();
            assert!(arn.starts_with(&format!("arn:{partition}:iam::")), "{arn}");
        }
        let unset = format!("{HEADER}{LEDGER}").replace("  region: eu-west-1\n", "");
        let provider = config(&unset).providers.remove(0);
        assert!(
            provider
                .arn
                .unwrap()
                .display()
                .starts_with("arn:<partition>:iam::")
        );
    }

    #[test]
    fn a_subject_pattern_is_a_string_like_condition() {
        let text = format!("{HEADER}{LEDGER}      subjectPattern: \"ledger-*\"\n");
        let facts = config(&text);
        let statement = &facts.roles[0].trust.as_ref().unwrap().statements[0];
        let sub = &statement.conditions.as_ref().unwrap()[0];
        assert_eq!(sub.operator.value, "StringLike");
        let value = &sub.values.as_ref().unwrap()[0];
        assert_eq!(
            value.value,
            Str::lit("system:serviceaccount:payments:ledger-*")
        );
        assert_eq!(slice(&text, value.span), "ledger-*");
    }

    #[test]
    fn generated_names_keep_what_cloudformation_keeps() {
        let short = generated_role_prefix("eksctl-prod-addon-iamserviceaccount-a-b");
        assert_eq!(
            short,
            Str::lit("eksctl-prod-addon-iamserviceaccount-a-b-Role1-")
        );
        // Seen: eksctl-eks-demo-addon-iamserviceaccount-kube-Role1-6PRU9IPUNAD1
        let long =
            "eksctl-eks-demo-addon-iamserviceaccount-kube-system-aws-load-balancer-controller";
        let prefix = generated_role_prefix(long);
        assert_eq!(
            prefix,
            Str::lit("eksctl-eks-demo-addon-iamserviceaccount-kub")
        );
        let seen = "eksctl-eks-demo-addon-iamserviceaccount-kube-Role1-6PRU9IPUNAD1";
        assert_eq!(
            Str::lit(seen).starts_with(prefix.known_prefix()),
            crate::eval::value::Tri::Yes
        );
        // Cut just after a `-`, which CloudFormation drops.
        let dashed = generated_role_prefix("eksctl-eks-demo-addon-iamserviceaccount-kub-system-x");
        assert_eq!(
            dashed,
            Str::lit("eksctl-eks-demo-addon-iamserviceaccount-kub")
        );
    }

    #[test]
    fn placeholders_filled_in_before_eksctl_runs_are_unknown() {
        let text = format!("{HEADER}{LEDGER}").replace("name: prod", "name: ${CLUSTER_NAME}");
        let facts = config(&text);
        assert_eq!(facts.roles[0].name, RoleName::Prefix(Str::lit("eksctl")));
        assert_eq!(linked_roles(&facts), [vec![0]]);
        let named = format!("{HEADER}{LEDGER}      roleName: ${{APP}}-irsa\n");
        let facts = config(&named);
        assert_eq!(facts.roles[0].name, RoleName::Unknown);
        assert!(linked_roles(&facts).is_empty());
        let sa = format!("{HEADER}{LEDGER}").replace("payments", "${NAMESPACE}");
        let facts = config(&sa);
        assert!(facts.roles.is_empty() && facts.service_accounts.is_empty());
        assert!(facts.hidden_service_accounts);
    }

    #[test]
    fn pod_identity_associations_name_their_role_or_the_one_eksctl_creates() {
        let text = format!(
            "{HEADER}  podIdentityAssociations:\n    - namespace: billing\n      \
             serviceAccountName: invoices\n      roleARN: arn:aws:iam::482910375521:role/invoices\n    \
             - namespace: billing\n      serviceAccountName: reports\n      \
             createServiceAccount: true\n      permissionPolicyARNs: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n"
        );
        let facts = config(&text);
        let [given, created] = facts.pod_identities.as_slice() else {
            panic!("{:?}", facts.pod_identities)
        };
        assert_eq!(given.unit, "clusters/prod (eksctl cluster prod)");
        assert_eq!(slice(&text, given.namespace.span), "billing");
        let given_arn = given.role_arn.as_ref().unwrap();
        assert_eq!(
            slice(&text, given_arn.span),
            "arn:aws:iam::482910375521:role/invoices"
        );
        // Only the second association makes eksctl create a role, trusting Pod Identity.
        let [role] = facts.roles.as_slice() else {
            panic!("{:?}", facts.roles)
        };
        assert_eq!(
            role.address,
            "eksctl:prod:pod-identity-role:billing/reports"
        );
        let statement = &role.trust.as_ref().unwrap().statements[0];
        assert_eq!(
            statement.services.as_ref().unwrap()[0].value,
            Str::lit(POD_IDENTITY_SERVICE)
        );
        let created_arn = &created.role_arn.as_ref().unwrap().value;
        let arn = crate::aws::arn::RoleArn::parse(created_arn).unwrap();
        let RoleName::Prefix(prefix) = &role.name else {
            panic!("{:?}", role.name)
        };
        assert_eq!(arn.name, generated_or_exact(&role.name, &role.address));
        assert!(
            prefix
                .known_prefix()
                .starts_with("eksctl-prod-podidentityrole-billing-reports")
        );
        // createServiceAccount: a ServiceAccount without an IRSA annotation.
        let [sa] = facts.service_accounts.as_slice() else {
            panic!("{:?}", facts.service_accounts)
        };
        assert_eq!(sa.qualified_name(), "billing/reports");
        assert!(sa.annotations.is_empty());
    }

    #[test]
    fn add_ons_with_iam_wiring_and_karpenter_hide_service_accounts() {
        let plain = format!("{HEADER}addons:\n  - name: vpc-cni\n  - name: coredns\n");
        let facts = config(&plain);
        assert!(!facts.hidden_service_accounts && !facts.hidden_roles);
        let given = format!(
            "{HEADER}addons:\n  - name: aws-ebs-csi-driver\n    \
             serviceAccountRoleARN: arn:aws:iam::482910375521:role/ebs-csi\n"
        );
        let facts = config(&given);
        assert!(facts.hidden_service_accounts && !facts.hidden_roles);
        for wiring in [
            "    wellKnownPolicies:\n      ebsCSIController: true\n",
            "    attachPolicyARNs: [arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy]\n",
            "    useDefaultPodIdentityAssociations: true\n",
            "    podIdentityAssociations:\n      - serviceAccountName: ebs-csi-controller-sa\n        \
             permissionPolicyARNs: [arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy]\n",
        ] {
            let text = format!("{HEADER}addons:\n  - name: aws-ebs-csi-driver\n{wiring}");
            let facts = config(&text);
            assert!(
                facts.hidden_service_accounts && facts.hidden_roles,
                "{wiring}"
            );
        }
        let auto = format!("{HEADER}addonsConfig:\n  autoApplyPodIdentityAssociations: true\n");
        assert!(config(&auto).hidden_service_accounts);
        let karpenter = format!("{HEADER}karpenter:\n  version: \"1.0.6\"\n");
        assert!(config(&karpenter).hidden_service_accounts);
    }

    #[test]
    fn other_files_and_kinds_yield_nothing() {
        for text in [
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n",
            // kind's (kubernetes-sigs/kind) cluster config is another tool's file.
            "apiVersion: kind.x-k8s.io/v1alpha4\nkind: ClusterConfig\nmetadata: {name: a}\n",
            "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: [a]\n",
            "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: a}\n\
             iam: {serviceAccounts: {a: b}, podIdentityAssociations: [x, {namespace: y}]}\n",
        ] {
            let facts = config(text);
            assert!(
                facts.roles.is_empty() && facts.service_accounts.is_empty(),
                "{text}"
            );
        }
    }

    #[test]
    fn templates_and_unnamed_clusters_hide_what_they_create() {
        let template = format!("{HEADER}{LEDGER}").replace("prod", "{{ .Values.cluster }}");
        let facts = config(&template);
        assert!(facts.roles.is_empty() && facts.hidden_service_accounts && facts.hidden_roles);
        let unnamed = format!("{HEADER}{LEDGER}").replace("  name: prod\n", "");
        let facts = config(&unnamed);
        assert!(facts.roles.is_empty() && facts.hidden_roles);
    }

    #[test]
    fn syntax_errors_are_left_to_the_manifest_reader() {
        let text = format!("{HEADER}{LEDGER}---\nkind: ConfigMap\ndata: [broken\n");
        let facts = config(&text);
        assert!(facts.parse_errors.is_empty());
        assert_eq!(facts.roles.len(), 1);
        assert!(!facts.hidden_service_accounts);
    }
}
