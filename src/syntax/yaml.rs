//! The YAML and JSON front end: granit-parser's event stream to the spanned [`Node`] tree.
//!
//! JSON is YAML flow syntax, so `.json` files come through here too. Plain scalars are typed by the YAML 1.2
//! core schema; quoted and block scalars are always strings. Policy files are literal data, so anchors,
//! aliases, explicit tags and further documents are reported as unsupported. The tree is built with an
//! explicit stack (never recursion), so nesting depth cannot exhaust the call stack.

use std::collections::HashMap;

use granit_parser::{ErrorKind, Event, Parser, ScalarStyle, ScanError};

use super::{Comment, Entry, Node, NodeKind, Parse};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Span};

/// Collections nested deeper than this are reported and replaced by null.
const MAX_DEPTH: usize = 256;

/// The parser's own nesting limits; above [`MAX_DEPTH`] so our diagnostic comes first, bounded so a
/// pathological file cannot make the parser's state grow without end.
const PARSER_NESTING_LIMIT: usize = 1024;

/// Mappings with more entries than this get a hash index for the duplicate-key check.
const LINEAR_KEY_SCAN: usize = 8;

const LITERAL_DATA_HELP: &str = "policy files are literal data: write the value out in full";

/// Parses YAML or JSON text. Never fails, never panics.
pub fn parse(file: FileId, text: &str) -> Parse {
    let options = granit_parser::options! {
        emit_anchor_events: true,
        emit_unresolved_aliases: true,
        emit_comments: true,
        max_buffered_comment_events: usize::MAX,
        flow_nesting_limit: PARSER_NESTING_LIMIT,
        block_nesting_limit: PARSER_NESTING_LIMIT,
    };
    let mut builder = Builder::new(file, text);
    let mut parser = Parser::new_from_str_with_options(text, options);
    loop {
        match parser.next_event() {
            None => break,
            Some(Ok((event, span))) => {
                let Some(range) = span.byte_range() else {
                    continue;
                };
                let tag = span.tag_span().and_then(|it| it.byte_range()).or_else(|| {
                    span.tag_start()
                        .and_then(|it| it.byte_offset())
                        .map(|start| start..start + 1)
                });
                builder.event(event, builder.span(range), tag.map(|it| builder.span(it)));
            }
            Some(Err(error)) => {
                builder.error(&error);
                break;
            }
        }
    }
    builder.finish()
}

/// One open collection.
struct Frame {
    start: u32,
    /// The furthest end of anything read inside so far (block collections end there).
    end: u32,
    kind: FrameKind,
}

enum FrameKind {
    Seq(Vec<Node>),
    Map(MapFrame),
}

struct MapFrame {
    entries: Vec<Entry>,
    state: MapState,
    /// Key to entry index, built once the mapping grows past [`LINEAR_KEY_SCAN`] entries.
    index: Option<HashMap<String, usize>>,
}

enum MapState {
    /// The next node is a key.
    Key,
    /// The next node is the value of this key.
    Value { key: String, key_span: Span },
    /// The next node is the value of an entry that is dropped (duplicate or unsupported key).
    SkipValue,
}

impl MapFrame {
    fn find(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.entries.iter().position(|entry| entry.key == key),
        }
    }

    fn push(&mut self, entry: Entry) {
        let position = self.entries.len();
        if let Some(index) = &mut self.index {
            index.entry(entry.key.clone()).or_insert(position);
        } else if position >= LINEAR_KEY_SCAN {
            let mut index: HashMap<String, usize> = HashMap::with_capacity(position * 2);
            for (i, it) in self.entries.iter().enumerate() {
                index.entry(it.key.clone()).or_insert(i);
            }
            index.entry(entry.key.clone()).or_insert(position);
            self.index = Some(index);
        }
        self.entries.push(entry);
    }
}

/// A collection being read past without building nodes.
struct Skip {
    /// Open collections inside the skipped one, itself included.
    depth: usize,
    start: u32,
    /// Whether the skipped collection leaves a null in its place (or drops its entry).
    as_null: bool,
}

/// Where the reader is relative to the document stream.
#[derive(PartialEq, Eq)]
enum DocState {
    /// The first document (or before it).
    First,
    /// A later document whose content has not started yet; holds the `---` span.
    Extra(Option<Span>),
    /// Inside the content of a later document (already reported).
    ExtraReported,
}

