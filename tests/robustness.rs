//! Nothing panics on any input: every fixture and example file, truncated at many points and with random
//! bytes flipped, goes through the whole pipeline and rendering.

use std::path::{Path, PathBuf};

use permc::catalog::Catalog;
use permc::render;
use permc::workspace::{analyze_sources, discover};

fn inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = discover(&root.join("tests/fixtures")).unwrap();
    paths.extend(discover(&root.join("policies")).unwrap());
    assert!(paths.len() > 10, "expected fixtures and examples, found {paths:?}");
    paths
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn run(path: &Path, bytes: Vec<u8>) {
    let analysis = analyze_sources(vec![(path.to_path_buf(), bytes)], Catalog::builtin());
    for diagnostic in &analysis.diagnostics {
        let text = &analysis.db.get(diagnostic.primary.file).text;
        assert!(diagnostic.primary.span.end as usize <= text.len(), "span out of range in {}", path.display());
        render::human_string(&analysis.db, diagnostic);
        render::json_value(&analysis.db, diagnostic);
    }
}

#[test]
fn truncated_files_do_not_panic() {
    for path in inputs() {
        let bytes = std::fs::read(&path).unwrap();
        let step = (bytes.len() / 60).max(1);
        for end in (0..bytes.len()).step_by(step) {
            run(&path, bytes[..end].to_vec());
        }
    }
}

#[test]
fn mutated_files_do_not_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let specials = b"{}[]\"':#-,=\n\t $*&!|>\\\x00\xff\xc3";
    for path in inputs() {
        let original = std::fs::read(&path).unwrap();
        for _ in 0..40 {
            let mut bytes = original.clone();
            for _ in 0..1 + rng.next() % 4 {
                if bytes.is_empty() {
                    break;
                }
                let at = (rng.next() % bytes.len() as u64) as usize;
                let byte = if rng.next() % 2 == 0 {
                    specials[(rng.next() % specials.len() as u64) as usize]
                } else {
                    rng.next() as u8
                };
                match rng.next() % 3 {
                    0 => bytes[at] = byte,
                    1 => bytes.insert(at, byte),
                    _ => {
                        bytes.remove(at);
                    }
                }
            }
            run(&path, bytes);
        }
    }
}
