//! `permc build`, `plan`, `apply` and `import` against the in-process fake Infisical.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::json;
use support::fake_infisical::{CLIENT_ID, CLIENT_SECRET, Fake, USER_TOKEN};

const PROJECT_ID: &str = "5f0c2a9e-7d3b-4b8e-9a61-0c4f1e2d3a4b";

/// The payments example's organisation: its identities (one, `incident-bot`, already a project member,
/// since the repository gives no id for it) and its users.
fn payments_fake() -> Fake {
    let fake = Fake::start(
        PROJECT_ID,
        "payments",
        &[
            ("ci-deployer", "0b8e5f1c-2a4d-4c3e-9f7a-6d5c4b3a2f10"),
            ("payments-api", "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d"),
            ("incident-bot", "1d2c3b4a-5e6f-4a7b-8c9d-aabbccddeeff"),
        ],
        &["alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"],
    );
    fake.add_identity_member("incident-bot", &["no-access"]);
    fake
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn permc(fake: &Fake, args: &[&str], auth: Auth) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_permc"));
    command
        .args(args)
        .args(["--backoff-ms", "10"])
        .env_remove("INFISICAL_TOKEN")
        .env_remove("INFISICAL_UNIVERSAL_AUTH_CLIENT_ID")
        .env_remove("INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET")
        .env("INFISICAL_HOST", &fake.url);
    match auth {
        Auth::User => {
            command.env("INFISICAL_TOKEN", USER_TOKEN);
        }
        Auth::Identity => {
            command
                .env("INFISICAL_UNIVERSAL_AUTH_CLIENT_ID", CLIENT_ID)
                .env("INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET", CLIENT_SECRET);
        }
    }
    let Output { status, stdout, stderr } = command.output().unwrap();
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    };
    for secret in [USER_TOKEN, CLIENT_SECRET] {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret), "a secret was printed");
    }
    run
}

#[derive(Clone, Copy)]
enum Auth {
    User,
    Identity,
}

fn payments() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/payments").display().to_string()
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

fn temp_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!("permc-deploy-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn plan(fake: &Fake, path: &str) -> Run {
    permc(fake, &["plan", path], Auth::User)
}

fn apply(fake: &Fake, path: &str) -> Run {
    permc(fake, &["apply", path, "--auto-approve"], Auth::User)
}

