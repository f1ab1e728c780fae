//! Temporary stand-in for the permission-rule validator (being written on another branch).
use crate::catalog::Catalog;
use crate::diagnostic::Diagnostic;
use crate::source::FileId;
use crate::syntax::Node;

#[derive(Clone, Debug, PartialEq)]
pub struct StoredRule {
    pub subject: String,
    pub actions: Vec<String>,
    pub inverted: bool,
    pub conditions: Option<serde_json::Map<String, serde_json::Value>>,
}

pub struct RulesOutcome {
    pub stored: Option<Vec<StoredRule>>,
    pub stripped: bool,
}

pub fn check_permissions(_catalog: &Catalog, _file: FileId, _permissions: &Node, _diagnostics: &mut Vec<Diagnostic>) -> RulesOutcome {
    RulesOutcome { stored: None, stripped: false }
}
