//! The conversation log: the pure, synchronous core of a conversation.
//!
//! It owns the ordered shared messages (seq from 1, no gaps), the send queue of messages held by
//! the group rate limit, every member's state, and for groups the group itself. The
//! conversation actor is a thin shell that turns messages into calls on this type; everything
//! here is plain code, tested without actors or a store.
//!
//! Mutations record what they changed in [`Changes`]; the actor drains them into store writes.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use crate::chunked::ChunkedVec;
use crate::element::{Element, ElementBody, GroupReportElement, GroupReportType, GroupTipType, GroupTipsElement};
use crate::error::{ConvError, ConvResult};
use crate::group::{GroupCommand, GroupInfo, GroupMember, GroupSnapshot, join_policy};
use crate::hashed_id_index::HashedIdIndex;
use crate::history::{self, Anchor, HistoryAnchor, HistoryQuery, MessageTarget};
use crate::ids::{ConvKey, ConvType, MsgId, SYSTEM_SENDER, UserId};
use crate::member::{MemberState, ReceiveOpt, Role, ViewKind};
use crate::message::{
    LocalCustomData, MessageContent, MessageLocator, MessageStatus, MessageView, ReadReceipt, RevokeInfo, StoredMessage,
};
use crate::rate_limit::TokenBucket;

/// What mutations changed since the last drain, for the store.
#[derive(Debug, Default)]
pub struct Changes {
    pub inserted: Vec<Arc<StoredMessage>>,
    pub updated: Vec<Arc<StoredMessage>>,
    pub members: BTreeSet<UserId>,
    pub group: bool,
    pub local_added: Vec<(UserId, Arc<StoredMessage>)>,
    pub local_removed: Vec<(UserId, u64)>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.inserted.is_empty()
            && self.updated.is_empty()
            && self.members.is_empty()
            && !self.group
            && self.local_added.is_empty()
            && self.local_removed.is_empty()
    }
}

/// A message waiting in the send queue: for its media to upload, or for the rate limit.
#[derive(Debug, Clone)]
pub struct QueuedSend {
    pub id: MsgId,
    pub sender: UserId,
    pub rand: u64,
    pub content: Arc<MessageContent>,
    /// False while its media uploads; an uploading message never holds up the ones behind it.
    pub ready: bool,
}

impl QueuedSend {
    /// The message as its sender keeps it when it is not sent (no seq, no time yet).
    pub fn unsent(&self, status: MessageStatus) -> StoredMessage {
        StoredMessage {
            id: self.id.clone(),
            sender: self.sender.clone(),
            seq: 0,
            local_id: 0,
            rand: self.rand,
            server_time: 0,
            status,
            revoke: None,
            content: self.content.clone(),
        }
    }
}

/// What became of a submitted message.
#[derive(Debug, Clone)]
pub enum Submitted {
    /// The ID was committed before: the original message, unchanged.
    Duplicate(Arc<StoredMessage>),
    /// Waiting in the send queue for the group rate limit.
    Queued,
    /// Waiting in the send queue for its media to upload.
    Uploading,
    /// Took the next seq; acknowledged once durable.
    Committed(Arc<StoredMessage>),
    /// Online-only: never stored, delivered now.
    Online(Arc<StoredMessage>),
}

/// Who gets a committed message, and whether to notify (push) them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub user: UserId,
    pub notify: bool,
}

/// What a group command produced besides its tips.
#[derive(Debug, Default)]
pub struct GroupOutcome {
    /// Tips committed to the group log (acknowledged once durable).
    pub tips: Vec<Arc<StoredMessage>>,
    /// Reports for single users (system conversation, not stored).
    pub reports: Vec<(UserId, GroupReportElement)>,
    /// The users whose membership changed (invited, removed, …).
    pub affected: Vec<String>,
}

#[derive(Debug)]
pub struct ConversationLog {
    key: ConvKey,
    group: Option<GroupInfo>,
    /// Chunked, so a long log never stops to move all its messages (see [`ChunkedVec`]).
    /// The messages from seq `base` on: all of them once `base` is 1. A conversation is
    /// activated with a window of its newest messages; the actor loads the older ones
    /// ([`prepend_older`](Self::prepend_older)) before an op that may need them.
    entries: ChunkedVec<Arc<StoredMessage>>,
    base: u64,
    /// ID → seq, looked up on every send (dedupe); see [`HashedIdIndex`] for how it grows.
    by_id: HashedIdIndex<u64>,
    /// Looked up on every send (foldhash: SipHash's DoS resistance buys nothing for a map of
    /// a group's members, keyed by IDs the service accepted).
    members: foldhash::HashMap<UserId, MemberState>,
    queue: VecDeque<QueuedSend>,
    durable_seq: u64,
    rate: TokenBucket,
    changes: Changes,
    /// The app administrator (the REST API's admin): in a group it may do what an owner may
    /// without being a member, and reads it as a member who saw everything.
    app_admin: Option<UserId>,
    admin_view: MemberState,
}

impl ConversationLog {
    /// A log restored from the store (or empty). C2C participants get their member state
    /// even if nothing was ever stored for them.
    pub fn restore(
        key: ConvKey,
        group: Option<GroupInfo>,
        entries: Vec<Arc<StoredMessage>>,
        members: HashMap<UserId, MemberState>,
        group_rate_limit: u32,
    ) -> ConversationLog {
        Self::restore_window(key, group, entries, 1, &[], members, group_rate_limit)
    }

    /// A log restored with the messages from seq `base` on, and only the IDs (`older_ids`) of
    /// those before.
    pub fn restore_window(
        key: ConvKey,
        group: Option<GroupInfo>,
        entries: Vec<Arc<StoredMessage>>,
        base: u64,
        older_ids: &[(MsgId, u64)],
        members: HashMap<UserId, MemberState>,
        group_rate_limit: u32,
    ) -> ConversationLog {
        let mut members: foldhash::HashMap<UserId, MemberState> = members.into_iter().collect();
        if let Some((a, b)) = key.c2c_pair() {
            for u in [a, b] {
                members.entry(u.clone()).or_insert_with(|| MemberState::new(Role::Member, 1, 0));
            }
        }
        let by_id =
            older_ids.iter().map(|(id, seq)| (&**id, *seq)).chain(entries.iter().map(|m| (&*m.id, m.seq))).collect();
        let base = base.max(1);
        let durable_seq = base - 1 + entries.len() as u64;
        let rate = match key.conv_type() {
            ConvType::Group => TokenBucket::new(group_rate_limit),
            _ => TokenBucket::new(0),
        };
        ConversationLog {
            key,
            group,
            entries: entries.into_iter().collect(),
            base,
            by_id,
            members,
            queue: VecDeque::new(),
            durable_seq,
            rate,
            changes: Changes::default(),
            app_admin: None,
            admin_view: MemberState::new(Role::Owner, 1, 0),
        }
    }

    /// Names the app administrator (see [`ConversationLog::is_app_admin`]).
    pub fn with_app_admin(mut self, admin: Option<UserId>) -> ConversationLog {
        self.app_admin = admin;
        self
    }

    /// Whether `user` is the app administrator acting on this group (never for C2C: there it
    /// is a user like any other).
    fn is_app_admin(&self, user: &str) -> bool {
        self.key.conv_type() == ConvType::Group && self.app_admin.as_deref() == Some(user)
    }

    /// The role `user` acts with: its member role, or an owner's for the app administrator
    /// that is not a member.
    fn acting_role(&self, user: &str) -> Role {
        match self.members.get(user) {
            Some(m) if m.active => m.role,
            _ if self.is_app_admin(user) => Role::Owner,
            _ => Role::Member,
        }
    }

    /// Whether every message is in memory (not only a window of the newest).
    pub fn is_whole(&self) -> bool {
        self.base == 1
    }

