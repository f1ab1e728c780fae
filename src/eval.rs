//! Evaluation exactly as Infisical's backend does it.
//!
//! The pipeline (see `shared/conformance/README.md`, section 3): the rules Infisical stored (after its
//! validation, stripping included) get the legacy umbrella action appended to inverted rules that name its
//! replacements; a stable sort moves inverted rules after allow rules; the whole list is rendered as one
//! handlebars template with the actor's identity and parsed back; then CASL decides: rules matching the
//! action and subject are consulted from last to first and the first whose conditions match decides.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::catalog::Catalog;
use crate::check::rules::StoredRule;
use crate::glob;

/// A rule ready for evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalRule {
    pub subject: String,
    pub actions: Vec<String>,
    pub inverted: bool,
    /// Shared with the stored rule it came from until templates are rendered.
    pub conditions: Option<Arc<Map<String, Value>>>,
    /// The index of the rule in the list it came from.
    pub origin: usize,
}

impl EvalRule {
    /// The rule's identity as a group sees it: rules with the same content match the same objects the
    /// same way.
    pub fn content(&self) -> Content {
        use std::hash::Hasher;
        let mut hasher = crate::lang::FxHasher::default();
        if let Some(conditions) = &self.conditions {
            hash_map(conditions, &mut hasher);
        }
        hasher.write_u8(u8::from(self.inverted));
        Content { inverted: self.inverted, conditions: self.conditions.clone(), hash: hasher.finish() }
    }

    /// Whether the rule's conditions hold a handlebars template (`{{...}}`), rendered per actor.
    pub fn is_templated(&self) -> bool {
        self.conditions.as_ref().is_some_and(|it| it.iter().any(|(key, value)| has_braces(key) || has_template(value)))
    }
}

/// A rule as a group sees it: whether it denies, and its conditions (hashed once). Two are equal when the
/// conditions' JSON texts are: the same keys in the same order, the same values (numbers by
/// representation).
pub struct Content {
    inverted: bool,
    conditions: Option<Arc<Map<String, Value>>>,
    hash: u64,
}

impl std::hash::Hash for Content {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl PartialEq for Content {
    fn eq(&self, other: &Content) -> bool {
        self.hash == other.hash
            && self.inverted == other.inverted
            && match (&self.conditions, &other.conditions) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b) || same_map(a, b),
                _ => false,
            }
    }
}

impl Eq for Content {}

fn hash_map(map: &Map<String, Value>, hasher: &mut crate::lang::FxHasher) {
    use std::hash::Hasher;
    hasher.write_usize(map.len());
    for (key, value) in map {
        hasher.write(key.as_bytes());
        hasher.write_u8(0xff);
        hash_value(value, hasher);
    }
}

fn hash_value(value: &Value, hasher: &mut crate::lang::FxHasher) {
    use std::hash::Hasher;
    match value {
        Value::Null => hasher.write_u8(0),
        Value::Bool(it) => hasher.write_u8(1 + u8::from(*it)),
        Value::Number(number) => {
            hasher.write_u8(3);
            hasher.write_u64(number_bits(number).1);
        }
        Value::String(text) => {
            hasher.write_u8(4);
            hasher.write(text.as_bytes());
            hasher.write_u8(0xff);
        }
        Value::Array(items) => {
            hasher.write_u8(5);
            hasher.write_usize(items.len());
            items.iter().for_each(|it| hash_value(it, hasher));
        }
        Value::Object(map) => {
            hasher.write_u8(6);
            hash_map(map, hasher);
        }
    }
}

/// A number's representation: unsigned, signed or floating, and its bits.
fn number_bits(number: &serde_json::Number) -> (u8, u64) {
    match (number.as_u64(), number.as_i64(), number.as_f64()) {
        (Some(it), _, _) => (0, it),
        (None, Some(it), _) => (1, it as u64),
        (None, None, Some(it)) => (2, it.to_bits()),
        (None, None, None) => (3, 0),
    }
}

