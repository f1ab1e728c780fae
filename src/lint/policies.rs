//! Lints on access-approval and secret-approval policies.
//!
//! Infisical finds the policy of a secret with `picomatch.isMatch(secretPath, policy.secretPath,
//! { strictSlashes: false })`, the same matcher as `$glob`, so a policy's path is read as a glob here.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::json;

use super::{PerThread, list_names};
use crate::catalog::Catalog;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::eval::{self, EvalRule};
use crate::lang::FxBuild;
use crate::model::{AccessPolicy, Enforcement, Principal, PrincipalKind, Project, SecretPolicy, Spanned};
use crate::scope::{Memo, PathGlobs, Request};
use crate::source::{FileId, Span};

pub(super) fn lint_policies(catalog: &Catalog, project: &Project, memos: &PerThread<Memo>, out: &mut Vec<Diagnostic>) {
    privilege_bypass(catalog, project, memos, out);
    for policy in &project.access_policies {
        if policy.enforcement.as_ref().is_some_and(|it| it.value == Enforcement::Soft) && policy.bypassers.is_empty() {
            let span = policy.enforcement.as_ref().map_or(policy.name.span, |it| it.span);
            out.push(
                Diagnostic::new(
                    Code::BypassWithoutBypassers,
                    format!("access policy `{}` may be bypassed by anyone", policy.name.value),
                    policy.file,
                    span,
                )
                .label("soft enforcement with no bypassers named")
                .help("name the users or groups that may bypass in `bypassers`, or enforce the policy `hard`"),
            );
        }
        for (number, step) in policy.steps.iter().enumerate() {
            let what = format!("step {} of access policy `{}`", number + 1, policy.name.value);
            let approval = Approval { file: policy.file, name: &policy.name, span: step.span };
            approval.check(
                &what,
                policy.allowed_self_approvals.as_ref(),
                step.approvals.as_ref(),
                &step.approvers,
                out,
            );
        }
    }
    for policy in &project.secret_policies {
        let what = format!("secret policy `{}`", policy.name.value);
        let approval = Approval { file: policy.file, name: &policy.name, span: policy.span };
        approval.check(
            &what,
            policy.allowed_self_approvals.as_ref(),
            policy.approvals.as_ref(),
            &policy.approvers,
            out,
        );
    }
    let access: Vec<Scoped> = project.access_policies.iter().map(Scoped::access).collect();
    overlapping(&access, "access", out);
    let secret: Vec<Scoped> = project.secret_policies.iter().map(Scoped::secret).collect();
    overlapping(&secret, "secret", out);
}

/// One set of approvers with the number of approvals it needs.
struct Approval<'p> {
    file: FileId,
    name: &'p Spanned<String>,
    /// Where to point when `approvals` is not written.
    span: Span,
}

impl Approval<'_> {
    fn check(
        &self,
        what: &str,
        self_approvals: Option<&Spanned<bool>>,
        required: Option<&Spanned<u32>>,
        approvers: &[Principal],
        out: &mut Vec<Diagnostic>,
    ) {
        let all_users = approvers.iter().all(|it| it.kind == PrincipalKind::User);
        if let Some(required) = required
            && !approvers.is_empty()
            && all_users
            && (required.value as usize) > approvers.len()
        {
            let span = if required.span.is_empty() { self.span } else { required.span };
            out.push(
                Diagnostic::new(
                    Code::ApprovalsExceedApprovers,
                    format!("{what} needs {} approvals but has {} approvers", required.value, approvers.len()),
                    self.file,
                    span,
                )
                .label("can never be reached")
                .help("lower `approvals`, or add approvers"),
            );
        }
        if self_approvals.is_some_and(|it| !it.value) || required.is_some_and(|it| it.value > 1) {
            return;
        }
        let [only] = approvers else { return };
        if only.kind != PrincipalKind::User {
            return;
        }
        let mut diagnostic = Diagnostic::new(
            Code::SelfApproval,
            format!("`{}` may approve their own requests under `{}`", only.display(), self.name.value),
            self.file,
            only.span,
        )
        .label("the only approver");
        diagnostic = match self_approvals {
            Some(allowed) => diagnostic.secondary(self.file, allowed.span, "self-approval allowed here"),
            None => diagnostic.note("`allowedSelfApprovals` is `true` unless set to `false`"),
        };
        out.push(diagnostic.help("set `allowedSelfApprovals: false`, or add a second approver"));
    }
}

/// A policy's environments, path language and enforcement.
struct Scoped<'p> {
    file: FileId,
    name: &'p Spanned<String>,
    environments: Vec<&'p str>,
    path: Option<&'p Spanned<String>>,
    enforcement: Enforcement,
}

