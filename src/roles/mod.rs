//! Role proposals: custom roles for privileges granted again and again.
//!
//! - [`mining`]: the engine, on a user-permission matrix: the fewest roles that reproduce every user's
//!   permissions exactly.

pub mod mining;
