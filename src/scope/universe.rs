//! The values of one string field, cut into the pieces the rules can tell apart.
//!
//! Every condition on a string field is a Boolean combination of *atoms*: a literal string (`$eq`, `$ne`,
//! `$in`, plain values) or a `$glob` pattern's language. Two values that belong to the same atoms are
//! indistinguishable to every rule, so a field's values fall into finitely many classes, the *signatures*.
//! They are found once, by running the automata of all atoms side by side (a product automaton explored
//! breadth-first, each reachable product state showing one signature and, by its path, the shortest value
//! with it). After that, a set of values is a bit set over signatures and every question is bit arithmetic.
//!
//! A universe is kept per field name for the whole run and rebuilt when a rule brings an atom it has not
//! seen; [`seed`] lets a caller announce every atom up front.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::rc::Rc;

use crate::lang::{DEAD, Dfa, Lang, Unsupported};

/// The most product states a universe may have before the question is given up.
const STATE_LIMIT: usize = 400_000;

/// A set of signature (or truth-table row) indices.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Bits(Vec<u64>);

impl Bits {
    pub fn empty(len: usize) -> Bits {
        Bits(vec![0; len.div_ceil(64)])
    }

    pub fn full(len: usize) -> Bits {
        let mut bits = Bits(vec![u64::MAX; len.div_ceil(64)]);
        if len % 64 != 0
            && let Some(last) = bits.0.last_mut()
        {
            *last = (1u64 << (len % 64)) - 1;
        }
        bits
    }

    pub fn set(&mut self, index: usize) {
        self.0[index / 64] |= 1 << (index % 64);
    }

    pub fn contains(&self, index: usize) -> bool {
        self.0.get(index / 64).is_some_and(|word| word & (1 << (index % 64)) != 0)
    }

    pub fn and(&self, other: &Bits) -> Bits {
        Bits(self.0.iter().zip(&other.0).map(|(a, b)| a & b).collect())
    }

    pub fn and_not(&self, other: &Bits) -> Bits {
        Bits(self.0.iter().zip(&other.0).map(|(a, b)| a & !b).collect())
    }

    pub fn or(&self, other: &Bits) -> Bits {
        Bits(self.0.iter().zip(&other.0).map(|(a, b)| a | b).collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|word| *word == 0)
    }

    pub fn first(&self) -> Option<usize> {
        self.0.iter().enumerate().find(|(_, word)| **word != 0).map(|(at, word)| at * 64 + word.trailing_zeros() as usize)
    }

    pub fn is_superset(&self, other: &Bits) -> bool {
        other.and_not(self).is_empty()
    }
}

/// A literal value or a `$glob` pattern.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Atom {
    Literal(String),
    Glob(String),
}

/// The signatures of one field's values over a set of atoms.
#[derive(Debug)]
pub(super) struct Universe {
    atoms: Vec<Atom>,
    index: HashMap<Atom, usize>,
    dfas: Vec<Rc<Dfa>>,
    domain: Option<Rc<Dfa>>,
    /// The shortest value of each signature.
    witnesses: Vec<String>,
    /// The signature of each label (the sorted atoms a value belongs to).
    labels: HashMap<Vec<u32>, usize>,
    /// Per atom, the signatures of its values.
    members: Vec<Bits>,
    /// Every signature (within the domain).
    all: Bits,
}

impl Universe {
    pub fn len(&self) -> usize {
        self.witnesses.len()
    }

    pub fn all(&self) -> &Bits {
        &self.all
    }

    /// The signatures of an atom's values; `None` for an atom the universe was not built with.
    pub fn atom(&self, atom: &Atom) -> Option<&Bits> {
        self.index.get(atom).map(|&at| &self.members[at])
    }

    pub fn witness(&self, signature: usize) -> &str {
        &self.witnesses[signature]
    }

    /// The signature of a value; `None` outside the domain.
    pub fn signature_of(&self, value: &str) -> Option<usize> {
        let units: Vec<u16> = value.encode_utf16().collect();
        let run = |dfa: &Dfa| units.iter().fold(Dfa::START, |state, c| dfa.step(state, *c));
        if let Some(domain) = &self.domain
            && !domain.accepts(run(domain))
        {
            return None;
        }
        let label: Vec<u32> =
            self.dfas.iter().enumerate().filter(|(_, dfa)| dfa.accepts(run(dfa))).map(|(at, _)| at as u32).collect();
        self.labels.get(&label).copied()
    }

