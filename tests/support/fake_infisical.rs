//! An in-process Infisical on loopback: the management routes permc uses, with Infisical's paths, bodies,
//! error shapes and quirks (`infisical-model.md` §4.5, §5), and fault injection.
//!
//! Quirks kept on purpose: a duplicate role slug on create answers 404; role lists omit permissions and
//! give predefined roles a fresh id on every call; custom roles in memberships read back as `custom` plus a
//! slug; PATCH of approval policies resets omitted `enforcementLevel`/`allowedSelfApprovals`; user
//! privileges and policy lists refuse machine-identity tokens; packing drops `inverted: false` and empty
//! conditions; times come back with milliseconds; bypassers come back by id only.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};

pub const USER_TOKEN: &str = "user-jwt-7f3a9c1e5b";
pub const CLIENT_ID: &str = "ua-client-1";
pub const CLIENT_SECRET: &str = "ua-secret-4d2e8b6a0c";
const IDENTITY_TOKEN: &str = "identity-token-9b1d3f5a7c";

/// Unpadded base64url, for JWT-shaped tokens.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}
const PREDEFINED: &[&str] = &["admin", "member", "viewer", "no-access"];

/// Faults to inject; counters count down as they fire.
#[derive(Default, Debug)]
pub struct Faults {
    /// Writes (POST/PATCH/DELETE) allowed before every further write answers 500.
    pub writes_before_failure: Option<usize>,
    /// The next N requests answer 429 with `Retry-After: 1`.
    pub rate_limited: usize,
    /// The next N GETs answer 503.
    pub unavailable: usize,
    /// The next N requests are read and the connection closed without an answer.
    pub dropped: usize,
    /// Every answer waits this long.
    pub delay: Duration,
    /// Another writer creates a role with this slug just before permc's create arrives (a race).
    pub concurrent_role: Option<String>,
}

#[derive(Default, Debug)]
pub struct State {
    pub project_id: String,
    pub project_slug: String,
    /// Organisation identities (id, name) and users (id, email).
    pub org_identities: Vec<(String, String)>,
    pub org_users: Vec<(String, String)>,
    pub roles: Vec<Value>,
    pub identity_memberships: Vec<Value>,
    pub user_memberships: Vec<Value>,
    pub identity_privileges: Vec<Value>,
    pub user_privileges: Vec<Value>,
    pub access_policies: Vec<Value>,
    pub secret_policies: Vec<Value>,
    pub faults: Faults,
    /// The identity universal-auth login signs in as; its token is then a JWT naming it (as Infisical's
    /// are), else an opaque token.
    pub login_identity: Option<String>,
    identity_token: String,
    /// Every request: method, path, Authorization header, body.
    pub log: Vec<(String, String, String, String)>,
    pub writes: usize,
    next_id: u64,
}

impl State {
    fn id(&mut self) -> String {
        self.next_id += 1;
        format!("00000000-0000-4000-8000-{:012x}", self.next_id)
    }
}

pub struct Fake {
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

impl Fake {
    /// Starts a fake project with the given organisation identities (name, id) and user emails.
    pub fn start(project_id: &str, project_slug: &str, identities: &[(&str, &str)], users: &[&str]) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut state = State { project_id: project_id.into(), project_slug: project_slug.into(), ..State::default() };
        for (name, id) in identities {
            state.org_identities.push(((*id).into(), (*name).into()));
        }
        for email in users {
            let id = state.id();
            state.org_users.push((id, (*email).into()));
        }
        let state = Arc::new(Mutex::new(state));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Fake { url, state }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    /// Makes `email` a project member with no roles (as an invitation would).
    pub fn add_user_member(&self, email: &str) {
        self.with(|state| {
            let (user_id, _) = state.org_users.iter().find(|(_, it)| it == email).cloned().unwrap();
            let id = state.id();
            let membership = json!({ "id": id, "user": user(&user_id, email), "roles": [] });
            state.user_memberships.push(membership);
        });
    }

