//! Kubernetes objects Terraform creates: Helm releases (through what irsa-lint knows of their
//! charts), `kubernetes_manifest` and `kubectl_manifest`.

use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt};
use hcl_edit::expr::{Expression, ObjectKey};

use super::charts::{self, DefaultName};
use super::policy::{expand_blocks, expr_span};
use super::rendered;
use super::{
    Annotation, Facts, Found, HelmRelease, ROLE_ARN_KEY, ServiceAccount, Spanned, local_chart,
};
use crate::eval::module::{Module, Resource, Scope};
use crate::eval::render::Rendered;
use crate::eval::value::{Str, Value};
use crate::source::{FileId, Span};

pub fn extract(m: &Module<'_>, unit: &str) -> Facts {
    let mut facts = Facts::default();
    for res in m.resources_of("helm_release", false) {
        helm_release(m, res, unit, &mut facts);
    }
    for res in m.resources_of("kubernetes_manifest", false) {
        kubernetes_manifest(m, res, unit, &mut facts);
    }
    for res in m.resources_of("kubectl_manifest", false) {
        kubectl_manifest(m, res, unit, &mut facts);
    }
    for res in m.resources_of("local_file", false) {
        rendered::resources::local_file(m, res, unit, &mut facts);
    }
    facts
}

/// A values key as Helm splits it: `a.b\.c` is `["a", "b.c"]`.
pub fn split_key(key: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = key.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => {
                out.last_mut().unwrap().push('.');
                chars.next();
            }
            '.' => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out
}

pub fn join_key(path: &[String]) -> String {
    path.iter()
        .map(|p| p.replace('.', "\\."))
        .collect::<Vec<_>>()
        .join(".")
}

/// Merged chart values with where each leaf was last set.
#[derive(Debug, Clone, Default)]
pub(crate) struct Values {
    pub(crate) tree: BTreeMap<String, Value>,
    pub(crate) spans: HashMap<Vec<String>, Span>,
    /// Where the key of a `set` entry is written (its `name`).
    pub(crate) key_spans: HashMap<Vec<String>, Span>,
    /// Some values could not be evaluated: a missing key proves nothing.
    pub(crate) unknown: bool,
    /// Template files the values were rendered from (`templatefile()`, `file()`), with their
    /// paths as the calls name them.
    pub(crate) templates: Vec<(FileId, String)>,
}

/// Values are the same when every leaf is, with where it was written: a string's origin
/// too, which `Value`'s own comparison leaves out.
impl PartialEq for Values {
    fn eq(&self, other: &Self) -> bool {
        fn same(a: &Value, b: &Value) -> bool {
            match (a, b) {
                (Value::String(a), Value::String(b)) => a == b && a.origin == b.origin,
                (Value::List(a), Value::List(b)) => {
                    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b))
                }
                (Value::Map(a), Value::Map(b)) => same_map(a, b),
                _ => a == b,
            }
        }
        fn same_map(a: &BTreeMap<String, Value>, b: &BTreeMap<String, Value>) -> bool {
            a.len() == b.len() && (a.iter().zip(b)).all(|((ka, a), (kb, b))| ka == kb && same(a, b))
        }
        same_map(&self.tree, &other.tree)
            && self.spans == other.spans
            && self.key_spans == other.key_spans
            && self.unknown == other.unknown
            && self.templates == other.templates
    }
}

impl Values {
    /// Merge a map of values (later wins, maps merge deeply), every leaf spanned by `span_of`.
    pub(crate) fn merge(&mut self, value: &Value, span_of: &dyn Fn(&[String]) -> Span) {
        match value {
            Value::Map(m) => {
                merge_into(&mut self.tree, m, &mut Vec::new(), &mut self.spans, span_of)
            }
            Value::Null => {}
            _ => self.unknown = true,
        }
    }

    pub(crate) fn set(&mut self, path: Vec<String>, value: Value, span: Span) {
        let mut node = &mut self.tree;
        for seg in &path[..path.len() - 1] {
            let entry = node
                .entry(seg.clone())
                .or_insert_with(|| Value::Map(BTreeMap::new()));
            if !matches!(entry, Value::Map(_)) {
                // `--set` into a map that is not known: its other keys stay unknown.
                self.unknown |= *entry == Value::Unknown;
                *entry = Value::Map(BTreeMap::new());
            }
            let Value::Map(next) = entry else {
                unreachable!("made a map above")
            };
            node = next;
        }
        if let Some(last) = path.last() {
            node.insert(last.clone(), value);
        }
        self.spans.insert(path, span);
    }

    /// The value at `path`: `None` when no value sets it, unknown when a value on the way
    /// is unknown (a map known only after apply may set any key).
    pub(crate) fn get(&self, path: &[String]) -> Option<&Value> {
        const UNKNOWN: &Value = &Value::Unknown;
        let (first, rest) = path.split_first()?;
        let mut v = self.tree.get(first)?;
        for seg in rest {
            v = match v {
                Value::Map(m) => m.get(seg)?,
                Value::Unknown => return Some(UNKNOWN),
                _ => return None,
            };
        }
        Some(v)
    }
}

