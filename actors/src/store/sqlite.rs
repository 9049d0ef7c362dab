//! The SQLite backend: one database file and its journal. Writes are made durable by the
//! [`writer`] thread (group commit into the [`journal`](super::journal)) and applied to SQLite
//! by the [`indexer`] thread; reads go through a small pool of
//! read-only connections so history loads and searches never wait behind either, only (rarely,
//! see [`progress`](super::progress)) for the indexer to catch up with what they must see.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::Sender;
use parking_lot::Mutex;
use rusqlite::{Connection, OpenFlags};

use crate::config::Durability;
use crate::faults::Faults;

use super::StoreError;
use super::checkpoint::Checkpointer;
use super::disk_space::DiskSpace;
use super::health::StoreHealth;
use super::indexer::{self, Closing, IndexerLinks, PendingReplay, RecoverError};
use super::journal::{JOURNAL_DIR, JournalWriter, SEGMENT_BYTES};
use super::progress::Progress;
use super::request::WriteRequest;
use super::writer::WriterLinks;
use super::{schema, writer};

/// The database's file name in the data directory.
pub const DATABASE_FILE: &str = "timsg.db";

/// Journaled batches waiting for the indexer at most; the writer waits beyond that, so the
/// indexer's backlog (and what a read may have to wait for) stays bounded.
const INDEX_QUEUE_BATCHES: usize = 256;

/// What a read must see before it runs.
#[derive(Debug, Clone, Copy)]
pub enum ReadAfter<'a> {
    /// Every write acknowledged so far.
    All,
    /// Every write acknowledged so far to this conversation (its storage key) or this user's
    /// options and logout point (its ID): see [`WriteOp::read_key`](super::WriteOp::read_key).
    Key(&'a str),
}

