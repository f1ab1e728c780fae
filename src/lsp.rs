//! `permc lsp`: a language server over standard input and output (JSON-RPC 2.0 with `Content-Length`
//! framing, LSP 3.17), for HCL and YAML policy files.
//!
//! The whole repository is held in a [`Workspace`]: an edit re-runs the per-file stages for the edited file
//! only and the project checks for the project, so a change in one file updates the diagnostics of every
//! file that depends on it (a role renamed in one file, its assignments in another). Check diagnostics are
//! published on every change; the lints, which judge the whole repository, on open and on save, on a thread
//! of their own, so that edits are answered while they run. Positions are UTF-16 code units, as LSP
//! requires. Only files whose diagnostics changed are published again.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Sender, channel};

use serde::Serialize;
use serde_json::{Value, json};

use crate::catalog::Catalog;
use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::source::{FileId, SourceDb, Span};
use crate::workspace::{self, LintInput, Workspace};

/// Reads one message; `None` at the end of input.
fn read_message(input: &mut impl BufRead) -> std::io::Result<Option<Value>> {
    let mut length: Option<usize> = None;
    loop {
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok();
        }
    }
    let Some(length) = length else {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "a message without Content-Length"));
    };
    if length > crate::syntax::MAX_FILE_BYTES * 2 {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("a message of {length} bytes")));
    }
    let mut body = vec![0; length];
    input.read_exact(&mut body)?;
    serde_json::from_slice(&body).map(Some).map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidData, error))
}

fn write_message(output: &mut impl Write, body: &str) -> std::io::Result<()> {
    write!(output, "Content-Length: {}\r\n\r\n{body}", body.len())?;
    output.flush()
}

/// `file:///a%20b/c.yaml` to `/a b/c.yaml`.
pub fn path_of(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' && at + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(std::str::from_utf8(&bytes[at + 1..at + 3]).ok()?, 16) {
                out.push(byte);
                at += 3;
                continue;
            }
        }
        out.push(bytes[at]);
        at += 1;
    }
    Some(PathBuf::from(String::from_utf8(out).ok()?))
}

/// `/a b/c.yaml` to `file:///a%20b/c.yaml`.
pub fn uri_of(path: &Path) -> String {
    let mut out = String::from("file://");
    for byte in path.to_string_lossy().bytes() {
        if byte.is_ascii_alphanumeric() || b"/-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// An LSP position: a line and a UTF-16 column.
#[derive(Serialize)]
struct Position {
    line: u32,
    character: u32,
}

#[derive(Serialize)]
struct Range {
    start: Position,
    end: Position,
}

fn range(db: &SourceDb, file: FileId, span: Span) -> Range {
    let source = db.get(file);
    let (line, character) = source.lines.utf16_position(&source.text, span.start);
    let (end_line, end_character) = source.lines.utf16_position(&source.text, span.end);
    Range { start: Position { line, character }, end: Position { line: end_line, character: end_character } }
}

/// A diagnostic as LSP publishes it.
#[derive(Serialize)]
struct LspDiagnostic<'d> {
    range: Range,
    severity: u8,
    code: &'static str,
    source: &'static str,
    message: String,
    #[serde(rename = "relatedInformation")]
    related: Vec<Related<'d>>,
}

#[derive(Serialize)]
struct Related<'d> {
    location: Location,
    message: &'d str,
}

#[derive(Serialize)]
struct Location {
    uri: String,
    range: Range,
}

fn lsp_diagnostic(db: &SourceDb, diagnostic: &Diagnostic) -> Value {
    let form = lsp_form(db, diagnostic, &|file| uri_of(&db.get(file).path));
    // A value of plain structs, strings and numbers always converts.
    serde_json::to_value(form).unwrap_or(Value::Null)
}

