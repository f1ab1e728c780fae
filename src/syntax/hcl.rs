//! The HCL front end: Terraform-style blocks written into the YAML form's tree.
//!
//! `hcl-edit` parses the text (it never panics and bounds its own nesting); this module walks its syntax
//! tree, which keeps byte ranges on every attribute, block, label and expression, and writes each block as
//! the item of the YAML form it stands for: `role "slug" { permission { ... } }` becomes an item of `roles`
//! with `slug` and `permissions`, `glob("/app/**")` becomes `{ $glob: /app/** }`, and the bare operator
//! names of condition objects (`in`, `eq`, ...) become `$in`, `$eq`, .... Spans point at the HCL source, so
//! every later diagnostic underlines what the user wrote. `grammar/hcl.md` documents the mapping.
//!
//! Policy files are literal data: variables, references, interpolation, functions other than `glob`,
//! conditionals, `for` expressions and operators are reported as `PC0003` and read as `null`.

use hcl_edit::expr::{Expression, ObjectKey, UnaryOperator};
use hcl_edit::structure::{Block, Body, Structure};
use hcl_edit::template::{Element, Template};

use super::{Comment, Entry, Node, NodeKind, Parse};
use crate::catalog;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Span};

const LITERAL_DATA_HELP: &str = "policy files are literal data: write the value out in full";

/// The operators of a condition object, written without `$` in HCL.
pub(crate) const OPERATORS: &[&str] = &["eq", "ne", "in", "all", "glob", "elemMatch"];

/// Parses HCL text. Never fails, never panics.
pub fn parse(file: FileId, text: &str) -> Parse {
    let mut parse = Parse { comments: comments(text), ..Parse::default() };
    // hcl-edit refuses a body with an attribute defined twice. To report every duplicate with its first
    // definition and still check the rest of the file, each redefined key is renamed in a copy of the text
    // (same length, so spans stay valid) and the copy parsed again.
    let mut renamed = Vec::new();
    let mut copy: Option<String> = None;
    let body = loop {
        match hcl_edit::parser::parse_body(copy.as_deref().unwrap_or(text)) {
            Ok(body) => break body,
            Err(error) => {
                let offset = error.location().offset();
                let redefined = error.message().contains("redefined attribute") && renamed.len() < 1000;
                let key_len = text.get(offset..).map_or(0, |rest| {
                    rest.find(|it: char| !(it.is_alphanumeric() || it == '_' || it == '-')).unwrap_or(rest.len())
                });
                if !redefined || key_len == 0 || renamed.contains(&offset) {
                    parse.diagnostics.push(syntax_error(file, text, &error));
                    return parse;
                }
                let copy = copy.get_or_insert_with(|| text.to_owned());
                let mangled = mangle(renamed.len(), key_len);
                copy.replace_range(offset..offset + key_len, &mangled);
                renamed.push(offset);
            }
        }
    };
    let mut cx = Cx { file, text, renamed, diagnostics: Vec::new() };
    let entries = cx.body(&body, Kind::Document);
    let span = Span::from_range(0..text.len());
    // A file of comments only has no document, like an empty YAML file.
    if !entries.is_empty() || body.iter().next().is_some() {
        parse.root = Some(Node::new(NodeKind::Map(entries), span));
    }
    parse.diagnostics = cx.diagnostics;
    parse
}

/// The `count`th stand-in name of `len` bytes: `_`, `A`..`Z` first, then digits.
fn mangle(count: usize, len: usize) -> String {
    const FIRST: &[u8] = b"_ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut rest = count / FIRST.len();
    let mut name = String::with_capacity(len);
    name.push(char::from(FIRST[count % FIRST.len()]));
    for _ in 1..len {
        name.push(char::from(b'0' + (rest % 10) as u8));
        rest /= 10;
    }
    name
}

