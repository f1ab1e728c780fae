//! Regular languages of strings, exactly: the sets of values a condition accepts, compiled to automata by
//! derivatives, with emptiness, inclusion and shortest witnesses.
//!
//! A language is written as a JavaScript regular expression over UTF-16 code units (the form picomatch
//! compiles `$glob` patterns to), restricted to what picomatch emits: characters, classes, `.`, groups,
//! alternation, greedy and lazy quantifiers, `^`, `$`, and lookaheads `(?=...)`/`(?!...)`. Matching a regular
//! expression with `test()` asks whether some match exists, so the language of `^(?:R)$` is exactly the set
//! of strings `R` matches; quantifier laziness does not change it.
//!
//! Derivatives are taken on whole remaining expressions (a sequence of items followed by what remains of the
//! enclosing sequences), so a lookahead always sees the rest of the input: `(?=R)S` is the intersection of
//! `R.*` with `S`, and `(?!R)S` is `S` minus `R.*`. Iterations of a quantifier must consume a character (as
//! in JavaScript, an empty iteration ends the loop), so derivatives of loops terminate.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::rc::Rc;

/// A fast non-cryptographic hasher (the Fx hash of rustc) for automaton states, which are hashed often and
/// deeply; the keys are never attacker-chosen in a way that matters for a one-shot command.
#[derive(Default)]
pub(crate) struct FxHasher(u64);

/// Hash maps keyed by automaton states.
pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Whole words, then the rest zero-padded: a copy of unknown length would be a call to `memcpy` per
        // word.
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.add(u64::from_le_bytes(word.try_into().unwrap_or_default()));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            self.add(rest.iter().rev().fold(0, |word, byte| word << 8 | u64::from(*byte)));
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }

    fn write_u16(&mut self, value: u16) {
        self.add(u64::from(value));
    }

    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A shared part of an expression (a group's alternatives, a loop's body) with its hash computed once:
/// states are hashed and compared on every derivative, and their shared parts are most of their size.
/// Equality and order are those of the contents; the same allocation is equal without a look inside.
#[derive(Debug)]
struct Node<T>(Rc<(u64, T)>);

impl<T> Clone for Node<T> {
    fn clone(&self) -> Self {
        Node(self.0.clone())
    }
}

impl<T: Hash> Node<T> {
    fn new(value: T) -> Node<T> {
        let mut hasher = FxHasher::default();
        value.hash(&mut hasher);
        Node(Rc::new((hasher.finish(), value)))
    }
}

impl<T> std::ops::Deref for Node<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0.1
    }
}

impl<T: PartialEq> PartialEq for Node<T> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0) || (self.0.0 == other.0.0 && self.0.1 == other.0.1)
    }
}

impl<T: Eq> Eq for Node<T> {}

impl<T: Hash> Hash for Node<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0.0);
    }
}

impl<T: Ord> PartialOrd for Node<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<T: Ord> Ord for Node<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if Rc::ptr_eq(&self.0, &other.0) { std::cmp::Ordering::Equal } else { self.0.1.cmp(&other.0.1) }
    }
}

/// A set of UTF-16 code units as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CharSet(Vec<(u16, u16)>);

impl CharSet {
    pub fn empty() -> CharSet {
        CharSet(Vec::new())
    }

    pub fn all() -> CharSet {
        CharSet(vec![(0, u16::MAX)])
    }

    pub fn unit(c: u16) -> CharSet {
        CharSet(vec![(c, c)])
    }

    pub fn from_ranges(mut ranges: Vec<(u16, u16)>) -> CharSet {
        ranges.retain(|(low, high)| low <= high);
        ranges.sort_unstable();
        let mut out: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
        for (low, high) in ranges {
            match out.last_mut() {
                Some(last) if u32::from(low) <= u32::from(last.1) + 1 => last.1 = last.1.max(high),
                _ => out.push((low, high)),
            }
        }
        CharSet(out)
    }

    pub fn contains(&self, c: u16) -> bool {
        self.0.iter().any(|&(low, high)| low <= c && c <= high)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn union(&self, other: &CharSet) -> CharSet {
        CharSet::from_ranges(self.0.iter().chain(&other.0).copied().collect())
    }

    pub fn complement(&self) -> CharSet {
        let mut out = Vec::new();
        let mut next: u32 = 0;
        for &(low, high) in &self.0 {
            if u32::from(low) > next {
                out.push((next as u16, low - 1));
            }
            next = u32::from(high) + 1;
        }
        if next <= u32::from(u16::MAX) {
            out.push((next as u16, u16::MAX));
        }
        CharSet(out)
    }

    pub fn intersect(&self, other: &CharSet) -> CharSet {
        // Both lists are sorted, disjoint and non-adjacent, so the overlaps are too.
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while let (Some(&(a_low, a_high)), Some(&(b_low, b_high))) = (self.0.get(i), other.0.get(j)) {
            let (low, high) = (a_low.max(b_low), a_high.min(b_high));
            if low <= high {
                out.push((low, high));
            }
            if a_high < b_high {
                i += 1;
            } else {
                j += 1;
            }
        }
        CharSet(out)
    }

    /// A member to show in a witness: printable ASCII letters and digits first.
    pub fn representative(&self) -> Option<u16> {
        const PREFERRED: &str = "abcxyz0123456789ABCXYZ_-.";
        PREFERRED.encode_utf16().find(|c| self.contains(*c)).or_else(|| self.0.first().map(|it| it.0))
    }
}

/// One item of a sequence.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Item {
    /// One code unit of the set.
    Set(CharSet),
    /// One of several sequences.
    Alt(Node<Vec<Vec<Item>>>),
    /// The sequence repeated: at least `min` times, at most `max` (`None`: unbounded). Iterations past `min`
    /// must consume input.
    Repeat(Node<Vec<Item>>, u32, Option<u32>),
    /// A lookahead on the rest of the input.
    Look(bool, Node<Vec<Vec<Item>>>),
    /// `^`: only at the start of the input.
    Start,
    /// `$`: only at the end of the input.
    End,
    /// Marks where a loop body ends; reached before a character is consumed it fails (empty iteration).
    Hole,
}

