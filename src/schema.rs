//! The JSON Schema of the YAML/JSON policy surface (`grammar/policy.schema.json`), generated from the catalog
//! so that editors complete subjects, actions, condition keys and operators per subject.
//!
//! The schema describes shape only; permc's own checks (`permc check`) go further (environments, slugs,
//! cross-file references, Infisical's combination rules).

use serde_json::{Map, Value, json};

use crate::catalog::{Catalog, ConditionKey, ConditionKind, Operator, Subject};
use crate::model::lower::{
    ACCESS_POLICY_KEYS, ASSIGNMENT_KEYS, IDENTITY_KEYS, PRINCIPAL_KEYS, PRIVILEGE_KEYS, PROJECT_KEYS, ROLE_KEYS,
    SECRET_POLICY_KEYS, STEP_KEYS, TEMPORARY_KEYS, USER_KEYS,
};

/// The repository path of the generated schema.
pub const SCHEMA_PATH: &str = "grammar/policy.schema.json";

/// Builds the schema for `catalog`.
pub fn policy_schema(catalog: &Catalog) -> Value {
    let mut definitions = Map::new();
    definitions.insert("project".into(), project());
    definitions.insert("role".into(), role());
    definitions.insert("identity".into(), member("name", IDENTITY_KEYS));
    definitions.insert("user".into(), member("email", USER_KEYS));
    definitions.insert("roleAssignment".into(), role_assignment());
    definitions.insert("privilege".into(), privilege());
    definitions.insert("principal".into(), principal());
    definitions.insert("accessPolicy".into(), access_policy());
    definitions.insert("secretPolicy".into(), secret_policy());
    definitions.insert("duration".into(), json!({
        "description": "An `ms` duration as Infisical parses it: `30m`, `4h`, `2 days`, `1w`, `1y`; a bare number is milliseconds",
        "type": ["string", "number"]
    }));
    definitions.insert(
        "permissions".into(),
        json!({
            "description": "Permission rules, in Infisical's API shape",
            "type": "array",
            "items": { "$ref": "#/definitions/permission" }
        }),
    );
    definitions.insert("permission".into(), permission(catalog));
    for subject in catalog.subjects() {
        definitions.insert(format!("rule:{}", subject.name), rule(subject));
    }
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": format!("https://permc.dev/schema/{}/policy.schema.json", catalog.version()),
        "title": "permc policy file",
        "description": format!(
            "One file of a permc policy repository (YAML or JSON). Generated from catalog `{}` by `permc schema`; do not edit.",
            catalog.version()
        ),
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "$schema": { "type": "string" },
            "project": { "$ref": "#/definitions/project" },
            "roles": { "type": "array", "items": { "$ref": "#/definitions/role" } },
            "identities": { "type": "array", "items": { "$ref": "#/definitions/identity" } },
            "users": { "type": "array", "items": { "$ref": "#/definitions/user" } },
            "accessPolicies": { "type": "array", "items": { "$ref": "#/definitions/accessPolicy" } },
            "secretPolicies": { "type": "array", "items": { "$ref": "#/definitions/secretPolicy" } }
        },
        "definitions": definitions
    })
}

fn strings() -> Value {
    json!({ "type": "array", "items": { "type": "string" } })
}

/// An object with exactly `keys`: the typed ones from `typed`, the rest (read-only keys the API returns) any.
fn object(description: &str, keys: &[&str], typed: Value, required: &[&str]) -> Value {
    let typed = typed.as_object().cloned().unwrap_or_default();
    let mut properties = Map::new();
    for key in keys {
        let schema =
            typed.get(*key).cloned().unwrap_or_else(|| json!({ "description": "Returned by the API; ignored" }));
        properties.insert((*key).to_string(), schema);
    }
    json!({
        "description": description,
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": properties
    })
}

fn project() -> Value {
    object(
        "The Infisical project this repository describes (exactly one declaration)",
        PROJECT_KEYS,
        json!({
            "slug": { "type": "string", "description": "The project slug" },
            "id": { "type": "string", "description": "The project id" },
            "host": { "type": "string", "description": "The Infisical API host (default https://app.infisical.com)" },
            "catalog": { "type": "string", "description": "The catalog version the repository is checked against" },
            "environments": { "description": "The environment slugs that exist", "type": "array", "items": { "type": "string" } },
            "sensitiveEnvironments": { "description": "Environments `permc lint` treats as sensitive", "type": "array", "items": { "type": "string" } },
            "lints": {
                "description": "Lint levels by code or name, e.g. `redundant-rule: deny`",
                "type": "object",
                "propertyNames": { "enum": lint_names() },
                "additionalProperties": { "enum": ["allow", "warn", "deny"] }
            }
        }),
        &[],
    )
}

