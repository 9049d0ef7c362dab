//! `Session`: one logged-in user and the typed TIM message API — one async method per
//! `TIMMsg*` function, plus the group calls that hold group conversations together.
//!
//! The typed API never touches JSON. Limits the SDK applies on the client (ID rules, array
//! sizes, call rates) are checked here; conversation rules are checked by the conversation
//! actors.

use std::sync::Arc;

use parking_lot::Mutex;
use timsg_actors::actors::{BatchRecipientResult, ConvOp, ImportedMessage};
use timsg_actors::events::{Event, EventStream};
use timsg_actors::group::{GroupAddOption, GroupCommand, GroupKind, GroupProfile, GroupSnapshot};
use timsg_actors::history::{HistoryQuery, MessageTarget};
use timsg_actors::ids::{ConvKey, ConvRef, ConvType, MsgId, UserId, is_valid_identifier};
use timsg_actors::member::{ReceiveOpt, ViewKind};
use timsg_actors::message::{
    LocalCustomData, MessageContent, MessageLocator, MessageStatus, MessageView, StoredMessage,
};
use timsg_actors::search::{SearchQuery, SearchResult};
use timsg_actors::{ConvError, Engine, PendingSend};

use crate::access::limits::Limit;
use crate::access::{Access, RemotePolicy};
use crate::catch_up::CatchUpStream;
use crate::error::{TimError, TimResult, code};

/// IDs per `SetC2CReceiveMessageOpt` / `GetC2CReceiveMessageOpt` call.
pub const MAX_RECV_OPT_IDS: usize = 30;
/// Messages per `ListDelete` call.
pub const MAX_LIST_DELETE: usize = 30;
/// Longest group ID, in bytes.
pub const MAX_GROUP_ID_BYTES: usize = 48;

/// A message to put into a view without sending it (`SaveMsg`, `ImportMsgList`).
#[derive(Debug, Clone, Default)]
pub struct LocalMessage {
    /// Kept if given (and unused in the conversation), generated otherwise.
    pub id: Option<String>,
    /// Defaults to the saving user.
    pub sender: Option<String>,
    /// Defaults to now.
    pub server_time: u64,
    /// Random if 0.
    pub rand: u64,
    pub seq: u64,
    pub content: MessageContent,
}

pub struct Session {
    engine: Engine,
    user: UserId,
    /// What this session's caller may name (see [`crate::access`]).
    access: Access,
    generation: u64,
    events: Mutex<Option<EventStream>>,
    /// The newest committed message when this login began listening: what came later reaches
    /// the event stream live, so "missed" ends here (see `missed_events`).
    login_mark: i64,
    /// The event stamp when this login began (see [`Engine::record_abandoned_login`]).
    login_stamp: u64,
    /// Set by [`Session::logout`] (or the drop): a logout happens once.
    logged_out: std::sync::atomic::AtomicBool,
    /// How far this login's events were handed to its consumer (see [`CatchUp`]).
    catch_up: std::sync::atomic::AtomicU8,
}

/// Where a login's catch-up stands. A logout that comes while what was missed is still being
/// read (nothing of this login reached its consumer yet) abandons the catch-up and records no
/// logout point: the previous point stays (a user without one gets one at this login's
/// start), so the next login catches up on all of it, once. Recording this logout's point
/// instead let the catch-up, read after it, take the messages kept for the next login too
/// (and the next login read them again), and skipped what this login never handed out.
#[repr(u8)]
enum CatchUp {
    /// The stream was not taken yet.
    NotTaken = 0,
    /// [`Session::take_events_after_missed`] is reading what was missed.
    Reading = 1,
    /// The consumer has the stream (with or without what was missed).
    Handed = 2,
    /// The login ended before its stream was handed out; there is no catch-up any more.
    Ended = 3,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("user", &self.user).finish()
    }
}

impl Drop for Session {
    /// The last handle gone logs out, if [`Session::logout`] has not.
    fn drop(&mut self) {
        self.logout();
    }
}

