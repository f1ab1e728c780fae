//! Reading the Infisical Terraform provider's configuration (`*.tf`) into a policy document of the YAML
//! form, so its users can move to permc in one command.
//!
//! Resources read: `infisical_project` (slug), `infisical_project_role`, `infisical_project_identity`,
//! `infisical_project_user`, `infisical_project_identity_specific_privilege`,
//! `infisical_access_approval_policy`, `infisical_secret_approval_policy`. Values must be literal, or
//! `jsonencode(...)` of literals; a reference to another resource is followed where it names a resource
//! read here (`infisical_project_identity.bot.identity_id` attaches a privilege to that identity).
//! Anything else (variables, other references, functions) is left out with a warning that names the place.

use std::collections::BTreeMap;

use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::{Body, Structure};
use serde_json::{Map, Value, json};

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Span};

/// A value read from an expression, or why it could not be.
enum Read {
    Value(Value),
    /// A traversal such as `infisical_project_identity.bot.identity_id`: its parts.
    Reference(Vec<String>),
    Unresolved(&'static str),
}

fn span_of(it: &impl hcl_edit::Span) -> Span {
    it.span().map(Span::from_range).unwrap_or_default()
}

fn read(expr: &Expression) -> Read {
    match expr {
        Expression::Null(_) => Read::Value(Value::Null),
        Expression::Bool(it) => Read::Value(json!(*it.value())),
        Expression::Number(it) => {
            let text = it.value().to_string();
            Read::Value(serde_json::from_str(&text).unwrap_or(Value::String(text)))
        }
        Expression::String(it) => Read::Value(json!(it.value().as_str())),
        Expression::Array(items) => {
            let mut out = Vec::new();
            for item in items.iter() {
                match read(item) {
                    Read::Value(value) => out.push(value),
                    other => return other,
                }
            }
            Read::Value(Value::Array(out))
        }
        Expression::Object(object) => {
            let mut out = Map::new();
            for (key, value) in object.iter() {
                let key = match key {
                    ObjectKey::Ident(ident) => ident.as_str().to_owned(),
                    ObjectKey::Expression(Expression::String(it)) => it.value().to_string(),
                    ObjectKey::Expression(_) => return Read::Unresolved("a computed object key"),
                };
                match read(value.expr()) {
                    Read::Value(value) => {
                        out.insert(key, value);
                    }
                    other => return other,
                }
            }
            Read::Value(Value::Object(out))
        }
        Expression::FuncCall(call) if call.name.name.as_str() == "jsonencode" && call.name.namespace.is_empty() => {
            match call.args.iter().collect::<Vec<_>>().as_slice() {
                [only] => match read(only) {
                    // The provider stores the JSON text; permc reads the value it encodes.
                    Read::Value(value) => Read::Value(value),
                    other => other,
                },
                _ => Read::Unresolved("`jsonencode` with other than one argument"),
            }
        }
        Expression::FuncCall(_) => Read::Unresolved("a function call"),
        Expression::Traversal(traversal) => {
            let mut parts = Vec::new();
            if let Expression::Variable(root) = &traversal.expr {
                parts.push(root.as_str().to_owned());
            } else {
                return Read::Unresolved("a computed reference");
            }
            for operator in traversal.operators.iter() {
                match operator.value() {
                    hcl_edit::expr::TraversalOperator::GetAttr(name) => parts.push(name.as_str().to_owned()),
                    _ => return Read::Unresolved("an indexed reference"),
                }
            }
            Read::Reference(parts)
        }
        Expression::Variable(_) => Read::Unresolved("a variable"),
        Expression::StringTemplate(_) | Expression::HeredocTemplate(_) => Read::Unresolved("a string template"),
        Expression::Parenthesis(inner) => read(inner.inner()),
        _ => Read::Unresolved("an expression"),
    }
}

/// One resource: its type, label, attributes (read or not) and place.
struct Resource {
    kind: String,
    label: String,
    file: FileId,
    span: Span,
    attributes: BTreeMap<String, (Read, Span)>,
}

/// The resources of the provider in one file's text.
fn resources(file: FileId, text: &str, out: &mut Vec<Resource>, diagnostics: &mut Vec<Diagnostic>) {
    let body: Body = match text.parse() {
        Ok(body) => body,
        Err(error) => {
            diagnostics.push(
                Diagnostic::new(
                    Code::SyntaxError,
                    format!("not valid HCL: {}", error.message()),
                    file,
                    Span::new(0, 0),
                )
                .help("`permc import --from-terraform` reads Terraform files as `terraform validate` does"),
            );
            return;
        }
    };
    for structure in body.iter() {
        let Structure::Block(block) = structure else { continue };
        if block.ident.as_str() != "resource" || block.labels.len() != 2 {
            continue;
        }
        let kind = block.labels[0].as_str().to_owned();
        if !kind.starts_with("infisical_") {
            continue;
        }
        let mut attributes = BTreeMap::new();
        for item in block.body.iter() {
            match item {
                Structure::Attribute(attribute) => {
                    attributes
                        .insert(attribute.key.as_str().to_owned(), (read(&attribute.value), span_of(&attribute.value)));
                }
                Structure::Block(inner) => {
                    // Nested blocks are not how the provider's attributes are written; say so.
                    attributes
                        .insert(inner.ident.as_str().to_owned(), (Read::Unresolved("a nested block"), span_of(inner)));
                }
            }
        }
        out.push(Resource { kind, label: block.labels[1].as_str().to_owned(), file, span: span_of(block), attributes });
    }
}

impl Resource {
    /// A literal attribute; a warning for anything else present.
    fn value(&self, key: &str, diagnostics: &mut Vec<Diagnostic>) -> Option<Value> {
        match self.attributes.get(key)? {
            (Read::Value(value), _) => Some(value.clone()),
            (Read::Reference(parts), span) => {
                diagnostics.push(unresolved(self, key, &format!("a reference to `{}`", parts.join(".")), *span));
                None
            }
            (Read::Unresolved(what), span) => {
                diagnostics.push(unresolved(self, key, what, *span));
                None
            }
        }
    }