/// A state of the automaton: a language of remaining inputs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum State {
    Nothing,
    Seq(Vec<Item>),
    Or(BTreeSet<State>),
    And(BTreeSet<State>),
    Not(Box<State>),
}

/// Whether the state is written as the language of all strings: the complement of nothing, or a repetition
/// of any code unit.
fn is_everything(state: &State) -> bool {
    match state {
        State::Not(inner) => **inner == State::Nothing,
        State::Seq(items) => {
            let [Item::Repeat(body, 0, None)] = items.as_slice() else { return false };
            matches!(body.as_slice(), [Item::Set(set)] if set.0 == [(0, u16::MAX)])
        }
        _ => false,
    }
}

// States are kept in a normal form so that equal languages reached along different paths are recognised as
// the same state: negations sit on sequences only (De Morgan), unions are flat, intersections are flat and
// distributed over unions (up to a size, past which they are left as they are), and a union drops a member
// whose conjuncts include all of another member's (absorption: `X | (X & Y)` is `X`). Without this, a
// lookahead inside a loop (`(?:(?!x$)[^/]*?)*`, `**` twice) nests a fresh conjunction in every derivative
// and the automaton never closes.

/// The most conjunctions distributing an intersection over unions may produce.
const DISTRIBUTE_LIMIT: usize = 64;

/// The conjuncts of a member of a union.
fn conjuncts(state: &State) -> std::borrow::Cow<'_, BTreeSet<State>> {
    match state {
        State::And(inner) => std::borrow::Cow::Borrowed(inner),
        other => std::borrow::Cow::Owned(BTreeSet::from([other.clone()])),
    }
}

fn or(states: impl IntoIterator<Item = State>) -> State {
    let mut set = BTreeSet::new();
    for state in states {
        match state {
            State::Nothing => {}
            State::Or(inner) => set.extend(inner),
            other => {
                if is_everything(&other) {
                    return other;
                }
                set.insert(other);
            }
        }
    }
    if set.len() > 1 && set.iter().any(|it| matches!(it, State::And(_))) {
        let members: Vec<State> = std::mem::take(&mut set).into_iter().collect();
        let parts: Vec<_> = members.iter().map(conjuncts).collect();
        for (i, member) in members.iter().enumerate() {
            let absorbed = parts.iter().enumerate().any(|(j, other)| {
                j != i && other.len() < parts[i].len() && other.iter().all(|it| parts[i].contains(it))
            });
            if !absorbed {
                set.insert(member.clone());
            }
        }
    }
    match set.len() {
        0 => State::Nothing,
        1 => set.into_iter().next().unwrap_or(State::Nothing),
        _ => State::Or(set),
    }
}

fn and(states: impl IntoIterator<Item = State>) -> State {
    let mut set = BTreeSet::new();
    for state in states {
        match state {
            State::Nothing => return State::Nothing,
            State::And(inner) => set.extend(inner),
            other => {
                set.insert(other);
            }
        }
    }
    set.retain(|it| !is_everything(it));
    let unions = set.iter().filter(|it| matches!(it, State::Or(_))).count();
    if unions > 0 {
        let size = set.iter().try_fold(1usize, |size, it| match it {
            State::Or(members) => size.checked_mul(members.len()).filter(|it| *it <= DISTRIBUTE_LIMIT),
            _ => Some(size),
        });
        if size.is_some() {
            let mut products: Vec<Vec<State>> = vec![Vec::new()];
            for state in set {
                match state {
                    State::Or(members) => {
                        products = products
                            .iter()
                            .flat_map(|product| {
                                members.iter().map(move |member| {
                                    let mut product = product.clone();
                                    product.push(member.clone());
                                    product
                                })
                            })
                            .collect();
                    }
                    other => products.iter_mut().for_each(|product| product.push(other.clone())),
                }
            }
            return or(products.into_iter().map(and));
        }
    }
    match set.len() {
        0 => State::Not(Box::new(State::Nothing)),
        1 => set.into_iter().next().unwrap_or(State::Nothing),
        _ => State::And(set),
    }
}

/// The complement, pushed down to sequences. A negative lookahead whose expression has matched leaves the
/// complement of `.*`: it is recognised as empty here, so that the conjunction it sits in dies.
fn not(state: State) -> State {
    match state {
        State::Not(inner) => *inner,
        State::Or(members) => and(members.into_iter().map(not)),
        State::And(members) => or(members.into_iter().map(not)),
        other if is_everything(&other) => State::Nothing,
        other => State::Not(Box::new(other)),
    }
}

/// `R` followed by anything: what a lookahead `(?=R)` requires of the rest of the input.
fn then_anything(alternatives: &[Vec<Item>]) -> State {
    let any = Item::Repeat(Node::new(vec![Item::Set(CharSet::all())]), 0, None);
    or(alternatives.iter().map(|alternative| {
        let mut items = alternative.clone();
        items.push(any.clone());
        State::Seq(items)
    }))
}

/// Whether the empty input is in the language; `at_start` when no input was consumed yet.
fn nullable(state: &State, at_start: bool) -> bool {
    match state {
        State::Nothing => false,
        State::Seq(items) => seq_nullable(items, at_start),
        State::Or(states) => states.iter().any(|it| nullable(it, at_start)),
        State::And(states) => states.iter().all(|it| nullable(it, at_start)),
        State::Not(inner) => !nullable(inner, at_start),
    }
}