fn syntax_error(file: FileId, text: &str, error: &hcl_edit::parser::Error) -> Diagnostic {
    let mut offset = error.location().offset().min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let message = error.message().trim();
    let at_end = text[offset..].trim().is_empty();
    // At the end of the file, point just after the last token; elsewhere underline the character the parser
    // stopped at (nothing when it is a line break).
    let span = if at_end {
        let end = text.trim_end().len();
        Span::from_range(end..end)
    } else {
        let end = text[offset..]
            .chars()
            .next()
            .filter(|it| *it != '\n' && *it != '\r')
            .map_or(offset, |it| offset + it.len_utf8());
        Span::from_range(offset..end)
    };
    if at_end {
        return Diagnostic::new(
            Code::SyntaxError,
            format!("invalid HCL: unexpected end of file ({message})"),
            file,
            span,
        )
        .label("the file ends here")
        .help("a block or an expression is not closed; HCL files must be well-formed to be checked");
    }
    if message.contains("redefined object key") {
        return Diagnostic::new(Code::DuplicateKey, "duplicate key in an object", file, span)
            .label("defined again here")
            .help("a key may appear once per object; remove or rename this one");
    }
    let message = if message.is_empty() { "invalid HCL".to_owned() } else { format!("invalid HCL: {message}") };
    Diagnostic::new(Code::SyntaxError, message, file, span)
        .label("the parser stopped here")
        .help("fix the syntax at this position; HCL files must be well-formed to be checked")
}

/// What a block (or the document) stands for in the YAML form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Document,
    Project,
    Role,
    Permission,
    Conditions,
    Identity,
    User,
    MemberRole,
    Privilege,
    AccessPolicy,
    Step,
    SecretPolicy,
}

/// How the blocks of one type are written into their parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// Every block is its own entry (`project`: several declarations are reported by the model).
    Each,
    /// At most one block, the entry's value.
    Single,
    /// The blocks are collected, in order, into one list.
    List,
}

/// A block type allowed inside a parent: HCL identifier, what it stands for, YAML key, how it is written.
pub(crate) type Child = (&'static str, Kind, &'static str, Target);

impl Kind {
    /// The block types allowed in this block's body.
    pub(crate) fn children(self) -> &'static [Child] {
        match self {
            Kind::Document => &[
                ("project", Kind::Project, "project", Target::Each),
                ("role", Kind::Role, "roles", Target::List),
                ("identity", Kind::Identity, "identities", Target::List),
                ("user", Kind::User, "users", Target::List),
                ("access_policy", Kind::AccessPolicy, "accessPolicies", Target::List),
                ("secret_policy", Kind::SecretPolicy, "secretPolicies", Target::List),
            ],
            Kind::Role | Kind::Privilege => &[("permission", Kind::Permission, "permissions", Target::List)],
            Kind::Permission => &[("conditions", Kind::Conditions, "conditions", Target::Single)],
            Kind::Identity | Kind::User => &[
                ("role", Kind::MemberRole, "roles", Target::List),
                ("privilege", Kind::Privilege, "privileges", Target::List),
            ],
            Kind::AccessPolicy => &[("step", Kind::Step, "steps", Target::List)],
            Kind::Project | Kind::Conditions | Kind::MemberRole | Kind::Step | Kind::SecretPolicy => &[],
        }
    }

    /// The key the block's label is written to, and an example for messages; `None` for unlabelled blocks.
    pub(crate) fn label(self) -> Option<(&'static str, &'static str)> {
        match self {
            Kind::Project => Some(("slug", "project \"payments\" { ... }")),
            Kind::Role => Some(("slug", "role \"backend-developer\" { ... }")),
            Kind::Identity => Some(("name", "identity \"ci-deployer\" { ... }")),
            Kind::User => Some(("email", "user \"alice@example.com\" { ... }")),
            Kind::MemberRole => Some(("role", "role \"prod-reader\" { duration = \"4h\" }")),
            Kind::Privilege => Some(("slug", "privilege \"hotfix\" { ... }")),
            Kind::AccessPolicy => Some(("name", "access_policy \"prod-access\" { ... }")),
            Kind::SecretPolicy => Some(("name", "secret_policy \"prod-changes\" { ... }")),
            Kind::Document | Kind::Permission | Kind::Conditions | Kind::Step => None,
        }
    }

    /// The context the values of this block's attributes are read in.
    pub(crate) fn attribute_context(self, key: &str) -> Context {
        match self {
            Kind::Conditions => Context::Operand,
            _ if key == "conditions" => Context::Conditions,
            _ => Context::Plain,
        }
    }
}

/// Where an expression stands, which decides how object keys are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Context {
    /// Plain data: keys as written.
    Plain,
    /// A `conditions` object: keys are condition keys, values are operands.
    Conditions,
    /// The value of a condition key: an object's keys are operators (`in` is `$in`).
    Operand,
    /// The object of `elemMatch`: keys are fields (`key`, `value`), values are operands.
    ElemMatch,
}

impl Context {
    /// The context of the value under `key` (the key as read: operators with their `$`).
    pub(crate) fn inner(self, key: &str) -> Context {
        match self {
            Context::Plain if key == "conditions" => Context::Conditions,
            Context::Plain => Context::Plain,
            Context::Conditions | Context::ElemMatch => Context::Operand,
            Context::Operand if key == "$elemMatch" => Context::ElemMatch,
            Context::Operand => Context::Plain,
        }
    }
}

