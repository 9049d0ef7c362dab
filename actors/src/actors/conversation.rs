//! `ConversationActor`: the single owner of one conversation's log, send queue and member
//! state. Every API call on a conversation is a [`ConvOp`] in its bounded mailbox, so sends,
//! cancels, revokes, reads and deletes are ordered by one queue and no race can interleave them.
//!
//! The actor is a thin shell over [`ConversationLog`]: it turns ops into calls, hands the
//! resulting changes to the store writer, and only after they are durable replies to callers
//! and publishes events.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use foldhash::HashMap as FastMap;

use actix::prelude::*;
use tokio::sync::oneshot;

use crate::element::{Element, ElementBody, GroupReportElement};
use crate::engine::Shared;
use crate::error::{ConvError, ConvResult};
use crate::events::Event;
use crate::group::GroupCommand;
use crate::history::{HistoryQuery, MessageTarget};
use crate::ids::{ConvKey, ConvRef, ConvType, MsgId, SYSTEM_SENDER, UserId};
use crate::log::{ConversationLog, Submitted};
use crate::media::download::Throttle;
use crate::media::upload::upload_content;
use crate::member::{ReceiveOpt, ViewKind};
use crate::message::{LocalCustomData, MessageContent, MessageLocator, MessageStatus, MessageView, StoredMessage};
use crate::store::{Completion, StoreError, WriteCompleted, WriteOp, WriteRequest};

use super::command::ConvCommand;
use super::supervisor::{ConversationCrashed, ConversationPassivated};

/// Where a caller's answer goes.
pub type Reply<T> = oneshot::Sender<ConvResult<T>>;

/// A message from another system, as [`ConvOp::Import`] takes it.
#[derive(Debug)]
pub struct ImportedMessage {
    pub sender: UserId,
    pub id: MsgId,
    pub content: Arc<MessageContent>,
    pub rand: u64,
    /// When it was sent there (s).
    pub time_secs: u64,
}

/// What a caller asks of a conversation. Each op carries its own reply channel, so the mailbox
/// can be tried without waiting (`try_send`) and a full one is seen and counted.
#[derive(Debug)]
pub enum ConvOp {
    SendMessage {
        sender: UserId,
        id: MsgId,
        content: Arc<MessageContent>,
        rand: u64,
        reply: Reply<MessageView>,
    },
    CancelSend {
        user: UserId,
        id: MsgId,
        reply: Reply<()>,
    },
    GetMessages {
        user: UserId,
        targets: Vec<MessageTarget>,
        reply: Reply<Vec<MessageView>>,
    },
    GetByLocators {
        user: UserId,
        locators: Vec<MessageLocator>,
        reply: Reply<Vec<MessageView>>,
    },
    ReportRead {
        user: UserId,
        target: Option<MessageTarget>,
        reply: Reply<()>,
    },
    Revoke {
        user: UserId,
        target: MessageTarget,
        reason: String,
        /// No time limit (the REST API's admin recall); else `revoke_window`.
        any_age: bool,
        reply: Reply<()>,
    },
    GetHistory {
        user: UserId,
        query: HistoryQuery,
        reply: Reply<Vec<MessageView>>,
    },
    Delete {
        user: UserId,
        target: Option<MessageTarget>,
        view: ViewKind,
        reply: Reply<()>,
    },
    ListDelete {
        user: UserId,
        targets: Vec<MessageTarget>,
        reply: Reply<()>,
    },
    ClearHistory {
        user: UserId,
        reply: Reply<()>,
    },
    SetLocalCustomData {
        user: UserId,
        target: MessageTarget,
        data: LocalCustomData,
        reply: Reply<()>,
    },
    SaveLocal {
        user: UserId,
        messages: Vec<StoredMessage>,
        reply: Reply<Vec<MessageView>>,
    },
    SetGroupReceiveOpt {
        user: UserId,
        opt: ReceiveOpt,
        reply: Reply<()>,
    },
    /// Answers with the users whose membership changed.
    ApplyGroup {
        user: UserId,
        command: GroupCommand,
        reply: Reply<Vec<String>>,
    },
    /// A message imported from another system at its own time (see
    /// [`ConversationLog::import`]): `live`, it is delivered and counts as unread; else it is
    /// history, delivered to no one and read by every member.
    Import {
        message: ImportedMessage,
        live: bool,
        reply: Reply<MessageView>,
    },
    /// The group and its members now (`None`: no such group was created).
    GroupSnapshot {
        reply: Reply<Option<crate::group::GroupSnapshot>>,
    },
    FilterVisible {
        user: UserId,
        shared: Vec<u64>,
        local: Vec<u64>,
        reply: Reply<Vec<MessageView>>,
    },
    GetUnreadCount {
        user: UserId,
        reply: Reply<u64>,
    },
    /// Revokes and read receipts `user` missed since `since` (ms since the epoch).
    GetMissedEvents {
        user: UserId,
        since: u64,
        reply: Reply<Vec<Event>>,
    },
    /// Passivates the actor now if it is idle (answers whether it did): frees a quiet
    /// conversation's memory without waiting for the idle timer.
    Passivate {
        reply: Reply<bool>,
    },
    /// Makes the actor panic, so tests (and operators' drills) can watch the supervisor
    /// restart it with its state reloaded.
    InjectPanic,
}

/// Throttled upload-progress reports of one element.
type Reporter = Throttle<Box<dyn FnMut(u64, u64)>>;

type AfterWrite = Box<dyn FnOnce(&mut ConversationActor, &mut Context<ConversationActor>, Result<(), StoreError>)>;

impl ConvOp {
    /// Answers the op with `e` without running it.
    pub fn fail(self, e: ConvError) {
        macro_rules! answer {
            ($reply:expr) => {{
                let _ = $reply.send(Err(e));
            }};
        }
        match self {
            ConvOp::SendMessage { reply, .. } => answer!(reply),
            ConvOp::CancelSend { reply, .. } => answer!(reply),
            ConvOp::GetMessages { reply, .. } => answer!(reply),
            ConvOp::GetByLocators { reply, .. } => answer!(reply),
            ConvOp::ReportRead { reply, .. } => answer!(reply),
            ConvOp::Revoke { reply, .. } => answer!(reply),
            ConvOp::GetHistory { reply, .. } => answer!(reply),
            ConvOp::Delete { reply, .. } => answer!(reply),
            ConvOp::ListDelete { reply, .. } => answer!(reply),
            ConvOp::ClearHistory { reply, .. } => answer!(reply),
            ConvOp::SetLocalCustomData { reply, .. } => answer!(reply),
            ConvOp::SaveLocal { reply, .. } => answer!(reply),
            ConvOp::SetGroupReceiveOpt { reply, .. } => answer!(reply),
            ConvOp::ApplyGroup { reply, .. } => answer!(reply),
            ConvOp::FilterVisible { reply, .. } => answer!(reply),
            ConvOp::GetUnreadCount { reply, .. } => answer!(reply),
            ConvOp::GroupSnapshot { reply } => answer!(reply),
            ConvOp::Import { reply, .. } => answer!(reply),
            ConvOp::GetMissedEvents { reply, .. } => answer!(reply),
            ConvOp::Passivate { reply, .. } => answer!(reply),
            ConvOp::InjectPanic => {}
        }
    }
}

