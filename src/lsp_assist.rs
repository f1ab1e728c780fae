//! Hover and completion for the language server, from the catalog and the repository.

use serde_json::{Value, json};

use crate::catalog::{Catalog, ConditionKind, Operator};
use crate::model::Project;
use crate::syntax::{Node, NodeKind};

/// One step from the root to the position: a key of a mapping or an index of a list.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// The path to the innermost node at `offset`, whether the offset is on a key, and the nodes along it.
fn locate(root: &Node, offset: u32) -> (Vec<Step>, bool, Vec<&Node>) {
    let mut path = Vec::new();
    let mut nodes = vec![root];
    let mut on_key = false;
    let mut node = root;
    loop {
        let next = match &node.kind {
            NodeKind::Map(entries) => entries.iter().find_map(|entry| {
                if entry.key_span.start <= offset && offset <= entry.key_span.end {
                    on_key = true;
                    path.push(Step::Key(entry.key.clone()));
                    None
                } else if entry.value.span.start <= offset && offset <= entry.value.span.end {
                    Some((Step::Key(entry.key.clone()), &entry.value))
                } else {
                    None
                }
            }),
            NodeKind::Seq(items) => items
                .iter()
                .enumerate()
                .find(|(_, item)| item.span.start <= offset && offset <= item.span.end)
                .map(|(at, item)| (Step::Index(at), item)),
            _ => None,
        };
        match next {
            Some((step, child)) if !on_key => {
                path.push(step);
                nodes.push(child);
                node = child;
            }
            _ => return (path, on_key, nodes),
        }
    }
}

fn operator_text(operator: &str) -> &'static str {
    match operator {
        "$eq" => "equals the value",
        "$ne" => "does not equal the value",
        "$in" => "is one of the listed values (on a tag list: holds one of them)",
        "$all" => "holds every listed value",
        "$glob" => {
            "matches the glob pattern (picomatch, without `dot`: `*` stays within one segment, `**` crosses segments)"
        }
        "$elemMatch" => "has an element whose `key` and `value` match",
        _ => "an operator Infisical does not know",
    }
}

fn list(values: &[String]) -> String {
    values.iter().map(|it| format!("`{it}`")).collect::<Vec<_>>().join(", ")
}

/// A condition in words: `environment` is `prod`.
fn condition_words(key: &str, value: &Value) -> String {
    let show = |value: &Value| match value {
        Value::String(text) => format!("`{text}`"),
        Value::Array(items) => items
            .iter()
            .map(|it| it.as_str().map_or(it.to_string(), |s| format!("`{s}`")))
            .collect::<Vec<_>>()
            .join(", "),
        other => format!("`{other}`"),
    };
    match value {
        Value::Object(operators) => operators
            .iter()
            .map(|(operator, operand)| match operator.as_str() {
                "$eq" => format!("`{key}` is {}", show(operand)),
                "$ne" => format!("`{key}` is not {}", show(operand)),
                "$in" => format!("`{key}` is one of {}", show(operand)),
                "$all" => format!("`{key}` holds all of {}", show(operand)),
                "$glob" => format!("`{key}` matches {}", show(operand)),
                "$elemMatch" => format!("`{key}` has an entry matching {operand}"),
                other => format!("`{key}` {other} {}", show(operand)),
            })
            .collect::<Vec<_>>()
            .join(" and "),
        other => format!("`{key}` is {}", show(other)),
    }
}

/// A rule in words.
pub fn rule_words(rule: &Value) -> String {
    let subject = rule.get("subject").and_then(Value::as_str).unwrap_or("?");
    let actions: Vec<String> = match rule.get("action") {
        Some(Value::Array(items)) => items.iter().filter_map(|it| it.as_str().map(str::to_owned)).collect(),
        Some(Value::String(text)) => vec![text.clone()],
        _ => Vec::new(),
    };
    let verb = if rule.get("inverted") == Some(&Value::Bool(true)) { "**denies**" } else { "allows" };
    let mut text = format!("{verb} {} on `{subject}`", list(&actions));
    match rule.get("conditions").and_then(Value::as_object) {
        Some(conditions) if !conditions.is_empty() => {
            let parts: Vec<String> = conditions.iter().map(|(key, value)| condition_words(key, value)).collect();
            text.push_str(&format!(" where {}", parts.join(" and ")));
        }
        _ => text.push_str(" (any object)"),
    }
    text
}

/// The hover text at `offset` of a file's tree, if there is one.
pub fn hover(catalog: &Catalog, root: &Node, offset: u32) -> Option<String> {
    let (path, on_key, nodes) = locate(root, offset);
    let at = path.iter().rposition(|it| *it == Step::Key("permissions".into()))?;
    let rule = nodes.get(at + 2)?;
    let rule_json = rule.to_json();
    let subject_name = rule_json.get("subject").and_then(Value::as_str);
    let subject = subject_name.and_then(|it| catalog.subject(it));
    let rest = &path[at + 2..];
    let leaf = nodes.last()?;
    match rest {
        [Step::Key(key)] if key == "subject" && !on_key => {
            let subject = subject?;
            Some(format!(
                "**{}** (subject)\n\n{}\n\nactions: {}",
                subject.name,
                subject.description,
                list(&subject.actions)
            ))
        }
        [Step::Key(key), ..] if key == "action" && !on_key => {
            let action = leaf.as_str()?;
            let subject = subject?;
            let description = subject.action_descriptions.get(action).cloned().unwrap_or_default();
            let mut text = format!("**{action}** on `{}`\n\n{description}", subject.name);
            if let Some(replacements) = subject.legacy_actions.get(action) {
                text.push_str(&format!("\n\nlegacy: replaced by {}", list(replacements)));
            }
            Some(text)
        }
        [Step::Key(conditions), Step::Key(key)] if conditions == "conditions" && on_key => {
            let condition = subject?.condition(key)?;
            let kind = match condition.kind {
                ConditionKind::String => "a string field",
                ConditionKind::Path => "a secret path (starts with `/`; Infisical removes a trailing slash)",
                ConditionKind::Tags => "a list of tag slugs",
                ConditionKind::Metadata => "a list of `{key, value}` metadata entries",
            };
            let operators: Vec<String> = condition.operators.iter().map(|it| it.as_str().to_owned()).collect();
            Some(format!(
                "**{key}** (condition of `{}`)\n\n{kind}; {}operators: {}",
                subject_name.unwrap_or_default(),
                if condition.plain { "a plain value means equality; " } else { "" },
                list(&operators)
            ))
        }
        [Step::Key(conditions), Step::Key(_), Step::Key(operator), ..] if conditions == "conditions" && on_key => {
            Some(format!("**{operator}**: the field {}", operator_text(operator)))
        }
        _ => Some(format!("This rule {}.", rule_words(&rule_json))),
    }
}

