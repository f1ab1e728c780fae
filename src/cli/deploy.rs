//! `permc build`, `permc plan`, `permc apply` and `permc import`.
//!
//! Exit codes of `plan` follow `terraform plan -detailed-exitcode`: 0 no changes, 2 changes, 1 error.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::exit;
use crate::catalog::Catalog;
use crate::deploy::api::{Client, Retry, Secret};
use crate::deploy::apply::Outcome;
use crate::deploy::desired::{self, Kind, Object};
use crate::deploy::live::{self, Live};
use crate::deploy::plan::{self, Action, Plan};
use crate::deploy::{import, wire};
use crate::render::{self, termcolor};
use crate::workspace::{self, Analysis};

const DEFAULT_HOST: &str = "https://app.infisical.com";

#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    /// The policy repository.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Where to write one JSON file of requests per object.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct RemoteArgs {
    /// Infisical's address [default: `INFISICAL_HOST`, else the project's `host`, else Infisical cloud].
    #[arg(long, value_name = "URL")]
    host: Option<String>,
    /// Seconds before one call is abandoned.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u64,
    /// The first backoff between retries, in milliseconds (it doubles).
    #[arg(long, value_name = "MS", default_value_t = 500, hide = true)]
    backoff_ms: u64,
}

/// The repository, the project it names, and whether undeclared objects are deleted.
#[derive(clap::Args, Debug)]
pub struct RepoArgs {
    /// The policy repository.
    #[arg(default_value = ".")]
    path: PathBuf,
    #[command(flatten)]
    remote: RemoteArgs,
    /// Delete live objects the repository does not declare (user memberships excepted).
    #[arg(long)]
    prune: bool,
}

#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    repo: RepoArgs,
    /// Also write the plan as JSON, for `permc apply --plan`.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct ApplyArgs {
    #[command(flatten)]
    repo: RepoArgs,
    /// Apply a plan saved by `permc plan --out` (refused if the project changed since).
    #[arg(long, value_name = "FILE")]
    plan: Option<PathBuf>,
    /// Apply without asking.
    #[arg(long)]
    auto_approve: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Surface {
    Yaml,
    Hcl,
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// Where to write the policy files (an empty or new directory).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The project's id.
    #[arg(long, value_name = "ID", env = "INFISICAL_PROJECT_ID", required_unless_present = "from_terraform")]
    project_id: Option<String>,
    /// The project's slug (access approval policies are listed by slug).
    #[arg(long, value_name = "SLUG", required_unless_present = "from_terraform")]
    project_slug: Option<String>,
    /// Read the Infisical Terraform provider's configuration (a `.tf` file or a directory of them) instead
    /// of a live project.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["project_id", "project_slug"])]
    from_terraform: Option<PathBuf>,
    /// The surface of the written files.
    #[arg(long = "to", value_enum, default_value_t = Surface::Yaml)]
    surface: Surface,
    #[command(flatten)]
    remote: RemoteArgs,
}

/// Analyses the repository; refuses (printing the errors) when `permc check` would fail.
pub(super) fn checked(path: &Path, catalog: &Catalog, what: &str) -> Result<Analysis, String> {
    let analysis = workspace::analyze(path, catalog).map_err(|error| error.to_string())?;
    let errors = analysis.error_count();
    if errors > 0 {
        let mut out = termcolor::BufferedStandardStream::stderr(termcolor::ColorChoice::Never);
        for diagnostic in analysis.diagnostics.iter().filter(|it| it.is_error()) {
            let _ = render::human_styled(&analysis.db, diagnostic, &mut out);
        }
        let _ = out.flush();
        return Err(format!(
            "refusing to {what}: `permc check` reports {errors} error{} in `{}`",
            if errors == 1 { "" } else { "s" },
            path.display()
        ));
    }
    if analysis.db.is_empty() {
        return Err(format!("no policy files under `{}`", path.display()));
    }
    Ok(analysis)
}

/// A file name for an address: letters, digits and `.-_@` kept, the rest `_`.
fn file_name(address: &str) -> String {
    let safe: String =
        address.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_@".contains(c) { c } else { '_' }).collect();
    format!("{safe}.json")
}

