//! The store: where conversations, members and options are kept, behind one interface with two
//! backends.
//!
//! - [`sqlite`]: the embedded default, one SQLite file in the data directory (durability
//!   `fsync` or `os`) and its [journal]: writes are made durable by the group-commit [writer]
//!   thread and applied to SQLite by the [indexer]; reads go through a pool of read-only
//!   connections ([read], [search]).
//! - [`memory`]: durability `memory`, nothing on disk: the same tables in this process, written
//!   in place, gone at close. For tests, benchmarks and load runs that measure the runtime
//!   rather than the disk.
//!
//! Callers see one set of requests ([`request`]) and typed reads; both backends answer them
//! alike (the `store_backends` test drives the same calls through each).

pub mod apply;
pub mod checkpoint;
pub mod disk_space;
pub mod health;
pub mod id_index;
pub mod indexer;
pub mod journal;
pub mod memory;
pub mod memory_search;
pub mod progress;
pub mod read;
pub mod request;
pub mod schema;
pub mod search;
pub mod sqlite;
pub mod writer;

/// What the store's tests build their writes from.
#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::Arc;

    use crate::element::Element;
    use crate::message::{MessageContent, MessageStatus, StoredMessage};

    /// A text message from alice at `seq`, as a conversation hands it to the store (Sending).
    pub fn message(id: &str, seq: u64) -> Arc<StoredMessage> {
        Arc::new(StoredMessage {
            id: id.into(),
            sender: "alice".into(),
            seq,
            local_id: 0,
            rand: 0,
            server_time: 1,
            status: MessageStatus::Sending,
            revoke: None,
            content: Arc::new(MessageContent::with_elements(vec![Element::text("hi")])),
        })
    }
}

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use thiserror::Error;

/// Pending deliveries kept per user at most (the newest): a user who never logs in again
/// does not grow the store without end.
pub const MAX_PENDING_DELIVERIES: usize = 1000;

/// A message that reached no stream of its user: the conversation as the user sees it
/// (`ConvType` number, ID) and the message.
pub type PendingDelivery = (u32, String, Arc<crate::message::StoredMessage>);

/// What the store keeps of a user's account: whether the app imported it (with its nickname
/// and face URL), and the time (s) before which its UserSigs log in no more (0: none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    pub imported: bool,
    pub nick: String,
    pub face_url: String,
    pub sigs_valid_from: u64,
}

use crate::config::{Durability, EngineConfig};
use crate::group::GroupInfo;
use crate::ids::{ConvKey, MsgId, UserId};
use crate::member::{MemberState, ReceiveOpt};
use crate::message::StoredMessage;
use crate::search::{Candidates, SearchQuery};

/// A user's C2C receive options by peer. foldhash, not SipHash: every C2C delivery to a user
/// who set any option looks the sender up here.
pub type ReceiveOpts = foldhash::HashMap<String, ReceiveOpt>;
pub use request::{Completion, WriteCompleted, WriteOp, WriteRequest};

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

/// Everything stored about one conversation.
#[derive(Debug, Default)]
pub struct LoadedConversation {
    pub group: Option<GroupInfo>,
    /// The messages from seq `base` on (all of them when `base` is 1).
    pub entries: Vec<Arc<StoredMessage>>,
    pub base: u64,
    /// The IDs and seqs of the messages before `base`, left out of `entries`.
    pub older_ids: Vec<(MsgId, u64)>,
    pub members: HashMap<UserId, MemberState>,
}

#[derive(Debug)]
enum Backend {
    Sqlite(sqlite::SqliteStore),
    Memory(memory::MemoryStore),
}

#[derive(Debug)]
pub struct Store {
    /// Where the database (if any) and the media blobs live.
    dir: PathBuf,
    backend: Backend,
    /// Keeps the throw-away directory of [`Durability::Memory`] (its media blobs) alive until
    /// the store goes.
    _scratch: Option<tempfile::TempDir>,
}

