//! Rendering diagnostics: the terminal (through codespan-reporting) and JSON.
//!
//! The library renders into strings or caller-provided writers; it never prints itself.

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
    term::emit_into_string(&config(), db, &to_codespan(db, diagnostic)).unwrap_or_else(|error| format!("{error}\n"))
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
