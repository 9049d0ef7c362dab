//! The SQLite backend: one database file, written only by the [writer](super::writer) thread
//! (group commit), read through a small pool of read-only connections so history loads and
//! searches never wait behind the writer.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::thread::JoinHandle;

use crossbeam_channel::Sender;
use parking_lot::Mutex;
use rusqlite::{Connection, OpenFlags};

use crate::config::Durability;

use super::StoreError;
use super::checkpoint::Checkpointer;
use super::request::WriteRequest;
use super::{schema, writer};

/// The database's file name in the data directory.
pub const DATABASE_FILE: &str = "timsg.db";

#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    tx: Mutex<Option<Sender<WriteRequest>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    readers: Mutex<Vec<Connection>>,
    checkpointer: Mutex<Option<Checkpointer>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `dir` and starts the writer and checkpointer
    /// threads. `queue` bounds the requests waiting for the writer; `max_batch` the ops per
    /// transaction.
    pub fn open(dir: &Path, durability: Durability, queue: usize, max_batch: usize) -> Result<Self, StoreError> {
        let path = dir.join(DATABASE_FILE);
        let conn = Connection::open(&path)?;
        schema::configure_writer(&conn, durability)?;
        let (tx, rx) = crossbeam_channel::bounded(queue.max(1));
        let wal_large = Arc::new(AtomicBool::new(false));
        let wal_large_for_writer = wal_large.clone();
        let max_batch = max_batch.max(1);
        let writer = std::thread::Builder::new()
            .name("timsg-store".into())
            .spawn(move || writer::run(conn, rx, max_batch, &wal_large_for_writer))
            .map_err(|e| StoreError::Io(e.to_string()))?;
        let checkpointer = Checkpointer::start(&path, wal_large)?;
        tracing::info!(path = %path.display(), durability = ?durability, "store opened");
        Ok(SqliteStore {
            path,
            tx: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            readers: Mutex::new(Vec::new()),
            checkpointer: Mutex::new(Some(checkpointer)),
        })
    }

    /// Queues a write; waits while the writer's queue is full.
    pub fn submit(&self, request: WriteRequest) -> Result<(), StoreError> {
        let tx = self.tx.lock().clone().ok_or(StoreError::Closed)?;
        metrics::gauge!("timsg_store_queue_depth").set(tx.len() as f64);
        tx.send(request).map_err(|_| StoreError::Closed)
    }

    /// Runs `f` on a pooled read connection, inside one read transaction.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
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

    /// Stops taking writes, lets the writer commit what it has, and waits for it.
    pub fn close(&self) {
        self.tx.lock().take();
        if let Some(handle) = self.writer.lock().take() {
            let _ = handle.join();
        }
        if let Some(c) = self.checkpointer.lock().take() {
            c.stop();
        }
        self.readers.lock().clear();
    }
}