fn merge_into(
    into: &mut BTreeMap<String, Value>,
    from: &BTreeMap<String, Value>,
    path: &mut Vec<String>,
    spans: &mut HashMap<Vec<String>, Span>,
    span_of: &dyn Fn(&[String]) -> Span,
) {
    for (k, v) in from {
        path.push(k.clone());
        match (into.get_mut(k), v) {
            (Some(Value::Map(existing)), Value::Map(new)) => {
                merge_into(existing, new, path, spans, span_of)
            }
            (_, Value::Map(new)) => {
                let mut fresh = BTreeMap::new();
                merge_into(&mut fresh, new, path, spans, span_of);
                into.insert(k.clone(), Value::Map(fresh));
            }
            _ => {
                into.insert(k.clone(), v.clone());
                spans.insert(path.clone(), span_of(path));
            }
        }
        path.pop();
    }
}

fn helm_release<'a>(m: &Module<'a>, res: &Resource<'a>, unit: &str, facts: &mut Facts) {
    let Some(instances) = m.instances(res) else {
        facts.hidden_service_accounts = true;
        return;
    };
    for (key, scope) in instances {
        let text = |name: &str| -> Option<String> {
            let a = res.block.body.get_attribute(name)?;
            m.eval_in(res.file, &a.value, &scope)
                .ok()?
                .as_known_str()
                .map(str::to_string)
        };
        let label = m.user_span(res.label_span(), None);
        let (Some(chart_arg), Some(release)) = (text("chart"), text("name")) else {
            facts.hidden_service_accounts = true;
            continue;
        };
        let namespace = match res.block.body.get_attribute("namespace") {
            Some(a) => match m
                .eval_in(res.file, &a.value, &scope)
                .ok()
                .and_then(|v| v.as_known_str().map(str::to_string))
            {
                Some(ns) => Spanned::new(ns, m.user_span(expr_span(res.file, &a.value), None)),
                None => {
                    facts.hidden_service_accounts = true;
                    continue;
                }
            },
            None => Spanned::new("default".to_string(), label),
        };
        let values = release_values(m, res, &scope, &chart_arg);
        let address = format!("{}{}{}", m.address, res.address(), key.suffix());
        // A chart of the repository itself, its templates rendered for the release.
        if let Some(local) =
            local_chart_release(m, &chart_arg, &release, &namespace, &values, label, unit)
        {
            facts.helm_releases.push(HelmRelease {
                declared_by: "helm_release",
                when: m.gates_of(res),
                address: address.clone(),
                span: label,
                chart: local.chart,
                release_name: release.clone(),
                namespace: namespace.value.clone(),
                annotation_settings: annotation_settings(&values),
                annotation_keys: None,
                unit: unit.to_string(),
                existing_service_account: None,
                local_chart: true,
                chart_version: None,
                image_tag: image_tag(&values, label),
                default_version: local.default_version,
            });
            for mut sa in local.service_accounts {
                sa.when = m.gates_of(res);
                facts.service_accounts.push(sa);
            }
            continue;
        }
        // A chart of the repository itself that follows the common `serviceAccount` values
        // (as `helm create` scaffolds it), else a chart irsa-lint knows.
        let local = local_chart(m, &chart_arg);
        let known = charts::find_in(&chart_arg, text("repository").as_deref());
        let (chart_name, service_account_key, default_name, annotation_keys) = match (&local, known)
        {
            (Some(name), _) => (name.as_str(), "serviceAccount", DefaultName::Fullname, None),
            (None, Some(known)) => {
                let version = chart_version(m, res, &scope);
                match known.eras(&version) {
                    Some(eras) => (
                        known.name,
                        known.service_account,
                        DefaultName::Chart(eras),
                        Some(known.annotation_keys(eras)),
                    ),
                    // A version the chart data does not cover: its names are unknown.
                    None => (
                        known.name,
                        known.service_account,
                        DefaultName::Unknown,
                        None,
                    ),
                }
            }
            (None, None) => {
                // A chart irsa-lint does not know may create any ServiceAccount.
                facts.hidden_service_accounts = true;
                continue;
            }
        };
        let annotation_settings = annotation_settings(&values);
        let chart_version = res.block.body.get_attribute("version").map(|a| {
            let v = m.eval_in(res.file, &a.value, &scope).ok();
            let text = v.as_ref().and_then(Value::as_known_str).map(str::to_string);
            Spanned::new(text, m.user_span(expr_span(res.file, &a.value), None))
        });
        let image_tag = image_tag(&values, label);
        let existing_service_account =
            existing_service_account(&values, service_account_key, &namespace.value);
        facts.helm_releases.push(HelmRelease {
            unit: unit.to_string(),
            existing_service_account,
            local_chart: local.is_some(),
            chart_version,
            image_tag,
            default_version: None,
            declared_by: "helm_release",
            when: m.gates_of(res),
            address: address.clone(),
            span: label,
            chart: chart_name.to_string(),
            release_name: release.clone(),
            namespace: namespace.value.clone(),
            annotation_settings,
            annotation_keys,
        });
        let chart = ChartRelease {
            chart_name,
            service_account_key,
            default_name,
            release: &release,
            label,
            namespace,
            unit,
        };
        facts
            .rendered_templates
            .extend(values.templates.iter().map(|(id, _)| *id));
        for mut sa in record_chart_service_accounts(&chart, &values, facts) {
            sa.when = m.gates_of(res);
            for (_, path) in &values.templates {
                sa.rendered
                    .push(format!("its values are rendered from {path} by {address}"));
            }
            facts.service_accounts.push(sa);
        }
    }
}

