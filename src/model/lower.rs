//! Lowering: one file's document tree to the typed model, reporting every shape error with its span.
//!
//! Both surfaces arrive here in the same tree shape (the HCL front end writes its blocks as the YAML form's
//! keys), so every message below speaks of keys by their YAML/API names.

use super::*;
use crate::catalog::{self, Catalog};
use crate::check::rules::check_permissions;
use crate::check::values::{is_iso_datetime, parse_ms};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::syntax::{Entry, NodeKind};

/// The keys a policy document may have at its top level.
pub const TOP_LEVEL_KEYS: &[&str] =
    &["project", "roles", "identities", "users", "accessPolicies", "secretPolicies", "$schema"];

pub(crate) const PROJECT_KEYS: &[&str] =
    &["slug", "id", "host", "catalog", "environments", "sensitiveEnvironments", "lints"];
/// Keys of a role as the API returns it that describe the stored object, not the desired one.
pub(crate) const ROLE_KEYS: &[&str] =
    &["slug", "name", "description", "permissions", "id", "projectId", "createdAt", "updatedAt"];
pub(crate) const TEMPORARY_KEYS: &[&str] = &[
    "duration",
    "temporaryRange",
    "start",
    "temporaryAccessStartTime",
    "isTemporary",
    "temporaryMode",
    "temporaryAccessEndTime",
];
pub(crate) const PRIVILEGE_KEYS: &[&str] = &[
    "slug",
    "permissions",
    "id",
    "projectId",
    "identityId",
    "userId",
    "createdAt",
    "updatedAt",
    "isLinkedToAccessApproval",
];
pub(crate) const ASSIGNMENT_KEYS: &[&str] = &["role", "customRoleId", "id", "createdAt", "updatedAt"];
pub(crate) const IDENTITY_KEYS: &[&str] = &["name", "id", "roles", "privileges"];
pub(crate) const USER_KEYS: &[&str] = &["email", "id", "username", "roles", "privileges"];
pub(crate) const ACCESS_POLICY_KEYS: &[&str] = &[
    "name",
    "environment",
    "environments",
    "secretPath",
    "enforcementLevel",
    "allowedSelfApprovals",
    "maxTimePeriod",
    "requestExpirationTime",
    "bypassers",
    "steps",
    "approvers",
    "approvals",
    "approvalsRequired",
    "id",
    "projectId",
];
pub(crate) const SECRET_POLICY_KEYS: &[&str] = &[
    "name",
    "environment",
    "environments",
    "secretPath",
    "enforcementLevel",
    "allowedSelfApprovals",
    "approvals",
    "approvers",
    "bypassers",
    "id",
    "projectId",
];
pub(crate) const STEP_KEYS: &[&str] = &["approvals", "approvers"];
pub(crate) const PRINCIPAL_KEYS: &[&str] = &["type", "id", "username", "sequence", "name", "approvalsRequired"];

/// Lowers one file's document. Never fails: what cannot be lowered is reported and left out.
pub fn lower_document(catalog: &Catalog, file: FileId, root: &Node, diagnostics: &mut Vec<Diagnostic>) -> Project {
    let mut cx = Lower { catalog, file, diagnostics };
    let mut project = Project::default();
    let Some(entries) = cx.object(root, "a policy document", TOP_LEVEL_KEYS) else {
        return project;
    };
    for entry in entries {
        match entry.key.as_str() {
            "project" => project.declarations.extend(cx.project(&entry.value)),
            "roles" => project.roles.extend(cx.list(&entry.value, "roles", Lower::role)),
            "identities" => project
                .identities
                .extend(cx.list(&entry.value, "identities", |cx, node| cx.member(node, MemberKind::Identity))),
            "users" => {
                project.users.extend(cx.list(&entry.value, "users", |cx, node| cx.member(node, MemberKind::User)))
            }
            "accessPolicies" => {
                project.access_policies.extend(cx.list(&entry.value, "accessPolicies", Lower::access_policy))
            }
            "secretPolicies" => {
                project.secret_policies.extend(cx.list(&entry.value, "secretPolicies", Lower::secret_policy))
            }
            _ => {}
        }
    }
    project
}