/// The nearest `subject` written before `offset`.
fn subject_before(text: &str) -> Option<String> {
    text.lines().rev().find_map(|line| {
        let line = line.trim();
        let rest = line.strip_prefix("subject")?.trim_start().strip_prefix([':', '='])?.trim();
        let rest = rest.trim_start_matches(['-', ' ']);
        let name: String = rest
            .trim_matches(|c| c == '"' || c == '\'' || c == ',' || c == '}')
            .split([',', ' ', '}'])
            .next()?
            .trim_matches('"')
            .to_owned();
        (!name.is_empty()).then_some(name)
    })
}

/// Completions at byte `offset` of `text`: subjects, actions of the rule's subject, condition keys and
/// operators, role slugs and environments, by what the line being typed says.
pub fn complete(catalog: &Catalog, project: &Project, text: &str, offset: usize) -> Vec<Value> {
    let before = &text[..offset.min(text.len())];
    let line = before.rsplit('\n').next().unwrap_or_default();
    let key = line
        .trim_start()
        .trim_start_matches("- ")
        .split([':', '='])
        .next()
        .unwrap_or_default()
        .trim()
        .trim_matches('"');
    let has_separator = line.contains(':') || line.contains('=');
    let item = |label: &str, kind: u64, detail: &str| json!({ "label": label, "kind": kind, "detail": detail });
    // An operator inside `{ ... }` after a condition key.
    if let Some(open) = line.rfind('{')
        && !line[open..].contains('}')
    {
        let field = line[..open].trim_end().trim_end_matches([':', '=']).trim().trim_matches('"');
        let subject = subject_before(before).and_then(|it| catalog.subject(&it).cloned());
        if let Some(condition) = subject.as_ref().and_then(|it| it.condition(field)) {
            let hcl = line.contains('=');
            return condition
                .operators
                .iter()
                .map(|operator| {
                    let label = if hcl {
                        operator.as_str().trim_start_matches('$').to_owned()
                    } else {
                        operator.as_str().to_owned()
                    };
                    item(&label, 24, operator_text(operator.as_str()))
                })
                .collect();
        }
    }
    if has_separator {
        match key {
            "subject" => {
                return catalog.subjects().iter().map(|it| item(&it.name, 7, &it.description)).collect();
            }
            "action" => {
                let subject = subject_before(&before[..before.len() - line.len()]).or_else(|| subject_before(before));
                if let Some(subject) = subject.and_then(|it| catalog.subject(&it)) {
                    return subject
                        .actions
                        .iter()
                        .map(|it| item(it, 12, subject.action_descriptions.get(it).map_or("", String::as_str)))
                        .collect();
                }
            }
            "environment" | "environments" => {
                return project
                    .declaration()
                    .and_then(|it| it.environments.as_ref())
                    .into_iter()
                    .flatten()
                    .map(|it| item(&it.value, 12, "an environment of the project"))
                    .collect();
            }
            "roles" | "role" => {
                let mut slugs: Vec<Value> = project
                    .roles
                    .iter()
                    .map(|it| item(&it.slug.value, 12, "a custom role of this repository"))
                    .collect();
                slugs.extend(
                    catalog.predefined_roles().iter().map(|it| item(&it.slug, 12, &format!("predefined: {}", it.name))),
                );
                return slugs;
            }
            _ => {}
        }
    }
    // A key inside `conditions`: the subject's condition keys.
    let indent = line.len() - line.trim_start().len();
    let parent = before[..before.len() - line.len()]
        .lines()
        .rev()
        .find(|it| !it.trim().is_empty() && it.len() - it.trim_start().len() < indent)
        .map(str::trim)
        .unwrap_or_default();
    if parent.starts_with("conditions") && !has_separator {
        if let Some(subject) = subject_before(before).and_then(|it| catalog.subject(&it).cloned()) {
            return subject
                .conditions
                .iter()
                .flatten()
                .map(|condition| {
                    let operators: Vec<&str> = condition.operators.iter().map(|it| Operator::as_str(*it)).collect();
                    item(&condition.key, 5, &format!("operators: {}", operators.join(", ")))
                })
                .collect();
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_as_sentences() {
        let rule = json!({ "subject": "secrets", "action": ["readValue"], "inverted": true,
            "conditions": { "environment": "prod", "secretPath": { "$glob": "/a/**", "$ne": "/a/b" } } });
        assert_eq!(
            rule_words(&rule),
            "**denies** `readValue` on `secrets` where `environment` is `prod` and `secretPath` matches `/a/**` and `secretPath` is not `/a/b`"
        );
    }
}
