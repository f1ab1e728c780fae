//! Incremental updates: after editing one file, the workspace answers exactly what a full run over the
//! edited repository answers.

use std::path::{Path, PathBuf};

use permc::catalog::Catalog;
use permc::workspace::{Workspace, analyze_sources, discover};

fn load(dir: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    discover(&root).unwrap().into_iter().map(|path| (path.clone(), std::fs::read(&path).unwrap())).collect()
}

/// The diagnostics and the model, in a form two runs can be compared in.
fn fingerprint(workspace: &Workspace, catalog: &Catalog) -> (Vec<String>, String) {
    let diagnostics = workspace.diagnostics(catalog).iter().map(|it| format!("{it:?}")).collect();
    (diagnostics, format!("{:?}", workspace.project))
}

fn full(files: &[(PathBuf, Vec<u8>)], catalog: &Catalog) -> (Vec<String>, String) {
    let analysis = analyze_sources(files.to_vec(), catalog);
    (analysis.diagnostics.iter().map(|it| format!("{it:?}")).collect(), format!("{:?}", analysis.project))
}

#[test]
fn an_edit_gives_what_a_full_run_gives() {
    let catalog = Catalog::builtin();
    for dir in ["policies/payments", "policies/broken"] {
        let mut files = load(dir);
        let mut workspace = Workspace::new(files.clone(), catalog);
        assert_eq!(fingerprint(&workspace, catalog), full(&files, catalog), "{dir} before any edit");
        for at in 0..files.len() {
            let original = files[at].1.clone();
            let text = String::from_utf8(original.clone()).unwrap();
            let edits = [
                // A harmless change that moves every offset.
                format!("# edited\n{text}"),
                // The first half only: usually a syntax error, and declarations disappear.
                text[..text.len() / 2].to_owned(),
                // Nothing at all.
                String::new(),
                // A duplicate of the whole file: every declaration is declared twice.
                format!("{text}\n{text}"),
            ];
            for edit in edits {
                files[at].1 = edit.into_bytes();
                workspace.update(&files[at].0.clone(), files[at].1.clone(), catalog);
                assert_eq!(fingerprint(&workspace, catalog), full(&files, catalog), "{dir}: {:?}", files[at].0);
            }
            files[at].1 = original;
            workspace.update(&files[at].0.clone(), files[at].1.clone(), catalog);
        }
        assert_eq!(fingerprint(&workspace, catalog), full(&files, catalog), "{dir} after undoing every edit");
    }
}

#[test]
fn a_new_file_joins_the_project() {
    let catalog = Catalog::builtin();
    let mut files = load("policies/payments");
    let mut workspace = Workspace::new(files.clone(), catalog);
    let path = files[0].0.with_file_name("extra.yaml");
    let text = b"roles:\n  - slug: extra\n    permissions:\n      - subject: secrets\n        action: [readValue]\n";
    workspace.update(&path, text.to_vec(), catalog);
    files.push((path, text.to_vec()));
    assert_eq!(fingerprint(&workspace, catalog), full(&files, catalog));
    assert!(workspace.project.roles.iter().any(|role| role.slug.value == "extra"));
}
