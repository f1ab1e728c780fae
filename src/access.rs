//! What a member of the project ends up with: the rules of its active role assignments and additional
//! privileges, assembled in Infisical's order, and decisions on them that name the deciding rule.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::catalog::Catalog;
use crate::check::rules::StoredRule;
use crate::check::values::{parse_iso_datetime_ms, parse_ms};
use crate::eval::{self, Decision, EvalError, EvalRule, Identity};
use crate::model::{Member, MemberKind, Project, Role, Temporary};
use crate::source::{FileId, Span};

/// Where a group of rules comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A predefined role (its rules are the catalog's).
    PredefinedRole(String),
    /// A custom role declared in the repository.
    Role(String),
    /// An additional privilege of the member.
    Privilege(String),
}

impl Source {
    pub fn describe(&self) -> String {
        match self {
            Source::PredefinedRole(slug) => format!("predefined role `{slug}`"),
            Source::Role(slug) => format!("role `{slug}`"),
            Source::Privilege(slug) => format!("privilege `{slug}`"),
        }
    }
}

/// One role assignment or privilege of a member, with its rules.
#[derive(Clone, Debug)]
pub struct Grant<'p> {
    pub source: Source,
    /// Where the assignment or privilege is written.
    pub file: FileId,
    pub span: Span,
    /// Borrowed from the project for custom roles and privileges.
    pub rules: Cow<'p, [StoredRule]>,
    /// Where each rule is written (`None` for predefined roles).
    pub rule_spans: Vec<Option<(FileId, Span)>>,
    /// When a temporary grant ends (milliseconds since the epoch); `None` when permanent or when it starts
    /// when applied.
    pub ends_at: Option<i64>,
    pub temporary: bool,
}

/// Why a grant is left out.
#[derive(Clone, Debug, PartialEq)]
pub enum Skipped {
    /// A temporary grant whose end is at or before the time of the question.
    Expired { source: Source, ended_at: i64 },
    /// A custom role the repository does not declare, or whose rules Infisical would reject.
    Unusable { source: Source, why: String },
}

/// The grants of a member that are active at `at` (milliseconds since the epoch), in Infisical's order:
/// role assignments first, then additional privileges. Infisical keeps a temporary grant while
/// `now < start + range` and does not look at the start; a grant without a start begins when it is applied,
/// so it counts as active.
pub fn active_grants<'p>(
    catalog: &Catalog,
    project: &'p Project,
    member: &'p Member,
    at: i64,
) -> (Vec<Grant<'p>>, Vec<Skipped>) {
    grants_with(member, at, |slug| match project.roles.iter().find(|role| role.slug.value == slug) {
        Some(role) => Found::Custom(role),
        None => match catalog.predefined_roles().iter().find(|role| role.slug == slug) {
            Some(predefined) => Found::Predefined(Cow::Owned(predefined_rules(&predefined.permissions))),
            None => Found::Missing,
        },
    })
}

/// The roles of a project by slug, for the grants of many members: the repository's custom roles (the
/// first of a slug, as [`active_grants`] finds it) and the predefined roles with their rules built once.
pub struct Roles<'p> {
    custom: HashMap<&'p str, &'p Role>,
    predefined: HashMap<&'p str, Vec<StoredRule>>,
}

impl<'p> Roles<'p> {
    pub fn new(catalog: &'p Catalog, project: &'p Project) -> Roles<'p> {
        let mut custom = HashMap::new();
        for role in &project.roles {
            custom.entry(role.slug.value.as_str()).or_insert(role);
        }
        let mut predefined = HashMap::new();
        for role in catalog.predefined_roles() {
            predefined.entry(role.slug.as_str()).or_insert_with(|| predefined_rules(&role.permissions));
        }
        Roles { custom, predefined }
    }

    /// [`active_grants`], with the roles looked up here.
    pub fn active_grants(&'p self, member: &'p Member, at: i64) -> (Vec<Grant<'p>>, Vec<Skipped>) {
        grants_with(member, at, |slug| match self.custom.get(slug) {
            Some(role) => Found::Custom(role),
            None => match self.predefined.get(slug) {
                Some(rules) => Found::Predefined(Cow::Borrowed(rules)),
                None => Found::Missing,
            },
        })
    }
}

