//! Temporary stand-in for the catalog loader (being written on another branch).
use std::sync::OnceLock;

pub struct Catalog {
    version: String,
}

pub struct PredefinedRole {
    pub slug: String,
    pub name: String,
}

impl Catalog {
    pub fn builtin() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| Catalog { version: "infisical-05db254d".into() })
    }
    pub fn from_json(_text: &str) -> Result<Catalog, String> {
        Err("not yet".into())
    }
    pub fn version(&self) -> &str {
        &self.version
    }
    pub fn reserved_role_slugs(&self) -> Vec<&str> {
        vec!["admin", "member", "viewer", "no-access", "custom", "ssh-host-bootstrapper", "cryptographic-operator", "agent", "agent-proxy"]
    }
    pub fn predefined_roles(&self) -> Vec<PredefinedRole> {
        ["admin", "member", "viewer", "no-access", "ssh-host-bootstrapper", "cryptographic-operator"]
            .iter()
            .map(|s| PredefinedRole { slug: s.to_string(), name: s.to_string() })
            .collect()
    }
}

pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}