/// A download in progress: its progress reports, then its outcome.
#[derive(Debug)]
pub struct Download {
    /// `(current, total)` bytes, increasing, at most ~20 per second; the end is reported by
    /// [`Download::finished`], not here.
    pub progress: tokio::sync::mpsc::Receiver<(u64, u64)>,
    done: tokio::sync::oneshot::Receiver<Result<u64, ConvError>>,
}

impl Download {
    /// Waits for the download; the file's size once it is in place.
    pub async fn finished(self) -> TimResult<u64> {
        self.split().1.await
    }

    /// The progress reports and the outcome, to be awaited apart.
    pub fn split(
        self,
    ) -> (tokio::sync::mpsc::Receiver<(u64, u64)>, impl std::future::Future<Output = TimResult<u64>> + Send + 'static)
    {
        let done = self.done;
        let finished = async move {
            match done.await {
                Ok(r) => r.map_err(tim),
                Err(_) => Err(TimError::new(code::ERR_SDK_COMM_INTERRUPT, "the download manager stopped")),
            }
        };
        (self.progress, finished)
    }
}

fn tim(e: ConvError) -> TimError {
    TimError::from(e)
}

impl Session {
    /// Logs `user` in. Fails (6019) if the store cannot say where the commit order stands:
    /// without it, what the user missed while away could not be told apart from what is new.
    pub(crate) fn new(engine: Engine, user: UserId, access: Access) -> TimResult<Session> {
        let login_stamp = engine.stamp();
        let (generation, events) = engine.subscribe(&user);
        // Read after subscribing: a message committed later is published to the new stream.
        let login_mark = match engine.newest_message_mark() {
            Ok(mark) => mark,
            Err(e) => {
                engine.unsubscribe(&user, generation);
                return Err(tim(e));
            }
        };
        Ok(Session {
            engine,
            user,
            access,
            generation,
            events: Mutex::new(Some(events)),
            login_mark,
            login_stamp,
            logged_out: Default::default(),
            catch_up: std::sync::atomic::AtomicU8::new(CatchUp::NotTaken as u8),
        })
    }

    /// Acts as `user` without logging it in: no event stream, no logout point — for a call
    /// another node forwarded here (cluster mode), whose user is logged in where it called.
    pub(crate) fn acting_for(engine: Engine, user: UserId, access: Access) -> Session {
        Session {
            engine,
            user,
            access,
            generation: 0,
            events: Mutex::new(None),
            login_mark: 0,
            login_stamp: 0,
            logged_out: std::sync::atomic::AtomicBool::new(true),
            catch_up: std::sync::atomic::AtomicU8::new(CatchUp::NotTaken as u8),
        }
    }

    /// The remote rules this session is under, if its caller is not the device.
    fn remote(&self) -> Option<&RemotePolicy> {
        match &self.access {
            Access::Device => None,
            Access::Remote(p) => Some(p),
        }
    }

    /// For a remote caller: admits the conversations in `keys` it does not have yet against
    /// its new-conversation allowance.
    fn admit_conversations(&self, keys: &[ConvKey]) -> TimResult<()> {
        let Some(remote) = self.remote() else { return Ok(()) };
        let c2c: Vec<ConvKey> = keys.iter().filter(|k| k.conv_type() == ConvType::C2c).cloned().collect();
        if c2c.is_empty() {
            return Ok(());
        }
        remote.limits.admit_conversations(&self.user, &c2c, self.engine.now_ms(), || {
            self.engine.conversations_of(&self.user).map_err(tim)
        })
    }

    /// Logs out now, even while calls of this session are still running: the user's
    /// downloads stop (114003), its event stream closes, and the logout point is recorded —
    /// so what those calls (or anyone) make happen from here on reaches the user at its next
    /// login. Nothing happens to a newer login of the same user that replaced this one.
    pub fn logout(&self) {
        if self.logged_out.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        // A catch-up still being read is abandoned (its consumer got nothing yet): no new point,
        // the previous one stays (see `CatchUp`). A stream never taken was this login's
        // choice: its point is recorded as usual.
        let abandoned = self.move_catch_up(CatchUp::Reading, CatchUp::Ended);
        self.move_catch_up(CatchUp::NotTaken, CatchUp::Ended);
        // The stream closes before the logout point is taken, so whatever was published to it
        // is at or below the point (not missed again). A message committed before the point
        // but published after the stream closed is kept for the next login by the event bus.
        let current = self.engine.is_current_login(&self.user, self.generation);
        self.engine.unsubscribe(&self.user, self.generation);
        if current {
            self.engine.cancel_downloads(&self.user);
            if abandoned {
                tracing::info!(user = %self.user, "logged out while its catch-up was read: the next login catches up from the logout before");
                self.engine.record_abandoned_login(&self.user, self.login_stamp);
            } else {
                self.engine.record_logout(&self.user);
            }
        }
    }

