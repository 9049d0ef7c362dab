//! `DownloadManagerActor`: every download in flight.
//!
//! Network downloads take one of `download_concurrency` slots, at most `download_per_user` of
//! them per user; the rest wait in a queue bounded in all and per user (a download asked
//! beyond it is refused with 9507, never queued without end). Copies of stored blobs are local
//! disk work and start at once, so a slow remote server can hold up no one's local media.
//! Every transfer has a deadline and a byte cap. Identical requests (same source, destination
//! and guard) share one transfer whose progress is fanned out to everyone waiting on it; a
//! transfer whose every requester has gone — logged out, or stopped waiting (an HTTP client
//! that hung up) — is cancelled.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix::prelude::*;
use tokio::sync::{mpsc, oneshot};

use crate::config::{DOWNLOADS_QUEUED_PER_USER, EngineConfig};
use crate::error::{ConvError, ConvResult};
use crate::ids::UserId;
use crate::media::blob::BlobStore;
use crate::media::download::{DownloadSource, download, part_path};
use crate::media::fetch_guard;

/// Progress of a download: `(current, total)` bytes.
pub type ProgressSender = mpsc::Sender<(u64, u64)>;

/// How often transfers are checked for requesters that stopped waiting.
const ABANDONED_CHECK: Duration = Duration::from_secs(1);

/// Downloads `source` to `dest` for `user`. `guarded` downloads (asked by a caller that is not
/// the device) dial only public addresses and follow no redirects ([`fetch_guard`]).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct StartDownload {
    pub user: UserId,
    pub source: DownloadSource,
    pub dest: PathBuf,
    pub guarded: bool,
    pub progress: ProgressSender,
    pub reply: oneshot::Sender<ConvResult<u64>>,
}

/// Stops every download of `user` (logout): each ends with 114003.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct CancelDownloadsOf {
    pub user: UserId,
}

#[derive(Debug, Message)]
#[rtype(result = "()")]
struct TransferProgressed {
    key: TransferKey,
    current: u64,
    total: u64,
}

/// Counts for tests and operators. `active`, `queued` and `peak_active` are network downloads
/// (the ones that take slots); `transfers_started` counts every transfer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DownloadStats {
    pub active: usize,
    pub queued: usize,
    pub peak_active: usize,
    pub transfers_started: u64,
    pub abandoned: u64,
}

#[derive(Debug, Message)]
#[rtype(result = "DownloadStats")]
pub struct GetDownloadStats;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TransferKey {
    source: DownloadSource,
    dest: PathBuf,
    guarded: bool,
}

struct Waiter {
    user: UserId,
    progress: ProgressSender,
    reply: oneshot::Sender<ConvResult<u64>>,
}

struct Transfer {
    /// Who asked first: the user whose slot it takes.
    starter: UserId,
    waiters: Vec<Waiter>,
    cancel: Arc<AtomicBool>,
    running: bool,
}

/// The limits of [`DownloadManagerActor`], from the engine's configuration.
#[derive(Debug, Clone)]
pub struct DownloadLimits {
    pub slots: usize,
    pub per_user: usize,
    pub queue: usize,
    pub deadline: Duration,
    pub max_bytes: u64,
}

impl DownloadLimits {
    pub fn from_config(c: &EngineConfig) -> DownloadLimits {
        DownloadLimits {
            slots: c.download_concurrency.max(1),
            per_user: c.download_per_user.max(1),
            queue: c.download_queue,
            deadline: c.download_deadline,
            max_bytes: c.download_max_bytes,
        }
    }
}

pub struct DownloadManagerActor {
    client: reqwest::Client,
    guarded_client: reqwest::Client,
    blobs: Arc<BlobStore>,
    limits: DownloadLimits,
    transfers: HashMap<TransferKey, Transfer>,
    queue: VecDeque<TransferKey>,
    /// Network slots held, by the transfer's starter.
    running_by_user: HashMap<UserId, usize>,
    stats: DownloadStats,
}

fn refused(limit: &'static str, why: String) -> ConvError {
    metrics::counter!("timsg_limits_refused_total", "limit" => limit).increment(1);
    ConvError::TooMany(why)
}