fn same_map(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|((ka, va), (kb, vb))| ka == kb && same_value(va, vb))
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => same_map(a, b),
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_value(a, b)),
        (Value::Number(a), Value::Number(b)) => number_bits(a) == number_bits(b),
        (a, b) => a == b,
    }
}

/// Whether the JSON text of `value` holds `{{`: the text Infisical renders as a handlebars template. In
/// JSON text `{{` can only occur inside a string (an object opens with `{"`), so strings are enough.
pub fn has_template(value: &Value) -> bool {
    match value {
        Value::String(text) => has_braces(text),
        Value::Array(items) => items.iter().any(has_template),
        Value::Object(entries) => entries.iter().any(|(key, value)| has_braces(key) || has_template(value)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// `map.get(name)`. Conditions and requests hold a few keys, and comparing them is cheaper than hashing
/// `name` with the map's SipHash, which every lookup of a larger map pays.
pub fn entry<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m Value> {
    if map.len() <= 8 {
        map.iter().find(|(key, _)| key.as_str() == name).map(|(_, value)| value)
    } else {
        map.get(name)
    }
}

/// Whether `text` holds `{{`: what starts a template. (`str::contains` sets up a substring search per call,
/// several times the cost of this scan on the short strings of conditions, and every lint asks.)
pub fn has_braces(text: &str) -> bool {
    text.as_bytes().windows(2).any(|pair| pair == b"{{")
}

/// The actor a permission is evaluated for, for `{{identity.*}}` templates.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Identity {
    pub id: String,
    pub username: String,
    pub metadata: Map<String, Value>,
    /// Identity auth information; `None` when the request carries none.
    pub auth: Option<Map<String, Value>>,
}

impl Identity {
    /// Reads `{"id", "username", "metadata"?, "auth"?}`.
    pub fn from_json(value: &Value) -> Identity {
        let text = |key: &str| value.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
        Identity {
            id: text("id"),
            username: text("username"),
            metadata: value.get("metadata").and_then(Value::as_object).cloned().unwrap_or_default(),
            auth: value.get("auth").and_then(Value::as_object).cloned(),
        }
    }
}

/// Where Infisical's evaluation itself fails (the backend answers 500).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvalError {
    /// A `$glob` condition met a field that is missing or not a string.
    GlobInputNotString { field: String },
    /// Templating produced text that is not JSON.
    TemplateJson(String),
    /// Handlebars could not render a template (an unknown helper, a block, a parse error).
    Template(String),
}

impl EvalError {
    /// The stable name used by `permc can --batch`.
    pub fn kind(&self) -> &'static str {
        match self {
            EvalError::GlobInputNotString { .. } => "glob_input_not_string",
            EvalError::TemplateJson(_) => "template_json",
            EvalError::Template(_) => "template",
        }
    }
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::GlobInputNotString { field } => {
                write!(
                    f,
                    "a `$glob` condition on `{field}` met a value that is not a string; Infisical's evaluation throws"
                )
            }
            EvalError::TemplateJson(message) => write!(f, "templating produced invalid JSON: {message}"),
            EvalError::Template(message) => write!(f, "template cannot be rendered: {message}"),
        }
    }
}

/// The decision for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// The index (in the prepared list) of the rule that decided; `None` when no rule matched.
    pub deciding: Option<usize>,
}

/// Steps 4 and 5 of the pipeline: the legacy forbid expansion and the stable sort of inverted rules last.
pub fn order(catalog: &Catalog, stored: &[StoredRule]) -> Vec<EvalRule> {
    let mut rules: Vec<EvalRule> = stored
        .iter()
        .enumerate()
        .map(|(origin, rule)| {
            let mut actions = rule.actions.clone();
            if rule.is_inverted()
                && let Some(subject) = catalog.subject(&rule.subject)
            {
                for (legacy, replacements) in &subject.legacy_actions {
                    if actions.iter().any(|it| replacements.contains(it)) && !actions.contains(legacy) {
                        actions.push(legacy.clone());
                    }
                }
            }
            EvalRule {
                subject: rule.subject.clone(),
                actions,
                inverted: rule.is_inverted(),
                conditions: rule.conditions.clone(),
                origin,
            }
        })
        .collect();
    rules.sort_by_key(|rule| rule.inverted);
    rules
}

