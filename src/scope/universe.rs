//! The values of one string field, cut into the pieces the rules can tell apart.
//!
//! Every condition on a string field is a Boolean combination of *atoms*: a literal string (`$eq`, `$ne`,
//! `$in`, plain values) or a `$glob` pattern's language. Two values that belong to the same atoms are
//! indistinguishable to every rule, so a field's values fall into finitely many classes, the *signatures*.
//! They are found once, by running the automata of all atoms side by side (a product automaton explored
//! breadth-first, each reachable product state showing one signature and, by its path, the shortest value
//! with it). After that, a set of values is a bit set over signatures and every question is bit arithmetic.
//!
//! A run first builds one universe per field over every atom of the repository ([`seed`]), so that all
//! groups share it; a group with atoms the seeded universe lacks (or when seeding gave up) gets a universe
//! over its own atoms, cached by its atom set.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;

pub(super) use crate::bits::Bits;
use crate::lang::{DEAD, Dfa, FxBuild, Unsupported};

/// The most product states a universe may have before the question is given up.
const STATE_LIMIT: usize = 400_000;

/// A literal value or a `$glob` pattern.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Atom {
    Literal(String),
    Glob(String),
}

/// The signatures of one field's values over a set of atoms.
#[derive(Debug)]
pub(super) struct Universe {
    /// Per atom kind (literals, globs), the atom's index by its text.
    literals: HashMap<String, usize, FxBuild>,
    globs: HashMap<String, usize, FxBuild>,
    dfas: Vec<Arc<Dfa>>,
    domain: Option<Arc<Dfa>>,
    /// The shortest value of each signature.
    witnesses: Vec<String>,
    /// The signature of each label (the sorted atoms a value belongs to).
    labels: HashMap<Vec<u32>, usize, FxBuild>,
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

    /// The signatures of the literal `text`.
    pub fn literal(&self, text: &str) -> Option<&Bits> {
        self.literals.get(text).map(|&at| &self.members[at])
    }

    /// The signatures of the glob `pattern`.
    pub fn glob(&self, pattern: &str) -> Option<&Bits> {
        self.globs.get(pattern).map(|&at| &self.members[at])
    }

