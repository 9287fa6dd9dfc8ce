//! Facts from a Terraform plan or state (`crate::parse::plan`): the same facts the
//! configuration gives, with every value as Terraform resolved it (variables, `count`,
//! `for_each`, module expansions, registry modules irsa-lint has no model of).
//!
//! Facts point at the user's lines: when the configuration of a resource is in the scan, each
//! value is spanned at its attribute in the `.tf` block (found by module path and resource
//! address), and the plan's own line is kept as its [`PlanOrigin`]; only a resource whose
//! configuration is not in the scan is spanned in the plan itself. Unknown and sensitive
//! values are unknown, never shown.

use std::cell::RefCell;

use foldhash::{HashMap, HashMapExt};
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Block, Body};

use super::charts::{self, DefaultName};
use super::kubernetes::{
    ChartRelease, Values, annotation_settings, image_tag, object_service_account,
    record_chart_service_accounts, split_key, yaml_value,
};
use super::manifests::{ManifestSyntax, extract_manifests_read};
use super::policy::policy_from_json_text;
use super::{
    Annotation, AttachedPolicy, Cluster, Facts, HelmRelease, OidcProvider, PodIdentityAssociation,
    ROLE_ARN_KEY, Role, RoleName, RolePolicy, ServiceAccount, Spanned, UnresolvedServiceAccount,
};
use crate::eval::module::label_range;
use crate::eval::value::{Str, Symbol, Value};
use crate::parse::plan::{Node, Plan, PlanKind, PlanResource};
use crate::source::{FileId, Span};

/// The resource types whose values make facts.
const READ_TYPES: &[&str] = &[
    "aws_iam_role",
    "aws_iam_openid_connect_provider",
    "aws_eks_cluster",
    "kubernetes_service_account",
    "kubernetes_service_account_v1",
    "aws_eks_pod_identity_association",
    "aws_eks_addon",
    "kubernetes_manifest",
    "kubectl_manifest",
    "helm_release",
    "aws_iam_role_policy_attachment",
    "aws_iam_policy_attachment",
    "aws_iam_role_policy",
    "local_file",
    "aws_iam_policy",
    "kubernetes_annotations",
    "aws_caller_identity",
    "aws_partition",
];

/// Whether a resource type makes facts: the others are not built when a plan is read.
pub fn reads_type(kind: &str) -> bool {
    READ_TYPES.contains(&kind)
}

/// Where a value of a plan is also written in the configuration: findings at `source` name
/// `plan` as a related location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOrigin {
    pub source: Span,
    pub plan: Span,
    pub kind: PlanKind,
    /// The resource instance whose value it is: instances of one block share its spans.
    pub address: String,
}

/// Where the configuration of a plan's resources is written, when the scan holds it.
pub trait Configuration {
    /// The `resource` (or `data`) block of `kind.name` in the module instance `module`
    /// (`module.irsa["api"].module.inner`, empty for the root).
    fn block(&self, module: &str, data: bool, kind: &str, name: &str) -> Option<(FileId, &Block)>;
}

/// The facts of a plan or state, for the root module named `unit`.
pub fn extract(plan: &Plan, config: Option<&dyn Configuration>, unit: &str) -> Facts {
    let mut facts = Facts::default();
    let origins = RefCell::new(Vec::new());
    let index = Index::new(plan);
    for res in &plan.resources {
        let block = config.and_then(|c| c.block(&res.module, res.data, &res.kind, &res.name));
        let at = At {
            index: &index,
            res,
            block,
            kind: plan.kind,
            origins: &origins,
        };
        match (res.kind.as_str(), res.data) {
            ("aws_iam_role", false) => role(&at, unit, &mut facts),
            ("aws_iam_openid_connect_provider", _) => provider(&at, &mut facts),
            ("aws_eks_cluster", _) => cluster(&at, &mut facts),
            ("kubernetes_service_account" | "kubernetes_service_account_v1", false) => {
                service_account(&at, unit, &mut facts)
            }
            ("aws_eks_pod_identity_association", false) => pod_identity(&at, unit, &mut facts),
            ("aws_eks_addon", false) => addon(&at, unit, &mut facts),
            ("kubernetes_manifest", false) => kubernetes_manifest(&at, unit, &mut facts),
            ("kubectl_manifest", false) => kubectl_manifest(&at, unit, &mut facts),
            ("helm_release", false) => helm_release(&at, unit, &mut facts),
            ("aws_iam_role_policy_attachment", false) => attachment(&at, unit, &mut facts),
            ("aws_iam_policy_attachment", false) => policy_attachment(&at, unit, &mut facts),
            ("aws_iam_role_policy", false) => inline_policy(&at, unit, &mut facts),
            ("local_file", false) => local_file(&at, unit, &mut facts),
            ("kubernetes_annotations", false) => {
                let kind = res.values.get("kind").and_then(Node::as_str);
                facts.hidden_annotations |= kind.is_none_or(|k| k == "ServiceAccount");
            }
            _ => {}
        }
    }
    // A plan of part of the configuration (`-target`): the rest may make anything.
    if plan.missing.is_some() {
        facts.hidden_roles = true;
        facts.hidden_service_accounts = true;
    }
    facts.plan_origins = origins.into_inner();
    facts
}

