//! An index from message ID to a small value (a seq, a row position), keyed by the ID's
//! 64-bit hash, that grows at a point of its own.
//!
//! Every send looks its ID up in its conversation's index (a resent ID gets the original
//! message back), and the memory store records every stored message in its own. A hash map
//! grows by rehashing everything into a table twice the size, always at the same fill. A batch
//! send gives 500 conversations one message each, so 500 maps of the same size grew in the
//! same call — measured at 7,168 messages each: one batch send of 151 ms instead of 1.6,
//! mostly the kernel zeroing the ~200 MB of fresh tables and rehashing the ID strings.
//!
//! So each index doubles early, at a fill drawn at random (between half and all of what the
//! table holds) each time it grows: indexes of equal size grow over thousands of calls
//! instead of in one. And it keys by the ID's hash, not the ID: an entry is 16 bytes, growing
//! never rehashes a string, and inserting never clones one. (A B-tree of hashes avoided growth
//! pauses too, but its lookups, several cache misses deep, took a tenth of the send bench.)
//!
//! Two IDs may share a hash, so the index answers with candidates; the caller keeps the ones
//! whose message carries the ID.

use std::collections::hash_map::Entry;
use std::hash::BuildHasher;

use foldhash::fast::RandomState;

#[derive(Debug)]
pub struct HashedIdIndex<V> {
    /// ID hash → the value of the first ID recorded with it.
    first: foldhash::HashMap<u64, V>,
    /// The values of any later ID recorded with a hash already taken (the same ID again, or
    /// another ID with the same hash); almost always empty, so a lookup rarely looks here.
    later: foldhash::HashMap<u64, Vec<V>>,
    /// Seeded at random per index, so which IDs collide cannot be chosen from outside.
    hasher: RandomState,
    /// The size at which `first` is next doubled (0: not yet drawn).
    grow_at: usize,
}

impl<V> Default for HashedIdIndex<V> {
    fn default() -> Self {
        HashedIdIndex {
            first: foldhash::HashMap::default(),
            later: foldhash::HashMap::default(),
            hasher: RandomState::default(),
            grow_at: 0,
        }
    }
}

impl<V: Copy> HashedIdIndex<V> {
    /// Records `value` for `id`.
    pub fn insert(&mut self, id: &str, value: V) {
        if self.first.len() >= self.grow_at {
            self.grow();
        }
        let hash = self.hasher.hash_one(id);
        match self.first.entry(hash) {
            Entry::Vacant(v) => {
                v.insert(value);
            }
            Entry::Occupied(_) => self.later.entry(hash).or_default().push(value),
        }
    }

    /// Doubles the table (the first time: makes room for a few) and draws the next point.
    fn grow(&mut self) {
        self.first.reserve(self.first.capacity().max(3));
        let capacity = self.first.capacity();
        self.grow_at = capacity / 2 + fastrand::usize(..=capacity / 2);
    }

    /// The values recorded for `id` (every one, and rarely one of another ID that shares its
    /// hash), in the order they were recorded.
    pub fn candidates(&self, id: &str) -> impl Iterator<Item = V> + '_ {
        let hash = self.hasher.hash_one(id);
        let first = self.first.get(&hash).copied();
        let later = if first.is_some() && !self.later.is_empty() { self.later.get(&hash) } else { None };
        first.into_iter().chain(later.into_iter().flatten().copied())
    }

    pub fn len(&self) -> usize {
        self.first.len() + self.later.values().map(Vec::len).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.first.is_empty()
    }
}

impl<'a, V: Copy> FromIterator<(&'a str, V)> for HashedIdIndex<V> {
    fn from_iter<I: IntoIterator<Item = (&'a str, V)>>(iter: I) -> HashedIdIndex<V> {
        let mut index = HashedIdIndex::default();
        for (id, value) in iter {
            index.insert(id, value);
        }
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_finds_its_value() {
        let ids: Vec<(String, u64)> = (1..=10_000u64).map(|seq| (format!("id-{seq}"), seq)).collect();
        let index: HashedIdIndex<u64> = ids.iter().map(|(id, seq)| (id.as_str(), *seq)).collect();
        assert_eq!(index.len(), 10_000);
        for seq in [1u64, 2, 4_096, 9_999, 10_000] {
            assert!(index.candidates(&format!("id-{seq}")).any(|s| s == seq), "id-{seq}");
        }
        assert_eq!(index.candidates("id-10001").count(), 0);
        assert!(HashedIdIndex::<u64>::default().is_empty());
    }

    #[test]
    fn ids_sharing_a_hash_are_all_candidates() {
        // The same ID again stands in for two IDs with one hash: every value comes back, in
        // the order recorded.
        let mut index = HashedIdIndex::default();
        index.insert("same", 7u64);
        index.insert("other", 8);
        index.insert("same", 3);
        index.insert("same", 5);
        assert_eq!(index.candidates("same").collect::<Vec<_>>(), vec![7, 3, 5]);
        assert_eq!(index.candidates("other").collect::<Vec<_>>(), vec![8]);
        assert_eq!(index.len(), 4);
    }

    #[test]
    fn indexes_of_equal_size_grow_at_different_sizes() {
        // 200 indexes fed in lockstep: the sizes at which they grow past 4,096 entries' room
        // are spread out, not one.
        let mut indexes: Vec<HashedIdIndex<u64>> = (0..200).map(|_| HashedIdIndex::default()).collect();
        let mut grew_at = Vec::new();
        for seq in 1..=8_000u64 {
            let id = format!("id-{seq}");
            for index in &mut indexes {
                let before = index.first.capacity();
                index.insert(&id, seq);
                if before < 4_096 && index.first.capacity() >= 4_096 {
                    grew_at.push(seq);
                }
            }
        }
        assert_eq!(grew_at.len(), 200, "every index grew past 4,096");
        grew_at.sort_unstable();
        grew_at.dedup();
        assert!(grew_at.len() > 50, "growth happened at only {} distinct sizes", grew_at.len());
    }
}