pub fn build(args: &BuildArgs, catalog: &Catalog) -> Result<u8, String> {
    let analysis = checked(&args.path, catalog, "build")?;
    let declaration = analysis.project.declaration();
    let ids = wire::Ids {
        project_id: declaration
            .and_then(|it| it.id.as_ref())
            .map_or_else(|| "${project id}".to_owned(), |it| it.value.clone()),
        project_slug: declaration
            .and_then(|it| it.slug.as_ref())
            .map_or_else(|| "${project slug}".to_owned(), |it| it.value.clone()),
        placeholders: true,
        ..wire::Ids::default()
    };
    std::fs::create_dir_all(&args.out).map_err(|error| format!("cannot create `{}`: {error}", args.out.display()))?;
    let objects = desired::objects(&analysis.project);
    for object in &objects {
        let requests = wire::create(object, &ids)?;
        let text = serde_json::to_string_pretty(&serde_json::json!({
            "address": object.address,
            "kind": object.kind,
            "requests": requests,
        }))
        .map_err(|error| error.to_string())?;
        let path = args.out.join(file_name(&object.address));
        super::write_file(&path, &format!("{text}\n"))?;
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "wrote {} objects to `{}`", objects.len(), args.out.display()).map_err(|error| error.to_string())?;
    Ok(exit::CLEAN)
}

/// Host, project id and slug, and a signed-in client.
struct Target {
    client: Client,
    project_id: String,
    project_slug: String,
}

fn connect(
    remote: &RemoteArgs,
    declared_host: Option<&str>,
    project_id: String,
    project_slug: String,
) -> Result<Target, String> {
    let host = remote
        .host
        .clone()
        .or_else(|| std::env::var("INFISICAL_HOST").ok().filter(|it| !it.is_empty()))
        .or_else(|| declared_host.map(str::to_owned))
        .unwrap_or_else(|| DEFAULT_HOST.to_owned());
    let timeout = Duration::from_secs(remote.timeout.max(1));
    let retry = Retry { backoff: Duration::from_millis(remote.backoff_ms), ..Retry::default() };
    let client = if let Some(token) = std::env::var("INFISICAL_TOKEN").ok().filter(|it| !it.is_empty()) {
        Client::new(&host, Secret::new(token), timeout, retry)?
    } else {
        let id = std::env::var("INFISICAL_UNIVERSAL_AUTH_CLIENT_ID").ok().filter(|it| !it.is_empty());
        let secret = std::env::var("INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET").ok().filter(|it| !it.is_empty());
        match (id, secret) {
            (Some(id), Some(secret)) => Client::login(&host, &id, &Secret::new(secret), timeout, retry)?,
            _ => {
                return Err("no credentials: set `INFISICAL_TOKEN`, or `INFISICAL_UNIVERSAL_AUTH_CLIENT_ID` and \
                            `INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET`"
                    .to_owned());
            }
        }
    };
    Ok(Target { client, project_id, project_slug })
}

fn target_of(analysis: &Analysis, remote: &RemoteArgs) -> Result<Target, String> {
    let declaration = analysis.project.declaration().ok_or("the repository declares no `project`")?;
    let id = declaration.id.as_ref().ok_or("the `project` declaration has no `id`: plan needs the project's id")?;
    let slug = declaration.slug.as_ref().ok_or("the `project` declaration has no `slug`")?;
    connect(remote, declaration.host.as_ref().map(|it| it.value.as_str()), id.value.clone(), slug.value.clone())
}

/// Reads the live project: the kinds `objects` has, or every kind.
fn read_live(target: &Target, catalog: &Catalog, objects: Option<&[Object]>) -> Result<Live, String> {
    // Predefined and reserved slugs are Infisical's own roles, never managed (or pruned) here.
    let mut predefined: Vec<&str> = catalog.predefined_roles().iter().map(|it| it.slug.as_str()).collect();
    predefined.extend(catalog.reserved_role_slugs());
    let kinds: Vec<Kind> = match objects {
        Some(objects) => objects.iter().map(|it| it.kind).collect(),
        None => Kind::ALL.to_vec(),
    };
    live::read(&target.client, &target.project_id, &target.project_slug, &predefined, &kinds)
        .map_err(|error| format!("cannot read project `{}`: {error}", target.project_id))
}

fn make_plan(analysis: &Analysis, target: &Target, catalog: &Catalog, prune: bool) -> Result<(Plan, Live), String> {
    let objects: Vec<Object> = desired::objects(&analysis.project);
    // Without `--prune`, kinds the repository does not use are not read.
    let live = read_live(target, catalog, if prune { None } else { Some(&objects) })?;
    let plan = plan::plan(target.client.host(), &objects, &live, prune).with_effects(
        catalog,
        &objects,
        &live,
        super::now_ms(),
    );
    Ok((plan, live))
}

