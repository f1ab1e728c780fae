//! Writing documents of the YAML form as policy files: YAML, or HCL in the block shapes the HCL front end
//! reads (`grammar/hcl.md`). Both read back as the same tree (`tests` below), which is what `permc import`
//! relies on.

use serde_json::Value;

use super::hcl::{Context, Kind, OPERATORS, Target};

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

/// A document of the YAML form as HCL blocks, in the shapes the HCL front end reads (its own tables of block
/// types, labels and contexts).
pub fn hcl(document: &Value) -> String {
    let mut out = String::new();
    if let Value::Object(entries) = document {
        body(Kind::Document, entries, None, 0, &mut out);
    }
    out
}

/// The attributes and blocks of one block (or the document) of kind `kind`.
fn body(kind: Kind, entries: &serde_json::Map<String, Value>, label: Option<&str>, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    for (key, value) in entries {
        if Some(key.as_str()) == label || key == "$schema" {
            continue;
        }
        let child = kind.children().iter().find(|(_, _, list, _)| list == key);
        let blocks: Vec<&Value> = match (child, value) {
            (Some((_, _, _, Target::List)), Value::Array(items)) => items.iter().filter(|it| it.is_object()).collect(),
            (Some(_), Value::Object(entries)) if !entries.is_empty() => vec![value],
            _ => Vec::new(),
        };
        // What is not written as blocks is an attribute (a member's plain role slugs, empty objects).
        let rest = match value {
            Value::Array(items) if child.is_some() => {
                Value::Array(items.iter().filter(|it| !it.is_object()).cloned().collect())
            }
            _ if blocks.is_empty() => value.clone(),
            _ => Value::Null,
        };
        if !(rest.is_null() || rest.as_array().is_some_and(|it| it.is_empty() && !blocks.is_empty())) {
            out.push_str(&format!("{pad}{} = {}\n", ident_or_string(key), expr(&rest, kind.attribute_context(key))));
        }
        if let Some((name, child, _, _)) = child {
            for block in blocks {
                if kind != Kind::Document || !out.is_empty() {
                    out.push('\n');
                }
                let Value::Object(entries) = block else { continue };
                let label_key = child.label().map(|(key, _)| key);
                let label = label_key.and_then(|key| entries.get(key)).and_then(Value::as_str);
                let label_text = label.map(|it| format!(" {}", string(it))).unwrap_or_default();
                out.push_str(&format!("{pad}{name}{label_text} {{\n"));
                body(*child, entries, label_key, indent + 2, out);
                out.push_str(&format!("{pad}}}\n"));
            }
        }
    }
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
                    format!("{shown} = {}", expr(value, context.inner(key)))
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
