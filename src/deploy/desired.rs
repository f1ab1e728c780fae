//! What the repository declares, as deployable objects: each with its address, its canonical form (what a
//! plan compares) and its wire form (what the API takes).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::canonical;
use crate::check::rules::StoredRule;
use crate::model::{Enforcement, Member, MemberKind, Principal, PrincipalKind, Project, Temporary};

/// The kinds of object, in the order they are created (a role before the memberships that use it, a
/// membership before its privileges); deletions go in the reverse order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Role,
    IdentityMembership,
    UserMembership,
    IdentityPrivilege,
    UserPrivilege,
    AccessPolicy,
    SecretPolicy,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Role,
        Kind::IdentityMembership,
        Kind::UserMembership,
        Kind::IdentityPrivilege,
        Kind::UserPrivilege,
        Kind::AccessPolicy,
        Kind::SecretPolicy,
    ];

    pub fn noun(self) -> &'static str {
        match self {
            Kind::Role => "role",
            Kind::IdentityMembership => "identity membership",
            Kind::UserMembership => "user membership",
            Kind::IdentityPrivilege => "identity privilege",
            Kind::UserPrivilege => "user privilege",
            Kind::AccessPolicy => "access approval policy",
            Kind::SecretPolicy => "secret approval policy",
        }
    }
}

/// One object of a project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Object {
    pub kind: Kind,
    /// Stable and unique within a project: `role.<slug>`, `identity.<name>`, `identity.<name>.privilege.<slug>`,
    /// `user.<email>`, `user.<email>.privilege.<slug>`, `access-policy.<name>`, `secret-policy.<name>`.
    pub address: String,
    /// The identity's name or user's email, for memberships and privileges.
    pub member: Option<String>,
    /// The canonical form.
    pub body: Value,
    /// The API spelling of what is sent (permissions as stored, temporary fields, principals).
    pub wire: Value,
}

pub fn address(kind: Kind, member: Option<&str>, name: &str) -> String {
    match (kind, member) {
        (Kind::Role, _) => format!("role.{name}"),
        (Kind::IdentityMembership, _) => format!("identity.{name}"),
        (Kind::UserMembership, _) => format!("user.{name}"),
        (Kind::IdentityPrivilege, Some(member)) => format!("identity.{member}.privilege.{name}"),
        (Kind::UserPrivilege, Some(member)) => format!("user.{member}.privilege.{name}"),
        (Kind::IdentityPrivilege | Kind::UserPrivilege, None) => format!("privilege.{name}"),
        (Kind::AccessPolicy, _) => format!("access-policy.{name}"),
        (Kind::SecretPolicy, _) => format!("secret-policy.{name}"),
    }
}

/// A stored rule in the API's spelling.
pub fn wire_rule(rule: &StoredRule) -> Value {
    let mut out = Map::new();
    out.insert("subject".into(), json!(rule.subject));
    out.insert("action".into(), json!(rule.actions));
    if let Some(inverted) = rule.inverted {
        out.insert("inverted".into(), json!(inverted));
    }
    if let Some(conditions) = &rule.conditions {
        out.insert("conditions".into(), Value::Object(Map::clone(conditions)));
    }
    Value::Object(out)
}

/// The API's `type` of a privilege, or one entry of a membership's `roles` (without `role`).
pub fn wire_temporary(temporary: Option<&Temporary>) -> Value {
    match temporary {
        None => json!({ "isTemporary": false }),
        Some(temporary) => json!({
            "isTemporary": true,
            "temporaryMode": "relative",
            "temporaryRange": temporary.range.value,
            // `null`: when applied (filled in by `apply`, shown as `${now}` by `build`).
            "temporaryAccessStartTime": temporary.start.as_ref().map(|it| it.value.clone()),
        }),
    }
}

fn canonical_temporary(temporary: Option<&Temporary>) -> Value {
    temporary.map_or(Value::Null, |it| {
        canonical::temporary(Some(&it.range.value), it.start.as_ref().map(|it| it.value.as_str()))
    })
}

fn wire_principal(principal: &Principal, sequence: Option<usize>) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), json!(if principal.kind == PrincipalKind::Group { "group" } else { "user" }));
    if let Some(id) = &principal.id {
        out.insert("id".into(), json!(id.value));
    } else if let Some(username) = &principal.username {
        out.insert("username".into(), json!(username.value));
    }
    if let Some(sequence) = sequence {
        out.insert("sequence".into(), json!(sequence));
    }
    Value::Object(out)
}