    pub fn user_id(&self) -> &str {
        &self.user
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The user's event stream (new messages, revokes, read receipts, updates). It can be
    /// taken once; later calls return `None`.
    pub fn take_events(&self) -> Option<EventStream> {
        let events = self.events.lock().take()?;
        self.move_catch_up(CatchUp::NotTaken, CatchUp::Handed);
        Some(events)
    }

    /// Moves the catch-up from `from` to `to`; false if it was not at `from`.
    fn move_catch_up(&self, from: CatchUp, to: CatchUp) -> bool {
        use std::sync::atomic::Ordering::SeqCst;
        self.catch_up.compare_exchange(from as u8, to as u8, SeqCst, SeqCst).is_ok()
    }

    /// What this user missed while logged out: the unread messages that arrived (one
    /// `NewMessages` event per conversation), then the revokes and read receipts of that time.
    /// Only messages committed before this login count — later ones arrive live.
    pub async fn missed_events(&self) -> TimResult<Vec<Event>> {
        self.engine.missed_while_offline(&self.user, self.login_mark).await.map_err(tim)
    }

    /// Takes the event stream with what was missed at its head: missed events first, then live
    /// ones, each message once (see [`CatchUpStream`]). `None` if the stream was taken.
    /// `None` as well if the login ended first; if it ended while what was missed was being
    /// read, the next login catches up on it. The stream is taken when this is called, not
    /// when the future is first polled: from then on a logout abandons the catch-up.
    pub fn take_events_after_missed(&self) -> impl std::future::Future<Output = Option<CatchUpStream>> + Send + '_ {
        let live = self.begin_catch_up();
        async move { self.finish_catch_up(live?).await }
    }

    /// [`Session::take_events_after_missed`] for a task of its own: the future holds the
    /// session, not a borrow of it.
    pub fn take_events_after_missed_owned(
        self: &Arc<Self>,
    ) -> impl std::future::Future<Output = Option<CatchUpStream>> + Send + 'static {
        let live = self.begin_catch_up();
        let session = self.clone();
        async move { session.finish_catch_up(live?).await }
    }

    /// Takes the live stream for a catch-up, unless it was taken or the login ended.
    fn begin_catch_up(&self) -> Option<EventStream> {
        self.events.lock().take().filter(|_| self.move_catch_up(CatchUp::NotTaken, CatchUp::Reading))
    }

    /// Reads what was missed and puts it before `live`; `None` if a logout came meanwhile.
    async fn finish_catch_up(&self, live: EventStream) -> Option<CatchUpStream> {
        let missed = self.missed_events().await.unwrap_or_else(|e| {
            tracing::warn!(user = %self.user, error = %e, "cannot read what was missed while logged out");
            Vec::new()
        });
        if !self.move_catch_up(CatchUp::Reading, CatchUp::Handed) {
            return None;
        }
        let (engine, user) = (self.engine.clone(), self.user.clone());
        Some(
            CatchUpStream::new(missed, live)
                .acking_notices(Box::new(move |ids| engine.deliveries_acknowledged(&user, ids))),
        )
    }

