//! The engine: the actor system, the routing table and the store, and the calls every way in
//! uses to reach a conversation.
//!
//! Routing is lazy: the first call for a conversation starts its actor on the arbiter its key
//! hashes to (one arbiter per core), and the actor loads its state from the store before it
//! takes any op. Callers reach actors through the routing table (a sharded `DashMap`: a lookup
//! holds one shard's read lock for a moment) without a hop
//! through the supervisor; the supervisor only hears about lifecycle changes.

use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;

use actix::dev::SendError;
use actix::prelude::*;
use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use parking_lot::Mutex;
use std::path::PathBuf;

use tokio::sync::{mpsc, oneshot};

use crate::actors::download_manager::{
    CancelDownloadsOf, DownloadLimits, DownloadManagerActor, DownloadStats, GetDownloadStats, StartDownload,
};
use crate::actors::load_failures::LoadFailures;
use crate::actors::supervisor::ConversationActivated;
use crate::actors::{
    BatchRecipientResult, BatchSendActor, ConvCommand, ConvOp, ConversationActor, GetSupervisorStats, Reply,
    RunBatchSend, SupervisorActor, SupervisorStats,
};
use crate::config::EngineConfig;
use crate::element::{ElementBody, MAX_MERGE_DEPTH, MAX_MERGED_MESSAGES};
use crate::error::{ConvError, ConvResult};
use crate::events::{EventBus, EventStream};
use crate::ids::{ConvKey, ConvRef, ConvType, MsgId, MsgIdGenerator, UserId, is_valid_identifier};
use crate::media::blob::BlobStore;
use crate::media::download::DownloadSource;
use crate::media::sweeper::Sweeper;
use crate::member::ReceiveOpt;
use crate::message::{MessageContent, MessageView};
use crate::slow_reads::SlowReads;
use crate::store::{Store, StoreError, WriteOp};
use crate::users::UserDirectory;

/// What is told of another node's account change (cluster mode).
pub type AccountHook = Box<dyn Fn(&WriteOp) + Send + Sync>;

/// State every actor and every caller shares.
pub struct Shared {
    pub config: EngineConfig,
    pub store: Arc<Store>,
    pub events: EventBus,
    pub users: UserDirectory,
    pub ids: MsgIdGenerator,
    /// The routing table: live conversation actors by conversation. Hashed with foldhash
    /// (seeded per process), not SipHash: every call looks a conversation up here, and SipHash
    /// of the key's two names was a measurable share of a send.
    pub table: DashMap<ConvKey, Addr<ConversationActor>, foldhash::fast::RandomState>,
    /// Conversations whose state could not be loaded just now.
    pub unloadable: LoadFailures,
    pub arbiters: Vec<ArbiterHandle>,
    pub supervisor: OnceLock<Addr<SupervisorActor>>,
    /// The last event stamp handed out (see [`Shared::stamp`]).
    pub last_stamp: std::sync::atomic::AtomicU64,
    pub blobs: Arc<BlobStore>,
    /// Uploads running at once.
    pub upload_permits: Arc<tokio::sync::Semaphore>,
    pub downloads: OnceLock<Addr<DownloadManagerActor>>,
    /// Where searches and other long scans run (never on a caller's executor).
    pub slow_reads: SlowReads,
    /// Users whose logout point is still being taken (the store was lagging at their logout):
    /// their next login waits for it, or it would read the previous one.
    pub logout_points_due: DashMap<UserId, ()>,
    /// Cluster mode's connection (`None` on a single node).
    pub cluster: Option<Arc<crate::cluster::ClusterNode>>,
    /// Told of the account changes other nodes made (see [`Engine::on_account_change`]).
    pub account_hook: OnceLock<AccountHook>,
}

/// Where [`Shared::enqueue`] left a command.
pub enum Enqueued {
    Sent,
    /// The actor's mailbox is full (counted): the command waits to be sent to it.
    Full(Addr<ConversationActor>, ConvCommand),
    /// No actor of the conversation stayed up long enough to take it.
    Unreachable(ConvCommand),
    /// The conversation could not be loaded a moment ago: why.
    Unloadable(ConvCommand, String),
}

impl Shared {
    /// The conversation's actor, started (and loading its state) if it is not running.
    pub fn route(self: &Arc<Self>, key: &ConvKey) -> Addr<ConversationActor> {
        if let Some(a) = self.table.get(key)
            && a.connected()
        {
            return a.clone();
        }
        match self.table.entry(key.clone()) {
            Entry::Occupied(mut e) => {
                if e.get().connected() {
                    return e.get().clone();
                }
                let addr = self.start(key);
                e.insert(addr.clone());
                addr
            }
            Entry::Vacant(v) => {
                let addr = self.start(key);
                v.insert(addr.clone());
                addr
            }
        }
    }