fn seq_nullable(items: &[Item], at_start: bool) -> bool {
    let Some((first, rest)) = items.split_first() else { return true };
    match first {
        Item::Set(_) | Item::Hole => false,
        Item::Start => at_start && seq_nullable(rest, at_start),
        Item::End => seq_nullable(rest, at_start),
        Item::Alt(alternatives) => alternatives.iter().any(|alternative| {
            let mut items = alternative.clone();
            items.extend_from_slice(rest);
            seq_nullable(&items, at_start)
        }),
        Item::Repeat(body, min, max) => {
            if *min == 0 {
                return seq_nullable(rest, at_start);
            }
            let mut items = (**body).clone();
            items.push(Item::Repeat(body.clone(), min - 1, max.map(|it| it - 1)));
            items.extend_from_slice(rest);
            seq_nullable(&items, at_start)
        }
        Item::Look(negated, alternatives) => {
            let matched = alternatives.iter().any(|alternative| seq_nullable(alternative, at_start));
            matched != *negated && seq_nullable(rest, at_start)
        }
    }
}

/// The derivative of a state by the code unit `c`: the remaining inputs after `c`.
fn derive(state: &State, c: u16, at_start: bool) -> State {
    match state {
        State::Nothing => State::Nothing,
        State::Seq(items) => seq_derive(items, c, at_start),
        State::Or(states) => or(states.iter().map(|it| derive(it, c, at_start))),
        State::And(states) => and(states.iter().map(|it| derive(it, c, at_start))),
        State::Not(inner) => not(derive(inner, c, at_start)),
    }
}

fn seq_derive(items: &[Item], c: u16, at_start: bool) -> State {
    let Some((first, rest)) = items.split_first() else { return State::Nothing };
    match first {
        Item::Set(set) => {
            if set.contains(c) {
                State::Seq(rest.iter().filter(|it| **it != Item::Hole).cloned().collect())
            } else {
                State::Nothing
            }
        }
        Item::Hole => State::Nothing,
        Item::Start => {
            if at_start {
                seq_derive(rest, c, at_start)
            } else {
                State::Nothing
            }
        }
        Item::End => State::Nothing,
        Item::Alt(alternatives) => or(alternatives.iter().map(|alternative| {
            let mut items = alternative.clone();
            items.extend_from_slice(rest);
            seq_derive(&items, c, at_start)
        })),
        Item::Repeat(body, min, max) => {
            if *min > 0 {
                let mut items = (**body).clone();
                items.push(Item::Repeat(body.clone(), min - 1, max.map(|it| it - 1)));
                items.extend_from_slice(rest);
                return seq_derive(&items, c, at_start);
            }
            let mut branches = vec![seq_derive(rest, c, at_start)];
            if *max != Some(0) {
                // One more iteration that consumes `c`: the body, then a hole that fails if reached before
                // consuming, then the loop again.
                let mut items = (**body).clone();
                items.push(Item::Hole);
                items.push(Item::Repeat(body.clone(), 0, max.map(|it| it - 1)));
                items.extend_from_slice(rest);
                branches.push(seq_derive(&items, c, at_start));
            }
            or(branches)
        }
        Item::Look(negated, alternatives) => {
            let ahead = then_anything(alternatives);
            let ahead = if *negated { not(ahead) } else { ahead };
            and([derive(&ahead, c, at_start), seq_derive(rest, c, at_start)])
        }
    }
}

/// The character sets a derivative of `state` tests the code unit against (those that can meet the next
/// code unit), or more.
fn state_heads(state: &State, out: &mut BTreeSet<CharSet>) {
    match state {
        State::Nothing => {}
        State::Seq(items) => {
            seq_heads(items, out);
        }
        State::Or(states) | State::And(states) => states.iter().for_each(|it| state_heads(it, out)),
        State::Not(inner) => state_heads(inner, out),
    }
}

/// [`state_heads`] of a sequence; whether the derivative may go on past it without consuming (or more
/// often: a larger answer only adds sets).
fn seq_heads(items: &[Item], out: &mut BTreeSet<CharSet>) -> bool {
    for item in items {
        match item {
            Item::Set(set) => {
                out.insert(set.clone());
                return false;
            }
            Item::Hole | Item::End => return false,
            Item::Start => {}
            Item::Alt(alternatives) => {
                let mut passes = false;
                for alternative in alternatives.iter() {
                    passes |= seq_heads(alternative, out);
                }
                if !passes {
                    return false;
                }
            }
            Item::Repeat(body, min, _) => {
                if !seq_heads(body, out) && *min > 0 {
                    return false;
                }
            }
            // A lookahead reads the same code unit as what follows it (and then anything).
            Item::Look(_, alternatives) => {
                for alternative in alternatives.iter() {
                    seq_heads(alternative, out);
                }
            }
        }
    }
    true
}

/// Every character set that appears in a state, to split the alphabet into classes that behave alike.
fn collect_sets(items: &[Item], out: &mut BTreeSet<CharSet>) {
    for item in items {
        match item {
            Item::Set(set) => {
                out.insert(set.clone());
            }
            Item::Alt(alternatives) | Item::Look(_, alternatives) => {
                for alternative in alternatives.iter() {
                    collect_sets(alternative, out);
                }
            }
            Item::Repeat(body, ..) => collect_sets(body, out),
            Item::Start | Item::End | Item::Hole => {}
        }
    }
}

/// Splits the code units into classes no set distinguishes (minterms).
fn minterms(sets: &BTreeSet<CharSet>) -> Vec<CharSet> {
    let mut classes = vec![CharSet::all()];
    for set in sets {
        let complement = set.complement();
        let mut next = Vec::with_capacity(classes.len() * 2);
        for class in classes {
            let inside = class.intersect(set);
            let outside = class.intersect(&complement);
            if !inside.is_empty() {
                next.push(inside);
            }
            if !outside.is_empty() {
                next.push(outside);
            }
        }
        classes = next;
    }
    classes
}

/// Parse errors of the regular-expression subset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported(pub String);

/// A regular language.
#[derive(Clone, Debug)]
pub struct Lang {
    state: State,
    sets: BTreeSet<CharSet>,
}

/// The most states an automaton may explore before a question is given up (never reached by patterns
/// picomatch emits for realistic globs; a safety net against pathological input).
pub const STATE_LIMIT: usize = 20_000;

