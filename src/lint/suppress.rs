//! Inline suppressions: `# permc:ignore CODE[, CODE...] -- reason [until YYYY-MM-DD]` in a YAML or HCL
//! comment. It silences those lints on its own line (a trailing comment) or on the next line that is not a
//! comment. The reason is required; past `until` the suppression no longer silences and says so; one that
//! silences nothing is reported, so stale suppressions do not pile up. Only lints can be silenced: an error
//! is something Infisical rejects or silently changes.

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, SourceDb, Span};
use crate::syntax::Comment;

const MARKER: &str = "permc:ignore";

/// One parsed suppression.
#[derive(Clone, Debug)]
struct Suppression {
    file: FileId,
    span: Span,
    codes: Vec<Code>,
    /// The 0-based lines it covers.
    lines: (usize, usize),
    expired: Option<String>,
    used: bool,
}

/// Applies every suppression of the files to `diagnostics` (lint results judged at `now_ms`): silenced
/// ones are removed; problems with suppressions are added.
pub fn apply(db: &SourceDb, comments: &[&[Comment]], diagnostics: &mut Vec<Diagnostic>, now_ms: i64) {
    let mut suppressions = Vec::new();
    let mut problems = Vec::new();
    for (index, comments) in comments.iter().enumerate() {
        let file = FileId(index as u32);
        let source = db.get(file);
        for comment in comments.iter() {
            let Some(at) = comment.text.find(MARKER) else { continue };
            let rest = comment.text[at + MARKER.len()..].trim();
            match parse_one(rest, now_ms) {
                Err(why) => problems.push(
                    Diagnostic::new(Code::InvalidSuppression, format!("this suppression is not understood: {why}"), file, comment.span)
                        .label("ignored")
                        .help("write `# permc:ignore CODE -- reason`, optionally followed by `until YYYY-MM-DD`; CODE is a lint's code or name"),
                ),
                Ok((codes, expired)) => {
                    let line = source.lines.line_of(comment.span.start);
                    let text = &source.text[source.lines.line_start(line) as usize..comment.span.start as usize];
                    // A trailing comment covers its own line; a comment alone on its line covers the next line
                    // that is not a comment.
                    let target = if text.trim().is_empty() {
                        let mut next = line + 1;
                        while next < source.lines.line_count() {
                            let start = source.lines.line_start(next) as usize;
                            let end = if next + 1 < source.lines.line_count() {
                                source.lines.line_start(next + 1) as usize
                            } else {
                                source.text.len()
                            };
                            let content = source.text[start..end].trim();
                            if !(content.starts_with('#') || content.starts_with("//") || content.is_empty()) {
                                break;
                            }
                            next += 1;
                        }
                        next
                    } else {
                        line
                    };
                    let problem_codes: Vec<&Code> = codes.iter().filter(|it| !it.is_lint()).collect();
                    if let Some(code) = problem_codes.first() {
                        problems.push(
                            Diagnostic::new(
                                Code::InvalidSuppression,
                                format!("`{}` is not a lint and cannot be silenced", code.id()),
                                file,
                                comment.span,
                            )
                            .label("ignored")
                            .help("errors are what Infisical rejects or silently changes; fix the policy instead"),
                        );
                        continue;
                    }
                    suppressions.push(Suppression { file, span: comment.span, codes, lines: (line, target), expired, used: false });
                }
            }
        }
    }
    diagnostics.retain(|diagnostic| {
        if !diagnostic.code.is_lint() {
            return true;
        }
        let line = db.get(diagnostic.primary.file).lines.line_of(diagnostic.primary.span.start);
        let found = suppressions.iter_mut().find(|it| {
            it.file == diagnostic.primary.file
                && (it.lines.0 == line || it.lines.1 == line)
                && it.codes.contains(&diagnostic.code)
        });
        match found {
            Some(suppression) => {
                suppression.used = true;
                suppression.expired.is_some()
            }
            None => true,
        }
    });
    for suppression in suppressions {
        let names: Vec<String> = suppression.codes.iter().map(|it| format!("`{}`", it.name())).collect();
        if let Some(until) = &suppression.expired {
            problems.push(
                Diagnostic::new(
                    Code::ExpiredSuppression,
                    format!("this suppression of {} expired on {until}", names.join(", ")),
                    suppression.file,
                    suppression.span,
                )
                .label("no longer silences")
                .help("fix what it silenced, or renew it with a later `until` and a reason that still holds"),
            );
        } else if !suppression.used {
            problems.push(
                Diagnostic::new(
                    Code::UnusedSuppression,
                    format!("this suppression of {} silences nothing", names.join(", ")),
                    suppression.file,
                    suppression.span,
                )
                .label("nothing to silence on the line it covers")
                .help("remove it: the finding it was written for is gone, or it is on the wrong line"),
            );
        }
    }
    diagnostics.extend(problems);
}

/// `CODE[, CODE] -- reason [until YYYY-MM-DD]`: the codes and, when past, the expiry date.
fn parse_one(text: &str, now_ms: i64) -> Result<(Vec<Code>, Option<String>), String> {
    let (codes, rest) = text.split_once("--").ok_or("no ` -- reason` (a reason is required)")?;
    let codes: Vec<&str> = codes.split(',').map(str::trim).filter(|it| !it.is_empty()).collect();
    if codes.is_empty() {
        return Err("no code".into());
    }
    let codes = codes
        .iter()
        .map(|it| Code::parse(it).ok_or_else(|| format!("unknown code `{it}`")))
        .collect::<Result<Vec<_>, _>>()?;
    let rest = rest.trim();
    let (reason, until) = match rest.rsplit_once("until ") {
        Some((reason, date)) if date.trim().len() == 10 => (reason.trim(), Some(date.trim())),
        _ => (rest, None),
    };
    if reason.is_empty() {
        return Err("an empty reason".into());
    }
    let expired = match until {
        None => None,
        Some(date) => {
            let end = crate::check::values::parse_iso_datetime_ms(&format!("{date}T00:00:00Z"))
                .ok_or_else(|| format!("`{date}` is not a date like `2027-01-31`"))?;
            // The suppression holds through the whole day it names.
            (now_ms >= end + 86_400_000).then(|| date.to_owned())
        }
    };
    Ok((codes, expired))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_348_800_000; // 2026-11-22T12:00:00Z

    #[test]
    fn suppressions_parse() {
        let (codes, expired) =
            parse_one("redundant-privilege, PC2001 -- kept for the audit until 2027-01-31", NOW).unwrap();
        assert_eq!(codes, vec![Code::RedundantPrivilege, Code::RedundantRule]);
        assert_eq!(expired, None);
        assert_eq!(parse_one("PC2001 -- old until 2026-11-21", NOW).unwrap().1.as_deref(), Some("2026-11-21"));
        assert_eq!(parse_one("PC2001 -- today until 2026-11-22", NOW).unwrap().1, None);
        assert!(parse_one("PC2001", NOW).unwrap_err().contains("reason is required"));
        assert!(parse_one("PC2001 --  ", NOW).unwrap_err().contains("empty reason"));
        assert!(parse_one("PC9999 -- x", NOW).unwrap_err().contains("unknown code"));
        assert!(parse_one("PC2001 -- x until 2026-13-01", NOW).unwrap_err().contains("is not a date"));
    }
}