    /// Puts `cmd` in the conversation's mailbox without waiting, routing again (up to 8
    /// times) when the routed actor has stopped in between (passivated or restarted).
    pub fn enqueue(self: &Arc<Self>, key: &ConvKey, mut cmd: ConvCommand) -> Enqueued {
        if let Some(why) = self.unloadable.recent(key) {
            return Enqueued::Unloadable(cmd, why);
        }
        for _ in 0..8 {
            // Sent through the address in the table, never a clone: actix gives every clone
            // of an `Addr` a slot of its own beyond the capacity, and parks only the sender
            // that found the mailbox full. Sharing one sender, every caller sees the mailbox
            // full until the actor catches up, so it stays bounded. The actor running (the
            // common case) costs one look-up and no clone; the rest is `route`'s.
            let sent = match self.table.get(key) {
                Some(stored) if stored.connected() => match stored.try_send(cmd) {
                    Ok(()) => return Enqueued::Sent,
                    Err(e) => (stored.clone(), e),
                },
                Some(stored) => (stored.clone(), SendError::Closed(cmd)),
                None => {
                    self.route(key);
                    continue;
                }
            };
            match sent {
                (addr, SendError::Full(c)) => {
                    metrics::counter!("timsg_mailbox_full_total", "actor" => "conversation").increment(1);
                    return Enqueued::Full(addr, c);
                }
                (addr, SendError::Closed(c)) => {
                    self.table.remove_if(key, |_, a| *a == addr);
                    cmd = c;
                }
            }
        }
        Enqueued::Unreachable(cmd)
    }

    /// A stamp for an event (a revoke, a read report, a logout): microseconds of the clock,
    /// but strictly increasing, so events in the same microsecond still order — and a user
    /// who logged out hears of exactly what came after.
    pub fn stamp(&self) -> u64 {
        use std::sync::atomic::Ordering;
        let now = self.config.clock.now_ms().saturating_mul(1000);
        let mut last = self.last_stamp.load(Ordering::Relaxed);
        loop {
            let next = now.max(last + 1);
            match self.last_stamp.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }

    fn start(self: &Arc<Self>, key: &ConvKey) -> Addr<ConversationActor> {
        let arbiter = &self.arbiters[key.shard(self.arbiters.len())];
        let shared = self.clone();
        let key = key.clone();
        if let Some(sup) = self.supervisor.get() {
            sup.do_send(ConversationActivated);
        }
        // The mailbox is made here with its full capacity: `start_in_arbiter` makes it with
        // actix's default of 16 and the actor raises it only once it starts on its arbiter,
        // so a burst of sends to a conversation just activated on a busy arbiter was refused
        // (9507) after 16.
        let (tx, rx) = actix::dev::channel::channel(self.config.conversation_mailbox);
        arbiter.spawn_fn(move || {
            let ctx = actix::Context::with_receiver(rx);
            actix::spawn(ctx.into_future(ConversationActor::new(key, shared)));
        });
        Addr::new(tx)
    }
}

/// A started download: its progress reports and its outcome.
pub type DownloadChannels = (mpsc::Receiver<(u64, u64)>, oneshot::Receiver<ConvResult<u64>>);

/// A send whose message ID is known and whose outcome is still to come.
#[derive(Debug)]
pub struct PendingSend {
    pub id: MsgId,
    rx: oneshot::Receiver<ConvResult<MessageView>>,
    deadline: std::time::Duration,
}

impl PendingSend {
    /// Waits until the message is durable (or the send failed or was cancelled), at most the
    /// engine's `call_deadline` (then 6012: the message may still be stored later; sending it
    /// again with the same ID returns it once it is).
    pub async fn outcome(self) -> ConvResult<MessageView> {
        let rx = self.rx;
        within(self.deadline, async move { rx.await.map_err(|_| lost_reply())? }).await
    }
}

/// Runs `work` for at most `deadline`.
async fn within<T>(deadline: std::time::Duration, work: impl Future<Output = ConvResult<T>>) -> ConvResult<T> {
    match tokio::time::timeout(deadline, work).await {
        Ok(r) => r,
        Err(_) => {
            metrics::counter!("timsg_call_timeouts_total").increment(1);
            Err(ConvError::TimedOut(deadline.as_millis() as u64))
        }
    }
}

fn lost_reply() -> ConvError {
    ConvError::Internal("the conversation restarted before answering; retry".into())
}

struct SystemThread {
    system: System,
    thread: JoinHandle<()>,
}

/// Cheap to clone handle on the running engine.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
    system: Arc<Mutex<Option<SystemThread>>>,
    sweeper: Arc<Mutex<Option<Sweeper>>>,
}

/// An engine handle that does not keep it alive: held by tasks the engine itself owns (those
/// of the cluster's runtime).
#[derive(Clone)]
pub(crate) struct WeakEngine {
    shared: std::sync::Weak<Shared>,
    system: std::sync::Weak<Mutex<Option<SystemThread>>>,
    sweeper: std::sync::Weak<Mutex<Option<Sweeper>>>,
}

impl WeakEngine {
    pub(crate) fn upgrade(&self) -> Option<Engine> {
        Some(Engine {
            shared: self.shared.upgrade()?,
            system: self.system.upgrade()?,
            sweeper: self.sweeper.upgrade()?,
        })
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("active", &self.shared.table.len()).finish()
    }
}

/// Renames the calling thread (what `/proc/<pid>/task/<tid>/comm` shows; 15 bytes at most).
pub fn name_this_thread(name: &std::ffi::CStr) {
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of the calling thread's new name.
    unsafe { libc::prctl(libc::PR_SET_NAME, name.as_ptr()) };
}

