//! What a plan changes in effective access, member by member: for every subject and action, a request the
//! member may make after the plan and not before (a gain), or before and not after (a loss), found by the
//! scope procedure ([`crate::scope`]) and confirmed with [`crate::eval`] before it is shown.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::desired::{Kind, Object};
use super::live::{Live, active, role_slug};
use crate::access::stored_rule as stored;
use crate::catalog::Catalog;
use crate::check::rules::StoredRule;
use crate::eval::{self, EvalRule, Identity};
use crate::scope::{self, Group, Outcome, Request};

/// One request that changes answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// `subject:action`.
    pub request: String,
    /// An object the answer changes for (`environment=prod secretPath=/a`), or the type-level check.
    pub witness: String,
}

/// The change in one member's effective access.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Effect {
    /// The membership's address (`identity.<name>`, `user.<email>`).
    pub member: String,
    pub gains: Vec<Difference>,
    pub losses: Vec<Difference>,
    /// `subject:action` pairs that could not be decided (metadata conditions, limits), with why.
    pub undecided: Vec<String>,
}

/// At most this many members are summarised; a plan says how many more there are.
pub const MEMBER_LIMIT: usize = 200;

fn rules_of(permissions: &Value) -> impl Iterator<Item = StoredRule> + '_ {
    permissions.as_array().into_iter().flatten().filter_map(stored)
}

/// A member's stored rules in Infisical's order (roles, then privileges), given its roles (API shape), the
/// rules of each custom role, and its privileges (API shape: `permissions`, temporary fields in `type` or
/// at the top).
fn member_rules<'a>(
    catalog: &Catalog,
    roles: &[Value],
    custom: &dyn Fn(&str) -> Option<&'a Value>,
    privileges: &[&Value],
    now_ms: i64,
) -> Vec<StoredRule> {
    let mut out = Vec::new();
    for role in roles.iter().filter(|it| active(it, now_ms)) {
        let slug = role_slug(role);
        if let Some(predefined) = catalog.predefined_roles().iter().find(|it| it.slug == slug) {
            out.extend(crate::access::predefined_rules(&predefined.permissions));
        } else if let Some(permissions) = custom(slug) {
            out.extend(rules_of(permissions));
        }
    }
    for privilege in privileges {
        let temporary = privilege.get("type").unwrap_or(privilege);
        if active(temporary, now_ms) {
            out.extend(rules_of(&privilege["permissions"]));
        }
    }
    out
}

/// The change in effective access of every declared member whose rules the plan changes, at `now_ms`.
/// Returns the effects and how many members were left out beyond [`MEMBER_LIMIT`].
pub fn effects(catalog: &Catalog, desired: &[Object], live: &Live, now_ms: i64) -> (Vec<Effect>, usize) {
    // Indexes: roles by slug, privileges by member, memberships by address (both sides).
    let mut live_roles: HashMap<&str, &Value> = HashMap::new();
    let mut live_privileges: HashMap<(Kind, &str), Vec<&Value>> = HashMap::new();
    let mut live_memberships: HashMap<&str, &crate::deploy::live::LiveObject> = HashMap::new();
    for it in &live.objects {
        match it.object.kind {
            Kind::Role => {
                live_roles.entry(it.object.body["slug"].as_str().unwrap_or_default()).or_insert(&it.raw["permissions"]);
            }
            Kind::IdentityPrivilege | Kind::UserPrivilege => live_privileges
                .entry((it.object.kind, it.object.member.as_deref().unwrap_or_default()))
                .or_default()
                .push(&it.raw),
            Kind::IdentityMembership | Kind::UserMembership => {
                live_memberships.insert(it.object.address.as_str(), it);
            }
            _ => {}
        }
    }
    let mut desired_roles: HashMap<&str, &Value> = HashMap::new();
    let mut desired_privileges: HashMap<(Kind, &str), Vec<&Value>> = HashMap::new();
    for it in desired {
        match it.kind {
            Kind::Role => {
                desired_roles.entry(it.wire["slug"].as_str().unwrap_or_default()).or_insert(&it.wire["permissions"]);
            }
            Kind::IdentityPrivilege | Kind::UserPrivilege => desired_privileges
                .entry((it.kind, it.member.as_deref().unwrap_or_default()))
                .or_default()
                .push(&it.wire),
            _ => {}
        }
    }
    let live_role = |slug: &str| live_roles.get(slug).copied();
    let desired_role = |slug: &str| desired_roles.get(slug).copied().or_else(|| live_roles.get(slug).copied());
    let mut out = Vec::new();
    let mut left_out = 0;
    scope::reset();
    for membership in desired.iter().filter(|it| matches!(it.kind, Kind::IdentityMembership | Kind::UserMembership)) {
        let member = membership.member.as_deref().unwrap_or_default();
        let privilege_kind =
            if membership.kind == Kind::IdentityMembership { Kind::IdentityPrivilege } else { Kind::UserPrivilege };
        let after_roles = membership.wire["roles"].as_array().cloned().unwrap_or_default();
        let after_privileges: Vec<&Value> =
            desired_privileges.get(&(privilege_kind, member)).cloned().unwrap_or_default();
        let after = member_rules(catalog, &after_roles, &desired_role, &after_privileges, now_ms);
        let live_membership = live_memberships.get(membership.address.as_str()).copied();
        let before_roles = live_membership.and_then(|it| it.raw["roles"].as_array().cloned()).unwrap_or_default();
        let before_privileges: Vec<&Value> =
            live_privileges.get(&(privilege_kind, member)).cloned().unwrap_or_default();
        let before = member_rules(catalog, &before_roles, &live_role, &before_privileges, now_ms);
        if before == after {
            continue;
        }
        if out.len() == MEMBER_LIMIT {
            left_out += 1;
            continue;
        }
        let id = membership.wire["id"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| live_membership.map(|it| it.id.clone()))
            .unwrap_or_default();
        let identity = Identity { id, username: member.to_owned(), metadata: Map::new(), auth: None };
        out.push(compare(catalog, &membership.address, &before, &after, &identity));
    }
    (out, left_out)
}

