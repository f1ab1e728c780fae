//! `permc roles suggest` on policy repositories: the proposal, the rewrite, and an independent check that
//! every member's answers are unchanged.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use permc::access::{self, MemberRules};
use permc::catalog::Catalog;
use serde_json::{Map, Value, json};

fn permc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_permc")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_of(example: &str, name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!("permc-roles-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(example)).unwrap().flatten() {
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    TempDir(dir)
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({ snapshot_path => "../snapshots/roles", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn the_platform_example_gets_two_roles() {
    let output = permc(&["roles", "suggest", "policies/platform"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    snapshot("platform_suggest", &stdout(&output));
}

/// Every answer of every member on a grid of requests, at `at` (Unix ms).
fn answers(dir: &Path, at: i64) -> Vec<(String, String, bool)> {
    let catalog = Catalog::builtin();
    let analysis = permc::workspace::analyze(dir, catalog).unwrap();
    assert_eq!(analysis.error_count(), 0);
    let requests = [
        ("secrets", ["describeSecret", "readValue", "create", "edit", "delete", "read"].as_slice()),
        ("dynamic-secrets", &["lease", "read-root-credential"]),
        ("secret-rotation", &["read", "rotate-secrets"]),
    ];
    let mut out = Vec::new();
    let mut members: Vec<_> = analysis.project.members().collect();
    members.sort_by(|a, b| a.name.value.cmp(&b.name.value));
    for member in members {
        let identity = access::identity_of(member);
        let rules = MemberRules::build(catalog, &analysis.project, member, at, &identity).unwrap();
        for (subject, actions) in requests {
            for action in actions {
                for environment in ["dev", "staging", "prod"] {
                    for path in ["/", "/services", "/services/billing/queue", "/services/api/keys", "/other"] {
                        let object: Map<String, Value> =
                            json!({ "environment": environment, "secretPath": path }).as_object().unwrap().clone();
                        let allowed = rules.can(action, subject, Some(&object)).unwrap().allowed;
                        out.push((
                            member.name.value.clone(),
                            format!("{subject}:{action} {environment} {path}"),
                            allowed,
                        ));
                    }
                }
                let allowed = rules.can(action, subject, None).unwrap().allowed;
                out.push((member.name.value.clone(), format!("{subject}:{action}"), allowed));
            }
        }
    }
    out
}

#[test]
fn write_rewrites_the_files_and_every_answer_stays_the_same() {
    let repo = copy_of("policies/platform", "write");
    let dir = repo.0.to_str().unwrap();
    // Inside and after the temporary grant's window.
    let times = [1_795_348_800_000_i64, 1_795_435_200_000]; // 2026-11-22T12:00Z, 2026-11-23T12:00Z
    let before: Vec<_> = times.iter().map(|&at| answers(&repo.0, at)).collect();

    let output = permc(&["roles", "suggest", dir, "--write"]);
    assert!(output.status.success(), "{}{}", stdout(&output), String::from_utf8_lossy(&output.stderr));
    assert!(stdout(&output).contains("wrote 3 files"), "{}", stdout(&output));

    let after: Vec<_> = times.iter().map(|&at| answers(&repo.0, at)).collect();
    assert_eq!(before, after, "an answer changed");
    assert!(before[0].iter().any(|(_, _, allowed)| *allowed), "the grid asks something that is allowed");
    // The temporary grant is active at the first time and over at the second: both are compared.
    let rotate = |answers: &[(String, String, bool)]| {
        answers.iter().any(|(member, request, allowed)| {
            member == "notifier" && request.starts_with("secret-rotation:rotate-secrets") && *allowed
        })
    };
    assert!(rotate(&before[0]) && !rotate(&before[1]));

    let mut files = String::new();
    for name in ["services.yaml", "deployers.hcl", "suggested-roles.yaml"] {
        files.push_str(&format!("--- {name}\n{}", std::fs::read_to_string(repo.0.join(name)).unwrap()));
    }
    snapshot("platform_written", &files);

    // Nothing left to propose, and the lint is quiet about it.
    assert!(stdout(&permc(&["roles", "suggest", dir])).starts_with("no proposal"));
    let lint = permc(&["lint", dir, "--at", "2026-11-22T12:00:00Z"]);
    assert!(!stdout(&lint).contains("PC2018"), "{}", stdout(&lint));
}

#[test]
fn a_shape_the_rewrite_does_not_handle_writes_nothing() {
    let repo = copy_of("policies/platform", "flow");
    let path = repo.0.join("services.yaml");
    let original = std::fs::read_to_string(&path).unwrap();
    // The first member's two privileges as one flow-style line: one of them goes, one stays.
    let block = "    privileges:\n      - slug: read-prod-services\n        permissions:\n          - subject: secrets\n            action: [describeSecret, readValue]\n            conditions:\n              environment: prod\n              secretPath: { $glob: /services/** }\n      - slug: own-queue\n        permissions:\n          - subject: dynamic-secrets\n            action: [lease]\n            conditions:\n              environment: prod\n              secretPath: /services/billing/queue\n";
    let line = "    privileges: [{ slug: read-prod-services, permissions: [{ subject: secrets, action: [describeSecret, readValue], conditions: { environment: prod, secretPath: { $glob: /services/** } } }] }, { slug: own-queue, permissions: [{ subject: dynamic-secrets, action: [lease], conditions: { environment: prod, secretPath: /services/billing/queue } }] }]\n";
    assert!(original.contains(block));
    let flow = original.replacen(block, line, 1);
    assert_ne!(flow, original);
    std::fs::write(&path, &flow).unwrap();
    let check = permc(&["check", repo.0.to_str().unwrap()]);
    assert!(check.status.success(), "{}", stdout(&check));
    let before = std::fs::read_to_string(repo.0.join("deployers.hcl")).unwrap();
    let output = permc(&["roles", "suggest", repo.0.to_str().unwrap(), "--write"]);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("cannot rewrite `billing-worker` at ") && error.contains("nothing was written"), "{error}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), flow);
    assert_eq!(std::fs::read_to_string(repo.0.join("deployers.hcl")).unwrap(), before);
    assert!(!repo.0.join("suggested-roles.yaml").exists());
}

#[test]
fn a_bad_matrix_line_is_named() {
    let repo = copy_of("policies/platform", "matrix");
    let file = repo.0.join("m.txt");
    std::fs::write(&file, "1 2\n1 x\n").unwrap();
    let output = permc(&["roles", "suggest", "--matrix", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("line 2: expected `<user id> <permission id>`, found `1 x`")
    );
}

#[test]
fn an_existing_role_that_means_the_same_is_reused() {
    let repo = copy_of("policies/platform", "reuse");
    // A role with the readers' rules, written differently.
    let role = "roles:\n  - slug: service-readers\n    name: Service readers\n    permissions:\n      - subject: secrets\n        action: [readValue, describeSecret]\n        conditions: { secretPath: { $glob: /services/** }, environment: { $in: [prod] } }\n";
    std::fs::write(repo.0.join("roles.yaml"), role).unwrap();
    let dir = repo.0.to_str().unwrap();
    let reused = stdout(&permc(&["roles", "suggest", dir]));
    // Every member holding its rules takes it, the deployers too (their privilege includes it), and only
    // what is left is mined.
    assert!(reused.contains("use the existing role `service-readers` (Service readers) for 5 members"), "{reused}");
    assert!(reused.contains("`ledger-worker`: + role `service-readers`, - privilege `prod-read`"), "{reused}");
    assert!(
        reused
            .contains("`deploy-eu`: + role `staging-services-writers`, + role `service-readers`, - privilege `deploy`"),
        "{reused}"
    );
    assert!(reused.contains("1 new role, 1 reused"), "{reused}");
    assert!(reused.contains("verified: "), "{reused}");
    let fresh = stdout(&permc(&["roles", "suggest", dir, "--no-reuse"]));
    assert!(fresh.contains("new role `prod-services-readers`"), "{fresh}");
    // Three members at least: only the readers' role is left.
    let fewer = stdout(&permc(&["roles", "suggest", dir, "--min-members", "3"]));
    assert!(fewer.contains("service-readers") && !fewer.contains("staging-services-writers"), "{fewer}");
    // Written: the reused role is assigned, not written again.
    let written = permc(&["roles", "suggest", dir, "--write"]);
    assert!(written.status.success(), "{}{}", stdout(&written), String::from_utf8_lossy(&written.stderr));
    let suggested = std::fs::read_to_string(repo.0.join("suggested-roles.yaml")).unwrap();
    assert!(suggested.contains("staging-services-writers") && !suggested.contains("service-readers"), "{suggested}");
    assert!(permc(&["check", dir]).status.success());
}
