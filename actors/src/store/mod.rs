//! The embedded store: one SQLite file in the data directory.
//!
//! Writes go through the [writer] thread (group commit); reads use a small pool of read-only
//! connections, so history loads and searches never wait behind the writer.

pub mod checkpoint;
pub mod read;
pub mod schema;
pub mod search;
pub mod writer;

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::Sender;
use parking_lot::Mutex;
use rusqlite::{Connection, OpenFlags};
use thiserror::Error;

use crate::config::{Durability, EngineConfig};
pub use writer::{Completion, WriteCompleted, WriteOp, WriteRequest};

#[derive(Debug, Clone, PartialEq, Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(String),
    #[error("io: {0}")]
    Io(String),
    #[error("corrupt record: {0}")]
    Corrupt(String),
    #[error("the store is closed")]
    Closed,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e.to_string())
    }
}

#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    tx: Mutex<Option<Sender<WriteRequest>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    readers: Mutex<Vec<Connection>>,
    checkpointer: Mutex<Option<checkpoint::Checkpointer>>,
    /// Keeps the throw-away directory of [`Durability::Memory`] alive until the store goes.
    _scratch: Option<tempfile::TempDir>,
}

impl Store {
    /// Opens (creating if needed) the database and starts the writer thread.
    pub fn open(config: &EngineConfig) -> Result<Arc<Store>, StoreError> {
        let (dir, scratch) = match config.durability {
            Durability::Memory => {
                let t = tempfile::Builder::new()
                    .prefix("timsg-mem-")
                    .tempdir()
                    .map_err(|e| StoreError::Io(e.to_string()))?;
                (t.path().to_path_buf(), Some(t))
            }
            _ => {
                std::fs::create_dir_all(&config.data_dir)
                    .map_err(|e| StoreError::Io(format!("cannot create {}: {e}", config.data_dir.display())))?;
                (config.data_dir.clone(), None)
            }
        };
        let path = dir.join("timsg.db");
        let conn = Connection::open(&path)?;
        schema::configure_writer(&conn, config.durability)?;
        let (tx, rx) = crossbeam_channel::bounded(config.store_queue.max(1));
        let wal_large = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let wal_large_for_writer = wal_large.clone();
        let max_batch = config.group_commit_max.max(1);
        let writer = std::thread::Builder::new()
            .name("timsg-store".into())
            .spawn(move || writer::run(conn, rx, max_batch, &wal_large_for_writer))
            .map_err(|e| StoreError::Io(e.to_string()))?;
        let checkpointer = checkpoint::Checkpointer::start(&path, wal_large)?;
        tracing::info!(path = %path.display(), durability = ?config.durability, "store opened");
        Ok(Arc::new(Store {
            path,
            tx: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            readers: Mutex::new(Vec::new()),
            checkpointer: Mutex::new(Some(checkpointer)),
            _scratch: scratch,
        }))
    }

    /// The directory the database lives in (media blobs live beside it).
    pub fn dir(&self) -> &std::path::Path {
        self.path.parent().unwrap_or(std::path::Path::new("."))
    }

    /// Queues a write; waits while the writer's queue is full.
    pub fn submit(&self, request: WriteRequest) -> Result<(), StoreError> {
        let tx = self.tx.lock().clone().ok_or(StoreError::Closed)?;
        metrics::gauge!("timsg_store_queue_depth").set(tx.len() as f64);
        tx.send(request).map_err(|_| StoreError::Closed)
    }

    /// Writes `ops` and waits until they are durable.
    pub async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.submit(WriteRequest { ops, done: Completion::Channel(tx) })?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `f` on a pooled read connection.
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

impl Drop for Store {
    fn drop(&mut self) {
        self.close();
    }
}