#[test]
fn build_writes_the_request_bodies() {
    let out = temp_dir("build");
    let status = Command::new(env!("CARGO_BIN_EXE_permc"))
        .args(["build", &payments(), "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let mut names: Vec<String> =
        std::fs::read_dir(&out).unwrap().flatten().map(|it| it.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    let mut text = String::new();
    for name in names {
        text.push_str(&format!("--- {name}\n{}", std::fs::read_to_string(out.join(&name)).unwrap()));
    }
    insta::with_settings!({ snapshot_path => "../snapshots/deploy", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("payments_build", text);
    });
}

#[test]
fn build_refuses_a_repository_with_errors() {
    let out = temp_dir("build-broken");
    let broken = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/broken");
    let output = Command::new(env!("CARGO_BIN_EXE_permc"))
        .args(["build", broken.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("refusing to build: `permc check` reports"));
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "nothing is written");
}

#[test]
fn apply_then_plan_shows_no_changes() {
    let fake = payments_fake();
    let first = plan(&fake, &payments());
    assert_eq!(first.code, 2, "{}{}", first.stdout, first.stderr);
    assert!(first.stdout.contains("plan: 14 to create, 1 to update, 0 to delete"), "{}", first.stdout);
    assert!(first.stdout.contains("create role `role.backend-developer`"));
    assert!(first.stdout.contains("update identity membership `identity.incident-bot`"));

    let applied = apply(&fake, &payments());
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    assert!(applied.stdout.contains("apply complete: 15 changes applied and read back"), "{}", applied.stdout);

    let again = plan(&fake, &payments());
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("no changes"), "{}", again.stdout);

    fake.with(|state| {
        assert_eq!(state.roles.len(), 3);
        assert_eq!(state.identity_memberships.len(), 3);
        assert_eq!(state.user_memberships.len(), 4);
        assert_eq!(state.identity_privileges.len(), 2);
        assert_eq!(state.user_privileges.len(), 1);
        assert_eq!(state.access_policies.len(), 1);
        assert_eq!(state.secret_policies.len(), 1);
        // The deny of `deploy-services` arrived as written.
        let deploy = state.identity_privileges.iter().find(|it| it["slug"] == "deploy-services").unwrap();
        assert_eq!(deploy["permissions"][1]["inverted"], json!(true));
        // Temporary access kept its declared start.
        let hotfix = &state.user_privileges[0];
        assert_eq!(hotfix["temporaryAccessStartTime"], "2026-11-21T14:30:00.000Z");
    });
}

#[test]
fn an_edit_plans_as_an_update_with_a_diff() {
    let fake = payments_fake();
    assert_eq!(apply(&fake, &payments()).code, 0);
    let repo = temp_dir("edit");
    copy_dir(Path::new(&payments()), &repo);
    let roles = repo.join("roles.hcl");
    let text = std::fs::read_to_string(&roles).unwrap();
    std::fs::write(&roles, text.replace("Works on the payment services outside production", "Payment services"))
        .unwrap();
    let planned = plan(&fake, repo.to_str().unwrap());
    assert_eq!(planned.code, 2, "{}{}", planned.stdout, planned.stderr);
    assert!(planned.stdout.contains("update role `role.backend-developer`"), "{}", planned.stdout);
    assert!(
        planned.stdout.contains("-   \"description\": \"Works on the payment services outside production\","),
        "{}",
        planned.stdout
    );
    assert!(planned.stdout.contains("+   \"description\": \"Payment services\","), "{}", planned.stdout);
    assert!(planned.stdout.contains("plan: 0 to create, 1 to update, 0 to delete"));
    assert_eq!(apply(&fake, repo.to_str().unwrap()).code, 0);
    assert_eq!(plan(&fake, repo.to_str().unwrap()).code, 0);
}

#[test]
fn a_failure_midway_stops_and_a_rerun_converges() {
    let fake = payments_fake();
    fake.with(|state| state.faults.writes_before_failure = Some(5));
    let failed = apply(&fake, &payments());
    assert_eq!(failed.code, 1, "{}{}", failed.stdout, failed.stderr);
    assert!(failed.stdout.contains("failed: "), "{}", failed.stdout);
    assert!(failed.stdout.contains("failed with 500: InternalServerError"), "{}", failed.stdout);
    assert!(failed.stdout.contains("not attempted: "), "{}", failed.stdout);
    assert!(failed.stderr.contains("apply stopped: 5 of 15 changes applied"), "{}", failed.stderr);

    fake.with(|state| state.faults.writes_before_failure = None);
    let rerun = apply(&fake, &payments());
    assert_eq!(rerun.code, 0, "{}{}", rerun.stdout, rerun.stderr);
    assert!(rerun.stdout.contains("plan: "), "{}", rerun.stdout);
    assert!(!rerun.stdout.contains("create role"), "roles were created by the first run: {}", rerun.stdout);
    assert_eq!(plan(&fake, &payments()).code, 0);
    fake.with(|state| assert_eq!(state.roles.len(), 3, "nothing applied twice"));
}

#[test]
fn rate_limits_unavailability_and_dropped_connections_are_retried() {
    let fake = payments_fake();
    fake.with(|state| {
        state.faults.rate_limited = 2;
        state.faults.unavailable = 2;
    });
    let applied = apply(&fake, &payments());
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    fake.with(|state| state.faults.dropped = 2);
    let planned = plan(&fake, &payments());
    assert_eq!(planned.code, 0, "{}{}", planned.stdout, planned.stderr);
    fake.with(|state| {
        let limited = state.log.iter().take(3).filter(|(method, ..)| method == "GET").count();
        assert!(limited >= 2, "the first calls were retried");
    });
}

#[test]
fn a_server_that_keeps_failing_is_an_error_that_names_the_call() {
    let fake = payments_fake();
    fake.with(|state| state.faults.unavailable = 100);
    let planned = plan(&fake, &payments());
    assert_eq!(planned.code, 1);
    assert!(
        planned.stderr.contains(&format!("`GET /api/v1/projects/{PROJECT_ID}/roles` failed with 503")),
        "{}",
        planned.stderr
    );
}

#[test]
fn undeclared_objects_are_reported_and_deleted_only_with_prune() {
    let fake = payments_fake();
    assert_eq!(apply(&fake, &payments()).code, 0);
    fake.with(|state| {
        state.roles.push(json!({ "id": "r-extra", "slug": "legacy", "name": "Legacy", "permissions": [] }));
    });
    let kept = plan(&fake, &payments());
    assert_eq!(kept.code, 0, "{}{}", kept.stdout, kept.stderr);
    assert!(kept.stdout.contains("not declared in the repository"), "{}", kept.stdout);
    assert!(kept.stdout.contains("`role.legacy`"));

    let pruned = permc(&fake, &["plan", &payments(), "--prune"], Auth::User);
    assert_eq!(pruned.code, 2);
    assert!(pruned.stdout.contains("delete role `role.legacy`"), "{}", pruned.stdout);
    let applied = permc(&fake, &["apply", &payments(), "--prune", "--auto-approve"], Auth::User);
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    fake.with(|state| assert!(state.roles.iter().all(|it| it["slug"] != "legacy")));
}

#[test]
fn a_saved_plan_is_refused_once_the_project_changed() {
    let fake = payments_fake();
    let dir = temp_dir("saved");
    let file = dir.join("plan.json");
    let saved = permc(&fake, &["plan", &payments(), "--out", file.to_str().unwrap()], Auth::User);
    assert_eq!(saved.code, 2);
    fake.with(|state| {
        state.roles.push(json!({ "id": "r-new", "slug": "sneaky", "name": "Sneaky", "permissions": [] }));
    });
    let refused = permc(&fake, &["apply", &payments(), "--plan", file.to_str().unwrap(), "--auto-approve"], Auth::User);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("changed since"), "{}", refused.stderr);
    fake.with(|state| assert_eq!(state.writes, 0, "nothing was written"));

    let fresh = permc(&fake, &["plan", &payments(), "--out", file.to_str().unwrap()], Auth::User);
    assert_eq!(fresh.code, 2);
    let applied = permc(&fake, &["apply", &payments(), "--plan", file.to_str().unwrap(), "--auto-approve"], Auth::User);
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    assert_eq!(plan(&fake, &payments()).code, 0);
}

#[test]
fn machine_identities_get_a_clear_error_where_infisical_wants_a_user() {
    let fake = payments_fake();
    let planned = permc(&fake, &["plan", &payments()], Auth::Identity);
    assert_eq!(planned.code, 1, "{}{}", planned.stdout, planned.stderr);
    assert!(planned.stderr.contains("only for users: use a user token"), "{}", planned.stderr);
    fake.with(|state| {
        let login = state.log.iter().find(|(_, path, ..)| path == "/api/v1/auth/universal-auth/login").unwrap();
        assert!(login.2.is_empty(), "login carries no bearer token");
        assert!(state.log.iter().skip(1).all(|(.., auth, _)| auth.starts_with("Bearer identity-token")));
    });
}

#[test]
fn no_credentials_is_a_clear_error() {
    let fake = payments_fake();
    let output = Command::new(env!("CARGO_BIN_EXE_permc"))
        .args(["plan", &payments()])
        .env_remove("INFISICAL_TOKEN")
        .env_remove("INFISICAL_UNIVERSAL_AUTH_CLIENT_ID")
        .env_remove("INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET")
        .env("INFISICAL_HOST", &fake.url)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no credentials: set `INFISICAL_TOKEN`"));
}

#[test]
fn import_then_plan_shows_no_changes() {
    let fake = payments_fake();
    assert_eq!(apply(&fake, &payments()).code, 0);
    // Drift made in the console: a soft policy, an extra temporary role, a privilege with a plain `$eq`.
    fake.with(|state| {
        state.secret_policies[0]["enforcementLevel"] = json!("hard");
        state.identity_privileges[0]["permissions"][0]["conditions"]["secretPath"] = json!({ "$eq": "/x" });
    });
    let out = temp_dir("import");
    let imported = permc(
        &fake,
        &["import", "--out", out.to_str().unwrap(), "--project-id", PROJECT_ID, "--project-slug", "payments"],
        Auth::User,
    );
    assert_eq!(imported.code, 0, "{}{}", imported.stdout, imported.stderr);
    let check = Command::new(env!("CARGO_BIN_EXE_permc")).args(["check", out.to_str().unwrap()]).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    let planned = plan(&fake, out.to_str().unwrap());
    assert_eq!(planned.code, 0, "{}{}", planned.stdout, planned.stderr);
    // And the original repository sees the drift.
    let drift = plan(&fake, &payments());
    assert_eq!(drift.code, 2);
    assert!(
        drift.stdout.contains("update secret approval policy `secret-policy.prod-secret-changes`"),
        "{}",
        drift.stdout
    );

    let hcl = temp_dir("import-hcl");
    let imported = permc(
        &fake,
        &[
            "import",
            "--out",
            hcl.to_str().unwrap(),
            "--project-id",
            PROJECT_ID,
            "--project-slug",
            "payments",
            "--to",
            "hcl",
        ],
        Auth::User,
    );
    assert_eq!(imported.code, 0, "{}{}", imported.stdout, imported.stderr);
    assert!(hcl.join("roles.hcl").exists() && hcl.join("identities.hcl").exists());
    let planned = plan(&fake, hcl.to_str().unwrap());
    assert_eq!(planned.code, 0, "{}{}", planned.stdout, planned.stderr);

    let again = permc(
        &fake,
        &["import", "--out", out.to_str().unwrap(), "--project-id", PROJECT_ID, "--project-slug", "payments"],
        Auth::User,
    );
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("already has policy files"));
}

