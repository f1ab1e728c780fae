use super::{Glob, is_match, regex_source};
use crate::testing::Rng;

/// picomatch's answers for a fixed corpus (`tests/data/picomatch-oracle.jsonl`, written by
/// `tests/data/picomatch-oracle.mjs`): one object per line with the pattern `p`, its regex source `src`
/// (`THROW` when picomatch throws) and `cases`, `[value, isMatch]` pairs. `GLOB_CASES` names another file
/// of the same form to compare with instead.
const ORACLE: &str = include_str!("../../tests/data/picomatch-oracle.jsonl");

/// A JSON value of the oracle's lines, strings as UTF-16 (the sources picomatch generates may hold lone
/// surrogates, which JSON keeps as `\udXXX` escapes and `serde_json` refuses).
enum Json {
    Str(Vec<u16>),
    Bool(bool),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn parse(text: &str) -> Json {
        let mut at = 0;
        let value = Json::value(text, &mut at);
        assert_eq!(text[at..].trim(), "", "trailing text");
        value
    }

    fn value(text: &str, at: &mut usize) -> Json {
        let skip = |at: &mut usize| *at += text[*at..].len() - text[*at..].trim_start().len();
        skip(at);
        let rest = &text[*at..];
        if rest.starts_with("true") || rest.starts_with("false") {
            let value = rest.starts_with("true");
            *at += if value { 4 } else { 5 };
            return Json::Bool(value);
        }
        let (open, close) = match rest.as_bytes().first() {
            Some(b'"') => return Json::Str(Json::string(text, at)),
            Some(b'[') => (b'[', b']'),
            Some(b'{') => (b'{', b'}'),
            _ => panic!("unexpected JSON at {}", *at),
        };
        *at += 1;
        let mut items = Vec::new();
        let mut fields = Vec::new();
        loop {
            skip(at);
            match text.as_bytes()[*at] {
                b',' => *at += 1,
                it if it == close => {
                    *at += 1;
                    break;
                }
                _ if open == b'[' => items.push(Json::value(text, at)),
                _ => {
                    let key = String::from_utf16(&Json::string(text, at)).unwrap();
                    skip(at);
                    assert_eq!(text.as_bytes()[*at], b':');
                    *at += 1;
                    fields.push((key, Json::value(text, at)));
                }
            }
        }
        if open == b'[' { Json::Arr(items) } else { Json::Obj(fields) }
    }

    fn string(text: &str, at: &mut usize) -> Vec<u16> {
        assert_eq!(text.as_bytes()[*at], b'"');
        *at += 1;
        let mut out = Vec::new();
        loop {
            let c = text[*at..].chars().next().expect("unterminated string");
            *at += c.len_utf8();
            match c {
                '"' => return out,
                '\\' => {
                    let escape = text.as_bytes()[*at];
                    *at += 1;
                    out.push(match escape {
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => 0x0a,
                        b'r' => 0x0d,
                        b't' => 0x09,
                        b'u' => {
                            *at += 4;
                            u16::from_str_radix(&text[*at - 4..*at], 16).unwrap()
                        }
                        other => u16::from(other),
                    });
                }
                c => out.extend(c.encode_utf16(&mut [0; 2]).iter()),
            }
        }
    }

    fn field(&self, name: &str) -> &Json {
        let Json::Obj(fields) = self else { panic!("not an object") };
        &fields.iter().find(|(key, _)| key == name).unwrap_or_else(|| panic!("no `{name}`")).1
    }

    fn text(&self) -> String {
        let Json::Str(units) = self else { panic!("not a string") };
        String::from_utf16(units).expect("patterns and values are well-formed UTF-16")
    }
}

/// One line of the oracle.
struct OracleCase {
    pattern: String,
    /// The source as picomatch shows it (`""` when picomatch throws), written the way [`regex_source`]
    /// writes unpaired surrogates.
    source: String,
    cases: Vec<(String, bool)>,
}