/// The plan's resources as references and attachments look them up.
struct Index<'p> {
    /// Managed resources by module instance, type and name.
    blocks: HashMap<(&'p str, &'p str, &'p str), Vec<&'p PlanResource>>,
    /// Policy documents by ARN.
    policies: HashMap<&'p str, &'p str>,
    /// The account and partition Terraform runs in (`data.aws_caller_identity`,
    /// `data.aws_partition`), when the plan read them.
    account: Option<&'p str>,
    partition: Option<&'p str>,
}

impl<'p> Index<'p> {
    fn new(plan: &'p Plan) -> Self {
        let mut index = Index {
            blocks: HashMap::new(),
            policies: HashMap::new(),
            account: None,
            partition: None,
        };
        for r in &plan.resources {
            let text = |key: &str| r.values.get(key).and_then(Node::as_str);
            match (r.data, r.kind.as_str()) {
                (true, "aws_caller_identity") => {
                    index.account = index.account.or(text("account_id"))
                }
                (true, "aws_partition") => index.partition = index.partition.or(text("partition")),
                (true, _) => {}
                (false, kind) => {
                    if let ("aws_iam_policy", Some(arn), Some(policy)) =
                        (kind, text("arn"), text("policy"))
                    {
                        index.policies.insert(arn, policy);
                    }
                    let key = (r.module.as_str(), kind, r.name.as_str());
                    index.blocks.entry(key).or_default().push(r);
                }
            }
        }
        index
    }
}

/// One resource of the plan and the block that configures it.
struct At<'p> {
    index: &'p Index<'p>,
    res: &'p PlanResource,
    block: Option<(FileId, &'p Block)>,
    kind: PlanKind,
    origins: &'p RefCell<Vec<PlanOrigin>>,
}

/// A step of a path into a resource's values.
#[derive(Clone, Copy)]
enum Seg<'s> {
    Key(&'s str),
    Index(usize),
}

