//! `$glob` patterns exactly as Infisical evaluates them: picomatch 3.0.2's
//! `isMatch(value, pattern, { strictSlashes: false })` on Linux, and no match for an empty pattern.
//!
//! A pattern is compiled in two stages, like picomatch does it:
//!
//! 1. [`source`] turns the glob into the source of a JavaScript regular expression, reproducing picomatch's
//!    generator unit for unit (brace expansion and ranges, extglobs, classes, escapes, the `**` and dot
//!    rules, the optional trailing `\/?`).
//! 2. [`regex`] parses that source with JavaScript's rules and decides whether it matches the value. A
//!    source JavaScript would reject makes picomatch fall back to a regex that never matches.
//!
//! picomatch answers `true` when the value equals the pattern verbatim and `false` for an empty value before
//! any regex is consulted; [`Glob::is_match`] does the same.
//!
//! `src/glob/tests.rs` compares both stages with picomatch's own answers (`tests/data/picomatch-oracle.jsonl`).
//! Where V8 itself gives no answer the port cannot follow it:
//!
//! - V8 compiles a regex at its first use, and throws then for one it cannot compile (tens of thousands of
//!   consecutive characters, thousands of nested groups: "Regular expression too large", "Stack overflow"),
//!   which makes `isMatch` throw. permc answers as if the regex had compiled.
//! - Groups nested deeper than 256 levels are treated as an invalid regex here (only the pattern itself
//!   matches), though V8 accepts thousands.
//! - With back-references V8 may backtrack for exponential time; the matcher stops after a step budget and
//!   reports no match.

mod regex;
mod source;

#[cfg(test)]
mod tests;

/// The longest pattern Infisical accepts (picomatch's `MAX_LENGTH`, counted in UTF-16 units).
pub const MAX_PATTERN_LENGTH: usize = 65_536;

const _: () = assert!(MAX_PATTERN_LENGTH == source::MAX_LENGTH);

#[derive(Clone, Debug)]
enum Compiled {
    /// picomatch throws for the pattern (too long): nothing matches.
    Rejected,
    /// The generated source is not a valid JavaScript regex: only the pattern itself matches.
    Invalid,
    Regex(regex::Regex),
}

/// A compiled pattern: compile once, match many values.
#[derive(Clone, Debug)]
pub struct Glob {
    pattern: Vec<u16>,
    compiled: Compiled,
}

impl Glob {
    pub fn new(pattern: &str) -> Glob {
        let units: Vec<u16> = pattern.encode_utf16().collect();
        let compiled = match source::make_re(&units) {
            None => Compiled::Rejected,
            Some(source) => match regex::Regex::parse(&source) {
                Ok(regex) => Compiled::Regex(regex),
                Err(_) => Compiled::Invalid,
            },
        };
        Glob { pattern: units, compiled }
    }

    /// Whether `value` matches (picomatch `isMatch(value, pattern, { strictSlashes: false })`).
    pub fn is_match(&self, value: &str) -> bool {
        if matches!(self.compiled, Compiled::Rejected) || value.is_empty() {
            return false;
        }
        let units: Vec<u16> = value.encode_utf16().collect();
        if units == self.pattern {
            return true;
        }
        match &self.compiled {
            Compiled::Regex(regex) => regex.test(&units),
            Compiled::Rejected | Compiled::Invalid => false,
        }
    }
}

/// Whether `value` matches `pattern`; an empty pattern matches nothing.
///
/// Patterns are compiled once per thread, and their answers remembered: evaluation asks about the same few
/// thousand patterns and values of a repository again and again.
pub fn is_match(pattern: &str, value: &str) -> bool {
    use std::cell::Cell;
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::rc::Rc;
    /// The most patterns, and answers in all, kept per thread; past either the cache starts afresh.
    const PATTERNS: usize = 16_384;
    const ANSWERS: usize = 1 << 18;
    type Answers = RefCell<HashMap<String, bool, crate::lang::FxBuild>>;
    type Cache = HashMap<String, Rc<(Glob, Answers)>, crate::lang::FxBuild>;
    thread_local! {
        static COMPILED: RefCell<Cache> = RefCell::new(HashMap::default());
        static KEPT: Cell<usize> = const { Cell::new(0) };
    }
    if pattern.is_empty() {
        return false;
    }
    let compiled = COMPILED.with(|cache| {
        if let Some(found) = cache.borrow().get(pattern) {
            return found.clone();
        }
        let compiled = Rc::new((Glob::new(pattern), Answers::default()));
        let mut cache = cache.borrow_mut();
        if cache.len() >= PATTERNS || KEPT.get() >= ANSWERS {
            cache.clear();
            KEPT.set(0);
        }
        cache.insert(pattern.to_owned(), compiled.clone());
        compiled
    });
    let (glob, answers) = &*compiled;
    if let Some(&answer) = answers.borrow().get(value) {
        return answer;
    }
    let answer = glob.is_match(value);
    if KEPT.get() < ANSWERS {
        answers.borrow_mut().insert(value.to_owned(), answer);
        KEPT.set(KEPT.get() + 1);
    }
    answer
}

