//! Lints: what Infisical accepts but is unwise (warnings by default).
//!
//! Every lint that claims something about what rules grant rests on [`crate::scope`], which decides
//! inclusion and overlap of rule scopes exactly, and every witness request it shows is re-evaluated with
//! [`crate::eval`] first. Where a question cannot be decided (metadata conditions, templates that depend on
//! unknown identity metadata), the lint stays silent: a wrong "redundant" is worse than none.
//!
//! - [`rules`]: one rule list at a time (a role, a privilege).
//! - [`members`]: a member's rules as Infisical assembles them, with temporary windows.
//! - [`policies`]: access and secret approval policies.

pub mod baseline;
mod members;
mod policies;
mod rules;
pub mod suppress;

use std::collections::HashMap;
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::check::rules::StoredRule;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lang::FxBuild;
use crate::model::{Permissions, Project, RulePlaces};
use crate::source::FileId;

/// What the lints need besides the project.
#[derive(Clone, Debug)]
pub struct Options {
    /// The time temporary grants are judged at (Unix milliseconds).
    pub now_ms: i64,
}

/// Runs every lint. Diagnostics come with their codes' default severity; see [`apply_levels`].
pub fn lint(catalog: &Catalog, project: &Project, options: &Options) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let sets = rule_sets(project);
    // The scopes access policies protect are compared with privileges too. (Predefined roles have no
    // conditions: nothing to seed.)
    let protected = policies::protected_scopes(project);
    let every_rule = sets
        .iter()
        .flat_map(|set| set.stored.iter())
        .map(|rule| (rule.subject.as_str(), rule.conditions.as_deref()))
        .chain(protected.iter().map(|(_, rule)| (rule.subject.as_str(), rule.conditions.as_deref())));
    crate::scope::reset();
    crate::scope::seed(catalog, every_rule);
    // The run's parallel parts go to threads of its own, each starting from this seed: the same universes
    // on every thread (so the same answers and witnesses), and no other run in the process in between.
    let seeded = crate::scope::share();
    let mut run = || {
        use rayon::prelude::*;
        // One memo per thread for the whole run (answers depend on the question only): the member and
        // policy lints reuse the regions the rule-list lints remembered.
        let memos: PerThread<crate::scope::Memo> = PerThread::new();
        let found: Vec<Vec<Diagnostic>> = sets
            .par_iter()
            .map(|set| {
                let mut found = Vec::new();
                memos.with(|memo| rules::lint_set(catalog, project, set, memo, &mut found));
                found
            })
            .collect();
        out.extend(found.into_iter().flatten());
        let index: SpanIndex =
            sets.iter().flat_map(|set| set.items.iter().map(move |item| ((set.file, item.item.start), item))).collect();
        members::lint_members(catalog, project, options, &index, &memos, &mut out);
        // `repeated-privileges` reads no memo: it runs beside the policy lints, filling the cores they
        // leave idle. Their findings keep their order.
        let (policy_found, repeated_found) = rayon::join(
            || {
                let mut found = Vec::new();
                policies::lint_policies(catalog, project, &memos, &mut found);
                found
            },
            || {
                let mut found = Vec::new();
                repeated_privileges(catalog, project, &mut found);
                found
            },
        );
        out.extend(policy_found);
        out.extend(repeated_found);
        // The memos are large: each is freed on its own thread.
        memos.0.into_par_iter().for_each(drop);
    };
    match rayon::ThreadPoolBuilder::new().build() {
        Ok(pool) => {
            pool.broadcast(|_| crate::scope::adopt(&seeded));
            pool.install(run);
        }
        // Without threads of its own the run uses the global pool, whose threads build their own universes:
        // the same answers, possibly other witnesses.
        Err(_) => run(),
    }
    out
}

/// How many members must hold the same privilege for `repeated-privileges`.
const REPEATED_MEMBERS: usize = 3;
/// How many of the other holders are pointed at.
const SHOWN_HOLDERS: usize = 5;

fn repeated_privileges(catalog: &Catalog, project: &Project, out: &mut Vec<Diagnostic>) {
    for (role, holders) in crate::roles::propose::repeated(catalog, project, REPEATED_MEMBERS) {
        let names: Vec<String> = holders.iter().map(|(member, ..)| member.clone()).collect();
        let (_, slug, file, span) = &holders[0];
        let mut diagnostic = Diagnostic::new(
            Code::RepeatedPrivileges,
            format!("the rules of privilege `{slug}` are granted to {} members: {}", holders.len(), list_names(&names)),
            *file,
            *span,
        )
        .label("the same rules, by meaning, as the privileges below");
        for (member, other, file, span) in holders.iter().skip(1).take(SHOWN_HOLDERS) {
            diagnostic = diagnostic.secondary(*file, *span, format!("the same for `{member}` (`{other}`)"));
        }
        if holders.len() > SHOWN_HOLDERS + 1 {
            diagnostic = diagnostic.note(format!("and {} more members", holders.len() - SHOWN_HOLDERS - 1));
        }
        out.push(diagnostic.help(format!(
            "a custom role would say it once: `permc roles suggest` proposes `{role}` and proves the rewrite keeps access identical"
        )));
    }
}

/// A configured level for one lint code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

impl Level {
    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "allow" => Some(Level::Allow),
            "warn" => Some(Level::Warn),
            "deny" => Some(Level::Deny),
            _ => None,
        }
    }
}

