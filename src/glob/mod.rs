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
pub fn is_match(pattern: &str, value: &str) -> bool {
    !pattern.is_empty() && Glob::new(pattern).is_match(value)
}

/// The regular-expression source picomatch compiles `pattern` to (`makeRe(pattern, { strictSlashes: false
/// }).source`): `$^` when the generated source is not a valid JavaScript regex, and an empty string when
/// picomatch refuses the pattern (empty or too long). Lone surrogates are shown as U+FFFD.
pub fn regex_source(pattern: &str) -> String {
    let units: Vec<u16> = pattern.encode_utf16().collect();
    match source::make_re(&units) {
        None => String::new(),
        Some(source) => match regex::Regex::parse(&source) {
            Err(error) if error.0 != regex::NESTED_TOO_DEEPLY => "$^".to_string(),
            _ => String::from_utf16_lossy(&source),
        },
    }
}
