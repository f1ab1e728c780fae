//! The permission catalog: every subject Infisical knows, its actions, whether it takes `inverted` and
//! `conditions`, each condition key with its operators, and the per-action condition restrictions.
//!
//! The catalog is data (`grammar/catalog/<version>.json`), versioned by the Infisical revision it was read
//! from. The built-in one is compiled in; `--catalog FILE` loads another with the same format.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::Deserialize;

/// The JSON text of the built-in catalog.
pub const BUILTIN_JSON: &str = include_str!("../grammar/catalog/infisical-05db254d.json");

/// A condition operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operator {
    Eq,
    Ne,
    In,
    All,
    Glob,
    ElemMatch,
}

impl Operator {
    pub const ALL: [Operator; 6] =
        [Operator::Eq, Operator::Ne, Operator::In, Operator::All, Operator::Glob, Operator::ElemMatch];

    /// The wire spelling: `$eq`, `$ne`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "$eq",
            Operator::Ne => "$ne",
            Operator::In => "$in",
            Operator::All => "$all",
            Operator::Glob => "$glob",
            Operator::ElemMatch => "$elemMatch",
        }
    }

    pub fn parse(text: &str) -> Option<Operator> {
        Operator::ALL.into_iter().find(|op| op.as_str() == text)
    }

    /// Whether the operator takes a list of strings (`$in`, `$all`).
    pub fn takes_list(self) -> bool {
        matches!(self, Operator::In | Operator::All)
    }
}

impl<'de> Deserialize<'de> for Operator {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Operator::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown operator `{text}`")))
    }
}

/// How a condition key's value is validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ConditionKind {
    /// A string field: a plain string (equality) or an operator object.
    String,
    /// `secretPath`: like `String`, but literals, `$eq`, `$ne` and `$in` elements must start with `/`.
    Path,
    /// `secretTags`: an operator object only.
    Tags,
    /// `metadata`: `{ $elemMatch: { key: {...}, value: {...} } }`.
    Metadata,
}

/// The operators allowed inside `$elemMatch`.
#[derive(Clone, Debug, Deserialize)]
pub struct ElemMatch {
    pub key: Vec<Operator>,
    pub value: Vec<Operator>,
}

/// One condition key of a subject.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionKey {
    pub key: String,
    pub kind: ConditionKind,
    /// Whether a plain string (equality) is accepted.
    pub plain: bool,
    /// The allowed operators, in the order Infisical's schema lists them (the stored order).
    pub operators: Vec<Operator>,
    #[serde(default)]
    pub elem_match: Option<ElemMatch>,
}

impl ConditionKey {
    pub fn allows(&self, operator: Operator) -> bool {
        self.operators.contains(&operator)
    }
}

/// The type of a field of a subject at evaluation time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FieldType {
    String,
    Array,
    Metadata,
}

/// One subject.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    pub name: String,
    /// One line: what the subject governs.
    #[serde(default)]
    pub description: String,
    pub actions: Vec<String>,
    /// One line per action: what it allows.
    #[serde(default)]
    pub action_descriptions: BTreeMap<String, String>,
    /// Spellings of actions that are not the API's (the web interface's labels, kebab-case) and the API name.
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    /// Whether rules on this subject may be inverted (deny rules).
    pub inverted: bool,
    /// The key order of a stored rule.
    pub key_order: Vec<String>,
    /// The condition keys; `None` when the subject takes no conditions.
    #[serde(default)]
    pub conditions: Option<Vec<ConditionKey>>,
    /// The fields of an object of this subject at evaluation time.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldType>,
    /// Per-action allowed condition keys (`ActionAllowedConditions`); actions not listed allow every key.
    #[serde(default)]
    pub action_conditions: BTreeMap<String, Vec<String>>,
    /// Whether `assignableAction` values are checked against the `subject:action` form.
    #[serde(default)]
    pub assignable_action_check: bool,
    /// Legacy umbrella actions and the fine-grained actions that replaced them.
    #[serde(default)]
    pub legacy_actions: BTreeMap<String, Vec<String>>,
    /// Actions Infisical still accepts but has marked deprecated, with where that is said.
    #[serde(default)]
    pub deprecated_actions: BTreeMap<String, String>,
}