    /// The shared identity of a conversation this user names, after the ID rules.
    pub fn conv_key(&self, conv: &ConvRef) -> TimResult<ConvKey> {
        match conv.conv_type {
            ConvType::C2c => {
                if !is_valid_identifier(&conv.id) {
                    return Err(TimError::new(
                        code::ERR_SDK_COMM_INVALID_IDENTIFIER,
                        format!(
                            "invalid user id {:?}: 1 to 32 bytes of printable ascii, no path and no @TIM# prefix",
                            conv.id
                        ),
                    ));
                }
            }
            ConvType::Group => {
                if conv.id.is_empty() || conv.id.len() > MAX_GROUP_ID_BYTES {
                    return Err(TimError::new(
                        code::ERR_SVR_GROUP_INVALID_GROUPID,
                        format!("invalid group id {:?}: 1 to {MAX_GROUP_ID_BYTES} bytes", conv.id),
                    ));
                }
            }
            ConvType::System => {
                return Err(TimError::new(code::TIM_ERR_CONV, "system conversations take no message calls"));
            }
        }
        conv.key_for_user(&self.user).ok_or_else(|| TimError::new(code::TIM_ERR_CONV, "invalid conversation"))
    }

    async fn call<T>(
        &self,
        key: &ConvKey,
        make: impl FnOnce(timsg_actors::actors::Reply<T>) -> ConvOp,
    ) -> TimResult<T> {
        self.engine.call(key, make).await.map_err(tim)
    }

    // ---- TIMMsgSendMessage / TIMMsgSendNewMsg ---------------------------------------------

    /// Starts a send. The message ID is known when this returns; the outcome (the sent message,
    /// status 2, with its seq and server time) comes from [`PendingSend::outcome`].
    pub fn send_message(&self, conv: &ConvRef, content: MessageContent) -> TimResult<PendingSend> {
        self.send_message_with_id(conv, content, None)
    }

    /// As [`Session::send_message`], with the caller's message ID: re-sending an ID that was
    /// already committed returns the original message instead of a duplicate.
    pub fn send_message_with_id(
        &self,
        conv: &ConvRef,
        content: MessageContent,
        id: Option<&str>,
    ) -> TimResult<PendingSend> {
        let key = self.conv_key(conv)?;
        if let Some(remote) = self.remote() {
            remote.check_media(&self.engine, &content)?;
            self.admit_conversations(std::slice::from_ref(&key))?;
        }
        let id: Option<MsgId> = match id {
            Some(i) if i.is_empty() || i.len() > 127 => {
                return Err(TimError::param("message id must be 1 to 127 bytes"));
            }
            Some(i) => Some(i.into()),
            None => None,
        };
        self.engine.send_message(&self.user, key, Arc::new(content), id).map_err(tim)
    }

    /// Sends and waits for the outcome.
    pub async fn send(&self, conv: &ConvRef, content: MessageContent) -> TimResult<MessageView> {
        self.send_message(conv, content)?.outcome().await.map_err(tim)
    }

    // ---- TIMMsgCancelSend -----------------------------------------------------------------

    pub async fn cancel_send(&self, conv: &ConvRef, message_id: &str) -> TimResult<()> {
        let key = self.conv_key(conv)?;
        let (user, id) = (self.user.clone(), MsgId::from(message_id));
        self.call(&key, |reply| ConvOp::CancelSend { user, id, reply }).await
    }

    // ---- TIMMsgFindMessages ---------------------------------------------------------------

    pub async fn find_messages(&self, message_ids: &[String]) -> TimResult<Vec<MessageView>> {
        self.engine.find_messages(&self.user, message_ids).await.map_err(tim)
    }

    // ---- TIMMsgReportReaded / TIMMsgMarkAllMessageAsRead ----------------------------------

    /// Reports `conv` read up to `target` (or its newest message).
    pub async fn report_readed(&self, conv: &ConvRef, target: Option<MessageTarget>) -> TimResult<()> {
        let key = self.conv_key(conv)?;
        let user = self.user.clone();
        self.call(&key, |reply| ConvOp::ReportRead { user, target, reply }).await
    }

    /// Reports every conversation of one type read (`conv_id` empty in the C API); `None`
    /// reports all conversations of every type.
    pub async fn report_readed_all(&self, conv_type: Option<ConvType>) -> TimResult<()> {
        let keys = self.engine.conversations_of(&self.user).map_err(tim)?;
        for key in keys.into_iter().filter(|k| conv_type.is_none_or(|t| k.conv_type() == t)) {
            let user = self.user.clone();
            self.call(&key, |reply| ConvOp::ReportRead { user, target: None, reply }).await?;
        }
        Ok(())
    }

