//! Rendering diagnostics: the terminal (through codespan-reporting) and JSON.
//!
//! The library renders into strings or caller-provided writers; it never prints itself.

use std::collections::BTreeMap;

use codespan_reporting::diagnostic::{
    Diagnostic as CsDiagnostic, Label as CsLabel, LabelStyle, Severity as CsSeverity,
};
use codespan_reporting::files::{Error as FilesError, Files};
use codespan_reporting::term::{self, Config, WriteStyle};
use serde_json::{Value, json};

use crate::diagnostic::{Applicability, Diagnostic, Label, Severity};
use crate::source::{FileId, SourceDb, Span};

impl<'a> Files<'a> for SourceDb {
    type FileId = FileId;
    type Name = String;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<String, FilesError> {
        self.checked(id).map(|file| file.display_path())
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        self.checked(id).map(|file| file.text.as_str())
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, FilesError> {
        let file = self.checked(id)?;
        Ok(file.lines.line_of(byte_index.min(file.text.len()) as u32))
    }

    fn line_range(&'a self, id: FileId, line_index: usize) -> Result<std::ops::Range<usize>, FilesError> {
        let file = self.checked(id)?;
        let count = file.lines.line_count();
        if line_index >= count {
            return Err(FilesError::LineTooLarge { given: line_index, max: count - 1 });
        }
        let start = file.lines.line_start(line_index) as usize;
        let end = if line_index + 1 < count { file.lines.line_start(line_index + 1) as usize } else { file.text.len() };
        Ok(start..end)
    }
}

impl SourceDb {
    fn checked(&self, id: FileId) -> Result<&crate::source::SourceFile, FilesError> {
        if (id.0 as usize) < self.len() { Ok(self.get(id)) } else { Err(FilesError::FileMissing) }
    }
}

/// A span clamped into its file and onto character boundaries, so that rendering never fails.
fn clamp(db: &SourceDb, label: &Label) -> std::ops::Range<usize> {
    let text = &db.get(label.file).text;
    let fix = |mut offset: usize| {
        offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    };
    fix(label.span.start as usize)..fix(label.span.end as usize)
}

fn to_codespan(db: &SourceDb, diagnostic: &Diagnostic) -> CsDiagnostic<FileId> {
    let severity = match diagnostic.severity {
        Severity::Error => CsSeverity::Error,
        Severity::Warning => CsSeverity::Warning,
        Severity::Info => CsSeverity::Note,
    };
    let mut labels = vec![
        CsLabel::new(LabelStyle::Primary, diagnostic.primary.file, clamp(db, &diagnostic.primary))
            .with_message(&diagnostic.primary.message),
    ];
    labels.extend(
        diagnostic.secondary.iter().map(|label| {
            CsLabel::new(LabelStyle::Secondary, label.file, clamp(db, label)).with_message(&label.message)
        }),
    );
    let mut notes: Vec<String> = diagnostic.notes.iter().map(|note| format!("note: {note}")).collect();
    if let Some(help) = &diagnostic.help {
        notes.push(format!("help: {help}"));
    }
    if let Some(fix) = &diagnostic.fix {
        let kind = match fix.applicability {
            Applicability::Safe => "fix",
            Applicability::Unsafe => "suggested fix",
        };
        notes.push(format!("{kind}: {}", fix.title));
    }
    CsDiagnostic::new(severity)
        .with_code(diagnostic.code.id().to_string())
        .with_message(&diagnostic.message)
        .with_labels(labels)
        .with_notes(notes)
}

fn config() -> Config {
    Config::default()
}

/// Renders one diagnostic as plain text.
pub fn human_string(db: &SourceDb, diagnostic: &Diagnostic) -> String {
    plain(db, diagnostic).unwrap_or_else(|| codespan_string(db, &to_codespan(db, diagnostic)))
}

fn codespan_string(db: &SourceDb, diagnostic: &CsDiagnostic<FileId>) -> String {
    term::emit_into_string(&config(), db, diagnostic).unwrap_or_else(|error| format!("{error}\n"))
}

/// The plain text codespan-reporting renders for `diagnostic` with the default configuration, written
/// whole lines at a time, straight from the diagnostic (codespan-reporting writes source a character at a
/// time, which dominated the rendering of large reports). Covers what permc's diagnostics almost always
/// are: labels within one line, at most one label per line, and printable ASCII source lines; `None` for
/// anything else, which is left to codespan-reporting.
fn plain(db: &SourceDb, diagnostic: &Diagnostic) -> Option<String> {
    struct Shown<'d> {
        file: FileId,
        /// Where the snippet heading points: the earliest primary label, else the earliest label.
        start: usize,
        style: LabelStyle,
        /// Per line index: the label's columns, style and message.
        lines: BTreeMap<usize, (std::ops::Range<usize>, LabelStyle, &'d str)>,
    }
    let labels = std::iter::once((LabelStyle::Primary, &diagnostic.primary))
        .chain(diagnostic.secondary.iter().map(|label| (LabelStyle::Secondary, label)));
    let mut shown: Vec<Shown> = Vec::new();
    let mut padding = 0;
    for (style, label) in labels {
        let (file, range) = (label.file, clamp(db, label));
        let line = db.line_index(file, range.start).ok()?;
        if range.end < range.start || db.line_index(file, range.end).ok()? != line {
            return None;
        }
        let start = db.line_range(file, line).ok()?.start;
        padding = padding.max(digits(line + 1));
        let at = match shown.iter().position(|it| it.file == file) {
            Some(at) => at,
            None => {
                shown.push(Shown { file, start: range.start, style, lines: BTreeMap::new() });
                shown.len() - 1
            }
        };
        let entry = &mut shown[at];
        if entry.style > style || (entry.style == style && entry.start > range.start) {
            (entry.start, entry.style) = (range.start, style);
        }
        let columns = range.start - start..(range.end - start).max(range.start - start + 1);
        if entry.lines.insert(line, (columns, style, label.message.as_str())).is_some() {
            return None;
        }
    }
    // What codespan-reporting calls notes, each with its kind.
    let fix = diagnostic.fix.as_ref().map(|fix| {
        let kind = match fix.applicability {
            Applicability::Safe => "fix: ",
            Applicability::Unsafe => "suggested fix: ",
        };
        (kind, fix.title.as_str())
    });
    let notes: Vec<(&str, &str)> = diagnostic
        .notes
        .iter()
        .map(|note| ("note: ", note.as_str()))
        .chain(diagnostic.help.as_deref().map(|help| ("help: ", help)))
        .chain(fix)
        .collect();

    let mut out = String::with_capacity(1024);
    out.push_str(match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    });
    let code = diagnostic.code.id();
    if !code.is_empty() {
        out.push('[');
        out.push_str(code);
        out.push(']');
    }
    out.push_str(": ");
    out.push_str(&diagnostic.message);
    out.push('\n');
    let gutter = |out: &mut String| out.extend(std::iter::repeat_n(' ', padding));
    let source_line = |out: &mut String, file: FileId, line: usize| -> Option<usize> {
        let text = db.source(file).ok()?;
        let source = text[db.line_range(file, line).ok()?].trim_end_matches(['\n', '\r', '\0']);
        if !source.bytes().all(|byte| (b' '..=b'~').contains(&byte)) {
            return None;
        }
        push_number(out, line + 1, padding);
        out.push_str(" │ ");
        out.push_str(source);
        out.push('\n');
        Some(source.len())
    };
    for (at, file) in shown.iter().enumerate() {
        let location = db.location(file.file, file.start).ok()?;
        gutter(&mut out);
        out.push_str(" ┌─ ");
        out.push_str(&db.name(file.file).ok()?);
        out.push(':');
        push_number(&mut out, location.line_number, 0);
        out.push(':');
        push_number(&mut out, location.column_number, 0);
        out.push('\n');
        gutter(&mut out);
        out.push_str(" │\n");
        let mut previous: Option<usize> = None;
        for (&line, (columns, style, message)) in &file.lines {
            match previous.map(|it| line - it) {
                Some(2) => {
                    source_line(&mut out, file.file, line - 1)?;
                }
                Some(gap) if gap > 2 => {
                    gutter(&mut out);
                    out.push_str(" ·\n");
                }
                _ => {}
            }
            previous = Some(line);
            let length = source_line(&mut out, file.file, line)?;
            // Columns run to one past the end of the line: a space before the label, a caret under it.
            let carets = columns.end.min(length + 1).saturating_sub(columns.start);
            let spaces = columns.start.min(length + 1);
            let caret = if *style == LabelStyle::Primary { '^' } else { '-' };
            gutter(&mut out);
            out.push_str(" │ ");
            out.extend(std::iter::repeat_n(' ', spaces));
            out.extend(std::iter::repeat_n(caret, carets));
            if !message.is_empty() {
                out.push(' ');
                out.push_str(message);
            }
            out.push('\n');
        }
        if at + 1 < shown.len() || !notes.is_empty() {
            gutter(&mut out);
            out.push_str(" │\n");
        }
    }
    // A note's first line (its kind included) after `=`, the others indented under it.
    for (kind, text) in notes {
        gutter(&mut out);
        out.push_str(" = ");
        out.push_str(kind);
        let mut lines = text.lines();
        out.push_str(lines.next().unwrap_or_default());
        out.push('\n');
        for line in lines {
            gutter(&mut out);
            out.push_str("   ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push('\n');
    Some(out)
}

/// Writes `number` right-aligned in `width` columns.
fn push_number(out: &mut String, number: usize, width: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = number;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let text = &digits[at..];
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(text.len())));
    out.extend(text.iter().map(|digit| char::from(*digit)));
}

fn digits(number: usize) -> usize {
    number.ilog10() as usize + 1
}

/// Renders one diagnostic to a writer that may add colour.
pub fn human_styled<W: WriteStyle + ?Sized>(
    db: &SourceDb,
    diagnostic: &Diagnostic,
    writer: &mut W,
) -> std::io::Result<()> {
    term::emit_to_write_style(writer, &config(), db, &to_codespan(db, diagnostic)).map_err(std::io::Error::other)
}

/// Re-exported so that the binary can build a colour writer without depending on termcolor itself.
pub use codespan_reporting::term::termcolor;

/// A one-line count: `2 errors, 1 warning in 5 files`.
pub fn summary(diagnostics: &[Diagnostic], files: usize) -> String {
    let count = |severity| diagnostics.iter().filter(|it| it.severity == severity).count();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {} in {}",
        plural(count(Severity::Error), "error"),
        plural(count(Severity::Warning), "warning"),
        plural(files, "file")
    )
}

