//! Checks across the whole project model: slugs, duplicates, role references, environments and the project
//! declaration.

use std::collections::HashMap;

use crate::catalog::{self, Catalog};
use crate::check::values::{slug_problem, slugify};
use crate::codes::Code;
use crate::diagnostic::{Applicability, Diagnostic};
use crate::lang::FxBuild;
use crate::model::{Member, Project, Spanned};
use crate::source::{FileId, Span};

/// Role slugs are 1-64 characters, additional-privilege slugs 1-60.
const ROLE_SLUG_MAX: usize = 64;
const PRIVILEGE_SLUG_MAX: usize = 60;

/// Runs every project-level check. `first_file` anchors the report of a missing project declaration.
pub fn check_project(
    catalog: &Catalog,
    project: &Project,
    first_file: Option<FileId>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    check_global(catalog, project, first_file, diagnostics);
    check_local(&Context::new(catalog, project), project, &|_| true, diagnostics);
}

/// The checks that compare declarations of different files (declaration, duplicates, roles, policies).
pub fn check_global(
    catalog: &Catalog,
    project: &Project,
    first_file: Option<FileId>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    check_declaration(catalog, project, first_file, diagnostics);
    check_roles(catalog, project, diagnostics);
    report_duplicates(project.identities.iter().map(|it| &it.name), "identity", diagnostics);
    report_duplicates(project.users.iter().map(|it| &it.name), "user", diagnostics);
    check_policies(project, diagnostics);
}

/// What the per-file checks need to know of the whole project: the role slugs and the environments.
pub struct Context<'p> {
    known_roles: Vec<&'p str>,
    defined_roles: std::collections::HashSet<&'p str, FxBuild>,
    environments: Option<Vec<&'p str>>,
}

impl<'p> Context<'p> {
    pub fn new(catalog: &'p Catalog, project: &'p Project) -> Context<'p> {
        let mut known_roles: Vec<&str> = catalog.predefined_roles().iter().map(|it| it.slug.as_str()).collect();
        known_roles.extend(project.roles.iter().map(|it| it.slug.value.as_str()));
        let defined_roles = known_roles.iter().copied().collect();
        let environments = project
            .declaration()
            .and_then(|it| it.environments.as_ref())
            .map(|list| list.iter().map(|it| it.value.as_str()).collect());
        Context { known_roles, defined_roles, environments }
    }

    /// Equal for two contexts under which every per-file check answers the same.
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.known_roles.hash(&mut hasher);
        self.environments.hash(&mut hasher);
        hasher.finish()
    }
}

/// The checks of one declaration against the project (role references, privilege slugs, environment
/// names), for the declarations of the files `include` accepts. Every diagnostic is reported in the file
/// of the declaration it is about.
pub fn check_local(
    context: &Context,
    project: &Project,
    include: &dyn Fn(FileId) -> bool,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for member in project.members().filter(|it| include(it.file)) {
        check_member(member, &context.defined_roles, &context.known_roles, diagnostics);
    }
    if let Some(known) = &context.environments {
        check_environments(project, known, include, diagnostics);
    }
}

