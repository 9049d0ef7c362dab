//! The indexer: the only thread that writes SQLite. It applies the journal's batches, in
//! order, in transactions of many batches at once, each recording the last batch it holds
//! (`journal_applied`) so that recovery knows where to pick up.
//!
//! Writes are acknowledged by the journal, so the indexer's transactions can be large: a
//! message costs SQLite a random page per index, and a transaction of thousands of messages
//! shares those pages between many of them. Once SQLite holds every batch of a journal segment
//! (durably: with `fsync` every transaction here syncs), the segment is deleted.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use rusqlite::{Connection, OptionalExtension};

use super::StoreError;
use super::apply::apply;
use super::disk_space::DiskSpace;
use super::journal::{self, Frame, ReplayError};
use super::progress::Progress;
use super::request::WriteOp;

/// One journaled group commit, on its way into SQLite.
#[derive(Debug)]
pub struct IndexBatch {
    pub batch: u64,
    /// The journal segment it was appended to.
    pub segment: u64,
    /// Its frame's size in the journal.
    pub bytes: u64,
    pub ops: Vec<WriteOp>,
}

/// Ops per SQLite transaction at most (batches are never split). Larger transactions share
/// more index pages between messages, but at saturation a send may wait a whole transaction.
pub const MAX_TRANSACTION_OPS: usize = 16_384;

/// How long to wait before trying a batch again after SQLite failed it for a reason that may
/// pass (I/O, a full disk).
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The last journal batch SQLite holds (0: none).
pub fn applied_batch(conn: &Connection) -> rusqlite::Result<u64> {
    let batch: Option<i64> =
        conn.query_row("SELECT batch FROM journal_applied WHERE id = 1", [], |r| r.get(0)).optional()?;
    Ok(batch.map_or(0, |b| b as u64))
}

fn set_applied(tx: &rusqlite::Transaction<'_>, batch: u64) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO journal_applied (id, batch) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET batch = excluded.batch",
    )?
    .execute([batch as i64])?;
    Ok(())
}

/// Applies batches (in order) and records the last as applied, in one transaction.
fn apply_batches<'a>(
    conn: &mut Connection,
    batches: impl Iterator<Item = (u64, &'a [WriteOp])>,
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    let mut last = None;
    for (batch, ops) in batches {
        for op in ops {
            apply(&tx, op)?;
        }
        last = Some(batch);
    }
    if let Some(last) = last {
        set_applied(&tx, last)?;
    }
    tx.commit()
}

/// An op SQLite refuses for what it is (not for the state of the disk): retrying cannot help.
fn is_permanent(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::QueryReturnedNoRows)
        || matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

/// Applies one batch op by op, each under a savepoint: an op SQLite refuses for what it is
/// (an update of a row that is not there, a duplicate) is left out — loudly, counted in
/// `timsg_store_errors_total` — and every other op of the batch goes in. Returns how many were
/// left out; any other error leaves the whole batch out, to be retried.
fn apply_leaving_out_refused(conn: &mut Connection, batch: u64, ops: &[WriteOp]) -> rusqlite::Result<usize> {
    let mut tx = conn.transaction()?;
    let mut refused = 0;
    for (index, op) in ops.iter().enumerate() {
        let savepoint = tx.savepoint()?;
        match apply(&savepoint, op) {
            Ok(()) => savepoint.commit()?,
            Err(e) if is_permanent(&e) => {
                // Dropping the savepoint rolls back this op alone.
                drop(savepoint);
                refused += 1;
                metrics::counter!("timsg_store_errors_total").increment(1);
                tracing::error!(batch, op = index, key = %op.read_key(), error = %e, "SQLite refuses a journaled op; leaving it out");
            }
            Err(e) => return Err(e),
        }
    }
    set_applied(&tx, batch)?;
    tx.commit()?;
    Ok(refused)
}