/// Applies per-code levels: `allow` drops a code's diagnostics, `warn` makes them warnings, `deny` errors.
/// `deny_warnings` turns every remaining warning into an error (`--deny warnings`).
pub fn apply_levels(diagnostics: &mut Vec<Diagnostic>, levels: &HashMap<Code, Level>, deny_warnings: bool) {
    diagnostics.retain(|it| levels.get(&it.code) != Some(&Level::Allow));
    for diagnostic in diagnostics.iter_mut() {
        match levels.get(&diagnostic.code) {
            Some(Level::Deny) => diagnostic.severity = Severity::Error,
            Some(Level::Warn) => diagnostic.severity = Severity::Warning,
            _ => {}
        }
        if deny_warnings && diagnostic.severity == Severity::Warning {
            diagnostic.severity = Severity::Error;
        }
    }
}

/// Whose rules a rule list is.
#[derive(Clone, Debug)]
pub(crate) enum Owner {
    Role(String),
    Privilege { member: String, slug: String, permanent: bool },
}

impl Owner {
    pub fn describe(&self) -> String {
        match self {
            Owner::Role(slug) => format!("role `{slug}`"),
            Owner::Privilege { member, slug, .. } => format!("privilege `{slug}` of `{member}`"),
        }
    }
}

/// One state per thread of the current pool, kept from one parallel job to the next (rayon's `map_init`
/// starts a fresh state for every job it splits off, several per thread).
pub(super) struct PerThread<S>(Vec<std::sync::Mutex<S>>);

impl<S: Default> PerThread<S> {
    pub(super) fn new() -> PerThread<S> {
        PerThread((0..rayon::current_num_threads()).map(|_| std::sync::Mutex::default()).collect())
    }

    /// Runs `work` with this thread's state. Only this thread takes it, so it is free unless `work` itself
    /// waits on parallel jobs and this thread picks one up meanwhile: that job gets a fresh state (states
    /// are caches, so it is only slower) rather than waiting on its own thread.
    pub(super) fn with<R>(&self, work: impl FnOnce(&mut S) -> R) -> R {
        use std::sync::TryLockError;
        let index = rayon::current_thread_index().unwrap_or(0) % self.0.len();
        match self.0[index].try_lock() {
            Ok(mut state) => work(&mut state),
            Err(TryLockError::Poisoned(poisoned)) => work(&mut poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => work(&mut S::default()),
        }
    }
}

/// Where each rule of the repository is written, by file and the start of the rule.
pub(crate) type SpanIndex<'a> = HashMap<(FileId, u32), &'a RulePlaces, FxBuild>;

/// A rule list as Infisical stores it, with the place of every rule.
pub(crate) struct RuleSet<'p> {
    pub owner: Owner,
    pub file: FileId,
    pub stored: &'p [StoredRule],
    pub items: &'p [RulePlaces],
}

/// Every custom role's and privilege's rule list that Infisical would accept.
fn rule_sets(project: &Project) -> Vec<RuleSet<'_>> {
    use rayon::prelude::*;
    let mut owners: Vec<(Owner, &Option<Arc<Permissions>>)> = Vec::new();
    for role in &project.roles {
        owners.push((Owner::Role(role.slug.value.clone()), &role.permissions));
    }
    for member in project.members() {
        for privilege in member.privileges.iter() {
            let owner = Owner::Privilege {
                member: member.name.value.clone(),
                slug: privilege.slug.value.clone(),
                permanent: privilege.temporary.is_none(),
            };
            owners.push((owner, &privilege.permissions));
        }
    }
    owners
        .into_par_iter()
        .filter_map(|(owner, permissions)| {
            let permissions = permissions.as_ref()?;
            let stored = permissions.stored.as_ref()?;
            let items = permissions.rules.as_slice();
            (items.len() == stored.len()).then_some(RuleSet {
                owner,
                file: permissions.file,
                stored: stored.as_slice(),
                items,
            })
        })
        .collect()
}

/// `a`, `a` and `b`, `a`, `b` and `c`, `a`, `b` and 2 more.
pub(crate) fn list_names(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|it| format!("`{it}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [first, second] => format!("{first} and {second}"),
        [first, second, third] => format!("{first}, {second} and {third}"),
        [first, second, rest @ ..] => format!("{first}, {second} and {} more", rest.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_keeps_its_state_and_a_nested_use_gets_a_fresh_one() {
        let states: PerThread<Vec<u32>> = PerThread::new();
        states.with(|outer| {
            outer.push(1);
            states.with(|inner| {
                assert!(inner.is_empty());
                inner.push(2);
            });
        });
        states.with(|again| assert_eq!(again, &[1]));
    }

    #[test]
    fn secret_paths_are_normalized_paths() {
        let paths = crate::scope::secret_paths();
        for good in ["/", "/app", "/app/db"] {
            assert!(paths.contains(good), "{good}");
        }
        for bad in ["", "app", "/app/", "//", "/app//db", "/app\n", "/.git"] {
            assert!(!paths.contains(bad), "{bad}");
        }
    }

    #[test]
    fn names_are_listed_briefly() {
        let names: Vec<String> = ["a", "b", "c", "d"].iter().map(|it| it.to_string()).collect();
        assert_eq!(list_names(&names[..1]), "`a`");
        assert_eq!(list_names(&names[..2]), "`a` and `b`");
        assert_eq!(list_names(&names), "`a`, `b` and 2 more");
    }
}
