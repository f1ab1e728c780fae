//! Writing documents of the YAML form as policy files: YAML, or HCL in the block shapes the HCL front end
//! reads (`grammar/hcl.md`). Both read back as the same tree (`tests` below), which is what `permc import`
//! relies on.

use serde_json::Value;

/// Block-style YAML for a JSON value. Strings are plain where YAML reads them back as the same string,
/// else JSON-quoted (a JSON string is a YAML double-quoted scalar).
pub fn yaml(value: &Value) -> String {
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

/// How a value is read where it stands (as in the HCL front end).
#[derive(Clone, Copy, PartialEq)]
enum Context {
    Plain,
    Conditions,
    Operand,
    ElemMatch,
}

/// The blocks of each block kind: (YAML key of the list, block type, key its label comes from).
fn children(kind: &str) -> &'static [(&'static str, &'static str, Option<&'static str>)] {
    match kind {
        "document" => &[
            ("roles", "role", Some("slug")),
            ("identities", "identity", Some("name")),
            ("users", "user", Some("email")),
            ("accessPolicies", "access_policy", Some("name")),
            ("secretPolicies", "secret_policy", Some("name")),
        ],
        "role" | "privilege" => &[("permissions", "permission", None)],
        "identity" | "user" => &[("roles", "role", Some("role")), ("privileges", "privilege", Some("slug"))],
        "access_policy" => &[("steps", "step", None)],
        _ => &[],
    }
}

/// A document of the YAML form as HCL blocks.
pub fn hcl(document: &Value) -> String {
    let mut out = String::new();
    let Value::Object(entries) = document else { return out };
    if let Some(project) = entries.get("project") {
        block("project", "project", project, Some("slug"), 0, &mut out);
    }
    for (key, kind, label) in children("document") {
        for item in entries.get(*key).and_then(Value::as_array).into_iter().flatten() {
            if !out.is_empty() {
                out.push('\n');
            }
            block(kind, kind, item, *label, 0, &mut out);
        }
    }
    out
}

fn block(kind: &str, name: &str, value: &Value, label: Option<&str>, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    let Value::Object(entries) = value else { return };
    let label_text =
        label.and_then(|key| entries.get(key)).map(|it| format!(" {}", string(it.as_str().unwrap_or_default())));
    out.push_str(&format!("{pad}{name}{} {{\n", label_text.unwrap_or_default()));
    let inner = " ".repeat(indent + 2);
    let blocks = children(kind);
    for (key, value) in entries {
        if Some(key.as_str()) == label || key == "$schema" {
            continue;
        }
        if let Some((_, child, child_label)) = blocks.iter().find(|(list, ..)| list == key) {
            let items = value.as_array().map(Vec::as_slice).unwrap_or_default();
            // Plain role slugs of a member are one attribute; temporary ones are blocks.
            let plain: Vec<&Value> = items.iter().filter(|it| it.is_string()).collect();
            if !plain.is_empty() {
                let list = Value::Array(plain.into_iter().cloned().collect());
                out.push_str(&format!("{inner}{} = {}\n", ident_or_string(key), expr(&list, Context::Plain)));
            }
            for item in items.iter().filter(|it| it.is_object()) {
                out.push('\n');
                block(child, child, item, *child_label, indent + 2, out);
            }
            continue;
        }
        if key == "conditions" && value.as_object().is_some_and(|it| !it.is_empty()) {
            out.push_str(&format!("{inner}conditions {{\n"));
            for (field, operand) in value.as_object().into_iter().flatten() {
                out.push_str(&format!("{inner}  {} = {}\n", ident_or_string(field), expr(operand, Context::Operand)));
            }
            out.push_str(&format!("{inner}}}\n"));
            continue;
        }
        let context = if key == "conditions" { Context::Conditions } else { Context::Plain };
        out.push_str(&format!("{inner}{} = {}\n", ident_or_string(key), expr(value, context)));
    }
    out.push_str(&format!("{pad}}}\n"));
}