fn print(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|error| error.to_string())
}

/// `permc plan`: 0 no changes, 2 changes, 1 error.
pub fn plan(args: &PlanArgs, catalog: &Catalog) -> u8 {
    let result = (|| {
        let repo = &args.repo;
        let analysis = checked(&repo.path, catalog, "plan")?;
        let target = target_of(&analysis, &repo.remote)?;
        let (plan, _) = make_plan(&analysis, &target, catalog, repo.prune)?;
        print(&plan::render(&plan))?;
        if let Some(path) = &args.out {
            let text = serde_json::to_string_pretty(&plan).map_err(|error| error.to_string())?;
            super::write_file(path, &format!("{text}\n"))?;
        }
        Ok::<_, String>(if plan.is_empty() { 0 } else { 2 })
    })();
    result.unwrap_or_else(|message| {
        let _ = writeln!(std::io::stderr(), "error: {message}");
        1
    })
}

fn confirm(plan: &Plan) -> Result<bool, String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err("refusing to apply without confirmation: pass `--auto-approve` when not at a terminal".into());
    }
    print(&format!(
        "apply these {} changes to project `{}`? type `yes` to go on: ",
        plan.changes.len(),
        plan.project_id
    ))?;
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(|error| error.to_string())?;
    Ok(line.trim() == "yes")
}

pub fn apply(args: &ApplyArgs, catalog: &Catalog) -> u8 {
    let result = (|| {
        let repo = &args.repo;
        let analysis = checked(&repo.path, catalog, "apply")?;
        let target = target_of(&analysis, &repo.remote)?;
        let (plan, mut live) = match &args.plan {
            None => make_plan(&analysis, &target, catalog, repo.prune)?,
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
                let saved: Plan = serde_json::from_str(&text).map_err(|error| {
                    format!("`{}` is not a plan written by `permc plan --out`: {error}", path.display())
                })?;
                if saved.format != plan::FORMAT {
                    return Err(format!(
                        "`{}` has plan format {}, this permc reads {}",
                        path.display(),
                        saved.format,
                        plan::FORMAT
                    ));
                }
                if saved.project_id != target.project_id || saved.host != target.client.host() {
                    return Err(format!(
                        "`{}` was made for project `{}` at `{}`, not `{}` at `{}`",
                        path.display(),
                        saved.project_id,
                        saved.host,
                        target.project_id,
                        target.client.host()
                    ));
                }
                let objects = desired::objects(&analysis.project);
                let live = read_live(&target, catalog, if saved.prune { None } else { Some(&objects) })?;
                if live.digest() != saved.live_digest {
                    return Err(format!(
                        "project `{}` changed since `{}` was made: run `permc plan` again",
                        target.project_id,
                        path.display()
                    ));
                }
                (saved, live)
            }
        };
        print(&plan::render(&plan))?;
        if plan.is_empty() {
            return Ok(exit::CLEAN);
        }
        preflight(catalog, &target, &live, &plan)?;
        if !args.auto_approve && !confirm(&plan)? {
            print("apply cancelled: nothing was changed\n")?;
            return Ok(exit::FINDINGS);
        }
        let now = crate::check::values::format_iso_datetime(super::now_ms());
        let report = crate::deploy::apply::apply(&target.client, &plan, &mut live, &now, &mut |change, outcome| {
            let verb = match change.action {
                Action::Create => "created",
                Action::Update => "updated",
                Action::Delete => "deleted",
            };
            let line = match outcome {
                Outcome::Applied => format!("{verb} {} `{}`\n", change.kind.noun(), change.address),
                Outcome::Failed(error) => format!("failed: {} `{}`: {error}\n", change.kind.noun(), change.address),
                Outcome::NotAttempted => format!("not attempted: {} `{}`\n", change.kind.noun(), change.address),
            };
            let _ = print(&line);
        });
        if report.ok() {
            print(&format!("apply complete: {} changes applied and read back\n", report.applied()))?;
            Ok(exit::CLEAN)
        } else {
            Err(format!(
                "apply stopped: {} of {} changes applied (listed above), the rest not attempted; fix the cause and run \
                 `permc apply` again: it plans from what is live, so nothing is applied twice",
                report.applied(),
                plan.changes.len()
            ))
        }
    })();
    result.unwrap_or_else(|message| {
        let _ = writeln!(std::io::stderr(), "error: {message}");
        exit::FINDINGS
    })
}