/// The LSP form of `diagnostic`, with the URI of each file from `uri`.
fn lsp_form<'d>(db: &SourceDb, diagnostic: &'d Diagnostic, uri: &dyn Fn(FileId) -> String) -> LspDiagnostic<'d> {
    let severity = match diagnostic.severity {
        Severity::Error => 1,
        Severity::Warning => 2,
        Severity::Info => 3,
    };
    let mut message = diagnostic.message.clone();
    if !diagnostic.primary.message.is_empty() {
        message.push_str(": ");
        message.push_str(&diagnostic.primary.message);
    }
    if let Some(help) = &diagnostic.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related = diagnostic
        .secondary
        .iter()
        .map(|label| Related {
            location: Location { uri: uri(label.file), range: range(db, label.file, label.span) },
            message: &label.message,
        })
        .collect();
    LspDiagnostic {
        range: range(db, diagnostic.primary.file, diagnostic.primary.span),
        severity,
        code: diagnostic.code.id(),
        source: "permc",
        message,
        related,
    }
}

/// What the server waits for.
enum Event {
    Message(Value),
    /// The findings of a lint run.
    Linted(Findings),
    /// A lint run that stopped before its end (a defect of permc), and why.
    LintsFailed(String),
    /// The end of the input, or why it could not be read.
    End(Option<std::io::Error>),
}

/// A lint run in progress.
#[derive(Default)]
struct Linting {
    /// Files edited since the run took its input: its findings that point into them are stale.
    edited: HashSet<FileId>,
    /// Whether a save came in meanwhile: another run follows this one.
    again: bool,
    /// `permc/sync` requests (their ids) to answer once the lints are done.
    waiting: Vec<Value>,
}

/// The lint findings of one file with their LSP form (JSON text), and a fingerprint of that form (whether
/// a file must be published again is then a comparison of two numbers, not of every finding).
#[derive(Default)]
struct FileLints {
    found: Vec<(Diagnostic, String)>,
    fingerprint: u64,
}

impl FileLints {
    /// Computes the fingerprint again after `found` changed.
    fn seal(&mut self) {
        use std::hash::Hasher;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for (_, text) in &self.found {
            hasher.write(text.as_bytes());
            hasher.write_u8(0);
        }
        self.fingerprint = if self.found.is_empty() { NO_LINTS } else { hasher.finish() };
    }
}

/// The fingerprint of a file without lint findings.
const NO_LINTS: u64 = 0;

/// The findings of a lint run by file, and for each file the files whose findings point into it.
#[derive(Default)]
struct Findings {
    by_file: HashMap<FileId, FileLints>,
    pointing: HashMap<FileId, HashSet<FileId>>,
}

/// The findings of the lints over `input`, in their LSP form.
fn lints(catalog: &Catalog, input: LintInput, now_ms: i64) -> Findings {
    let (db, found) = input.lints(catalog, &crate::lint::Options { now_ms });
    let uris: Vec<String> = db.iter().map(|(_, file)| uri_of(&file.path)).collect();
    let mut findings = Findings::default();
    for diagnostic in found {
        // Plain structs, strings and numbers always serialize.
        let text = serde_json::to_string(&lsp_form(&db, &diagnostic, &|file| uris[file.0 as usize].clone()))
            .unwrap_or_default();
        let file = diagnostic.primary.file;
        for label in std::iter::once(&diagnostic.primary).chain(&diagnostic.secondary) {
            findings.pointing.entry(label.file).or_default().insert(file);
        }
        findings.by_file.entry(file).or_default().found.push((diagnostic, text));
    }
    findings.by_file.values_mut().for_each(FileLints::seal);
    findings
}

/// The server's state.
struct Server {
    catalog: &'static Catalog,
    workspace: Workspace,
    /// Where lint runs report.
    events: Sender<Event>,
    linting: Option<Linting>,
    /// The lint findings of the last run by file (those that point into files edited since are withdrawn).
    lints: HashMap<FileId, FileLints>,
    /// For each file, the files whose lint findings point into it.
    pointing: HashMap<FileId, HashSet<FileId>>,
    /// What was last published for each file (its check diagnostics and the fingerprint of its lint
    /// findings), and the files that had check diagnostics then.
    published: HashMap<FileId, (Vec<Value>, u64)>,
    checked: HashSet<FileId>,
    shutdown: bool,
}

impl Server {
    fn new(catalog: &'static Catalog, events: Sender<Event>) -> Server {
        Server {
            catalog,
            workspace: Workspace::default(),
            events,
            linting: None,
            lints: HashMap::new(),
            pointing: HashMap::new(),
            published: HashMap::new(),
            checked: HashSet::new(),
            shutdown: false,
        }
    }