impl Store {
    /// Opens the store `config` asks for: SQLite in the data directory (created if needed), or
    /// the in-process tables with a throw-away directory for media.
    pub fn open(config: &EngineConfig) -> Result<Arc<Store>, StoreError> {
        if config.durability == Durability::Memory {
            let scratch =
                tempfile::Builder::new().prefix("timsg-mem-").tempdir().map_err(|e| StoreError::Io(e.to_string()))?;
            tracing::info!(durability = ?config.durability, "store opened in memory");
            return Ok(Arc::new(Store {
                dir: scratch.path().to_path_buf(),
                backend: Backend::Memory(memory::MemoryStore::default()),
                _scratch: Some(scratch),
            }));
        }
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| StoreError::Io(format!("cannot create {}: {e}", config.data_dir.display())))?;
        let backend = sqlite::SqliteStore::open(
            &config.data_dir,
            config.durability,
            config.store_queue,
            config.group_commit_max,
            config.disk_reserve,
            config.faults.clone(),
        )?;
        Ok(Arc::new(Store { dir: config.data_dir.clone(), backend: Backend::Sqlite(backend), _scratch: None }))
    }

    /// The directory the database lives in (media blobs live beside it).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Queues a write (SQLite: waits while the writer's queue is full; memory: applies it at
    /// once). Its completion fires when it is durable.
    pub fn submit(&self, request: WriteRequest) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.submit(request),
            Backend::Memory(m) => m.submit(request),
        }
    }

    /// Writes `ops` at once if the store is in this process (durability `memory`: nothing to
    /// wait for) and returns the outcome; `None` from the SQLite store, whose writes are
    /// durable later on its writer thread (use [`Store::submit`]).
    pub fn write_now(&self, ops: &[WriteOp]) -> Option<Result<(), StoreError>> {
        match &self.backend {
            Backend::Sqlite(_) => None,
            Backend::Memory(m) => Some(m.write_now(ops)),
        }
    }

    /// Why the last group commit failed, if it did (the store is unhealthy until one works).
    pub fn failure(&self) -> Option<String> {
        match &self.backend {
            Backend::Sqlite(s) => s.health.failure(),
            Backend::Memory(_) => None,
        }
    }

    /// Writes `ops` and waits until they are durable.
    pub async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.submit(WriteRequest::new(ops, Completion::Channel(tx)))?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// The stored log, members and group info of `key`.
    pub fn load_conversation(&self, key: &ConvKey) -> Result<LoadedConversation, StoreError> {
        self.load_conversation_window(key, usize::MAX)
    }

    /// As [`load_conversation`](Self::load_conversation), with only the newest `window`
    /// messages whole (the IDs of the others).
    pub fn load_conversation_window(&self, key: &ConvKey, window: usize) -> Result<LoadedConversation, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => {
                let conv = key.storage_key();
                s.read(sqlite::ReadAfter::Key(&conv), |c| read::load_conversation_window(c, key, window))
            }
            Backend::Memory(m) => m.load_conversation_window(key, window),
        }
    }

    /// The messages of `key` with seqs from 1 to `below` (exclusive), in order.
    pub fn load_messages_below(&self, key: &ConvKey, below: u64) -> Result<Vec<Arc<StoredMessage>>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => {
                let conv = key.storage_key();
                s.read(sqlite::ReadAfter::Key(&conv), |c| read::load_messages_below(c, key, below))
            }
            Backend::Memory(m) => m.load_messages_below(key, below),
        }
    }

    /// Every conversation `user` has state in.
    pub fn conversations_of(&self, user: &str) -> Result<Vec<ConvKey>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.read(sqlite::ReadAfter::All, |c| read::conversations_of(c, user)),
            Backend::Memory(m) => m.conversations_of(user),
        }
    }

    /// `owner`'s C2C receive options, by peer.
    pub fn c2c_receive_opts(&self, owner: &str) -> Result<ReceiveOpts, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.read(sqlite::ReadAfter::Key(owner), |c| read::c2c_receive_opts(c, owner)),
            Backend::Memory(m) => m.c2c_receive_opts(owner),
        }
    }

    /// Where a message ID lives for `user`: shared messages of their conversations, then their
    /// local-only messages.
    pub fn locate_message(&self, user: &str, msg_id: &str) -> Result<Option<ConvKey>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.read(sqlite::ReadAfter::All, |c| read::locate_message(c, user, msg_id)),
            Backend::Memory(m) => m.locate_message(user, msg_id),
        }
    }

    /// Blobs some committed message refers to.
    pub fn referenced_blobs(&self) -> Result<HashSet<String>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.read(sqlite::ReadAfter::All, read::referenced_blobs),
            Backend::Memory(m) => m.referenced_blobs(),
        }
    }

    /// The newest committed message's mark (0 for none): a point in the global commit order.
    pub fn newest_message_mark(&self) -> Result<i64, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.read(sqlite::ReadAfter::All, read::newest_message_mark),
            Backend::Memory(m) => m.newest_message_mark(),
        }
    }

    /// When `user` last logged out: the message mark and the time (ms); `None` if it never did.
    pub fn logout_point(&self, user: &str) -> Result<Option<(i64, u64)>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.read(sqlite::ReadAfter::Key(user), |c| read::logout_point(c, user)),
            Backend::Memory(m) => m.logout_point(user),
        }
    }

    /// The last sequence of `conv`'s log of record this store holds (cluster mode; 0: none).
    pub fn log_position(&self, conv: &str) -> Result<u64, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.read(sqlite::ReadAfter::Key(conv), |c| read::log_position(c, conv)),
            Backend::Memory(m) => m.log_position(conv),
        }
    }

    /// `user`'s account (see [`Account`]); `None` if it was never imported, kicked or deleted.
    pub fn account(&self, user: &str) -> Result<Option<Account>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.read(sqlite::ReadAfter::Key(user), |c| read::account(c, user)),
            Backend::Memory(m) => m.account(user),
        }
    }

    /// Every user whose UserSigs made before some time (s) log in no more.
    pub fn sig_floors(&self) -> Result<Vec<(String, u64)>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.read(sqlite::ReadAfter::All, read::sig_floors),
            Backend::Memory(m) => m.sig_floors(),
        }
    }

    /// `user`'s messages and notices that reached no stream yet, oldest first.
    pub fn pending_deliveries(&self, user: &str) -> Result<Vec<PendingDelivery>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.read(sqlite::ReadAfter::Key(user), |c| read::pending_deliveries(c, user)),
            Backend::Memory(m) => m.pending_deliveries(user),
        }
    }

    /// Shared messages from others in `user`'s conversations committed after `after` and up to
    /// `upto` (marks from [`Store::newest_message_mark`]), per conversation, in commit order.
    pub fn messages_between(&self, user: &str, after: i64, upto: i64) -> Result<Candidates, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.read(sqlite::ReadAfter::All, |c| read::messages_between(c, user, after, upto)),
            Backend::Memory(m) => m.messages_between(user, after, upto),
        }
    }

    /// Search candidates for `user`, per conversation (each conversation then keeps what the
    /// user can still see).
    pub fn search_candidates(&self, user: &str, query: &SearchQuery) -> Result<Candidates, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.read(sqlite::ReadAfter::All, |c| search::candidates(c, user, query)),
            Backend::Memory(m) => m.search_candidates(user, query),
        }
    }

    /// Stops taking writes and waits for those in progress.
    pub fn close(&self) {
        match &self.backend {
            Backend::Sqlite(s) => s.close(),
            Backend::Memory(m) => m.close(),
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.close();
    }
}
