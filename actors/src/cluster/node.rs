//! One engine's cluster machinery: the connection to the cluster on a runtime of its own
//! (`timsg-nats`: the actors' arbiters never block on NATS, and what it spawns is awaited
//! from any of them), and the three things a conversation actor asks of it — claiming the
//! conversation (its lease, and the log records its store lacks), appending its writes in
//! order, and keeping or giving back its lease.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use tokio::sync::mpsc;

use super::{AppendError, Bytes, Cluster, ClusterConfig, Lease, LeaseError};
use crate::store::{Store, WriteOp};

/// How a failed claim names the node that owns the conversation: the service reads the
/// owner from it to forward the call there.
pub const OWNED_BY: &str = "owned by node ";

/// How long an event is tried before it counts as failed (within the duplicate window).
const EVENT_PATIENCE: Duration = Duration::from_secs(15);

/// Unique event IDs of one node's run: its name, a random run number and a count.
struct EventIds {
    prefix: String,
    count: std::sync::atomic::AtomicU64,
}

impl EventIds {
    fn next(&self) -> String {
        let n = self.count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{}:{n}", self.prefix)
    }
}

/// Stores one event, tried again while the streams elect a leader (a server lost) with the
/// same ID, so an event whose first try went in is stored once. A failure is counted and
/// logged: the message itself is in the log, and its receiver reads it in its history.
async fn store_event(cluster: &Cluster, user: &str, name: &str, id: &str, body: Bytes) -> Result<u64, String> {
    let began = std::time::Instant::now();
    loop {
        match cluster.events.publish(user, name, id, body.clone()).await {
            Err(_) if began.elapsed() < EVENT_PATIENCE => tokio::time::sleep(Duration::from_millis(250)).await,
            Err(e) => {
                metrics::counter!("timsg_cluster_event_failures_total").increment(1);
                tracing::warn!(user, error = %e, "an event did not reach the events stream");
                return Err(e);
            }
            Ok(seq) => return Ok(seq),
        }
    }
}

/// How long an append is tried again while the log does not take it (within the duplicate
/// window, so a try that went in is recognised).
const APPEND_PATIENCE: Duration = Duration::from_secs(10);

/// How soon a JetStream request that got no answer (a stream electing a leader) is made again.
const UNANSWERED_RETRY: Duration = Duration::from_millis(250);

/// The least time a claim (lease and catch-up) may take before it fails.
const CLAIM_DEADLINE_FLOOR: Duration = Duration::from_secs(10);

/// The longest a new appender waits for the one before it: longer than that one's work can
/// take (its queue is a flush or two, each within these patiences).
const PREDECESSOR_PATIENCE: Duration = Duration::from_secs(2 * (EVENT_PATIENCE.as_secs() + APPEND_PATIENCE.as_secs()));

/// An appender's task as its successor sees it: its number, and a receiver that ends when
/// the task does.
struct AppenderTask {
    number: u64,
    finished: tokio::sync::oneshot::Receiver<()>,
}

/// What a conversation actor gets when it claims its conversation.
pub struct Claim {
    pub lease: Lease,
    /// The log's last sequence for the conversation: where the next append expects.
    pub tail: u64,
}

/// An append's outcome, as the appender hands it back: the ops, the write token they carry
/// (if any) and the sequence the log gave them.
pub type Appended = (Vec<WriteOp>, Option<u64>, Result<u64, AppendError>);

/// One user's event as the events stream takes it: the user, the listener's name, its JSON.
pub type UserEventText = (String, &'static str, String);

/// What a conversation's appender does, in the order asked.
enum Work {
    Append(Vec<WriteOp>, Option<u64>),
    /// Events of one flush (one per user), stored before any later flush's: a receiver sees a
    /// conversation's messages in order even when a publish is retried.
    Events(Vec<UserEventText>, tokio::sync::oneshot::Sender<()>),
}

/// Appends a conversation's writes to the log one after another (each expects the one before
/// it), and publishes its events in order; dropping it ends its task once its queue is done.
pub struct Appender {
    tx: mpsc::UnboundedSender<Work>,
}

impl Appender {
    /// Queues `ops` (write `token`); the outcome goes to the appender's `reply`.
    pub fn append(&self, ops: Vec<WriteOp>, token: Option<u64>) -> Result<(), (Vec<WriteOp>, Option<u64>)> {
        self.tx.send(Work::Append(ops, token)).map_err(|e| match e.0 {
            Work::Append(ops, token) => (ops, token),
            Work::Events(..) => unreachable!("an append was sent"),
        })
    }

    /// Queues the events of one flush, behind everything queued before; the receiver hears
    /// when they are stored (or given up on: then each failure is counted and logged).
    pub fn publish_events(&self, events: Vec<UserEventText>) -> tokio::sync::oneshot::Receiver<()> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let _ = self.tx.send(Work::Events(events, tx));
        rx
    }
}

