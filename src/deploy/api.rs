//! The HTTP client for Infisical's management API: TLS (rustls), timeouts, retries of 429 (honouring
//! `Retry-After`) and 5xx with backoff, and errors that say which call failed and what Infisical answered.
//!
//! The token lives in [`Secret`], which never prints: not in errors, not in `Debug`, not in logs.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

/// A token or client secret. Its `Debug` and `Display` print `***`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// Whether repeating the call cannot do anything twice. A POST that failed with a 5xx or a dropped
    /// connection may have been carried out: it is not repeated (a new plan reads what happened).
    fn idempotent(self) -> bool {
        self != Method::Post
    }
}

/// Why a call failed.
#[derive(Debug)]
pub enum ApiError {
    /// Infisical answered with an error status.
    Status { method: Method, path: String, status: u16, message: String },
    /// No answer: connection refused or dropped, TLS failure, timeout.
    Transport { method: Method, path: String, error: String },
    /// An answer that is not the JSON expected.
    Body { method: Method, path: String, error: String },
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Status { method, path, status, message } => {
                write!(f, "`{} {path}` failed with {status}: {message}", method.as_str())
            }
            ApiError::Transport { method, path, error } => {
                write!(f, "`{} {path}` got no answer: {error}", method.as_str())
            }
            ApiError::Body { method, path, error } => {
                write!(f, "`{} {path}` answered something that is not Infisical's JSON: {error}", method.as_str())
            }
        }
    }
}

/// How hard to try.
#[derive(Clone, Debug)]
pub struct Retry {
    /// Attempts after the first.
    pub retries: u32,
    /// The first backoff; it doubles each time.
    pub backoff: Duration,
    /// The longest `Retry-After` honoured; a longer one fails the call.
    pub max_wait: Duration,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry { retries: 4, backoff: Duration::from_millis(500), max_wait: Duration::from_secs(60) }
    }
}

/// A signed-in client of one Infisical host.
pub struct Client {
    base: String,
    token: Secret,
    agent: ureq::Agent,
    retry: Retry,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("base", &self.base).field("token", &self.token).finish()
    }
}