fn oracle() -> Vec<OracleCase> {
    let text = match std::env::var("GLOB_CASES") {
        Ok(path) => std::fs::read_to_string(path).unwrap(),
        Err(_) => ORACLE.to_string(),
    };
    let cases: Vec<OracleCase> = text
        .lines()
        .filter(|it| !it.trim().is_empty())
        .map(|line| {
            let line = Json::parse(line);
            let Json::Str(source) = line.field("src") else { panic!("`src` is not a string") };
            let source = if source.iter().copied().eq("THROW".encode_utf16()) {
                String::new()
            } else {
                super::render_source(source)
            };
            let Json::Arr(pairs) = line.field("cases") else { panic!("`cases` is not an array") };
            let cases = pairs
                .iter()
                .map(|pair| {
                    let Json::Arr(pair) = pair else { panic!("a case is not an array") };
                    let Json::Bool(expected) = pair[1] else { panic!("an answer is not a boolean") };
                    (pair[0].text(), expected)
                })
                .collect();
            OracleCase { pattern: line.field("p").text(), source, cases }
        })
        .collect();
    assert!(cases.len() > 100 && cases.iter().map(|it| it.cases.len()).sum::<usize>() > 1000);
    cases
}

/// Prints the first mismatches and the counts, and fails when there was any mismatch.
#[allow(clippy::print_stdout)]
fn report(mismatches: &[String], summary: &str) {
    for mismatch in mismatches.iter().take(40) {
        println!("{mismatch}");
    }
    println!("{summary}");
    assert!(mismatches.is_empty(), "{} mismatches with picomatch; {summary}", mismatches.len());
}

/// For every pattern of the oracle, [`regex_source`] is picomatch's `makeRe(...).source` and
/// [`Glob::is_match`] (and [`is_match`]) answer like `isMatch` for every value.
#[test]
fn sources_and_matches_agree_with_picomatch() {
    let oracle = oracle();
    let (mut sources, mut cases, mut agree) = (0, 0, 0);
    let mut mismatches = Vec::new();
    for OracleCase { pattern, source, cases: values } in &oracle {
        let ours = regex_source(pattern);
        if ours == *source {
            sources += 1;
        } else {
            mismatches.push(format!("source of {pattern:?}\n    ours       {ours:?}\n    picomatch  {source:?}"));
        }
        let glob = Glob::new(pattern);
        for (index, (value, expected)) in values.iter().enumerate() {
            cases += 1;
            let answer = glob.is_match(value);
            // The free function compiles again; once per pattern is enough to see that it says the same.
            if index == 0 && is_match(pattern, value) != answer {
                mismatches.push(format!("is_match({pattern:?}, {value:?}) differs from Glob::is_match"));
            }
            if answer == *expected {
                agree += 1;
            } else {
                mismatches
                    .push(format!("is_match({pattern:?}, {value:?}) = {answer}, picomatch {expected} ({source:?})"));
            }
        }
    }
    let patterns = oracle.len();
    report(&mismatches, &format!("{patterns} patterns: regex source {sources}/{patterns}, is_match {agree}/{cases}"));
}

/// For every pattern of the oracle that `scope::glob_language` does not refuse, the language it builds for the
/// linter holds exactly the values picomatch matches: through [`Lang::contains`](crate::lang::Lang::contains)
/// and through its automaton. It refuses what it does not model (lookbehind, back-references, `\b`), and
/// then the linter says nothing about the pattern.
#[test]
fn languages_agree_with_picomatch() {
    let oracle = oracle();
    let (mut languages, mut refused, mut cases, mut contains, mut automata, mut automaton_cases, mut accepts) =
        (0, 0, 0, 0, 0, 0, 0);
    let mut mismatches = Vec::new();
    for OracleCase { pattern, cases: values, .. } in &oracle {
        let Ok(language) = crate::scope::glob_language(pattern) else {
            refused += 1;
            continue;
        };
        languages += 1;
        for (value, expected) in values {
            cases += 1;
            let answer = language.contains(value);
            if answer == *expected {
                contains += 1;
            } else {
                mismatches
                    .push(format!("glob_language({pattern:?}) contains {value:?}: {answer}, picomatch {expected}"));
            }
        }
        let Ok(dfa) = language.to_dfa() else { continue };
        automata += 1;
        for (value, expected) in values {
            automaton_cases += 1;
            let state = value.encode_utf16().fold(crate::lang::Dfa::START, |state, c| dfa.step(state, c));
            let answer = dfa.accepts(state);
            if answer == *expected {
                accepts += 1;
            } else {
                mismatches.push(format!("automaton of {pattern:?} on {value:?}: {answer}, picomatch {expected}"));
            }
        }
    }
    let patterns = oracle.len();
    report(
        &mismatches,
        &format!(
            "{patterns} patterns: glob_language for {languages} ({refused} refused): contains {contains}/{cases}; \
             automaton for {automata}: {accepts}/{automaton_cases}"
        ),
    );
}