    /// The first seq in memory.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// Puts the messages before the window in front of it: `older` holds seqs 1 to base - 1.
    pub fn prepend_older(&mut self, older: Vec<Arc<StoredMessage>>) -> ConvResult<()> {
        if older.len() as u64 != self.base - 1 || older.iter().zip(1..).any(|(m, seq)| m.seq != seq) {
            return Err(ConvError::Store(format!(
                "{}: {} older messages loaded where seqs 1 to {} were expected",
                self.key,
                older.len(),
                self.base - 1
            )));
        }
        let window = std::mem::take(&mut self.entries);
        self.entries = older.into_iter().chain(window.iter().cloned()).collect();
        self.base = 1;
        Ok(())
    }

    /// Drops from memory the durable messages before the newest `window` once twice that many
    /// are held, and says how many went: a conversation that keeps running keeps a window of
    /// its messages, as one just activated does, not every message it ever sent. Their IDs
    /// stay known (resends are still recognised); an op that needs them loads them again.
    /// Messages not yet durable always stay.
    pub fn trim_to_window(&mut self, window: usize) -> usize {
        let window = window.max(1);
        if self.entries.len() <= window.saturating_mul(2) {
            return 0;
        }
        let first_kept = (self.last_seq() + 1 - window as u64).min(self.durable_seq + 1);
        if first_kept <= self.base {
            return 0;
        }
        let dropped = (first_kept - self.base) as usize;
        self.entries = self.entries.iter().skip(dropped).cloned().collect();
        self.base = first_kept;
        dropped
    }

    /// Whether `id` may name a message before the window (an ID hash seen there): then the
    /// older messages must be loaded before the ID can be told apart.
    pub fn id_may_be_older(&self, id: &str) -> bool {
        self.base > 1 && self.by_id.candidates(id).any(|seq| seq < self.base)
    }

    /// Whether `target` can be resolved without the messages before the window: a shared
    /// message in it, or an ID that names none before it (a local message, or nothing).
    pub fn in_window(&self, target: &MessageTarget) -> bool {
        match target {
            MessageTarget::Seq(seq) => *seq >= self.base,
            MessageTarget::Id(id) => self.seq_by_id(id).is_some() || !self.id_may_be_older(id),
        }
    }

    /// Whether `target` is a shared message within the window.
    pub fn shared_in_window(&self, target: &MessageTarget) -> bool {
        self.seq_of(target).is_some()
    }

    /// Whether `user`'s unread count needs messages before the window.
    pub fn unread_needs_older(&self, user: &str) -> bool {
        self.base > 1 && self.members.get(user).is_some_and(|m| m.read_seq + 1 < self.base)
    }

    pub fn key(&self) -> &ConvKey {
        &self.key
    }

    pub fn group(&self) -> Option<&GroupInfo> {
        self.group.as_ref()
    }

    pub fn last_seq(&self) -> u64 {
        self.base - 1 + self.entries.len() as u64
    }

    pub fn durable_seq(&self) -> u64 {
        self.durable_seq
    }

    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    pub fn member(&self, user: &str) -> Option<&MemberState> {
        self.members.get(user)
    }

    pub fn members(&self) -> impl Iterator<Item = (&UserId, &MemberState)> {
        self.members.iter()
    }

    /// Whether `user` takes part in this conversation right now.
    pub fn is_active_member(&self, user: &str) -> bool {
        self.members.get(user).is_some_and(|m| m.active)
    }

    /// Whether nothing has changed since the last [`take_changes`](Self::take_changes).
    pub fn pending_changes_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn take_changes(&mut self) -> Changes {
        std::mem::take(&mut self.changes)
    }

    /// A committed shared message by ID.
    pub fn committed(&self, id: &str) -> Option<&Arc<StoredMessage>> {
        self.seq_by_id(id).and_then(|seq| self.entry(seq))
    }

    /// The seq of the committed shared message carrying `id`.
    fn seq_by_id(&self, id: &str) -> Option<u64> {
        self.by_id.candidates(id).find(|seq| self.entry(*seq).is_some_and(|m| *m.id == *id))
    }

    fn entry(&self, seq: u64) -> Option<&Arc<StoredMessage>> {
        seq.checked_sub(self.base).and_then(|i| self.entries.get(i as usize))
    }

    fn seq_of(&self, target: &MessageTarget) -> Option<u64> {
        match target {
            MessageTarget::Id(id) => self.seq_by_id(id),
            MessageTarget::Seq(seq) => self.entry(*seq).map(|m| m.seq),
        }
    }

    fn require_group_alive(&self) -> ConvResult<&GroupInfo> {
        match &self.group {
            Some(g) if !g.dismissed => Ok(g),
            _ => Err(ConvError::GroupNotFound(self.group_id())),
        }
    }

    fn group_id(&self) -> String {
        match &self.key {
            ConvKey::Group(g) => g.to_string(),
            ConvKey::C2c(..) => String::new(),
        }
    }

    fn require_member(&self, user: &str) -> ConvResult<()> {
        if self.key.conv_type() == ConvType::Group {
            self.require_group_alive()?;
        }
        if self.is_active_member(user) || self.is_app_admin(user) {
            Ok(())
        } else {
            Err(ConvError::NotMember { user: user.to_string(), group: self.group_id() })
        }
    }

    /// A member that may have left: reads of history stay possible after quitting.
    fn viewer(&self, user: &str) -> ConvResult<&MemberState> {
        match self.members.get(user) {
            Some(m) => Ok(m),
            None if self.is_app_admin(user) => Ok(&self.admin_view),
            None => Err(ConvError::NotMember { user: user.to_string(), group: self.group_id() }),
        }
    }

    fn viewer_mut(&mut self, user: &str) -> ConvResult<&mut MemberState> {
        let group = self.group_id();
        match self.members.get_mut(user) {
            Some(m) => Ok(m),
            None => Err(ConvError::NotMember { user: user.to_string(), group }),
        }
    }

    // ---- sending -------------------------------------------------------------------------

    /// Takes a message into the conversation: duplicate check, membership, then commit or
    /// queue behind the group rate limit.
    pub fn submit(
        &mut self,
        sender: &UserId,
        id: MsgId,
        content: Arc<MessageContent>,
        rand: u64,
        now_ms: u64,
        queue_limit: usize,
    ) -> ConvResult<Submitted> {
        self.drop_unsent_copy(sender, &id);
        if let Some(seq) = self.seq_by_id(&id) {
            let original = &self.entries[(seq - self.base) as usize];
            // A resend is the same sender's; another sender reusing the ID (a guess at the
            // next generated one, say) must not get the original back as its own message.
            if original.sender != *sender {
                return Err(ConvError::MessageIdTaken(id.to_string()));
            }
            return Ok(Submitted::Duplicate(original.clone()));
        }
        if self.queue.iter().any(|q| q.id == id) {
            return Err(ConvError::InProgress);
        }
        self.require_member(sender)?;
        if content.is_online {
            return Ok(Submitted::Online(Arc::new(StoredMessage {
                id,
                sender: sender.clone(),
                seq: 0,
                local_id: 0,
                rand,
                server_time: now_ms / 1000,
                status: MessageStatus::SendSucc,
                revoke: None,
                content,
            })));
        }
        if content.needs_upload() {
            // Messages waiting for their media are bounded like the rate-limited ones: each
            // holds its content (and an upload) while it waits.
            if self.queue.len() - self.ready_len() >= queue_limit {
                return Err(ConvError::TooMany(format!("{queue_limit} messages are waiting for their media; retry")));
            }
            self.queue.push_back(QueuedSend { id, sender: sender.clone(), rand, content, ready: false });
            return Ok(Submitted::Uploading);
        }
        if self.ready_len() > 0 || !self.rate.try_take(now_ms) {
            if self.ready_len() >= queue_limit {
                return Err(ConvError::GroupRateLimited);
            }
            self.queue.push_back(QueuedSend { id, sender: sender.clone(), rand, content, ready: true });
            return Ok(Submitted::Queued);
        }
        Ok(Submitted::Committed(self.commit(sender.clone(), id, content, rand, now_ms)))
    }

