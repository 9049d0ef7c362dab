//! Failure points, for tests that prove what the store and the actors do on their worst day:
//! a journal append that fails halfway (as on a full disk or an I/O error), a writer that
//! stalls (as behind a hung disk), an indexer that panics or whose database refuses its batches. Production never sets them; each
//! costs one atomic load per group commit or indexer batch.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

#[derive(Debug, Default)]
pub struct Faults {
    journal_append_failures: AtomicU32,
    writer_stalled: AtomicBool,
    indexer_panic: AtomicBool,
    indexing_refused: AtomicBool,
}

impl Faults {
    /// Makes the next `n` journal appends fail after writing part of their frame.
    pub fn fail_journal_appends(&self, n: u32) {
        self.journal_append_failures.store(n, Ordering::SeqCst);
    }

    /// Holds the store writer before its next group commit until called with `false`.
    pub fn stall_writer(&self, stalled: bool) {
        self.writer_stalled.store(stalled, Ordering::SeqCst);
    }

    /// Makes the indexer panic when it takes its next batch.
    pub fn panic_indexer(&self) {
        self.indexer_panic.store(true, Ordering::SeqCst);
    }

    /// While set, SQLite "refuses" every batch the indexer applies, as on a full disk: the
    /// batches stay in the journal only.
    pub fn refuse_indexing(&self, refused: bool) {
        self.indexing_refused.store(refused, Ordering::SeqCst);
    }

    pub(crate) fn indexing_refused(&self) -> bool {
        self.indexing_refused.load(Ordering::SeqCst)
    }

    pub(crate) fn take_indexer_panic(&self) -> bool {
        self.indexer_panic.swap(false, Ordering::SeqCst)
    }

    /// Whether this append is to fail (counting it).
    pub(crate) fn take_journal_failure(&self) -> bool {
        self.journal_append_failures.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
    }

    pub(crate) fn wait_while_writer_stalled(&self) {
        while self.writer_stalled.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}