/// Asserts `is_match(pattern, value)` for each row, and the same answer from the language the linter builds
/// (when it does not refuse the pattern). The answers are picomatch 3.0.2's.
fn check_table(rows: &[(&str, &str, bool)]) {
    for &(pattern, value, expected) in rows {
        assert_eq!(is_match(pattern, value), expected, "is_match({pattern:?}, {value:?})");
        if let Ok(language) = crate::scope::glob_language(pattern) {
            assert_eq!(language.contains(value), expected, "glob_language({pattern:?}) contains {value:?}");
        }
    }
}

/// `**` crosses slashes but, like `*`, never matches a segment that starts with a dot.
#[test]
fn globstar_and_dotfiles() {
    check_table(&[
        ("/app/**", "/app", true),
        ("/app/**", "/app/", true),
        ("/app/**", "/app/x/y", true),
        ("/app/**", "/app/.env", false),
        ("/app/**", "/app/x/.git/y", false),
        ("/app/**", "/apple", false),
        ("**", ".env", false),
        ("**", "a/.b", false),
        ("**", "a/b", true),
        ("/**/db", "/db", false),
        ("/**/db", "/a/b/db", true),
        ("/**/db", "/.a/db", false),
        ("/app/**/db", "/app/db", true),
        ("/app/**/.env", "/app/a/.env", true),
        ("/app/.*", "/app/.env", true),
        ("/app/*", "/app/.env", false),
        ("**/.*", "a/.env", true),
    ]);
}

/// With `strictSlashes: false`, a pattern ending in `*` or a class also matches the value with one trailing
/// slash; other endings do not.
#[test]
fn trailing_slash() {
    check_table(&[
        ("/app/*", "/app/x/", true),
        ("/app/*", "/app/x//", false),
        ("/app/x", "/app/x/", false),
        ("/app/[ab]", "/app/a/", true),
        ("*", "a/", true),
        ("/app/*/", "/app/x", false),
        ("/app/**", "/app/x/", true),
        ("/app/?", "/app/x/", false),
    ]);
}

/// Braces are alternatives; ranges are not expanded but become classes, so `{1..10}` is `[1-10]`.
#[test]
fn braces_and_ranges() {
    check_table(&[
        ("/{a,b}/x", "/a/x", true),
        ("/{a,b}/x", "/c/x", false),
        ("/app/{1..5}", "/app/3", true),
        ("/app/{1..5}", "/app/6", false),
        ("{a..c}", "b", true),
        ("{a..c}", "d", false),
        ("{1..10}", "1", true),
        ("{1..10}", "10", false),
        ("{1..10}", "5", false),
        ("/app/{01..10}", "/app/05", false),
        ("{a,b{c,d}}", "bd", true),
        ("{a,b{c,d}}", "b", false),
        ("/app/{,x}", "/app/", true),
        ("/app/{,x}", "/app/x", true),
        ("{a", "{a", true),
        ("{a", "a", false),
        ("{1..3}{a..b}", "2b", true),
    ]);
    assert_eq!(regex_source("/app/{1..3}"), r"^(?:\/app\/[1-3])$");
}

/// Extglobs, negated ones included, and negation of the whole pattern with leading `!`s.
#[test]
fn extglobs_and_negation() {
    check_table(&[
        ("/app/!(x)", "/app/y", true),
        ("/app/!(x)", "/app/x", false),
        ("/app/!(x)", "/app/xy", true),
        ("!(*.d).ts", "a.d.ts", false),
        ("!(*.d).ts", "a.ts", true),
        ("@(a|b)", "a", true),
        ("@(a|b)", "ab", false),
        ("+(a)", "aaa", true),
        ("+(a)", "b", false),
        ("*(a)", "aa", true),
        ("?(a)", "aa", false),
        ("?(a)b", "b", true),
        ("!(!(a))", "a", true),
        ("!(a|b)", "c", true),
        ("!(a|b)", "b", false),
        ("*(a|aa)", "aaaa", false),
        ("!/app/**", "/other", true),
        ("!/app/**", "/app/x", false),
        ("!!/app/*", "/app/x", true),
        ("!!!/app/*", "/app/x", false),
    ]);
    assert_eq!(regex_source("!(x)"), r"^(?:(?=.)(?:(?!(?:x)$))[^/]*?)$");
    assert_eq!(regex_source("!/app/*"), r"^(?!^(?:\/app\/(?!\.)(?=.)[^/]*?\/?)$).*$");
}

