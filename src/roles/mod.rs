//! Role proposals: custom roles for privileges granted again and again.
//!
//! - [`mining`]: the engine, on a user-permission matrix: the fewest roles that reproduce every user's
//!   permissions exactly.
//! - [`propose`]: the engine on a policy repository's permanent privileges, with a rewrite and its proof.
//! - [`write`]: the rewrite as text edits of the policy files, checked before anything is written.

pub mod mining;
pub mod propose;
pub mod write;
