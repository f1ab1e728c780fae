//! `permc import`: a live project as policy files (YAML or HCL), such that a plan of them against the same
//! project shows no changes.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::desired::Kind;
use super::live::{Live, LiveObject};

/// The surface the imported files are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    Yaml,
    Hcl,
}

/// A live project as one document of the YAML form.
pub fn document(live: &Live, host: &str) -> Value {
    let mut out = Map::new();
    out.insert("project".into(), json!({ "slug": live.ids.project_slug, "id": live.ids.project_id, "host": host }));
    let of = |kind: Kind| live.objects.iter().filter(move |it| it.object.kind == kind);
    let mut by_member: std::collections::HashMap<(Kind, &str), Vec<Value>> = std::collections::HashMap::new();
    for it in live.objects.iter().filter(|it| matches!(it.object.kind, Kind::IdentityPrivilege | Kind::UserPrivilege)) {
        by_member
            .entry((it.object.kind, it.object.member.as_deref().unwrap_or_default()))
            .or_default()
            .push(privilege(it));
    }
    let privileges =
        |kind: Kind, member: &str| -> Vec<Value> { by_member.get(&(kind, member)).cloned().unwrap_or_default() };
    // A member: its name (and id, for identities), its roles, its privileges.
    let member = |membership: &LiveObject, key: &str, privilege_kind: Kind| {
        let name = membership.object.member.clone().unwrap_or_default();
        let mut entry = Map::new();
        entry.insert(key.into(), json!(name));
        if privilege_kind == Kind::IdentityPrivilege {
            entry.insert("id".into(), json!(membership.id));
        }
        entry.insert("roles".into(), roles_of(&membership.raw));
        let privileges = privileges(privilege_kind, &name);
        if !privileges.is_empty() {
            entry.insert("privileges".into(), Value::Array(privileges));
        }
        Value::Object(entry)
    };
    let lists = [
        ("roles", of(Kind::Role).map(role).collect::<Vec<_>>()),
        ("identities", of(Kind::IdentityMembership).map(|it| member(it, "name", Kind::IdentityPrivilege)).collect()),
        ("users", of(Kind::UserMembership).map(|it| member(it, "email", Kind::UserPrivilege)).collect()),
        ("accessPolicies", of(Kind::AccessPolicy).map(|it| access_policy(it, live)).collect()),
        ("secretPolicies", of(Kind::SecretPolicy).map(|it| secret_policy(it, live)).collect()),
    ];
    for (key, list) in lists {
        if !list.is_empty() {
            out.insert(key.into(), Value::Array(list));
        }
    }
    Value::Object(out)
}

/// A document as policy files, one per part: (file name, text). `origin` says where it came from.
pub fn files(document: &Value, surface: Surface, origin: &str) -> Vec<(String, String)> {
    let parts: [(&str, &[&str], &str); 5] = [
        ("project", &["project"], "The Infisical project this repository describes."),
        ("roles", &["roles"], "Custom project roles."),
        ("identities", &["identities"], "Machine identities of the project."),
        ("users", &["users"], "Users of the project."),
        ("approvals", &["accessPolicies", "secretPolicies"], "Approval workflows."),
    ];
    let mut out = Vec::new();
    for (name, keys, comment) in parts {
        let part: Map<String, Value> =
            keys.iter().filter_map(|key| Some(((*key).to_owned(), document.get(*key)?.clone()))).collect();
        if part.is_empty() {
            continue;
        }
        let value = Value::Object(part);
        let (extension, text) = match surface {
            Surface::Yaml => ("yaml", crate::syntax::write::yaml(&value)),
            Surface::Hcl => ("hcl", crate::syntax::write::hcl(&value)),
        };
        out.push((
            format!("{name}.{extension}"),
            format!("# Imported by `permc import` from {origin}. {comment}\n{text}"),
        ));
    }
    out
}

/// Permissions as the API returned them, without what Infisical drops anyway (`inverted: false`, `{}`).
fn permissions(raw: &Value) -> Value {
    let rules = raw.get("permissions").and_then(Value::as_array).cloned().unwrap_or_default();
    Value::Array(
        rules
            .into_iter()
            .map(|mut rule| {
                if let Value::Object(entries) = &mut rule {
                    if entries.get("inverted") == Some(&Value::Bool(false)) {
                        entries.remove("inverted");
                    }
                    if entries.get("conditions").and_then(Value::as_object).is_some_and(Map::is_empty) {
                        entries.remove("conditions");
                    }
                    if let Some(Value::Array(subjects)) = entries.get("subject").cloned() {
                        entries.insert("subject".into(), subjects.first().cloned().unwrap_or(Value::Null));
                    }
                }
                rule
            })
            .collect(),
    )
}

fn temporary_fields(raw: &Value, entry: &mut Map<String, Value>) {
    if raw.get("isTemporary") == Some(&Value::Bool(true)) {
        entry.insert("duration".into(), raw.get("temporaryRange").cloned().unwrap_or(Value::Null));
        if let Some(start) = raw.get("temporaryAccessStartTime").filter(|it| !it.is_null()) {
            entry.insert("start".into(), start.clone());
        }
    }
}

fn role(object: &LiveObject) -> Value {
    let raw = &object.raw;
    let mut entry = Map::new();
    entry.insert("slug".into(), raw["slug"].clone());
    entry.insert("name".into(), raw["name"].clone());
    if let Some(description) = raw.get("description").and_then(Value::as_str).filter(|it| !it.trim().is_empty()) {
        entry.insert("description".into(), json!(description));
    }
    entry.insert("permissions".into(), permissions(raw));
    Value::Object(entry)
}