/// Classes, negated with `!` or `^`, POSIX classes, and the literal fallbacks of malformed ones.
#[test]
fn character_classes() {
    check_table(&[
        ("[abc]", "b", true),
        ("[abc]", "d", false),
        ("[!a]", "a", true),
        ("[!a]", "b", false),
        ("[^a]", "b", true),
        ("[^a]", "/", false),
        ("[!a]", "/", false),
        ("[[:alpha:]]", "Q", true),
        ("[[:alpha:]]", "1", false),
        ("[[:digit:]]", "7", true),
        ("[[:space:]]", " ", true),
        ("[[:upper:][:lower:]]", "q", true),
        ("[[:xdigit:]]", "g", false),
        ("[[:punct:]]", "!", true),
        ("[[:cntrl:]]", "\u{1}", true),
        ("[[:ascii:]]", "é", false),
        ("[a-z]", "/", false),
        ("[/]", "/", true),
        ("[z-a]", "b", false),
        ("[]]", "]", true),
        ("[a-", "a-", false),
        ("[a-", "[a-", true),
    ]);
    assert_eq!(regex_source("[/]x"), r"^(?:(?:\[\/\]|[/])x)$");
    assert_eq!(regex_source("[\n]"), r"^(?:(?:\[\n\]|[\n])\/?)$");
}

/// Backslash escapes in the glob, and escapes that reach the regular expression as JavaScript escapes.
#[test]
fn escapes() {
    check_table(&[
        ("\\*", "*", true),
        ("\\*", "a", false),
        ("/app/\\?", "/app/?", true),
        ("/app/\\?", "/app/x", false),
        ("a\\\\b", "a\\b", true),
        ("\\[a]", "[a]", true),
        ("\\[a]", "a", false),
        ("\\01", "\u{1}", true),
        ("\\x41", "A", true),
        ("\\cA", "\u{1}", true),
        ("a\\1", "a\u{1}", true),
        ("/a(b)c", "/abc", true),
        ("/a+b", "/a+b", true),
        ("/a+b", "/aab", false),
        ("/a|b", "/a|b", true),
        ("/a|b", "b", true),
        ("a$b^", "a$b^", true),
        ("a.b", "axb", false),
    ]);
    assert_eq!(regex_source("a\nb"), r"^(?:^(?:a\nb)$)$");
    assert_eq!(regex_source("a\\\nb"), r"^(?:^(?:a\nb)$)$");
    assert_eq!(regex_source("\u{2028}"), r"^(?:^(?:\u2028)$)$");
}

/// picomatch answers `true` for a value equal to the pattern before it consults the regex, and `false` for
/// an empty value.
#[test]
fn pattern_itself_and_empty_value() {
    check_table(&[
        ("[a-z]", "[a-z]", true),
        ("[z-a]", "[z-a]", true),
        ("{1..10}", "{1..10}", true),
        ("a{2}", "a{2}", true),
        ("a{2}", "aa", false),
        ("*", "", false),
        ("**", "", false),
        ("!x", "", false),
    ]);
    // `[z-a]` is not a valid JavaScript regex: picomatch falls back to one that never matches.
    assert_eq!(regex_source("[z-a]"), "$^");
    assert_eq!(regex_source(""), "");
    assert!(!is_match("", ""));
}

/// Values are sequences of UTF-16 code units: `?` takes one unit, half of `😀`. picomatch escapes the two
/// halves of `😀` separately, which leaves lone surrogates in the source.
#[test]
fn utf16_units_and_lone_surrogates() {
    check_table(&[
        ("?", "😀", false),
        ("??", "😀", true),
        ("[😀]", "😀", false),
        ("?😀", "x😀", true),
        ("😀*", "😀x", true),
        ("\\😀", "😀", true),
        ("/日本/*", "/日本/x", true),
        ("é*", "éa", true),
    ]);
    assert_eq!(regex_source("😀"), r"^(?:^(?:\ud83d\ude00)$)$");
    assert_eq!(regex_source("?😀"), r"^(?:^(?:[^.\/]\ud83d\ude00)$)$");
}

