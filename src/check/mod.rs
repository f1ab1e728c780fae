//! Checks: everything Infisical would reject, or accept while silently changing it, reported as errors.
pub mod rules;
