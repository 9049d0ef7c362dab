//! The load generator's correctness check: every acknowledged message must reach every member
//! that should get it exactly once, no member that should not (its receive option says so), and
//! each receiver must see a conversation's messages in seq order. Counts what was lost,
//! duplicated, reordered or unexpected.

// foldhash: the check keys by small integers of its own; SipHash here was ~1,400 instructions
// of each loaded message.
use foldhash::{HashMap, HashSet};

/// A conversation as the check knows it.
pub type ConvId = u32;
pub type UserIdx = u32;

#[derive(Debug, Default)]
pub struct DeliveryCheck {
    /// Acknowledged messages: (conversation, seq) → the members that should receive it.
    expected: HashMap<(ConvId, u64), Vec<UserIdx>>,
    /// What each receiver got, per conversation: the seqs, and the last one.
    received: HashMap<(UserIdx, ConvId), (HashSet<u64>, u64)>,
    pub duplicated: u64,
    pub reordered: u64,
}

impl DeliveryCheck {
    /// A message was acknowledged; these members should receive it.
    pub fn acknowledged(&mut self, conv: ConvId, seq: u64, receivers: Vec<UserIdx>) {
        self.expected.insert((conv, seq), receivers);
    }

    /// A receiver got a message.
    pub fn received(&mut self, user: UserIdx, conv: ConvId, seq: u64) {
        let (seen, last) = self.received.entry((user, conv)).or_default();
        if !seen.insert(seq) {
            self.duplicated += 1;
            return;
        }
        if seq < *last {
            self.reordered += 1;
        }
        *last = (*last).max(seq);
    }

    /// Deliveries that were due and never came.
    pub fn lost(&self) -> u64 {
        self.expected
            .iter()
            .map(|((conv, seq), receivers)| {
                receivers
                    .iter()
                    .filter(|u| !self.received.get(&(**u, *conv)).is_some_and(|(seen, _)| seen.contains(seq)))
                    .count() as u64
            })
            .sum()
    }

    /// Deliveries of acknowledged messages to users who were not to get them (the sender, or a
    /// member whose receive option for the conversation is "not receive").
    pub fn unexpected(&self) -> u64 {
        self.received
            .iter()
            .map(|((user, conv), (seen, _))| {
                seen.iter().filter(|seq| self.expected.get(&(*conv, **seq)).is_some_and(|r| !r.contains(user))).count()
                    as u64
            })
            .sum()
    }

    pub fn deliveries_expected(&self) -> u64 {
        self.expected.values().map(|r| r.len() as u64).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lost_duplicated_and_reordered() {
        let mut c = DeliveryCheck::default();
        c.acknowledged(1, 1, vec![10, 11]);
        c.acknowledged(1, 2, vec![10, 11]);
        c.received(10, 1, 1);
        c.received(10, 1, 2);
        c.received(11, 1, 2);
        c.received(11, 1, 1); // late: reordered
        c.received(11, 1, 1); // again: duplicated
        assert_eq!((c.lost(), c.duplicated, c.reordered), (0, 1, 1));
        c.acknowledged(1, 3, vec![10]);
        assert_eq!(c.lost(), 1);
        assert_eq!(c.deliveries_expected(), 5);
        assert_eq!(c.unexpected(), 0);
    }

    #[test]
    fn a_delivery_to_a_member_left_out_is_unexpected_and_unacknowledged_ones_are_not_judged() {
        let mut c = DeliveryCheck::default();
        // Member 12 does not receive this conversation; 10 sent.
        c.acknowledged(1, 1, vec![11]);
        c.received(11, 1, 1);
        c.received(12, 1, 1);
        c.received(10, 1, 1);
        // Seq 2 was never acknowledged (e.g. a tip of the group's creation): not judged.
        c.received(12, 1, 2);
        assert_eq!((c.lost(), c.unexpected()), (0, 2));
    }
}
