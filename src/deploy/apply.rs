//! Applying a plan: one change at a time in the plan's order, each write read back and compared. On a
//! failure it stops and says what was applied and what was not; a new plan then starts from what is live,
//! so a re-run converges and nothing is done twice.

use serde_json::Value;

use super::api::Client;
use super::canonical;
use super::desired::Kind;
use super::live::{self, Live};
use super::plan::{Action, Change, Plan};
use super::wire;

/// What happened to one change.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Applied,
    Failed(String),
    NotAttempted,
}

/// The outcome of every change of the plan, in order.
#[derive(Clone, Debug)]
pub struct Report {
    pub outcomes: Vec<(String, Action, Outcome)>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.outcomes.iter().all(|(_, _, outcome)| *outcome == Outcome::Applied)
    }

    pub fn applied(&self) -> usize {
        self.outcomes.iter().filter(|(_, _, it)| *it == Outcome::Applied).count()
    }
}

/// Applies `plan` to the project `live` was read from. `now` is the start of temporary access written
/// without one. `progress` hears of every change as it is done.
pub fn apply(
    client: &Client,
    plan: &Plan,
    live: &mut Live,
    now: &str,
    progress: &mut dyn FnMut(&Change, &Outcome),
) -> Report {
    live.ids.now = Some(now.to_owned());
    let mut outcomes = Vec::new();
    let mut failed = false;
    for change in &plan.changes {
        let outcome = if failed {
            Outcome::NotAttempted
        } else {
            match one(client, change, live) {
                Ok(()) => Outcome::Applied,
                Err(error) => {
                    failed = true;
                    Outcome::Failed(error)
                }
            }
        };
        progress(change, &outcome);
        outcomes.push((change.address.clone(), change.action, outcome));
    }
    Report { outcomes }
}

fn send(client: &Client, request: &wire::Request) -> Result<Value, String> {
    client.send(request.method(), &request.path, request.body.as_ref()).map_err(|it| it.to_string())
}

fn one(client: &Client, change: &Change, live: &mut Live) -> Result<(), String> {
    let id = match change.action {
        Action::Delete => {
            let id = change.id.as_deref().unwrap_or_default();
            let request = wire::delete(change.kind, id, &live.ids)
                .ok_or_else(|| format!("permc does not delete {}s", change.kind.noun()))?;
            send(client, &request)?;
            return Ok(());
        }
        Action::Update => {
            let object = change.object.as_ref().ok_or("the plan has no object for an update")?;
            let id = change.id.clone().unwrap_or_default();
            send(client, &wire::update(object, &id, &live.ids)?)?;
            id
        }
        Action::Create => {
            let object = change.object.as_ref().ok_or("the plan has no object for a create")?;
            let requests = wire::create(object, &live.ids)?;
            let first = requests.first().ok_or("nothing to send")?;
            let answer = send(client, first)?;
            let identity = (object.kind == Kind::IdentityMembership)
                .then(|| first.path.rsplit('/').next().unwrap_or_default().to_owned());
            let id = wire::created_id(object.kind, &answer, identity.as_deref())
                .ok_or_else(|| format!("`{} {}` answered without the new object's id", first.method, first.path))?;
            match object.kind {
                Kind::IdentityMembership => {
                    live.ids.identities.insert(object.member.clone().unwrap_or_default(), id.clone());
                }
                Kind::UserMembership => {
                    live.ids.user_memberships.insert(object.member.clone().unwrap_or_default(), id.clone());
                    // The invitation gives no roles; the second call sets them.
                    send(client, &wire::update(object, &id, &live.ids)?)?;
                }
                _ => {}
            }
            id
        }
    };
    let object = change.object.as_ref().ok_or("the plan has no object")?;
    let back = live::read_back(client, object.kind, &id, object.member.as_deref(), live)?;
    // Approvers and bypassers come back by user id: know the new member's.
    if let (Some(user), Some(name)) = (
        back.raw.pointer("/user/id").and_then(Value::as_str),
        back.raw.pointer("/user/username").and_then(Value::as_str),
    ) {
        live.users.insert(user.to_owned(), name.to_owned());
    }
    let mut want = object.body.clone();
    canonical::adopt_defaults(&mut want, &back.object.body);
    if want != back.object.body {
        let diff = super::plan::diff(&Change {
            action: Action::Update,
            kind: object.kind,
            address: object.address.clone(),
            id: Some(id),
            before: Some(want),
            after: Some(back.object.body),
            object: None,
        });
        return Err(format!("Infisical stored something else than was sent (`-` sent, `+` stored):\n{diff}"));
    }
    Ok(())
}