impl Lang {
    /// The language of a JavaScript regular expression source (as `new RegExp(source)` reads it, no flags).
    pub fn regex(source: &str) -> Result<Lang, Unsupported> {
        let alternatives = Parser { chars: source.encode_utf16().collect(), at: 0, depth: 0 }.parse()?;
        let mut sets = BTreeSet::new();
        for alternative in &alternatives {
            collect_sets(alternative, &mut sets);
        }
        // `test()` finds a match anywhere unless anchored; picomatch always anchors, but be exact anyway.
        let any = Item::Repeat(Node::new(vec![Item::Set(CharSet::all())]), 0, None);
        let state = or(alternatives.into_iter().map(|mut items| {
            items.insert(0, any.clone());
            items.push(any.clone());
            State::Seq(items)
        }));
        sets.insert(CharSet::all());
        Ok(Lang { state, sets })
    }

    /// Exactly the string `text`.
    pub fn literal(text: &str) -> Lang {
        let items: Vec<Item> = text.encode_utf16().map(|c| Item::Set(CharSet::unit(c))).collect();
        let mut sets: BTreeSet<CharSet> = items
            .iter()
            .filter_map(|it| match it {
                Item::Set(set) => Some(set.clone()),
                _ => None,
            })
            .collect();
        sets.insert(CharSet::all());
        Lang { state: State::Seq(items), sets }
    }

    /// Every string.
    pub fn anything() -> Lang {
        let any = Item::Repeat(Node::new(vec![Item::Set(CharSet::all())]), 0, None);
        Lang { state: State::Seq(vec![any]), sets: BTreeSet::from([CharSet::all()]) }
    }

    /// No string.
    pub fn nothing() -> Lang {
        Lang { state: State::Nothing, sets: BTreeSet::from([CharSet::all()]) }
    }

    pub fn union(&self, other: &Lang) -> Lang {
        Lang {
            state: or([self.state.clone(), other.state.clone()]),
            sets: self.sets.union(&other.sets).cloned().collect(),
        }
    }

    pub fn intersect(&self, other: &Lang) -> Lang {
        Lang {
            state: and([self.state.clone(), other.state.clone()]),
            sets: self.sets.union(&other.sets).cloned().collect(),
        }
    }

    pub fn complement(&self) -> Lang {
        Lang { state: not(self.state.clone()), sets: self.sets.clone() }
    }

    pub fn minus(&self, other: &Lang) -> Lang {
        self.intersect(&other.complement())
    }

    /// Whether `text` is in the language.
    pub fn contains(&self, text: &str) -> bool {
        let mut state = self.state.clone();
        let mut at_start = true;
        for c in text.encode_utf16() {
            state = derive(&state, c, at_start);
            at_start = false;
            if state == State::Nothing {
                return false;
            }
        }
        nullable(&state, at_start)
    }

    /// A shortest string of the language, `Ok(None)` when it is empty, `Err` when the state limit was hit.
    pub fn witness(&self) -> Result<Option<String>, Unsupported> {
        thread_local! {
            static CACHE: std::cell::RefCell<HashMap<State, Option<String>, BuildHasherDefault<FxHasher>>> =
                std::cell::RefCell::new(HashMap::default());
        }
        if let Some(found) = CACHE.with(|cache| cache.borrow().get(&self.state).cloned()) {
            return Ok(found);
        }
        let found = self.search()?;
        CACHE.with(|cache| {
            let mut cache = cache.borrow_mut();
            if cache.len() > 50_000 {
                cache.clear();
            }
            cache.insert(self.state.clone(), found.clone());
        });
        Ok(found)
    }

    fn search(&self) -> Result<Option<String>, Unsupported> {
        let classes = minterms(&self.sets);
        let mut representatives: Vec<u16> = classes.iter().filter_map(CharSet::representative).collect();
        // Letters and digits first, so that witnesses read like ordinary values.
        representatives.sort_by_key(|c| (witness_rank(*c), *c));
        let mut seen: HashMap<State, usize, BuildHasherDefault<FxHasher>> = HashMap::default();
        let mut queue = VecDeque::new();
        // (state, parent index, code unit)
        let mut trail: Vec<(Option<usize>, u16)> = Vec::new();
        if nullable(&self.state, true) {
            return Ok(Some(String::new()));
        }
        // The start state is distinct from later states because `^` depends on the position.
        trail.push((None, 0));
        queue.push_back((self.state.clone(), 0usize, true));
        while let Some((state, index, at_start)) = queue.pop_front() {
            for &c in &representatives {
                let next = derive(&state, c, at_start);
                if next == State::Nothing || seen.contains_key(&next) {
                    continue;
                }
                trail.push((Some(index), c));
                let next_index = trail.len() - 1;
                if nullable(&next, false) {
                    let mut units = Vec::new();
                    let mut at = next_index;
                    while let (Some(parent), c) = trail[at] {
                        units.push(c);
                        at = parent;
                    }
                    units.reverse();
                    return Ok(Some(String::from_utf16_lossy(&units)));
                }
                seen.insert(next.clone(), next_index);
                if seen.len() > STATE_LIMIT {
                    return Err(Unsupported(format!("more than {STATE_LIMIT} automaton states")));
                }
                queue.push_back((next, next_index, false));
            }
        }
        Ok(None)
    }

    pub fn is_empty(&self) -> Result<bool, Unsupported> {
        self.witness().map(|it| it.is_none())
    }

    /// Whether every string of `self` is in `other`.
    pub fn is_subset(&self, other: &Lang) -> Result<bool, Unsupported> {
        self.minus(other).is_empty()
    }
}

/// How readable a code unit is in a witness: letters first, then digits, then the rest.
pub fn witness_rank(c: u16) -> u8 {
    match char::from_u32(u32::from(c)) {
        Some(c) if c.is_ascii_alphabetic() => 0,
        Some(c) if c.is_ascii_digit() => 1,
        _ => 2,
    }
}

