//! A set of seqs kept as sorted, disjoint, non-adjacent ranges.
//!
//! A member who does not receive a busy group's messages has every one of them in its
//! "undelivered" set, and the member's state is written whole on each change: as a plain set,
//! each message made that write longer (quadratic over the group's life). Those seqs come in
//! runs broken only by the member's own messages, so as ranges the set stays as small as the
//! number of runs.
//!
//! Stored as a JSON array of `[first, last]` pairs; an array of single seqs (how the set was
//! stored before) is read too.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeqRanges(Vec<(u64, u64)>);

impl SeqRanges {
    /// Adds `seq`; false if it was there.
    pub fn insert(&mut self, seq: u64) -> bool {
        // The first range that ends at or after seq - 1 (so it may touch seq from below).
        let i = self.0.partition_point(|&(_, last)| last.saturating_add(1) < seq);
        match self.0.get(i).copied() {
            Some((first, last)) if first <= seq && seq <= last => return false,
            Some((first, last)) if last.saturating_add(1) == seq => {
                self.0[i] = (first, seq);
                // It may now touch the next range.
                if let Some(&(next_first, next_last)) = self.0.get(i + 1)
                    && next_first == seq + 1
                {
                    self.0[i] = (first, next_last);
                    self.0.remove(i + 1);
                }
            }
            Some((first, last)) if seq + 1 == first => self.0[i] = (seq, last),
            _ => self.0.insert(i, (seq, seq)),
        }
        true
    }

    pub fn contains(&self, seq: u64) -> bool {
        let i = self.0.partition_point(|&(_, last)| last < seq);
        self.0.get(i).is_some_and(|&(first, _)| first <= seq)
    }

    /// How many ranges the set holds.
    pub fn ranges(&self) -> usize {
        self.0.len()
    }
}

impl Serialize for SeqRanges {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SeqRanges {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Ranges(Vec<(u64, u64)>),
            Seqs(Vec<u64>),
        }
        let mut set = SeqRanges::default();
        match Stored::deserialize(deserializer)? {
            Stored::Ranges(mut ranges) => {
                // Sorted and merged, whatever the file says.
                ranges.retain(|(first, last)| first <= last);
                ranges.sort_unstable();
                for (first, last) in ranges {
                    match set.0.last_mut() {
                        Some((_, prev_last)) if first <= prev_last.saturating_add(1) => {
                            *prev_last = (*prev_last).max(last);
                        }
                        _ => set.0.push((first, last)),
                    }
                }
            }
            Stored::Seqs(seqs) => {
                for seq in seqs {
                    set.insert(seq);
                }
            }
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn runs_stay_one_range() {
        let mut set = SeqRanges::default();
        for seq in 1..=1000 {
            assert!(set.insert(seq));
        }
        assert!(!set.insert(500));
        assert_eq!(set.ranges(), 1);
        set.insert(1002);
        set.insert(1001);
        assert_eq!(set.ranges(), 1, "the gap filled joins them");
        assert!(set.contains(1) && set.contains(1002) && !set.contains(0) && !set.contains(1003));
    }

    #[test]
    fn stored_as_pairs_and_read_from_either_form() {
        let mut set = SeqRanges::default();
        for seq in [1, 2, 3, 7, 9, 10] {
            set.insert(seq);
        }
        let json = serde_json::to_string(&set).unwrap();
        assert_eq!(json, "[[1,3],[7,7],[9,10]]");
        assert_eq!(serde_json::from_str::<SeqRanges>(&json).unwrap(), set);
        assert_eq!(serde_json::from_str::<SeqRanges>("[1,2,3,7,9,10]").unwrap(), set, "the old form");
        assert_eq!(serde_json::from_str::<SeqRanges>("[]").unwrap(), SeqRanges::default());
        assert_eq!(serde_json::from_str::<SeqRanges>("[[9,10],[1,2],[3,3],[7,7]]").unwrap(), set, "merged");
    }

    proptest! {
        #[test]
        fn behaves_as_a_set(seqs in proptest::collection::vec(0u64..200, 0..300)) {
            let mut set = SeqRanges::default();
            let mut model = std::collections::BTreeSet::new();
            for seq in &seqs {
                prop_assert_eq!(set.insert(*seq), model.insert(*seq));
            }
            for seq in 0..202 {
                prop_assert_eq!(set.contains(seq), model.contains(&seq));
            }
            // Disjoint, sorted, never adjacent.
            prop_assert!(set.0.windows(2).all(|w| w[0].1 + 1 < w[1].0));
        }
    }
}