#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    tx: Mutex<Option<Sender<WriteRequest>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    indexer: Mutex<Option<JoinHandle<()>>>,
    progress: Arc<Progress>,
    readers: Mutex<Vec<Connection>>,
    checkpointer: Mutex<Option<Checkpointer>>,
    pub health: Arc<StoreHealth>,
    closing: Arc<Closing>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `dir`, replays what its journal holds that
    /// the database does not (after a crash), and starts the writer, indexer and checkpointer
    /// threads. `queue` bounds the requests waiting for the writer; `max_batch` the ops per
    /// group commit.
    pub fn open(
        dir: &Path,
        durability: Durability,
        queue: usize,
        max_batch: usize,
        disk_reserve: u64,
        faults: Arc<Faults>,
    ) -> Result<Self, StoreError> {
        let path = dir.join(DATABASE_FILE);
        let mut conn = Connection::open(&path)?;
        // The WAL takes room up to its restart (and keeps its file's peak size after): a
        // quarter of the disk reserve, within 1 and 64 MiB.
        let wal_limit = (disk_reserve / 4).clamp(1 << 20, 64 << 20);
        schema::configure_writer(&conn, durability, wal_limit)?;
        // Only a checkpoint (the checkpointer's pass, or readers still on old WAL frames when
        // the WAL is cut back) can make the indexer wait: waiting is the answer, not an error.
        conn.busy_timeout(std::time::Duration::from_secs(2))?;
        let journal_dir = dir.join(JOURNAL_DIR);
        let recovery = Instant::now();
        let durable = durability == Durability::Fsync;
        let health = Arc::new(StoreHealth::default());
        // Replaying what only the journal holds needs room in SQLite. Without it (a full disk)
        // the store opens all the same: the indexer finishes the replay when space returns,
        // reads of what it holds wait for it (and fail fast meanwhile), writes are refused.
        let (last_batch, pending_replay, progress) = match indexer::recover(&mut conn, &journal_dir, u64::MAX) {
            Ok(last) => (last, None, Progress::starting_at(last)),
            Err(RecoverError::Damage(why)) => return Err(StoreError::Corrupt(why)),
            Err(RecoverError::Retry(why)) => {
                let applied = indexer::applied_batch(&conn)?;
                let (last, keys) = indexer::journal_backlog(&journal_dir, applied)?;
                let why = format!("replaying the journal (batches {} to {last}): {why}", applied + 1);
                tracing::error!(error = %why, "the store opens with its journal not yet in the database");
                health.indexing_failed(&why);
                let progress = Progress::starting_at(applied);
                progress.replaying(last, keys.iter());
                progress.set_stuck(Some(why));
                (last, Some(PendingReplay { last, keys }), progress)
            }
        };
        tracing::debug!(last_batch, elapsed_ms = recovery.elapsed().as_millis() as u64, "journal recovered");
        let journal = JournalWriter::create(&journal_dir, last_batch + 1, durable, SEGMENT_BYTES)
            .map_err(|e| StoreError::Io(format!("cannot start the journal in {}: {e}", journal_dir.display())))?;
        let progress = Arc::new(progress);
        let wal_large = Arc::new(AtomicBool::new(false));
        let (index_tx, index_rx) = crossbeam_channel::bounded(INDEX_QUEUE_BATCHES);
        let closing = Arc::new(Closing::default());
        let links = IndexerLinks {
            progress: progress.clone(),
            wal_large: wal_large.clone(),
            journal_dir: journal_dir.clone(),
            faults: faults.clone(),
            health: health.clone(),
            closing: closing.clone(),
            pending_replay,
            disk_reserve,
        };
        let indexer_progress = progress.clone();
        let indexer = std::thread::Builder::new()
            .name("timsg-indexer".into())
            .spawn(move || {
                // A panic must not leave reads waiting for an indexer that is gone: stopping the
                // progress fails them (and `/readyz`) with an error instead.
                let ran =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| indexer::run(conn, index_rx, links)));
                if ran.is_err() {
                    tracing::error!("the indexer panicked; reads that need it fail until the store is reopened");
                    metrics::counter!("timsg_store_errors_total").increment(1);
                    indexer_progress.stop();
                }
            })
            .map_err(|e| StoreError::Io(e.to_string()))?;
        let (tx, rx) = crossbeam_channel::bounded(queue.max(1));
        let max_batch = max_batch.max(1);
        let links = WriterLinks {
            journal,
            progress: progress.clone(),
            indexer: index_tx,
            next_batch: last_batch + 1,
            faults,
            health: health.clone(),
            space: DiskSpace::new(dir, disk_reserve),
        };
        let writer = std::thread::Builder::new()
            .name("timsg-store".into())
            .spawn(move || writer::run(links, rx, max_batch))
            .map_err(|e| StoreError::Io(e.to_string()))?;
        let checkpointer = Checkpointer::start(&path, wal_limit, wal_large)?;
        tracing::info!(path = %path.display(), durability = ?durability, "store opened");
        Ok(SqliteStore {
            path,
            tx: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            indexer: Mutex::new(Some(indexer)),
            progress,
            readers: Mutex::new(Vec::new()),
            checkpointer: Mutex::new(Some(checkpointer)),
            health,
            closing,
        })
    }

    /// Queues a write; waits while the writer's queue is full.
    pub fn submit(&self, request: WriteRequest) -> Result<(), StoreError> {
        let tx = self.tx.lock().clone().ok_or(StoreError::Closed)?;
        metrics::gauge!("timsg_store_queue_depth").set(tx.len() as f64);
        tx.send(request).map_err(|_| StoreError::Closed)
    }

    /// Runs `f` on a pooled read connection, inside one read transaction, once SQLite holds
    /// what `after` asks for.
    pub fn read<T>(
        &self,
        after: ReadAfter<'_>,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match after {
            ReadAfter::All => self.progress.wait_all()?,
            ReadAfter::Key(key) => self.progress.wait_key(key)?,
        }
        let conn = match self.readers.lock().pop() {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                schema::configure_reader(&c)?;
                c
            }
        };
        // One read transaction per call: a consistent snapshot across its queries, and one
        // WAL read lock instead of one per statement.
        let out = match conn.unchecked_transaction() {
            Ok(snapshot) => f(&snapshot),
            Err(e) => Err(e.into()),
        };
        self.readers.lock().push(conn);
        out
    }

    /// Stops taking writes, lets the writer journal what it has and the indexer apply it, and
    /// waits for both. An indexer retrying a batch SQLite refuses (a full disk) gives up: the
    /// journal keeps the batch for the next open.
    pub fn close(&self) {
        self.tx.lock().take();
        if let Some(handle) = self.writer.lock().take() {
            let _ = handle.join();
        }
        self.closing.raise();
        if let Some(handle) = self.indexer.lock().take() {
            let _ = handle.join();
        }
        if let Some(c) = self.checkpointer.lock().take() {
            c.stop();
        }
        self.readers.lock().clear();
    }
}
