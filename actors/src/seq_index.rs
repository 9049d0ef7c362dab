//! A conversation's index from message ID to seq: a hash map that grows at a point of its own.
//!
//! Every send looks its ID up here (a resent ID gets the original message back). A hash map
//! grows by rehashing everything into a table twice the size, always at the same fill. A batch
//! send gives 500 conversations one message each, so 500 maps of the same size grew in the
//! same call — measured at 7,168 messages each: one batch send of 151 ms instead of 1.6,
//! mostly the kernel zeroing the ~200 MB of fresh tables and rehashing the ID strings.
//!
//! So each index doubles early, at a fill drawn at random (between half and all of what the
//! table holds) each time it grows: conversations of equal size grow over thousands of calls
//! instead of in one. And it keys by the ID's 64-bit hash, not the ID: an entry is 16 bytes
//! and growing never rehashes a string. (A B-tree of hashes avoided growth pauses too, but its
//! lookups, several cache misses deep, took a tenth of the send bench.)
//!
//! Two IDs may share a hash, so the index answers with candidate seqs; the log keeps the one
//! whose message carries the ID.

use std::collections::hash_map::Entry;
use std::hash::BuildHasher;

use foldhash::fast::RandomState;

#[derive(Debug, Default)]
pub struct SeqIndex {
    /// ID hash → the seq of the first message whose ID has it.
    first: foldhash::HashMap<u64, u64>,
    /// (hash, seq) of any later message whose ID has a hash already taken; almost always
    /// empty, so a lookup rarely looks here.
    shared_hash: Vec<(u64, u64)>,
    /// Seeded at random per index, so which IDs collide cannot be chosen from outside.
    hasher: RandomState,
    /// The size at which `first` is next doubled (0: not yet drawn).
    grow_at: usize,
}

impl SeqIndex {
    /// Records that the message at `seq` carries `id`.
    pub fn insert(&mut self, id: &str, seq: u64) {
        if self.first.len() >= self.grow_at {
            self.grow();
        }
        let hash = self.hasher.hash_one(id);
        match self.first.entry(hash) {
            Entry::Vacant(v) => {
                v.insert(seq);
            }
            Entry::Occupied(_) => self.shared_hash.push((hash, seq)),
        }
    }

    /// Doubles the table (the first time: makes room for a few) and draws the next point.
    fn grow(&mut self) {
        self.first.reserve(self.first.capacity().max(3));
        let capacity = self.first.capacity();
        self.grow_at = capacity / 2 + fastrand::usize(..=capacity / 2);
    }

    /// The seqs of the messages whose ID may be `id` (every one that is, and rarely another
    /// that shares its hash), in the order they were recorded.
    pub fn candidates(&self, id: &str) -> impl Iterator<Item = u64> + '_ {
        let hash = self.hasher.hash_one(id);
        let first = self.first.get(&hash).copied();
        let more = first.is_some() && !self.shared_hash.is_empty();
        first.into_iter().chain(self.shared_hash.iter().filter(move |(h, _)| more && *h == hash).map(|&(_, seq)| seq))
    }

    pub fn len(&self) -> usize {
        self.first.len() + self.shared_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.first.is_empty()
    }
}

impl<'a> FromIterator<(&'a str, u64)> for SeqIndex {
    fn from_iter<I: IntoIterator<Item = (&'a str, u64)>>(iter: I) -> SeqIndex {
        let mut index = SeqIndex::default();
        for (id, seq) in iter {
            index.insert(id, seq);
        }
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_finds_its_seq() {
        let ids: Vec<(String, u64)> = (1..=10_000u64).map(|seq| (format!("id-{seq}"), seq)).collect();
        let index: SeqIndex = ids.iter().map(|(id, seq)| (id.as_str(), *seq)).collect();
        assert_eq!(index.len(), 10_000);
        for seq in [1u64, 2, 4_096, 9_999, 10_000] {
            assert!(index.candidates(&format!("id-{seq}")).any(|s| s == seq), "id-{seq}");
        }
        assert_eq!(index.candidates("id-10001").count(), 0);
        assert!(SeqIndex::default().is_empty());
    }

    #[test]
    fn ids_sharing_a_hash_are_all_candidates() {
        // The same ID twice stands in for two IDs with one hash: both seqs come back, in the
        // order they were recorded.
        let mut index = SeqIndex::default();
        index.insert("same", 7);
        index.insert("other", 8);
        index.insert("same", 3);
        assert_eq!(index.candidates("same").collect::<Vec<_>>(), vec![7, 3]);
        assert_eq!(index.candidates("other").collect::<Vec<_>>(), vec![8]);
        assert_eq!(index.len(), 3);
    }

    #[test]
    fn indexes_of_equal_size_grow_at_different_sizes() {
        // 200 indexes fed in lockstep: the sizes at which they grow past 4,096 entries' room
        // are spread out, not one.
        let mut indexes: Vec<SeqIndex> = (0..200).map(|_| SeqIndex::default()).collect();
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
