//! Syntax: YAML, JSON and HCL files to one spanned document tree.
//!
//! Parsing never fails: every front end returns a [`Parse`] holding the best tree it could build (possibly
//! none) and the diagnostics it found. Every node keeps the byte span it came from. The HCL front end writes
//! its blocks into the same tree shape as the YAML form (see `grammar/policy-language.md`), so one lowering
//! in [`crate::model`] serves both surfaces.

pub mod hcl;
pub mod write;
pub mod yaml;

use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Span};

/// Files larger than this are refused with `PC0005`.
pub const MAX_FILE_BYTES: usize = 64 << 20;

/// A node of the document tree.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    /// The whole value; for quoted strings the quotes included.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    /// A number, as written (`1`, `2.5`, `-3e2`).
    Number(String),
    String(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// One key of a mapping with its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

impl Node {
    pub fn new(kind: NodeKind, span: Span) -> Node {
        Node { kind, span }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::String(it) => Some(it),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.kind {
            NodeKind::Map(it) => Some(it),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(it) => Some(it),
            _ => None,
        }
    }

    /// The first entry of a mapping with this key.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.as_map()?.iter().find(|entry| entry.key == key)
    }

    /// A word for the node's type in messages: `a string`, `a list`, ...
    pub fn type_name(&self) -> &'static str {
        self.kind.type_name()
    }

    /// Converts a JSON value to a tree whose spans are all `span` (for input without a source file, such as
    /// `permc check --batch`).
    pub fn from_json(value: &serde_json::Value, span: Span) -> Node {
        use serde_json::Value;
        let kind = match value {
            Value::Null => NodeKind::Null,
            Value::Bool(it) => NodeKind::Bool(*it),
            Value::Number(it) => NodeKind::Number(it.to_string()),
            Value::String(it) => NodeKind::String(it.clone()),
            Value::Array(items) => NodeKind::Seq(items.iter().map(|it| Node::from_json(it, span)).collect()),
            Value::Object(map) => NodeKind::Map(
                map.iter()
                    .map(|(key, value)| Entry { key: key.clone(), key_span: span, value: Node::from_json(value, span) })
                    .collect(),
            ),
        };
        Node { kind, span }
    }

    /// Converts the tree back to JSON (numbers that do not fit JSON become strings).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(it) => Value::Bool(*it),
            NodeKind::Number(it) => {
                serde_json::from_str::<serde_json::Number>(it).map_or_else(|_| Value::String(it.clone()), Value::Number)
            }
            NodeKind::String(it) => Value::String(it.clone()),
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => {
                Value::Object(entries.iter().map(|entry| (entry.key.clone(), entry.value.to_json())).collect())
            }
        }
    }
}

impl NodeKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Number(_) => "a number",
            NodeKind::String(_) => "a string",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "an object",
        }
    }
}

/// A comment, for suppressions (`# permc:ignore ...`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// The comment text without its leading `#` or `//`.
    pub text: String,
    pub span: Span,
}

/// Which surface a file is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Yaml,
    Json,
    Hcl,
}

impl Format {
    /// The format of a path, by its extension: `.yaml`/`.yml`, `.json`, `.hcl`.
    pub fn of_path(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            "hcl" => Some(Format::Hcl),
            _ => None,
        }
    }
}

/// The result of parsing one file.
#[derive(Clone, Debug, Default)]
pub struct Parse {
    /// The document; `None` when the file is empty or nothing could be recovered.
    pub root: Option<Node>,
    pub comments: Vec<Comment>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses one file's text in the given format. Never fails, never panics.
pub fn parse(file: FileId, format: Format, text: &str) -> Parse {
    match format {
        Format::Yaml | Format::Json => yaml::parse(file, text),
        Format::Hcl => hcl::parse(file, text),
    }
}