impl<'p> Scoped<'p> {
    fn access(policy: &'p AccessPolicy) -> Scoped<'p> {
        Scoped {
            file: policy.file,
            name: &policy.name,
            environments: policy.environments.iter().map(|it| it.value.as_str()).collect(),
            path: policy.secret_path.as_ref(),
            enforcement: policy.enforcement.as_ref().map_or(Enforcement::Hard, |it| it.value),
        }
    }

    fn secret(policy: &'p SecretPolicy) -> Scoped<'p> {
        Scoped {
            file: policy.file,
            name: &policy.name,
            environments: policy.environments.iter().map(|it| it.value.as_str()).collect(),
            path: policy.secret_path.as_ref(),
            enforcement: policy.enforcement.as_ref().map_or(Enforcement::Hard, |it| it.value),
        }
    }
}

fn overlapping(policies: &[Scoped], kind: &str, out: &mut Vec<Diagnostic>) {
    let patterns: Vec<Option<&str>> = policies.iter().map(|it| it.path.map(|path| path.value.as_str())).collect();
    let paths = PathGlobs::new(&patterns);
    // Only policies of one environment can overlap: pair them per environment.
    let mut by_environment: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, policy) in policies.iter().enumerate() {
        for environment in &policy.environments {
            by_environment.entry(environment).or_default().push(index);
        }
    }
    let mut pairs = BTreeSet::new();
    for indices in by_environment.values() {
        for (at, &second) in indices.iter().enumerate() {
            for &first in &indices[..at] {
                if policies[first].enforcement != policies[second].enforcement {
                    pairs.insert((first, second));
                }
            }
        }
    }
    for (first, second) in pairs {
        let (a, b) = (&policies[first], &policies[second]);
        let shared: Vec<String> =
            a.environments.iter().filter(|env| b.environments.contains(env)).map(|it| it.to_string()).collect();
        if shared.is_empty() {
            continue;
        }
        let Some(path) = paths.overlap(first, second) else { continue };
        let word = |it: Enforcement| if it == Enforcement::Hard { "hard" } else { "soft" };
        out.push(
            Diagnostic::new(
                Code::OverlappingApprovalPolicies,
                format!(
                    "{kind} policies `{}` ({}) and `{}` ({}) both cover `{path}` in {}",
                    a.name.value,
                    word(a.enforcement),
                    b.name.value,
                    word(b.enforcement),
                    list_names(&shared)
                ),
                b.file,
                b.path.map_or(b.name.span, |it| it.span),
            )
            .label("overlaps the other policy")
            .secondary(a.file, a.path.map_or(a.name.span, |it| it.span), "with different enforcement")
            .help("make the paths disjoint, or give both policies the same enforcement"),
        );
    }
}

/// The reads of secrets access policies protect: one allow per policy (by index) and environment.
pub(super) fn protected_scopes(project: &Project) -> Vec<(usize, EvalRule)> {
    let mut protected = Vec::new();
    for (at, policy) in project.access_policies.iter().enumerate() {
        let Some(path) = &policy.secret_path else { continue };
        for environment in &policy.environments {
            let conditions = json!({ "environment": environment.value, "secretPath": { "$glob": path.value } });
            protected.push((
                at,
                EvalRule {
                    subject: "secrets".into(),
                    actions: READS.iter().map(|it| (*it).to_owned()).collect(),
                    inverted: false,
                    conditions: conditions.as_object().cloned().map(std::sync::Arc::new),
                    origin: usize::MAX,
                },
            ));
        }
    }
    protected
}

/// The actions that read secrets.
const READS: &[&str] = &["describeSecret", "readValue", "read"];

/// Permanent additional privileges that read secrets an access policy protects.
///
/// Every privilege rule is compared with all protected scopes at once (one group per rule and action,
/// remembered by the rule's content), so the work grows with the distinct rules, not with rules times
/// policies.
fn privilege_bypass(catalog: &Catalog, project: &Project, memos: &PerThread<Memo>, out: &mut Vec<Diagnostic>) {
    let protected = protected_scopes(project);
    if protected.is_empty() {
        return;
    }
    use rayon::prelude::*;
    // Each distinct read rule (by content) is compared with the protected scopes once; the privileges are
    // then judged in order.
    let holders: Vec<(&crate::model::Member, &crate::model::Privilege)> = project
        .members()
        .flat_map(|member| member.privileges.iter().filter(|it| it.temporary.is_none()).map(move |it| (member, it)))
        .collect();
    // Per privilege: its rules in evaluation order, and its allows on secrets (positions) with their
    // content.
    type Prepared<'p> =
        (&'p crate::model::Member, &'p crate::model::Privilege, Vec<EvalRule>, Vec<(usize, eval::Content)>);
    let privileges: Vec<Prepared> = holders
        .par_iter()
        .filter_map(|&(member, privilege)| {
            let stored = privilege.permissions.as_ref().and_then(|it| it.stored.as_ref())?;
            let prepared = eval::order(catalog, stored);
            let allows = (0..prepared.len())
                .filter(|&at| !prepared[at].inverted && prepared[at].subject == "secrets")
                .map(|at| (at, prepared[at].content()))
                .collect();
            Some((member, privilege, prepared, allows))
        })
        .collect();
    let mut distinct: HashMap<(&eval::Content, &str), &EvalRule, FxBuild> = HashMap::default();
    for (_, _, prepared, allows) in &privileges {
        for (at, key) in allows {
            let rule = &prepared[*at];
            for action in rule.actions.iter().filter(|it| READS.contains(&it.as_str())) {
                distinct.entry((key, action.as_str())).or_insert(rule);
            }
        }
    }
    let overlaps: HashMap<(&eval::Content, &str), Vec<(usize, Request)>, FxBuild> = {
        let work: Vec<(&(&eval::Content, &str), &&EvalRule)> = distinct.iter().collect();
        // The protected rules' keys in each thread's memo (always taken with the memo, so a fresh memo
        // comes with fresh keys).
        let keys: PerThread<Vec<u32>> = PerThread::new();
        work.par_iter()
            .map(|&(&(key, action), rule)| {
                memos.with(|memo| {
                    keys.with(|keys| {
                        if keys.is_empty() {
                            keys.extend(protected.iter().map(|(_, rule)| memo.key(rule)));
                        }
                        ((key, action), protected_overlaps(catalog, memo, keys, rule, action, &protected))
                    })
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .collect()
    };
    let judge = |(member, privilege, prepared, allows): &Prepared| -> Option<(usize, Diagnostic)> {
        let prepared = prepared.as_slice();
        // The first read each policy is reached by.
        let mut reached: BTreeMap<usize, (String, Request)> = BTreeMap::new();
        for (at, key) in allows {
            let rule = &prepared[*at];
            for action in rule.actions.iter().filter(|it| READS.contains(&it.as_str())) {
                let Some(candidates) = overlaps.get(&(key, action.as_str())) else { continue };
                for (policy, witness) in candidates.iter() {
                    if reached.contains_key(policy) {
                        continue;
                    }
                    // The privilege as a whole (its own denies included) grants the request.
                    let object = witness.object();
                    if eval::can(prepared, action, "secrets", object.as_ref()).is_ok_and(|it| it.allowed) {
                        reached.insert(*policy, (action.clone(), witness.clone()));
                    }
                }
            }
        }
        // One diagnostic per privilege, naming every policy it reaches.
        let (&first, (action, witness)) = reached.iter().next()?;
        let names: Vec<String> = reached.keys().map(|at| project.access_policies[*at].name.value.clone()).collect();
        let mut diagnostic = Diagnostic::new(
            Code::PrivilegeBypassesApproval,
            format!(
                "permanent privilege `{}` of `{}` reaches secrets that access {} {} {}",
                privilege.slug.value,
                member.name.value,
                if names.len() == 1 { "policy" } else { "policies" },
                list_names(&names),
                if names.len() == 1 { "protects" } else { "protect" },
            ),
            privilege.slug.file,
            privilege.slug.span,
        )
        .label(format!("allows `{action}` on {witness}"));
        for at in reached.keys().take(3) {
            let policy = &project.access_policies[*at];
            if let Some(path) = &policy.secret_path {
                diagnostic = diagnostic.secondary(
                    policy.file,
                    path.span,
                    format!("protected by access policy `{}`", policy.name.value),
                );
            }
        }
        let help = if names.len() == 1 {
            "make the privilege temporary, or leave this path to access requests"
        } else {
            "make the privilege temporary, or leave these paths to access requests"
        };
        Some((first, diagnostic.help(help)))
    };
    let mut found: Vec<(usize, Diagnostic)> = privileges.par_iter().filter_map(judge).collect();
    // Policy by policy, as the policies are declared.
    found.sort_by_key(|(at, _)| *at);
    out.extend(found.into_iter().map(|(_, diagnostic)| diagnostic));
}

/// The protected scopes a read rule overlaps for `action`, each with a request in both.
fn protected_overlaps(
    catalog: &Catalog,
    memo: &mut Memo,
    protected_keys: &[u32],
    rule: &EvalRule,
    action: &str,
    protected: &[(usize, EvalRule)],
) -> Vec<(usize, Request)> {
    // Scopes whose environment the rule cannot match are left out first.
    let environment = rule.conditions.as_ref().and_then(|it| it.get("environment"));
    let candidates: Vec<usize> = (0..protected.len())
        .filter(|at| {
            let value = protected[*at].1.conditions.as_ref().and_then(|it| it.get("environment"));
            environment.is_none_or(|condition| eval::matches_field("environment", condition, value).unwrap_or(true))
        })
        .collect();
    if candidates.is_empty() {
        return Vec::new();
    }
    // The rule first, then the protected scopes; only conditions and `inverted` matter.
    let rules: Vec<&EvalRule> = std::iter::once(rule).chain(candidates.iter().map(|at| &protected[*at].1)).collect();
    let keys: Vec<u32> =
        std::iter::once(memo.key(rule)).chain(candidates.iter().map(|at| protected_keys[*at])).collect();
    let group = memo.group("secrets", action);
    let group = memo.build(catalog, group, &rules, &keys);
    (1..rules.len())
        .filter_map(|other| Some((protected[candidates[other - 1]].0, group.overlap(0, other).ok()??)))
        .collect()
}
