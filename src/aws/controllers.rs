//! What well-known EKS controllers need from their IAM role, per release: the published
//! permission policies of `data/controllers/*.json` (embedded at build time, never read at
//! run time), the Helm chart → app version tables, and the comparison of a policy's
//! statements against a release's requirements.
//!
//! Knows no Terraform or Kubernetes files: callers hand in the controller, the version and
//! the statements they could read. Every answer that cannot be proven is `None`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Deserialize;

use crate::text::glob_match;

/// One controller irsa-lint knows the policy history of.
#[derive(Debug)]
pub struct Known {
    /// The controller's name in the data (and its chart's).
    pub name: &'static str,
    data: &'static str,
}

/// The controllers whose data is embedded, with the chart that installs each.
pub const CONTROLLERS: &[Known] = &[
    Known {
        name: "aws-load-balancer-controller",
        data: include_str!("../../data/controllers/aws-load-balancer-controller.json"),
    },
    Known {
        name: "external-dns",
        data: include_str!("../../data/controllers/external-dns.json"),
    },
    Known {
        name: "cluster-autoscaler",
        data: include_str!("../../data/controllers/cluster-autoscaler.json"),
    },
    Known {
        name: "aws-ebs-csi-driver",
        data: include_str!("../../data/controllers/aws-ebs-csi-driver.json"),
    },
    Known {
        name: "aws-efs-csi-driver",
        data: include_str!("../../data/controllers/aws-efs-csi-driver.json"),
    },
    Known {
        name: "karpenter",
        data: include_str!("../../data/controllers/karpenter.json"),
    },
];

const CHARTS: &str = include_str!("../../data/controllers/charts.json");

/// A release version `vX.Y.Z`, compared as semver (no pre-releases in the data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u64, pub u64, pub u64);

impl Version {
    /// `v1.2.3` or `1.2.3`; anything else (a range, a digest, `latest`) is `None`.
    pub fn parse(text: &str) -> Option<Version> {
        let t = text.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let mut parts = t.split('.');
        let mut next = || -> Option<u64> {
            let p = parts.next()?;
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse().ok()
        };
        let v = Version(next()?, next()?, next()?);
        parts.next().is_none().then_some(v)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{}.{}.{}", self.0, self.1, self.2)
    }
}

#[derive(Debug, Deserialize)]
struct Data {
    snapshot_date: String,
    source: Source,
    newest_version: String,
    #[serde(default)]
    managed_policy: Option<String>,
    variants: BTreeMap<String, Variant>,
    revisions: Vec<Revision>,
    documents: BTreeMap<String, Document>,
    action_history: BTreeMap<String, BTreeMap<String, RawIntervals>>,
    conditioned_statement_history: BTreeMap<String, Vec<StatementHistory>>,
}

#[derive(Debug, Deserialize)]
struct Source {
    repository: String,
}

