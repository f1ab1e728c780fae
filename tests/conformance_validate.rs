//! Conformance with Infisical's own validation: every case of `shared/conformance/validate.jsonl`.
//!
//! For each case the rules go through `check_permissions` and the outcome must agree with what Infisical's
//! code did:
//! - rejected by the API: at least one error, no stored rules; a `bad_request` rejection (the array-level
//!   combination check) must be reported with one of the combination codes, a `zod` rejection with a
//!   schema code;
//! - accepted unchanged: no error (the one exception is `invalid-template`: the vectors ran the schema, not
//!   the service layer's template check, so a template Infisical's service refuses may be accepted here);
//! - accepted but changed on the way in (keys stripped, lists trimmed): at least one error, because the
//!   stored rule is not the rule that was written;
//! - accepted: the stored rules equal the API's parsed output, key order included.

use std::collections::BTreeMap;
use std::path::Path;

use permc::catalog::Catalog;
use permc::check::rules::check_permissions;
use permc::codes::Code;
use permc::source::{FileId, Span};
use permc::syntax::Node;
use serde_json::Value;

const COMBINATION_CODES: &[Code] = &[Code::ConditionNotForAction, Code::LegacyReadCombined, Code::LegacyGrantCombined];

/// The input as the schema would output it if nothing were dropped: a single action becomes a list.
fn normalized_input(rules: &Value) -> Value {
    let mut rules = rules.clone();
    if let Value::Array(items) = &mut rules {
        for item in items {
            if let Some(action @ Value::String(_)) = item.get_mut("action") {
                *action = Value::Array(vec![action.clone()]);
            }
        }
    }
    rules
}

/// JSON text, which keeps key order (Infisical stores keys in its schema's order).
fn serialized(value: &Value) -> String {
    value.to_string()
}

#[derive(Default)]
struct Tally {
    cases: usize,
    failed: usize,
}

#[test]
fn validation_agrees_with_every_vector() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/validate.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    let catalog = Catalog::builtin();
    let mut failures = Vec::new();
    let mut tally: BTreeMap<String, Tally> = BTreeMap::new();
    let mut total = 0;
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        let id = case["id"].as_str().unwrap().to_string();
        let category = case["category"].as_str().unwrap().to_string();
        let expect = &case["expect"];
        let rules = &case["rules"];
        let mut diagnostics = Vec::new();
        let outcome = check_permissions(catalog, FileId(0), &Node::from_json(rules, Span::default()), &mut diagnostics);
        let errors: Vec<Code> = diagnostics.iter().filter(|it| it.is_error()).map(|it| it.code).collect();
        let mut problem = None;
        if expect["ok"] == Value::Bool(false) {
            let combination = errors.iter().any(|code| COMBINATION_CODES.contains(code));
            let schema = errors.iter().any(|code| !COMBINATION_CODES.contains(code) && *code != Code::InvalidTemplate);
            if outcome.stored.is_some() {
                problem = Some("rejected by Infisical, but permc would store it".to_string());
            } else if expect["kind"] == "bad_request" && !combination {
                problem =
                    Some("Infisical's combination check rejects it; permc reports no combination error".to_string());
            } else if expect["kind"] == "zod" && !schema {
                problem = Some("Infisical's schema rejects it; permc reports no schema error".to_string());
            }
        } else {
            let parsed = &expect["parsed"];
            let stored = outcome
                .stored
                .as_ref()
                .map(|rules| Value::Array(rules.iter().map(|rule| rule.to_json(catalog)).collect()));
            let changed = normalized_input(rules) != *parsed;
            let blocking: Vec<&Code> = errors.iter().filter(|code| **code != Code::InvalidTemplate).collect();
            match stored {
                None => problem = Some(format!("accepted by Infisical, but permc rejects it: {errors:?}")),
                Some(stored) if serialized(&stored) != serialized(parsed) => {
                    problem = Some(format!("stored rules differ:\n  permc:     {stored}\n  infisical: {parsed}"))
                }
                Some(_) if changed && blocking.is_empty() => {
                    problem = Some("Infisical changes the rules on the way in; permc reports nothing".to_string())
                }
                Some(_) if changed && !outcome.stripped => {
                    problem = Some("changed on the way in, but not marked stripped".to_string())
                }
                Some(_) if !changed && !blocking.is_empty() => {
                    problem = Some(format!("accepted unchanged by Infisical, but permc reports {blocking:?}"))
                }
                Some(_) => {}
            }
        }
        let entry = tally.entry(category).or_default();
        entry.cases += 1;
        total += 1;
        if let Some(problem) = problem {
            entry.failed += 1;
            failures.push(format!(
                "{id}: {problem}\n  rules: {rules}\n  expect: {expect}\n  diagnostics: {:?}",
                diagnostics.iter().map(|it| (it.code.id(), &it.message)).collect::<Vec<_>>()
            ));
        }
    }
    assert_eq!(total, 3000, "validate.jsonl should hold 3,000 cases");
    if !failures.is_empty() {
        let table: Vec<String> = tally
            .iter()
            .map(|(category, it)| format!("{category:<28} {:>5} cases {:>5} failed", it.cases, it.failed))
            .collect();
        panic!(
            "{} of {total} vectors disagree\n{}\n\nfirst failures:\n{}",
            failures.len(),
            table.join("\n"),
            failures.iter().take(15).cloned().collect::<Vec<_>>().join("\n\n")
        );
    }
}
