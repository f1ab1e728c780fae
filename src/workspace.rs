//! A policy repository on disk: finding its files, reading them and running the pipeline over them.
//!
//! This is the only library module that reads files. It never prints.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::catalog::Catalog;
use crate::check;
use crate::codes::Code;
use crate::diagnostic::{self, Diagnostic};
use crate::model::{self, Project};
use crate::source::{FileId, SourceDb, SourceFile, Span};
use crate::syntax::{self, Format, MAX_FILE_BYTES, Parse};

/// An operational failure: the repository could not be read at all.
#[derive(Debug)]
pub enum WorkspaceError {
    NotFound(PathBuf),
    Io(PathBuf, std::io::Error),
    Walk(String),
}

impl std::fmt::Display for WorkspaceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WorkspaceError::NotFound(path) => write!(f, "`{}` does not exist", path.display()),
            WorkspaceError::Io(path, error) => write!(f, "cannot read `{}`: {error}", path.display()),
            WorkspaceError::Walk(error) => write!(f, "cannot list the policy files: {error}"),
        }
    }
}

impl std::error::Error for WorkspaceError {}

/// The policy files under `root` (a file or a directory), sorted: `*.hcl`, `*.yaml`, `*.yml`, `*.json`,
/// honouring `.gitignore` and `.ignore` files and skipping hidden files and directories.
pub fn discover(root: &Path) -> Result<Vec<PathBuf>, WorkspaceError> {
    if !root.exists() {
        return Err(WorkspaceError::NotFound(root.to_path_buf()));
    }
    if root.is_file() {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut paths = Vec::new();
    let walker = ignore::WalkBuilder::new(root).require_git(false).sort_by_file_name(|a, b| a.cmp(b)).build();
    for entry in walker {
        let entry = entry.map_err(|error| WorkspaceError::Walk(error.to_string()))?;
        if entry.file_type().is_some_and(|it| it.is_file()) && Format::of_path(entry.path()).is_some() {
            paths.push(entry.into_path());
        }
    }
    Ok(paths)
}

/// The result of checking a policy repository.
#[derive(Debug, Default)]
pub struct Analysis {
    pub db: SourceDb,
    pub parses: Vec<Parse>,
    pub project: Project,
    /// Every diagnostic, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Analysis {
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|it| it.is_error()).count()
    }

    /// Runs the lints on the checked project and applies the project's lint levels (`lints`) and
    /// `deny_warnings`. The diagnostics stay sorted.
    pub fn lint(&mut self, catalog: &Catalog, options: &crate::lint::Options, deny_warnings: bool) {
        let mut found = crate::lint::lint(catalog, &self.project, options);
        let levels: std::collections::HashMap<Code, crate::lint::Level> = self
            .project
            .declaration()
            .map(|it| it.lints.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|(code, level)| Some((Code::parse(&code.value)?, crate::lint::Level::parse(&level.value)?)))
            .collect();
        crate::lint::apply_levels(&mut found, &levels, deny_warnings);
        self.diagnostics.extend(found);
        diagnostic::sort(&mut self.diagnostics);
    }
}

/// Reads, parses, lowers and checks every policy file under `root`.
pub fn analyze(root: &Path, catalog: &Catalog) -> Result<Analysis, WorkspaceError> {
    let paths = discover(root)?;
    let mut loaded = Vec::with_capacity(paths.len());
    for path in &paths {
        let bytes = std::fs::read(path).map_err(|error| WorkspaceError::Io(path.clone(), error))?;
        loaded.push((path.clone(), bytes));
    }
    Ok(analyze_sources(loaded, catalog))
}

/// Runs the pipeline over files already in memory (path, bytes).
pub fn analyze_sources(files: Vec<(PathBuf, Vec<u8>)>, catalog: &Catalog) -> Analysis {
    let mut db = SourceDb::new();
    let mut early = Vec::new();
    let mut ids = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        let (text, problem) = decode(bytes);
        let format = Format::of_path(&path).unwrap_or(Format::Yaml);
        let id = db.add(SourceFile::new(path, text));
        if let Some(diagnostic) = problem.map(|make| make(id)) {
            early.push(diagnostic);
            ids.push((id, None));
        } else {
            ids.push((id, Some(format)));
        }
    }
    let parses: Vec<Parse> = ids
        .par_iter()
        .map(|(id, format)| match format {
            Some(format) => syntax::parse(*id, *format, &db.get(*id).text),
            None => Parse::default(),
        })
        .collect();
    let mut diagnostics = early;
    let lowered: Vec<(Project, Vec<Diagnostic>)> = ids
        .par_iter()
        .zip(&parses)
        .map(|((id, _), parse)| {
            let mut found = Vec::new();
            let project = match &parse.root {
                Some(root) => model::lower_document(catalog, *id, root, &mut found),
                None => Project::default(),
            };
            (project, found)
        })
        .collect();
    let mut project = Project::default();
    for (parse, (part, found)) in parses.iter().zip(lowered) {
        diagnostics.extend(parse.diagnostics.iter().cloned());
        // Unsupported syntax is read as null; its wrong type is a consequence, not a second problem.
        let unsupported: Vec<Span> = parse
            .diagnostics
            .iter()
            .filter(|it| it.code == Code::UnsupportedSyntax)
            .map(|it| it.primary.span)
            .collect();
        diagnostics.extend(found.into_iter().filter(|it| {
            it.code != Code::WrongType
                || !unsupported
                    .iter()
                    .any(|span| it.primary.span.start <= span.start && span.end <= it.primary.span.end)
        }));
        project.extend(part);
    }
    let any_syntax_error =
        parses.iter().any(|parse| parse.root.is_none() && parse.diagnostics.iter().any(Diagnostic::is_error));
    // A missing declaration is only reported when every file could be read: it may be in the broken one.
    let anchor = if any_syntax_error { None } else { ids.first().map(|(id, _)| *id) };
    check::project::check_project(catalog, &project, anchor, &mut diagnostics);
    diagnostic::sort(&mut diagnostics);
    Analysis { db, parses, project, diagnostics }
}

type LateDiagnostic = Box<dyn FnOnce(FileId) -> Diagnostic>;

/// Decodes a file's bytes; too large or invalid UTF-8 files get a diagnostic and an empty or lossy text.
fn decode(bytes: Vec<u8>) -> (String, Option<LateDiagnostic>) {
    if bytes.len() > MAX_FILE_BYTES {
        let size = bytes.len();
        let problem: LateDiagnostic = Box::new(move |id| {
            Diagnostic::new(
                Code::FileTooLarge,
                format!("the file is {} MiB; permc reads at most {} MiB", size >> 20, MAX_FILE_BYTES >> 20),
                id,
                Span::new(0, 0),
            )
            .label("not read")
            .help("split the policies over several files")
        });
        return (String::new(), Some(problem));
    }
    match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(error) => {
            let at = error.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
            let problem: LateDiagnostic = Box::new(move |id| {
                Diagnostic::new(
                    Code::InvalidUtf8,
                    format!("the file is not valid UTF-8 (first invalid byte at offset {at})"),
                    id,
                    Span::from_range(at..at + 1),
                )
                .label("invalid UTF-8 here")
                .help("save the file as UTF-8; nothing in it was checked")
            });
            (text, Some(problem))
        }
    }
}