/// How `after` differs from `before` for one member (`member` names it in the result).
pub fn compare(
    catalog: &Catalog,
    member: &str,
    before: &[StoredRule],
    after: &[StoredRule],
    identity: &Identity,
) -> Effect {
    let mut effect = Effect { member: member.to_owned(), gains: Vec::new(), losses: Vec::new(), undecided: Vec::new() };
    let (Ok(before), Ok(after)) = (eval::prepare(catalog, before, identity), eval::prepare(catalog, after, identity))
    else {
        effect.undecided.push("every request (a template could not be rendered)".into());
        return effect;
    };
    let combined: Vec<EvalRule> = before.iter().chain(&after).cloned().collect();
    let split = before.len();
    let index = scope::index(&combined);
    let mut keys: Vec<(String, String)> = index.keys().map(|(s, a)| ((*s).to_owned(), (*a).to_owned())).collect();
    keys.sort();
    for (subject, action) in keys {
        let members: Vec<usize> = index[&(subject.as_str(), action.as_str())].clone();
        let (old, new): (Vec<usize>, Vec<usize>) = members.iter().partition(|&&at| at < split);
        // The same rules on both sides (as a set: the decision depends on nothing else) decide the same.
        let content = |side: &[usize]| -> BTreeSet<String> {
            side.iter()
                .map(|&at| json!([combined[at].inverted, combined[at].conditions.as_deref()]).to_string())
                .collect()
        };
        if content(&old) == content(&new) {
            continue;
        }
        let before_group = Group::build_over(catalog, &combined, &subject, &action, old, &members);
        let after_group = Group::build_over(catalog, &combined, &subject, &action, new, &members);
        let name = format!("{subject}:{action}");
        for (gain, outcome) in [
            (true, Group::any_allowed_beyond(&[&after_group], &[&before_group])),
            (false, Group::any_allowed_beyond(&[&before_group], &[&after_group])),
        ] {
            match outcome {
                Outcome::Same { .. } => {}
                Outcome::Differs { witness, .. } => {
                    if confirmed(&before, &after, &subject, &action, &witness, gain) {
                        let difference = Difference { request: name.clone(), witness: witness.to_string() };
                        if gain { effect.gains.push(difference) } else { effect.losses.push(difference) }
                    } else {
                        effect.undecided.push(format!("{name} (the witness was not confirmed)"));
                    }
                }
                Outcome::Unknown(why) => {
                    if !effect.undecided.iter().any(|it| it.starts_with(&name)) {
                        effect.undecided.push(format!("{name} ({why})"));
                    }
                }
            }
        }
    }
    effect
}

/// Whether Infisical answers `witness` as claimed: allowed after and not before for a gain, the other way
/// round for a loss.
fn confirmed(
    before: &[EvalRule],
    after: &[EvalRule],
    subject: &str,
    action: &str,
    witness: &Request,
    gain: bool,
) -> bool {
    let object = witness.object();
    let answer = |rules: &[EvalRule]| eval::can(rules, action, subject, object.as_ref()).map(|it| it.allowed);
    answer(after) == Ok(gain) && answer(before) == Ok(!gain)
}