    /// Takes a message imported from another system (the REST API's `importmsg` and
    /// `import_group_msg`) at its own time (s), which may not be before the newest message's
    /// (nor, in a group, its creation): the log stays in time order. The same ID again answers
    /// the message already imported, and `false`.
    pub fn import(
        &mut self,
        sender: &UserId,
        id: MsgId,
        content: Arc<MessageContent>,
        rand: u64,
        time_secs: u64,
    ) -> ConvResult<(Arc<StoredMessage>, bool)> {
        if let Some(seq) = self.seq_by_id(&id) {
            return Ok((self.entries[(seq - self.base) as usize].clone(), false));
        }
        let created = match self.key.conv_type() {
            ConvType::Group => {
                self.require_group_alive()?;
                self.group.as_ref().map_or(0, |g| g.created_at)
            }
            _ => 0,
        };
        let newest = self.entries.last().map_or(0, |m| m.server_time);
        if time_secs < newest.max(created) {
            return Err(ConvError::InvalidParam(format!(
                "a message imported at {time_secs} comes before the conversation's newest ({}): import in time order",
                newest.max(created)
            )));
        }
        Ok((self.commit(sender.clone(), id, content, rand, time_secs * 1000), true))
    }

    /// Moves `user`'s read point to `seq` (an imported history message counts as read); a
    /// user with no state here is left alone.
    pub fn read_through(&mut self, user: &str, seq: u64) {
        let time = self.entry(seq).map_or(0, |m| m.server_time);
        if let Some(member) = self.members.get_mut(user) {
            member.read_seq = member.read_seq.max(seq);
            member.read_time = member.read_time.max(time);
            self.changes.members.insert(user.into());
        }
    }

    fn ready_len(&self) -> usize {
        self.queue.iter().filter(|q| q.ready).count()
    }

    /// A message's media finished uploading: it takes its final content and is ready to
    /// commit. False if it is no longer queued (cancelled meanwhile).
    pub fn finish_upload(&mut self, id: &str, content: MessageContent) -> bool {
        match self.queue.iter_mut().find(|q| &*q.id == id && !q.ready) {
            Some(q) => {
                q.content = Arc::new(content);
                q.ready = true;
                true
            }
            None => false,
        }
    }

    /// A message in the send queue.
    pub fn queued(&self, id: &str) -> Option<&QueuedSend> {
        self.queue.iter().find(|q| &*q.id == id)
    }

    /// A message's upload failed: it leaves the queue.
    pub fn fail_upload(&mut self, id: &str) -> Option<QueuedSend> {
        let pos = self.queue.iter().position(|q| &*q.id == id && !q.ready)?;
        self.queue.remove(pos)
    }

    /// Assigns the next seq and server time. Server times never go backwards along the log.
    fn commit(
        &mut self,
        sender: UserId,
        id: MsgId,
        content: Arc<MessageContent>,
        rand: u64,
        now_ms: u64,
    ) -> Arc<StoredMessage> {
        let seq = self.last_seq() + 1;
        let floor = self.entries.last().map_or(0, |m| m.server_time);
        let message = Arc::new(StoredMessage {
            id: id.clone(),
            sender,
            seq,
            local_id: 0,
            rand,
            server_time: (now_ms / 1000).max(floor),
            status: MessageStatus::Sending,
            revoke: None,
            content,
        });
        self.entries.push(message.clone());
        self.by_id.insert(&id, seq);
        self.changes.inserted.push(message.clone());
        if seq == 1 && self.key.conv_type() == ConvType::C2c {
            // The first message makes the conversation exist for both users.
            self.changes.members.extend(self.members.keys().cloned());
        }
        message
    }

    /// Commits ready messages the rate limit now allows, in queue order; messages still
    /// uploading stay behind without holding anyone up.
    pub fn release_queued(&mut self, now_ms: u64) -> Vec<Arc<StoredMessage>> {
        let mut out = Vec::new();
        while let Some(pos) = self.queue.iter().position(|q| q.ready) {
            if !self.rate.try_take(now_ms) {
                break;
            }
            let q = self.queue.remove(pos).expect("position is in range");
            out.push(self.commit(q.sender, q.id, q.content, q.rand, now_ms));
        }
        out
    }

    /// Milliseconds until the next ready message may commit, if any wait.
    pub fn next_release_in(&mut self, now_ms: u64) -> Option<u64> {
        if self.ready_len() == 0 { None } else { Some(self.rate.wait_ms(now_ms).max(1)) }
    }

    /// Messages this log holds that are not durable: committed past the durable point, or
    /// still queued, and the failed or cancelled copies senders keep (their write may have been
    /// the one that failed). A restart after a failed write takes them from here, so their
    /// senders keep them (see [`keep_unsent`](Self::keep_unsent)).
    pub fn not_durable(&self) -> Vec<Arc<StoredMessage>> {
        let kept = self.members.values().flat_map(|m| {
            m.local_messages
                .iter()
                .filter(|l| matches!(l.status, MessageStatus::SendFail | MessageStatus::Cancel))
                .cloned()
        });
        let committed = self.entries.iter().skip((self.durable_seq + 1 - self.base) as usize).cloned().chain(kept);
        let queued = self.queue.iter().map(|q| Arc::new(q.unsent(MessageStatus::Sending)));
        committed.chain(queued).collect()
    }

    /// Keeps a message that was not sent (`SendFail`, `Cancel`) in its sender's history only,
    /// as the SDK does, so the app can show it and send it again (with its ID; see
    /// [`submit`](Self::submit)). A sender no longer in the conversation keeps nothing.
    pub fn keep_unsent(&mut self, message: &StoredMessage, status: MessageStatus, now_ms: u64) {
        let sender = message.sender.clone();
        let Some(member) = self.members.get_mut(&sender) else { return };
        if member.find_local(&message.id).is_some() {
            return;
        }
        let server_time = if message.server_time == 0 { now_ms / 1000 } else { message.server_time };
        let kept = member.insert_local(StoredMessage {
            seq: 0,
            local_id: 0,
            server_time,
            status,
            revoke: None,
            ..message.clone()
        });
        self.changes.local_added.push((sender.clone(), kept));
        self.changes.members.insert(sender);
    }

    /// A message sent again replaces the failed or cancelled copy its sender kept.
    fn drop_unsent_copy(&mut self, sender: &str, id: &str) {
        let Some(member) = self.members.get_mut(sender) else { return };
        let unsent =
            member.find_local(id).is_some_and(|m| matches!(m.status, MessageStatus::SendFail | MessageStatus::Cancel));
        if unsent && let Some(local_id) = member.remove_local(id) {
            self.changes.local_removed.push((sender.into(), local_id));
            self.changes.members.insert(sender.into());
        }
    }

    /// Cancels a message still in the send queue. A committed or unknown one cannot be.
    pub fn cancel(&mut self, by: &str, id: &str) -> ConvResult<QueuedSend> {
        match self.queue.iter().position(|q| &*q.id == id && &*q.sender == by) {
            Some(pos) => Ok(self.queue.remove(pos).expect("position is in range")),
            None => Err(ConvError::NothingToCancel(id.to_string())),
        }
    }

    /// Marks every message up to `through` as sent; returns the newly durable ones in order.
    pub fn mark_durable(&mut self, through: u64) -> Vec<Arc<StoredMessage>> {
        let through = through.min(self.last_seq());
        let mut out = Vec::with_capacity(through.saturating_sub(self.durable_seq) as usize);
        for seq in self.durable_seq + 1..=through {
            let entry = &mut self.entries[(seq - self.base) as usize];
            if entry.status == MessageStatus::Sending {
                Arc::make_mut(entry).status = MessageStatus::SendSucc;
            }
            out.push(entry.clone());
        }
        self.durable_seq = self.durable_seq.max(through);
        out
    }