fn position(db: &SourceDb, file: FileId, span: Span) -> Value {
    let source = db.get(file);
    let start = source.line_col(span.start);
    let end = source.line_col(span.end);
    json!({
        "file": source.display_path(),
        "line": start.line,
        "column": start.column,
        "endLine": end.line,
        "endColumn": end.column,
        "start": span.start,
        "end": span.end,
    })
}

/// The JSON form of one diagnostic (documented in README.md; a stable interface).
pub fn json_value(db: &SourceDb, diagnostic: &Diagnostic) -> Value {
    let label = |label: &Label, primary: bool| {
        let mut value = position(db, label.file, label.span);
        value["message"] = json!(label.message);
        value["primary"] = json!(primary);
        value
    };
    let mut labels = vec![label(&diagnostic.primary, true)];
    labels.extend(diagnostic.secondary.iter().map(|it| label(it, false)));
    let fix = diagnostic.fix.as_ref().map(|fix| {
        json!({
            "title": fix.title,
            "applicability": match fix.applicability { Applicability::Safe => "safe", Applicability::Unsafe => "unsafe" },
            "edits": fix.edits.iter().map(|edit| {
                let mut value = position(db, edit.file, edit.span);
                value["replacement"] = json!(edit.replacement);
                value
            }).collect::<Vec<_>>(),
        })
    });
    let primary = position(db, diagnostic.primary.file, diagnostic.primary.span);
    json!({
        "code": diagnostic.code.id(),
        "name": diagnostic.code.name(),
        "severity": diagnostic.severity.as_str(),
        "message": diagnostic.message,
        "file": primary["file"],
        "line": primary["line"],
        "column": primary["column"],
        "labels": labels,
        "help": diagnostic.help,
        "notes": diagnostic.notes,
        "fix": fix,
    })
}

