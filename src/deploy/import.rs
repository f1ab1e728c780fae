//! `permc import`: a live project as policy files (YAML), such that a plan of them against the same
//! project shows no changes.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::desired::Kind;
use super::live::{Live, LiveObject};

/// The files of the imported repository: (file name, text).
pub fn files(live: &Live, host: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let project = json!({ "project": {
        "slug": live.ids.project_slug,
        "id": live.ids.project_id,
        "host": host,
    }});
    out.push(("project.yaml".to_owned(), document("The Infisical project this repository describes.", &project)));
    let of = |kind: Kind| live.objects.iter().filter(move |it| it.object.kind == kind);

    let roles: Vec<Value> = of(Kind::Role).map(role).collect();
    if !roles.is_empty() {
        out.push(("roles.yaml".to_owned(), document("Custom project roles.", &json!({ "roles": roles }))));
    }
    let privileges = |kind: Kind, member: &str| -> Vec<Value> {
        of(kind).filter(|it| it.object.member.as_deref() == Some(member)).map(privilege).collect()
    };
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
    let identities: Vec<Value> =
        of(Kind::IdentityMembership).map(|it| member(it, "name", Kind::IdentityPrivilege)).collect();
    if !identities.is_empty() {
        out.push((
            "identities.yaml".to_owned(),
            document("Machine identities of the project.", &json!({ "identities": identities })),
        ));
    }
    let users: Vec<Value> = of(Kind::UserMembership).map(|it| member(it, "email", Kind::UserPrivilege)).collect();
    if !users.is_empty() {
        out.push(("users.yaml".to_owned(), document("Users of the project.", &json!({ "users": users }))));
    }
    let access: Vec<Value> = of(Kind::AccessPolicy).map(|it| access_policy(it, live)).collect();
    let secret: Vec<Value> = of(Kind::SecretPolicy).map(|it| secret_policy(it, live)).collect();
    if !access.is_empty() || !secret.is_empty() {
        let mut approvals = Map::new();
        if !access.is_empty() {
            approvals.insert("accessPolicies".into(), Value::Array(access));
        }
        if !secret.is_empty() {
            approvals.insert("secretPolicies".into(), Value::Array(secret));
        }
        out.push(("approvals.yaml".to_owned(), document("Approval workflows.", &Value::Object(approvals))));
    }
    out
}

fn document(comment: &str, value: &Value) -> String {
    format!("# Imported by `permc import`. {comment}\n{}", to_yaml(value))
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

fn roles_of(raw: &Value) -> Value {
    let roles = raw.get("roles").and_then(Value::as_array).cloned().unwrap_or_default();
    Value::Array(
        roles
            .iter()
            .map(|role| {
                let slug = match role.get("role").and_then(Value::as_str) {
                    Some("custom") | None => role.get("customRoleSlug").cloned().unwrap_or(Value::Null),
                    Some(slug) => json!(slug),
                };
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

/// Block-style YAML for a JSON value. Strings are plain where YAML reads them back as the same string,
/// else JSON-quoted (a JSON string is a YAML double-quoted scalar).
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, 0, &mut out);
    out
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => {
            let plain = !text.is_empty()
                && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./@*$".contains(c))
                && !text.starts_with(['-', '*', '.', '@'])
                && !matches!(
                    text.to_ascii_lowercase().as_str(),
                    "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~"
                )
                && text.parse::<f64>().is_err()
                && !text.chars().next().is_some_and(|c| c.is_ascii_digit());
            if plain { text.clone() } else { Value::String(text.clone()).to_string() }
        }
        other => other.to_string(),
    }
}

fn write_value(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(entries) if !entries.is_empty() => {
            for (key, value) in entries {
                out.push_str(&format!("{pad}{}:", scalar(&Value::String(key.clone()))));
                write_nested(value, indent, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                match item {
                    Value::Object(entries) if !entries.is_empty() => {
                        // The first key on the dash line, the rest aligned under it.
                        let mut text = String::new();
                        write_value(item, indent + 2, &mut text);
                        out.push_str(&format!("{pad}- {}", &text[indent + 2..]));
                    }
                    Value::Array(inner) if !inner.is_empty() => {
                        out.push_str(&format!("{pad}-\n"));
                        write_value(item, indent + 2, out);
                    }
                    _ => out.push_str(&format!("{pad}- {}\n", inline(item))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", inline(other))),
    }
}

fn write_nested(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(entries) if !entries.is_empty() => {
            out.push('\n');
            write_value(value, indent + 2, out);
        }
        Value::Array(items) if !items.is_empty() => {
            if items.iter().all(|it| !it.is_object() && !it.is_array()) {
                out.push_str(&format!(" {}\n", inline(value)));
            } else {
                out.push('\n');
                write_value(value, indent + 2, out);
            }
        }
        other => out.push_str(&format!(" {}\n", inline(other))),
    }
}

/// Flow style for scalars, empty collections and lists of scalars.
fn inline(value: &Value) -> String {
    match value {
        Value::Array(items) => format!("[{}]", items.iter().map(inline).collect::<Vec<_>>().join(", ")),
        Value::Object(entries) if entries.is_empty() => "{}".to_owned(),
        Value::Object(_) => value.to_string(),
        other => scalar(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_reads_back_as_the_same_value() {
        let value = json!({
            "roles": [{
                "slug": "a-b", "name": "Team: ops", "description": "yes",
                "permissions": [{ "subject": "secrets", "action": ["read", "edit"],
                    "conditions": { "secretPath": { "$glob": "/x/**" }, "environment": { "$in": ["dev", "1"] } } }],
                "nested": [[1, 2], []], "empty": {}, "n": null, "t": true, "num": 3,
            }],
            "odd keys": { "-x": "#c", "": "" },
        });
        let text = to_yaml(&value);
        let parse = crate::syntax::parse(crate::source::FileId(0), crate::syntax::Format::Yaml, &text);
        assert!(parse.diagnostics.is_empty(), "{text}\n{:?}", parse.diagnostics);
        assert_eq!(parse.root.unwrap().to_json(), value, "{text}");
    }
}