/// The full pipeline from stored rules to rules ready for `can`.
pub fn prepare(catalog: &Catalog, stored: &[StoredRule], identity: &Identity) -> Result<Vec<EvalRule>, EvalError> {
    let mut rules = order(catalog, stored);
    let needs_templating = rules.iter().any(EvalRule::is_templated);
    if needs_templating {
        let text = Value::Array(
            rules.iter().map(|rule| Value::Object(rule.conditions.as_deref().cloned().unwrap_or_default())).collect(),
        )
        .to_string();
        let rendered = render(&text, identity)?;
        let parsed: Value =
            serde_json::from_str(&rendered).map_err(|error| EvalError::TemplateJson(error.to_string()))?;
        let Value::Array(items) = parsed else { return Err(EvalError::TemplateJson("not a list".into())) };
        for (rule, conditions) in rules.iter_mut().zip(items) {
            if rule.conditions.is_some() {
                rule.conditions = conditions.as_object().cloned().map(Arc::new);
            }
        }
    }
    Ok(rules)
}

/// CASL's `can(action, subject)` (no object: a type-level check) or `can(action, subject(type, object))`.
pub fn can(
    rules: &[EvalRule],
    action: &str,
    subject: &str,
    object: Option<&Map<String, Value>>,
) -> Result<Decision, EvalError> {
    for (index, rule) in rules.iter().enumerate().rev() {
        if rule.subject != subject || !rule.actions.iter().any(|it| it == action) {
            continue;
        }
        if matches_conditions(rule, object)? {
            return Ok(Decision { allowed: !rule.inverted, deciding: Some(index) });
        }
    }
    Ok(Decision { allowed: false, deciding: None })
}

fn matches_conditions(rule: &EvalRule, object: Option<&Map<String, Value>>) -> Result<bool, EvalError> {
    let Some(conditions) = &rule.conditions else { return Ok(true) };
    let Some(object) = object else { return Ok(!rule.inverted) };
    matches_query(conditions, object)
}

/// A Mongo-style query: every key must hold, in key order, stopping at the first that does not.
fn matches_query(query: &Map<String, Value>, object: &Map<String, Value>) -> Result<bool, EvalError> {
    for (field, condition) in query {
        if !matches_field(field, condition, entry(object, field))? {
            return Ok(false);
        }
    }
    Ok(true)
}