impl Subject {
    pub fn has_action(&self, action: &str) -> bool {
        self.actions.iter().any(|it| it == action)
    }

    pub fn condition(&self, key: &str) -> Option<&ConditionKey> {
        self.conditions.as_ref()?.iter().find(|it| it.key == key)
    }

    /// The position of a condition key in the stored order.
    pub fn condition_index(&self, key: &str) -> Option<usize> {
        self.conditions.as_ref()?.iter().position(|it| it.key == key)
    }

    /// The API name of an action written in another spelling (`read-value`, `Read Value`).
    pub fn alias(&self, spelling: &str) -> Option<&str> {
        if let Some(action) = self.aliases.get(spelling) {
            return Some(action);
        }
        let folded = fold_spelling(spelling);
        self.actions.iter().find(|action| fold_spelling(action) == folded).map(String::as_str)
    }

    pub fn takes_conditions(&self) -> bool {
        self.conditions.is_some()
    }

    /// The condition keys allowed for `action`, when the action restricts them.
    pub fn allowed_keys_for(&self, action: &str) -> Option<&[String]> {
        self.action_conditions.get(action).map(Vec::as_slice)
    }
}

/// A predefined (built-in) project role.
#[derive(Clone, Debug, Deserialize)]
pub struct PredefinedRole {
    pub slug: String,
    pub name: String,
    /// The role's rules in the API's shape (`default-roles.ts`, limited to this catalog's subjects).
    #[serde(default)]
    pub permissions: Vec<serde_json::Value>,
}

/// Where a catalog was read from.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CatalogSource {
    #[serde(default)]
    pub repository: String,
    #[serde(default)]
    pub file: String,
    #[serde(default)]
    pub revision: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CatalogFile {
    #[serde(rename = "$comment", default)]
    _comment: Option<String>,
    version: String,
    #[serde(default)]
    source: CatalogSource,
    reserved_role_slugs: Vec<String>,
    predefined_roles: Vec<PredefinedRole>,
    #[serde(default, rename = "predefinedRolesSource")]
    _predefined_roles_source: Option<serde_json::Value>,
    #[serde(default)]
    template_helpers: Vec<String>,
    #[serde(default)]
    renamed_subjects: BTreeMap<String, String>,
    #[serde(default)]
    renamed_actions: BTreeMap<String, BTreeMap<String, String>>,
    subjects: Vec<Subject>,
}

/// The permission catalog.
pub struct Catalog {
    version: String,
    source: CatalogSource,
    reserved_role_slugs: Vec<String>,
    predefined_roles: Vec<PredefinedRole>,
    template_helpers: Vec<String>,
    renamed_subjects: BTreeMap<String, String>,
    renamed_actions: BTreeMap<String, BTreeMap<String, String>>,
    subjects: Vec<Subject>,
    index: HashMap<String, usize, crate::lang::FxBuild>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").field("version", &self.version).field("subjects", &self.subjects.len()).finish()
    }
}