struct Cx<'t> {
    file: FileId,
    text: &'t str,
    /// Offsets of attribute keys renamed because they were defined twice (see [`parse`]).
    renamed: Vec<usize>,
    diagnostics: Vec<Diagnostic>,
}

fn span_of(it: &impl hcl_edit::Span) -> Span {
    it.span().map(Span::from_range).unwrap_or_default()
}

impl Cx<'_> {
    fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn duplicate(&mut self, key: &str, span: Span, first: Span) {
        let diagnostic = Diagnostic::new(Code::DuplicateKey, format!("duplicate key `{key}`"), self.file, span)
            .label("defined again here")
            .secondary(self.file, first, "first defined here")
            .help("a key may appear once per block; the first definition is used, remove or rename this one");
        self.report(diagnostic);
    }

    /// A body's attributes and blocks as the entries of one mapping.
    fn body(&mut self, body: &Body, kind: Kind) -> Vec<Entry> {
        let mut entries: Vec<Entry> = Vec::with_capacity(body.len());
        // Keys whose list was started by blocks, so an attribute of the same name may extend it.
        let mut from_blocks: Vec<&'static str> = Vec::new();
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attribute) => {
                    let key_span = span_of(&attribute.key);
                    if self.renamed.contains(&(key_span.start as usize)) {
                        let key = self.slice(key_span).to_owned();
                        match entries.iter().find(|entry| entry.key == key) {
                            Some(first) => {
                                let first = first.key_span;
                                self.duplicate(&key, key_span, first);
                            }
                            None => self.duplicate(&key, key_span, key_span),
                        }
                        continue;
                    }
                    let key = attribute.key.as_str();
                    let value = self.expr(&attribute.value, kind.attribute_context(key));
                    match entries.iter_mut().find(|entry| entry.key == key) {
                        Some(existing) if from_blocks.contains(&key) => {
                            if let (NodeKind::Seq(items), NodeKind::Seq(more)) = (&mut existing.value.kind, value.kind)
                            {
                                items.extend(more);
                            } else {
                                let first = existing.key_span;
                                self.duplicate(key, key_span, first);
                            }
                        }
                        Some(existing) => {
                            let first = existing.key_span;
                            self.duplicate(key, key_span, first);
                        }
                        None => entries.push(Entry { key: key.to_owned(), key_span, value }),
                    }
                }
                Structure::Block(block) => self.child_block(block, kind, &mut entries, &mut from_blocks),
            }
        }
        entries
    }

    fn child_block(
        &mut self,
        block: &Block,
        parent: Kind,
        entries: &mut Vec<Entry>,
        from_blocks: &mut Vec<&'static str>,
    ) {
        let ident = block.ident.as_str();
        let ident_span = span_of(&block.ident);
        let Some(&(_, kind, key, target)) = parent.children().iter().find(|child| child.0 == ident) else {
            self.unknown_block(block, parent);
            return;
        };
        let Some(node) = self.block(block, kind) else { return };
        let existing = entries.iter().position(|entry| entry.key == key);
        match (target, existing) {
            (Target::Each, _) | (_, None) => {
                let value = if target == Target::List {
                    let span = node.span;
                    from_blocks.push(key);
                    Node::new(NodeKind::Seq(vec![node]), span)
                } else {
                    node
                };
                entries.push(Entry { key: key.to_owned(), key_span: ident_span, value });
            }
            (Target::List, Some(index)) => {
                let entry = &mut entries[index];
                if let NodeKind::Seq(items) = &mut entry.value.kind {
                    entry.value.span = entry.value.span.cover(node.span);
                    items.push(node);
                } else {
                    let first = entry.key_span;
                    self.duplicate(key, ident_span, first);
                }
            }
            (Target::Single, Some(index)) => {
                let first = entries[index].key_span;
                let diagnostic =
                    Diagnostic::new(Code::DuplicateKey, format!("second `{ident}` block"), self.file, ident_span)
                        .label("defined again here")
                        .secondary(self.file, first, "first defined here")
                        .help(format!("a `{ident}` block may appear once here; merge the two blocks"));
                self.report(diagnostic);
            }
        }
    }

    fn unknown_block(&mut self, block: &Block, parent: Kind) {
        let ident = block.ident.as_str();
        let allowed: Vec<&str> = parent.children().iter().map(|child| child.0).collect();
        let mut diagnostic =
            Diagnostic::new(Code::UnknownField, format!("unknown block `{ident}`"), self.file, span_of(&block.ident))
                .label("not a block permc knows here");
        let help = match (catalog::suggest(ident, allowed.iter().copied()), allowed.is_empty()) {
            (Some(suggestion), _) => format!("did you mean `{suggestion}`?"),
            (None, true) => "this block takes attributes only (`key = value`)".to_owned(),
            (None, false) => {
                format!(
                    "the blocks allowed here are {}",
                    allowed.iter().map(|it| format!("`{it}`")).collect::<Vec<_>>().join(", ")
                )
            }
        };
        diagnostic = diagnostic.help(help);
        self.report(diagnostic);
    }

    /// One block as a mapping: its label (if it takes one) and its body.
    fn block(&mut self, block: &Block, kind: Kind) -> Option<Node> {
        let ident = block.ident.as_str();
        let mut entries = Vec::new();
        match (kind.label(), block.labels.as_slice()) {
            (Some((_, example)), []) => {
                let diagnostic = Diagnostic::new(
                    Code::MissingField,
                    format!("`{ident}` block without a label"),
                    self.file,
                    span_of(&block.ident),
                )
                .label("a label is required here")
                .help(format!("name the block after its type, e.g. `{example}`"));
                self.report(diagnostic);
                return None;
            }
            (Some((key, _)), [label, extra @ ..]) => {
                if let (Some(first), Some(last)) = (extra.first(), extra.last()) {
                    let span = span_of(first).cover(span_of(last));
                    let diagnostic = Diagnostic::new(
                        Code::UnknownField,
                        format!("`{ident}` block with more than one label"),
                        self.file,
                        span,
                    )
                    .label("unexpected label")
                    .help(format!("a `{ident}` block takes one label, its {key}"));
                    self.report(diagnostic);
                }
                let span = span_of(label);
                entries.push(Entry {
                    key: key.to_owned(),
                    key_span: span,
                    value: Node::new(NodeKind::String(label.as_str().to_owned()), span),
                });
            }
            (None, [label, ..]) => {
                let diagnostic = Diagnostic::new(
                    Code::UnknownField,
                    format!("`{ident}` block with a label"),
                    self.file,
                    span_of(label),
                )
                .label("unexpected label")
                .help(format!("a `{ident}` block takes no label: write `{ident} {{ ... }}`"));
                self.report(diagnostic);
            }
            (None, []) => {}
        }
        for entry in self.body(&block.body, kind) {
            match entries.iter().find(|it| it.key == entry.key) {
                Some(label) => {
                    let first = label.key_span;
                    self.duplicate(&entry.key, entry.key_span, first);
                }
                None => entries.push(entry),
            }
        }
        Some(Node::new(NodeKind::Map(entries), span_of(block)))
    }

    /// One expression as a node of the tree.
    fn expr(&mut self, expr: &Expression, context: Context) -> Node {
        let span = span_of(expr);
        let kind = match expr {
            Expression::Null(_) => NodeKind::Null,
            Expression::Bool(value) => NodeKind::Bool(*value.value()),
            Expression::Number(number) => NodeKind::Number(self.number_text(span, &number.value().to_string())),
            Expression::String(value) => NodeKind::String(value.value().clone()),
            Expression::Array(array) => {
                NodeKind::Seq(array.iter().map(|item| self.expr(item, Context::Plain)).collect())
            }
            Expression::Object(object) => {
                let mut entries: Vec<Entry> = Vec::with_capacity(object.len());
                for (key, value) in object.iter() {
                    let key_span = span_of(key);
                    let name = match key {
                        ObjectKey::Ident(ident) => ident.as_str().to_owned(),
                        ObjectKey::Expression(Expression::String(it)) => it.value().clone(),
                        ObjectKey::Expression(other) => {
                            self.unsupported(
                                span_of(other),
                                "computed object key",
                                "write the key as a name or a quoted string",
                            );
                            continue;
                        }
                    };
                    let name = match context {
                        Context::Operand if OPERATORS.contains(&name.as_str()) => format!("${name}"),
                        _ => name,
                    };
                    let value = self.expr(value.expr(), context.inner(&name));
                    if let Some(first) = entries.iter().find(|entry| entry.key == name) {
                        let first = first.key_span;
                        self.duplicate(&name, key_span, first);
                        continue;
                    }
                    entries.push(Entry { key: name, key_span, value });
                }
                NodeKind::Map(entries)
            }
            Expression::StringTemplate(template) => self.template(template, span),
            Expression::HeredocTemplate(heredoc) => self.template(&heredoc.template, span),
            Expression::Parenthesis(inner) => return self.expr(inner.inner(), context),
            Expression::Variable(name) => {
                let what = format!("the variable `{}`", name.as_str());
                self.unsupported(span, &what, LITERAL_DATA_HELP);
                NodeKind::Null
            }
            Expression::Traversal(_) => {
                let what = format!("the reference `{}`", self.slice(span));
                self.unsupported(span, &what, LITERAL_DATA_HELP);
                NodeKind::Null
            }
            Expression::FuncCall(call) => return self.call(call, span),
            Expression::UnaryOp(op) => match (op.operator.value(), &op.expr) {
                (UnaryOperator::Neg, Expression::Number(number)) => {
                    NodeKind::Number(format!("-{}", self.number_text(span_of(&op.expr), &number.value().to_string())))
                }
                _ => {
                    self.unsupported(span, "an operator", LITERAL_DATA_HELP);
                    NodeKind::Null
                }
            },
            Expression::BinaryOp(_) => {
                self.unsupported(span, "an operator", LITERAL_DATA_HELP);
                NodeKind::Null
            }
            Expression::Conditional(_) => {
                self.unsupported(span, "a conditional expression", LITERAL_DATA_HELP);
                NodeKind::Null
            }
            Expression::ForExpr(_) => {
                self.unsupported(span, "a `for` expression", "list the values one by one");
                NodeKind::Null
            }
        };
        Node::new(kind, span)
    }

    /// A number as written, falling back to its parsed form.
    fn number_text(&self, span: Span, parsed: &str) -> String {
        let written = self.slice(span).trim();
        if written.is_empty() { parsed.to_owned() } else { written.to_owned() }
    }

    /// A string template: literal text only.
    fn template(&mut self, template: &Template, span: Span) -> NodeKind {
        let mut text = String::new();
        for element in template.iter() {
            match element {
                Element::Literal(literal) => text.push_str(literal.value()),
                Element::Interpolation(interpolation) => {
                    let inner = span_of(&interpolation.expr);
                    let shown = if inner.is_empty() { span } else { inner };
                    self.unsupported(
                        shown,
                        "string interpolation (`${...}`)",
                        "write the text out in full; to write `${` literally, escape it as `$${`",
                    );
                    return NodeKind::Null;
                }
                Element::Directive(_) => {
                    self.unsupported(
                        span,
                        "a template directive (`%{...}`)",
                        "write the text out in full; to write `%{` literally, escape it as `%%{`",
                    );
                    return NodeKind::Null;
                }
            }
        }
        NodeKind::String(text)
    }

    /// `glob("pattern")` as `{ $glob: pattern }`; any other function is refused.
    fn call(&mut self, call: &hcl_edit::expr::FuncCall, span: Span) -> Node {
        let name = call.name.name.as_str();
        let name_span = span_of(&call.name.name);
        if name != "glob" || !call.name.namespace.is_empty() {
            let shown = if call.name.namespace.is_empty() {
                name.to_owned()
            } else {
                let mut parts: Vec<&str> = call.name.namespace.iter().map(|it| it.as_str()).collect();
                parts.push(name);
                parts.join("::")
            };
            let diagnostic = Diagnostic::new(Code::UnsupportedSyntax, format!("unsupported function `{shown}`"), self.file, name_span)
                .label("policy files have no functions but `glob`")
                .help("the only function in policy files is `glob(\"pattern\")`, for the `$glob` operator; write other values out in full");
            self.report(diagnostic);
            return Node::new(NodeKind::Null, span);
        }
        let args: Vec<&Expression> = call.args.iter().collect();
        let pattern = match args.as_slice() {
            [only] if !call.args.expand_final() => {
                let node = self.expr(only, Context::Plain);
                match node.kind {
                    NodeKind::String(_) => Some(node),
                    NodeKind::Null => return Node::new(NodeKind::Null, span),
                    _ => None,
                }
            }
            _ => None,
        };
        let Some(pattern) = pattern else {
            let diagnostic = Diagnostic::new(Code::WrongType, "`glob` takes one string", self.file, span)
                .label("expected one pattern")
                .help("write the pattern as one quoted string, e.g. `secretPath = glob(\"/app/**\")`");
            self.report(diagnostic);
            return Node::new(NodeKind::Null, span);
        };
        let entry = Entry { key: "$glob".to_owned(), key_span: name_span, value: pattern };
        Node::new(NodeKind::Map(vec![entry]), span)
    }

    fn unsupported(&mut self, span: Span, what: &str, help: &str) {
        let diagnostic =
            Diagnostic::new(Code::UnsupportedSyntax, format!("unsupported syntax: {what}"), self.file, span)
                .label("not literal data")
                .help(help.to_owned());
        self.report(diagnostic);
    }

    fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }
}