    pub async fn mark_all_message_as_read(&self) -> TimResult<()> {
        self.report_readed_all(None).await
    }

    /// Unread messages in `conv`, derived from the read point.
    pub async fn unread_count(&self, conv: &ConvRef) -> TimResult<u64> {
        let key = self.conv_key(conv)?;
        let user = self.user.clone();
        self.call(&key, |reply| ConvOp::GetUnreadCount { user, reply }).await
    }

    // ---- TIMMsgRevoke ---------------------------------------------------------------------

    pub async fn revoke(&self, conv: &ConvRef, target: MessageTarget) -> TimResult<()> {
        self.revoke_with(conv, target, false).await
    }

    /// Revokes this user's message however old it is: the admin's recall (the REST API's
    /// `admin_msgwithdraw`), which has no time limit.
    pub async fn withdraw_as_admin(&self, conv: &ConvRef, target: MessageTarget) -> TimResult<()> {
        self.revoke_with(conv, target, true).await
    }

    async fn revoke_with(&self, conv: &ConvRef, target: MessageTarget, any_age: bool) -> TimResult<()> {
        let key = self.conv_key(conv)?;
        let user = self.user.clone();
        self.call(&key, |reply| ConvOp::Revoke { user, target, reason: String::new(), any_age, reply }).await
    }

    // ---- TIMMsgFindByMsgLocatorList -------------------------------------------------------

    pub async fn find_by_msg_locator_list(
        &self,
        conv: &ConvRef,
        locators: Vec<MessageLocator>,
    ) -> TimResult<Vec<MessageView>> {
        let key = self.conv_key(conv)?;
        let user = self.user.clone();
        self.call(&key, |reply| ConvOp::GetByLocators { user, locators, reply }).await
    }

    // ---- TIMMsgImportMsgList / TIMMsgSaveMsg ----------------------------------------------

    /// Puts local-only messages (status 5, no shared seq, never delivered) into this user's view.
    pub async fn import_msg_list(&self, conv: &ConvRef, messages: Vec<LocalMessage>) -> TimResult<Vec<MessageView>> {
        let key = self.conv_key(conv)?;
        self.admit_conversations(std::slice::from_ref(&key))?;
        let now = self.engine.now_ms() / 1000;
        let mut stored = Vec::with_capacity(messages.len());
        for m in messages {
            if m.content.elements.is_empty() {
                return Err(TimError::new(code::ERR_INVALID_PARAMETERS, "message_elem_array is empty"));
            }
            let sender = m.sender.unwrap_or_else(|| self.user.to_string());
            if !is_valid_identifier(&sender) {
                return Err(TimError::new(code::ERR_SDK_COMM_INVALID_IDENTIFIER, format!("invalid sender {sender:?}")));
            }
            stored.push(StoredMessage {
                id: m.id.map(MsgId::from).unwrap_or_else(|| self.engine.next_message_id()),
                sender: sender.into(),
                seq: m.seq,
                local_id: 0,
                rand: if m.rand == 0 { u64::from(fastrand::u32(..)) } else { m.rand },
                server_time: if m.server_time == 0 { now } else { m.server_time },
                status: MessageStatus::LocalImported,
                revoke: None,
                content: Arc::new(m.content),
            });
        }
        let user = self.user.clone();
        self.call(&key, |reply| ConvOp::SaveLocal { user, messages: stored, reply }).await
    }

    /// Imports a message from another system into the conversation's shared history, from
    /// `sender` at `time_secs` (not before the conversation's newest message): the REST API's
    /// `importmsg` and `import_group_msg`. `live`, it is delivered and counts as unread; else
    /// it is history, delivered to no one and read by every member. The same `id` again
    /// answers the message already imported.
    #[allow(clippy::too_many_arguments)]
    pub async fn import_shared(
        &self,
        conv: &ConvRef,
        sender: &str,
        id: String,
        content: MessageContent,
        rand: u64,
        time_secs: u64,
        live: bool,
    ) -> TimResult<MessageView> {
        if !is_valid_identifier(sender) {
            return Err(TimError::new(code::ERR_SDK_COMM_INVALID_IDENTIFIER, format!("invalid sender {sender:?}")));
        }
        self.engine.check_content(&content)?;
        let key = self.conv_key(conv)?;
        let message =
            ImportedMessage { sender: sender.into(), id: id.into(), content: Arc::new(content), rand, time_secs };
        self.call(&key, |reply| ConvOp::Import { message, live, reply }).await
    }