impl DownloadManagerActor {
    pub fn new(blobs: Arc<BlobStore>, limits: DownloadLimits) -> DownloadManagerActor {
        let (connect, read) = (Duration::from_secs(10), Duration::from_secs(30));
        let client = reqwest::Client::builder().connect_timeout(connect).read_timeout(read).build().unwrap_or_default();
        DownloadManagerActor {
            client,
            guarded_client: fetch_guard::guarded_client(connect, read),
            blobs,
            limits,
            transfers: HashMap::new(),
            queue: VecDeque::new(),
            running_by_user: HashMap::new(),
            stats: DownloadStats::default(),
        }
    }

    fn publish(&self) {
        metrics::gauge!("timsg_downloads_active").set(self.stats.active as f64);
        metrics::gauge!("timsg_downloads_queued").set(self.queue.len() as f64);
    }

    fn is_local(key: &TransferKey) -> bool {
        matches!(key.source, DownloadSource::Blob(_))
    }

    /// Starts queued network transfers while slots are free, skipping users at their share.
    fn start_next(&mut self, ctx: &mut Context<Self>) {
        let mut i = 0;
        while self.stats.active < self.limits.slots && i < self.queue.len() {
            let key = &self.queue[i];
            let Some(t) = self.transfers.get(key) else {
                self.queue.remove(i);
                continue;
            };
            if self.running_by_user.get(&t.starter).copied().unwrap_or(0) >= self.limits.per_user {
                i += 1;
                continue;
            }
            let key = self.queue.remove(i).expect("the index is in the queue");
            let starter = t.starter.clone();
            *self.running_by_user.entry(starter).or_default() += 1;
            self.stats.active += 1;
            self.stats.peak_active = self.stats.peak_active.max(self.stats.active);
            self.run(key, ctx);
        }
        self.publish();
    }

    fn run(&mut self, key: TransferKey, ctx: &mut Context<Self>) {
        let Some(t) = self.transfers.get_mut(&key) else { return };
        t.running = true;
        self.stats.transfers_started += 1;
        let client = if key.guarded { self.guarded_client.clone() } else { self.client.clone() };
        let (blobs, cancel, limits) = (self.blobs.clone(), t.cancel.clone(), self.limits.clone());
        let addr = ctx.address();
        let k = key.clone();
        let fut = async move {
            if let (true, DownloadSource::Http(url)) = (k.guarded, &k.source)
                && !fetch_guard::literal_address_allowed(url)
            {
                return Err(ConvError::Forbidden(format!("{url} is not a public address")));
            }
            let mut report = |current, total| addr.do_send(TransferProgressed { key: k.clone(), current, total });
            let transfer = download(&k.source, &k.dest, &client, &blobs, cancel, limits.max_bytes, &mut report);
            match tokio::time::timeout(limits.deadline, transfer).await {
                Ok(result) => result,
                Err(_) => {
                    let _ = tokio::fs::remove_file(part_path(&k.dest, &k.source)).await;
                    metrics::counter!("timsg_limits_refused_total", "limit" => "download_deadline").increment(1);
                    Err(ConvError::TransferTimedOut(limits.deadline.as_secs()))
                }
            }
        };
        ctx.spawn(fut.into_actor(self).map(move |result, act, ctx| act.finished(key, result, ctx)));
    }

    fn finished(&mut self, key: TransferKey, result: ConvResult<u64>, ctx: &mut Context<Self>) {
        let transfer = self.transfers.remove(&key);
        if !Self::is_local(&key) {
            self.stats.active -= 1;
            if let Some(t) = &transfer
                && let Some(n) = self.running_by_user.get_mut(&t.starter)
            {
                *n -= 1;
                if *n == 0 {
                    self.running_by_user.remove(&t.starter);
                }
            }
        }
        if let Some(t) = transfer {
            let label = match &result {
                Ok(size) => {
                    metrics::counter!("timsg_download_bytes_total").increment(*size);
                    "ok"
                }
                Err(_) => "failed",
            };
            metrics::counter!("timsg_downloads_total", "outcome" => label).increment(1);
            if let Err(ConvError::FileTooLarge { .. }) = &result {
                metrics::counter!("timsg_limits_refused_total", "limit" => "download_bytes").increment(1);
            }
            for w in t.waiters {
                let _ = w.reply.send(result.clone());
            }
        }
        self.start_next(ctx);
    }

