//! Deploying a repository to a live Infisical project: `build` (the request bodies), `plan` (what would
//! change), `apply` (make it so) and `import` (a live project as policy files).
//!
//! - [`desired`]: the repository's objects, each with a canonical form and a wire form.
//! - [`canonical`]: the one form both sides are compared in; a plan never compares JSON text.
//! - [`wire`]: the requests for each kind of object.
//! - [`api`]: the HTTP client (TLS, timeouts, retries, secrets that never print).
//! - [`live`]: a live project read into canonical objects.
//! - [`actor`]: whether the deploying user or identity may make each change, before any write.
//! - [`effect`]: what a plan changes in each member's effective access, with confirmed witnesses.
//! - [`plan`], [`apply`], [`import`]; [`terraform`] reads the Infisical Terraform provider's configuration.

pub mod actor;
pub mod api;
pub mod apply;
pub mod canonical;
pub mod desired;
pub mod effect;
pub mod import;
pub mod live;
pub mod plan;
pub mod terraform;
pub mod wire;
