//! Reading a live project through the API into canonical objects.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use super::api::{ApiError, Client};
use super::canonical;
use super::desired::{Kind, Object, address, canonical_period, canonical_principal};
use super::wire::Ids;

/// One object as Infisical has it.
#[derive(Clone, Debug)]
pub struct LiveObject {
    pub object: Object,
    /// The id its update and delete routes take.
    pub id: String,
    /// The object as the API returned it (for `import`).
    pub raw: Value,
}

/// A live project.
#[derive(Clone, Debug, Default)]
pub struct Live {
    pub objects: Vec<LiveObject>,
    /// User id to username, for approvers and bypassers Infisical returns by id.
    pub users: HashMap<String, String>,
    pub ids: Ids,
}

impl Live {
    pub fn get(&self, address: &str) -> Option<&LiveObject> {
        self.objects.iter().find(|it| it.object.address == address)
    }

    /// A digest of the whole state (canonical forms and ids): a saved plan is applied only to the state it
    /// was made from.
    pub fn digest(&self) -> String {
        let mut sorted: BTreeMap<&str, (&str, &Value)> = BTreeMap::new();
        for it in &self.objects {
            sorted.insert(&it.object.address, (&it.id, &it.object.body));
        }
        let text = serde_json::to_string(&sorted).unwrap_or_default();
        // FNV-1a: a change detector, not a security boundary.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in text.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{hash:016x}")
    }
}

fn str_of<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

fn list<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// Whether a grant in the API's shape (`isTemporary`, `temporaryRange`, `temporaryAccessStartTime`) is active
/// at `now_ms`. Without a start it starts when applied, so it is active.
pub fn active(grant: &Value, now_ms: i64) -> bool {
    if grant.get("isTemporary") != Some(&Value::Bool(true)) {
        return true;
    }
    let Some(range) = grant.get("temporaryRange").and_then(Value::as_str).and_then(crate::check::values::parse_ms)
    else {
        return false;
    };
    match grant.get("temporaryAccessStartTime").and_then(Value::as_str) {
        None => true,
        Some(start) => {
            crate::check::values::parse_iso_datetime_ms(start).is_some_and(|start| now_ms < start + range as i64)
        }
    }
}

/// A role's slug in a membership's `roles` entry (custom roles come back as `custom` + `customRoleSlug`).
pub fn role_slug(role: &Value) -> &str {
    match role.get("role").and_then(Value::as_str) {
        Some("custom") | None => role.get("customRoleSlug").and_then(Value::as_str).unwrap_or_default(),
        Some(slug) => slug,
    }
}

/// A membership's roles in canonical form: custom roles by slug (the API says `custom` + `customRoleSlug`).
pub fn canonical_roles(roles: &[Value]) -> Value {
    let mut out: Vec<Value> = roles
        .iter()
        .map(|role| {
            let slug = role_slug(role);
            let temporary = if role.get("isTemporary") == Some(&Value::Bool(true)) {
                canonical::temporary(str_of(role, "temporaryRange"), str_of(role, "temporaryAccessStartTime"))
            } else {
                Value::Null
            };
            json!({ "role": slug, "temporary": temporary })
        })
        .collect();
    canonical::sort_roles(&mut out);
    Value::Array(out)
}

fn privilege(kind: Kind, member: &str, raw: &Value) -> LiveObject {
    let slug = str_of(raw, "slug").unwrap_or_default();
    let temporary = if raw.get("isTemporary") == Some(&Value::Bool(true)) {
        canonical::temporary(str_of(raw, "temporaryRange"), str_of(raw, "temporaryAccessStartTime"))
    } else {
        Value::Null
    };
    LiveObject {
        object: Object {
            kind,
            address: address(kind, Some(member), slug),
            member: Some(member.to_owned()),
            body: json!({
                "slug": slug,
                "temporary": temporary,
                "permissions": canonical::permissions(list(raw, "permissions")),
            }),
            wire: Value::Null,
        },
        id: str_of(raw, "id").unwrap_or_default().to_owned(),
        raw: raw.clone(),
    }
}

