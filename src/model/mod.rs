//! The typed project model: what a policy repository declares, with the place every value came from.
//!
//! The model knows nothing about the catalog: permission rules are kept as what Infisical would store for
//! them (computed by [`crate::check::rules`]), with the places of their written parts ([`RulePlaces`]).

pub mod lower;

pub use lower::{TOP_LEVEL_KEYS, lower_document};

use std::sync::Arc;

use crate::check::rules::StoredRule;
use crate::source::{FileId, Span};
use crate::syntax::Node;

/// A value with the file and span it was written at.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub file: FileId,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, file: FileId, span: Span) -> Spanned<T> {
        Spanned { value, file, span }
    }
}

/// Everything declared by all the files of a policy repository.
#[derive(Clone, Debug, Default)]
pub struct Project {
    /// Every project declaration found; exactly one is expected.
    pub declarations: Vec<ProjectDecl>,
    pub roles: Vec<Role>,
    pub identities: Vec<Member>,
    pub users: Vec<Member>,
    pub access_policies: Vec<AccessPolicy>,
    pub secret_policies: Vec<SecretPolicy>,
}

impl Project {
    /// Appends another file's declarations.
    pub fn extend(&mut self, other: Project) {
        self.declarations.extend(other.declarations);
        self.roles.extend(other.roles);
        self.identities.extend(other.identities);
        self.users.extend(other.users);
        self.access_policies.extend(other.access_policies);
        self.secret_policies.extend(other.secret_policies);
    }

    /// Replaces the declarations of `file` with `part` (which must all come from `file`), keeping every
    /// list grouped by file in file order.
    pub fn replace_file(&mut self, file: FileId, part: Project) {
        fn splice<T>(list: &mut Vec<T>, new: Vec<T>, file: FileId, file_of: impl Fn(&T) -> FileId) {
            let start = list.partition_point(|it| file_of(it) < file);
            let end = start + list[start..].iter().take_while(|it| file_of(it) == file).count();
            list.splice(start..end, new);
        }
        splice(&mut self.declarations, part.declarations, file, |it| it.file);
        splice(&mut self.roles, part.roles, file, |it| it.file);
        splice(&mut self.identities, part.identities, file, |it| it.file);
        splice(&mut self.users, part.users, file, |it| it.file);
        splice(&mut self.access_policies, part.access_policies, file, |it| it.file);
        splice(&mut self.secret_policies, part.secret_policies, file, |it| it.file);
    }

    /// The project declaration, when there is exactly one.
    pub fn declaration(&self) -> Option<&ProjectDecl> {
        match self.declarations.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    pub fn members(&self) -> impl Iterator<Item = &Member> {
        self.identities.iter().chain(&self.users)
    }
}

/// `project`: which Infisical project the repository describes.
#[derive(Clone, Debug)]
pub struct ProjectDecl {
    pub file: FileId,
    pub span: Span,
    pub slug: Option<Spanned<String>>,
    pub id: Option<Spanned<String>>,
    pub host: Option<Spanned<String>>,
    /// The catalog version the repository is checked against.
    pub catalog: Option<Spanned<String>>,
    /// The environment slugs that exist; `None` when not declared (environment checks are then skipped).
    pub environments: Option<Vec<Spanned<String>>>,
    /// Environments where broad writes deserve a warning.
    pub sensitive_environments: Vec<Spanned<String>>,
    /// Lint levels: code or name, and `allow`, `warn` or `deny`.
    pub lints: Vec<(Spanned<String>, Spanned<String>)>,
}

/// A list of permission rules: a custom role's or an additional privilege's.
#[derive(Clone, Debug)]
pub struct Permissions {
    pub file: FileId,
    /// Where each written rule is, in written order (an item that is not an object has no places in it).
    pub rules: Vec<RulePlaces>,
    /// What Infisical would store; `None` when Infisical would reject the list.
    pub stored: Option<Vec<StoredRule>>,
}

/// Where the parts of one written rule are: what the project checks and the lints point at. The rule's
/// meaning is in [`Permissions::stored`]; keeping these places instead of the rule's document tree makes
/// the model about a third smaller.
#[derive(Clone, Debug, PartialEq)]
pub struct RulePlaces {
    /// The whole rule.
    pub item: Span,
    /// What to underline for the rule as a whole: its `action` value (the rule when it has none).
    pub head: Span,
    /// Each action name written, with its span.
    pub actions: Box<[(Box<str>, Span)]>,
    /// Each condition key written, with its span.
    pub conditions: Box<[(Box<str>, Span)]>,
    /// The environment slugs its `environment` condition names literally (plain, `$eq`, `$ne`, `$in`; not
    /// patterns, not templates), with their spans.
    pub environments: Box<[(Box<str>, Span)]>,
}

impl RulePlaces {
    /// Where action `name` is written; the head when it is not written by that name.
    pub fn action(&self, name: &str) -> Span {
        self.actions.iter().find(|(it, _)| &**it == name).map_or(self.head, |(_, span)| *span)
    }

