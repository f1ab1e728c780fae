//! The HCL and YAML examples of README.md and grammar/ are real: each one checks without errors.

use std::path::PathBuf;

use permc::catalog::Catalog;
use permc::codes::Code;
use permc::workspace::analyze_sources;

/// The fenced blocks of one language in a Markdown file.
fn examples(file: &str, language: &str) -> Vec<String> {
    let text = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
    let fence = format!("```{language}\n");
    let mut found = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find(&fence) {
        let body = &rest[start + fence.len()..];
        let end = body.find("```").expect("a closed code block");
        found.push(body[..end].to_owned());
        rest = &body[end..];
    }
    found
}

/// Checks one example, completed into a project: a fragment (`permission`, `conditions`) is put in a role,
/// and a project declaration is added unless the example has one. Roles the example assigns but does not
/// declare are expected (they are declared in other examples).
fn check(file: &str, language: &str, example: &str) {
    let trimmed = example.trim_start();
    let (name, body) = match language {
        "hcl" if trimmed.starts_with("permission") => ("example.hcl", format!("role \"example\" {{\n{example}}}\n")),
        "hcl" => ("example.hcl", example.to_owned()),
        _ => ("example.yaml", example.to_owned()),
    };
    let mut files = vec![(PathBuf::from(name), body.into_bytes())];
    if !example.contains("project") {
        let project = "project:\n  slug: example\n  environments: [dev, staging, prod]\n";
        files.push((PathBuf::from("project.yaml"), project.as_bytes().to_vec()));
    }
    let analysis = analyze_sources(files, Catalog::builtin());
    let errors: Vec<String> = analysis
        .diagnostics
        .iter()
        .filter(|it| it.is_error() && it.code != Code::UnknownRole)
        .map(|it| format!("{}: {}", it.code, it.message))
        .collect();
    assert!(errors.is_empty(), "an example of {file} does not check:\n{example}\n{errors:#?}");
}

#[test]
fn hcl_examples_check() {
    let mut count = 0;
    for file in ["README.md", "grammar/hcl.md"] {
        for example in examples(file, "hcl") {
            check(file, "hcl", &example);
            count += 1;
        }
    }
    assert!(count >= 8, "found {count} HCL examples");
}

#[test]
fn yaml_examples_check() {
    let mut count = 0;
    for file in ["grammar/policy-language.md"] {
        for example in examples(file, "yaml") {
            check(file, "yaml", &example);
            count += 1;
        }
    }
    assert!(count >= 5, "found {count} YAML examples");
}
