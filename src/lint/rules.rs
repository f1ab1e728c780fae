//! Lints on one rule list (a custom role, an additional privilege).
//!
//! Under Infisical's evaluation every deny applies after every allow, so within one list an allow is
//! redundant when the list's other allows already grant what it matches, whatever other grants the member
//! has; the same holds for a deny that other denies of its list cover.

use std::collections::{BTreeSet, HashMap};

use super::{Owner, RuleSet, list_names};
use crate::catalog::{Catalog, ConditionKind};
use crate::check::rules::StoredRule;
use crate::codes::Code;
use crate::diagnostic::{Applicability, Diagnostic};
use crate::eval::{self, EvalRule};
use crate::model::Project;
use crate::scope::{Group, Memo, Outcome};

pub(super) fn lint_set(
    catalog: &Catalog,
    project: &Project,
    set: &RuleSet,
    memo: &mut Memo,
    out: &mut Vec<Diagnostic>,
) {
    let prepared = eval::order(catalog, set.stored);
    let mut position_of = vec![0; set.stored.len()];
    for (at, rule) in prepared.iter().enumerate() {
        position_of[rule.origin] = at;
    }
    let keys = memo.keys(&prepared);
    let groups = memo.groups(catalog, &prepared, &keys);
    legacy_actions(catalog, set, out);
    never_matches(catalog, set, &prepared, &position_of, (memo, &keys), out);
    redundant(set, &prepared, &position_of, &groups, out);
    order_dependent(set, &prepared, &groups, out);
    readvalue_without_describe(catalog, set, &prepared, out);
    broad_write(catalog, project, set, &prepared, &position_of, out);
}

fn legacy_actions(catalog: &Catalog, set: &RuleSet, out: &mut Vec<Diagnostic>) {
    for (index, (rule, spans)) in set.stored.iter().zip(set.items).enumerate() {
        let Some(subject) = catalog.subject(&rule.subject) else { continue };
        for action in &rule.actions {
            if let Some(why) = subject.deprecated_actions.get(action) {
                out.push(
                    Diagnostic::new(
                        Code::DeprecatedAction,
                        format!("deprecated action `{action}` on `{}`", rule.subject),
                        set.file,
                        spans.action(action),
                    )
                    .label(why.clone())
                    .help("Infisical still accepts it, but may drop it; plan to grant what replaces it"),
                );
            }
            let Some(replacements) = subject.legacy_actions.get(action) else { continue };
            let code = if action == "read" { Code::LegacyReadAction } else { Code::LegacyGrantPrivileges };
            let replacements: Vec<String> = replacements.clone();
            let mut diagnostic = Diagnostic::new(
                code,
                format!("legacy action `{action}` on `{}`", rule.subject),
                set.file,
                spans.action(action),
            )
            .label(format!("replaced by {}", list_names(&replacements)))
            .help(format!(
                "grant {} instead, each with the conditions it needs; Infisical keeps `{action}` for old clients only",
                list_names(&replacements)
            ));
            if action == "read"
                && rule.subject == "secrets"
                && rule.actions == ["read"]
                && spans.actions.len() == 1
                && read_replacement_is_equivalent(catalog, set.stored, index)
            {
                diagnostic = diagnostic
                    .note(
                        "replacing it changes no answer of the secret endpoints, which accept `read` or the new action",
                    )
                    .fix(
                        "grant `describeSecret` and `readValue`",
                        Applicability::Safe,
                        spans.head,
                        "[\"describeSecret\", \"readValue\"]",
                    );
            }
            out.push(diagnostic);
        }
    }
}

/// Whether replacing `read` by `describeSecret` and `readValue` in the rule at `index` leaves every answer
/// of the secret endpoints the same: they allow an action when `can(action) || can("read")`, with an object
/// and without one.
fn read_replacement_is_equivalent(catalog: &Catalog, stored: &[StoredRule], index: usize) -> bool {
    let mut replaced = stored.to_vec();
    replaced[index].actions = vec!["describeSecret".into(), "readValue".into()];
    let before = eval::order(catalog, stored);
    let after = eval::order(catalog, &replaced);
    let mut rules = before.clone();
    rules.extend(after.iter().cloned());
    let sources: Vec<usize> = (0..rules.len()).filter(|at| rules[*at].subject == "secrets").collect();
    let group = |range: std::ops::Range<usize>, action: &str| {
        let members = range
            .filter(|at| rules[*at].subject == "secrets" && rules[*at].actions.iter().any(|it| it == action))
            .collect();
        Group::build_over(catalog, &rules, "secrets", action, members, &sources)
    };
    let (old, new) = (0..before.len(), before.len()..rules.len());
    ["describeSecret", "readValue"].iter().all(|action| {
        let (old_action, old_read) = (group(old.clone(), action), group(old.clone(), "read"));
        let (new_action, new_read) = (group(new.clone(), action), group(new.clone(), "read"));
        let type_level = |a: &Group, b: &Group| a.allows_type_level() || b.allows_type_level();
        type_level(&old_action, &old_read) == type_level(&new_action, &new_read)
            && Group::any_allowed_beyond(&[&old_action, &old_read], &[&new_action, &new_read])
                == (Outcome::Same { covering: Vec::new() })
            && Group::any_allowed_beyond(&[&new_action, &new_read], &[&old_action, &old_read])
                == (Outcome::Same { covering: Vec::new() })
    })
}

