//! The canonical form of every object: one JSON shape for what the repository declares and for what
//! Infisical returns, so that a plan compares meaning, never spelling.
//!
//! What is folded (each from `infisical-model.md` §3.3, §5):
//! - `action` as a string or a list: always a list; `subject` as a list: its first element;
//! - `inverted: false` and empty `conditions`: dropped (packing drops them);
//! - a plain condition value: `{"$eq": value}` (the same query for CASL); condition keys and operators in
//!   sorted order; `$in` lists sorted and without duplicates (a set either way);
//! - temporary durations: milliseconds (`7d` and `1w` are one duration);
//! - `description` empty or missing: `null`;
//! - approval policy secret paths without a trailing slash (Infisical removes it); environments sorted;
//! - custom roles read back as `custom` plus a slug: the slug; predefined role ids: never compared.

use serde_json::{Map, Value, json};

use crate::check::values::parse_ms;

/// The canonical form of a permission list.
pub fn permissions(list: &[Value]) -> Value {
    Value::Array(list.iter().map(rule).collect())
}

fn rule(rule: &Value) -> Value {
    let mut out = Map::new();
    let subject = match rule.get("subject") {
        Some(Value::Array(items)) => items.first().cloned().unwrap_or(Value::Null),
        Some(other) => other.clone(),
        None => Value::Null,
    };
    out.insert("subject".into(), subject);
    let actions = match rule.get("action") {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::String(text)) => text.split(',').map(|it| Value::String(it.to_owned())).collect(),
        _ => Vec::new(),
    };
    out.insert("action".into(), Value::Array(actions));
    if rule.get("inverted") == Some(&Value::Bool(true)) {
        out.insert("inverted".into(), Value::Bool(true));
    }
    if let Some(Value::Object(conditions)) = rule.get("conditions")
        && !conditions.is_empty()
    {
        let mut keys: Vec<(&String, &Value)> = conditions.iter().collect();
        keys.sort_by(|a, b| a.0.cmp(b.0));
        let folded: Map<String, Value> = keys.into_iter().map(|(key, value)| (key.clone(), condition(value))).collect();
        out.insert("conditions".into(), Value::Object(folded));
    }
    Value::Object(out)
}

fn condition(value: &Value) -> Value {
    match value {
        Value::Object(operators) => {
            let mut keys: Vec<(&String, &Value)> = operators.iter().collect();
            keys.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                keys.into_iter()
                    .map(|(operator, operand)| {
                        let operand = match (operator.as_str(), operand) {
                            ("$in", Value::Array(items)) => Value::Array(sorted_set(items)),
                            _ => operand.clone(),
                        };
                        (operator.clone(), operand)
                    })
                    .collect(),
            )
        }
        other => json!({ "$eq": other }),
    }
}

fn sorted_set(items: &[Value]) -> Vec<Value> {
    let mut items = items.to_vec();
    items.sort_by_key(|it| it.to_string());
    items.dedup();
    items
}

/// Temporary access: `null`, or the duration in milliseconds and the start (`null`: when applied).
pub fn temporary(range: Option<&str>, start: Option<&str>) -> Value {
    match range {
        None => Value::Null,
        Some(range) => json!({
            "rangeMs": parse_ms(range).map_or(Value::String(range.to_owned()), |ms| json!(ms as i64)),
            "start": start.map(normalize_time),
        }),
    }
}

/// An ISO time as Infisical returns it (`2026-11-21T13:00:00.000Z`) and as written (`...:00Z`): one form.
pub fn normalize_time(text: &str) -> String {
    match crate::check::values::parse_iso_datetime_ms(text) {
        Some(ms) => crate::check::values::format_iso_datetime(ms),
        None => text.to_owned(),
    }
}

/// A description: empty and missing are the same.
pub fn description(text: Option<&str>) -> Value {
    match text.map(str::trim) {
        None | Some("") => Value::Null,
        Some(text) => Value::String(text.to_owned()),
    }
}

