//! The one diagnostic type every layer reports with.
//!
//! Diagnostics are data: the library decides the message, labels, help and fix; only `cli` and `lsp`
//! display them (through [`crate::render`] and the language server's converter).

use crate::codes::Code;
use crate::source::{FileId, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// An underlined place in a file with a short message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

/// Whether a fix may be applied without a person looking at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applicability {
    /// Keeps the meaning the author evidently intended; `--fix` applies it.
    Safe,
    /// Changes behaviour; offered in the editor, never applied automatically.
    Unsafe,
}

/// A text replacement in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub file: FileId,
    pub span: Span,
    pub replacement: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub applicability: Applicability,
    pub edits: Vec<Edit>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    /// Lowercase, no final period, user input in backticks.
    pub message: String,
    /// Where to underline.
    pub primary: Label,
    /// Related places, possibly in other files.
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    pub notes: Vec<String>,
    pub fix: Option<Fix>,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity.
    pub fn new(code: Code, message: impl Into<String>, file: FileId, span: Span) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.default_severity(),
            message: message.into(),
            primary: Label { file, span, message: String::new() },
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
            fix: None,
        }
    }

    /// Sets the primary label's text.
    pub fn label(mut self, message: impl Into<String>) -> Diagnostic {
        self.primary.message = message.into();
        self
    }

    pub fn secondary(mut self, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label { file, span, message: message.into() });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Attaches a single-edit fix in the primary label's file.
    pub fn fix(
        mut self,
        title: impl Into<String>,
        applicability: Applicability,
        span: Span,
        replacement: impl Into<String>,
    ) -> Diagnostic {
        self.fix = Some(Fix {
            title: title.into(),
            applicability,
            edits: vec![Edit { file: self.primary.file, span, replacement: replacement.into() }],
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Sort key: file, then position, then code.
    pub fn sort_key(&self) -> (FileId, u32, u32, &'static str) {
        (self.primary.file, self.primary.span.start, self.primary.span.end, self.code.id())
    }
}

/// Sorts diagnostics into reading order and drops exact duplicates.
pub fn sort(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()).then_with(|| a.message.cmp(&b.message)));
    diagnostics.dedup();
}