impl Catalog {
    /// The catalog compiled into permc.
    pub fn builtin() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| Catalog::from_json(BUILTIN_JSON).expect("the built-in catalog is valid"))
    }

    /// Loads a catalog from its JSON text, checking that it is consistent.
    pub fn from_json(text: &str) -> Result<Catalog, String> {
        let file: CatalogFile = serde_json::from_str(text).map_err(|error| error.to_string())?;
        let mut index: HashMap<String, usize, crate::lang::FxBuild> = HashMap::default();
        for (position, subject) in file.subjects.iter().enumerate() {
            if index.insert(subject.name.clone(), position).is_some() {
                return Err(format!("subject `{}` is listed twice", subject.name));
            }
            if subject.actions.is_empty() {
                return Err(format!("subject `{}` has no actions", subject.name));
            }
            for (action, keys) in &subject.action_conditions {
                if !subject.has_action(action) {
                    return Err(format!("`actionConditions` of `{}` names unknown action `{action}`", subject.name));
                }
                if let Some(key) = keys.iter().find(|key| subject.condition(key).is_none()) {
                    return Err(format!(
                        "`actionConditions` of `{}` names unknown condition key `{key}`",
                        subject.name
                    ));
                }
            }
            if let Some(action) =
                subject.aliases.values().chain(subject.action_descriptions.keys()).find(|it| !subject.has_action(it))
            {
                return Err(format!(
                    "`aliases` or `actionDescriptions` of `{}` name unknown action `{action}`",
                    subject.name
                ));
            }
            for (legacy, replacements) in &subject.legacy_actions {
                if let Some(action) = std::iter::once(legacy).chain(replacements).find(|it| !subject.has_action(it)) {
                    return Err(format!("`legacyActions` of `{}` names unknown action `{action}`", subject.name));
                }
            }
            if let Some(action) = subject.deprecated_actions.keys().find(|it| !subject.has_action(it)) {
                return Err(format!("deprecated action `{action}` is not an action of `{}`", subject.name));
            }
            for key in subject.conditions.iter().flatten() {
                if key.kind == ConditionKind::Metadata && key.elem_match.is_none() {
                    return Err(format!("condition `{}` of `{}` needs `elemMatch`", key.key, subject.name));
                }
            }
        }
        for role in &file.predefined_roles {
            for rule in &role.permissions {
                let subject = rule
                    .get("subject")
                    .and_then(serde_json::Value::as_str)
                    .and_then(|name| index.get(name).map(|&at| &file.subjects[at]));
                let Some(subject) = subject else {
                    return Err(format!("predefined role `{}` names an unknown subject in {rule}", role.slug));
                };
                let actions =
                    rule.get("action").and_then(serde_json::Value::as_array).map(Vec::as_slice).unwrap_or_default();
                if actions.is_empty()
                    || actions.iter().any(|action| !action.as_str().is_some_and(|it| subject.has_action(it)))
                {
                    return Err(format!("predefined role `{}` has an invalid action list in {rule}", role.slug));
                }
            }
        }
        Ok(Catalog {
            version: file.version,
            source: file.source,
            reserved_role_slugs: file.reserved_role_slugs,
            predefined_roles: file.predefined_roles,
            template_helpers: file.template_helpers,
            renamed_subjects: file.renamed_subjects,
            renamed_actions: file.renamed_actions,
            subjects: file.subjects,
            index,
        })
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn source(&self) -> &CatalogSource {
        &self.source
    }

    pub fn subjects(&self) -> &[Subject] {
        &self.subjects
    }

    pub fn subject(&self, name: &str) -> Option<&Subject> {
        self.index.get(name).map(|&position| &self.subjects[position])
    }

    pub fn reserved_role_slugs(&self) -> Vec<&str> {
        self.reserved_role_slugs.iter().map(String::as_str).collect()
    }

    pub fn predefined_roles(&self) -> &[PredefinedRole] {
        &self.predefined_roles
    }

    /// The handlebars helpers Infisical's template check accepts in permissions.
    pub fn template_helpers(&self) -> &[String] {
        &self.template_helpers
    }

    /// The current name of a subject that was renamed (or is spelled differently in the docs).
    pub fn renamed_subject(&self, name: &str) -> Option<&str> {
        self.renamed_subjects.get(name).map(String::as_str)
    }

    /// The current name of an action of `subject` that was renamed.
    pub fn renamed_action(&self, subject: &str, action: &str) -> Option<&str> {
        self.renamed_actions.get(subject)?.get(action).map(String::as_str)
    }

    /// The subjects that have `action`.
    pub fn subjects_with_action<'a>(&'a self, action: &'a str) -> impl Iterator<Item = &'a Subject> + 'a {
        self.subjects.iter().filter(move |subject| subject.has_action(action))
    }
}

