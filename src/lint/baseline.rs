//! Baselines: the lint findings a repository already has, recorded so that CI fails only on new ones.
//!
//! A finding is known by its code, its file and its message (not its line: an edit elsewhere in the file
//! must not turn old findings into new ones); repeated findings are counted.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::diagnostic::Diagnostic;
use crate::source::SourceDb;

pub const FORMAT: u64 = 1;

type Key = (String, String, String);

fn key(db: &SourceDb, diagnostic: &Diagnostic) -> Key {
    (
        diagnostic.code.id().to_owned(),
        db.get(diagnostic.primary.file).display_path().replace('\\', "/"),
        diagnostic.message.clone(),
    )
}

/// The baseline of `diagnostics` (lints only), as JSON.
pub fn write(db: &SourceDb, diagnostics: &[Diagnostic]) -> Value {
    let mut counts: BTreeMap<Key, u64> = BTreeMap::new();
    for diagnostic in diagnostics.iter().filter(|it| it.code.is_lint()) {
        *counts.entry(key(db, diagnostic)).or_default() += 1;
    }
    let findings: Vec<Value> = counts
        .into_iter()
        .map(|((code, file, message), count)| json!({ "code": code, "file": file, "message": message, "count": count }))
        .collect();
    json!({ "format": FORMAT, "findings": findings })
}

/// Removes the findings `baseline` records; returns how many of its findings were not seen (fixed since).
pub fn apply(db: &SourceDb, diagnostics: &mut Vec<Diagnostic>, baseline: &Value) -> Result<usize, String> {
    if baseline.get("format").and_then(Value::as_u64) != Some(FORMAT) {
        return Err(format!("not a permc baseline of format {FORMAT}"));
    }
    let mut left: BTreeMap<Key, u64> = BTreeMap::new();
    for finding in baseline.get("findings").and_then(Value::as_array).ok_or("no `findings` list")? {
        let text = |name: &str| finding.get(name).and_then(Value::as_str).map(str::to_owned);
        let (Some(code), Some(file), Some(message)) = (text("code"), text("file"), text("message")) else {
            return Err(format!("a finding without `code`, `file` or `message`: {finding}"));
        };
        *left.entry((code, file, message)).or_default() += finding.get("count").and_then(Value::as_u64).unwrap_or(1);
    }
    diagnostics.retain(|diagnostic| {
        if !diagnostic.code.is_lint() {
            return true;
        }
        match left.get_mut(&key(db, diagnostic)) {
            Some(count) if *count > 0 => {
                *count -= 1;
                false
            }
            _ => true,
        }
    });
    Ok(left.values().sum::<u64>() as usize)
}