/// Conditions that no object satisfies.
fn never_matches(
    catalog: &Catalog,
    set: &RuleSet,
    prepared: &[EvalRule],
    position_of: &[usize],
    (memo, keys): (&mut Memo, &[u32]),
    out: &mut Vec<Diagnostic>,
) {
    for (written, spans) in set.items.iter().enumerate() {
        let rule = &prepared[position_of[written]];
        let (Some(_), Some(action), Some(subject)) =
            (&rule.conditions, rule.actions.first(), catalog.subject(&rule.subject))
        else {
            continue;
        };
        let group = memo.group_of(catalog, prepared, keys, &rule.subject, action, vec![position_of[written]]);
        let Ok(Some(field)) = group.empty_field(0) else { continue };
        let is_path = matches!(subject.condition(&field).map(|it| it.kind), Some(ConditionKind::Path));
        let odd_path = |text: &str| !text.starts_with('/') || (text.len() > 1 && text.ends_with('/'));
        let reason = if !subject.fields.contains_key(&field) {
            format!("Infisical never sets `{field}` on `{}` objects", rule.subject)
        } else if is_path
            && rule
                .conditions
                .as_ref()
                .and_then(|it| it.get(&field))
                .is_some_and(|it| strings(it).iter().any(|it| odd_path(it)))
        {
            "Infisical's secret paths start with `/` and have no trailing slash".to_owned()
        } else {
            format!("no value satisfies every operator on `{field}`")
        };
        let span = spans.condition(&field);
        out.push(
            Diagnostic::new(Code::NeverMatches, format!("condition `{field}` never matches"), set.file, span)
                .label(reason)
                .help("the rule then only counts in checks without an object; fix the condition or remove the rule"),
        );
    }
}

