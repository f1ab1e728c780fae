//! `permc roles suggest`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;

use super::{OutputFormat, exit};
use crate::roles::mining;

#[derive(clap::Args, Debug)]
pub struct RolesArgs {
    #[command(subcommand)]
    command: RolesCommand,
}

#[derive(clap::Subcommand, Debug)]
enum RolesCommand {
    /// Propose custom roles for privileges granted again and again.
    Suggest(SuggestArgs),
}

#[derive(clap::Args, Debug)]
pub struct SuggestArgs {
    /// The policy repository.
    #[arg(default_value = ".", conflicts_with = "matrix")]
    path: PathBuf,
    /// The fewest members a proposed role must serve.
    #[arg(long, value_name = "N", default_value_t = 2)]
    min_members: usize,
    /// Never reuse an existing custom role, even one that means exactly the same.
    #[arg(long)]
    no_reuse: bool,
    /// Apply the rewrite to the policy files (new roles go to a new `suggested-roles` file); refused
    /// unless the rewritten repository checks and every member's access is unchanged.
    #[arg(long, conflicts_with = "matrix")]
    write: bool,
    /// Run the engine on a user-permission matrix (`<user id> <permission id>` per line) instead of a
    /// policy repository.
    #[arg(long, value_name = "FILE")]
    matrix: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
    /// Seconds for the exact search before the best cover found is returned.
    #[arg(long, value_name = "SECONDS", default_value_t = 20)]
    time_limit: u64,
}

pub fn run(args: &RolesArgs) -> Result<u8, String> {
    match &args.command {
        RolesCommand::Suggest(args) => suggest(args),
    }
}

fn suggest(args: &SuggestArgs) -> Result<u8, String> {
    let Some(path) = &args.matrix else { return suggest_repository(args) };
    let text = std::fs::read_to_string(path).map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
    let mining::Matrix { users, permissions, rows } =
        mining::parse_pairs(&text).map_err(|error| format!("`{}`: {error}", path.display()))?;
    let limits = mining::Limits { time: std::time::Duration::from_secs(args.time_limit), ..mining::Limits::default() };
    let started = Instant::now();
    let solution = mining::mine(&rows, permissions.len(), &limits);
    let elapsed = started.elapsed();
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        OutputFormat::Json => {
            let roles: Vec<Vec<u64>> =
                solution.roles.iter().map(|role| role.iter().map(|&p| permissions[p]).collect()).collect();
            let assignments: serde_json::Map<String, serde_json::Value> =
                users.iter().zip(&solution.assignments).map(|(user, roles)| (user.to_string(), json!(roles))).collect();
            let report = json!({
                "role_count": solution.roles.len(),
                "edges": solution.edges(),
                "optimal": solution.optimal,
                "lower_bound": solution.lower_bound,
                "roles": roles,
                "assignments": assignments,
                "seconds": elapsed.as_secs_f64(),
            });
            writeln!(out, "{report}")
        }
        OutputFormat::Human => writeln!(
            out,
            "{} roles ({}) for {} users and {} permissions; |UA|+|PA| = {}; {:.2} s",
            solution.roles.len(),
            if solution.optimal {
                "proven minimal".to_owned()
            } else {
                format!("at least {} needed", solution.lower_bound)
            },
            users.len(),
            permissions.len(),
            solution.edges(),
            elapsed.as_secs_f64()
        ),
    };
    written.map_err(|error| error.to_string())?;
    Ok(exit::CLEAN)
}

fn suggest_repository(args: &SuggestArgs) -> Result<u8, String> {
    let catalog = crate::catalog::Catalog::builtin();
    let analysis = super::deploy::checked(&args.path, catalog, "suggest roles")?;
    let options = crate::roles::propose::Options {
        min_members: args.min_members,
        reuse: !args.no_reuse,
        limits: mining::Limits { time: std::time::Duration::from_secs(args.time_limit), ..mining::Limits::default() },
    };
    let proposal = crate::roles::propose::propose(catalog, &analysis.project, &options);
    let mut out = std::io::stdout().lock();
    let text = match args.format {
        OutputFormat::Json => serde_json::to_string(&proposal).map_err(|error| error.to_string())? + "\n",
        OutputFormat::Human => crate::roles::propose::render(&proposal),
    };
    out.write_all(text.as_bytes()).map_err(|error| error.to_string())?;
    if !proposal.differences.is_empty() {
        return Ok(exit::FINDINGS);
    }
    if args.write && !proposal.rewrites.is_empty() {
        let root = if args.path.is_dir() {
            args.path.clone()
        } else {
            args.path.parent().map(PathBuf::from).unwrap_or_default()
        };
        let files = crate::roles::write::rewrite(catalog, &analysis, &proposal, &root)?;
        for (path, text) in &files {
            super::write_file(path, text)?;
        }
        writeln!(
            out,
            "wrote {} files: {}",
            files.len(),
            files.iter().map(|(path, _)| format!("`{}`", path.display())).collect::<Vec<_>>().join(", ")
        )
        .map_err(|error| error.to_string())?;
    }
    Ok(exit::CLEAN)
}