/// With `serviceAccount.create=false` (under the chart's ServiceAccount key) a chart runs as
/// a ServiceAccount made elsewhere: its namespace and name, when the values name it.
pub(crate) fn existing_service_account(
    values: &Values,
    service_account_key: &str,
    namespace: &str,
) -> Option<(String, String)> {
    let path = |leaf: &str| {
        let mut p = split_key(service_account_key);
        p.push(leaf.to_string());
        p
    };
    match values.get(&path("create")).map(Value::truthy) {
        Some(Some(false)) => values
            .get(&path("name"))
            .and_then(Value::as_known_str)
            .filter(|n| !n.is_empty())
            .map(|n| (namespace.to_string(), n.to_string())),
        _ => None,
    }
}

/// The `image.tag` a release's values set, for IRSA030, spanned where it is set (else at
/// `fallback`): `Some(None)` when values irsa-lint cannot read may set it.
pub(crate) fn image_tag(values: &Values, fallback: Span) -> Option<Spanned<Option<String>>> {
    // Karpenter's chart keeps its image under `controller`; no other known chart has that key.
    let paths = [&["image", "tag"][..], &["controller", "image", "tag"]]
        .map(|p| p.iter().map(|k| k.to_string()).collect::<Vec<_>>());
    // An empty tag is the chart's default (its appVersion): as good as not set.
    let found = paths.iter().find_map(|path| {
        Some((path, values.get(path)?)).filter(|(_, v)| v.as_known_str() != Some(""))
    });
    match found {
        Some((path, v)) => Some(Spanned::new(
            v.as_known_str().map(str::to_string),
            values
                .spans
                .get(path.as_slice())
                .copied()
                .unwrap_or(fallback),
        )),
        None if values.unknown => Some(Spanned::new(None, fallback)),
        None => None,
    }
}

/// The values that set a role-arn annotation, by dotted key path, each spanned at its key
/// where that is written (a `set` entry's `name`, a YAML key), else at its value.
pub(crate) fn annotation_settings(values: &Values) -> Vec<Spanned<String>> {
    let mut settings: Vec<Spanned<String>> = values
        .spans
        .iter()
        .filter(|(path, _)| path.last().map(String::as_str) == Some(ROLE_ARN_KEY))
        .map(|(path, span)| {
            Spanned::new(join_key(path), *values.key_spans.get(path).unwrap_or(span))
        })
        .collect();
    settings.sort_by(|a, b| a.value.cmp(&b.value));
    settings
}

/// A chart's ServiceAccount whose name cannot be told, when its values give it a role (under
/// its `serviceAccount` key's annotations).
pub(crate) fn unresolved(
    chart: &ChartRelease<'_>,
    values: &Values,
) -> Option<super::UnresolvedServiceAccount> {
    unresolved_at(
        chart,
        values,
        &format!("{}.annotations", chart.service_account_key),
    )
}

/// A release of a chart folder of the repository, as its templates render it.
struct LocalRelease {
    /// The chart's name, from its `Chart.yaml`.
    chart: String,
    /// The version it runs by default (see [`local_chart::default_version`]).
    default_version: Option<Spanned<String>>,
    service_accounts: Vec<ServiceAccount>,
}

/// A release of a chart folder (`chart = "../charts/ledger"`) whose templates render. `None`
/// when the chart is not a folder or its ServiceAccounts cannot be told that way.
fn local_chart_release(
    m: &Module<'_>,
    chart_arg: &str,
    release: &str,
    namespace: &Spanned<String>,
    values: &Values,
    label: Span,
    unit: &str,
) -> Option<LocalRelease> {
    if !(chart_arg.starts_with("./") || chart_arg.starts_with("../")) {
        return None;
    }
    let dir = m.dir.join(chart_arg);
    let (_, chart) = m.loader().load(&dir.join("Chart.yaml"))?;
    let chart = yaml_value(&chart)?
        .get_attr("name")
        .as_known_str()?
        .to_string();
    let release = local_chart::Release {
        name: release,
        namespace: namespace.clone(),
        label,
        unit,
    };
    let files = local_chart::LoaderFiles::new(m.loader());
    let service_accounts = match local_chart::service_accounts(&files, &dir, &release, values) {
        Found::Yes(found) => found,
        Found::No => Vec::new(),
        Found::Unknown => return None,
    };
    Some(LocalRelease {
        chart,
        default_version: local_chart::default_version(&files, &dir),
        service_accounts,
    })
}