/// The comments of a file (`#`, `//` and `/* */`), outside strings and heredocs.
fn comments(text: &str) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut comments = Vec::new();
    let mut index = 0;
    // Nesting of `${` interpolations inside strings, so a `"` inside one does not end the string.
    while index < bytes.len() {
        match bytes[index] {
            b'"' => index = skip_string(bytes, index + 1),
            b'#' => index = line_comment(text, index, 1, &mut comments),
            b'/' if bytes.get(index + 1) == Some(&b'/') => index = line_comment(text, index, 2, &mut comments),
            b'/' if bytes.get(index + 1) == Some(&b'*') => {
                let end = text[index + 2..].find("*/").map_or(text.len(), |it| index + 2 + it + 2);
                let body = &text[index + 2..end.saturating_sub(2).max(index + 2)];
                comments.push(Comment { text: body.to_owned(), span: Span::from_range(index..end) });
                index = end;
            }
            b'<' if bytes.get(index + 1) == Some(&b'<') => index = skip_heredoc(text, index + 2),
            _ => index += 1,
        }
    }
    comments
}

fn line_comment(text: &str, start: usize, marker: usize, comments: &mut Vec<Comment>) -> usize {
    let end = text[start..].find('\n').map_or(text.len(), |it| start + it);
    let body = text[start + marker..end].strip_suffix('\r').unwrap_or(&text[start + marker..end]);
    comments.push(Comment { text: body.to_owned(), span: Span::from_range(start..start + marker + body.len()) });
    end
}

