//! Terraform plan and state JSON: which files are plans (in the tree, `--plan`, standard
//! input), which root module of the scan each one is the plan of, where its resources are
//! configured, and how its facts take the place of that root module's evaluated ones.
//!
//! A plan knows every value the evaluation may not (variables set in CI, registry modules
//! without a model), so for a root module with a plan, the plan's facts win: the evaluated
//! ones are dropped, except what a plan cannot say (parse errors, templates, ConfigMaps,
//! the roles a module model builds for add-ons, annotations set by commands).

use std::path::{Path, PathBuf};

use foldhash::{HashMap, HashMapExt};
use hcl_edit::structure::Block;

use crate::diagnostic::{Diagnostic, Label};
use crate::eval::value::Str;
use crate::eval::workspace::{ModuleDir, Workspace, is_local_source, literal_source, normalize};
use crate::facts::plan::{Configuration, PlanOrigin};
use crate::facts::{Condition, Facts, Spanned, TrustPolicy};
use crate::parse::ParseError;
use crate::parse::plan::{NotAPlan, Plan, PlanKind};
use crate::source::{FileId, SourceMap, Span};

/// Plan files larger than this are not read: ten times the largest plans seen in CI.
pub const MAX_PLAN_BYTES: u64 = 1024 * 1024 * 1024;

/// A plan read from a file of the scan or named by `--plan`.
pub(super) struct PlanInput {
    pub plan: Plan,
    /// The path it was found under.
    pub path: PathBuf,
}

/// Read a plan file's text (a file `--plan` names: a link is followed); plans may be
/// larger than other files. Through the one checked open: no FIFO, device or folder.
pub(super) fn read_plan_text(path: &Path) -> Result<String, String> {
    crate::open::read_string(path, crate::open::Links::Follow, MAX_PLAN_BYTES).map_err(
        |e| match e {
            crate::open::ReadError::TooLarge(_) => format!(
                "plan is larger than {} MiB and was not read",
                MAX_PLAN_BYTES / 1024 / 1024
            ),
            e => e.to_string(),
        },
    )
}

/// Read a text as a plan; `required` (named by `--plan`): a text that is not one is an error.
pub(super) fn parse(id: FileId, text: &str, required: bool) -> Result<Option<Plan>, ParseError> {
    match crate::parse::plan::read(id, text, &crate::facts::plan::reads_type) {
        Ok(plan) => Ok(Some(plan)),
        // A file nobody named a plan is one only when its top level says so; otherwise it is
        // read as any other JSON file, whose reader reports its errors.
        Err(NotAPlan::OtherJson | NotAPlan::Invalid(..)) if !required => Ok(None),
        Err(NotAPlan::OtherJson) => Err(ParseError {
            span: Span::file_start(id),
            message: "not a Terraform plan or state: `terraform show -json` output has \
                      format_version, terraform_version and planned_values or values"
                .to_string(),
        }),
        Err(NotAPlan::Invalid(offset, message)) => Err(ParseError {
            span: Span::new(id, offset..offset + 1),
            message: format!("invalid JSON: {message}"),
        }),
    }
}

/// The root module each plan belongs to, among the scanned folders that are roots: the
/// plan's own folder when it is one, else the one root whose files declare every resource
/// and module call of the plan's root module. `None`: the plan stands alone.
pub(super) fn match_roots<'a>(
    plans: &[PlanInput],
    roots: &[(&'a PathBuf, String)],
) -> Vec<Option<&'a PathBuf>> {
    plans
        .iter()
        .map(|input| {
            let own = input.path.parent().map(normalize).unwrap_or_default();
            if let Some((dir, _)) = roots.iter().find(|(dir, _)| **dir == own) {
                return Some(*dir);
            }
            let declared = root_declarations(&input.plan);
            if declared.is_empty() {
                return None;
            }
            let mut matching = roots
                .iter()
                .filter(|(_, text)| declared.iter().all(|d| declares(text, d)));
            match (matching.next(), matching.next()) {
                (Some((dir, _)), None) => Some(*dir),
                _ => None,
            }
        })
        .collect()
}

