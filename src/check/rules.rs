//! Permission rules: the mirror of Infisical's `ProjectPermissionV2Schema.array()` followed by
//! `checkForInvalidPermissionCombination` and the service layer's template check.
//!
//! Every rule is checked against the catalog. What Infisical would reject is an error; what it would
//! silently strip (unknown keys, `inverted` or `conditions` on subjects without them, unknown condition keys,
//! operators a key does not allow) or silently change (trimmed `$in`/`$all` elements) is an error too,
//! because the stored rule would not be the rule that was written. The outcome carries the rules exactly as
//! Infisical would store them (schema key order, trimmed lists), or `None` when Infisical would reject the
//! list.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::catalog::{Catalog, ConditionKey, ConditionKind, Operator, Subject, fold_spelling, suggest};
use crate::codes::Code;
use crate::diagnostic::{Applicability, Diagnostic};
use crate::glob;
use crate::source::{FileId, Span};
use crate::syntax::{Entry, Node, NodeKind};

/// A rule as Infisical stores it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRule {
    pub subject: String,
    pub actions: Vec<String>,
    /// `None` when the rule does not say; only on subjects with inversion.
    pub inverted: Option<bool>,
    /// Condition keys in the schema's order, operators in the schema's order, lists trimmed. Shared:
    /// evaluation and the lints take many copies of a rule.
    pub conditions: Option<Arc<Map<String, Value>>>,
}

impl StoredRule {
    pub fn is_inverted(&self) -> bool {
        self.inverted == Some(true)
    }

    /// The rule as the schema outputs it, keys in the subject's schema order.
    pub fn to_json(&self, catalog: &Catalog) -> Value {
        let order = catalog.subject(&self.subject).map(|subject| subject.key_order.clone()).unwrap_or_default();
        let mut out = Map::new();
        for key in order {
            match key.as_str() {
                "subject" => {
                    out.insert(key, Value::String(self.subject.clone()));
                }
                "action" => {
                    out.insert(key, Value::Array(self.actions.iter().cloned().map(Value::String).collect()));
                }
                "inverted" => {
                    if let Some(inverted) = self.inverted {
                        out.insert(key, Value::Bool(inverted));
                    }
                }
                "conditions" => {
                    if let Some(conditions) = &self.conditions {
                        out.insert(key, Value::Object(Map::clone(conditions)));
                    }
                }
                _ => {}
            }
        }
        Value::Object(out)
    }
}

/// What checking one `permissions` list found.
#[derive(Clone, Debug, Default)]
pub struct RulesOutcome {
    /// The rules as Infisical would store them; `None` when Infisical would reject the list.
    pub stored: Option<Vec<StoredRule>>,
    /// Whether Infisical would silently drop or change part of the input.
    pub stripped: bool,
}

/// Checks a `permissions` value. Diagnostics go to `diagnostics`.
pub fn check_permissions(
    catalog: &Catalog,
    file: FileId,
    permissions: &Node,
    diagnostics: &mut Vec<Diagnostic>,
) -> RulesOutcome {
    let mut checker = Checker { catalog, file, diagnostics, rejected: false, stripped: false };
    let stored = checker.list(permissions);
    RulesOutcome { stored: if checker.rejected { None } else { stored }, stripped: checker.stripped }
}

const RULE_KEYS: &[&str] = &["subject", "action", "inverted", "conditions"];

struct Checker<'a> {
    catalog: &'a Catalog,
    file: FileId,
    diagnostics: &'a mut Vec<Diagnostic>,
    rejected: bool,
    stripped: bool,
}

/// A diagnostic's fix replacement: a JSON string literal, valid in YAML, JSON and HCL alike.
fn quoted(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

fn list_of(items: &[String]) -> String {
    items.iter().map(|it| format!("`{it}`")).collect::<Vec<_>>().join(", ")
}

/// The actions of a rule with the span of each.
struct Actions {
    names: Vec<String>,
    spans: Vec<Span>,
}

/// A kept condition value with the node it came from.
struct KeptCondition<'n> {
    position: usize,
    key: String,
    entry: &'n Entry,
    value: Value,
}

impl<'a> Checker<'a> {
    /// An error for input Infisical rejects.
    fn reject(&mut self, diagnostic: Diagnostic) {
        self.rejected = true;
        self.diagnostics.push(diagnostic);
    }

    /// An error for input Infisical silently drops or changes.
    fn strip(&mut self, diagnostic: Diagnostic) {
        self.stripped = true;
        self.diagnostics.push(diagnostic);
    }

    fn diagnostic(&self, code: Code, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic::new(code, message, self.file, span)
    }

    fn list(&mut self, node: &Node) -> Option<Vec<StoredRule>> {
        let Some(items) = node.as_seq() else {
            let diagnostic = self
                .diagnostic(Code::WrongType, format!("`permissions` must be a list of rules, found {}", node.type_name()), node.span)
                .label("expected a list")
                .help("write `permissions: [{ subject: secrets, action: [readValue] }]`; in HCL, one `permission { ... }` block per rule");
            self.reject(diagnostic);
            return None;
        };
        let mut stored = Vec::with_capacity(items.len());
        for item in items {
            if let Some(rule) = self.rule(item) {
                stored.push(rule);
            }
        }
        Some(stored)
    }

    fn rule(&mut self, node: &Node) -> Option<StoredRule> {
        let Some(entries) = node.as_map() else {
            let diagnostic = self
                .diagnostic(
                    Code::WrongType,
                    format!("a permission rule must be an object, found {}", node.type_name()),
                    node.span,
                )
                .label("expected `{ subject, action, ... }`")
                .help("a rule is an object with `subject`, `action` and optionally `inverted` and `conditions`");
            self.reject(diagnostic);
            return None;
        };
        let rejected_before = std::mem::replace(&mut self.rejected, false);
        let stored = self.rule_entries(node, entries);
        let rule_rejected = self.rejected;
        self.rejected |= rejected_before;
        if rule_rejected { None } else { stored }
    }