    fn position(&self, atom: &Atom) -> Option<usize> {
        match atom {
            Atom::Literal(text) => self.literals.get(text).copied(),
            Atom::Glob(pattern) => self.globs.get(pattern).copied(),
        }
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
        let dfas: Vec<Arc<Dfa>> = atoms.iter().map(dfa).collect::<Result<_, _>>()?;
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

        // Every atom's automaton in one flat table over the intervals of `order`: atom `a`'s state `s` is
        // the global state `offsets[a] + s`.
        let columns = order.len();
        let class_table = |dfa: &Dfa| -> Vec<u32> { order.iter().map(|&at| dfa.class(representatives[at])).collect() };
        let mut offsets = Vec::with_capacity(dfas.len());
        let mut total = 0usize;
        for dfa in &dfas {
            offsets.push(total as u32);
            total += dfa.state_count();
        }
        let mut table = vec![DEAD; total * columns];
        let mut atom_of = vec![0u32; total];
        let mut accepting = vec![false; total];
        for (atom, dfa) in dfas.iter().enumerate() {
            let classes = class_table(dfa);
            for state in 0..dfa.state_count() as u32 {
                let global = (offsets[atom] + state) as usize;
                atom_of[global] = atom as u32;
                accepting[global] = dfa.accepts(state);
                for (column, class) in classes.iter().enumerate() {
                    let next = dfa.step_class(state, *class);
                    if next != DEAD {
                        table[global * columns + column] = offsets[atom] + next;
                    }
                }
            }
        }
        let domain_table: Option<(Vec<u32>, &Dfa)> = domain.as_deref().map(|dfa| {
            let classes = class_table(dfa);
            let table = (0..dfa.state_count() as u32)
                .flat_map(|state| classes.iter().map(move |class| dfa.step_class(state, *class)))
                .collect();
            (table, dfa)
        });

        // A product state: the domain automaton's state, then the global states of the atoms still alive.
        let start: Box<[u32]> = std::iter::once(Dfa::START).chain(offsets.iter().copied()).collect();
        let mut parents: Vec<(usize, u16)> = vec![(usize::MAX, 0)];
        let mut seen: HashSet<Box<[u32]>, FxBuild> = HashSet::default();
        seen.insert(start.clone());
        let mut queue = VecDeque::from([(0usize, start)]);
        let mut witnesses: Vec<String> = Vec::new();
        let mut labels: HashMap<Vec<u32>, usize, FxBuild> = HashMap::default();
        let mut label = Vec::new();
        let mut next = Vec::new();
        while let Some((at, state)) = queue.pop_front() {
            let (domain_state, live) = (state[0], &state[1..]);
            // Values are never empty (Infisical refuses empty condition values and names).
            let in_domain = at != 0 && domain_table.as_ref().is_none_or(|(_, dfa)| dfa.accepts(domain_state));
            if in_domain {
                label.clear();
                label.extend(
                    live.iter().filter(|global| accepting[**global as usize]).map(|global| atom_of[*global as usize]),
                );
                if !labels.contains_key(&label) {
                    labels.insert(label.clone(), witnesses.len());
                    witnesses.push(trace(&parents, at));
                }
            }
            for (column, &interval) in order.iter().enumerate() {
                next.clear();
                next.push(match &domain_table {
                    Some((table, _)) => {
                        let stepped = table[domain_state as usize * columns + column];
                        if stepped == DEAD {
                            continue;
                        }
                        stepped
                    }
                    None => 0,
                });
                next.extend(
                    live.iter().map(|global| table[*global as usize * columns + column]).filter(|it| *it != DEAD),
                );
                if seen.contains(next.as_slice()) {
                    continue;
                }
                if seen.len() >= STATE_LIMIT {
                    return Err(Unsupported(format!("more than {STATE_LIMIT} states for one field")));
                }
                let boxed: Box<[u32]> = next.as_slice().into();
                seen.insert(boxed.clone());
                parents.push((at, representatives[interval]));
                queue.push_back((parents.len() - 1, boxed));
            }
        }
        let mut members = vec![Bits::empty(witnesses.len()); atoms.len()];
        for (label, &signature) in &labels {
            for &atom in label {
                members[atom as usize].set(signature);
            }
        }
        let (mut literals, mut globs) = (HashMap::default(), HashMap::default());
        for (at, atom) in atoms.into_iter().enumerate() {
            match atom {
                Atom::Literal(text) => literals.insert(text, at),
                Atom::Glob(pattern) => globs.insert(pattern, at),
            };
        }
        let all = Bits::full(witnesses.len());
        Ok(Universe { literals, globs, dfas, domain, witnesses, labels, members, all })
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

/// Universes over exactly these atoms (and whether within the secret-path domain).
type AtomSet = (bool, BTreeSet<Atom>);

thread_local! {
    static AUTOMATA: RefCell<HashMap<Atom, Arc<Dfa>>> = RefCell::new(HashMap::new());
    static DOMAIN: RefCell<Option<Arc<Dfa>>> = const { RefCell::new(None) };
    static UNIVERSES: RefCell<HashMap<AtomSet, Arc<Universe>>> = RefCell::new(HashMap::new());
    static SEEDED: RefCell<HashMap<(String, bool), Arc<Universe>>> = RefCell::new(HashMap::new());
    static SEEDED_TAGS: RefCell<HashMap<String, Arc<Vec<String>>>> = RefCell::new(HashMap::new());
}

/// Forgets every automaton and universe of earlier runs: caches live for one run, so a long-lived process
/// does not grow with every repository state it has seen.
pub(super) fn reset() {
    AUTOMATA.with(|it| it.borrow_mut().clear());
    UNIVERSES.with(|it| it.borrow_mut().clear());
    SEEDED.with(|it| it.borrow_mut().clear());
    SEEDED_TAGS.with(|it| it.borrow_mut().clear());
}

fn dfa(atom: &Atom) -> Result<Arc<Dfa>, Unsupported> {
    if let Some(found) = AUTOMATA.with(|cache| cache.borrow().get(atom).cloned()) {
        return Ok(found);
    }
    let compiled = Arc::new(compile(atom)?);
    AUTOMATA.with(|cache| cache.borrow_mut().insert(atom.clone(), compiled.clone()));
    Ok(compiled)
}

fn compile(atom: &Atom) -> Result<Dfa, Unsupported> {
    Ok(match atom {
        Atom::Literal(text) => Dfa::literal(text),
        Atom::Glob(pattern) => super::glob_language(pattern).map_err(Unsupported)?.to_dfa()?,
    })
}

/// Compiles the automata of `atoms` not compiled yet, on every core: a repository's globs are many and
/// independent.
fn precompile(atoms: &BTreeSet<Atom>) {
    use rayon::prelude::*;
    let missing: Vec<&Atom> =
        AUTOMATA.with(|cache| atoms.iter().filter(|atom| !cache.borrow().contains_key(*atom)).collect());
    let compiled: Vec<(&Atom, Dfa)> =
        missing.par_iter().filter_map(|atom| Some((*atom, compile(atom).ok()?))).collect();
    AUTOMATA.with(|cache| {
        let mut cache = cache.borrow_mut();
        for (atom, dfa) in compiled {
            cache.insert(atom.clone(), Arc::new(dfa));
        }
    });
}

fn domain_dfa() -> Result<Arc<Dfa>, Unsupported> {
    if let Some(found) = DOMAIN.with(|it| it.borrow().clone()) {
        return Ok(found);
    }
    let compiled = Arc::new(super::secret_paths().to_dfa()?);
    DOMAIN.with(|it| *it.borrow_mut() = Some(compiled.clone()));
    Ok(compiled)
}

/// The universe of the field `field` that knows every atom of `needed`: the field's repository-wide
/// universe when [`seed`] built one that does, or else one over exactly `needed` (within the secret-path
/// domain when `path`), cached by its atoms.
pub(super) fn universe(field: &str, path: bool, needed: &BTreeSet<Atom>) -> Result<Arc<Universe>, Unsupported> {
    // A handful of fields are seeded: looking through them copies nothing.
    let seeded = SEEDED.with(|cache| {
        let cache = cache.borrow();
        let (_, found) = cache.iter().find(|((name, kind), _)| name == field && *kind == path)?;
        needed.iter().all(|atom| found.position(atom).is_some()).then(|| found.clone())
    });
    if let Some(seeded) = seeded {
        return Ok(seeded);
    }
    let key = (path, needed.clone());
    if let Some(cached) = UNIVERSES.with(|cache| cache.borrow().get(&key).cloned()) {
        return Ok(cached);
    }
    let built = Arc::new(Universe::build(needed.iter().cloned().collect(), path)?);
    UNIVERSES.with(|cache| cache.borrow_mut().insert(key, built.clone()));
    Ok(built)
}

/// The universe seeded for a field of this run, if seeding built one.
pub(super) fn seeded(field: &str, path: bool) -> Option<Arc<Universe>> {
    SEEDED.with(|cache| {
        cache.borrow().iter().find(|((name, kind), _)| name == field && *kind == path).map(|(_, found)| found.clone())
    })
}

/// Every tag a run mentions of the tag field `field` (sorted), when [`seed_tags`] recorded them.
pub(super) fn seeded_tags(field: &str) -> Option<Arc<Vec<String>>> {
    SEEDED_TAGS.with(|cache| cache.borrow().get(field).cloned())
}

/// Records every tag a run mentions of the tag field `field`, so that groups share one truth table.
pub(super) fn seed_tags(field: &str, tags: Vec<String>) {
    SEEDED_TAGS.with(|cache| cache.borrow_mut().insert(field.to_owned(), Arc::new(tags)));
}

/// The automata and seeded universes of this thread, to share with other threads of the same run.
pub(super) struct Shared {
    automata: Vec<(Atom, Arc<Dfa>)>,
    domain: Option<Arc<Dfa>>,
    seeded: Vec<((String, bool), Arc<Universe>)>,
    tags: Vec<(String, Arc<Vec<String>>)>,
}

/// What this thread has compiled and seeded.
pub(super) fn export() -> Shared {
    Shared {
        automata: AUTOMATA.with(|it| it.borrow().iter().map(|(atom, dfa)| (atom.clone(), dfa.clone())).collect()),
        domain: DOMAIN.with(|it| it.borrow().clone()),
        seeded: SEEDED.with(|it| it.borrow().iter().map(|(key, universe)| (key.clone(), universe.clone())).collect()),
        tags: SEEDED_TAGS.with(|it| it.borrow().iter().map(|(key, tags)| (key.clone(), tags.clone())).collect()),
    }
}

/// Starts this thread's run with what another thread compiled and seeded (the same values: answers and
/// witnesses do not depend on the thread).
pub(super) fn import(shared: &Shared) {
    reset();
    AUTOMATA.with(|it| it.borrow_mut().extend(shared.automata.iter().cloned()));
    DOMAIN.with(|it| *it.borrow_mut() = shared.domain.clone());
    SEEDED.with(|it| it.borrow_mut().extend(shared.seeded.iter().cloned()));
    SEEDED_TAGS.with(|it| it.borrow_mut().extend(shared.tags.iter().cloned()));
}

/// Builds the universe of `field` over every atom a run will ask about, so that groups share it instead of
/// each building its own. When it would be too large, groups fall back to universes of their own atoms.
pub(super) fn seed(field: &str, path: bool, atoms: &BTreeSet<Atom>) {
    precompile(atoms);
    if let Ok(built) = Universe::build(atoms.iter().cloned().collect(), path) {
        SEEDED.with(|cache| cache.borrow_mut().insert((field.to_owned(), path), Arc::new(built)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_separate_what_the_atoms_separate() {
        let atoms: BTreeSet<Atom> =
            [Atom::Glob("/app/**".into()), Atom::Glob("/app/*".into()), Atom::Literal("/app/db".into())].into();
        let universe = Universe::build(atoms.into_iter().collect(), true).unwrap();
        // Outside every atom; in `/app/**` only (`/app` itself, deeper paths); in both globs; `/app/db`.
        assert_eq!(universe.len(), 4, "{:?}", universe.witnesses);
        let deep = universe.signature_of("/app/a/b").unwrap();
        let shallow = universe.signature_of("/app/x").unwrap();
        let db = universe.signature_of("/app/db").unwrap();
        assert_ne!(deep, shallow);
        assert_ne!(shallow, db);
        assert_eq!(universe.signature_of("/app/"), None, "outside the domain");
        assert!(universe.literal("/app/db").unwrap().contains(db));
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
