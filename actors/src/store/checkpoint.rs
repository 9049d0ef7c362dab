//! The checkpointer: copies committed WAL frames back into the database file on its own thread
//! and connection, so the indexer (the thread that writes SQLite) never stops to do it.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses the threshold: that one
//! commit takes the whole copy, and the indexer falls behind the journal meanwhile. A passive
//! checkpoint from another connection runs beside the indexer and never blocks it; the
//! indexer restarts the WAL from the top once everything in it is copied.
//!
//! Under a steady stream of commits the copy never quite catches up, so the WAL would only
//! grow. When it passes its limit (see [`wal_restart_frames`]) the checkpointer raises a flag; the indexer then
//! runs one passive checkpoint itself between transactions — only the few frames written since
//! the last background pass are left to copy — and its next transaction starts the WAL over.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use rusqlite::Connection;

use super::StoreError;

/// How often the checkpointer looks at the WAL.
const INTERVAL: Duration = Duration::from_millis(50);

/// SQLite's page size here (its default).
const PAGE_BYTES: u64 = 4096;

/// WAL frames (pages) beyond which the indexer is asked to let the WAL start over: the WAL
/// may take `wal_limit` bytes of the disk (64 MiB with the default disk reserve).
pub fn wal_restart_frames(wal_limit: u64) -> i64 {
    (wal_limit / PAGE_BYTES).max(1) as i64
}

#[derive(Debug)]
pub struct Checkpointer {
    stop: Sender<()>,
    thread: JoinHandle<()>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path`; raises `wal_large` when the indexer should
    /// help (see the module doc).
    pub fn start(path: &Path, wal_limit: u64, wal_large: Arc<AtomicBool>) -> Result<Checkpointer, StoreError> {
        let restart_frames = wal_restart_frames(wal_limit);
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(1))?;
        let (stop, stopped) = crossbeam_channel::bounded(1);
        let thread = std::thread::Builder::new()
            .name("timsg-checkpoint".into())
            .spawn(move || run(&conn, &stopped, restart_frames, &wal_large))
            .map_err(|e| StoreError::Io(e.to_string()))?;
        Ok(Checkpointer { stop, thread })
    }

    /// Stops after the checkpoint in progress, if any.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

fn run(conn: &Connection, stopped: &Receiver<()>, restart_frames: i64, wal_large: &AtomicBool) {
    crate::background::lower_current_thread_priority();
    loop {
        match stopped.recv_timeout(INTERVAL) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        // (busy, frames in the WAL, frames copied); busy only means a later pass copies the rest.
        let outcome = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        });
        match outcome {
            Ok((_, log, copied)) => {
                tracing::trace!(log, copied, "checkpoint");
                if log > restart_frames {
                    wal_large.store(true, Ordering::Relaxed);
                }
            }
            Err(e) => tracing::warn!(error = %e, "checkpoint failed; retrying"),
        }
    }
}