    /// Makes the identity `name` a project member with the given roles.
    pub fn add_identity_member(&self, name: &str, roles: &[&str]) {
        self.with(|state| {
            let (identity_id, _) = state.org_identities.iter().find(|(_, it)| it == name).cloned().unwrap();
            let roles: Vec<Value> = roles.iter().map(|role| json!({ "role": role, "isTemporary": false })).collect();
            let stored = stored_roles(state, &roles).unwrap();
            let id = state.id();
            state.identity_memberships.push(json!({ "id": id, "identityId": identity_id, "roles": stored }));
        });
    }
}

fn user(id: &str, email: &str) -> Value {
    json!({ "id": id, "email": email, "username": email, "firstName": "", "lastName": "" })
}

struct Request {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    auth: String,
    body: Value,
}

impl Request {
    fn query(&self, key: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug)]
struct Answer {
    status: u16,
    body: Value,
    retry_after: Option<u64>,
}

fn ok(body: Value) -> Answer {
    Answer { status: 200, body, retry_after: None }
}

fn error(status: u16, name: &str, message: impl Into<Value>) -> Answer {
    let body = json!({ "reqId": "req-fake", "statusCode": status, "message": message.into(), "error": name });
    Answer { status, body, retry_after: None }
}

fn not_found(message: &str) -> Answer {
    error(404, "NotFound", message)
}

fn bad(message: &str) -> Answer {
    error(400, "BadRequest", message)
}

fn invalid(path: &[&str], message: &str) -> Answer {
    error(422, "ValidationFailure", json!([{ "code": "custom", "path": path, "message": message }]))
}

fn serve(mut stream: TcpStream, state: &Arc<Mutex<State>>) {
    let Some(request) = read_request(&mut stream) else { return };
    let (answer, delay) = {
        let mut state = state.lock().unwrap();
        state.log.push((request.method.clone(), request.path.clone(), request.auth.clone(), request.body.to_string()));
        let delay = state.faults.delay;
        if state.faults.dropped > 0 {
            state.faults.dropped -= 1;
            return;
        }
        let answer = if state.faults.rate_limited > 0 {
            state.faults.rate_limited -= 1;
            Answer { retry_after: Some(1), ..error(429, "TooManyRequests", "Rate limit exceeded") }
        } else if request.method == "GET" && state.faults.unavailable > 0 {
            state.faults.unavailable -= 1;
            error(503, "ServiceUnavailable", "upstream unavailable")
        } else if request.method != "GET"
            && request.path != "/api/v1/auth/universal-auth/login"
            && state.faults.writes_before_failure.is_some_and(|limit| state.writes >= limit)
        {
            error(500, "InternalServerError", "Something went wrong")
        } else {
            let answer = route(&mut state, &request);
            if request.method != "GET" && request.path != "/api/v1/auth/universal-auth/login" && answer.status == 200 {
                state.writes += 1;
            }
            answer
        };
        (answer, delay)
    };
    std::thread::sleep(delay);
    let text = answer.body.to_string();
    let reason = if answer.status == 200 { "OK" } else { "Error" };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        answer.status,
        text.len()
    );
    if let Some(seconds) = answer.retry_after {
        head.push_str(&format!("Retry-After: {seconds}\r\n"));
    }
    let _ = stream.write_all(format!("{head}\r\n{text}").as_bytes());
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut length = 0;
    let mut auth = String::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "authorization" => auth = value.trim().to_owned(),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let body = if body.is_empty() { Value::Null } else { serde_json::from_slice(&body).unwrap_or(Value::Null) };
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query = query
        .split('&')
        .filter(|it| !it.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    Some(Request { method, path: path.to_owned(), query, auth, body })
}

#[derive(PartialEq)]
enum Actor {
    User,
    Identity,
}

fn actor(state: &State, request: &Request) -> Option<Actor> {
    match request.auth.strip_prefix("Bearer ") {
        Some(USER_TOKEN) => Some(Actor::User),
        Some(token) if !state.identity_token.is_empty() && token == state.identity_token => Some(Actor::Identity),
        _ => None,
    }
}

fn now() -> String {
    "2026-11-30T12:00:00.000Z".to_owned()
}

/// `ms` durations the fake understands (enough for the tests): a number and one of ms/s/m/h/d/w.
fn ms(text: &str) -> Option<i64> {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    let n: i64 = digits.parse().ok()?;
    let unit = match text[digits.len()..].trim() {
        "" | "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 604_800_000,
        _ => return None,
    };
    Some(n * unit)
}

fn with_millis(time: &str) -> String {
    if time.ends_with('Z') && !time.contains('.') {
        format!("{}.000Z", &time[..time.len() - 1])
    } else {
        time.to_owned()
    }
}

/// What packing and unpacking do to a permission list: action always a list, `inverted: false` and empty
/// conditions gone. A rule without a string subject or without actions is a 422.
fn packed(permissions: &Value) -> Result<Value, Answer> {
    let Some(rules) = permissions.as_array() else { return Err(invalid(&["permissions"], "Expected array")) };
    let mut out = Vec::new();
    for (at, rule) in rules.iter().enumerate() {
        let subject = rule.get("subject").and_then(Value::as_str);
        let actions = match rule.get("action") {
            Some(Value::String(it)) => vec![json!(it)],
            Some(Value::Array(items)) if !items.is_empty() => items.clone(),
            _ => vec![],
        };
        if subject.is_none() || actions.is_empty() {
            return Err(error(
                422,
                "ValidationFailure",
                json!([{ "code": "invalid_union", "path": ["permissions", at], "message": "Invalid input" }]),
            ));
        }
        let mut entry = Map::new();
        entry.insert("subject".into(), json!(subject));
        entry.insert("action".into(), Value::Array(actions));
        if rule.get("inverted") == Some(&json!(true)) {
            entry.insert("inverted".into(), json!(true));
        }
        if let Some(Value::Object(conditions)) = rule.get("conditions")
            && !conditions.is_empty()
        {
            entry.insert("conditions".into(), Value::Object(conditions.clone()));
        }
        out.push(Value::Object(entry));
    }
    Ok(Value::Array(out))
}

/// A membership's `roles` as stored and returned; unknown roles are a 404.
fn stored_roles(state: &mut State, roles: &[Value]) -> Result<Vec<Value>, Answer> {
    let mut out = Vec::new();
    for role in roles {
        let slug = role.get("role").and_then(Value::as_str).unwrap_or_default().to_owned();
        let custom = state.roles.iter().find(|it| it["slug"] == json!(slug)).cloned();
        if custom.is_none() && !PREDEFINED.contains(&slug.as_str()) {
            return Err(not_found(&format!("Project role with slug '{slug}' not found")));
        }
        let temporary = role.get("isTemporary") == Some(&json!(true));
        let mut entry = json!({
            "id": state.id(),
            "role": if custom.is_some() { "custom".to_owned() } else { slug.clone() },
            "customRoleId": custom.as_ref().map(|it| it["id"].clone()),
            "customRoleSlug": custom.as_ref().map(|_| slug.clone()),
            "isTemporary": temporary,
        });
        if temporary {
            let range = role.get("temporaryRange").and_then(Value::as_str).unwrap_or_default();
            let start = role.get("temporaryAccessStartTime").and_then(Value::as_str);
            let Some(start) = start else {
                return Err(invalid(&["roles", "temporaryAccessStartTime"], "Required"));
            };
            if ms(range).is_none_or(|it| it <= 0) {
                return Err(invalid(&["roles", "temporaryRange"], "Temporary range must be a positive number"));
            }
            entry["temporaryMode"] = json!("relative");
            entry["temporaryRange"] = json!(range);
            entry["temporaryAccessStartTime"] = json!(with_millis(start));
        }
        out.push(entry);
    }
    Ok(out)
}

fn temporary_fields(entry: &mut Value, kind: &Value) -> Result<(), Answer> {
    let temporary = kind.get("isTemporary") == Some(&json!(true));
    entry["isTemporary"] = json!(temporary);
    if temporary {
        let range = kind.get("temporaryRange").and_then(Value::as_str).unwrap_or_default();
        if ms(range).is_none_or(|it| it <= 0) {
            return Err(invalid(&["type", "temporaryRange"], "Temporary range must be a positive number"));
        }
        let start = kind.get("temporaryAccessStartTime").and_then(Value::as_str).unwrap_or_default();
        entry["temporaryMode"] = json!("relative");
        entry["temporaryRange"] = json!(range);
        entry["temporaryAccessStartTime"] = json!(with_millis(start));
    } else {
        for key in ["temporaryMode", "temporaryRange", "temporaryAccessStartTime"] {
            entry[key] = Value::Null;
        }
    }
    Ok(())
}

fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .split('-')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
}