/// What the plan's root module declares: `resource "type" "name"`, `data`, `module "name"`.
fn root_declarations(plan: &Plan) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |kind: &str, name: &str| {
        let d = (kind.to_string(), name.to_string());
        if !out.contains(&d) {
            out.push(d);
        }
    };
    for address in &plan.root_addresses {
        let parts: Vec<&str> = address.split('.').collect();
        match parts.as_slice() {
            ["module", name] => push("module", name),
            ["data", kind, name] => push(kind, name),
            [kind, name] => push(kind, name),
            _ => {}
        }
    }
    for r in &plan.resources {
        if r.module.is_empty() {
            push(&r.kind, &r.name);
        } else if let Some(name) = module_names(&r.module).first() {
            push("module", name);
        }
    }
    out
}

/// Whether a module's text declares a block of this type (or `module`) and name.
fn declares(text: &str, (kind, name): &(String, String)) -> bool {
    let quoted = format!("\"{name}\"");
    match kind.as_str() {
        "module" => text.contains(&quoted) && text.contains("module"),
        kind => text.contains(&format!("\"{kind}\"")) && text.contains(&quoted),
    }
}

/// The call names of a module instance path: `module.a["x"].module.b[0]` → `[a, b]`.
fn module_names(module: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = module;
    while let Some(after) = rest.strip_prefix("module.") {
        let end = after.find(['[', '.']).unwrap_or(after.len());
        names.push(after[..end].to_string());
        rest = &after[end..];
        // Skip an instance key, which may hold dots and brackets of its own.
        if rest.starts_with('[') {
            let mut in_string = false;
            let mut escaped = false;
            let mut close = None;
            for (i, c) in rest.char_indices() {
                match c {
                    _ if escaped => escaped = false,
                    '\\' if in_string => escaped = true,
                    '"' => in_string = !in_string,
                    ']' if !in_string => {
                        close = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let Some(close) = close else { break };
            rest = &rest[close + 1..];
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    names
}

/// The configuration of a root module in the scan, with the local modules it calls.
pub(super) struct SourceConfig<'w> {
    pub workspace: &'w Workspace<'w>,
    pub root: &'w ModuleDir,
}

impl Configuration for SourceConfig<'_> {
    fn block(&self, module: &str, data: bool, kind: &str, name: &str) -> Option<(FileId, &Block)> {
        let mut dir = self.root;
        for call in module_names(module) {
            let source = dir.files.iter().find_map(|f| {
                f.body
                    .blocks()
                    .filter(|b| b.ident.as_str() == "module")
                    .find(|b| b.labels.first().map(|l| l.as_str()) == Some(call.as_str()))
                    .and_then(literal_source)
            })?;
            if !is_local_source(&source) {
                return None;
            }
            dir = self.workspace.local_dir(&dir.dir, &source)?;
        }
        let ident = if data { "data" } else { "resource" };
        dir.files.iter().find_map(|f| {
            f.body
                .blocks()
                .find(|b| {
                    let labels: Vec<&str> = b.labels.iter().map(|l| l.as_str()).collect();
                    b.ident.as_str() == ident && labels == [kind, name]
                })
                .map(|b| (f.id, b))
        })
    }
}

/// A root module's facts once its plans are known: the plans' facts (with what the
/// configuration's commands make), and what only the evaluation can say.
pub(super) fn merge(evaluated: Facts, planned: Facts) -> Facts {
    let mut out = planned;
    finer_trust_spans(&evaluated, &mut out);
    for mut addon in evaluated.addon_roles {
        let address = &evaluated.roles[addon.role.0 as usize].address;
        let found = out.roles_with_ids().find(|(_, r)| &r.address == address);
        if let Some(id) = found.map(|(id, _)| id) {
            addon.role = id;
            out.addon_roles.push(addon);
        }
    }
    out.parse_errors.extend(evaluated.parse_errors);
    out.limits_hit.extend(evaluated.limits_hit);
    out.unread_templates.extend(evaluated.unread_templates);
    out.rendered_templates.extend(evaluated.rendered_templates);
    out.config_data.extend(evaluated.config_data);
    out.hidden_annotations |= evaluated.hidden_annotations;
    out
}

/// A trust policy the evaluation read exactly as planned keeps the evaluation's spans (each
/// condition at its own line), with the plan's line as their origin.
fn finer_trust_spans(evaluated: &Facts, planned: &mut Facts) {
    let mut origins = Vec::new();
    for role in &mut planned.roles {
        let Some(trust) = &role.trust else { continue };
        let same = evaluated.roles.iter().find(|r| {
            r.address == role.address
                && r.trust
                    .as_ref()
                    .is_some_and(|t| t.complete && same_policy(t, trust))
        });
        let Some(fine) = same.and_then(|r| r.trust.clone()) else {
            continue;
        };
        let plan_line = planned
            .plan_origins
            .iter()
            .find(|o| o.source == trust.span && o.address == role.address)
            .cloned();
        if let Some(origin) = plan_line {
            for span in policy_spans(&fine) {
                origins.push(PlanOrigin {
                    source: span,
                    ..origin.clone()
                });
            }
        }
        role.trust = Some(fine);
    }
    planned.plan_origins.extend(origins);
}

/// Whether two policies say the same, wherever they are written.
fn same_policy(a: &TrustPolicy, b: &TrustPolicy) -> bool {
    fn values(v: &Option<Vec<Spanned<Str>>>) -> Option<Vec<&Str>> {
        v.as_ref().map(|v| v.iter().map(|s| &s.value).collect())
    }
    /// A condition's operator, key and values.
    type Shape<'c> = (&'c str, &'c Str, Option<Vec<&'c Str>>);
    fn conditions(c: &Option<Vec<Condition>>) -> Option<Vec<Shape<'_>>> {
        c.as_ref().map(|c| {
            c.iter()
                .map(|c| (c.operator.value.as_str(), &c.key.value, values(&c.values)))
                .collect()
        })
    }
    a.statements.len() == b.statements.len()
        && a.statements.iter().zip(&b.statements).all(|(x, y)| {
            x.effect == y.effect
                && values(&x.actions) == values(&y.actions)
                && values(&x.federated) == values(&y.federated)
                && values(&x.services) == values(&y.services)
                && conditions(&x.conditions) == conditions(&y.conditions)
        })
}

/// Every span a policy's findings may point at.
fn policy_spans(policy: &TrustPolicy) -> Vec<Span> {
    let mut out = vec![policy.span];
    for s in &policy.statements {
        out.push(s.span);
        for list in [&s.actions, &s.federated, &s.services]
            .into_iter()
            .flatten()
        {
            out.extend(list.iter().map(|v| v.span));
        }
        for c in s.conditions.iter().flatten() {
            out.extend([c.operator.span, c.key.span]);
            out.extend(c.values.iter().flatten().map(|v| v.span));
        }
    }
    out.sort_by_key(|s| (s.file, s.start, s.end));
    out.dedup();
    out
}

/// Findings at a value the configuration writes and a plan resolved name the plan's line.
/// Where instances of one block (`count`, `for_each`) share a span, the finding's role
/// says which instance it is about; without one, no plan line is named rather than a wrong
/// one.
pub(super) fn name_plan_lines(diagnostics: &mut [Diagnostic], facts: &Facts, sources: &SourceMap) {
    let origins = &facts.plan_origins;
    if origins.is_empty() {
        return;
    }
    let mut by_source: HashMap<Span, Vec<&PlanOrigin>> = HashMap::new();
    for o in origins {
        by_source.entry(o.source).or_default().push(o);
    }
    for d in diagnostics {
        let spans: Vec<Span> = std::iter::once(d.primary.span)
            .chain(d.related.iter().map(|l| l.span))
            .collect();
        let role = d.subject.role.map(|id| facts.role(id).address.as_str());
        for span in spans {
            let Some(candidates) = by_source.get(&span) else {
                continue;
            };
            let chosen: Vec<&&PlanOrigin> = match candidates.as_slice() {
                [one] => vec![one],
                many => many
                    .iter()
                    .filter(|o| Some(o.address.as_str()) == role)
                    .collect(),
            };
            if chosen.len() != 1 {
                continue;
            }
            for o in chosen {
                if d.related.iter().any(|l| l.span == o.plan) {
                    continue;
                }
                let name = sources
                    .get(o.plan.file)
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let what = match o.kind {
                    PlanKind::Plan => "planned value",
                    PlanKind::State => "value in the state",
                };
                d.related
                    .push(Label::new(o.plan, format!("{what} ({name})")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_skip_instance_keys() {
        assert_eq!(module_names(""), Vec::<String>::new());
        assert_eq!(module_names("module.a"), ["a"]);
        assert_eq!(
            module_names("module.a[\"x.y]\"].module.b[0].module.c"),
            ["a", "b", "c"]
        );
    }
}
