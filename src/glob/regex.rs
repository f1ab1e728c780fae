//! A matcher for JavaScript regular expressions (no flags, so no `u`: the input is a sequence of UTF-16
//! code units), covering the syntax glob patterns compile to: literals and escapes, classes, `.`, groups
//! (capturing, named, non-capturing), lookahead and lookbehind, alternation, greedy and lazy quantifiers,
//! `^`, `$`, `\b`, `\B` and back-references.
//!
//! Parsing follows the ECMAScript grammar with the web-compatibility rules of Annex B, and rejects what V8
//! rejects (`Nothing to repeat`, `Range out of order`, unterminated groups or classes, invalid named
//! references, more than 32,767 captures).
//!
//! Only `test()` matters here: whether some match exists. Without back-references that is decided exactly
//! in polynomial time by computing, for each node and start position, the set of end positions it can
//! reach (memoized); lookarounds are sub-questions of the same kind. A loop whose body always consumes one
//! code unit (`[^/]*?`, the `**` body, `(?:a|b)*`) reaches a range of positions, read off the run of
//! positions its body matches at, so runs of stars and globstars cost no iteration per character. A pattern
//! with back-references is run by a backtracking search instead. Two limits keep the work bounded, and a
//! match is reported as absent when one is hit: groups nested deeper than [`MAX_DEPTH`] and a step budget
//! ([`MAX_STEPS`]). Neither is reached by a glob shorter than several hundred characters.

use std::collections::HashMap;
use std::rc::Rc;

use crate::bits::Bits;
use crate::lang::FxBuild;

