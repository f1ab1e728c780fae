//! Lints on a member's rules as Infisical assembles them: role assignments first, then additional
//! privileges, only the grants active now, temporary windows respected.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{Options, RuleSpans, list_names};
use crate::access::{self, Grant, Skipped, Source};
use crate::catalog::Catalog;
use crate::check::values::format_iso_datetime;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::eval::{self, Identity};
use crate::model::{Member, Project};
use crate::scope::{self, Outcome};
use crate::source::{FileId, Span};

pub(super) fn lint_members(
    catalog: &Catalog,
    project: &Project,
    options: &Options,
    index: &HashMap<(FileId, u32), &RuleSpans>,
    out: &mut Vec<Diagnostic>,
) {
    // Per deny rule (by place): whether it removed nothing for every member so far, and those members.
    let mut denies: BTreeMap<(FileId, u32), (bool, Vec<String>, Span)> = BTreeMap::new();
    for member in project.members() {
        let (grants, skipped) = access::active_grants(catalog, project, member, options.now_ms);
        expired(member, &skipped, out);
        let identity = access::identity_of(member);
        coverage(catalog, member, &grants, &identity, index, out);
        ineffective_denies(catalog, member, &grants, &identity, index, &mut denies);
    }
    for ((file, _), (ineffective, members, head)) in denies {
        if !ineffective || members.is_empty() {
            continue;
        }
        out.push(
            Diagnostic::new(
                Code::IneffectiveDeny,
                format!(
                    "deny removes nothing from what {} {} granted",
                    list_names(&members),
                    if members.len() == 1 { "is" } else { "are" }
                ),
                file,
                head,
            )
            .label("no allow of its holders matches what it denies")
            .help("remove the deny, or check its conditions: it may not say what was meant"),
        );
    }
}

/// The place that names a grant in the member's declaration.
fn grant_span(member: &Member, source: &Source, temporary: bool) -> Option<(FileId, Span)> {
    match source {
        Source::Privilege(slug) => {
            member.privileges.iter().find(|it| &it.slug.value == slug).map(|it| (it.slug.file, it.slug.span))
        }
        Source::Role(slug) | Source::PredefinedRole(slug) => member
            .roles
            .iter()
            .find(|it| &it.role.value == slug && it.temporary.is_some() == temporary)
            .map(|it| (it.role.file, it.role.span)),
    }
}

fn expired(member: &Member, skipped: &[Skipped], out: &mut Vec<Diagnostic>) {
    for skip in skipped {
        let Skipped::Expired { source, ended_at } = skip else { continue };
        let Some((file, span)) = grant_span(member, source, true) else { continue };
        out.push(
            Diagnostic::new(
                Code::ExpiredPrivilege,
                format!(
                    "temporary {} of `{}` ended at {}",
                    source.describe(),
                    member.name.value,
                    format_iso_datetime(*ended_at)
                ),
                file,
                span,
            )
            .label("no longer active")
            .help("Infisical ignores expired grants; remove it, or give it a new `start`"),
        );
    }
}

/// Whether taking rules of `target` (all of them, or only `only`) out of the rules of `chosen` (indices
/// into `grants`, in order) changes no answer; the rules (grant, rule index) that answer instead.
fn covered(
    catalog: &Catalog,
    grants: &[Grant],
    chosen: &[usize],
    target: usize,
    only: Option<usize>,
    identity: &Identity,
) -> Option<Vec<(usize, usize)>> {
    let mut flat = Vec::new();
    let mut owner = Vec::new();
    for &grant in chosen {
        for (index, rule) in grants[grant].rules.iter().enumerate() {
            flat.push(rule.clone());
            owner.push((grant, index));
        }
    }
    let prepared = eval::prepare(catalog, &flat, identity).ok()?;
    let removed = |at: usize| {
        let (grant, index) = owner[prepared[at].origin];
        grant == target && only.is_none_or(|it| it == index)
    };
    let mut covering = BTreeSet::new();
    for group in scope::groups(catalog, &prepared) {
        let positions: Vec<usize> =
            (0..group.members.len()).filter(|position| removed(group.members[*position])).collect();
        if positions.is_empty() {
            continue;
        }
        match group.removal(&positions) {
            Outcome::Same { covering: rules } => {
                covering.extend(rules.into_iter().map(|rule| owner[prepared[rule].origin]));
            }
            Outcome::Differs { .. } | Outcome::Unknown(_) => return None,
        }
    }
    Some(covering.into_iter().collect())
}