/// The regular-expression source picomatch compiles `pattern` to, as JavaScript shows it: `makeRe(pattern, {
/// strictSlashes: false }).source`. That is `$^` when the generated source is not a valid JavaScript regex, and
/// an empty string when picomatch refuses the pattern (empty or too long).
///
/// `source` escapes what the regex literal syntax needs escaped (a `/` outside classes, line terminators). A
/// string cannot hold the halves of a surrogate pair that picomatch may separate (it escapes each unit of `😀`
/// on its own), so an unpaired surrogate is written as a `\uXXXX` escape, which JavaScript reads as the same
/// unit.
pub fn regex_source(pattern: &str) -> String {
    let units: Vec<u16> = pattern.encode_utf16().collect();
    match source::make_re(&units) {
        None => String::new(),
        Some(source) => match regex::Regex::parse(&source) {
            Err(error) if error.0 != regex::NESTED_TOO_DEEPLY => "$^".to_string(),
            _ => render_source(&escape_source(&source)),
        },
    }
}

/// What `RegExp.prototype.source` makes of a source (V8's `EscapeRegExpSource`): a `/` outside a class
/// gets a backslash, line terminators become `\n`, `\r`, `\u2028` and `\u2029` (dropping a backslash
/// that escaped them).
fn escape_source(source: &[u16]) -> Vec<u16> {
    if source.is_empty() {
        return "(?:)".encode_utf16().collect();
    }
    let is_line_terminator = |c: u16| matches!(c, 0x0a | 0x0d | 0x2028 | 0x2029);
    let mut out = Vec::with_capacity(source.len() + 8);
    let mut in_class = false;
    let mut at = 0;
    while at < source.len() {
        let c = source[at];
        if c == u16::from(b'\\') {
            if source.get(at + 1).is_some_and(|&next| is_line_terminator(next)) {
                at += 1;
                continue;
            }
            out.push(c);
            at += 1;
            if at == source.len() {
                break;
            }
        } else if c == u16::from(b'/') && !in_class {
            out.push(u16::from(b'\\'));
        } else if c == u16::from(b'[') {
            in_class = true;
        } else if c == u16::from(b']') {
            in_class = false;
        } else if is_line_terminator(c) {
            let escaped = match c {
                0x0a => "\\n",
                0x0d => "\\r",
                0x2028 => "\\u2028",
                _ => "\\u2029",
            };
            out.extend(escaped.encode_utf16());
            at += 1;
            continue;
        }
        out.push(source[at]);
        at += 1;
    }
    out
}

/// A source as a string: each unpaired surrogate becomes a `\uXXXX` escape, replacing the backslash of an
/// identity escape in front of it (`\` before a lone surrogate means the surrogate itself).
fn render_source(source: &[u16]) -> String {
    let lone = |at: usize| -> bool {
        let c = source[at];
        match c {
            0xd800..=0xdbff => !source.get(at + 1).is_some_and(|next| (0xdc00..=0xdfff).contains(next)),
            0xdc00..=0xdfff => !(at > 0 && (0xd800..=0xdbff).contains(&source[at - 1])),
            _ => false,
        }
    };
    let mut out = String::with_capacity(source.len());
    let mut run = Vec::new();
    let mut at = 0;
    while at < source.len() {
        let escaped_lone = source[at] == u16::from(b'\\') && at + 1 < source.len() && lone(at + 1);
        if escaped_lone || lone(at) {
            out.push_str(&String::from_utf16_lossy(&run));
            run.clear();
            let unit = source[at + usize::from(escaped_lone)];
            out.push_str(&format!("\\u{unit:04x}"));
            at += 1 + usize::from(escaped_lone);
            continue;
        }
        run.push(source[at]);
        if source[at] == u16::from(b'\\') && at + 1 < source.len() {
            run.push(source[at + 1]);
            at += 1;
        }
        at += 1;
    }
    out.push_str(&String::from_utf16_lossy(&run));
    out
}