/// The chart version a `helm_release` asks for.
fn chart_version<'a>(m: &Module<'a>, res: &Resource<'a>, scope: &Scope) -> charts::Version {
    let Some(a) = res.block.body.get_attribute("version") else {
        return charts::Version::Latest;
    };
    match m.eval_in(res.file, &a.value, scope) {
        Ok(Value::Null) => charts::Version::Latest,
        Ok(v) => charts::Version::written(Some(v.as_known_str())),
        Err(_) => charts::Version::Unknown,
    }
}

/// A chart's ServiceAccount whose name cannot be told, when its values give it a role (under
/// the annotations key `annotations`).
fn unresolved_at(
    chart: &ChartRelease<'_>,
    values: &Values,
    annotations: &str,
) -> Option<super::UnresolvedServiceAccount> {
    let mut path = split_key(annotations);
    path.push(ROLE_ARN_KEY.to_string());
    let role = values.get(&path)?;
    let span = values.spans.get(&path).copied().unwrap_or(chart.label);
    let role_arn = role
        .to_str()
        .filter(|s| !s.has_unknown())
        .map(|s| Spanned::new(s, span));
    Some(super::UnresolvedServiceAccount {
        span: chart.label,
        why: format!(
            "the name chart {} gives its ServiceAccount is not known here",
            chart.chart_name
        ),
        role_arn,
    })
}

/// What the ServiceAccounts of a chart release are: each found, provably not created, or
/// unknown; an unknown one whose values give it a role is recorded as unresolved.
pub(crate) fn record_chart_service_accounts(
    chart: &ChartRelease<'_>,
    values: &Values,
    facts: &mut Facts,
) -> Vec<ServiceAccount> {
    let mut found = Vec::new();
    for (sa, annotations) in chart_service_accounts(chart, values) {
        match sa {
            Found::Yes(sa) => found.push(sa),
            Found::No => {}
            Found::Unknown => {
                facts.hidden_service_accounts = true;
                facts.unresolved_service_accounts.extend(unresolved_at(
                    chart,
                    values,
                    &annotations,
                ));
            }
        }
    }
    found
}

/// A release of a chart whose ServiceAccount rules are known, as installed.
pub(crate) struct ChartRelease<'a> {
    pub chart_name: &'a str,
    /// The values key of the chart's `serviceAccount` block.
    pub service_account_key: &'a str,
    /// How the chart names its ServiceAccounts; for a chart of the data
    /// (`DefaultName::Chart`), the eras of the release's chart version, and then every
    /// ServiceAccount of the chart is read from the data rather than `service_account_key`.
    pub default_name: DefaultName,
    pub release: &'a str,
    /// Where the release is written, for the ServiceAccount's span.
    pub label: Span,
    pub namespace: Spanned<String>,
    pub unit: &'a str,
}

/// The ServiceAccount a known chart creates under `service_account_key`: `No` when it
/// creates none, `Unknown` when that cannot be told. See [`chart_service_accounts`] for all
/// of them.
pub(crate) fn chart_service_account(
    chart: &ChartRelease<'_>,
    values: &Values,
) -> Found<ServiceAccount> {
    let wanted = format!("{}.annotations", chart.service_account_key);
    let mut all = chart_service_accounts(chart, values);
    match all.iter().position(|(_, a)| *a == wanted) {
        Some(i) => all.swap_remove(i).0,
        None => all.into_iter().next().map_or(Found::No, |(sa, _)| sa),
    }
}

/// Every ServiceAccount a chart creates for a release, with the values key of its
/// annotations.
pub(crate) fn chart_service_accounts(
    chart: &ChartRelease<'_>,
    values: &Values,
) -> Vec<(Found<ServiceAccount>, String)> {
    let DefaultName::Chart(eras) = chart.default_name else {
        let annotations = format!("{}.annotations", chart.service_account_key);
        return vec![(conventional_service_account(chart, values), annotations)];
    };
    let namespace = &chart.namespace;
    charts::service_accounts(
        eras,
        chart.release,
        &namespace.value,
        Some(namespace.span),
        values,
    )
    .into_iter()
    .map(|sa| {
        let found = match (sa.created, sa.name, sa.namespace) {
            (Some(false), _, _) => Found::No,
            (Some(true), Some(name), Some(ns)) => {
                let name = Spanned::new(name.text, name.span.unwrap_or(chart.label));
                let ns = Spanned::new(ns.text, ns.span.unwrap_or(chart.label));
                Found::Yes(service_account_fact(
                    chart,
                    values,
                    name,
                    ns,
                    sa.annotations,
                ))
            }
            _ => Found::Unknown,
        };
        (found, sa.annotations.to_string())
    })
    .collect()
}

