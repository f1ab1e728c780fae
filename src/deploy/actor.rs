//! Checks before any write: whether the deploying user or identity may make each change of a plan,
//! judged with its own live rules exactly as Infisical evaluates them (`crate::eval`).
//!
//! What each change needs (`infisical-model.md` §2.7, §5): roles `create`/`edit`/`delete` on `role`;
//! identity memberships the same on `identity` (for that `identityId`); user memberships `create`/`edit` on
//! `member`; every additional privilege `edit` on `identity` or `member`; approval policies
//! `create`/`edit`/`delete` on `secret-approval`. The privilege-change check that follows depends on an
//! organisation setting permc cannot read: under the legacy permission boundary the actor must hold
//! everything the member holds ([`boundary_warnings`] predicts those refusals as warnings); under the newer
//! system it needs `grant-privileges`, left to Infisical's answer.

use serde_json::{Map, Value, json};

use super::desired::Kind;
use super::live::Live;
use super::live::{active, role_slug};
use super::plan::{Action, Plan};
use crate::access::stored_rule as stored;
use crate::catalog::Catalog;
use crate::check::rules::StoredRule;
use crate::eval::{self, EvalRule, Identity};

/// Who a token belongs to, from its JWT claims.
#[derive(Clone, Debug, PartialEq)]
pub enum Actor {
    User(String),
    Identity(String),
}

impl Actor {
    pub fn from_claims(claims: &Value) -> Option<Actor> {
        if let Some(id) = claims.get("identityId").and_then(Value::as_str) {
            return Some(Actor::Identity(id.to_owned()));
        }
        claims.get("userId").and_then(Value::as_str).map(|id| Actor::User(id.to_owned()))
    }

    fn describe(&self) -> String {
        match self {
            Actor::User(id) => format!("user `{id}`"),
            Actor::Identity(id) => format!("identity `{id}`"),
        }
    }
}

/// The live membership of a member (by kind and a predicate) and its active rules (roles, then
/// privileges) in the API's stored form.
fn member_rules(
    catalog: &Catalog,
    live: &Live,
    membership: &crate::deploy::live::LiveObject,
    privilege_kind: Kind,
    now_ms: i64,
) -> Vec<StoredRule> {
    let mut all: Vec<StoredRule> = Vec::new();
    for role in membership.raw.get("roles").and_then(Value::as_array).into_iter().flatten() {
        if !active(role, now_ms) {
            continue;
        }
        let slug = role_slug(role);
        if let Some(predefined) = catalog.predefined_roles().iter().find(|it| it.slug == slug) {
            all.extend(crate::access::predefined_rules(&predefined.permissions));
        } else if let Some(custom) =
            live.objects.iter().find(|it| it.object.kind == Kind::Role && it.object.body["slug"] == json!(slug))
        {
            all.extend(
                custom.raw.get("permissions").and_then(Value::as_array).into_iter().flatten().filter_map(stored),
            );
        }
    }
    for privilege in live
        .objects
        .iter()
        .filter(|it| it.object.kind == privilege_kind && it.object.member == membership.object.member)
    {
        if active(&privilege.raw, now_ms) {
            all.extend(
                privilege.raw.get("permissions").and_then(Value::as_array).into_iter().flatten().filter_map(stored),
            );
        }
    }
    all
}

/// The actor's active rules in the live project and its templating identity; `None` when it is not a
/// member.
fn actor_rules(catalog: &Catalog, live: &Live, actor: &Actor, now_ms: i64) -> Option<(Vec<StoredRule>, Identity)> {
    let (membership_kind, privilege_kind) = match actor {
        Actor::Identity(_) => (Kind::IdentityMembership, Kind::IdentityPrivilege),
        Actor::User(_) => (Kind::UserMembership, Kind::UserPrivilege),
    };
    let membership = live.objects.iter().find(|it| {
        it.object.kind == membership_kind
            && match actor {
                Actor::Identity(id) => it.id == *id,
                Actor::User(id) => it.raw.pointer("/user/id").and_then(Value::as_str) == Some(id.as_str()),
            }
    })?;
    let id = match actor {
        Actor::Identity(id) | Actor::User(id) => id.clone(),
    };
    let identity = Identity {
        id,
        username: membership.object.member.clone().unwrap_or_default(),
        metadata: Map::new(),
        auth: None,
    };
    Some((member_rules(catalog, live, membership, privilege_kind, now_ms), identity))
}

/// The actor's rules in the live project, in Infisical's order; `None` when it is not a member.
pub fn rules(catalog: &Catalog, live: &Live, actor: &Actor, now_ms: i64) -> Option<Vec<EvalRule>> {
    let (all, identity) = actor_rules(catalog, live, actor, now_ms)?;
    eval::prepare(catalog, &all, &identity).ok()
}