    pub async fn save_msg(&self, conv: &ConvRef, message: LocalMessage) -> TimResult<MessageView> {
        let mut saved = self.import_msg_list(conv, vec![message]).await?;
        saved.pop().ok_or_else(|| TimError::new(code::ERR_SDK_INTERNAL_ERROR, "nothing was saved"))
    }

    // ---- TIMMsgGetMsgList -----------------------------------------------------------------

    pub async fn get_msg_list(&self, conv: &ConvRef, query: HistoryQuery) -> TimResult<Vec<MessageView>> {
        let key = self.conv_key(conv)?;
        let user = self.user.clone();
        self.call(&key, |reply| ConvOp::GetHistory { user, query, reply }).await
    }

    // ---- TIMMsgDelete / TIMMsgListDelete / TIMMsgClearHistoryMessage ----------------------

    pub async fn delete(&self, conv: &ConvRef, target: Option<MessageTarget>, view: ViewKind) -> TimResult<()> {
        let key = self.conv_key(conv)?;
        let user = self.user.clone();
        self.call(&key, |reply| ConvOp::Delete { user, target, view, reply }).await
    }

    /// Deletes local and roaming copies: at most 30 messages, at most once per second.
    pub async fn list_delete(&self, conv: &ConvRef, targets: Vec<MessageTarget>) -> TimResult<()> {
        if targets.is_empty() || targets.len() > MAX_LIST_DELETE {
            return Err(TimError::param(format!(
                "list delete takes 1 to {MAX_LIST_DELETE} messages, got {}",
                targets.len()
            )));
        }
        let key = self.conv_key(conv)?;
        if !self.engine.admit_call(&self.user, "ListDelete", 1000, 1) {
            return Err(TimError::new(
                code::ERR_SDK_COMM_API_CALL_FREQUENCY_LIMIT,
                "list delete may be called once per second",
            ));
        }
        let user = self.user.clone();
        self.call(&key, |reply| ConvOp::ListDelete { user, targets, reply }).await
    }

    pub async fn clear_history_message(&self, conv: &ConvRef) -> TimResult<()> {
        let key = self.conv_key(conv)?;
        let user = self.user.clone();
        self.call(&key, |reply| ConvOp::ClearHistory { user, reply }).await
    }

    // ---- receive options ------------------------------------------------------------------

    /// The receive-option calls' ID list: 1 to 30 (-4), each a valid user ID (7003).
    pub fn check_recv_opt_ids(ids: &[String]) -> TimResult<()> {
        if ids.is_empty() || ids.len() > MAX_RECV_OPT_IDS {
            return Err(TimError::param(format!("takes 1 to {MAX_RECV_OPT_IDS} user ids, got {}", ids.len())));
        }
        if let Some(bad) = ids.iter().find(|i| !is_valid_identifier(i)) {
            return Err(TimError::new(code::ERR_SDK_COMM_INVALID_IDENTIFIER, format!("invalid user id {bad:?}")));
        }
        Ok(())
    }

    /// Sets this user's option for C2C messages from each of `ids` (≤ 30, ≤ 5 calls/s).
    pub async fn set_c2c_receive_message_opt(&self, ids: &[String], opt: ReceiveOpt) -> TimResult<()> {
        Self::check_recv_opt_ids(ids)?;
        if !self.engine.admit_call(&self.user, "SetC2CReceiveMessageOpt", 1000, 5) {
            return Err(TimError::new(
                code::ERR_SDK_COMM_API_CALL_FREQUENCY_LIMIT,
                "set c2c receive option may be called 5 times per second",
            ));
        }
        self.engine.set_c2c_receive_opt(&self.user, ids, opt).await.map_err(tim)
    }