/// Every lint's code and name.
fn lint_names() -> Vec<&'static str> {
    crate::codes::Code::ALL.iter().filter(|it| it.is_lint()).flat_map(|it| [it.id(), it.name()]).collect()
}

fn role() -> Value {
    object(
        "A custom project role",
        ROLE_KEYS,
        json!({
            "slug": { "type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 64 },
            "name": { "type": "string" },
            "description": { "type": ["string", "null"] },
            "permissions": { "$ref": "#/definitions/permissions" }
        }),
        &["slug"],
    )
}

fn temporary() -> Map<String, Value> {
    let typed = json!({
        "duration": { "$ref": "#/definitions/duration" },
        "temporaryRange": { "$ref": "#/definitions/duration" },
        "start": { "type": "string", "format": "date-time" },
        "temporaryAccessStartTime": { "type": "string", "format": "date-time" },
        "isTemporary": { "type": "boolean" },
        "temporaryMode": { "const": "relative" }
    });
    let typed = typed.as_object().cloned().unwrap_or_default();
    TEMPORARY_KEYS
        .iter()
        .map(|key| {
            (
                (*key).to_string(),
                typed.get(*key).cloned().unwrap_or_else(|| json!({ "description": "Returned by the API; ignored" })),
            )
        })
        .collect()
}

fn with_temporary(mut schema: Value) -> Value {
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        properties.extend(temporary());
    }
    schema
}

fn role_assignment() -> Value {
    json!({
        "description": "A role slug, or a temporary assignment",
        "oneOf": [
            { "type": "string" },
            with_temporary(object("A role assignment", ASSIGNMENT_KEYS, json!({ "role": { "type": "string" } }), &["role"]))
        ]
    })
}

