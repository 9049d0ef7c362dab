//! The store writer: the thread that makes writes durable. It takes requests from a bounded
//! `crossbeam-channel`, batches every request that is waiting (from all conversations) into one
//! journal frame — the group commit — appends it (with `fsync`: and syncs it), completes the
//! requests in order, and hands the batch on to the [indexer](super::indexer) for SQLite.
//!
//! A failed group commit fails all its requests, and then every later write of the
//! conversations it held, until each of them has reloaded (its reload barrier carries
//! `clears_failure_of`). Without that, a conversation with several writes in flight could lose
//! seq N and make N+1 durable: a hole its log could never load past.
//!
//! Writes are refused at once, before the append, while SQLite cannot take the journal's
//! batches (the journal would only grow a backlog nobody can read) and while the disk is
//! short of the room the database needs ([`DiskSpace`]); they resume by themselves when the
//! indexer catches up or space comes back.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};
use serde::Serialize;

use super::StoreError;
use super::disk_space::DiskSpace;
use super::health::StoreHealth;
use super::indexer::IndexBatch;
use super::journal::JournalWriter;
use super::progress::Progress;
use super::request::{WriteOp, WriteRequest};
use crate::faults::Faults;

/// Writes journaled but not yet taken by the indexer at most; beyond that the writer waits
/// for it. Two of the indexer's largest transactions: it always has the next one waiting.
const MAX_UNINDEXED_OPS: usize = 2 * super::indexer::MAX_TRANSACTION_OPS;

/// How long the writer waits for the indexer to make room before it fails a group commit
/// instead: an indexer that takes nothing (SQLite on a full disk) must not hang every sender.
const INDEXER_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// The ops of a group commit's requests, serialized as one JSON array without collecting them.
struct BatchOps<'a>(&'a [WriteRequest]);

impl Serialize for BatchOps<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().flat_map(|r| r.ops.iter()))
    }
}

/// Where the writer appends and whom it tells.
pub struct WriterLinks {
    pub journal: JournalWriter,
    pub progress: Arc<Progress>,
    pub indexer: Sender<IndexBatch>,
    /// The number the next group commit gets.
    pub next_batch: u64,
    pub faults: Arc<Faults>,
    pub health: Arc<StoreHealth>,
    pub space: DiskSpace,
}

/// Room a journaled byte still needs until SQLite holds it, at most: its row and its trigram
/// search index (together up to three times the text) in the WAL, and again in the database
/// file. Measured with 8 KB texts on a filling disk; 3 was not enough.
const UNINDEXED_ROOM_FACTOR: u64 = 6;

/// Why a group commit is refused before its append.
enum Refusal {
    /// Already in the store's health (the indexer's failure).
    Reported(String),
    /// Not yet: the health is to say it.
    New(String),
}

/// Why no group commit can be made now, if none can: SQLite takes no batches, or the disk is
/// short of the reserve even after the journal gave back what SQLite holds.
fn refusal(
    journal: &mut JournalWriter,
    space: &mut DiskSpace,
    progress: &Progress,
    health: &StoreHealth,
    next_batch: u64,
) -> Option<Refusal> {
    if health.indexing_failure().is_some() {
        return health.failure().map(Refusal::Reported);
    }
    // What the journal holds for SQLite still needs room in the WAL and the database file.
    let coming = progress.unindexed_bytes().saturating_mul(UNINDEXED_ROOM_FACTOR);
    space.short(coming)?;
    if let Err(e) = journal.release_applied(next_batch, progress.indexed_batch()) {
        tracing::warn!(error = %e, "cannot give back the room of applied journal segments");
    }
    let free = space.short(coming)?;
    Some(Refusal::New(format!(
        "the disk is nearly full: {free} bytes free, {} kept for the database",
        space.reserve() + coming
    )))
}

/// Whether the indexer's queue takes one more batch, waiting up to [`INDEXER_PATIENCE`].
fn indexer_has_room(indexer: &Sender<IndexBatch>) -> bool {
    let deadline = Instant::now() + INDEXER_PATIENCE;
    while indexer.is_full() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    true
}

/// Conversations whose writes are refused until they reload (see the module doc).
#[derive(Debug, Default)]
struct FailedConversations(HashSet<Arc<str>>);