fn principals(items: &[Value], users: &HashMap<String, String>) -> Vec<Value> {
    let mut out: Vec<Value> = items
        .iter()
        .map(|it| {
            let kind = str_of(it, "type").unwrap_or("user");
            let id = str_of(it, "id");
            let name = str_of(it, "username").or_else(|| str_of(it, "name")).filter(|it| !it.is_empty());
            let name = name.or_else(|| id.and_then(|id| users.get(id)).map(String::as_str));
            canonical_principal(kind, id, name)
        })
        .collect();
    out.sort_by_key(|it| it.to_string());
    out
}

fn environments(raw: &Value) -> Value {
    let mut slugs: Vec<&str> = list(raw, "environments").iter().filter_map(|it| str_of(it, "slug")).collect();
    if slugs.is_empty()
        && let Some(slug) = raw.get("environment").and_then(|it| str_of(it, "slug"))
    {
        slugs.push(slug);
    }
    canonical::string_set(slugs)
}

/// An access approval policy as `GET /api/v1/access-approvals/policies[/{id}]` returns it.
pub fn access_policy(raw: &Value, users: &HashMap<String, String>) -> LiveObject {
    let name = str_of(raw, "name").unwrap_or_default();
    let mut steps: BTreeMap<u64, Vec<Value>> = BTreeMap::new();
    for approver in list(raw, "approvers") {
        let step = approver.get("sequence").and_then(Value::as_u64).unwrap_or(1);
        steps.entry(step).or_default().push(approver.clone());
    }
    let required: HashMap<u64, u64> = list(raw, "approvalsRequired")
        .iter()
        .filter_map(|it| Some((it.get("stepNumber")?.as_u64()?, it.get("numberOfApprovals")?.as_u64()?)))
        .collect();
    let fallback = raw.get("approvals").and_then(Value::as_u64).unwrap_or(1);
    let steps: Vec<Value> = steps
        .iter()
        .map(|(step, approvers)| {
            json!({
                "approvals": required.get(step).copied().unwrap_or(fallback),
                "approvers": principals(approvers, users),
            })
        })
        .collect();
    LiveObject {
        object: Object {
            kind: Kind::AccessPolicy,
            address: address(Kind::AccessPolicy, None, name),
            member: None,
            body: json!({
                "name": name,
                "environments": environments(raw),
                "secretPath": canonical::policy_path(str_of(raw, "secretPath").unwrap_or("/")),
                "enforcementLevel": str_of(raw, "enforcementLevel").unwrap_or("hard"),
                "allowedSelfApprovals": raw.get("allowedSelfApprovals").and_then(Value::as_bool).unwrap_or(true),
                "maxTimePeriod": canonical_period(str_of(raw, "maxTimePeriod")),
                "requestExpirationTime": canonical_period(str_of(raw, "requestExpirationTime")),
                "steps": steps,
                "bypassers": principals(list(raw, "bypassers"), users),
            }),
            wire: Value::Null,
        },
        id: str_of(raw, "id").unwrap_or_default().to_owned(),
        raw: raw.clone(),
    }
}

/// A secret approval policy as `GET /api/v2/secret-approvals[/{id}]` returns it.
pub fn secret_policy(raw: &Value, users: &HashMap<String, String>) -> LiveObject {
    let name = str_of(raw, "name").unwrap_or_default();
    LiveObject {
        object: Object {
            kind: Kind::SecretPolicy,
            address: address(Kind::SecretPolicy, None, name),
            member: None,
            body: json!({
                "name": name,
                "environments": environments(raw),
                "secretPath": canonical::policy_path(str_of(raw, "secretPath").unwrap_or("/")),
                "approvals": raw.get("approvals").and_then(Value::as_u64).unwrap_or(1),
                "enforcementLevel": str_of(raw, "enforcementLevel").unwrap_or("hard"),
                "allowedSelfApprovals": raw.get("allowedSelfApprovals").and_then(Value::as_bool).unwrap_or(true),
                "approvers": principals(list(raw, "approvers"), users),
                "bypassers": principals(list(raw, "bypassers"), users),
            }),
            wire: Value::Null,
        },
        id: str_of(raw, "id").unwrap_or_default().to_owned(),
        raw: raw.clone(),
    }
}