    fn load(&mut self, root: &Path) {
        let files: Vec<(PathBuf, Vec<u8>)> = workspace::discover(root)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|path| Some((path.clone(), std::fs::read(&path).ok()?)))
            .collect();
        self.workspace = Workspace::new(files, self.catalog);
    }

    /// Starts a lint run on a thread of its own over the workspace as it is now, or, when one is running,
    /// another after it. What is published comes from [`Server::linted`].
    fn start_lints(&mut self) -> Vec<String> {
        if let Some(running) = &mut self.linting {
            running.again = true;
            return Vec::new();
        }
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|it| it.as_millis() as i64)
            .unwrap_or_default();
        let (catalog, input, events) = (self.catalog, self.workspace.lint_input(), self.events.clone());
        self.linting = Some(Linting::default());
        let spawned = std::thread::Builder::new().name("permc-lints".into()).spawn(move || {
            // Edits come first: this thread and the threads it starts yield the processor to them. Its
            // parallel work goes to threads of its own (started from here), not to the global pool the
            // edits use.
            crate::process::yield_to_foreground();
            let run = move || match rayon::ThreadPoolBuilder::new().build() {
                Ok(pool) => pool.install(|| lints(catalog, input, now_ms)),
                Err(_) => lints(catalog, input, now_ms),
            };
            // A run that stops half way must still be reported, or the server would wait for it forever.
            let event = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
                Ok(found) => Event::Linted(found),
                Err(panic) => Event::LintsFailed(
                    panic
                        .downcast_ref::<&str>()
                        .map(|it| it.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default(),
                ),
            };
            // The server may have stopped meanwhile; then nobody waits for the findings.
            let _ = events.send(event);
        });
        match spawned {
            Ok(_) => Vec::new(),
            // Without a thread (the system refused one), the lints run here.
            Err(_) => {
                let found = lints(self.catalog, self.workspace.lint_input(), now_ms);
                self.linted(found)
            }
        }
    }

    /// Takes the findings of the lint run that just ended (leaving out those that point into files edited
    /// while it ran: they refer to old text, and the next save judges them again), publishes what changed,
    /// and starts the run a save asked for meanwhile or answers the `permc/sync` requests that waited.
    fn linted(&mut self, findings: Findings) -> Vec<String> {
        let Linting { edited, again, waiting } = self.linting.take().unwrap_or_default();
        let old = (
            std::mem::replace(&mut self.lints, findings.by_file),
            std::mem::replace(&mut self.pointing, findings.pointing),
        );
        // The last run's findings are many small values: they are freed on another thread (or here, when
        // the system has none to give).
        let _ = std::thread::Builder::new().spawn(move || drop(old));
        for file in edited {
            self.withdraw(file);
        }
        let out = self.publish(None);
        self.next_run(again, waiting, out)
    }

    /// Says that a lint run stopped before its end; the findings of the last run that ended stay (less
    /// those withdrawn since).
    fn lints_failed(&mut self, why: &str) -> Vec<String> {
        let Linting { again, waiting, .. } = self.linting.take().unwrap_or_default();
        let why = if why.is_empty() { String::new() } else { format!(" ({why})") };
        let message = format!(
            "permc: the lints stopped before their end{why}; the check diagnostics are current, the lint findings are those of the last run that ended; please report it"
        );
        let shown =
            json!({ "jsonrpc": "2.0", "method": "window/showMessage", "params": { "type": 1, "message": message } });
        self.next_run(again, waiting, vec![shown.to_string()])
    }

    /// After a run: starts the one a save asked for meanwhile (the `permc/sync` requests then wait for it),
    /// or answers them.
    fn next_run(&mut self, again: bool, waiting: Vec<Value>, mut out: Vec<String>) -> Vec<String> {
        if again {
            out.extend(self.start_lints());
            if let Some(next) = &mut self.linting {
                next.waiting = waiting;
                return out;
            }
            // The next run ended in place: its answers are out, these follow.
        }
        out.extend(waiting.into_iter().map(|id| json!({ "jsonrpc": "2.0", "id": id, "result": null }).to_string()));
        out
    }

    /// Withdraws the lint findings that point into `file`, whose text changed; returns the files whose
    /// findings changed.
    fn withdraw(&mut self, file: FileId) -> HashSet<FileId> {
        let mut touched = HashSet::new();
        for other in self.pointing.remove(&file).unwrap_or_default() {
            if let Some(list) = self.lints.get_mut(&other) {
                list.found
                    .retain(|(it, _)| it.primary.file != file && it.secondary.iter().all(|label| label.file != file));
                list.seal();
                touched.insert(other);
            }
        }
        touched
    }

    /// Every current diagnostic of `file`.
    fn current(&self, file: FileId) -> Vec<Diagnostic> {
        let mut all: Vec<Diagnostic> =
            self.workspace.diagnostics(self.catalog).into_iter().filter(|it| it.primary.file == file).collect();
        all.extend(self.lints.get(&file).into_iter().flat_map(|it| &it.found).map(|(it, _)| it.clone()));
        all
    }

    /// The `publishDiagnostics` notifications for the files whose diagnostics changed: those with check
    /// diagnostics now or at the last publication, and `touched` (whose lint findings changed; `None`:
    /// every file).
    fn publish(&mut self, touched: Option<&HashSet<FileId>>) -> Vec<String> {
        let db = &self.workspace.db;
        let mut checks: HashMap<FileId, Vec<Value>> = HashMap::new();
        for diagnostic in self.workspace.diagnostics(self.catalog) {
            checks.entry(diagnostic.primary.file).or_default().push(lsp_diagnostic(db, &diagnostic));
        }
        let candidates: Vec<FileId> = match touched {
            None => db.iter().map(|(id, _)| id).collect(),
            Some(touched) => {
                let mut all: HashSet<FileId> = checks.keys().copied().collect();
                all.extend(self.checked.iter().copied());
                all.extend(touched.iter().copied());
                let mut all: Vec<FileId> = all.into_iter().collect();
                all.sort();
                all
            }
        };
        self.checked = checks.keys().copied().collect();
        let mut out = Vec::new();
        for id in candidates {
            let checks = checks.remove(&id).unwrap_or_default();
            let lints = self.lints.get(&id);
            let fingerprint = lints.map_or(NO_LINTS, |it| it.fingerprint);
            if self.published.get(&id).is_some_and(|(before, print)| *print == fingerprint && *before == checks) {
                continue;
            }
            // The lint findings are JSON text already: the notification is written around them.
            let mut body =
                String::from(r#"{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{"uri":"#);
            body.push_str(&Value::String(uri_of(&db.get(id).path)).to_string());
            body.push_str(r#","diagnostics":["#);
            for value in &checks {
                body.push_str(&value.to_string());
                body.push(',');
            }
            for (_, text) in lints.into_iter().flat_map(|it| &it.found) {
                body.push_str(text);
                body.push(',');
            }
            if body.ends_with(',') {
                body.pop();
            }
            body.push_str("]}}");
            out.push(body);
            self.published.insert(id, (checks, fingerprint));
        }
        out
    }

    fn file_of(&self, uri: &str) -> Option<FileId> {
        let path = path_of(uri)?;
        self.workspace.db.iter().find(|(_, file)| file.path == path).map(|(id, _)| id)
    }

    fn change(&mut self, uri: &str, text: &str) -> Vec<String> {
        let Some(path) = path_of(uri) else { return Vec::new() };
        if crate::syntax::Format::of_path(&path).is_none() {
            return Vec::new();
        }
        let id = self.workspace.update(&path, text.as_bytes().to_vec(), self.catalog);
        if let Some(running) = &mut self.linting {
            running.edited.insert(id);
        }
        // Lint findings that point into the edited file refer to its old text; the others stay until the
        // next save judges the repository again.
        let mut touched = self.withdraw(id);
        touched.insert(id);
        self.publish(Some(&touched))
    }

    /// The file and byte offset of a `textDocument` + `position` request.
    fn position(&self, params: &Value) -> Option<(FileId, u32)> {
        let file = self.file_of(params.pointer("/textDocument/uri")?.as_str()?)?;
        let source = self.workspace.db.get(file);
        let line = params.pointer("/position/line")?.as_u64()? as u32;
        let character = params.pointer("/position/character")?.as_u64()? as u32;
        Some((file, source.lines.offset_of_utf16(&source.text, line, character)))
    }

    fn hover(&self, params: &Value) -> Value {
        let Some((file, offset)) = self.position(params) else { return Value::Null };
        let Some(root) = self.workspace.tree(file) else { return Value::Null };
        match crate::lsp_assist::hover(self.catalog, &root, offset) {
            Some(text) => json!({ "contents": { "kind": "markdown", "value": text } }),
            None => Value::Null,
        }
    }

    fn completion(&self, params: &Value) -> Value {
        let Some((file, offset)) = self.position(params) else { return json!([]) };
        let text = &self.workspace.db.get(file).text;
        let items = crate::lsp_assist::complete(self.catalog, &self.workspace.project, text, offset as usize);
        json!({ "isIncomplete": false, "items": items })
    }

    fn code_actions(&self, params: &Value) -> Value {
        let Some(file) = params.pointer("/textDocument/uri").and_then(Value::as_str).and_then(|it| self.file_of(it))
        else {
            return json!([]);
        };
        let db = &self.workspace.db;
        let source = db.get(file);
        let uri = uri_of(&source.path);
        let line_of = |key: &str| params.pointer(key).and_then(Value::as_u64).unwrap_or(0) as usize;
        let (first, last) = (line_of("/range/start/line"), line_of("/range/end/line"));
        let mut actions = Vec::new();
        for diagnostic in &self.current(file) {
            let (line, _) = source.lines.utf16_position(&source.text, diagnostic.primary.span.start);
            if (line as usize) < first || (line as usize) > last {
                continue;
            }
            if let Some(fix) = &diagnostic.fix {
                let edits: Vec<Value> = fix
                    .edits
                    .iter()
                    .filter(|edit| edit.file == file)
                    .map(|edit| {
                        json!({
                            "range": range(db, file, edit.span),
                            "newText": crate::fix::in_style(&source.text[edit.span.range()], &edit.replacement),
                        })
                    })
                    .collect();
                actions.push(json!({
                    "title": fix.title,
                    "kind": "quickfix",
                    "isPreferred": fix.applicability == Applicability::Safe,
                    "diagnostics": [lsp_diagnostic(db, diagnostic)],
                    "edit": { "changes": { uri.clone(): edits } },
                }));
            }
            if diagnostic.code.is_lint() {
                // A suppression on the line above, with the indentation of the finding's line.
                let start = source.lines.line_start(line as usize) as usize;
                let indent: String = source.text[start..].chars().take_while(|c| *c == ' ' || *c == '\t').collect();
                let text = format!("{indent}# permc:ignore {} -- reason\n", diagnostic.code.name());
                actions.push(json!({
                    "title": format!("ignore `{}` here (with a reason)", diagnostic.code.name()),
                    "kind": "quickfix",
                    "diagnostics": [lsp_diagnostic(db, diagnostic)],
                    "edit": { "changes": { uri.clone(): [{
                        "range": { "start": { "line": line, "character": 0 }, "end": { "line": line, "character": 0 } },
                        "newText": text,
                    }] } },
                }));
            }
        }
        Value::Array(actions)
    }

    /// Handles one message; returns the messages to send.
    fn handle(&mut self, message: &Value) -> Vec<String> {
        let method = message.get("method").and_then(Value::as_str).unwrap_or_default();
        let id = message.get("id").cloned();
        let params = message.get("params").cloned().unwrap_or(Value::Null);
        let reply = |result: Value| json!({ "jsonrpc": "2.0", "id": id, "result": result }).to_string();
        match method {
            "initialize" => {
                let root = params
                    .get("rootUri")
                    .and_then(Value::as_str)
                    .or_else(|| params.pointer("/workspaceFolders/0/uri").and_then(Value::as_str))
                    .and_then(path_of)
                    .or_else(|| params.get("rootPath").and_then(Value::as_str).map(PathBuf::from));
                if let Some(root) = root {
                    self.load(&root);
                }
                vec![reply(json!({
                    "capabilities": {
                        "positionEncoding": "utf-16",
                        "textDocumentSync": { "openClose": true, "change": 1, "save": { "includeText": false } },
                        "codeActionProvider": { "codeActionKinds": ["quickfix"] },
                        "hoverProvider": true,
                        "completionProvider": { "triggerCharacters": ["\"", " ", "$", "[", "{"] },
                    },
                    "serverInfo": { "name": "permc", "version": env!("CARGO_PKG_VERSION") },
                }))]
            }
            "initialized" => {
                // The check diagnostics now, the lint findings when the lints are done.
                let mut out = self.publish(None);
                out.extend(self.start_lints());
                out
            }
            "textDocument/didOpen" => {
                let uri = params.pointer("/textDocument/uri").and_then(Value::as_str).unwrap_or_default().to_owned();
                let text = params.pointer("/textDocument/text").and_then(Value::as_str).unwrap_or_default().to_owned();
                // The lints ran when the server started and run again on save.
                self.change(&uri, &text)
            }
            "textDocument/didChange" => {
                let uri = params.pointer("/textDocument/uri").and_then(Value::as_str).unwrap_or_default().to_owned();
                // Full synchronisation: the last change holds the whole text.
                let text = params
                    .get("contentChanges")
                    .and_then(Value::as_array)
                    .and_then(|it| it.last())
                    .and_then(|it| it.get("text"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                self.change(&uri, &text)
            }
            "textDocument/didSave" => self.start_lints(),
            // Answered once every message before it is handled and no lint run is left: what the server
            // publishes for them is then out (editors do not send it; tests and benchmarks do).
            "permc/sync" => match &mut self.linting {
                Some(running) => {
                    running.waiting.extend(id);
                    Vec::new()
                }
                None => vec![reply(Value::Null)],
            },
            "textDocument/codeAction" => vec![reply(self.code_actions(&params))],
            "textDocument/hover" => vec![reply(self.hover(&params))],
            "textDocument/completion" => vec![reply(self.completion(&params))],
            "shutdown" => {
                self.shutdown = true;
                vec![reply(Value::Null)]
            }
            _ if id.is_some() => vec![
                json!({
                    "jsonrpc": "2.0",
                    "id": id,
                    "error": { "code": -32601, "message": format!("permc does not handle `{method}`") },
                })
                .to_string(),
            ],
            // Notifications it does not handle (didClose, $/cancelRequest, ...) need no answer.
            _ => Vec::new(),
        }
    }
}

/// Serves until `exit`. Returns the process exit code: 0 after `shutdown`, 1 otherwise (as LSP says).
///
/// Messages are read on a thread of their own and handled in order; lint runs report on the same queue,
/// so their findings are published as soon as they are done, between two messages.
pub fn serve(
    catalog: &'static Catalog,
    input: &mut (impl BufRead + Send),
    output: &mut impl Write,
) -> std::io::Result<u8> {
    let (events, queue) = channel();
    let mut server = Server::new(catalog, events.clone());
    std::thread::scope(|scope| {
        scope.spawn(move || {
            loop {
                let event = match read_message(input) {
                    Ok(Some(message)) => {
                        let exit = message.get("method").and_then(Value::as_str) == Some("exit");
                        let sent = events.send(Event::Message(message));
                        if exit || sent.is_err() {
                            return;
                        }
                        continue;
                    }
                    Ok(None) => Event::End(None),
                    Err(error) => Event::End(Some(error)),
                };
                let _ = events.send(event);
                return;
            }
        });
        // The reader ends at `exit` or at the end of the input, so the scope does not wait on it after
        // either; a lint run still going is left behind.
        while let Ok(event) = queue.recv() {
            let replies = match event {
                Event::Message(message) => {
                    if message.get("method").and_then(Value::as_str) == Some("exit") {
                        break;
                    }
                    server.handle(&message)
                }
                Event::Linted(found) => server.linted(found),
                Event::LintsFailed(why) => server.lints_failed(&why),
                Event::End(Some(error)) => return Err(error),
                Event::End(None) => break,
            };
            for reply in replies {
                write_message(output, &reply)?;
            }
        }
        Ok(if server.shutdown { 0 } else { 1 })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification(method: &str, params: Value) -> Value {
        json!({ "jsonrpc": "2.0", "method": method, "params": params })
    }

    /// The codes published for `uri` in `messages`, the last publication of it.
    fn published(messages: &[String], uri: &str) -> Option<Vec<String>> {
        let messages: Vec<Value> = messages.iter().map(|it| serde_json::from_str(it).unwrap()).collect();
        let last = messages.iter().rev().find(|it| it["params"]["uri"] == uri)?;
        let codes = last["params"]["diagnostics"].as_array()?.iter().map(|it| it["code"].to_string());
        Some(codes.collect())
    }

    #[test]
    fn a_run_leaves_out_files_edited_while_it_ran_and_a_save_meanwhile_runs_the_lints_again() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/payments");
        let (users, identities) = (uri_of(&root.join("users.hcl")), uri_of(&root.join("identities.yaml")));
        let (events, queue) = channel();
        let mut server = Server::new(Catalog::builtin(), events);
        let init = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "rootUri": uri_of(&root) } });
        server.handle(&init);
        // The first run starts; an edit and a save come in before it ends.
        server.handle(&notification("initialized", json!({})));
        let text = std::fs::read_to_string(root.join("users.hcl")).unwrap() + "# edited\n";
        let change = json!({ "textDocument": { "uri": users }, "contentChanges": [{ "text": text }] });
        server.handle(&notification("textDocument/didChange", change));
        server.handle(&notification("textDocument/didSave", json!({ "textDocument": { "uri": users } })));
        let Ok(Event::Linted(found)) = queue.recv() else { panic!("no findings") };
        // Both files have expired temporary grants (`PC2009`); the edited file's findings are stale.
        assert!(found.by_file.contains_key(&server.file_of(&users).unwrap()));
        let out = server.linted(found);
        assert_eq!(published(&out, &identities), Some(vec!["\"PC2009\"".to_owned()]));
        assert_eq!(published(&out, &users), None, "{out:?}");
        assert!(server.linting.is_some(), "the save asked for another run");
        // A sync waits for that run; its findings cover the edited file again.
        assert!(server.handle(&json!({ "jsonrpc": "2.0", "id": 2, "method": "permc/sync" })).is_empty());
        let Ok(Event::Linted(found)) = queue.recv() else { panic!("no findings") };
        let out = server.linted(found);
        assert_eq!(published(&out, &users), Some(vec!["\"PC2009\"".to_owned(); 2]));
        assert_eq!(published(&out, &identities), None, "unchanged, so not published again");
        assert_eq!(serde_json::from_str::<Value>(out.last().unwrap()).unwrap()["id"], 2);
        assert!(server.linting.is_none());
        assert_eq!(server.handle(&json!({ "jsonrpc": "2.0", "id": 3, "method": "permc/sync" })).len(), 1);
    }

    #[test]
    fn a_run_that_stops_half_way_is_said_and_waits_for_nothing() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/payments");
        let (events, queue) = channel();
        let mut server = Server::new(Catalog::builtin(), events);
        let init = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "rootUri": uri_of(&root) } });
        server.handle(&init);
        server.handle(&notification("initialized", json!({})));
        let Ok(Event::Linted(found)) = queue.recv() else { panic!("no findings") };
        server.linted(found);
        // A save, a sync waiting for its run, and the run stops.
        server.handle(&notification("textDocument/didSave", json!({})));
        assert!(server.handle(&json!({ "jsonrpc": "2.0", "id": 2, "method": "permc/sync" })).is_empty());
        let _ = queue.recv();
        let out: Vec<Value> =
            server.lints_failed("a defect").iter().map(|it| serde_json::from_str(it).unwrap()).collect();
        assert_eq!(out[0]["method"], "window/showMessage");
        assert!(out[0]["params"]["message"].as_str().unwrap().contains("(a defect)"), "{out:?}");
        assert_eq!(out[1]["id"], 2);
        // The findings of the last run that ended stay; the next save runs the lints again.
        assert!(server.lints.values().any(|it| !it.found.is_empty()));
        assert!(server.handle(&notification("textDocument/didSave", json!({}))).is_empty());
        assert!(server.linting.is_some());
        let Ok(Event::Linted(found)) = queue.recv() else { panic!("no findings") };
        server.linted(found);
    }

    #[test]
    fn uris_and_paths_round_trip() {
        for path in ["/a/b.yaml", "/with space/ü/c.hcl", "/x%y/z.yml"] {
            assert_eq!(path_of(&uri_of(Path::new(path))).unwrap(), PathBuf::from(path), "{path}");
        }
        assert_eq!(path_of("file:///a%20b/c.yaml").unwrap(), PathBuf::from("/a b/c.yaml"));
        assert!(path_of("untitled:1").is_none());
    }
}
