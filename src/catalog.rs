//! Placeholder: replaced by the catalog loader.
pub struct Catalog;
