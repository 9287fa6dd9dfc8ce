//! IRSA030 controller-policy-outdated: a known controller (the AWS Load Balancer Controller,
//! ExternalDNS, ...) is deployed at a version whose published IAM policy holds actions, or
//! a statement shape, that the policy reaching its role does not allow.
//!
//! Provable only when everything that reaches the role is read: every attachment of the
//! role's root module names its role, every attached policy is a document irsa-lint reads
//! whole (no `Deny`, no `NotAction`, no condition the controller's published policies never
//! used), and the version is known or the chart unpinned. An AWS managed policy made for the
//! controller is current by definition.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use crate::aws::controllers::{
    self, Controller, Missing, PolicyCondition, PolicyStatement, Version,
};
use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::value::{Str, Symbol};
use crate::facts::{
    AttachedPolicy, Effect, HelmRelease, Role, RoleId, RoleName, RolePolicy, SaId, ServiceAccount,
    Spanned, TrustPolicy, Workload,
};
use crate::link::{ControllerVerdict, LintContext};
use crate::rules::RuleMeta;
use crate::source::Span;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA030",
    name: "controller-policy-outdated",
    default_level: Level::Warning,
    summary: "a controller's role lacks IAM actions its deployed version requires",
    doc: include_str!("../../rules/IRSA030.md"),
};

/// The release of a controller, as far as its version is known.
#[derive(Clone)]
struct Deployed<'a> {
    controller: &'static Controller,
    version: Version,
    /// Where the version comes from, and what it says.
    source: Label,
    /// The chart is not pinned: the newest release is installed.
    unpinned: bool,
    service_accounts: Vec<SaId>,
    when: &'a [String],
}

fn diagnostic(
    deployed: &Deployed<'_>,
    role: &Role,
    lacking: &Lacking,
    (sa, role_id): (SaId, RoleId),
) -> Diagnostic {
    let c = deployed.controller;
    let (missing, at) = (&lacking.missing, lacking.at);
    let items: Vec<String> = missing.iter().map(describe).collect();
    let count = if missing.len() == 1 {
        "a permission".to_string()
    } else {
        format!("{} permissions", missing.len())
    };
    let unpinned = if deployed.unpinned {
        format!(
            " (the chart is not pinned: it installs the newest release, {} as of {})",
            deployed.version, c.snapshot_date
        )
    } else {
        String::new()
    };
    let message = format!(
        "the policy of role {} lacks {count} that {} {}{unpinned} requires: {}",
        role_label(role),
        c.name,
        deployed.version,
        items.join(", ")
    );
    let where_published = match &c.policy_file {
        Some(file) => format!("{file} of {} at {}", c.repository, deployed.version),
        None => format!(
            "the policy {} publishes for {}",
            c.repository, deployed.version
        ),
    };
    let mut d = Diagnostic::new(&RULE, Label::new(at, primary_label(missing)), message)
        .related(deployed.source.span, deployed.source.message.clone())
        .help(match &lacking.module_fix {
            Some((flag, Some(fixed))) => format!(
                "{flag} predates what {} {} needs: use terraform-aws-modules/iam {fixed} or later",
                c.name, deployed.version
            ),
            Some((flag, None)) => format!(
                "{flag} lacks what {} {} needs, and no module release irsa-lint knows has it: attach {where_published} yourself",
                c.name, deployed.version
            ),
            None => format!(
                "allow what {} {} needs: update the policy to {where_published}",
                c.name, deployed.version
            ),
        })
        .in_module(&role.module)
        .when(deployed.when)
        .about_service_account(sa)
        .about_role(role_id);
    if deployed.version > c.newest_version {
        d = d.note(format!(
            "irsa-lint's data knows {} releases up to {} ({}); later ones may need more",
            c.name, c.newest_version, c.snapshot_date
        ));
    }
    d
}

/// The controllers and releases the rule knows, for `irsa-lint explain IRSA030`.
pub fn data_summary() -> String {
    let mut out = String::from(
        "\n## Controllers and releases known\n\n| controller | releases | data as of |\n| --- | --- | --- |\n",
    );
    for c in controllers::controllers() {
        let first = c.first_version().map(|v| v.to_string()).unwrap_or_default();
        out.push_str(&format!(
            "| {} | {first} – {} | {} |\n",
            c.name, c.newest_version, c.snapshot_date
        ));
    }
    out
}

fn primary_label(missing: &[Missing]) -> String {
    match missing.len() {
        1 => format!("lacks {}", missing[0].action),
        n => format!("lacks {} and {} more", missing[0].action, n - 1),
    }
}