    fn rule_entries(&mut self, node: &Node, entries: &[Entry]) -> Option<StoredRule> {
        let Some(subject) = self.subject(node, entries) else {
            // Without a subject the other keys cannot be checked; Infisical stops at the discriminator too.
            self.rejected = true;
            return None;
        };
        let mut actions = None;
        let mut inverted = None;
        let mut conditions = None;
        for entry in entries {
            match entry.key.as_str() {
                "subject" => {}
                "action" => actions = self.actions(subject, &entry.value),
                "inverted" => inverted = self.inverted(subject, entry),
                "conditions" => conditions = self.conditions(subject, entry),
                _ => self.unknown_rule_key(subject, entry),
            }
        }
        if entries.iter().all(|entry| entry.key != "action") {
            let diagnostic = self
                .diagnostic(Code::MissingField, "a permission rule needs `action`", node.span)
                .label(format!("this `{}` rule has no action", subject.name))
                .help(format!("add `action`: one of {} or a list of them", list_of(&subject.actions)));
            self.reject(diagnostic);
        }
        if let Some(actions) = &actions {
            self.combinations(subject, actions, entries, conditions.as_ref());
        }
        let actions = actions?;
        Some(StoredRule {
            subject: subject.name.clone(),
            actions: actions.names,
            inverted,
            conditions: conditions.map(Arc::new),
        })
    }