/// The length limit counts UTF-16 units; picomatch throws for longer patterns, and nothing matches them.
#[test]
fn pattern_length_limit() {
    use super::MAX_PATTERN_LENGTH;
    let filler = "x".repeat(MAX_PATTERN_LENGTH - 6);
    let at_limit = format!("/app/{filler}*");
    assert_eq!(at_limit.len(), MAX_PATTERN_LENGTH);
    assert_eq!(regex_source(&at_limit), format!(r"^(?:\/app\/{filler}[^/]*?\/?)$"));
    assert!(is_match(&at_limit, &at_limit));
    let over = format!("{at_limit}*");
    assert_eq!(regex_source(&over), "");
    assert!(!is_match(&over, &over));

    // 32,768 characters, 65,536 units.
    let emoji = "😀".repeat(MAX_PATTERN_LENGTH / 2);
    assert!(is_match(&emoji, &emoji));
    assert!(!regex_source(&emoji).is_empty());
    let over = format!("{emoji}*");
    assert_eq!(regex_source(&over), "");
    assert!(!is_match(&over, &format!("{emoji}a")));

    // A long pattern that V8 still compiles, matched through its regex.
    let long = format!("/app/{}*", "x".repeat(20_000));
    assert!(is_match(&long, &format!("/app/{}yz", "x".repeat(20_000))));
    assert!(!is_match(&long, &format!("/app/{}yz", "x".repeat(19_999))));
}

/// Pieces of random patterns: path text, glob metacharacters, and regex syntax that reaches the generated source.
#[rustfmt::skip]
const TOKENS: &[&str] = &[
    "/", "/", "/", "a", "b", "x", "app", "db", ".", ".", "*", "*", "**", "?", "[", "]", "[!", "[^", "-", "{", "}", ",",
    "..", "(", ")", "|", "!", "@(", "+(", "*(", "?(", "!(", "\\", "\\*", "$", "^", "+", "[:alpha:]", "[[:digit:]]",
    "1", "9", "é", "😀", " ", "\"", "~", ":", "=", "<", "0", "\\\\", "((", "))", "{1..3}", "(?", "(?<", "(?=", "(?!",
    "\\1", "\\b", "\\x4", "\\u00", "\\c", "{2}", "{1,}", "\n", "\u{2028}", "\0",
];

/// A random pattern: token soup, deep nesting, nested extglobs, runs of stars, brace lists and huge ranges.
fn random_pattern(rng: &mut Rng) -> String {
    let soup = |rng: &mut Rng, length: usize| (0..length).map(|_| *rng.pick(TOKENS)).collect::<String>();
    match rng.below(10) {
        0..=3 => {
            let length = 1 + rng.below(16);
            soup(rng, length)
        }
        4 => {
            // Thousands of levels only for the openers picomatch handles in linear time: closing nested braces
            // and extglobs re-reads what they enclose, quadratic and cubic work in picomatch as well.
            let (depth, open) = match rng.below(50) {
                0 => (rng.below(12_000), *rng.pick(&["(", "[", "(?:", "(?="])),
                1..=10 => (rng.below(400), *rng.pick(&["(", "@(", "+(", "*(", "!(", "?(", "{", "[", "(?:", "(?="])),
                _ => (rng.below(40), *rng.pick(&["(", "@(", "+(", "*(", "!(", "?(", "{", "[", "(?:", "(?="])),
            };
            let depth = depth + 1;
            let closing = rng.below(depth + 3);
            let close = if open == "{" {
                "}"
            } else if open == "[" {
                "]"
            } else {
                ")"
            };
            let length = 1 + rng.below(4);
            let middle = soup(rng, length);
            format!("{}{middle}{}", open.repeat(depth), close.repeat(closing))
        }
        5 => {
            let mut pattern = rng.pick(&["a", "*", "a*", "?", "[ab]", "**", "a|aa", "x/y"]).to_string();
            for _ in 0..1 + rng.below(6) {
                let operator = rng.pick(&["!", "@", "+", "*", "?"]);
                let length = 1 + rng.below(3);
                let other = if rng.chance(50) { format!("|{}", soup(rng, length)) } else { String::new() };
                pattern = format!("{operator}({pattern}{other})");
                if rng.chance(30) {
                    pattern = pattern.repeat(2);
                }
            }
            pattern
        }
        6 => {
            let unit = rng.pick(&["*", "**", "**/", "*/", "a*", "*a", "?*", "*(a)", "+(a|aa)", "/**/x", "*.", "[!a]*"]);
            let long = rng.chance(20);
            let count = 1 + rng.below(if long { 48 } else { 16 });
            format!("{}{}", unit.repeat(count), rng.pick(&["", "b", "/", ".js", "**"]))
        }
        7 => {
            let bound = |rng: &mut Rng| match rng.below(5) {
                0 => rng.below(10).to_string(),
                1 => (rng.next() % 1_000_000_000).to_string(),
                2 => format!("-{}", rng.below(1000)),
                3 => rng.pick(&["a", "z", "A", "Z", "é", "😀", "0", "00", "007"]).to_string(),
                _ => "100000".to_string(),
            };
            let (low, high) = (bound(rng), bound(rng));
            let step = if rng.chance(30) { format!("..{}", rng.below(20)) } else { String::new() };
            format!("{}{{{low}..{high}{step}}}{}", rng.pick(&["", "/", "a"]), rng.pick(&["", "*", "/**", "{a..c}"]))
        }
        8 => {
            let count = 1 + rng.below(40);
            let items: Vec<String> = (0..count)
                .map(|_| {
                    let length = 1 + rng.below(3);
                    soup(rng, length)
                })
                .collect();
            format!("/{{{}}}/**", items.join(","))
        }
        _ => {
            let length = 1 + rng.below(6);
            format!("{}{}", rng.pick(&["!", "!!", "./", "/", "**/", "\\"]), soup(rng, length))
        }
    }
}