    pub async fn get_c2c_receive_message_opt(&self, ids: &[String]) -> TimResult<Vec<(String, ReceiveOpt)>> {
        Self::check_recv_opt_ids(ids)?;
        Ok(ids.iter().map(|i| (i.clone(), self.engine.c2c_receive_opt(&self.user, i))).collect())
    }

    pub async fn set_group_receive_message_opt(&self, group_id: &str, opt: ReceiveOpt) -> TimResult<()> {
        let key = self.conv_key(&ConvRef::group(group_id))?;
        let user = self.user.clone();
        self.call(&key, |reply| ConvOp::SetGroupReceiveOpt { user, opt, reply }).await
    }

    // ---- TIMMsgSearchLocalMessages --------------------------------------------------------

    pub async fn search_local_messages(&self, query: SearchQuery) -> TimResult<SearchResult> {
        query.check_limits().map_err(TimError::param)?;
        self.engine.search(&self.user, query).await.map_err(tim)
    }

    // ---- TIMMsgSetLocalCustomData ---------------------------------------------------------

    pub async fn set_local_custom_data(
        &self,
        conv: &ConvRef,
        target: MessageTarget,
        data: LocalCustomData,
    ) -> TimResult<()> {
        let key = self.conv_key(conv)?;
        let user = self.user.clone();
        self.call(&key, |reply| ConvOp::SetLocalCustomData { user, target, data, reply }).await
    }

    // ---- TIMMsgBatchSend ------------------------------------------------------------------

    pub async fn batch_send(
        &self,
        receivers: Vec<String>,
        content: MessageContent,
    ) -> TimResult<Vec<BatchRecipientResult>> {
        let max = self.engine.config().batch_send_max;
        if receivers.is_empty() || receivers.len() > max {
            return Err(TimError::param(format!("batch send takes 1 to {max} receivers, got {}", receivers.len())));
        }
        if let Some(remote) = self.remote() {
            remote.check_media(&self.engine, &content)?;
            let keys: Vec<ConvKey> =
                receivers.iter().filter(|r| is_valid_identifier(r)).map(|r| ConvKey::c2c(&self.user, r)).collect();
            self.admit_conversations(&keys)?;
        }
        self.engine.batch_send(&self.user, receivers, Arc::new(content)).await.map_err(tim)
    }

    // ---- TIMMsgDownloadElemToPath / TIMMsgDownloadMergerMessage --------------------------

    /// Downloads an element's media (by URL, or by its stored media ID) to `path`. A remote
    /// caller names the media by URL, and `path` is relative to its own folder (see
    /// [`crate::access`]).
    pub fn download_elem_to_path(&self, url: &str, id: &str, path: &std::path::Path) -> TimResult<Download> {
        let (source, dest, guarded) = match self.remote() {
            None => {
                let source = self.engine.download_source(url, id).map_err(|e| TimError::param(e.to_string()))?;
                (source, path.to_path_buf(), false)
            }
            Some(remote) => {
                let (source, guarded) = remote.download_source(&self.engine, url)?;
                let relative = path.to_str().ok_or_else(|| TimError::param("the path is not UTF-8"))?;
                (source, remote.download_destination(&self.user, relative)?, guarded)
            }
        };
        let (progress, done) = self.engine.download(&self.user, source, dest, guarded).map_err(tim)?;
        Ok(Download { progress, done })
    }

    /// The messages a merged message carries, as a JSON array text.
    pub async fn download_merger_message(&self, merge: &timsg_actors::element::MergeElement) -> TimResult<String> {
        use timsg_actors::element::{MAX_MERGE_DEPTH, MAX_MERGED_MESSAGES};
        if merge.layer_over_limit || merge.depth > MAX_MERGE_DEPTH || merge.message_count > MAX_MERGED_MESSAGES {
            return Err(tim(ConvError::MergeOverLimit));
        }
        if let Some(inline) = &merge.messages {
            return Ok(inline.to_string());
        }
        self.engine.read_merged(&merge.relay_json_key).map_err(tim)
    }

    // ---- groups ---------------------------------------------------------------------------

