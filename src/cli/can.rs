//! `permc can --batch`: Infisical's evaluation as a JSON Lines interface.

use std::io::{BufRead, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::access::{self, MemberRules, Skipped};
use crate::catalog::Catalog;
use crate::check::values::parse_iso_datetime_ms;
use crate::eval::{self, Answer, Identity};
use crate::source::{FileId, Span};
use crate::workspace;

use super::{CanArgs, OutputFormat, exit};

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
    let (Some(subject), Some(action)) =
        (input.get("subject").and_then(Value::as_str), input.get("action").and_then(Value::as_str))
    else {
        return json!({ "id": id, "error": "the line needs string fields `subject` and `action`" });
    };
    let object = match input.get("object") {
        None | Some(Value::Null) => None,
        Some(Value::Object(object)) => Some(object),
        Some(_) => return json!({ "id": id, "error": "`object` must be an object of subject fields" }),
    };
    let identity = input.get("identity").map(Identity::from_json).unwrap_or_default();
    match eval::answer(catalog, rules, subject, action, object, &identity) {
        Answer::Rejected => {
            json!({ "id": id, "error": "rejected", "message": "Infisical rejects these rules at validation; run `permc check --batch` for the reasons" })
        }
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

/// `permc can MEMBER SUBJECT:ACTION ...`: exit 0 when allowed, 1 when denied, 2 when the question cannot be
/// answered.
pub fn run(args: &CanArgs, catalog: &Catalog) -> Result<u8, String> {
    let member_name = args.member.as_deref().unwrap_or_default();
    let request = args.request.as_deref().unwrap_or_default();
    let Some((subject, action)) = request.split_once(':') else {
        return Err(format!("the request `{request}` must read `SUBJECT:ACTION`, e.g. `secrets:readValue`"));
    };
    let Some(subject_entry) = catalog.subject(subject) else {
        let hint = crate::catalog::suggest(subject, catalog.subjects().iter().map(|it| it.name.as_str()));
        return Err(format!(
            "unknown subject `{subject}`{}",
            hint.map(|it| format!("; did you mean `{it}`?")).unwrap_or_default()
        ));
    };
    if !subject_entry.has_action(action) {
        return Err(format!(
            "`{subject}` has no action `{action}`; its actions are {}",
            subject_entry.actions.join(", ")
        ));
    }
    let at = match &args.at {
        Some(text) => parse_iso_datetime_ms(text)
            .ok_or_else(|| format!("`--at {text}` is not an ISO-8601 time such as `2026-11-22T09:00:00Z`"))?,
        None => SystemTime::now().duration_since(UNIX_EPOCH).map(|it| it.as_millis() as i64).unwrap_or_default(),
    };
    let object = object_of(args)?;
    let analysis = workspace::analyze(&args.dir, catalog).map_err(|error| error.to_string())?;
    let project = &analysis.project;
    let Some(member) = access::find_member(project, member_name) else {
        let names: Vec<&str> = project.members().map(|it| it.name.value.as_str()).collect();
        let hint = crate::catalog::suggest(member_name, names.iter().copied());
        return Err(format!(
            "no identity or user `{member_name}` in `{}`{}",
            args.dir.display(),
            hint.map(|it| format!("; did you mean `{it}`?")).unwrap_or_default()
        ));
    };
    let identity = access::identity_of(member);
    let rules = MemberRules::build(catalog, project, member, at, &identity).map_err(|error| error.to_string())?;
    let decision = rules.can(action, subject, object.as_ref()).map_err(|error| error.to_string())?;
    let legacy = if subject == "secrets" && (action == "readValue" || action == "describeSecret") && !decision.allowed {
        rules.can("read", subject, object.as_ref()).ok().filter(|it| it.allowed)
    } else {
        None
    };
    let db = &analysis.db;
    let place = |file: FileId, span: Span| {
        let source = db.get(file);
        let at = source.line_col(span.start);
        format!("{}:{}:{}", source.display_path(), at.line, at.column)
    };
    let describe_rule = |index: usize| -> (String, Option<String>) {
        let (grant, rule_index) = rules.origin(index);
        let what = format!("rule {} of {}", rule_index + 1, grant.source.describe());
        let location = grant.rule_spans.get(rule_index).copied().flatten().map(|(file, span)| place(file, span));
        (what, location)
    };
    let errors = analysis.error_count();
    match args.format {
        OutputFormat::Json => {
            let decided_by = decision.deciding.map(|index| {
                let (what, location) = describe_rule(index);
                json!({ "rule": what, "location": location, "inverted": rules.rules[index].inverted })
            });
            let mut report = json!({
                "member": member.name.value,
                "subject": subject,
                "action": action,
                "object": object,
                "allowed": decision.allowed,
                "decidedBy": decided_by,
                "policyErrors": errors,
            });
            if let Some(legacy) = legacy {
                report["allowedWithLegacyReadFallback"] = json!(legacy.allowed);
            }
            if args.explain {
                report["considered"] = considered(&rules, subject, action, object.as_ref())
                    .into_iter()
                    .map(|(index, matched)| {
                        let (what, location) = describe_rule(index);
                        json!({ "rule": what, "location": location, "inverted": rules.rules[index].inverted, "matched": matched })
                    })
                    .collect();
            }
            writeln!(std::io::stdout().lock(), "{report}").map_err(|error| error.to_string())?;
        }
        OutputFormat::Human => {
            let mut out = std::io::stdout().lock();
            let target = match &object {
                Some(object) => format!(
                    " where {}",
                    object
                        .iter()
                        .map(|(key, value)| format!("{key}={}", value_text(value)))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                None => " (any object: a type-level check)".to_string(),
            };
            let verdict = if decision.allowed { "allow" } else { "deny" };
            let noun = access::member_noun(member);
            let can = if decision.allowed { "can" } else { "cannot" };
            let write = |out: &mut dyn Write, text: String| writeln!(out, "{text}").map_err(|error| error.to_string());
            write(
                &mut out,
                format!("{verdict}: {noun} `{}` {can} `{action}` on `{subject}`{target}", member.name.value),
            )?;
            match decision.deciding {
                Some(index) => {
                    let (what, location) = describe_rule(index);
                    let kind = if rules.rules[index].inverted { "a deny (inverted)" } else { "an allow" };
                    write(
                        &mut out,
                        format!(
                            "  decided by {what}{}, {kind}",
                            location.map(|it| format!(" ({it})")).unwrap_or_default()
                        ),
                    )?;
                }
                None => write(&mut out, "  no rule matches: Infisical denies what no rule allows".into())?,
            }
            if let Some(legacy) = legacy {
                let (what, _) = describe_rule(legacy.deciding.unwrap_or_default());
                write(
                    &mut out,
                    format!("  note: the secret endpoints also accept the legacy `read`, which {what} allows"),
                )?;
            }
            for skipped in &rules.skipped {
                match skipped {
                    Skipped::Expired { source, ended_at } => write(
                        &mut out,
                        format!("  note: {} ended at {} and is left out", source.describe(), format_time(*ended_at)),
                    )?,
                    Skipped::Unusable { source, why } => {
                        write(&mut out, format!("  note: {} is left out: {why}", source.describe()))?
                    }
                }
            }
            if args.explain {
                write(&mut out, "  rules consulted, last to first (the first that matches decides):".into())?;
                for (index, matched) in considered(&rules, subject, action, object.as_ref()) {
                    let (what, location) = describe_rule(index);
                    let kind = if rules.rules[index].inverted { "deny " } else { "allow" };
                    let result = if matched { "matches" } else { "does not match" };
                    write(
                        &mut out,
                        format!(
                            "    {kind} {what}{}: {result}",
                            location.map(|it| format!(" ({it})")).unwrap_or_default()
                        ),
                    )?;
                }
            }
            if errors > 0 {
                write(
                    &mut out,
                    format!(
                        "  warning: the policy files have {errors} errors; run `permc check {}`",
                        args.dir.display()
                    ),
                )?;
            }
        }
    }
    Ok(if decision.allowed { exit::CLEAN } else { exit::FINDINGS })
}

/// The rules for the action and subject in the order CASL consults them, with whether each matched, up to
/// and including the deciding one.
fn considered(
    rules: &MemberRules,
    subject: &str,
    action: &str,
    object: Option<&Map<String, Value>>,
) -> Vec<(usize, bool)> {
    let mut out = Vec::new();
    for (index, rule) in rules.rules.iter().enumerate().rev() {
        if rule.subject != subject || !rule.actions.iter().any(|it| it == action) {
            continue;
        }
        let single = std::slice::from_ref(rule);
        let matched = eval::can(single, action, subject, object).map(|it| it.deciding.is_some()).unwrap_or(false);
        out.push((index, matched));
        if matched {
            break;
        }
    }
    out
}

fn object_of(args: &CanArgs) -> Result<Option<Map<String, Value>>, String> {
    let mut object = Map::new();
    if let Some(env) = &args.env {
        object.insert("environment".into(), Value::String(env.clone()));
    }
    if let Some(path) = &args.path {
        object.insert("secretPath".into(), Value::String(path.clone()));
    }
    if let Some(name) = &args.name {
        object.insert("secretName".into(), Value::String(name.clone()));
    }
    if let Some(tags) = &args.tags {
        object.insert("secretTags".into(), Value::Array(tags.iter().cloned().map(Value::String).collect()));
    }
    for field in &args.fields {
        let Some((key, value)) = field.split_once('=') else {
            return Err(format!("`--field {field}` must read `KEY=VALUE`"));
        };
        object.insert(key.to_string(), Value::String(value.to_string()));
    }
    Ok((!object.is_empty()).then_some(object))
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

fn format_time(ms: i64) -> String {
    crate::check::values::format_iso_datetime(ms)
}
