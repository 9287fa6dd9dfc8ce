//! IRSA018 conflicting-service-account: one ServiceAccount is defined twice in one deployment
//! unit with different roles.

use std::collections::BTreeMap;
use std::collections::hash_map::Entry;

use foldhash::{HashMap, HashMapExt};

use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::value::{Str, Tri};
use crate::facts::{ROLE_ARN_KEY, SaId, ServiceAccount, Spanned};
use crate::link::LintContext;
use crate::rules::RuleMeta;

pub const RULE: RuleMeta = RuleMeta {
    id: "IRSA018",
    name: "conflicting-service-account",
    default_level: Level::Error,
    summary: "one ServiceAccount is defined twice in one deployment unit with different roles",
    doc: include_str!("../../rules/IRSA018.md"),
};

/// A ServiceAccount and the role-arn it carries.
type Definition<'a> = (SaId, &'a ServiceAccount, &'a Spanned<Str>);

pub fn check(ctx: &LintContext, out: &mut Vec<Diagnostic>) {
    // Each ServiceAccount's first definition by unit, namespace and name; a list only for
    // those defined again, which are few (the language server asks on every edit).
    let mut first: HashMap<(&str, &str, &str), Definition> =
        HashMap::with_capacity(ctx.facts.service_accounts.len());
    let mut groups: BTreeMap<(&str, &str, &str), Vec<Definition>> = BTreeMap::new();
    for (sa_id, sa) in ctx.facts.service_accounts_with_ids() {
        if let Some(arn) = sa.annotation(ROLE_ARN_KEY).and_then(|a| a.value.as_ref()) {
            let key = (
                sa.unit.as_str(),
                sa.namespace.value.as_str(),
                sa.name.value.as_str(),
            );
            match first.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert((sa_id, sa, arn));
                }
                Entry::Occupied(slot) => {
                    (groups.entry(key))
                        .or_insert_with(|| vec![*slot.get()])
                        .push((sa_id, sa, arn));
                }
            }
        }
    }
    for defs in groups.values_mut() {
        // File path order, then position: "the second definition" is the later one.
        defs.sort_by_key(|(_, s, _)| (ctx.sources.get(s.span.file).path.clone(), s.span.start));
        let (_, _, first_arn) = defs[0];
        for &(later_id, later, arn) in &defs[1..] {
            if arn.value.equals(&first_arn.value) != Tri::No {
                continue;
            }
            out.push(
                Diagnostic::new(
                    &RULE,
                    Label::new(arn.span, "second definition"),
                    format!(
                        "service account {} is defined twice in {} with different roles: {} and {}",
                        later.qualified_name(),
                        display_unit(&later.unit),
                        first_arn.value.display(),
                        arn.value.display()
                    ),
                )
                .rendered(&later.rendered)
                .when(&later.when)
                .related(first_arn.span, "first definition")
                .help("keep one definition; whichever is applied last silently wins")
                .about_service_account(later_id),
            );
        }
    }
}

fn display_unit(unit: &str) -> String {
    if unit.is_empty() {
        "the top folder".into()
    } else {
        unit.to_string()
    }
}
