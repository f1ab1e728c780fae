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

/// What `lint` adds to `check`.
pub struct Lint<'a> {
    pub options: &'a Options,
    pub deny_warnings: bool,
    pub baseline: Option<&'a Path>,
    pub write_baseline: Option<&'a Path>,
}

fn analyze(path: &Path, catalog: &Catalog, lint: Option<&Lint>) -> Result<workspace::Analysis, String> {
    let mut analysis = workspace::analyze(path, catalog).map_err(|error| error.to_string())?;
    if let Some(lint) = lint {
        analysis.lint(catalog, lint.options, lint.deny_warnings);
    }
    Ok(analysis)
}

/// `check`, and with `lint` the lints.
pub fn run_with(path: &Path, common: &CommonArgs, catalog: &Catalog, lint: Option<&Lint>) -> Result<u8, String> {
    let mut analysis = analyze(path, catalog, lint)?;
    if common.fix {
        let fixed = crate::fix::safe_fixes(&analysis.db, &analysis.diagnostics);
        for (file, text) in &fixed.files {
            super::write_file(file, text)?;
        }
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "fixed {} finding{} in {} file{}",
            fixed.applied,
            if fixed.applied == 1 { "" } else { "s" },
            fixed.files.len(),
            if fixed.files.len() == 1 { "" } else { "s" }
        );
        for file in &fixed.refused {
            let _ = writeln!(
                err,
                "warning: some fixes in `{}` were left out: the fixed text would not parse",
                file.display()
            );
        }
        if !fixed.files.is_empty() {
            analysis = analyze(path, catalog, lint)?;
        }
    }
    if let Some(lint) = lint {
        if let Some(file) = lint.write_baseline {
            let baseline = crate::lint::baseline::write(&analysis.db, &analysis.diagnostics);
            let count = baseline["findings"]
                .as_array()
                .map_or(0, |it| it.iter().filter_map(|f| f["count"].as_u64()).sum::<u64>());
            let text = serde_json::to_string_pretty(&baseline).map_err(|error| error.to_string())?;
            super::write_file(file, &format!("{text}\n"))?;
            let _ = writeln!(std::io::stdout().lock(), "wrote {count} findings to the baseline `{}`", file.display());
            return Ok(exit::CLEAN);
        }
        if let Some(file) = lint.baseline {
            let text = std::fs::read_to_string(file)
                .map_err(|error| format!("cannot read the baseline `{}`: {error}", file.display()))?;
            let value: serde_json::Value = serde_json::from_str(&text)
                .map_err(|error| format!("the baseline `{}` is not JSON: {error}", file.display()))?;
            let gone = crate::lint::baseline::apply(&analysis.db, &mut analysis.diagnostics, &value)
                .map_err(|error| format!("the baseline `{}`: {error}", file.display()))?;
            if gone > 0 {
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "note: {gone} finding{} of the baseline `{}` no longer occur; `--write-baseline` records the new state",
                    if gone == 1 { "" } else { "s" },
                    file.display()
                );
            }
        }
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
            use rayon::prelude::*;
            let color = use_color(common.color);
            let choice = if color { termcolor::ColorChoice::Always } else { termcolor::ColorChoice::Never };
            let mut out = termcolor::BufferedStandardStream::stdout(choice);
            // Rendered in parallel and written in order, a slice at a time: a large report is never held
            // whole in memory.
            for slice in analysis.diagnostics.chunks(4096) {
                let rendered: Vec<Vec<u8>> = slice
                    .par_iter()
                    .map(|diagnostic| {
                        if !color {
                            return Ok(render::human_string(db, diagnostic).into_bytes());
                        }
                        let mut buffer = termcolor::Buffer::ansi();
                        render::human_styled(db, diagnostic, &mut buffer).map(|()| buffer.into_inner())
                    })
                    .collect::<Result<_, _>>()
                    .map_err(|error| error.to_string())?;
                for bytes in &rendered {
                    out.write_all(bytes).map_err(|error| error.to_string())?;
                }
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
    let code = if analysis.error_count() > 0 { exit::FINDINGS } else { exit::CLEAN };
    // The process ends here: freeing the repository's model piece by piece would only cost time.
    std::mem::forget(analysis);
    Ok(code)
}
