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
                let tag = span
                    .tag_span()
                    .and_then(|it| it.byte_range())
                    .or_else(|| span.tag_start().and_then(|it| it.byte_offset()).map(|start| start..start + 1));
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
    /// The furthest end of anything read inside so far.
    end: u32,
    reason: SkipReason,
}

#[derive(Clone, Copy)]
enum SkipReason {
    /// A list (`true`) or mapping used as a mapping key: reported, and its entry dropped.
    ComplexKey { seq: bool },
    /// Nested too deep: replaced by null.
    TooDeep,
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
                self.comments.push(Comment { text: text.into_owned(), span });
            }
            _ if self.doc != DocState::First => self.extra_document(&event, span),
            _ if self.skip.is_some() => self.skipped(&event, span),
            Event::Anchor(_, name) => {
                let diagnostic =
                    self.unsupported(format!("anchors are not supported: `&{name}`"), span).label("anchor");
                self.diagnostics.push(diagnostic);
            }
            Event::Alias(_) | Event::UnresolvedAlias(_) => {
                let written = self.slice(span).to_owned();
                let diagnostic =
                    self.unsupported(format!("aliases are not supported: `{written}`"), span).label("alias");
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
                    FrameKind::Map(MapFrame { entries: Vec::new(), state: MapState::Key, index: None })
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
            Event::Scalar(_, style, _, tag) => !(span.is_empty() && *style == ScalarStyle::Plain && tag.is_none()),
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
        skip.end = skip.end.max(span.end);
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => skip.depth += 1,
            Event::SequenceEnd | Event::MappingEnd => {
                skip.depth -= 1;
                if skip.depth == 0 {
                    let (start, end, reason) = (skip.start, skip.end, skip.reason);
                    self.skip = None;
                    let skipped = Span::new(start, end.max(start));
                    match reason {
                        SkipReason::ComplexKey { seq } => {
                            let what = if seq { "a list" } else { "a mapping" };
                            let diagnostic = self
                                .unsupported(format!("{what} cannot be a mapping key"), self.at_least_one(skipped))
                                .label("complex key")
                                .help("mapping keys in policy files are plain strings");
                            self.diagnostics.push(diagnostic);
                            self.deliver(None, skipped.end);
                        }
                        SkipReason::TooDeep => {
                            self.deliver(Some(Node::new(NodeKind::Null, skipped)), skipped.end);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn expects_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame { kind: FrameKind::Map(MapFrame { state: MapState::Key, .. }), .. }))
    }

    fn scalar(&mut self, value: String, style: ScalarStyle, span: Span) {
        let span = match style {
            ScalarStyle::Literal | ScalarStyle::Folded => self.trim_end(span),
            _ => span,
        };
        if self.expects_key() {
            let key = if style == ScalarStyle::Plain && span.is_empty() { String::new() } else { value };
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
        let Some(Frame { kind: FrameKind::Map(map), end, .. }) = self.stack.last_mut() else {
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
            let seq = matches!(kind, FrameKind::Seq(_));
            self.skip =
                Some(Skip { depth: 1, start: span.start, end: span.end, reason: SkipReason::ComplexKey { seq } });
            return;
        }
        if self.stack.len() >= MAX_DEPTH {
            if !self.too_deep_reported {
                self.too_deep_reported = true;
                let diagnostic = self.too_deep(self.at_least_one(span));
                self.diagnostics.push(diagnostic);
            }
            self.skip = Some(Skip { depth: 1, start: span.start, end: span.end, reason: SkipReason::TooDeep });
            return;
        }
        self.stack.push(Frame { start: span.start, end: span.end, kind });
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
                        map.push(Entry { key, key_span, value });
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
        let message = if message.is_empty() { "invalid yaml".to_owned() } else { format!("invalid yaml: {message}") };
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
        Parse { root, comments: self.comments, diagnostics: self.diagnostics }
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
        if span.is_empty() { self.point(span.start as usize) } else { span }
    }

    /// The character at a byte offset (empty at the end of the text), clamped to a char boundary.
    fn point(&self, offset: usize) -> Span {
        let mut start = offset.min(self.text.len());
        while !self.text.is_char_boundary(start) {
            start -= 1;
        }
        let end = self.text[start..].chars().next().map_or(start, |ch| start + ch.len_utf8());
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
        Some((whole, fraction)) => digits(whole, 10) && (fraction.is_empty() || digits(fraction, 10)),
    };
    let exponent_ok = exponent.is_none_or(|it| digits(it.strip_prefix(['-', '+']).unwrap_or(it), 10));
    mantissa_ok && exponent_ok
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: FileId = FileId(7);

    fn parse_ok(text: &str) -> Node {
        let parse = super::parse(FILE, text);
        assert!(parse.diagnostics.is_empty(), "unexpected diagnostics: {:#?}", parse.diagnostics);
        parse.root.expect("a root node")
    }

    fn codes(parse: &Parse) -> Vec<&'static str> {
        parse.diagnostics.iter().map(|it| it.code.id()).collect()
    }

    fn slice(text: &str, span: Span) -> &str {
        &text[span.range()]
    }

    fn value<'a>(node: &'a Node, key: &str) -> &'a Node {
        &node.get(key).unwrap_or_else(|| panic!("no key `{key}`")).value
    }

    #[test]
    fn block_mapping_keys_and_values_have_exact_spans() {
        let text = "subject: secrets   # trailing\naction: [a, b]\nquoted: \"q\\\"x\"\nsingle: 'it''s'\nnested:\n  inner: 1\n  list:\n    - one\n    - two\n\n# end\n";
        let root = parse_ok(text);
        let entries = root.as_map().unwrap();
        let keys: Vec<&str> = entries.iter().map(|it| it.key.as_str()).collect();
        assert_eq!(keys, ["subject", "action", "quoted", "single", "nested"]);
        for entry in entries {
            assert_eq!(slice(text, entry.key_span), entry.key);
        }
        assert_eq!(slice(text, value(&root, "subject").span), "secrets");
        assert_eq!(slice(text, value(&root, "action").span), "[a, b]");
        let quoted = value(&root, "quoted");
        assert_eq!(slice(text, quoted.span), "\"q\\\"x\"");
        assert_eq!(quoted.as_str(), Some("q\"x"));
        let single = value(&root, "single");
        assert_eq!(slice(text, single.span), "'it''s'");
        assert_eq!(single.as_str(), Some("it's"));
        let nested = value(&root, "nested");
        assert_eq!(slice(text, nested.span), "inner: 1\n  list:\n    - one\n    - two");
        let list = value(nested, "list");
        assert_eq!(slice(text, list.span), "- one\n    - two");
        let items: Vec<_> = list.as_seq().unwrap().iter().map(|it| slice(text, it.span)).collect();
        assert_eq!(items, ["one", "two"]);
        // The root block mapping ends at its last value, not at the trailing comment.
        assert_eq!(slice(text, root.span), text[..text.find("\n\n# end").unwrap()].to_string());
    }

    #[test]
    fn flow_collections_span_their_brackets() {
        let text = "a: {k: v, n: [1, 2]}  \nb: []\n";
        let root = parse_ok(text);
        let a = value(&root, "a");
        assert_eq!(slice(text, a.span), "{k: v, n: [1, 2]}");
        assert_eq!(slice(text, value(a, "n").span), "[1, 2]");
        assert_eq!(slice(text, value(&root, "b").span), "[]");
        assert_eq!(value(&root, "b").as_seq().unwrap().len(), 0);
    }

    #[test]
    fn block_scalars_are_strings_with_trimmed_spans() {
        let text = "a: |\n  12\n  text\n\nb: >-\n  folded\n  line\n";
        let root = parse_ok(text);
        let a = value(&root, "a");
        assert_eq!(a.kind, NodeKind::String("12\ntext\n".into()));
        assert_eq!(slice(text, a.span), "12\n  text");
        let b = value(&root, "b");
        assert_eq!(b.kind, NodeKind::String("folded line".into()));
        assert_eq!(slice(text, b.span), "folded\n  line");
        assert_eq!(slice(text, root.span), text.trim_end());
    }

    #[test]
    fn plain_scalars_follow_the_core_schema() {
        let cases: &[(&str, NodeKind)] = &[
            ("null", NodeKind::Null),
            ("Null", NodeKind::Null),
            ("NULL", NodeKind::Null),
            ("~", NodeKind::Null),
            ("true", NodeKind::Bool(true)),
            ("True", NodeKind::Bool(true)),
            ("TRUE", NodeKind::Bool(true)),
            ("false", NodeKind::Bool(false)),
            ("False", NodeKind::Bool(false)),
            ("FALSE", NodeKind::Bool(false)),
            ("0", NodeKind::Number("0".into())),
            ("-12", NodeKind::Number("-12".into())),
            ("+3", NodeKind::Number("+3".into())),
            ("0o17", NodeKind::Number("0o17".into())),
            ("0x1F", NodeKind::Number("0x1F".into())),
            ("1.5", NodeKind::Number("1.5".into())),
            ("1.", NodeKind::Number("1.".into())),
            (".5", NodeKind::Number(".5".into())),
            ("1e3", NodeKind::Number("1e3".into())),
            ("-2.5E-3", NodeKind::Number("-2.5E-3".into())),
            (".inf", NodeKind::Number(".inf".into())),
            ("-.Inf", NodeKind::Number("-.Inf".into())),
            ("+.INF", NodeKind::Number("+.INF".into())),
            (".nan", NodeKind::Number(".nan".into())),
            // YAML 1.1 spellings and near misses are strings.
            ("yes", NodeKind::String("yes".into())),
            ("on", NodeKind::String("on".into())),
            ("tRue", NodeKind::String("tRue".into())),
            ("nul", NodeKind::String("nul".into())),
            ("0o8", NodeKind::String("0o8".into())),
            ("0x", NodeKind::String("0x".into())),
            ("0b101", NodeKind::String("0b101".into())),
            ("1_000", NodeKind::String("1_000".into())),
            ("1e", NodeKind::String("1e".into())),
            (".", NodeKind::String(".".into())),
            ("-x", NodeKind::String("-x".into())),
            ("+", NodeKind::String("+".into())),
            ("-.nan", NodeKind::String("-.nan".into())),
            ("1.2.3", NodeKind::String("1.2.3".into())),
            ("12:30", NodeKind::String("12:30".into())),
            ("read", NodeKind::String("read".into())),
        ];
        for (written, expected) in cases {
            let text = format!("v: {written}\n");
            let root = parse_ok(&text);
            let node = value(&root, "v");
            assert_eq!(&node.kind, expected, "for `{written}`");
            assert_eq!(slice(&text, node.span), *written);
        }
    }

    #[test]
    fn quoted_scalars_are_always_strings() {
        for text in ["v: \"true\"", "v: '1'", "v: \"null\"", "v: ''", "v: |\n  1\n"] {
            let root = parse_ok(text);
            assert!(matches!(value(&root, "v").kind, NodeKind::String(_)), "for {text:?}");
        }
    }

    #[test]
    fn empty_values_are_null() {
        let text = "a:\nb: ~\nc:\n  -\n  - x\n";
        let root = parse_ok(text);
        assert_eq!(value(&root, "a").kind, NodeKind::Null);
        assert_eq!(value(&root, "b").kind, NodeKind::Null);
        let c = value(&root, "c").as_seq().unwrap();
        assert_eq!(c[0].kind, NodeKind::Null);
        assert_eq!(c[1].as_str(), Some("x"));
        assert_eq!(slice(text, root.span), text.trim_end());
    }

    #[test]
    fn keys_are_scalar_text() {
        let text = "null: a\n1: b\n\"q k\": c\ntrue: d\n";
        let root = parse_ok(text);
        let keys: Vec<_> =
            root.as_map().unwrap().iter().map(|it| (it.key.as_str(), slice(text, it.key_span))).collect();
        assert_eq!(keys, [("null", "null"), ("1", "1"), ("q k", "\"q k\""), ("true", "true")]);
    }

    #[test]
    fn complex_keys_are_unsupported_and_skipped() {
        let text = "a: 1\n? [x, y]\n: 2\n{k: v}: 3\nb: 4\n";
        let parse = super::parse(FILE, text);
        assert_eq!(codes(&parse), ["PC0003", "PC0003"]);
        assert_eq!(slice(text, parse.diagnostics[0].primary.span), "[x, y]");
        assert_eq!(slice(text, parse.diagnostics[1].primary.span), "{k: v}");
        let root = parse.root.unwrap();
        let keys: Vec<_> = root.as_map().unwrap().iter().map(|it| it.key.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(value(&root, "b").kind, NodeKind::Number("4".into()));
    }

    #[test]
    fn duplicate_keys_keep_the_first_entry() {
        let text = "a: 1\nb: [x]\na: 2\nb: {}\n";
        let parse = super::parse(FILE, text);
        assert_eq!(codes(&parse), ["PC0004", "PC0004"]);
        let first = &parse.diagnostics[0];
        assert_eq!(first.message, "duplicate key `a`");
        assert_eq!(first.primary.span, Span::new(12, 13));
        assert_eq!(first.secondary.len(), 1);
        assert_eq!(first.secondary[0].span, Span::new(0, 1));
        assert_eq!(first.secondary[0].message, "first defined here");
        assert_eq!(first.secondary[0].file, FILE);
        assert_eq!(parse.diagnostics[1].primary.span.start as usize, text.rfind('b').unwrap());
        let root = parse.root.unwrap();
        assert_eq!(root.as_map().unwrap().len(), 2);
        assert_eq!(value(&root, "a").kind, NodeKind::Number("1".into()));
        assert_eq!(slice(text, value(&root, "b").span), "[x]");
    }

    #[test]
    fn duplicate_keys_are_found_in_large_mappings() {
        let mut text: String = (0..100).map(|i| format!("k{i}: {i}\n")).collect();
        text.push_str("k42: again\nk99: again\n");
        let parse = super::parse(FILE, &text);
        assert_eq!(codes(&parse), ["PC0004", "PC0004"]);
        let second = &parse.diagnostics[1];
        assert_eq!(slice(&text, second.primary.span), "k99");
        assert_eq!(second.secondary[0].span.start as usize, text.find("k99").unwrap());
        let root = parse.root.unwrap();
        assert_eq!(root.as_map().unwrap().len(), 100);
        assert_eq!(value(&root, "k42").kind, NodeKind::Number("42".into()));
    }

    #[test]
    fn anchors_aliases_and_tags_are_unsupported() {
        let text = "a: &x [1]\nb: *x\nc: !!str 5\nd: !custom\n  k: v\ne: *missing\n";
        let parse = super::parse(FILE, text);
        assert_eq!(codes(&parse), ["PC0003"; 5]);
        let spans: Vec<_> = parse.diagnostics.iter().map(|it| slice(text, it.primary.span)).collect();
        assert_eq!(spans, ["&x", "*x", "!!str", "!custom", "*missing"]);
        for diagnostic in &parse.diagnostics {
            assert!(diagnostic.help.as_deref().unwrap().contains("literal data"));
            assert!(diagnostic.message.contains('`'), "{}", diagnostic.message);
        }
        let root = parse.root.unwrap();
        assert_eq!(slice(text, value(&root, "a").span), "[1]");
        let b = value(&root, "b");
        assert_eq!(b.kind, NodeKind::Null);
        assert_eq!(slice(text, b.span), "*x");
        assert_eq!(value(&root, "c").kind, NodeKind::Number("5".into()));
        assert!(value(&root, "d").get("k").is_some());
        assert_eq!(value(&root, "e").kind, NodeKind::Null);
    }

    #[test]
    fn an_alias_key_drops_its_entry() {
        let text = "a: &k x\n*k : 1\nb: 2\n";
        let parse = super::parse(FILE, text);
        assert_eq!(codes(&parse), ["PC0003", "PC0003"]);
        let keys: Vec<_> = parse.root.unwrap().as_map().unwrap().iter().map(|it| it.key.clone()).collect();
        assert_eq!(keys, ["a", "b"]);
    }

    #[test]
    fn a_second_document_is_unsupported() {
        let text = "a: 1\n---\nb: 2\n";
        let parse = super::parse(FILE, text);
        assert_eq!(codes(&parse), ["PC0003"]);
        assert_eq!(slice(text, parse.diagnostics[0].primary.span), "---");
        let root = parse.root.unwrap();
        assert!(root.get("a").is_some() && root.get("b").is_none());

        // Document markers around a single document are fine.
        let root = parse_ok("---\na: 1\n...\n");
        assert!(root.get("a").is_some());
        let root = parse_ok("a: 1\n---\n# nothing more\n");
        assert!(root.get("a").is_some());
    }

    #[test]
    fn syntax_errors_point_at_the_error() {
        let text = "a: [1, 2\nb: 3\n";
        let parse = super::parse(FILE, text);
        assert!(parse.root.is_none());
        assert_eq!(codes(&parse), ["PC0001"]);
        let diagnostic = &parse.diagnostics[0];
        assert!(diagnostic.message.starts_with("invalid yaml: "), "{}", diagnostic.message);
        let first = diagnostic.message["invalid yaml: ".len()..].chars().next().unwrap();
        assert!(!first.is_uppercase());
        assert!(diagnostic.primary.span.len() <= 1);
        assert!(diagnostic.primary.span.end as usize <= text.len());

        let text = "key: value\n  bad: indent\n";
        let parse = super::parse(FILE, text);
        assert_eq!(codes(&parse), ["PC0001"]);
        assert_eq!(slice(text, parse.diagnostics[0].primary.span), ":");
        assert_eq!(parse.diagnostics[0].primary.span.start, 16);
    }

    #[test]
    fn syntax_error_at_a_multibyte_character_keeps_char_boundaries() {
        let text = "é: [ü\n";
        let parse = super::parse(FILE, text);
        assert_eq!(codes(&parse), ["PC0001"]);
        let span = parse.diagnostics[0].primary.span;
        assert!(text.get(span.range()).is_some());
    }

    #[test]
    fn json_input() {
        let text = "{\n  \"name\": \"ops\",\n  \"n\": -1.5e3,\n  \"ok\": true,\n  \"none\": null,\n  \"rules\": [{\"a\": [\"x\", \"y\"]}]\n}\n";
        let root = parse_ok(text);
        assert_eq!(slice(text, root.span), text.trim_end());
        let entry = root.get("name").unwrap();
        assert_eq!(slice(text, entry.key_span), "\"name\"");
        assert_eq!(slice(text, entry.value.span), "\"ops\"");
        assert_eq!(value(&root, "n").kind, NodeKind::Number("-1.5e3".into()));
        assert_eq!(value(&root, "ok").kind, NodeKind::Bool(true));
        assert_eq!(value(&root, "none").kind, NodeKind::Null);
        let rules = value(&root, "rules");
        assert_eq!(slice(text, rules.span), "[{\"a\": [\"x\", \"y\"]}]");
        assert_eq!(slice(text, rules.as_seq().unwrap()[0].span), "{\"a\": [\"x\", \"y\"]}");
        let expected =
            serde_json::json!({"name": "ops", "n": -1500.0, "ok": true, "none": null, "rules": [{"a": ["x", "y"]}]});
        assert_eq!(root.to_json(), expected);

        let parse = super::parse(FILE, "{\"a\": 1, \"a\": 2}");
        assert_eq!(codes(&parse), ["PC0004"]);
        let parse = super::parse(FILE, "{\"a\": 1,, }");
        assert_eq!(codes(&parse), ["PC0001"]);
    }

    #[test]
    fn byte_offsets_after_multibyte_text() {
        let text = "# ünïcödé 🍄 comment\ndescription: \"Ünïcödé — x\"\nmaxAge: 10\n";
        let root = parse_ok(text);
        let entry = root.get("maxAge").unwrap();
        assert_eq!(entry.key_span.start as usize, text.find("maxAge").unwrap());
        assert_eq!(slice(text, entry.key_span), "maxAge");
        assert_eq!(slice(text, entry.value.span), "10");
        assert_eq!(slice(text, value(&root, "description").span), "\"Ünïcödé — x\"");
        let parse = super::parse(FILE, text);
        assert_eq!(parse.comments.len(), 1);
        assert_eq!(slice(text, parse.comments[0].span), "# ünïcödé 🍄 comment");
    }

    #[test]
    fn comments_are_collected_in_order() {
        let text = "# permc:ignore rule-a\na: \"x # not a comment\" # right\nb: c#d\n# last\r\n";
        let parse = super::parse(FILE, text);
        assert!(parse.diagnostics.is_empty());
        let comments: Vec<_> = parse.comments.iter().map(|it| (it.text.as_str(), slice(text, it.span))).collect();
        assert_eq!(
            comments,
            [(" permc:ignore rule-a", "# permc:ignore rule-a"), (" right", "# right"), (" last", "# last")]
        );
        assert_eq!(value(parse.root.as_ref().unwrap(), "b").as_str(), Some("c#d"));
    }

    #[test]
    fn empty_and_comment_only_files_have_no_root() {
        for text in ["", "\n\n", "# only a comment\n", "---\n", "  # indented\n# two\n"] {
            let parse = super::parse(FILE, text);
            assert!(parse.root.is_none(), "for {text:?}");
            assert!(parse.diagnostics.is_empty(), "for {text:?}: {:?}", parse.diagnostics);
        }
        assert_eq!(super::parse(FILE, "# a\n# b\n").comments.len(), 2);
    }

    #[test]
    fn many_consecutive_comments_are_fine() {
        let mut text = String::from("a:\n");
        for i in 0..500 {
            text.push_str(&format!("  # note {i}\n"));
        }
        text.push_str("  - x\n");
        let parse = super::parse(FILE, &text);
        assert!(parse.diagnostics.is_empty(), "{:?}", parse.diagnostics);
        assert_eq!(parse.comments.len(), 500);
    }

    #[test]
    fn every_prefix_of_a_document_parses_without_panicking() {
        let sample = "# policy\nname: \"Ops — ü\"\nrules:\n  - subject: secrets\n    action: [read, 'edit']\n    conditions: {environment: {$eq: prod}, secretPath: {$glob: \"/app/**\"}}\n    note: |\n      multi\n      line\n    inverted: false\n    n: -1.5e3\n    a: &x 1\n    b: *x\n    c: !!str t\n? [k]\n: v\n---\nmore: 1\n";
        for end in (0..=sample.len()).filter(|&it| sample.is_char_boundary(it)) {
            let text = &sample[..end];
            let parse = super::parse(FILE, text);
            for diagnostic in &parse.diagnostics {
                assert!(text.get(diagnostic.primary.span.range()).is_some(), "{text:?}: {diagnostic:?}");
            }
            for comment in &parse.comments {
                assert!(text.get(comment.span.range()).is_some());
            }
            if let Some(root) = &parse.root {
                let mut stack = vec![root];
                while let Some(node) = stack.pop() {
                    assert!(text.get(node.span.range()).is_some(), "{text:?}: {node:?}");
                    match &node.kind {
                        NodeKind::Seq(items) => stack.extend(items),
                        NodeKind::Map(entries) => {
                            for entry in entries {
                                assert!(text.get(entry.key_span.range()).is_some());
                                stack.push(&entry.value);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    #[test]
    fn garbage_does_not_panic() {
        let inputs = [
            "\u{0}\u{1}\u{2}",
            "]]]",
            "}{",
            "- - - - -",
            ": : :",
            "\"unterminated",
            "'x",
            "a: b: c",
            "\t\ta: 1",
            "&",
            "*",
            "!",
            "%YAML 1.2\n%YAML 1.2\n---\n",
            "a: |\n\tbad",
            "\u{feff}a: 1",
            "{a: [}]",
            "[a, b] ]",
            "? ? ? ?",
        ];
        for text in inputs {
            let parse = super::parse(FILE, text);
            for diagnostic in &parse.diagnostics {
                assert!(text.get(diagnostic.primary.span.range()).is_some(), "{text:?}: {diagnostic:?}");
            }
        }
    }

    #[test]
    fn deep_flow_nesting_does_not_overflow() {
        let depth = 100_000;
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let parse = super::parse(FILE, &text);
        assert_eq!(codes(&parse), ["PC0003"]);
        assert_eq!(parse.diagnostics[0].message, "nesting too deep");
        // The parser looks ahead for a key, so the report may come from deeper in, but always at a bracket.
        assert_eq!(slice(&text, parse.diagnostics[0].primary.span), "[");

        // Unclosed as well.
        let parse = super::parse(FILE, &"[".repeat(depth));
        assert_eq!(codes(&parse), ["PC0003"]);
    }

    #[test]
    fn nesting_over_the_limit_becomes_null() {
        let depth = 300;
        let text = format!("a: {}{}\nb: 1\n", "[".repeat(depth), "]".repeat(depth));
        let parse = super::parse(FILE, &text);
        assert_eq!(codes(&parse), ["PC0003"]);
        let root = parse.root.unwrap();
        assert_eq!(value(&root, "b").kind, NodeKind::Number("1".into()));
        let mut node = value(&root, "a");
        let mut levels = 1; // the root mapping
        while let Some(items) = node.as_seq() {
            levels += 1;
            node = &items[0];
        }
        assert_eq!(levels, MAX_DEPTH);
        assert_eq!(node.kind, NodeKind::Null);
        assert_eq!(
            slice(&text, node.span),
            format!("{}{}", "[".repeat(depth + 1 - MAX_DEPTH), "]".repeat(depth + 1 - MAX_DEPTH))
        );

        // Exactly at the limit is fine.
        let text = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        parse_ok(&text);
    }

    #[test]
    fn deep_block_nesting_does_not_overflow() {
        let mut text = String::new();
        for depth in 0..2000 {
            text.push_str(&" ".repeat(depth));
            text.push_str("k:\n");
        }
        let parse = super::parse(FILE, &text);
        assert!(codes(&parse).contains(&"PC0003"), "{:?}", parse.diagnostics);
    }

    #[test]
    fn large_input_is_linear() {
        let rule = "  - subject: secrets\n    action: [read, edit]\n    conditions: {environment: prod, secretPath: {$glob: \"/app/**\"}}\n";
        let text = format!("rules:\n{}", rule.repeat(20_000));
        let parse = super::parse(FILE, &text);
        assert!(parse.diagnostics.is_empty());
        assert_eq!(value(parse.root.as_ref().unwrap(), "rules").as_seq().unwrap().len(), 20_000);
    }

    #[test]
    fn byte_order_mark_and_crlf_keep_byte_offsets() {
        let text = "\u{feff}a: 1\r\nb:\r\n  - x\r\n  - y\r\n\r\n";
        let root = parse_ok(text);
        let a = root.get("a").unwrap();
        assert_eq!(a.key_span.start, 3);
        assert_eq!(slice(text, a.key_span), "a");
        let b = value(&root, "b");
        assert_eq!(slice(text, b.span), "- x\r\n  - y");
        assert_eq!(slice(text, root.span), "a: 1\r\nb:\r\n  - x\r\n  - y");
    }

    #[test]
    fn a_tag_on_a_collection_points_at_the_tag() {
        let text = "- !!map {a: 1}\n- *nowhere\n";
        let parse = super::parse(FILE, text);
        assert_eq!(codes(&parse), ["PC0003", "PC0003"]);
        assert_eq!(slice(text, parse.diagnostics[0].primary.span), "!!map");
        assert_eq!(parse.diagnostics[0].message, "tags are not supported: `!!map`");
        let items = parse.root.as_ref().unwrap().as_seq().unwrap();
        assert_eq!(slice(text, items[0].span), "{a: 1}");
        assert_eq!(items[1].kind, NodeKind::Null);
    }
}
