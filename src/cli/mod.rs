//! The command line. With the language server, the only place that prints or reads the environment.

mod batch;
mod can;
mod check;
mod deploy;
mod explain;
mod roles;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::catalog::Catalog;

/// Infisical project permissions as code.
#[derive(Parser, Debug)]
#[command(name = "permc", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check every policy file under PATH against Infisical's permission catalog.
    Check(CheckArgs),
    /// Check, then report what is legal but unwise: redundant and shadowed rules, legacy actions, ...
    Lint(LintArgs),
    /// Print the documentation of a diagnostic code (`PC1010` or `unknown-subject`).
    Explain(ExplainArgs),
    /// Print the JSON Schema of YAML/JSON policy files for the catalog in use.
    Schema(SchemaArgs),
    /// Evaluate permissions exactly as Infisical does.
    Can(CanArgs),
    /// Write the exact API request bodies for every object the repository declares.
    Build(deploy::BuildArgs),
    /// Compare the repository with the live project: 0 no changes, 2 changes, 1 error.
    Plan(deploy::PlanArgs),
    /// Make the live project match the repository, reading every write back.
    Apply(deploy::ApplyArgs),
    /// Write policy files for everything in a live project.
    Import(deploy::ImportArgs),
    /// Propose custom roles.
    Roles(roles::RolesArgs),
    /// Run the language server over standard input and output.
    Lsp,
}

#[derive(clap::Args, Debug)]
pub struct CanArgs {
    /// The member: an identity's name, a user's email, or an id.
    #[arg(required_unless_present = "batch")]
    member: Option<String>,
    /// The request: `SUBJECT:ACTION`, e.g. `secrets:readValue`.
    #[arg(required_unless_present = "batch")]
    request: Option<String>,
    /// The policy repository.
    #[arg(short = 'C', long = "dir", value_name = "PATH", default_value = ".")]
    dir: PathBuf,
    /// The object's `environment`.
    #[arg(long, value_name = "SLUG")]
    env: Option<String>,
    /// The object's `secretPath`.
    #[arg(long, value_name = "PATH")]
    path: Option<String>,
    /// The object's `secretName`.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// The object's `secretTags`, comma-separated.
    #[arg(long, value_name = "TAGS", value_delimiter = ',')]
    tags: Option<Vec<String>>,
    /// Any other field of the object, as `KEY=VALUE` (repeatable).
    #[arg(long = "field", value_name = "KEY=VALUE")]
    fields: Vec<String>,
    /// The time of the question (ISO-8601, default now): temporary grants that ended before it are left out.
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// List every rule that was consulted, in the order Infisical consults them.
    #[arg(long)]
    explain: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
    /// Read JSON Lines on standard input (`{"id", "rules", "subject", "action", "object"?, "identity"?}`) and
    /// answer one line each; see README.
    #[arg(long, conflicts_with_all = ["member", "request"])]
    batch: bool,
    /// A catalog file to evaluate against instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    catalog: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct SchemaArgs {
    /// A catalog file to generate the schema for instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    catalog: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// A policy file or a directory of policy files (`*.hcl`, `*.yaml`, `*.yml`, `*.json`).
    #[arg(default_value = ".")]
    path: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
    /// Read JSON Lines on standard input (`{"id": ..., "rules": [...]}`) and answer one line each; see README.
    #[arg(long, conflicts_with = "path")]
    batch: bool,
}

#[derive(clap::Args, Debug)]
pub struct LintArgs {
    /// A policy file or a directory of policy files (`*.hcl`, `*.yaml`, `*.yml`, `*.json`).
    #[arg(default_value = ".")]
    path: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
    /// `--deny warnings`: report every warning as an error (exit 1), for CI.
    #[arg(long, value_name = "WHAT", value_parser = ["warnings"])]
    deny: Option<String>,
    /// The time temporary grants are judged at (ISO-8601, default now).
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Leave out the findings recorded in this baseline: CI fails on new findings only.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Record every current finding in this baseline file and exit 0.
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    write_baseline: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct CommonArgs {
    /// Output format: `sarif` for code scanning (SARIF 2.1.0), `github` for workflow annotations.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    format: ReportFormat,
    /// A catalog file to check against instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    catalog: Option<PathBuf>,
    /// When to colour the output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Apply the fixes marked safe to the files (never leaving a file that does not parse), then report
    /// what is left.
    #[arg(long)]
    fix: bool,
}

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// The code or name; omit it with `--list`.
    #[arg(required_unless_present = "list")]
    code: Option<String>,
    /// List every code with its one-line summary.
    #[arg(long)]
    list: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
}

