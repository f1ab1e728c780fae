//! Placeholder: replaced by the permission-rule validator.
