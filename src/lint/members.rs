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
use crate::eval::EvalRule;
use crate::scope::{self, Memo, Outcome};
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
    let mut memo = Memo::default();
    for member in project.members() {
        let (grants, skipped) = access::active_grants(catalog, project, member, options.now_ms);
        expired(member, &skipped, out);
        let identity = access::identity_of(member);
        let Some(prepared) = Prepared::new(catalog, &grants, &identity, &mut memo) else { continue };
        coverage(catalog, member, &prepared, &mut memo, index, out);
        ineffective_denies(catalog, member, &prepared, &mut memo, index, &mut denies);
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

/// A member's rules as Infisical assembles them, prepared once for every question about the member.
struct Prepared<'g> {
    grants: &'g [Grant],
    rules: Vec<EvalRule>,
    /// Per prepared rule: its grant and its index in the grant.
    owner: Vec<(usize, usize)>,
    keys: Vec<u32>,
    groups: Vec<((String, String), Vec<usize>)>,
}

impl<'g> Prepared<'g> {
    fn new(catalog: &Catalog, grants: &'g [Grant], identity: &Identity, memo: &mut Memo) -> Option<Prepared<'g>> {
        let mut flat = Vec::new();
        let mut owner_of_flat = Vec::new();
        for (grant, item) in grants.iter().enumerate() {
            for (index, rule) in item.rules.iter().enumerate() {
                flat.push(rule.clone());
                owner_of_flat.push((grant, index));
            }
        }
        let rules = eval::prepare(catalog, &flat, identity).ok()?;
        let owner = rules.iter().map(|rule| owner_of_flat[rule.origin]).collect();
        let keys = rules.iter().map(|rule| memo.key(rule)).collect();
        let groups = scope::index(&rules)
            .into_iter()
            .map(|((subject, action), members)| ((subject.to_owned(), action.to_owned()), members))
            .collect();
        Some(Prepared { grants, rules, owner, keys, groups })
    }

    /// Whether taking rules of `target` (all of them, or only `only`) out of the rules of the grants in
    /// `chosen` changes no answer; the rules (grant, rule index) that answer instead.
    fn covered(
        &self,
        catalog: &Catalog,
        memo: &mut Memo,
        chosen: &[usize],
        target: usize,
        only: Option<usize>,
    ) -> Option<Vec<(usize, usize)>> {
        let mut covering = BTreeSet::new();
        for ((subject, action), members) in &self.groups {
            let members: Vec<usize> = members.iter().copied().filter(|at| chosen.contains(&self.owner[*at].0)).collect();
            let removed: Vec<usize> = (0..members.len())
                .filter(|position| {
                    let (grant, index) = self.owner[members[*position]];
                    grant == target && only.is_none_or(|it| it == index)
                })
                .collect();
            if removed.is_empty() {
                continue;
            }
            match memo.removal(catalog, &self.rules, &self.keys, (subject, action), members, removed) {
                Outcome::Same { covering: rules } => covering.extend(rules.into_iter().map(|rule| self.owner[rule])),
                Outcome::Differs { .. } | Outcome::Unknown(_) => return None,
            }
        }
        Some(covering.into_iter().collect())
    }
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
    prepared: &Prepared,
    memo: &mut Memo,
    index: &HashMap<(FileId, u32), &RuleSpans>,
    out: &mut Vec<Diagnostic>,
) {
    let grants = prepared.grants;
    for (target, grant) in grants.iter().enumerate() {
        let is_privilege = matches!(grant.source, Source::Privilege(_));
        if grant.rules.is_empty() || (!is_privilege && !grant.temporary) {
            continue;
        }
        let Some((file, span)) = grant_span(member, &grant.source, grant.temporary) else { continue };
        let permanent: Vec<usize> =
            (0..grants.len()).filter(|other| *other == target || !grants[*other].temporary).collect();
        if grant.temporary
            && let Some(covering) = prepared.covered(catalog, memo, &permanent, target, None)
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
        if let Some(covering) = prepared.covered(catalog, memo, &lasting, target, None) {
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
            let Some(covering) = prepared.covered(catalog, memo, &lasting, target, Some(rule)) else { continue };
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
    prepared: &Prepared,
    memo: &mut Memo,
    index: &HashMap<(FileId, u32), &RuleSpans>,
    denies: &mut BTreeMap<(FileId, u32), (bool, Vec<String>, Span)>,
) {
    if !prepared.rules.iter().any(|rule| rule.inverted) {
        return;
    }
    // Per deny (prepared index): whether every group it is in says it meets no allow.
    let mut verdicts: BTreeMap<usize, bool> = BTreeMap::new();
    for ((subject, action), members) in &prepared.groups {
        for position in (0..members.len()).filter(|it| prepared.rules[members[*it]].inverted) {
            let answer =
                memo.meets_allow(catalog, &prepared.rules, &prepared.keys, (subject, action), members.clone(), position);
            let entry = verdicts.entry(members[position]).or_insert(true);
            *entry &= matches!(answer, Outcome::Same { .. });
        }
    }
    for (at, ineffective) in verdicts {
        let (grant, rule) = prepared.owner[at];
        let Some(Some((file, item))) = prepared.grants[grant].rule_spans.get(rule) else { continue };
        let Some(spans) = index.get(&(*file, item.start)) else { continue };
        let entry = denies.entry((*file, item.start)).or_insert((true, Vec::new(), spans.head));
        entry.0 &= ineffective;
        if !entry.1.contains(&member.name.value) {
            entry.1.push(member.name.value.clone());
        }
    }
}