fn describe(m: &Missing) -> String {
    let since = m.since.map(|v| format!(" (since {v})")).unwrap_or_default();
    match &m.condition {
        Some(condition) if !condition.is_empty() => {
            format!("{} with {condition}{since}", m.action)
        }
        _ => format!("{}{since}", m.action),
    }
}

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    let evaluations = evaluate(ctx);
    // The graph reads these instead of evaluating again (set once; equal if already set).
    let _ = ctx.controller_verdicts.set(verdicts_of(&evaluations));
    let mut reported = HashSet::new();
    for e in &evaluations {
        let Outcome::Lacks(role_id, lacking) = &e.outcome else {
            continue;
        };
        // Two workloads of one ServiceAccount (a Deployment and its DaemonSet) say it once.
        if reported.insert((
            e.service_account,
            e.deployed.controller.name,
            e.deployed.version,
        )) {
            let role = ctx.facts.role(*role_id);
            out.push(diagnostic(
                &e.deployed,
                role,
                lacking,
                (e.service_account, *role_id),
            ));
        }
    }
}

/// A ServiceAccount that runs a known controller, and whether the policy reaching its role
/// fits the controller's version.
pub struct Evaluation<'a> {
    pub service_account: SaId,
    deployed: Deployed<'a>,
    outcome: Outcome,
}

enum Outcome {
    Fits,
    Lacks(RoleId, Lacking),
    /// The role, its policies or the comparison cannot be told from the files.
    Unknown,
}

impl Evaluation<'_> {
    /// The controller and version: `aws-load-balancer-controller v2.9.0`.
    pub fn controller(&self) -> String {
        format!(
            "{} {}",
            self.deployed.controller.name, self.deployed.version
        )
    }

    /// Whether the policy fits (`Some(true)`), lacks something (`Some(false)`), or cannot be
    /// told.
    pub fn fits(&self) -> Option<bool> {
        match self.outcome {
            Outcome::Fits => Some(true),
            Outcome::Lacks(..) => Some(false),
            Outcome::Unknown => None,
        }
    }
}

/// Each evaluation's ServiceAccount, controller and verdict, as the graph shows them.
pub fn verdicts<'c>(ctx: &'c LintContext) -> &'c [ControllerVerdict] {
    ctx.controller_verdicts
        .get_or_init(|| verdicts_of(&evaluate(ctx)))
}

fn verdicts_of(evaluations: &[Evaluation]) -> Vec<ControllerVerdict> {
    (evaluations.iter())
        .map(|e| ControllerVerdict {
            service_account: e.service_account,
            controller: e.controller(),
            fits: e.fits(),
        })
        .collect()
}

/// Every ServiceAccount a known controller runs as, compared with the policy of its role.
fn evaluate<'a>(ctx: &LintContext<'a>) -> Vec<Evaluation<'a>> {
    let facts = ctx.facts;
    // The ServiceAccounts by unit, namespace and name, and by the span of the release that
    // makes them: built only when some controller is deployed (a monorepo's many workloads
    // mostly run other images).
    let index = std::cell::OnceCell::new();
    let by = || {
        index.get_or_init(|| {
            let mut by_span: HashMap<Span, Vec<SaId>> = HashMap::new();
            let mut by_name: HashMap<(&str, &str, &str), Vec<SaId>> = HashMap::new();
            for (id, sa) in facts.service_accounts_with_ids() {
                by_name
                    .entry((
                        sa.unit.as_str(),
                        sa.namespace.value.as_str(),
                        sa.name.value.as_str(),
                    ))
                    .or_default()
                    .push(id);
                by_span.entry(sa.span).or_default().push(id);
            }
            (by_name, by_span)
        })
    };
    let mut deployments = Vec::new();
    for release in &facts.helm_releases {
        let Some(mut deployed) = from_helm_release(release) else {
            continue;
        };
        let (by_name, by_span) = by();
        deployed.service_accounts = match &release.existing_service_account {
            // The ServiceAccount the same `terraform apply` makes.
            Some((namespace, name)) => by_name
                .get(&(release.unit.as_str(), namespace.as_str(), name.as_str()))
                .cloned()
                .unwrap_or_default(),
            None => by_span.get(&release.span).cloned().unwrap_or_default(),
        };
        deployments.push(deployed);
    }
    for (id, sa) in facts.service_accounts_with_ids() {
        deployments.extend(from_addon(sa, id));
    }
    for workload in &facts.workloads {
        deployments.extend(from_workload(workload, || &by().0));
    }
    if deployments.is_empty() {
        return Vec::new();
    }
    let mut policies: HashMap<(&str, &Str), Vec<&RolePolicy>> = HashMap::new();
    let mut opaque_units: HashSet<&str> = HashSet::new();
    for p in &facts.role_policies {
        match &p.role {
            Some(role) => policies.entry((&p.unit, role)).or_default().push(p),
            None => {
                opaque_units.insert(&p.unit);
            }
        }
    }
    let mut out = Vec::new();
    for deployed in deployments {
        for &sa in &deployed.service_accounts {
            let outcome = outcome(ctx, &deployed, sa, &policies, &opaque_units);
            out.push(Evaluation {
                service_account: sa,
                deployed: deployed.clone(),
                outcome,
            });
        }
    }
    out
}

