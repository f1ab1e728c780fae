//! `permc can --batch`: Infisical's evaluation as a JSON Lines interface.

use std::io::{BufRead, Write};

use serde_json::{Value, json};

use crate::catalog::Catalog;
use crate::eval::{self, Answer, Identity};

use super::exit;

/// Answers one input line.
pub fn answer_line(catalog: &Catalog, line: &str) -> Value {
    let input: Value = match serde_json::from_str(line) {
        Ok(value) => value,
        Err(error) => return json!({ "id": null, "error": format!("not JSON: {error}") }),
    };
    let id = input.get("id").cloned().unwrap_or(Value::Null);
    let Some(rules) = input.get("rules") else {
        return json!({ "id": id, "error": "the line has no `rules` field" });
    };
    let (Some(subject), Some(action)) = (input.get("subject").and_then(Value::as_str), input.get("action").and_then(Value::as_str)) else {
        return json!({ "id": id, "error": "the line needs string fields `subject` and `action`" });
    };
    let object = match input.get("object") {
        None | Some(Value::Null) => None,
        Some(Value::Object(object)) => Some(object),
        Some(_) => return json!({ "id": id, "error": "`object` must be an object of subject fields" }),
    };
    let identity = input.get("identity").map(Identity::from_json).unwrap_or_default();
    match eval::answer(catalog, rules, subject, action, object, &identity) {
        Answer::Rejected => json!({ "id": id, "error": "rejected", "message": "Infisical rejects these rules at validation; run `permc check --batch` for the reasons" }),
        Answer::Failed(error) => json!({ "id": id, "error": error.kind(), "message": error.to_string() }),
        Answer::Decided { allowed, with_legacy_read_fallback: Some(legacy) } => {
            json!({ "id": id, "allowed": allowed, "allowedWithLegacyReadFallback": legacy })
        }
        Answer::Decided { allowed, with_legacy_read_fallback: None } => json!({ "id": id, "allowed": allowed }),
    }
}

pub fn run_batch(catalog: &Catalog) -> Result<u8, String> {
    let stdin = std::io::stdin().lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lines() {
        let line = line.map_err(|error| format!("cannot read standard input: {error}"))?;
        if line.trim().is_empty() {
            continue;
        }
        writeln!(out, "{}", answer_line(catalog, &line)).map_err(|error| error.to_string())?;
    }
    out.flush().map_err(|error| error.to_string())?;
    Ok(exit::CLEAN)
}