/// The ServiceAccount of a chart that follows the common `serviceAccount` values, or whose
/// name is fixed.
fn conventional_service_account(
    chart: &ChartRelease<'_>,
    values: &Values,
) -> Found<ServiceAccount> {
    let ChartRelease {
        chart_name,
        service_account_key,
        default_name,
        release,
        label,
        ref namespace,
        ..
    } = *chart;
    let base = split_key(service_account_key);
    let at = |leaf: &str| {
        let mut p = base.clone();
        p.push(leaf.to_string());
        p
    };
    match values.get(&at("create")).map(Value::truthy) {
        Some(Some(false)) => return Found::No,
        Some(None) => return Found::Unknown,
        _ => {}
    }
    let name_path = at("name");
    let Some(set_name) = set_text(values, &name_path) else {
        return Found::Unknown;
    };
    let name = match set_name {
        Some(n) => Spanned::new(n, values.spans.get(&name_path).copied().unwrap_or(label)),
        None if values.unknown => return Found::Unknown,
        None => {
            let top = |k: &str| set_text(values, &[k.to_string()]);
            let default = match default_name {
                DefaultName::Fixed(n) => n.to_string(),
                DefaultName::Fullname => {
                    let (Some(name_override), Some(fullname_override)) =
                        (top("nameOverride"), top("fullnameOverride"))
                    else {
                        return Found::Unknown;
                    };
                    charts::fullname(
                        release,
                        chart_name,
                        name_override.as_deref(),
                        fullname_override.as_deref(),
                    )
                }
                DefaultName::Unknown | DefaultName::Chart(_) => return Found::Unknown,
            };
            Spanned::new(default, label)
        }
    };
    let annotations = format!("{service_account_key}.annotations");
    Found::Yes(service_account_fact(
        chart,
        values,
        name,
        namespace.clone(),
        &annotations,
    ))
}

/// A chart's ServiceAccount with the annotations its values give it under `annotations`.
fn service_account_fact(
    chart: &ChartRelease<'_>,
    values: &Values,
    name: Spanned<String>,
    namespace: Spanned<String>,
    annotations: &str,
) -> ServiceAccount {
    let label = chart.label;
    let annotations_path = split_key(annotations);
    let mut found = Vec::new();
    // Values that could not be evaluated may hold annotations.
    let annotations_known = !values.unknown
        && matches!(
            values.get(&annotations_path),
            None | Some(Value::Map(_) | Value::Null)
        );
    if let Some(Value::Map(map)) = values.get(&annotations_path) {
        for (k, v) in map {
            let mut p = annotations_path.clone();
            p.push(k.clone());
            let span = values.spans.get(&p).copied().unwrap_or(label);
            found.push(Annotation {
                key: Spanned::new(k.clone(), span),
                value: v
                    .to_str()
                    .filter(|s| !s.has_unknown())
                    .map(|s| Spanned::new(s, span)),
            });
        }
    }
    // The release's namespace is explicit when the release block writes it.
    let explicit = namespace.span != label;
    let mut sa = ServiceAccount::terraform(label, name, Some(namespace), found, chart.unit);
    sa.namespace_explicit = explicit;
    sa.annotations_known = annotations_known;
    sa.role_arn_values_key = Some(format!(
        "{}.{}",
        annotations,
        ROLE_ARN_KEY.replace('.', "\\.")
    ));
    sa
}

/// The text a values key sets: `Some(None)` when it sets none (absent, null or empty),
/// `None` when what it sets is not known (a value known only after apply).
fn set_text(values: &Values, path: &[String]) -> Option<Option<String>> {
    match values.get(path) {
        None | Some(Value::Null) => Some(None),
        Some(v) => match v.to_str()?.as_known()? {
            "" => Some(None),
            text => Some(Some(text.to_string())),
        },
    }
}

/// The name of a local chart (`chart = "../charts/ledger"`) whose ServiceAccount template
/// reads the common `serviceAccount` values.
fn local_chart(m: &Module<'_>, chart_arg: &str) -> Option<String> {
    if !(chart_arg.starts_with("./") || chart_arg.starts_with("../")) {
        return None;
    }
    let dir = m.dir.join(chart_arg);
    let (_, chart) = m.loader().load(&dir.join("Chart.yaml"))?;
    let (_, template) = m
        .loader()
        .load(&dir.join("templates").join("serviceaccount.yaml"))?;
    if !template.contains(".Values.serviceAccount.annotations") {
        return None;
    }
    yaml_value(&chart)?
        .get_attr("name")
        .as_known_str()
        .map(str::to_string)
}

