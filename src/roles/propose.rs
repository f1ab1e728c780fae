//! Role proposals for a policy repository: permanent additional privileges granted again and again become
//! custom roles, and the proposal is proven to keep every member's effective access identical.
//!
//! A *permission* here is one action of one rule, with the rule's conditions in canonical form
//! ([`crate::deploy::canonical`]: a plain value equals its `$eq`, `$in` is a set, keys are sorted), so
//! rules written differently but meaning the same count as one. Infisical's decision for a member depends
//! only on the set of its active rules (some allow matches and no deny matches; the legacy deny expansion
//! is per rule and survives splitting rules by action), so moving permissions from privileges into roles
//! keeps access identical; each proposal is nevertheless checked with the scope procedure before it is
//! shown. Only permanent privileges are moved: temporary ones keep their windows.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::mining::{self, Limits};
use crate::catalog::Catalog;
use crate::check::rules::StoredRule;
use crate::check::values::slugify;
use crate::deploy::canonical;
use crate::deploy::desired::wire_rule;
use crate::eval::Identity;
use crate::lang::FxBuild;
use crate::model::{Member, Project};
use crate::source::{FileId, Span};

#[derive(Clone, Debug)]
pub struct Options {
    /// The fewest members a proposed role must serve.
    pub min_members: usize,
    /// Use an existing custom role whose rules mean the same as a proposed one.
    pub reuse: bool,
    pub limits: Limits,
}

impl Default for Options {
    fn default() -> Options {
        Options { min_members: 2, reuse: true, limits: Limits::default() }
    }
}

/// One proposed role.
#[derive(Clone, Debug, Serialize)]
pub struct ProposedRole {
    pub slug: String,
    pub name: String,
    /// An existing custom role that already means exactly this.
    pub existing: bool,
    /// The rules, in the API's shape.
    pub rules: Vec<Value>,
    /// The members it replaces privileges for.
    pub members: Vec<String>,
}

/// What changes for one member.
#[derive(Clone, Debug, Serialize)]
pub struct Rewrite {
    pub member: String,
    /// Roles the member gets.
    pub add_roles: Vec<String>,
    /// Privileges that disappear (every permission now comes from roles).
    pub remove: Vec<String>,
    /// Privileges that keep some rules: the slug and the rules left (API shape).
    pub shrink: Vec<(String, Vec<Value>)>,
    #[serde(skip)]
    pub place: (FileId, Span),
}

/// The whole proposal.
#[derive(Clone, Debug, Serialize)]
pub struct Proposal {
    pub roles: Vec<ProposedRole>,
    pub rewrites: Vec<Rewrite>,
    /// Members whose access was compared before and after, and what was found.
    pub verified_members: usize,
    pub differences: Vec<String>,
    /// Whether the role count is the proven minimum for the privileges considered.
    pub optimal: bool,
}

/// A permission's canonical key and its rule (one action). Beyond the canonical form, a one-element `$in`
/// on a string field is its `$eq` (the same query; not on tag lists, where the two differ).
fn atoms(catalog: &Catalog, rule: &StoredRule) -> Vec<(String, StoredRule)> {
    atom_keys(catalog, rule)
        .into_iter()
        .zip(&rule.actions)
        .map(|(key, action)| (key, StoredRule { actions: vec![action.clone()], ..rule.clone() }))
        .collect()
}

/// The keys of [`atoms`], one per action, without the rules.
fn atom_keys(catalog: &Catalog, rule: &StoredRule) -> Vec<String> {
    let subject = catalog.subject(&rule.subject);
    // Canonical once; then each action in turn.
    let mut key = canonical::permissions(&[wire_rule(rule)]);
    if let Some(Value::Object(conditions)) = key.pointer_mut("/0/conditions") {
        for (field, operators) in conditions.iter_mut() {
            let tags = subject
                .and_then(|it| it.condition(field))
                .is_some_and(|it| it.kind == crate::catalog::ConditionKind::Tags);
            if let Some(Value::Array(items)) =
                operators.get("$in").filter(|_| !tags && operators.as_object().is_some_and(|it| it.len() == 1))
                && items.len() == 1
            {
                *operators = json!({ "$eq": items[0] });
            }
        }
    }
    rule.actions
        .iter()
        .map(|action| {
            if let Some(slot) = key.pointer_mut("/0/action") {
                *slot = json!([action]);
            }
            key.to_string()
        })
        .collect()
}