/// What a role slug names.
enum Found<'p> {
    Custom(&'p Role),
    Predefined(Cow<'p, [StoredRule]>),
    Missing,
}

fn grants_with<'p>(member: &'p Member, at: i64, role: impl Fn(&str) -> Found<'p>) -> (Vec<Grant<'p>>, Vec<Skipped>) {
    let mut grants = Vec::new();
    let mut skipped = Vec::new();
    for assignment in member.roles.iter() {
        let slug = &assignment.role.value;
        let (source, rules, rule_spans) = match role(slug) {
            Found::Custom(role) => {
                let source = Source::Role(slug.clone());
                match role.permissions.as_ref().map(|it| (it, it.stored.as_ref())) {
                    Some((permissions, Some(stored))) => {
                        let spans = rule_spans(permissions.file, &permissions.rules, stored.len());
                        (source, Cow::Borrowed(stored.as_slice()), spans)
                    }
                    Some((_, None)) => {
                        skipped.push(Skipped::Unusable { source, why: "Infisical would reject its rules".into() });
                        continue;
                    }
                    None => (source, Cow::Borrowed(&[][..]), Vec::new()),
                }
            }
            Found::Predefined(rules) => {
                let spans = vec![None; rules.len()];
                (Source::PredefinedRole(slug.clone()), rules, spans)
            }
            Found::Missing => {
                skipped.push(Skipped::Unusable {
                    source: Source::Role(slug.clone()),
                    why: "the repository does not declare it".into(),
                });
                continue;
            }
        };
        match window(assignment.temporary.as_ref(), at) {
            Window::Expired(ended_at) => skipped.push(Skipped::Expired { source, ended_at }),
            Window::Active(ends_at) => grants.push(Grant {
                source,
                file: assignment.file,
                span: assignment.span,
                rules,
                rule_spans,
                ends_at,
                temporary: assignment.temporary.is_some(),
            }),
        }
    }
    for privilege in member.privileges.iter() {
        let source = Source::Privilege(privilege.slug.value.clone());
        let Some(permissions) = &privilege.permissions else { continue };
        let Some(stored) = &permissions.stored else {
            skipped.push(Skipped::Unusable { source, why: "Infisical would reject its rules".into() });
            continue;
        };
        match window(privilege.temporary.as_ref(), at) {
            Window::Expired(ended_at) => skipped.push(Skipped::Expired { source, ended_at }),
            Window::Active(ends_at) => grants.push(Grant {
                source,
                file: privilege.file,
                span: privilege.span,
                rules: Cow::Borrowed(stored.as_slice()),
                rule_spans: rule_spans(permissions.file, &permissions.rules, stored.len()),
                ends_at,
                temporary: privilege.temporary.is_some(),
            }),
        }
    }
    (grants, skipped)
}

enum Window {
    Active(Option<i64>),
    Expired(i64),
}

fn window(temporary: Option<&Temporary>, at: i64) -> Window {
    let Some(temporary) = temporary else { return Window::Active(None) };
    let start = temporary.start.as_ref().and_then(|it| parse_iso_datetime_ms(&it.value));
    match (start, temporary.range_ms) {
        (Some(start), Some(range)) => {
            let end = start.saturating_add(range as i64);
            if at < end { Window::Active(Some(end)) } else { Window::Expired(end) }
        }
        _ => Window::Active(None),
    }
}

fn rule_spans(file: FileId, rules: &[crate::model::RulePlaces], count: usize) -> Vec<Option<(FileId, Span)>> {
    (0..count).map(|index| rules.get(index).map(|rule| (file, rule.item))).collect()
}

/// The rules of role `slug` as Infisical stores them: the repository's custom role, else the predefined one;
/// none when neither is there (or the custom role's rules would be rejected).
pub fn role_rules(catalog: &Catalog, project: &Project, slug: &str) -> Vec<StoredRule> {
    match project.roles.iter().find(|it| it.slug.value == slug) {
        Some(role) => role.permissions.as_ref().and_then(|it| it.stored.clone()).unwrap_or_default(),
        None => catalog
            .predefined_roles()
            .iter()
            .find(|it| it.slug == slug)
            .map(|it| predefined_rules(&it.permissions))
            .unwrap_or_default(),
    }
}

/// A predefined role's rules as Infisical builds them (never validated: they may mix legacy actions).
pub fn predefined_rules(permissions: &[Value]) -> Vec<StoredRule> {
    permissions.iter().filter_map(stored_rule).collect()
}

/// A rule in the API's shape (`subject` a string or a one-element list, `action` a list or a packed
/// comma-separated string, `inverted`, `conditions`) as stored; `None` when it has no subject or actions.
pub fn stored_rule(rule: &Value) -> Option<StoredRule> {
    let subject = match rule.get("subject")? {
        Value::Array(items) => items.first()?.as_str()?.to_owned(),
        other => other.as_str()?.to_owned(),
    };
    let actions = match rule.get("action")? {
        Value::Array(items) => items.iter().filter_map(|it| it.as_str().map(str::to_owned)).collect(),
        Value::String(text) => text.split(',').map(str::to_owned).collect(),
        _ => return None,
    };
    Some(StoredRule {
        subject,
        actions,
        inverted: rule.get("inverted").and_then(Value::as_bool),
        conditions: rule
            .get("conditions")
            .and_then(Value::as_object)
            .filter(|it| !it.is_empty())
            .cloned()
            .map(std::sync::Arc::new),
    })
}

