use super::{is_match, regex_source};

/// Compares with a JSON-lines file of picomatch answers named by `GLOB_CASES`: one object per line with
/// the pattern `p`, its regex source `src` (`THROW` when picomatch throws) and `cases`, `[value, isMatch]`
/// pairs.
#[test]
#[ignore]
#[allow(clippy::print_stdout)]
fn oracle_file() {
    let Ok(path) = std::env::var("GLOB_CASES") else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let (mut bad_src, mut bad_match, mut total) = (0, 0, 0);
    for line in text.lines() {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let pattern = case["p"].as_str().unwrap();
        let src = case["src"].as_str().unwrap();
        let ours = regex_source(pattern);
        let expected_src = if src == "THROW" { "" } else { src };
        if ours != expected_src {
            bad_src += 1;
            if bad_src <= 15 {
                println!("SRC {pattern:?}\n  ours {ours:?}\n  js   {expected_src:?}");
            }
        }
        for pair in case["cases"].as_array().unwrap() {
            let value = pair[0].as_str().unwrap();
            let expected = pair[1].as_bool().unwrap_or(false);
            total += 1;
            if is_match(pattern, value) != expected {
                bad_match += 1;
                if bad_match <= 25 {
                    println!("MATCH {pattern:?} {value:?} expected {expected} src {expected_src:?}");
                }
            }
        }
    }
    println!("source mismatches {bad_src}, match mismatches {bad_match} of {total}");
    assert_eq!(bad_src + bad_match, 0);
}