impl Engine {
    /// Opens the store and starts the actor system: one arbiter per core (or as configured).
    pub fn open(config: EngineConfig) -> Result<Engine, StoreError> {
        let store = Store::open(&config)?;
        let n = config.arbiter_count();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("timsg-system".into())
            .spawn(move || {
                let sys = System::new();
                // One arbiter per core for conversations, and one more for media transfers so
                // a download never shares a thread with conversation actors.
                let arbiters: Vec<Arbiter> = (0..=n).map(|_| Arbiter::new()).collect();
                // Named apart from other actix threads of the process (a service's workers):
                // per-thread CPU is how the cost of a message is split (`timsg load`).
                for (i, a) in arbiters.iter().enumerate() {
                    let name = if i == n { c"timsg-media" } else { c"timsg-arbiter" };
                    a.spawn_fn(move || name_this_thread(name));
                }
                let handles: Vec<ArbiterHandle> = arbiters.iter().map(Arbiter::handle).collect();
                let _ = tx.send((System::current(), handles));
                let _ = sys.run();
                for a in arbiters {
                    a.stop();
                    let _ = a.join();
                }
            })
            .map_err(|e| StoreError::Io(e.to_string()))?;
        let (system, mut arbiters) = rx.recv().map_err(|_| StoreError::Io("actor system failed to start".into()))?;
        let media_arbiter = arbiters.pop().expect("the media arbiter was started");
        let blobs = Arc::new(
            BlobStore::open(&store.dir().join("blobs"), &config.blob_url_base)
                .map_err(|e| StoreError::Io(format!("cannot open the blob store: {e}")))?
                .with_url_key(config.blob_url_key.as_deref()),
        );
        let cluster = match &config.cluster {
            Some(c) => Some(Arc::new(crate::cluster::ClusterNode::start(c).map_err(StoreError::Io)?)),
            None => None,
        };
        let slow_reads = SlowReads::start(config.slow_read_threads, config.slow_read_queue)
            .map_err(|e| StoreError::Io(format!("cannot start the read threads: {e}")))?;
        let shared = Arc::new(Shared {
            slow_reads,
            blobs: blobs.clone(),
            upload_permits: Arc::new(tokio::sync::Semaphore::new(config.upload_concurrency.max(1))),
            downloads: OnceLock::new(),
            events: EventBus::new(config.event_buffer),
            config,
            store,
            users: UserDirectory::default(),
            ids: MsgIdGenerator::default(),
            table: DashMap::default(),
            unloadable: LoadFailures::default(),
            arbiters,
            supervisor: OnceLock::new(),
            last_stamp: std::sync::atomic::AtomicU64::new(0),
            logout_points_due: DashMap::new(),
            cluster,
            account_hook: OnceLock::new(),
        });
        let weak = Arc::downgrade(&shared);
        shared.events.set_undelivered_hook(Box::new(move |user, messages| {
            let Some(shared) = weak.upgrade() else { return };
            keep_undelivered(&shared, user, messages);
        }));
        let weak = Arc::downgrade(&shared);
        let sup = SupervisorActor::start_in_arbiter(&shared.arbiters[0], move |_| SupervisorActor::new(weak));
        let _ = shared.supervisor.set(sup);
        let limits = DownloadLimits::from_config(&shared.config);
        let dm =
            DownloadManagerActor::start_in_arbiter(&media_arbiter, move |_| DownloadManagerActor::new(blobs, limits));
        let _ = shared.downloads.set(dm);
        let weak = Arc::downgrade(&shared);
        let sweeper = Sweeper::start(shared.config.blob_sweep_interval, move || {
            let Some(shared) = weak.upgrade() else { return false };
            match sweep_blobs(&shared, shared.config.blob_sweep_grace) {
                Ok(n) if n > 0 => tracing::info!(removed = n, "swept unreferenced media"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot sweep media"),
            }
            true
        })
        .map_err(|e| StoreError::Io(format!("cannot start the media sweeper: {e}")))?;
        let engine = Engine {
            shared,
            system: Arc::new(Mutex::new(Some(SystemThread { system, thread }))),
            sweeper: Arc::new(Mutex::new(Some(sweeper))),
        };
        engine.serve_whole_user_reads();
        engine.follow_account_changes();
        Ok(engine)
    }

    pub(crate) fn downgrade(&self) -> WeakEngine {
        WeakEngine {
            shared: Arc::downgrade(&self.shared),
            system: Arc::downgrade(&self.system),
            sweeper: Arc::downgrade(&self.sweeper),
        }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Cluster mode's connection (`None` on a single node).
    pub fn cluster(&self) -> Option<&Arc<crate::cluster::ClusterNode>> {
        self.shared.cluster.as_ref()
    }

    /// Sends every event to `relay` instead of this node's streams (cluster mode; once).
    pub fn set_event_relay(&self, relay: crate::events::Relay, format: crate::events::Format) {
        self.shared.events.set_relay(relay);
        self.shared.events.set_format(format);
    }

    pub fn config(&self) -> &EngineConfig {
        &self.shared.config
    }

    pub fn now_ms(&self) -> u64 {
        self.shared.config.clock.now_ms()
    }

    /// A strictly increasing event stamp (clock microseconds); see [`Shared::stamp`].
    pub fn stamp(&self) -> u64 {
        self.shared.stamp()
    }

    /// Whether the store takes writes now, and if not why: its last group commit failed, or a
    /// barrier through the writer did not come back within `within`.
    pub async fn store_health(&self, within: std::time::Duration) -> Result<(), String> {
        if let Some(why) = self.shared.store.failure() {
            return Err(why);
        }
        match tokio::time::timeout(within, self.shared.store.write(Vec::new())).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("the store writer did not answer within {} ms", within.as_millis())),
        }
    }