fn check_declaration(
    catalog: &Catalog,
    project: &Project,
    first_file: Option<FileId>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let Some(first) = project.declarations.first() else {
        if let Some(file) = first_file {
            diagnostics.push(
                Diagnostic::new(Code::ProjectDeclaration, "no project declaration", file, Span::new(0, 0))
                    .label("the policy files do not say which project they describe")
                    .help("declare the project once, e.g. `project \"payments\" { environments = [\"dev\", \"prod\"] }` in HCL or `project: { slug: payments, environments: [dev, prod] }` in YAML"),
            );
        }
        return;
    };
    for extra in &project.declarations[1..] {
        diagnostics.push(
            Diagnostic::new(
                Code::ProjectDeclaration,
                "the project is declared more than once",
                extra.file,
                Span::new(extra.span.start, extra.span.start),
            )
            .label("declared again here")
            .secondary(first.file, Span::new(first.span.start, first.span.start), "first declared here")
            .help("a policy repository describes one project; keep one declaration"),
        );
    }
    if first.slug.is_none() && first.id.is_none() {
        diagnostics.push(
            Diagnostic::new(
                Code::ProjectDeclaration,
                "the project declaration names no project",
                first.file,
                Span::new(first.span.start, first.span.start),
            )
            .label("no `slug` or `id`")
            .help("give the Infisical project's `slug` or `id`, so that plan and apply know where to go"),
        );
    }
    if let Some(version) = &first.catalog
        && version.value != catalog.version()
    {
        diagnostics.push(
            Diagnostic::new(
                Code::ProjectDeclaration,
                format!("unknown catalog version `{}`", version.value),
                version.file,
                version.span,
            )
            .label("not the catalog in use")
            .help(format!(
                "this permc checks against catalog `{}`; pass another catalog with `--catalog FILE`",
                catalog.version()
            )),
        );
    }
    if let Some(environments) = &first.environments {
        report_duplicates(environments.iter(), "environment", diagnostics);
        for environment in environments {
            if let Some(problem) = slug_problem(&environment.value, 64) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::InvalidSlug,
                        format!("`{}` is not a valid environment slug", environment.value),
                        environment.file,
                        environment.span,
                    )
                    .label(problem),
                );
            }
        }
        let known: Vec<&str> = environments.iter().map(|it| it.value.as_str()).collect();
        for sensitive in &first.sensitive_environments {
            unknown_environment(sensitive, &known, diagnostics);
        }
    }
    check_lint_levels(&first.lints, diagnostics);
}

/// `lints`: every key a lint code or name, every value a level.
fn check_lint_levels(lints: &[(Spanned<String>, Spanned<String>)], diagnostics: &mut Vec<Diagnostic>) {
    let names: Vec<&str> = Code::ALL.iter().filter(|it| it.is_lint()).map(|it| it.name()).collect();
    for (code, level) in lints {
        match Code::parse(&code.value) {
            Some(found) if found.is_lint() => {}
            Some(found) => diagnostics.push(
                Diagnostic::new(Code::InvalidValue, format!("`{}` is not a lint", code.value), code.file, code.span)
                    .label(format!("{found} is an error of `permc check`"))
                    .help("only lints (`PC2xxx`) can be configured; errors are always reported"),
            ),
            None => {
                let mut diagnostic =
                    Diagnostic::new(Code::InvalidValue, format!("unknown lint `{}`", code.value), code.file, code.span);
                diagnostic = match catalog::suggest(&code.value, names.iter().copied()) {
                    Some(name) => diagnostic.label(format!("did you mean `{name}`?")),
                    None => diagnostic.label("not a lint code or name"),
                };
                diagnostics.push(diagnostic.help("`permc explain --list` lists every code"));
            }
        }
        if crate::lint::Level::parse(&level.value).is_none() {
            diagnostics.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    format!("unknown lint level `{}`", level.value),
                    level.file,
                    level.span,
                )
                .label("expected `allow`, `warn` or `deny`")
                .help("`allow` silences the lint, `warn` reports it, `deny` makes it an error"),
            );
        }
    }
}

/// Reports every value that repeats an earlier one.
fn report_duplicates<'a>(
    values: impl Iterator<Item = &'a Spanned<String>>,
    what: &str,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut seen: HashMap<&str, &Spanned<String>, FxBuild> = HashMap::with_capacity_and_hasher(0, FxBuild::default());
    for value in values {
        if let Some(first) = seen.get(value.value.as_str()) {
            diagnostics.push(
                Diagnostic::new(
                    Code::DuplicateName,
                    format!("{what} `{}` is declared twice", value.value),
                    value.file,
                    value.span,
                )
                .label("declared again here")
                .secondary(first.file, first.span, "first declared here")
                .help(format!("each {what} must be unique; merge the two or rename one")),
            );
        } else {
            seen.insert(&value.value, value);
        }
    }
}

