//! `--fix`: the fixes marked safe, applied as text edits. A file is only rewritten when the result still
//! parses without errors; overlapping edits keep the first.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::diagnostic::{Applicability, Diagnostic};
use crate::source::{FileId, SourceDb, Span};
use crate::syntax::{self, Format};

/// What `--fix` would write.
#[derive(Debug, Default)]
pub struct Fixed {
    /// (path, new text) of every changed file.
    pub files: Vec<(PathBuf, String)>,
    /// How many fixes went in.
    pub applied: usize,
    /// Files where some fix was left out because the fixed text would not parse.
    pub refused: Vec<PathBuf>,
}

/// The safe fixes of `diagnostics`, applied to the texts of `db`.
pub fn safe_fixes(db: &SourceDb, diagnostics: &[Diagnostic]) -> Fixed {
    let mut by_file: BTreeMap<FileId, Vec<(Span, &str, usize)>> = BTreeMap::new();
    for (at, diagnostic) in diagnostics.iter().enumerate() {
        let Some(fix) = diagnostic.fix.as_ref().filter(|it| it.applicability == Applicability::Safe) else { continue };
        // A fix that spans several files is applied whole or not at all; these are single-file today.
        if fix.edits.iter().any(|edit| edit.file != fix.edits[0].file) {
            continue;
        }
        for edit in &fix.edits {
            by_file.entry(edit.file).or_default().push((edit.span, edit.replacement.as_str(), at));
        }
    }
    let mut fixed = Fixed::default();
    for (file, mut edits) in by_file {
        let source = db.get(file);
        let format = Format::of_path(&source.path).unwrap_or(Format::Yaml);
        // How well a text parses: whether a tree is left, and how many errors the syntax layer reports
        // (the original may already hold some elsewhere).
        let errors = |text: &str| {
            let parse = syntax::parse(file, format, text);
            (parse.root.is_none(), parse.diagnostics.iter().filter(|it| it.is_error()).count())
        };
        let original = errors(&source.text);
        edits.sort_by_key(|(span, _, _)| (span.start, span.end));
        // One fix at a time, from the end of the file (earlier spans stay valid): each is kept only if the
        // text still parses as well as before.
        let mut text = source.text.clone();
        let mut applied: Vec<usize> = Vec::new();
        let mut last_start = usize::MAX;
        for (span, replacement, fix) in edits.iter().rev() {
            if span.end as usize > last_start || applied.contains(fix) {
                continue;
            }
            let replacement = in_style(&text[span.range()], replacement);
            let mut attempt = text.clone();
            attempt.replace_range(span.range(), &replacement);
            let (lost, count) = errors(&attempt);
            if (!lost || original.0) && count <= original.1 {
                text = attempt;
                applied.push(*fix);
                last_start = span.start as usize;
            } else if !fixed.refused.contains(&source.path) {
                fixed.refused.push(source.path.clone());
            }
        }
        if !applied.is_empty() {
            fixed.applied += applied.len();
            fixed.files.push((source.path.clone(), text));
        }
    }
    fixed
}

/// A replacement written as a JSON string, in the style of the text it replaces: bare where the original is
/// bare and the new word needs no quotes (an HCL attribute name must stay bare; a plain YAML scalar may).
pub fn in_style(original: &str, replacement: &str) -> String {
    let quoted = original.starts_with('"') || original.starts_with('\'');
    if quoted || !replacement.starts_with('"') {
        return replacement.to_owned();
    }
    match serde_json::from_str::<String>(replacement) {
        Ok(word) if !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "_-$".contains(c)) => word,
        _ => replacement.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacements_keep_the_quoting_of_what_they_replace() {
        assert_eq!(in_style("secretpath", "\"secretPath\""), "secretPath");
        assert_eq!(in_style("\"read-value\"", "\"readValue\""), "\"readValue\"");
        assert_eq!(in_style("in", "\"$in\""), "$in");
        assert_eq!(in_style("app/config", "\"/app/config\""), "\"/app/config\"");
    }
}
