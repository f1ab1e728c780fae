//! `grammar/policy.schema.json` is generated from the catalog; this test fails when it is stale.
//! Regenerate with `cargo run -- schema > grammar/policy.schema.json`.

use std::path::Path;

use permc::catalog::Catalog;
use permc::schema::{SCHEMA_PATH, policy_schema};

#[test]
fn committed_schema_matches_the_catalog() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_PATH);
    let expected = serde_json::to_string_pretty(&policy_schema(Catalog::builtin())).unwrap() + "\n";
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == expected, "{SCHEMA_PATH} is stale; regenerate it with `cargo run -- schema > {SCHEMA_PATH}`");
}