fn check_slug(value: &Spanned<String>, max: usize, what: &str, diagnostics: &mut Vec<Diagnostic>) {
    let Some(problem) = slug_problem(&value.value, max) else {
        return;
    };
    let mut diagnostic = Diagnostic::new(
        Code::InvalidSlug,
        format!("`{}` is not a valid {what} slug", value.value),
        value.file,
        value.span,
    )
    .label(problem)
    .help(format!("{what} slugs are 1-{max} lowercase letters, digits and single hyphens"));
    let suggestion = slugify(&value.value);
    if !suggestion.is_empty() && suggestion.len() <= max {
        diagnostic = diagnostic.help(format!(
            "{what} slugs are 1-{max} lowercase letters, digits and single hyphens, e.g. `{suggestion}`"
        ));
    }
    diagnostics.push(diagnostic);
}

fn check_roles(catalog: &Catalog, project: &Project, diagnostics: &mut Vec<Diagnostic>) {
    let reserved = catalog.reserved_role_slugs();
    for role in &project.roles {
        check_slug(&role.slug, ROLE_SLUG_MAX, "role", diagnostics);
        if reserved.iter().any(|it| *it == role.slug.value) {
            diagnostics.push(
                Diagnostic::new(Code::ReservedSlug, format!("`{}` is a reserved role slug", role.slug.value), role.slug.file, role.slug.span)
                    .label("reserved for a predefined role")
                    .help(format!(
                        "Infisical answers \"the slug you have entered is reserved\"; choose another slug, e.g. `{}-custom`; reserved: {}",
                        role.slug.value,
                        reserved.iter().map(|it| format!("`{it}`")).collect::<Vec<_>>().join(", ")
                    )),
            );
        }
        if let Some(name) = &role.name
            && name.value.trim().is_empty()
        {
            diagnostics.push(
                Diagnostic::new(Code::EmptyValue, "a role name cannot be blank", name.file, name.span)
                    .label("blank name")
                    .help("leave `name` out to use the slug as the name"),
            );
        }
    }
    report_duplicates(project.roles.iter().map(|it| &it.slug), "role", diagnostics);
}

fn check_member(
    member: &Member,
    defined: &std::collections::HashSet<&str, FxBuild>,
    known: &[&str],
    diagnostics: &mut Vec<Diagnostic>,
) {
    for assignment in member.roles.iter() {
        let role = &assignment.role;
        if defined.contains(role.value.as_str()) {
            continue;
        }
        let mut diagnostic = Diagnostic::new(
            Code::UnknownRole,
            format!("unknown role `{}` assigned to {} `{}`", role.value, member.kind.noun(), member.name.value),
            role.file,
            role.span,
        );
        match catalog::suggest(&role.value, known.iter().copied()) {
            Some(suggestion) => {
                diagnostic = diagnostic.label(format!("did you mean `{suggestion}`?")).fix(
                    format!("use role `{suggestion}`"),
                    Applicability::Unsafe,
                    role.span,
                    quote_like(&role.value, &suggestion),
                );
            }
            None => diagnostic = diagnostic.label("neither predefined nor defined in this repository"),
        }
        diagnostics.push(diagnostic.help(format!(
            "a role is a predefined one ({}) or a custom role declared with `role`",
            known.iter().take(6).map(|it| format!("`{it}`")).collect::<Vec<_>>().join(", ")
        )));
    }
    for (at, assignment) in member.roles.iter().enumerate() {
        let earlier = member.roles[..at].iter().rev().find(|it| it.role.value == assignment.role.value);
        if let Some(first) = earlier.map(|it| &it.role) {
            let role = &assignment.role;
            diagnostics.push(
                Diagnostic::new(
                    Code::DuplicateName,
                    format!("role `{}` is assigned twice", role.value),
                    role.file,
                    role.span,
                )
                .label("assigned again here")
                .secondary(first.file, first.span, "first assigned here")
                .help("Infisical keeps one assignment per role; merge them"),
            );
        }
    }
    for privilege in member.privileges.iter() {
        check_slug(&privilege.slug, PRIVILEGE_SLUG_MAX, "privilege", diagnostics);
    }
    if member.privileges.len() > 1 {
        report_duplicates(member.privileges.iter().map(|it| &it.slug), "privilege", diagnostics);
    }
}

