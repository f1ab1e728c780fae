//! Checks: everything Infisical would reject, or accept while silently changing it, reported as errors.
pub mod project;
pub mod rules;
pub mod values;