/// The output formats of `check` and `lint`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Human,
    Json,
    Sarif,
    Github,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Exit codes, as in `cedar` and `ruff`: 0 clean, 1 findings, 2 usage or operational error.
pub mod exit {
    pub const CLEAN: u8 = 0;
    pub const FINDINGS: u8 = 1;
    pub const TROUBLE: u8 = 2;
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { exit::TROUBLE } else { exit::CLEAN };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    let code = match run(cli) {
        Ok(code) => code,
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "error: {message}");
            exit::TROUBLE
        }
    };
    ExitCode::from(code)
}

fn run(cli: Cli) -> Result<u8, String> {
    match cli.command {
        Command::Check(args) => {
            let catalog = load_catalog(&args.common)?;
            if args.batch { batch::run(catalog) } else { check::run(&args, catalog) }
        }
        Command::Lint(args) => {
            let catalog = load_catalog(&args.common)?;
            let now_ms = match &args.at {
                Some(text) => crate::check::values::parse_iso_datetime_ms(text)
                    .ok_or_else(|| format!("`--at {text}` is not an ISO-8601 time such as `2026-11-22T09:00:00Z`"))?,
                None => now_ms(),
            };
            let options = crate::lint::Options { now_ms };
            let lint = check::Lint {
                options: &options,
                deny_warnings: args.deny.is_some(),
                baseline: args.baseline.as_deref(),
                write_baseline: args.write_baseline.as_deref(),
            };
            check::run_with(&args.path, &args.common, catalog, Some(&lint))
        }
        Command::Explain(args) => explain::run(&args),
        Command::Can(args) => {
            let catalog = load_catalog_file(args.catalog.as_deref())?;
            if args.batch { can::run_batch(catalog) } else { can::run(&args, catalog) }
        }
        Command::Roles(args) => roles::run(&args),
        Command::Lsp => {
            let mut stdin = std::io::BufReader::new(std::io::stdin());
            let stdout = std::io::stdout();
            crate::lsp::serve(Catalog::builtin(), &mut stdin, &mut stdout.lock())
                .map_err(|error| format!("the language server stopped: {error}"))
        }
        Command::Build(args) => deploy::build(&args, Catalog::builtin()),
        Command::Plan(args) => Ok(deploy::plan(&args, Catalog::builtin())),
        Command::Apply(args) => Ok(deploy::apply(&args, Catalog::builtin())),
        Command::Import(args) => deploy::import(&args, Catalog::builtin()),
        Command::Schema(args) => {
            let catalog = load_catalog_file(args.catalog.as_deref())?;
            let text = serde_json::to_string_pretty(&crate::schema::policy_schema(catalog))
                .map_err(|error| error.to_string())?;
            writeln!(std::io::stdout().lock(), "{text}").map_err(|error| error.to_string())?;
            Ok(exit::CLEAN)
        }
    }
}

/// The catalog to check against. A loaded one lives for the rest of the process.
fn load_catalog(common: &CommonArgs) -> Result<&'static Catalog, String> {
    load_catalog_file(common.catalog.as_deref())
}

fn load_catalog_file(path: Option<&std::path::Path>) -> Result<&'static Catalog, String> {
    match path {
        None => Ok(Catalog::builtin()),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|error| format!("cannot read catalog `{}`: {error}", path.display()))?;
            let catalog =
                Catalog::from_json(&text).map_err(|error| format!("invalid catalog `{}`: {error}", path.display()))?;
            Ok(Box::leak(Box::new(catalog)))
        }
    }
}

/// Writes `text` to `path` beside it first and renames it into place, so that a file is never left half
/// written.
fn write_file(path: &std::path::Path, text: &str) -> Result<(), String> {
    let temporary = path.with_extension("permc-tmp");
    std::fs::write(&temporary, text).map_err(|error| format!("cannot write `{}`: {error}", temporary.display()))?;
    std::fs::rename(&temporary, path).map_err(|error| format!("cannot write `{}`: {error}", path.display()))
}

/// The current time in Unix milliseconds.
fn now_ms() -> i64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).map(|it| it.as_millis() as i64).unwrap_or_default()
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}
