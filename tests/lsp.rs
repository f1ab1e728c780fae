//! `permc lsp` end to end: JSON-RPC over the real binary's standard input and output.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use permc::lsp::uri_of;
use serde_json::{Value, json};

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next: u64,
    /// Notifications seen while waiting for something else.
    pending: Vec<Value>,
    /// The last diagnostics published for each URI.
    published: std::collections::HashMap<String, Vec<Value>>,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_permc"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line.trim().is_empty() {
                        break;
                    }
                    if let Some(value) = line.trim().strip_prefix("Content-Length: ") {
                        length = value.parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                if sender.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        Client { child, stdin, messages, next: 1, pending: Vec::new(), published: Default::default() }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next;
        self.next += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.messages.recv_timeout(Duration::from_secs(30)).expect("an answer");
            if message.get("id") == Some(&json!(id)) {
                return message;
            }
            self.pending.push(message);
        }
    }

    /// The diagnostics of `uri` once the server has handled everything sent so far: a request is sent and
    /// answered after all earlier messages, so the last publication before its answer is the current one.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        self.request("permc/sync", Value::Null);
        for message in self.pending.drain(..) {
            if message["method"] == "textDocument/publishDiagnostics" {
                let uri = message["params"]["uri"].as_str().unwrap().to_owned();
                self.published.insert(uri, message["params"]["diagnostics"].as_array().unwrap().clone());
            }
        }
        self.published.get(uri).cloned().unwrap_or_default()
    }

    fn change(&mut self, uri: &str, version: u64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] }),
        );
    }
}

struct Repo(PathBuf);

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn payments(name: &str) -> Repo {
    let dir = std::env::temp_dir().join(format!("permc-lsp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/payments")).unwrap().flatten() {
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    Repo(dir)
}

fn codes(diagnostics: &[Value]) -> Vec<&str> {
    diagnostics.iter().map(|it| it["code"].as_str().unwrap()).collect()
}

#[test]
fn diagnostics_follow_edits_across_files_and_the_session_ends_cleanly() {
    let repo = payments("session");
    let mut client = Client::start();
    let init =
        client.request("initialize", json!({ "processId": null, "rootUri": uri_of(&repo.0), "capabilities": {} }));
    assert_eq!(init["result"]["capabilities"]["textDocumentSync"]["change"], 1);
    assert_eq!(init["result"]["capabilities"]["positionEncoding"], "utf-16");
    client.notify("initialized", json!({}));

    let users = uri_of(&repo.0.join("users.hcl"));
    let roles = uri_of(&repo.0.join("roles.hcl"));
    let users_text = std::fs::read_to_string(repo.0.join("users.hcl")).unwrap();
    let roles_text = std::fs::read_to_string(repo.0.join("roles.hcl")).unwrap();
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": users, "languageId": "hcl", "version": 1, "text": users_text } }),
    );

    // Rename a role in roles.hcl: its assignment in users.hcl is now unknown.
    client.change(&roles, 2, &roles_text.replace("role \"backend-developer\"", "role \"backend-dev\""));
    let broken = client.diagnostics(&users);
    assert!(codes(&broken).contains(&"PC1043"), "{broken:?}");
    let unknown = broken.iter().find(|it| it["code"] == "PC1043").unwrap();
    assert!(unknown["message"].as_str().unwrap().contains("`backend-developer`"));
    // Fixed in roles.hcl: the dependent file is cleared.
    client.change(&roles, 3, &roles_text);
    assert!(codes(&client.diagnostics(&users)).iter().all(|code| *code != "PC1043"));

    // UTF-16 positions: two emoji (four UTF-16 units, eight bytes) before an unknown subject on its line.
    let text = users_text.replace("subject = \"secrets\"", "subject = \"secretz\" # 🔑🔑").replacen(
        "user \"carol@example.com\" {",
        "user \"carol@example.com\" { # 🔑🔑",
        1,
    );
    let text = text.replace("subject = \"secretz\" # 🔑🔑", "/* 🔑🔑 */ subject = \"secretz\"");
    client.change(&users, 4, &text);
    let diagnostics = client.diagnostics(&users);
    let subject = diagnostics.iter().find(|it| it["code"] == "PC1010").unwrap_or_else(|| panic!("{diagnostics:?}"));
    let line = text.lines().nth(subject["range"]["start"]["line"].as_u64().unwrap() as usize).unwrap();
    let before = &line[..line.find("\"secretz\"").unwrap()];
    assert_eq!(subject["range"]["start"]["character"], before.encode_utf16().count(), "{line}");
    assert_ne!(before.encode_utf16().count(), before.len(), "the line has non-ASCII text before the error");

    // A quick fix: the catalog's spelling of a misspelled condition key.
    let fixed_key = users_text.replace("environment = \"prod\"", "Environment = \"prod\"");
    client.change(&users, 5, &fixed_key);
    let diagnostics = client.diagnostics(&users);
    let misspelled = diagnostics.iter().find(|it| it["code"] == "PC1022").unwrap_or_else(|| panic!("{diagnostics:?}"));
    let actions = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": users }, "range": misspelled["range"], "context": { "diagnostics": [misspelled] } }),
    );
    let action = actions["result"].as_array().unwrap().iter().find(|it| it["kind"] == "quickfix").unwrap();
    let edit = &action["edit"]["changes"][&users][0];
    assert_eq!(edit["newText"], "environment", "an HCL attribute name stays bare");
    assert_eq!(edit["range"], misspelled["range"]);

    let shutdown = client.request("shutdown", Value::Null);
    assert_eq!(shutdown["result"], Value::Null);
    client.notify("exit", Value::Null);
    let status = client.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn lints_come_on_save_with_an_ignore_action() {
    let repo = payments("lints");
    let mut client = Client::start();
    client.request("initialize", json!({ "processId": null, "rootUri": uri_of(&repo.0), "capabilities": {} }));
    client.notify("initialized", json!({}));
    let roles = uri_of(&repo.0.join("roles.hcl"));
    let text = std::fs::read_to_string(repo.0.join("roles.hcl")).unwrap();
    // A second, identical rule in the same role: redundant.
    let duplicated = text.replacen(
        "  permission {\n    subject = \"environments\"\n    action  = \"read\"\n  }\n",
        "  permission {\n    subject = \"environments\"\n    action  = \"read\"\n  }\n\n  permission {\n    subject = \"environments\"\n    action  = \"read\"\n  }\n",
        1,
    );
    assert_ne!(duplicated, text);
    client.change(&roles, 2, &duplicated);
    std::fs::write(repo.0.join("roles.hcl"), &duplicated).unwrap();
    client.notify("textDocument/didSave", json!({ "textDocument": { "uri": roles } }));
    let diagnostics = client.diagnostics(&roles);
    let redundant = diagnostics.iter().find(|it| it["code"] == "PC2001").unwrap_or_else(|| panic!("{diagnostics:?}"));
    assert_eq!(redundant["severity"], 2);
    let actions = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": roles }, "range": redundant["range"], "context": { "diagnostics": [redundant] } }),
    );
    let ignore = actions["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|it| it["title"].as_str().unwrap().starts_with("ignore"))
        .unwrap();
    let edit = &ignore["edit"]["changes"][&roles][0];
    assert!(edit["newText"].as_str().unwrap().trim_start().starts_with("# permc:ignore redundant-rule -- "), "{edit}");
    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    assert_eq!(client.child.wait().unwrap().code(), Some(0));
}

