//! A policy repository on disk: finding its files, reading them and running the pipeline over them.
//!
//! This is the only library module that reads files. It never prints.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::catalog::Catalog;
use crate::check;
use crate::codes::Code;
use crate::diagnostic::{self, Diagnostic};
use crate::model::{self, Project};
use crate::source::{FileId, SourceDb, SourceFile, Span};
use crate::syntax::{self, Comment, Format, MAX_FILE_BYTES, Node};

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
/// honouring `.gitignore`, `.ignore` and `.permcignore` files (gitignore syntax) and skipping hidden files
/// and directories.
pub fn discover(root: &Path) -> Result<Vec<PathBuf>, WorkspaceError> {
    if !root.exists() {
        return Err(WorkspaceError::NotFound(root.to_path_buf()));
    }
    if root.is_file() {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut paths = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .require_git(false)
        .add_custom_ignore_filename(".permcignore")
        .sort_by_file_name(|a, b| a.cmp(b))
        .build();
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
    /// What is kept of each file's syntax, by [`FileId`].
    pub syntax: Vec<Syntax>,
    pub project: Project,
    /// Every diagnostic, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Analysis {
    /// The document tree of `file`, parsed again (the tree is not kept once a file is lowered); `None`
    /// when the file could not be read or holds no document.
    pub fn tree(&self, file: FileId) -> Option<Node> {
        tree(&self.db, self.syntax.get(file.0 as usize), file)
    }

    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|it| it.is_error()).count()
    }

    /// Runs the lints on the checked project and applies the project's lint levels (`lints`) and
    /// `deny_warnings`. The diagnostics stay sorted.
    pub fn lint(&mut self, catalog: &Catalog, options: &crate::lint::Options, deny_warnings: bool) {
        let comments: Vec<&[Comment]> = self.syntax.iter().map(|it| it.comments.as_slice()).collect();
        let found = lints(catalog, &self.db, &comments, &self.project, options, deny_warnings);
        self.diagnostics.extend(found);
        diagnostic::sort(&mut self.diagnostics);
    }
}

/// The lints of a project, with its files' suppressions and the project's levels applied.
fn lints(
    catalog: &Catalog,
    db: &SourceDb,
    comments: &[&[Comment]],
    project: &Project,
    options: &crate::lint::Options,
    deny_warnings: bool,
) -> Vec<Diagnostic> {
    let mut found = crate::lint::lint(catalog, project, options);
    crate::lint::suppress::apply(db, comments, &mut found, options.now_ms);
    let levels: std::collections::HashMap<Code, crate::lint::Level> = project
        .declaration()
        .map(|it| it.lints.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|(code, level)| Some((Code::parse(&code.value)?, crate::lint::Level::parse(&level.value)?)))
        .collect();
    crate::lint::apply_levels(&mut found, &levels, deny_warnings);
    found
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
    Workspace::new(files, catalog).into_analysis(catalog)
}

/// Diagnostics found under a context fingerprint.
type Checked = (u64, Vec<Diagnostic>);

/// What is kept of one file's syntax once the file is lowered: its comments (suppressions live there) and
/// how to parse it again. The document tree itself is dropped as soon as the model is built from it: it is
/// the largest structure of the pipeline (about six times the source), nothing after lowering needs it
/// whole, and the few that want it (hover, rewriting a member) parse the one file again
/// ([`Analysis::tree`], [`Workspace::tree`]).
#[derive(Clone, Debug, Default)]
pub struct Syntax {
    /// The surface the file was parsed as; `None` when it was not parsed (unreadable).
    pub format: Option<Format>,
    pub comments: Vec<Comment>,
    /// Whether no tree could be recovered and the syntax layer reported an error.
    pub failed: bool,
}

/// `file`'s document tree, parsed again from its text.
fn tree(db: &SourceDb, syntax: Option<&Syntax>, file: FileId) -> Option<Node> {
    syntax::parse(file, syntax?.format?, &db.get(file).text).root
}

