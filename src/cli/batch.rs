//! `permc check --batch`: one JSON line in, one JSON line out; a stable interface for scripts.
//!
//! Input lines are objects whose `rules` field is a permissions array exactly as a client would send it to
//! the roles API; `id` is echoed; other fields are ignored. Output: `{"id", "ok", "codes"}` where `ok` is
//! false iff permc reports an error, and `codes` lists the codes of every diagnostic, sorted and unique.
//! A line that is not a JSON object with `rules` gets `{"id", "ok": false, "codes": [], "error"}`.

use std::io::{BufRead, Write};

use serde_json::{Value, json};

use super::exit;
use crate::catalog::Catalog;
use crate::check::rules::check_permissions;
use crate::source::{FileId, Span};
use crate::syntax::Node;

/// Answers one input line.
pub fn answer(catalog: &Catalog, line: &str) -> Value {
    let input: Value = match serde_json::from_str(line) {
        Ok(value) => value,
        Err(error) => return json!({ "id": null, "ok": false, "codes": [], "error": format!("not JSON: {error}") }),
    };
    let id = input.get("id").cloned().unwrap_or(Value::Null);
    let Some(rules) = input.get("rules") else {
        return json!({ "id": id, "ok": false, "codes": [], "error": "the line has no `rules` field" });
    };
    let mut diagnostics = Vec::new();
    check_permissions(catalog, FileId(0), &Node::from_json(rules, Span::default()), &mut diagnostics);
    let ok = !diagnostics.iter().any(|it| it.is_error());
    let mut codes: Vec<&str> = diagnostics.iter().map(|it| it.code.id()).collect();
    codes.sort_unstable();
    codes.dedup();
    json!({ "id": id, "ok": ok, "codes": codes })
}

pub fn run(catalog: &Catalog) -> Result<u8, String> {
    let stdin = std::io::stdin().lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lines() {
        let line = line.map_err(|error| format!("cannot read standard input: {error}"))?;
        if line.trim().is_empty() {
            continue;
        }
        writeln!(out, "{}", answer(catalog, &line)).map_err(|error| error.to_string())?;
    }
    out.flush().map_err(|error| error.to_string())?;
    Ok(exit::CLEAN)
}