pub struct ConversationActor {
    key: ConvKey,
    storage_key: Arc<str>,
    shared: Arc<Shared>,
    log: Option<ConversationLog>,
    /// Writes in flight, by token, with what to do once each is durable.
    awaiting: FastMap<u64, AfterWrite>,
    next_token: u64,
    /// Callers waiting for their message to be durable (or to leave the send queue).
    pending_sends: FastMap<MsgId, Vec<Reply<MessageView>>>,
    release_scheduled: bool,
    /// A [`FlushChanges`] is on its way.
    flush_scheduled: bool,
    last_activity: Instant,
    /// Uploads in flight, by message ID, with the flag that stops them.
    uploads: FastMap<MsgId, Arc<AtomicBool>>,
    /// Imported history messages not yet durable: published to no one when they are.
    quiet: FastMap<MsgId, ()>,
    /// Between a crash and the reload: ops are held, not run.
    restarting: bool,
    /// Messages that were not durable when a restart began: those the reloaded log does not
    /// hold are kept as failed (`SendFail`) in their senders' histories.
    not_durable: Vec<Arc<StoredMessage>>,
    held: Vec<ConvOp>,
    /// Why the write that started the current restart failed, for the senders it fails.
    last_write_error: Option<String>,
    /// Why loading failed (the actor is stopping), for the ops still in its mailbox.
    load_error: Option<String>,
    /// Cluster mode: this node's lease on the conversation, and the appender of its writes
    /// to the log of record (both set once the conversation is claimed).
    lease: Option<crate::cluster::Lease>,
    appender: Option<crate::cluster::node::Appender>,
}

impl ConversationActor {
    pub fn new(key: ConvKey, shared: Arc<Shared>) -> ConversationActor {
        let storage_key = key.storage_key().into();
        ConversationActor {
            key,
            storage_key,
            shared,
            log: None,
            awaiting: FastMap::default(),
            next_token: 0,
            pending_sends: FastMap::default(),
            quiet: FastMap::default(),
            release_scheduled: false,
            flush_scheduled: false,
            last_activity: Instant::now(),
            uploads: FastMap::default(),
            restarting: false,
            not_durable: Vec::new(),
            held: Vec::new(),
            last_write_error: None,
            load_error: None,
            lease: None,
            appender: None,
        }
    }

    fn now_ms(&self) -> u64 {
        self.shared.config.clock.now_ms()
    }

    fn log(&mut self) -> &mut ConversationLog {
        self.log.as_mut().expect("the log is loaded in started()")
    }

    /// Hands the log's changes to the store writer; `after` runs once they are durable (at
    /// once if nothing changed, or if the store is the in-process one, which applies them
    /// before this returns).
    ///
    /// Whenever the changes hold newly committed messages, their durability continuation
    /// (mark sent, deliver, answer the senders) rides on this write — whoever triggered it.
    fn flush(&mut self, ctx: &mut Context<Self>, after: Option<AfterWrite>) {
        let changes = self.log().take_changes();
        // Newly committed messages become durable with this write, through this seq.
        let committed_through = (!changes.inserted.is_empty()).then(|| self.log().last_seq());
        if changes.is_empty() {
            if let Some(f) = after {
                f(self, ctx, Ok(()));
            }
            return;
        }
        let conv = self.storage_key.clone();
        let mut ops = Vec::with_capacity(changes.inserted.len() + changes.members.len() + 1);
        if changes.group
            && let Some(g) = self.log().group()
        {
            let info = serde_json::to_string(g).expect("group info always serializes");
            ops.push(WriteOp::UpsertGroup { conv: conv.clone(), info });
        }
        ops.extend(changes.inserted.into_iter().map(|message| WriteOp::InsertShared { conv: conv.clone(), message }));
        ops.extend(changes.updated.into_iter().map(|message| WriteOp::UpdateShared { conv: conv.clone(), message }));
        for user in changes.members {
            if let Some(m) = self.log().member(&user) {
                let state = serde_json::to_string(m).expect("member state always serializes");
                ops.push(WriteOp::UpsertMember { conv: conv.clone(), user, state });
            }
        }
        ops.extend(changes.local_added.into_iter().map(|(owner, message)| WriteOp::InsertLocal {
            conv: conv.clone(),
            owner,
            message,
        }));
        ops.extend(changes.local_removed.into_iter().map(|(owner, local_id)| WriteOp::DeleteLocal {
            conv: conv.clone(),
            owner,
            local_id,
        }));
        // In memory the write is done when applied: what follows it runs now, without a
        // completion message through this actor's own mailbox (nor a boxed continuation).
        if self.appender.is_none()
            && let Some(result) = self.shared.store.write_now(&ops)
        {
            let then = move |act: &mut Self, ctx: &mut Context<Self>, result: Result<(), StoreError>| {
                if let Some(through) = committed_through {
                    act.on_durable(ctx, through, result.clone());
                }
                if let Some(f) = after {
                    f(act, ctx, result);
                }
            };
            self.finish_write(then, ctx, result);
            return;
        }
        let after = Self::after_durable(committed_through, after);
        // Cluster mode: the log of record takes the write first (in order, fenced); the store
        // gets it once the log has (see `Handler<LogAppended>`).
        if let Some(appender) = &self.appender {
            let token = after.map(|f| {
                self.next_token += 1;
                self.awaiting.insert(self.next_token, f);
                self.next_token
            });
            if appender.append(ops, token).is_err() {
                self.fail_append(ctx, token, "the cluster connection is gone".into());
            }
            return;
        }
        let done = match after {
            Some(f) => {
                self.next_token += 1;
                let token = self.next_token;
                self.awaiting.insert(token, f);
                Completion::Actor { to: ctx.address().recipient(), token }
            }
            None => Completion::None,
        };
        if let Err(e) = self.shared.store.submit(WriteRequest::new(ops, done)) {
            // The writer is gone: fail whatever waits on this write.
            let token = self.next_token;
            if let Some(f) = self.awaiting.remove(&token) {
                f(self, ctx, Err(e));
            }
        }
    }