/// A custom role as `GET .../roles/slug/{slug}` returns it.
pub fn role(raw: &Value) -> LiveObject {
    let slug = str_of(raw, "slug").unwrap_or_default();
    LiveObject {
        object: Object {
            kind: Kind::Role,
            address: address(Kind::Role, None, slug),
            member: None,
            body: json!({
                "slug": slug,
                "name": str_of(raw, "name").unwrap_or_default().trim(),
                "description": canonical::description(str_of(raw, "description")),
                "permissions": canonical::permissions(list(raw, "permissions")),
            }),
            wire: Value::Null,
        },
        id: str_of(raw, "id").unwrap_or_default().to_owned(),
        raw: raw.clone(),
    }
}

pub fn identity_membership(raw: &Value) -> LiveObject {
    let identity = raw.get("identity").cloned().unwrap_or_default();
    let name = str_of(&identity, "name").unwrap_or_default();
    let id = str_of(raw, "identityId").or_else(|| str_of(&identity, "id")).unwrap_or_default();
    LiveObject {
        object: Object {
            kind: Kind::IdentityMembership,
            address: address(Kind::IdentityMembership, None, name),
            member: Some(name.to_owned()),
            body: json!({ "roles": canonical_roles(list(raw, "roles")) }),
            wire: Value::Null,
        },
        id: id.to_owned(),
        raw: raw.clone(),
    }
}

pub fn user_membership(raw: &Value) -> LiveObject {
    let user = raw.get("user").cloned().unwrap_or_default();
    let email = str_of(&user, "email").or_else(|| str_of(&user, "username")).unwrap_or_default();
    LiveObject {
        object: Object {
            kind: Kind::UserMembership,
            address: address(Kind::UserMembership, None, email),
            member: Some(email.to_owned()),
            body: json!({ "roles": canonical_roles(list(raw, "roles")) }),
            wire: Value::Null,
        },
        id: str_of(raw, "id").unwrap_or_default().to_owned(),
        raw: raw.clone(),
    }
}

/// Where a read needs a user's token (Infisical refuses machine identities there).
fn user_only(error: ApiError, what: &str) -> String {
    match error.status() {
        Some(401 | 403) => format!(
            "{error}\n  help: Infisical lists {what} only for users: use a user token (`INFISICAL_TOKEN` from `infisical login`), not a machine identity"
        ),
        _ => error.to_string(),
    }
}