struct Builder<'t> {
    file: FileId,
    text: &'t str,
    stack: Vec<Frame>,
    skip: Option<Skip>,
    root: Option<Node>,
    comments: Vec<Comment>,
    diagnostics: Vec<Diagnostic>,
    documents: usize,
    doc: DocState,
    too_deep_reported: bool,
    failed: bool,
}

impl<'t> Builder<'t> {
    fn new(file: FileId, text: &'t str) -> Builder<'t> {
        Builder {
            file,
            text,
            stack: Vec::new(),
            skip: None,
            root: None,
            comments: Vec::new(),
            diagnostics: Vec::new(),
            documents: 0,
            doc: DocState::First,
            too_deep_reported: false,
            failed: false,
        }
    }

    /// A byte range of the text as a span, clamped to the text.
    fn span(&self, range: std::ops::Range<usize>) -> Span {
        let end = range.end.min(self.text.len());
        Span::from_range(range.start.min(end)..end)
    }

    fn event(&mut self, event: Event<'_>, span: Span, tag: Option<Span>) {
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.documents > 1 {
                    self.doc = DocState::Extra((!span.is_empty()).then_some(span));
                }
            }
            Event::Comment(text, _) => {
                self.comments.push(Comment {
                    text: text.into_owned(),
                    span,
                });
            }
            _ if self.doc != DocState::First => self.extra_document(&event, span),
            _ if self.skip.is_some() => self.skipped(&event, span),
            Event::Anchor(_, name) => {
                let diagnostic = self
                    .unsupported(format!("anchors are not supported: `&{name}`"), span)
                    .label("anchor");
                self.diagnostics.push(diagnostic);
            }
            Event::Alias(_) | Event::UnresolvedAlias(_) => {
                let written = self.slice(span).to_owned();
                let diagnostic = self
                    .unsupported(format!("aliases are not supported: `{written}`"), span)
                    .label("alias");
                self.diagnostics.push(diagnostic);
                if self.expects_key() {
                    self.deliver(None, span.end);
                } else {
                    self.deliver(Some(Node::new(NodeKind::Null, span)), span.end);
                }
            }
            Event::Scalar(value, style, _, explicit) => {
                if explicit.is_some() {
                    self.report_tag(tag.unwrap_or(span));
                }
                self.scalar(value.into_owned(), style, span);
            }
            Event::SequenceStart(_, _, ref explicit) | Event::MappingStart(_, _, ref explicit) => {
                if explicit.is_some() {
                    self.report_tag(tag.unwrap_or(span));
                }
                let kind = if matches!(event, Event::SequenceStart(..)) {
                    FrameKind::Seq(Vec::new())
                } else {
                    FrameKind::Map(MapFrame {
                        entries: Vec::new(),
                        state: MapState::Key,
                        index: None,
                    })
                };
                self.start_collection(kind, span);
            }
            Event::SequenceEnd | Event::MappingEnd => self.end_collection(span),
            // Events a later parser version may add carry no data of a policy file.
            _ => {}
        }
    }

    /// An event inside a document after the first: reported once, otherwise ignored.
    fn extra_document(&mut self, event: &Event<'_>, span: Span) {
        let DocState::Extra(marker) = self.doc else {
            return;
        };
        let is_content = match event {
            // An empty document holds an empty plain scalar.
            Event::Scalar(_, style, _, tag) => {
                !(span.is_empty() && *style == ScalarStyle::Plain && tag.is_none())
            }
            _ => event.is_node(),
        };
        if is_content {
            let diagnostic = self
                .unsupported("a file may hold only one document", marker.unwrap_or(span))
                .label("a second document starts here")
                .help("policy files are literal data: put each policy in its own file, or in one document");
            self.diagnostics.push(diagnostic);
            self.doc = DocState::ExtraReported;
        }
    }

    /// An event inside a collection being skipped.
    fn skipped(&mut self, event: &Event<'_>, span: Span) {
        let Some(skip) = &mut self.skip else { return };
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => skip.depth += 1,
            Event::SequenceEnd | Event::MappingEnd => {
                skip.depth -= 1;
                if skip.depth == 0 {
                    let (start, as_null) = (skip.start, skip.as_null);
                    self.skip = None;
                    let end = span.end.max(start);
                    let node = as_null.then(|| Node::new(NodeKind::Null, Span::new(start, end)));
                    self.deliver(node, end);
                }
            }
            _ => {}
        }
    }

    fn expects_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame {
                kind: FrameKind::Map(MapFrame {
                    state: MapState::Key,
                    ..
                }),
                ..
            })
        )
    }

    fn scalar(&mut self, value: String, style: ScalarStyle, span: Span) {
        let span = match style {
            ScalarStyle::Literal | ScalarStyle::Folded => self.trim_end(span),
            _ => span,
        };
        if self.expects_key() {
            let key = if style == ScalarStyle::Plain && span.is_empty() {
                String::new()
            } else {
                value
            };
            self.key(key, span);
            return;
        }
        let kind = match style {
            ScalarStyle::Plain if span.is_empty() => NodeKind::Null,
            ScalarStyle::Plain => core_schema(value),
            _ => NodeKind::String(value),
        };
        self.deliver(Some(Node::new(kind, span)), span.end);
    }

    /// A scalar key of the innermost mapping.
    fn key(&mut self, key: String, key_span: Span) {
        let file = self.file;
        let Some(Frame {
            kind: FrameKind::Map(map),
            end,
            ..
        }) = self.stack.last_mut()
        else {
            return;
        };
        *end = (*end).max(key_span.end);
        if let Some(first) = map.find(&key) {
            let first_span = map.entries[first].key_span;
            map.state = MapState::SkipValue;
            let diagnostic = Diagnostic::new(Code::DuplicateKey, format!("duplicate key `{key}`"), file, key_span)
                .label("defined again here")
                .secondary(file, first_span, "first defined here")
                .help("a key may appear once per mapping; the first definition is used, remove or rename this one");
            self.diagnostics.push(diagnostic);
        } else {
            map.state = MapState::Value { key, key_span };
        }
    }

    fn start_collection(&mut self, kind: FrameKind, span: Span) {
        if self.expects_key() {
            let what = if matches!(kind, FrameKind::Seq(_)) {
                "a list"
            } else {
                "a mapping"
            };
            let diagnostic = self
                .unsupported(
                    format!("{what} cannot be a mapping key"),
                    self.at_least_one(span),
                )
                .label("complex key")
                .help("mapping keys in policy files are plain strings");
            self.diagnostics.push(diagnostic);
            self.skip = Some(Skip {
                depth: 1,
                start: span.start,
                as_null: false,
            });
            return;
        }
        if self.stack.len() >= MAX_DEPTH {
            if !self.too_deep_reported {
                self.too_deep_reported = true;
                let diagnostic = self.too_deep(self.at_least_one(span));
                self.diagnostics.push(diagnostic);
            }
            self.skip = Some(Skip {
                depth: 1,
                start: span.start,
                as_null: true,
            });
            return;
        }
        self.stack.push(Frame {
            start: span.start,
            end: span.end,
            kind,
        });
    }

    fn end_collection(&mut self, span: Span) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        // A flow collection ends at its closing bracket; a block collection (or an implicit flow mapping)
        // reports the start of the next token, so it ends where its last content ends instead.
        let end = if span.is_empty() { frame.end } else { span.end }.max(frame.start);
        let node_span = Span::new(frame.start, end);
        let kind = match frame.kind {
            FrameKind::Seq(items) => NodeKind::Seq(items),
            FrameKind::Map(map) => NodeKind::Map(map.entries),
        };
        self.deliver(Some(Node::new(kind, node_span)), end);
    }

    /// Hands a finished node (or `None` for a dropped one) to the innermost open collection.
    fn deliver(&mut self, node: Option<Node>, end: u32) {
        let Some(frame) = self.stack.last_mut() else {
            if self.root.is_none() {
                self.root = node;
            }
            return;
        };
        frame.end = frame.end.max(end);
        match &mut frame.kind {
            FrameKind::Seq(items) => items.extend(node),
            FrameKind::Map(map) => match std::mem::replace(&mut map.state, MapState::Key) {
                // A dropped key: its value goes too.
                MapState::Key => map.state = MapState::SkipValue,
                MapState::Value { key, key_span } => {
                    if let Some(value) = node {
                        map.push(Entry {
                            key,
                            key_span,
                            value,
                        });
                    }
                }
                MapState::SkipValue => {}
            },
        }
    }

    fn error(&mut self, error: &ScanError) {
        self.failed = true;
        let offset = error.marker().byte_offset().unwrap_or(self.text.len());
        let span = self.point(offset);
        if matches!(error.kind(), ErrorKind::RecursionLimitExceeded) {
            if !self.too_deep_reported {
                self.too_deep_reported = true;
                let diagnostic = self.too_deep(span);
                self.diagnostics.push(diagnostic);
            }
            return;
        }
        let message = lowercase_first(&error.kind().to_string());
        let message = if message.is_empty() {
            "invalid yaml".to_owned()
        } else {
            format!("invalid yaml: {message}")
        };
        let diagnostic = Diagnostic::new(Code::SyntaxError, message, self.file, span)
            .label("the parser stopped here")
            .help("fix the syntax at this position; YAML and JSON files must be well-formed to be checked");
        self.diagnostics.push(diagnostic);
    }

    fn finish(mut self) -> Parse {
        let root = if self.failed { None } else { self.root.take() };
        // An empty document (empty file, comments only, a bare `---`) has no root.
        let root = root.filter(|it| !(it.kind == NodeKind::Null && it.span.is_empty()));
        self.comments.sort_by_key(|it| it.span.start);
        Parse {
            root,
            comments: self.comments,
            diagnostics: self.diagnostics,
        }
    }

    fn report_tag(&mut self, span: Span) {
        let written = self.slice(span).to_owned();
        let message = if written.starts_with('!') {
            format!("tags are not supported: `{written}`")
        } else {
            "tags are not supported".to_owned()
        };
        let diagnostic = self.unsupported(message, span).label("tag");
        self.diagnostics.push(diagnostic);
    }

    fn unsupported(&self, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic::new(Code::UnsupportedSyntax, message, self.file, span).help(LITERAL_DATA_HELP)
    }

    fn too_deep(&self, span: Span) -> Diagnostic {
        Diagnostic::new(Code::UnsupportedSyntax, "nesting too deep", self.file, span)
            .label(format!("more than {MAX_DEPTH} nested lists or mappings"))
            .help("policy files are literal data of modest depth: flatten this structure")
    }

    fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }

    /// The span itself, or the one character at its start when it is empty.
    fn at_least_one(&self, span: Span) -> Span {
        if span.is_empty() {
            self.point(span.start as usize)
        } else {
            span
        }
    }

    /// The character at a byte offset (empty at the end of the text), clamped to a char boundary.
    fn point(&self, offset: usize) -> Span {
        let mut start = offset.min(self.text.len());
        while !self.text.is_char_boundary(start) {
            start -= 1;
        }
        let end = self.text[start..]
            .chars()
            .next()
            .map_or(start, |ch| start + ch.len_utf8());
        Span::from_range(start..end)
    }

    /// Drops trailing whitespace (block scalars run on to the next content line).
    fn trim_end(&self, span: Span) -> Span {
        let text = self.slice(span);
        let trimmed = text.trim_end_matches([' ', '\t', '\r', '\n']);
        Span::new(span.start, span.start + trimmed.len() as u32)
    }
}

/// Types a plain scalar by the YAML 1.2 core schema.
fn core_schema(value: String) -> NodeKind {
    match value.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => NodeKind::Null,
        "true" | "True" | "TRUE" => NodeKind::Bool(true),
        "false" | "False" | "FALSE" => NodeKind::Bool(false),
        it if is_number(it) => NodeKind::Number(value),
        _ => NodeKind::String(value),
    }
}

/// Whether a plain scalar is a core-schema int or float.
fn is_number(text: &str) -> bool {
    let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    if let Some(rest) = text.strip_prefix("0o") {
        return digits(rest, 8);
    }
    if let Some(rest) = text.strip_prefix("0x") {
        return digits(rest, 16);
    }
    if matches!(text, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    // [0-9]+ | (\.[0-9]+ | [0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        None => digits(mantissa, 10),
        Some(("", fraction)) => digits(fraction, 10),
        Some((whole, fraction)) => {
            digits(whole, 10) && (fraction.is_empty() || digits(fraction, 10))
        }
    };
    let exponent_ok =
        exponent.is_none_or(|it| digits(it.strip_prefix(['-', '+']).unwrap_or(it), 10));
    mantissa_ok && exponent_ok
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
