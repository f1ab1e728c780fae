//! `permc check [PATH]`.

use std::io::Write;

use super::{CheckArgs, OutputFormat, exit, use_color};
use crate::catalog::Catalog;
use crate::render::{self, termcolor};
use crate::workspace;

pub fn run(args: &CheckArgs, catalog: &Catalog) -> Result<u8, String> {
    let analysis = workspace::analyze(&args.path, catalog).map_err(|error| error.to_string())?;
    let db = &analysis.db;
    match args.common.format {
        OutputFormat::Json => {
            let report = render::json_report(db, &analysis.diagnostics);
            let mut out = std::io::stdout().lock();
            writeln!(out, "{report}").map_err(|error| error.to_string())?;
        }
        OutputFormat::Human => {
            let choice = if use_color(args.common.color) {
                termcolor::ColorChoice::Always
            } else {
                termcolor::ColorChoice::Never
            };
            let mut out = termcolor::StandardStream::stdout(choice);
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
                    args.path.display()
                )
                .map_err(|error| error.to_string())?;
            }
        }
    }
    Ok(if analysis.error_count() > 0 { exit::FINDINGS } else { exit::CLEAN })
}