/// The values of a release: a local chart's `values.yaml`, then `values` in order, then `set`.
fn release_values<'a>(
    m: &Module<'a>,
    res: &Resource<'a>,
    scope: &Scope,
    chart_arg: &str,
) -> Values {
    let mut values = Values::default();
    let label = m.user_span(res.label_span(), None);
    if (chart_arg.starts_with("./") || chart_arg.starts_with("../"))
        && let Some((_, text)) = m.loader().load(&m.dir.join(chart_arg).join("values.yaml"))
    {
        match yaml_value(&text) {
            Some(v) => values.merge(&v, &|_| label),
            None => values.unknown = true,
        }
    }
    let body = &res.block.body;
    if let Some(a) = body.get_attribute("values") {
        match &a.value {
            Expression::Array(items) => {
                for item in items.iter() {
                    values_item(m, res.file, item, scope, &mut values);
                }
            }
            other => match m.eval_in(res.file, other, scope) {
                Ok(Value::List(l)) => {
                    let span = m.user_span(expr_span(res.file, other), None);
                    for v in l {
                        merge_text_or_map(&v, span, &mut values);
                    }
                }
                _ => values.unknown = true,
            },
        }
    }
    set_entries(m, res, scope, &mut values);
    values
}

/// One element of `values = [...]`: `yamlencode({...})` keeps the spans of the object's
/// leaves; YAML text (a heredoc, `file`, `templatefile`) is rendered, each leaf shown at the
/// line that writes it, values known only after apply kept as such.
fn values_item(
    m: &Module<'_>,
    file: FileId,
    item: &Expression,
    scope: &Scope,
    values: &mut Values,
) {
    let span = m.user_span(expr_span(file, item), None);
    if let Expression::FuncCall(f) = item
        && f.name.name.as_str() == "yamlencode"
        && let Some(arg) = f.args.get(0)
    {
        match m.eval_in(file, arg, scope) {
            Ok(v @ Value::Map(_)) => {
                let mut leaves = HashMap::new();
                leaf_spans(m, file, arg, &mut Vec::new(), &mut leaves);
                values.merge(&v, &|path| leaves.get(path).copied().unwrap_or(span));
            }
            _ => values.unknown = true,
        }
        return;
    }
    if let Some(rendered) = m.render(file, item, scope) {
        merge_rendered(&rendered, span, values);
        return;
    }
    match m.eval_in(file, item, scope) {
        Ok(v) => merge_text_or_map(&v, span, values),
        Err(_) => values.unknown = true,
    }
}

/// Values rendered as YAML text; the template they come from is recorded.
fn merge_rendered(rendered: &Rendered, span: Span, values: &mut Values) {
    if let (Some(id), Some(path)) = (rendered.template, &rendered.template_path) {
        values.templates.push((id, path.clone()));
    }
    match rendered::values(rendered, span) {
        Some(read) => values.merge(&read.value, &|path| {
            read.spans.get(path).copied().unwrap_or(span)
        }),
        None => values.unknown = true,
    }
}

fn merge_text_or_map(v: &Value, span: Span, values: &mut Values) {
    match v {
        Value::String(s) => match Rendered::of_str(s, span) {
            Some(rendered) => merge_rendered(&rendered, span, values),
            None => values.unknown = true,
        },
        Value::Map(_) => values.merge(v, &|_| span),
        _ => values.unknown = true,
    }
}

/// Spans of the leaves of an HCL object expression, by key path.
fn leaf_spans(
    m: &Module<'_>,
    file: FileId,
    expr: &Expression,
    path: &mut Vec<String>,
    out: &mut HashMap<Vec<String>, Span>,
) {
    match expr {
        Expression::Object(o) => {
            for (k, v) in o.iter() {
                let key = match k {
                    ObjectKey::Ident(i) => i.as_str().to_string(),
                    ObjectKey::Expression(Expression::String(s)) => s.value().to_string(),
                    ObjectKey::Expression(_) => continue,
                };
                path.push(key);
                leaf_spans(m, file, v.expr(), path, out);
                path.pop();
            }
        }
        Expression::Parenthesis(p) => leaf_spans(m, file, p.inner(), path, out),
        leaf => {
            out.insert(path.clone(), m.user_span(expr_span(file, leaf), None));
        }
    }
}