/// How the policy reaching the one role of `sa` compares with what `deployed` needs.
fn outcome(
    ctx: &LintContext,
    deployed: &Deployed<'_>,
    sa: SaId,
    policies: &HashMap<(&str, &Str), Vec<&RolePolicy>>,
    opaque_units: &HashSet<&str>,
) -> Outcome {
    let Some(link) = ctx.link_of(sa) else {
        return Outcome::Unknown;
    };
    let ([role_id], false) = (link.roles.as_slice(), link.maybe_other) else {
        return Outcome::Unknown;
    };
    let role = ctx.facts.role(*role_id);
    if opaque_units.contains(&role.unit.as_str()) {
        return Outcome::Unknown;
    }
    let Some(name) = role_name(role) else {
        return Outcome::Unknown;
    };
    let attached = policies
        .get(&(role.unit.as_str(), &name))
        .map(Vec::as_slice)
        .unwrap_or_default();
    match compare(deployed, attached) {
        None => Outcome::Unknown,
        Some(lacking) if lacking.missing.is_empty() => Outcome::Fits,
        Some(lacking) => Outcome::Lacks(*role_id, lacking),
    }
}

/// An EKS add-on's own ServiceAccount, at the version the add-on is pinned to.
fn from_addon(sa: &ServiceAccount, id: SaId) -> Option<Deployed<'_>> {
    let pinned = sa.addon_version.as_ref()?;
    let (controller, version) = controllers::by_addon(&pinned.addon, &pinned.version.value)?;
    let label = format!(
        "add-on version {} runs {} {version}",
        pinned.version.value, controller.name
    );
    Some(Deployed {
        controller,
        version,
        source: Label::new(pinned.version.span, label),
        unpinned: false,
        service_accounts: vec![id],
        when: &sa.when,
    })
}

/// A Pod or pod template whose container runs a known controller's image, as the
/// ServiceAccount it names (of its own namespace, applied with it).
fn from_workload<'a, 'i>(
    workload: &'a Workload,
    by_name: impl FnOnce() -> &'i HashMap<(&'i str, &'i str, &'i str), Vec<SaId>>,
) -> Vec<Deployed<'a>> {
    let (Some(images), Some(namespace), Some(name)) = (
        &workload.images,
        &workload.namespace,
        workload.service_account_name(),
    ) else {
        return Vec::new();
    };
    let mut deployed: Vec<Deployed<'a>> = images
        .iter()
        .filter_map(|image| {
            let (controller, tag) = controllers::by_image(&image.value)?;
            let version = Version::parse(tag)?;
            let label = format!("image runs {} {version}", controller.name);
            Some(Deployed {
                controller,
                version,
                source: Label::new(image.span, label),
                unpinned: false,
                service_accounts: Vec::new(),
                when: &[],
            })
        })
        .collect();
    if !deployed.is_empty() {
        let service_accounts = by_name()
            .get(&(workload.unit.as_str(), namespace.value.as_str(), name))
            .cloned()
            .unwrap_or_default();
        for d in &mut deployed {
            d.service_accounts = service_accounts.clone();
        }
    }
    deployed
}