    /// Decides who receives a message and records who must not see it.
    /// `c2c_opt(receiver, sender)` gives a C2C receiver's option for that sender.
    pub fn deliveries(&mut self, message: &StoredMessage, c2c_opt: impl Fn(&str, &str) -> ReceiveOpt) -> Vec<Delivery> {
        let mut out = Vec::with_capacity(self.members.len().saturating_sub(1));
        let targets = &message.content.target_members;
        for (user, member) in self.members.iter_mut() {
            if !member.active || **user == *message.sender {
                continue;
            }
            let opt = match self.key {
                ConvKey::C2c(..) => c2c_opt(user, &message.sender),
                ConvKey::Group(_) => member.recv_opt,
            };
            let targeted_away = !targets.is_empty() && !targets.iter().any(|t| **t == **user);
            if opt == ReceiveOpt::NotReceive || targeted_away {
                if message.seq > 0 && member.undelivered.insert(message.seq) {
                    self.changes.members.insert(user.clone());
                }
                continue;
            }
            out.push(Delivery { user: user.clone(), notify: opt == ReceiveOpt::Receive });
        }
        out.sort_by(|a, b| a.user.cmp(&b.user));
        out
    }

    // ---- revoke --------------------------------------------------------------------------

    pub fn revoke(
        &mut self,
        by: &UserId,
        target: &MessageTarget,
        reason: String,
        now_ms: u64,
        window_secs: u64,
        stamp: u64,
    ) -> ConvResult<Arc<StoredMessage>> {
        let now_secs = now_ms / 1000;
        self.require_member(by)?;
        let seq = self.seq_of(target).ok_or(ConvError::MessageNotFound(self.key.conv_type()))?;
        let msg = &self.entries[(seq - self.base) as usize];
        if msg.status == MessageStatus::Revoked {
            return Err(ConvError::NotRevocable("already revoked".into()));
        }
        if seq > self.durable_seq {
            return Err(ConvError::NotRevocable("still being sent".into()));
        }
        if *msg.sender != **by {
            let admin = self.key.conv_type() == ConvType::Group
                && (self.members.get(by).is_some_and(MemberState::is_admin) || self.is_app_admin(by));
            if !admin {
                return Err(ConvError::PermissionDenied(
                    "only the sender, or a group owner or admin, may revoke".into(),
                ));
            }
        }
        if now_secs > msg.server_time.saturating_add(window_secs) {
            return Err(ConvError::RevokeWindowPassed { conv_type: self.key.conv_type(), window_secs });
        }
        let entry = &mut self.entries[(seq - self.base) as usize];
        let m = Arc::make_mut(entry);
        m.status = MessageStatus::Revoked;
        m.revoke = Some(Box::new(RevokeInfo { by: by.clone(), reason, stamp }));
        let out = entry.clone();
        self.changes.updated.push(out.clone());
        Ok(out)
    }

    /// Users a revoke is announced to: every member who could see the message.
    pub fn revoke_audience(&self, message: &StoredMessage) -> Vec<UserId> {
        let mut out: Vec<UserId> = self
            .members
            .iter()
            .filter(|(_, m)| m.sees_shared(message.seq, ViewKind::Roaming))
            .map(|(u, _)| u.clone())
            .collect();
        out.sort();
        out
    }

    // ---- read state ----------------------------------------------------------------------

    /// Moves `user`'s read point to `target` (or the newest message). Returns the C2C peer
    /// and the receipt it should get.
    pub fn report_read(
        &mut self,
        user: &str,
        target: Option<&MessageTarget>,
        now_ms: u64,
        stamp: u64,
    ) -> ConvResult<Option<(UserId, ReadReceipt)>> {
        let now_secs = now_ms / 1000;
        let (seq, time) = match target {
            Some(t) => {
                if let Some(seq) = self.seq_of(t) {
                    (seq, self.entries[(seq - self.base) as usize].server_time)
                } else {
                    let MessageTarget::Id(id) = t else {
                        return Err(ConvError::MessageNotFound(self.key.conv_type()));
                    };
                    let local =
                        self.viewer(user)?.find_local(id).ok_or(ConvError::MessageNotFound(self.key.conv_type()))?;
                    let order = local.view_order();
                    let seq = self.base - 1 + self.entries.partition_point(|m| m.view_order() <= order) as u64;
                    (seq, local.server_time)
                }
            }
            None => {
                let seq = self.durable_seq;
                (seq, self.entry(seq).map_or(now_secs, |m| m.server_time))
            }
        };
        let member = self.viewer_mut(user)?;
        member.read_seq = member.read_seq.max(seq);
        member.read_time = member.read_time.max(time);
        member.read_stamp = stamp;
        let read_time = member.read_time;
        self.changes.members.insert(user.into());
        Ok(match &self.key {
            ConvKey::C2c(a, b) => {
                let peer = if &**a == user { b.clone() } else { a.clone() };
                (*peer != *user).then(|| {
                    let receipt = ReadReceipt { conv: self.key.as_seen_by(&peer), time: read_time };
                    (peer, receipt)
                })
            }
            ConvKey::Group(_) => None,
        })
    }

    /// Messages after the read point that count as unread, derived, never stored.
    pub fn unread_count(&self, user: &str) -> u64 {
        let Some(m) = self.members.get(user) else {
            return 0;
        };
        self.entries
            .iter()
            .skip(m.read_seq.saturating_sub(self.base - 1) as usize)
            .take_while(|e| e.seq <= self.durable_seq)
            .filter(|e| {
                *e.sender != *user
                    && e.status != MessageStatus::Revoked
                    && !e.content.excluded_from_unread
                    // Targeted group messages count as unread for nobody (the SDK's rule).
                    && e.content.target_members.is_empty()
                    && m.sees_shared(e.seq, ViewKind::Local)
            })
            .count() as u64
    }

    /// What `user` would have heard since the event stamp `since` had it been logged in: revokes of
    /// messages it can see (by others), and its C2C peer's read receipt.
    pub fn missed_since(&self, user: &str, since: u64) -> (Vec<(MessageLocator, UserId, String)>, Option<ReadReceipt>) {
        let Some(member) = self.members.get(user) else { return (Vec::new(), None) };
        let revokes = self
            .entries
            .iter()
            .filter(|m| member.sees_shared(m.seq, ViewKind::Roaming))
            .filter_map(|m| {
                let r = m.revoke.as_ref().filter(|r| r.stamp > since && *r.by != *user)?;
                let loc = MessageLocator {
                    conv: self.key.as_seen_by(user),
                    is_revoked: true,
                    time: m.server_time,
                    seq: m.seq,
                    is_self: *m.sender == *user,
                    rand: m.rand,
                };
                Some((loc, r.by.clone(), r.reason.clone()))
            })
            .collect();
        let receipt = match &self.key {
            ConvKey::C2c(a, b) => {
                let peer = if &**a == user { b } else { a };
                self.members
                    .get(peer)
                    .filter(|p| **peer != *user && p.read_stamp > since)
                    .map(|p| ReadReceipt { conv: self.key.as_seen_by(user), time: p.read_time })
            }
            ConvKey::Group(_) => None,
        };
        (revokes, receipt)
    }

    // ---- views ---------------------------------------------------------------------------

    fn visible(&self, user: &str, m: &MemberState, msg: &StoredMessage, view: ViewKind) -> bool {
        msg.is_local() || ((msg.seq <= self.durable_seq || *msg.sender == *user) && m.sees_shared(msg.seq, view))
    }