    fn string(&self, key: &str, diagnostics: &mut Vec<Diagnostic>) -> Option<String> {
        self.value(key, diagnostics).and_then(|it| it.as_str().map(str::to_owned))
    }

    fn reference(&self, key: &str) -> Option<&[String]> {
        match self.attributes.get(key) {
            Some((Read::Reference(parts), _)) => Some(parts),
            _ => None,
        }
    }
}

fn unresolved(resource: &Resource, key: &str, what: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::TerraformUnresolved,
        format!("`{key}` of `{}.{}` is {what}", resource.kind, resource.label),
        resource.file,
        span,
    )
    .label("not a literal value")
    .help("permc reads literal values only; write the value into the imported file by hand")
}

/// The provider's `conditions` (a JSON string, or `jsonencode(...)`).
fn conditions(value: &Value) -> Option<Value> {
    match value {
        Value::String(text) => serde_json::from_str(text).ok(),
        Value::Object(_) => Some(value.clone()),
        _ => None,
    }
}

/// `permissions_v2` items as permc rules.
fn rules_v2(items: &Value) -> Vec<Value> {
    items
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            let mut rule = Map::new();
            rule.insert("subject".into(), item.get("subject").cloned().unwrap_or(Value::Null));
            rule.insert("action".into(), item.get("action").cloned().unwrap_or(json!([])));
            if item.get("inverted") == Some(&json!(true)) {
                rule.insert("inverted".into(), json!(true));
            }
            if let Some(conditions) = item.get("conditions").and_then(conditions) {
                rule.insert("conditions".into(), conditions);
            }
            Value::Object(rule)
        })
        .collect()
}

/// The legacy (v1) form: `{action|actions, subject, conditions = { environment, secret_path }}`.
fn rule_v1(item: &Value) -> Value {
    let actions = item.get("actions").or_else(|| item.get("action")).cloned().unwrap_or(json!([]));
    let actions = if actions.is_string() { json!([actions]) } else { actions };
    let mut rule = json!({ "subject": item.get("subject").cloned().unwrap_or(Value::Null), "action": actions });
    let mut conditions = Map::new();
    if let Some(environment) = item.pointer("/conditions/environment") {
        conditions.insert("environment".into(), environment.clone());
    }
    if let Some(path) = item.pointer("/conditions/secret_path") {
        conditions.insert("secretPath".into(), json!({ "$glob": path }));
    }
    if !conditions.is_empty() {
        rule["conditions"] = Value::Object(conditions);
    }
    rule
}

fn legacy(resource: &Resource, key: &str) -> Diagnostic {
    let span = resource.attributes.get(key).map_or(resource.span, |(_, span)| *span);
    Diagnostic::new(
        Code::TerraformLegacyPermission,
        format!("`{key}` of `{}.{}` is the provider's legacy permission form", resource.kind, resource.label),
        resource.file,
        span,
    )
    .label("converted to the equivalent rules")
    .help("Infisical added rules of its own for this form (secret imports, folders, dynamic secrets); `permc plan` shows them as changes: keep the ones you want")
}