/// A release of a chart that installs a known controller, with the version it installs.
fn from_helm_release(release: &HelmRelease) -> Option<Deployed<'_>> {
    let controller = controllers::by_chart(&release.chart)?;
    let (version, source, unpinned) = match (&release.image_tag, &release.chart_version) {
        // A chart of the repository itself: a copy of the controller's chart, at the version
        // its own files give unless the release sets the tag.
        (None, _) if release.local_chart => {
            let default = release.default_version.as_ref()?;
            let v = Version::parse(&default.value)?;
            let label = format!("the chart in the repository runs {} {v}", controller.name);
            (v, Label::new(default.span, label), false)
        }
        (Some(tag), _) => {
            let v = Version::parse(tag.value.as_deref()?)?;
            (
                v,
                Label::new(tag.span, format!("image.tag runs {} {v}", controller.name)),
                false,
            )
        }
        (None, Some(chart)) => {
            let text = chart.value.as_deref()?;
            let v = controller.app_version_of_chart(Version::parse(text)?)?;
            let label = format!("chart {} installs {} {v}", text.trim(), controller.name);
            (v, Label::new(chart.span, label), false)
        }
        (None, None) => {
            let v = controller.newest_installed();
            let label = format!(
                "no chart version: the newest chart installs {} {v} (as of {})",
                controller.name, controller.snapshot_date
            );
            (v, Label::new(release.span, label), true)
        }
    };
    Some(Deployed {
        controller,
        version,
        source,
        unpinned,
        service_accounts: Vec::new(),
        when: &release.when,
    })
}

/// What the attached policies lack: where to show it, and how to fix it.
struct Lacking {
    missing: Vec<Missing>,
    at: Span,
    /// The module release whose flag policy would do, for a module flag.
    module_fix: Option<(String, Option<Version>)>,
}

/// What the attached policies lack; `None` when it cannot be proven.
fn compare(deployed: &Deployed<'_>, attached: &[&RolePolicy]) -> Option<Lacking> {
    let c = deployed.controller;
    let mut statements = Vec::new();
    let mut documents: Vec<&TrustPolicy> = Vec::new();
    let mut flag_at = None;
    for p in attached {
        match &p.policy {
            AttachedPolicy::Document(doc) if doc.complete => {
                statements.extend(read_statements(doc)?);
                documents.push(doc);
            }
            AttachedPolicy::ModuleFlag {
                flag,
                module_version,
            } => {
                let module = Version::parse(module_version.as_deref()?)?;
                if controllers::flag_controller(&flag.value)?.name != c.name {
                    return None;
                }
                statements.extend(
                    controllers::flag_policy(&flag.value, module)?
                        .iter()
                        .cloned(),
                );
                flag_at = Some((flag, module));
            }
            AttachedPolicy::None | AttachedPolicy::Unrelated => {}
            // An AWS managed policy made for the controller is current; any other is not read.
            _ => return None,
        }
    }
    if let Some((flag, module)) = flag_at {
        let missing = c.compare(deployed.version, &statements)?;
        let fixed = controllers::flag_fixed_in(&flag.value, module, deployed.version);
        return Some(Lacking {
            missing,
            at: flag.span,
            module_fix: Some((
                format!("{} of terraform-aws-modules/iam {module}", flag.value),
                fixed,
            )),
        });
    }
    // The controller's own policy must be among them: a role with no policy in the files
    // may get it from elsewhere.
    let (doc, _) = documents
        .iter()
        .map(|d| (*d, controller_actions(c, deployed.version, d)))
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(_, n)| *n)?;
    let missing = c.compare(deployed.version, &statements)?;
    let at = missing
        .first()
        .and_then(|m| near_action(doc, &m.action))
        .or_else(|| first_action(doc))
        .unwrap_or(doc.span);
    Some(Lacking {
        missing,
        at,
        module_fix: None,
    })
}

/// How many of the document's actions the controller's policy at this version has.
fn controller_actions(c: &Controller, v: Version, doc: &TrustPolicy) -> usize {
    let Some(required) = c.required_actions(v) else {
        return 0;
    };
    doc.statements
        .iter()
        .flat_map(|s| s.actions.iter().flatten())
        .filter_map(|a| a.value.as_known())
        .filter(|a| {
            required
                .iter()
                .any(|r| crate::text::glob_match(&a.to_ascii_lowercase(), &r.to_ascii_lowercase()))
        })
        .count()
}

/// The statements of a policy, every part known; `None` when any part is not.
fn read_statements(doc: &TrustPolicy) -> Option<Vec<PolicyStatement>> {
    doc.statements
        .iter()
        .map(|s| {
            let allow = match s.effect? {
                Effect::Allow => true,
                Effect::Deny => false,
            };
            let actions = s
                .actions
                .as_ref()?
                .iter()
                .map(|a| a.value.as_known().map(str::to_string))
                .collect::<Option<Vec<_>>>()?;
            let conditions = s
                .conditions
                .as_ref()?
                .iter()
                .map(|c| {
                    Some(PolicyCondition {
                        operator: c.operator.value.clone(),
                        key: c.key.value.as_known()?.to_string(),
                        values: c
                            .values
                            .as_ref()?
                            .iter()
                            .map(|v| v.value.as_known().map(str::to_string))
                            .collect::<Option<Vec<_>>>()?,
                    })
                })
                .collect::<Option<Vec<_>>>()?;
            Some(PolicyStatement {
                allow,
                actions,
                conditions,
            })
        })
        .collect()
}

