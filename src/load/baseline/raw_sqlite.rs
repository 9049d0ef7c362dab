//! The raw SQLite baseline of the durable bench and of `timsg load` with `os` or `fsync`: plain
//! rusqlite inserts of message records into one table, in transactions of a fixed size, on
//! the caller's thread — what a store that wrote each message straight into SQLite would do,
//! with no index beyond the table's own key.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};

/// A record of the size and shape the store keeps for a short text message.
const RECORD: &str = r#"{"id":"1700000000000-5f3a9c1e-1-0c4d2b7a","sender":"alice","seq":1,"local_id":0,"rand":42,"server_time":1700000000,"status":"SendSucc","content":{"elements":[{"body":{"Text":{"content":"load text message"}}}],"priority":1,"client_time":0,"platform":0,"cloud_custom_str":"","is_online":false,"excluded_from_unread":false,"excluded_from_last_message":false,"need_read_receipt":false,"at_users":[],"target_members":[]}}"#;

pub struct RawSqlite {
    db: Connection,
    seq: u64,
}

impl RawSqlite {
    /// Opens (creating) the database at `path`, WAL; with `sync`, each commit is fsynced
    /// (`synchronous = FULL`), otherwise left to the OS (`OFF`).
    pub fn open(path: &Path, sync: bool) -> Result<RawSqlite, String> {
        let open = || -> rusqlite::Result<Connection> {
            let db = Connection::open(path)?;
            db.pragma_update(None, "journal_mode", "WAL")?;
            db.pragma_update(None, "synchronous", if sync { "FULL" } else { "OFF" })?;
            db.execute_batch(
                "CREATE TABLE IF NOT EXISTS m (conv TEXT, seq INTEGER, msg_id TEXT, record TEXT, UNIQUE (conv, seq))",
            )?;
            Ok(db)
        };
        open().map(|db| RawSqlite { db, seq: 0 }).map_err(|e| format!("raw SQLite baseline: {e}"))
    }

    /// Inserts `rows` records spread over `conversations`, `batch` per transaction, and returns
    /// how long that took.
    pub fn insert(&mut self, rows: usize, batch: usize, conversations: usize) -> Result<Duration, String> {
        let started = Instant::now();
        let mut left = rows;
        while left > 0 {
            let n = left.min(batch.max(1));
            self.insert_batch(n, conversations.max(1)).map_err(|e| format!("raw SQLite baseline: {e}"))?;
            left -= n;
        }
        Ok(started.elapsed())
    }

    fn insert_batch(&mut self, n: usize, conversations: usize) -> rusqlite::Result<()> {
        let tx = self.db.transaction()?;
        {
            let mut stmt = tx.prepare_cached("INSERT INTO m (conv, seq, msg_id, record) VALUES (?1, ?2, ?3, ?4)")?;
            for _ in 0..n {
                self.seq += 1;
                let seq = self.seq;
                stmt.execute(params![
                    format!("c{}", seq % conversations as u64),
                    seq as i64,
                    format!("id{seq}"),
                    RECORD
                ])?;
            }
        }
        tx.commit()
    }
}