impl At<'_> {
    fn values(&self) -> &Node {
        &self.res.values
    }

    fn address(&self) -> String {
        self.res.address.clone()
    }

    /// Where the resource is shown: its block's labels, else its address in the plan.
    fn label(&self) -> Span {
        match self.block {
            Some((file, block)) => {
                let span = Span::new(file, label_range(block));
                self.record(span, self.res.span);
                span
            }
            None => self.res.span,
        }
    }

    /// Where the value at `path` (spanned at `plan` in the plan) is written: the closest
    /// attribute of the block, else the plan.
    fn at(&self, path: &[Seg<'_>], plan: Span) -> Span {
        match self.block {
            Some((file, block)) => {
                let span = Span::new(file, source_range(block, path));
                self.record(span, plan);
                span
            }
            None => plan,
        }
    }

    /// An ARN the plan knows only after apply, of a role the configuration references at
    /// `path` (`aws_iam_role.api.arn`): built from the role's name and path and the account
    /// and partition of the plan's data sources (symbolic when it has none), as Terraform
    /// will make it.
    fn role_arn_reference(&self, path: &[Seg<'_>]) -> Option<Str> {
        let role = self.referenced(path, "aws_iam_role", "arn")?;
        if let Some(Node::Str(arn, _)) = role.values.get("arn") {
            return Some(Str::lit(arn.as_str()));
        }
        let role_name = role.values.get("name").and_then(Node::as_str)?;
        let role_path = match role.values.get("path") {
            Some(Node::Str(p, _)) => p.as_str(),
            None | Some(Node::Null(_)) => "/",
            Some(_) => return None,
        };
        let mut arn = Str::lit("arn:");
        match self.index.partition {
            Some(p) => arn.push_str(p),
            None => arn.push_sym(Symbol::Partition),
        }
        arn.push_str(":iam::");
        match self.index.account {
            Some(a) => arn.push_str(a),
            None => arn.push_sym(Symbol::Account),
        }
        arn.push_str(&format!(":role{role_path}{role_name}"));
        Some(arn)
    }

    /// The one resource of the plan, of this type and in this module, whose `attr` the
    /// configuration writes at `path` (`aws_iam_role.api.arn`).
    fn referenced(&self, path: &[Seg<'_>], kind: &str, attr: &str) -> Option<&PlanResource> {
        let (_, block) = self.block?;
        let (_, expr) = source_at(block, path);
        let Expression::Traversal(t) = expr? else {
            return None;
        };
        let Expression::Variable(root) = &t.expr else {
            return None;
        };
        let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
        let [
            TraversalOperator::GetAttr(name),
            TraversalOperator::GetAttr(read),
        ] = ops.as_slice()
        else {
            return None;
        };
        if root.as_str() != kind || read.as_str() != attr {
            return None;
        }
        match self
            .index
            .blocks
            .get(&(self.res.module.as_str(), kind, name.as_str()))?
            .as_slice()
        {
            [one] => Some(*one),
            _ => None,
        }
    }

    fn record(&self, source: Span, plan: Span) {
        let origin = PlanOrigin {
            source,
            plan,
            kind: self.kind,
            address: self.res.address.clone(),
        };
        let mut origins = self.origins.borrow_mut();
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }

    /// A known string at a top-level key, spanned.
    fn text(&self, key: &str) -> Option<Spanned<String>> {
        match self.values().get(key)? {
            Node::Str(s, span) => Some(Spanned::new(s.clone(), self.at(&[Seg::Key(key)], *span))),
            _ => None,
        }
    }

    /// A known string at `path`.
    fn text_at(&self, node: Option<&Node>, path: &[Seg<'_>]) -> Option<Spanned<String>> {
        match node? {
            Node::Str(s, span) => Some(Spanned::new(s.clone(), self.at(path, *span))),
            _ => None,
        }
    }
}

fn lit(s: Spanned<String>) -> Spanned<Str> {
    Spanned::new(Str::lit(s.value), s.span)
}

fn role(at: &At<'_>, unit: &str, facts: &mut Facts) {
    let v = at.values();
    let address = at.address();
    let symbol_key = format!("{unit}:{address}");
    let label = at.label();
    let unknown_name = || RoleName::Exact(Str::sym(Symbol::RoleName(symbol_key.clone())));
    let (name, name_span) = match (v.get("name"), v.get("name_prefix")) {
        (Some(Node::Str(..)), _) => {
            let name = at.text("name").expect("a string");
            (RoleName::Exact(Str::lit(name.value)), name.span)
        }
        (_, Some(Node::Str(..))) => {
            let prefix = at.text("name_prefix").expect("a string");
            (RoleName::Prefix(Str::lit(prefix.value)), prefix.span)
        }
        (Some(n @ Node::Unknown(_)), _) => (unknown_name(), at.at(&[Seg::Key("name")], n.span())),
        _ => (RoleName::Prefix(Str::default()), label),
    };
    let (path, path_span) = match v.get("path") {
        Some(Node::Str(..)) => {
            let path = at.text("path").expect("a string");
            (Some(Str::lit(path.value)), Some(path.span))
        }
        Some(n @ Node::Unknown(_)) => (None, Some(at.at(&[Seg::Key("path")], n.span()))),
        _ => (Some(Str::lit("/")), None),
    };
    let trust = at
        .text("assume_role_policy")
        .and_then(|p| policy_from_json_text(&p.value, p.span));
    // Inline policies of the role itself.
    if let Some(Node::List(items, _)) = v.get("inline_policy") {
        for (i, item) in items.iter().enumerate() {
            let path = [Seg::Key("inline_policy"), Seg::Index(i), Seg::Key("policy")];
            let policy = at
                .text_at(item.get("policy"), &path)
                .and_then(|p| policy_from_json_text(&p.value, p.span));
            let role = match &name {
                RoleName::Exact(n) => Some(n.clone()),
                _ => None,
            };
            facts.role_policies.push(RolePolicy {
                unit: unit.to_string(),
                role,
                policy: policy.map_or(AttachedPolicy::Unknown, AttachedPolicy::document),
                span: at.at(&path[..2], item.span()),
            });
        }
    }
    if let Some(Node::List(arns, _)) = v.get("managed_policy_arns") {
        for (i, arn) in arns.iter().enumerate() {
            let path = [Seg::Key("managed_policy_arns"), Seg::Index(i)];
            let policy = match at.text_at(Some(arn), &path) {
                Some(arn) => AttachedPolicy::Managed(lit(arn)),
                None => AttachedPolicy::Unknown,
            };
            facts.role_policies.push(RolePolicy {
                unit: unit.to_string(),
                role: match &name {
                    RoleName::Exact(n) => Some(n.clone()),
                    _ => None,
                },
                policy,
                span: at.at(&path, arn.span()),
            });
        }
    }
    facts.roles.push(Role {
        module: at.res.module.clone(),
        address,
        symbol_key,
        unit: unit.to_string(),
        span: label,
        name,
        name_span,
        path,
        path_span,
        trust: trust.map(std::sync::Arc::new),
        provider_accounts: Vec::new(),
        when: Vec::new(),
    });
}

fn provider(at: &At<'_>, facts: &mut Facts) {
    let v = at.values();
    let url = at.text("url").map(lit);
    let client_ids = match v.get("client_id_list") {
        Some(Node::List(items, _)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                at.text_at(Some(item), &[Seg::Key("client_id_list"), Seg::Index(i)])
                    .map(lit)
            })
            .collect(),
        _ => None,
    };
    let arn = v.get("arn").and_then(Node::as_str).map(Str::lit);
    facts.providers.push(OidcProvider {
        address: at.address(),
        span: at.label(),
        url,
        client_ids,
        arn,
    });
}

fn cluster(at: &At<'_>, facts: &mut Facts) {
    let v = at.values();
    let issuer = v
        .get("identity")
        .and_then(|i| i.at(0))
        .and_then(|i| i.get("oidc"))
        .and_then(|o| o.at(0))
        .and_then(|o| o.get("issuer"))
        .and_then(Node::as_str)
        .and_then(|s| s.strip_prefix("https://"));
    let Some(issuer) = issuer else {
        return;
    };
    facts.clusters.push(Cluster {
        address: at.address(),
        span: at.label(),
        name: v.get("name").and_then(Node::as_str).map(Str::lit),
        issuer: Str::lit(issuer),
    });
}

fn service_account(at: &At<'_>, unit: &str, facts: &mut Facts) {
    let metadata = at.values().get("metadata").and_then(|m| m.at(0));
    let path = |key: &'static str| [Seg::Key("metadata"), Seg::Index(0), Seg::Key(key)];
    let field = |key: &'static str| at.text_at(metadata.and_then(|m| m.get(key)), &path(key));
    let annotations_node = metadata.and_then(|m| m.get("annotations"));
    let (annotations, annotations_known) = annotations(at, annotations_node, &path("annotations"));
    let name = field("name");
    let namespace = field("namespace");
    let namespace_unknown = metadata
        .and_then(|m| m.get("namespace"))
        .is_some_and(Node::is_unknown);
    let (Some(name), false) = (name, namespace_unknown) else {
        facts.hidden_service_accounts = true;
        if let Some(role) = annotations.iter().find(|a| a.key.value == ROLE_ARN_KEY) {
            facts
                .unresolved_service_accounts
                .push(UnresolvedServiceAccount {
                    span: at.label(),
                    why: "its name or namespace is known only after apply".to_string(),
                    role_arn: role.value.clone(),
                });
        }
        return;
    };
    // The provider fills in `default`; it was written only when the configuration says so.
    let written = match at.block {
        Some((_, block)) => block
            .body
            .get_blocks("metadata")
            .next()
            .is_some_and(|m| m.body.get_attribute("namespace").is_some()),
        None => true,
    };
    let namespace = namespace.filter(|ns| written || ns.value != "default");
    let mut sa = ServiceAccount::terraform(at.label(), name, namespace, annotations, unit);
    sa.annotations_known = annotations_known;
    facts.service_accounts.push(sa);
}

/// A map of annotations at `path`, and whether all its keys are known.
fn annotations(at: &At<'_>, node: Option<&Node>, path: &[Seg<'_>]) -> (Vec<Annotation>, bool) {
    match node {
        None | Some(Node::Null(_)) => (Vec::new(), true),
        Some(Node::Map(entries, _)) => {
            let out = entries
                .iter()
                .map(|(key, value)| {
                    let mut p = path.to_vec();
                    p.push(Seg::Key(key));
                    let span = at.at(&p, value.span());
                    let known = match value {
                        Node::Str(s, _) => Some(Str::lit(s.as_str())),
                        Node::Unknown(_) if key == ROLE_ARN_KEY => at.role_arn_reference(&p),
                        _ => None,
                    };
                    Annotation {
                        key: Spanned::new(key.clone(), span),
                        value: known.map(|s| Spanned::new(s, span)),
                    }
                })
                .collect();
            (out, true)
        }
        Some(_) => (Vec::new(), false),
    }
}

/// A role ARN at a top-level key: as planned, or built for a role the plan creates.
fn role_arn(at: &At<'_>, key: &str) -> Option<Spanned<Str>> {
    match at.values().get(key)? {
        Node::Str(..) => at.text(key).map(lit),
        n @ Node::Unknown(_) => {
            let path = [Seg::Key(key)];
            let arn = at.role_arn_reference(&path)?;
            Some(Spanned::new(arn, at.at(&path, n.span())))
        }
        _ => None,
    }
}

fn pod_identity(at: &At<'_>, unit: &str, facts: &mut Facts) {
    let (Some(namespace), Some(service_account)) =
        (at.text("namespace"), at.text("service_account"))
    else {
        return;
    };
    facts.pod_identities.push(PodIdentityAssociation {
        address: at.address(),
        unit: unit.to_string(),
        span: at.label(),
        namespace,
        service_account,
        role_arn: role_arn(at, "role_arn"),
        when: Vec::new(),
    });
}

fn addon(at: &At<'_>, unit: &str, facts: &mut Facts) {
    let name = at.text("addon_name");
    let role_arn = role_arn(at, "service_account_role_arn");
    let role_unknown = role_arn.is_none()
        && at
            .values()
            .get("service_account_role_arn")
            .is_some_and(Node::is_unknown);
    let address = at.address();
    let label = at.label();
    let before = facts.service_accounts.len();
    super::addons::service_account(name.as_ref(), label, role_arn, &address, unit, facts);
    let version = at.text("addon_version");
    for sa in &mut facts.service_accounts[before..] {
        sa.annotations_known = !role_unknown;
        sa.addon_version = super::addons::version(name.as_ref(), version.as_ref());
    }
    let Some(addon) = name.as_ref().and_then(|n| super::addons::find(&n.value)) else {
        return;
    };
    let Some(Node::List(items, _)) = at.values().get("pod_identity_association") else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let path = |key| {
            [
                Seg::Key("pod_identity_association"),
                Seg::Index(i),
                Seg::Key(key),
            ]
        };
        let Some(service_account) =
            at.text_at(item.get("service_account"), &path("service_account"))
        else {
            continue;
        };
        facts.pod_identities.push(PodIdentityAssociation {
            address: format!("{address}.pod_identity_association"),
            unit: unit.to_string(),
            span: at.at(&path("service_account")[..2], item.span()),
            namespace: Spanned::new(addon.namespace.to_string(), service_account.span),
            service_account,
            role_arn: at.text_at(item.get("role_arn"), &path("role_arn")).map(lit),
            when: Vec::new(),
        });
    }
}

