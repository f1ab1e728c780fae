//! The role mining engine on the standard benchmark matrices (`../shared/data/rolemining`): the proven
//! minimum role count on every one, and every user's permissions reproduced exactly, checked from the
//! JSON the command prints.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// The proven optima, from the data set's README table.
fn optima(dir: &Path) -> BTreeMap<String, usize> {
    let readme = std::fs::read_to_string(dir.join("README.md")).expect("the data set's README");
    readme
        .lines()
        .filter(|line| line.starts_with("| ") && line.contains(".txt"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells[1].to_owned(), cells[6].replace(',', "").parse().unwrap())
        })
        .collect()
}

#[test]
fn the_proven_minimum_on_every_benchmark_matrix() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/rolemining");
    if !dir.is_dir() {
        panic!("{} is missing", dir.display());
    }
    let optima = optima(&dir);
    assert_eq!(optima.len(), 5, "{optima:?}");
    for (file, optimum) in optima {
        let path = dir.join(&file);
        let output = Command::new(env!("CARGO_BIN_EXE_permc"))
            .args(["roles", "suggest", "--matrix", path.to_str().unwrap(), "--format", "json"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{file}: {}", String::from_utf8_lossy(&output.stderr));
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["role_count"], optimum, "{file}");
        assert_eq!(report["optimal"], true, "{file}");

        // Independently: each user's roles give exactly its permissions.
        let mut want: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
        for line in std::fs::read_to_string(&path).unwrap().lines().filter(|it| !it.trim().is_empty()) {
            let mut parts = line.split_whitespace().map(|it| it.parse::<u64>().unwrap());
            want.entry(parts.next().unwrap()).or_default().insert(parts.next().unwrap());
        }
        let roles: Vec<BTreeSet<u64>> = report["roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|role| role.as_array().unwrap().iter().map(|it| it.as_u64().unwrap()).collect())
            .collect();
        assert_eq!(roles.len(), optimum);
        let assignments = report["assignments"].as_object().unwrap();
        assert_eq!(assignments.len(), want.len(), "{file}");
        let mut edges = roles.iter().map(BTreeSet::len).sum::<usize>();
        for (user, permissions) in &want {
            let given: Vec<usize> = assignments[&user.to_string()]
                .as_array()
                .unwrap()
                .iter()
                .map(|it| it.as_u64().unwrap() as usize)
                .collect();
            edges += given.len();
            let got: BTreeSet<u64> = given.iter().flat_map(|&r| roles[r].iter().copied()).collect();
            assert_eq!(&got, permissions, "{file}: user {user}");
        }
        assert_eq!(report["edges"], edges, "{file}");
    }
}