/// A state of a [`Dfa`] that accepts nothing more.
pub const DEAD: u32 = u32::MAX;

/// A deterministic automaton over UTF-16 code units, compiled from a [`Lang`]: integer states and a
/// transition table over the language's character classes.
#[derive(Clone, Debug)]
pub struct Dfa {
    /// Sorted starts of the intervals that make up the classes; interval `i` runs to the next start.
    starts: Vec<u16>,
    /// The class of each interval.
    interval_class: Vec<u32>,
    classes: usize,
    /// `next[state * classes + class]`.
    next: Vec<u32>,
    accepting: Vec<bool>,
}

impl Dfa {
    pub const START: u32 = 0;

    /// The automaton of exactly one string (what `Lang::literal(text).to_dfa()` gives, built directly).
    pub fn literal(text: &str) -> Dfa {
        let units: Vec<u16> = text.encode_utf16().collect();
        let distinct: BTreeSet<u16> = units.iter().copied().collect();
        let other = distinct.len() as u32;
        let (mut starts, mut interval_class) = (Vec::new(), Vec::new());
        let mut from: u32 = 0;
        for (class, &c) in distinct.iter().enumerate() {
            if u32::from(c) > from {
                starts.push(from as u16);
                interval_class.push(other);
            }
            starts.push(c);
            interval_class.push(class as u32);
            from = u32::from(c) + 1;
        }
        if from <= u32::from(u16::MAX) {
            starts.push(from as u16);
            interval_class.push(other);
        }
        let classes = distinct.len() + 1;
        let mut next = vec![DEAD; (units.len() + 1) * classes];
        for (state, c) in units.iter().enumerate() {
            let class = distinct.iter().position(|it| it == c).unwrap_or_default();
            next[state * classes + class] = state as u32 + 1;
        }
        let mut accepting = vec![false; units.len() + 1];
        accepting[units.len()] = true;
        Dfa { starts, interval_class, classes, next, accepting }
    }

    pub fn step(&self, state: u32, c: u16) -> u32 {
        if state == DEAD {
            return DEAD;
        }
        let interval = self.starts.partition_point(|start| *start <= c) - 1;
        self.next[state as usize * self.classes + self.interval_class[interval] as usize]
    }

    pub fn accepts(&self, state: u32) -> bool {
        state != DEAD && self.accepting[state as usize]
    }

    /// The character class of `c`: code units of one class take every state to the same next state.
    pub fn class(&self, c: u16) -> u32 {
        self.interval_class[self.starts.partition_point(|start| *start <= c) - 1]
    }

    /// [`Dfa::step`] for a code unit of `class`.
    pub fn step_class(&self, state: u32, class: u32) -> u32 {
        if state == DEAD {
            return DEAD;
        }
        self.next[state as usize * self.classes + class as usize]
    }

    /// Where the automaton's behaviour may change: the starts of its character intervals.
    pub fn boundaries(&self) -> &[u16] {
        &self.starts
    }

    pub fn state_count(&self) -> usize {
        self.accepting.len()
    }
}

impl Lang {
    /// Compiles the language to a deterministic automaton (at most [`STATE_LIMIT`] states).
    pub fn to_dfa(&self) -> Result<Dfa, Unsupported> {
        let classes = minterms(&self.sets);
        let mut intervals: Vec<(u16, u32)> = Vec::new();
        for (index, class) in classes.iter().enumerate() {
            for &(low, _) in &class.0 {
                intervals.push((low, index as u32));
            }
        }
        intervals.sort_unstable();
        let representatives: Vec<u16> = classes.iter().map(|it| it.representative().unwrap_or(0)).collect();
        let mut states: Vec<State> = vec![self.state.clone()];
        let mut index: HashMap<State, u32, BuildHasherDefault<FxHasher>> = HashMap::default();
        let mut next = Vec::new();
        let mut accepting = Vec::new();
        let mut at = 0;
        let mut heads = BTreeSet::new();
        let mut local: Vec<Option<u32>> = Vec::new();
        while at < states.len() {
            let at_start = at == 0;
            accepting.push(nullable(&states[at], at_start));
            // A state's derivative depends only on which of the sets at its head hold the code unit: one
            // derivative per class of those sets serves every class of the whole language inside it.
            heads.clear();
            state_heads(&states[at], &mut heads);
            let classes = minterms(&heads);
            local.clear();
            local.resize(classes.len(), None);
            for &c in &representatives {
                let Some(class) = classes.iter().position(|class| class.contains(c)) else {
                    next.push(DEAD);
                    continue;
                };
                if let Some(known) = local[class] {
                    next.push(known);
                    continue;
                }
                let derived = derive(&states[at], c, at_start);
                let target = if derived == State::Nothing {
                    DEAD
                } else if let Some(&known) = index.get(&derived) {
                    known
                } else {
                    let id = states.len() as u32;
                    if states.len() >= STATE_LIMIT {
                        return Err(Unsupported(format!("more than {STATE_LIMIT} automaton states")));
                    }
                    index.insert(derived.clone(), id);
                    states.push(derived);
                    id
                };
                local[class] = Some(target);
                next.push(target);
            }
            at += 1;
        }
        // States from which nothing is accepted any more are dead: a product automaton can drop them.
        let width = representatives.len();
        let mut predecessors: Vec<Vec<u32>> = vec![Vec::new(); accepting.len()];
        for (from, row) in next.chunks(width.max(1)).enumerate() {
            for &target in row.iter().filter(|it| **it != DEAD) {
                predecessors[target as usize].push(from as u32);
            }
        }
        let mut alive: Vec<bool> = accepting.clone();
        let mut stack: Vec<u32> = (0..accepting.len() as u32).filter(|it| accepting[*it as usize]).collect();
        while let Some(state) = stack.pop() {
            for &from in &predecessors[state as usize] {
                if !alive[from as usize] {
                    alive[from as usize] = true;
                    stack.push(from);
                }
            }
        }
        for target in &mut next {
            if *target != DEAD && !alive[*target as usize] {
                *target = DEAD;
            }
        }
        Ok(Dfa {
            starts: intervals.iter().map(|it| it.0).collect(),
            interval_class: intervals.iter().map(|it| it.1).collect(),
            classes: classes.len(),
            next,
            accepting,
        })
    }
}

