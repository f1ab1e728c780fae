//! Plans: the desired objects against the live ones, compared in canonical form.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::canonical;
use super::desired::{Kind, Object};
use super::live::Live;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Delete,
}

/// One change to one object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub action: Action,
    pub kind: Kind,
    pub address: String,
    /// The live id (update and delete).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The canonical form before and after.
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// What is sent (create and update).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<Object>,
}

/// A plan, as `permc plan --out` writes it and `permc apply --plan` reads it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format: u32,
    pub host: String,
    pub project_id: String,
    /// The digest of the live state the plan was made from.
    pub live_digest: String,
    /// Whether undeclared objects are deleted (and every kind was read).
    pub prune: bool,
    pub changes: Vec<Change>,
    /// Live objects the repository does not declare and that are not deleted (no `--prune`).
    pub unmanaged: Vec<String>,
    /// What the changes do to each member's effective access (filled in by [`Plan::with_effects`]).
    #[serde(default)]
    pub access: Vec<super::effect::Effect>,
    /// Members whose access changes beyond those summarised.
    #[serde(default)]
    pub access_left_out: usize,
}

pub const FORMAT: u32 = 1;

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Adds the change in effective access of every member, judged at `now_ms`.
    pub fn with_effects(
        mut self,
        catalog: &crate::catalog::Catalog,
        desired: &[Object],
        live: &Live,
        now_ms: i64,
    ) -> Plan {
        if !self.changes.is_empty() {
            let live = match_identities_by_id(desired, live);
            (self.access, self.access_left_out) = super::effect::effects(catalog, desired, &live, now_ms);
        }
        self
    }
}

/// Replaces user ids by usernames in approvers and bypassers, where the project knows them.
fn principals_by_username(body: &mut Value, users: &HashMap<String, String>) {
    match body {
        Value::Object(entries) => {
            if entries.get("type").and_then(Value::as_str) == Some("user")
                && let Some(Value::String(user)) = entries.get_mut("user")
                && let Some(name) = users.get(user.as_str())
            {
                *user = name.clone();
            }
            for value in entries.values_mut() {
                principals_by_username(value, users);
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                principals_by_username(item, users);
            }
            if items.iter().all(|it| it.get("type").is_some()) {
                items.sort_by_key(|it| it.to_string());
            }
        }
        _ => {}
    }
}

/// Identity names are not unique in Infisical, and a repository may name an identity differently: where
/// the repository gives an identity's id, the live membership with that id is the one it means. Returns
/// `live` with such identities under the repository's names.
fn match_identities_by_id(desired: &[Object], live: &Live) -> Live {
    let mut live = live.clone();
    let names_by_id: HashMap<String, String> = live
        .objects
        .iter()
        .filter(|it| it.object.kind == Kind::IdentityMembership)
        .filter_map(|it| Some((it.id.clone(), it.object.member.clone()?)))
        .collect();
    for object in desired.iter().filter(|it| it.kind == Kind::IdentityMembership) {
        let (Some(name), Some(id)) = (object.member.as_deref(), object.wire["id"].as_str()) else { continue };
        let Some(live_name) = names_by_id.get(id).cloned() else { continue };
        if live_name == name {
            continue;
        }
        for it in live.objects.iter_mut().filter(|it| it.object.member.as_deref() == Some(live_name.as_str())) {
            let kind = it.object.kind;
            if !matches!(kind, Kind::IdentityMembership | Kind::IdentityPrivilege) {
                continue;
            }
            it.object.member = Some(name.to_owned());
            it.object.address = match kind {
                Kind::IdentityMembership => super::desired::address(kind, None, name),
                _ => super::desired::address(kind, Some(name), it.object.body["slug"].as_str().unwrap_or_default()),
            };
        }
        if let Some(id) = live.ids.identities.remove(&live_name) {
            live.ids.identities.insert(name.to_owned(), id);
        }
    }
    live
}

