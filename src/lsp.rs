//! `permc lsp`: a language server over standard input and output (JSON-RPC 2.0 with `Content-Length`
//! framing, LSP 3.17), for HCL and YAML policy files.
//!
//! The whole repository is held in a [`Workspace`]: an edit re-runs the per-file stages for the edited file
//! only and the project checks for the project, so a change in one file updates the diagnostics of every
//! file that depends on it (a role renamed in one file, its assignments in another). Check diagnostics are
//! published on every change; the lints, which judge the whole repository, on open and on save. Positions
//! are UTF-16 code units, as LSP requires. Only files whose diagnostics changed are published again.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::catalog::Catalog;
use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::source::{FileId, SourceDb, Span};
use crate::workspace::{self, Workspace};

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

fn write_message(output: &mut impl Write, message: &Value) -> std::io::Result<()> {
    let body = message.to_string();
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

fn range(db: &SourceDb, file: FileId, span: Span) -> Value {
    let source = db.get(file);
    let (line, character) = source.lines.utf16_position(&source.text, span.start);
    let (end_line, end_character) = source.lines.utf16_position(&source.text, span.end);
    json!({
        "start": { "line": line, "character": character },
        "end": { "line": end_line, "character": end_character },
    })
}

fn lsp_diagnostic(db: &SourceDb, diagnostic: &Diagnostic) -> Value {
    let severity = match diagnostic.severity {
        Severity::Error => 1,
        Severity::Warning => 2,
        Severity::Info => 3,
    };
    let mut message = diagnostic.message.clone();
    if !diagnostic.primary.message.is_empty() {
        message.push_str(&format!(": {}", diagnostic.primary.message));
    }
    if let Some(help) = &diagnostic.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<Value> = diagnostic
        .secondary
        .iter()
        .map(|label| {
            json!({
                "location": { "uri": uri_of(&db.get(label.file).path), "range": range(db, label.file, label.span) },
                "message": label.message,
            })
        })
        .collect();
    json!({
        "range": range(db, diagnostic.primary.file, diagnostic.primary.span),
        "severity": severity,
        "code": diagnostic.code.id(),
        "source": "permc",
        "message": message,
        "relatedInformation": related,
    })
}

/// The server's state.
pub struct Server<'c> {
    catalog: &'c Catalog,
    workspace: Workspace,
    /// The lint findings of the last run by file, each with its LSP form (those that point into files
    /// edited since are withdrawn).
    lints: HashMap<FileId, Vec<(Diagnostic, Value)>>,
    /// For each file, the files whose lint findings point into it.
    pointing: HashMap<FileId, HashSet<FileId>>,
    /// What was last published for each file, and the files that had check diagnostics then.
    published: HashMap<FileId, Vec<Value>>,
    checked: HashSet<FileId>,
    shutdown: bool,
}

