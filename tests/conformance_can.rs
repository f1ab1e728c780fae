//! Conformance with Infisical's own evaluation: every case of `shared/conformance/can.jsonl`.
//!
//! Each case's rules go through permc's validation (what Infisical stores, stripping included) and then
//! permc's evaluation; the answer (allowed, the legacy-read fallback, or the evaluation error) must equal the
//! one Infisical's code gave.

use std::collections::BTreeMap;
use std::path::Path;

use permc::catalog::Catalog;
use permc::eval::{self, Answer, Identity};
use serde_json::{Value, json};

fn answer(catalog: &Catalog, case: &Value) -> Value {
    let identity = case.get("identity").map(Identity::from_json).unwrap_or_default();
    let object = case.get("object").and_then(Value::as_object);
    let subject = case["subject"].as_str().unwrap();
    let action = case["action"].as_str().unwrap();
    match eval::answer(catalog, &case["rules"], subject, action, object, &identity) {
        Answer::Rejected => json!({ "rejected": true }),
        Answer::Failed(error) => json!({ "error": error.kind() }),
        Answer::Decided { allowed, with_legacy_read_fallback: Some(legacy) } => {
            json!({ "allowed": allowed, "allowedWithLegacyReadFallback": legacy })
        }
        Answer::Decided { allowed, with_legacy_read_fallback: None } => json!({ "allowed": allowed }),
    }
}

#[test]
fn evaluation_agrees_with_every_vector() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/can.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    let catalog = Catalog::builtin();
    let mut failures = Vec::new();
    let mut tally: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut total = 0;
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        let mut expected = case["expect"].clone();
        if let Some(map) = expected.as_object_mut() {
            map.remove("message");
        }
        let got = answer(catalog, &case);
        let entry = tally.entry(case["category"].as_str().unwrap().to_string()).or_default();
        entry.0 += 1;
        total += 1;
        if got != expected {
            entry.1 += 1;
            failures.push(format!(
                "{}: permc {got}, infisical {expected}\n  rules: {}\n  {} {} object: {} identity: {}",
                case["id"], case["rules"], case["subject"], case["action"], case["object"], case["identity"]
            ));
        }
    }
    assert_eq!(total, 6000, "can.jsonl should hold 6,000 cases");
    if !failures.is_empty() {
        let table: Vec<String> = tally
            .iter()
            .map(|(category, (cases, failed))| format!("{category:<26} {cases:>5} cases {failed:>5} failed"))
            .collect();
        panic!(
            "{} of {total} vectors disagree\n{}\n\nfirst failures:\n{}",
            failures.len(),
            table.join("\n"),
            failures
                .iter()
                .take(std::env::var("CONFORMANCE_SHOW").ok().and_then(|it| it.parse().ok()).unwrap_or(20))
                .cloned()
                .collect::<Vec<_>>()
                .join("\n\n")
        );
    }
}