/// A plan value as an evaluated value: unknown stays unknown.
fn to_value(node: &Node) -> Value {
    match node {
        Node::Null(_) => Value::Null,
        Node::Bool(b, _) => Value::Bool(*b),
        Node::Number(n, _) => Value::Number(*n),
        Node::Str(s, _) => Value::str(s.clone()),
        Node::List(items, _) => Value::List(items.iter().map(to_value).collect()),
        Node::Map(entries, _) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), to_value(v)))
                .collect(),
        ),
        Node::Unknown(_) => Value::Unknown,
    }
}

fn kubernetes_manifest(at: &At<'_>, unit: &str, facts: &mut Facts) {
    let Some(manifest) = at.values().get("manifest") else {
        return;
    };
    let object = to_value(manifest);
    let fallback = at.at(&[Seg::Key("manifest")], manifest.span());
    let node_at = |path: &[&str]| {
        let mut node = Some(manifest);
        for key in path {
            node = node.and_then(|n| n.get(key));
        }
        node.map(Node::span)
    };
    let span_of = |path: &[&str]| {
        let mut p = vec![Seg::Key("manifest")];
        p.extend(path.iter().map(|k| Seg::Key(k)));
        match node_at(path) {
            Some(plan) => at.at(&p, plan),
            None => fallback,
        }
    };
    match object.get_attr("kind").as_known_str() {
        Some("ServiceAccount") => match object_service_account(&object, &span_of, at.label(), unit)
        {
            Some(sa) => facts.service_accounts.push(sa),
            None => facts.hidden_service_accounts = true,
        },
        // An object with values known only after apply is left unread: a workload's
        // ServiceAccount must not be taken for `default`.
        Some(_) if manifest.has_unknown() => {}
        // Workloads and the rest, read as a manifest, spanned at the attribute.
        Some(_) => {
            let text = to_json(manifest).to_string();
            let mut found =
                extract_manifests_read(fallback.file, &text, ManifestSyntax::Json, unit, false);
            found.map_object_spans(&|_| fallback);
            found.parse_errors.clear();
            facts.extend(found);
        }
        None => facts.hidden_service_accounts = true,
    }
}