/// A principal's canonical form: users by username (or id when only that is known), groups by id.
pub fn canonical_principal(kind: &str, id: Option<&str>, username: Option<&str>) -> Value {
    if kind == "group" {
        json!({ "type": "group", "id": id.unwrap_or_default() })
    } else {
        json!({ "type": "user", "user": username.or(id).unwrap_or_default() })
    }
}

fn canonical_principals<'a>(principals: impl IntoIterator<Item = &'a Principal>) -> Value {
    let mut items: Vec<Value> = principals
        .into_iter()
        .map(|it| {
            let kind = if it.kind == PrincipalKind::Group { "group" } else { "user" };
            canonical_principal(
                kind,
                it.id.as_ref().map(|v| v.value.as_str()),
                it.username.as_ref().map(|v| v.value.as_str()),
            )
        })
        .collect();
    items.sort_by_key(|it| it.to_string());
    Value::Array(items)
}

fn enforcement(value: Option<Enforcement>) -> &'static str {
    match value {
        Some(Enforcement::Soft) => "soft",
        _ => "hard",
    }
}

/// A duration of a policy (`maxTimePeriod`, `requestExpirationTime`): milliseconds, or `null` for none.
pub fn canonical_period(text: Option<&str>) -> Value {
    match text.map(str::trim) {
        None | Some("" | "permanent" | "never") => Value::Null,
        Some(text) => canonical::temporary(Some(text), None)["rangeMs"].clone(),
    }
}

/// Every object the repository declares. Objects Infisical would reject (`permc check` errors) are the
/// caller's to refuse; rule lists that do not check are left out here.
pub fn objects(project: &Project) -> Vec<Object> {
    let mut out = Vec::new();
    for role in &project.roles {
        let stored: Vec<Value> =
            role.permissions.iter().flat_map(|it| it.stored.iter().flatten()).map(wire_rule).collect();
        let name = role.name.as_ref().map_or(role.slug.value.as_str(), |it| it.value.as_str());
        let description = role.description.as_ref().map(|it| it.value.as_str());
        out.push(Object {
            kind: Kind::Role,
            address: address(Kind::Role, None, &role.slug.value),
            member: None,
            body: json!({
                "slug": role.slug.value,
                "name": name.trim(),
                "description": canonical::description(description),
                "permissions": canonical::permissions(&stored),
            }),
            wire: json!({ "slug": role.slug.value, "name": name, "description": description, "permissions": stored }),
        });
    }
    for member in project.members() {
        out.extend(member_objects(member));
    }
    for policy in &project.access_policies {
        let steps: Vec<Value> = policy
            .steps
            .iter()
            .map(|step| {
                json!({
                    "approvals": step.approvals.as_ref().map_or(1, |it| it.value),
                    "approvers": canonical_principals(&step.approvers),
                })
            })
            .collect();
        let path = policy.secret_path.as_ref().map_or("/", |it| it.value.as_str());
        let environments = canonical::string_set(policy.environments.iter().map(|it| it.value.as_str()));
        let max_time = policy.max_time_period.as_ref().map(|it| it.value.as_str());
        let expiration = policy.request_expiration_time.as_ref().map(|it| it.value.as_str());
        let allowed_self = policy.allowed_self_approvals.as_ref().is_none_or(|it| it.value);
        let approvers: Vec<Value> = policy
            .steps
            .iter()
            .enumerate()
            .flat_map(|(at, step)| step.approvers.iter().map(move |it| wire_principal(it, Some(at + 1))))
            .collect();
        let required: Vec<Value> = policy
            .steps
            .iter()
            .enumerate()
            .map(|(at, step)| {
                json!({ "numberOfApprovals": step.approvals.as_ref().map_or(1, |it| it.value), "stepNumber": at + 1 })
            })
            .collect();
        out.push(Object {
            kind: Kind::AccessPolicy,
            address: address(Kind::AccessPolicy, None, &policy.name.value),
            member: None,
            body: json!({
                "name": policy.name.value,
                "environments": environments,
                "secretPath": canonical::policy_path(path),
                "enforcementLevel": enforcement(policy.enforcement.as_ref().map(|it| it.value)),
                "allowedSelfApprovals": allowed_self,
                "maxTimePeriod": canonical_period(max_time),
                "requestExpirationTime": canonical_period(expiration),
                "steps": steps,
                "bypassers": canonical_principals(&policy.bypassers),
            }),
            wire: json!({
                "name": policy.name.value,
                "secretPath": path,
                "environments": policy.environments.iter().map(|it| &it.value).collect::<Vec<_>>(),
                "approvers": approvers,
                "bypassers": policy.bypassers.iter().map(|it| wire_principal(it, None)).collect::<Vec<_>>(),
                "approvalsRequired": required,
                "approvals": policy.steps.first().and_then(|it| it.approvals.as_ref()).map_or(1, |it| it.value),
                "enforcementLevel": enforcement(policy.enforcement.as_ref().map(|it| it.value)),
                "allowedSelfApprovals": allowed_self,
                "maxTimePeriod": max_time,
                "requestExpirationTime": expiration,
            }),
        });
    }
    for policy in &project.secret_policies {
        let path = policy.secret_path.as_ref().map_or("/", |it| it.value.as_str());
        let approvals = policy.approvals.as_ref().map_or(1, |it| it.value);
        let allowed_self = policy.allowed_self_approvals.as_ref().is_none_or(|it| it.value);
        out.push(Object {
            kind: Kind::SecretPolicy,
            address: address(Kind::SecretPolicy, None, &policy.name.value),
            member: None,
            body: json!({
                "name": policy.name.value,
                "environments": canonical::string_set(policy.environments.iter().map(|it| it.value.as_str())),
                "secretPath": canonical::policy_path(path),
                "approvals": approvals,
                "enforcementLevel": enforcement(policy.enforcement.as_ref().map(|it| it.value)),
                "allowedSelfApprovals": allowed_self,
                "approvers": canonical_principals(&policy.approvers),
                "bypassers": canonical_principals(&policy.bypassers),
            }),
            wire: json!({
                "name": policy.name.value,
                "secretPath": path,
                "environments": policy.environments.iter().map(|it| &it.value).collect::<Vec<_>>(),
                "approvers": policy.approvers.iter().map(|it| wire_principal(it, None)).collect::<Vec<_>>(),
                "bypassers": policy.bypassers.iter().map(|it| wire_principal(it, None)).collect::<Vec<_>>(),
                "approvals": approvals,
                "enforcementLevel": enforcement(policy.enforcement.as_ref().map(|it| it.value)),
                "allowedSelfApprovals": allowed_self,
            }),
        });
    }
    out
}