/// The closest candidate to `word`, if one is close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    candidates
        .into_iter()
        .filter(|candidate| *candidate != word)
        .map(|candidate| (strsim::jaro_winkler(word, candidate), candidate))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate.to_string())
}

/// `word` folded for comparing spellings: lowercase, without `-`, `_` and spaces.
pub fn fold_spelling(word: &str) -> String {
    word.chars().filter(|c| !matches!(c, '-' | '_' | ' ')).flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_loads_and_indexes_every_subject() {
        let catalog = Catalog::builtin();
        assert_eq!(catalog.version(), "infisical-05db254d");
        assert_eq!(catalog.subjects().len(), 64);
        let secrets = catalog.subject("secrets").unwrap();
        assert!(secrets.inverted && secrets.has_action("readValue") && !secrets.has_action("read-value"));
        assert_eq!(secrets.condition("secretTags").unwrap().kind, ConditionKind::Tags);
        assert_eq!(secrets.alias("read-value"), Some("readValue"));
        assert_eq!(secrets.alias("Describe Secret"), Some("describeSecret"));
        assert_eq!(secrets.alias("READ_VALUE"), Some("readValue"));
        assert_eq!(secrets.alias("fly"), None);
        assert!(
            catalog
                .subjects()
                .iter()
                .all(|it| !it.description.is_empty() && it.action_descriptions.len() == it.actions.len())
        );
        assert_eq!(secrets.condition_index("secretName"), Some(2));
        let role = catalog.subject("role").unwrap();
        assert!(!role.inverted && !role.takes_conditions());
        assert!(catalog.subject("project").is_none());
        assert_eq!(catalog.renamed_subject("project"), Some("workspace"));
        let identity = catalog.subject("identity").unwrap();
        assert_eq!(identity.allowed_keys_for("create"), Some(&[][..]));
        let admin = catalog.predefined_roles().iter().find(|it| it.slug == "admin").unwrap();
        assert!(admin.permissions.iter().any(|it| it["subject"] == "secrets"));
        assert_eq!(identity.allowed_keys_for("read").unwrap(), ["identityId"]);
        assert!(
            catalog.subject("secret-folders").unwrap().condition("environment").unwrap().operators
                == [Operator::Eq, Operator::Ne, Operator::In]
        );
    }

    #[test]
    fn inconsistent_catalogs_are_refused() {
        let mut value: serde_json::Value = serde_json::from_str(BUILTIN_JSON).unwrap();
        value["subjects"][0]["actions"] = serde_json::json!([]);
        assert!(Catalog::from_json(&value.to_string()).unwrap_err().contains("has no actions"));
        let mut value: serde_json::Value = serde_json::from_str(BUILTIN_JSON).unwrap();
        value["unexpected"] = serde_json::json!(1);
        assert!(Catalog::from_json(&value.to_string()).unwrap_err().contains("unknown field"));
        assert!(Catalog::from_json("{").is_err());
        let text = BUILTIN_JSON.replacen("\"perform-rollback\"\n     ]", "\"rollback\"\n     ]", 1);
        assert!(
            Catalog::from_json(&text).unwrap_err().contains("invalid action list"),
            "{}",
            Catalog::from_json(&text).unwrap_err()
        );
        let text = BUILTIN_JSON.replace("\"$glob\"", "\"$globx\"");
        assert!(Catalog::from_json(&text).unwrap_err().contains("unknown operator"));
    }

    #[test]
    fn suggestions_and_spelling() {
        assert_eq!(suggest("secretpath", ["secretPath", "environment"]).as_deref(), Some("secretPath"));
        assert_eq!(suggest("zzz", ["secretPath"]), None);
        assert_eq!(fold_spelling("Read-Value"), fold_spelling("readValue"));
    }
}