pub fn matches_field(field: &str, condition: &Value, value: Option<&Value>) -> Result<bool, EvalError> {
    let Value::Object(operators) = condition else {
        return Ok(equals(value, condition));
    };
    if operators.is_empty() {
        // An object without operators is an equality with that object, which no field value equals (this is
        // what is left when Infisical strips every operator of a key).
        return Ok(false);
    }
    for (operator, operand) in operators {
        let holds = match operator.as_str() {
            "$eq" => equals(value, operand),
            "$ne" => !equals(value, operand),
            "$in" => within(value, operand),
            "$all" => match (value, operand) {
                (Some(Value::Array(items)), Value::Array(wanted)) => wanted.iter().all(|it| items.contains(it)),
                _ => false,
            },
            "$glob" => match operand {
                Value::String(pattern) if pattern.is_empty() => false,
                Value::String(pattern) => match value {
                    Some(Value::String(text)) => glob::is_match(pattern, text),
                    _ => return Err(EvalError::GlobInputNotString { field: field.to_string() }),
                },
                _ => false,
            },
            "$elemMatch" => match (value, operand) {
                (Some(Value::Array(items)), Value::Object(query)) => {
                    let mut any = false;
                    for item in items {
                        let empty = Map::new();
                        let element = item.as_object().unwrap_or(&empty);
                        if matches_query(query, element)? {
                            any = true;
                            break;
                        }
                    }
                    any
                }
                _ => false,
            },
            _ => false,
        };
        if !holds {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `$eq`: on an array field, any element.
fn equals(value: Option<&Value>, operand: &Value) -> bool {
    match value {
        Some(Value::Array(items)) if !operand.is_array() => items.contains(operand),
        Some(value) => value == operand,
        None => false,
    }
}

/// `$in`: the value (or, on an array field, any element) is one of the listed values.
fn within(value: Option<&Value>, operand: &Value) -> bool {
    let Value::Array(list) = operand else { return false };
    match value {
        Some(Value::Array(items)) => items.iter().any(|it| list.contains(it)),
        Some(value) => list.contains(value),
        None => false,
    }
}

/// Renders `text` as a handlebars template with Infisical's permission context.
pub fn render(text: &str, identity: &Identity) -> Result<String, EvalError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(found) = rest.find("{{") {
        let before = &rest[..found];
        let backslashes = before.len() - before.trim_end_matches('\\').len();
        if backslashes % 2 == 1 {
            // `\{{`: an escaped mustache, emitted as written (without the backslash).
            out.push_str(&before[..before.len() - 1]);
            out.push_str("{{");
            rest = &rest[found + 2..];
            continue;
        }
        if backslashes >= 2 {
            out.push_str(&before[..before.len() - 1]);
        } else {
            out.push_str(before);
        }
        let after = &rest[found..];
        let (raw, open, close) = if after.starts_with("{{{") { (true, 3, "}}}") } else { (false, 2, "}}") };
        let Some(end) = after[open..].find(close) else {
            return Err(EvalError::Template("a `{{` is never closed".into()));
        };
        let inner = after[open..open + end].trim_matches('~').trim();
        let (inner, raw) = match inner.strip_prefix('&') {
            Some(inner) => (inner.trim_start(), true),
            None => (inner, raw),
        };
        let value = expression(inner, identity)?;
        let text = to_display(&value);
        if raw {
            out.push_str(&text);
        } else {
            escape_into(&text, &mut out);
        }
        rest = &after[open + end + close.len()..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The value of a mustache's expression: a path, or the `stripPrefix` helper.
fn expression(inner: &str, identity: &Identity) -> Result<Value, EvalError> {
    let tokens = tokenize(inner)?;
    let Some(head) = tokens.first() else { return Err(EvalError::Template("an empty mustache".into())) };
    let Token::Path(name) = head else {
        return Ok(match head {
            Token::Literal(value) => value.clone(),
            Token::Path(_) => unreachable!(),
        });
    };
    if matches!(name.chars().next(), Some('#' | '/' | '^' | '!' | '>')) {
        return Err(EvalError::Template(format!("`{{{{{inner}}}}}` is not supported in permissions")));
    }
    if name == "stripPrefix" {
        let text = tokens.get(1).map(|it| token_value(it, identity)).unwrap_or(Value::Null);
        let prefix =
            tokens.get(2).map(|it| to_display(&token_value(it, identity))).unwrap_or_else(|| "undefined".into());
        let text = if truthy(&text) { to_display(&text) } else { String::new() };
        return Ok(Value::String(text.strip_prefix(prefix.as_str()).unwrap_or(&text).to_string()));
    }
    if tokens.len() > 1 {
        return Err(EvalError::Template(format!("Missing helper: \"{name}\"")));
    }
    Ok(lookup(name, identity))
}

enum Token {
    Path(String),
    Literal(Value),
}

fn token_value(token: &Token, identity: &Identity) -> Value {
    match token {
        Token::Path(path) => lookup(path, identity),
        Token::Literal(value) => value.clone(),
    }
}

fn tokenize(inner: &str) -> Result<Vec<Token>, EvalError> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = inner.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '\'' || c == '"' {
            let end = chars[i + 1..]
                .iter()
                .position(|it| *it == c)
                .ok_or_else(|| EvalError::Template("an unterminated string".into()))?;
            tokens.push(Token::Literal(Value::String(chars[i + 1..i + 1 + end].iter().collect())));
            i += end + 2;
            continue;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        let literal = match word.as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            "null" | "undefined" => Some(Value::Null),
            _ => word.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number),
        };
        tokens.push(match literal {
            Some(value) => Token::Literal(value),
            None => Token::Path(word),
        });
    }
    Ok(tokens)
}

/// Looks a path up in `{ identity: { id, username, metadata, auth } }`. Missing keys of `identity.metadata`
/// and `identity.auth` render as their own template text, as Infisical's missing-key proxy does.
fn lookup(path: &str, identity: &Identity) -> Value {
    let segments: Vec<&str> = path.split(['.', '/']).filter(|it| !it.is_empty() && *it != "this").collect();
    if segments.first() != Some(&"identity") {
        return Value::Null;
    }
    let Some(second) = segments.get(1) else { return Value::Null };
    let (dict, key) = match *second {
        "id" => return walk(Value::String(identity.id.clone()), &segments[2..]),
        "username" => return walk(Value::String(identity.username.clone()), &segments[2..]),
        "metadata" => (Some(&identity.metadata), "identity.metadata"),
        "auth" => (identity.auth.as_ref(), "identity.auth"),
        _ => return Value::Null,
    };
    let Some(dict) = dict else { return Value::Null };
    let Some(third) = segments.get(2) else { return Value::Object(dict.clone()) };
    let value = dict.get(*third).cloned().unwrap_or_else(|| Value::String(format!("{{{{{key}.{third}}}}}")));
    walk(value, &segments[3..])
}

fn walk(mut value: Value, segments: &[&str]) -> Value {
    for segment in segments {
        value = match value {
            Value::Object(map) => map.get(*segment).cloned().unwrap_or(Value::Null),
            Value::String(text) if *segment == "length" => Value::from(text.encode_utf16().count()),
            _ => Value::Null,
        };
    }
    value
}

fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(it) => *it,
        Value::Number(it) => it.as_f64().is_some_and(|it| it != 0.0),
        Value::String(it) => !it.is_empty(),
        _ => true,
    }
}