/// The index after a quoted string that starts before `index`; strings end at their line.
fn skip_string(bytes: &[u8], mut index: usize) -> usize {
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'"' | b'\n' => return index + 1,
            _ => index += 1,
        }
    }
    bytes.len()
}

/// The index after a heredoc whose `<<` ends before `index`; `index` itself when it is not one.
fn skip_heredoc(text: &str, index: usize) -> usize {
    let rest = &text[index..];
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let name_len = rest.find(|it: char| !(it.is_ascii_alphanumeric() || it == '_')).unwrap_or(rest.len());
    if name_len == 0 || !rest[name_len..].starts_with(['\n', '\r']) {
        return index;
    }
    let name = &rest[..name_len];
    let mut offset = text.len() - rest.len() + name_len;
    for line in text[offset..].split_inclusive('\n').skip(1) {
        offset += line.len();
        if line.trim() == name {
            return offset;
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Parse {
        parse(FileId(0), text)
    }

    fn json(text: &str) -> serde_json::Value {
        let parse = parsed(text);
        assert!(parse.diagnostics.is_empty(), "{:#?}", parse.diagnostics);
        parse.root.expect("a document").to_json()
    }

    fn codes(text: &str) -> Vec<&'static str> {
        parsed(text).diagnostics.iter().map(|it| it.code.id()).collect()
    }

    fn slice(text: &str, span: Span) -> &str {
        &text[span.range()]
    }

    #[test]
    fn blocks_become_the_yaml_form() {
        let text = r#"
project "payments" {
  environments = ["dev", "prod"]
}

role "reader" {
  name = "Reader"
  permission {
    subject = "secrets"
    action  = ["describeSecret", "readValue"]
    conditions {
      environment = { in = ["dev", "prod"] }
      secretPath  = glob("/app/**")
      secretTags  = { all = ["a"] }
    }
  }
  permission {
    subject  = "secrets"
    action   = "delete"
    inverted = true
  }
}

identity "ci" {
  id    = "x"
  roles = ["no-access"]
  role "reader" {
    duration = "4h"
    start    = "2026-11-20T09:00:00Z"
  }
  privilege "deploy" {
    duration = "1h"
    permission {
      subject = "secrets"
      action  = "readValue"
      conditions = { environment = { eq = "prod" }, secretPath = { glob = "/a/*" } }
    }
  }
}

user "alice@example.com" {
  roles = ["admin"]
}

access_policy "prod" {
  environment = "prod"
  secretPath  = "/"
  step {
    approvals = 1
    approvers = [{ type = "user", username = "alice@example.com" }]
  }
  step {
    approvals = 2
    approvers = [{ type = "group", id = "g" }]
  }
}

secret_policy "changes" {
  environments = ["prod"]
  approvals    = 1
}
"#;
        let expected = serde_json::json!({
            "project": { "slug": "payments", "environments": ["dev", "prod"] },
            "roles": [{
                "slug": "reader",
                "name": "Reader",
                "permissions": [
                    {
                        "subject": "secrets",
                        "action": ["describeSecret", "readValue"],
                        "conditions": {
                            "environment": { "$in": ["dev", "prod"] },
                            "secretPath": { "$glob": "/app/**" },
                            "secretTags": { "$all": ["a"] }
                        }
                    },
                    { "subject": "secrets", "action": "delete", "inverted": true }
                ]
            }],
            "identities": [{
                "name": "ci",
                "id": "x",
                "roles": ["no-access", { "role": "reader", "duration": "4h", "start": "2026-11-20T09:00:00Z" }],
                "privileges": [{
                    "slug": "deploy",
                    "duration": "1h",
                    "permissions": [{
                        "subject": "secrets",
                        "action": "readValue",
                        "conditions": { "environment": { "$eq": "prod" }, "secretPath": { "$glob": "/a/*" } }
                    }]
                }]
            }],
            "users": [{ "email": "alice@example.com", "roles": ["admin"] }],
            "accessPolicies": [{
                "name": "prod",
                "environment": "prod",
                "secretPath": "/",
                "steps": [
                    { "approvals": 1, "approvers": [{ "type": "user", "username": "alice@example.com" }] },
                    { "approvals": 2, "approvers": [{ "type": "group", "id": "g" }] }
                ]
            }],
            "secretPolicies": [{ "name": "changes", "environments": ["prod"], "approvals": 1 }]
        });
        assert_eq!(json(text), expected);
    }

    #[test]
    fn elem_match_fields_keep_their_names() {
        let text = r#"role "r" {
  permission {
    subject = "secrets"
    action  = "readValue"
    conditions {
      secretTags = { elemMatch = { key = { eq = "team" }, value = { in = ["a"] } } }
    }
  }
}"#;
        let value = json(text);
        assert_eq!(
            value["roles"][0]["permissions"][0]["conditions"]["secretTags"],
            serde_json::json!({ "$elemMatch": { "key": { "$eq": "team" }, "value": { "$in": ["a"] } } })
        );
    }

    #[test]
    fn dollar_keys_and_templates_pass_through() {
        let text = r#"role "r" {
  permission {
    subject = "secrets"
    action  = "readValue"
    conditions {
      secretPath = { "$glob" = "/users/{{identity.id}}/**" }
    }
  }
}"#;
        let value = json(text);
        assert_eq!(
            value["roles"][0]["permissions"][0]["conditions"]["secretPath"],
            serde_json::json!({ "$glob": "/users/{{identity.id}}/**" })
        );
    }

    #[test]
    fn spans_point_at_the_source() {
        let text = "role \"reader\" {\n  permission {\n    subject = \"secrets\"\n    action = -1\n  }\n}\n";
        let parse = parsed(text);
        let root = parse.root.unwrap();
        let roles = &root.get("roles").unwrap();
        assert_eq!(slice(text, roles.key_span), "role");
        let role = &roles.value.as_seq().unwrap()[0];
        assert!(slice(text, role.span).starts_with("role \"reader\" {"));
        let slug = role.get("slug").unwrap();
        assert_eq!(slice(text, slug.value.span), "\"reader\"");
        let permission = &role.get("permissions").unwrap().value.as_seq().unwrap()[0];
        let subject = permission.get("subject").unwrap();
        assert_eq!(slice(text, subject.key_span), "subject");
        assert_eq!(slice(text, subject.value.span), "\"secrets\"");
        assert_eq!(permission.get("action").unwrap().value.kind, NodeKind::Number("-1".into()));
    }

    #[test]
    fn syntax_errors_point_at_the_place() {
        let text = "role \"reader\" {\n  permission {\n    subject = \"secrets\"\n";
        let parse = parsed(text);
        assert!(parse.root.is_none());
        assert_eq!(parse.diagnostics.len(), 1);
        assert_eq!(parse.diagnostics[0].code, Code::SyntaxError);
        assert!(parse.diagnostics[0].primary.span.start as usize <= text.len());
    }

    #[test]
    fn non_literal_syntax_is_refused() {
        assert_eq!(codes("project \"p\" {\n  environments = var.envs\n}\n"), ["PC0003"]);
        assert_eq!(codes("project \"p\" {\n  id = \"a-${local.x}\"\n}\n"), ["PC0003"]);
        assert_eq!(codes("project \"p\" {\n  id = lower(\"X\")\n}\n"), ["PC0003"]);
        assert_eq!(codes("project \"p\" {\n  id = true ? \"a\" : \"b\"\n}\n"), ["PC0003"]);
        assert_eq!(codes("project \"p\" {\n  environments = [for e in [\"a\"] : e]\n}\n"), ["PC0003"]);
        assert_eq!(codes("project \"p\" {\n  id = 1 + 2\n}\n"), ["PC0003"]);
        assert_eq!(codes("project \"p\" {\n  id = x\n}\n"), ["PC0003"]);
        assert_eq!(codes("project \"p\" {\n  id = glob(\"a\", \"b\")\n}\n"), ["PC1002"]);
    }

    #[test]
    fn duplicates_keep_the_first() {
        let text = "role \"r\" {\n  name = \"a\"\n  name = \"b\"\n}\n";
        let parse = parsed(text);
        assert_eq!(parse.diagnostics.len(), 1);
        let diagnostic = &parse.diagnostics[0];
        assert_eq!(diagnostic.code, Code::DuplicateKey);
        assert_eq!(slice(text, diagnostic.primary.span), "name");
        assert_eq!(diagnostic.primary.span.start, 26);
        assert_eq!(diagnostic.secondary[0].span.start, 13);
        let root = parse.root.unwrap().to_json();
        assert_eq!(root["roles"][0]["name"], "a");

        assert_eq!(codes("role \"r\" {\n  slug = \"x\"\n}\n"), ["PC0004"]);
        assert_eq!(
            codes("role \"r\" {\n  a = 1\n  a = 2\n  a = 3\n  b = 1\n  b = 2\n}\n"),
            ["PC0004", "PC0004", "PC0004"]
        );
        assert_eq!(codes("role \"r\" {\n  permission {\n    conditions {}\n    conditions {}\n  }\n}\n"), ["PC0004"]);
        assert_eq!(codes("project \"p\" {\n  x = { a = 1, a = 2 }\n}\n"), ["PC0004"]);
    }

    #[test]
    fn attributes_and_blocks_of_one_list_merge() {
        let text = "user \"a@b.c\" {\n  role \"x\" {\n    duration = \"1h\"\n  }\n  roles = [\"viewer\"]\n}\n";
        assert_eq!(json(text)["users"][0]["roles"], serde_json::json!([{ "role": "x", "duration": "1h" }, "viewer"]));
    }

    #[test]
    fn unknown_blocks_and_labels() {
        let parse = parsed("rolle \"reader\" {\n}\n");
        assert_eq!(parse.diagnostics[0].code, Code::UnknownField);
        assert_eq!(parse.diagnostics[0].help.as_deref(), Some("did you mean `role`?"));
        assert_eq!(codes("role {\n}\n"), ["PC1003"]);
        assert_eq!(codes("role \"a\" \"b\" {\n}\n"), ["PC1001"]);
        assert_eq!(codes("role \"a\" {\n  permission \"x\" {\n  }\n}\n"), ["PC1001"]);
        assert_eq!(codes("secret_policy \"a\" {\n  step {\n  }\n}\n"), ["PC1001"]);
    }

    #[test]
    fn comments_are_collected() {
        let text = "# one\nrole \"a#b\" { // two\n  /* three */ name = \"x//y\"\n}\n";
        let parse = parsed(text);
        let texts: Vec<&str> = parse.comments.iter().map(|it| it.text.as_str()).collect();
        assert_eq!(texts, [" one", " two", " three "]);
        assert_eq!(slice(text, parse.comments[1].span), "// two");
    }

    #[test]
    fn empty_files_have_no_document() {
        assert!(parsed("").root.is_none());
        assert!(parsed("# just a comment\n").root.is_none());
        assert!(parsed("").diagnostics.is_empty());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("project \"p\" {{\n  x = {}1{}\n}}\n", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(codes(&text), ["PC0001"]);
        let text = format!("{}{}", "a {\n".repeat(5_000), "}\n".repeat(5_000));
        assert!(!codes(&text).is_empty());
    }

    #[test]
    fn heredocs_without_interpolation_are_strings() {
        let text = "role \"r\" {\n  description = <<EOT\nline # not a comment\nEOT\n}\n";
        let parse = parsed(text);
        assert!(parse.comments.is_empty());
        assert_eq!(parse.root.unwrap().to_json()["roles"][0]["description"], "line # not a comment\n");
    }
}
