//! `DownloadManagerActor`: every download in flight. At most `download_concurrency` transfers
//! run at once, the rest wait in a queue; identical requests (same source, same destination)
//! share one transfer; progress of a transfer is fanned out to everyone waiting on it; a user
//! logging out stops that user's downloads (transfers nobody else waits on are cancelled).

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix::prelude::*;
use tokio::sync::{mpsc, oneshot};

use crate::error::{ConvError, ConvResult};
use crate::ids::UserId;
use crate::media::blob::BlobStore;
use crate::media::download::{DownloadSource, download};

/// Progress of a download: `(current, total)` bytes.
pub type ProgressSender = mpsc::Sender<(u64, u64)>;

/// Downloads `source` to `dest` for `user`.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct StartDownload {
    pub user: UserId,
    pub source: DownloadSource,
    pub dest: PathBuf,
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

/// Counts for tests and operators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DownloadStats {
    pub active: usize,
    pub queued: usize,
    pub peak_active: usize,
    pub transfers_started: u64,
}

#[derive(Debug, Message)]
#[rtype(result = "DownloadStats")]
pub struct GetDownloadStats;

type TransferKey = (DownloadSource, PathBuf);

struct Waiter {
    user: UserId,
    progress: ProgressSender,
    reply: oneshot::Sender<ConvResult<u64>>,
}

struct Transfer {
    waiters: Vec<Waiter>,
    cancel: Arc<AtomicBool>,
    running: bool,
}

pub struct DownloadManagerActor {
    client: reqwest::Client,
    blobs: Arc<BlobStore>,
    max_active: usize,
    transfers: HashMap<TransferKey, Transfer>,
    queue: VecDeque<TransferKey>,
    stats: DownloadStats,
}

impl DownloadManagerActor {
    pub fn new(blobs: Arc<BlobStore>, max_active: usize) -> DownloadManagerActor {
        let client = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .read_timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        DownloadManagerActor {
            client,
            blobs,
            max_active: max_active.max(1),
            transfers: HashMap::new(),
            queue: VecDeque::new(),
            stats: DownloadStats::default(),
        }
    }

    fn publish(&self) {
        metrics::gauge!("timsg_downloads_active").set(self.stats.active as f64);
        metrics::gauge!("timsg_downloads_queued").set(self.queue.len() as f64);
    }

    fn start_next(&mut self, ctx: &mut Context<Self>) {
        while self.stats.active < self.max_active {
            let Some(key) = self.queue.pop_front() else { break };
            let Some(t) = self.transfers.get_mut(&key) else { continue };
            t.running = true;
            self.stats.active += 1;
            self.stats.peak_active = self.stats.peak_active.max(self.stats.active);
            self.stats.transfers_started += 1;
            let (client, blobs, cancel) = (self.client.clone(), self.blobs.clone(), t.cancel.clone());
            let addr = ctx.address();
            let k = key.clone();
            let fut = async move {
                let mut report = |current, total| addr.do_send(TransferProgressed { key: k.clone(), current, total });
                download(&k.0, &k.1, &client, &blobs, cancel, &mut report).await
            };
            ctx.spawn(fut.into_actor(self).map(move |result, act, ctx| act.finished(key, result, ctx)));
        }
        self.publish();
    }

    fn finished(&mut self, key: TransferKey, result: ConvResult<u64>, ctx: &mut Context<Self>) {
        self.stats.active -= 1;
        if let Some(t) = self.transfers.remove(&key) {
            let label = match &result {
                Ok(size) => {
                    metrics::counter!("timsg_download_bytes_total").increment(*size);
                    "ok"
                }
                Err(_) => "failed",
            };
            metrics::counter!("timsg_downloads_total", "outcome" => label).increment(1);
            for w in t.waiters {
                let _ = w.reply.send(result.clone());
            }
        }
        self.start_next(ctx);
    }
}

impl Actor for DownloadManagerActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(4096);
    }
}

impl Handler<StartDownload> for DownloadManagerActor {
    type Result = ();

    fn handle(&mut self, msg: StartDownload, ctx: &mut Context<Self>) {
        let key = (msg.source, msg.dest);
        let waiter = Waiter { user: msg.user, progress: msg.progress, reply: msg.reply };
        match self.transfers.get_mut(&key) {
            Some(t) => t.waiters.push(waiter),
            None => {
                self.transfers.insert(
                    key.clone(),
                    Transfer { waiters: vec![waiter], cancel: Arc::new(AtomicBool::new(false)), running: false },
                );
                self.queue.push_back(key);
                self.start_next(ctx);
            }
        }
        self.publish();
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
        let mut abandoned = Vec::new();
        for (key, t) in self.transfers.iter_mut() {
            let (theirs, others): (Vec<_>, Vec<_>) = t.waiters.drain(..).partition(|w| w.user == msg.user);
            t.waiters = others;
            for w in theirs {
                let _ = w.reply.send(Err(ConvError::TransferCancelled));
            }
            if t.waiters.is_empty() {
                t.cancel.store(true, Ordering::Relaxed);
                if !t.running {
                    abandoned.push(key.clone());
                }
            }
        }
        for key in abandoned {
            self.transfers.remove(&key);
            self.queue.retain(|k| *k != key);
        }
        self.publish();
    }
}

impl Handler<GetDownloadStats> for DownloadManagerActor {
    type Result = MessageResult<GetDownloadStats>;

    fn handle(&mut self, _: GetDownloadStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(DownloadStats { queued: self.queue.len(), ..self.stats })
    }
}