/// The replacement text for a value, keeping the quoting of the original when the source is a string.
fn quote_like(_original: &str, replacement: &str) -> String {
    format!("\"{replacement}\"")
}

fn check_policies(project: &Project, diagnostics: &mut Vec<Diagnostic>) {
    report_duplicates(project.access_policies.iter().map(|it| &it.name), "access policy", diagnostics);
    report_duplicates(project.secret_policies.iter().map(|it| &it.name), "secret approval policy", diagnostics);
    let paths = project
        .access_policies
        .iter()
        .filter_map(|it| it.secret_path.as_ref())
        .chain(project.secret_policies.iter().filter_map(|it| it.secret_path.as_ref()));
    for path in paths {
        if path.value.trim().is_empty() {
            diagnostics.push(
                Diagnostic::new(Code::EmptyValue, "a policy's `secretPath` cannot be empty", path.file, path.span)
                    .label("empty path")
                    .help("use `/` for the whole environment"),
            );
        } else if !path.value.starts_with('/') {
            diagnostics.push(
                Diagnostic::new(
                    Code::SecretPathSlash,
                    format!("secret path `{}` does not start with `/`", path.value),
                    path.file,
                    path.span,
                )
                .label("paths start at the environment root")
                .help("Infisical's secret paths always start with `/`, so this policy would protect nothing")
                .fix(
                    "add the leading `/`",
                    Applicability::Safe,
                    path.span,
                    format!("\"/{}\"", path.value),
                ),
            );
        }
    }
}

fn unknown_environment(value: &Spanned<String>, known: &[&str], diagnostics: &mut Vec<Diagnostic>) {
    // A value with surrounding whitespace is reported (and trimmed) by the rule check.
    if known.contains(&value.value.as_str()) || known.contains(&value.value.trim()) {
        return;
    }
    let mut diagnostic = Diagnostic::new(
        Code::UnknownEnvironment,
        format!("unknown environment `{}`", value.value),
        value.file,
        value.span,
    );
    diagnostic = match catalog::suggest(&value.value, known.iter().copied()) {
        Some(suggestion) => diagnostic.label(format!("did you mean `{suggestion}`?")),
        None => diagnostic.label("not declared by the project"),
    };
    let listed: Vec<String> = known.iter().map(|it| format!("`{it}`")).collect();
    diagnostics.push(diagnostic.help(format!("the project declares these environments: {}", listed.join(", "))));
}

fn check_environments(
    project: &Project,
    known: &[&str],
    include: &dyn Fn(FileId) -> bool,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for policy in project.access_policies.iter().filter(|it| include(it.file)) {
        policy.environments.iter().for_each(|it| unknown_environment(it, known, diagnostics));
    }
    for policy in project.secret_policies.iter().filter(|it| include(it.file)) {
        policy.environments.iter().for_each(|it| unknown_environment(it, known, diagnostics));
    }
    let permissions =
        project.roles.iter().filter(|it| include(it.file)).filter_map(|it| it.permissions.as_ref()).chain(
            project
                .members()
                .filter(|it| include(it.file))
                .flat_map(|it| it.privileges.iter().filter_map(|p| p.permissions.as_ref())),
        );
    for list in permissions {
        // Most names are known: a value is copied only to report it.
        for (text, span) in list.rules.iter().flat_map(|rule| rule.environments.iter()) {
            if !known.contains(&&**text) {
                unknown_environment(&Spanned::new(text.to_string(), list.file, *span), known, diagnostics);
            }
        }
    }
}