/// The JSON report of a whole run.
pub fn json_report(db: &SourceDb, diagnostics: &[Diagnostic]) -> Value {
    let count = |severity| diagnostics.iter().filter(|it| it.severity == severity).count();
    json!({
        "diagnostics": diagnostics.iter().map(|it| json_value(db, it)).collect::<Vec<_>>(),
        "summary": { "files": db.len(), "errors": count(Severity::Error), "warnings": count(Severity::Warning) },
    })
}

/// SARIF 2.1.0, as GitHub code scanning reads it: one run, the codes that fired as rules (with their
/// documentation), regions in 1-based lines and UTF-16 columns (SARIF's default `columnKind`).
pub fn sarif(db: &SourceDb, diagnostics: &[Diagnostic]) -> Value {
    let mut codes: Vec<crate::codes::Code> = diagnostics.iter().map(|it| it.code).collect();
    codes.sort_by_key(|it| it.id());
    codes.dedup();
    let level = |severity: Severity| match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    };
    let location = |file: FileId, span: Span, message: Option<&str>| {
        let source = db.get(file);
        let (line, column) = source.lines.utf16_position(&source.text, span.start);
        let (end_line, end_column) = source.lines.utf16_position(&source.text, span.end);
        let mut value = json!({
            "physicalLocation": {
                "artifactLocation": { "uri": source.display_path().replace('\\', "/") },
                "region": {
                    "startLine": line + 1,
                    "startColumn": column + 1,
                    "endLine": end_line + 1,
                    "endColumn": end_column + 1,
                },
            },
        });
        if let Some(message) = message.filter(|it| !it.is_empty()) {
            value["message"] = json!({ "text": message });
        }
        value
    };
    let rules: Vec<Value> = codes
        .iter()
        .map(|code| {
            json!({
                "id": code.id(),
                "name": code.name(),
                "shortDescription": { "text": code.summary() },
                "fullDescription": { "text": code.documentation() },
                "help": { "text": format!("`permc explain {}`\n\n{}", code.id(), code.documentation()) },
                "defaultConfiguration": { "level": level(code.default_severity()) },
            })
        })
        .collect();
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|diagnostic| {
            let mut text = diagnostic.message.clone();
            if let Some(help) = &diagnostic.help {
                text.push_str(&format!("\nhelp: {help}"));
            }
            let mut result = json!({
                "ruleId": diagnostic.code.id(),
                "ruleIndex": codes.iter().position(|it| *it == diagnostic.code).unwrap_or(0),
                "level": level(diagnostic.severity),
                "message": { "text": text },
                "locations": [location(diagnostic.primary.file, diagnostic.primary.span, Some(&diagnostic.primary.message))],
            });
            if !diagnostic.secondary.is_empty() {
                result["relatedLocations"] = Value::Array(
                    diagnostic
                        .secondary
                        .iter()
                        .enumerate()
                        .map(|(at, label)| {
                            let mut value = location(label.file, label.span, Some(&label.message));
                            value["id"] = json!(at);
                            value
                        })
                        .collect(),
                );
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "permc",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            } },
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    })
}

