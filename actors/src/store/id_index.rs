//! The memory store's message-ID index: ID → positions of the shared messages that may carry
//! it, split over many [`HashedIdIndex`]es.
//!
//! Each shard keys by the ID's hash and grows at a fill of its own (see [`HashedIdIndex`]);
//! split [`SHARDS`] ways by another hash of the ID, each growth moves 1/`SHARDS` of the
//! entries, so no write under the store's lock stops to move all of them. (Keyed by the ID
//! string, as it was, growing rehashed every string of the shard, and every insert cloned the
//! ID: a tenth of the in-memory send bench.)

use std::hash::BuildHasher;

use foldhash::fast::FixedState;

use crate::hashed_id_index::HashedIdIndex;

/// How many indexes the ID index is split over.
pub const SHARDS: usize = 64;

#[derive(Debug)]
pub struct IdIndex {
    shards: Vec<HashedIdIndex<usize>>,
    /// Picks the shard; fixed, so an ID always lands in the same one.
    router: FixedState,
}

impl Default for IdIndex {
    fn default() -> Self {
        IdIndex { shards: (0..SHARDS).map(|_| HashedIdIndex::default()).collect(), router: FixedState::default() }
    }
}

impl IdIndex {
    fn shard(&self, id: &str) -> usize {
        (self.router.hash_one(id) as usize) % SHARDS
    }

    /// Records that the message at `pos` carries `id`.
    pub fn insert(&mut self, id: &str, pos: usize) {
        let shard = self.shard(id);
        self.shards[shard].insert(id, pos);
    }

    /// Positions of the messages that may carry `id` (every one that does, in the order
    /// recorded, and rarely one whose ID shares its hash: the caller checks the message).
    pub fn candidates(&self, id: &str) -> impl Iterator<Item = usize> + '_ {
        self.shards[self.shard(id)].candidates(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_position_of_an_id() {
        let mut index = IdIndex::default();
        let ids: Vec<String> = (0..1000).map(|i| format!("id-{i}")).collect();
        for (pos, id) in ids.iter().enumerate() {
            index.insert(id, pos);
        }
        index.insert(&ids[7], 5000);
        index.insert(&ids[7], 5001);
        assert_eq!(index.candidates("id-3").collect::<Vec<_>>(), [3]);
        assert_eq!(index.candidates("id-7").collect::<Vec<_>>(), [7, 5000, 5001]);
        assert_eq!(index.candidates("id-missing").count(), 0);
        assert!(index.shards.iter().filter(|s| !s.is_empty()).count() > SHARDS / 2, "IDs spread over the shards");
    }
}
