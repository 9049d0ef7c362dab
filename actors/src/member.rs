//! One user's state inside one conversation: role, read point, deletions, receive option,
//! local-only messages and local custom data. Everything that differs per viewer lives here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::message::{LocalCustomData, StoredMessage};
use crate::seq_ranges::SeqRanges;

/// `TIMGroupMemberRole` numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    Member = 200,
    Admin = 300,
    Owner = 400,
}

/// `TIMReceiveMessageOpt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ReceiveOpt {
    /// Receive, push when offline.
    #[default]
    Receive = 0,
    /// Drop: not delivered, not in the local view.
    NotReceive = 1,
    /// Receive online, no offline push.
    NotNotify = 2,
}

impl ReceiveOpt {
    pub fn number(self) -> u32 {
        self as u32
    }

    pub fn from_number(n: u32) -> Option<ReceiveOpt> {
        match n {
            0 => Some(ReceiveOpt::Receive),
            1 => Some(ReceiveOpt::NotReceive),
            2 => Some(ReceiveOpt::NotNotify),
            _ => None,
        }
    }
}

/// Which copy of the history a read looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewKind {
    /// What this user's device holds: delivered messages minus local deletions.
    Local,
    /// What the server holds for this user: every message since joining minus roaming deletions.
    Roaming,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberState {
    pub role: Role,
    /// Still a member (groups); C2C participants always are.
    pub active: bool,
    /// First shared seq the member may see (its join point).
    pub first_seq: u64,
    /// Last shared seq the member may see after leaving a group.
    pub last_seq: Option<u64>,
    pub join_time: u64,
    /// Group receive option (C2C options live with the receiving user, not here).
    pub recv_opt: ReceiveOpt,
    pub read_seq: u64,
    pub read_time: u64,
    /// When the read point last moved, as an event stamp: a peer that was away learns of it at
    /// its next login.
    #[serde(default)]
    pub read_stamp: u64,
    /// Shared seqs up to this are gone from the local view.
    pub local_cleared: u64,
    /// Shared seqs up to this are gone from both views.
    pub roaming_cleared: u64,
    pub local_deleted: BTreeSet<u64>,
    pub roaming_deleted: BTreeSet<u64>,
    /// Seqs that were not delivered because of the receive option (in runs: see `SeqRanges`).
    pub undelivered: SeqRanges,
    /// Local custom data of shared messages, by seq.
    pub custom: BTreeMap<u64, LocalCustomData>,
    /// Local custom data of local-only messages, by local id.
    pub local_custom: BTreeMap<u64, LocalCustomData>,
    pub next_local_id: u64,
    /// Local-only messages (SaveMsg / ImportMsgList), sorted by view order. Stored in their own
    /// table, not with the rest of the state.
    #[serde(skip)]
    pub local_messages: Vec<Arc<StoredMessage>>,
}

impl MemberState {
    pub fn new(role: Role, first_seq: u64, join_time: u64) -> MemberState {
        MemberState {
            role,
            active: true,
            first_seq,
            last_seq: None,
            join_time,
            recv_opt: ReceiveOpt::Receive,
            read_seq: 0,
            read_time: 0,
            read_stamp: 0,
            local_cleared: 0,
            roaming_cleared: 0,
            local_deleted: BTreeSet::new(),
            roaming_deleted: BTreeSet::new(),
            undelivered: SeqRanges::default(),
            custom: BTreeMap::new(),
            local_custom: BTreeMap::new(),
            next_local_id: 1,
            local_messages: Vec::new(),
        }
    }

    /// Whether the shared message `seq` is in this member's view of the given kind.
    pub fn sees_shared(&self, seq: u64, view: ViewKind) -> bool {
        if seq < self.first_seq || self.last_seq.is_some_and(|last| seq > last) {
            return false;
        }
        if seq <= self.roaming_cleared || self.roaming_deleted.contains(&seq) {
            return false;
        }
        match view {
            ViewKind::Roaming => true,
            ViewKind::Local => {
                seq > self.local_cleared && !self.local_deleted.contains(&seq) && !self.undelivered.contains(seq)
            }
        }
    }

    /// Adds a local-only message in view order and returns its local id.
    pub fn insert_local(&mut self, mut message: StoredMessage) -> Arc<StoredMessage> {
        message.local_id = self.next_local_id;
        self.next_local_id += 1;
        let message = Arc::new(message);
        let pos = self.local_messages.partition_point(|m| m.view_order() <= message.view_order());
        self.local_messages.insert(pos, message.clone());
        message
    }

    pub fn find_local(&self, id: &str) -> Option<&Arc<StoredMessage>> {
        self.local_messages.iter().find(|m| &*m.id == id)
    }

    /// Removes a local-only message; returns its local id if it was there.
    pub fn remove_local(&mut self, id: &str) -> Option<u64> {
        let pos = self.local_messages.iter().position(|m| &*m.id == id)?;
        let local_id = self.local_messages.remove(pos).local_id;
        self.local_custom.remove(&local_id);
        Some(local_id)
    }

    pub fn is_admin(&self) -> bool {
        self.active && self.role >= Role::Admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_differ_by_kind() {
        let mut m = MemberState::new(Role::Member, 3, 0);
        m.local_deleted.insert(5);
        m.undelivered.insert(6);
        m.roaming_deleted.insert(7);
        assert!(!m.sees_shared(2, ViewKind::Roaming), "before joining");
        assert!(m.sees_shared(4, ViewKind::Local));
        assert!(!m.sees_shared(5, ViewKind::Local));
        assert!(m.sees_shared(5, ViewKind::Roaming));
        assert!(!m.sees_shared(6, ViewKind::Local));
        assert!(m.sees_shared(6, ViewKind::Roaming));
        assert!(!m.sees_shared(7, ViewKind::Roaming));
        m.last_seq = Some(8);
        assert!(!m.sees_shared(9, ViewKind::Roaming), "after leaving");
    }
}