    pub fn next_message_id(&self) -> MsgId {
        self.shared.ids.next_id(self.now_ms())
    }

    /// Puts an op in the conversation's mailbox, waiting if it is full (counted), and routing
    /// again if the actor stopped in between (passivated or restarted).
    pub async fn dispatch(&self, key: &ConvKey, op: ConvOp) -> ConvResult<()> {
        self.dispatch_command(key, ConvCommand::new(&self.shared, key.clone(), op)).await
    }

    async fn dispatch_command(&self, key: &ConvKey, cmd: ConvCommand) -> ConvResult<()> {
        match self.shared.enqueue(key, cmd) {
            Enqueued::Sent => Ok(()),
            Enqueued::Full(addr, c) => {
                // Waits for room. If the actor stops first, the command reroutes itself
                // (see `ConvCommand`); the caller's reply tells the outcome either way.
                let _ = addr.send(c).await;
                Ok(())
            }
            Enqueued::Unreachable(c) => {
                c.abandon();
                Err(ConvError::Store("the conversation cannot be loaded".into()))
            }
            Enqueued::Unloadable(c, why) => {
                c.abandon();
                Err(ConvError::Store(why))
            }
        }
    }

    /// Asks the conversation for something and waits for the answer, at most `call_deadline`.
    pub async fn call<T>(&self, key: &ConvKey, make: impl FnOnce(Reply<T>) -> ConvOp) -> ConvResult<T> {
        let (tx, rx) = oneshot::channel();
        let op = make(tx);
        within(self.shared.config.call_deadline, async move {
            self.dispatch(key, op).await?;
            rx.await.map_err(|_| lost_reply())?
        })
        .await
    }

    /// Starts a send: checks the message, assigns its ID and enqueues it, all before returning,
    /// so a cancel issued after this call is ordered after the send.
    pub fn send_message(
        &self,
        sender: &UserId,
        key: ConvKey,
        content: Arc<MessageContent>,
        id: Option<MsgId>,
    ) -> ConvResult<PendingSend> {
        self.check_content(&content)?;
        if let Some((a, b)) = key.c2c_pair() {
            for u in [a, b] {
                if !is_valid_identifier(u) {
                    return Err(ConvError::InvalidIdentifier(u.to_string()));
                }
            }
        }
        let id = id.unwrap_or_else(|| self.next_message_id());
        let (tx, rx) = oneshot::channel();
        let rand = u64::from(fastrand::u32(..));
        let op = ConvOp::SendMessage { sender: sender.clone(), id: id.clone(), content, rand, reply: tx };
        let cmd = ConvCommand::new(&self.shared, key.clone(), op);
        match self.shared.enqueue(&key, cmd) {
            Enqueued::Sent => {}
            // The send must be in the mailbox when this returns (a cancel issued next is
            // ordered after it), and waiting here for room is not possible: refused instead,
            // as the SDK refuses past its limit of requests in flight.
            Enqueued::Full(_, c) => {
                c.abandon();
                return Err(ConvError::TooMany(format!(
                    "the conversation has {} operations waiting; retry",
                    self.shared.config.conversation_mailbox
                )));
            }
            // Dropped unrun, it reroutes itself once more (see `ConvCommand`); the outcome
            // tells whether that worked.
            Enqueued::Unreachable(c) => drop(c),
            Enqueued::Unloadable(c, why) => {
                c.abandon();
                return Err(ConvError::Store(why));
            }
        }
        Ok(PendingSend { id, rx, deadline: self.shared.config.call_deadline })
    }

    /// The checks every sent message passes before it reaches a conversation.
    pub fn check_content(&self, content: &MessageContent) -> ConvResult<()> {
        if content.elements.is_empty() {
            return Err(ConvError::InvalidParam("message_elem_array is empty".into()));
        }
        if let Some(e) = content.elements.iter().find(|e| !e.is_client_sendable()) {
            return Err(ConvError::ElementNotSendable(e.type_number()));
        }
        for e in &content.elements {
            if let ElementBody::Merge(m) = &e.body
                && (m.message_count > MAX_MERGED_MESSAGES || m.depth > MAX_MERGE_DEPTH || m.layer_over_limit)
            {
                return Err(ConvError::MergeOverLimit);
            }
        }
        let size = content.content_bytes();
        let limit = self.shared.config.max_body_bytes;
        if size > limit {
            return Err(ConvError::BodyTooLarge { size, limit });
        }
        Ok(())
    }