/// How deeply groups may nest.
pub(crate) const MAX_DEPTH: usize = 256;
/// How many elementary matching steps one `test()` may take.
pub(crate) const MAX_STEPS: u64 = 20_000_000;
/// The error for groups nested deeper than [`MAX_DEPTH`], which JavaScript itself accepts.
pub(crate) const NESTED_TOO_DEEPLY: &str = "nested too deeply";
/// V8's limit on capturing groups.
const MAX_CAPTURES: usize = 32_767;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Error(pub(crate) &'static str);

#[derive(Debug, Clone)]
struct Class {
    /// Sorted, non-overlapping, inclusive.
    ranges: Vec<(u16, u16)>,
    negated: bool,
}

impl Class {
    fn new(mut ranges: Vec<(u16, u16)>, negated: bool) -> Class {
        ranges.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
        for (low, high) in ranges {
            match merged.last_mut() {
                Some(last) if u32::from(low) <= u32::from(last.1) + 1 => last.1 = last.1.max(high),
                _ => merged.push((low, high)),
            }
        }
        Class { ranges: merged, negated }
    }

    fn contains(&self, c: u16) -> bool {
        let inside = self
            .ranges
            .binary_search_by(|&(low, high)| {
                if high < c {
                    std::cmp::Ordering::Less
                } else if low > c {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok();
        inside != self.negated
    }
}

fn complement(ranges: &[(u16, u16)]) -> Vec<(u16, u16)> {
    let class = Class::new(ranges.to_vec(), false);
    let mut out = Vec::new();
    let mut next: u32 = 0;
    for &(low, high) in &class.ranges {
        if u32::from(low) > next {
            out.push((next as u16, low - 1));
        }
        next = u32::from(high) + 1;
    }
    if next <= 0xffff {
        out.push((next as u16, 0xffff));
    }
    out
}

const DIGIT: &[(u16, u16)] = &[(0x30, 0x39)];
const WORD: &[(u16, u16)] = &[(0x30, 0x39), (0x41, 0x5a), (0x5f, 0x5f), (0x61, 0x7a)];
const SPACE: &[(u16, u16)] = &[
    (0x09, 0x0d),
    (0x20, 0x20),
    (0xa0, 0xa0),
    (0x1680, 0x1680),
    (0x2000, 0x200a),
    (0x2028, 0x2029),
    (0x202f, 0x202f),
    (0x205f, 0x205f),
    (0x3000, 0x3000),
    (0xfeff, 0xfeff),
];
const LINE_TERMINATORS: &[(u16, u16)] = &[(0x0a, 0x0a), (0x0d, 0x0d), (0x2028, 0x2029)];

fn class_escape(c: u16) -> Option<Vec<(u16, u16)>> {
    Some(match c {
        0x64 => DIGIT.to_vec(),
        0x44 => complement(DIGIT),
        0x77 => WORD.to_vec(),
        0x57 => complement(WORD),
        0x73 => SPACE.to_vec(),
        0x53 => complement(SPACE),
        _ => return None,
    })
}

fn is_word_unit(c: u16) -> bool {
    WORD.iter().any(|&(low, high)| low <= c && c <= high)
}

#[derive(Debug, Clone)]
enum Node {
    Empty,
    Unit(u16),
    Class(Class),
    Seq(Vec<usize>),
    Alt(Vec<usize>),
    Group { node: usize, capture: Option<usize> },
    Look { behind: bool, negated: bool, node: usize },
    Repeat { node: usize, min: u64, max: Option<u64>, lazy: bool, captures: (usize, usize) },
    Start,
    End,
    WordBoundary { negated: bool },
    BackRef(usize),
}

/// A compiled regular expression.
#[derive(Debug, Clone)]
pub(crate) struct Regex {
    nodes: Vec<Node>,
    /// The number of code units each node always consumes, when that is fixed.
    widths: Vec<Option<u64>>,
    root: usize,
    captures: usize,
    has_backrefs: bool,
}

struct Parser<'a> {
    src: &'a [u16],
    at: usize,
    nodes: Vec<Node>,
    captures_total: usize,
    captures_seen: usize,
    names: Vec<Vec<u16>>,
    has_backrefs: bool,
    depth: usize,
}

fn c(ch: char) -> u16 {
    ch as u16
}

fn is_digit(ch: u16) -> bool {
    (0x30..=0x39).contains(&ch)
}

fn hex_value(ch: u16) -> Option<u16> {
    match ch {
        0x30..=0x39 => Some(ch - 0x30),
        0x41..=0x46 => Some(ch - 0x41 + 10),
        0x61..=0x66 => Some(ch - 0x61 + 10),
        _ => None,
    }
}

fn is_ascii_letter(ch: u16) -> bool {
    (0x41..=0x5a).contains(&ch) || (0x61..=0x7a).contains(&ch)
}

fn is_identifier_unit(ch: u16, first: bool) -> bool {
    is_ascii_letter(ch) || ch == c('$') || ch == c('_') || (!first && is_digit(ch)) || ch >= 0x80
}

/// Group names and the number of capturing groups, scanned ahead like V8 does.
fn scan_groups(src: &[u16]) -> (usize, Vec<Vec<u16>>) {
    let mut count = 0;
    let mut names = Vec::new();
    let mut i = 0;
    let mut in_class = false;
    while i < src.len() {
        let ch = src[i];
        if ch == c('\\') {
            i += 2;
            continue;
        }
        if in_class {
            if ch == c(']') {
                in_class = false;
            }
        } else if ch == c('[') {
            in_class = true;
        } else if ch == c('(') {
            if src.get(i + 1) != Some(&c('?')) {
                count += 1;
            } else if src.get(i + 2) == Some(&c('<')) && src.get(i + 3).is_some_and(|&it| it != c('=') && it != c('!'))
            {
                count += 1;
                let start = i + 3;
                let mut end = start;
                while end < src.len() && src[end] != c('>') {
                    end += 1;
                }
                names.push(src[start..end].to_vec());
            }
        }
        i += 1;
    }
    (count, names)
}

enum ClassAtom {
    Unit(u16),
    Set(Vec<(u16, u16)>),
}

/// How many code units each node always consumes (`None` when that varies). Children are added before their
/// parents, so one pass in order sees every child first.
fn widths(nodes: &[Node]) -> Vec<Option<u64>> {
    let mut widths: Vec<Option<u64>> = Vec::with_capacity(nodes.len());
    for node in nodes {
        let width = match node {
            Node::Empty | Node::Start | Node::End | Node::WordBoundary { .. } | Node::Look { .. } => Some(0),
            Node::Unit(_) | Node::Class(_) => Some(1),
            Node::Seq(children) => children.iter().try_fold(0u64, |sum, &child| sum.checked_add(widths[child]?)),
            Node::Alt(children) => {
                let first = widths[children[0]];
                children.iter().all(|&child| widths[child] == first).then_some(first).flatten()
            }
            Node::Group { node, .. } => widths[*node],
            Node::Repeat { node, min, max, .. } => match widths[*node] {
                Some(0) => Some(0),
                Some(width) if *max == Some(*min) => width.checked_mul(*min),
                _ => None,
            },
            Node::BackRef(_) => None,
        };
        widths.push(width);
    }
    widths
}

impl Regex {
    /// Parses `src` as a JavaScript regex without flags.
    pub(crate) fn parse(src: &[u16]) -> Result<Regex, Error> {
        let (captures_total, names) = scan_groups(src);
        let mut parser = Parser {
            src,
            at: 0,
            nodes: Vec::new(),
            captures_total,
            captures_seen: 0,
            names: Vec::new(),
            has_backrefs: false,
            depth: 0,
        };
        let _ = names;
        let root = parser.disjunction()?;
        if parser.at < src.len() {
            // Only an unmatched `)` stops the top level early.
            return Err(Error("Unmatched ')'"));
        }
        if parser.captures_seen > MAX_CAPTURES {
            return Err(Error("Too many captures"));
        }
        let widths = widths(&parser.nodes);
        Ok(Regex {
            nodes: parser.nodes,
            widths,
            root,
            captures: parser.captures_seen,
            has_backrefs: parser.has_backrefs,
        })
    }

    /// Whether `node` always matches exactly one code unit: a unit, a class, or groups and alternatives of
    /// those.
    fn is_one_unit(&self, node: usize) -> bool {
        match &self.nodes[node] {
            Node::Unit(_) | Node::Class(_) => true,
            Node::Group { node, .. } => self.is_one_unit(*node),
            Node::Alt(children) => children.iter().all(|&child| self.is_one_unit(child)),
            _ => false,
        }
    }

    /// Whether a node of [`Regex::is_one_unit`] matches `unit`.
    fn one_unit_matches(&self, node: usize, unit: u16) -> bool {
        match &self.nodes[node] {
            Node::Unit(it) => *it == unit,
            Node::Class(class) => class.contains(unit),
            Node::Group { node, .. } => self.one_unit_matches(*node, unit),
            Node::Alt(children) => children.iter().any(|&child| self.one_unit_matches(child, unit)),
            _ => false,
        }
    }

    /// Whether the expression matches somewhere in `input` (`RegExp.prototype.test`).
    pub(crate) fn test(&self, input: &[u16]) -> bool {
        if self.has_backrefs {
            let mut search = Backtrack { re: self, input, steps: 0, depth: 0, aborted: false };
            let mut caps = vec![None; self.captures + 1];
            (0..=input.len())
                .any(|start| !search.aborted && search.run(self.root, start, &mut caps, &mut |_, _, _| true))
                && !search.aborted
        } else {
            let mut sets =
                Sets { re: self, input, memo: HashMap::default(), runs: HashMap::default(), steps: 0, aborted: false };
            let found = (0..=input.len()).any(|start| !sets.ends(self.root, start).is_empty());
            found && !sets.aborted
        }
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<u16> {
        self.src.get(self.at).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u16> {
        self.src.get(self.at + offset).copied()
    }

    fn add(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    fn disjunction(&mut self) -> Result<usize, Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error(NESTED_TOO_DEEPLY));
        }
        let mut alternatives = vec![self.alternative()?];
        while self.peek() == Some(c('|')) {
            self.at += 1;
            alternatives.push(self.alternative()?);
        }
        self.depth -= 1;
        Ok(if alternatives.len() == 1 { alternatives[0] } else { self.add(Node::Alt(alternatives)) })
    }

    fn alternative(&mut self) -> Result<usize, Error> {
        let mut terms = Vec::new();
        while let Some(ch) = self.peek() {
            if ch == c('|') || ch == c(')') {
                break;
            }
            terms.push(self.term()?);
        }
        Ok(match terms.len() {
            0 => self.add(Node::Empty),
            1 => terms[0],
            _ => self.add(Node::Seq(terms)),
        })
    }

    /// `{n}`, `{n,}` or `{n,m}` at the current position: (min, max, length).
    fn braced_quantifier(&self) -> Option<(u64, Option<u64>, usize)> {
        let src = &self.src[self.at..];
        if src.first() != Some(&c('{')) {
            return None;
        }
        let number = |from: usize| -> (u64, usize) {
            let mut value: u64 = 0;
            let mut i = from;
            while i < src.len() && is_digit(src[i]) {
                value = (value * 10 + u64::from(src[i] - 0x30)).min(i32::MAX as u64);
                i += 1;
            }
            (value, i)
        };
        let (min, i) = number(1);
        if i == 1 {
            return None;
        }
        match src.get(i) {
            Some(&ch) if ch == c('}') => Some((min, Some(min), i + 1)),
            Some(&ch) if ch == c(',') => {
                if src.get(i + 1) == Some(&c('}')) {
                    return Some((min, None, i + 2));
                }
                let (max, j) = number(i + 1);
                if j == i + 1 || src.get(j) != Some(&c('}')) {
                    return None;
                }
                Some((min, Some(max), j + 1))
            }
            _ => None,
        }
    }

    fn term(&mut self) -> Result<usize, Error> {
        let ch = self.peek().ok_or(Error("unexpected end"))?;
        // Assertions.
        if ch == c('^') {
            self.at += 1;
            return Ok(self.add(Node::Start));
        }
        if ch == c('$') {
            self.at += 1;
            return Ok(self.add(Node::End));
        }
        if ch == c('\\') && (self.peek_at(1) == Some(c('b')) || self.peek_at(1) == Some(c('B'))) {
            let negated = self.peek_at(1) == Some(c('B'));
            self.at += 2;
            return Ok(self.add(Node::WordBoundary { negated }));
        }
        if ch == c('(') && self.peek_at(1) == Some(c('?')) {
            let third = self.peek_at(2);
            let fourth = self.peek_at(3);
            let look = if third == Some(c('=')) || third == Some(c('!')) {
                Some((false, third == Some(c('!')), 3))
            } else if third == Some(c('<')) && (fourth == Some(c('=')) || fourth == Some(c('!'))) {
                Some((true, fourth == Some(c('!')), 4))
            } else {
                None
            };
            if let Some((behind, negated, length)) = look {
                self.at += length;
                let node = self.disjunction()?;
                if self.peek() != Some(c(')')) {
                    return Err(Error("Unterminated group"));
                }
                self.at += 1;
                let look = self.add(Node::Look { behind, negated, node });
                if behind {
                    if matches!(self.peek(), Some(0x2a | 0x2b | 0x3f)) || self.braced_quantifier().is_some() {
                        return Err(Error("Invalid quantifier"));
                    }
                    return Ok(look);
                }
                // Annex B: a lookahead may be quantified.
                return self.quantified(look);
            }
        }
        let captures_before = self.captures_seen;
        let atom = self.atom()?;
        let captures_after = self.captures_seen;
        self.quantified_with(atom, (captures_before + 1, captures_after + 1))
    }

    fn quantified(&mut self, atom: usize) -> Result<usize, Error> {
        let seen = self.captures_seen;
        self.quantified_with(atom, (seen + 1, seen + 1))
    }

    fn quantified_with(&mut self, atom: usize, captures: (usize, usize)) -> Result<usize, Error> {
        let (min, max) = match self.peek() {
            Some(0x2a) => {
                self.at += 1;
                (0, None)
            }
            Some(0x2b) => {
                self.at += 1;
                (1, None)
            }
            Some(0x3f) => {
                self.at += 1;
                (0, Some(1))
            }
            Some(0x7b) => match self.braced_quantifier() {
                Some((min, max, length)) => {
                    self.at += length;
                    if max.is_some_and(|max| max < min) {
                        return Err(Error("numbers out of order in {} quantifier"));
                    }
                    (min, max)
                }
                None => return Ok(atom),
            },
            _ => return Ok(atom),
        };
        let lazy = self.peek() == Some(c('?'));
        if lazy {
            self.at += 1;
        }
        Ok(self.add(Node::Repeat { node: atom, min, max, lazy, captures }))
    }

    fn atom(&mut self) -> Result<usize, Error> {
        let ch = self.peek().ok_or(Error("unexpected end"))?;
        match ch {
            0x2e => {
                self.at += 1;
                Ok(self.add(Node::Class(Class::new(LINE_TERMINATORS.to_vec(), true))))
            }
            0x28 => self.group(),
            0x5b => self.class(),
            0x5c => self.escape(),
            0x2a | 0x2b | 0x3f => Err(Error("Nothing to repeat")),
            0x7b => {
                if self.braced_quantifier().is_some() {
                    return Err(Error("Nothing to repeat"));
                }
                self.at += 1;
                Ok(self.add(Node::Unit(ch)))
            }
            _ => {
                self.at += 1;
                Ok(self.add(Node::Unit(ch)))
            }
        }
    }

    fn group(&mut self) -> Result<usize, Error> {
        self.at += 1;
        let mut capture = None;
        if self.peek() == Some(c('?')) {
            match self.peek_at(1) {
                Some(0x3a) => self.at += 2,
                Some(0x3c) => {
                    self.at += 2;
                    let name = self.group_name()?;
                    if self.names.contains(&name) {
                        return Err(Error("Duplicate capture group name"));
                    }
                    self.names.push(name);
                    self.captures_seen += 1;
                    capture = Some(self.captures_seen);
                }
                _ => return Err(Error("Invalid group")),
            }
        } else {
            self.captures_seen += 1;
            capture = Some(self.captures_seen);
        }
        let node = self.disjunction()?;
        if self.peek() != Some(c(')')) {
            return Err(Error("Unterminated group"));
        }
        self.at += 1;
        Ok(self.add(Node::Group { node, capture }))
    }

    /// `<name>` after `(?` or `\k`; the current position is at `<`... or just after it for groups.
    fn group_name(&mut self) -> Result<Vec<u16>, Error> {
        let start = self.at;
        let mut end = start;
        while end < self.src.len() && is_identifier_unit(self.src[end], end == start) {
            end += 1;
        }
        if end == start || self.src.get(end) != Some(&c('>')) {
            return Err(Error("Invalid capture group name"));
        }
        self.at = end + 1;
        Ok(self.src[start..end].to_vec())
    }

    /// `\0`, `\1`... read as a legacy octal escape (the current position is at the first digit).
    fn octal(&mut self) -> u16 {
        let mut value = self.peek().map_or(0, |it| it - 0x30);
        self.at += 1;
        if let Some(next) = self.peek().filter(|it| (0x30..=0x37).contains(it)) {
            value = value * 8 + (next - 0x30);
            self.at += 1;
            if value < 32
                && let Some(next) = self.peek().filter(|it| (0x30..=0x37).contains(it))
            {
                value = value * 8 + (next - 0x30);
                self.at += 1;
            }
        }
        value
    }

    /// Character escapes shared by atoms and classes; the position is just after the backslash.
    fn character_escape(&mut self, ch: u16) -> u16 {
        match ch {
            0x66 => {
                self.at += 1;
                0x0c
            }
            0x6e => {
                self.at += 1;
                0x0a
            }
            0x72 => {
                self.at += 1;
                0x0d
            }
            0x74 => {
                self.at += 1;
                0x09
            }
            0x76 => {
                self.at += 1;
                0x0b
            }
            0x78 => {
                let digits = (self.peek_at(1).and_then(hex_value), self.peek_at(2).and_then(hex_value));
                if let (Some(high), Some(low)) = digits {
                    self.at += 3;
                    high * 16 + low
                } else {
                    self.at += 1;
                    ch
                }
            }
            0x75 => {
                let digits: Option<Vec<u16>> = (1..=4).map(|i| self.peek_at(i).and_then(hex_value)).collect();
                if let Some(digits) = digits {
                    self.at += 5;
                    digits.iter().fold(0, |acc, d| acc * 16 + d)
                } else {
                    self.at += 1;
                    ch
                }
            }
            _ => {
                self.at += 1;
                ch
            }
        }
    }

    fn escape(&mut self) -> Result<usize, Error> {
        self.at += 1;
        let ch = self.peek().ok_or(Error("\\ at end of pattern"))?;
        if let Some(set) = class_escape(ch) {
            self.at += 1;
            return Ok(self.add(Node::Class(Class::new(set, false))));
        }
        match ch {
            0x31..=0x39 => {
                let start = self.at;
                let mut value: u64 = 0;
                while let Some(d) = self.peek().filter(|it| is_digit(*it)) {
                    value = (value * 10 + u64::from(d - 0x30)).min(u64::from(u32::MAX));
                    self.at += 1;
                }
                if value as usize <= self.captures_total && value as usize <= MAX_CAPTURES {
                    self.has_backrefs = true;
                    return Ok(self.add(Node::BackRef(value as usize)));
                }
                self.at = start;
                if ch >= 0x38 {
                    self.at += 1;
                    return Ok(self.add(Node::Unit(ch)));
                }
                let value = self.octal();
                Ok(self.add(Node::Unit(value)))
            }
            0x30 => {
                let value = self.octal();
                Ok(self.add(Node::Unit(value)))
            }
            0x63 => {
                if let Some(letter) = self.peek_at(1).filter(|it| is_ascii_letter(*it)) {
                    self.at += 2;
                    Ok(self.add(Node::Unit(letter & 0x1f)))
                } else {
                    // `\c` without a letter is a literal backslash; the `c` is read next.
                    Ok(self.add(Node::Unit(c('\\'))))
                }
            }
            0x6b if !self.scan_names_empty() => {
                self.at += 1;
                if self.peek() != Some(c('<')) {
                    return Err(Error("Invalid named reference"));
                }
                self.at += 1;
                let name = self.group_name().map_err(|_| Error("Invalid named reference"))?;
                let (_, names) = scan_groups(self.src);
                let Some(index) = self.named_capture_index(&name, &names) else {
                    return Err(Error("Invalid named capture referenced"));
                };
                self.has_backrefs = true;
                Ok(self.add(Node::BackRef(index)))
            }
            _ => {
                let unit = self.character_escape(ch);
                Ok(self.add(Node::Unit(unit)))
            }
        }
    }

    fn scan_names_empty(&self) -> bool {
        scan_groups(self.src).1.is_empty()
    }

    /// The capture number of the group called `name`.
    fn named_capture_index(&self, name: &[u16], names: &[Vec<u16>]) -> Option<usize> {
        if !names.iter().any(|it| it == name) {
            return None;
        }
        // Count capturing groups up to the named one.
        let src = self.src;
        let mut count = 0;
        let mut i = 0;
        let mut in_class = false;
        while i < src.len() {
            let ch = src[i];
            if ch == c('\\') {
                i += 2;
                continue;
            }
            if in_class {
                if ch == c(']') {
                    in_class = false;
                }
            } else if ch == c('[') {
                in_class = true;
            } else if ch == c('(') {
                if src.get(i + 1) != Some(&c('?')) {
                    count += 1;
                } else if src.get(i + 2) == Some(&c('<'))
                    && src.get(i + 3).is_some_and(|&it| it != c('=') && it != c('!'))
                {
                    count += 1;
                    if src[i + 3..].starts_with(name) && src.get(i + 3 + name.len()) == Some(&c('>')) {
                        return Some(count);
                    }
                }
            }
            i += 1;
        }
        None
    }

    fn class_atom(&mut self, has_names: bool) -> Result<ClassAtom, Error> {
        let ch = self.peek().ok_or(Error("Unterminated character class"))?;
        if ch != c('\\') {
            self.at += 1;
            return Ok(ClassAtom::Unit(ch));
        }
        self.at += 1;
        let ch = self.peek().ok_or(Error("\\ at end of pattern"))?;
        if let Some(set) = class_escape(ch) {
            self.at += 1;
            return Ok(ClassAtom::Set(set));
        }
        Ok(ClassAtom::Unit(match ch {
            0x62 => {
                self.at += 1;
                0x08
            }
            0x2d => {
                self.at += 1;
                ch
            }
            0x30..=0x37 => self.octal(),
            0x63 => match self.peek_at(1) {
                Some(next) if is_ascii_letter(next) || is_digit(next) || next == c('_') => {
                    self.at += 2;
                    next & 0x1f
                }
                _ => c('\\'),
            },
            0x6b if has_names => return Err(Error("Invalid escape")),
            _ => self.character_escape(ch),
        }))
    }

    fn class(&mut self) -> Result<usize, Error> {
        self.at += 1;
        let negated = self.peek() == Some(c('^'));
        if negated {
            self.at += 1;
        }
        let has_names = !self.scan_names_empty();
        let mut ranges = Vec::new();
        loop {
            match self.peek() {
                None => return Err(Error("Unterminated character class")),
                Some(0x5d) => {
                    self.at += 1;
                    break;
                }
                _ => {}
            }
            let first = self.class_atom(has_names)?;
            if self.peek() == Some(c('-')) && self.peek_at(1).is_some_and(|it| it != c(']')) {
                self.at += 1;
                let second = self.class_atom(has_names)?;
                match (first, second) {
                    (ClassAtom::Unit(low), ClassAtom::Unit(high)) => {
                        if low > high {
                            return Err(Error("Range out of order in character class"));
                        }
                        ranges.push((low, high));
                    }
                    (first, second) => {
                        for atom in [first, second] {
                            match atom {
                                ClassAtom::Unit(unit) => ranges.push((unit, unit)),
                                ClassAtom::Set(set) => ranges.extend(set),
                            }
                        }
                        ranges.push((c('-'), c('-')));
                    }
                }
            } else {
                match first {
                    ClassAtom::Unit(unit) => ranges.push((unit, unit)),
                    ClassAtom::Set(set) => ranges.extend(set),
                }
            }
        }
        Ok(self.add(Node::Class(Class::new(ranges, negated))))
    }
}

struct Sets<'a> {
    re: &'a Regex,
    input: &'a [u16],
    memo: HashMap<(usize, usize), Rc<Bits>, FxBuild>,
    /// For a node one code unit wide: from each position, where the run of positions it matches at ends.
    runs: HashMap<usize, Rc<Vec<usize>>, FxBuild>,
    steps: u64,
    aborted: bool,
}

impl Sets<'_> {
    /// No position of `0..=n`.
    fn empty(&self) -> Bits {
        Bits::empty(self.input.len() + 1)
    }

    fn single(&self, pos: usize) -> Bits {
        let mut bits = self.empty();
        bits.set(pos);
        bits
    }

    fn charge(&mut self, amount: u64) -> bool {
        self.steps += amount;
        if self.steps > MAX_STEPS {
            self.aborted = true;
        }
        !self.aborted
    }

    /// The union of the end positions of `node` from every position in `from`.
    fn step(&mut self, node: usize, from: &Bits) -> Bits {
        let mut out = self.empty();
        let re = self.re;
        if re.is_one_unit(node) {
            // One code unit: shift the positions that hold a matching unit (what `ends` gives for each, without
            // building a set per position), charged like `ends`.
            let words = (self.input.len() / 64 + 1) as u64;
            for pos in from.ones() {
                if !self.charge(words) {
                    return self.empty();
                }
                if self.input.get(pos).is_some_and(|&it| re.one_unit_matches(node, it)) {
                    out.set(pos + 1);
                }
            }
            return out;
        }
        for pos in from.ones() {
            out.or_assign(&self.ends(node, pos));
        }
        out
    }

    /// For a node one code unit wide, and each position, the first position from which the node does not
    /// match: the end of the run of its consecutive matches.
    fn run_ends(&mut self, node: usize) -> Rc<Vec<usize>> {
        if let Some(found) = self.runs.get(&node) {
            return found.clone();
        }
        let re = self.re;
        let n = self.input.len();
        let mut ends = vec![n; n + 1];
        for pos in (0..n).rev() {
            let matches = if re.is_one_unit(node) {
                self.charge(1);
                re.one_unit_matches(node, self.input[pos])
            } else {
                self.ends(node, pos).contains(pos + 1)
            };
            ends[pos] = if matches { ends[pos + 1] } else { pos };
        }
        let ends = Rc::new(ends);
        self.runs.insert(node, ends.clone());
        ends
    }

    fn ends(&mut self, node: usize, pos: usize) -> Rc<Bits> {
        let words = self.input.len() / 64 + 1;
        if !self.charge(words as u64) {
            return Rc::new(self.empty());
        }
        match &self.re.nodes[node] {
            Node::Unit(unit) => {
                let hit = self.input.get(pos) == Some(unit);
                return Rc::new(if hit { self.single(pos + 1) } else { self.empty() });
            }
            Node::Class(class) => {
                let hit = self.input.get(pos).is_some_and(|&it| class.contains(it));
                return Rc::new(if hit { self.single(pos + 1) } else { self.empty() });
            }
            Node::Empty => return Rc::new(self.single(pos)),
            _ => {}
        }
        if let Some(found) = self.memo.get(&(node, pos)) {
            return found.clone();
        }
        let result = self.compute(node, pos);
        let result = Rc::new(result);
        self.memo.insert((node, pos), result.clone());
        result
    }

    fn compute(&mut self, node: usize, pos: usize) -> Bits {
        let n = self.input.len();
        match self.re.nodes[node].clone() {
            Node::Empty | Node::Unit(_) | Node::Class(_) => unreachable!("handled without memo"),
            Node::Seq(children) => {
                let mut frontier = self.single(pos);
                for child in children {
                    frontier = self.step(child, &frontier);
                    if frontier.is_empty() {
                        break;
                    }
                }
                frontier
            }
            Node::Alt(children) => {
                let mut out = self.empty();
                for child in children {
                    out.or_assign(&self.ends(child, pos));
                }
                out
            }
            Node::Group { node, .. } => (*self.ends(node, pos)).clone(),
            Node::Look { behind, negated, node } => {
                let found = if behind {
                    (0..=pos).rev().any(|start| self.ends(node, start).contains(pos))
                } else {
                    !self.ends(node, pos).is_empty()
                };
                if found != negated { self.single(pos) } else { self.empty() }
            }
            Node::Repeat { node, min, max, .. } if self.re.widths[node] == Some(1) => {
                // Every iteration consumes exactly one unit, so the iterations from `pos` reach the positions up to
                // where the run of positions the body matches at ends: a range, with no step per iteration.
                let end = self.run_ends(node)[pos];
                let low = usize::try_from(min).ok().and_then(|min| pos.checked_add(min)).filter(|low| *low <= end);
                let Some(low) = low else { return self.empty() };
                let high =
                    max.and_then(|max| usize::try_from(max).ok()).map_or(end, |max| end.min(pos.saturating_add(max)));
                let mut bits = self.empty();
                for at in low..=high {
                    bits.set(at);
                }
                bits
            }
            Node::Repeat { node, min, max, .. } => {
                // The required iterations; the sequence of sets is eventually periodic.
                let mut current = self.single(pos);
                let mut seen: HashMap<Bits, u64, FxBuild> = HashMap::default();
                let mut k = 0;
                while k < min {
                    if current.is_empty() || self.aborted {
                        break;
                    }
                    if let Some(&earlier) = seen.get(&current) {
                        let period = k - earlier;
                        let left = (min - k) % period;
                        for _ in 0..left {
                            current = self.step(node, &current);
                        }
                        break;
                    }
                    seen.insert(current.clone(), k);
                    current = self.step(node, &current);
                    k += 1;
                }
                // The optional ones.
                let mut reached = current.clone();
                let mut fresh = current;
                let mut extra: u64 = 0;
                let limit = max.map(|max| max - min);
                while !fresh.is_empty() && limit.is_none_or(|limit| extra < limit) && !self.aborted {
                    fresh = self.step(node, &fresh).and_not(&reached);
                    reached.or_assign(&fresh);
                    extra += 1;
                }
                reached
            }
            Node::Start => {
                if pos == 0 {
                    self.single(pos)
                } else {
                    self.empty()
                }
            }
            Node::End => {
                if pos == n {
                    self.single(pos)
                } else {
                    self.empty()
                }
            }
            Node::WordBoundary { negated } => {
                let before = pos > 0 && is_word_unit(self.input[pos - 1]);
                let after = pos < n && is_word_unit(self.input[pos]);
                if (before != after) != negated { self.single(pos) } else { self.empty() }
            }
            Node::BackRef(_) => self.empty(),
        }
    }
}

type Caps = Vec<Option<(usize, usize)>>;
type Cont<'k> = dyn FnMut(usize, &mut Caps, &mut Backtrack) -> bool + 'k;

/// Backtracking search, for patterns with back-references.
struct Backtrack<'a> {
    re: &'a Regex,
    input: &'a [u16],
    steps: u64,
    depth: usize,
    aborted: bool,
}

