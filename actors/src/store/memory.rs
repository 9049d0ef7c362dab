//! The memory backend (durability `memory`): the store's tables held in this process.
//!
//! A write request is checked, then applied whole under one lock and completed at once — there
//! is no disk to wait for, so there is no writer thread either. The tables mirror the SQLite
//! schema (see `schema.rs`) and answer the same reads; the messages themselves are the `Arc`s
//! the conversation logs hold, so keeping them costs little more than the indexes.
//!
//! Every send writes here under the lock, so nothing written may stop to move what it holds:
//! rows and position lists are [`ChunkedVec`]s and the ID index is sharded ([`IdIndex`]) —
//! a growing `Vec` or hash map copied everything at each doubling, 10–30 ms pauses at a
//! quarter of a million messages. The maps hash with foldhash, cheaper than SipHash here.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use foldhash::{HashMap as FastMap, HashSet as FastSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use parking_lot::RwLock;

use crate::group::GroupInfo;
use crate::ids::{ConvKey, UserId};
use crate::member::{MemberState, ReceiveOpt};
use crate::message::{MessageStatus, StoredMessage};
use crate::search::{Candidates, SearchQuery};

use super::id_index::IdIndex;
use super::read::decode;
use super::request::{WriteOp, WriteRequest};
use super::{LoadedConversation, PendingDelivery, StoreError};
use crate::chunked::ChunkedVec;

/// One stored shared message. Its position in [`Tables::messages`] (from 1) is its mark in
/// the commit order, like the SQLite rowid.
#[derive(Debug)]
pub(super) struct SharedRow {
    pub conv: Arc<str>,
    pub message: Arc<StoredMessage>,
}

/// One conversation's local-only messages, by owner and local id.
pub(super) type LocalMessages = FastMap<(UserId, u64), Arc<StoredMessage>>;

#[derive(Debug, Default)]
pub(super) struct Tables {
    /// Shared messages in commit order.
    pub messages: ChunkedVec<SharedRow>,
    /// Per conversation, its messages' positions in seq order (seq n at index n - 1).
    pub by_conv: FastMap<Arc<str>, ChunkedVec<usize>>,
    by_id: IdIndex,
    /// Per sender, its messages' positions in commit order.
    pub by_sender: FastMap<UserId, ChunkedVec<usize>>,
    /// Local-only messages per conversation, by owner and local id.
    pub local: FastMap<Arc<str>, LocalMessages>,
    /// Per owner, where their local-only messages are: (conversation, local id).
    pub local_by_owner: FastMap<UserId, BTreeSet<(Arc<str>, u64)>>,
    /// Member state (JSON, as the SQLite backend keeps it) per conversation and user.
    members: FastMap<Arc<str>, FastMap<UserId, String>>,
    /// Per user, the conversations they have state in.
    pub convs_of_user: FastMap<UserId, BTreeSet<Arc<str>>>,
    groups: FastMap<Arc<str>, String>,
    c2c_opts: FastMap<UserId, FastMap<String, u32>>,
    users: FastMap<UserId, (i64, u64)>,
    accounts: FastMap<UserId, super::Account>,
    log_positions: FastMap<Arc<str>, u64>,
    /// Undelivered system notices per user by stamp (see the SQLite `pending_deliveries`).
    notices: FastMap<UserId, BTreeMap<u64, PendingDelivery>>,
    blobs: FastMap<String, i64>,
}