#[test]
fn terraform_configuration_imports_and_deploys_without_drift() {
    let out = temp_dir("terraform");
    let output = Command::new(env!("CARGO_BIN_EXE_permc"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["import", "--from-terraform", "tests/fixtures/terraform", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let mut names: Vec<String> =
        std::fs::read_dir(&out).unwrap().flatten().map(|it| it.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    let mut text = format!("--- stderr\n{}", String::from_utf8_lossy(&output.stderr));
    for name in &names {
        text.push_str(&format!("--- {name}\n{}", std::fs::read_to_string(out.join(name)).unwrap()));
    }
    insta::with_settings!({ snapshot_path => "../snapshots/deploy", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("terraform_import", text);
    });

    // The configuration gives no project id (Terraform computes it) and one value from a variable.
    let project = out.join("project.yaml");
    let text = std::fs::read_to_string(&project).unwrap();
    std::fs::write(&project, format!("{text}  id: {PROJECT_ID}\n")).unwrap();
    let approvals = out.join("approvals.yaml");
    let text = std::fs::read_to_string(&approvals).unwrap();
    std::fs::write(&approvals, format!("{text}    enforcementLevel: hard\n")).unwrap();
    let check = Command::new(env!("CARGO_BIN_EXE_permc")).args(["check", out.to_str().unwrap()]).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));

    // Infisical knows the identity as `ci-deployer`; the configuration's label is `deployer`: the id decides.
    let fake = Fake::start(
        PROJECT_ID,
        "payments",
        &[("ci-deployer", "0b8e5f1c-2a4d-4c3e-9f7a-6d5c4b3a2f10")],
        &["bob@example.com"],
    );
    let path = out.to_str().unwrap();
    let applied = apply(&fake, path);
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let planned = plan(&fake, path);
    assert_eq!(planned.code, 0, "{}{}", planned.stdout, planned.stderr);
    fake.with(|state| {
        assert_eq!(state.identity_privileges.len(), 1);
        assert_eq!(state.identity_privileges[0]["identityId"], "0b8e5f1c-2a4d-4c3e-9f7a-6d5c4b3a2f10");
    });
}

#[test]
fn a_slow_server_times_out_with_the_call_named() {
    let fake = payments_fake();
    fake.with(|state| state.faults.delay = std::time::Duration::from_millis(2500));
    let started = std::time::Instant::now();
    let planned = permc(&fake, &["plan", &payments(), "--timeout", "1"], Auth::User);
    assert_eq!(planned.code, 1, "{}{}", planned.stdout, planned.stderr);
    assert!(
        planned.stderr.contains(&format!("`GET /api/v1/projects/{PROJECT_ID}/roles` got no answer")),
        "{}",
        planned.stderr
    );
    assert!(planned.stderr.contains("timeout") || planned.stderr.contains("timed out"), "{}", planned.stderr);
    // Retried with backoff (GETs are idempotent), then given up: bounded, not hung.
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn a_plan_the_deploying_identity_may_not_carry_out_is_refused_before_any_write() {
    let repo = temp_dir("preflight");
    let project = format!(
        "project:\n  slug: payments\n  id: {PROJECT_ID}\nroles:\n  - slug: reader\n    name: Reader\n    permissions:\n      - subject: secrets\n        action: [describeSecret]\n"
    );
    std::fs::write(repo.join("project.yaml"), project).unwrap();
    let identities = "identities:\n  - name: ci-deployer\n    id: 0b8e5f1c-2a4d-4c3e-9f7a-6d5c4b3a2f10\n    roles: [no-access]\n  - name: reporter\n    id: 5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716\n    roles: [reader]\n";
    std::fs::write(repo.join("identities.yaml"), identities).unwrap();
    let fake = Fake::start(
        PROJECT_ID,
        "payments",
        &[
            ("ci-deployer", "0b8e5f1c-2a4d-4c3e-9f7a-6d5c4b3a2f10"),
            ("reporter", "5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716"),
        ],
        &[],
    );
    fake.add_identity_member("ci-deployer", &["no-access"]);
    fake.with(|state| state.login_identity = Some("0b8e5f1c-2a4d-4c3e-9f7a-6d5c4b3a2f10".into()));
    let path = repo.to_str().unwrap();
    let refused = permc(&fake, &["apply", path, "--auto-approve"], Auth::Identity);
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(refused.stderr.contains("refusing to apply: nothing was changed"), "{}", refused.stderr);
    let role =
        "identity `0b8e5f1c-2a4d-4c3e-9f7a-6d5c4b3a2f10` may not `create` on `role`, needed to create `role.reader`";
    assert!(refused.stderr.contains(role), "{}", refused.stderr);
    let membership = "may not `create` on `identity` ({\"identityId\":\"5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716\"})";
    assert!(refused.stderr.contains(membership), "{}", refused.stderr);
    fake.with(|state| assert_eq!(state.writes, 0));

    // As a project admin it may, and the plan afterwards is empty.
    fake.with(|state| {
        state.identity_memberships[0]["roles"] = json!([{ "id": "r-1", "role": "admin", "isTemporary": false }]);
    });
    let applied = permc(&fake, &["apply", path, "--auto-approve"], Auth::Identity);
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    assert_eq!(permc(&fake, &["plan", path], Auth::Identity).code, 0);
}

#[test]
fn a_plan_says_what_changes_in_each_members_access() {
    let fake = payments_fake();
    assert_eq!(apply(&fake, &payments()).code, 0);
    let repo = temp_dir("effect");
    copy_dir(Path::new(&payments()), &repo);
    let roles = repo.join("roles.hcl");
    let text = std::fs::read_to_string(&roles).unwrap();
    let edited = text.replacen(
        "action  = [\"describeSecret\", \"readValue\", \"create\", \"edit\", \"delete\"]",
        "action  = [\"describeSecret\", \"readValue\", \"create\", \"edit\"]",
        1,
    );
    assert_ne!(text, edited);
    std::fs::write(&roles, edited).unwrap();
    let planned = plan(&fake, repo.to_str().unwrap());
    assert_eq!(planned.code, 2, "{}{}", planned.stdout, planned.stderr);
    let expected = "  `user.bob@example.com`\n    loses `secrets:delete` (e.g. environment=dev secretPath=/services)\n";
    assert!(planned.stdout.contains(expected), "{}", planned.stdout);
    assert!(planned.stdout.contains("  `user.carol@example.com`\n    loses `secrets:delete`"), "{}", planned.stdout);
    assert!(!planned.stdout.contains("`user.dave@example.com`"), "dave's access does not change: {}", planned.stdout);

    // Saved as JSON, the summary is data.
    let dir = temp_dir("effect-json");
    let file = dir.join("plan.json");
    assert_eq!(permc(&fake, &["plan", repo.to_str().unwrap(), "--out", file.to_str().unwrap()], Auth::User).code, 2);
    let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let bob = saved["access"].as_array().unwrap().iter().find(|it| it["member"] == "user.bob@example.com").unwrap();
    assert_eq!(bob["losses"][0]["request"], "secrets:delete");
    assert_eq!(bob["gains"], json!([]));
}

#[test]
fn a_role_created_concurrently_fails_clearly_and_a_rerun_converges() {
    let fake = payments_fake();
    fake.with(|state| state.faults.concurrent_role = Some("prod-reader".into()));
    let failed = apply(&fake, &payments());
    assert_eq!(failed.code, 1, "{}{}", failed.stdout, failed.stderr);
    // Infisical's answer to a duplicate slug on create is a 404; permc shows it as it is, with the call.
    assert!(failed.stdout.contains("failed: role `role.prod-reader`"), "{}", failed.stdout);
    assert!(failed.stdout.contains("failed with 404: NotFound: Role with prod-reader exists"), "{}", failed.stdout);
    let rerun = apply(&fake, &payments());
    assert_eq!(rerun.code, 0, "{}{}", rerun.stdout, rerun.stderr);
    assert!(rerun.stdout.contains("updated role `role.prod-reader`"), "{}", rerun.stdout);
    assert_eq!(plan(&fake, &payments()).code, 0);
    fake.with(|state| assert_eq!(state.roles.iter().filter(|it| it["slug"] == "prod-reader").count(), 1));
}