/// `set` and `set_list` blocks (Helm provider v2, also `dynamic`), and `set = [{...}]` lists
/// (v3), in order: later wins.
fn set_entries<'a>(m: &Module<'a>, res: &Resource<'a>, scope: &Scope, values: &mut Values) {
    let body = &res.block.body;
    let file = res.file;
    for kind in ["set", "set_list", "set_sensitive"] {
        let mut known = true;
        for (block, s) in expand_blocks(m, body, kind, scope, &mut known) {
            let name_attr = block.body.get_attribute("name");
            let name = name_attr.and_then(|a| m.eval_in(file, &a.value, &s).ok());
            let value_attr = block.body.get_attribute("value");
            let value = value_attr
                .and_then(|a| m.eval_in(file, &a.value, &s).ok())
                .unwrap_or(Value::Unknown);
            let span = value_attr
                .map(|a| {
                    m.user_span(
                        expr_span(file, &a.value),
                        value.as_str().and_then(|v| v.origin),
                    )
                })
                .unwrap_or_else(|| m.user_span(res.label_span(), None));
            match name.as_ref().and_then(Value::as_known_str) {
                Some(n) => {
                    if let Some(a) = name_attr {
                        values
                            .key_spans
                            .insert(split_key(n), m.user_span(expr_span(file, &a.value), None));
                    }
                    values.set(split_key(n), value, span);
                }
                None => values.unknown = true,
            }
        }
        if !known {
            values.unknown = true;
        }
        // Helm provider v3: `set = [{ name = ..., value = ... }]`
        if let Some(a) = body.get_attribute(kind) {
            let entries: Vec<&Expression> = match &a.value {
                Expression::Array(items) => items.iter().collect(),
                _ => Vec::new(),
            };
            match m.eval_in(file, &a.value, scope) {
                Ok(Value::List(list)) => {
                    for (i, entry) in list.iter().enumerate() {
                        let field_span = |field: &str| {
                            entries
                                .get(i)
                                .and_then(|e| object_field(e, field))
                                .map(|e| m.user_span(expr_span(file, e), None))
                                .unwrap_or_else(|| m.user_span(expr_span(file, &a.value), None))
                        };
                        match entry.get_attr("name").as_known_str() {
                            Some(n) => {
                                values.key_spans.insert(split_key(n), field_span("name"));
                                values.set(
                                    split_key(n),
                                    entry.get_attr("value"),
                                    field_span("value"),
                                );
                            }
                            None => values.unknown = true,
                        }
                    }
                }
                _ => values.unknown = true,
            }
        }
    }
}

fn object_field<'e>(expr: &'e Expression, field: &str) -> Option<&'e Expression> {
    let Expression::Object(o) = expr else {
        return None;
    };
    o.iter().find_map(|(k, v)| match k {
        ObjectKey::Ident(i) if i.as_str() == field => Some(v.expr()),
        _ => None,
    })
}

/// YAML text as a value (no spans: the caller spans it as a whole).
pub fn yaml_value(text: &str) -> Option<Value> {
    let parsed = crate::parse::yaml::to_json(text)?;
    Some(json_to_value(&parsed))
}

fn json_to_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => n.as_f64().map(Value::Number).unwrap_or(Value::Unknown),
        serde_json::Value::String(s) => Value::String(Str::lit(s.clone())),
        serde_json::Value::Array(a) => Value::List(a.iter().map(json_to_value).collect()),
        serde_json::Value::Object(o) => Value::Map(
            o.iter()
                .map(|(k, v)| (k.clone(), json_to_value(v)))
                .collect(),
        ),
    }
}

/// `kubernetes_manifest { manifest = {...} }`: a ServiceAccount becomes a fact; anything else
/// that could be one (unknown kind) hides ServiceAccounts.
fn kubernetes_manifest<'a>(m: &Module<'a>, res: &Resource<'a>, unit: &str, facts: &mut Facts) {
    let Some(instances) = m.instances(res) else {
        facts.hidden_service_accounts = true;
        return;
    };
    let Some(attr) = res.block.body.get_attribute("manifest") else {
        return;
    };
    let decoded = match &attr.value {
        Expression::FuncCall(f) if f.name.name.as_str() == "yamldecode" => f.args.get(0),
        _ => None,
    };
    for (key, scope) in instances {
        if let Some(text) = decoded {
            let fallback = m.user_span(expr_span(res.file, text), None);
            match m.render(res.file, text, &scope) {
                Some(r) => rendered::resources::objects(m, res, &key, &r, unit, fallback, facts),
                None => facts.hidden_service_accounts = true,
            }
            continue;
        }
        let manifest = m
            .eval_in(res.file, &attr.value, &scope)
            .unwrap_or(Value::Unknown);
        let mut leaves = HashMap::new();
        leaf_spans(m, res.file, &attr.value, &mut Vec::new(), &mut leaves);
        let fallback = m.user_span(expr_span(res.file, &attr.value), None);
        let span_of = |path: &[&str]| {
            let key: Vec<String> = path.iter().map(|s| s.to_string()).collect();
            leaves.get(&key).copied().unwrap_or(fallback)
        };
        match manifest.get_attr("kind").as_known_str() {
            Some("ServiceAccount") => {
                match object_service_account(&manifest, &span_of, fallback, unit) {
                    Some(mut sa) => {
                        sa.when = m.gates_of(res);
                        facts.service_accounts.push(sa);
                    }
                    None => facts.hidden_service_accounts = true,
                }
            }
            Some(_) => {}
            None => facts.hidden_service_accounts = true,
        }
    }
}