struct Lower<'a> {
    catalog: &'a Catalog,
    file: FileId,
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl Lower<'_> {
    fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn wrong_type(&mut self, node: &Node, key: &str, expected: &str) {
        let found = node.type_name();
        let diagnostic = Diagnostic::new(
            Code::WrongType,
            format!("`{key}` must be {expected}, found {found}"),
            self.file,
            node.span,
        )
        .label(format!("expected {expected}"));
        self.report(diagnostic);
    }

    /// The entries of a mapping, after reporting every key not in `allowed`.
    fn object<'n>(&mut self, node: &'n Node, what: &str, allowed: &[&str]) -> Option<&'n [Entry]> {
        let Some(entries) = node.as_map() else {
            let message = format!("{what} must be an object, found {}", node.type_name());
            self.report(Diagnostic::new(Code::WrongType, message, self.file, node.span).label("expected an object"));
            return None;
        };
        for entry in entries {
            if !allowed.contains(&entry.key.as_str()) {
                let mut diagnostic = Diagnostic::new(
                    Code::UnknownField,
                    format!("unknown key `{}` in {what}", entry.key),
                    self.file,
                    entry.key_span,
                );
                let visible = allowed.iter().copied().filter(|key| !key.starts_with('$'));
                match catalog::suggest(&entry.key, visible) {
                    Some(suggestion) => {
                        diagnostic = diagnostic.label(format!("did you mean `{suggestion}`?")).fix(
                            format!("rename to `{suggestion}`"),
                            crate::diagnostic::Applicability::Unsafe,
                            entry.key_span,
                            suggestion,
                        );
                    }
                    None => diagnostic = diagnostic.label("unknown key"),
                }
                let listed: Vec<_> =
                    allowed.iter().filter(|key| !key.starts_with('$')).map(|key| format!("`{key}`")).collect();
                diagnostic = diagnostic.help(format!("{what} may have: {}", listed.join(", ")));
                self.report(diagnostic);
            }
        }
        Some(entries)
    }

    fn list<T>(&mut self, node: &Node, key: &str, mut item: impl FnMut(&mut Self, &Node) -> Option<T>) -> Vec<T> {
        match &node.kind {
            NodeKind::Seq(items) => items.iter().filter_map(|it| item(self, it)).collect(),
            NodeKind::Null => Vec::new(),
            _ => {
                self.wrong_type(node, key, "a list");
                Vec::new()
            }
        }
    }

    fn string(&mut self, entries: &[Entry], key: &str) -> Option<Spanned<String>> {
        let entry = entries.iter().find(|entry| entry.key == key)?;
        match &entry.value.kind {
            NodeKind::String(text) => Some(Spanned::new(text.clone(), self.file, entry.value.span)),
            NodeKind::Null => None,
            _ => {
                self.wrong_type(&entry.value, key, "a string");
                None
            }
        }
    }

    /// A required string; reports it missing at `owner`.
    fn required_string(&mut self, entries: &[Entry], key: &str, owner: &Node, what: &str) -> Option<Spanned<String>> {
        let value = self.string(entries, key);
        if value.is_none() && !entries.iter().any(|entry| entry.key == key) {
            let span = Span::new(owner.span.start, owner.span.start);
            let diagnostic = Diagnostic::new(Code::MissingField, format!("{what} has no `{key}`"), self.file, span)
                .label(format!("`{key}` is required here"));
            self.report(diagnostic);
        }
        value
    }

    fn bool(&mut self, entries: &[Entry], key: &str) -> Option<Spanned<bool>> {
        let entry = entries.iter().find(|entry| entry.key == key)?;
        match &entry.value.kind {
            NodeKind::Bool(value) => Some(Spanned::new(*value, self.file, entry.value.span)),
            NodeKind::Null => None,
            _ => {
                self.wrong_type(&entry.value, key, "a boolean");
                None
            }
        }
    }

    /// A positive whole number (approval counts).
    fn count(&mut self, entries: &[Entry], key: &str) -> Option<Spanned<u32>> {
        let entry = entries.iter().find(|entry| entry.key == key)?;
        match &entry.value.kind {
            NodeKind::Number(text) => match text.parse::<u32>() {
                Ok(value) if value >= 1 => Some(Spanned::new(value, self.file, entry.value.span)),
                _ => {
                    let diagnostic = Diagnostic::new(
                        Code::InvalidApprovalPolicy,
                        format!("`{key}` must be a whole number of at least 1, found `{text}`"),
                        self.file,
                        entry.value.span,
                    )
                    .label("not a positive whole number");
                    self.report(diagnostic);
                    None
                }
            },
            NodeKind::Null => None,
            _ => {
                self.wrong_type(&entry.value, key, "a number");
                None
            }
        }
    }

    fn strings(&mut self, entries: &[Entry], key: &str) -> Option<Vec<Spanned<String>>> {
        let entry = entries.iter().find(|entry| entry.key == key)?;
        let NodeKind::Seq(items) = &entry.value.kind else {
            self.wrong_type(&entry.value, key, "a list of strings");
            return None;
        };
        let mut values = Vec::with_capacity(items.len());
        for item in items {
            match &item.kind {
                NodeKind::String(text) => values.push(Spanned::new(text.clone(), self.file, item.span)),
                _ => self.wrong_type(item, key, "a list of strings"),
            }
        }
        Some(values)
    }

    /// Reads one of two spellings of the same key (`duration` and `temporaryRange`), reporting both given.
    fn alias_string(&mut self, entries: &[Entry], short: &str, long: &str) -> Option<Spanned<String>> {
        let short_entry = entries.iter().find(|entry| entry.key == short);
        let long_entry = entries.iter().find(|entry| entry.key == long);
        if let (Some(first), Some(second)) = (short_entry, long_entry) {
            let diagnostic = Diagnostic::new(
                Code::DuplicateKey,
                format!("`{short}` and `{long}` are the same key"),
                self.file,
                second.key_span,
            )
            .label("given again here")
            .secondary(self.file, first.key_span, "first given here")
            .help(format!("keep one of them; `{short}` is short for `{long}`"));
            self.report(diagnostic);
        }
        match short_entry {
            Some(_) => self.string(entries, short),
            None => self.string(entries, long),
        }
    }

    fn project(&mut self, node: &Node) -> Option<ProjectDecl> {
        let entries = self.object(node, "the project declaration", PROJECT_KEYS)?;
        Some(ProjectDecl {
            file: self.file,
            span: node.span,
            slug: self.string(entries, "slug"),
            id: self.string(entries, "id"),
            host: self.string(entries, "host"),
            catalog: self.string(entries, "catalog"),
            environments: self.strings(entries, "environments"),
            sensitive_environments: self.strings(entries, "sensitiveEnvironments").unwrap_or_default(),
            lints: self.lints(entries),
        })
    }

    /// `lints: { redundant-rule: allow, ... }`.
    fn lints(&mut self, entries: &[Entry]) -> Vec<(Spanned<String>, Spanned<String>)> {
        let Some(entry) = entries.iter().find(|entry| entry.key == "lints") else { return Vec::new() };
        let Some(levels) = entry.value.as_map() else {
            self.wrong_type(&entry.value, "lints", "an object of lint codes and levels");
            return Vec::new();
        };
        let mut lints = Vec::new();
        for level in levels {
            match level.value.as_str() {
                Some(value) => lints.push((
                    Spanned::new(level.key.clone(), self.file, level.key_span),
                    Spanned::new(value.to_owned(), self.file, level.value.span),
                )),
                None => self.wrong_type(&level.value, &level.key, "`allow`, `warn` or `deny`"),
            }
        }
        lints
    }

    fn permissions(&mut self, entries: &[Entry]) -> Option<Permissions> {
        let entry = entries.iter().find(|entry| entry.key == "permissions")?;
        let outcome = check_permissions(self.catalog, self.file, &entry.value, self.diagnostics);
        let rules = entry.value.as_seq().unwrap_or_default().iter().map(rule_places).collect();
        Some(Permissions { file: self.file, rules, stored: outcome.stored })
    }

    fn role(&mut self, node: &Node) -> Option<Role> {
        let entries = self.object(node, "a role", ROLE_KEYS)?;
        let slug = self.required_string(entries, "slug", node, "a role")?;
        Some(Role {
            file: self.file,
            span: node.span,
            slug,
            name: self.string(entries, "name"),
            description: self.string(entries, "description"),
            permissions: self.permissions(entries).map(Arc::new),
        })
    }

    fn member(&mut self, node: &Node, kind: MemberKind) -> Option<Member> {
        let (what, keys, name_key) = match kind {
            MemberKind::Identity => ("an identity", IDENTITY_KEYS, "name"),
            MemberKind::User => ("a user", USER_KEYS, "email"),
        };
        let entries = self.object(node, what, keys)?;
        let name = self.required_string(entries, name_key, node, what)?;
        let roles_entry = entries.iter().find(|entry| entry.key == "roles");
        let roles = match roles_entry {
            Some(entry) => self.list(&entry.value, "roles", Lower::role_assignment),
            None => Vec::new(),
        };
        // A `roles` value of the wrong type is reported as such; "no role" is for an absent or empty list.
        let roles_written = roles_entry.is_some_and(|entry| entry.value.as_seq().is_none_or(|items| !items.is_empty()));
        if roles.is_empty() && !roles_written {
            let diagnostic = Diagnostic::new(
                Code::MissingField,
                format!("{} `{}` has no role", kind.noun(), name.value),
                self.file,
                name.span,
            )
            .label("no role assigned")
            .help("every project member needs at least one role; assign `no-access` to a member that only has additional privileges");
            self.report(diagnostic);
        }
        let privileges = match entries.iter().find(|entry| entry.key == "privileges") {
            Some(entry) => self.list(&entry.value, "privileges", Lower::privilege),
            None => Vec::new(),
        };
        let (roles, privileges) = (roles.into(), privileges.into());
        Some(Member { kind, file: self.file, span: node.span, name, id: self.string(entries, "id"), roles, privileges })
    }

    fn role_assignment(&mut self, node: &Node) -> Option<RoleAssignment> {
        if let NodeKind::String(slug) = &node.kind {
            return Some(RoleAssignment {
                file: self.file,
                span: node.span,
                role: Spanned::new(slug.clone(), self.file, node.span),
                temporary: None,
            });
        }
        let allowed: Vec<&str> = ASSIGNMENT_KEYS.iter().chain(TEMPORARY_KEYS).copied().collect();
        let entries = self.object(node, "a role assignment", &allowed)?;
        let role = self.required_string(entries, "role", node, "a role assignment")?;
        Some(RoleAssignment { file: self.file, span: node.span, role, temporary: self.temporary(entries, node) })
    }

    fn privilege(&mut self, node: &Node) -> Option<Privilege> {
        let allowed: Vec<&str> = PRIVILEGE_KEYS.iter().chain(TEMPORARY_KEYS).copied().collect();
        let entries = self.object(node, "an additional privilege", &allowed)?;
        let slug = self.required_string(entries, "slug", node, "an additional privilege")?;
        if !entries.iter().any(|entry| entry.key == "permissions") {
            let span = Span::new(node.span.start, node.span.start);
            let diagnostic =
                Diagnostic::new(Code::MissingField, "an additional privilege has no `permissions`", self.file, span)
                    .label("`permissions` is required here")
                    .help("a privilege grants the rules in its `permissions` list");
            self.report(diagnostic);
        }
        Some(Privilege {
            file: self.file,
            span: node.span,
            slug,
            temporary: self.temporary(entries, node),
            permissions: self.permissions(entries).map(Arc::new),
        })
    }

    /// Temporary access fields, in the short (`duration`, `start`) or the API spelling.
    fn temporary(&mut self, entries: &[Entry], owner: &Node) -> Option<Temporary> {
        let is_temporary = self.bool(entries, "isTemporary");
        if let Some(mode) = self.string(entries, "temporaryMode")
            && mode.value != "relative"
        {
            let diagnostic = Diagnostic::new(
                Code::InvalidValue,
                format!("unknown temporary mode `{}`", mode.value),
                self.file,
                mode.span,
            )
            .label("expected `relative`")
            .help("Infisical supports only `relative` temporary access: active from the start time for the duration");
            self.report(diagnostic);
        }
        let range = self.alias_string(entries, "duration", "temporaryRange");
        let start = self.alias_string(entries, "start", "temporaryAccessStartTime");
        if let Some(start) = &start
            && !is_iso_datetime(&start.value)
        {
            let diagnostic = Diagnostic::new(
                Code::InvalidTimestamp,
                format!("`{}` is not an ISO-8601 UTC timestamp", start.value),
                self.file,
                start.span,
            )
            .label("invalid timestamp")
            .help("write the start as `YYYY-MM-DDTHH:MM:SSZ`, e.g. `2026-01-31T09:00:00Z`");
            self.report(diagnostic);
        }
        match (is_temporary.as_ref().map(|it| it.value), range) {
            (Some(false), Some(range)) => {
                let diagnostic = Diagnostic::new(
                    Code::InvalidValue,
                    "a duration is given but `isTemporary` is false",
                    self.file,
                    range.span,
                )
                .label("duration of a permanent grant")
                .help("remove the duration for permanent access, or `isTemporary: false` for temporary access");
                self.report(diagnostic);
                None
            }
            (Some(true), None) => {
                let span = is_temporary.map_or(Span::new(owner.span.start, owner.span.start), |it| it.span);
                let diagnostic =
                    Diagnostic::new(Code::MissingField, "temporary access without a duration", self.file, span)
                        .label("`isTemporary` is true here")
                        .help("give the duration with `duration` (or `temporaryRange`), e.g. `4h`");
                self.report(diagnostic);
                None
            }
            (_, Some(range)) => {
                let range_ms = parse_ms(&range.value);
                match range_ms {
                    Some(ms) if ms > 0.0 => {}
                    Some(_) => {
                        let diagnostic = Diagnostic::new(
                            Code::InvalidDuration,
                            format!("temporary range `{}` is not positive", range.value),
                            self.file,
                            range.span,
                        )
                        .label("must be longer than zero")
                        .help("Infisical rejects it: \"Temporary range must be a positive number\"");
                        self.report(diagnostic);
                    }
                    None => self.report(invalid_duration(self.file, &range)),
                }
                Some(Temporary { range, range_ms: range_ms.filter(|ms| *ms > 0.0), start })
            }
            (_, None) => {
                if let Some(start) = start {
                    let diagnostic =
                        Diagnostic::new(Code::MissingField, "a start time without a duration", self.file, start.span)
                            .label("a start, but no `duration`")
                            .help(
                                "temporary access needs a `duration` (e.g. `4h`); remove `start` for permanent access",
                            );
                    self.report(diagnostic);
                }
                None
            }
        }
    }

    fn environments(&mut self, entries: &[Entry], node: &Node, what: &str) -> Vec<Spanned<String>> {
        let single = self.string(entries, "environment");
        let many = self.strings(entries, "environments");
        match (single, many) {
            (Some(single), Some(_)) => {
                let diagnostic = Diagnostic::new(
                    Code::DuplicateKey,
                    "both `environment` and `environments` are given",
                    self.file,
                    single.span,
                )
                .label("one of the two")
                .help("use `environments` for a list, `environment` for one");
                self.report(diagnostic);
                vec![single]
            }
            (Some(single), None) => vec![single],
            (None, Some(many)) if !many.is_empty() => many,
            _ => {
                let span = Span::new(node.span.start, node.span.start);
                let diagnostic =
                    Diagnostic::new(Code::MissingField, format!("{what} has no environment"), self.file, span)
                        .label("`environment` or `environments` is required here");
                self.report(diagnostic);
                Vec::new()
            }
        }
    }

    fn enforcement(&mut self, entries: &[Entry]) -> Option<Spanned<Enforcement>> {
        let level = self.string(entries, "enforcementLevel")?;
        let value = match level.value.as_str() {
            "hard" => Enforcement::Hard,
            "soft" => Enforcement::Soft,
            other => {
                let diagnostic = Diagnostic::new(
                    Code::InvalidValue,
                    format!("unknown enforcement level `{other}`"),
                    self.file,
                    level.span,
                )
                .label("expected `hard` or `soft`")
                .help("`hard` blocks access until approved; `soft` lets the bypassers go ahead and records it");
                self.report(diagnostic);
                return None;
            }
        };
        Some(Spanned::new(value, self.file, level.span))
    }

    fn principals(&mut self, entries: &[Entry], key: &str) -> Vec<(Principal, Option<Spanned<u32>>)> {
        let Some(entry) = entries.iter().find(|entry| entry.key == key) else {
            return Vec::new();
        };
        self.list(&entry.value, key, |cx, node| {
            let entries = cx.object(node, "an approver or bypasser", PRINCIPAL_KEYS)?;
            let kind_text = cx.required_string(entries, "type", node, "an approver or bypasser")?;
            let kind = match kind_text.value.as_str() {
                "user" => PrincipalKind::User,
                "group" => PrincipalKind::Group,
                other => {
                    let diagnostic =
                        Diagnostic::new(Code::InvalidValue, format!("unknown type `{other}`"), cx.file, kind_text.span)
                            .label("expected `user` or `group`");
                    cx.report(diagnostic);
                    return None;
                }
            };
            let id = cx.string(entries, "id");
            let username = cx.string(entries, "username");
            let problem = match kind {
                PrincipalKind::User if id.is_none() && username.is_none() => {
                    Some("a user needs an `id` or a `username`")
                }
                PrincipalKind::Group if id.is_none() => Some("a group needs an `id`"),
                PrincipalKind::Group if username.is_some() => Some("a group is named by its `id`, not a `username`"),
                _ => None,
            };
            if let Some(problem) = problem {
                let diagnostic = Diagnostic::new(Code::InvalidApprovalPolicy, problem, cx.file, node.span)
                    .label("incomplete approver");
                cx.report(diagnostic);
                return None;
            }
            let sequence = cx.count(entries, "sequence");
            Some((Principal { span: node.span, kind, id, username }, sequence))
        })
    }

    fn check_principal_count(&mut self, principals: &[Principal], key: &str, node: &Node) {
        if principals.len() > 100 {
            let diagnostic = Diagnostic::new(
                Code::InvalidApprovalPolicy,
                format!("{} {key}; Infisical allows at most 100", principals.len()),
                self.file,
                node.span,
            )
            .label("too many");
            self.report(diagnostic);
        }
    }

    fn access_policy(&mut self, node: &Node) -> Option<AccessPolicy> {
        let entries = self.object(node, "an access policy", ACCESS_POLICY_KEYS)?;
        let name = self.required_string(entries, "name", node, "an access policy")?;
        let environments = self.environments(entries, node, "an access policy");
        let secret_path = self.required_string(entries, "secretPath", node, "an access policy");
        let max_time_period = self.string(entries, "maxTimePeriod");
        if let Some(period) = &max_time_period
            && !matches!(period.value.as_str(), "" | "permanent")
            && !parse_ms(&period.value).is_some_and(|ms| ms > 0.0)
        {
            let diagnostic = invalid_duration(self.file, period)
                .help("write a positive duration such as `8h` or `2d`, or `permanent` for no limit");
            self.report(diagnostic);
        }
        let request_expiration_time = self.string(entries, "requestExpirationTime");
        if let Some(expiry) = &request_expiration_time
            && !matches!(expiry.value.as_str(), "" | "never")
        {
            const MINUTE: f64 = 60_000.0;
            const YEAR: f64 = 365.25 * 24.0 * 60.0 * MINUTE;
            match parse_ms(&expiry.value) {
                None => self.report(invalid_duration(self.file, expiry)),
                Some(ms) if !(MINUTE..=YEAR).contains(&ms) => {
                    let diagnostic = Diagnostic::new(
                        Code::InvalidDuration,
                        format!("request expiration `{}` is out of range", expiry.value),
                        self.file,
                        expiry.span,
                    )
                    .label("must be between 1 minute and 1 year")
                    .help("Infisical accepts request expiration times from `1m` to `1y`, or `never`");
                    self.report(diagnostic);
                }
                Some(_) => {}
            }
        }
        let bypassers: Vec<Principal> = self.principals(entries, "bypassers").into_iter().map(|(it, _)| it).collect();
        self.check_principal_count(&bypassers, "bypassers", node);
        let steps = self.steps(entries, node);
        Some(AccessPolicy {
            file: self.file,
            span: node.span,
            name,
            environments,
            secret_path,
            enforcement: self.enforcement(entries),
            allowed_self_approvals: self.bool(entries, "allowedSelfApprovals"),
            max_time_period,
            request_expiration_time,
            bypassers,
            steps,
        })
    }

    /// Approval steps, from `steps` or from the API's flat form (`approvers` with `sequence`, `approvals`,
    /// `approvalsRequired`).
    fn steps(&mut self, entries: &[Entry], node: &Node) -> Vec<Step> {
        let steps_entry = entries.iter().find(|entry| entry.key == "steps");
        let flat_entry = entries.iter().find(|entry| entry.key == "approvers");
        let steps = match (steps_entry, flat_entry) {
            (Some(steps_entry), Some(flat)) => {
                let diagnostic = Diagnostic::new(
                    Code::DuplicateKey,
                    "both `steps` and `approvers` are given",
                    self.file,
                    flat.key_span,
                )
                .label("approvers outside the steps")
                .secondary(self.file, steps_entry.key_span, "steps given here")
                .help("list the approvers inside each step");
                self.report(diagnostic);
                Vec::new()
            }
            (Some(steps_entry), None) => self.list(&steps_entry.value, "steps", |cx, step| {
                let step_entries = cx.object(step, "an approval step", STEP_KEYS)?;
                let approvers = cx.principals(step_entries, "approvers").into_iter().map(|(it, _)| it).collect();
                Some(Step { span: step.span, approvals: cx.count(step_entries, "approvals"), approvers })
            }),
            (None, Some(_)) => {
                let approvals = self.count(entries, "approvals");
                let mut steps: Vec<Step> = Vec::new();
                for (principal, sequence) in self.principals(entries, "approvers") {
                    let index = sequence.map_or(1, |it| it.value) as usize;
                    while steps.len() < index {
                        steps.push(Step { span: principal.span, approvals: None, approvers: Vec::new() });
                    }
                    steps[index - 1].approvers.push(principal);
                }
                if let Some(first) = steps.first_mut() {
                    first.approvals = approvals;
                }
                steps
            }
            (None, None) => Vec::new(),
        };
        if steps.is_empty() && steps_entry.is_none() && flat_entry.is_none() {
            let span = Span::new(node.span.start, node.span.start);
            let diagnostic = Diagnostic::new(
                Code::InvalidApprovalPolicy,
                "an access policy has no approvers",
                self.file,
                span,
            )
            .label("no `steps`")
            .help(
                "add at least one step with approvers; Infisical answers \"At least one approver should be provided\"",
            );
            self.report(diagnostic);
        }
        for (index, step) in steps.iter().enumerate() {
            if step.approvers.is_empty() {
                let diagnostic = Diagnostic::new(
                    Code::InvalidApprovalPolicy,
                    format!("approval step {} has no approvers", index + 1),
                    self.file,
                    step.span,
                )
                .label("no approvers")
                .help("every step needs at least one user or group that can approve");
                self.report(diagnostic);
            }
        }
        let total: Vec<Principal> = steps.iter().flat_map(|step| step.approvers.iter().cloned()).collect();
        self.check_principal_count(&total, "approvers", node);
        steps
    }

    fn secret_policy(&mut self, node: &Node) -> Option<SecretPolicy> {
        let entries = self.object(node, "a secret approval policy", SECRET_POLICY_KEYS)?;
        let name = self.required_string(entries, "name", node, "a secret approval policy")?;
        let environments = self.environments(entries, node, "a secret approval policy");
        let secret_path = self.required_string(entries, "secretPath", node, "a secret approval policy");
        let approvers: Vec<Principal> = self.principals(entries, "approvers").into_iter().map(|(it, _)| it).collect();
        if approvers.is_empty() {
            let span = entries
                .iter()
                .find(|entry| entry.key == "approvers")
                .map_or(Span::new(node.span.start, node.span.start), |it| it.value.span);
            let diagnostic = Diagnostic::new(
                Code::InvalidApprovalPolicy,
                "a secret approval policy has no approvers",
                self.file,
                span,
            )
            .label("no approvers")
            .help("Infisical requires between 1 and 100 approvers");
            self.report(diagnostic);
        }
        self.check_principal_count(&approvers, "approvers", node);
        let bypassers: Vec<Principal> = self.principals(entries, "bypassers").into_iter().map(|(it, _)| it).collect();
        self.check_principal_count(&bypassers, "bypassers", node);
        Some(SecretPolicy {
            file: self.file,
            span: node.span,
            name,
            environments,
            secret_path,
            enforcement: self.enforcement(entries),
            allowed_self_approvals: self.bool(entries, "allowedSelfApprovals"),
            approvals: self.count(entries, "approvals"),
            approvers,
            bypassers,
        })
    }
}

