//! Lints on a member's rules as Infisical assembles them: role assignments first, then additional
//! privileges, only the grants active now, temporary windows respected.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::{Options, PerThread, SpanIndex, list_names};
use crate::access::{self, Grant, Skipped, Source};
use crate::catalog::Catalog;
use crate::check::rules::StoredRule;
use crate::check::values::format_iso_datetime;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::eval::EvalRule;
use crate::eval::{self, Identity};
use crate::model::{Member, Project};
use crate::scope::{Memo, Outcome};
use crate::source::{FileId, Span};

pub(super) fn lint_members(
    catalog: &Catalog,
    project: &Project,
    options: &Options,
    index: &SpanIndex,
    memos: &PerThread<Memo>,
    out: &mut Vec<Diagnostic>,
) {
    // Members are judged in contiguous chunks on every thread (each thread keeping its memo and role lists
    // from chunk to chunk: answers depend on the question only), and the results joined in member order: the
    // same diagnostics, in the same order, as one thread would give.
    use rayon::prelude::*;
    let members: Vec<&Member> = project.members().collect();
    let roles = access::Roles::new(catalog, project);
    let shared: PerThread<Shared> = PerThread::new();
    let size = members.len().div_ceil(rayon::current_num_threads() * 4).max(1);
    let parts: Vec<(Vec<Diagnostic>, Denies)> = members
        .par_chunks(size)
        .map(|chunk| {
            memos.with(|memo| {
                shared.with(|shared| {
                    let mut out = Vec::new();
                    let mut denies = Denies::new();
                    for member in chunk {
                        let (grants, skipped) = roles.active_grants(member, options.now_ms);
                        expired(member, &skipped, &mut out);
                        let identity = access::identity_of(member);
                        let Some(prepared) = Prepared::new(catalog, &grants, &identity, shared, memo) else {
                            continue;
                        };
                        coverage(catalog, member, &prepared, memo, index, &mut out);
                        ineffective_denies(catalog, member, &prepared, memo, index, &mut denies);
                    }
                    (out, denies)
                })
            })
        })
        .collect();
    // Per deny rule (by place): whether it removed nothing for every member, and those members.
    let mut denies = Denies::new();
    for (found, part) in parts {
        out.extend(found);
        for (key, (ineffective, members, head)) in part {
            let entry = denies.entry(key).or_insert((true, Vec::new(), head));
            entry.0 &= ineffective;
            entry.1.extend(members);
        }
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

/// Per deny rule (by place): whether it removed nothing for the members judged, those members, and where
/// to point.
type Denies = BTreeMap<(FileId, u32), (bool, Vec<String>, Span)>;

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

/// One grant's rules in Infisical's evaluation order (legacy deny expansion, denies last), each with its
/// [`Memo::key`] and the [`Memo::group`] of each of its actions. A role's list is made once and shared by
/// every member that holds the role.
struct Ordered {
    rules: Vec<EvalRule>,
    keys: Vec<u32>,
    groups: Vec<Vec<u32>>,
    templated: bool,
}

impl Ordered {
    fn new(catalog: &Catalog, stored: &[StoredRule], memo: &mut Memo) -> Ordered {
        let rules = eval::order(catalog, stored);
        Ordered::of(rules, memo)
    }

    fn of(rules: Vec<EvalRule>, memo: &mut Memo) -> Ordered {
        let keys = rules.iter().map(|rule| memo.key(rule)).collect();
        let groups = rules
            .iter()
            .map(|rule| rule.actions.iter().map(|action| memo.group(&rule.subject, action)).collect())
            .collect();
        let templated = rules.iter().any(EvalRule::is_templated);
        Ordered { rules, keys, groups, templated }
    }
}

/// Grant lists shared between members: custom and predefined roles by slug.
#[derive(Default)]
struct Shared {
    roles: HashMap<(bool, String), Arc<Ordered>>,
}

impl Shared {
    fn ordered(&mut self, catalog: &Catalog, grant: &Grant, memo: &mut Memo) -> Arc<Ordered> {
        let key = match &grant.source {
            Source::Role(slug) => (false, slug.clone()),
            Source::PredefinedRole(slug) => (true, slug.clone()),
            Source::Privilege(_) => return Arc::new(Ordered::new(catalog, &grant.rules, memo)),
        };
        self.roles.entry(key).or_insert_with(|| Arc::new(Ordered::new(catalog, &grant.rules, memo))).clone()
    }
}

/// A member's rules as Infisical assembles them, prepared once for every question about the member.
struct Prepared<'g, 'p> {
    grants: &'g [Grant<'p>],
    lists: Vec<Arc<Ordered>>,
    /// The member's rules in evaluation order: (list, index in the list).
    entries: Vec<(usize, usize)>,
    /// Per entry: its grant and its index in the grant.
    owner: Vec<(usize, usize)>,
    /// Per group: the entries in it (a range of `grouped`).
    groups: Vec<(u32, std::ops::Range<usize>)>,
    /// The entries of every group, group by group, each group's in order.
    grouped: Vec<usize>,
}

impl<'g, 'p> Prepared<'g, 'p> {
    fn new(
        catalog: &Catalog,
        grants: &'g [Grant<'p>],
        identity: &Identity,
        shared: &mut Shared,
        memo: &mut Memo,
    ) -> Option<Prepared<'g, 'p>> {
        let lists: Vec<Arc<Ordered>> = grants.iter().map(|grant| shared.ordered(catalog, grant, memo)).collect();
        let (lists, entries, owner) = if lists.iter().any(|list| list.templated) {
            // Templates are rendered over the member's whole list, as Infisical does.
            let (rules, owner_of_flat) = access::prepare_grants(catalog, grants, identity).ok()?;
            let owner: Vec<(usize, usize)> = rules.iter().map(|rule| owner_of_flat[rule.origin]).collect();
            let entries = (0..rules.len()).map(|at| (0, at)).collect();
            (vec![Arc::new(Ordered::of(rules, memo))], entries, owner)
        } else {
            // Each list has its allows before its denies; Infisical's stable sort over the whole list puts
            // every allow (grant by grant) before every deny.
            let mut entries = Vec::new();
            let mut owner = Vec::new();
            for denies in [false, true] {
                for (grant, list) in lists.iter().enumerate() {
                    for (index, rule) in list.rules.iter().enumerate().filter(|(_, rule)| rule.inverted == denies) {
                        entries.push((grant, index));
                        owner.push((grant, rule.origin));
                    }
                }
            }
            (lists, entries, owner)
        };
        // The entries of each group in order: counted out by group id (ids are small and dense), entries taken
        // in order.
        let mut starts: Vec<usize> = Vec::new();
        for &(list, index) in &entries {
            for &group in &lists[list].groups[index] {
                let group = group as usize;
                if starts.len() < group + 2 {
                    starts.resize(group + 2, 0);
                }
                starts[group + 1] += 1;
            }
        }
        for at in 1..starts.len() {
            starts[at] += starts[at - 1];
        }
        let mut grouped = vec![0; starts.last().copied().unwrap_or(0)];
        let mut fill = starts.clone();
        for (entry, &(list, index)) in entries.iter().enumerate() {
            for &group in &lists[list].groups[index] {
                grouped[fill[group as usize]] = entry;
                fill[group as usize] += 1;
            }
        }
        let groups: Vec<(u32, std::ops::Range<usize>)> = starts
            .windows(2)
            .enumerate()
            .filter(|(_, range)| range[0] < range[1])
            .map(|(group, range)| (group as u32, range[0]..range[1]))
            .collect();
        Some(Prepared { grants, lists, entries, owner, groups, grouped })
    }

    /// Each group with its entries, in order.
    fn groups(&self) -> impl Iterator<Item = (u32, &[usize])> {
        self.groups.iter().map(|(group, entries)| (*group, &self.grouped[entries.clone()]))
    }

    fn rule(&self, entry: usize) -> &EvalRule {
        let (list, index) = self.entries[entry];
        &self.lists[list].rules[index]
    }

    fn key(&self, entry: usize) -> u32 {
        let (list, index) = self.entries[entry];
        self.lists[list].keys[index]
    }

    /// Whether a grant of `chosen` other than `target` has a rule in a group of rule `rule` of `target`.
    fn shares_group(&self, chosen: &[usize], target: usize, rule: usize) -> bool {
        self.groups().any(|(_, entries)| {
            entries.iter().any(|entry| self.owner[*entry] == (target, rule))
                && entries.iter().any(|entry| {
                    let grant = self.owner[*entry].0;
                    grant != target && chosen.contains(&grant)
                })
        })
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
        let is_removed = |entry: usize| {
            let (grant, index) = self.owner[entry];
            grant == target && only.is_none_or(|it| it == index)
        };
        // Any group that answers differently decides: the groups where the removed rules are alone (or
        // with few others) are asked first, being the cheapest and the likeliest to differ.
        let mut asked: Vec<(usize, u32, Vec<usize>)> = Vec::new();
        for (group, entries) in self.groups() {
            if !entries.iter().any(|entry| is_removed(*entry)) {
                continue;
            }
            let entries: Vec<usize> =
                entries.iter().copied().filter(|entry| chosen.contains(&self.owner[*entry].0)).collect();
            let others = entries.iter().filter(|entry| !is_removed(**entry)).count();
            asked.push((others, group, entries));
        }
        asked.sort_by_key(|(others, group, _)| (*others, *group));
        let mut covering = BTreeSet::new();
        for (_, group, entries) in asked {
            let removed: Vec<usize> = (0..entries.len()).filter(|position| is_removed(entries[*position])).collect();
            let rules: Vec<&EvalRule> = entries.iter().map(|entry| self.rule(*entry)).collect();
            let keys = entries.iter().map(|entry| self.key(*entry)).collect();
            match memo.removal(catalog, group, &rules, keys, removed) {
                Outcome::Same { covering: positions } => {
                    covering.extend(positions.into_iter().map(|position| self.owner[entries[position]]));
                }
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
    index: &SpanIndex,
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
    index: &SpanIndex,
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
            // Only other grants count (below): where none shares a group with the rule, none can cover it.
            if !prepared.shares_group(&lasting, target, rule) {
                continue;
            }
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
    index: &SpanIndex,
    denies: &mut Denies,
) {
    // Per deny (entry): whether it meets no allow in any group it is in. A deny meets the allows of a group
    // exactly when it meets one of them: asked pair by pair.
    let mut verdicts: BTreeMap<usize, bool> = BTreeMap::new();
    for (group, entries) in prepared.groups() {
        let (inverted, allows): (Vec<usize>, Vec<usize>) =
            entries.iter().partition(|entry| prepared.rule(**entry).inverted);
        for deny in inverted {
            let verdict = verdicts.entry(deny).or_insert(true);
            if !*verdict {
                continue;
            }
            let deny_rule = (prepared.rule(deny), prepared.key(deny));
            *verdict = !allows
                .iter()
                .any(|allow| memo.deny_meets(catalog, group, deny_rule, (prepared.rule(*allow), prepared.key(*allow))));
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