    /// Ends the waits `leaving` picks with `outcome` (none if `None`: they stopped waiting);
    /// cancels the transfers left with nobody waiting.
    fn drop_waiters(&mut self, leaving: impl Fn(&Waiter) -> bool, outcome: Option<ConvError>) -> usize {
        let mut abandoned = Vec::new();
        for (key, t) in self.transfers.iter_mut() {
            if !t.waiters.iter().any(&leaving) {
                continue;
            }
            let (gone, staying): (Vec<_>, Vec<_>) = t.waiters.drain(..).partition(&leaving);
            t.waiters = staying;
            if let Some(e) = &outcome {
                for w in gone {
                    let _ = w.reply.send(Err(e.clone()));
                }
            }
            if t.waiters.is_empty() {
                t.cancel.store(true, Ordering::Relaxed);
                abandoned.push((key.clone(), t.running));
            }
        }
        for (key, running) in &abandoned {
            if !running {
                self.transfers.remove(key);
                self.queue.retain(|k| k != key);
            }
        }
        self.publish();
        abandoned.len()
    }

    fn queued_of(&self, user: &UserId) -> usize {
        self.queue.iter().filter(|k| self.transfers.get(*k).is_some_and(|t| t.starter == *user)).count()
    }
}

impl Actor for DownloadManagerActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(4096);
        ctx.run_interval(ABANDONED_CHECK, |act, _| {
            let n = act.drop_waiters(|w| w.reply.is_closed(), None);
            act.stats.abandoned += n as u64;
        });
    }
}

impl Handler<StartDownload> for DownloadManagerActor {
    type Result = ();

    fn handle(&mut self, msg: StartDownload, ctx: &mut Context<Self>) {
        let key = TransferKey { source: msg.source, dest: msg.dest, guarded: msg.guarded };
        let waiter = Waiter { user: msg.user, progress: msg.progress, reply: msg.reply };
        if let Some(t) = self.transfers.get_mut(&key) {
            t.waiters.push(waiter);
            return;
        }
        if !Self::is_local(&key) {
            let refusal = if self.queue.len() >= self.limits.queue {
                Some(refused("download_queue", format!("{} downloads are waiting already", self.queue.len())))
            } else if self.queued_of(&waiter.user) >= DOWNLOADS_QUEUED_PER_USER {
                Some(refused(
                    "downloads_per_user",
                    format!("{DOWNLOADS_QUEUED_PER_USER} of your downloads are waiting"),
                ))
            } else {
                None
            };
            if let Some(e) = refusal {
                let _ = waiter.reply.send(Err(e));
                return;
            }
        }
        let starter = waiter.user.clone();
        let transfer =
            Transfer { starter, waiters: vec![waiter], cancel: Arc::new(AtomicBool::new(false)), running: false };
        self.transfers.insert(key.clone(), transfer);
        if Self::is_local(&key) {
            self.run(key, ctx);
        } else {
            self.queue.push_back(key);
            self.start_next(ctx);
        }
    }
}

impl Handler<TransferProgressed> for DownloadManagerActor {
    type Result = ();

    fn handle(&mut self, msg: TransferProgressed, _: &mut Context<Self>) {
        // The end (current == total) is reported once, by the completion itself.
        if msg.total > 0 && msg.current >= msg.total {
            return;
        }
        if let Some(t) = self.transfers.get(&msg.key) {
            for w in &t.waiters {
                // A waiter that stopped reading progress misses reports, never blocks others.
                let _ = w.progress.try_send((msg.current, msg.total));
            }
        }
    }
}

impl Handler<CancelDownloadsOf> for DownloadManagerActor {
    type Result = ();

    fn handle(&mut self, msg: CancelDownloadsOf, _: &mut Context<Self>) {
        self.drop_waiters(|w| w.user == msg.user, Some(ConvError::TransferCancelled));
    }
}

impl Handler<GetDownloadStats> for DownloadManagerActor {
    type Result = MessageResult<GetDownloadStats>;

    fn handle(&mut self, _: GetDownloadStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(DownloadStats { queued: self.queue.len(), ..self.stats })
    }
}