/// Checks the host: `https://` anywhere; plain `http://` only on this machine (a local Infisical).
pub fn check_host(host: &str) -> Result<String, String> {
    let host = host.trim_end_matches('/');
    if let Some(rest) = host.strip_prefix("http://") {
        let name = rest.split(['/', ':']).next().unwrap_or_default();
        if matches!(name, "localhost" | "127.0.0.1" | "[::1]") {
            return Ok(host.to_owned());
        }
        return Err(format!(
            "refusing plain HTTP to `{host}`: tokens would cross the network unencrypted; use `https://`"
        ));
    }
    if host.starts_with("https://") {
        Ok(host.to_owned())
    } else {
        Err(format!("`{host}` is not an `https://` address"))
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("permc/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

impl Client {
    pub fn new(host: &str, token: Secret, timeout: Duration, retry: Retry) -> Result<Client, String> {
        Ok(Client { base: check_host(host)?, token, agent: agent(timeout), retry })
    }

    /// Signs in with universal auth (`POST /api/v1/auth/universal-auth/login`).
    pub fn login(
        host: &str,
        client_id: &str,
        client_secret: &Secret,
        timeout: Duration,
        retry: Retry,
    ) -> Result<Client, String> {
        let mut client = Client::new(host, Secret::new(""), timeout, retry)?;
        let body = serde_json::json!({ "clientId": client_id, "clientSecret": client_secret.expose() });
        let answer = client
            .call(Method::Post, "/api/v1/auth/universal-auth/login", Some(&body), false)
            .map_err(|error| format!("universal-auth login failed: {error}"))?;
        let token = answer
            .get("accessToken")
            .and_then(Value::as_str)
            .ok_or("universal-auth login answered without an `accessToken`")?;
        client.token = Secret::new(token);
        Ok(client)
    }

    pub fn host(&self) -> &str {
        &self.base
    }

    /// The claims of the token when it is a JWT (Infisical's user and identity tokens are): who is calling.
    pub fn claims(&self) -> Option<Value> {
        let payload = self.token.expose().split('.').nth(1)?;
        serde_json::from_slice(&base64url(payload)?).ok()
    }

    pub fn get(&self, path: &str) -> Result<Value, ApiError> {
        self.call(Method::Get, path, None, true)
    }

    pub fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value, ApiError> {
        self.call(method, path, body, true)
    }

    fn call(&self, method: Method, path: &str, body: Option<&Value>, auth: bool) -> Result<Value, ApiError> {
        let url = format!("{}{path}", self.base);
        let mut attempt = 0;
        loop {
            let outcome = self.once(method, &url, body, auth);
            let (retry_after, error) = match outcome {
                Ok((status, text, _)) if (200..300).contains(&status) => {
                    return serde_json::from_str(&text).map_err(|error| ApiError::Body {
                        method,
                        path: path.to_owned(),
                        error: error.to_string(),
                    });
                }
                Ok((status, text, retry_after)) => {
                    let error =
                        ApiError::Status { method, path: path.to_owned(), status, message: error_message(&text) };
                    let again = status == 429 || (status >= 500 && method.idempotent());
                    (if again { Some(retry_after) } else { None }, error)
                }
                Err(error) => {
                    let again = method.idempotent();
                    let error = ApiError::Transport { method, path: path.to_owned(), error };
                    (if again { Some(None) } else { None }, error)
                }
            };
            let Some(retry_after) = retry_after else { return Err(error) };
            if attempt >= self.retry.retries {
                return Err(error);
            }
            let wait = match retry_after {
                Some(wait) if wait > self.retry.max_wait => return Err(error),
                Some(wait) => wait,
                None => self.retry.backoff * 2u32.saturating_pow(attempt),
            };
            std::thread::sleep(wait);
            attempt += 1;
        }
    }

    /// One request: the status, the body, and a `Retry-After` in seconds.
    fn once(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        auth: bool,
    ) -> Result<(u16, String, Option<Duration>), String> {
        let bearer = format!("Bearer {}", self.token.expose());
        let response = match method {
            Method::Get | Method::Delete => {
                let request = if method == Method::Get { self.agent.get(url) } else { self.agent.delete(url) };
                let request = if auth { request.header("Authorization", &bearer) } else { request };
                request.header("Accept", "application/json").call()
            }
            Method::Post | Method::Patch => {
                let request = if method == Method::Post { self.agent.post(url) } else { self.agent.patch(url) };
                let request = if auth { request.header("Authorization", &bearer) } else { request };
                let text = body.map_or_else(|| "{}".to_owned(), Value::to_string);
                request.header("Content-Type", "application/json").header("Accept", "application/json").send(text)
            }
        };
        let mut response = response.map_err(|error| scrub(&error.to_string(), self.token.expose()))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|it| it.to_str().ok())
            .and_then(|it| it.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .map_err(|error| scrub(&error.to_string(), self.token.expose()))?;
        Ok((status, text, retry_after))
    }
}

/// Decodes unpadded base64url (RFC 4648 §5), as JWT segments are written.
fn base64url(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in text.trim_end_matches('=').bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Infisical's error body (`{message, error, details}`) in one line; zod issues as `path: message`.
fn error_message(text: &str) -> String {
    let Ok(body) = serde_json::from_str::<Value>(text) else {
        let text = text.trim();
        return if text.is_empty() { "no body".to_owned() } else { text.chars().take(300).collect() };
    };
    let kind = body.get("error").and_then(Value::as_str).unwrap_or_default();
    let message = match body.get("message") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(issues)) => issues
            .iter()
            .map(|issue| {
                let path = issue
                    .get("path")
                    .and_then(Value::as_array)
                    .map(|parts| {
                        parts.iter().map(|it| it.to_string().trim_matches('"').to_owned()).collect::<Vec<_>>().join(".")
                    })
                    .unwrap_or_default();
                let message = issue.get("message").and_then(Value::as_str).unwrap_or_default();
                if path.is_empty() { message.to_owned() } else { format!("{path}: {message}") }
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => String::new(),
    };
    match (kind.is_empty(), message.is_empty()) {
        (true, true) => text.chars().take(300).collect(),
        (false, true) => kind.to_owned(),
        (true, false) => message,
        (false, false) => format!("{kind}: {message}"),
    }
}

/// Removes the token from a transport error, should a library ever quote a header.
fn scrub(text: &str, token: &str) -> String {
    if token.is_empty() { text.to_owned() } else { text.replace(token, "***") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("st.abc.def");
        assert_eq!(format!("{secret} {secret:?}"), "*** ***");
        let client =
            Client::new("https://app.infisical.com", secret, Duration::from_secs(1), Retry::default()).unwrap();
        assert!(!format!("{client:?}").contains("st.abc"));
    }

    #[test]
    fn jwt_claims_are_read_without_printing_the_token() {
        assert_eq!(base64url("eyJhIjoxfQ").unwrap(), br#"{"a":1}"#);
        assert_eq!(base64url("TWFu").unwrap(), b"Man");
        assert_eq!(base64url("TWE").unwrap(), b"Ma");
        assert!(base64url("a b").is_none());
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJpZGVudGl0eUlkIjoiaS0xIn0.c2ln";
        let client =
            Client::new("https://x.example", Secret::new(token), Duration::from_secs(1), Retry::default()).unwrap();
        assert_eq!(client.claims().unwrap()["identityId"], "i-1");
    }

    #[test]
    fn plain_http_only_to_this_machine() {
        assert!(check_host("http://127.0.0.1:8080").is_ok());
        assert!(check_host("http://localhost:8080/").is_ok());
        assert!(check_host("http://infisical.example.com").unwrap_err().contains("refusing plain HTTP"));
        assert!(check_host("ftp://x").is_err());
        assert_eq!(check_host("https://eu.infisical.com/").unwrap(), "https://eu.infisical.com");
    }

    #[test]
    fn error_bodies_read_as_one_line() {
        let zod = r#"{"statusCode":422,"error":"ValidationFailure","message":[{"path":["permissions",0,"action"],"message":"Invalid enum value"}]}"#;
        assert_eq!(error_message(zod), "ValidationFailure: permissions.0.action: Invalid enum value");
        let bad = r#"{"statusCode":404,"error":"NotFound","message":"Role with x exists"}"#;
        assert_eq!(error_message(bad), "NotFound: Role with x exists");
        assert_eq!(error_message(""), "no body");
    }
}