/// Compares `desired` with `live`. Objects only in `live` are deleted with `prune`, else listed as unmanaged.
pub fn plan(host: &str, desired: &[Object], live: &Live, prune: bool) -> Plan {
    let live_digest = live.digest();
    let live = &match_identities_by_id(desired, live);
    let mut changes = Vec::new();
    let declared: HashSet<&str> = desired.iter().map(|it| it.address.as_str()).collect();
    let by_address: HashMap<&str, &super::live::LiveObject> =
        live.objects.iter().map(|it| (it.object.address.as_str(), it)).collect();
    for object in desired {
        let mut object = object.clone();
        principals_by_username(&mut object.body, &live.users);
        match by_address.get(object.address.as_str()).copied() {
            None => changes.push(Change {
                action: Action::Create,
                kind: object.kind,
                address: object.address.clone(),
                id: None,
                before: None,
                after: Some(object.body.clone()),
                object: Some(object),
            }),
            Some(existing) => {
                canonical::adopt_defaults(&mut object.body, &existing.object.body);
                if object.body != existing.object.body {
                    changes.push(Change {
                        action: Action::Update,
                        kind: object.kind,
                        address: object.address.clone(),
                        id: Some(existing.id.clone()),
                        before: Some(existing.object.body.clone()),
                        after: Some(object.body.clone()),
                        object: Some(object),
                    });
                }
            }
        }
    }
    let mut unmanaged = Vec::new();
    let mut deletes = Vec::new();
    for existing in &live.objects {
        if declared.contains(existing.object.address.as_str()) {
            continue;
        }
        // A privilege of an undeclared member goes with its membership, if that is pruned.
        if prune && existing.object.kind != Kind::UserMembership {
            deletes.push(Change {
                action: Action::Delete,
                kind: existing.object.kind,
                address: existing.object.address.clone(),
                id: Some(existing.id.clone()),
                before: Some(existing.object.body.clone()),
                after: None,
                object: None,
            });
        } else {
            unmanaged.push(existing.object.address.clone());
        }
    }
    // Writes in dependency order, then deletions in the reverse order.
    changes.sort_by_key(|it| it.kind);
    deletes.sort_by_key(|it| std::cmp::Reverse(it.kind));
    changes.extend(deletes);
    Plan {
        format: FORMAT,
        host: host.to_owned(),
        project_id: live.ids.project_id.clone(),
        live_digest,
        prune,
        changes,
        unmanaged,
        access: Vec::new(),
        access_left_out: 0,
    }
}

/// A readable diff of one change's canonical forms: `+` lines added, `-` removed, two lines of context.
pub fn diff(change: &Change) -> String {
    let pretty = |value: &Option<Value>| value.as_ref().map(|it| serde_json::to_string_pretty(it).unwrap_or_default());
    let before = pretty(&change.before).unwrap_or_default();
    let after = pretty(&change.after).unwrap_or_default();
    let mut out = String::new();
    match change.action {
        Action::Create => after.lines().for_each(|line| out.push_str(&format!("  + {line}\n"))),
        Action::Delete => before.lines().for_each(|line| out.push_str(&format!("  - {line}\n"))),
        Action::Update => {
            let text = similar::TextDiff::from_lines(&before, &after);
            for (at, group) in text.grouped_ops(2).iter().enumerate() {
                if at > 0 {
                    out.push_str("    ...\n");
                }
                for op in group {
                    for line in text.iter_changes(op) {
                        let sign = match line.tag() {
                            similar::ChangeTag::Delete => '-',
                            similar::ChangeTag::Insert => '+',
                            similar::ChangeTag::Equal => ' ',
                        };
                        out.push_str(&format!("  {sign} {}", line.value()));
                        if line.missing_newline() {
                            out.push('\n');
                        }
                    }
                }
            }
        }
    }
    out
}

/// The plan for people: one block per change, then a summary line.
pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    for change in &plan.changes {
        let verb = match change.action {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        };
        out.push_str(&format!("{verb} {} `{}`\n", change.kind.noun(), change.address));
        out.push_str(&diff(change));
        out.push('\n');
    }
    if !plan.unmanaged.is_empty() {
        out.push_str(&format!(
            "not declared in the repository (kept; `--prune` deletes them, user memberships excepted): {}\n",
            plan.unmanaged.iter().map(|it| format!("`{it}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    if !plan.access.is_empty() {
        out.push_str("effective access:\n");
        for effect in &plan.access {
            let list = |items: &[super::effect::Difference]| {
                items.iter().map(|it| format!("`{}` (e.g. {})", it.request, it.witness)).collect::<Vec<_>>().join(", ")
            };
            out.push_str(&format!("  `{}`\n", effect.member));
            if !effect.gains.is_empty() {
                out.push_str(&format!("    gains {}\n", list(&effect.gains)));
            }
            if !effect.losses.is_empty() {
                out.push_str(&format!("    loses {}\n", list(&effect.losses)));
            }
            if !effect.undecided.is_empty() {
                out.push_str(&format!("    not decided: {}\n", effect.undecided.join(", ")));
            }
            if effect.gains.is_empty() && effect.losses.is_empty() && effect.undecided.is_empty() {
                out.push_str("    no change in what it may do (its rules are written differently)\n");
            }
        }
        if plan.access_left_out > 0 {
            out.push_str(&format!("  and {} more members whose access changes\n", plan.access_left_out));
        }
        out.push('\n');
    }
    let count = |action| plan.changes.iter().filter(|it| it.action == action).count();
    if plan.changes.is_empty() {
        out.push_str("no changes: the project matches the repository\n");
    } else {
        out.push_str(&format!(
            "plan: {} to create, {} to update, {} to delete\n",
            count(Action::Create),
            count(Action::Update),
            count(Action::Delete)
        ));
    }
    out
}