/// How deep the backtracking search may recurse.
const MAX_BACKTRACK_DEPTH: usize = 2_000;

impl Backtrack<'_> {
    fn run(&mut self, node: usize, pos: usize, caps: &mut Caps, k: &mut Cont) -> bool {
        self.steps += 1;
        if self.steps > MAX_STEPS || self.depth > MAX_BACKTRACK_DEPTH {
            self.aborted = true;
        }
        if self.aborted {
            return false;
        }
        self.depth += 1;
        let result = self.run_inner(node, pos, caps, k);
        self.depth -= 1;
        result
    }

    fn run_inner(&mut self, node: usize, pos: usize, caps: &mut Caps, k: &mut Cont) -> bool {
        let n = self.input.len();
        let re = self.re;
        match &re.nodes[node] {
            Node::Empty => k(pos, caps, self),
            Node::Unit(unit) => self.input.get(pos) == Some(unit) && k(pos + 1, caps, self),
            Node::Class(class) => self.input.get(pos).is_some_and(|&it| class.contains(it)) && k(pos + 1, caps, self),
            Node::Seq(children) => self.seq(children, 0, pos, caps, k),
            Node::Alt(children) => {
                for &child in children {
                    let saved = caps.clone();
                    if self.run(child, pos, caps, k) {
                        return true;
                    }
                    *caps = saved;
                }
                false
            }
            Node::Group { node, capture } => {
                let (inner, capture) = (*node, *capture);
                self.run(inner, pos, caps, &mut |end, caps: &mut Caps, me: &mut Backtrack| {
                    let Some(index) = capture else {
                        return k(end, caps, me);
                    };
                    let old = caps[index];
                    caps[index] = Some((pos, end));
                    if k(end, caps, me) {
                        return true;
                    }
                    caps[index] = old;
                    false
                })
            }
            Node::Look { behind, negated, node } => {
                let (behind, negated, inner) = (*behind, *negated, *node);
                let mut found: Option<Caps> = None;
                let mut trial = caps.clone();
                if behind {
                    for start in (0..=pos).rev() {
                        let mut local = trial.clone();
                        let mut hit: Option<Caps> = None;
                        self.run(inner, start, &mut local, &mut |end, caps: &mut Caps, _: &mut Backtrack| {
                            if end == pos {
                                hit = Some(caps.clone());
                                true
                            } else {
                                false
                            }
                        });
                        if hit.is_some() {
                            found = hit;
                            break;
                        }
                    }
                } else {
                    self.run(inner, pos, &mut trial, &mut |_, caps: &mut Caps, _: &mut Backtrack| {
                        found = Some(caps.clone());
                        true
                    });
                }
                match (found, negated) {
                    (Some(mut inner_caps), false) => k(pos, &mut inner_caps, self),
                    (None, true) => k(pos, caps, self),
                    _ => false,
                }
            }
            Node::Repeat { node, min, max, lazy, captures } => {
                let (inner, min, max, lazy, captures) = (*node, *min, *max, *lazy, *captures);
                self.repeat(inner, min, max, lazy, captures, 0, pos, caps, k)
            }
            Node::Start => pos == 0 && k(pos, caps, self),
            Node::End => pos == n && k(pos, caps, self),
            Node::WordBoundary { negated } => {
                let before = pos > 0 && is_word_unit(self.input[pos - 1]);
                let after = pos < n && is_word_unit(self.input[pos]);
                (before != after) != *negated && k(pos, caps, self)
            }
            Node::BackRef(index) => match caps.get(*index).copied().flatten() {
                None => k(pos, caps, self),
                Some((start, end)) => {
                    let length = end - start;
                    pos + length <= n
                        && self.input[start..end] == self.input[pos..pos + length]
                        && k(pos + length, caps, self)
                }
            },
        }
    }

    fn seq(&mut self, children: &[usize], i: usize, pos: usize, caps: &mut Caps, k: &mut Cont) -> bool {
        if i == children.len() {
            return k(pos, caps, self);
        }
        self.run(children[i], pos, caps, &mut |end, caps: &mut Caps, me: &mut Backtrack| {
            me.seq(children, i + 1, end, caps, k)
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn repeat(
        &mut self,
        inner: usize,
        min: u64,
        max: Option<u64>,
        lazy: bool,
        captures: (usize, usize),
        count: u64,
        pos: usize,
        caps: &mut Caps,
        k: &mut Cont,
    ) -> bool {
        if max == Some(count) {
            return k(pos, caps, self);
        }
        if count >= min && lazy && k(pos, caps, self) {
            return true;
        }
        let saved = caps.clone();
        for slot in caps.iter_mut().take(captures.1.min(saved.len())).skip(captures.0) {
            *slot = None;
        }
        let again = self.run(inner, pos, caps, &mut |end, caps: &mut Caps, me: &mut Backtrack| {
            if count >= min && end == pos {
                return false;
            }
            me.repeat(inner, min, max, lazy, captures, count.saturating_add(1), end, caps, k)
        });
        if again {
            return true;
        }
        *caps = saved;
        count >= min && !lazy && k(pos, caps, self)
    }
}