/// A plan value as JSON (known values only: unknown ones become null).
fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match node {
        Node::Null(_) | Node::Unknown(_) => J::Null,
        Node::Bool(b, _) => J::Bool(*b),
        Node::Number(n, _) => serde_json::Number::from_f64(*n).map_or(J::Null, J::Number),
        Node::Str(s, _) => J::String(s.clone()),
        Node::List(items, _) => J::Array(items.iter().map(to_json).collect()),
        Node::Map(entries, _) => J::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect(),
        ),
    }
}

fn kubectl_manifest(at: &At<'_>, unit: &str, facts: &mut Facts) {
    manifest_text(at, "yaml_body", unit, facts);
}

/// Manifests written as text at `key`, read like a manifest file, every object spanned at
/// the attribute.
fn manifest_text(at: &At<'_>, key: &str, unit: &str, facts: &mut Facts) {
    match at.values().get(key) {
        Some(Node::Str(text, span)) => {
            let target = at.at(&[Seg::Key(key)], *span);
            let mut found =
                extract_manifests_read(target.file, text, ManifestSyntax::Yaml, unit, false);
            found.map_object_spans(&|_| target);
            // Its syntax errors are Terraform's to report.
            found.parse_errors.clear();
            facts.extend(found);
        }
        Some(Node::Unknown(_)) => facts.hidden_service_accounts = true,
        _ => {}
    }
}

