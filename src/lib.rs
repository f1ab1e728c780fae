//! permc: Infisical project permissions as code.
//!
//! The pipeline, one module per stage:
//! 1. [`syntax`]: YAML, JSON and HCL files to one spanned document tree. Never fails.
//! 2. [`model`]: the document trees of a policy repository lowered to one typed project model.
//! 3. [`check`]: everything Infisical would reject or silently change, as errors, against the [`catalog`].
//! 4. `cli` and [`lsp`] are the only modules that print.
//!
//! Every stage reports with the one [`diagnostic::Diagnostic`] type.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod access;
pub mod bits;
pub mod catalog;
pub mod check;
pub mod cli;
pub mod codes;
pub mod deploy;
pub mod diagnostic;
pub mod eval;
pub mod fix;
pub mod glob;
pub mod lang;
pub mod lint;
pub mod lsp;
pub mod lsp_assist;
pub mod model;
pub mod process;
pub mod render;
pub mod roles;
pub mod schema;
pub mod scope;
pub mod source;
pub mod syntax;
#[cfg(test)]
mod testing;
pub mod workspace;