/// Lets SQLite give back the room of its WAL after a failure that may be a full disk: a
/// checkpoint of everything, then the WAL truncated to nothing. It fails too while the
/// database file cannot grow; it is tried again with the failed write.
fn free_wal(conn: &Connection) {
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
        tracing::debug!(error = %e, "cannot truncate the WAL yet");
    }
}

/// What SQLite answers on a full disk, for the `refuse_indexing` failure point.
fn injected_full_disk() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
        Some("injected: database or disk is full".into()),
    )
}

/// The store is closing while SQLite still refuses a batch: it stays in the journal, and the
/// next open applies it.
#[derive(Debug)]
pub struct Abandoned;

/// Applies one batch on its own until it goes in: whole if it can, else without the ops SQLite
/// can never take (so one bad op costs neither the other ops of its batch, which may belong to
/// many conversations, nor the batches after it). A failure that may pass (I/O, a full disk)
/// is retried until the store closes.
fn apply_alone(conn: &mut Connection, batch: u64, ops: &[WriteOp], links: &IndexerLinks) -> Result<(), Abandoned> {
    let health = &links.health;
    let recovered = || {
        links.progress.set_stuck(None);
        health.indexing_succeeded();
    };
    let mut wal_freed = false;
    loop {
        let attempt = if links.faults.indexing_refused() {
            Err(injected_full_disk())
        } else {
            apply_batches(conn, std::iter::once((batch, ops)))
        };
        let e = match attempt {
            Ok(()) => {
                recovered();
                return Ok(());
            }
            Err(e) if !wal_freed && !is_permanent(&e) => {
                // Often the room is there once the WAL gives back what it holds: try that
                // before telling anyone the database is stuck.
                free_wal(conn);
                wal_freed = true;
                continue;
            }
            Err(e) => e,
        };
        metrics::counter!("timsg_store_errors_total").increment(1);
        let e = if is_permanent(&e) {
            match apply_leaving_out_refused(conn, batch, ops) {
                Ok(_) => {
                    recovered();
                    return Ok(());
                }
                Err(e) => e,
            }
        } else {
            e
        };
        health.indexing_failed(&e.to_string());
        links.progress.set_stuck(Some(e.to_string()));
        tracing::error!(batch, error = %e, "indexing a journaled batch failed; retrying");
        free_wal(conn);
        if links.closing.wait_timeout(RETRY_AFTER) {
            return Err(Abandoned);
        }
    }
}

/// Why the journal could not be replayed into SQLite at open.
#[derive(Debug)]
pub enum RecoverError {
    /// The journal is damaged before its end, or a batch cannot be read: opening must not
    /// go on past acknowledged writes.
    Damage(String),
    /// SQLite could not take the batches now (a full disk, I/O): they wait in the journal.
    Retry(String),
}