fn member_objects(member: &Member) -> Vec<Object> {
    let (membership_kind, privilege_kind) = match member.kind {
        MemberKind::Identity => (Kind::IdentityMembership, Kind::IdentityPrivilege),
        MemberKind::User => (Kind::UserMembership, Kind::UserPrivilege),
    };
    let name = member.name.value.as_str();
    let id = member.id.as_ref().map(|it| it.value.as_str());
    let mut roles: Vec<Value> = member
        .roles
        .iter()
        .map(|it| json!({ "role": it.role.value, "temporary": canonical_temporary(it.temporary.as_ref()) }))
        .collect();
    canonical::sort_roles(&mut roles);
    let wire_roles: Vec<Value> = member
        .roles
        .iter()
        .map(|it| {
            let mut entry = json!({ "role": it.role.value });
            if let (Value::Object(entry), Value::Object(temporary)) =
                (&mut entry, wire_temporary(it.temporary.as_ref()))
            {
                entry.extend(temporary);
            }
            entry
        })
        .collect();
    let mut out = vec![Object {
        kind: membership_kind,
        address: address(membership_kind, None, name),
        member: Some(name.to_owned()),
        // The name is the address; an identity is matched by its id where the repository gives one.
        body: json!({ "roles": roles }),
        wire: json!({ "id": id, "roles": wire_roles }),
    }];
    for privilege in member.privileges.iter() {
        let stored: Vec<Value> =
            privilege.permissions.iter().flat_map(|it| it.stored.iter().flatten()).map(wire_rule).collect();
        out.push(Object {
            kind: privilege_kind,
            address: address(privilege_kind, Some(name), &privilege.slug.value),
            member: Some(name.to_owned()),
            body: json!({
                "slug": privilege.slug.value,
                "temporary": canonical_temporary(privilege.temporary.as_ref()),
                "permissions": canonical::permissions(&stored),
            }),
            wire: json!({
                "memberId": id,
                "slug": privilege.slug.value,
                "permissions": stored,
                "type": wire_temporary(privilege.temporary.as_ref()),
            }),
        });
    }
    out
}