impl FailedConversations {
    /// Takes in order what may be written now: a reload barrier lifts its conversation's
    /// refusal; a request touching a failed conversation is refused.
    fn admit(&mut self, batch: &mut Vec<WriteRequest>) {
        if self.0.is_empty() && batch.iter().all(|r| r.clears_failure_of.is_none()) {
            return;
        }
        let mut kept = Vec::with_capacity(batch.len());
        for req in batch.drain(..) {
            if let Some(conv) = &req.clears_failure_of {
                self.0.remove(conv);
            }
            match req.ops.iter().filter_map(WriteOp::conversation).find(|c| self.0.contains(*c)) {
                Some(conv) => {
                    let e =
                        StoreError::Io(format!("an earlier write of {conv} failed; it reloads before writing again"));
                    req.done.complete(Err(e));
                }
                None => kept.push(req),
            }
        }
        *batch = kept;
    }

    fn failed(&mut self, batch: &[WriteRequest]) {
        self.0.extend(batch.iter().flat_map(|r| r.ops.iter().filter_map(WriteOp::conversation)).cloned());
    }
}

/// Runs until every sender is gone, then returns after the last group commit (the indexer
/// then finishes what was handed to it).
pub fn run(links: WriterLinks, rx: Receiver<WriteRequest>, max_batch_ops: usize) {
    let WriterLinks { mut journal, progress, indexer, mut next_batch, faults, health, mut space } = links;
    let mut batch: Vec<WriteRequest> = Vec::new();
    let mut failed = FailedConversations::default();
    while let Ok(first) = rx.recv() {
        let mut ops = first.ops.len();
        batch.push(first);
        while ops < max_batch_ops {
            match rx.try_recv() {
                Ok(req) => {
                    ops += req.ops.len();
                    batch.push(req);
                }
                Err(_) => break,
            }
        }
        faults.wait_while_writer_stalled();
        failed.admit(&mut batch);
        if batch.is_empty() {
            continue;
        }
        // Room on the disk, in the backlog and in the indexer's queue before the append: once
        // a batch is acknowledged it must reach the indexer, or SQLite would record later
        // batches as applied past it.
        let refused = match refusal(&mut journal, &mut space, &progress, &health, next_batch) {
            Some(Refusal::Reported(why)) => Some(why),
            Some(Refusal::New(why)) => {
                health.failed(&why);
                Some(why)
            }
            None if progress.wait_for_room(MAX_UNINDEXED_OPS, INDEXER_PATIENCE) && indexer_has_room(&indexer) => None,
            None => Some(health.failure().unwrap_or_else(|| "the database does not keep up with the journal".into())),
        };
        if let Some(why) = refused {
            let e = StoreError::Io(format!("the store is not taking writes: {why}"));
            metrics::counter!("timsg_store_errors_total").increment(1);
            failed.failed(&batch);
            for req in batch.drain(..) {
                req.done.complete(Err(e.clone()));
            }
            continue;
        }
        let started = Instant::now();
        let mut frame = journal.payload_buffer();
        serde_json::to_writer(&mut frame, &BatchOps(&batch)).expect("write ops always serialize");
        let bytes = frame.len() as u64;
        let appended = if faults.take_journal_failure() {
            journal.append_torn(next_batch, frame)
        } else {
            journal.append(next_batch, frame)
        };
        metrics::histogram!("timsg_store_commit_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("timsg_store_group_commit_ops").record(ops as f64);
        let segment = match appended {
            Ok(segment) => segment,
            Err(e) => {
                let e = StoreError::Io(format!("journal append failed: {e}"));
                tracing::error!(error = %e, requests = batch.len(), "group commit failed");
                health.failed(&e.to_string());
                metrics::counter!("timsg_store_errors_total").increment(1);
                failed.failed(&batch);
                for req in batch.drain(..) {
                    req.done.complete(Err(e.clone()));
                }
                continue;
            }
        };
        health.succeeded();
        // Before anyone hears of it: a read that starts after an acknowledgement waits for it.
        progress.journaled(next_batch, batch.iter().flat_map(|r| r.ops.iter().map(WriteOp::read_key)));
        progress.count_unindexed_bytes(bytes, true);
        let mut applied = Vec::with_capacity(ops);
        for WriteRequest { ops, done, .. } in batch.drain(..) {
            done.complete(Ok(()));
            applied.extend(ops);
        }
        if indexer.send(IndexBatch { batch: next_batch, segment, bytes, ops: applied }).is_err() {
            // Journaled all the same: the next open replays it into SQLite.
            tracing::error!(batch = next_batch, "the indexer is gone; batches wait in the journal for the next open");
        }
        next_batch += 1;
    }
}