/// One file's share of the pipeline, kept until the file changes.
#[derive(Debug, Default)]
struct FileResult {
    syntax: Syntax,
    /// Reading, syntax and lowering diagnostics.
    diagnostics: Vec<Diagnostic>,
    /// The diagnostics of the per-file project checks and the [`check::project::Context`] fingerprint they
    /// were found under; `None` until they are run for this version of the file.
    checked: RefCell<Option<Checked>>,
}

impl FileResult {
    fn syntax_failed(&self) -> bool {
        self.syntax.failed
    }
}

/// A repository held in memory between runs of the pipeline. Each file's parse, model and diagnostics are
/// kept, so an edit re-reads only the file it touches; the project-wide checks then run over the
/// assembled model.
#[derive(Debug, Default)]
pub struct Workspace {
    pub db: SourceDb,
    files: Vec<FileResult>,
    /// Every file's declarations, grouped by file in file order.
    pub project: Project,
}

/// What the lints read, copied from a [`Workspace`] so that they can run on another thread while the
/// workspace goes on changing (the language server lints in the background). The copy is cheap: files,
/// rule lists and members' assignments and privileges are shared, not copied (on the large benchmark
/// repository, 2-3 ms).
pub struct LintInput {
    db: SourceDb,
    comments: Vec<Vec<Comment>>,
    project: Project,
}

impl LintInput {
    /// The lints of the workspace as it was when the input was taken, with suppressions and the project's
    /// levels applied: what `permc lint` adds to [`Workspace::diagnostics`].
    pub fn lints(self, catalog: &Catalog, options: &crate::lint::Options) -> (SourceDb, Vec<Diagnostic>) {
        let comments: Vec<&[Comment]> = self.comments.iter().map(Vec::as_slice).collect();
        let found = lints(catalog, &self.db, &comments, &self.project, options, false);
        (self.db, found)
    }
}

impl Workspace {
    /// Reads, parses and lowers every file (in parallel).
    pub fn new(files: Vec<(PathBuf, Vec<u8>)>, catalog: &Catalog) -> Workspace {
        let mut db = SourceDb::new();
        let mut inputs = Vec::with_capacity(files.len());
        for (path, bytes) in files {
            let format = Format::of_path(&path).unwrap_or(Format::Yaml);
            let (text, problem) = decode(bytes);
            let id = db.add(SourceFile::new(path, text));
            inputs.push((id, format, problem));
        }
        let results: Vec<(FileResult, Project)> = inputs
            .into_par_iter()
            .map(|(id, format, problem)| process(catalog, id, &db.get(id).text, format, problem))
            .collect();
        let mut project = Project::default();
        let mut files = Vec::with_capacity(results.len());
        for (result, part) in results {
            project.extend(part);
            files.push(result);
        }
        Workspace { db, files, project }
    }

    /// Replaces the contents of the file at `path` (adding it when it is new) and runs the per-file stages
    /// again for that file only.
    pub fn update(&mut self, path: &Path, bytes: Vec<u8>, catalog: &Catalog) -> FileId {
        let format = Format::of_path(path).unwrap_or(Format::Yaml);
        let (text, problem) = decode(bytes);
        let existing = self.db.iter().find(|(_, file)| file.path == path).map(|(id, _)| id);
        let id = match existing {
            Some(id) => {
                self.db.replace(id, SourceFile::new(path, text));
                id
            }
            None => {
                let id = self.db.add(SourceFile::new(path, text));
                self.files.push(FileResult::default());
                id
            }
        };
        let (result, part) = process(catalog, id, &self.db.get(id).text, format, problem);
        self.files[id.0 as usize] = result;
        self.project.replace_file(id, part);
        id
    }

    /// Every diagnostic of the per-file stages and the project-wide checks, sorted.
    pub fn diagnostics(&self, catalog: &Catalog) -> Vec<Diagnostic> {
        let mut diagnostics: Vec<Diagnostic> =
            self.files.iter().flat_map(|file| file.diagnostics.iter().cloned()).collect();
        self.check_project(catalog, &mut diagnostics);
        diagnostic::sort(&mut diagnostics);
        diagnostics
    }