/// The places of one written rule (see [`RulePlaces`]).
fn rule_places(rule: &Node) -> RulePlaces {
    let named = |node: &Node| -> Option<(Box<str>, Span)> { Some((Box::from(node.as_str()?), node.span)) };
    let action = rule.get("action").map(|it| &it.value);
    let actions = match action {
        Some(node) if node.as_str().is_some() => named(node).into_iter().collect(),
        Some(node) => node.as_seq().unwrap_or_default().iter().filter_map(named).collect(),
        None => Box::default(),
    };
    let conditions = rule.get("conditions").and_then(|it| it.value.as_map()).unwrap_or_default();
    // A template names no environment until it is rendered.
    let literal = |node: &Node| named(node).filter(|(text, _)| !crate::eval::has_braces(text));
    let environments = match conditions.iter().find(|it| it.key == "environment").map(|it| &it.value) {
        Some(node) if node.as_str().is_some() => literal(node).into_iter().collect(),
        Some(node) => node
            .as_map()
            .unwrap_or_default()
            .iter()
            .flat_map(|operator| match operator.key.as_str() {
                "$eq" | "$ne" => std::slice::from_ref(&operator.value),
                "$in" => operator.value.as_seq().unwrap_or_default(),
                _ => &[],
            })
            .filter_map(literal)
            .collect(),
        None => Box::default(),
    };
    RulePlaces {
        item: rule.span,
        head: action.map_or(rule.span, |it| it.span),
        actions,
        conditions: conditions.iter().map(|it| (Box::from(it.key.as_str()), it.key_span)).collect(),
        environments,
    }
}