#[derive(Debug, Deserialize)]
struct Variant {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    file: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Revision {
    since: String,
    documents: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct Document {
    actions: Vec<String>,
    #[serde(default)]
    conditioned_statements: Vec<DataStatement>,
}

#[derive(Debug, Deserialize, Clone)]
struct DataStatement {
    effect: String,
    actions: Vec<String>,
    #[serde(default)]
    conditions: Vec<DataCondition>,
}

#[derive(Debug, Deserialize, Clone)]
struct DataCondition {
    operator: String,
    key: String,
    values: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct StatementHistory {
    statement: DataStatement,
    present: RawIntervals,
}

#[derive(Debug, Deserialize)]
struct ChartsFile {
    charts: BTreeMap<String, ChartTable>,
}

#[derive(Debug, Deserialize)]
struct ChartTable {
    newest_chart_version: String,
    versions: Vec<ChartRow>,
}

#[derive(Debug, Deserialize)]
struct ChartRow {
    chart_version: String,
    app_version: String,
}

/// Release intervals `[since, removed_in)` as the data writes them.
type RawIntervals = Vec<(String, Option<String>)>;

/// Release intervals `[since, removed_in)`.
type Intervals = Vec<(Version, Option<Version>)>;

/// A condition as compared: operator and key lowercased, values as a set.
type Shape = BTreeSet<(String, String, BTreeSet<String>)>;

fn shape(conditions: &[DataCondition]) -> Shape {
    shape_of(
        conditions
            .iter()
            .map(|c| (c.operator.as_str(), c.key.as_str(), c.values.as_slice())),
    )
}

fn shape_of<'c>(conditions: impl Iterator<Item = (&'c str, &'c str, &'c [String])>) -> Shape {
    conditions
        .map(|(operator, key, values)| {
            (
                operator.to_ascii_lowercase(),
                key.to_ascii_lowercase(),
                values.iter().cloned().collect(),
            )
        })
        .collect()
}

/// A controller's data, parsed once.
#[derive(Debug)]
pub struct Controller {
    pub name: &'static str,
    /// The date of the newest upstream commit the data has seen.
    pub snapshot_date: String,
    pub newest_version: Version,
    /// The AWS managed policy that always fits the controller, if there is one.
    pub managed_policy: Option<String>,
    /// Where the controller publishes its policy: the repository and the file.
    pub repository: String,
    pub policy_file: Option<String>,
    /// Revisions in semver order: from `since` on, the required actions and statements.
    revisions: Vec<(Version, Required)>,
    /// Every condition set any published policy put on a statement.
    known_shapes: Vec<Shape>,
    /// For each action, the intervals of each compared variant that hold it.
    history: BTreeMap<String, Vec<Intervals>>,
    /// For each conditioned statement of the default policy, the intervals that hold it.
    statement_history: Vec<(Shape, Vec<String>, Intervals)>,
    /// Chart version → app version, and the newest chart's app version.
    charts: BTreeMap<Version, Version>,
    newest_chart_app: Option<Version>,
}

/// What a release requires: every variant's policy of that release holds it.
#[derive(Debug, Clone, Default)]
struct Required {
    actions: BTreeSet<String>,
    /// Conditioned statements: the conditions, the actions, and the conditions as written.
    statements: Vec<(Shape, Vec<String>, String)>,
}

fn versions(intervals: &[(String, Option<String>)]) -> Vec<(Version, Option<Version>)> {
    intervals
        .iter()
        .filter_map(|(a, b)| Some((Version::parse(a)?, b.as_deref().and_then(Version::parse))))
        .collect()
}

impl Controller {
    fn load(known: &Known, charts: &ChartsFile) -> Option<Controller> {
        let data: Data = serde_json::from_str(known.data).ok()?;
        let main_variant = |name: &str| {
            data.variants
                .get(name)
                .is_some_and(|v| v.kind.as_deref() != Some("supplementary"))
        };
        let mut revisions = Vec::new();
        for rev in &data.revisions {
            // The default policy is the yardstick where there is one (partition files lag
            // it, or lack what their regions do not offer); else what every variant holds.
            let mut docs = match rev.documents.get("default") {
                Some(id) => data
                    .documents
                    .get(id)
                    .into_iter()
                    .collect::<Vec<&Document>>(),
                None => rev
                    .documents
                    .iter()
                    .filter(|(variant, _)| main_variant(variant))
                    .filter_map(|(_, id)| data.documents.get(id))
                    .collect(),
            }
            .into_iter();
            let Some(first) = docs.next() else { continue };
            let mut required = Required {
                actions: first.actions.iter().cloned().collect(),
                statements: first
                    .conditioned_statements
                    .iter()
                    .filter(|s| s.effect == "Allow")
                    .map(|s| {
                        (
                            shape(&s.conditions),
                            s.actions.clone(),
                            describe(&s.conditions),
                        )
                    })
                    .collect(),
            };
            for doc in docs {
                required.actions.retain(|a| doc.actions.contains(a));
                required.statements.retain(|(sh, actions, _)| {
                    doc.conditioned_statements
                        .iter()
                        .any(|s| &shape(&s.conditions) == sh && &s.actions == actions)
                });
            }
            revisions.push((Version::parse(&rev.since)?, required));
        }
        revisions.sort_by_key(|(v, _)| *v);
        let mut known_shapes: Vec<Shape> = Vec::new();
        for doc in data.documents.values() {
            for s in &doc.conditioned_statements {
                let sh = shape(&s.conditions);
                if !known_shapes.contains(&sh) {
                    known_shapes.push(sh);
                }
            }
        }
        let main = ["default", "full", "minimal"]
            .into_iter()
            .find(|v| data.action_history.contains_key(*v))?;
        // An action is required once every variant compared has it: the latest of their
        // "since"s.
        let compared: Vec<&str> = if data.action_history.contains_key("default") {
            vec!["default"]
        } else {
            data.action_history
                .keys()
                .map(String::as_str)
                .filter(|v| main_variant(v))
                .collect()
        };
        let mut history: BTreeMap<String, Vec<Intervals>> = BTreeMap::new();
        for variant in compared {
            for (action, intervals) in &data.action_history[variant] {
                history
                    .entry(action.clone())
                    .or_default()
                    .push(versions(intervals));
            }
        }
        let statement_history = data
            .conditioned_statement_history
            .get(main)
            .map(|l| {
                l.iter()
                    .map(|h| {
                        (
                            shape(&h.statement.conditions),
                            h.statement.actions.clone(),
                            versions(&h.present),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let table = charts.charts.get(known.name);
        let chart_map = table
            .map(|t| {
                t.versions
                    .iter()
                    .filter_map(|r| {
                        Some((
                            Version::parse(&r.chart_version)?,
                            Version::parse(&r.app_version)?,
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let newest_chart_app = table.and_then(|t| {
            let newest = Version::parse(&t.newest_chart_version)?;
            chart_map_get(&chart_map, newest)
        });
        Some(Controller {
            name: known.name,
            snapshot_date: data.snapshot_date,
            newest_version: Version::parse(&data.newest_version)?,
            managed_policy: data.managed_policy,
            policy_file: data.variants.get(main).and_then(|v| v.file.clone()),
            repository: data.source.repository,
            revisions,
            known_shapes,
            history,
            statement_history,
            charts: chart_map,
            newest_chart_app,
        })
    }

    /// The app version a chart version installs, when the data knows the chart version.
    pub fn app_version_of_chart(&self, chart: Version) -> Option<Version> {
        chart_map_get(&self.charts, chart)
    }

    /// The app version an unpinned chart installs: the newest chart's, else the newest
    /// release.
    pub fn newest_installed(&self) -> Version {
        self.newest_chart_app.unwrap_or(self.newest_version)
    }

    /// The oldest release the data has a policy for.
    pub fn first_version(&self) -> Option<Version> {
        self.revisions.first().map(|(v, _)| *v)
    }

    /// The actions release `v` requires; `None` when the data has no release before it.
    pub fn required_actions(&self, v: Version) -> Option<&BTreeSet<String>> {
        self.required_at(v).map(|r| &r.actions)
    }

    fn required_at(&self, v: Version) -> Option<&Required> {
        self.revisions
            .iter()
            .rev()
            .find(|(since, _)| *since <= v)
            .map(|(_, r)| r)
    }

    /// The release that introduced `action` into the line `v` runs.
    fn action_since(&self, action: &str, v: Version) -> Option<Version> {
        self.history
            .get(action)?
            .iter()
            .map(|intervals| since_in(intervals, v))
            .max()
            .flatten()
    }

    fn statement_since(&self, sh: &Shape, actions: &[String], v: Version) -> Option<Version> {
        self.statement_history
            .iter()
            .find(|(s, a, _)| s == sh && a.as_slice() == actions)
            .and_then(|(_, _, iv)| since_in(iv, v))
    }

    /// Compare what a policy allows with what release `v` requires. `None` when the answer
    /// cannot be proven: a statement irsa-lint cannot read, a `Deny`, a `NotAction`, a
    /// condition no published policy of the controller uses, or no data for `v`.
    pub fn compare(&self, v: Version, statements: &[PolicyStatement]) -> Option<Vec<Missing>> {
        let required = self.required_at(v)?;
        let mut grants: Vec<(&[String], Option<Shape>)> = Vec::new();
        for s in statements {
            if !s.allow {
                return None;
            }
            let conditions = match &s.conditions {
                c if c.is_empty() => None,
                c => {
                    let sh = shape_of(
                        c.iter()
                            .map(|c| (c.operator.as_str(), c.key.as_str(), c.values.as_slice())),
                    );
                    if !self.known_shapes.contains(&sh) {
                        return None;
                    }
                    Some(sh)
                }
            };
            grants.push((&s.actions, conditions));
        }
        let granted = |action: &str, fits: &dyn Fn(&Option<Shape>) -> bool| {
            grants.iter().any(|(patterns, sh)| {
                fits(sh)
                    && patterns
                        .iter()
                        .any(|p| glob_match(&p.to_ascii_lowercase(), &action.to_ascii_lowercase()))
            })
        };
        let mut missing = Vec::new();
        for action in &required.actions {
            if !granted(action, &|_| true) {
                missing.push(Missing {
                    action: action.clone(),
                    condition: None,
                    since: self.action_since(action, v),
                });
            }
        }
        for (sh, actions, written) in &required.statements {
            for action in actions {
                if missing.iter().any(|m| &m.action == action) {
                    continue;
                }
                let fits = |g: &Option<Shape>| g.as_ref().is_none_or(|g| g.is_subset(sh));
                if granted(action, &|_| true) && !granted(action, &fits) {
                    missing.push(Missing {
                        action: action.clone(),
                        condition: Some(written.clone()),
                        since: self.statement_since(sh, actions, v),
                    });
                }
            }
        }
        missing.sort_by(|a, b| (a.since, &a.action).cmp(&(b.since, &b.action)));
        Some(missing)
    }
}

fn since_in(intervals: &[(Version, Option<Version>)], v: Version) -> Option<Version> {
    intervals
        .iter()
        .find(|(a, b)| *a <= v && b.is_none_or(|b| v < b))
        .map(|(a, _)| *a)
}

fn chart_map_get(map: &BTreeMap<Version, Version>, chart: Version) -> Option<Version> {
    map.get(&chart).copied()
}

/// A condition set as IAM writes it, short: `StringEquals elasticloadbalancing:CreateAction`
/// (`Null` tests of tags are left out: every statement of the policy has them).
fn describe(conditions: &[DataCondition]) -> String {
    conditions
        .iter()
        .filter(|c| !c.operator.eq_ignore_ascii_case("null"))
        .map(|c| format!("{} {}", c.operator, c.key))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A statement of the user's policy, as far as the comparison needs it.
#[derive(Debug, Clone)]
pub struct PolicyStatement {
    pub allow: bool,
    /// Actions as written (globs allowed).
    pub actions: Vec<String>,
    pub conditions: Vec<PolicyCondition>,
}

/// A condition of the user's policy with every value known.
#[derive(Debug, Clone)]
pub struct PolicyCondition {
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
}

/// An action (or a required statement shape) the policy lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub action: String,
    /// The conditions the action must be allowed under, when only the shape is missing.
    pub condition: Option<String>,
    /// The release that introduced it, when the data tells.
    pub since: Option<Version>,
}

/// The controllers' data, parsed on first use.
pub fn controllers() -> &'static [Controller] {
    static ALL: OnceLock<Vec<Controller>> = OnceLock::new();
    ALL.get_or_init(|| {
        let charts: ChartsFile = serde_json::from_str(CHARTS).unwrap_or(ChartsFile {
            charts: BTreeMap::new(),
        });
        CONTROLLERS
            .iter()
            .filter_map(|k| Controller::load(k, &charts))
            .collect()
    })
}

/// Whether a policy's action (as `Action` is read: a pattern) allows an action that some
/// release of some known controller requires. A statement allowing none of them grants
/// nothing [`Controller::compare`] looks for.
pub fn concerns_a_controller(action: &str) -> bool {
    static REQUIRED: OnceLock<BTreeSet<String>> = OnceLock::new();
    let required = REQUIRED.get_or_init(|| {
        controllers()
            .iter()
            .flat_map(|c| &c.revisions)
            .flat_map(|(_, r)| {
                let conditioned = r.statements.iter().flat_map(|(_, actions, _)| actions);
                r.actions.iter().chain(conditioned)
            })
            .map(|a| a.to_ascii_lowercase())
            .collect()
    });
    let action = action.to_ascii_lowercase();
    // Most actions are written out: only a pattern is matched against every one.
    match action.contains(['*', '?']) {
        false => required.contains(&action),
        true => required.iter().any(|r| glob_match(&action, r)),
    }
}

/// The controller a chart installs, by chart name.
pub fn by_chart(chart: &str) -> Option<&'static Controller> {
    controllers().iter().find(|c| c.name == chart)
}

/// The image repositories each controller is published to, as path suffixes (the registry
/// and, for ECR, the account and region vary).
const IMAGES: &[(&str, &[&str])] = &[
    (
        "aws-load-balancer-controller",
        &[
            "eks/aws-load-balancer-controller",
            "amazon/aws-load-balancer-controller",
        ],
    ),
    (
        "external-dns",
        &["external-dns/external-dns", "teapot/external-dns"],
    ),
    ("cluster-autoscaler", &["autoscaling/cluster-autoscaler"]),
    (
        "aws-ebs-csi-driver",
        &[
            "ebs-csi-driver/aws-ebs-csi-driver",
            "eks/aws-ebs-csi-driver",
            "provider-aws/aws-ebs-csi-driver",
        ],
    ),
    (
        "aws-efs-csi-driver",
        &["amazon/aws-efs-csi-driver", "eks/aws-efs-csi-driver"],
    ),
    ("karpenter", &["karpenter/controller"]),
];

/// The controller an image runs and its tag: `public.ecr.aws/eks/aws-load-balancer-controller:v2.9.0`
/// (a digest after the tag is ignored; an image with no tag, or a digest only, is `None`).
pub fn by_image(image: &str) -> Option<(&'static Controller, &str)> {
    let image = image.split_once('@').map_or(image, |(name, _)| name);
    let (repository, tag) = image.rsplit_once(':')?;
    if repository.is_empty() || tag.contains('/') {
        return None;
    }
    let (name, _) = IMAGES.iter().find(|(_, suffixes)| {
        suffixes.iter().any(|s| {
            repository
                .strip_suffix(s)
                .is_some_and(|rest| rest.is_empty() || rest.ends_with('/'))
        })
    })?;
    Some((by_chart(name)?, tag))
}

/// The controller an EKS add-on installs, and the release an add-on version
/// (`v1.35.0-eksbuild.1`) runs.
pub fn by_addon(addon: &str, version: &str) -> Option<(&'static Controller, Version)> {
    let controller = by_chart(addon)?;
    let release = version
        .trim()
        .split_once("-eksbuild.")
        .map_or(version, |(v, _)| v);
    Some((controller, Version::parse(release)?))
}

const TERRAFORM_AWS_IAM: &str = include_str!("../../data/controllers/terraform-aws-iam.json");

/// The `attach_*_policy` flags of terraform-aws-modules/iam's IRSA role modules that attach
/// a known controller's policy.
const FLAGS: &[(&str, &str)] = &[
    (
        "attach_load_balancer_controller_policy",
        "aws-load-balancer-controller",
    ),
    ("attach_external_dns_policy", "external-dns"),
    ("attach_cluster_autoscaler_policy", "cluster-autoscaler"),
    ("attach_ebs_csi_policy", "aws-ebs-csi-driver"),
    ("attach_efs_csi_policy", "aws-efs-csi-driver"),
    ("attach_karpenter_controller_policy", "karpenter"),
];

#[derive(Debug, Deserialize)]
struct IamModuleFile {
    newest_version: String,
    flags: BTreeMap<String, IamFlag>,
}

type FlagPolicies = BTreeMap<String, Vec<(Version, Option<Vec<PolicyStatement>>)>>;

#[derive(Debug, Deserialize)]
struct IamFlag {
    revisions: Vec<IamRevision>,
}

#[derive(Debug, Deserialize)]
struct IamRevision {
    since: String,
    policy: Option<IamPolicy>,
}

#[derive(Debug, Deserialize)]
struct IamPolicy {
    actions: Vec<String>,
    #[serde(default)]
    conditioned_statements: Vec<DataStatement>,
    #[serde(default)]
    optional_actions: Option<serde_json::Value>,
    #[serde(default)]
    denied_actions: Option<serde_json::Value>,
    #[serde(default)]
    unresolved_actions: Option<serde_json::Value>,
}

/// The newest module release the data knows, and the policies of each flag by release.
fn iam_flags() -> &'static (Option<Version>, FlagPolicies) {
    static FLAG_POLICIES: OnceLock<(Option<Version>, FlagPolicies)> = OnceLock::new();
    FLAG_POLICIES.get_or_init(|| {
        let Ok(file) = serde_json::from_str::<IamModuleFile>(TERRAFORM_AWS_IAM) else {
            return (None, BTreeMap::new());
        };
        let mut out = BTreeMap::new();
        for (flag, _) in FLAGS {
            let Some(data) = file.flags.get(*flag) else {
                continue;
            };
            let mut revisions: Vec<_> = data
                .revisions
                .iter()
                .filter_map(|r| {
                    Some((
                        Version::parse(&r.since)?,
                        r.policy.as_ref().and_then(statements),
                    ))
                })
                .collect();
            revisions.sort_by_key(|(v, _)| *v);
            out.insert(flag.to_string(), revisions);
        }
        (Version::parse(&file.newest_version), out)
    })
}

/// A module policy as statements; `None` when part of it is not plain (denied or unresolved
/// actions). Actions the module grants only for some inputs (`optional_actions`: a KMS key
/// list, a queue name) are taken as granted, their statements dropped: a policy that allows
/// more can only hide a finding.
fn statements(p: &IamPolicy) -> Option<Vec<PolicyStatement>> {
    if p.denied_actions.is_some() || p.unresolved_actions.is_some() {
        return None;
    }
    let optional: Vec<String> = match &p.optional_actions {
        None => Vec::new(),
        Some(v) => serde_json::from_value(v.clone()).ok()?,
    };
    let kept: Vec<&DataStatement> = p
        .conditioned_statements
        .iter()
        .filter(|s| !s.actions.iter().all(|a| optional.contains(a)))
        .collect();
    let mut out: Vec<PolicyStatement> = kept
        .iter()
        .map(|s| PolicyStatement {
            allow: s.effect == "Allow",
            actions: s.actions.clone(),
            // A condition on a Terraform expression (`${local.dns_suffix}`) is read as no
            // condition: a statement that allows more can only hide a finding.
            conditions: s
                .conditions
                .iter()
                .filter(|_| !s.conditions.iter().any(on_expression))
                .map(|c| PolicyCondition {
                    operator: c.operator.clone(),
                    key: c.key.clone(),
                    values: c.values.clone(),
                })
                .collect(),
        })
        .collect();
    let conditioned: BTreeSet<&String> = kept.iter().flat_map(|s| &s.actions).collect();
    out.push(PolicyStatement {
        allow: true,
        actions: p
            .actions
            .iter()
            .filter(|a| !conditioned.contains(a))
            .chain(&optional)
            .cloned()
            .collect(),
        conditions: Vec::new(),
    });
    Some(out)
}

/// A condition whose key or values are a Terraform expression (`${var.karpenter_tag_key}`,
/// `local.cluster_name`) in the module's source.
fn on_expression(c: &DataCondition) -> bool {
    let expression = |t: &String| {
        t.contains("${")
            || ["var.", "local.", "data.", "module."]
                .iter()
                .any(|p| t.starts_with(p))
    };
    expression(&c.key) || c.values.iter().any(expression)
}

/// The controller an `attach_*_policy` flag is for.
pub fn flag_controller(flag: &str) -> Option<&'static Controller> {
    let (_, name) = FLAGS.iter().find(|(f, _)| *f == flag)?;
    by_chart(name)
}

/// The statements terraform-aws-modules/iam attaches for `flag` at module release `module`.
pub fn flag_policy(flag: &str, module: Version) -> Option<&'static [PolicyStatement]> {
    let (newest, flags) = iam_flags();
    if module > (*newest)? {
        return None;
    }
    let (_, policy) = flags
        .get(flag)?
        .iter()
        .rev()
        .find(|(since, _)| *since <= module)?;
    policy.as_deref()
}

/// The first terraform-aws-modules/iam release after `module` whose `flag` policy gives
/// controller release `v` everything it needs.
pub fn flag_fixed_in(flag: &str, module: Version, v: Version) -> Option<Version> {
    let controller = flag_controller(flag)?;
    iam_flags().1.get(flag)?.iter().find_map(|(since, policy)| {
        let fits = *since > module
            && controller
                .compare(v, policy.as_deref()?)
                .is_some_and(|m| m.is_empty());
        fits.then_some(*since)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(actions: &[&str]) -> PolicyStatement {
        PolicyStatement {
            allow: true,
            actions: actions.iter().map(|a| a.to_string()).collect(),
            conditions: Vec::new(),
        }
    }

    fn external_dns() -> &'static Controller {
        by_chart("external-dns").expect("external-dns data is embedded")
    }

    #[test]
    fn versions_are_exact_releases_only() {
        assert_eq!(Version::parse("v2.13.0"), Some(Version(2, 13, 0)));
        assert_eq!(Version::parse("1.4.8"), Some(Version(1, 4, 8)));
        assert_eq!(Version::parse("~> 1.4"), None);
        assert_eq!(Version::parse("1.4"), None);
        assert_eq!(Version::parse("v2.8.1-eksbuild.1"), None);
        assert_eq!(Version::parse("latest"), None);
    }

    #[test]
    fn images_and_addons_name_their_controller_and_release() {
        let runs = |image: &str| by_image(image).map(|(c, tag)| (c.name, tag.to_string()));
        assert_eq!(
            runs("public.ecr.aws/eks/aws-load-balancer-controller:v2.9.0"),
            Some(("aws-load-balancer-controller", "v2.9.0".to_string()))
        );
        assert_eq!(
            runs(
                "602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon/aws-load-balancer-controller:v2.7.2@sha256:0123"
            ),
            Some(("aws-load-balancer-controller", "v2.7.2".to_string()))
        );
        assert_eq!(
            runs("public.ecr.aws/karpenter/controller:1.0.5"),
            Some(("karpenter", "1.0.5".to_string()))
        );
        // No tag, a digest only, a look-alike name, a registry port without a tag.
        assert_eq!(runs("registry.k8s.io/external-dns/external-dns"), None);
        assert_eq!(
            runs("registry.k8s.io/external-dns/external-dns@sha256:0123"),
            None
        );
        assert_eq!(runs("ghcr.io/acme/my-external-dns:v0.14.0"), None);
        assert_eq!(
            runs("registry.local:5000/autoscaling/cluster-autoscaler"),
            None
        );
        let addon = |name: &str, v: &str| by_addon(name, v).map(|(c, v)| (c.name, v));
        assert_eq!(
            addon("aws-ebs-csi-driver", "v1.35.0-eksbuild.1"),
            Some(("aws-ebs-csi-driver", Version(1, 35, 0)))
        );
        assert_eq!(addon("aws-ebs-csi-driver", "latest"), None);
        assert_eq!(addon("vpc-cni", "v1.18.0-eksbuild.1"), None);
    }

    #[test]
    fn every_controller_and_chart_table_loads() {
        let names: Vec<&str> = controllers().iter().map(|c| c.name).collect();
        assert_eq!(names.len(), CONTROLLERS.len(), "{names:?}");
        let lbc = by_chart("aws-load-balancer-controller").unwrap();
        assert_eq!(
            lbc.app_version_of_chart(Version(1, 4, 8)),
            Some(Version(2, 4, 7))
        );
        assert_eq!(
            lbc.app_version_of_chart(Version(1, 4, 7)),
            Some(Version(2, 4, 6))
        );
    }

    #[test]
    fn a_missing_action_is_named_with_the_release_that_added_it() {
        let policy = [allow(&[
            "route53:ChangeResourceRecordSets",
            "route53:ListHostedZones",
            "route53:ListResourceRecordSets",
            "route53:ListTagsForResource",
        ])];
        let missing = external_dns().compare(Version(0, 18, 0), &policy).unwrap();
        assert_eq!(
            missing,
            vec![Missing {
                action: "route53:ListTagsForResources".to_string(),
                condition: None,
                since: Some(Version(0, 17, 0)),
            }]
        );
        // The release before needed nothing more.
        assert_eq!(
            external_dns().compare(Version(0, 16, 1), &policy),
            Some(Vec::new())
        );
    }

    #[test]
    fn wildcards_cover_the_actions_they_match() {
        let c = external_dns();
        assert_eq!(
            c.compare(Version(0, 20, 0), &[allow(&["route53:*"])]),
            Some(Vec::new())
        );
        assert_eq!(
            c.compare(Version(0, 20, 0), &[allow(&["*"])]),
            Some(Vec::new())
        );
        let listed = [allow(&[
            "route53:ChangeResourceRecordSets",
            "route53:List*",
        ])];
        assert_eq!(c.compare(Version(0, 20, 0), &listed), Some(Vec::new()));
    }

    #[test]
    fn deny_and_unknown_conditions_make_the_comparison_unknown() {
        let c = external_dns();
        let mut deny = allow(&["route53:ListHostedZones"]);
        deny.allow = false;
        assert_eq!(c.compare(Version(0, 20, 0), &[deny]), None);
        let mut conditioned = allow(&["route53:ListHostedZones"]);
        conditioned.conditions.push(PolicyCondition {
            operator: "StringEquals".to_string(),
            key: "aws:RequestedRegion".to_string(),
            values: vec!["eu-west-1".to_string()],
        });
        assert_eq!(c.compare(Version(0, 20, 0), &[conditioned]), None);
    }

    #[test]
    fn no_data_before_the_first_release() {
        assert_eq!(
            external_dns().compare(Version(0, 3, 0), &[allow(&["*"])]),
            None
        );
    }

    #[test]
    fn a_module_flag_is_fixed_in_the_release_that_caught_up() {
        let flag = "attach_load_balancer_controller_policy";
        // Listener attributes (v2.9.0) reached the module in 5.46.0.
        assert_eq!(
            flag_fixed_in(flag, Version(5, 30, 0), Version(2, 9, 0)),
            Some(Version(5, 46, 0))
        );
        assert!(flag_policy(flag, Version(99, 0, 0)).is_none());
    }
}