pub struct ClusterNode {
    rt: Option<tokio::runtime::Runtime>,
    /// Per conversation, the newest appender's task on this node: a new one waits for the one
    /// before it to finish (see [`ClusterNode::appender`]).
    appenders: Arc<DashMap<Arc<str>, AppenderTask>>,
    next_appender: std::sync::atomic::AtomicU64,
    /// Names this node's events for the stream's duplicate check.
    event_ids: Arc<EventIds>,
    pub cluster: Arc<Cluster>,
    pub node: String,
    pub lease_ttl: Duration,
}

impl ClusterNode {
    /// Connects to the cluster (see [`Cluster::connect`]).
    pub fn start(config: &ClusterConfig) -> Result<ClusterNode, String> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("timsg-nats")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the cluster runtime: {e}"))?;
        // Waited for on a thread of its own: the caller may be inside another runtime, where
        // blocking on this one is not allowed.
        let connected = std::thread::scope(|scope| scope.spawn(|| rt.block_on(Cluster::connect(config))).join())
            .map_err(|_| "the cluster connection panicked".to_string())
            .and_then(|c| c);
        let cluster = match connected {
            Ok(c) => c,
            Err(e) => {
                // Not dropped here: the caller may be inside another runtime.
                rt.shutdown_background();
                return Err(e);
            }
        };
        Ok(ClusterNode {
            rt: Some(rt),
            event_ids: Arc::new(EventIds {
                prefix: format!("{}:{:016x}", config.node, fastrand::u64(..)),
                count: Default::default(),
            }),
            appenders: Arc::default(),
            next_appender: Default::default(),
            cluster: Arc::new(cluster),
            node: config.node.clone(),
            lease_ttl: config.lease_ttl,
        })
    }

    /// Runs `f` on the cluster's runtime (where NATS I/O belongs).
    pub fn spawn<F>(&self, f: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.rt.as_ref().expect("running until dropped").spawn(f)
    }

    /// Takes `conv` (a storage key) for this node and brings `store` up to the log: the
    /// records after `position` (what the store holds) are written to it, each with its
    /// position. `Err` says why not (another node owns it; the cluster is unreachable).
    pub async fn claim(&self, conv: Arc<str>, position: u64, store: Arc<Store>) -> Result<Claim, String> {
        let cluster = self.cluster.clone();
        let deadline = self.lease_ttl.max(CLAIM_DEADLINE_FLOOR);
        let claiming = async move {
            // A bucket that does not answer (its stream electing a leader after a server
            // was lost) is asked again until the claim's deadline.
            let lease = loop {
                match cluster.leases.acquire(&conv).await {
                    Ok(lease) => break lease,
                    Err(LeaseError::Held { by }) => return Err(format!("the conversation is {OWNED_BY}{by}")),
                    Err(e) => {
                        tracing::debug!(conv = %conv, error = %e, "the lease bucket did not answer; asking again");
                        tokio::time::sleep(UNANSWERED_RETRY).await;
                    }
                }
            };
            let records = cluster.log.read_after(&conv, position).await?;
            let mut tail = position;
            for (seq, record) in records {
                let mut ops: Vec<WriteOp> = serde_json::from_slice(&record)
                    .map_err(|e| format!("record {seq} of {conv} is unreadable: {e}"))?;
                ops.push(WriteOp::SetLogPosition { conv: conv.clone(), seq });
                store.write(ops).await.map_err(|e| e.to_string())?;
                tail = seq;
            }
            Ok(Claim { lease, tail })
        };
        // A cluster that does not answer (a server lost, streams electing leaders) fails the
        // claim in time; the actor's callers hear why, and a later call claims again.
        let task = self.spawn(async move {
            tokio::time::timeout(deadline, claiming)
                .await
                .unwrap_or_else(|_| Err(format!("claiming the conversation took over {deadline:?}")))
        });
        task.await.map_err(|e| e.to_string())?
    }

    /// The appender of `conv`, whose log ends at `tail`; each outcome goes to `reply`.
    ///
    /// It starts once the conversation's previous appender on this node (its actor restarted:
    /// a lost lease, a failed write) has done what was queued to it: an event that one was
    /// still trying to store (a stream electing a leader) lands before this one's events, so a
    /// receiver never sees the conversation's messages out of order across the restart.
    pub fn appender(&self, conv: Arc<str>, mut tail: u64, reply: impl Fn(Appended) + Send + 'static) -> Appender {
        let (tx, mut rx) = mpsc::unbounded_channel::<Work>();
        let (cluster, node) = (self.cluster.clone(), self.node.clone());
        let events_id = self.event_ids.clone();
        let number = self.next_appender.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (running, finished) = tokio::sync::oneshot::channel::<()>();
        let predecessor = self.appenders.insert(conv.clone(), AppenderTask { number, finished });
        let appenders = self.appenders.clone();
        self.spawn(async move {
            if let Some(before) = predecessor
                && tokio::time::timeout(PREDECESSOR_PATIENCE, before.finished).await.is_err()
            {
                tracing::warn!(conv = %conv, "the conversation's previous appender is still busy; going on");
            }
            let base = fastrand::u64(..);
            let mut n = 0u64;
            // Once an append fails, every later one is refused: appended after a record that
            // is not in the log, it would leave a hole in the conversation (its seqs skipping
            // the failed write's). The actor restarts, and a new appender goes on from the log.
            let mut broken: Option<String> = None;
            while let Some(work) = rx.recv().await {
                let (ops, token) = match work {
                    Work::Append(ops, token) => (ops, token),
                    Work::Events(events, done) => {
                        let stores = events.into_iter().map(|(user, name, body)| {
                            let id = events_id.next();
                            let cluster = cluster.clone();
                            async move { store_event(&cluster, &user, name, &id, Bytes::from(body)).await }
                        });
                        futures_util::future::join_all(stores).await;
                        let _ = done.send(());
                        continue;
                    }
                };
                if let Some(why) = &broken {
                    reply((ops, token, Err(AppendError::Failed(format!("an earlier append failed: {why}")))));
                    continue;
                }
                n += 1;
                let result = match serde_json::to_vec(&ops) {
                    Ok(record) => {
                        // Unique stream-wide and the same for each try: a retry of an append
                        // that went in is recognised.
                        let id = format!("{node}:{base:016x}:{n}");
                        let record = Bytes::from(record);
                        // Tried again while the stream elects a leader (a server lost), for
                        // a while: failing at once would fail every send of the moment.
                        let began = tokio::time::Instant::now();
                        loop {
                            match cluster.log.append(&conv, tail, &id, record.clone()).await {
                                Err(AppendError::Failed(_)) if began.elapsed() < APPEND_PATIENCE => {
                                    tokio::time::sleep(UNANSWERED_RETRY).await;
                                }
                                other => break other,
                            }
                        }
                    }
                    Err(e) => Err(AppendError::Failed(e.to_string())),
                };
                match &result {
                    Ok(seq) => tail = *seq,
                    Err(e) => broken = Some(e.to_string()),
                }
                reply((ops, token, result));
            }
            appenders.remove_if(&conv, |_, task| task.number == number);
            drop(running);
        });
        Appender { tx }
    }

    /// Renews `lease`, answering it with its new revision.
    pub async fn renew(&self, mut lease: Lease) -> Result<Lease, LeaseError> {
        let cluster = self.cluster.clone();
        let task = self.spawn(async move { cluster.leases.renew(&mut lease).await.map(|()| lease) });
        task.await.map_err(|e| LeaseError::Failed(e.to_string()))?
    }

    /// Stores `body` as `user`'s event `name` (see [`super::UserEvents`]); the receiver
    /// hears when the stream has it, or why not. (A conversation's new messages go through its
    /// appender instead, in order.)
    pub fn publish_event(
        &self,
        user: &str,
        name: &'static str,
        body: String,
    ) -> tokio::sync::oneshot::Receiver<Result<u64, String>> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (cluster, user, id) = (self.cluster.clone(), user.to_string(), self.event_ids.next());
        self.spawn(async move {
            let _ = tx.send(store_event(&cluster, &user, name, &id, Bytes::from(body)).await);
        });
        rx
    }

    /// Gives `lease` back, not waiting.
    pub fn release(&self, lease: Lease) {
        let cluster = self.cluster.clone();
        self.spawn(async move {
            let _ = cluster.leases.release(lease).await;
        });
    }
}

impl Drop for ClusterNode {
    fn drop(&mut self) {
        // Dropped from whatever thread lets the engine go, perhaps inside another runtime.
        if let Some(rt) = self.rt.take() {
            // Off the list at once, so whole-user reads stop asking this node (else they fail
            // until its key expires). Waited for briefly on a thread of its own.
            let members = &self.cluster.members;
            let leave = async { tokio::time::timeout(Duration::from_secs(2), members.leave()).await };
            let _ = std::thread::scope(|scope| scope.spawn(|| rt.block_on(leave)).join());
            rt.shutdown_background();
        }
    }
}
