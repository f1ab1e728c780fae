//! One fixture directory per diagnostic code: `tests/fixtures/check/<code-name>/`.
//!
//! Every `invalid*` file must produce its directory's code; every `valid*` file must produce no error.
//! The rendered diagnostics of each file are snapshot in `snapshots/check/`.

use std::path::Path;

use permc::catalog::Catalog;
use permc::codes::Code;
use permc::render;
use permc::workspace::analyze_sources;

fn rendered(path: &Path) -> (String, Vec<&'static str>, usize) {
    let relative = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap().to_path_buf();
    let bytes = std::fs::read(path).unwrap();
    let analysis = analyze_sources(vec![(relative, bytes)], Catalog::builtin());
    let text: String = analysis.diagnostics.iter().map(|it| render::human_string(&analysis.db, it)).collect();
    let codes = analysis.diagnostics.iter().map(|it| it.code.id()).collect();
    (text, codes, analysis.error_count())
}

#[test]
fn check_fixtures() {
    insta::with_settings!({ snapshot_path => "../snapshots/check", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::glob!("fixtures/check/*/*.{yaml,yml,json,hcl}", |path| {
            let code_name = path.parent().unwrap().file_name().unwrap().to_str().unwrap();
            let code = Code::parse(code_name).unwrap_or_else(|| panic!("fixture directory `{code_name}` names no code"));
            let file_name = path.file_name().unwrap().to_str().unwrap();
            let (text, codes, errors) = rendered(path);
            if file_name.starts_with("valid") {
                assert_eq!(errors, 0, "{} must be free of errors, got:\n{text}", path.display());
            } else {
                assert!(codes.contains(&code.id()), "{} must report {} ({code_name}), got:\n{text}", path.display(), code.id());
            }
            insta::assert_snapshot!(text);
        });
    });
}

#[test]
fn every_code_has_a_fixture() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    // Codes whose trigger does not fit a readable fixture: files over 64 MiB, invalid UTF-8 (tested in
    // `tests/cli.rs`), and globs over 65,536 characters (tested in `check::rules`).
    // The Terraform import codes are about `*.tf` files, tested on `tests/fixtures/terraform` in
    // `tests/deploy.rs`.
    let untestable_in_files = [
        Code::FileTooLarge,
        Code::InvalidUtf8,
        Code::InvalidGlob,
        Code::TerraformUnresolved,
        Code::TerraformLegacyPermission,
    ];
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|code| !untestable_in_files.contains(code))
        .filter(|code| {
            let dir = fixtures.join(if code.is_lint() { "lint" } else { "check" }).join(code.name());
            !dir.is_dir()
                || !std::fs::read_dir(&dir)
                    .unwrap()
                    .any(|it| it.unwrap().file_name().to_string_lossy().starts_with("invalid"))
        })
        .map(|code| code.name())
        .collect();
    assert!(missing.is_empty(), "codes without an invalid fixture: {missing:?}");
}