    /// Runs a group command; the users whose membership changed.
    async fn group(&self, group_id: &str, command: GroupCommand) -> TimResult<Vec<String>> {
        let key = self.conv_key(&ConvRef::group(group_id))?;
        let user = self.user.clone();
        self.call(&key, |reply| ConvOp::ApplyGroup { user, command, reply }).await
    }

    /// Creates a group with its kind's default add option (see [`Session::create_group_with`]).
    pub async fn create_group(
        &self,
        group_id: &str,
        name: &str,
        kind: GroupKind,
        members: Vec<String>,
    ) -> TimResult<()> {
        self.create_group_with(group_id, name, kind, GroupAddOption::default_for(kind), members).await
    }

    /// Creates a group owned by this user; `add_option` decides who may join by asking.
    pub async fn create_group_with(
        &self,
        group_id: &str,
        name: &str,
        kind: GroupKind,
        add_option: GroupAddOption,
        members: Vec<String>,
    ) -> TimResult<()> {
        self.create_group_with_profile(group_id, name, kind, add_option, GroupProfile::default(), members).await
    }

    /// Creates a group owned by this user, with its introduction, notification, face URL and
    /// member bound.
    pub async fn create_group_with_profile(
        &self,
        group_id: &str,
        name: &str,
        kind: GroupKind,
        add_option: GroupAddOption,
        profile: GroupProfile,
        members: Vec<String>,
    ) -> TimResult<()> {
        if let Some(bad) = members.iter().find(|m| !is_valid_identifier(m)) {
            return Err(TimError::new(code::ERR_SDK_COMM_INVALID_IDENTIFIER, format!("invalid user id {bad:?}")));
        }
        if let Some(remote) = self.remote() {
            remote.limits.take(&self.user, Limit::NewGroups, 1, self.engine.now_ms())?;
        }
        let command = GroupCommand::Create { name: name.to_string(), kind, add_option, profile, members };
        self.group(group_id, command).await.map(drop)
    }

    pub async fn join_group(&self, group_id: &str) -> TimResult<()> {
        self.group(group_id, GroupCommand::Join).await.map(drop)
    }

    pub async fn quit_group(&self, group_id: &str) -> TimResult<()> {
        self.group(group_id, GroupCommand::Quit).await.map(drop)
    }

    /// Invites users; returns the ones that joined (the others were members already).
    pub async fn invite_to_group(&self, group_id: &str, users: Vec<String>) -> TimResult<Vec<String>> {
        if let Some(bad) = users.iter().find(|m| !is_valid_identifier(m)) {
            return Err(TimError::new(code::ERR_SDK_COMM_INVALID_IDENTIFIER, format!("invalid user id {bad:?}")));
        }
        self.group(group_id, GroupCommand::Invite(users)).await
    }

    /// Removes members; returns the ones removed.
    pub async fn kick_from_group(&self, group_id: &str, users: Vec<String>) -> TimResult<Vec<String>> {
        self.group(group_id, GroupCommand::Kick(users)).await
    }

    pub async fn dismiss_group(&self, group_id: &str) -> TimResult<()> {
        self.group(group_id, GroupCommand::Dismiss).await.map(drop)
    }

    /// Sends a system notice (a GroupReport of type UserDefine carrying `content`) to the
    /// members named, or to all of them when `to` is empty; answers the members it reached.
    pub async fn notify_group(&self, group_id: &str, content: String, to: Vec<String>) -> TimResult<Vec<String>> {
        self.group(group_id, GroupCommand::Notify { content, to }).await
    }

    /// The group and its active members now (10010 if there is no such group).
    pub async fn group_snapshot(&self, group_id: &str) -> TimResult<GroupSnapshot> {
        let key = self.conv_key(&ConvRef::group(group_id))?;
        match self.call(&key, |reply| ConvOp::GroupSnapshot { reply }).await? {
            Some(snapshot) => Ok(snapshot),
            None => Err(ConvError::GroupNotFound(group_id.to_string()).into()),
        }
    }

    pub async fn set_group_admin(&self, group_id: &str, user: &str, admin: bool) -> TimResult<()> {
        self.group(group_id, GroupCommand::SetAdmin { user: user.to_string(), admin }).await.map(drop)
    }
}