/// How deeply groups may nest: parsing, derivatives and nullability recurse along the nesting, so a deeper
/// expression (JavaScript accepts thousands of levels) is refused rather than allowed to exhaust the stack.
pub const MAX_NESTING: usize = 256;

struct Parser {
    chars: Vec<u16>,
    at: usize,
    depth: usize,
}

fn unit(c: char) -> u16 {
    c as u16
}

impl Parser {
    fn peek(&self) -> Option<u16> {
        self.chars.get(self.at).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(unit(c)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn error(&self, what: &str) -> Unsupported {
        Unsupported(format!("{what} at offset {}", self.at))
    }

    fn parse(mut self) -> Result<Vec<Vec<Item>>, Unsupported> {
        let alternatives = self.alternatives()?;
        if self.at != self.chars.len() {
            return Err(self.error("unbalanced `)`"));
        }
        Ok(alternatives)
    }

    fn alternatives(&mut self) -> Result<Vec<Vec<Item>>, Unsupported> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error("groups nested too deeply"));
        }
        let mut out = vec![self.sequence()?];
        while self.eat('|') {
            out.push(self.sequence()?);
        }
        self.depth -= 1;
        Ok(out)
    }

    fn sequence(&mut self) -> Result<Vec<Item>, Unsupported> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == unit('|') || c == unit(')') {
                break;
            }
            let atom = self.atom()?;
            let atom = self.quantified(atom)?;
            items.push(atom);
        }
        Ok(items)
    }

    fn quantified(&mut self, atom: Item) -> Result<Item, Unsupported> {
        let (min, max) = match self.peek() {
            Some(c) if c == unit('*') => (0, None),
            Some(c) if c == unit('+') => (1, None),
            Some(c) if c == unit('?') => (0, Some(1)),
            Some(c) if c == unit('{') => {
                let start = self.at;
                match self.braces() {
                    Some(bounds) => bounds,
                    None => {
                        self.at = start;
                        return Ok(atom);
                    }
                }
            }
            _ => return Ok(atom),
        };
        if self.chars.get(self.at).is_some_and(|c| *c != unit('{')) {
            self.at += 1;
        }
        self.eat('?');
        if matches!(atom, Item::Look(..) | Item::Start | Item::End) {
            // A quantified assertion: `(?=x)?` and the like hold trivially when the minimum is zero.
            return Ok(if min == 0 { Item::Alt(Node::new(vec![vec![]])) } else { atom });
        }
        Ok(Item::Repeat(Node::new(vec![atom]), min, max))
    }

    /// `{n}`, `{n,}`, `{n,m}`; consumes through `}`.
    fn braces(&mut self) -> Option<(u32, Option<u32>)> {
        self.at += 1;
        let number = |parser: &mut Parser| -> Option<u32> {
            let start = parser.at;
            while parser.peek().is_some_and(|c| (unit('0')..=unit('9')).contains(&c)) {
                parser.at += 1;
            }
            String::from_utf16(&parser.chars[start..parser.at]).ok()?.parse().ok()
        };
        let min = number(self)?;
        let max = if self.eat(',') {
            if self.peek() == Some(unit('}')) { None } else { Some(number(self)?) }
        } else {
            Some(min)
        };
        if !self.eat('}') {
            return None;
        }
        self.at -= 1;
        Some((min, max))
    }

    fn atom(&mut self) -> Result<Item, Unsupported> {
        let Some(c) = self.peek() else { return Err(self.error("unexpected end")) };
        self.at += 1;
        Ok(match char::from_u32(u32::from(c)).unwrap_or('\u{fffd}') {
            '^' => Item::Start,
            '$' => Item::End,
            '.' => Item::Set(CharSet::from_ranges(vec![(0x0a, 0x0a), (0x0d, 0x0d), (0x2028, 0x2029)]).complement()),
            '[' => Item::Set(self.class()?),
            '(' => {
                if self.eat('?') {
                    if self.eat(':') {
                        let inner = self.alternatives()?;
                        self.close()?;
                        Item::Alt(Node::new(inner))
                    } else if self.eat('=') {
                        let inner = self.alternatives()?;
                        self.close()?;
                        Item::Look(false, Node::new(inner))
                    } else if self.eat('!') {
                        let inner = self.alternatives()?;
                        self.close()?;
                        Item::Look(true, Node::new(inner))
                    } else {
                        return Err(self.error("lookbehind or named group"));
                    }
                } else {
                    let inner = self.alternatives()?;
                    self.close()?;
                    Item::Alt(Node::new(inner))
                }
            }
            '\\' => Item::Set(self.escape(false)?),
            '*' | '+' | '?' => return Err(self.error("nothing to repeat")),
            _ => Item::Set(CharSet::unit(c)),
        })
    }

    fn close(&mut self) -> Result<(), Unsupported> {
        if self.eat(')') { Ok(()) } else { Err(self.error("missing `)`")) }
    }

    fn escape(&mut self, in_class: bool) -> Result<CharSet, Unsupported> {
        let Some(c) = self.peek() else { return Err(self.error("`\\` at the end")) };
        self.at += 1;
        let digit = CharSet::from_ranges(vec![(unit('0'), unit('9'))]);
        let word = CharSet::from_ranges(vec![
            (unit('0'), unit('9')),
            (unit('A'), unit('Z')),
            (unit('_'), unit('_')),
            (unit('a'), unit('z')),
        ]);
        let space = CharSet::from_ranges(vec![
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
        ]);
        let hex = |parser: &Parser, count: usize| -> Option<u16> {
            let digits = parser.chars.get(parser.at..parser.at + count)?;
            digits
                .iter()
                .try_fold(0u16, |value, &d| Some(value * 16 + char::from_u32(u32::from(d))?.to_digit(16)? as u16))
        };
        // Escapes as JavaScript reads them without the `u` flag (with the web-compatibility rules of Annex B).
        Ok(match char::from_u32(u32::from(c)).unwrap_or('\u{fffd}') {
            'd' => digit,
            'D' => digit.complement(),
            'w' => word,
            'W' => word.complement(),
            's' => space,
            'S' => space.complement(),
            'n' => CharSet::unit(0x0a),
            'r' => CharSet::unit(0x0d),
            't' => CharSet::unit(0x09),
            'v' => CharSet::unit(0x0b),
            'f' => CharSet::unit(0x0c),
            'b' if in_class => CharSet::unit(0x08),
            'b' | 'B' if !in_class => return Err(self.error("word boundary")),
            // `\xHH` and `\uHHHH`; with fewer hex digits, the letter itself.
            'x' | 'u' => {
                let count = if c == unit('x') { 2 } else { 4 };
                match hex(self, count) {
                    Some(value) => {
                        self.at += count;
                        CharSet::unit(value)
                    }
                    None => CharSet::unit(c),
                }
            }
            // `\cX` is a control character; otherwise the backslash is itself and `c` is read next.
            'c' => match self.peek() {
                Some(next)
                    if (unit('a')..=unit('z')).contains(&(next | 0x20))
                        || (in_class && (next == unit('_') || (unit('0')..=unit('9')).contains(&next))) =>
                {
                    self.at += 1;
                    CharSet::unit(next & 0x1f)
                }
                _ => {
                    self.at -= 1;
                    CharSet::unit(unit('\\'))
                }
            },
            // Legacy octal escapes: `\0` always, `\1` to `\7` inside classes.
            '0' => CharSet::unit(self.octal(c)),
            '1'..='7' if in_class => CharSet::unit(self.octal(c)),
            '1'..='9' if !in_class => return Err(self.error("backreference")),
            _ => CharSet::unit(c),
        })
    }

    /// A legacy octal escape whose first digit `first` was read: up to three digits, at most `\377`.
    fn octal(&mut self, first: u16) -> u16 {
        let octal_digit = |parser: &Parser| parser.peek().filter(|it| (unit('0')..=unit('7')).contains(it));
        let mut value = first - unit('0');
        if let Some(next) = octal_digit(self) {
            value = value * 8 + (next - unit('0'));
            self.at += 1;
            if value < 32
                && let Some(next) = octal_digit(self)
            {
                value = value * 8 + (next - unit('0'));
                self.at += 1;
            }
        }
        value
    }

    fn class(&mut self) -> Result<CharSet, Unsupported> {
        let negated = self.eat('^');
        let mut set = CharSet::empty();
        loop {
            let Some(c) = self.peek() else { return Err(self.error("missing `]`")) };
            self.at += 1;
            if c == unit(']') {
                break;
            }
            let low = if c == unit('\\') {
                let escaped = self.escape(true)?;
                if escaped.0.len() != 1 || escaped.0[0].0 != escaped.0[0].1 {
                    set = set.union(&escaped);
                    continue;
                }
                escaped.0[0].0
            } else {
                c
            };
            if self.peek() == Some(unit('-')) && self.chars.get(self.at + 1).is_some_and(|it| *it != unit(']')) {
                self.at += 1;
                let Some(high) = self.peek() else { return Err(self.error("missing `]`")) };
                self.at += 1;
                let high = if high == unit('\\') {
                    let escaped = self.escape(true)?;
                    if escaped.0.len() != 1 || escaped.0[0].0 != escaped.0[0].1 {
                        return Err(self.error("class range with a class escape"));
                    }
                    escaped.0[0].0
                } else {
                    high
                };
                if high < low {
                    return Err(self.error("class range out of order"));
                }
                set = set.union(&CharSet::from_ranges(vec![(low, high)]));
            } else {
                set = set.union(&CharSet::unit(low));
            }
        }
        Ok(if negated { set.complement() } else { set })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes are hashed a word at a time, the last word zero-padded, whatever the length.
    #[test]
    fn bytes_hash_as_little_endian_words() {
        let bytes: Vec<u8> = (1..=40u8).map(|it| it.wrapping_mul(37)).collect();
        for length in 0..=bytes.len() {
            let mut hasher = FxHasher::default();
            hasher.write(&bytes[..length]);
            let mut expected = FxHasher::default();
            for chunk in bytes[..length].chunks(8) {
                let mut word = [0u8; 8];
                word[..chunk.len()].copy_from_slice(chunk);
                expected.add(u64::from_le_bytes(word));
            }
            assert_eq!(hasher.finish(), expected.finish(), "{length} bytes");
        }
    }

    fn run(dfa: &Dfa, text: &str) -> bool {
        dfa.accepts(text.encode_utf16().fold(Dfa::START, |state, c| dfa.step(state, c)))
    }

    #[test]
    fn literal_automata_accept_exactly_their_string() {
        let probes = [
            "",
            "a",
            "ab",
            "abc",
            "abca",
            "b",
            "/app/db",
            "/app/d",
            "/app/dbx",
            "\u{0}",
            "\u{ffff}",
            "é",
            "ab\u{ffff}",
        ];
        for text in ["abca", "/app/db", "", "\u{0}", "\u{ffff}", "ab\u{ffff}", "é"] {
            let direct = Dfa::literal(text);
            let derived = Lang::literal(text).to_dfa().unwrap();
            for probe in probes {
                assert_eq!(run(&direct, probe), probe == text, "{text:?} on {probe:?}");
                assert_eq!(run(&derived, probe), probe == text, "{text:?} on {probe:?}");
            }
        }
    }

    #[test]
    fn states_that_accept_nothing_any_more_are_dead() {
        // `(?!x)` keeps a lookahead around; after `b`, nothing is accepted.
        let dfa = lang(r"^(?:a(?!x).*)$").to_dfa().unwrap();
        assert_eq!(dfa.step(Dfa::START, u16::from(b'b')), DEAD);
        assert_ne!(dfa.step(Dfa::START, u16::from(b'a')), DEAD);
        assert!(run(&dfa, "ay") && !run(&dfa, "ax") && !run(&dfa, "b"));
    }

    fn lang(source: &str) -> Lang {
        Lang::regex(source).unwrap()
    }

    #[test]
    fn matches_like_javascript() {
        let globstar = lang(r"^(?:\/app(?:\/(?!\.)(?:(?:(?!(?:^|\/)\.).)*?)|$))$");
        for (text, expected) in [
            ("/app", true),
            ("/app/x", true),
            ("/app/x/y", true),
            ("/app/.env", false),
            ("/app/x/.git", false),
            ("/apple", false),
            ("/app/", true),
        ] {
            assert_eq!(globstar.contains(text), expected, "{text}");
        }
        let star = lang(r"^(?:(?!\.)(?=.)[^/]*?\/?)$");
        for (text, expected) in [("/", true), ("a", true), ("a/", true), ("", false), (".a", false), ("a/b", false)] {
            assert_eq!(star.contains(text), expected, "{text}");
        }
        let negated = lang(r"^(?:\/app\/(?:(?!(?:x)$))[^/]*?)$");
        assert!(negated.contains("/app/y") && negated.contains("/app/xy") && !negated.contains("/app/x"));
    }

    #[test]
    fn decides_emptiness_inclusion_and_gives_witnesses() {
        let all = lang(r"^(?:\/(?!\.)(?:(?:(?!(?:^|\/)\.).)*?))$");
        let app = lang(r"^(?:\/app(?:\/(?!\.)(?:(?:(?!(?:^|\/)\.).)*?)|$))$");
        let one = lang(r"^(?:\/app\/(?!\.)(?=.)[^/]*?\/?)$");
        // `[^/]` takes line terminators and `.` does not, so `/app/*` holds `/app/a\n` and `/app/**` does not.
        assert_eq!(one.minus(&app).witness().unwrap().as_deref(), Some("/app/a\n"));
        let printable = lang(r"^[ -~]*$");
        assert!(one.intersect(&printable).is_subset(&app).unwrap());
        assert!(app.is_subset(&all).unwrap());
        assert!(!app.is_subset(&one).unwrap());
        let witness = app.minus(&one).witness().unwrap().unwrap();
        assert!(app.contains(&witness) && !one.contains(&witness), "{witness}");
        assert_eq!(Lang::literal("/app").minus(&app).witness().unwrap(), None);
        assert_eq!(Lang::nothing().witness().unwrap(), None);
        let dotted = Lang::literal("/app/.env");
        assert!(dotted.intersect(&app).is_empty().unwrap());
        assert!(!Lang::anything().minus(&all).is_empty().unwrap());
    }

    /// A small deterministic generator for the property tests below.
    fn next(seed: &mut u64) -> u64 {
        *seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        *seed >> 33
    }

    #[test]
    fn intersections_of_character_sets_are_exact_and_normal() {
        let mut seed = 7;
        let random_set = |seed: &mut u64| {
            let ranges = (0..next(seed) % 5)
                .map(|_| {
                    let low = (next(seed) % 120) as u16;
                    (low, low + (next(seed) % 20) as u16)
                })
                .collect();
            CharSet::from_ranges(ranges)
        };
        for _ in 0..500 {
            let (a, b) = (random_set(&mut seed), random_set(&mut seed));
            let both = a.intersect(&b);
            assert_eq!(both, a.complement().union(&b.complement()).complement(), "{a:?} & {b:?}");
            for c in 0..150 {
                assert_eq!(both.contains(c), a.contains(c) && b.contains(c));
            }
        }
        assert_eq!(CharSet::all().intersect(&CharSet::unit(7)), CharSet::unit(7));
        assert!(CharSet::empty().intersect(&CharSet::all()).is_empty());
    }

    /// The automaton (one derivative per class of the sets at a state's head) agrees with deriving the
    /// language code unit by code unit.
    #[test]
    fn automata_agree_with_derivatives_on_every_probe() {
        let sources = [
            r"^(?:\/app(?:\/(?!\.)(?:(?:(?!(?:^|\/)\.).)*?)|$))$",
            r"^(?:(?!\.)(?=.)[^/]*?\/?)$",
            r"^(?:\/app\/(?:(?!(?:x)$))[^/]*?)$",
            r"^(?:\/team-0[1-3]\/(?:svc-(?:a|b)|shared)\/(?!\.)(?=.)[^/]*?\.env\/?)$",
            r"^(?:a{2,3}(?:b|c)*d?)$",
            r"^(?:(?=.*x)(?!.*y)[a-z]{1,4})$",
        ];
        let alphabet: Vec<u16> = "/.abcdxyz-0123_\nt".encode_utf16().chain([0x2028, 0xe9]).collect();
        let mut seed = 11;
        for source in sources {
            let language = lang(source);
            let dfa = language.to_dfa().unwrap();
            for _ in 0..3000 {
                let length = next(&mut seed) % 12;
                let units: Vec<u16> =
                    (0..length).map(|_| alphabet[(next(&mut seed) as usize) % alphabet.len()]).collect();
                let text = String::from_utf16_lossy(&units);
                assert_eq!(run(&dfa, &text), language.contains(&text), "{source} on {text:?}");
            }
            for text in ["/app", "/app/x", "/team-02/shared/a.env", "aab", "aaacbd", "xab"] {
                assert_eq!(run(&dfa, text), language.contains(text), "{source} on {text:?}");
            }
        }
    }

    #[test]
    fn refuses_what_it_cannot_model() {
        assert!(Lang::regex(r"(?<=a)b").is_err());
        assert!(Lang::regex(r"(a)\1").is_err());
        assert!(Lang::regex(r"(a").is_err());
    }
}
