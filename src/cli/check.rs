//! `permc check [PATH]`.

use std::io::Write;

use std::path::Path;

use super::{CheckArgs, CommonArgs, ReportFormat, exit, use_color};
use crate::catalog::Catalog;
use crate::lint::Options;
use crate::render::{self, termcolor};
use crate::workspace;

pub fn run(args: &CheckArgs, catalog: &Catalog) -> Result<u8, String> {
    run_with(&args.path, &args.common, catalog, None)
}

/// `check`, and with lint options `lint` (the options and whether warnings are denied).
pub fn run_with(
    path: &Path,
    common: &CommonArgs,
    catalog: &Catalog,
    lint: Option<(&Options, bool)>,
) -> Result<u8, String> {
    let mut analysis = workspace::analyze(path, catalog).map_err(|error| error.to_string())?;
    if let Some((options, deny_warnings)) = lint {
        analysis.lint(catalog, options, deny_warnings);
    }
    let db = &analysis.db;
    match common.format {
        ReportFormat::Json => {
            let report = render::json_report(db, &analysis.diagnostics);
            let mut out = std::io::stdout().lock();
            writeln!(out, "{report}").map_err(|error| error.to_string())?;
        }
        ReportFormat::Sarif => {
            let report = render::sarif(db, &analysis.diagnostics);
            let mut out = std::io::stdout().lock();
            writeln!(out, "{report}").map_err(|error| error.to_string())?;
        }
        ReportFormat::Github => {
            let mut out = std::io::stdout().lock();
            out.write_all(render::github(db, &analysis.diagnostics).as_bytes()).map_err(|error| error.to_string())?;
        }
        ReportFormat::Human => {
            let choice =
                if use_color(common.color) { termcolor::ColorChoice::Always } else { termcolor::ColorChoice::Never };
            let mut out = termcolor::BufferedStandardStream::stdout(choice);
            for diagnostic in &analysis.diagnostics {
                render::human_styled(db, diagnostic, &mut out).map_err(|error| error.to_string())?;
            }
            let summary = render::summary(&analysis.diagnostics, db.len());
            let verdict = if analysis.error_count() > 0 { "failed" } else { "ok" };
            writeln!(out, "{verdict}: {summary}").map_err(|error| error.to_string())?;
            if db.is_empty() {
                writeln!(
                    out,
                    "note: no policy files (`*.hcl`, `*.yaml`, `*.yml`, `*.json`) under `{}`",
                    path.display()
                )
                .map_err(|error| error.to_string())?;
            }
            out.flush().map_err(|error| error.to_string())?;
        }
    }
    Ok(if analysis.error_count() > 0 { exit::FINDINGS } else { exit::CLEAN })
}