fn helm_release(at: &At<'_>, unit: &str, facts: &mut Facts) {
    let v = at.values();
    let label = at.label();
    let (Some(chart_arg), Some(release)) = (at.text("chart"), at.text("name")) else {
        facts.hidden_service_accounts = true;
        return;
    };
    let namespace = match v.get("namespace") {
        Some(Node::Str(..)) => at.text("namespace").expect("a string"),
        None | Some(Node::Null(_)) => Spanned::new("default".to_string(), label),
        Some(_) => {
            facts.hidden_service_accounts = true;
            return;
        }
    };
    let mut values = Values::default();
    match v.get("values") {
        Some(Node::List(items, _)) => {
            for (i, item) in items.iter().enumerate() {
                let span = at.at(&[Seg::Key("values"), Seg::Index(i)], item.span());
                match item.as_str().and_then(yaml_value) {
                    Some(value) => values.merge(&value, &|_| span),
                    None => values.unknown = true,
                }
            }
        }
        None | Some(Node::Null(_)) => {}
        Some(_) => values.unknown = true,
    }
    for key in ["set", "set_list", "set_sensitive"] {
        match v.get(key) {
            Some(Node::List(items, _)) => {
                for (i, item) in items.iter().enumerate() {
                    let path = |k| [Seg::Key(key), Seg::Index(i), Seg::Key(k)];
                    let Some(name) = at.text_at(item.get("name"), &path("name")) else {
                        values.unknown = true;
                        continue;
                    };
                    let value = match (key, item.get("value")) {
                        ("set_sensitive", _) => Value::Unknown,
                        (_, Some(node)) => to_value(node),
                        (_, None) => Value::Unknown,
                    };
                    let value_span = item
                        .get("value")
                        .map_or(name.span, |n| at.at(&path("value"), n.span()));
                    let segments = split_key(&name.value);
                    if segments.is_empty() {
                        continue;
                    }
                    values.key_spans.insert(segments.clone(), name.span);
                    values.set(segments, value, value_span);
                }
            }
            None | Some(Node::Null(_)) => {}
            Some(_) => values.unknown = true,
        }
    }
    let address = at.address();
    let repository = v.get("repository").and_then(Node::as_str);
    let local = chart_arg.value.starts_with('.') || chart_arg.value.starts_with('/');
    let known = (!local)
        .then(|| charts::find_in(&chart_arg.value, repository))
        .flatten();
    let Some(known) = known else {
        // A chart of the repository, or one irsa-lint does not know: any ServiceAccount.
        facts.hidden_service_accounts = true;
        return;
    };
    let version_node = v.get("version");
    let version = match version_node {
        None | Some(Node::Null(_)) => charts::Version::Latest,
        Some(n) => charts::Version::written(Some(n.as_str())),
    };
    let (default_name, annotation_keys) = match known.eras(&version) {
        Some(eras) => (DefaultName::Chart(eras), Some(known.annotation_keys(eras))),
        None => (DefaultName::Unknown, None),
    };
    let chart_version = version_node
        .filter(|n| !matches!(n, Node::Null(_)))
        .map(|n| {
            let span = at.at(&[Seg::Key("version")], n.span());
            Spanned::new(n.as_str().map(str::to_string), span)
        });
    let existing_service_account = super::kubernetes::existing_service_account(
        &values,
        known.service_account,
        &namespace.value,
    );
    facts.helm_releases.push(HelmRelease {
        address: address.clone(),
        declared_by: "helm_release",
        span: label,
        chart: known.name.to_string(),
        release_name: release.value.clone(),
        namespace: namespace.value.clone(),
        annotation_settings: annotation_settings(&values),
        annotation_keys,
        unit: unit.to_string(),
        existing_service_account,
        local_chart: false,
        chart_version,
        image_tag: image_tag(&values, label),
        default_version: None,
        when: Vec::new(),
    });
    let chart = ChartRelease {
        chart_name: known.name,
        service_account_key: known.service_account,
        default_name,
        release: &release.value,
        label,
        namespace,
        unit,
    };
    for sa in record_chart_service_accounts(&chart, &values, facts) {
        facts.service_accounts.push(sa);
    }
}