    /// `user`'s view of a stored message.
    pub fn view_of(&self, user: &str, msg: &Arc<StoredMessage>) -> MessageView {
        let member = self.members.get(user);
        let is_self = *msg.sender == *user;
        let custom = member
            .and_then(|m| if msg.is_local() { m.local_custom.get(&msg.local_id) } else { m.custom.get(&msg.seq) })
            .cloned()
            .unwrap_or_default();
        let is_read = is_self || msg.is_local() || member.is_some_and(|m| msg.seq <= m.read_seq);
        let is_peer_read = match &self.key {
            ConvKey::C2c(a, b) if is_self && !msg.is_local() => {
                let peer = if &**a == user { b } else { a };
                **peer != *user && self.members.get(peer).is_some_and(|p| msg.seq <= p.read_seq)
            }
            _ => false,
        };
        MessageView { conv: self.key.as_seen_by(user), message: msg.clone(), is_self, is_read, is_peer_read, custom }
    }

    /// Finds a message `user` can see, by ID or seq.
    pub fn find(&self, user: &str, target: &MessageTarget) -> Option<MessageView> {
        let member = self.members.get(user)?;
        let msg = match self.seq_of(target) {
            Some(seq) => self.entries[(seq - self.base) as usize].clone(),
            None => match target {
                MessageTarget::Id(id) => member.find_local(id)?.clone(),
                MessageTarget::Seq(_) => return None,
            },
        };
        self.visible(user, member, &msg, ViewKind::Roaming).then(|| self.view_of(user, &msg))
    }

    /// Finds a message by locator: seq (shared) or time and rand (local-only).
    pub fn find_by_locator(&self, user: &str, loc: &MessageLocator) -> Option<MessageView> {
        let member = self.members.get(user)?;
        let msg = if loc.seq > 0 {
            let m = self.entry(loc.seq)?;
            let rand_ok = loc.rand == 0 || m.rand == loc.rand;
            let time_ok = loc.time == 0 || m.server_time == loc.time;
            (rand_ok && time_ok).then(|| m.clone())?
        } else {
            member
                .local_messages
                .iter()
                .find(|m| m.rand == loc.rand && (loc.time == 0 || m.server_time == loc.time))?
                .clone()
        };
        self.visible(user, member, &msg, ViewKind::Roaming).then(|| self.view_of(user, &msg))
    }

    /// One page of `user`'s history.
    pub fn history(&self, user: &str, q: &HistoryQuery) -> ConvResult<Vec<MessageView>> {
        let member = self.viewer(user)?;
        let anchor = match &q.anchor {
            HistoryAnchor::None if q.time_begin > 0 => {
                let t = q.time_begin;
                if q.forward {
                    Anchor::At { order: (t, 0, 0), inclusive: true }
                } else {
                    Anchor::At { order: (t, u8::MAX, u64::MAX), inclusive: true }
                }
            }
            HistoryAnchor::None => Anchor::Edge,
            HistoryAnchor::Seq(seq) => match self.entry(*seq) {
                Some(m) => Anchor::At { order: m.view_order(), inclusive: true },
                None if *seq > self.last_seq() => Anchor::At { order: (u64::MAX, 0, *seq), inclusive: true },
                None => Anchor::At { order: (0, 0, 0), inclusive: true },
            },
            HistoryAnchor::Message(target) => {
                let msg = match self.seq_of(target) {
                    Some(seq) => self.entries[(seq - self.base) as usize].clone(),
                    None => match target {
                        MessageTarget::Id(id) => {
                            member.find_local(id).cloned().ok_or(ConvError::MessageNotFound(self.key.conv_type()))?
                        }
                        MessageTarget::Seq(_) => return Err(ConvError::MessageNotFound(self.key.conv_type())),
                    },
                };
                Anchor::At { order: msg.view_order(), inclusive: false }
            }
        };
        let (lo, hi) = history::time_window(q);
        let types = &q.types;
        let page = history::page(
            &self.entries,
            &member.local_messages,
            anchor,
            q.forward,
            q.count,
            |m| {
                self.visible(user, member, m, q.view)
                    && (lo..=hi).contains(&m.server_time)
                    && (types.is_empty() || m.content.elements.iter().any(|e| types.contains(&e.type_number())))
            },
            |m| {
                if q.forward { m.server_time > hi } else { m.server_time < lo }
            },
        );
        Ok(page.iter().map(|m| self.view_of(user, m)).collect())
    }

    /// Keeps the candidates (shared seqs or local ids) `user` can still see, as views.
    pub fn filter_visible(&self, user: &str, shared: &[u64], local: &[u64]) -> Vec<MessageView> {
        let Some(member) = self.members.get(user) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for seq in shared {
            if let Some(m) = self.entry(*seq)
                && m.status != MessageStatus::Revoked
                && self.visible(user, member, m, ViewKind::Local)
            {
                out.push(self.view_of(user, m));
            }
        }
        for id in local {
            if let Some(m) = member.local_messages.iter().find(|m| m.local_id == *id) {
                out.push(self.view_of(user, m));
            }
        }
        out
    }

    // ---- deletion ------------------------------------------------------------------------

    /// `TIMMsgDelete`: one message, or (with no target) the whole view of the given kind.
    pub fn delete(&mut self, user: &str, target: Option<&MessageTarget>, view: ViewKind) -> ConvResult<()> {
        let last = self.last_seq();
        let seq = target.map(|t| self.seq_of(t));
        let member = self.viewer_mut(user)?;
        match (target, seq) {
            (None, _) => {
                match view {
                    ViewKind::Local => member.local_cleared = last,
                    ViewKind::Roaming => member.roaming_cleared = last,
                }
                let removed: Vec<u64> = member.local_messages.drain(..).map(|m| m.local_id).collect();
                member.local_custom.clear();
                self.changes.local_removed.extend(removed.into_iter().map(|id| (user.into(), id)));
            }
            (Some(_), Some(Some(seq))) => {
                match view {
                    ViewKind::Local => member.local_deleted.insert(seq),
                    ViewKind::Roaming => member.roaming_deleted.insert(seq),
                };
            }
            (Some(MessageTarget::Id(id)), _) => {
                let local_id = member.remove_local(id).ok_or(ConvError::MessageNotFound(self.key.conv_type()))?;
                self.changes.local_removed.push((user.into(), local_id));
            }
            (Some(MessageTarget::Seq(_)), _) => return Err(ConvError::MessageNotFound(self.key.conv_type())),
        }
        self.changes.members.insert(user.into());
        Ok(())
    }

    /// `TIMMsgListDelete`: deletes local and roaming copies of every target, all or nothing.
    pub fn list_delete(&mut self, user: &str, targets: &[MessageTarget]) -> ConvResult<()> {
        let member = self.viewer(user)?;
        let mut shared = Vec::new();
        let mut local = Vec::new();
        for t in targets {
            match (self.seq_of(t), t) {
                (Some(seq), _) => shared.push(seq),
                (None, MessageTarget::Id(id)) if member.find_local(id).is_some() => local.push(id.clone()),
                _ => return Err(ConvError::MessageNotFound(self.key.conv_type())),
            }
        }
        let member = self.viewer_mut(user)?;
        member.roaming_deleted.extend(shared);
        let mut removed = Vec::new();
        for id in local {
            removed.extend(member.remove_local(&id));
        }
        self.changes.local_removed.extend(removed.into_iter().map(|id| (user.into(), id)));
        self.changes.members.insert(user.into());
        Ok(())
    }

    /// `TIMMsgClearHistoryMessage`: empties both of `user`'s views of the conversation.
    pub fn clear_history(&mut self, user: &str) -> ConvResult<()> {
        self.delete(user, None, ViewKind::Roaming)?;
        let last = self.last_seq();
        let member = self.viewer_mut(user)?;
        member.local_cleared = last;
        Ok(())
    }

    // ---- local data ----------------------------------------------------------------------

