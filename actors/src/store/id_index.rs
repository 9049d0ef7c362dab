//! The memory store's message-ID index: ID → positions of the shared messages carrying it,
//! split over many small hash maps.
//!
//! One map of every ID rehashes all of them when it grows — at a few hundred thousand IDs a
//! pause of tens of milliseconds under the store's lock. Split [`SHARDS`] ways by the ID's
//! hash, each growth moves 1/`SHARDS` of the entries.

use std::hash::BuildHasher;

use foldhash::HashMap as FastMap;
use foldhash::fast::FixedState;

use crate::ids::MsgId;

/// How many maps the index is split over.
pub const SHARDS: usize = 64;

/// Row positions of the messages carrying one ID (almost always one).
#[derive(Debug)]
enum Positions {
    One(usize),
    Many(Vec<usize>),
}

#[derive(Debug)]
pub struct IdIndex {
    shards: Vec<FastMap<MsgId, Positions>>,
    /// Picks the shard; fixed, so an ID always lands in the same one.
    router: FixedState,
}

impl Default for IdIndex {
    fn default() -> Self {
        IdIndex { shards: (0..SHARDS).map(|_| FastMap::default()).collect(), router: FixedState::default() }
    }
}

impl IdIndex {
    fn shard(&self, id: &str) -> usize {
        (self.router.hash_one(id) as usize) % SHARDS
    }

    /// Records that the message at `pos` carries `id`.
    pub fn insert(&mut self, id: &MsgId, pos: usize) {
        let shard = self.shard(id);
        let map = &mut self.shards[shard];
        match map.get_mut(&**id) {
            Some(Positions::One(first)) => {
                let first = *first;
                map.insert(id.clone(), Positions::Many(vec![first, pos]));
            }
            Some(Positions::Many(v)) => v.push(pos),
            None => {
                map.insert(id.clone(), Positions::One(pos));
            }
        }
    }

    /// Positions of the messages carrying `id`, in the order they were recorded.
    pub fn positions(&self, id: &str) -> Vec<usize> {
        match self.shards[self.shard(id)].get(id) {
            Some(Positions::One(p)) => vec![*p],
            Some(Positions::Many(v)) => v.clone(),
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_position_of_an_id() {
        let mut index = IdIndex::default();
        let ids: Vec<MsgId> = (0..1000).map(|i| MsgId::from(format!("id-{i}"))).collect();
        for (pos, id) in ids.iter().enumerate() {
            index.insert(id, pos);
        }
        index.insert(&ids[7], 5000);
        index.insert(&ids[7], 5001);
        assert_eq!(index.positions("id-3"), [3]);
        assert_eq!(index.positions("id-7"), [7, 5000, 5001]);
        assert!(index.positions("id-missing").is_empty());
        assert!(index.shards.iter().filter(|s| !s.is_empty()).count() > SHARDS / 2, "IDs spread over the shards");
    }
}