fn strip_permissions(items: &[Value]) -> Vec<Value> {
    items
        .iter()
        .map(|it| {
            let mut it = it.clone();
            it.as_object_mut().unwrap().remove("permissions");
            it
        })
        .collect()
}

fn route(state: &mut State, request: &Request) -> Answer {
    let segments: Vec<&str> = request.path.trim_start_matches('/').split('/').collect();
    let method = request.method.as_str();
    let body = &request.body;
    if let ("POST", ["api", "v1", "auth", "universal-auth", "login"]) = (method, segments.as_slice()) {
        return if body["clientId"] == json!(CLIENT_ID) && body["clientSecret"] == json!(CLIENT_SECRET) {
            state.identity_token = match &state.login_identity {
                Some(id) => {
                    let claims = json!({ "identityId": id, "authTokenType": "identityAccessToken" }).to_string();
                    format!("eyJhbGciOiJIUzI1NiJ9.{}.c2lnbmF0dXJl", base64url(claims.as_bytes()))
                }
                None => IDENTITY_TOKEN.to_owned(),
            };
            ok(
                json!({ "accessToken": state.identity_token, "expiresIn": 7200, "accessTokenMaxTTL": 7200, "tokenType": "Bearer" }),
            )
        } else {
            error(401, "UnauthorizedError", "Invalid credentials")
        };
    }
    let Some(actor) = actor(state, request) else { return error(401, "UnauthorizedError", "Token missing or invalid") };
    let project = state.project_id.clone();
    match (method, segments.as_slice()) {
        // Roles.
        ("GET", ["api", "v1", "projects", p, "roles"]) if *p == project => {
            let mut roles: Vec<Value> = PREDEFINED
                .iter()
                .map(|slug| json!({ "id": state.id(), "slug": slug, "name": slug, "description": null, "projectId": project }))
                .collect();
            let mut custom = strip_permissions(&state.roles);
            custom.sort_by_key(|it| it["slug"].as_str().unwrap_or_default().to_owned());
            roles.extend(custom);
            ok(json!({ "roles": roles }))
        }
        ("GET", ["api", "v1", "projects", p, "roles", "slug", slug]) if *p == project => {
            if PREDEFINED.contains(slug) {
                let id = state.id();
                return ok(json!({ "role": { "id": id, "slug": slug, "name": slug, "permissions": [] } }));
            }
            match state.roles.iter().find(|it| it["slug"] == json!(slug)) {
                Some(role) => ok(json!({ "role": role })),
                None => not_found(&format!("Role with slug {slug} not found")),
            }
        }
        ("POST", ["api", "v1", "projects", p, "roles"]) if *p == project => {
            let slug = body["slug"].as_str().unwrap_or_default();
            if state.faults.concurrent_role.as_deref() == Some(slug) {
                state.faults.concurrent_role = None;
                let id = state.id();
                let role = json!({ "id": id, "slug": slug, "name": "Created elsewhere", "permissions": [], "projectId": project });
                state.roles.push(role);
            }
            if !is_slug(slug) {
                return invalid(&["slug"], "Slug field can only contain lowercase letters, numbers, and hyphens");
            }
            if PREDEFINED.contains(&slug) || slug == "custom" {
                return bad("Please choose a different slug, the slug you have entered is reserved");
            }
            let Some(name) = body["name"].as_str().filter(|it| !it.trim().is_empty()) else {
                return invalid(&["name"], "Required");
            };
            if state.roles.iter().any(|it| it["slug"] == json!(slug)) {
                return not_found(&format!("Role with {slug} exists"));
            }
            let permissions = match packed(&body["permissions"]) {
                Ok(it) => it,
                Err(answer) => return answer,
            };
            let id = state.id();
            let role = json!({
                "id": id, "slug": slug, "name": name.trim(), "description": body.get("description").cloned().unwrap_or(Value::Null),
                "permissions": permissions, "projectId": project, "createdAt": now(), "updatedAt": now(),
            });
            state.roles.push(role.clone());
            ok(json!({ "role": role }))
        }
        ("PATCH", ["api", "v1", "projects", p, "roles", id]) if *p == project => {
            let Some(at) = state.roles.iter().position(|it| it["id"] == json!(id)) else {
                return not_found(&format!("Role with id {id} not found"));
            };
            if let Some(slug) = body.get("slug").and_then(Value::as_str)
                && state.roles.iter().enumerate().any(|(other, it)| other != at && it["slug"] == json!(slug))
            {
                return bad(&format!("Role with {slug} already exists"));
            }
            let permissions = match body.get("permissions").map(packed) {
                Some(Ok(it)) => Some(it),
                Some(Err(answer)) => return answer,
                None => None,
            };
            let role = &mut state.roles[at];
            for key in ["slug", "name", "description"] {
                if let Some(value) = body.get(key) {
                    role[key] = value.clone();
                }
            }
            if let Some(permissions) = permissions {
                role["permissions"] = permissions;
            }
            ok(json!({ "role": role }))
        }
        ("DELETE", ["api", "v1", "projects", p, "roles", id]) if *p == project => {
            let Some(at) = state.roles.iter().position(|it| it["id"] == json!(id)) else {
                return not_found(&format!("Role with id {id} not found"));
            };
            let uses = state
                .identity_memberships
                .iter()
                .filter(|m| m["roles"].as_array().unwrap().iter().any(|r| r["customRoleId"] == json!(id)))
                .count();
            if uses > 0 {
                return bad(&format!(
                    "Role is assigned to {uses} identity membership(s). Re-assign membership role(s) to delete this role."
                ));
            }
            ok(json!({ "role": state.roles.remove(at) }))
        }
        // Identity memberships.
        ("GET", ["api", "v1", "projects", p, "identity-memberships"]) if *p == project => {
            let list: Vec<Value> =
                state.identity_memberships.iter().map(|m| identity_membership_view(state, m)).collect();
            let count = list.len();
            ok(json!({ "identityMemberships": list, "totalCount": count }))
        }
        (_, ["api", "v1", "projects", p, "identity-memberships", identity]) if *p == project => {
            identity_membership_route(state, method, identity, body)
        }
        // User memberships.
        ("GET", ["api", "v1", "workspace", p, "memberships"]) if *p == project => {
            ok(json!({ "memberships": state.user_memberships }))
        }
        ("POST", ["api", "v2", "workspace", p, "memberships"]) if *p == project => {
            let mut created = Vec::new();
            for username in body["usernames"].as_array().into_iter().flatten() {
                let email = username.as_str().unwrap_or_default();
                let Some((user_id, _)) = state.org_users.iter().find(|(_, it)| it == email).cloned() else {
                    return bad(&format!("User with username {email} is not part of the organization"));
                };
                if state.user_memberships.iter().any(|m| m["user"]["email"] == json!(email)) {
                    return bad(&format!("User {email} is already a member of the project"));
                }
                let roles: Vec<Value> = body["roleSlugs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|slug| json!({ "role": slug, "isTemporary": false }))
                    .collect();
                let roles = match stored_roles(state, &roles) {
                    Ok(it) => it,
                    Err(answer) => return answer,
                };
                let id = state.id();
                state.user_memberships.push(json!({ "id": id, "user": user(&user_id, email), "roles": roles }));
                created.push(json!({ "id": id, "userId": user_id, "projectId": project }));
            }
            ok(json!({ "memberships": created }))
        }
        ("PATCH", ["api", "v1", "workspace", p, "memberships", id]) if *p == project => {
            let Some(at) = state.user_memberships.iter().position(|it| it["id"] == json!(id)) else {
                return not_found(&format!("Project membership with id {id} not found"));
            };
            let roles = body["roles"].as_array().cloned().unwrap_or_default();
            if roles.is_empty() {
                return invalid(&["roles"], "Array must contain at least 1 element(s)");
            }
            match stored_roles(state, &roles) {
                Ok(roles) => {
                    state.user_memberships[at]["roles"] = json!(roles);
                    ok(json!({ "roles": roles }))
                }
                Err(answer) => answer,
            }
        }
        // Identity privileges (v2).
        ("POST", ["api", "v2", "identity-project-additional-privilege"]) => {
            let identity = body["identityId"].as_str().unwrap_or_default();
            if !state.identity_memberships.iter().any(|m| m["identityId"] == json!(identity)) {
                return not_found(&format!("Project membership for identity with id '{identity}' not found"));
            }
            create_privilege(state, body, "identityId", identity)
        }
        ("GET", ["api", "v2", "identity-project-additional-privilege"]) => {
            let identity = request.query("identityId").unwrap_or_default();
            let list: Vec<Value> =
                state.identity_privileges.iter().filter(|it| it["identityId"] == json!(identity)).cloned().collect();
            ok(json!({ "privileges": strip_permissions(&list) }))
        }
        (_, ["api", "v2", "identity-project-additional-privilege", id]) => {
            if method == "PATCH" && (body.get("slug").is_none() || body.get("type").is_none()) {
                return invalid(&["slug"], "Required");
            }
            privilege_route(&mut state.identity_privileges, method, id, body)
        }
        // User privileges: users only.
        (_, ["api", "v1", "user-project-additional-privilege", ..]) if actor != Actor::User => {
            error(403, "PermissionDenied", "You are not allowed to access this resource with a machine identity")
        }
        ("POST", ["api", "v1", "user-project-additional-privilege"]) => {
            let membership = body["projectMembershipId"].as_str().unwrap_or_default();
            let Some(user_id) = state
                .user_memberships
                .iter()
                .find(|m| m["id"] == json!(membership))
                .map(|m| m["user"]["id"].as_str().unwrap_or_default().to_owned())
            else {
                return not_found(&format!("Project membership with id {membership} not found"));
            };
            let answer = create_privilege(state, body, "userId", &user_id);
            if answer.status == 200 {
                let last = state.user_privileges.len() - 1;
                state.user_privileges[last]["projectMembershipId"] = json!(membership);
            }
            answer
        }
        ("GET", ["api", "v1", "user-project-additional-privilege"]) => {
            let membership = request.query("projectMembershipId").unwrap_or_default();
            let list: Vec<Value> = state
                .user_privileges
                .iter()
                .filter(|it| it["projectMembershipId"] == json!(membership))
                .map(|it| {
                    let mut it = it.clone();
                    it["isLinkedToAccessApproval"] = json!(false);
                    it
                })
                .collect();
            ok(json!({ "privileges": strip_permissions(&list) }))
        }
        (_, ["api", "v1", "user-project-additional-privilege", id]) => {
            privilege_route(&mut state.user_privileges, method, id, body)
        }
        // Access approval policies.
        ("GET", ["api", "v1", "access-approvals", "policies"]) => {
            if actor != Actor::User {
                return error(403, "PermissionDenied", "Only users may list access approval policies");
            }
            if request.query("projectSlug") != Some(state.project_slug.as_str()) {
                return not_found("Project not found");
            }
            ok(json!({ "approvals": state.access_policies }))
        }
        ("POST", ["api", "v1", "access-approvals", "policies"]) => {
            if body["projectSlug"] != json!(state.project_slug) {
                return not_found("Project not found");
            }
            policy_write(state, true, None, body, "access")
        }
        (_, ["api", "v1", "access-approvals", "policies", id]) => policy_route(state, true, method, id, body),
        // Secret approval policies.
        ("GET", ["api", "v2", "secret-approvals"]) => {
            if actor != Actor::User {
                return error(403, "PermissionDenied", "Only users may list secret approval policies");
            }
            let list: Vec<Value> = state
                .secret_policies
                .iter()
                .map(|policy| {
                    // The list gives principals by id only.
                    let mut policy = policy.clone();
                    for key in ["approvers", "bypassers"] {
                        for it in policy[key].as_array_mut().into_iter().flatten() {
                            it.as_object_mut().unwrap().remove("username");
                        }
                    }
                    policy
                })
                .collect();
            ok(json!({ "approvals": list }))
        }
        ("POST", ["api", "v2", "secret-approvals"]) => {
            if body["projectId"] != json!(project) {
                return not_found("Project not found");
            }
            policy_write(state, false, None, body, "secret")
        }
        (_, ["api", "v2", "secret-approvals", id]) => policy_route(state, false, method, id, body),
        _ => not_found(&format!("Route {method}:{} not found", request.path)),
    }
}

fn identity_membership_view(state: &State, membership: &Value) -> Value {
    let identity = membership["identityId"].as_str().unwrap_or_default();
    let name = state.org_identities.iter().find(|(id, _)| id == identity).map(|(_, name)| name.clone());
    let mut view = membership.clone();
    view["identity"] = json!({ "id": identity, "name": name, "authMethods": ["universal-auth"] });
    view["createdAt"] = json!(now());
    view["updatedAt"] = json!(now());
    view
}

fn identity_membership_route(state: &mut State, method: &str, identity: &str, body: &Value) -> Answer {
    let at = state.identity_memberships.iter().position(|it| it["identityId"] == json!(identity));
    match (method, at) {
        ("GET", Some(at)) => {
            ok(json!({ "identityMembership": identity_membership_view(state, &state.identity_memberships[at]) }))
        }
        ("POST", None) => {
            if !state.org_identities.iter().any(|(id, _)| id == identity) {
                return not_found(&format!("Identity with id {identity} not found"));
            }
            let roles = body["roles"].as_array().cloned().unwrap_or_else(|| vec![json!({ "role": "no-access" })]);
            match stored_roles(state, &roles) {
                Ok(roles) => {
                    let id = state.id();
                    let membership = json!({ "id": id, "identityId": identity, "roles": roles });
                    state.identity_memberships.push(membership.clone());
                    ok(json!({ "identityMembership": membership }))
                }
                Err(answer) => answer,
            }
        }
        ("POST", Some(_)) => bad("Identity is already a member of the project"),
        ("PATCH", Some(at)) => {
            let roles = body["roles"].as_array().cloned().unwrap_or_default();
            if roles.is_empty() {
                return invalid(&["roles"], "Array must contain at least 1 element(s)");
            }
            match stored_roles(state, &roles) {
                Ok(roles) => {
                    state.identity_memberships[at]["roles"] = json!(roles);
                    ok(json!({ "roles": roles }))
                }
                Err(answer) => answer,
            }
        }
        ("DELETE", Some(at)) => {
            let removed = state.identity_memberships.remove(at);
            state.identity_privileges.retain(|it| it["identityId"] != json!(identity));
            ok(json!({ "identityMembership": removed }))
        }
        _ => not_found(&format!("Project membership for identity with id '{identity}' not found")),
    }
}

fn create_privilege(state: &mut State, body: &Value, owner_key: &str, owner: &str) -> Answer {
    let slug = body["slug"].as_str().map_or_else(|| format!("privilege-{}", state.next_id), str::to_owned);
    if !is_slug(&slug) || slug.len() > 60 {
        return invalid(&["slug"], "Slug field can only contain lowercase letters, numbers, and hyphens");
    }
    let list = if owner_key == "identityId" { &state.identity_privileges } else { &state.user_privileges };
    if list.iter().any(|it| it[owner_key] == json!(owner) && it["slug"] == json!(slug)) {
        return bad(&format!("Additional privilege with name {slug} exists"));
    }
    let permissions = match packed(&body["permissions"]) {
        Ok(it) => it,
        Err(answer) => return answer,
    };
    let id = state.id();
    let mut privilege = json!({
        "id": id, "slug": slug, "permissions": permissions, owner_key: owner, "projectId": state.project_id,
        "createdAt": now(), "updatedAt": now(),
    });
    if let Err(answer) = temporary_fields(&mut privilege, &body["type"]) {
        return answer;
    }
    if owner_key == "identityId" {
        state.identity_privileges.push(privilege.clone());
    } else {
        state.user_privileges.push(privilege.clone());
    }
    ok(json!({ "privilege": privilege }))
}

fn privilege_route(list: &mut Vec<Value>, method: &str, id: &str, body: &Value) -> Answer {
    let Some(at) = list.iter().position(|it| it["id"] == json!(id)) else {
        return not_found(&format!("Additional privilege with id {id} not found"));
    };
    match method {
        "GET" => ok(json!({ "privilege": list[at] })),
        "DELETE" => ok(json!({ "privilege": list.remove(at) })),
        "PATCH" => {
            let mut privilege = list[at].clone();
            if let Some(slug) = body.get("slug") {
                privilege["slug"] = slug.clone();
            }
            if let Some(permissions) = body.get("permissions") {
                match packed(permissions) {
                    Ok(it) => privilege["permissions"] = it,
                    Err(answer) => return answer,
                }
            }
            if let Some(kind) = body.get("type")
                && let Err(answer) = temporary_fields(&mut privilege, kind)
            {
                return answer;
            }
            list[at] = privilege.clone();
            ok(json!({ "privilege": privilege }))
        }
        _ => not_found("Route not found"),
    }
}

fn principals(state: &State, items: &Value, keep_name: bool) -> Result<Vec<Value>, Answer> {
    let mut out = Vec::new();
    for item in items.as_array().into_iter().flatten() {
        let kind = item["type"].as_str().unwrap_or("user");
        if kind == "group" {
            let mut entry = json!({ "type": "group", "id": item["id"] });
            if let Some(sequence) = item.get("sequence") {
                entry["sequence"] = sequence.clone();
            }
            out.push(entry);
            continue;
        }
        let (id, email) = match (item.get("id").and_then(Value::as_str), item.get("username").and_then(Value::as_str)) {
            (Some(id), _) => match state.org_users.iter().find(|(it, _)| it == id) {
                Some(found) => found.clone(),
                None => return Err(not_found(&format!("User with id {id} not found"))),
            },
            (None, Some(name)) => match state.org_users.iter().find(|(_, it)| it == name) {
                Some(found) => found.clone(),
                None => return Err(bad(&format!("Invalid username: {name}"))),
            },
            (None, None) => return Err(invalid(&["approvers"], "Must provide either username or id")),
        };
        let mut entry = json!({ "type": "user", "id": id });
        if keep_name {
            entry["username"] = json!(email);
        }
        if let Some(sequence) = item.get("sequence") {
            entry["sequence"] = sequence.clone();
        }
        out.push(entry);
    }
    Ok(out)
}

fn policy_write(state: &mut State, access: bool, at: Option<usize>, body: &Value, _what: &str) -> Answer {
    let approvers = match principals(state, &body["approvers"], true) {
        Ok(it) => it,
        Err(answer) => return answer,
    };
    if approvers.is_empty() {
        return invalid(&["approvers"], "At least one approver should be provided");
    }
    // Bypassers come back by id only.
    let bypassers = match principals(state, &body["bypassers"], false) {
        Ok(it) => it,
        Err(answer) => return answer,
    };
    let environments: Vec<Value> = body["environments"]
        .as_array()
        .cloned()
        .or_else(|| body.get("environment").map(|it| vec![it.clone()]))
        .unwrap_or_default()
        .iter()
        .map(|slug| json!({ "slug": slug, "name": slug, "id": format!("env-{}", slug.as_str().unwrap_or_default()) }))
        .collect();
    let mut policy = match at {
        Some(at) => {
            if access {
                state.access_policies[at].clone()
            } else {
                state.secret_policies[at].clone()
            }
        }
        None => json!({ "id": state.id(), "projectId": state.project_id }),
    };
    if let Some(path) = body.get("secretPath").and_then(Value::as_str) {
        let path = if path.len() > 1 { path.trim_end_matches('/') } else { path };
        policy["secretPath"] = json!(path);
    } else if at.is_none() {
        return invalid(&["secretPath"], "Required");
    }
    if !environments.is_empty() || at.is_none() {
        if environments.is_empty() {
            return invalid(&["environments"], "Must provide either environment or environments");
        }
        policy["environment"] = environments[0].clone();
        policy["environments"] = json!(environments);
    }
    if let Some(name) = body.get("name") {
        policy["name"] = name.clone();
    }
    // PATCH resets these when omitted.
    policy["enforcementLevel"] = body.get("enforcementLevel").cloned().unwrap_or(json!("hard"));
    policy["allowedSelfApprovals"] = body.get("allowedSelfApprovals").cloned().unwrap_or(json!(true));
    policy["approvals"] = body.get("approvals").cloned().unwrap_or(json!(1));
    policy["approvers"] = json!(approvers);
    policy["bypassers"] = json!(bypassers);
    if access {
        policy["approvalsRequired"] = body.get("approvalsRequired").cloned().unwrap_or(json!([]));
        for key in ["maxTimePeriod", "requestExpirationTime"] {
            let value = body.get(key).cloned().unwrap_or(Value::Null);
            let value = match value.as_str() {
                Some("" | "permanent" | "never") => Value::Null,
                Some(text) if ms(text).is_none() => {
                    return bad(
                        "Invalid time period format or value. Must be a positive duration (e.g., '1h', '30m', '2d').",
                    );
                }
                _ => value,
            };
            policy[key] = value;
        }
    }
    let list = if access { &mut state.access_policies } else { &mut state.secret_policies };
    match at {
        Some(at) => list[at] = policy.clone(),
        None => list.push(policy.clone()),
    }
    ok(json!({ "approval": policy }))
}

fn policy_route(state: &mut State, access: bool, method: &str, id: &str, body: &Value) -> Answer {
    let list = if access { &state.access_policies } else { &state.secret_policies };
    let Some(at) = list.iter().position(|it| it["id"] == json!(id)) else {
        return not_found(&format!("Policy with id {id} not found"));
    };
    match method {
        "GET" => ok(json!({ "approval": list[at] })),
        "DELETE" => {
            let list = if access { &mut state.access_policies } else { &mut state.secret_policies };
            ok(json!({ "approval": list.remove(at) }))
        }
        "PATCH" => policy_write(state, access, Some(at), body, if access { "access" } else { "secret" }),
        _ => not_found("Route not found"),
    }
}