/// An approval policy's secret path: Infisical removes one trailing slash (not from `/`).
pub fn policy_path(path: &str) -> String {
    if path.len() > 1 && path.ends_with('/') { path[..path.len() - 1].to_owned() } else { path.to_owned() }
}

/// A list of strings as a sorted set.
pub fn string_set<'a>(items: impl IntoIterator<Item = &'a str>) -> Value {
    let mut items: Vec<&str> = items.into_iter().collect();
    items.sort_unstable();
    items.dedup();
    json!(items)
}

/// Membership roles sorted by slug, then permanent before temporary.
pub fn sort_roles(roles: &mut [Value]) {
    roles.sort_by_key(|it| it.to_string());
}

/// Where the desired form leaves a value to Infisical (a temporary start of "when applied"), takes the live
/// value, so that it is not reported as a change.
pub fn adopt_defaults(desired: &mut Value, live: &Value) {
    match (desired, live) {
        (Value::Object(want), Value::Object(have)) => {
            for (key, value) in want.iter_mut() {
                if key == "start" && value.is_null() {
                    if let Some(actual) = have.get("start") {
                        *value = actual.clone();
                    }
                    continue;
                }
                if let Some(actual) = have.get(key) {
                    adopt_defaults(value, actual);
                }
            }
        }
        (Value::Array(want), Value::Array(have)) if want.len() == have.len() => {
            for (value, actual) in want.iter_mut().zip(have) {
                adopt_defaults(value, actual);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_rule_are_one_form() {
        let written = json!([{
            "subject": "secrets", "action": ["read"], "inverted": false,
            "conditions": { "secretPath": { "$glob": "/a/**" }, "environment": "prod" }
        }]);
        let returned = json!([{
            "subject": ["secrets"], "action": ["read"],
            "conditions": { "environment": { "$eq": "prod" }, "secretPath": { "$glob": "/a/**" } }
        }]);
        assert_eq!(permissions(written.as_array().unwrap()), permissions(returned.as_array().unwrap()));
        let denied = json!([{ "subject": "secrets", "action": ["read"], "inverted": true }]);
        assert_ne!(permissions(written.as_array().unwrap()), permissions(denied.as_array().unwrap()));
    }

    #[test]
    fn empty_conditions_vanish_and_in_lists_are_sets() {
        let a = json!([{ "subject": "secrets", "action": "read", "conditions": {} }]);
        let b = json!([{ "subject": "secrets", "action": ["read"] }]);
        assert_eq!(permissions(a.as_array().unwrap()), permissions(b.as_array().unwrap()));
        let c = json!([{ "subject": "secrets", "action": ["read"], "conditions": { "environment": { "$in": ["b", "a", "b"] } } }]);
        let d = json!([{ "subject": "secrets", "action": ["read"], "conditions": { "environment": { "$in": ["a", "b"] } } }]);
        assert_eq!(permissions(c.as_array().unwrap()), permissions(d.as_array().unwrap()));
    }

    #[test]
    fn durations_times_descriptions_and_paths_fold() {
        assert_eq!(temporary(Some("7d"), None), temporary(Some("1w"), None));
        assert_eq!(
            temporary(Some("4h"), Some("2026-11-21T13:00:00Z")),
            temporary(Some("4h"), Some("2026-11-21T13:00:00.000Z"))
        );
        assert_eq!(description(Some("")), description(None));
        assert_eq!(policy_path("/services/"), "/services");
        assert_eq!(policy_path("/"), "/");
    }

    #[test]
    fn an_unset_start_adopts_the_live_one() {
        let mut desired = json!({ "temporary": { "rangeMs": 1000, "start": null } });
        let live = json!({ "temporary": { "rangeMs": 1000, "start": "2026-11-21T13:00:00.000Z" } });
        adopt_defaults(&mut desired, &live);
        assert_eq!(desired, live);
        let mut other = json!({ "temporary": { "rangeMs": 2000, "start": null } });
        adopt_defaults(&mut other, &live);
        assert_ne!(other, live);
    }
}