fn expr(value: &Value, context: Context) -> String {
    match value {
        Value::Object(entries) => {
            if context == Context::Operand
                && entries.len() == 1
                && let Some(Value::String(pattern)) = entries.get("$glob")
            {
                return format!("glob({})", string(pattern));
            }
            let parts: Vec<String> = entries
                .iter()
                .map(|(key, value)| {
                    let operator = key.strip_prefix('$').filter(|it| OPERATORS.contains(it));
                    let shown = match (context, operator) {
                        (Context::Operand, Some(bare)) => bare.to_owned(),
                        _ => ident_or_string(key),
                    };
                    let inner = match context {
                        Context::Plain if key == "conditions" => Context::Conditions,
                        Context::Plain => Context::Plain,
                        Context::Conditions | Context::ElemMatch => Context::Operand,
                        Context::Operand if key == "$elemMatch" => Context::ElemMatch,
                        Context::Operand => Context::Plain,
                    };
                    format!("{shown} = {}", expr(value, inner))
                })
                .collect();
            if parts.is_empty() { "{}".to_owned() } else { format!("{{ {} }}", parts.join(", ")) }
        }
        Value::Array(items) => {
            format!("[{}]", items.iter().map(|it| expr(it, Context::Plain)).collect::<Vec<_>>().join(", "))
        }
        Value::String(text) => string(text),
        other => other.to_string(),
    }
}

/// The operators written bare in HCL operand objects (`{ in = [...] }` is `{ $in: [...] }`).
const OPERATORS: &[&str] = &["eq", "ne", "in", "all", "glob", "elemMatch"];

fn ident_or_string(key: &str) -> String {
    let ident = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !matches!(key, "true" | "false" | "null");
    if ident { key.to_owned() } else { string(key) }
}

/// A quoted HCL string: JSON's escapes where HCL has them, `\uNNNN` for the rest, and `$${`/`%%{` so
/// nothing reads as a template.
fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use crate::syntax::{Format, parse};
    use serde_json::json;

    fn document() -> Value {
        json!({
            "project": { "slug": "payments", "id": "p-1", "environments": ["dev", "prod"], "lints": { "PC2001": "allow" } },
            "roles": [{
                "slug": "a-b", "name": "Team: ops \"quoted\" ${not} %{template}", "description": "line\nbreak\u{1}",
                "permissions": [
                    { "subject": "secrets", "action": ["read", "edit"], "inverted": true,
                      "conditions": { "secretPath": { "$glob": "/x/**" }, "environment": { "$in": ["dev", "1"], "$ne": "x" },
                                      "secretTags": { "$in": ["a"] } } },
                    { "subject": "identity", "action": ["read"], "conditions": { "identityId": "plain" } },
                    { "subject": "secrets", "action": ["read"], "conditions": {
                        "metadata": { "$elemMatch": { "key": { "$eq": "team" }, "value": { "$in": ["a"] } } } } },
                ],
            }],
            "identities": [{
                "name": "bot", "id": "i-1",
                "roles": ["viewer", { "role": "prod-reader", "duration": "4h", "start": "2026-11-21T13:00:00Z" }],
                "privileges": [{ "slug": "p", "duration": "1h", "permissions": [{ "subject": "secrets", "action": ["read"] }] }],
            }],
            "users": [{ "email": "a@example.com", "roles": ["admin"] }],
            "accessPolicies": [{
                "name": "guard", "environments": ["prod"], "secretPath": "/a", "enforcementLevel": "soft",
                "allowedSelfApprovals": false, "bypassers": [{ "type": "user", "username": "a@example.com" }],
                "steps": [{ "approvals": 1, "approvers": [{ "type": "group", "id": "g-1" }] }],
            }],
            "secretPolicies": [{ "name": "changes", "environments": ["prod"], "secretPath": "/", "approvals": 2,
                "approvers": [{ "type": "user", "id": "u-1" }] }],
        })
    }

    #[test]
    fn yaml_reads_back_as_the_same_value() {
        let mut value = document();
        value["odd keys"] =
            json!({ "-x": "#c", "": "", "n": null, "t": true, "num": 3, "nested": [[1, 2], []], "empty": {} });
        let text = yaml(&value);
        let parse = parse(FileId(0), Format::Yaml, &text);
        assert!(parse.diagnostics.is_empty(), "{text}\n{:?}", parse.diagnostics);
        assert_eq!(parse.root.unwrap().to_json(), value, "{text}");
    }

    #[test]
    fn hcl_reads_back_as_the_same_value() {
        let value = document();
        let text = hcl(&value);
        let parse = parse(FileId(0), Format::Hcl, &text);
        assert!(parse.diagnostics.is_empty(), "{text}\n{:?}", parse.diagnostics);
        assert_eq!(parse.root.unwrap().to_json(), value, "{text}");
        assert!(text.contains("secretPath = glob(\"/x/**\")"), "{text}");
        assert!(text.contains("environment = { in = [\"dev\", \"1\"], ne = \"x\" }"), "{text}");
    }
}