/// The permanent privileges of a member whose rules Infisical would accept.
fn permanent(member: &Member) -> impl Iterator<Item = (&str, &[StoredRule])> {
    member.privileges.iter().filter(|it| it.temporary.is_none()).filter_map(|it| {
        let stored = it.permissions.as_ref()?.stored.as_ref()?;
        Some((it.slug.value.as_str(), stored.as_slice()))
    })
}

/// Every custom role's permission keys.
fn role_keys(catalog: &Catalog, project: &Project) -> Vec<(String, BTreeSet<String>)> {
    project
        .roles
        .iter()
        .filter_map(|role| {
            let stored = role.permissions.as_ref()?.stored.as_ref()?;
            Some((role.slug.value.clone(), stored.iter().flat_map(|rule| atom_keys(catalog, rule)).collect()))
        })
        .collect()
}

/// A name from what the rules have in common: environment, first path segment, subject, and whether they
/// read or write (`prod-services-readers`).
pub fn name_for(rules: &[StoredRule]) -> String {
    let common = |values: Vec<Option<String>>| -> Option<String> {
        let first = values.first()?.clone()?;
        values.iter().all(|it| it.as_deref() == Some(first.as_str())).then_some(first)
    };
    let single = |rule: &StoredRule, key: &str| -> Option<String> {
        match rule.conditions.as_ref()?.get(key)? {
            Value::String(text) => Some(text.clone()),
            Value::Object(operators) => match operators.iter().next()? {
                (op, Value::String(text)) if op == "$eq" || op == "$glob" => Some(text.clone()),
                (op, Value::Array(items)) if op == "$in" && items.len() == 1 => items[0].as_str().map(str::to_owned),
                _ => None,
            },
            _ => None,
        }
    };
    let environment = common(rules.iter().map(|it| single(it, "environment")).collect());
    let segment = common(
        rules
            .iter()
            .map(|it| {
                let path = single(it, "secretPath")?;
                let first = path.trim_start_matches('/').split('/').next()?.to_owned();
                (!first.is_empty() && first.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                    .then_some(first)
            })
            .collect(),
    );
    let subject = common(rules.iter().map(|it| Some(it.subject.clone())).collect()).filter(|it| it != "secrets");
    const READS: &[&str] = &["read", "describeSecret", "readValue", "lease", "list"];
    let allows: Vec<&StoredRule> = rules.iter().filter(|it| !it.is_inverted()).collect();
    let reads = allows.iter().all(|it| it.actions.iter().all(|a| READS.contains(&a.as_str())));
    let writes = allows.iter().all(|it| it.actions.iter().all(|a| !READS.contains(&a.as_str())));
    let verb = match (allows.is_empty(), reads, writes) {
        (true, ..) => "restricted",
        (_, true, _) => "readers",
        (_, _, true) => "writers",
        _ => "editors",
    };
    let parts: Vec<String> = [environment, segment, subject, Some(verb.to_owned())].into_iter().flatten().collect();
    let slug = slugify(&parts.join("-"));
    slug.chars().take(56).collect::<String>().trim_end_matches('-').to_owned()
}

/// Rules (API shape) from permissions: consecutive permissions that differ only in their action become one
/// rule again.
fn regroup(permissions: &[StoredRule]) -> Vec<StoredRule> {
    let mut out: Vec<StoredRule> = Vec::new();
    for permission in permissions {
        match out.iter_mut().find(|it| {
            it.subject == permission.subject
                && it.inverted == permission.inverted
                && it.conditions == permission.conditions
        }) {
            Some(rule) => {
                for action in &permission.actions {
                    if !rule.actions.contains(action) {
                        rule.actions.push(action.clone());
                    }
                }
            }
            None => out.push(permission.clone()),
        }
    }
    out
}

/// Proposes roles for `project`.
pub fn propose(catalog: &Catalog, project: &Project, options: &Options) -> Proposal {
    // The matrix: members with permanent privileges, over permission keys.
    let mut keys: Vec<String> = Vec::new();
    let mut key_index: HashMap<String, usize> = HashMap::new();
    let mut rule_of_key: Vec<StoredRule> = Vec::new();
    let mut members: Vec<&Member> = Vec::new();
    let mut rows: Vec<Vec<usize>> = Vec::new();
    for member in project.members() {
        let mut row = BTreeSet::new();
        for (_, rules) in permanent(member) {
            for (key, rule) in rules.iter().flat_map(|rule| atoms(catalog, rule)) {
                let next = keys.len();
                let at = *key_index.entry(key.clone()).or_insert_with(|| {
                    keys.push(key);
                    rule_of_key.push(rule);
                    next
                });
                row.insert(at);
            }
        }
        if !row.is_empty() {
            members.push(member);
            rows.push(row.into_iter().collect());
        }
    }
    // Existing custom roles first: a member may take one when every permission of the role is already
    // the member's (through its privileges or the roles it holds), so it gains nothing; the privileges
    // then shrink by what the role covers. The rest is mined.
    let existing = role_keys(catalog, project);
    let mut reused_by: Vec<Vec<usize>> = vec![Vec::new(); members.len()];
    if options.reuse {
        for (u, member) in members.iter().enumerate() {
            let held_roles: Vec<&str> =
                member.roles.iter().filter(|it| it.temporary.is_none()).map(|it| it.role.value.as_str()).collect();
            let held: BTreeSet<String> = held_roles
                .iter()
                .flat_map(|slug| crate::access::role_rules(catalog, project, slug))
                .flat_map(|rule| atoms(catalog, &rule))
                .map(|(key, _)| key)
                .collect();
            let mut remaining: BTreeSet<usize> = rows[u].iter().copied().collect();
            loop {
                let mine = |at: &usize| keys[*at].as_str();
                let best = existing
                    .iter()
                    .enumerate()
                    .filter(|(e, (slug, set))| {
                        !reused_by[u].contains(e)
                            && !held_roles.contains(&slug.as_str())
                            && !set.is_empty()
                            && set.iter().all(|key| held.contains(key) || rows[u].iter().any(|at| mine(at) == key))
                    })
                    .map(|(e, (_, set))| (e, remaining.iter().filter(|at| set.contains(mine(at))).count()))
                    .filter(|(_, overlap)| *overlap > 0)
                    .max_by_key(|(e, overlap)| (*overlap, std::cmp::Reverse(*e)));
                let Some((e, _)) = best else { break };
                reused_by[u].push(e);
                remaining.retain(|at| !existing[e].1.contains(mine(at)));
            }
            rows[u] = remaining.into_iter().collect();
        }
    }
    let solution = mining::mine(&rows, keys.len(), &options.limits);
    // One universe per field for every comparison of the proof.
    crate::scope::reset();
    let every_rule = project
        .roles
        .iter()
        .filter_map(|it| it.permissions.as_ref()?.stored.as_ref())
        .chain(
            project
                .members()
                .flat_map(|m| m.privileges.iter().filter_map(|it| it.permissions.as_ref()?.stored.as_ref())),
        )
        .flatten()
        .map(|rule| (rule.subject.as_str(), rule.conditions.as_deref()));
    crate::scope::seed(catalog, every_rule);

    // Keep the roles that serve enough members.
    let mut taken: BTreeSet<String> = project.roles.iter().map(|it| it.slug.value.clone()).collect();
    taken.extend(catalog.predefined_roles().iter().map(|it| it.slug.clone()));
    let mut roles = Vec::new();
    // For each proposed role, the mined role it is; and the way back.
    let mut kept: Vec<usize> = Vec::new();
    let mut kept_index: HashMap<usize, usize> = HashMap::new();
    // A role may go to every member whose permissions include it (it grants nothing more), not only to
    // those the minimum cover gave it to; each member then takes, largest first, the fitting roles that
    // add something.
    let fits = |at: usize, u: usize| solution.roles[at].iter().all(|p| rows[u].binary_search(p).is_ok());
    let usable: Vec<usize> = (0..solution.roles.len())
        .filter(|&at| (0..members.len()).filter(|&u| fits(at, u)).count() >= options.min_members.max(1))
        .collect();
    let given_of = |u: usize| -> Vec<usize> {
        let mut fitting: Vec<usize> = usable.iter().copied().filter(|&at| fits(at, u)).collect();
        fitting.sort_by_key(|&at| std::cmp::Reverse(solution.roles[at].len()));
        let mut covered: BTreeSet<usize> = BTreeSet::new();
        fitting.retain(|&at| {
            let adds = solution.roles[at].iter().any(|p| !covered.contains(p));
            covered.extend(solution.roles[at].iter().copied());
            adds
        });
        fitting
    };
    let assignment: Vec<Vec<usize>> = (0..members.len()).map(given_of).collect();
    for (at, permissions) in solution.roles.iter().enumerate() {
        let users: Vec<usize> = (0..members.len()).filter(|&u| assignment[u].contains(&at)).collect();
        if users.len() < options.min_members.max(1) {
            continue;
        }
        let key_set: BTreeSet<String> = permissions.iter().map(|&p| keys[p].clone()).collect();
        let rules: Vec<StoredRule> = regroup(&permissions.iter().map(|&p| rule_of_key[p].clone()).collect::<Vec<_>>());
        let reused = options.reuse.then(|| existing.iter().find(|(_, set)| *set == key_set)).flatten();
        let (slug, is_existing) = match reused {
            Some((slug, _)) => (slug.clone(), true),
            None => {
                let base = name_for(&rules);
                let mut slug = base.clone();
                let mut n = 2;
                while taken.contains(&slug) {
                    slug = format!("{base}-{n}");
                    n += 1;
                }
                taken.insert(slug.clone());
                (slug, false)
            }
        };
        let name = {
            let words = slug.replace('-', " ");
            let mut chars = words.chars();
            chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
        };
        kept_index.insert(at, roles.len());
        kept.push(at);
        roles.push(ProposedRole {
            slug,
            name,
            existing: is_existing,
            rules: rules.iter().map(wire_rule).collect(),
            members: users.iter().map(|&u| members[u].name.value.clone()).collect(),
        });
    }

    // The existing roles taken as they are.
    let mut reused_roles: Vec<(usize, usize)> = Vec::new(); // (existing index, proposed role index)
    for (u, list) in reused_by.iter().enumerate() {
        for &e in list {
            let at = match reused_roles.iter().find(|(it, _)| *it == e) {
                Some((_, at)) => *at,
                None => {
                    let slug = existing[e].0.clone();
                    let role = project.roles.iter().find(|it| it.slug.value == slug);
                    let rules: Vec<Value> = role
                        .and_then(|it| it.permissions.as_ref()?.stored.as_ref())
                        .map(|rules| rules.iter().map(wire_rule).collect())
                        .unwrap_or_default();
                    let name = role.and_then(|it| it.name.as_ref()).map_or_else(|| slug.clone(), |it| it.value.clone());
                    roles.push(ProposedRole { slug, name, existing: true, rules, members: Vec::new() });
                    reused_roles.push((e, roles.len() - 1));
                    roles.len() - 1
                }
            };
            roles[at].members.push(members[u].name.value.clone());
        }
    }

    // Rewrites, and the proof.
    let mut rewrites = Vec::new();
    let mut differences = Vec::new();
    let mut verified = 0;
    for (u, member) in members.iter().enumerate() {
        let mut given: Vec<usize> = assignment[u].iter().filter_map(|r| kept_index.get(r).copied()).collect();
        let mut moved: BTreeSet<&str> =
            given.iter().flat_map(|&r| solution.roles[kept[r]].iter()).map(|&p| keys[p].as_str()).collect();
        for &e in &reused_by[u] {
            moved.extend(existing[e].1.iter().map(String::as_str));
            given.extend(reused_roles.iter().filter(|(it, _)| *it == e).map(|(_, at)| *at));
        }
        if given.is_empty() {
            continue;
        }
        let mut rewrite = Rewrite {
            member: member.name.value.clone(),
            add_roles: given
                .iter()
                .map(|&r| roles[r].slug.clone())
                .filter(|it| !member.roles.iter().any(|a| a.role.value == *it && a.temporary.is_none()))
                .collect(),
            remove: Vec::new(),
            shrink: Vec::new(),
            place: (member.name.file, member.name.span),
        };
        let mut after_privileges: Vec<StoredRule> = Vec::new();
        for (slug, rules) in permanent(member) {
            let left: Vec<StoredRule> = rules
                .iter()
                .filter_map(|rule| {
                    let actions: Vec<String> = atoms(catalog, rule)
                        .into_iter()
                        .filter(|(key, _)| !moved.contains(key.as_str()))
                        .map(|(_, it)| it.actions[0].clone())
                        .collect();
                    (!actions.is_empty()).then(|| StoredRule { actions, ..rule.clone() })
                })
                .collect();
            if left.is_empty() {
                rewrite.remove.push(slug.to_owned());
            } else if left.len() != rules.len() || left.iter().zip(rules).any(|(a, b)| a.actions != b.actions) {
                rewrite.shrink.push((slug.to_owned(), left.iter().map(wire_rule).collect()));
            }
            after_privileges.extend(left);
        }
        // Before and after, permanent grants only (temporary ones are untouched).
        let role_rules = |slug: &str| -> Vec<StoredRule> {
            match roles.iter().find(|it| it.slug == slug && !it.existing) {
                Some(proposed) => proposed.rules.iter().filter_map(crate::access::stored_rule).collect(),
                None => crate::access::role_rules(catalog, project, slug),
            }
        };
        let permanent_roles: Vec<&str> =
            member.roles.iter().filter(|it| it.temporary.is_none()).map(|it| it.role.value.as_str()).collect();
        let before: Vec<StoredRule> = permanent_roles
            .iter()
            .flat_map(|slug| role_rules(slug))
            .chain(permanent(member).flat_map(|(_, rules)| rules.iter().cloned()))
            .collect();
        let after: Vec<StoredRule> = permanent_roles
            .iter()
            .copied()
            .chain(rewrite.add_roles.iter().map(String::as_str))
            .flat_map(role_rules)
            .chain(after_privileges)
            .collect();
        let identity = Identity {
            id: member.id.as_ref().map(|it| it.value.clone()).unwrap_or_default(),
            username: member.name.value.clone(),
            metadata: Map::new(),
            auth: None,
        };
        let effect = crate::deploy::effect::compare(catalog, &member.name.value, &before, &after, &identity);
        for gain in &effect.gains {
            differences.push(format!("`{}` would gain `{}` (e.g. {})", member.name.value, gain.request, gain.witness));
        }
        for loss in &effect.losses {
            differences.push(format!("`{}` would lose `{}` (e.g. {})", member.name.value, loss.request, loss.witness));
        }
        // Undecided groups (metadata conditions) rest on the set argument: the permissions are the same.
        let same_set = |rules: &[StoredRule]| -> BTreeSet<String> {
            rules.iter().flat_map(|rule| atom_keys(catalog, rule)).collect()
        };
        if !effect.undecided.is_empty() && same_set(&before) != same_set(&after) {
            differences.push(format!("`{}`: {} could not be compared", member.name.value, effect.undecided.join(", ")));
        }
        verified += 1;
        rewrites.push(rewrite);
    }
    Proposal { roles, rewrites, verified_members: verified, differences, optimal: solution.optimal }
}

/// One holder of a repeated privilege: the member, the privilege's slug, and where the slug is written.
pub type Holder = (String, String, FileId, Span);

/// Members granted the same permanent privilege rules (by meaning): for the `repeated-privileges` lint.
/// Each group: the proposed role slug and the (member, privilege slug, place) that repeat it.
pub fn repeated(catalog: &Catalog, project: &Project, min_members: usize) -> Vec<(String, Vec<Holder>)> {
    use rayon::prelude::*;
    // The permission keys of every permanent privilege (in parallel), then grouped in member order.
    let privileges: Vec<(&Member, &crate::model::Privilege)> = project
        .members()
        .flat_map(|member| member.privileges.iter().filter(|it| it.temporary.is_none()).map(move |it| (member, it)))
        .collect();
    // Privileges written alike (most repeat a handful of shapes) are keyed once, and so are rules written
    // alike (privileges are assembled from a few recurring rules): each list as the exact texts of its rules.
    let prints: Vec<Option<(Vec<String>, &[StoredRule])>> = privileges
        .par_iter()
        .map(|(_, privilege)| {
            let stored = privilege.permissions.as_ref().and_then(|it| it.stored.as_ref())?;
            Some((stored.iter().map(rule_text).collect(), stored.as_slice()))
        })
        .collect();
    let mut distinct: HashMap<&[String], usize, FxBuild> = HashMap::default();
    let mut firsts: Vec<(&[String], &[StoredRule])> = Vec::new();
    let which: Vec<Option<usize>> = prints
        .iter()
        .map(|print| {
            let (texts, stored) = print.as_ref()?;
            Some(*distinct.entry(texts.as_slice()).or_insert_with(|| {
                firsts.push((texts, stored));
                firsts.len() - 1
            }))
        })
        .collect();
    let mut rule_at: HashMap<&str, usize, FxBuild> = HashMap::default();
    let mut rules: Vec<&StoredRule> = Vec::new();
    let lists: Vec<Vec<usize>> = firsts
        .iter()
        .map(|(texts, stored)| {
            let rules = &mut rules;
            texts
                .iter()
                .zip(stored.iter())
                .map(|(text, rule)| {
                    *rule_at.entry(text.as_str()).or_insert_with(|| {
                        rules.push(rule);
                        rules.len() - 1
                    })
                })
                .collect()
        })
        .collect();
    let rule_keys: Vec<Vec<String>> = rules.par_iter().map(|rule| atom_keys(catalog, rule)).collect();
    let keys: Vec<BTreeSet<String>> =
        lists.iter().map(|list| list.iter().flat_map(|at| rule_keys[*at].iter().cloned()).collect()).collect();
    // Lists written differently may grant the same keys: one group per distinct key set, the first list
    // written that way naming it.
    let mut group_of: HashMap<&BTreeSet<String>, usize, FxBuild> = HashMap::default();
    let mut named: Vec<(&BTreeSet<String>, &[StoredRule])> = Vec::new();
    let group_at: Vec<usize> = keys
        .iter()
        .zip(&firsts)
        .map(|(key, (_, stored))| {
            *group_of.entry(key).or_insert_with(|| {
                named.push((key, stored));
                named.len() - 1
            })
        })
        .collect();
    let mut groups: Vec<Vec<Holder>> = vec![Vec::new(); named.len()];
    for ((member, privilege), which) in privileges.into_iter().zip(which) {
        let Some(at) = which else { continue };
        if keys[at].is_empty() {
            continue;
        }
        let entry = &mut groups[group_at[at]];
        if !entry.iter().any(|(name, ..)| *name == member.name.value) {
            entry.push((
                member.name.value.clone(),
                privilege.slug.value.clone(),
                privilege.slug.file,
                privilege.slug.span,
            ));
        }
    }
    // In the order of the key sets.
    let mut found: Vec<(&BTreeSet<String>, &[StoredRule], Vec<Holder>)> = named
        .into_iter()
        .zip(groups)
        .filter(|(_, holders)| holders.len() >= min_members.max(2))
        .map(|((key, stored), holders)| (key, stored, holders))
        .collect();
    found.sort_by(|a, b| a.0.cmp(b.0));
    found.into_iter().map(|(_, stored, holders)| (name_for(stored), holders)).collect()
}

/// The exact text of a rule: rules with the same text have the same permission keys.
fn rule_text(rule: &StoredRule) -> String {
    let mut text = String::new();
    text.push_str(&rule.subject);
    text.push('\u{1}');
    text.push_str(&rule.actions.join("\u{2}"));
    text.push('\u{1}');
    text.push_str(match rule.inverted {
        None => "-",
        Some(true) => "t",
        Some(false) => "f",
    });
    text.push('\u{1}');
    if let Some(conditions) = &rule.conditions {
        text.push_str(&serde_json::to_string(&**conditions).unwrap_or_default());
    }
    text
}

/// The proposal for people.
pub fn render(proposal: &Proposal) -> String {
    let mut out = String::new();
    let fresh: Vec<&ProposedRole> = proposal.roles.iter().filter(|it| !it.existing).collect();
    if proposal.roles.is_empty() {
        out.push_str("no proposal: no permanent privilege rules are granted to enough members to make a role of\n");
        return out;
    }
    for role in &proposal.roles {
        let verb = if role.existing { "use the existing role" } else { "new role" };
        out.push_str(&format!(
            "{verb} `{}` ({}) for {} members: {}\n",
            role.slug,
            role.name,
            role.members.len(),
            crate::lint::list_names(&role.members)
        ));
        if !role.existing {
            let text = crate::syntax::write::yaml(&json!({ "permissions": role.rules }));
            for line in text.lines() {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }
    out.push_str("\nrewrite:\n");
    for rewrite in &proposal.rewrites {
        let mut parts: Vec<String> = rewrite.add_roles.iter().map(|it| format!("+ role `{it}`")).collect();
        parts.extend(rewrite.remove.iter().map(|it| format!("- privilege `{it}`")));
        parts.extend(rewrite.shrink.iter().map(|(slug, rules)| {
            format!("~ privilege `{slug}` keeps {} rule{}", rules.len(), if rules.len() == 1 { "" } else { "s" })
        }));
        out.push_str(&format!("  `{}`: {}\n", rewrite.member, parts.join(", ")));
    }
    out.push('\n');
    if proposal.differences.is_empty() {
        out.push_str(&format!(
            "verified: the effective access of all {} rewritten members is identical before and after (every subject and action compared)\n",
            proposal.verified_members
        ));
    } else {
        out.push_str("not verified: the proposal would change access:\n");
        for difference in &proposal.differences {
            out.push_str(&format!("  {difference}\n"));
        }
    }
    out.push_str(&format!(
        "{} new role{}, {} reused; {}\n",
        fresh.len(),
        if fresh.len() == 1 { "" } else { "s" },
        proposal.roles.len() - fresh.len(),
        if proposal.optimal {
            "drawn from a proven-minimal set of roles that reproduces these privileges exactly"
        } else {
            "drawn from a set of roles not proven minimal (the search reached its time limit, `--time-limit`)"
        }
    ));
    out
}