    /// What runs once a write is durable: the newly committed messages' continuation (mark
    /// sent, deliver, answer the senders) when it holds some, then `after`.
    fn after_durable(committed_through: Option<u64>, after: Option<AfterWrite>) -> Option<AfterWrite> {
        let Some(through) = committed_through else { return after };
        Some(Box::new(move |act: &mut Self, ctx: &mut Context<Self>, res: Result<(), StoreError>| {
            act.on_durable(ctx, through, res.clone());
            if let Some(f) = after {
                f(act, ctx, res);
            }
        }))
    }

    /// Runs what waits on a write (replies, deliveries); a panic there restarts the actor.
    fn finish_write(
        &mut self,
        f: impl FnOnce(&mut Self, &mut Context<Self>, Result<(), StoreError>),
        ctx: &mut Context<Self>,
        result: Result<(), StoreError>,
    ) {
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| f(self, ctx, result)));
        if outcome.is_err() {
            self.crash(ctx);
        }
    }

    /// Asks for one flush after the messages already in the mailbox are handled (actix runs
    /// notifications after a mailbox batch), so a burst of sends to one conversation becomes
    /// one write request and one completion instead of one per message.
    fn schedule_flush(&mut self, ctx: &mut Context<Self>) {
        if !self.flush_scheduled {
            self.flush_scheduled = true;
            ctx.notify(FlushChanges);
        }
    }

    fn on_durable(&mut self, ctx: &mut Context<Self>, through: u64, res: Result<(), StoreError>) {
        if let Err(e) = res {
            // The senders are answered after the reload, from what the store holds: a message
            // of an earlier write that did become durable is theirs, the rest failed.
            tracing::error!(conv = %self.key, error = %e, "write failed; reloading the conversation");
            self.last_write_error = Some(e.to_string());
            self.crash(ctx);
            return;
        }
        let committed = self.log().mark_durable(through);
        if committed.is_empty() {
            return;
        }
        metrics::counter!("timsg_messages_committed_total", "conv_type" => conv_type_label(self.key.conv_type()))
            .increment(committed.len() as u64);
        self.publish_and_answer(&committed);
        self.trim_to_window();
        // Undelivered marks made by the receive options.
        self.flush(ctx, None);
    }

    /// Publishes durable messages to their receivers, then answers their senders.
    fn publish_and_answer(&mut self, committed: &[Arc<StoredMessage>]) {
        let store = self.shared.store.clone();
        let shared = self.shared.clone();
        // Each receiver's new messages, by receiver. One message (the usual flush under load)
        // has one receiver per delivery already: they go straight in, and the map (which allocates
        // nothing while empty) gathers only several messages' receivers.
        let mut per_user: Vec<(UserId, (Vec<MessageView>, bool))> = Vec::new();
        let mut by_user: BTreeMap<UserId, (Vec<MessageView>, bool)> = BTreeMap::new();
        let single = committed.len() == 1;
        for msg in committed {
            if self.quiet.remove(&msg.id).is_some() {
                continue;
            }
            let deliveries =
                self.log().deliveries(msg, |receiver, sender| shared.users.c2c_opt(&store, receiver, sender));
            if single {
                per_user.reserve_exact(deliveries.len());
            }
            for d in deliveries {
                let view = self.log().view_of(&d.user, msg);
                if single {
                    per_user.push((d.user, (vec![view], d.notify)));
                } else {
                    let slot = by_user.entry(d.user).or_insert_with(|| (Vec::with_capacity(committed.len()), d.notify));
                    slot.0.push(view);
                }
            }
        }
        per_user.extend(by_user);
        // Receivers hear of a message before its sender's send completes, so a sender that
        // has its answer knows every receiver's stream already holds the message — in
        // cluster mode, once the events stream has stored each receiver's event.
        let mut stored: Vec<futures_util::future::BoxFuture<'static, ()>> = Vec::new();
        match &self.appender {
            // Cluster mode: through the conversation's appender, so its events are stored in
            // the order of its messages even when a publish is retried.
            Some(appender) if !per_user.is_empty() => {
                let events: Vec<_> = per_user
                    .into_iter()
                    .filter_map(|(user, (messages, notify))| {
                        let (name, body) = self.shared.events.format(&Event::NewMessages { messages, notify })?;
                        Some((user.to_string(), name, body))
                    })
                    .collect();
                let done = appender.publish_events(events);
                stored.push(Box::pin(async move { drop(done.await) }));
            }
            _ => {
                for (user, (messages, notify)) in per_user {
                    if let Some(ack) =
                        self.shared.events.publish_tracked(&user, Event::NewMessages { messages, notify })
                    {
                        stored.push(Box::pin(async move { drop(ack.await) }));
                    }
                }
            }
        }
        let mut answers = Vec::with_capacity(committed.len());
        for msg in committed {
            if let Some(replies) = self.pending_sends.remove(&msg.id) {
                let view = self.log().view_of(&msg.sender, msg);
                answers.extend(replies.into_iter().map(|r| (r, view.clone())));
            }
        }
        let answer = move |answers: Vec<(Reply<MessageView>, MessageView)>| {
            for (r, view) in answers {
                let _ = r.send(Ok(view));
            }
        };
        if stored.is_empty() {
            answer(answers);
        } else if !answers.is_empty() {
            // A receiver whose event was not stored reads the message from its history: the
            // send itself is in the log of record and stays acknowledged.
            actix::spawn(async move {
                for ack in stored {
                    let _ = ack.await;
                }
                answer(answers);
            });
        }
    }

    fn schedule_release(&mut self, ctx: &mut Context<Self>) {
        if self.release_scheduled {
            return;
        }
        let now = self.now_ms();
        if let Some(delay) = self.log().next_release_in(now) {
            self.release_scheduled = true;
            ctx.run_later(Duration::from_millis(delay), |act, ctx| {
                act.release_scheduled = false;
                // A restart throws this log away; the reloaded one schedules its own release.
                if act.restarting {
                    return;
                }
                let now = act.now_ms();
                if !act.log().release_queued(now).is_empty() {
                    act.flush(ctx, None);
                }
                act.schedule_release(ctx);
            });
        }
        metrics::gauge!("timsg_conversations_send_queue_depth").set(self.log().queue_len() as f64);
    }

    /// Something went wrong (a panic, a failed write): stop taking ops and ask the supervisor
    /// for a restart. Ops that arrive meanwhile are held and run after the reload.
    fn crash(&mut self, ctx: &mut Context<Self>) {
        if self.restarting {
            return;
        }
        self.restarting = true;
        if let Some(log) = &self.log {
            self.not_durable = log.not_durable();
        }
        for (_, flag) in self.uploads.drain() {
            flag.store(true, Ordering::Relaxed);
        }
        // Continuations of writes in flight belong to the state being thrown away; their
        // callers learn the outcome from the reloaded log (sends) or see the call fail.
        self.awaiting.clear();
        match self.shared.supervisor.get() {
            Some(sup) => sup.do_send(ConversationCrashed { key: self.key.clone(), addr: ctx.address() }),
            None => self.reload_after_writes(ctx),
        }
    }

    /// Waits until every write this actor submitted is done (the writer is FIFO, so an empty
    /// request behind them is a barrier), then reloads the state from the store.
    fn reload_after_writes(&mut self, ctx: &mut Context<Self>) {
        self.next_token += 1;
        let token = self.next_token;
        self.awaiting.insert(token, Box::new(|act: &mut Self, ctx: &mut Context<Self>, _| act.reload(ctx)));
        // The barrier also tells the writer this conversation takes writes again: whatever it
        // submitted before the failure has been refused by then, so nothing it stores next
        // can land after a hole.
        let barrier = WriteRequest {
            ops: Vec::new(),
            done: Completion::Actor { to: ctx.address().recipient(), token },
            clears_failure_of: Some(self.storage_key.clone()),
        };
        if self.shared.store.submit(barrier).is_err() {
            self.reload(ctx);
        }
    }

    /// Loads the log from the store; on failure the actor leaves the routing table and stops
    /// (the next call starts a fresh one). Returns whether it loaded.
    fn load(&mut self, ctx: &mut Context<Self>) -> bool {
        let key = self.key.clone();
        match self.shared.store.load_conversation_window(&key, self.shared.config.activation_window) {
            Ok(loaded) => {
                self.shared.unloadable.loaded(&key);
                let rate = self.shared.config.group_rate_limit;
                self.log = Some(
                    ConversationLog::restore_window(
                        key,
                        loaded.group,
                        loaded.entries,
                        loaded.base,
                        &loaded.older_ids,
                        loaded.members,
                        rate,
                    )
                    .with_app_admin(self.shared.config.app_admin.clone()),
                );
                true
            }
            Err(e) => {
                let why = format!("the conversation cannot be loaded: {e}");
                self.shared.unloadable.failed(&self.key, why.clone());
                self.load_error = Some(why);
                tracing::error!(conv = %self.key, error = %e, "cannot load conversation; stopping it");
                metrics::counter!("timsg_store_errors_total").increment(1);
                self.shared.table.remove_if(&self.key, |_, a| *a == ctx.address());
                ctx.stop();
                false
            }
        }
    }

    fn reload(&mut self, ctx: &mut Context<Self>) {
        self.claim_then(ctx, Self::reload_claimed);
    }

    fn reload_claimed(&mut self, ctx: &mut Context<Self>) {
        if !self.load(ctx) {
            // Stopping: whoever waits hears why, with a code, rather than a dropped reply.
            let why = self.load_failure();
            self.fail_pending_sends(why.clone());
            for op in std::mem::take(&mut self.held) {
                op.fail(why.clone());
            }
            return;
        }
        self.restarting = false;
        self.release_scheduled = false;
        // A send whose write became durable before the crash succeeded — its receivers hear of
        // it now, as they would have from its completion, then its sender — the others did not.
        let log = self.log.as_ref().expect("just loaded");
        let mut durable: Vec<Arc<StoredMessage>> =
            self.pending_sends.keys().filter_map(|id| log.committed(id).cloned()).collect();
        durable.sort_by_key(|m| m.seq);
        self.publish_and_answer(&durable);
        // The rest failed: their senders keep them, marked SendFail, as the SDK does. They are
        // written with the conversation's next write (or before it passivates), not by a write
        // of their own: on a disk that still fails, a restart must not cause the next one.
        let now = self.now_ms();
        let log = self.log.as_mut().expect("just loaded");
        for m in std::mem::take(&mut self.not_durable) {
            if log.committed(&m.id).is_none() {
                let status = match m.status {
                    MessageStatus::Cancel => MessageStatus::Cancel,
                    _ => MessageStatus::SendFail,
                };
                log.keep_unsent(&m, status, now);
            }
        }
        if !durable.is_empty() {
            self.flush(ctx, None);
        }
        self.fail_pending_sends(ConvError::Internal(
            "the conversation restarted before the message was stored; send it again".into(),
        ));
        self.last_write_error = None;
        tracing::info!(conv = %self.key, held = self.held.len(), "conversation reloaded");
        for op in std::mem::take(&mut self.held) {
            self.run_guarded(op, ctx);
        }
    }

    /// Why this actor could not load its conversation (it is stopping).
    fn load_failure(&self) -> ConvError {
        ConvError::Store(self.load_error.clone().unwrap_or_else(|| "the conversation cannot be loaded".into()))
    }

    /// Answers every send still waiting: its message was not stored — because of the failed
    /// write that started this restart, if there was one, else for the reason `otherwise`.
    fn fail_pending_sends(&mut self, otherwise: ConvError) {
        let lost = match &self.last_write_error {
            Some(e) => ConvError::Store(format!("the message could not be stored ({e}); send it again")),
            None => otherwise,
        };
        for (_, replies) in std::mem::take(&mut self.pending_sends) {
            for r in replies {
                let _ = r.send(Err(lost.clone()));
            }
        }
    }

    fn run_guarded(&mut self, op: ConvOp, ctx: &mut Context<Self>) {
        if self.restarting {
            // Held no more than a mailbox holds: a restart that waits on a stalled disk must
            // not gather ops without end; past that they are refused, as a full mailbox is.
            if self.held.len() >= self.shared.config.conversation_mailbox {
                metrics::counter!("timsg_mailbox_full_total", "actor" => "conversation").increment(1);
                op.fail(ConvError::TooMany(format!(
                    "the conversation is restarting with {} operations waiting; retry",
                    self.held.len()
                )));
                return;
            }
            self.held.push(op);
            return;
        }
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| self.handle_op(op, ctx)));
        if outcome.is_err() {
            tracing::error!(conv = %self.key, "conversation actor panicked; restarting from the store");
            self.crash(ctx);
        }
    }

    /// Uploads a queued message's media on a blocking thread (at most `upload_concurrency` at
    /// once), telling the sender how far each element got.
    fn start_upload(&mut self, id: MsgId, now_ms: u64, ctx: &mut Context<Self>) {
        let Some(queued) = self.log().queued(&id).cloned() else { return };
        let cancel = Arc::new(AtomicBool::new(false));
        self.uploads.insert(id.clone(), cancel.clone());
        let stub = Arc::new(StoredMessage {
            id: id.clone(),
            sender: queued.sender.clone(),
            seq: 0,
            local_id: 0,
            rand: queued.rand,
            server_time: now_ms / 1000,
            status: MessageStatus::Sending,
            revoke: None,
            content: queued.content.clone(),
        });
        let view = self.log().view_of(&queued.sender, &stub);
        let shared = self.shared.clone();
        let fut = async move {
            let Ok(_permit) = shared.upload_permits.clone().acquire_owned().await else {
                return Err(ConvError::ShuttingDown);
            };
            metrics::gauge!("timsg_uploads_active").increment(1.0);
            let worker = shared.clone();
            let result = tokio::task::spawn_blocking(move || {
                let mut throttle: Option<(usize, Reporter)> = None;
                let mut progress = |index: usize, current: u64, total: u64| {
                    if throttle.as_ref().is_none_or(|(i, _)| *i != index) {
                        let (events, sender, view) = (worker.clone(), view.sender_id(), view.clone());
                        let report: Box<dyn FnMut(u64, u64)> = Box::new(move |current, total| {
                            let message = view.clone();
                            events.events.publish(
                                &sender,
                                Event::UploadProgress { message, index: index as u32, current, total },
                            );
                        });
                        throttle = Some((index, Throttle::new(report)));
                    }
                    if let Some((_, t)) = throttle.as_mut() {
                        t.update(current, total);
                    }
                };
                upload_content(&queued.content, &worker.blobs, &worker.config.media_limits, &cancel, &mut progress)
            })
            .await
            .unwrap_or_else(|e| Err(ConvError::Internal(format!("upload task failed: {e}"))));
            metrics::gauge!("timsg_uploads_active").decrement(1.0);
            result
        };
        ctx.spawn(fut.into_actor(self).map(move |result, act, ctx| act.on_uploaded(id, result, ctx)));
    }

    fn on_uploaded(&mut self, id: MsgId, result: ConvResult<MessageContent>, ctx: &mut Context<Self>) {
        if self.restarting || self.uploads.remove(&id).is_none() {
            return; // cancelled (already answered) or thrown away by a restart
        }
        match result {
            Ok(content) => {
                if self.log().finish_upload(&id, content) {
                    let now = self.now_ms();
                    if !self.log().release_queued(now).is_empty() {
                        self.flush(ctx, None);
                    }
                    self.schedule_release(ctx);
                }
            }
            Err(e) => {
                metrics::counter!("timsg_upload_failures_total").increment(1);
                if self.log().fail_upload(&id).is_some() {
                    for r in self.pending_sends.remove(&id).unwrap_or_default() {
                        let _ = r.send(Err(e.clone()));
                    }
                }
            }
        }
    }

    /// Publishes a GroupReport to `user` and keeps it as a notice: a user logged out now gets
    /// it at its next login (one logged in gets it live, and at no login after).
    fn publish_report(&self, user: &UserId, report: GroupReportElement) {
        let message = Arc::new(StoredMessage {
            id: format!("report-{}-{}", report.group_id, fastrand::u64(..)).into(),
            sender: SYSTEM_SENDER.into(),
            seq: 0,
            local_id: 0,
            rand: fastrand::u64(..u64::from(u32::MAX)),
            server_time: self.shared.config.clock.now_secs(),
            status: MessageStatus::SendSucc,
            revoke: None,
            content: Arc::new(MessageContent::with_elements(vec![Element::new(ElementBody::GroupReport(Box::new(
                report,
            )))])),
        });
        let view = MessageView {
            conv: ConvRef { conv_type: ConvType::System, id: "".into() },
            message,
            is_self: false,
            is_read: false,
            is_peer_read: false,
            custom: LocalCustomData::default(),
        };
        // Kept before it is published, until a stream delivers it (`deliveries_acknowledged`): a
        // login reads what is pending after a barrier through the writer, so one submitted
        // before is read then and one submitted after reaches the login's stream live.
        let notice = WriteOp::AddPendingDelivery {
            user: user.clone(),
            stamp: self.shared.stamp(),
            conv_type: ConvType::System.number(),
            conv_id: String::new(),
            message: view.message.clone(),
        };
        if let Err(e) = self.shared.store.submit(WriteRequest::new(vec![notice], Completion::None)) {
            tracing::warn!(user = %user, error = %e, "a group report is not kept for the next login");
        }
        self.shared.events.publish(user, Event::NewMessages { messages: vec![view], notify: true });
    }

    /// Loads the messages before the window (see `ConversationLog::prepend_older`).
    fn load_older(&mut self) -> ConvResult<()> {
        let base = self.log().base();
        if base == 1 {
            return Ok(());
        }
        let older = self.shared.store.load_messages_below(&self.key, base).map_err(store_err)?;
        metrics::counter!("timsg_conversation_older_loads_total").increment(1);
        self.log().prepend_older(older)
    }

    fn handle_op(&mut self, op: ConvOp, ctx: &mut Context<Self>) {
        let loaded_older = needs_older(self.log.as_ref().expect("ops run on a loaded log"), &op);
        if loaded_older && let Err(e) = self.load_older() {
            op.fail(e);
            return;
        }
        self.handle_loaded_op(op, ctx);
        // What was loaded for this op goes again: a read of old history must not leave the
        // whole conversation in memory.
        if loaded_older {
            self.trim_to_window();
        }
    }

    /// Lets go of the durable messages before the newest `activation_window` once the log
    /// holds twice that many (see `ConversationLog::trim_to_window`), and counts them.
    fn trim_to_window(&mut self) {
        let window = self.shared.config.activation_window;
        let trimmed = self.log().trim_to_window(window);
        if trimmed > 0 {
            metrics::counter!("timsg_conversation_trimmed_messages_total").increment(trimmed as u64);
        }
    }

    /// An op on a log that holds what it needs.
    fn handle_loaded_op(&mut self, op: ConvOp, ctx: &mut Context<Self>) {
        let now_ms = self.now_ms();
        match op {
            ConvOp::SendMessage { sender, id, content, rand, reply } => {
                let limit = self.shared.config.group_send_queue;
                match self.log().submit(&sender, id.clone(), content, rand, now_ms, limit) {
                    Ok(Submitted::Duplicate(m)) => {
                        if m.seq <= self.log().durable_seq() {
                            let view = self.log().view_of(&sender, &m);
                            let _ = reply.send(Ok(view));
                        } else {
                            self.pending_sends.entry(id).or_default().push(reply);
                        }
                    }
                    Ok(Submitted::Uploading) => {
                        self.pending_sends.entry(id.clone()).or_default().push(reply);
                        self.start_upload(id, now_ms, ctx);
                    }
                    Ok(Submitted::Queued) => {
                        self.pending_sends.entry(id).or_default().push(reply);
                        self.schedule_release(ctx);
                    }
                    Ok(Submitted::Committed(_)) => {
                        self.pending_sends.entry(id).or_default().push(reply);
                        self.schedule_flush(ctx);
                    }
                    Ok(Submitted::Online(m)) => {
                        let mut audience: Vec<UserId> = self
                            .log()
                            .members()
                            .filter(|(u, mem)| mem.active && **u != m.sender)
                            .map(|(u, _)| u.clone())
                            .collect();
                        audience.sort();
                        for u in audience {
                            let view = self.log().view_of(&u, &m);
                            self.shared.events.publish(&u, Event::NewMessages { messages: vec![view], notify: false });
                        }
                        let view = self.log().view_of(&sender, &m);
                        let _ = reply.send(Ok(view));
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            ConvOp::CancelSend { user, id, reply } => match self.log().cancel(&user, &id) {
                Ok(q) => {
                    self.log().keep_unsent(&q.unsent(MessageStatus::Cancel), MessageStatus::Cancel, now_ms);
                    self.schedule_flush(ctx);
                    if let Some(flag) = self.uploads.remove(&q.id) {
                        flag.store(true, Ordering::Relaxed);
                    }
                    for r in self.pending_sends.remove(&q.id).unwrap_or_default() {
                        let _ = r.send(Err(ConvError::SendCancelled));
                    }
                    metrics::counter!("timsg_sends_cancelled_total").increment(1);
                    let _ = reply.send(Ok(()));
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
            ConvOp::GetMessages { user, targets, reply } => {
                let log = self.log();
                let out = targets.iter().filter_map(|t| log.find(&user, t)).collect();
                let _ = reply.send(Ok(out));
            }
            ConvOp::GetByLocators { user, locators, reply } => {
                let log = self.log();
                let out = locators.iter().filter_map(|l| log.find_by_locator(&user, l)).collect();
                let _ = reply.send(Ok(out));
            }
            ConvOp::ReportRead { user, target, reply } => {
                let stamp = self.shared.stamp();
                match self.log().report_read(&user, target.as_ref(), now_ms, stamp) {
                    Ok(receipt) => self.flush(
                        ctx,
                        Some(Box::new(move |act: &mut Self, _ctx: &mut Context<Self>, res: Result<(), StoreError>| {
                            if res.is_ok()
                                && let Some((peer, receipt)) = receipt
                            {
                                act.shared.events.publish(&peer, Event::ReadReceipts(vec![receipt]));
                            }
                            let _ = reply.send(res.map_err(store_err));
                        })),
                    ),
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            ConvOp::Revoke { user, target, reason, any_age, reply } => {
                let window = if any_age { u64::MAX } else { self.shared.config.revoke_window.as_secs() };
                let stamp = self.shared.stamp();
                match self.log().revoke(&user, &target, reason.clone(), now_ms, window, stamp) {
                    Ok(msg) => {
                        let audience = self.log().revoke_audience(&msg);
                        self.flush(
                            ctx,
                            Some(Box::new(
                                move |act: &mut Self, _ctx: &mut Context<Self>, res: Result<(), StoreError>| {
                                    if res.is_ok() {
                                        for u in audience.iter().filter(|u| **u != user) {
                                            let loc = MessageLocator {
                                                conv: act.key.as_seen_by(u),
                                                is_revoked: true,
                                                time: msg.server_time,
                                                seq: msg.seq,
                                                is_self: **u == *msg.sender,
                                                rand: msg.rand,
                                            };
                                            act.shared.events.publish(
                                                u,
                                                Event::Revoked {
                                                    locators: vec![loc],
                                                    by: user.clone(),
                                                    reason: reason.clone(),
                                                },
                                            );
                                        }
                                    }
                                    let _ = reply.send(res.map_err(store_err));
                                },
                            )),
                        );
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            ConvOp::GetHistory { user, query, reply } => {
                // The newest page usually lies within the window; anything else, or a page the
                // window cannot fill, is read with the older messages loaded.
                let mut page = self.log().history(&user, &query);
                if !self.log().is_whole() && page.as_ref().is_ok_and(|p| p.len() < query.count) {
                    page = self.load_older().and_then(|()| self.log().history(&user, &query));
                }
                let _ = reply.send(page);
            }
            ConvOp::Delete { user, target, view, reply } => {
                let res = self.log().delete(&user, target.as_ref(), view);
                self.reply_after_write(ctx, res, reply);
            }
            ConvOp::ListDelete { user, targets, reply } => {
                let res = self.log().list_delete(&user, &targets);
                self.reply_after_write(ctx, res, reply);
            }
            ConvOp::ClearHistory { user, reply } => {
                let res = self.log().clear_history(&user);
                self.reply_after_write(ctx, res, reply);
            }
            ConvOp::SetLocalCustomData { user, target, data, reply } => {
                let res = self.log().set_custom_data(&user, &target, data);
                self.reply_after_write(ctx, res, reply);
            }
            ConvOp::SetGroupReceiveOpt { user, opt, reply } => {
                let res = self.log().set_group_receive_opt(&user, opt);
                self.reply_after_write(ctx, res, reply);
            }
            ConvOp::SaveLocal { user, messages, reply } => {
                // All or none, so an error never comes after some were saved.
                let saved = match self.log().add_locals(&user, messages) {
                    Ok(saved) => saved,
                    Err(e) => {
                        let _ = reply.send(Err(e));
                        return;
                    }
                };
                let views: Vec<MessageView> = saved.iter().map(|m| self.log().view_of(&user, m)).collect();
                self.flush(
                    ctx,
                    Some(Box::new(move |_act: &mut Self, _ctx: &mut Context<Self>, res: Result<(), StoreError>| {
                        let _ = reply.send(res.map(|()| views).map_err(store_err));
                    })),
                );
            }
            ConvOp::ApplyGroup { user, command, reply } => match self.log().apply_group(&user, command, now_ms) {
                Ok(outcome) => {
                    let (reports, affected) = (outcome.reports, outcome.affected);
                    self.flush(
                        ctx,
                        Some(Box::new(move |act: &mut Self, _ctx: &mut Context<Self>, res: Result<(), StoreError>| {
                            if res.is_ok() {
                                for (u, r) in reports {
                                    act.publish_report(&u, r);
                                }
                            }
                            let _ = reply.send(res.map(|()| affected).map_err(store_err));
                        })),
                    );
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
            ConvOp::FilterVisible { user, shared, local, reply } => {
                let _ = reply.send(Ok(self.log().filter_visible(&user, &shared, &local)));
            }
            ConvOp::GetMissedEvents { user, since, reply } => {
                let (revokes, receipt) = self.log().missed_since(&user, since);
                let mut events: Vec<Event> = revokes
                    .into_iter()
                    .map(|(loc, by, reason)| Event::Revoked { locators: vec![loc], by, reason })
                    .collect();
                events.extend(receipt.map(|r| Event::ReadReceipts(vec![r])));
                let _ = reply.send(Ok(events));
            }
            ConvOp::GetUnreadCount { user, reply } => {
                let _ = reply.send(Ok(self.log().unread_count(&user)));
            }
            ConvOp::GroupSnapshot { reply } => {
                let _ = reply.send(Ok(self.log().group_snapshot()));
            }
            ConvOp::Import { message: m, live, reply } => {
                match self.log().import(&m.sender, m.id, m.content, m.rand, m.time_secs) {
                    Ok((msg, fresh)) => {
                        if fresh && !live {
                            self.quiet.insert(msg.id.clone(), ());
                            let members: Vec<UserId> =
                                self.log().members().filter(|(_, s)| s.active).map(|(u, _)| u.clone()).collect();
                            for u in members {
                                self.log().read_through(&u, msg.seq);
                            }
                        }
                        if fresh || msg.status == crate::message::MessageStatus::Sending {
                            self.pending_sends.entry(msg.id.clone()).or_default().push(reply);
                            self.schedule_flush(ctx);
                        } else {
                            let _ = reply.send(Ok(self.log().view_of(&m.sender, &msg)));
                        }
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            ConvOp::Passivate { reply } => {
                let idle = self.is_idle();
                if idle {
                    self.passivate(ctx);
                }
                let _ = reply.send(Ok(idle));
            }
            ConvOp::InjectPanic => panic!("panic injected into {}", self.key),
        }
    }

    fn reply_after_write(&mut self, ctx: &mut Context<Self>, res: ConvResult<()>, reply: Reply<()>) {
        match res {
            Ok(()) => self.flush(
                ctx,
                Some(Box::new(move |_: &mut Self, _: &mut Context<Self>, res: Result<(), StoreError>| {
                    let _ = reply.send(res.map_err(store_err));
                })),
            ),
            Err(e) => {
                let _ = reply.send(Err(e));
            }
        }
    }

    fn is_idle(&self) -> bool {
        self.awaiting.is_empty()
            && self.pending_sends.is_empty()
            && !self.restarting
            && !self.flush_scheduled
            && self.uploads.is_empty()
            && self.log.as_ref().is_none_or(|l| l.queue_len() == 0 && l.pending_changes_empty())
    }
}

/// Whether `op` may need messages before the log's window: then they are loaded first. The
/// ops of a busy conversation's ordinary traffic do not: sends with new IDs, cancels, reads
/// up to the newest message, the newest page of history, unread counts of readers who keep up.
fn needs_older(log: &ConversationLog, op: &ConvOp) -> bool {
    if log.is_whole() {
        return false;
    }
    match op {
        ConvOp::SendMessage { id, .. } => log.id_may_be_older(id),
        ConvOp::CancelSend { .. } | ConvOp::Passivate { .. } | ConvOp::InjectPanic => false,
        ConvOp::GroupSnapshot { .. } => false,
        ConvOp::Import { message, .. } => log.id_may_be_older(&message.id),
        // Group commands and options touch members and append tips, never older messages.
        ConvOp::ApplyGroup { .. } | ConvOp::SetGroupReceiveOpt { .. } => false,
        ConvOp::SaveLocal { messages, .. } => messages.iter().any(|m| log.id_may_be_older(&m.id)),
        ConvOp::ReportRead { target: None, .. } => false,
        // A read point at a local message counts the shared messages before it: all of them.
        ConvOp::ReportRead { target: Some(t), .. } | ConvOp::Revoke { target: t, .. } => !log.shared_in_window(t),
        ConvOp::SetLocalCustomData { target, .. } => !log.in_window(target),
        ConvOp::GetMessages { targets, .. } => !targets.iter().all(|t| log.in_window(t)),
        ConvOp::GetByLocators { locators, .. } => locators.iter().any(|l| l.seq > 0 && l.seq < log.base()),
        ConvOp::GetUnreadCount { user, .. } => log.unread_needs_older(user),
        ConvOp::FilterVisible { shared, .. } => shared.iter().any(|seq| *seq < log.base()),
        // Served from the window when it fills the page (see the op).
        ConvOp::GetHistory { query, .. } => {
            !matches!(query.anchor, crate::history::HistoryAnchor::None) || query.forward || query.time_begin > 0
        }
        _ => true,
    }
}

fn store_err(e: StoreError) -> ConvError {
    ConvError::Store(e.to_string())
}

pub(crate) fn conv_type_label(t: ConvType) -> &'static str {
    match t {
        ConvType::C2c => "c2c",
        ConvType::Group => "group",
        ConvType::System => "system",
    }
}

impl Actor for ConversationActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(self.shared.config.conversation_mailbox);
        self.claim_then(ctx, |act, ctx| {
            if act.load(ctx) {
                act.arm_passivation(ctx, act.shared.config.idle_passivation);
            }
        });
    }
}

impl ConversationActor {
    /// Cluster mode: claims the conversation for this node — its lease, and the records of
    /// the log of record its store lacks — before `then` loads it; no op runs meanwhile. A
    /// conversation another node owns (or an unreachable cluster) fails to load, saying why.
    /// On a single node, `then` runs at once.
    fn claim_then(&mut self, ctx: &mut Context<Self>, then: fn(&mut Self, &mut Context<Self>)) {
        let Some(node) = self.shared.cluster.clone() else {
            then(self, ctx);
            return;
        };
        self.appender = None;
        let (conv, store) = (self.storage_key.clone(), self.shared.store.clone());
        let position = match store.log_position(&conv) {
            Ok(p) => p,
            Err(e) => return self.fail_claim(ctx, format!("the conversation cannot be loaded: {e}")),
        };
        let claiming = async move { node.claim(conv, position, store).await };
        ctx.wait(claiming.into_actor(self).map(move |claimed, act, ctx| match claimed {
            Ok(claim) => {
                let addr = ctx.address();
                let node = act.shared.cluster.clone().expect("cluster mode");
                act.appender = Some(node.appender(act.storage_key.clone(), claim.tail, move |appended| {
                    addr.do_send(LogAppended(appended));
                }));
                act.lease = Some(claim.lease);
                act.keep_lease(ctx, node.lease_ttl);
                then(act, ctx);
            }
            Err(why) => act.fail_claim(ctx, why),
        }));
    }

    /// The claim failed: the actor stops as after a failed load, its callers told why.
    fn fail_claim(&mut self, ctx: &mut Context<Self>, why: String) {
        // Owned by another node is the usual case in a cluster (the call is forwarded there).
        if why.contains(crate::cluster::node::OWNED_BY) {
            tracing::debug!(conv = %self.key, why, "the conversation is another node's");
        } else {
            tracing::warn!(conv = %self.key, why, "cannot claim the conversation; stopping it");
        }
        // Ops meanwhile hear why at once, for a moment, rather than each starting an actor.
        self.shared.unloadable.failed(&self.key, why.clone());
        self.load_error = Some(why);
        self.shared.table.remove_if(&self.key, |_, a| *a == ctx.address());
        let failure = self.load_failure();
        self.fail_pending_sends(failure.clone());
        for op in std::mem::take(&mut self.held) {
            op.fail(failure.clone());
        }
        ctx.stop();
    }

    /// Renews the lease every third of its time; a lease lost (it expired, another node took
    /// the conversation) restarts the actor, whose claim then fails.
    fn keep_lease(&self, ctx: &mut Context<Self>, ttl: Duration) {
        self.renew_lease_in(ctx, ttl, ttl / 3, std::time::Instant::now());
    }

    /// Renews the lease after `delay`; it was last written at `written`. A bucket that does
    /// not answer (its stream electing a leader) is asked again soon while the lease has at
    /// least a third of its time left; a lease lost, or not renewed by then, stops the actor.
    fn renew_lease_in(&self, ctx: &mut Context<Self>, ttl: Duration, delay: Duration, written: std::time::Instant) {
        ctx.run_later(delay, move |act, ctx| {
            let (Some(node), Some(lease)) = (act.shared.cluster.clone(), act.lease.clone()) else { return };
            let renewing = async move { node.renew(lease).await };
            ctx.spawn(renewing.into_actor(act).map(move |renewed, act, ctx| match renewed {
                Ok(lease) => {
                    if act.lease.is_some() {
                        act.lease = Some(lease);
                        act.keep_lease(ctx, ttl);
                    }
                }
                Err(crate::cluster::LeaseError::Failed(e)) if written.elapsed() < ttl * 2 / 3 => {
                    tracing::debug!(conv = %act.key, error = %e, "the lease bucket did not answer; renewing again");
                    act.renew_lease_in(ctx, ttl, Duration::from_millis(250), written);
                }
                Err(e) => {
                    tracing::warn!(conv = %act.key, error = %e, "the conversation's lease is lost");
                    act.lease = None;
                    act.appender = None;
                    act.last_write_error = Some(e.to_string());
                    act.crash(ctx);
                }
            }));
        });
    }

    /// An append the log did not take: the write it carries fails (the actor then reloads
    /// from the log and its store, or stops if another node owns the conversation now).
    fn fail_append(&mut self, ctx: &mut Context<Self>, token: Option<u64>, why: String) {
        let e = StoreError::Io(format!("the log of record did not take the write: {why}"));
        match token.and_then(|t| self.awaiting.remove(&t)) {
            Some(f) => self.finish_write(f, ctx, Err(e)),
            None => {
                self.last_write_error = Some(e.to_string());
                self.crash(ctx);
            }
        }
    }

    /// Checks for idleness once `after` has passed, and re-arms for the rest of the idle
    /// period if there was activity meanwhile. One pending timer per actor, firing about once
    /// per idle period: a million quiet conversations cost no CPU between checks.
    fn arm_passivation(&self, ctx: &mut Context<Self>, after: Duration) {
        ctx.run_later(after, |act, ctx| {
            let idle = act.shared.config.idle_passivation;
            let quiet = act.last_activity.elapsed();
            if quiet < idle {
                act.arm_passivation(ctx, idle - quiet);
            } else if act.awaiting.is_empty() && act.log.as_ref().is_some_and(|l| !l.pending_changes_empty()) {
                // Changes no write has carried yet (failed messages kept after a restart).
                act.flush(ctx, None);
                act.arm_passivation(ctx, (idle / 4).max(Duration::from_millis(250)).min(idle));
            } else if !act.is_idle() {
                // Writes or uploads in flight: look again shortly — after a quarter of the
                // idle period, at least 250 ms (a million actors' timers stay cheap), but never
                // later than a whole idle period.
                act.arm_passivation(ctx, (idle / 4).max(Duration::from_millis(250)).min(idle));
            } else {
                act.passivate(ctx);
            }
        });
    }

    /// Leaves the routing table and stops; commands still in the mailbox reroute themselves
    /// to the next actor (see `ConvCommand`). Only called when idle: nothing is in flight.
    fn passivate(&mut self, ctx: &mut Context<Self>) {
        self.shared.table.remove_if(&self.key, |_, a| *a == ctx.address());
        self.appender = None;
        if let (Some(node), Some(lease)) = (&self.shared.cluster, self.lease.take()) {
            node.release(lease);
        }
        if let Some(sup) = self.shared.supervisor.get() {
            sup.do_send(ConversationPassivated { key: self.key.clone() });
        }
        ctx.stop();
    }
}

impl Handler<ConvCommand> for ConversationActor {
    type Result = ();

    fn handle(&mut self, cmd: ConvCommand, ctx: &mut Context<Self>) {
        let op = cmd.take();
        if self.log.is_none() {
            // It failed to load and is stopping: the caller hears why, with a code.
            op.fail(self.load_failure());
            return;
        }
        self.last_activity = Instant::now();
        self.run_guarded(op, ctx);
    }
}

/// Cluster mode: the log of record answered an append (see `ClusterNode::appender`).
#[derive(Message)]
#[rtype(result = "()")]
pub struct LogAppended(crate::cluster::node::Appended);

impl Handler<LogAppended> for ConversationActor {
    type Result = ();

    fn handle(&mut self, LogAppended((mut ops, token, appended)): LogAppended, ctx: &mut Context<Self>) {
        match appended {
            Ok(seq) => {
                ops.push(WriteOp::SetLogPosition { conv: self.storage_key.clone(), seq });
                let done = match token {
                    Some(token) => Completion::Actor { to: ctx.address().recipient(), token },
                    None => Completion::None,
                };
                if let Err(e) = self.shared.store.submit(WriteRequest::new(ops, done))
                    && let Some(f) = token.and_then(|t| self.awaiting.remove(&t))
                {
                    self.finish_write(f, ctx, Err(e));
                }
            }
            Err(e) => self.fail_append(ctx, token, e.to_string()),
        }
    }
}

/// Hands the changes of a mailbox batch to the store writer (see `schedule_flush`).
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct FlushChanges;

impl Handler<FlushChanges> for ConversationActor {
    type Result = ();

    fn handle(&mut self, _: FlushChanges, ctx: &mut Context<Self>) {
        self.flush_scheduled = false;
        if self.log.is_some() && !self.restarting {
            self.flush(ctx, None);
        }
    }
}

/// The supervisor's answer to a crash: reload the state and carry on.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct ReloadState;

impl Handler<ReloadState> for ConversationActor {
    type Result = ();

    fn handle(&mut self, _: ReloadState, ctx: &mut Context<Self>) {
        self.reload_after_writes(ctx);
    }
}

impl Handler<WriteCompleted> for ConversationActor {
    type Result = ();

    fn handle(&mut self, msg: WriteCompleted, ctx: &mut Context<Self>) {
        if let Some(f) = self.awaiting.remove(&msg.token) {
            self.finish_write(f, ctx, msg.result);
        }
    }
}