fn temporary(item: &Value, entry: &mut Map<String, Value>) {
    if item.get("is_temporary") == Some(&json!(true)) {
        entry.insert("duration".into(), item.get("temporary_range").cloned().unwrap_or(json!("1h")));
        if let Some(start) = item.get("temporary_access_start_time").filter(|it| !it.is_null()) {
            entry.insert("start".into(), start.clone());
        }
    }
}

fn member_roles(roles: &Value) -> Value {
    let mut items: Vec<Value> = roles
        .as_array()
        .into_iter()
        .flatten()
        .map(|role| {
            let slug = role.get("role_slug").cloned().unwrap_or(Value::Null);
            let mut entry = Map::new();
            entry.insert("role".into(), slug.clone());
            temporary(role, &mut entry);
            if entry.len() == 1 { slug } else { Value::Object(entry) }
        })
        .collect();
    items.sort_by_key(Value::is_object);
    Value::Array(items)
}

fn principals(items: &Value, step: bool) -> Vec<(u64, Value)> {
    items
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            let mut entry = Map::new();
            entry.insert("type".into(), item.get("type").cloned().unwrap_or(json!("user")));
            for key in ["id", "username"] {
                if let Some(value) = item.get(key).filter(|it| !it.is_null()) {
                    entry.insert(key.into(), value.clone());
                }
            }
            let at = if step { item.get("step").and_then(Value::as_u64).unwrap_or(1) } else { 1 };
            (at, Value::Object(entry))
        })
        .collect()
}

fn environments(resource: &Resource, diagnostics: &mut Vec<Diagnostic>) -> Value {
    match resource.value("environment_slugs", diagnostics) {
        Some(list) => list,
        None => json!(resource.string("environment_slug", diagnostics).into_iter().collect::<Vec<_>>()),
    }
}