/// JavaScript's `String(value)` as handlebars outputs it (`null` and `undefined` as nothing).
fn to_display(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(it) => it.to_string(),
        Value::Number(it) => match it.as_f64() {
            Some(float) if float.fract() == 0.0 && float.abs() < 1e21 => format!("{}", float as i64),
            _ => it.to_string(),
        },
        Value::String(it) => it.clone(),
        Value::Array(items) => items.iter().map(to_display).collect::<Vec<_>>().join(","),
        Value::Object(_) => "[object Object]".into(),
    }
}

/// Handlebars' `escapeExpression`.
fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            '`' => out.push_str("&#x60;"),
            '=' => out.push_str("&#x3D;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn template_detection_agrees_with_the_json_text() {
        let values = [
            json!({ "secretPath": "/{{identity.id}}" }),
            json!({ "secretPath": { "$glob": "/a/{{ identity.metadata.team }}/**" } }),
            json!({ "secretPath": { "$in": ["/a", "/b{{x}}"] } }),
            json!({ "{{k}}": "v" }),
            json!({ "secretPath": "/a{", "x": "{b" }),
            json!({ "a": [{ "b": {} }], "c": [[]], "d": "{ {" }),
            json!({ "environment": "prod", "n": 1, "t": true, "z": null }),
        ];
        for value in values {
            let text = value.to_string();
            assert_eq!(has_template(&value), text.contains("{{"), "{text}");
        }
        for text in ["", "{", "{{", "a{{", "{{a", "a{b{", "{ {", "}}{{", "ü{{", "{ü{"] {
            assert_eq!(has_braces(text), text.contains("{{"), "{text}");
        }
    }

    fn identity() -> Identity {
        Identity::from_json(&json!({ "id": "i-1", "username": "u-alice&co", "metadata": { "team": "pay" } }))
    }

    #[test]
    fn renders_like_infisical() {
        let id = identity();
        assert_eq!(render("{{identity.id}}/{{identity.metadata.team}}", &id).unwrap(), "i-1/pay");
        assert_eq!(render("{{identity.username}}", &id).unwrap(), "u-alice&amp;co");
        assert_eq!(render("{{{identity.username}}}", &id).unwrap(), "u-alice&co");
        assert_eq!(render("{{identity.metadata.env}}", &id).unwrap(), "{{identity.metadata.env}}");
        assert_eq!(render("{{identity.auth.sub}}", &id).unwrap(), "");
        assert_eq!(render("{{user.name}}", &id).unwrap(), "");
        assert_eq!(render("{{stripPrefix identity.username 'u-'}}", &id).unwrap(), "alice&amp;co");
        assert!(render("{{lowercase identity.username}}", &id).is_err());
    }

    #[test]
    fn last_matching_rule_decides_and_denies_come_last() {
        let catalog = Catalog::builtin();
        let rule = |inverted: bool, conditions: Option<Value>| StoredRule {
            subject: "secrets".into(),
            actions: vec!["readValue".into()],
            inverted: Some(inverted),
            conditions: conditions.and_then(|it| it.as_object().cloned()).map(Arc::new),
        };
        let stored = [rule(true, Some(json!({ "secretPath": { "$glob": "/a/**" } }))), rule(false, None)];
        let rules = prepare(catalog, &stored, &Identity::default()).unwrap();
        assert_eq!(rules[1].actions, ["readValue", "read"], "the deny also denies the legacy action");
        let object = json!({ "environment": "prod", "secretPath": "/a/b" });
        assert!(!can(&rules, "readValue", "secrets", object.as_object()).unwrap().allowed);
        let object = json!({ "environment": "prod", "secretPath": "/b" });
        assert!(can(&rules, "readValue", "secrets", object.as_object()).unwrap().allowed);
        assert!(can(&rules, "readValue", "secrets", None).unwrap().allowed, "a conditioned deny does not deny types");
        let object = json!({ "environment": "prod" });
        assert_eq!(
            can(&rules, "readValue", "secrets", object.as_object()),
            Err(EvalError::GlobInputNotString { field: "secretPath".into() })
        );
    }
}