/// The policy an attachment's `policy_arn` names: a policy document of the plan (found
/// by its ARN, or by the configuration's reference when the ARN is known only after
/// apply), else a managed policy by its ARN.
fn attached_policy(at: &At<'_>) -> AttachedPolicy {
    if let Some(Node::Unknown(span)) = at.values().get("policy_arn") {
        let path = [Seg::Key("policy_arn")];
        let span = at.at(&path, *span);
        return at
            .referenced(&path, "aws_iam_policy", "arn")
            .and_then(|p| p.values.get("policy").and_then(Node::as_str))
            .and_then(|text| policy_from_json_text(text, span))
            .map_or(AttachedPolicy::Unknown, AttachedPolicy::document);
    }
    match at.text("policy_arn") {
        Some(arn) => {
            // A policy this plan creates (or the state holds) is read as its document.
            let document = at
                .index
                .policies
                .get(arn.value.as_str())
                .and_then(|text| policy_from_json_text(text, arn.span));
            match document {
                Some(document) => AttachedPolicy::Document(std::sync::Arc::new(document)),
                None => AttachedPolicy::Managed(lit(arn)),
            }
        }
        None => AttachedPolicy::Unknown,
    }
}

fn attachment(at: &At<'_>, unit: &str, facts: &mut Facts) {
    let role = match at.values().get("role") {
        Some(Node::Str(s, _)) => Some(Str::lit(s.as_str())),
        _ => None,
    };
    facts.role_policies.push(RolePolicy {
        unit: unit.to_string(),
        role,
        policy: attached_policy(at),
        span: at.label(),
    });
}

/// `aws_iam_policy_attachment`: one policy for every role it lists (any role of the unit
/// when the list is unknown).
fn policy_attachment(at: &At<'_>, unit: &str, facts: &mut Facts) {
    let policy = attached_policy(at);
    let roles: Vec<Option<Str>> = match at.values().get("roles") {
        Some(Node::List(items, _)) => items.iter().map(|r| r.as_str().map(Str::lit)).collect(),
        None | Some(Node::Null(_)) => Vec::new(),
        Some(_) => vec![None],
    };
    for role in roles {
        facts.role_policies.push(RolePolicy {
            unit: unit.to_string(),
            role,
            policy: policy.clone(),
            span: at.label(),
        });
    }
}

/// `local_file` writing a manifest (`*.yaml`) that a later step applies.
fn local_file(at: &At<'_>, unit: &str, facts: &mut Facts) {
    let filename = at.values().get("filename").and_then(Node::as_str);
    if !filename.is_some_and(|f| f.ends_with(".yaml") || f.ends_with(".yml")) {
        return;
    }
    manifest_text(at, "content", unit, facts);
}

fn inline_policy(at: &At<'_>, unit: &str, facts: &mut Facts) {
    let role = match at.values().get("role") {
        Some(Node::Str(s, _)) => Some(Str::lit(s.as_str())),
        _ => None,
    };
    let policy = at
        .text("policy")
        .and_then(|p| policy_from_json_text(&p.value, p.span));
    facts.role_policies.push(RolePolicy {
        unit: unit.to_string(),
        role,
        policy: policy.map_or(AttachedPolicy::Unknown, AttachedPolicy::document),
        span: at.label(),
    });
}