/// The templating context of a member: identities by id and name, users by id and email.
pub fn identity_of(member: &Member) -> Identity {
    Identity {
        id: member.id.as_ref().map(|it| it.value.clone()).unwrap_or_default(),
        username: member.name.value.clone(),
        metadata: Map::new(),
        auth: None,
    }
}

/// A member's evaluated rules, each traced back to its grant and position.
pub struct MemberRules<'p> {
    pub grants: Vec<Grant<'p>>,
    pub skipped: Vec<Skipped>,
    /// The rules in the order CASL consults them last-to-first.
    pub rules: Vec<EvalRule>,
    /// For each entry of the flattened list (`EvalRule::origin`): the grant and rule index.
    pub origins: Vec<(usize, usize)>,
}

impl<'p> MemberRules<'p> {
    pub fn build(
        catalog: &Catalog,
        project: &'p Project,
        member: &'p Member,
        at: i64,
        identity: &Identity,
    ) -> Result<MemberRules<'p>, EvalError> {
        let (grants, skipped) = active_grants(catalog, project, member, at);
        let (rules, origins) = prepare_grants(catalog, &grants, identity)?;
        Ok(MemberRules { grants, skipped, rules, origins })
    }

    pub fn can(&self, action: &str, subject: &str, object: Option<&Map<String, Value>>) -> Result<Decision, EvalError> {
        eval::can(&self.rules, action, subject, object)
    }

    /// The grant and the rule index (within the grant) of a prepared rule.
    pub fn origin(&self, prepared: usize) -> (&Grant<'p>, usize) {
        let (grant, rule) = self.origins[self.rules[prepared].origin];
        (&self.grants[grant], rule)
    }
}

/// Prepared rules, and for each entry of the flattened list their grant and rule index.
pub type PreparedGrants = (Vec<EvalRule>, Vec<(usize, usize)>);

/// The rules of `grants` in one list, through Infisical's whole evaluation pipeline (templates rendered over
/// the whole list), and for each entry of that list (`EvalRule::origin`) its grant and rule index.
pub fn prepare_grants(catalog: &Catalog, grants: &[Grant], identity: &Identity) -> Result<PreparedGrants, EvalError> {
    let mut flat = Vec::new();
    let mut origins = Vec::new();
    for (grant_index, grant) in grants.iter().enumerate() {
        for (rule_index, rule) in grant.rules.iter().enumerate() {
            flat.push(rule.clone());
            origins.push((grant_index, rule_index));
        }
    }
    Ok((eval::prepare(catalog, &flat, identity)?, origins))
}

/// Finds a member by identity name, user email or id.
pub fn find_member<'p>(project: &'p Project, name: &str) -> Option<&'p Member> {
    project.members().find(|member| member.name.value == name || member.id.as_ref().is_some_and(|id| id.value == name))
}

/// The kind word of a member for messages.
pub fn member_noun(member: &Member) -> &'static str {
    match member.kind {
        MemberKind::Identity => "identity",
        MemberKind::User => "user",
    }
}

/// The duration of a temporary grant in milliseconds (for messages).
pub fn range_ms(temporary: &Temporary) -> Option<f64> {
    temporary.range_ms.or_else(|| parse_ms(&temporary.range.value))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The role index gives every member of the bundled repositories the grants a search through the
    /// project gives, at times before and after their temporary grants end.
    #[test]
    fn indexed_roles_give_the_same_grants() {
        let catalog = Catalog::builtin();
        let mut seen = (false, false, false);
        for dir in ["policies/payments", "policies/platform", "policies/broken"] {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            let analysis = crate::workspace::analyze(&root, catalog).unwrap();
            let roles = Roles::new(catalog, &analysis.project);
            for member in analysis.project.members() {
                for at in [0, 1_800_000_000_000, 4_000_000_000_000] {
                    let searched = active_grants(catalog, &analysis.project, member, at);
                    let indexed = roles.active_grants(member, at);
                    assert_eq!(
                        format!("{indexed:?}"),
                        format!("{searched:?}"),
                        "{dir}: `{}` at {at}",
                        member.name.value
                    );
                    for grant in &searched.0 {
                        match grant.source {
                            Source::PredefinedRole(_) => seen.0 = true,
                            Source::Role(_) => seen.1 = true,
                            Source::Privilege(_) => seen.2 = true,
                        }
                    }
                }
            }
        }
        assert_eq!(seen, (true, true, true), "predefined roles, custom roles and privileges were all compared");
    }
}