/// Replays every journal batch SQLite does not hold yet (after a crash), then deletes the
/// journal's segments before `keep_from` (everything in them is in SQLite). Returns the last
/// batch.
///
/// Batches are applied in transactions of up to [`MAX_TRANSACTION_OPS`] writes, as the
/// indexer does: one (synced) transaction per frame would make a journal of many small group
/// commits cost one fsync each at start-up. Each transaction records how far it got, so a
/// replay cut short by a full disk picks up where it stopped.
pub fn recover(conn: &mut Connection, journal_dir: &Path, keep_from: u64) -> Result<u64, RecoverError> {
    fn flush(conn: &mut Connection, group: &mut Vec<(u64, Vec<WriteOp>)>) -> rusqlite::Result<()> {
        let mut applied = apply_batches(conn, group.iter().map(|(batch, ops)| (*batch, ops.as_slice())));
        if applied.as_ref().is_err_and(is_permanent) {
            // As live: batch by batch, leaving out only the ops SQLite can never take, so one
            // of them cannot keep every acknowledged write from being read.
            applied = group.iter().try_for_each(|(batch, ops)| apply_leaving_out_refused(conn, *batch, ops).map(drop));
        }
        group.clear();
        applied
    }
    let applied = applied_batch(conn).map_err(|e| RecoverError::Retry(e.to_string()))?;
    let mut replayed = 0u64;
    let mut group: Vec<(u64, Vec<WriteOp>)> = Vec::new();
    let mut group_ops = 0;
    let mut sqlite_failure = None;
    let replay = journal::replay(journal_dir, applied, |Frame { batch, payload }| {
        let ops: Vec<WriteOp> = serde_json::from_slice(&payload).map_err(|e| e.to_string())?;
        group_ops += ops.len();
        group.push((batch, ops));
        replayed += 1;
        if group_ops >= MAX_TRANSACTION_OPS {
            group_ops = 0;
            flush(conn, &mut group).map_err(|e| {
                sqlite_failure = Some(e.to_string());
                e.to_string()
            })?;
        }
        Ok(())
    });
    let last = match replay {
        Ok(last) => last,
        Err(ReplayError::Io(e)) => return Err(RecoverError::Retry(e.to_string())),
        Err(e) => {
            return Err(match sqlite_failure {
                Some(why) => RecoverError::Retry(why),
                None => RecoverError::Damage(e.to_string()),
            });
        }
    };
    flush(conn, &mut group).map_err(|e| RecoverError::Retry(e.to_string()))?;
    if replayed > 0 {
        tracing::info!(replayed, last, "journal replayed into the database");
    }
    journal::remove_segments_before(journal_dir, keep_from).map_err(|e| RecoverError::Retry(e.to_string()))?;
    Ok(last)
}

/// The batches the journal holds after `applied` (found at open with SQLite unable to take
/// them): the last one, and the read keys of their writes, so reads wait for them.
pub fn journal_backlog(journal_dir: &Path, applied: u64) -> Result<(u64, Vec<Arc<str>>), StoreError> {
    let mut keys = std::collections::HashSet::new();
    let last = journal::replay(journal_dir, applied, |Frame { payload, .. }| {
        let ops: Vec<WriteOp> = serde_json::from_slice(&payload).map_err(|e| e.to_string())?;
        keys.extend(ops.iter().map(|op| op.read_key().clone()));
        Ok(())
    })
    .map_err(|e| match e {
        ReplayError::Io(e) => StoreError::Io(e.to_string()),
        other => StoreError::Corrupt(other.to_string()),
    })?;
    Ok((last, keys.into_iter().collect()))
}

/// A replay the indexer finishes before it takes new batches: SQLite refused it at open.
#[derive(Debug)]
pub struct PendingReplay {
    /// The last batch the journal holds.
    pub last: u64,
    /// The read keys of the batches it holds that SQLite does not.
    pub keys: Vec<Arc<str>>,
}

/// Retries the replay SQLite refused at open until it goes in (or the store closes), then
/// lets reads and writes go on.
fn finish_replay(conn: &mut Connection, pending: PendingReplay, links: &IndexerLinks) -> Result<(), Abandoned> {
    loop {
        match recover(conn, &links.journal_dir, pending.last + 1) {
            Ok(_) => {
                links.progress.indexed(pending.last, pending.keys.iter());
                links.progress.set_stuck(None);
                links.health.indexing_succeeded();
                return Ok(());
            }
            Err(RecoverError::Retry(why)) => {
                tracing::warn!(error = %why, "the journal still cannot be replayed; retrying");
                free_wal(conn);
            }
            Err(RecoverError::Damage(why)) => {
                // It was read whole at open; only a change behind the store's back gets here.
                tracing::error!(error = %why, "the journal cannot be replayed");
                links.health.indexing_failed(&why);
                links.progress.set_stuck(Some(why));
            }
        }
        if links.closing.wait_timeout(RETRY_AFTER) {
            return Err(Abandoned);
        }
    }
}