/// The range in the block of the value at `path`: the attribute, nested block or literal
/// element closest to it.
fn source_range(block: &Block, path: &[Seg<'_>]) -> std::ops::Range<usize> {
    source_at(block, path).0
}

/// [`source_range`], and the expression written for the whole path when there is one.
fn source_at<'b>(
    block: &'b Block,
    path: &[Seg<'b>],
) -> (std::ops::Range<usize>, Option<&'b Expression>) {
    let mut best = label_range(block);
    let mut body: Option<&Body> = Some(&block.body);
    let mut expr: Option<&Expression> = None;
    let mut i = 0;
    while i < path.len() {
        let seg = path[i];
        i += 1;
        if let Some(b) = body {
            let Seg::Key(key) = seg else { break };
            if let Some(a) = b.get_attribute(key) {
                best = a.value.span().unwrap_or(best);
                expr = Some(&a.value);
                body = None;
                continue;
            }
            let index = match path.get(i) {
                Some(Seg::Index(n)) => {
                    i += 1;
                    *n
                }
                _ => 0,
            };
            match b.get_blocks(key).nth(index) {
                Some(nested) => {
                    best = label_range(nested);
                    body = Some(&nested.body);
                }
                None => break,
            }
            continue;
        }
        let Some(e) = expr else { break };
        let next = match (e, seg) {
            (Expression::Object(o), Seg::Key(key)) => o
                .iter()
                .find(|(k, _)| object_key(k).as_deref() == Some(key))
                .map(|(_, v)| v.expr()),
            (Expression::Array(a), Seg::Index(n)) => a.get(n),
            // A list of one object written as the object itself.
            (Expression::Object(_), Seg::Index(0)) => Some(e),
            _ => None,
        };
        match next {
            Some(n) => {
                best = n.span().unwrap_or(best);
                expr = Some(n);
            }
            None => return (best, None),
        }
    }
    let complete = i >= path.len() && body.is_none();
    (best, expr.filter(|_| complete))
}

fn object_key(key: &ObjectKey) -> Option<String> {
    match key {
        ObjectKey::Ident(i) => Some(i.as_str().to_string()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.value().to_string()),
        ObjectKey::Expression(Expression::Parenthesis(p)) => match p.inner() {
            Expression::String(s) => Some(s.value().to_string()),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The blocks of one file, as the root module.
    struct OneFile(Body);

    impl Configuration for OneFile {
        fn block(
            &self,
            module: &str,
            data: bool,
            kind: &str,
            name: &str,
        ) -> Option<(FileId, &Block)> {
            let ident = if data { "data" } else { "resource" };
            let labels = |b: &Block| {
                b.labels
                    .iter()
                    .map(|l| l.as_str().to_string())
                    .collect::<Vec<_>>()
            };
            self.0
                .blocks()
                .find(|b| {
                    module.is_empty() && b.ident.as_str() == ident && labels(b) == [kind, name]
                })
                .map(|b| (FileId(1), b))
        }
    }

    const CONFIG: &str = r#"resource "aws_iam_policy" "lbc" {
  name   = "load-balancer-controller"
  policy = file("${path.module}/lbc-policy.json")
}

resource "aws_iam_role_policy_attachment" "lbc" {
  role       = aws_iam_role.lbc.name
  policy_arn = aws_iam_policy.lbc.arn
}
"#;

    fn plan_of(resources: &str, changes: &str) -> Plan {
        let text = format!(
            r#"{{"format_version":"1.2","terraform_version":"1.9.8","planned_values":{{"root_module":{{"resources":[{resources}]}}}},"resource_changes":[{changes}]}}"#
        );
        crate::parse::plan::read(FileId(0), &text, &reads_type).unwrap()
    }

    #[test]
    fn a_policy_attached_by_an_arn_known_only_after_apply_is_read_as_its_document() {
        let plan = plan_of(
            r#"{"address":"aws_iam_policy.lbc","mode":"managed","type":"aws_iam_policy","name":"lbc",
                "values":{"name":"load-balancer-controller","policy":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"elasticloadbalancing:AddTags\",\"Resource\":\"*\"}]}"}},
               {"address":"aws_iam_role_policy_attachment.lbc","mode":"managed","type":"aws_iam_role_policy_attachment","name":"lbc",
                "values":{"role":"shop-lbc"},"sensitive_values":{}}"#,
            r#"{"address":"aws_iam_role_policy_attachment.lbc","type":"aws_iam_role_policy_attachment",
                "change":{"actions":["create"],"after_unknown":{"id":true,"policy_arn":true}}}"#,
        );
        let config = OneFile(hcl_edit::parser::parse_body(CONFIG).unwrap());
        let facts = extract(&plan, Some(&config), "infra");
        let [attached] = facts.role_policies.as_slice() else {
            panic!("{:?}", facts.role_policies);
        };
        assert_eq!(
            attached.role.as_ref().and_then(Str::as_known),
            Some("shop-lbc")
        );
        let AttachedPolicy::Document(document) = &attached.policy else {
            panic!("{:?}", attached.policy);
        };
        assert_eq!(document.statements.len(), 1);
        // Without the configuration, the reference cannot be followed.
        let alone = extract(&plan, None, "infra");
        assert!(matches!(
            alone.role_policies[0].policy,
            AttachedPolicy::Unknown
        ));
    }
}