/// A ServiceAccount object given as a value, spanned through `span_of(path)`.
pub(crate) fn object_service_account(
    object: &Value,
    span_of: &dyn Fn(&[&str]) -> Span,
    span: Span,
    unit: &str,
) -> Option<ServiceAccount> {
    let metadata = object.get_attr("metadata");
    let name = Spanned::new(
        metadata.get_attr("name").as_known_str()?.to_string(),
        span_of(&["metadata", "name"]),
    );
    let namespace = match metadata.get_attr("namespace") {
        Value::Unknown if !matches!(&metadata, Value::Map(m) if m.contains_key("namespace")) => {
            None
        }
        v => Some(Spanned::new(
            v.as_known_str()?.to_string(),
            span_of(&["metadata", "namespace"]),
        )),
    };
    let mut annotations = Vec::new();
    let annotations_value = match &metadata {
        Value::Map(m) => m.get("annotations").cloned().unwrap_or(Value::Null),
        _ => Value::Unknown,
    };
    let annotations_known = matches!(annotations_value, Value::Map(_) | Value::Null);
    if let Value::Map(map) = annotations_value {
        for (k, v) in map {
            let at = span_of(&["metadata", "annotations", k.as_str()]);
            annotations.push(Annotation {
                key: Spanned::new(k, at),
                value: v
                    .to_str()
                    .filter(|s| !s.has_unknown())
                    .map(|s| Spanned::new(s, at)),
            });
        }
    }
    let mut sa = ServiceAccount::terraform(span, name, namespace, annotations, unit);
    sa.annotations_known = annotations_known;
    Some(sa)
}

/// `kubectl_manifest { yaml_body = ... }`: YAML written in Terraform (a heredoc, a
/// `templatefile`) is rendered and read like a manifest, shown at the lines that write it.
/// `file()` of a YAML file of the tree is already read as a manifest.
fn kubectl_manifest<'a>(m: &Module<'a>, res: &Resource<'a>, unit: &str, facts: &mut Facts) {
    let Some(attr) = res.block.body.get_attribute("yaml_body") else {
        return;
    };
    if matches!(&attr.value, Expression::FuncCall(f) if f.name.name.as_str() == "file") {
        return;
    }
    rendered::resources::manifest_text(m, res, &attr.value, unit, facts);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values written at another place are other values: a kept HelmRelease resolution must
    /// not point at where a value used to be.
    #[test]
    fn values_written_elsewhere_are_not_the_same() {
        let written_at = |line_start: usize| {
            let role = Str::lit("arn:aws:iam::482910375521:role/web")
                .with_origin(Some(Span::new(FileId(3), line_start..line_start + 35)));
            let annotations = BTreeMap::from([(
                "eks.amazonaws.com/role-arn".to_string(),
                Value::String(role),
            )]);
            let mut values = Values::default();
            (values.tree).insert("annotations".to_string(), Value::Map(annotations));
            values
        };
        assert!(written_at(40) == written_at(40));
        assert!(written_at(40) != written_at(58));
    }

    #[test]
    fn helm_keys_split_on_unescaped_dots() {
        assert_eq!(
            split_key(r"serviceAccount.annotations.eks\.amazonaws\.com/role-arn"),
            vec![
                "serviceAccount",
                "annotations",
                "eks.amazonaws.com/role-arn"
            ]
        );
        assert_eq!(join_key(&split_key(r"a.b\.c")), r"a.b\.c");
    }

    #[test]
    fn a_service_account_block_known_only_after_apply_leaves_the_name_unknown() {
        // values = [<<EOT\nserviceAccount: ${jsonencode(local.sa)}\nEOT\n], then a `set` of
        // the role annotation: the chart's default name is not proven.
        let span = Span::new(FileId(1), 0..0);
        let mut values = Values::default();
        values.merge(
            &Value::Map(BTreeMap::from([("serviceAccount".into(), Value::Unknown)])),
            &|_| span,
        );
        let release = |values: &Values| {
            let chart = ChartRelease {
                chart_name: "external-dns",
                service_account_key: "serviceAccount",
                default_name: DefaultName::Fullname,
                release: "external-dns",
                label: span,
                namespace: Spanned::new("external-dns".into(), span),
                unit: "infra",
            };
            matches!(chart_service_account(&chart, values), Found::Unknown)
        };
        assert!(release(&values));
        values.set(
            split_key(r"serviceAccount.annotations.eks\.amazonaws\.com/role-arn"),
            Value::str("arn:aws:iam::111122223333:role/external-dns"),
            span,
        );
        assert!(release(&values));
    }
}