/// Privilege changes that Infisical's legacy permission boundary would refuse: without the newer privilege
/// system (an organisation setting permc cannot read), changing a member's additional privileges needs
/// the actor's permissions to include the member's whole current permission. One line per member, with a
/// request the member may make and the actor may not.
pub fn boundary_warnings(catalog: &Catalog, live: &Live, actor: &Actor, plan: &Plan, now_ms: i64) -> Vec<String> {
    let Some((mine, _)) = actor_rules(catalog, live, actor, now_ms) else { return Vec::new() };
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for change in plan.changes.iter().filter(|it| matches!(it.kind, Kind::IdentityPrivilege | Kind::UserPrivilege)) {
        let member = change
            .object
            .as_ref()
            .and_then(|it| it.member.clone())
            .or_else(|| live.get(&change.address).and_then(|it| it.object.member.clone()));
        let Some(member) = member.filter(|it| !seen.contains(it)) else { continue };
        seen.push(member.clone());
        let membership_kind =
            if change.kind == Kind::IdentityPrivilege { Kind::IdentityMembership } else { Kind::UserMembership };
        let Some(membership) = live
            .objects
            .iter()
            .find(|it| it.object.kind == membership_kind && it.object.member.as_deref() == Some(&member))
        else {
            continue;
        };
        let theirs = member_rules(catalog, live, membership, change.kind, now_ms);
        let identity =
            Identity { id: membership.id.clone(), username: member.clone(), metadata: Map::new(), auth: None };
        let effect = crate::deploy::effect::compare(catalog, &member, &mine, &theirs, &identity);
        if let Some(beyond) = effect.gains.first() {
            out.push(format!(
                "`{member}` may `{}` (e.g. {}) and the deploying credentials may not: under Infisical's legacy permission boundary, changing its privileges is refused",
                beyond.request, beyond.witness
            ));
        }
    }
    out
}

/// What one change needs: (action, subject, the object's fields).
fn needs(
    kind: Kind,
    action: Action,
    live: &Live,
    member: Option<&str>,
    identity_id: Option<&str>,
) -> (&'static str, &'static str, Map<String, Value>) {
    let verb = match action {
        Action::Create => "create",
        Action::Update => "edit",
        Action::Delete => "delete",
    };
    let mut object = Map::new();
    let identity =
        identity_id.map(str::to_owned).or_else(|| member.and_then(|it| live.ids.identities.get(it).cloned()));
    match kind {
        Kind::Role => (verb, "role", object),
        Kind::IdentityMembership | Kind::IdentityPrivilege => {
            if let Some(id) = identity {
                object.insert("identityId".into(), json!(id));
            }
            (if kind == Kind::IdentityPrivilege { "edit" } else { verb }, "identity", object)
        }
        Kind::UserMembership | Kind::UserPrivilege => {
            if let Some(email) = member {
                object.insert("userEmail".into(), json!(email));
            }
            (if kind == Kind::UserPrivilege || action == Action::Delete { "edit" } else { verb }, "member", object)
        }
        Kind::AccessPolicy | Kind::SecretPolicy => (verb, "secret-approval", object),
    }
}

