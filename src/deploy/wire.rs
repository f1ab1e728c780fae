//! The requests that create, update, read and delete each kind of object (`infisical-model.md` §5).

use std::collections::HashMap;

use serde_json::{Value, json};

use super::api::Method;
use super::desired::{Kind, Object};

/// One API call.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Request {
    pub method: &'static str,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

impl Request {
    fn new(method: Method, path: String, body: Option<Value>) -> Request {
        Request { method: method.as_str(), path, body }
    }

    pub fn method(&self) -> Method {
        match self.method {
            "POST" => Method::Post,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            _ => Method::Get,
        }
    }
}

/// The ids requests refer to. When `placeholders` is set (`permc build`), an id not known yet is written
/// as `${...}` naming what it stands for; otherwise it is an error.
#[derive(Clone, Debug, Default)]
pub struct Ids {
    pub project_id: String,
    pub project_slug: String,
    /// Identity name to identity id.
    pub identities: HashMap<String, String>,
    /// User email to project membership id.
    pub user_memberships: HashMap<String, String>,
    /// The start time of temporary access written without one (ISO-8601).
    pub now: Option<String>,
    pub placeholders: bool,
}

impl Ids {
    fn identity(&self, object: &Object, declared: Option<&str>) -> Result<String, String> {
        let name = object.member.as_deref().unwrap_or_default();
        if let Some(id) = declared.or_else(|| self.identities.get(name).map(String::as_str)) {
            return Ok(id.to_owned());
        }
        if self.placeholders {
            return Ok(format!("${{identity `{name}`}}"));
        }
        Err(format!(
            "identity `{name}` has no `id` and is not a member of the project: add its `id` (Organization Access Control > Identities)"
        ))
    }

    fn user_membership(&self, object: &Object) -> Result<String, String> {
        let email = object.member.as_deref().unwrap_or_default();
        if let Some(id) = self.user_memberships.get(email) {
            return Ok(id.clone());
        }
        if self.placeholders {
            return Ok(format!("${{project membership of `{email}`}}"));
        }
        Err(format!("user `{email}` is not a member of the project"))
    }

    /// Fills in `temporaryAccessStartTime: null` (start when applied).
    fn start(&self, temporary: &mut Value) {
        if temporary.get("isTemporary") == Some(&Value::Bool(true)) && temporary["temporaryAccessStartTime"].is_null() {
            temporary["temporaryAccessStartTime"] = match &self.now {
                Some(now) if !self.placeholders => json!(now),
                _ => json!("${now}"),
            };
        }
    }
}

fn roles_body(object: &Object, ids: &Ids) -> Value {
    let mut roles = object.wire["roles"].clone();
    for role in roles.as_array_mut().into_iter().flatten() {
        ids.start(role);
    }
    // Never empty: `permc check` requires a role for every member (the routes refuse an empty list).
    json!({ "roles": roles })
}

fn privilege_body(object: &Object, ids: &Ids) -> Value {
    let mut body = json!({
        "slug": object.wire["slug"],
        "permissions": object.wire["permissions"],
        "type": object.wire["type"],
    });
    ids.start(&mut body["type"]);
    body
}

fn policy_body(object: &Object) -> Value {
    let mut body = object.wire.clone();
    if let Value::Object(entries) = &mut body {
        entries.retain(|_, value| !value.is_null());
    }
    body
}

/// The calls that create `object` (two for a user: the invitation, then the roles).
pub fn create(object: &Object, ids: &Ids) -> Result<Vec<Request>, String> {
    let project = &ids.project_id;
    Ok(match object.kind {
        Kind::Role => {
            vec![Request::new(Method::Post, format!("/api/v1/projects/{project}/roles"), Some(role_body(object)))]
        }
        Kind::IdentityMembership => {
            let identity = ids.identity(object, object.wire["id"].as_str())?;
            vec![Request::new(
                Method::Post,
                format!("/api/v1/projects/{project}/identity-memberships/{identity}"),
                Some(roles_body(object, ids)),
            )]
        }
        Kind::UserMembership => {
            let email = object.member.clone().unwrap_or_default();
            let invite = Request::new(
                Method::Post,
                format!("/api/v2/workspace/{project}/memberships"),
                Some(json!({ "usernames": [email], "roleSlugs": ["no-access"] })),
            );
            // Known only once the invitation answers: `apply` sends this second call with the new id.
            let membership = ids
                .user_memberships
                .get(&email)
                .cloned()
                .unwrap_or_else(|| format!("${{project membership of `{email}`}}"));
            vec![
                invite,
                Request::new(
                    Method::Patch,
                    format!("/api/v1/workspace/{project}/memberships/{membership}"),
                    Some(roles_body(object, ids)),
                ),
            ]
        }
        Kind::IdentityPrivilege => {
            let mut body = privilege_body(object, ids);
            body["identityId"] = json!(ids.identity(object, object.wire["memberId"].as_str())?);
            body["projectId"] = json!(project);
            vec![Request::new(Method::Post, "/api/v2/identity-project-additional-privilege".into(), Some(body))]
        }
        Kind::UserPrivilege => {
            let mut body = privilege_body(object, ids);
            body["projectMembershipId"] = json!(ids.user_membership(object)?);
            vec![Request::new(Method::Post, "/api/v1/user-project-additional-privilege".into(), Some(body))]
        }
        Kind::AccessPolicy => {
            let mut body = policy_body(object);
            body["projectSlug"] = json!(ids.project_slug);
            vec![Request::new(Method::Post, "/api/v1/access-approvals/policies".into(), Some(body))]
        }
        Kind::SecretPolicy => {
            let mut body = policy_body(object);
            body["projectId"] = json!(project);
            vec![Request::new(Method::Post, "/api/v2/secret-approvals".into(), Some(body))]
        }
    })
}