    fn build(atoms: Vec<Atom>, path: bool) -> Result<Universe, Unsupported> {
        let dfas: Vec<Rc<Dfa>> = atoms.iter().map(dfa).collect::<Result<_, _>>()?;
        let domain = if path { Some(domain_dfa()?) } else { None };
        // The intervals of code units every automaton treats alike.
        let mut bounds: BTreeSet<u16> = BTreeSet::new();
        for dfa in dfas.iter().chain(&domain) {
            bounds.extend(dfa.boundaries());
        }
        let bounds: Vec<u16> = bounds.into_iter().collect();
        let representatives: Vec<u16> = bounds
            .iter()
            .enumerate()
            .map(|(at, &low)| {
                let high = bounds.get(at + 1).map_or(u16::MAX, |next| next - 1);
                representative(low, high)
            })
            .collect();
        // Letters and digits first, so that witnesses read like ordinary values.
        let mut order: Vec<usize> = (0..representatives.len()).collect();
        order.sort_by_key(|at| {
            let c = representatives[*at];
            (crate::lang::witness_rank(c), c)
        });

        type State = (u32, Vec<(u32, u32)>);
        let start: State = (Dfa::START, (0..dfas.len() as u32).map(|at| (at, Dfa::START)).collect());
        let mut states: Vec<State> = vec![start.clone()];
        let mut parents: Vec<(usize, u16)> = vec![(usize::MAX, 0)];
        let mut seen: HashMap<State, usize> = HashMap::from([(start, 0)]);
        let mut queue = VecDeque::from([0usize]);
        let mut witnesses: Vec<String> = Vec::new();
        let mut labels: HashMap<Vec<u32>, usize> = HashMap::new();
        while let Some(at) = queue.pop_front() {
            let (domain_state, live) = states[at].clone();
            // Values are never empty (Infisical refuses empty condition values and names).
            let in_domain = at != 0 && domain.as_ref().is_none_or(|it| it.accepts(domain_state));
            if in_domain {
                let label: Vec<u32> =
                    live.iter().filter(|(atom, state)| dfas[*atom as usize].accepts(*state)).map(|it| it.0).collect();
                if !labels.contains_key(&label) {
                    labels.insert(label, witnesses.len());
                    witnesses.push(trace(&parents, at));
                }
            }
            for &interval in &order {
                let c = representatives[interval];
                let next_domain = match &domain {
                    Some(domain) => {
                        let next = domain.step(domain_state, c);
                        if next == DEAD {
                            continue;
                        }
                        next
                    }
                    None => 0,
                };
                let next_live: Vec<(u32, u32)> = live
                    .iter()
                    .filter_map(|&(atom, state)| {
                        let next = dfas[atom as usize].step(state, c);
                        (next != DEAD).then_some((atom, next))
                    })
                    .collect();
                let next = (next_domain, next_live);
                if seen.contains_key(&next) {
                    continue;
                }
                if states.len() >= STATE_LIMIT {
                    return Err(Unsupported(format!("more than {STATE_LIMIT} states for one field")));
                }
                seen.insert(next.clone(), states.len());
                parents.push((at, c));
                queue.push_back(states.len());
                states.push(next);
            }
        }
        let mut members = vec![Bits::empty(witnesses.len()); atoms.len()];
        for (label, &signature) in &labels {
            for &atom in label {
                members[atom as usize].set(signature);
            }
        }
        let index = atoms.iter().cloned().enumerate().map(|(at, atom)| (atom, at)).collect();
        let all = Bits::full(witnesses.len());
        Ok(Universe { atoms, index, dfas, domain, witnesses, labels, members, all })
    }
}

/// The value spelled by the path from the start state to `at`.
fn trace(parents: &[(usize, u16)], mut at: usize) -> String {
    let mut units = Vec::new();
    while parents[at].0 != usize::MAX {
        units.push(parents[at].1);
        at = parents[at].0;
    }
    units.reverse();
    String::from_utf16_lossy(&units)
}