/// The action of the policy most like `action` (same service, longest common prefix), where
/// the missing one belongs.
fn near_action(doc: &TrustPolicy, action: &str) -> Option<Span> {
    let wanted = action.to_ascii_lowercase();
    let service = wanted.split_once(':')?.0.to_string();
    doc.statements
        .iter()
        .flat_map(|s| s.actions.iter().flatten())
        .filter_map(|a: &Spanned<Str>| {
            let text = a.value.as_known()?.to_ascii_lowercase();
            let (s, _) = text.split_once(':')?;
            (s == service).then(|| {
                let common = text
                    .bytes()
                    .zip(wanted.bytes())
                    .take_while(|(x, y)| x == y)
                    .count();
                (common, std::cmp::Reverse(a.span), a.span)
            })
        })
        .max()
        .map(|(_, _, span)| span)
}

fn first_action(doc: &TrustPolicy) -> Option<Span> {
    doc.statements
        .iter()
        .flat_map(|s| s.actions.iter().flatten())
        .next()
        .map(|a| a.span)
}

/// The role's name as attachments evaluate it.
fn role_name(role: &Role) -> Option<Str> {
    match &role.name {
        RoleName::Exact(name) => Some(name.clone()),
        RoleName::Prefix(prefix) => {
            let mut name = prefix.clone();
            name.push_sym(Symbol::NameSuffix(role.symbol_key.clone()));
            Some(name)
        }
        RoleName::Unknown => None,
    }
}

fn role_label(role: &Role) -> String {
    match &role.name {
        RoleName::Exact(name) if name.as_known().is_some() => name.display(),
        _ => role.address.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::tester::{OIDC_PROVIDER_TF, Tester, irsa_role};

    const POLICY: &str = r#"resource "aws_iam_policy" "external_dns" {
  name = "web-prod-external-dns"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["route53:ChangeResourceRecordSets", "route53:ListHostedZones", "route53:ListResourceRecordSets", "route53:ListTagsForResource"]
      Resource = "*"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "external_dns" {
  role       = aws_iam_role.web_prod_external_dns.name
  policy_arn = aws_iam_policy.external_dns.arn
}
"#;

    fn release(version: Option<&str>) -> String {
        let version = version
            .map(|v| format!("  version    = \"{v}\"\n"))
            .unwrap_or_default();
        format!(
            r#"resource "helm_release" "external_dns" {{
  name       = "external-dns"
  repository = "https://kubernetes-sigs.github.io/external-dns/"
  chart      = "external-dns"
{version}  namespace  = "external-dns"

  set {{
    name  = "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn"
    value = aws_iam_role.web_prod_external_dns.arn
  }}
}}
"#
        )
    }

    fn project(version: Option<&str>) -> Tester {
        Tester::new(&RULE)
            .file("infra/eks.tf", OIDC_PROVIDER_TF)
            .file(
                "infra/iam.tf",
                &irsa_role("web-prod-external-dns", "external-dns", "external-dns"),
            )
            .file("infra/policy.tf", POLICY)
            .file("infra/helm.tf", &release(version))
    }

    #[test]
    fn a_pinned_chart_newer_than_the_policy_is_reported() {
        let tester = project(Some("1.18.0"));
        assert_eq!(tester.findings().len(), 1);
        insta::assert_snapshot!(tester.rendered());
    }

    #[test]
    fn an_unpinned_chart_is_compared_with_the_newest_release() {
        let findings = project(None).findings();
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0].message.contains("the chart is not pinned"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn silent_for_a_release_the_policy_fits_or_an_unknown_version() {
        project(Some("1.16.1")).assert_none();
        project(Some("~> 1.18")).assert_none();
    }

    #[test]
    fn explain_lists_every_controller_and_the_data_date() {
        let summary = data_summary();
        for c in controllers::controllers() {
            assert!(summary.contains(c.name), "{summary}");
        }
        assert!(summary.contains("2026-08-22"), "{summary}");
    }
}