fn role_body(object: &Object) -> Value {
    let mut body = object.wire.clone();
    if body["description"].is_null() {
        body.as_object_mut().map(|it| it.remove("description"));
    }
    body
}

/// The call that makes the live object `id` equal to `object`. Every field is sent: some PATCH routes reset
/// what is omitted (`enforcementLevel`, `allowedSelfApprovals`).
pub fn update(object: &Object, id: &str, ids: &Ids) -> Result<Request, String> {
    let project = &ids.project_id;
    Ok(match object.kind {
        Kind::Role => {
            Request::new(Method::Patch, format!("/api/v1/projects/{project}/roles/{id}"), Some(role_body(object)))
        }
        Kind::IdentityMembership => Request::new(
            Method::Patch,
            format!("/api/v1/projects/{project}/identity-memberships/{id}"),
            Some(roles_body(object, ids)),
        ),
        Kind::UserMembership => Request::new(
            Method::Patch,
            format!("/api/v1/workspace/{project}/memberships/{id}"),
            Some(roles_body(object, ids)),
        ),
        Kind::IdentityPrivilege => Request::new(
            Method::Patch,
            format!("/api/v2/identity-project-additional-privilege/{id}"),
            Some(privilege_body(object, ids)),
        ),
        Kind::UserPrivilege => Request::new(
            Method::Patch,
            format!("/api/v1/user-project-additional-privilege/{id}"),
            Some(privilege_body(object, ids)),
        ),
        Kind::AccessPolicy => {
            Request::new(Method::Patch, format!("/api/v1/access-approvals/policies/{id}"), Some(policy_body(object)))
        }
        Kind::SecretPolicy => {
            Request::new(Method::Patch, format!("/api/v2/secret-approvals/{id}"), Some(policy_body(object)))
        }
    })
}

/// The call that deletes the live object `id`; `None` for what permc does not delete (user memberships:
/// removing people from a project is left to Infisical's console).
pub fn delete(kind: Kind, id: &str, ids: &Ids) -> Option<Request> {
    let project = &ids.project_id;
    let path = match kind {
        Kind::Role => format!("/api/v1/projects/{project}/roles/{id}"),
        Kind::IdentityMembership => format!("/api/v1/projects/{project}/identity-memberships/{id}"),
        Kind::UserMembership => return None,
        Kind::IdentityPrivilege => format!("/api/v2/identity-project-additional-privilege/{id}"),
        Kind::UserPrivilege => format!("/api/v1/user-project-additional-privilege/{id}"),
        Kind::AccessPolicy => format!("/api/v1/access-approvals/policies/{id}"),
        Kind::SecretPolicy => format!("/api/v2/secret-approvals/{id}"),
    };
    Some(Request::new(Method::Delete, path, None))
}

/// The id a create answer gives the new object (for identity memberships: the identity's id, which the
/// membership routes take).
pub fn created_id(kind: Kind, answer: &Value, identity: Option<&str>) -> Option<String> {
    let id = match kind {
        Kind::Role => answer.pointer("/role/id"),
        Kind::IdentityMembership => return identity.map(str::to_owned),
        Kind::UserMembership => answer.pointer("/memberships/0/id"),
        Kind::IdentityPrivilege | Kind::UserPrivilege => answer.pointer("/privilege/id"),
        Kind::AccessPolicy | Kind::SecretPolicy => answer.pointer("/approval/id"),
    };
    id.and_then(Value::as_str).map(str::to_owned)
}