/// The LSP position (UTF-16) of the first `needle` in `text`, `shift` characters into it.
fn position_of(text: &str, needle: &str, shift: usize) -> Value {
    let at = text.find(needle).unwrap_or_else(|| panic!("{needle}")) + shift;
    let line = text[..at].matches('\n').count();
    let start = text[..at].rfind('\n').map_or(0, |it| it + 1);
    json!({ "line": line, "character": text[start..at].encode_utf16().count() })
}

#[test]
fn hover_and_completion_know_the_catalog_and_the_repository() {
    let repo = payments("assist");
    let mut client = Client::start();
    client.request("initialize", json!({ "processId": null, "rootUri": uri_of(&repo.0), "capabilities": {} }));
    client.notify("initialized", json!({}));
    let roles = uri_of(&repo.0.join("roles.hcl"));
    let text = std::fs::read_to_string(repo.0.join("roles.hcl")).unwrap();
    let hover = |client: &mut Client, needle: &str, shift: usize| -> String {
        let answer = client.request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": roles }, "position": position_of(&text, needle, shift) }),
        );
        answer["result"]["contents"]["value"].as_str().unwrap_or_default().to_owned()
    };
    let subject = hover(&mut client, "\"secret-folders\"", 2);
    assert!(subject.starts_with("**secret-folders** (subject)") && subject.contains("actions: "), "{subject}");
    let action = hover(&mut client, "\"describeSecret\"", 2);
    assert!(action.starts_with("**describeSecret** on `secrets`"), "{action}");
    let key = hover(&mut client, "secretPath  = glob", 1);
    assert!(key.starts_with("**secretPath** (condition of `secrets`)") && key.contains("`$glob`"), "{key}");
    let rule = hover(&mut client, "permission {", 11);
    assert!(
        rule.starts_with(
            "This rule allows `describeSecret`, `readValue`, `create`, `edit`, `delete` on `secrets` where"
        ),
        "{rule}"
    );

    // Completion of actions after a subject, and of condition keys inside `conditions`.
    let draft = text.replacen(
        "action  = [\"describeSecret\", \"readValue\", \"create\", \"edit\", \"delete\"]",
        "action  = [\"",
        1,
    );
    client.change(&roles, 2, &draft);
    let complete = |client: &mut Client, text: &str, needle: &str, shift: usize| -> Vec<String> {
        let answer = client.request(
            "textDocument/completion",
            json!({ "textDocument": { "uri": roles }, "position": position_of(text, needle, shift) }),
        );
        answer["result"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|it| it["label"].as_str().unwrap().to_owned())
            .collect()
    };
    let actions = complete(&mut client, &draft, "action  = [\"", 12);
    assert!(actions.contains(&"readValue".to_owned()) && actions.contains(&"describeSecret".to_owned()), "{actions:?}");
    assert!(!actions.contains(&"lease".to_owned()), "only the actions of `secrets`: {actions:?}");
    let with_key = text.replacen(
        "      environment = { in = [\"dev\", \"staging\"] }\n",
        "      environment = { in = [\"dev\", \"staging\"] }\n      \n",
        1,
    );
    client.change(&roles, 3, &with_key);
    let keys = complete(&mut client, &with_key, "staging\"] }\n      \n", 18);
    assert!(keys.contains(&"secretName".to_owned()) && keys.contains(&"secretTags".to_owned()), "{keys:?}");
    let subjects = complete(&mut client, &text, "subject = \"secrets\"", 11);
    assert!(
        subjects.contains(&"dynamic-secrets".to_owned()) && subjects.contains(&"workspace".to_owned()),
        "{subjects:?}"
    );
    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    assert_eq!(client.child.wait().unwrap().code(), Some(0));
}