    pub fn set_custom_data(&mut self, user: &str, target: &MessageTarget, data: LocalCustomData) -> ConvResult<()> {
        let seq = self.seq_of(target);
        let not_found = ConvError::MessageNotFound(self.key.conv_type());
        let member = self.viewer_mut(user)?;
        match (seq, target) {
            (Some(seq), _) => {
                member.custom.insert(seq, data);
            }
            (None, MessageTarget::Id(id)) => {
                let local_id = member.find_local(id).ok_or(not_found)?.local_id;
                member.local_custom.insert(local_id, data);
            }
            (None, MessageTarget::Seq(_)) => return Err(not_found),
        }
        self.changes.members.insert(user.into());
        Ok(())
    }

    /// Adds a local-only message (SaveMsg / ImportMsgList) to `user`'s view.
    /// Adds local-only messages all or none: a batch with one it cannot take (an ID that
    /// exists, twice in the batch, a user not in the group) saves nothing.
    pub fn add_locals(&mut self, user: &str, messages: Vec<StoredMessage>) -> ConvResult<Vec<Arc<StoredMessage>>> {
        if self.key.conv_type() == ConvType::Group {
            self.require_member(user)?;
        }
        let viewer = self.viewer(user)?;
        let mut ids = std::collections::HashSet::with_capacity(messages.len());
        for m in &messages {
            if !ids.insert(&*m.id) || self.seq_by_id(&m.id).is_some() || viewer.find_local(&m.id).is_some() {
                return Err(ConvError::InvalidParam(format!("message id {} already exists", m.id)));
            }
        }
        messages.into_iter().map(|m| self.add_local(user, m)).collect()
    }

    pub fn add_local(&mut self, user: &str, message: StoredMessage) -> ConvResult<Arc<StoredMessage>> {
        if self.key.conv_type() == ConvType::Group {
            self.require_member(user)?;
        }
        if self.seq_by_id(&message.id).is_some() || self.viewer(user)?.find_local(&message.id).is_some() {
            return Err(ConvError::InvalidParam(format!("message id {} already exists", message.id)));
        }
        let member = self.viewer_mut(user)?;
        let stored = member.insert_local(message);
        self.changes.local_added.push((user.into(), stored.clone()));
        self.changes.members.insert(user.into());
        Ok(stored)
    }

    pub fn set_group_receive_opt(&mut self, user: &str, opt: ReceiveOpt) -> ConvResult<()> {
        self.require_member(user)?;
        self.viewer_mut(user)?.recv_opt = opt;
        self.changes.members.insert(user.into());
        Ok(())
    }

    // ---- groups --------------------------------------------------------------------------

    /// Applies a group command by `by`, committing the group tips it causes.
    pub fn apply_group(&mut self, by: &UserId, cmd: GroupCommand, now_ms: u64) -> ConvResult<GroupOutcome> {
        let ConvKey::Group(gid) = self.key.clone() else {
            return Err(ConvError::InvalidParam("not a group conversation".into()));
        };
        let now_secs = now_ms / 1000;
        let mut out = GroupOutcome::default();
        match cmd {
            GroupCommand::Create { name, kind, add_option, profile, members } => {
                if self.group.is_some() {
                    return Err(ConvError::GroupExists(gid.to_string()));
                }
                let joining =
                    1 + members.iter().filter(|m| **m != **by).collect::<std::collections::HashSet<_>>().len();
                if profile.max_members > 0 && joining > profile.max_members as usize {
                    return Err(ConvError::GroupFull { group: gid.to_string(), max: profile.max_members });
                }
                self.group = Some(GroupInfo {
                    id: gid.to_string(),
                    name,
                    kind,
                    owner: by.to_string(),
                    created_at: now_secs,
                    dismissed: false,
                    add_option: Some(add_option),
                    profile,
                });
                self.changes.group = true;
                self.add_member(by, Role::Owner, now_secs);
                out.reports.push((by.clone(), self.report(GroupReportType::Create, by)));
                let invited = self.add_members(&members, now_secs);
                out.affected = invited.clone();
                if !invited.is_empty() {
                    out.tips.push(self.tip(GroupTipType::Invite, by, invited, now_ms));
                }
            }
            GroupCommand::Join => {
                self.require_group_alive()?;
                if self.is_active_member(by) {
                    return Err(ConvError::AlreadyMember { user: by.to_string(), group: gid.to_string() });
                }
                let info = self.group.as_ref().expect("require_group_alive checked it");
                join_policy(info.kind, info.add_option()).map_err(|why| ConvError::PermissionDenied(why.into()))?;
                self.check_room(1)?;
                self.add_member(by, Role::Member, now_secs);
                out.tips.push(self.tip(GroupTipType::Invite, by, vec![by.to_string()], now_ms));
            }
            GroupCommand::Quit => {
                self.require_member(by)?;
                if self.acting_role(by) == Role::Owner {
                    return Err(ConvError::PermissionDenied("the owner cannot quit; dismiss the group".into()));
                }
                let tip = self.tip(GroupTipType::Quit, by, vec![by.to_string()], now_ms);
                self.remove_member(by, tip.seq);
                out.reports.push((by.clone(), self.report(GroupReportType::Quit, by)));
                out.tips.push(tip);
            }
            GroupCommand::Invite(users) => {
                self.require_member(by)?;
                let mut newcomers: Vec<&String> = users.iter().filter(|u| !self.is_active_member(u)).collect();
                newcomers.sort();
                newcomers.dedup();
                self.check_room(newcomers.len())?;
                let invited = self.add_members(&users, now_secs);
                out.affected = invited.clone();
                if !invited.is_empty() {
                    for u in &invited {
                        out.reports.push((u.as_str().into(), self.report(GroupReportType::Invite, by)));
                    }
                    out.tips.push(self.tip(GroupTipType::Invite, by, invited, now_ms));
                }
            }
            GroupCommand::Kick(users) => {
                self.require_member(by)?;
                let by_role = self.acting_role(by);
                for u in &users {
                    match self.members.get(u.as_str()) {
                        Some(m) if m.active => {
                            if by_role < Role::Admin || m.role >= by_role {
                                return Err(ConvError::PermissionDenied(format!("{by} may not remove {u}")));
                            }
                        }
                        _ => {
                            return Err(ConvError::NotMember { user: u.clone(), group: gid.to_string() });
                        }
                    }
                }
                out.affected = users.clone();
                let tip = self.tip(GroupTipType::Kick, by, users.clone(), now_ms);
                for u in &users {
                    self.remove_member(u, tip.seq);
                    out.reports.push((u.as_str().into(), self.report(GroupReportType::BeKicked, by)));
                }
                out.tips.push(tip);
            }
            GroupCommand::Dismiss => {
                self.require_member(by)?;
                if self.acting_role(by) != Role::Owner {
                    return Err(ConvError::PermissionDenied("only the owner may dismiss the group".into()));
                }
                let last = self.last_seq();
                let mut users: Vec<UserId> =
                    self.members.iter().filter(|(_, m)| m.active).map(|(u, _)| u.clone()).collect();
                users.sort();
                for u in &users {
                    self.remove_member(u, last);
                    out.reports.push((u.clone(), self.report(GroupReportType::Delete, by)));
                }
                if let Some(g) = self.group.as_mut() {
                    g.dismissed = true;
                }
                self.changes.group = true;
            }
            GroupCommand::Notify { content, to } => {
                self.require_member(by)?;
                let mut audience: Vec<UserId> = self
                    .members
                    .iter()
                    .filter(|(u, m)| m.active && (to.is_empty() || to.iter().any(|t| **t == ***u)))
                    .map(|(u, _)| u.clone())
                    .collect();
                audience.sort();
                for u in audience {
                    let mut report = self.report(GroupReportType::UserDefine, by);
                    report.user_data = content.clone();
                    out.affected.push(u.to_string());
                    out.reports.push((u, report));
                }
            }
            GroupCommand::SetAdmin { user, admin } => {
                self.require_member(by)?;
                if self.acting_role(by) != Role::Owner {
                    return Err(ConvError::PermissionDenied("only the owner may change admins".into()));
                }
                let member = self
                    .members
                    .get_mut(user.as_str())
                    .filter(|m| m.active)
                    .ok_or_else(|| ConvError::NotMember { user: user.clone(), group: gid.to_string() })?;
                if member.role == Role::Owner {
                    return Err(ConvError::PermissionDenied("the owner's role cannot change".into()));
                }
                member.role = if admin { Role::Admin } else { Role::Member };
                self.changes.members.insert(user.as_str().into());
                let (tip_type, report_type) = if admin {
                    (GroupTipType::SetAdmin, GroupReportType::GrantAdmin)
                } else {
                    (GroupTipType::CancelAdmin, GroupReportType::CancelAdmin)
                };
                out.reports.push((user.as_str().into(), self.report(report_type, by)));
                out.tips.push(self.tip(tip_type, by, vec![user], now_ms));
            }
        }
        Ok(out)
    }