/// What the indexer thread works with.
pub struct IndexerLinks {
    pub progress: Arc<Progress>,
    /// Raised by the checkpointer when the WAL should start over (see `checkpoint`).
    pub wal_large: Arc<AtomicBool>,
    pub journal_dir: PathBuf,
    pub faults: Arc<crate::faults::Faults>,
    pub health: Arc<super::health::StoreHealth>,
    /// Raised when the store closes: retries give up, what is left waits in the journal.
    pub closing: Arc<Closing>,
    /// A replay SQLite refused at open, to finish first.
    pub pending_replay: Option<PendingReplay>,
    /// The free space the store keeps (see `disk_space`): below it the WAL is truncated.
    pub disk_reserve: u64,
}

/// The store is closing: a flag a retrying thread can sleep on and be woken from.
#[derive(Debug, Default)]
pub struct Closing {
    closed: parking_lot::Mutex<bool>,
    raised: parking_lot::Condvar,
}

impl Closing {
    pub fn raise(&self) {
        *self.closed.lock() = true;
        self.raised.notify_all();
    }

    /// Sleeps `pause` unless the store closes first; true if it has.
    pub fn wait_timeout(&self, pause: Duration) -> bool {
        let mut closed = self.closed.lock();
        if !*closed {
            self.raised.wait_for(&mut closed, pause);
        }
        *closed
    }
}

/// One transaction: applies `first`, then whatever batches arrive meanwhile, until the
/// channel is empty or the transaction holds [`MAX_TRANSACTION_OPS`]; then commits. Each
/// batch leaves the writer's backlog as it is taken, not at the commit, so at saturation the
/// writer waits for the next batch to be taken rather than for a whole transaction. `taken`
/// gets every batch the transaction touched (all of them to retry one by one if it fails).
fn fill_and_commit(
    conn: &mut Connection,
    first: IndexBatch,
    rx: &Receiver<IndexBatch>,
    progress: &Progress,
    faults: &crate::faults::Faults,
    taken: &mut Vec<IndexBatch>,
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    let mut ops = 0;
    let mut next = Some(first);
    while let Some(batch) = next {
        // The failure point is checked for every batch, not only a transaction's first.
        assert!(!faults.take_indexer_panic(), "injected indexer panic");
        progress.taken(batch.ops.len());
        ops += batch.ops.len();
        taken.push(batch);
        let batch = taken.last().expect("just pushed");
        for op in &batch.ops {
            apply(&tx, op)?;
        }
        next = if ops < MAX_TRANSACTION_OPS { rx.try_recv().ok() } else { None };
    }
    set_applied(&tx, taken.last().expect("at least the first").batch)?;
    tx.commit()
}