/// GitHub Actions workflow commands: one `::error` or `::warning` line per diagnostic, shown as
/// annotations on the pull request.
pub fn github(db: &SourceDb, diagnostics: &[Diagnostic]) -> String {
    // Data is escaped as the runner's toolkit does; properties also escape `:` and `,`.
    let data = |text: &str| text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
    let property = |text: &str| data(text).replace(':', "%3A").replace(',', "%2C");
    let mut out = String::new();
    for diagnostic in diagnostics {
        let kind = match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let source = db.get(diagnostic.primary.file);
        let start = source.line_col(diagnostic.primary.span.start);
        let end = source.line_col(diagnostic.primary.span.end);
        let mut message = diagnostic.message.clone();
        if let Some(help) = &diagnostic.help {
            message.push_str(&format!("\nhelp: {help}"));
        }
        out.push_str(&format!(
            "::{kind} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            property(&source.display_path()),
            start.line,
            start.column,
            end.line,
            end.column,
            property(&format!("{} {}", diagnostic.code.id(), diagnostic.code.name())),
            data(&message)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Code;
    use crate::source::SourceFile;
    use crate::testing::Rng;

    /// Lines of every shape the renderers treat differently: empty, long, tabs, non-ASCII, wide
    /// characters, control characters, `\r\n` endings.
    const LINES: &[&str] = &[
        "",
        "role \"reader\" {",
        "  rule {",
        "    subject = \"secrets\"",
        "      action  = [\"describeSecret\", \"readValue\"]",
        "\tconditions = {}",
        "    secretPath: /team-09/svc-02/**",
        "  name: café",
        "  名前: 秘密",
        "x\u{1}y",
        "windows line\r",
        "nul ended\r\0",
        "}",
    ];

    fn source(rng: &mut Rng, lines: usize) -> String {
        (0..lines).map(|_| LINES[rng.below(LINES.len())]).collect::<Vec<_>>().join("\n")
            + if rng.below(2) == 0 { "\n" } else { "" }
    }

    /// A span in `text`: mostly within one line, sometimes across lines, empty, or at a line's end.
    fn span(rng: &mut Rng, text: &str) -> Span {
        let starts: Vec<usize> = std::iter::once(0).chain(text.match_indices('\n').map(|(at, _)| at + 1)).collect();
        let line = starts[rng.below(starts.len())];
        let end_of_line = text[line..].find('\n').map_or(text.len(), |at| line + at);
        let start = line + rng.below(end_of_line - line + 1);
        let end = match rng.below(10) {
            0 => start,
            1 => (start + rng.below(text.len() - start + 1)).min(text.len()),
            2 => end_of_line + usize::from(end_of_line < text.len()),
            _ => start + rng.below(end_of_line - start + 1),
        };
        Span::from_range(start..end)
    }

    #[test]
    fn plain_rendering_is_what_codespan_reporting_renders() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut fast, mut total) = (0, 0);
        for _ in 0..3_000 {
            let mut db = SourceDb::new();
            let files: Vec<FileId> = (0..1 + rng.below(2))
                .map(|at| {
                    let lines = [1, 3, 12, 150][rng.below(4)];
                    db.add(SourceFile::new(format!("policies/file-{at}.hcl"), source(&mut rng, lines)))
                })
                .collect();
            let pick = |rng: &mut Rng| files[rng.below(files.len())];
            let file = pick(&mut rng);
            let primary = span(&mut rng, &db.get(file).text);
            let messages = ["", "covered by role `reader`", "the deny it overlaps"];
            let mut diagnostic = Diagnostic::new(Code::RedundantPrivilege, "rule grants nothing", file, primary)
                .label(messages[rng.below(3)]);
            for _ in 0..rng.below(4) {
                let file = pick(&mut rng);
                let at = span(&mut rng, &db.get(file).text);
                diagnostic = diagnostic.secondary(file, at, messages[rng.below(3)]);
            }
            if rng.below(2) == 0 {
                diagnostic = diagnostic.help("remove the rule");
            }
            if rng.below(4) == 0 {
                let notes = ["first line\nsecond line", "", "ends in a newline\n", "\nstarts with one"];
                diagnostic = diagnostic.note(notes[rng.below(notes.len())]);
            }
            if rng.below(4) == 0 {
                let applicability = [Applicability::Safe, Applicability::Unsafe][rng.below(2)];
                diagnostic = diagnostic.fix("grant `readValue`", applicability, primary, "[\"readValue\"]");
            }
            diagnostic.severity = [Severity::Error, Severity::Warning, Severity::Info][rng.below(3)];
            let converted = to_codespan(&db, &diagnostic);
            let expected = codespan_string(&db, &converted);
            assert_eq!(human_string(&db, &diagnostic), expected, "{diagnostic:?}");
            total += 1;
            if let Some(text) = plain(&db, &diagnostic) {
                assert_eq!(text, expected, "{diagnostic:?}");
                fast += 1;
            }
        }
        // Both paths were exercised: the comparison above is not vacuous.
        assert!(fast * 10 > total && fast < total, "{fast} of {total} rendered without codespan-reporting");
    }
}
