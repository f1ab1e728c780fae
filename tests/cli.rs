//! The `permc` binary on the bundled examples: exit codes, output formats, explain and batch mode.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn permc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_permc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn the_clean_example_passes() {
    let output = permc(&["check", "policies/payments"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("ok: 0 errors, 0 warnings in 5 files"), "{text}");
}

#[test]
fn the_broken_example_fails_with_every_diagnostic_rendered() {
    let output = permc(&["check", "policies/broken"]);
    assert_eq!(output.status.code(), Some(1));
    insta::with_settings!({ snapshot_path => "../snapshots/cli", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("broken_human", stdout(&output));
    });
    // The example in README.md is real output.
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("```\nerror[").expect("README shows a diagnostic") + 4;
    let shown = &readme[start..start + readme[start..].find("```").unwrap()];
    assert!(stdout(&output).contains(shown), "README.md shows output permc does not print:\n{shown}");
}

#[test]
fn json_output_has_positions_labels_and_fixes() {
    let output = permc(&["check", "policies/broken", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert!(report["summary"]["errors"].as_u64().unwrap() as usize >= diagnostics.len().min(1));
    for diagnostic in diagnostics {
        for key in ["code", "name", "severity", "message", "file", "line", "column", "labels"] {
            assert!(!diagnostic[key].is_null(), "`{key}` missing in {diagnostic}");
        }
        let label = &diagnostic["labels"][0];
        assert!(label["start"].as_u64().unwrap() <= label["end"].as_u64().unwrap());
    }
    let ui_name = diagnostics.iter().find(|it| it["name"] == "ui-action-name").expect("a ui-action-name diagnostic");
    let edit = &ui_name["fix"]["edits"][0];
    assert_eq!(edit["replacement"], "\"readValue\"");
    assert_eq!(ui_name["fix"]["applicability"], "safe");
    insta::with_settings!({ snapshot_path => "../snapshots/cli", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_json_snapshot!("broken_json", report);
    });
}

#[test]
fn a_missing_path_is_an_operational_error() {
    let output = permc(&["check", "policies/does-not-exist"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("`policies/does-not-exist` does not exist"), "{stderr}");
}

#[test]
fn explain_prints_the_documentation_of_a_code() {
    let output = permc(&["explain", "PC1020"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(text.starts_with("# PC1020 inverted-not-supported"), "{text}");
    assert!(text.contains("stored as an **allow**"), "{text}");
    assert_eq!(stdout(&permc(&["explain", "inverted-not-supported"])), text);
    let unknown = permc(&["explain", "inverted-not-suported"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8(unknown.stderr).unwrap().contains("did you mean `inverted-not-supported`?"));
    let list = stdout(&permc(&["explain", "--list"]));
    assert_eq!(list.lines().count(), permc::codes::Code::ALL.len());
}

#[test]
fn batch_mode_answers_one_line_per_input_line() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_permc"))
        .args(["check", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = concat!(
        r#"{"id": "ok", "rules": [{"subject": "secrets", "action": ["readValue"], "conditions": {"environment": "prod"}}]}"#,
        "\n",
        r#"{"id": 7, "rules": [{"subject": "role", "action": "delete", "inverted": true}], "note": "ignored"}"#,
        "\n",
        r#"{"id": "bad-subject", "rules": [{"subject": "project", "action": "edit"}]}"#,
        "\n",
        "not json\n",
        r#"{"id": "no-rules"}"#,
        "\n",
    );
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let lines: Vec<serde_json::Value> =
        stdout(&output).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0], serde_json::json!({"id": "ok", "ok": true, "codes": []}));
    assert_eq!(lines[1], serde_json::json!({"id": 7, "ok": false, "codes": ["PC1020"]}));
    assert_eq!(lines[2]["codes"], serde_json::json!(["PC1010"]));
    assert_eq!(lines[3]["ok"], false);
    assert!(lines[3]["error"].as_str().unwrap().starts_with("not JSON"));
    assert_eq!(
        lines[4],
        serde_json::json!({"id": "no-rules", "ok": false, "codes": [], "error": "the line has no `rules` field"})
    );
}

#[test]
fn invalid_utf8_is_reported_with_the_file_and_offset() {
    let dir = std::env::temp_dir().join(format!("permc-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("project.yaml"), "project: { slug: x }\n").unwrap();
    std::fs::write(dir.join("roles.yaml"), b"roles:\n  - slug: caf\xe9\n").unwrap();
    let output = permc(&["check", dir.to_str().unwrap(), "--format", "json"]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{report}");
    assert_eq!(diagnostics[0]["code"], "PC0002");
    assert!(diagnostics[0]["file"].as_str().unwrap().ends_with("roles.yaml"));
    assert_eq!(diagnostics[0]["labels"][0]["start"], 20);
    assert_eq!(diagnostics[0]["line"], 2);
}

#[test]
fn can_batch_answers_like_infisical() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_permc"))
        .args(["can", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = concat!(
        // A deny on readValue also denies the legacy `read` (Infisical's forbid expansion).
        r#"{"id": "deny", "rules": [{"subject": "secrets", "action": "read"}, {"subject": "secrets", "action": "readValue", "inverted": true}], "subject": "secrets", "action": "read", "object": {"environment": "prod", "secretPath": "/"}}"#,
        "\n",
        // Stripped `inverted` on `role` turns the deny into an allow.
        r#"{"id": "stripped", "rules": [{"subject": "role", "action": "delete", "inverted": true}], "subject": "role", "action": "delete"}"#,
        "\n",
        r#"{"id": "legacy", "rules": [{"subject": "secrets", "action": "read"}], "subject": "secrets", "action": "readValue", "object": {"environment": "dev", "secretPath": "/a"}}"#,
        "\n",
        r#"{"id": "throws", "rules": [{"subject": "secrets", "action": "read", "conditions": {"secretName": {"$glob": "A*"}}}], "subject": "secrets", "action": "read", "object": {"environment": "dev", "secretPath": "/a"}}"#,
        "\n",
        r#"{"id": "template", "rules": [{"subject": "secrets", "action": "read", "conditions": {"secretPath": "/users/{{identity.username}}"}}], "subject": "secrets", "action": "read", "object": {"environment": "dev", "secretPath": "/users/bob"}, "identity": {"id": "1", "username": "bob"}}"#,
        "\n",
        r#"{"id": "rejected", "rules": [{"subject": "secrets", "action": "fly"}], "subject": "secrets", "action": "read"}"#,
        "\n",
    );
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let lines: Vec<serde_json::Value> =
        stdout(&output).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines[0], serde_json::json!({ "id": "deny", "allowed": false }));
    assert_eq!(lines[1], serde_json::json!({ "id": "stripped", "allowed": true }));
    assert_eq!(
        lines[2],
        serde_json::json!({ "id": "legacy", "allowed": false, "allowedWithLegacyReadFallback": true })
    );
    assert_eq!(lines[3]["error"], "glob_input_not_string");
    assert_eq!(lines[4], serde_json::json!({ "id": "template", "allowed": true }));
    assert_eq!(lines[5]["error"], "rejected");
}

#[test]
fn the_clean_example_is_lint_free_while_its_temporary_grants_run() {
    let output = permc(&["lint", "policies/payments", "--at", "2026-11-21T15:00:00Z"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("ok: 0 errors, 0 warnings in 5 files"), "{text}");
    // A week later the temporary grants have ended, and lint says so.
    let output = permc(&["lint", "policies/payments", "--at", "2026-11-30T00:00:00Z"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "warnings alone do not fail: {text}");
    assert_eq!(text.matches("warning[PC2009]").count(), 3, "{text}");
}

#[test]
fn deny_warnings_fails_on_lints_and_project_levels_apply() {
    let dir = std::env::temp_dir().join(format!("permc-levels-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let roles = "roles:\n  - slug: reader\n    permissions:\n      - { subject: secrets, action: read }\n";
    std::fs::write(dir.join("roles.yaml"), roles).unwrap();
    let project = |lints: &str| format!("project:\n  slug: x\n  environments: [dev]\n{lints}");
    std::fs::write(dir.join("project.yaml"), project("")).unwrap();
    let path = dir.to_str().unwrap();
    let output = permc(&["lint", path, "--at", "2026-11-22T00:00:00Z"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("warning[PC2005]"));
    let output = permc(&["lint", path, "--deny", "warnings", "--at", "2026-11-22T00:00:00Z"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("error[PC2005]"));
    // `allow` in the project silences the lint; `deny` makes it an error.
    std::fs::write(dir.join("project.yaml"), project("  lints: { legacy-read-action: allow }\n")).unwrap();
    let output = permc(&["lint", path, "--deny", "warnings"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    std::fs::write(dir.join("project.yaml"), project("  lints: { PC2005: deny }\n")).unwrap();
    let output = permc(&["lint", path]);
    assert_eq!(output.status.code(), Some(1));
    // An unknown lint name is an error of the declaration.
    std::fs::write(dir.join("project.yaml"), project("  lints: { legacy-read: allow }\n")).unwrap();
    let output = permc(&["check", path]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("did you mean `legacy-read-action`?"), "{}", stdout(&output));
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0_with_utf16_columns() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json"),
        )
        .unwrap(),
    )
    .unwrap();
    // The official schema's `language` patterns (`...{2}]?$`) are not regexes Rust's engines accept, so the
    // validator refuses the schema itself; permc emits no `language`, so those patterns are dropped.
    let mut schema = schema;
    for definition in ["run", "toolComponent"] {
        schema["definitions"][definition]["properties"]["language"].as_object_mut().unwrap().remove("pattern").unwrap();
    }
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(
        !validator.is_valid(&serde_json::json!({ "version": "2.1.0", "runs": [{ "results": [] }] })),
        "a run needs a tool"
    );
    for (args, code) in [
        (["check", "policies/broken", "--format", "sarif"].as_slice(), 1),
        (&["lint", "policies/platform", "--format", "sarif", "--at", "2026-11-22T12:00:00Z"], 0),
        (&["check", "policies/payments", "--format", "sarif"], 0),
    ] {
        let output = permc(args);
        assert_eq!(output.status.code(), Some(code), "{args:?}");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(&report).map(|it| format!("{} at {}", it, it.instance_path())).collect();
        assert!(errors.is_empty(), "{args:?}: {errors:?}");
        let results = report["runs"][0]["results"].as_array().unwrap();
        let rules = report["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        for result in results {
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], result["ruleId"]);
        }
    }
    // The broken example's results match its JSON report one to one.
    let sarif: serde_json::Value =
        serde_json::from_slice(&permc(&["check", "policies/broken", "--format", "sarif"]).stdout).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&permc(&["check", "policies/broken", "--format", "json"]).stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let diagnostics = json["diagnostics"].as_array().unwrap();
    assert_eq!(results.len(), diagnostics.len());
    for (result, diagnostic) in results.iter().zip(diagnostics) {
        assert_eq!(result["ruleId"], diagnostic["code"]);
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], diagnostic["file"]);
        assert_eq!(location["region"]["startLine"], diagnostic["line"]);
    }
}

#[test]
fn sarif_columns_count_utf16_units() {
    let dir = std::env::temp_dir().join(format!("permc-sarif-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // `🔑` is two UTF-16 units (one char, four bytes) before the unknown subject.
    std::fs::write(
        dir.join("roles.yaml"),
        "roles:\n  - { slug: r, name: \"🔑\", permissions: [{ subject: secretz, action: [read] }] }\n",
    )
    .unwrap();
    let output = permc(&["check", dir.to_str().unwrap(), "--format", "sarif"]);
    let _ = std::fs::remove_dir_all(&dir);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let result = report["runs"][0]["results"].as_array().unwrap().iter().find(|it| it["ruleId"] == "PC1010").unwrap();
    let region = &result["locations"][0]["physicalLocation"]["region"];
    let line = "  - { slug: r, name: \"🔑\", permissions: [{ subject: secretz, action: [read] }] }";
    let before = &line[..line.find("secretz").unwrap()];
    assert_eq!(region["startColumn"], before.encode_utf16().count() + 1, "{report}");
    assert_eq!(region["endColumn"], before.encode_utf16().count() + 1 + "secretz".len());
}

#[test]
fn github_output_is_workflow_commands() {
    let output = permc(&["check", "policies/broken", "--format", "github"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    let json: serde_json::Value =
        serde_json::from_slice(&permc(&["check", "policies/broken", "--format", "json"]).stdout).unwrap();
    assert_eq!(lines.len(), json["diagnostics"].as_array().unwrap().len());
    for line in &lines {
        assert!(
            line.starts_with("::error file=policies/broken/") || line.starts_with("::warning file=policies/broken/"),
            "{line}"
        );
        let (properties, message) = line.split_once("::").unwrap().1.split_once("::").unwrap();
        assert!(properties.contains(",line=") && properties.contains(",title=PC"), "{line}");
        assert!(!message.contains('\n') && !message.is_empty());
    }
    assert!(text.contains("%0Ahelp: "), "multi-line messages are escaped");
}

/// A copy of an example in a fresh directory, removed on drop.
struct Copy(std::path::PathBuf);

impl Drop for Copy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy(example: &str, name: &str) -> Copy {
    let dir = std::env::temp_dir().join(format!("permc-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(example)).unwrap().flatten() {
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    Copy(dir)
}

#[test]
fn a_baseline_keeps_old_findings_out_and_lets_new_ones_fail() {
    let repo = copy("policies/platform", "baseline");
    let dir = repo.0.to_str().unwrap();
    // Hidden files are not policy files: the baseline can live in the repository.
    let baseline = repo.0.join(".permc-baseline.json");
    let lint = |extra: &[&str]| {
        let mut args = vec!["lint", dir, "--at", "2026-11-22T12:00:00Z", "--deny", "warnings", "--format", "json"];
        args.extend_from_slice(extra);
        permc(&args)
    };
    assert_eq!(lint(&[]).status.code(), Some(1), "the example has a finding");
    let written = permc(&["lint", dir, "--at", "2026-11-22T12:00:00Z", "--write-baseline", baseline.to_str().unwrap()]);
    assert_eq!(written.status.code(), Some(0));
    assert!(stdout(&written).contains("wrote 1 findings to the baseline"), "{}", stdout(&written));
    let quiet = lint(&["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(quiet.status.code(), Some(0), "{}", stdout(&quiet));

    // A new finding elsewhere, and lines shifted above the old one: only the new one fails.
    let services = repo.0.join("services.yaml");
    let text = std::fs::read_to_string(&services).unwrap();
    let shifted = format!(
        "# A comment that moves every line down.\n{}",
        text.replace("start: \"2026-11-22T09:00:00Z\"", "start: \"2026-11-01T09:00:00Z\"")
    );
    std::fs::write(&services, shifted).unwrap();
    let new = lint(&["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(new.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&new.stdout).unwrap();
    let codes: Vec<&str> =
        report["diagnostics"].as_array().unwrap().iter().map(|it| it["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["PC2009"], "{report}");
}

#[test]
fn fix_applies_safe_fixes_and_reports_what_is_left() {
    let repo = copy("policies/broken", "fix");
    let dir = repo.0.to_str().unwrap();
    let before: serde_json::Value = serde_json::from_slice(&permc(&["check", dir, "--format", "json"]).stdout).unwrap();
    let safe =
        before["diagnostics"].as_array().unwrap().iter().filter(|it| it["fix"]["applicability"] == "safe").count();
    assert!(safe > 0, "the broken example has safe fixes");
    let output = permc(&["check", dir, "--fix", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let fixed: usize =
        stderr.strip_prefix("fixed ").and_then(|it| it.split(' ').next()).and_then(|it| it.parse().ok()).unwrap();
    assert!(fixed > 0 && fixed <= safe, "{stderr}");
    let after: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let left = after["diagnostics"].as_array().unwrap();
    assert_eq!(
        left.len() + fixed,
        before["diagnostics"].as_array().unwrap().len(),
        "each fix removes its finding and nothing else changes"
    );
    // `secretpath` -> `secretPath` would duplicate a key of the same block: that fix is left out, and said so.
    assert!(left.iter().any(|it| it["code"] == "PC1022"), "{after}");
    assert!(stderr.contains("some fixes in") && stderr.contains("roles.hcl"), "{stderr}");
    let roles = std::fs::read_to_string(repo.0.join("roles.hcl")).unwrap();
    assert!(
        roles.contains("action  = [\"readValue\", \"describeSecret\"]") && roles.contains("subject = \"workspace\""),
        "{roles}"
    );
    // Running it again fixes nothing.
    let again = permc(&["check", dir, "--fix"]);
    assert!(
        String::from_utf8_lossy(&again.stderr).starts_with("fixed 0 findings in 0 files"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

#[test]
fn permcignore_leaves_paths_out() {
    let repo = copy("policies/payments", "ignore");
    let dir = repo.0.to_str().unwrap();
    std::fs::create_dir_all(repo.0.join("legacy")).unwrap();
    std::fs::write(repo.0.join("legacy/old.yaml"), "roles:\n  - slug: Old_Role\n").unwrap();
    assert_eq!(permc(&["check", dir]).status.code(), Some(1), "the legacy file has errors");
    std::fs::write(repo.0.join(".permcignore"), "# Not ours: migrated next quarter.\nlegacy/\n").unwrap();
    let output = permc(&["check", dir]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("in 5 files"));
}