/// Every string in a condition value.
fn strings(value: &serde_json::Value) -> Vec<&str> {
    match value {
        serde_json::Value::String(text) => vec![text.as_str()],
        serde_json::Value::Array(items) => items.iter().flat_map(strings).collect(),
        serde_json::Value::Object(map) => map.values().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

fn redundant(set: &RuleSet, prepared: &[EvalRule], position_of: &[usize], groups: &[Group], out: &mut Vec<Diagnostic>) {
    let group_of: HashMap<(&str, &str), usize> = groups
        .iter()
        .enumerate()
        .map(|(index, group)| ((group.subject.as_str(), group.action.as_str()), index))
        .collect();
    // Rules found redundant so far, per group: later verdicts hold with all of them removed together.
    let mut removed: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
    // From the last rule up, so of two equal rules the later one is reported.
    for written in (0..set.stored.len()).rev() {
        let at = position_of[written];
        let rule = &prepared[at];
        let memberships: Vec<(usize, usize)> = rule
            .actions
            .iter()
            .filter_map(|action| {
                let index = *group_of.get(&(rule.subject.as_str(), action.as_str()))?;
                Some((index, groups[index].members.iter().position(|it| *it == at)?))
            })
            .collect();
        let spans = &set.items[written];
        if rule.inverted {
            let mut covering = BTreeSet::new();
            let covered = memberships.iter().all(|&(index, position)| {
                let group = &groups[index];
                let others: Vec<usize> = (0..group.members.len())
                    .filter(|other| *other != position && group.is_inverted(*other) && !removed[index].contains(other))
                    .collect();
                let yes = group.covered_by(position, &others) == Ok(true);
                if yes {
                    for other in others {
                        if matches!(group.overlap(position, other), Ok(Some(_))) {
                            covering.insert(prepared[group.members[other]].origin);
                        }
                    }
                }
                yes
            });
            if covered && !memberships.is_empty() {
                memberships.iter().for_each(|&(index, position)| removed[index].push(position));
                let diagnostic = Diagnostic::new(
                    Code::RedundantRule,
                    format!("deny repeats other denies of {}", set.owner.describe()),
                    set.file,
                    spans.head,
                )
                .label("everything it denies is denied by another rule")
                .help("remove this rule, or change it if it was meant to deny something else");
                out.push(with_covering(diagnostic, set, &covering, "denies it too"));
            }
            continue;
        }
        let written_actions: Vec<&String> = {
            let mut seen = Vec::new();
            for action in &set.stored[written].actions {
                if !seen.contains(&action) {
                    seen.push(action);
                }
            }
            seen
        };
        let mut redundant_actions = Vec::new();
        let mut covering = BTreeSet::new();
        for action in &written_actions {
            let Some(&(index, position)) = memberships.iter().find(|(index, _)| groups[*index].action == **action)
            else {
                continue;
            };
            let mut trial = removed[index].clone();
            trial.push(position);
            if let Outcome::Same { covering: found } = groups[index].removal(&trial) {
                redundant_actions.push((action.to_string(), index, position));
                covering.extend(found.into_iter().map(|it| prepared[it].origin));
            }
        }
        if redundant_actions.is_empty() {
            continue;
        }
        for (_, index, position) in &redundant_actions {
            removed[*index].push(*position);
        }
        let diagnostic = if redundant_actions.len() == written_actions.len() {
            Diagnostic::new(
                Code::RedundantRule,
                format!("rule grants nothing beyond the other rules of {}", set.owner.describe()),
                set.file,
                spans.head,
            )
            .label("everything it allows is already allowed")
            .help("remove this rule; if it was meant to grant more, the covering rules are broader than intended")
        } else {
            let names: Vec<String> = redundant_actions.iter().map(|(name, ..)| name.clone()).collect();
            let first = spans.action(&names[0]);
            let mut diagnostic = Diagnostic::new(
                Code::RedundantRule,
                format!(
                    "{} in this rule {} nothing beyond the other rules of {}",
                    list_names(&names),
                    if names.len() == 1 { "grants" } else { "grant" },
                    set.owner.describe()
                ),
                set.file,
                first,
            )
            .label("already allowed by other rules");
            for name in &names[1..] {
                diagnostic = diagnostic.secondary(set.file, spans.action(name), "already allowed too");
            }
            diagnostic.help("remove these actions from the rule")
        };
        out.push(with_covering(diagnostic, set, &covering, "allows it too"));
    }
}

fn with_covering(mut diagnostic: Diagnostic, set: &RuleSet, covering: &BTreeSet<usize>, label: &str) -> Diagnostic {
    for origin in covering.iter().take(3) {
        let label =
            if set.stored[*origin].is_inverted() && label == "allows it too" { "denies it anyway" } else { label };
        diagnostic = diagnostic.secondary(set.file, set.items[*origin].head, label);
    }
    if covering.len() > 3 {
        diagnostic = diagnostic.note(format!("{} more rules cover it", covering.len() - 3));
    }
    diagnostic
}

/// An allow written after a deny it overlaps.
fn order_dependent(set: &RuleSet, prepared: &[EvalRule], groups: &[Group], out: &mut Vec<Diagnostic>) {
    let mut written_order = prepared.to_vec();
    written_order.sort_by_key(|rule| rule.origin);
    let mut reported = BTreeSet::new();
    for group in groups {
        for deny in (0..group.members.len()).filter(|it| group.is_inverted(*it)) {
            for allow in (0..group.members.len()).filter(|it| !group.is_inverted(*it)) {
                let (deny_origin, allow_origin) =
                    (prepared[group.members[deny]].origin, prepared[group.members[allow]].origin);
                if allow_origin < deny_origin || reported.contains(&(deny_origin, allow_origin)) {
                    continue;
                }
                let Ok(Some(witness)) = group.overlap(allow, deny) else { continue };
                let object = witness.object();
                let current = eval::can(prepared, &group.action, &group.subject, object.as_ref());
                let as_written = eval::can(&written_order, &group.action, &group.subject, object.as_ref());
                if !(matches!(current, Ok(it) if !it.allowed) && matches!(as_written, Ok(it) if it.allowed)) {
                    continue;
                }
                reported.insert((deny_origin, allow_origin));
                out.push(
                    Diagnostic::new(
                        Code::OrderDependentDeny,
                        "allow after an overlapping deny: the outcome depends on rule order",
                        set.file,
                        set.items[allow_origin].head,
                    )
                    .label("this allow comes after the deny")
                    .secondary(set.file, set.items[deny_origin].head, "the deny it overlaps")
                    .note(format!(
                        "both match a request for `{}` with {witness}: the current Infisical backend denies it (denies apply last); evaluated in written order, the allow wins",
                        group.action
                    ))
                    .help("narrow the allow so it excludes what the deny forbids, or move the deny after it"),
                );
            }
        }
    }
}

/// In a role: `readValue` where the role does not grant `describeSecret`. (A privilege adds to roles that
/// may grant it, so privileges are not judged alone.)
fn readvalue_without_describe(catalog: &Catalog, set: &RuleSet, prepared: &[EvalRule], out: &mut Vec<Diagnostic>) {
    if !matches!(set.owner, Owner::Role(_)) {
        return;
    }
    let grants_read_value = prepared
        .iter()
        .any(|rule| !rule.inverted && rule.subject == "secrets" && rule.actions.iter().any(|it| it == "readValue"));
    if !grants_read_value {
        return;
    }
    let family = Group::family(catalog, prepared, "secrets", &["readValue", "describeSecret", "read"]);
    let Outcome::Differs { witness, .. } = family[0].allowed_beyond(&[&family[1], &family[2]]) else { return };
    let object = witness.object();
    let answer = |action: &str| eval::can(prepared, action, "secrets", object.as_ref());
    let (Ok(value), Ok(describe), Ok(read)) = (answer("readValue"), answer("describeSecret"), answer("read")) else {
        return;
    };
    let Some(deciding) = value.deciding.filter(|_| value.allowed && !describe.allowed && !read.allowed) else { return };
    let origin = prepared[deciding].origin;
    out.push(
        Diagnostic::new(
            Code::ReadvalueWithoutDescribe,
            format!("{} grants `readValue` where it does not grant `describeSecret`", set.owner.describe()),
            set.file,
            set.items[origin].action("readValue"),
        )
        .label(format!("allows `readValue` on {witness}"))
        .help("grant `describeSecret` on the same secrets: Infisical's documentation requires it to read values"),
    );
}

/// A permanent allow of create, edit or delete on every secret of a sensitive environment.
fn broad_write(
    catalog: &Catalog,
    project: &Project,
    set: &RuleSet,
    prepared: &[EvalRule],
    position_of: &[usize],
    out: &mut Vec<Diagnostic>,
) {
    if matches!(set.owner, Owner::Privilege { permanent: false, .. }) {
        return;
    }
    let sensitive: Vec<&str> = project
        .declarations
        .iter()
        .flat_map(|it| it.sensitive_environments.iter().map(|env| env.value.as_str()))
        .collect();
    if sensitive.is_empty() {
        return;
    }
    for (written, stored) in set.stored.iter().enumerate() {
        let rule = &prepared[position_of[written]];
        let writes: Vec<String> =
            stored.actions.iter().filter(|it| ["create", "edit", "delete"].contains(&it.as_str())).cloned().collect();
        if rule.inverted || rule.subject != "secrets" || writes.is_empty() {
            continue;
        }
        if rule.conditions.as_deref().into_iter().flatten().any(|(key, _)| key != "environment" && key != "secretPath")
        {
            continue;
        }
        let group = Group::build(catalog, prepared, "secrets", &writes[0], vec![position_of[written]]);
        if group.unknown().is_some() {
            continue;
        }
        if !group.accepts_every_value(0, "secretPath") {
            continue;
        }
        let environments: Vec<String> = sensitive
            .iter()
            .filter(|env| group.accepts(0, "environment", env).unwrap_or(true))
            .map(|env| env.to_string())
            .collect();
        if environments.is_empty() {
            continue;
        }
        let Some(span) = set.items.get(written).map(|it| it.head) else { continue };
        let grant = match &set.owner {
            Owner::Role(_) => format!("{} permanently allows", set.owner.describe()),
            Owner::Privilege { .. } => format!("permanent {} allows", set.owner.describe()),
        };
        out.push(
            Diagnostic::new(
                Code::BroadProductionWrite,
                format!("{grant} {} on every secret of {}", list_names(&writes), list_names(&environments)),
                set.file,
                span,
            )
            .label("all secret paths of a sensitive environment")
            .help("narrow `secretPath` to what the holders need, or grant writes as a temporary privilege"),
        );
    }
}