/// A code unit of `low..=high` to stand for the interval: a letter, digit, `-` or `_` when there is one.
fn representative(low: u16, high: u16) -> u16 {
    const PREFERRED: &str = "abcxyz0123456789ABCXYZ_-.";
    PREFERRED.encode_utf16().find(|c| (low..=high).contains(c)).unwrap_or(low)
}

thread_local! {
    static AUTOMATA: RefCell<HashMap<Atom, Rc<Dfa>>> = RefCell::new(HashMap::new());
    static DOMAIN: RefCell<Option<Rc<Dfa>>> = const { RefCell::new(None) };
    static UNIVERSES: RefCell<HashMap<(String, bool), Rc<Universe>>> = RefCell::new(HashMap::new());
}

fn dfa(atom: &Atom) -> Result<Rc<Dfa>, Unsupported> {
    if let Some(found) = AUTOMATA.with(|cache| cache.borrow().get(atom).cloned()) {
        return Ok(found);
    }
    let lang = match atom {
        Atom::Literal(text) => Lang::literal(text),
        Atom::Glob(pattern) => super::glob_language(pattern).map_err(Unsupported)?,
    };
    let compiled = Rc::new(lang.to_dfa()?);
    AUTOMATA.with(|cache| cache.borrow_mut().insert(atom.clone(), compiled.clone()));
    Ok(compiled)
}

fn domain_dfa() -> Result<Rc<Dfa>, Unsupported> {
    if let Some(found) = DOMAIN.with(|it| it.borrow().clone()) {
        return Ok(found);
    }
    let compiled = Rc::new(super::secret_paths().to_dfa()?);
    DOMAIN.with(|it| *it.borrow_mut() = Some(compiled.clone()));
    Ok(compiled)
}

/// The universe of a field that knows every atom of `needed`.
pub(super) fn universe(field: &str, path: bool, needed: &BTreeSet<Atom>) -> Result<Rc<Universe>, Unsupported> {
    let key = (field.to_owned(), path);
    let cached = UNIVERSES.with(|cache| cache.borrow().get(&key).cloned());
    if let Some(cached) = &cached
        && needed.iter().all(|atom| cached.index.contains_key(atom))
    {
        return Ok(cached.clone());
    }
    let mut atoms: BTreeSet<Atom> = cached.map(|it| it.atoms.iter().cloned().collect()).unwrap_or_default();
    atoms.extend(needed.iter().cloned());
    let built = Rc::new(Universe::build(atoms.into_iter().collect(), path)?);
    UNIVERSES.with(|cache| cache.borrow_mut().insert(key, built.clone()));
    Ok(built)
}

/// Announces atoms before any question is asked, so the field's universe is built once.
pub(super) fn seed(field: &str, path: bool, atoms: &BTreeSet<Atom>) -> Result<(), Unsupported> {
    universe(field, path, atoms).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_separate_what_the_atoms_separate() {
        let atoms: BTreeSet<Atom> = [
            Atom::Glob("/app/**".into()),
            Atom::Glob("/app/*".into()),
            Atom::Literal("/app/db".into()),
        ]
        .into();
        let universe = Universe::build(atoms.into_iter().collect(), true).unwrap();
        // Outside every atom; in `/app/**` only (`/app` itself, deeper paths); in both globs; `/app/db`.
        assert_eq!(universe.len(), 4, "{:?}", universe.witnesses);
        let deep = universe.signature_of("/app/a/b").unwrap();
        let shallow = universe.signature_of("/app/x").unwrap();
        let db = universe.signature_of("/app/db").unwrap();
        assert_ne!(deep, shallow);
        assert_ne!(shallow, db);
        assert_eq!(universe.signature_of("/app/"), None, "outside the domain");
        assert!(universe.atom(&Atom::Literal("/app/db".into())).unwrap().contains(db));
        for signature in 0..universe.len() {
            assert_eq!(universe.signature_of(universe.witness(signature)), Some(signature));
        }
    }

    #[test]
    fn bits() {
        let mut a = Bits::empty(70);
        a.set(3);
        a.set(69);
        let b = Bits::full(70);
        assert_eq!(a.and(&b), a);
        assert!(b.is_superset(&a));
        assert_eq!(b.and_not(&a).first(), Some(0));
        assert!(b.and_not(&b).is_empty());
        assert!(!Bits::full(70).contains(70));
    }
}