    fn check_project(&self, catalog: &Catalog, diagnostics: &mut Vec<Diagnostic>) {
        // A missing declaration is only reported when every file could be read: it may be in the broken one.
        let anchor = if self.files.iter().any(FileResult::syntax_failed) || self.files.is_empty() {
            None
        } else {
            Some(FileId(0))
        };
        check::project::check_global(catalog, &self.project, anchor, diagnostics);
        // The per-file checks run again only for files that changed, or for all when the role slugs or the
        // environments did.
        let context = check::project::Context::new(catalog, &self.project);
        let fingerprint = context.fingerprint();
        let stale: Vec<bool> = self
            .files
            .iter()
            .map(|file| file.checked.borrow().as_ref().is_none_or(|(at, _)| *at != fingerprint))
            .collect();
        if stale.iter().any(|it| *it) {
            let mut found = Vec::new();
            let include = |file: FileId| stale.get(file.0 as usize).copied().unwrap_or(false);
            check::project::check_local(&context, &self.project, &include, &mut found);
            for (file, _) in self.files.iter().zip(&stale).filter(|(_, stale)| **stale) {
                *file.checked.borrow_mut() = Some((fingerprint, Vec::new()));
            }
            for diagnostic in found {
                if let Some(file) = self.files.get(diagnostic.primary.file.0 as usize)
                    && let Some((_, list)) = file.checked.borrow_mut().as_mut()
                {
                    list.push(diagnostic);
                }
            }
        }
        for file in &self.files {
            diagnostics.extend(file.checked.borrow().iter().flat_map(|(_, list)| list.iter().cloned()));
        }
    }

    /// The document tree of `file`, parsed again (see [`Syntax`]).
    pub fn tree(&self, file: FileId) -> Option<Node> {
        tree(&self.db, self.files.get(file.0 as usize).map(|it| &it.syntax), file)
    }

    /// What the lints read, to run them here or elsewhere ([`LintInput::lints`]).
    pub fn lint_input(&self) -> LintInput {
        LintInput {
            db: self.db.clone(),
            comments: self.files.iter().map(|file| file.syntax.comments.clone()).collect(),
            project: self.project.clone(),
        }
    }

    /// The finished analysis (without lints; see [`Analysis::lint`]).
    pub fn into_analysis(self, catalog: &Catalog) -> Analysis {
        let diagnostics = self.diagnostics(catalog);
        let syntax = self.files.into_iter().map(|file| file.syntax).collect();
        Analysis { db: self.db, syntax, project: self.project, diagnostics }
    }
}

/// Parses and lowers one file.
fn process(
    catalog: &Catalog,
    id: FileId,
    text: &str,
    format: Format,
    problem: Option<LateDiagnostic>,
) -> (FileResult, Project) {
    if let Some(make) = problem {
        return (FileResult { diagnostics: vec![make(id)], ..FileResult::default() }, Project::default());
    }
    let parse = syntax::parse(id, format, text);
    let mut found = Vec::new();
    let project = match &parse.root {
        Some(root) => model::lower_document(catalog, id, root, &mut found),
        None => Project::default(),
    };
    let failed = parse.root.is_none() && parse.diagnostics.iter().any(Diagnostic::is_error);
    // The tree is dropped here (see `Syntax`); the model keeps the places the lints point at.
    drop(parse.root);
    let syntax = Syntax { format: Some(format), comments: parse.comments, failed };
    let mut diagnostics = parse.diagnostics;
    // Unsupported syntax is read as null; its wrong type is a consequence, not a second problem.
    let unsupported: Vec<Span> =
        diagnostics.iter().filter(|it| it.code == Code::UnsupportedSyntax).map(|it| it.primary.span).collect();
    diagnostics.extend(found.into_iter().filter(|it| {
        it.code != Code::WrongType
            || !unsupported.iter().any(|span| it.primary.span.start <= span.start && span.end <= it.primary.span.end)
    }));
    (FileResult { syntax, diagnostics, checked: RefCell::default() }, project)
}

type LateDiagnostic = Box<dyn FnOnce(FileId) -> Diagnostic + Send>;

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