impl<'c> Server<'c> {
    pub fn new(catalog: &'c Catalog) -> Server<'c> {
        Server {
            catalog,
            workspace: Workspace::default(),
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

    fn run_lints(&mut self) {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|it| it.as_millis() as i64)
            .unwrap_or_default();
        self.lints.clear();
        self.pointing.clear();
        for diagnostic in self.workspace.lints(self.catalog, &crate::lint::Options { now_ms }) {
            let value = lsp_diagnostic(&self.workspace.db, &diagnostic);
            let file = diagnostic.primary.file;
            for label in std::iter::once(&diagnostic.primary).chain(&diagnostic.secondary) {
                self.pointing.entry(label.file).or_default().insert(file);
            }
            self.lints.entry(file).or_default().push((diagnostic, value));
        }
    }

    /// Every current diagnostic of `file`.
    fn current(&self, file: FileId) -> Vec<Diagnostic> {
        let mut all: Vec<Diagnostic> =
            self.workspace.diagnostics(self.catalog).into_iter().filter(|it| it.primary.file == file).collect();
        all.extend(self.lints.get(&file).into_iter().flatten().map(|(it, _)| it.clone()));
        all
    }

    /// The `publishDiagnostics` notifications for the files whose diagnostics changed: those with check
    /// diagnostics now or at the last publication, and `touched` (whose lint findings changed; `None`:
    /// every file).
    fn publish(&mut self, touched: Option<&HashSet<FileId>>) -> Vec<Value> {
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
            let mut now = checks.remove(&id).unwrap_or_default();
            now.extend(self.lints.get(&id).into_iter().flatten().map(|(_, value)| value.clone()));
            if self.published.get(&id) != Some(&now) {
                out.push(json!({
                    "jsonrpc": "2.0",
                    "method": "textDocument/publishDiagnostics",
                    "params": { "uri": uri_of(&db.get(id).path), "diagnostics": now },
                }));
                self.published.insert(id, now);
            }
        }
        out
    }

    fn file_of(&self, uri: &str) -> Option<FileId> {
        let path = path_of(uri)?;
        self.workspace.db.iter().find(|(_, file)| file.path == path).map(|(id, _)| id)
    }

    fn change(&mut self, uri: &str, text: &str) -> Vec<Value> {
        let Some(path) = path_of(uri) else { return Vec::new() };
        if crate::syntax::Format::of_path(&path).is_none() {
            return Vec::new();
        }
        let id = self.workspace.update(&path, text.as_bytes().to_vec(), self.catalog);
        // Lint findings that point into the edited file refer to its old text; the others stay until the
        // next save judges the repository again.
        let mut touched: HashSet<FileId> = HashSet::from([id]);
        for file in self.pointing.remove(&id).unwrap_or_default() {
            if let Some(list) = self.lints.get_mut(&file) {
                list.retain(|(it, _)| it.primary.file != id && it.secondary.iter().all(|label| label.file != id));
                touched.insert(file);
            }
        }
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
    pub fn handle(&mut self, message: &Value) -> Vec<Value> {
        let method = message.get("method").and_then(Value::as_str).unwrap_or_default();
        let id = message.get("id").cloned();
        let params = message.get("params").cloned().unwrap_or(Value::Null);
        let reply = |result: Value| json!({ "jsonrpc": "2.0", "id": id, "result": result });
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
                self.run_lints();
                self.publish(None)
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
            "textDocument/didSave" => {
                self.run_lints();
                self.publish(None)
            }
            "textDocument/codeAction" => vec![reply(self.code_actions(&params))],
            "textDocument/hover" => vec![reply(self.hover(&params))],
            "textDocument/completion" => vec![reply(self.completion(&params))],
            "shutdown" => {
                self.shutdown = true;
                vec![reply(Value::Null)]
            }
            _ if id.is_some() => vec![json!({
                "jsonrpc": "2.0",
                "id": id,
                "error": { "code": -32601, "message": format!("permc does not handle `{method}`") },
            })],
            // Notifications it does not handle (didClose, $/cancelRequest, ...) need no answer.
            _ => Vec::new(),
        }
    }
}

/// Serves until `exit`. Returns the process exit code: 0 after `shutdown`, 1 otherwise (as LSP says).
pub fn serve(catalog: &Catalog, input: &mut impl BufRead, output: &mut impl Write) -> std::io::Result<u8> {
    let mut server = Server::new(catalog);
    while let Some(message) = read_message(input)? {
        if message.get("method").and_then(Value::as_str) == Some("exit") {
            return Ok(if server.shutdown { 0 } else { 1 });
        }
        for reply in server.handle(&message) {
            write_message(output, &reply)?;
        }
    }
    Ok(if server.shutdown { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_paths_round_trip() {
        for path in ["/a/b.yaml", "/with space/ü/c.hcl", "/x%y/z.yml"] {
            assert_eq!(path_of(&uri_of(Path::new(path))).unwrap(), PathBuf::from(path), "{path}");
        }
        assert_eq!(path_of("file:///a%20b/c.yaml").unwrap(), PathBuf::from("/a b/c.yaml"));
        assert!(path_of("untitled:1").is_none());
    }
}