    /// Sends one message to many C2C receivers through a [`BatchSendActor`].
    pub async fn batch_send(
        &self,
        sender: &UserId,
        receivers: Vec<String>,
        content: Arc<MessageContent>,
    ) -> ConvResult<Vec<BatchRecipientResult>> {
        if receivers.is_empty() || receivers.len() > self.shared.config.batch_send_max {
            return Err(ConvError::InvalidParam(format!(
                "batch send takes 1 to {} receivers, got {}",
                self.shared.config.batch_send_max,
                receivers.len()
            )));
        }
        self.check_content(&content)?;
        let engine = self.clone();
        let arbiter = &self.shared.arbiters[fastrand::usize(..self.shared.arbiters.len())];
        let actor = BatchSendActor::start_in_arbiter(arbiter, move |_| BatchSendActor::new(engine));
        let (tx, rx) = oneshot::channel();
        actor
            .send(RunBatchSend { sender: sender.clone(), receivers, content, reply: tx })
            .await
            .map_err(|_| lost_reply())?;
        rx.await.map_err(|_| lost_reply())
    }

    /// Whether `user` has an event stream open (is logged in somewhere).
    pub fn is_online(&self, user: &str) -> bool {
        self.shared.events.is_online(user)
    }

    /// Opens `user`'s event stream (replacing an earlier one).
    pub fn subscribe(&self, user: &UserId) -> (u64, EventStream) {
        self.shared.events.subscribe(user)
    }

    /// Whether `generation` is still `user`'s login (not replaced by a newer one).
    pub fn is_current_login(&self, user: &str, generation: u64) -> bool {
        self.shared.events.is_current(user, generation)
    }

    pub fn unsubscribe(&self, user: &str, generation: u64) {
        self.shared.events.unsubscribe(user, generation)
    }

    /// Where the commit order stands: the newest committed message's mark (0 if none, or if
    /// the store cannot be read — then a login's missed messages are taken as none).
    pub fn newest_message_mark(&self) -> ConvResult<i64> {
        self.shared.store.newest_message_mark().map_err(|e| {
            metrics::counter!("timsg_store_errors_total").increment(1);
            store_err(e)
        })
    }

    /// Imports `user`'s account (the REST API's `account_import`), durably.
    pub async fn import_account(&self, user: &UserId, nick: String, face_url: String) -> ConvResult<()> {
        self.change_account(WriteOp::ImportAccount { user: user.clone(), nick, face_url }).await
    }

    /// Revokes `user`'s UserSigs made before `before` (s); with `delete`, un-imports it too.
    pub async fn revoke_sigs(&self, user: &UserId, before: u64, delete: bool) -> ConvResult<()> {
        self.change_account(WriteOp::RevokeSigs { user: user.clone(), before, delete }).await
    }

    /// Writes an account change; in cluster mode it is stored for every node first (see
    /// [`crate::cluster::accounts`]).
    async fn change_account(&self, op: WriteOp) -> ConvResult<()> {
        let user = match &op {
            WriteOp::ImportAccount { user, .. } | WriteOp::RevokeSigs { user, .. } => user.clone(),
            _ => return Err(ConvError::Internal("not an account change".into())),
        };
        self.change_user(&user, vec![op]).await
    }

    /// Writes changes of `user`'s own state (its account, its receive options); in cluster
    /// mode they are stored for every node first, in one record (see
    /// [`crate::cluster::accounts`]).
    async fn change_user(&self, user: &UserId, ops: Vec<WriteOp>) -> ConvResult<()> {
        if let Some(node) = self.cluster() {
            let body = serde_json::to_vec(&ops).map_err(|e| ConvError::Internal(e.to_string()))?;
            let (log, user) = (node.cluster.accounts.clone(), user.to_string());
            node.spawn(async move { log.publish(&user, body.into()).await })
                .await
                .map_err(|e| ConvError::Internal(e.to_string()))?
                .map_err(ConvError::Store)?;
        }
        self.shared.store.write(ops).await.map_err(store_err)
    }

    /// Calls `hook` with each account change another node made (cluster mode; once), after
    /// this node's store has it: the service ends a kicked user's sessions here too.
    pub fn on_account_change(&self, hook: AccountHook) {
        let _ = self.shared.account_hook.set(hook);
    }

