//! Bit sets over small indices, shared by the scope procedure, the role miner and the glob matcher.

use std::hash::{Hash, Hasher};

/// Sets of up to this many words (128 indices) are held inline, without an allocation: most condition
/// fields have a handful of signatures or truth-table rows, and the scope procedure copies and combines
/// their sets constantly; only large universes (a repository's `secretPath` globs) need the heap.
const INLINE: usize = 2;

/// A set of small indices (signatures, truth-table rows, users, permissions, input positions) as `u64` words.
/// Equality, order and hash are those of the word list, however it is held.
#[derive(Clone)]
pub struct Bits(Words);

#[derive(Clone)]
enum Words {
    Inline { len: u8, words: [u64; INLINE] },
    Heap(Vec<u64>),
}

impl Bits {
    /// The set of the given words.
    fn collect(words: impl Iterator<Item = u64>) -> Bits {
        if words.size_hint().1.is_some_and(|most| most <= INLINE) {
            let mut inline = [0; INLINE];
            let mut len = 0;
            for word in words {
                inline[len] = word;
                len += 1;
            }
            Bits(Words::Inline { len: len as u8, words: inline })
        } else {
            Bits(Words::Heap(words.collect()))
        }
    }

    fn words(&self) -> &[u64] {
        match &self.0 {
            Words::Inline { len, words } => &words[..*len as usize],
            Words::Heap(words) => words,
        }
    }

    fn words_mut(&mut self) -> &mut [u64] {
        match &mut self.0 {
            Words::Inline { len, words } => &mut words[..*len as usize],
            Words::Heap(words) => words,
        }
    }

    pub fn empty(len: usize) -> Bits {
        Bits::collect(std::iter::repeat_n(0, len.div_ceil(64)))
    }

    pub fn full(len: usize) -> Bits {
        let mut bits = Bits::collect(std::iter::repeat_n(u64::MAX, len.div_ceil(64)));
        if len % 64 != 0
            && let Some(last) = bits.words_mut().last_mut()
        {
            *last = (1u64 << (len % 64)) - 1;
        }
        bits
    }

    pub fn set(&mut self, index: usize) {
        self.words_mut()[index / 64] |= 1 << (index % 64);
    }

    pub fn contains(&self, index: usize) -> bool {
        self.words().get(index / 64).is_some_and(|word| word & (1 << (index % 64)) != 0)
    }

    pub fn and(&self, other: &Bits) -> Bits {
        Bits::collect(self.words().iter().zip(other.words()).map(|(a, b)| a & b))
    }

    pub fn and_not(&self, other: &Bits) -> Bits {
        Bits::collect(self.words().iter().zip(other.words()).map(|(a, b)| a & !b))
    }

    pub fn or_assign(&mut self, other: &Bits) {
        self.words_mut().iter_mut().zip(other.words()).for_each(|(a, b)| *a |= b);
    }

    pub fn is_empty(&self) -> bool {
        self.words().iter().all(|word| *word == 0)
    }

    pub fn first(&self) -> Option<usize> {
        self.words()
            .iter()
            .enumerate()
            .find(|(_, word)| **word != 0)
            .map(|(at, word)| at * 64 + word.trailing_zeros() as usize)
    }

    pub fn is_superset(&self, other: &Bits) -> bool {
        other.words().iter().zip(self.words()).all(|(a, b)| a & !b == 0)
    }

    /// Whether the two sets share an index (without building their intersection).
    pub fn meets(&self, other: &Bits) -> bool {
        self.words().iter().zip(other.words()).any(|(a, b)| a & b != 0)
    }

    pub fn is_subset(&self, other: &Bits) -> bool {
        other.is_superset(self)
    }

    pub fn and_not_assign(&mut self, other: &Bits) {
        self.words_mut().iter_mut().zip(other.words()).for_each(|(a, b)| *a &= !b);
    }

    pub fn count(&self) -> usize {
        self.words().iter().map(|word| word.count_ones() as usize).sum()
    }

    /// The indices in the set, in order.
    pub fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.words().iter().enumerate().flat_map(|(at, &word)| {
            let mut word = word;
            std::iter::from_fn(move || {
                if word == 0 {
                    return None;
                }
                let bit = word.trailing_zeros() as usize;
                word &= word - 1;
                Some(at * 64 + bit)
            })
        })
    }
}

impl PartialEq for Bits {
    fn eq(&self, other: &Bits) -> bool {
        self.words() == other.words()
    }
}

impl Eq for Bits {}

impl PartialOrd for Bits {
    fn partial_cmp(&self, other: &Bits) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Bits {
    fn cmp(&self, other: &Bits) -> std::cmp::Ordering {
        self.words().cmp(other.words())
    }
}

impl Hash for Bits {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.words().hash(state);
    }
}

impl std::fmt::Debug for Bits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Bits").field(&self.words()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_of(bits: &Bits) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        bits.hash(&mut hasher);
        hasher.finish()
    }

    /// The same words held inline and on the heap (an iterator without a size bound goes to the heap).
    fn both(words: &[u64]) -> (Bits, Bits) {
        let inline = Bits::collect(words.iter().copied());
        let mut rest = words.iter().copied();
        let heap = Bits::collect(std::iter::from_fn(move || rest.next()));
        assert!(matches!(inline.0, Words::Inline { .. }) == (words.len() <= INLINE));
        assert!(matches!(heap.0, Words::Heap(_)));
        (inline, heap)
    }

    #[test]
    fn how_a_set_is_held_changes_nothing_it_answers() {
        for words in [&[][..], &[5], &[0, 1 << 63], &[1, 2, 3]] {
            let (a, b) = both(words);
            assert_eq!(a, b);
            assert_eq!(a.cmp(&b), std::cmp::Ordering::Equal);
            assert_eq!(hash_of(&a), hash_of(&b));
            assert_eq!(format!("{a:?}"), format!("Bits({words:?})"));
            assert_eq!(a.ones().collect::<Vec<_>>(), b.ones().collect::<Vec<_>>());
        }
        let (small, _) = both(&[1]);
        let (large, _) = both(&[1, 0, 1]);
        assert!(small < large && small != large);
        let mut full = Bits::full(130);
        assert_eq!(full.count(), 130);
        full.and_not_assign(&Bits::full(129));
        assert_eq!(full.ones().collect::<Vec<_>>(), [129]);
        let mut two = Bits::empty(128);
        two.set(127);
        assert!(two.contains(127) && !two.contains(126) && two.meets(&Bits::full(128)));
    }
}
