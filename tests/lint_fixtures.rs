//! One fixture directory per lint: `tests/fixtures/lint/<code-name>/`.
//!
//! Every `invalid*` file must produce its directory's code; every `valid*` file must produce no diagnostic
//! at all. Lints are judged at a fixed time, 2026-11-22T12:00:00Z. The rendered diagnostics of each file are
//! snapshot in `snapshots/lint/`.

use std::path::Path;

use permc::catalog::Catalog;
use permc::check::values::parse_iso_datetime_ms;
use permc::codes::Code;
use permc::lint::Options;
use permc::render;
use permc::workspace::analyze_sources;

fn rendered(path: &Path) -> (String, Vec<&'static str>) {
    let relative = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap().to_path_buf();
    let bytes = std::fs::read(path).unwrap();
    let mut analysis = analyze_sources(vec![(relative, bytes)], Catalog::builtin());
    let options = Options { now_ms: parse_iso_datetime_ms("2026-11-22T12:00:00Z").unwrap() };
    analysis.lint(Catalog::builtin(), &options, false);
    let text: String = analysis.diagnostics.iter().map(|it| render::human_string(&analysis.db, it)).collect();
    let codes = analysis.diagnostics.iter().map(|it| it.code.id()).collect();
    (text, codes)
}

#[test]
fn lint_fixtures() {
    insta::with_settings!({ snapshot_path => "../snapshots/lint", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::glob!("fixtures/lint/*/*.{yaml,yml,json,hcl}", |path| {
            let code_name = path.parent().unwrap().file_name().unwrap().to_str().unwrap();
            let code = Code::parse(code_name).unwrap_or_else(|| panic!("fixture directory `{code_name}` names no code"));
            assert!(code.is_lint(), "{code_name} is not a lint");
            let file_name = path.file_name().unwrap().to_str().unwrap();
            let (text, codes) = rendered(path);
            if file_name.starts_with("valid") {
                assert!(codes.is_empty(), "{} must be free of diagnostics, got:\n{text}", path.display());
            } else {
                assert!(codes.contains(&code.id()), "{} must report {} ({code_name}), got:\n{text}", path.display(), code.id());
            }
            insta::assert_snapshot!(text);
        });
    });
}