fn privilege(object: &LiveObject) -> Value {
    let raw = &object.raw;
    let mut entry = Map::new();
    entry.insert("slug".into(), raw["slug"].clone());
    temporary_fields(raw, &mut entry);
    entry.insert("permissions".into(), permissions(raw));
    Value::Object(entry)
}

/// A membership's roles: permanent ones (plain slugs) first, then temporary ones.
fn roles_of(raw: &Value) -> Value {
    let mut roles = raw.get("roles").and_then(Value::as_array).cloned().unwrap_or_default();
    roles.sort_by_key(|it| it.get("isTemporary") == Some(&Value::Bool(true)));
    Value::Array(
        roles
            .iter()
            .map(|role| {
                let slug = json!(super::live::role_slug(role));
                if role.get("isTemporary") == Some(&Value::Bool(true)) {
                    let mut entry = Map::new();
                    entry.insert("role".into(), slug);
                    temporary_fields(role, &mut entry);
                    Value::Object(entry)
                } else {
                    slug
                }
            })
            .collect(),
    )
}

fn principal(raw: &Value, live: &Live) -> Value {
    let kind = raw.get("type").and_then(Value::as_str).unwrap_or("user");
    let id = raw.get("id").and_then(Value::as_str);
    if kind == "group" {
        return json!({ "type": "group", "id": id });
    }
    let name = raw
        .get("username")
        .or_else(|| raw.get("name"))
        .and_then(Value::as_str)
        .filter(|it| !it.is_empty())
        .or_else(|| id.and_then(|id| live.users.get(id)).map(String::as_str));
    match name {
        Some(name) => json!({ "type": "user", "username": name }),
        None => json!({ "type": "user", "id": id }),
    }
}

fn environments(raw: &Value) -> Value {
    let mut slugs: Vec<Value> = raw
        .get("environments")
        .and_then(Value::as_array)
        .map(|it| it.iter().filter_map(|env| env.get("slug").cloned()).collect())
        .unwrap_or_default();
    if slugs.is_empty()
        && let Some(slug) = raw.pointer("/environment/slug")
    {
        slugs.push(slug.clone());
    }
    Value::Array(slugs)
}

fn access_policy(object: &LiveObject, live: &Live) -> Value {
    let raw = &object.raw;
    let mut entry = Map::new();
    entry.insert("name".into(), raw["name"].clone());
    entry.insert("environments".into(), environments(raw));
    entry.insert("secretPath".into(), raw["secretPath"].clone());
    entry.insert("enforcementLevel".into(), raw.get("enforcementLevel").cloned().unwrap_or(json!("hard")));
    entry.insert("allowedSelfApprovals".into(), raw.get("allowedSelfApprovals").cloned().unwrap_or(json!(true)));
    for key in ["maxTimePeriod", "requestExpirationTime"] {
        if let Some(value) = raw.get(key).filter(|it| !it.is_null()) {
            entry.insert(key.into(), value.clone());
        }
    }
    let bypassers: Vec<Value> =
        raw.get("bypassers").and_then(Value::as_array).into_iter().flatten().map(|it| principal(it, live)).collect();
    if !bypassers.is_empty() {
        entry.insert("bypassers".into(), Value::Array(bypassers));
    }
    let mut steps: BTreeMap<u64, Vec<Value>> = BTreeMap::new();
    for approver in raw.get("approvers").and_then(Value::as_array).into_iter().flatten() {
        let step = approver.get("sequence").and_then(Value::as_u64).unwrap_or(1);
        steps.entry(step).or_default().push(principal(approver, live));
    }
    let required = |step: u64| {
        raw.get("approvalsRequired")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|it| it.get("stepNumber").and_then(Value::as_u64) == Some(step))
            .and_then(|it| it.get("numberOfApprovals").cloned())
            .or_else(|| raw.get("approvals").cloned())
            .unwrap_or(json!(1))
    };
    let steps: Vec<Value> = steps
        .into_iter()
        .map(|(step, approvers)| json!({ "approvals": required(step), "approvers": approvers }))
        .collect();
    entry.insert("steps".into(), Value::Array(steps));
    Value::Object(entry)
}

fn secret_policy(object: &LiveObject, live: &Live) -> Value {
    let raw = &object.raw;
    let mut entry = Map::new();
    entry.insert("name".into(), raw["name"].clone());
    entry.insert("environments".into(), environments(raw));
    entry.insert("secretPath".into(), raw["secretPath"].clone());
    entry.insert("approvals".into(), raw.get("approvals").cloned().unwrap_or(json!(1)));
    let list = |key: &str| -> Vec<Value> {
        raw.get(key).and_then(Value::as_array).into_iter().flatten().map(|it| principal(it, live)).collect()
    };
    entry.insert("approvers".into(), Value::Array(list("approvers")));
    let bypassers = list("bypassers");
    if !bypassers.is_empty() {
        entry.insert("bypassers".into(), Value::Array(bypassers));
    }
    entry.insert("enforcementLevel".into(), raw.get("enforcementLevel").cloned().unwrap_or(json!("hard")));
    entry.insert("allowedSelfApprovals".into(), raw.get("allowedSelfApprovals").cloned().unwrap_or(json!(true)));
    Value::Object(entry)
}