pub fn import(args: &ImportArgs, catalog: &Catalog) -> Result<u8, String> {
    if args.out.exists() {
        let busy = std::fs::read_dir(&args.out)
            .map_err(|error| format!("cannot read `{}`: {error}", args.out.display()))?
            .flatten()
            .any(|entry| crate::syntax::Format::of_path(&entry.path()).is_some());
        if busy {
            return Err(format!(
                "`{}` already has policy files: import writes into an empty or new directory",
                args.out.display()
            ));
        }
    }
    let surface = match args.surface {
        Surface::Yaml => import::Surface::Yaml,
        Surface::Hcl => import::Surface::Hcl,
    };
    let (files, summary) = match &args.from_terraform {
        Some(path) => {
            let document = from_terraform(path)?;
            let origin = format!("the Terraform configuration `{}`", path.display());
            (import::files(&document, surface, &origin), "the Terraform configuration".to_owned())
        }
        None => {
            let id = args.project_id.clone().unwrap_or_default();
            let slug = args.project_slug.clone().unwrap_or_default();
            let target = connect(&args.remote, None, id, slug)?;
            let live = read_live(&target, catalog, None)?;
            let document = import::document(&live, target.client.host());
            let origin = format!("project `{}`", target.project_id);
            (import::files(&document, surface, &origin), format!("{} objects", live.objects.len()))
        }
    };
    std::fs::create_dir_all(&args.out).map_err(|error| format!("cannot create `{}`: {error}", args.out.display()))?;
    for (name, text) in &files {
        let path = args.out.join(name);
        super::write_file(&path, text)?;
    }
    print(&format!("imported {summary} into {} files under `{}`\n", files.len(), args.out.display()))?;
    Ok(exit::CLEAN)
}

/// Reads `*.tf` files (one, or every one in a directory) into a document, printing what could not be read.
fn from_terraform(path: &Path) -> Result<serde_json::Value, String> {
    let mut paths = Vec::new();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).map_err(|error| format!("cannot read `{}`: {error}", path.display()))? {
            let entry = entry.map_err(|error| error.to_string())?.path();
            if entry.extension().is_some_and(|it| it == "tf") {
                paths.push(entry);
            }
        }
        paths.sort();
    } else {
        paths.push(path.to_owned());
    }
    if paths.is_empty() {
        return Err(format!("no `*.tf` files in `{}`", path.display()));
    }
    let mut db = crate::source::SourceDb::new();
    let mut ids = Vec::new();
    for path in &paths {
        let bytes = std::fs::read(path).map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
        let text = String::from_utf8(bytes).map_err(|_| format!("`{}` is not UTF-8", path.display()))?;
        ids.push(db.add(crate::source::SourceFile::new(path.clone(), text)));
    }
    let texts: Vec<(crate::source::FileId, &str)> = ids.iter().map(|id| (*id, db.get(*id).text.as_str())).collect();
    let (document, diagnostics) = crate::deploy::terraform::document(&texts);
    let mut out = termcolor::BufferedStandardStream::stderr(termcolor::ColorChoice::Never);
    for diagnostic in &diagnostics {
        let _ = render::human_styled(&db, diagnostic, &mut out);
    }
    let _ = out.flush();
    if diagnostics.iter().any(|it| it.is_error()) {
        return Err("the Terraform configuration has errors; nothing was written".to_owned());
    }
    Ok(document)
}

/// Refuses a plan the deploying user or identity may not carry out, judged with its own live rules.
fn preflight(catalog: &Catalog, target: &Target, live: &Live, plan: &Plan) -> Result<(), String> {
    use crate::deploy::actor;
    let Some(actor) = target.client.claims().as_ref().and_then(actor::Actor::from_claims) else { return Ok(()) };
    let Some(rules) = actor::rules(catalog, live, &actor, super::now_ms()) else { return Ok(()) };
    let refusals = actor::refusals(live, &actor, &rules, plan);
    if refusals.is_empty() {
        for warning in actor::boundary_warnings(catalog, live, &actor, plan, super::now_ms()) {
            let _ = writeln!(std::io::stderr(), "warning: {warning}");
        }
        return Ok(());
    }
    Err(format!(
        "refusing to apply: nothing was changed; the deploying credentials lack permissions this plan needs:\n{}\n  help: grant them to the deploying user or identity, or apply with credentials that have them",
        refusals.iter().map(|it| format!("  - {it}")).collect::<Vec<_>>().join("\n")
    ))
}