/// Every change of `plan` the actor may not make, as one line each; empty when all are allowed.
pub fn refusals(live: &Live, actor: &Actor, rules: &[EvalRule], plan: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    for change in &plan.changes {
        if let Actor::Identity(me) = actor
            && change.action == Action::Delete
            && change.kind == Kind::IdentityMembership
            && change.id.as_deref() == Some(me.as_str())
        {
            out.push(format!(
                "deleting `{}` would remove the deploying identity itself from the project; declare it in the repository",
                change.address
            ));
            continue;
        }
        let member = change
            .object
            .as_ref()
            .and_then(|it| it.member.clone())
            .or_else(|| live.get(&change.address).and_then(|it| it.object.member.clone()));
        let identity_id = change
            .object
            .as_ref()
            .and_then(|it| it.wire.get("id").or_else(|| it.wire.get("memberId")))
            .and_then(Value::as_str);
        let identity_id = identity_id.or(match change.kind {
            Kind::IdentityMembership if change.action != Action::Create => change.id.as_deref(),
            _ => None,
        });
        let (action, subject, object) = needs(change.kind, change.action, live, member.as_deref(), identity_id);
        let allowed = eval::can(rules, action, subject, Some(&object)).map(|it| it.allowed).unwrap_or(false);
        if !allowed {
            out.push(format!(
                "{} may not `{action}` on `{subject}`{}, needed to {} `{}`",
                actor.describe(),
                if object.is_empty() { String::new() } else { format!(" ({})", Value::Object(object.clone())) },
                match change.action {
                    Action::Create => "create",
                    Action::Update => "update",
                    Action::Delete => "delete",
                },
                change.address
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::desired::Object;
    use crate::deploy::live::LiveObject;
    use crate::deploy::plan::Change;

    fn membership(id: &str, name: &str, role: &str) -> LiveObject {
        LiveObject {
            object: Object {
                kind: Kind::IdentityMembership,
                address: format!("identity.{name}"),
                member: Some(name.into()),
                body: json!({ "roles": [] }),
                wire: Value::Null,
            },
            id: id.into(),
            raw: json!({ "identityId": id, "roles": [{ "role": role, "isTemporary": false }] }),
        }
    }

    fn plan(changes: Vec<Change>) -> Plan {
        Plan {
            format: 1,
            host: String::new(),
            project_id: String::new(),
            live_digest: String::new(),
            prune: true,
            changes,
            unmanaged: Vec::new(),
            access: Vec::new(),
            access_left_out: 0,
        }
    }

    fn delete(address: &str, id: &str) -> Change {
        Change {
            action: Action::Delete,
            kind: Kind::IdentityMembership,
            address: address.into(),
            id: Some(id.into()),
            before: None,
            after: None,
            object: None,
        }
    }

    #[test]
    fn an_admin_may_remove_others_but_not_itself() {
        let catalog = Catalog::builtin();
        let live = Live {
            objects: vec![membership("me", "deployer", "admin"), membership("other", "old-bot", "viewer")],
            ..Live::default()
        };
        let actor = Actor::Identity("me".into());
        let rules = rules(catalog, &live, &actor, 0).expect("a member");
        assert!(refusals(&live, &actor, &rules, &plan(vec![delete("identity.old-bot", "other")])).is_empty());
        let refused = refusals(&live, &actor, &rules, &plan(vec![delete("identity.deployer", "me")]));
        assert_eq!(refused.len(), 1);
        assert!(refused[0].contains("would remove the deploying identity itself"), "{refused:?}");
    }

    #[test]
    fn a_viewer_may_not_delete_a_membership_and_a_non_member_is_not_judged() {
        let catalog = Catalog::builtin();
        let live = Live { objects: vec![membership("me", "deployer", "viewer")], ..Live::default() };
        let actor = Actor::Identity("me".into());
        let rules = rules(catalog, &live, &actor, 0).unwrap();
        let refused = refusals(&live, &actor, &rules, &plan(vec![delete("identity.old-bot", "other")]));
        assert_eq!(refused.len(), 1);
        assert!(refused[0].contains("may not `delete` on `identity` ({\"identityId\":\"other\"})"), "{refused:?}");
        assert!(super::rules(catalog, &live, &Actor::Identity("stranger".into()), 0).is_none());
    }
}

#[cfg(test)]
mod boundary_tests {
    use super::*;
    use crate::deploy::desired::Object;
    use crate::deploy::live::LiveObject;
    use crate::deploy::plan::Change;

    fn object(kind: Kind, address: &str, member: Option<&str>, body: Value) -> Object {
        Object { kind, address: address.into(), member: member.map(str::to_owned), body, wire: Value::Null }
    }

    #[test]
    fn a_member_who_may_do_more_than_the_deployer_is_predicted() {
        let catalog = Catalog::builtin();
        let deployer = LiveObject {
            object: object(Kind::IdentityMembership, "identity.deployer", Some("deployer"), json!({})),
            id: "me".into(),
            raw: json!({ "roles": [{ "role": "custom", "customRoleSlug": "deployer", "isTemporary": false }] }),
        };
        let role = LiveObject {
            object: object(Kind::Role, "role.deployer", None, json!({ "slug": "deployer" })),
            id: "r".into(),
            raw: json!({ "permissions": [{ "subject": "identity", "action": ["edit", "read"] }] }),
        };
        let reader = LiveObject {
            object: object(Kind::IdentityMembership, "identity.reader", Some("reader"), json!({})),
            id: "other".into(),
            raw: json!({ "roles": [{ "role": "viewer", "isTemporary": false }] }),
        };
        let live = Live { objects: vec![deployer, role, reader], ..Live::default() };
        let plan = Plan {
            format: 1,
            host: String::new(),
            project_id: String::new(),
            live_digest: String::new(),
            prune: false,
            changes: vec![Change {
                action: Action::Create,
                kind: Kind::IdentityPrivilege,
                address: "identity.reader.privilege.x".into(),
                id: None,
                before: None,
                after: None,
                object: Some(object(Kind::IdentityPrivilege, "identity.reader.privilege.x", Some("reader"), json!({}))),
            }],
            unmanaged: Vec::new(),
            access: Vec::new(),
            access_left_out: 0,
        };
        let actor = Actor::Identity("me".into());
        let warnings = boundary_warnings(catalog, &live, &actor, &plan, 0);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].starts_with("`reader` may `"), "{warnings:?}");
        // An admin holds everything a viewer holds.
        let admin = Live {
            objects: live
                .objects
                .iter()
                .cloned()
                .map(|mut it| {
                    if it.id == "me" {
                        it.raw = json!({ "roles": [{ "role": "admin", "isTemporary": false }] });
                    }
                    it
                })
                .collect(),
            ..Live::default()
        };
        assert!(boundary_warnings(catalog, &admin, &actor, &plan, 0).is_empty());
    }
}