/// A value: random text over path characters and metacharacters, or the pattern itself, stripped or extended.
fn random_value(rng: &mut Rng, pattern: &str) -> String {
    const UNITS: &[&str] =
        &["a", "b", "x", "/", "/", ".", "-", "1", "é", "😀", "*", "?", "[", "]", "(", ")", "\n", " "];
    match rng.below(4) {
        0 => pattern.to_string(),
        1 => pattern.chars().filter(|c| !"*?[]{}()!@+|\\".contains(*c)).collect(),
        2 => format!("{pattern}{}", rng.pick(&["/x", "/", "a", ".env", "/.git/x"])),
        _ => {
            let length = rng.below(40);
            (0..length).map(|_| *rng.pick(UNITS)).collect()
        }
    }
}

/// A guard against catastrophic backtracking and unbounded work, not a benchmark: thousands of random
/// patterns (unbalanced brackets, deep nesting, runs of stars, huge ranges, nested extglobs) and values,
/// through the glob compiler, the matcher, `regex_source` and the linter's `glob_language`. Nothing may
/// panic, and no single step may take more than two seconds, even unoptimised.
///
/// The matcher decides a regex without back-references in polynomial time, and backtracks under a step budget
/// otherwise (reporting no match when the budget is spent, where V8 would backtrack on for exponential time).
/// picomatch's own compiler is quadratic in nested braces and cubic in nested `+(`/`*(` extglobs (the port
/// is the same, and faster than the original), so the generator nests those hundreds of levels deep, not
/// thousands.
#[test]
fn random_patterns_neither_panic_nor_blow_up() {
    use std::time::{Duration, Instant};
    const LIMIT: Duration = Duration::from_secs(2);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let timed = |what: &str, pattern: &str, step: &mut dyn FnMut()| {
        let start = Instant::now();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(&mut *step));
        let elapsed = start.elapsed();
        assert!(outcome.is_ok(), "{what} panicked on {pattern}");
        assert!(elapsed < LIMIT, "{what} took {elapsed:?} on {pattern}");
    };
    for _ in 0..2_000 {
        let pattern = random_pattern(&mut rng);
        let values: Vec<String> = (0..4).map(|_| random_value(&mut rng, &pattern)).collect();
        let shown = format!("{pattern:?}");
        timed("regex_source", &shown, &mut || {
            regex_source(&pattern);
        });
        let mut glob = None;
        timed("Glob::new", &shown, &mut || glob = Some(Glob::new(&pattern)));
        let glob = glob.unwrap();
        for value in &values {
            timed("is_match", &format!("{pattern:?} on {value:?}"), &mut || {
                glob.is_match(value);
            });
        }
        let mut language = None;
        timed("glob_language", &shown, &mut || language = crate::scope::glob_language(&pattern).ok());
        // Membership by derivatives costs more than the matcher (each step rewrites the whole state); the
        // linter builds automata instead, so only short patterns and values are tried here.
        let short = |text: &str| text.encode_utf16().count() <= 48;
        if let Some(language) = language.filter(|_| short(&pattern)) {
            for value in values.iter().filter(|it| short(it)) {
                timed("Lang::contains", &format!("{pattern:?} on {value:?}"), &mut || {
                    language.contains(value);
                });
            }
        }
    }
}