    fn subject(&mut self, node: &Node, entries: &[Entry]) -> Option<&'a Subject> {
        let Some(entry) = entries.iter().find(|entry| entry.key == "subject") else {
            let diagnostic = self
                .diagnostic(Code::MissingField, "a permission rule needs `subject`", node.span)
                .label("no `subject` in this rule")
                .help("add `subject`, e.g. `subject: secrets`; the subjects are listed in `grammar/catalog/`");
            self.reject(diagnostic);
            return None;
        };
        let Some(name) = entry.value.as_str() else {
            let diagnostic = self
                .diagnostic(
                    Code::WrongType,
                    format!("`subject` must be a string, found {}", entry.value.type_name()),
                    entry.value.span,
                )
                .label("expected a subject name")
                .help("write the subject's API name, e.g. `subject: secrets`");
            self.reject(diagnostic);
            return None;
        };
        if let Some(subject) = self.catalog.subject(name) {
            return Some(subject);
        }
        let span = entry.value.span;
        let mut diagnostic = self
            .diagnostic(Code::UnknownSubject, format!("unknown subject `{name}`"), span)
            .label(format!("not a subject of catalog `{}`", self.catalog.version()));
        let folded = fold_spelling(name);
        let respelled = self.catalog.subjects().iter().find(|subject| fold_spelling(&subject.name) == folded);
        if let Some(current) = self.catalog.renamed_subject(name) {
            diagnostic = diagnostic
                .help(format!("the API spells this subject `{current}`; Infisical answers 422 to `{name}`"))
                .fix(format!("use `{current}`"), Applicability::Safe, span, quoted(current));
        } else if let Some(subject) = respelled {
            diagnostic = diagnostic.help(format!("the API spells it `{}`", subject.name)).fix(
                format!("use `{}`", subject.name),
                Applicability::Safe,
                span,
                quoted(&subject.name),
            );
        } else if let Some(candidate) = suggest(name, self.catalog.subjects().iter().map(|it| it.name.as_str())) {
            diagnostic = diagnostic.help(format!("did you mean `{candidate}`?")).fix(
                format!("use `{candidate}`"),
                Applicability::Unsafe,
                span,
                quoted(&candidate),
            );
        } else {
            diagnostic = diagnostic.help(format!(
                "Infisical answers 422 `Invalid discriminator value`; the subjects are listed in `grammar/catalog/{}.json`",
                self.catalog.version()
            ));
        }
        self.reject(diagnostic);
        None
    }

    fn actions(&mut self, subject: &Subject, node: &Node) -> Option<Actions> {
        let items: Vec<&Node> = match &node.kind {
            NodeKind::String(_) => vec![node],
            NodeKind::Seq(items) if items.is_empty() => {
                let diagnostic = self
                    .diagnostic(Code::EmptyActions, "a rule needs at least one action", node.span)
                    .label("empty list")
                    .help(format!("list one or more of {}, or remove the rule", list_of(&subject.actions)));
                self.reject(diagnostic);
                return None;
            }
            NodeKind::Seq(items) => items.iter().collect(),
            _ => {
                let diagnostic = self
                    .diagnostic(
                        Code::WrongType,
                        format!("`action` must be an action or a list of actions, found {}", node.type_name()),
                        node.span,
                    )
                    .label("expected a string or a list of strings")
                    .help(format!("the actions of `{}` are {}", subject.name, list_of(&subject.actions)));
                self.reject(diagnostic);
                return None;
            }
        };
        let mut names = Vec::with_capacity(items.len());
        let mut spans = Vec::with_capacity(items.len());
        let mut valid = true;
        for item in items {
            match item.as_str() {
                Some(name) => {
                    valid &= self.action(subject, name, item.span);
                    names.push(name.to_string());
                    spans.push(item.span);
                }
                None => {
                    let diagnostic = self
                        .diagnostic(
                            Code::WrongType,
                            format!("an action must be a string, found {}", item.type_name()),
                            item.span,
                        )
                        .label("expected an action name")
                        .help(format!("the actions of `{}` are {}", subject.name, list_of(&subject.actions)));
                    self.reject(diagnostic);
                    valid = false;
                }
            }
        }
        valid.then_some(Actions { names, spans })
    }

    /// Checks one action name; `false` when Infisical rejects it.
    fn action(&mut self, subject: &Subject, name: &str, span: Span) -> bool {
        if subject.has_action(name) {
            return true;
        }
        let diagnostic = if let Some(current) = self.catalog.renamed_action(&subject.name, name) {
            self.diagnostic(Code::UnknownAction, format!("`{name}` is the old name of `{current}`"), span)
                .label(format!("`{}` no longer has this action", subject.name))
                .help(format!(
                    "Infisical renamed the action; stored roles keep the old string, but new ones must use `{current}`"
                ))
                .fix(format!("use `{current}`"), Applicability::Safe, span, quoted(current))
        } else if let Some(action) = subject.alias(name) {
            self.diagnostic(Code::UiActionName, format!("`{name}` is not the API name of an action"), span)
                .label(format!("the API spells it `{action}`"))
                .help(format!(
                    "the API accepts only its own spelling; the actions of `{}` are {}",
                    subject.name,
                    list_of(&subject.actions)
                ))
                .fix(format!("use `{action}`"), Applicability::Safe, span, quoted(action))
        } else if self.catalog.subjects_with_action(name).next().is_some() {
            let owners: Vec<String> =
                self.catalog.subjects_with_action(name).map(|it| it.name.clone()).take(6).collect();
            self.diagnostic(Code::ActionNotForSubject, format!("`{}` has no action `{name}`", subject.name), span)
                .label(format!("not an action of `{}`", subject.name))
                .help(format!(
                    "`{name}` is an action of {}; the actions of `{}` are {}",
                    list_of(&owners),
                    subject.name,
                    list_of(&subject.actions)
                ))
        } else {
            let mut diagnostic = self
                .diagnostic(Code::UnknownAction, format!("unknown action `{name}` for `{}`", subject.name), span)
                .label(format!("not an action of `{}`", subject.name));
            if let Some(candidate) = suggest(name, subject.actions.iter().map(String::as_str)) {
                diagnostic = diagnostic
                    .help(format!(
                        "did you mean `{candidate}`? the actions of `{}` are {}",
                        subject.name,
                        list_of(&subject.actions)
                    ))
                    .fix(format!("use `{candidate}`"), Applicability::Unsafe, span, quoted(&candidate));
            } else {
                diagnostic =
                    diagnostic.help(format!("the actions of `{}` are {}", subject.name, list_of(&subject.actions)));
            }
            diagnostic
        };
        self.reject(diagnostic);
        false
    }

    fn inverted(&mut self, subject: &Subject, entry: &Entry) -> Option<bool> {
        if !subject.inverted {
            let effect = match entry.value.kind {
                NodeKind::Bool(true) => "Infisical drops `inverted` and stores this deny as an allow",
                _ => "Infisical drops `inverted` from rules on this subject",
            };
            let diagnostic = self
                .diagnostic(Code::InvertedNotSupported, format!("`{}` rules cannot be inverted", subject.name), entry.key_span)
                .label(effect)
                .help(format!(
                    "`{}` has no deny rules; remove `inverted` and grant less instead (subjects with deny rules: `secrets`, `secret-folders`, `identity`, ...)",
                    subject.name
                ));
            self.strip(diagnostic);
            return None;
        }
        match entry.value.kind {
            NodeKind::Bool(value) => Some(value),
            _ => {
                let diagnostic = self
                    .diagnostic(
                        Code::WrongType,
                        format!("`inverted` must be `true` or `false`, found {}", entry.value.type_name()),
                        entry.value.span,
                    )
                    .label("expected a boolean")
                    .help("write `inverted: true` for a deny rule; leave it out for an allow");
                self.reject(diagnostic);
                None
            }
        }
    }

    fn unknown_rule_key(&mut self, subject: &Subject, entry: &Entry) {
        let mut diagnostic = self
            .diagnostic(Code::UnknownField, format!("unknown key `{}` in a permission rule", entry.key), entry.key_span)
            .label("Infisical drops this key without a word");
        let allowed: Vec<&str> = RULE_KEYS
            .iter()
            .copied()
            .filter(|key| match *key {
                "inverted" => subject.inverted,
                "conditions" => subject.takes_conditions(),
                _ => true,
            })
            .collect();
        diagnostic = match entry.key.as_str() {
            "fields" | "reason" => {
                diagnostic.help("Infisical does not use CASL's `fields` and `reason`; remove the key")
            }
            "actions" => diagnostic.help("the key is `action` (a string or a list)"),
            key => match suggest(key, allowed.iter().copied()) {
                Some(candidate) => diagnostic.help(format!("did you mean `{candidate}`?")),
                None => diagnostic.help(format!(
                    "a rule on `{}` has only {}",
                    subject.name,
                    allowed.iter().map(|it| format!("`{it}`")).collect::<Vec<_>>().join(", ")
                )),
            },
        };
        self.strip(diagnostic);
    }

    fn conditions(&mut self, subject: &Subject, entry: &Entry) -> Option<Map<String, Value>> {
        if !subject.takes_conditions() {
            let diagnostic = self
                .diagnostic(
                    Code::ConditionsNotSupported,
                    format!("`{}` rules cannot have conditions", subject.name),
                    entry.key_span,
                )
                .label(format!("Infisical drops the conditions and the rule applies to every `{}`", subject.name))
                .help(format!("`{}` takes no conditions; remove them, or grant a narrower subject", subject.name));
            self.strip(diagnostic);
            return None;
        }
        let node = &entry.value;
        let Some(entries) = node.as_map() else {
            let diagnostic = self
                .diagnostic(Code::WrongType, format!("`conditions` must be an object, found {}", node.type_name()), node.span)
                .label("expected an object of condition keys")
                .help("write e.g. `conditions: { environment: prod, secretPath: { $glob: /app/** } }`; leave it out for no conditions");
            self.reject(diagnostic);
            return None;
        };
        let mut kept: Vec<KeptCondition> = Vec::with_capacity(entries.len());
        for entry in entries {
            let Some((position, key)) =
                subject.conditions.iter().flatten().enumerate().find(|(_, key)| key.key == entry.key)
            else {
                self.unknown_condition_key(subject, entry);
                continue;
            };
            if let Some(value) = self.condition_value(subject, key, &entry.value) {
                kept.push(KeptCondition { position, key: key.key.clone(), entry, value });
            }
        }
        kept.sort_by_key(|it| it.position);
        if subject.assignable_action_check {
            self.assignable_action(&kept);
        }
        Some(kept.into_iter().map(|it| (it.key, it.value)).collect())
    }

    fn unknown_condition_key(&mut self, subject: &Subject, entry: &Entry) {
        let keys: Vec<&str> = subject.conditions.iter().flatten().map(|it| it.key.as_str()).collect();
        let mut diagnostic = self
            .diagnostic(
                Code::UnknownConditionKey,
                format!("`{}` has no condition `{}`", subject.name, entry.key),
                entry.key_span,
            )
            .label("Infisical drops this condition, so the rule is broader than written");
        let folded = fold_spelling(&entry.key);
        if let Some(key) = keys.iter().find(|key| fold_spelling(key) == folded) {
            diagnostic = diagnostic.help(format!("condition keys are case-sensitive: `{key}`")).fix(
                format!("use `{key}`"),
                Applicability::Safe,
                entry.key_span,
                quoted(key),
            );
        } else if let Some(candidate) = suggest(&entry.key, keys.iter().copied()) {
            diagnostic = diagnostic.help(format!(
                "did you mean `{candidate}`? the conditions of `{}` are {}",
                subject.name,
                keys_list(&keys)
            ));
        } else {
            diagnostic = diagnostic.help(format!("the conditions of `{}` are {}", subject.name, keys_list(&keys)));
        }
        self.strip(diagnostic);
    }

    fn condition_value(&mut self, subject: &Subject, key: &ConditionKey, node: &Node) -> Option<Value> {
        match &node.kind {
            NodeKind::String(text) if key.plain => {
                if key.kind == ConditionKind::Path && !text.starts_with('/') {
                    self.path_slash(text, node.span, "a secret path");
                    return None;
                }
                self.template(text, node.span);
                Some(Value::String(text.clone()))
            }
            NodeKind::Map(entries) if key.kind == ConditionKind::Metadata => self.metadata(subject, key, node, entries),
            NodeKind::Map(entries) => {
                let mut kept: Vec<(usize, Operator, Value)> = Vec::with_capacity(entries.len());
                let mut valid = true;
                for entry in entries {
                    let Some((position, operator)) = self.operator(subject, &key.key, &key.operators, entry) else {
                        continue;
                    };
                    match self.operator_value(key.kind, &key.key, operator, &entry.value) {
                        Some(value) => kept.push((position, operator, value)),
                        None => valid = false,
                    }
                }
                kept.sort_by_key(|it| it.0);
                valid.then(|| {
                    Value::Object(kept.into_iter().map(|(_, op, value)| (op.as_str().to_string(), value)).collect())
                })
            }
            _ => {
                let expected = if key.plain { "a string or an operator object" } else { "an operator object" };
                let example = match key.kind {
                    ConditionKind::Tags => "`secretTags: { $in: [release] }`".to_string(),
                    ConditionKind::Metadata => {
                        "`metadata: { $elemMatch: { key: { $eq: team }, value: { $eq: payments } } }`".to_string()
                    }
                    _ => format!("`{}: value` or `{}: {{ $in: [a, b] }}`", key.key, key.key),
                };
                let diagnostic = self
                    .diagnostic(
                        Code::WrongType,
                        format!("`{}` must be {expected}, found {}", key.key, node.type_name()),
                        node.span,
                    )
                    .label(format!("expected {expected}"))
                    .help(format!("write e.g. {example}; operators: {}", operators_list(&key.operators)));
                self.reject(diagnostic);
                None
            }
        }
    }

    /// The operator an entry of an operator object names, when the key allows it; reports it otherwise.
    fn operator(
        &mut self,
        subject: &Subject,
        key: &str,
        allowed: &[Operator],
        entry: &Entry,
    ) -> Option<(usize, Operator)> {
        let operator = Operator::parse(&entry.key);
        if let Some(position) = operator.and_then(|op| allowed.iter().position(|it| *it == op)) {
            return Some((position, allowed[position]));
        }
        let mut diagnostic = self
            .diagnostic(
                Code::OperatorNotAllowed,
                format!("`{key}` on `{}` does not take `{}`", subject.name, entry.key),
                entry.key_span,
            )
            .label("Infisical drops this operator, so the condition no longer restricts anything");
        let bare = format!("${}", entry.key);
        diagnostic =
            match Operator::parse(&bare) {
                Some(op) if allowed.contains(&op) => diagnostic
                    .help(format!("operators start with `$`: `{bare}`"))
                    .fix(format!("use `{bare}`"), Applicability::Safe, entry.key_span, quoted(&bare)),
                _ if operator.is_some() => {
                    diagnostic.help(format!("`{key}` on `{}` takes {}", subject.name, operators_list(allowed)))
                }
                _ => diagnostic.help(format!(
                    "`{}` is not an Infisical operator; `{key}` takes {}",
                    entry.key,
                    operators_list(allowed)
                )),
            };
        self.strip(diagnostic);
        None
    }

    /// Checks an operator's value; `None` when Infisical rejects it.
    fn operator_value(&mut self, kind: ConditionKind, key: &str, operator: Operator, node: &Node) -> Option<Value> {
        let name = operator.as_str();
        if operator.takes_list() {
            let Some(items) = node.as_seq() else {
                let diagnostic = self
                    .diagnostic(
                        Code::OperatorValueType,
                        format!("`{name}` takes a list of strings, found {}", node.type_name()),
                        node.span,
                    )
                    .label("expected a list")
                    .help(format!("write `{key}: {{ {name}: [a, b] }}`"));
                self.reject(diagnostic);
                return None;
            };
            let mut out = Vec::with_capacity(items.len());
            let mut valid = true;
            for item in items {
                let Some(text) = item.as_str() else {
                    let diagnostic = self
                        .diagnostic(
                            Code::OperatorValueType,
                            format!("`{name}` elements must be strings, found {}", item.type_name()),
                            item.span,
                        )
                        .label("expected a string")
                        .help("quote the value if it is meant as text");
                    self.reject(diagnostic);
                    valid = false;
                    continue;
                };
                let trimmed = text.trim();
                if trimmed.is_empty() {
                    let diagnostic = self
                        .diagnostic(Code::EmptyValue, format!("`{name}` elements cannot be blank"), item.span)
                        .label("blank after trimming")
                        .help("Infisical trims each element and rejects empty ones; remove it");
                    self.reject(diagnostic);
                    valid = false;
                    continue;
                }
                if kind == ConditionKind::Path && !trimmed.starts_with('/') {
                    self.path_slash(trimmed, item.span, "every `$in` path");
                    valid = false;
                    continue;
                }
                if trimmed.len() != text.len() {
                    let diagnostic = self
                        .diagnostic(
                            Code::EmptyValue,
                            format!("`{name}` element `{text}` has surrounding whitespace"),
                            item.span,
                        )
                        .label(format!("Infisical stores it as `{trimmed}`"))
                        .help("write the value without the whitespace, as Infisical stores it")
                        .fix("trim the value", Applicability::Safe, item.span, quoted(trimmed));
                    self.strip(diagnostic);
                }
                self.template(trimmed, item.span);
                out.push(Value::String(trimmed.to_string()));
            }
            return valid.then_some(Value::Array(out));
        }
        let Some(text) = node.as_str() else {
            let diagnostic = self
                .diagnostic(
                    Code::OperatorValueType,
                    format!("`{name}` takes a string, found {}", node.type_name()),
                    node.span,
                )
                .label("expected a string")
                .help(match operator {
                    Operator::Eq | Operator::Ne => {
                        format!("for several values use `$in: [...]`; quote `{key}` values that look like numbers")
                    }
                    _ => "quote the pattern".to_string(),
                });
            self.reject(diagnostic);
            return None;
        };
        if text.is_empty() {
            let diagnostic = self
                .diagnostic(Code::EmptyValue, format!("`{name}` cannot be empty"), node.span)
                .label("empty string")
                .help(format!("Infisical rejects an empty `{name}`; to match anything, leave `{key}` out"));
            self.reject(diagnostic);
            return None;
        }
        if kind == ConditionKind::Path && matches!(operator, Operator::Eq | Operator::Ne) && !text.starts_with('/') {
            self.path_slash(text, node.span, "a secret path");
            return None;
        }
        // picomatch counts JavaScript string length: UTF-16 units.
        if operator == Operator::Glob && text.encode_utf16().count() > glob::MAX_PATTERN_LENGTH {
            let diagnostic = self
                .diagnostic(Code::InvalidGlob, "glob pattern is too long", node.span)
                .label(format!("{} UTF-16 units", text.encode_utf16().count()))
                .help(format!(
                    "Infisical's glob library refuses patterns longer than {} characters",
                    glob::MAX_PATTERN_LENGTH
                ));
            self.reject(diagnostic);
            return None;
        }
        self.template(text, node.span);
        Some(Value::String(text.to_string()))
    }

    fn path_slash(&mut self, text: &str, span: Span, what: &str) {
        let diagnostic = self
            .diagnostic(Code::SecretPathSlash, format!("secret path `{text}` does not start with `/`"), span)
            .label(format!("{what} must start with `/`"))
            .help(
                "Infisical answers \"Invalid Secret Path; it must start with a '/'\"; paths are absolute, e.g. `/app`",
            )
            .fix("add the leading `/`", Applicability::Unsafe, span, quoted(&format!("/{text}")));
        self.reject(diagnostic);
    }

    fn metadata(&mut self, subject: &Subject, key: &ConditionKey, node: &Node, entries: &[Entry]) -> Option<Value> {
        let Some(shape) = &key.elem_match else { return None };
        let mut elem = None;
        for entry in entries {
            if entry.key == "$elemMatch" {
                elem = Some(entry);
            } else {
                self.operator(subject, &key.key, &[Operator::ElemMatch], entry);
            }
        }
        let Some(elem) = elem else {
            let diagnostic = self
                .diagnostic(Code::MissingField, format!("`{}` needs `$elemMatch`", key.key), node.span)
                .label("no `$elemMatch`")
                .help(format!(
                    "write `{}: {{ $elemMatch: {{ key: {{ $eq: team }}, value: {{ $eq: payments }} }} }}`",
                    key.key
                ));
            self.reject(diagnostic);
            return None;
        };
        let Some(parts) = elem.value.as_map() else {
            let diagnostic = self
                .diagnostic(
                    Code::OperatorValueType,
                    format!("`$elemMatch` takes an object, found {}", elem.value.type_name()),
                    elem.value.span,
                )
                .label("expected `{ key: {...}, value: {...} }`")
                .help("write `$elemMatch: { key: { $eq: team }, value: { $in: [a, b] } }`");
            self.reject(diagnostic);
            return None;
        };
        let mut out: Vec<(usize, &str, Value)> = Vec::new();
        let mut valid = true;
        for part in parts {
            let (position, allowed) = match part.key.as_str() {
                "key" => (0, &shape.key),
                "value" => (1, &shape.value),
                other => {
                    let diagnostic = self
                        .diagnostic(Code::UnknownField, format!("unknown key `{other}` in `$elemMatch`"), part.key_span)
                        .label("Infisical drops this key")
                        .help("`$elemMatch` takes `key` and `value`, each an operator object");
                    self.strip(diagnostic);
                    continue;
                }
            };
            let Some(operators) = part.value.as_map() else {
                let diagnostic = self
                    .diagnostic(
                        Code::OperatorValueType,
                        format!(
                            "`{}` in `$elemMatch` takes an operator object, found {}",
                            part.key,
                            part.value.type_name()
                        ),
                        part.value.span,
                    )
                    .label("expected an operator object")
                    .help(format!("write `{}: {{ $eq: ... }}`; operators: {}", part.key, operators_list(allowed)));
                self.reject(diagnostic);
                valid = false;
                continue;
            };
            let mut kept: Vec<(usize, Operator, Value)> = Vec::new();
            for entry in operators {
                let Some((index, operator)) =
                    self.operator(subject, &format!("{}.{}", key.key, part.key), allowed, entry)
                else {
                    continue;
                };
                match self.operator_value(ConditionKind::String, &part.key, operator, &entry.value) {
                    Some(value) => kept.push((index, operator, value)),
                    None => valid = false,
                }
            }
            kept.sort_by_key(|it| it.0);
            let name = if position == 0 { "key" } else { "value" };
            out.push((
                position,
                name,
                Value::Object(kept.into_iter().map(|(_, op, value)| (op.as_str().to_string(), value)).collect()),
            ));
        }
        if !valid {
            return None;
        }
        out.sort_by_key(|it| it.0);
        let inner: Map<String, Value> = out.into_iter().map(|(_, name, value)| (name.to_string(), value)).collect();
        let mut wrapper = Map::new();
        wrapper.insert("$elemMatch".to_string(), Value::Object(inner));
        Some(Value::Object(wrapper))
    }

    /// Infisical's `assignableAction` refinement (member and identity rules).
    fn assignable_action(&mut self, kept: &[KeptCondition]) {
        let Some(action) = kept.iter().find(|it| it.key == "assignableAction") else { return };
        let values = extract_condition_values(&action.value);
        if values.is_empty() {
            return;
        }
        let subject_value = kept.iter().find(|it| it.key == "assignableSubject").map(|it| &it.value);
        let config = subject_config(subject_value);
        let Some(error) = values.iter().find_map(|value| validate_assignable_action(value, &config)) else { return };
        let diagnostic = self
            .diagnostic(Code::AssignableActionFormat, error, action.entry.value.span)
            .label("Infisical rejects this `assignableAction`")
            .help("write each value as `subject:action`, e.g. `secrets:describeSecret`, with a subject that `assignableSubject` allows");
        self.reject(diagnostic);
    }

    /// `checkForInvalidPermissionCombination`: legacy umbrella actions mixed with their replacements, and
    /// condition keys an action does not allow.
    fn combinations(
        &mut self,
        subject: &Subject,
        actions: &Actions,
        entries: &[Entry],
        conditions: Option<&Map<String, Value>>,
    ) {
        for (legacy, replacements) in &subject.legacy_actions {
            let Some(legacy_at) = actions.names.iter().position(|it| it == legacy) else { continue };
            let mixed: Vec<String> = replacements.iter().filter(|it| actions.names.contains(it)).cloned().collect();
            if mixed.is_empty() {
                continue;
            }
            let code = if legacy == "read" { Code::LegacyReadCombined } else { Code::LegacyGrantCombined };
            let mut diagnostic = self.diagnostic(
                code,
                format!("`{legacy}` cannot be combined with {} in one rule", list_of(&mixed)),
                actions.spans[legacy_at],
            );
            for (name, span) in actions.names.iter().zip(&actions.spans) {
                if mixed.contains(name) {
                    diagnostic = diagnostic.secondary(self.file, *span, "its replacement, in the same rule");
                }
            }
            let diagnostic = diagnostic
                .label(format!("`{legacy}` is the legacy action that {} replaced", list_of(replacements)))
                .help(format!(
                    "Infisical answers 400 to this rule; drop `{legacy}` and list {} instead, or put `{legacy}` in a rule of its own",
                    list_of(replacements)
                ));
            self.reject(diagnostic);
        }
        let Some(conditions) = conditions else { return };
        let Some(conditions_entry) = entries.iter().find(|it| it.key == "conditions") else { return };
        for (index, action) in actions.names.iter().enumerate() {
            let Some(allowed) = subject.allowed_keys_for(action) else { continue };
            for key in conditions.keys() {
                if allowed.contains(key) {
                    continue;
                }
                let span = conditions_entry
                    .value
                    .as_map()
                    .and_then(|entries| entries.iter().find(|it| &it.key == key))
                    .map_or(conditions_entry.key_span, |it| it.key_span);
                let allows =
                    if allowed.is_empty() { "no conditions".to_string() } else { format!("only {}", list_of(allowed)) };
                let diagnostic = self
                    .diagnostic(
                        Code::ConditionNotForAction,
                        format!("condition `{key}` is not allowed for action `{action}` on `{}`", subject.name),
                        span,
                    )
                    .secondary(self.file, actions.spans[index], format!("`{action}` is listed here"))
                    .label(format!("`{action}` takes {allows}"))
                    .help(format!("Infisical answers 400; move `{action}` to a rule of its own with {allows}"));
                self.reject(diagnostic);
            }
        }
    }

    /// The service layer's template check: every `{{...}}` must be a path containing `identity.` or call one of
    /// the catalog's template helpers.
    fn template(&mut self, text: &str, span: Span) {
        if !crate::eval::has_braces(text) {
            return;
        }
        for (start, end, problem) in template_problems(text, self.catalog.template_helpers()) {
            // Point at the template itself when the node's text is the string as written.
            let offset = if span.len() as usize == text.len() + 2 {
                Some(1)
            } else if span.len() as usize == text.len() {
                Some(0)
            } else {
                None
            };
            let at = offset.map_or(span, |offset| Span {
                start: span.start + offset + start as u32,
                end: span.start + offset + end as u32,
            });
            let diagnostic = self
                .diagnostic(Code::InvalidTemplate, format!("template `{}` is refused by Infisical", &text[start..end]), at)
                .label(problem)
                .help(format!(
                    "in permissions Infisical accepts only `{{{{identity.…}}}}` paths (`identity.id`, `identity.username`, `identity.metadata.<key>`, `identity.auth.<…>`) and the helpers {}; anything else fails with \"Template sanitization failed\"",
                    list_of(self.catalog.template_helpers())
                ));
            self.diagnostics.push(diagnostic);
        }
    }
}