    /// The group and its active members now; `None` if this conversation is not a group that
    /// was created.
    pub fn group_snapshot(&self) -> Option<GroupSnapshot> {
        let info = self.group.clone()?;
        let mut members: Vec<GroupMember> = self
            .members
            .iter()
            .filter(|(_, m)| m.active)
            .map(|(user, m)| GroupMember {
                user: user.clone(),
                role: m.role,
                join_time: m.join_time,
                recv_opt: m.recv_opt,
                read_seq: m.read_seq,
            })
            .collect();
        members.sort_by(|a, b| a.user.cmp(&b.user));
        let last_msg_time = self.entries.last().map_or(0, |m| m.server_time);
        Some(GroupSnapshot { info, members, next_seq: self.last_seq() + 1, last_msg_time })
    }

    /// Refuses `adding` more members where the group's bound would be passed.
    fn check_room(&self, adding: usize) -> ConvResult<()> {
        let max = self.group.as_ref().map_or(0, |g| g.profile.max_members);
        if max > 0 && self.member_count() as usize + adding > max as usize {
            return Err(ConvError::GroupFull { group: self.group_id(), max });
        }
        Ok(())
    }

    fn add_members(&mut self, users: &[String], now_secs: u64) -> Vec<String> {
        let mut added = Vec::new();
        for u in users {
            if !self.is_active_member(u) && !added.contains(u) {
                self.add_member(&u.as_str().into(), Role::Member, now_secs);
                added.push(u.clone());
            }
        }
        added
    }

    fn add_member(&mut self, user: &UserId, role: Role, now_secs: u64) {
        let before_join = self.group.as_ref().is_some_and(|g| g.kind.history_before_join());
        let first_seq = if before_join { 1 } else { self.last_seq() + 1 };
        let member = self.members.entry(user.clone()).or_insert_with(|| MemberState::new(role, first_seq, now_secs));
        // A returning member keeps its old view settings but sees only what follows its return.
        member.role = role;
        member.active = true;
        member.last_seq = None;
        member.first_seq = first_seq;
        member.join_time = now_secs;
        self.changes.members.insert(user.clone());
    }

    fn remove_member(&mut self, user: &str, last_seq: u64) {
        if let Some(m) = self.members.get_mut(user) {
            m.active = false;
            m.last_seq = Some(last_seq);
            self.changes.members.insert(user.into());
        }
    }

    fn member_count(&self) -> u64 {
        self.members.values().filter(|m| m.active).count() as u64
    }

    fn tip(&mut self, tip_type: GroupTipType, op: &str, users: Vec<String>, now_ms: u64) -> Arc<StoredMessage> {
        let group = self.group.clone().expect("tips are only made for existing groups");
        let content =
            MessageContent::with_elements(vec![Element::new(ElementBody::GroupTips(Box::new(GroupTipsElement {
                tip_type: tip_type as u32,
                op_user: op.to_string(),
                group_name: group.name,
                group_id: group.id,
                time: now_ms / 1000,
                user_array: users,
                member_num: self.member_count(),
                platform: String::new(),
            })))]);
        let id: MsgId =
            format!("tip-{}-{}", self.key.storage_key().trim_start_matches("g:"), self.last_seq() + 1).into();
        self.commit(SYSTEM_SENDER.into(), id, Arc::new(content), fastrand::u64(..u64::from(u32::MAX)), now_ms)
    }

