//! One user's received messages, recorded where they arrive for the delivery check.
//!
//! The generator shares the machine with what it measures, so receiving must be cheap: a
//! delivered message is looked up by the name the user knows its conversation by (the peer for
//! C2C, the group ID) in a small per-user map, without building a conversation key or passing
//! the message through another channel and task.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use foldhash::HashMap as FastMap;
use timsg_actors::ids::ConvType;

use super::check::ConvId;

#[derive(Debug)]
pub struct Inbox {
    c2c: FastMap<Arc<str>, ConvId>,
    groups: FastMap<Arc<str>, ConvId>,
    /// What arrived, in arrival order: (conversation, seq).
    pub got: Vec<(ConvId, u64)>,
    /// Deliveries recorded by every inbox, to know when they have all drained.
    received: Arc<AtomicU64>,
}

impl Inbox {
    pub fn new(received: Arc<AtomicU64>) -> Inbox {
        Inbox { c2c: FastMap::default(), groups: FastMap::default(), got: Vec::new(), received }
    }

    /// The user names conversation `id` by `name` (of type `conv_type`).
    pub fn knows(&mut self, conv_type: ConvType, name: Arc<str>, id: ConvId) {
        match conv_type {
            ConvType::C2c => self.c2c.insert(name, id),
            ConvType::Group => self.groups.insert(name, id),
            ConvType::System => None,
        };
    }

    /// A message with `seq` arrived in the conversation the user names `name`; messages of
    /// conversations the load did not make are not counted.
    pub fn record(&mut self, conv_type: ConvType, name: &str, seq: u64) {
        let map = match conv_type {
            ConvType::C2c => &self.c2c,
            ConvType::Group => &self.groups,
            ConvType::System => return,
        };
        if let Some(id) = map.get(name) {
            self.got.push((*id, seq));
            self.received.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_only_the_conversations_it_knows_by_type_and_name() {
        let received = Arc::new(AtomicU64::new(0));
        let mut inbox = Inbox::new(received.clone());
        inbox.knows(ConvType::C2c, "u7".into(), 3);
        inbox.knows(ConvType::Group, "u7".into(), 9);
        inbox.record(ConvType::C2c, "u7", 1);
        inbox.record(ConvType::Group, "u7", 2);
        inbox.record(ConvType::C2c, "stranger", 1);
        assert_eq!(inbox.got, [(3, 1), (9, 2)]);
        assert_eq!(received.load(Ordering::Relaxed), 2);
    }
}