/// Reads the objects of the project. `predefined` are the predefined role slugs (not managed here).
/// Roles, memberships and identity privileges are always read; user privileges and approval policies only
/// when `kinds` has them (Infisical lists those only for users, so a machine identity can deploy a
/// repository that declares none).
pub fn read(
    client: &Client,
    project_id: &str,
    project_slug: &str,
    predefined: &[&str],
    kinds: &[Kind],
) -> Result<Live, String> {
    let mut live = Live::default();
    live.ids.project_id = project_id.to_owned();
    live.ids.project_slug = project_slug.to_owned();
    let roles = client.get(&format!("/api/v1/projects/{project_id}/roles")).map_err(|it| it.to_string())?;
    for summary in list(&roles, "roles") {
        let Some(slug) = str_of(summary, "slug") else { continue };
        if predefined.contains(&slug) || slug == "custom" {
            continue;
        }
        let full =
            client.get(&format!("/api/v1/projects/{project_id}/roles/slug/{slug}")).map_err(|it| it.to_string())?;
        live.objects.push(role(&full["role"]));
    }
    let memberships = client
        .get(&format!("/api/v1/projects/{project_id}/identity-memberships?limit=20000"))
        .map_err(|it| it.to_string())?;
    for raw in list(&memberships, "identityMemberships") {
        let membership = identity_membership(raw);
        let name = membership.object.member.clone().unwrap_or_default();
        live.ids.identities.insert(name.clone(), membership.id.clone());
        let privileges = client
            .get(&format!(
                "/api/v2/identity-project-additional-privilege?identityId={}&projectId={project_id}",
                membership.id
            ))
            .map_err(|it| it.to_string())?;
        live.objects.push(membership);
        for summary in list(&privileges, "privileges") {
            let id = str_of(summary, "id").unwrap_or_default();
            let full = client
                .get(&format!("/api/v2/identity-project-additional-privilege/{id}"))
                .map_err(|it| it.to_string())?;
            live.objects.push(privilege(Kind::IdentityPrivilege, &name, &full["privilege"]));
        }
    }
    let users = client.get(&format!("/api/v1/workspace/{project_id}/memberships")).map_err(|it| it.to_string())?;
    for raw in list(&users, "memberships") {
        let membership = user_membership(raw);
        let email = membership.object.member.clone().unwrap_or_default();
        if let (Some(id), Some(username)) =
            (raw.pointer("/user/id").and_then(Value::as_str), raw.pointer("/user/username").and_then(Value::as_str))
        {
            live.users.insert(id.to_owned(), username.to_owned());
        }
        live.ids.user_memberships.insert(email.clone(), membership.id.clone());
        if !kinds.contains(&Kind::UserPrivilege) {
            live.objects.push(membership);
            continue;
        }
        let privileges = client
            .get(&format!("/api/v1/user-project-additional-privilege?projectMembershipId={}", membership.id))
            .map_err(|error| user_only(error, "user privileges"))?;
        live.objects.push(membership);
        for summary in list(&privileges, "privileges") {
            let id = str_of(summary, "id").unwrap_or_default();
            let full =
                client.get(&format!("/api/v1/user-project-additional-privilege/{id}")).map_err(|it| it.to_string())?;
            live.objects.push(privilege(Kind::UserPrivilege, &email, &full["privilege"]));
        }
    }
    if kinds.contains(&Kind::AccessPolicy) {
        let access = client
            .get(&format!("/api/v1/access-approvals/policies?projectSlug={project_slug}"))
            .map_err(|error| user_only(error, "access approval policies"))?;
        for raw in list(&access, "approvals") {
            live.objects.push(access_policy(raw, &live.users));
        }
    }
    if kinds.contains(&Kind::SecretPolicy) {
        let secret = client
            .get(&format!("/api/v2/secret-approvals?projectId={project_id}"))
            .map_err(|error| user_only(error, "secret approval policies"))?;
        for raw in list(&secret, "approvals") {
            live.objects.push(secret_policy(raw, &live.users));
        }
    }
    Ok(live)
}

/// Reads one object back after a write, in canonical form.
pub fn read_back(
    client: &Client,
    kind: Kind,
    id: &str,
    member: Option<&str>,
    live: &Live,
) -> Result<LiveObject, String> {
    let project = &live.ids.project_id;
    let get = |path: String| client.get(&path).map_err(|it| it.to_string());
    Ok(match kind {
        Kind::Role => {
            let roles = get(format!("/api/v1/projects/{project}/roles"))?;
            let slug = list(&roles, "roles")
                .iter()
                .find(|it| str_of(it, "id") == Some(id))
                .and_then(|it| str_of(it, "slug"))
                .ok_or_else(|| format!("role `{id}` is not in the project after the write"))?
                .to_owned();
            role(&get(format!("/api/v1/projects/{project}/roles/slug/{slug}"))?["role"])
        }
        Kind::IdentityMembership => identity_membership(
            &get(format!("/api/v1/projects/{project}/identity-memberships/{id}"))?["identityMembership"],
        ),
        Kind::UserMembership => {
            let all = get(format!("/api/v1/workspace/{project}/memberships"))?;
            let raw = list(&all, "memberships")
                .iter()
                .find(|it| str_of(it, "id") == Some(id))
                .ok_or_else(|| format!("membership `{id}` is not in the project after the write"))?;
            user_membership(raw)
        }
        Kind::IdentityPrivilege => privilege(
            kind,
            member.unwrap_or_default(),
            &get(format!("/api/v2/identity-project-additional-privilege/{id}"))?["privilege"],
        ),
        Kind::UserPrivilege => privilege(
            kind,
            member.unwrap_or_default(),
            &get(format!("/api/v1/user-project-additional-privilege/{id}"))?["privilege"],
        ),
        Kind::AccessPolicy => {
            access_policy(&get(format!("/api/v1/access-approvals/policies/{id}"))?["approval"], &live.users)
        }
        Kind::SecretPolicy => secret_policy(&get(format!("/api/v2/secret-approvals/{id}"))?["approval"], &live.users),
    })
}