/// The next seq of each conversation a request inserts into. A request comes from one
/// conversation actor's flush, so the first conversation is kept inline (no allocation on
/// every write); any further ones go to a list.
#[derive(Default)]
struct NextSeqs<'a> {
    first: Option<(&'a str, u64)>,
    more: Vec<(&'a str, u64)>,
}

impl<'a> NextSeqs<'a> {
    fn get(&self, conv: &str) -> Option<u64> {
        self.first.iter().chain(&self.more).find(|(c, _)| *c == conv).map(|(_, next)| *next)
    }

    /// `conv`'s next seq, `first_free()` if the request has not inserted into it yet.
    fn next_of(&mut self, conv: &'a str, first_free: impl FnOnce() -> u64) -> &mut u64 {
        match &mut self.first {
            None => &mut self.first.insert((conv, first_free())).1,
            Some((c, _)) if *c == conv => &mut self.first.as_mut().expect("just matched").1,
            Some(_) => match self.more.iter().position(|(c, _)| *c == conv) {
                Some(at) => &mut self.more[at].1,
                None => {
                    self.more.push((conv, first_free()));
                    &mut self.more.last_mut().expect("just pushed").1
                }
            },
        }
    }
}

impl Tables {
    fn shared_position(&self, conv: &str, seq: u64) -> Option<usize> {
        let pos = *self.by_conv.get(conv)?.get(usize::try_from(seq).ok()?.checked_sub(1)?)?;
        (self.messages.get(pos)?.message.seq == seq).then_some(pos)
    }

    /// Refuses a request the SQLite backend's constraints would refuse, before any of it is
    /// applied: a request is all or nothing.
    fn check(&self, ops: &[WriteOp]) -> Result<(), StoreError> {
        let mut next_seq = NextSeqs::default();
        let mut new_locals: FastSet<(&str, &str, u64)> = FastSet::default();
        for op in ops {
            match op {
                WriteOp::InsertShared { conv, message } => {
                    let next =
                        next_seq.next_of(conv, || self.by_conv.get(&**conv).map_or(0, ChunkedVec::len) as u64 + 1);
                    if message.seq != *next {
                        return Err(StoreError::Corrupt(format!(
                            "{conv}: seq {} where {next} comes next",
                            message.seq
                        )));
                    }
                    *next += 1;
                }
                WriteOp::UpdateShared { conv, message } => {
                    let inserted_here = next_seq.get(conv).is_some_and(|next| message.seq < next);
                    if !inserted_here && self.shared_position(conv, message.seq).is_none() {
                        return Err(StoreError::Corrupt(format!("{conv}: no message {} to update", message.seq)));
                    }
                }
                WriteOp::InsertLocal { conv, owner, message } => {
                    let taken =
                        self.local.get(&**conv).is_some_and(|m| m.contains_key(&(owner.clone(), message.local_id)));
                    if taken || !new_locals.insert((&**conv, &**owner, message.local_id)) {
                        return Err(StoreError::Corrupt(format!("{conv}: local message {} exists", message.local_id)));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn apply(&mut self, op: &WriteOp) {
        match op {
            WriteOp::InsertShared { conv, message } => {
                let pos = self.messages.len();
                self.messages.push(SharedRow { conv: conv.clone(), message: message.clone() });
                match self.by_conv.get_mut(&**conv) {
                    Some(v) => v.push(pos),
                    None => {
                        self.by_conv.entry(conv.clone()).or_default().push(pos);
                    }
                }
                self.by_id.insert(&message.id, pos);
                match self.by_sender.get_mut(&*message.sender) {
                    Some(v) => v.push(pos),
                    None => {
                        self.by_sender.entry(message.sender.clone()).or_default().push(pos);
                    }
                }
                for hash in message.content.blob_refs() {
                    *self.blobs.entry(hash).or_default() += 1;
                }
            }
            WriteOp::UpdateShared { conv, message } => {
                if let Some(row) = self.shared_position(conv, message.seq).and_then(|pos| self.messages.get_mut(pos)) {
                    row.message = message.clone();
                }
            }
            WriteOp::UpsertMember { conv, user, state } => {
                self.members.entry(conv.clone()).or_default().insert(user.clone(), state.clone());
                self.convs_of_user.entry(user.clone()).or_default().insert(conv.clone());
            }
            WriteOp::InsertLocal { conv, owner, message } => {
                self.local.entry(conv.clone()).or_default().insert((owner.clone(), message.local_id), message.clone());
                self.local_by_owner.entry(owner.clone()).or_default().insert((conv.clone(), message.local_id));
            }
            WriteOp::DeleteLocal { conv, owner, local_id } => {
                if let Some(m) = self.local.get_mut(&**conv) {
                    m.remove(&(owner.clone(), *local_id));
                }
                if let Some(s) = self.local_by_owner.get_mut(&**owner) {
                    s.remove(&(conv.clone(), *local_id));
                }
            }
            WriteOp::UpsertGroup { conv, info } => {
                self.groups.insert(conv.clone(), info.clone());
            }
            WriteOp::SetC2cReceiveOpt { owner, peer, opt } => {
                self.c2c_opts.entry(owner.clone()).or_default().insert(peer.clone(), *opt);
            }
            WriteOp::SetLogPosition { conv, seq } => {
                let at = self.log_positions.entry(conv.clone()).or_default();
                *at = (*at).max(*seq);
            }
            WriteOp::ImportAccount { user, nick, face_url } => {
                let a = self.accounts.entry(user.clone()).or_default();
                (a.imported, a.nick, a.face_url) = (true, nick.clone(), face_url.clone());
            }
            WriteOp::RevokeSigs { user, before, delete } => {
                let a = self.accounts.entry(user.clone()).or_default();
                a.sigs_valid_from = a.sigs_valid_from.max(*before);
                if *delete {
                    (a.imported, a.nick, a.face_url) = (false, String::new(), String::new());
                }
            }
            WriteOp::SetOfflineMark { user, mark, stamp } => {
                self.users.insert(user.clone(), (*mark, *stamp));
            }
            WriteOp::StartOfflineMark { user, stamp } => {
                self.users.entry(user.clone()).or_insert((0, *stamp));
            }
            WriteOp::AddPendingDelivery { user, stamp, conv_type, conv_id, message } => {
                let pending = self.notices.entry(user.clone()).or_default();
                pending.retain(|_, (_, _, m)| m.id != message.id);
                pending.insert(*stamp, (*conv_type, conv_id.clone(), message.clone()));
                while pending.len() > super::MAX_PENDING_DELIVERIES {
                    pending.pop_first();
                }
            }
            WriteOp::DropPendingDeliveries { user, ids } => {
                if let Some(pending) = self.notices.get_mut(user) {
                    pending.retain(|_, (_, _, m)| !ids.contains(&m.id));
                }
            }
        }
    }

    /// Whether `user` has state in `conv`.
    pub fn is_member(&self, user: &str, conv: &str) -> bool {
        self.convs_of_user.get(user).is_some_and(|c| c.contains(conv))
    }
}

/// Shared messages are stored as sent: durability is what makes them so (as the SQLite
/// backend records them).
fn as_stored(message: &Arc<StoredMessage>) -> Arc<StoredMessage> {
    if message.status == MessageStatus::Sending {
        let mut m = (**message).clone();
        m.status = MessageStatus::SendSucc;
        Arc::new(m)
    } else {
        message.clone()
    }
}

#[derive(Debug, Default)]
pub struct MemoryStore {
    /// Boxed: the tables are large beside the SQLite backend's handles.
    tables: Box<RwLock<Tables>>,
    closed: AtomicBool,
}

impl MemoryStore {
    /// Applies the request whole (or, if any op would break a constraint, none of it) and
    /// completes it.
    pub fn submit(&self, request: WriteRequest) -> Result<(), StoreError> {
        match self.write_now(&request.ops) {
            // A closed store takes nothing: the request is refused, not completed.
            Err(StoreError::Closed) => Err(StoreError::Closed),
            result => {
                request.done.complete(result);
                Ok(())
            }
        }
    }

    /// Applies `ops` whole (or, if any op would break a constraint, none of them) and returns
    /// the outcome.
    pub fn write_now(&self, ops: &[WriteOp]) -> Result<(), StoreError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        let started = Instant::now();
        let result = {
            let mut tables = self.tables.write();
            tables.check(ops).map(|()| {
                for op in ops {
                    tables.apply(op);
                }
            })
        };
        if let Err(e) = &result {
            tracing::error!(error = %e, "write refused");
            metrics::counter!("timsg_store_errors_total").increment(1);
        }
        metrics::histogram!("timsg_store_commit_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("timsg_store_group_commit_ops").record(ops.len() as f64);
        result
    }

    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    pub fn load_conversation(&self, key: &ConvKey) -> Result<LoadedConversation, StoreError> {
        self.load_conversation_window(key, usize::MAX)
    }

    /// The messages of `key` before seq `below`, in order.
    pub fn load_messages_below(&self, key: &ConvKey, below: u64) -> Result<Vec<Arc<StoredMessage>>, StoreError> {
        let t = self.tables.read();
        Ok(t.by_conv
            .get(key.storage_key().as_str())
            .map(|rows| {
                rows.iter()
                    .filter_map(|&pos| t.messages.get(pos))
                    .map(|row| as_stored(&row.message))
                    .take_while(|m| m.seq < below)
                    .collect()
            })
            .unwrap_or_default())
    }

    pub fn load_conversation_window(&self, key: &ConvKey, window: usize) -> Result<LoadedConversation, StoreError> {
        let conv = key.storage_key();
        let t = self.tables.read();
        let group = t.groups.get(conv.as_str()).map(|s| decode::<GroupInfo>(s)).transpose()?;
        let all: Vec<Arc<StoredMessage>> = t
            .by_conv
            .get(conv.as_str())
            .map(|rows| rows.iter().filter_map(|&pos| t.messages.get(pos)).map(|row| as_stored(&row.message)).collect())
            .unwrap_or_default();
        let split = all.len().saturating_sub(window);
        let base = split as u64 + 1;
        let older_ids = all[..split].iter().map(|m| (m.id.clone(), m.seq)).collect();
        let entries = all[split..].to_vec();
        let mut members = HashMap::new();
        for (user, state) in t.members.get(conv.as_str()).into_iter().flatten() {
            members.insert(user.clone(), decode::<MemberState>(state)?);
        }
        for ((owner, _), message) in t.local.get(conv.as_str()).into_iter().flatten() {
            if let Some(member) = members.get_mut(owner) {
                member.local_messages.push(message.clone());
            }
        }
        for member in members.values_mut() {
            member.local_messages.sort_by_key(|m| m.view_order());
        }
        Ok(LoadedConversation { group, entries, base, older_ids, members })
    }

    pub fn conversations_of(&self, user: &str) -> Result<Vec<ConvKey>, StoreError> {
        let t = self.tables.read();
        Ok(t.convs_of_user.get(user).into_iter().flatten().filter_map(|c| ConvKey::from_storage_key(c)).collect())
    }

    pub fn c2c_receive_opts(&self, owner: &str) -> Result<super::ReceiveOpts, StoreError> {
        let t = self.tables.read();
        Ok(t.c2c_opts
            .get(owner)
            .into_iter()
            .flatten()
            .map(|(peer, opt)| (peer.clone(), ReceiveOpt::from_number(*opt).unwrap_or_default()))
            .collect())
    }

    pub fn locate_message(&self, user: &str, msg_id: &str) -> Result<Option<ConvKey>, StoreError> {
        let t = self.tables.read();
        let shared = t
            .by_id
            .candidates(msg_id)
            .filter_map(|pos| t.messages.get(pos))
            .filter(|row| *row.message.id == *msg_id)
            .map(|row| &row.conv)
            .find(|conv| t.is_member(user, conv));
        let conv = shared.cloned().or_else(|| {
            t.local_by_owner.get(user).into_iter().flatten().find_map(|(conv, local_id)| {
                let m = t.local.get(conv)?.get(&(Arc::from(user), *local_id))?;
                (*m.id == *msg_id).then(|| conv.clone())
            })
        });
        Ok(conv.and_then(|c| ConvKey::from_storage_key(&c)))
    }

    pub fn referenced_blobs(&self) -> Result<HashSet<String>, StoreError> {
        let t = self.tables.read();
        Ok(t.blobs.iter().filter(|(_, refs)| **refs > 0).map(|(h, _)| h.clone()).collect())
    }

    pub fn newest_message_mark(&self) -> Result<i64, StoreError> {
        Ok(self.tables.read().messages.len() as i64)
    }

    pub fn logout_point(&self, user: &str) -> Result<Option<(i64, u64)>, StoreError> {
        Ok(self.tables.read().users.get(user).copied())
    }

    pub fn log_position(&self, conv: &str) -> Result<u64, StoreError> {
        Ok(self.tables.read().log_positions.get(conv).copied().unwrap_or(0))
    }

    pub fn account(&self, user: &str) -> Result<Option<super::Account>, StoreError> {
        Ok(self.tables.read().accounts.get(user).cloned())
    }

    pub fn sig_floors(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let t = self.tables.read();
        Ok(t.accounts
            .iter()
            .filter(|(_, a)| a.sigs_valid_from > 0)
            .map(|(u, a)| (u.to_string(), a.sigs_valid_from))
            .collect())
    }

    pub fn pending_deliveries(&self, user: &str) -> Result<Vec<PendingDelivery>, StoreError> {
        let t = self.tables.read();
        Ok(t.notices.get(user).map(|n| n.values().cloned().collect()).unwrap_or_default())
    }

    pub fn messages_between(&self, user: &str, after: i64, upto: i64) -> Result<Candidates, StoreError> {
        let t = self.tables.read();
        let mut out = Candidates::new();
        // Marks count from 1: the row at position p has mark p + 1.
        let from = usize::try_from(after.max(0)).unwrap_or(usize::MAX);
        let to = usize::try_from(upto.max(0)).unwrap_or(usize::MAX);
        for row in t.messages.range(from, to) {
            if *row.message.sender != *user
                && t.is_member(user, &row.conv)
                && let Some(k) = ConvKey::from_storage_key(&row.conv)
            {
                out.entry(k).or_default().0.push(row.message.seq);
            }
        }
        Ok(out)
    }

    pub fn search_candidates(&self, user: &str, query: &SearchQuery) -> Result<Candidates, StoreError> {
        Ok(super::memory_search::candidates(&self.tables.read(), user, query))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Completion;
    use crate::store::test_support::message;

    fn write(store: &MemoryStore, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        store.submit(WriteRequest::new(ops, Completion::Channel(tx)))?;
        rx.try_recv().expect("a memory write completes at once")
    }

    #[test]
    fn a_request_breaking_seq_order_is_refused_whole() {
        let store = MemoryStore::default();
        let conv: Arc<str> = "c:alice\nbob".into();
        let ok = vec![WriteOp::InsertShared { conv: conv.clone(), message: message("m1", 1) }];
        write(&store, ok).unwrap();
        let bad = vec![
            WriteOp::InsertShared { conv: conv.clone(), message: message("m2", 2) },
            WriteOp::InsertShared { conv: conv.clone(), message: message("m2b", 2) },
        ];
        assert!(matches!(write(&store, bad), Err(StoreError::Corrupt(_))));
        let loaded = store.load_conversation(&ConvKey::from_storage_key(&conv).unwrap()).unwrap();
        assert_eq!(loaded.entries.len(), 1, "nothing of the refused request is kept");
        assert_eq!(loaded.entries[0].status, MessageStatus::SendSucc, "stored messages read back as sent");
        assert_eq!(store.newest_message_mark().unwrap(), 1);
    }

    #[test]
    fn an_update_of_a_missing_message_is_refused_and_a_closed_store_takes_nothing() {
        let store = MemoryStore::default();
        let conv: Arc<str> = "g:room".into();
        let update = vec![WriteOp::UpdateShared { conv: conv.clone(), message: message("m1", 1) }];
        assert!(write(&store, update).is_err());
        let insert_then_update = vec![
            WriteOp::InsertShared { conv: conv.clone(), message: message("m1", 1) },
            WriteOp::UpdateShared { conv: conv.clone(), message: message("m1", 1) },
        ];
        write(&store, insert_then_update).unwrap();
        store.close();
        let more = vec![WriteOp::InsertShared { conv, message: message("m2", 2) }];
        assert_eq!(write(&store, more), Err(StoreError::Closed));
    }

    #[test]
    fn a_request_inserting_into_several_conversations_is_checked_per_conversation() {
        let store = MemoryStore::default();
        let (a, b, c): (Arc<str>, Arc<str>, Arc<str>) = ("g:a".into(), "g:b".into(), "g:c".into());
        write(&store, vec![WriteOp::InsertShared { conv: b.clone(), message: message("b1", 1) }]).unwrap();
        let interleaved = vec![
            WriteOp::InsertShared { conv: a.clone(), message: message("a1", 1) },
            WriteOp::InsertShared { conv: b.clone(), message: message("b2", 2) },
            WriteOp::InsertShared { conv: c.clone(), message: message("c1", 1) },
            WriteOp::InsertShared { conv: b.clone(), message: message("b3", 3) },
            WriteOp::UpdateShared { conv: c.clone(), message: message("c1", 1) },
            WriteOp::InsertShared { conv: a.clone(), message: message("a2", 2) },
        ];
        write(&store, interleaved).unwrap();
        // The third conversation's next seq is 2 now: a second 1 is refused.
        let repeated = vec![
            WriteOp::InsertShared { conv: a, message: message("a3", 3) },
            WriteOp::InsertShared { conv: c, message: message("c1again", 1) },
        ];
        assert!(matches!(write(&store, repeated), Err(StoreError::Corrupt(_))));
        assert_eq!(store.newest_message_mark().unwrap(), 6);
    }
}