/// Runs until the writer is gone and every batch it handed over is in SQLite.
pub fn run(mut conn: Connection, rx: Receiver<IndexBatch>, mut links: IndexerLinks) {
    crate::background::lower_current_thread_priority();
    if let Some(pending) = links.pending_replay.take()
        && finish_replay(&mut conn, pending, &links).is_err()
    {
        links.progress.stop();
        return;
    }
    let links = &links;
    let mut space = DiskSpace::new(&links.journal_dir, links.disk_reserve);
    let mut taken: Vec<IndexBatch> = Vec::new();
    let mut oldest_segment = 0u64;
    while let Ok(first) = rx.recv() {
        let started = Instant::now();
        let committed = if links.faults.indexing_refused() {
            links.progress.taken(first.ops.len());
            taken.push(first);
            Err(injected_full_disk())
        } else {
            fill_and_commit(&mut conn, first, &rx, &links.progress, &links.faults, &mut taken)
        };
        if let Err(e) = committed {
            tracing::warn!(error = %e, batches = taken.len(), "indexing failed; applying batch by batch");
            if taken.iter().any(|b| apply_alone(&mut conn, b.batch, &b.ops, links).is_err()) {
                tracing::warn!("closing with batches SQLite refuses; the next open applies them from the journal");
                break;
            }
        }
        let ops: usize = taken.iter().map(|b| b.ops.len()).sum();
        metrics::histogram!("timsg_store_index_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("timsg_store_index_ops").record(ops as f64);
        let last = taken.last().expect("at least the first batch");
        let (last_batch, segment) = (last.batch, last.segment);
        links.progress.indexed(last_batch, taken.iter().flat_map(|b| b.ops.iter().map(WriteOp::read_key)));
        links.progress.count_unindexed_bytes(taken.iter().map(|b| b.bytes).sum(), false);
        metrics::gauge!("timsg_store_index_lag_batches").set(links.progress.lag() as f64);
        taken.clear();
        if segment > oldest_segment {
            match journal::remove_segments_before(&links.journal_dir, segment) {
                Ok(()) => oldest_segment = segment,
                Err(e) => tracing::warn!(error = %e, "cannot delete applied journal segments; trying again later"),
            }
        }
        if space.tight() {
            // The WAL keeps its size once grown, up to many times what one transaction needs;
            // on a disk getting tight that room is wanted.
            free_wal(&conn);
        } else if links.wal_large.swap(false, Ordering::Relaxed)
            && let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
        {
            tracing::warn!(error = %e, "indexer checkpoint failed");
        }
    }
    links.progress.stop();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Durability;
    use crate::ids::ConvKey;
    use crate::store::journal::{JournalWriter, SEGMENT_BYTES, segments};
    use crate::store::read;
    use crate::store::sqlite::{ReadAfter, SqliteStore};
    use crate::store::test_support::message;

    fn journal(w: &mut JournalWriter, batch: u64, ops: &[WriteOp]) {
        let mut frame = w.payload_buffer();
        serde_json::to_writer(&mut frame, ops).unwrap();
        w.append(batch, frame).unwrap();
    }

    fn stored_ids(store: &SqliteStore, key: &ConvKey) -> Vec<String> {
        let loaded = store.read(ReadAfter::All, |c| read::load_conversation(c, key)).unwrap();
        loaded.entries.iter().map(|m| m.id.to_string()).collect()
    }

    /// As after a crash between the journal append and SQLite: the batches are only in the
    /// journal (and the last one torn). Opening the store puts them in SQLite, once.
    #[test]
    fn opening_replays_what_only_the_journal_holds() {
        let dir = tempfile::tempdir().unwrap();
        let key = ConvKey::c2c("alice", "bob");
        let conv: Arc<str> = key.storage_key().into();
        {
            let store = SqliteStore::open(dir.path(), Durability::Fsync, 16, 16, 0, Default::default()).unwrap();
            store.close();
        }
        let journal_dir = dir.path().join(journal::JOURNAL_DIR);
        let mut w = JournalWriter::create(&journal_dir, 1, true, SEGMENT_BYTES).unwrap();
        journal(&mut w, 1, &[WriteOp::InsertShared { conv: conv.clone(), message: message("m1", 1) }]);
        journal(&mut w, 2, &[WriteOp::InsertShared { conv: conv.clone(), message: message("m2", 2) }]);
        journal(&mut w, 3, &[WriteOp::InsertShared { conv: conv.clone(), message: message("torn", 3) }]);
        drop(w);
        let (_, path) = segments(&journal_dir).unwrap().pop().unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(len - 5).unwrap();

        let store = SqliteStore::open(dir.path(), Durability::Fsync, 16, 16, 0, Default::default()).unwrap();
        assert_eq!(stored_ids(&store, &key), vec!["m1", "m2"]);
        let replayed = store.read(ReadAfter::All, |c| Ok(applied_batch(c)?)).unwrap();
        assert_eq!(replayed, 2);
        store.close();
        drop(store);
        // Applied and deleted: opening again replays nothing twice, and new batches follow on.
        let store = SqliteStore::open(dir.path(), Durability::Fsync, 16, 16, 0, Default::default()).unwrap();
        assert_eq!(stored_ids(&store, &key), vec!["m1", "m2"]);
        submit(&store, vec![WriteOp::InsertShared { conv, message: message("m3", 3) }]);
        // Acknowledged, so a read sees it (it waits for the indexer if need be).
        assert_eq!(stored_ids(&store, &key), vec!["m1", "m2", "m3"]);
        assert_eq!(store.read(ReadAfter::All, |c| Ok(applied_batch(c)?)).unwrap(), 3);
    }

    fn submit(store: &SqliteStore, ops: Vec<WriteOp>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        store.submit(crate::store::WriteRequest::new(ops, crate::store::Completion::Channel(tx))).unwrap();
        rx.blocking_recv().unwrap().unwrap();
    }

    /// An op SQLite can never take (here: an update of a message it does not have) costs
    /// neither the other ops of its batch (here another conversation's message) nor the
    /// batches after it — live, and when the journal is replayed at open.
    #[test]
    fn an_op_sqlite_refuses_is_left_out_and_the_rest_go_in() {
        let dir = tempfile::tempdir().unwrap();
        let (key, other) = (ConvKey::c2c("alice", "bob"), ConvKey::c2c("carol", "dave"));
        let conv: Arc<str> = key.storage_key().into();
        let conv2: Arc<str> = other.storage_key().into();
        let store = SqliteStore::open(dir.path(), Durability::Os, 16, 16, 0, Default::default()).unwrap();
        submit(&store, vec![WriteOp::InsertShared { conv: conv.clone(), message: message("m1", 1) }]);
        submit(
            &store,
            vec![
                WriteOp::UpdateShared { conv: conv.clone(), message: message("nowhere", 7) },
                WriteOp::InsertShared { conv: conv2.clone(), message: message("other", 1) },
            ],
        );
        submit(&store, vec![WriteOp::InsertShared { conv: conv.clone(), message: message("m2", 2) }]);
        assert_eq!(stored_ids(&store, &key), vec!["m1", "m2"]);
        assert_eq!(stored_ids(&store, &other), vec!["other"]);
        assert_eq!(store.read(ReadAfter::All, |c| Ok(applied_batch(c)?)).unwrap(), 3);
        store.close();
        drop(store);
        // The same in a journal replayed at open: the store opens, with everything else.
        let journal_dir = dir.path().join(journal::JOURNAL_DIR);
        let mut w = JournalWriter::create(&journal_dir, 4, true, SEGMENT_BYTES).unwrap();
        journal(
            &mut w,
            4,
            &[
                WriteOp::UpdateShared { conv: conv.clone(), message: message("nowhere", 8) },
                WriteOp::InsertShared { conv: conv2, message: message("other2", 2) },
            ],
        );
        journal(&mut w, 5, &[WriteOp::InsertShared { conv, message: message("m3", 3) }]);
        drop(w);
        let store = SqliteStore::open(dir.path(), Durability::Os, 16, 16, 0, Default::default()).unwrap();
        assert_eq!(stored_ids(&store, &key), vec!["m1", "m2", "m3"]);
        assert_eq!(stored_ids(&store, &other), vec!["other", "other2"]);
    }

    #[test]
    fn damage_before_the_journal_end_keeps_the_store_closed() {
        let dir = tempfile::tempdir().unwrap();
        let conv: Arc<str> = ConvKey::c2c("alice", "bob").storage_key().into();
        let journal_dir = dir.path().join(journal::JOURNAL_DIR);
        let mut w = JournalWriter::create(&journal_dir, 1, false, 10).unwrap();
        journal(&mut w, 1, &[WriteOp::InsertShared { conv: conv.clone(), message: message("m1", 1) }]);
        journal(&mut w, 2, &[WriteOp::InsertShared { conv, message: message("m2", 2) }]);
        drop(w);
        let first = &segments(&journal_dir).unwrap()[0].1;
        let mut bytes = std::fs::read(first).unwrap();
        bytes[20] ^= 0x55;
        std::fs::write(first, bytes).unwrap();
        let err = SqliteStore::open(dir.path(), Durability::Fsync, 16, 16, 0, Default::default()).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
        assert_eq!(segments(&journal_dir).unwrap().len(), 2, "nothing is deleted");
    }
}
