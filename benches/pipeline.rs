//! Times permc's stages on one policy repository, in process:
//!
//! - `floor`: reading every file and parsing it with the same parsers, in parallel as permc does: the
//!   time no check can beat;
//! - `check`: reading, parsing, lowering and every check (what `permc check` does before printing);
//! - `lint`: `check` plus every lint (what `permc lint` does before printing);
//! - `edit`: after a one-file edit, re-running the per-file stages for that file and the project-wide
//!   checks over the held workspace (what an editor integration does on every save); median and worst of
//!   20 edits.
//!
//! ```sh
//! cargo bench --bench pipeline -- DIR [--at RFC3339]
//! ```
//!
//! Prints one JSON object; `benches/run` collects them into the table in BENCHMARKS.md.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use permc::catalog::Catalog;
use permc::source::FileId;
use permc::syntax::{self, Format};
use permc::workspace::{Workspace, discover};
use rayon::prelude::*;

/// The allocator the `permc` binary uses, so that the numbers are the command's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn read(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let paths = discover(dir).expect("a readable repository");
    paths.into_iter().map(|path| (path.clone(), std::fs::read(&path).expect("a readable file"))).collect()
}

fn best_of<T>(runs: usize, mut work: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let value = work();
        best = best.min(start.elapsed());
        last = Some(value);
    }
    (best, last.expect("at least one run"))
}

/// A live project holding `objects` as Infisical would return them, one role or privilege in a hundred
/// without its last rule.
fn live_of(objects: &[permc::deploy::desired::Object]) -> permc::deploy::live::Live {
    use permc::deploy::desired::Kind;
    use serde_json::{Value, json};
    let mut live = permc::deploy::live::Live::default();
    live.ids.project_id = "bench".into();
    for (at, object) in objects.iter().enumerate() {
        let mut body = object.body.clone();
        let mut raw = match object.kind {
            Kind::Role => json!({ "slug": object.wire["slug"], "permissions": object.wire["permissions"] }),
            Kind::IdentityPrivilege | Kind::UserPrivilege => {
                let mut raw = object.wire["type"].clone();
                raw["permissions"] = object.wire["permissions"].clone();
                raw
            }
            Kind::IdentityMembership | Kind::UserMembership => json!({ "roles": object.wire["roles"] }),
            _ => Value::Null,
        };
        if at % 100 == 0
            && let (Some(canonical), Some(rules)) =
                (body["permissions"].as_array_mut(), raw.get_mut("permissions").and_then(Value::as_array_mut))
            && !rules.is_empty()
        {
            canonical.pop();
            rules.pop();
        }
        let object = permc::deploy::desired::Object { body, wire: Value::Null, ..object.clone() };
        live.objects.push(permc::deploy::live::LiveObject { object, id: format!("id-{at}"), raw });
    }
    live
}

fn main() {
    permc::process::avoid_huge_pages();
    let mut args = std::env::args().skip(1).filter(|it| it != "--bench");
    let mut dir = None;
    let mut at = "2026-11-22T12:00:00Z".to_owned();
    while let Some(arg) = args.next() {
        if arg == "--at" {
            at = args.next().expect("--at TIME");
        } else {
            dir = Some(PathBuf::from(arg));
        }
    }
    let Some(dir) = dir else {
        eprintln!("usage: cargo bench --bench pipeline -- DIR [--at RFC3339]");
        std::process::exit(2);
    };
    let now_ms = permc::check::values::parse_iso_datetime_ms(&at).expect("an RFC 3339 time");
    let catalog = Catalog::builtin();
    let runs = 3;

    let (floor, (bytes, files)) = best_of(runs, || {
        let files = read(&dir);
        let bytes: usize = files.iter().map(|(_, it)| it.len()).sum();
        files.par_iter().enumerate().for_each(|(at, (path, text))| {
            let text = std::str::from_utf8(text).unwrap_or_default();
            let parse = syntax::parse(FileId(at as u32), Format::of_path(path).unwrap_or(Format::Yaml), text);
            std::hint::black_box(parse);
        });
        (bytes, files.len())
    });
    let (check, rules) = best_of(runs, || {
        let workspace = Workspace::new(read(&dir), catalog);
        std::hint::black_box(workspace.diagnostics(catalog));
        let project = &workspace.project;
        let count = |permissions: Option<&permc::model::Permissions>| {
            permissions.and_then(|it| it.stored.as_ref()).map_or(0, Vec::len)
        };
        project.roles.iter().map(|it| count(it.permissions.as_deref())).sum::<usize>()
            + project
                .members()
                .flat_map(|member| member.privileges.iter())
                .map(|it| count(it.permissions.as_deref()))
                .sum::<usize>()
    });
    let options = permc::lint::Options { now_ms };
    let (lint, warnings) = best_of(runs, || {
        let mut analysis = Workspace::new(read(&dir), catalog).into_analysis(catalog);
        analysis.lint(catalog, &options, false);
        analysis.diagnostics.len()
    });

    // The plan diff: the repository against a live project equal to it but for one role or privilege in
    // a hundred, which lost its last rule; the canonical comparison, the effective-access summary of every
    // member whose rules changed, and the rendered plan.
    let project = Workspace::new(read(&dir), catalog).project;
    let objects = permc::deploy::desired::objects(&project);
    let live = live_of(&objects);
    let (plan_time, changes) = best_of(runs, || {
        let plan = permc::deploy::plan::plan("https://bench", &objects, &live, false)
            .with_effects(catalog, &objects, &live, now_ms);
        std::hint::black_box(permc::deploy::plan::render(&plan));
        plan.changes.len()
    });

    // Edits of a file in the middle of the repository: a comment line (`#` in HCL and YAML) appended, 20
    // times.
    let files_in = read(&dir);
    let (path, original) = files_in[files_in.len() / 2].clone();
    let mut workspace = Workspace::new(files_in, catalog);
    // What an editor has done when the repository was opened.
    std::hint::black_box(workspace.diagnostics(catalog));
    let mut edits = Vec::new();
    for edit in 0..20 {
        let mut text = original.clone();
        text.extend_from_slice(format!("\n# edit {edit}\n").as_bytes());
        let start = Instant::now();
        workspace.update(&path, text, catalog);
        std::hint::black_box(workspace.diagnostics(catalog));
        edits.push(start.elapsed());
    }
    edits.sort();
    let ms = |it: Duration| (it.as_secs_f64() * 1e4).round() / 10.0;
    let report = serde_json::json!({
        "dir": dir.display().to_string(),
        "files": files,
        "bytes": bytes,
        "rules": rules,
        "floor_ms": ms(floor),
        "check_ms": ms(check),
        "lint_ms": ms(lint),
        "lint_diagnostics": warnings,
        "plan_ms": ms(plan_time),
        "plan_changes": changes,
        "edit_median_ms": ms(edits[edits.len() / 2]),
        "edit_max_ms": ms(edits[edits.len() - 1]),
        "floor_mb_per_s": (bytes as f64 / 1e6 / floor.as_secs_f64() * 10.0).round() / 10.0,
        "lint_rules_per_s": (rules as f64 / lint.as_secs_f64()).round(),
        "lint_over_floor": (lint.as_secs_f64() / floor.as_secs_f64() * 10.0).round() / 10.0,
    });
    println!("{report}");
}