fn keys_list(keys: &[&str]) -> String {
    keys.iter().map(|it| format!("`{it}`")).collect::<Vec<_>>().join(", ")
}

fn operators_list(operators: &[Operator]) -> String {
    operators.iter().map(|it| format!("`{}`", it.as_str())).collect::<Vec<_>>().join(", ")
}

/// The mustaches in `text` that Infisical's template check refuses: (start, end, why).
fn template_problems(text: &str, helpers: &[String]) -> Vec<(usize, usize, &'static str)> {
    let mut problems = Vec::new();
    let mut rest = 0;
    while let Some(found) = text[rest..].find("{{") {
        let start = rest + found;
        let triple = text[start..].starts_with("{{{");
        let close = if triple { "}}}" } else { "}}" };
        let inner_start = start + if triple { 3 } else { 2 };
        let Some(close_at) = text[inner_start..].find(close) else {
            problems.push((start, text.len(), "this `{{` is never closed"));
            break;
        };
        let end = inner_start + close_at + close.len();
        let inner = text[inner_start..inner_start + close_at].trim_matches('~').trim();
        if let Some(problem) = mustache_problem(inner, helpers) {
            problems.push((start, end, problem));
        }
        rest = end;
    }
    problems
}

fn mustache_problem(inner: &str, helpers: &[String]) -> Option<&'static str> {
    let inner = inner.strip_prefix('&').unwrap_or(inner).trim_start();
    match inner.chars().next() {
        None => return Some("an empty template"),
        Some('!') => return Some("comments are not allowed"),
        Some('#' | '^' | '/') => return Some("block helpers are not allowed"),
        Some('>') => return Some("partials are not allowed"),
        Some('"' | '\'') => return Some("a literal, not an `identity.` path"),
        Some('(') => return Some("subexpressions are not allowed"),
        Some(c) if c.is_ascii_digit() || c == '-' => return Some("a literal, not an `identity.` path"),
        _ => {}
    }
    let head = inner.split(|c: char| c.is_whitespace() || c == '(' || c == ')').next().unwrap_or("");
    if matches!(head, "true" | "false" | "null" | "undefined" | "else") {
        return Some("a literal, not an `identity.` path");
    }
    if head.contains("identity.") || helpers.iter().any(|helper| helper == head) {
        None
    } else {
        Some("only `identity.` paths and Infisical's template helpers are allowed")
    }
}

