//! IRSA026 chart-ignores-annotation: a Helm release sets the role-arn annotation under a
//! values key its chart does not read.

use crate::diagnostic::{Diagnostic, Label, Level};
use crate::facts::ROLE_ARN_KEY;
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA026",
    name: "chart-ignores-annotation",
    default_level: Level::Error,
    summary: "a Helm release sets the role-arn annotation under a values key its chart does not read",
    doc: include_str!("../../rules/IRSA026.md"),
};

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    let role_arn = format!(".{}", ROLE_ARN_KEY.replace('.', "\\."));
    for release in &ctx.facts.helm_releases {
        // Only a chart whose every annotations key is known can be said to ignore one.
        let Some(keys) = release.annotation_keys.as_ref().filter(|k| !k.is_empty()) else {
            continue;
        };
        for setting in &release.annotation_settings {
            // The chart's ServiceAccount, or another one it creates (a node DaemonSet's).
            let block = setting.value.strip_suffix(&role_arn);
            if block.is_some_and(|key| keys.iter().any(|k| k == key)) {
                continue;
            }
            let intended = intended_key(keys, &setting.value);
            out.push(
                Diagnostic::new(
                    &RULE,
                    Label::new(setting.span, format!("set as {}", setting.value)),
                    format!(
                        "Helm release {} sets {}, but chart {} reads its ServiceAccount annotations from {}",
                        release.release_name, setting.value, release.chart, intended
                    ),
                )
                .related(
                    release.span,
                    format!("{} of chart {}", release.declared_by, release.chart),
                )
                .help(format!(
                    "set {intended}{role_arn} instead; Helm drops values the chart does not read"
                ))
                .when(&release.when),
            );
        }
    }
}

/// The annotations key a setting was meant for: the one of the same component
/// (`node.serviceAccount.annotations` for a `node.` setting), else the chart's first.
fn intended_key<'k>(keys: &'k [String], setting: &str) -> &'k str {
    let component = setting.split('.').next().unwrap_or("");
    keys.iter()
        .find(|k| k.split('.').next() == Some(component))
        .unwrap_or(&keys[0])
}