    fn report(&self, report_type: GroupReportType, op: &str) -> GroupReportElement {
        let group = self.group.as_ref();
        GroupReportElement {
            report_type: report_type as u32,
            group_id: self.group_id(),
            group_name: group.map(|g| g.name.clone()).unwrap_or_default(),
            op_user: op.to_string(),
            msg: String::new(),
            user_data: String::new(),
            platform: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use proptest::prelude::*;

    use super::*;
    use crate::element::Element;
    use crate::group::{GroupAddOption, GroupKind};

    fn content() -> Arc<MessageContent> {
        Arc::new(MessageContent::with_elements(vec![Element::text("x")]))
    }

    fn group_log(rate: u32) -> ConversationLog {
        let mut log = ConversationLog::restore(ConvKey::group("g"), None, Vec::new(), HashMap::new(), rate);
        let create = GroupCommand::Create {
            name: "g".into(),
            kind: GroupKind::ChatRoom,
            add_option: GroupAddOption::Any,
            profile: Default::default(),
            members: vec!["b".into()],
        };
        log.apply_group(&"a".into(), create, 0).unwrap();
        log.mark_durable(log.last_seq());
        log
    }

    #[derive(Debug, Clone)]
    enum Op {
        Send,
        Cancel(usize),
        Tick(u64),
        Durable,
        Revoke(usize),
        Delete(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => Just(Op::Send),
            2 => (0..40usize).prop_map(Op::Cancel),
            2 => (0..1500u64).prop_map(Op::Tick),
            2 => Just(Op::Durable),
            1 => (0..40usize).prop_map(Op::Revoke),
            1 => (0..40usize).prop_map(Op::Delete),
        ]
    }

    proptest! {
        /// Whatever the interleaving of sends, cancels, clock ticks, durability, revokes and
        /// deletes: every message is in exactly one place, cancel succeeds exactly for queued
        /// messages, seqs are gap-free, and durability never runs ahead of the log.
        #[test]
        fn log_and_send_queue_state_machine(ops in proptest::collection::vec(op(), 1..120)) {
            let mut log = group_log(3);
            let sender: UserId = "a".into();
            let (mut now, mut next) = (0u64, 0usize);
            let mut queued: Vec<String> = Vec::new();
            let mut committed: HashSet<String> = HashSet::new();
            let mut cancelled: HashSet<String> = HashSet::new();
            for op in ops {
                match op {
                    Op::Send => {
                        let id = format!("m{next}");
                        next += 1;
                        match log.submit(&sender, id.as_str().into(), content(), 1, now, 5) {
                            Ok(Submitted::Queued) => queued.push(id),
                            Ok(Submitted::Committed(m)) => {
                                prop_assert!(queued.is_empty(), "nothing overtakes the ready queue");
                                prop_assert_eq!(m.seq, log.last_seq());
                                committed.insert(id);
                            }
                            Err(ConvError::GroupRateLimited) => prop_assert_eq!(queued.len(), 5),
                            other => prop_assert!(false, "unexpected {:?}", other),
                        }
                    }
                    Op::Cancel(i) => {
                        let id = format!("m{i}");
                        let was_queued = queued.contains(&id);
                        let r = log.cancel("a", &id);
                        prop_assert_eq!(r.is_ok(), was_queued);
                        if was_queued {
                            queued.retain(|q| *q != id);
                            cancelled.insert(id);
                        }
                    }
                    Op::Tick(ms) => {
                        now += ms;
                        for m in log.release_queued(now) {
                            prop_assert_eq!(queued.remove(0), m.id.to_string(), "queue order kept");
                            committed.insert(m.id.to_string());
                        }
                    }
                    Op::Durable => {
                        log.mark_durable(log.last_seq());
                    }
                    Op::Revoke(i) => {
                        let id: Arc<str> = format!("m{i}").into();
                        let r = log.revoke(&sender, &MessageTarget::Id(id.clone()), String::new(), now, 120, now);
                        if r.is_ok() {
                            prop_assert!(committed.contains(&*id));
                            prop_assert!(log.committed(&id).unwrap().status == MessageStatus::Revoked);
                        }
                    }
                    Op::Delete(i) => {
                        let id: Arc<str> = format!("m{i}").into();
                        let r = log.delete("b", Some(&MessageTarget::Id(id.clone())), ViewKind::Local);
                        prop_assert_eq!(r.is_ok(), committed.contains(&*id));
                    }
                }
                prop_assert!(log.durable_seq() <= log.last_seq());
                prop_assert_eq!(log.queue_len(), queued.len());
                for (i, e) in log.entries.iter().enumerate() {
                    prop_assert_eq!(e.seq, i as u64 + 1);
                }
                for id in &cancelled {
                    prop_assert!(log.committed(id).is_none(), "a cancelled message never commits");
                }
            }
            let in_log: HashSet<String> =
                log.entries.iter().filter(|m| *m.sender == *"a").map(|m| m.id.to_string()).collect();
            prop_assert_eq!(in_log, committed);
        }
    }

    #[test]
    fn a_window_holds_the_newest_messages_and_knows_the_older_ids() {
        let mut whole = ConversationLog::restore(ConvKey::c2c("a", "b"), None, Vec::new(), HashMap::new(), 0);
        for i in 1..=20 {
            whole.submit(&"a".into(), format!("m{i}").into(), content(), 1, 1000 * i, 10).unwrap();
        }
        whole.mark_durable(20);
        let all: Vec<Arc<StoredMessage>> = (1..=20).map(|seq| whole.entry(seq).unwrap().clone()).collect();
        let older_ids: Vec<(MsgId, u64)> = all[..15].iter().map(|m| (m.id.clone(), m.seq)).collect();
        let mut log = ConversationLog::restore_window(
            ConvKey::c2c("a", "b"),
            None,
            all[15..].to_vec(),
            16,
            &older_ids,
            HashMap::new(),
            0,
        );
        assert_eq!((log.entries.len(), log.last_seq(), log.is_whole()), (5, 20, false));
        assert!(log.id_may_be_older("m3") && !log.id_may_be_older("m18") && !log.id_may_be_older("new"));
        assert!(!log.in_window(&MessageTarget::Seq(3)) && log.in_window(&MessageTarget::Seq(17)));
        assert!(log.in_window(&MessageTarget::Id("m18".into())) && !log.in_window(&MessageTarget::Id("m2".into())));
        assert!(log.unread_needs_older("b"), "b has read nothing");
        let newest = log.history("b", &HistoryQuery { count: 3, ..Default::default() }).unwrap();
        assert_eq!(newest.iter().map(|v| v.message.seq).collect::<Vec<_>>(), [20, 19, 18]);
        assert!(log.prepend_older(all[..14].to_vec()).is_err(), "seqs 1 to 15 or nothing");
        log.prepend_older(all[..15].to_vec()).unwrap();
        assert!(log.is_whole());
        assert_eq!(log.committed("m3").map(|m| m.seq), Some(3));
        assert_eq!(log.unread_count("b"), 20);
        let next = log.submit(&"a".into(), "m21".into(), content(), 1, 30_000, 10).unwrap();
        assert!(matches!(next, Submitted::Committed(m) if m.seq == 21));
    }

    #[test]
    fn a_running_log_keeps_a_window_of_its_durable_messages() {
        let mut log = ConversationLog::restore(ConvKey::c2c("a", "b"), None, Vec::new(), HashMap::new(), 0);
        for i in 1..=25 {
            log.submit(&"a".into(), format!("m{i}").into(), content(), 1, 1000 * i, 10).unwrap();
        }
        assert_eq!(log.trim_to_window(10), 0, "nothing durable yet: all stays");
        log.mark_durable(18);
        // Twice the window is exceeded: back to the newest 10, but 19..25 are not durable.
        assert_eq!(log.trim_to_window(10), 15);
        assert_eq!((log.base(), log.last_seq(), log.entries.len()), (16, 25, 10));
        assert_eq!(log.trim_to_window(10), 0, "within twice the window");
        // The trimmed IDs are still known: a resend of m3 is told apart from a new message.
        assert!(log.id_may_be_older("m3") && !log.in_window(&MessageTarget::Id("m3".into())));
        assert!(log.unread_needs_older("b"));
        let newest = log.history("b", &HistoryQuery { count: 3, ..Default::default() }).unwrap();
        assert_eq!(newest.iter().map(|v| v.message.seq).collect::<Vec<_>>(), [18, 17, 16], "the durable ones");
    }

    #[test]
    fn messages_waiting_for_their_media_are_bounded() {
        let mut log = ConversationLog::restore(ConvKey::c2c("a", "b"), None, Vec::new(), HashMap::new(), 0);
        let image = || {
            let image = crate::element::ImageElement { orig_path: "/tmp/x.png".into(), ..Default::default() };
            Arc::new(MessageContent::with_elements(vec![Element::new(crate::element::ElementBody::Image(Box::new(
                image,
            )))]))
        };
        for i in 0..3 {
            assert!(matches!(
                log.submit(&"a".into(), format!("m{i}").into(), image(), 1, 1000, 3),
                Ok(Submitted::Uploading)
            ));
        }
        let refused = log.submit(&"a".into(), "m3".into(), image(), 1, 1000, 3);
        assert!(matches!(refused, Err(ConvError::TooMany(_))), "{refused:?}");
        // Text does not wait for media: it is not held up by the bound.
        assert!(matches!(log.submit(&"a".into(), "t".into(), content(), 1, 1000, 3), Ok(Submitted::Committed(_))));
    }

    #[test]
    fn unread_counts_are_derived_from_the_read_point() {
        let mut log = ConversationLog::restore(ConvKey::c2c("a", "b"), None, Vec::new(), HashMap::new(), 0);
        for i in 0..5 {
            log.submit(&"a".into(), format!("m{i}").into(), content(), 1, 1000, 10).unwrap();
        }
        assert_eq!(log.unread_count("b"), 0, "nothing is unread before it is durable");
        log.mark_durable(5);
        assert_eq!(log.unread_count("b"), 5);
        assert_eq!(log.unread_count("a"), 0, "own messages are never unread");
        log.report_read("b", Some(&MessageTarget::Seq(3)), 1000, 1000).unwrap();
        assert_eq!(log.unread_count("b"), 2);
        log.revoke(&"a".into(), &MessageTarget::Seq(5), String::new(), 1000, 120, 1000).unwrap();
        let (revokes, receipt) = log.missed_since("b", 500);
        assert_eq!((revokes.len(), receipt.is_none()), (1, true), "b saw no receipt: it read itself");
        assert_eq!(log.missed_since("a", 500).1.map(|r| r.time), Some(1), "a missed b\'s receipt");
        assert!(log.missed_since("b", 1000).0.is_empty());
        assert_eq!(log.unread_count("b"), 1, "revoked messages do not count");
        let (peer, receipt) = log.report_read("b", None, 2000, 2000).unwrap().unwrap();
        assert_eq!(&*peer, "a");
        assert_eq!(&*receipt.conv.id, "b");
        assert_eq!(log.unread_count("b"), 0);
    }
}