    /// Where condition key `key` is written; the head when it is not.
    pub fn condition(&self, key: &str) -> Span {
        self.conditions.iter().find(|(it, _)| &**it == key).map_or(self.head, |(_, span)| *span)
    }
}

/// A custom project role.
#[derive(Clone, Debug)]
pub struct Role {
    pub file: FileId,
    pub span: Span,
    pub slug: Spanned<String>,
    pub name: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    /// Shared (as in [`Privilege`]), so that a copy of the project costs no copy of its rules.
    pub permissions: Option<Arc<Permissions>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemberKind {
    Identity,
    User,
}

impl MemberKind {
    pub fn noun(self) -> &'static str {
        match self {
            MemberKind::Identity => "identity",
            MemberKind::User => "user",
        }
    }
}

/// A machine identity or a user that is a member of the project.
#[derive(Clone, Debug)]
pub struct Member {
    pub kind: MemberKind,
    pub file: FileId,
    pub span: Span,
    /// The identity's name, or the user's email.
    pub name: Spanned<String>,
    pub id: Option<Spanned<String>>,
    /// Shared, like the rule lists, so that a copy of the project costs little (the language server hands
    /// one to every lint run).
    pub roles: Arc<[RoleAssignment]>,
    pub privileges: Arc<[Privilege]>,
}

/// Temporary access: active from `start` for `range`.
#[derive(Clone, Debug)]
pub struct Temporary {
    /// The duration as written (an `ms` string).
    pub range: Spanned<String>,
    /// The duration in milliseconds, when it parses.
    pub range_ms: Option<f64>,
    /// ISO-8601 start; `None` means "when applied".
    pub start: Option<Spanned<String>>,
}

#[derive(Clone, Debug)]
pub struct RoleAssignment {
    pub file: FileId,
    pub span: Span,
    pub role: Spanned<String>,
    pub temporary: Option<Temporary>,
}

/// An additional privilege of one member.
#[derive(Clone, Debug)]
pub struct Privilege {
    pub file: FileId,
    pub span: Span,
    pub slug: Spanned<String>,
    pub temporary: Option<Temporary>,
    pub permissions: Option<Arc<Permissions>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalKind {
    User,
    Group,
}

/// An approver or bypasser: a user (by id or username) or a group (by id).
#[derive(Clone, Debug)]
pub struct Principal {
    pub span: Span,
    pub kind: PrincipalKind,
    pub id: Option<Spanned<String>>,
    pub username: Option<Spanned<String>>,
}

impl Principal {
    /// The identifier shown to people: the username, else the id.
    pub fn display(&self) -> &str {
        self.username.as_ref().or(self.id.as_ref()).map_or("", |it| it.value.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enforcement {
    Hard,
    Soft,
}

/// One approval step of an access policy.
#[derive(Clone, Debug)]
pub struct Step {
    pub span: Span,
    pub approvals: Option<Spanned<u32>>,
    pub approvers: Vec<Principal>,
}

/// An access-approval policy: who must approve a request for access to a path.
#[derive(Clone, Debug)]
pub struct AccessPolicy {
    pub file: FileId,
    pub span: Span,
    pub name: Spanned<String>,
    pub environments: Vec<Spanned<String>>,
    pub secret_path: Option<Spanned<String>>,
    pub enforcement: Option<Spanned<Enforcement>>,
    pub allowed_self_approvals: Option<Spanned<bool>>,
    pub max_time_period: Option<Spanned<String>>,
    pub request_expiration_time: Option<Spanned<String>>,
    pub bypassers: Vec<Principal>,
    pub steps: Vec<Step>,
}

/// A secret-approval policy: who must approve changes to secrets under a path.
#[derive(Clone, Debug)]
pub struct SecretPolicy {
    pub file: FileId,
    pub span: Span,
    pub name: Spanned<String>,
    pub environments: Vec<Spanned<String>>,
    pub secret_path: Option<Spanned<String>>,
    pub enforcement: Option<Spanned<Enforcement>>,
    pub allowed_self_approvals: Option<Spanned<bool>>,
    pub approvals: Option<Spanned<u32>>,
    pub approvers: Vec<Principal>,
    pub bypassers: Vec<Principal>,
}
