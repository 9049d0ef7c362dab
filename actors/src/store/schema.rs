//! The SQLite schema and connection settings. One writing connection (the indexer thread) and
//! any number of read connections; WAL lets reads run while the indexer commits.

use rusqlite::Connection;

use crate::config::Durability;

pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS messages (
    rowid       INTEGER PRIMARY KEY,
    conv        TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    msg_id      TEXT    NOT NULL,
    sender      TEXT    NOT NULL,
    server_time INTEGER NOT NULL,
    type_mask   INTEGER NOT NULL,
    record      TEXT    NOT NULL,
    UNIQUE (conv, seq)
);
CREATE INDEX IF NOT EXISTS messages_by_id ON messages (msg_id);
-- Sender-first search (see store/search.rs).
CREATE INDEX IF NOT EXISTS messages_by_sender ON messages (sender);
CREATE TABLE IF NOT EXISTS local_messages (
    rowid       INTEGER PRIMARY KEY,
    conv        TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    local_id    INTEGER NOT NULL,
    msg_id      TEXT    NOT NULL,
    sender      TEXT    NOT NULL,
    server_time INTEGER NOT NULL,
    type_mask   INTEGER NOT NULL,
    record      TEXT    NOT NULL,
    UNIQUE (conv, owner, local_id)
);
CREATE INDEX IF NOT EXISTS local_messages_by_id ON local_messages (owner, msg_id);
CREATE TABLE IF NOT EXISTS members (
    conv  TEXT NOT NULL,
    user  TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (conv, user)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_by_user ON members (user, conv);
CREATE TABLE IF NOT EXISTS groups (
    conv TEXT PRIMARY KEY,
    info TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS c2c_receive_opts (
    owner TEXT NOT NULL,
    peer  TEXT NOT NULL,
    opt   INTEGER NOT NULL,
    PRIMARY KEY (owner, peer)
) WITHOUT ROWID;
-- Per user: when it last logged out, as the last message (by rowid) committed before, and as
-- a time; what came after is delivered at the next login.
CREATE TABLE IF NOT EXISTS users (
    user         TEXT PRIMARY KEY,
    offline_mark INTEGER NOT NULL,
    logout_stamp INTEGER NOT NULL
) WITHOUT ROWID;
-- Cluster mode: per conversation, the last sequence of its log of record this store holds.
CREATE TABLE IF NOT EXISTS log_positions (
    conv TEXT PRIMARY KEY,
    seq  INTEGER NOT NULL
) WITHOUT ROWID;
-- Accounts the app imported (the REST API's account_import), and for any user the time (s)
-- before which its UserSigs log in no more (a kick, a deletion; 0 for none).
CREATE TABLE IF NOT EXISTS accounts (
    user            TEXT PRIMARY KEY,
    imported        INTEGER NOT NULL,
    nick            TEXT NOT NULL,
    face_url        TEXT NOT NULL,
    sigs_valid_from INTEGER NOT NULL
) WITHOUT ROWID;
-- Messages and system notices (GroupReports) that reached no event stream of their user (it
-- had logged out, or its stream was full), until a stream delivers them: they reach the user
-- at its next login. At most MAX_PENDING_DELIVERIES per user, the newest.
CREATE TABLE IF NOT EXISTS pending_deliveries (
    user   TEXT    NOT NULL,
    id     TEXT    NOT NULL,
    stamp     INTEGER NOT NULL,
    conv_type INTEGER NOT NULL,
    conv_id   TEXT    NOT NULL,
    record    TEXT    NOT NULL,
    PRIMARY KEY (user, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pending_deliveries_by_stamp ON pending_deliveries (user, stamp);
-- Committed messages referring to each stored blob.
CREATE TABLE IF NOT EXISTS blobs (
    hash TEXT PRIMARY KEY,
    refs INTEGER NOT NULL
) WITHOUT ROWID;
-- The last journal batch this database holds (see store/journal.rs): recovery replays after it.
CREATE TABLE IF NOT EXISTS journal_applied (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    batch INTEGER NOT NULL
);
-- Text of shared messages (rowid = messages.rowid) and local-only ones (rowid = -local_messages.rowid).
CREATE VIRTUAL TABLE IF NOT EXISTS message_text USING fts5 (body, tokenize = 'trigram');
"#;

/// Settings of the writing (indexer's) connection for a durability level.
/// `wal_limit` is what the WAL's file is cut back to when it starts over.
pub fn configure_writer(conn: &Connection, durability: Durability, wal_limit: u64) -> rusqlite::Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // With `fsync`, every indexer transaction syncs, so whatever SQLite has committed is on
    // disk when the journal segments holding the same batches are deleted. (Commits without a
    // sync and one synced commit before each deletion measured worse: p99 19-30 ms instead of
    // 8-9 at 20,000 msg/s, the unsynced WAL then reaching the disk in bursts.) With `os`,
    // NORMAL: commits are not synced (a power loss may lose the newest, as `os` says), but in
    // WAL mode NORMAL, unlike OFF, never leaves a database that is corrupt after one. `Memory`
    // never reaches SQLite (it has its own backend).
    let sync = if durability == Durability::Fsync { "FULL" } else { "NORMAL" };
    conn.pragma_update(None, "synchronous", sync)?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    // Checkpoints run on their own thread (see `checkpoint`), never inside a transaction.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    // When the WAL starts over, its file is cut back to this size rather than kept at its peak.
    conn.pragma_update(None, "journal_size_limit", wal_limit as i64)?;
    conn.execute_batch(SCHEMA)
}

/// How much of the database file each read connection maps at most.
const READER_MMAP_BYTES: i64 = 1 << 30;

/// Settings of a read connection.
pub fn configure_reader(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Memory-mapped reads: activating a conversation reads its pages straight from the
    // mapping instead of copying each through a read(2). (Mapped pages count in the process's
    // RSS but are the page cache's, shared and reclaimable.) Measured on activation-heavy load:
    // +30 % messages/s; a larger page cache or a mapped writer gained nothing.
    conn.pragma_update(None, "mmap_size", READER_MMAP_BYTES)?;
    super::search::register_functions(conn)?;
    conn.pragma_update(None, "query_only", "ON")
}