fn invalid_duration(file: FileId, value: &Spanned<String>) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidDuration,
        format!("`{}` is not a duration Infisical accepts", value.value),
        file,
        value.span,
    )
    .label("invalid duration")
    .help("write a number and a unit, such as `30m`, `4h`, `2d` or `1w`; compound forms like `1h30m` are not accepted")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places(text: &str) -> Vec<RulePlaces> {
        let root = crate::syntax::yaml::parse(FileId(0), text).root.expect("a document");
        root.as_seq().unwrap().iter().map(rule_places).collect()
    }

    fn named(text: &str, list: &[(Box<str>, Span)]) -> Vec<(String, String)> {
        list.iter().map(|(name, span)| (name.to_string(), text[span.range()].to_owned())).collect()
    }

    #[test]
    fn rule_places_point_at_what_is_written() {
        let text = "\
- subject: secrets
  action: [read, 7, \"create\"]
  conditions:
    environment: { $in: [prod, \"{{ identity.metadata.env }}\", dev], $eq: qa, $ne: uat, $glob: 'pre*' }
    secretPath: { $glob: /a/** }
- subject: secrets
  action: read
  conditions: { environment: staging }
- subject: folders
- plain
";
        let rules = places(text);
        assert_eq!(rules.len(), 4);
        let first = &rules[0];
        let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(&text[first.head.range()], "[read, 7, \"create\"]");
        assert_eq!(named(text, &first.actions), [pair("read", "read"), pair("create", "\"create\"")]);
        assert_eq!(
            named(text, &first.conditions),
            [pair("environment", "environment"), pair("secretPath", "secretPath")]
        );
        // Literal slugs only: the template and the pattern name no environment.
        assert_eq!(
            named(text, &first.environments),
            [pair("prod", "prod"), pair("dev", "dev"), pair("qa", "qa"), pair("uat", "uat")]
        );
        assert_eq!(text[first.action("create").range()].to_owned(), "\"create\"");
        assert_eq!(first.action("delete"), first.head);
        assert_eq!(&text[first.condition("secretPath").range()], "secretPath");
        assert_eq!(first.condition("secretName"), first.head);

        assert_eq!(named(text, &rules[1].actions), [pair("read", "read")]);
        assert_eq!(named(text, &rules[1].environments), [pair("staging", "staging")]);
        // No action: the rule itself is the head; not an object: nothing inside.
        assert_eq!(rules[2].head, rules[2].item);
        assert!(rules[2].actions.is_empty() && rules[2].conditions.is_empty());
        assert_eq!(&text[rules[3].item.range()], "plain");
        assert!(rules[3].actions.is_empty() && rules[3].environments.is_empty());
    }
}
