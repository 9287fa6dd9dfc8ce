//! IRSA026 chart-ignores-annotation: a Helm release sets the role-arn annotation under a
//! values key its chart does not read.

use crate::diagnostic::{Diagnostic, Label, Level};
use crate::facts::ROLE_ARN_KEY;
use crate::facts::charts;
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
    for release in &ctx.facts.helm_releases {
        let Some(chart) = charts::find(&release.chart) else {
            continue;
        };
        let expected = format!(
            "{}.{}",
            chart.annotations_key(),
            ROLE_ARN_KEY.replace('.', "\\.")
        );
        for setting in &release.annotation_settings {
            // The chart's ServiceAccount, or another one it creates (a node DaemonSet's).
            let read = setting
                .value
                .strip_suffix(&format!(".{}", ROLE_ARN_KEY.replace('.', "\\.")))
                .is_some_and(|key| chart.reads_annotations_at(key));
            if read {
                continue;
            }
            out.push(
                Diagnostic::new(
                    &RULE,
                    Label::new(setting.span, format!("set as {}", setting.value)),
                    format!(
                        "Helm release {} sets {}, but chart {} reads its ServiceAccount annotations from {}",
                        release.release_name,
                        setting.value,
                        chart.name,
                        chart.annotations_key()
                    ),
                )
                .related(
                    release.span,
                    format!("{} of chart {}", release.declared_by, chart.name),
                )
                .help(format!("set {expected} instead; Helm drops values the chart does not read"))
                .when(&release.when),
            );
        }
    }
}