/// Labels naming the covering grants, and pointing at their rules where they are written in the repository.
fn covering_labels(
    mut diagnostic: Diagnostic,
    grants: &[Grant],
    covering: &[(usize, usize)],
    index: &HashMap<(FileId, u32), &RuleSpans>,
) -> Diagnostic {
    let mut names: Vec<String> = Vec::new();
    for (grant, _) in covering {
        let name = grants[*grant].source.describe();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    diagnostic = diagnostic.label(if names.is_empty() {
        "covered by other grants".to_owned()
    } else {
        format!("covered by {}", names.join(", "))
    });
    for (grant, rule) in covering.iter().take(3) {
        if let Some(Some((file, item))) = grants[*grant].rule_spans.get(*rule) {
            let head = index.get(&(*file, item.start)).map_or(*item, |it| it.head);
            diagnostic = diagnostic.secondary(*file, head, format!("{} grants it", grants[*grant].source.describe()));
        }
    }
    diagnostic
}

fn coverage(
    catalog: &Catalog,
    member: &Member,
    grants: &[Grant],
    identity: &Identity,
    index: &HashMap<(FileId, u32), &RuleSpans>,
    out: &mut Vec<Diagnostic>,
) {
    for (target, grant) in grants.iter().enumerate() {
        let is_privilege = matches!(grant.source, Source::Privilege(_));
        if grant.rules.is_empty() || (!is_privilege && !grant.temporary) {
            continue;
        }
        let Some((file, span)) = grant_span(member, &grant.source, grant.temporary) else { continue };
        let permanent: Vec<usize> =
            (0..grants.len()).filter(|other| *other == target || !grants[*other].temporary).collect();
        if grant.temporary
            && let Some(covering) = covered(catalog, grants, &permanent, target, None, identity)
        {
            let diagnostic = Diagnostic::new(
                Code::TemporaryCoveredByPermanent,
                format!(
                    "temporary {} grants `{}` nothing beyond its permanent grants",
                    grant.source.describe(),
                    member.name.value
                ),
                file,
                span,
            )
            .help("the temporary grant changes nothing; if it should, the permanent grants are broader than meant");
            out.push(covering_labels(diagnostic, grants, &covering, index));
            continue;
        }
        if !is_privilege {
            continue;
        }
        // Grants that last at least as long as this one.
        let lasting: Vec<usize> = (0..grants.len())
            .filter(|other| {
                *other == target
                    || match (grant.ends_at, grants[*other].ends_at) {
                        (_, None) => true,
                        (Some(end), Some(other_end)) => other_end >= end,
                        (None, Some(_)) => false,
                    }
            })
            .collect();
        if let Some(covering) = covered(catalog, grants, &lasting, target, None, identity) {
            let diagnostic = Diagnostic::new(
                Code::RedundantPrivilege,
                format!("{} grants `{}` nothing it does not already have", grant.source.describe(), member.name.value),
                file,
                span,
            )
            .help("Infisical answers every request the same without it; remove the privilege");
            out.push(covering_labels(diagnostic, grants, &covering, index));
            continue;
        }
        // Not redundant as a whole: perhaps some of its rules are.
        if grant.rules.len() < 2 {
            continue;
        }
        for rule in 0..grant.rules.len() {
            let Some(Some((rule_file, item))) = grant.rule_spans.get(rule) else { continue };
            let Some(covering) = covered(catalog, grants, &lasting, target, Some(rule), identity) else { continue };
            // Only other grants count: a rule its own privilege covers is `redundant-rule`.
            if covering.iter().all(|(other, _)| *other == target) {
                continue;
            }
            let head = index.get(&(*rule_file, item.start)).map_or(*item, |it| it.head);
            let diagnostic = Diagnostic::new(
                Code::RedundantPrivilege,
                format!(
                    "this rule of {} grants `{}` nothing it does not already have",
                    grant.source.describe(),
                    member.name.value
                ),
                *rule_file,
                head,
            )
            .help("Infisical answers every request the same without it; remove the rule");
            out.push(covering_labels(diagnostic, grants, &covering, index));
        }
    }
}

fn ineffective_denies(
    catalog: &Catalog,
    member: &Member,
    grants: &[Grant],
    identity: &Identity,
    index: &HashMap<(FileId, u32), &RuleSpans>,
    denies: &mut BTreeMap<(FileId, u32), (bool, Vec<String>, Span)>,
) {
    let mut flat = Vec::new();
    let mut places = Vec::new();
    for grant in grants {
        for (rule, place) in grant.rules.iter().zip(&grant.rule_spans) {
            flat.push(rule.clone());
            places.push(*place);
        }
    }
    let Ok(prepared) = eval::prepare(catalog, &flat, identity) else { return };
    if !prepared.iter().any(|rule| rule.inverted) {
        return;
    }
    let groups = scope::groups(catalog, &prepared);
    // Per deny (prepared index): whether every group it is in says it meets no allow.
    let mut verdicts: BTreeMap<usize, bool> = BTreeMap::new();
    for group in &groups {
        for position in (0..group.members.len()).filter(|it| group.is_inverted(*it)) {
            let ineffective = matches!(group.meets_allow(position), Outcome::Same { .. });
            let entry = verdicts.entry(group.members[position]).or_insert(true);
            *entry &= ineffective;
        }
    }
    for (at, ineffective) in verdicts {
        let Some((file, item)) = places[prepared[at].origin] else { continue };
        let Some(spans) = index.get(&(file, item.start)) else { continue };
        let entry = denies.entry((file, item.start)).or_insert((true, Vec::new(), spans.head));
        entry.0 &= ineffective;
        if !entry.1.contains(&member.name.value) {
            entry.1.push(member.name.value.clone());
        }
    }
}