/// Reads every `*.tf` text given (file id, text) into one document of the YAML form.
pub fn document(files: &[(FileId, &str)]) -> (Value, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut all = Vec::new();
    for (file, text) in files {
        resources(*file, text, &mut all, &mut diagnostics);
    }
    let mut project = Map::new();
    let mut roles = Vec::new();
    let mut identities: Vec<(String, Map<String, Value>)> = Vec::new();
    let mut users = Vec::new();
    let mut access = Vec::new();
    let mut secret = Vec::new();
    for resource in &all {
        let d = &mut diagnostics;
        match resource.kind.as_str() {
            "infisical_project" => {
                if let Some(slug) = resource.string("slug", d) {
                    project.insert("slug".into(), json!(slug));
                }
            }
            "infisical_project_role" => {
                let mut role = Map::new();
                role.insert("slug".into(), json!(resource.string("slug", d).unwrap_or_else(|| resource.label.clone())));
                if let Some(name) = resource.string("name", d) {
                    role.insert("name".into(), json!(name));
                }
                if let Some(description) = resource.string("description", d).filter(|it| !it.is_empty()) {
                    role.insert("description".into(), json!(description));
                }
                let mut rules = resource.value("permissions_v2", d).map(|it| rules_v2(&it)).unwrap_or_default();
                if let Some(v1) = resource.value("permissions", d) {
                    d.push(legacy(resource, "permissions"));
                    rules.extend(v1.as_array().into_iter().flatten().map(rule_v1));
                }
                role.insert("permissions".into(), Value::Array(rules));
                roles.push(Value::Object(role));
            }
            "infisical_project_identity" => {
                let mut identity = Map::new();
                identity.insert("name".into(), json!(resource.label));
                if let Some(id) = resource.string("identity_id", d) {
                    identity.insert("id".into(), json!(id));
                }
                identity.insert("roles".into(), resource.value("roles", d).map_or(json!([]), |it| member_roles(&it)));
                identities.push((resource.label.clone(), identity));
            }
            "infisical_project_user" => {
                let mut user = Map::new();
                user.insert(
                    "email".into(),
                    json!(resource.string("username", d).unwrap_or_else(|| resource.label.clone())),
                );
                user.insert("roles".into(), resource.value("roles", d).map_or(json!([]), |it| member_roles(&it)));
                users.push(Value::Object(user));
            }
            "infisical_access_approval_policy" | "infisical_secret_approval_policy" => {
                let is_access = resource.kind == "infisical_access_approval_policy";
                let mut policy = Map::new();
                policy
                    .insert("name".into(), json!(resource.string("name", d).unwrap_or_else(|| resource.label.clone())));
                policy.insert("environments".into(), environments(resource, d));
                if let Some(path) = resource.string("secret_path", d) {
                    policy.insert("secretPath".into(), json!(path));
                }
                if let Some(level) = resource.string("enforcement_level", d) {
                    policy.insert("enforcementLevel".into(), json!(level));
                }
                if let Some(allowed) = resource.value("allow_self_approval", d) {
                    policy.insert("allowedSelfApprovals".into(), allowed);
                }
                let required = resource.value("required_approvals", d).unwrap_or(json!(1));
                let approvers = resource.value("approvers", d).map(|it| principals(&it, is_access)).unwrap_or_default();
                let bypassers: Vec<Value> = resource
                    .value("bypassers", d)
                    .map(|it| principals(&it, false))
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(_, it)| it)
                    .collect();
                if is_access {
                    for (key, ours) in
                        [("max_time_period", "maxTimePeriod"), ("request_expiration_time", "requestExpirationTime")]
                    {
                        if let Some(value) = resource.string(key, d) {
                            policy.insert(ours.into(), json!(value));
                        }
                    }
                    if !bypassers.is_empty() {
                        policy.insert("bypassers".into(), Value::Array(bypassers));
                    }
                    let per_step = resource.value("approvals_required", d).unwrap_or(json!([]));
                    let mut steps: BTreeMap<u64, Vec<Value>> = BTreeMap::new();
                    for (step, approver) in approvers {
                        steps.entry(step).or_default().push(approver);
                    }
                    let steps: Vec<Value> = steps
                        .into_iter()
                        .map(|(step, approvers)| {
                            let approvals = per_step
                                .as_array()
                                .into_iter()
                                .flatten()
                                .find(|it| it.get("step_number").and_then(Value::as_u64) == Some(step))
                                .and_then(|it| it.get("number_of_approvals").cloned())
                                .unwrap_or_else(|| required.clone());
                            json!({ "approvals": approvals, "approvers": approvers })
                        })
                        .collect();
                    policy.insert("steps".into(), Value::Array(steps));
                    access.push(Value::Object(policy));
                } else {
                    policy.insert("approvals".into(), required);
                    policy.insert("approvers".into(), Value::Array(approvers.into_iter().map(|(_, it)| it).collect()));
                    if !bypassers.is_empty() {
                        policy.insert("bypassers".into(), Value::Array(bypassers));
                    }
                    secret.push(Value::Object(policy));
                }
            }
            _ => {}
        }
    }
    // Privileges last: they attach to the identity they name.
    for resource in all.iter().filter(|it| it.kind == "infisical_project_identity_specific_privilege") {
        let d = &mut diagnostics;
        let mut privilege = Map::new();
        privilege.insert("slug".into(), json!(resource.string("slug", d).unwrap_or_else(|| resource.label.clone())));
        let mut flags = Map::new();
        for key in ["is_temporary", "temporary_range", "temporary_access_start_time"] {
            if let Some(value) = resource.value(key, d) {
                flags.insert(key.into(), value);
            }
        }
        temporary(&Value::Object(flags), &mut privilege);
        let mut rules = resource.value("permissions_v2", d).map(|it| rules_v2(&it)).unwrap_or_default();
        if let Some(v1) = resource.value("permission", d) {
            d.push(legacy(resource, "permission"));
            rules.push(rule_v1(&v1));
        }
        privilege.insert("permissions".into(), Value::Array(rules));
        // `identity_id`: a literal id, or a reference to an `infisical_project_identity` read here.
        let owner = match resource.reference("identity_id") {
            Some([kind, label, ..]) if kind == "infisical_project_identity" => Some(label.clone()),
            _ => resource.string("identity_id", d).map(|id| {
                identities
                    .iter()
                    .find(|(_, it)| it.get("id") == Some(&json!(id)))
                    .map(|(name, _)| name.clone())
                    .unwrap_or(id)
            }),
        };
        let Some(owner) = owner else { continue };
        let at = match identities.iter().position(|(name, _)| *name == owner) {
            Some(at) => at,
            None => {
                let mut identity = Map::new();
                identity.insert("name".into(), json!(owner));
                identity.insert("id".into(), json!(owner));
                identities.push((owner.clone(), identity));
                identities.len() - 1
            }
        };
        let entry = identities[at].1.entry("privileges").or_insert_with(|| json!([]));
        if let Some(list) = entry.as_array_mut() {
            list.push(Value::Object(privilege));
        }
    }
    let mut document = Map::new();
    if !project.is_empty() {
        document.insert("project".into(), Value::Object(project));
    }
    for (key, list) in [
        ("roles", roles),
        ("identities", identities.into_iter().map(|(_, it)| Value::Object(it)).collect()),
        ("users", users),
        ("accessPolicies", access),
        ("secretPolicies", secret),
    ] {
        if !list.is_empty() {
            document.insert(key.into(), Value::Array(list));
        }
    }
    (Value::Object(document), diagnostics)
}