/// Infisical's `extractConditionValues`: the values of the first of `$eq`, `$ne`, `$in`, `$glob` present.
fn extract_condition_values(value: &Value) -> Vec<String> {
    let trimmed = |text: &str| -> Vec<String> {
        let text = text.trim();
        if text.is_empty() { Vec::new() } else { vec![text.to_string()] }
    };
    match value {
        Value::String(text) => trimmed(text),
        Value::Object(map) => {
            if let Some(Value::String(text)) = map.get("$eq") {
                return trimmed(text);
            }
            if let Some(Value::String(text)) = map.get("$ne") {
                return trimmed(text);
            }
            if let Some(Value::Array(items)) = map.get("$in") {
                return items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::trim)
                    .filter(|it| !it.is_empty())
                    .map(str::to_string)
                    .collect();
            }
            if let Some(Value::String(text)) = map.get("$glob") {
                return trimmed(text);
            }
            Vec::new()
        }
        _ => Vec::new(),
    }
}

#[derive(Default)]
struct SubjectConfig {
    allowed: Option<Vec<String>>,
    forbidden: Option<Vec<String>>,
    glob: Option<String>,
}

fn subject_config(value: Option<&Value>) -> SubjectConfig {
    match value {
        Some(Value::String(text)) if !text.trim().is_empty() => {
            SubjectConfig { allowed: Some(vec![text.trim().to_string()]), ..SubjectConfig::default() }
        }
        Some(value @ Value::Object(map)) => {
            if map.contains_key("$eq") || map.contains_key("$in") {
                let values = extract_condition_values(value);
                if values.is_empty() {
                    SubjectConfig::default()
                } else {
                    SubjectConfig { allowed: Some(values), ..SubjectConfig::default() }
                }
            } else if map.contains_key("$ne") {
                let values = extract_condition_values(value);
                if values.is_empty() {
                    SubjectConfig::default()
                } else {
                    SubjectConfig { forbidden: Some(values), ..SubjectConfig::default() }
                }
            } else if let Some(Value::String(pattern)) = map.get("$glob")
                && !pattern.trim().is_empty()
            {
                SubjectConfig { glob: Some(pattern.trim().to_string()), ..SubjectConfig::default() }
            } else {
                SubjectConfig::default()
            }
        }
        _ => SubjectConfig::default(),
    }
}

