//! Deploying a repository to a live Infisical project: `build` (the request bodies), `plan` (what would
//! change), `apply` (make it so) and `import` (a live project as policy files).
//!
//! - [`desired`]: the repository's objects, each with a canonical form and a wire form.
//! - [`canonical`]: the one form both sides are compared in; a plan never compares JSON text.
//! - [`wire`]: the requests for each kind of object.
//! - [`api`]: the HTTP client (TLS, timeouts, retries, secrets that never print).
//! - [`live`]: a live project read into canonical objects.
//! - [`plan`], [`apply`], [`import`].

pub mod api;
pub mod apply;
pub mod canonical;
pub mod desired;
pub mod import;
pub mod live;
pub mod plan;
pub mod wire;