fn privilege() -> Value {
    with_temporary(object(
        "An additional privilege",
        PRIVILEGE_KEYS,
        json!({
            "slug": { "type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 60 },
            "permissions": { "$ref": "#/definitions/permissions" }
        }),
        &["slug", "permissions"],
    ))
}

fn member(name_key: &str, keys: &[&str]) -> Value {
    let mut typed = json!({
        "id": { "type": "string" },
        "username": { "type": "string" },
        "roles": { "type": "array", "minItems": 1, "items": { "$ref": "#/definitions/roleAssignment" } },
        "privileges": { "type": "array", "items": { "$ref": "#/definitions/privilege" } }
    });
    typed[name_key] = json!({ "type": "string" });
    let description =
        if name_key == "email" { "A user member of the project" } else { "A machine identity member of the project" };
    object(description, keys, typed, &[name_key, "roles"])
}

fn principal() -> Value {
    object(
        "An approver or bypasser: a user (by `id` or `username`) or a group (by `id`)",
        PRINCIPAL_KEYS,
        json!({
            "type": { "enum": ["user", "group"] },
            "id": { "type": "string" },
            "username": { "type": "string" },
            "sequence": { "type": "integer", "minimum": 1 }
        }),
        &["type"],
    )
}

fn policy_common() -> Value {
    json!({
        "name": { "type": "string" },
        "environment": { "type": "string" },
        "environments": strings(),
        "secretPath": { "type": "string", "pattern": "^/" },
        "enforcementLevel": { "enum": ["hard", "soft"] },
        "allowedSelfApprovals": { "type": "boolean" },
        "approvals": { "type": "integer", "minimum": 1 },
        "approvers": { "type": "array", "maxItems": 100, "items": { "$ref": "#/definitions/principal" } },
        "bypassers": { "type": "array", "maxItems": 100, "items": { "$ref": "#/definitions/principal" } }
    })
}

fn access_policy() -> Value {
    let mut typed = policy_common();
    typed["maxTimePeriod"] = json!({ "description": "`permanent` or a duration", "$ref": "#/definitions/duration" });
    typed["requestExpirationTime"] =
        json!({ "description": "`never` or a duration of 1m to 1y", "$ref": "#/definitions/duration" });
    typed["steps"] = json!({
        "type": "array",
        "items": object("One approval step", STEP_KEYS, json!({
            "approvals": { "type": "integer", "minimum": 1 },
            "approvers": { "type": "array", "minItems": 1, "items": { "$ref": "#/definitions/principal" } }
        }), &["approvers"])
    });
    object("An access-request approval policy", ACCESS_POLICY_KEYS, typed, &["name", "secretPath"])
}

fn secret_policy() -> Value {
    object("A secret-change approval policy", SECRET_POLICY_KEYS, policy_common(), &["name", "secretPath", "approvers"])
}

fn permission(catalog: &Catalog) -> Value {
    let subjects: Vec<&str> = catalog.subjects().iter().map(|it| it.name.as_str()).collect();
    let branches: Vec<Value> = catalog
        .subjects()
        .iter()
        .map(|subject| {
            json!({
                "if": { "properties": { "subject": { "const": subject.name } }, "required": ["subject"] },
                "then": { "$ref": format!("#/definitions/rule:{}", subject.name) }
            })
        })
        .collect();
    json!({
        "description": "One permission rule",
        "type": "object",
        "required": ["subject", "action"],
        "properties": { "subject": { "enum": subjects } },
        "allOf": branches
    })
}

fn rule(subject: &Subject) -> Value {
    let described: Vec<String> = subject
        .actions
        .iter()
        .map(|action| format!("`{action}`: {}", subject.action_descriptions.get(action).map_or("", String::as_str)))
        .collect();
    let actions = json!({ "enum": subject.actions, "description": described.join("; ") });
    let mut properties = Map::new();
    properties.insert("subject".into(), json!({ "const": subject.name }));
    properties.insert(
        "action".into(),
        json!({ "oneOf": [actions, { "type": "array", "minItems": 1, "items": { "enum": subject.actions } }] }),
    );
    if subject.inverted {
        properties.insert("inverted".into(), json!({ "type": "boolean", "description": "true for a deny rule" }));
    }
    if let Some(keys) = &subject.conditions {
        let conditions: Map<String, Value> = keys.iter().map(|key| (key.key.clone(), condition(key))).collect();
        properties.insert(
            "conditions".into(),
            json!({ "type": "object", "additionalProperties": false, "properties": conditions }),
        );
    }
    json!({
        "description": format!("A rule on `{}`: {}", subject.name, subject.description),
        "type": "object",
        "additionalProperties": false,
        "properties": properties
    })
}

fn operator_schema(kind: ConditionKind, operator: Operator) -> Value {
    let path = kind == ConditionKind::Path;
    match operator {
        Operator::Eq | Operator::Ne if path => json!({ "type": "string", "pattern": "^/" }),
        Operator::Eq | Operator::Ne | Operator::Glob => json!({ "type": "string", "minLength": 1 }),
        Operator::In if path => json!({ "type": "array", "items": { "type": "string", "pattern": "^/" } }),
        Operator::In | Operator::All => json!({ "type": "array", "items": { "type": "string", "pattern": "\\S" } }),
        Operator::ElemMatch => json!({ "type": "object" }),
    }
}

fn operators(kind: ConditionKind, operators: &[Operator]) -> Value {
    let properties: Map<String, Value> =
        operators.iter().map(|op| (op.as_str().to_string(), operator_schema(kind, *op))).collect();
    json!({ "type": "object", "additionalProperties": false, "properties": properties })
}

fn condition(key: &ConditionKey) -> Value {
    if let Some(shape) = &key.elem_match {
        return json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["$elemMatch"],
            "properties": {
                "$elemMatch": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "key": operators(ConditionKind::String, &shape.key),
                        "value": operators(ConditionKind::String, &shape.value)
                    }
                }
            }
        });
    }
    let object = operators(key.kind, &key.operators);
    if !key.plain {
        return object;
    }
    let plain = if key.kind == ConditionKind::Path {
        json!({ "type": "string", "pattern": "^/" })
    } else {
        json!({ "type": "string" })
    };
    json!({ "anyOf": [plain, object] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subject_has_a_branch_with_its_actions() {
        let catalog = Catalog::builtin();
        let schema = policy_schema(catalog);
        let definitions = schema["definitions"].as_object().unwrap();
        for subject in catalog.subjects() {
            let rule = &definitions[&format!("rule:{}", subject.name)];
            assert_eq!(rule["properties"]["action"]["oneOf"][0]["enum"], json!(subject.actions));
            assert_eq!(rule["properties"].get("inverted").is_some(), subject.inverted);
            assert_eq!(rule["properties"].get("conditions").is_some(), subject.takes_conditions());
        }
        let tags = &definitions["rule:secrets"]["properties"]["conditions"]["properties"]["secretTags"];
        assert_eq!(tags["properties"].as_object().unwrap().keys().collect::<Vec<_>>(), ["$in", "$all"]);
    }
}