/// Infisical's `validateAssignableActionFormat`.
fn validate_assignable_action(value: &str, config: &SubjectConfig) -> Option<String> {
    let format = || format!("assignable action `{value}` is not of the form `subject:action`");
    let colon = value.find(':');
    let Some(colon) = colon.filter(|&at| at != 0 && at != value.len() - 1) else {
        return Some(format());
    };
    let subject = value[..colon].trim();
    let action = value[colon + 1..].trim();
    if subject.is_empty() || action.is_empty() {
        return Some(format());
    }
    if config.forbidden.as_ref().is_some_and(|it| it.iter().any(|s| s == subject)) {
        return Some(format!("subject `{subject}` is forbidden by the `assignableSubject` condition"));
    }
    if config.allowed.as_ref().is_some_and(|it| !it.iter().any(|s| s == subject)) {
        return Some(format!("subject `{subject}` is not in the `assignableSubject` list"));
    }
    if let Some(pattern) = &config.glob
        && !glob::is_match(pattern, subject)
    {
        return Some(format!("subject `{subject}` does not match the `assignableSubject` pattern `{pattern}`"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(rules: Value) -> (RulesOutcome, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        let outcome = check_permissions(
            Catalog::builtin(),
            FileId(0),
            &Node::from_json(&rules, Span::default()),
            &mut diagnostics,
        );
        (outcome, diagnostics)
    }

    fn codes(rules: Value) -> Vec<&'static str> {
        check(rules).1.iter().map(|it| it.code.id()).collect()
    }

    #[test]
    fn stores_in_schema_order_with_trimmed_lists() {
        let (outcome, diagnostics) = check(json!([{
            "conditions": { "secretPath": { "$glob": "/a/**", "$eq": "/a" }, "environment": "prod" },
            "action": "readValue", "inverted": false, "subject": "secrets"
        }]));
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let stored = outcome.stored.unwrap();
        let text = stored[0].to_json(Catalog::builtin()).to_string();
        assert_eq!(
            text,
            r#"{"subject":"secrets","inverted":false,"action":["readValue"],"conditions":{"environment":"prod","secretPath":{"$eq":"/a","$glob":"/a/**"}}}"#
        );
        let (outcome, diagnostics) = check(
            json!([{ "subject": "secrets", "action": ["read"], "conditions": { "environment": { "$in": [" prod "] } } }]),
        );
        assert_eq!(diagnostics.iter().map(|it| it.code).collect::<Vec<_>>(), [Code::EmptyValue]);
        assert_eq!(outcome.stored.unwrap()[0].conditions.as_ref().unwrap()["environment"], json!({ "$in": ["prod"] }));
        assert!(outcome.stripped);
    }

    #[test]
    fn glob_length_is_counted_in_utf16_units() {
        // Each `😀` is two UTF-16 units: under the limit in characters, over it in units.
        let long = format!("/{}", "😀".repeat(glob::MAX_PATTERN_LENGTH / 2));
        assert!(long.chars().count() <= glob::MAX_PATTERN_LENGTH);
        let (_, diagnostics) = check(json!([{
            "subject": "secrets", "action": "readValue", "conditions": { "secretPath": { "$glob": long } }
        }]));
        assert!(diagnostics.iter().any(|it| it.code == Code::InvalidGlob), "{diagnostics:?}");
        let fits = format!("/{}", "😀".repeat(glob::MAX_PATTERN_LENGTH / 2 - 1));
        let (_, diagnostics) = check(json!([{
            "subject": "secrets", "action": "readValue", "conditions": { "secretPath": { "$glob": fits } }
        }]));
        assert!(!diagnostics.iter().any(|it| it.code == Code::InvalidGlob), "{diagnostics:?}");
    }

    #[test]
    fn stripping_is_reported_and_the_stored_rule_shows_it() {
        let (outcome, diagnostics) = check(json!([{ "subject": "role", "action": "delete", "inverted": true }]));
        assert_eq!(diagnostics[0].code, Code::InvertedNotSupported);
        assert!(outcome.stripped);
        assert_eq!(
            outcome.stored.unwrap()[0].to_json(Catalog::builtin()),
            json!({ "subject": "role", "action": ["delete"] })
        );
        assert_eq!(
            codes(json!([{ "subject": "secrets", "action": "read", "conditions": { "secretpath": "/a" } }])),
            ["PC1022"]
        );
        assert_eq!(
            codes(
                json!([{ "subject": "secret-folders", "action": "read", "conditions": { "environment": { "$glob": "p*" } } }])
            ),
            ["PC1023"]
        );
        assert_eq!(codes(json!([{ "subject": "secrets", "action": "read", "fields": ["x"] }])), ["PC1001"]);
        assert_eq!(codes(json!([{ "subject": "role", "action": "read", "conditions": {} }])), ["PC1021"]);
    }

    #[test]
    fn rejections_clear_the_stored_rules() {
        for (rules, code) in [
            (json!({}), "PC1002"),
            (json!([{ "subject": "nope", "action": "read" }]), "PC1010"),
            (json!([{ "subject": "project", "action": "edit" }]), "PC1010"),
            (json!([{ "subject": "secrets", "action": "fly" }]), "PC1011"),
            (json!([{ "subject": "secrets", "action": "read-private-key" }]), "PC1012"),
            (json!([{ "subject": "secrets", "action": "read-value" }]), "PC1013"),
            (json!([{ "subject": "secrets", "action": [] }]), "PC1014"),
            (json!([{ "subject": "secrets", "action": "read", "conditions": { "secretPath": "app" } }]), "PC1026"),
            (
                json!([{ "subject": "secrets", "action": "read", "conditions": { "secretPath": { "$in": ["/a", " "] } } }]),
                "PC1025",
            ),
            (
                json!([{ "subject": "secrets", "action": "read", "conditions": { "environment": { "$eq": 1 } } }]),
                "PC1024",
            ),
            (json!([{ "subject": "secrets", "action": "read", "conditions": { "secretTags": "x" } }]), "PC1002"),
            (json!([{ "subject": "secrets", "action": ["read", "readValue"] }]), "PC1030"),
            (json!([{ "subject": "identity", "action": ["grant-privileges", "assign-role"] }]), "PC1031"),
            (
                json!([{ "subject": "identity", "action": ["read", "create"], "conditions": { "identityId": "x" } }]),
                "PC1028",
            ),
            (
                json!([{ "subject": "identity", "action": "assign-additional-privileges", "conditions": { "assignableAction": "secrets" } }]),
                "PC1029",
            ),
            (json!([{ "subject": "dynamic-secrets", "action": "lease", "conditions": { "metadata": {} } }]), "PC1003"),
            (
                json!([{ "subject": "secrets", "action": "read", "conditions": { "secretPath": { "$glob": "/".repeat(65_537) } } }]),
                "PC1027",
            ),
        ] {
            let (outcome, diagnostics) = check(rules.clone());
            let found: Vec<&str> = diagnostics.iter().map(|it| it.code.id()).collect();
            assert!(found.contains(&code), "{rules}: expected {code}, got {found:?}");
            assert!(outcome.stored.is_none(), "{rules}");
        }
        // The longest accepted glob.
        assert!(codes(json!([{ "subject": "secrets", "action": "read", "conditions": { "secretPath": { "$glob": "/".repeat(65_536) } } }])).is_empty());
    }

    #[test]
    fn assignable_actions_follow_the_subject_condition() {
        let rule = |subject: Value, action: Value| json!([{ "subject": "member", "action": "assign-additional-privileges", "conditions": { "assignableSubject": subject, "assignableAction": action } }]);
        assert!(codes(rule(json!("secrets"), json!("secrets:readValue"))).is_empty());
        assert_eq!(codes(rule(json!("secrets"), json!("kms:edit"))), ["PC1029"]);
        assert_eq!(codes(rule(json!({ "$ne": "kms" }), json!({ "$in": ["kms:edit"] }))), ["PC1029"]);
        assert!(codes(rule(json!({ "$glob": "secret*" }), json!("secret-folders:read"))).is_empty());
        assert_eq!(codes(rule(json!({ "$glob": "{kms,secrets}" }), json!("identity:read"))), ["PC1029"]);
        // Only the first operator present is considered, as Infisical does.
        assert!(codes(rule(json!("secrets"), json!({ "$eq": "secrets:read", "$in": ["nonsense"] }))).is_empty());
    }

    #[test]
    fn templates_must_be_identity_paths() {
        fn problems(text: &str) -> Vec<&str> {
            template_problems(text, Catalog::builtin().template_helpers())
                .into_iter()
                .map(|it| &text[it.0..it.1])
                .collect()
        }
        assert!(problems("/users/{{identity.username}}/{{{identity.metadata.team}}}").is_empty());
        assert_eq!(problems("/users/{{user.name}}"), ["{{user.name}}"]);
        assert_eq!(problems("{{#if identity.id}}x{{/if}}"), ["{{#if identity.id}}", "{{/if}}"]);
        assert!(problems("{{uppercase identity.username}}").is_empty());
        assert_eq!(problems("{{stripPrefix identity.username 'u-'}}"), ["{{stripPrefix identity.username 'u-'}}"]);
        assert_eq!(problems("{{identity.id"), ["{{identity.id"]);
        assert_eq!(problems("{{\"identity.id\"}}"), ["{{\"identity.id\"}}"]);
        let (outcome, diagnostics) =
            check(json!([{ "subject": "secrets", "action": "read", "conditions": { "secretName": "{{user.name}}" } }]));
        assert_eq!(diagnostics[0].code, Code::InvalidTemplate);
        assert!(outcome.stored.is_some(), "the schema itself accepts templates");
    }
}