/// The answer to one request against a rule list as a client sent it to the roles API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Infisical would reject the rule list at validation.
    Rejected,
    Decided {
        allowed: bool,
        /// For `secrets` `readValue`/`describeSecret`: `can(action) || can("read")`, as the secret endpoints gate.
        with_legacy_read_fallback: Option<bool>,
    },
    Failed(EvalError),
}

/// Validates `rules` as Infisical does, then evaluates `action` on `subject` (with `object`, or type-level).
pub fn answer(
    catalog: &Catalog,
    rules: &Value,
    subject: &str,
    action: &str,
    object: Option<&Map<String, Value>>,
    identity: &Identity,
) -> Answer {
    let mut diagnostics = Vec::new();
    let node = crate::syntax::Node::from_json(rules, crate::source::Span::default());
    let outcome = crate::check::rules::check_permissions(catalog, crate::source::FileId(0), &node, &mut diagnostics);
    let Some(stored) = outcome.stored else { return Answer::Rejected };
    let rules = match prepare(catalog, &stored, identity) {
        Ok(rules) => rules,
        Err(error) => return Answer::Failed(error),
    };
    let allowed = match can(&rules, action, subject, object) {
        Ok(decision) => decision.allowed,
        Err(error) => return Answer::Failed(error),
    };
    let with_legacy_read_fallback = if subject == "secrets" && (action == "readValue" || action == "describeSecret") {
        match can(&rules, "read", subject, object) {
            Ok(decision) => Some(allowed || decision.allowed),
            Err(error) => return Answer::Failed(error),
        }
    } else {
        None
    };
    Answer::Decided { allowed, with_legacy_read_fallback }
}