    /// Applies every node's account changes to this node's store (cluster mode), for as long
    /// as the engine lives.
    fn follow_account_changes(&self) {
        let Some(node) = self.cluster().cloned() else { return };
        let engine = self.downgrade();
        node.spawn(node.cluster.accounts.clone().follow(move |body| {
            let engine = engine.clone();
            async move {
                let Some(engine) = engine.upgrade() else { return };
                let read = || serde_json::from_slice::<Vec<WriteOp>>(&body);
                let Ok(told) = read() else {
                    tracing::error!("an unreadable account change was skipped");
                    return;
                };
                // Applied before the next change (they are applied in order), however long
                // the store takes to take it again (a full disk).
                while let Err(e) = engine.shared.store.write(read().unwrap_or_default()).await {
                    tracing::error!(error = %e, "cannot apply an account change; trying again");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
                for op in &told {
                    if let WriteOp::SetC2cReceiveOpt { owner, peer, opt } = op
                        && let Some(opt) = ReceiveOpt::from_number(*opt)
                    {
                        let cached = engine.shared.users.set_c2c_opts(
                            &engine.shared.store,
                            owner,
                            std::slice::from_ref(peer),
                            opt,
                        );
                        if let Err(e) = cached {
                            tracing::error!(error = %e, "cannot apply a receive option");
                        }
                    }
                    if let Some(hook) = engine.shared.account_hook.get() {
                        hook(op);
                    }
                }
            }
        }));
    }

    /// `user`'s account, if it was ever imported, kicked or deleted.
    pub fn account(&self, user: &str) -> ConvResult<Option<crate::store::Account>> {
        self.shared.store.account(user).map_err(store_err)
    }

    /// Every user whose UserSigs made before some time (s) log in no more.
    pub fn sig_floors(&self) -> ConvResult<Vec<(String, u64)>> {
        self.shared.store.sig_floors().map_err(store_err)
    }

    /// Remembers where the commit order stood when `user` logged out, so the next login can
    /// deliver what came after. Does not wait for the write. When SQLite lags behind the
    /// journal too far to say where it stands now (a busy disk), the point is taken on a
    /// thread of its own once it can be, within `LOGOUT_MARK_PATIENCE`: what is published to
    /// the user meanwhile is kept for its next login anyway (see `events`), so a later point
    /// loses nothing — and not recording one made the next login deliver everything since the
    /// previous logout again.
    pub fn record_logout(&self, user: &UserId) {
        let stamp = self.shared.stamp();
        let store = &self.shared.store;
        match store.newest_message_mark() {
            Ok(mark) => submit_logout_point(store, user, mark, stamp),
            Err(e) => {
                tracing::warn!(user = %user, error = %e, "the logout point is taken once the store catches up");
                self.shared.logout_points_due.insert(user.clone(), ());
                let (shared, due) = (self.shared.clone(), user.clone());
                let spawned = std::thread::Builder::new().name("timsg-logout-point".into()).spawn(move || {
                    let deadline = std::time::Instant::now() + LOGOUT_MARK_PATIENCE;
                    let store = &shared.store;
                    let mut taken = false;
                    while !taken && std::time::Instant::now() < deadline {
                        match store.newest_message_mark() {
                            Ok(mark) => {
                                submit_logout_point(store, &due, mark, stamp);
                                taken = true;
                            }
                            Err(_) => std::thread::sleep(std::time::Duration::from_millis(200)),
                        }
                    }
                    if !taken {
                        tracing::error!(user = %due, "no logout point: the store did not catch up");
                    }
                    shared.logout_points_due.remove(&due);
                });
                if let Err(e) = spawned {
                    self.shared.logout_points_due.remove(user);
                    tracing::error!(error = %e, "no logout point: cannot start its thread");
                }
            }
        }
    }

    /// A login of `user` that began at `started` (an event stamp) ended before it handed out
    /// any event: the logout point stays where the logout before it left it, so the next
    /// login catches up on all of it. A user with no point yet gets one that delivers every
    /// unread message and what was revoked or read since `started` (as that login would have).
    pub fn record_abandoned_login(&self, user: &UserId, started: u64) {
        let op = WriteOp::StartOfflineMark { user: user.clone(), stamp: started };
        if let Err(e) =
            self.shared.store.submit(crate::store::WriteRequest::new(vec![op], crate::store::Completion::None))
        {
            tracing::warn!(user = %user, error = %e, "no logout point for a login that handed nothing out");
        }
    }

    /// What `user` missed while logged out: its unread new messages (one event per
    /// conversation, in seq order), the messages and notices that reached no stream of it
    /// (published just after its logout, dropped on a full stream, GroupReports), then the
    /// revokes and read receipts of that time. A user that never logged out gets its unread
    /// messages and pending deliveries only. Messages are those committed up to `login_mark`
    /// (see [`Engine::newest_message_mark`]); a pending delivery goes once a stream has
    /// handed it out ([`Engine::deliveries_acknowledged`]).
    pub async fn missed_while_offline(&self, user: &UserId, login_mark: i64) -> ConvResult<Vec<crate::events::Event>> {
        // A logout point still being taken is waited for (within the time it may take).
        let due_since = std::time::Instant::now();
        while self.shared.logout_points_due.contains_key(user) {
            if due_since.elapsed() > LOGOUT_MARK_PATIENCE {
                return Err(ConvError::TimedOut(LOGOUT_MARK_PATIENCE.as_millis() as u64));
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        // The barrier: whatever was kept for this user before it subscribed, and its logout
        // point (both submitted without waiting), are journaled; the reads below wait for
        // SQLite to hold them.
        self.shared.store.write(Vec::new()).await.map_err(store_err)?;
        let point = self.shared.store.logout_point(user).map_err(store_err)?;
        let mark = point.map_or(0, |(m, _)| m);
        let mut pending: Vec<(ConvRef, Vec<MessageView>)> = Vec::new();
        for (conv_type, conv_id, message) in self.shared.store.pending_deliveries(user).map_err(store_err)? {
            let Some(conv_type) = ConvType::from_number(conv_type) else { continue };
            let conv = ConvRef { conv_type, id: conv_id.into() };
            let view = MessageView {
                conv: conv.clone(),
                is_self: *message.sender == **user,
                message,
                is_read: false,
                is_peer_read: false,
                custom: Default::default(),
            };
            match pending.iter_mut().find(|(c, _)| *c == conv) {
                Some((_, views)) => views.push(view),
                None => pending.push((conv, vec![view])),
            }
        }
        let (store, u) = (self.shared.store.clone(), user.clone());
        let candidates = self
            .shared
            .slow_reads
            .run(move || store.messages_between(&u, mark, login_mark))
            .await?
            .map_err(store_err)?;
        let mut out = Vec::new();
        for (key, (shared, _)) in candidates {
            let u = user.clone();
            let mut views =
                self.call(&key, |reply| ConvOp::FilterVisible { user: u, shared, local: Vec::new(), reply }).await?;
            views.retain(|v| !v.is_read && !v.is_self);
            let conv = key.as_seen_by(user);
            if let Some(at) = pending.iter().position(|(c, _)| *c == conv) {
                let (_, kept) = pending.remove(at);
                for v in kept {
                    if !views.iter().any(|seen| seen.message.id == v.message.id) {
                        views.push(v);
                    }
                }
            }
            views.sort_by_key(|v| v.message.seq);
            if !views.is_empty() {
                out.push(crate::events::Event::NewMessages { messages: views, notify: true });
            }
        }
        for (_, mut views) in pending {
            views.sort_by_key(|v| v.message.seq);
            out.push(crate::events::Event::NewMessages { messages: views, notify: true });
        }
        if let Some((_, since)) = point {
            for key in self.conversations_of(user)? {
                let u = user.clone();
                out.extend(self.call(&key, |reply| ConvOp::GetMissedEvents { user: u, since, reply }).await?);
            }
        }
        Ok(out)
    }

    /// `user`'s pending deliveries with these IDs reached a stream: they are not kept any more.
    pub fn deliveries_acknowledged(&self, user: &UserId, ids: Vec<crate::ids::MsgId>) {
        let op = WriteOp::DropPendingDeliveries { user: user.clone(), ids };
        if let Err(e) =
            self.shared.store.submit(crate::store::WriteRequest::new(vec![op], crate::store::Completion::None))
        {
            tracing::warn!(user = %user, error = %e, "delivered notices may be delivered again");
        }
    }

    /// Every conversation `user` has state in.
    pub fn conversations_of(&self, user: &str) -> ConvResult<Vec<ConvKey>> {
        self.shared.store.conversations_of(user).map_err(store_err)
    }

    /// Sets `owner`'s C2C receive option for `peers`; durable before it returns.
    pub async fn set_c2c_receive_opt(&self, owner: &UserId, peers: &[String], opt: ReceiveOpt) -> ConvResult<()> {
        let ops = peers
            .iter()
            .map(|p| WriteOp::SetC2cReceiveOpt { owner: owner.clone(), peer: p.clone(), opt: opt.number() })
            .collect();
        // In cluster mode every node learns it: the conversation's owner, wherever it is,
        // delivers by it.
        self.change_user(owner, ops).await?;
        self.shared.users.set_c2c_opts(&self.shared.store, owner, peers, opt).map_err(store_err)
    }

    pub fn c2c_receive_opt(&self, owner: &str, peer: &str) -> ReceiveOpt {
        self.shared.users.c2c_opt(&self.shared.store, owner, peer)
    }

    /// Admits a call of a rate-limited API (`max_calls` per `window_ms` per user).
    pub fn admit_call(&self, user: &UserId, api: &'static str, window_ms: u64, max_calls: u32) -> bool {
        self.shared.users.admit_call(user, api, self.now_ms(), window_ms, max_calls)
    }

    pub async fn supervisor_stats(&self) -> SupervisorStats {
        match self.shared.supervisor.get() {
            Some(s) => s.send(GetSupervisorStats).await.unwrap_or_default(),
            None => SupervisorStats::default(),
        }
    }

    /// Passivates the conversation's actor now if it is running and idle; whether it did.
    pub async fn passivate(&self, key: &ConvKey) -> ConvResult<bool> {
        let Some(addr) = self.shared.table.get(key).map(|a| a.clone()) else { return Ok(false) };
        let (tx, rx) = oneshot::channel();
        let cmd = ConvCommand::new(&self.shared, key.clone(), ConvOp::Passivate { reply: tx });
        if let Err(e) = addr.try_send(cmd) {
            e.into_inner().abandon();
            return Ok(false); // stopping already, or too busy to be idle
        }
        // Unanswered: the actor stopped before it got there, which is what was asked.
        rx.await.unwrap_or(Ok(true))
    }

    /// Conversations with a live actor.
    pub fn active_conversations(&self) -> usize {
        self.shared.table.len()
    }

    /// Whether the conversation type can be addressed by the message APIs.
    pub fn is_addressable(conv_type: ConvType) -> bool {
        matches!(conv_type, ConvType::C2c | ConvType::Group)
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.shared.blobs
    }

    /// Where a download reads from: a URL (ours or http/https), else an element's blob ID.
    pub fn download_source(&self, url: &str, id: &str) -> ConvResult<DownloadSource> {
        if !url.is_empty() {
            if let Some(hash) = self.shared.blobs.hash_of_url(url) {
                return Ok(DownloadSource::Blob(hash.to_string()));
            }
            let lower = url.to_ascii_lowercase();
            if lower.starts_with("http://") || lower.starts_with("https://") {
                return Ok(DownloadSource::Http(url.to_string()));
            }
            return Err(ConvError::InvalidParam(format!("unsupported url {url:?}: http, https or a stored media url")));
        }
        if self.shared.blobs.exists(id) {
            return Ok(DownloadSource::Blob(id.to_string()));
        }
        Err(ConvError::InvalidParam("the download names neither a url nor a stored media id".into()))
    }

    /// Starts a download for `user`; progress `(current, total)` arrives on the returned stream
    /// (at most ~20 per second), the size when it is done. `guarded`: see [`StartDownload`].
    pub fn download(
        &self,
        user: &UserId,
        source: DownloadSource,
        dest: PathBuf,
        guarded: bool,
    ) -> ConvResult<DownloadChannels> {
        let dm = self.shared.downloads.get().ok_or(ConvError::ShuttingDown)?;
        let (ptx, prx) = mpsc::channel(64);
        let (tx, rx) = oneshot::channel();
        dm.try_send(StartDownload { user: user.clone(), source, dest, guarded, progress: ptx, reply: tx }).map_err(
            |e| match e {
                SendError::Full(_) => ConvError::Busy,
                SendError::Closed(_) => ConvError::ShuttingDown,
            },
        )?;
        Ok((prx, rx))
    }

    /// Stops `user`'s downloads (on logout).
    pub fn cancel_downloads(&self, user: &UserId) {
        if let Some(dm) = self.shared.downloads.get() {
            dm.do_send(CancelDownloadsOf { user: user.clone() });
        }
    }

    pub async fn download_stats(&self) -> DownloadStats {
        match self.shared.downloads.get() {
            Some(dm) => dm.send(GetDownloadStats).await.unwrap_or_default(),
            None => DownloadStats::default(),
        }
    }

    /// The merged messages a relay key names (a JSON array text, as sent).
    pub fn read_merged(&self, relay_key: &str) -> ConvResult<String> {
        let (hash, depth) = self
            .shared
            .blobs
            .parse_relay_key(relay_key)
            .ok_or_else(|| ConvError::DownloadFailed(format!("not a merged-message key: {relay_key:?}")))?;
        if depth > MAX_MERGE_DEPTH {
            return Err(ConvError::MergeOverLimit);
        }
        let bytes =
            self.shared.blobs.read(hash).map_err(|e| ConvError::DownloadFailed(format!("merged messages: {e}")))?;
        String::from_utf8(bytes).map_err(|_| ConvError::DownloadFailed("merged messages are not text".into()))
    }

    /// Removes stored media that no committed message refers to and that is older than `grace`.
    pub fn sweep_blobs(&self, grace: std::time::Duration) -> ConvResult<usize> {
        sweep_blobs(&self.shared, grace).map_err(store_err)
    }

    /// Stops every actor, lets the store writer commit what it holds, and waits for both.
    pub fn shutdown(&self) {
        if let Some(mut sweeper) = self.sweeper.lock().take() {
            sweeper.stop();
        }
        self.shared.table.clear();
        if let Some(st) = self.system.lock().take() {
            st.system.stop();
            let _ = st.thread.join();
        }
        self.shared.slow_reads.stop();
        self.shared.store.close();
    }
}

/// How long after a logout its point may still be taken: less than the event bus keeps
/// messages published to a departed user for its next login (60 s).
const LOGOUT_MARK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(50);

/// Writes `user`'s logout point (not waiting for the write).
fn submit_logout_point(store: &Store, user: &UserId, mark: i64, stamp: u64) {
    let op = WriteOp::SetOfflineMark { user: user.clone(), mark, stamp };
    let _ = store.submit(crate::store::WriteRequest::new(vec![op], crate::store::Completion::None));
}

/// Keeps new messages that reached no stream of `user` for its next login (GroupReports keep
/// themselves before they are published).
fn keep_undelivered(shared: &Shared, user: &str, messages: &[MessageView]) {
    let ops: Vec<WriteOp> = messages
        .iter()
        .filter(|m| m.conv.conv_type != ConvType::System)
        .map(|m| WriteOp::AddPendingDelivery {
            user: user.into(),
            stamp: shared.stamp(),
            conv_type: m.conv.conv_type.number(),
            conv_id: m.conv.id.to_string(),
            message: m.message.clone(),
        })
        .collect();
    if ops.is_empty() {
        return;
    }
    metrics::counter!("timsg_events_kept_for_login_total").increment(ops.len() as u64);
    if let Err(e) = shared.store.submit(crate::store::WriteRequest::new(ops, crate::store::Completion::None)) {
        tracing::warn!(user, error = %e, "undelivered messages are not kept for the next login");
    }
}

fn sweep_blobs(shared: &Shared, grace: std::time::Duration) -> Result<usize, StoreError> {
    let referenced = shared.store.referenced_blobs()?;
    let mut removed = 0;
    for (hash, age) in shared.blobs.list().map_err(|e| StoreError::Io(e.to_string()))? {
        if age >= grace && !referenced.contains(&hash) && shared.blobs.remove(&hash).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

pub(crate) fn store_err(e: StoreError) -> ConvError {
    ConvError::Store(e.to_string())
}
