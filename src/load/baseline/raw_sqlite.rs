//! The raw SQLite baseline of the durable bench and of `timsg load` with `os` or `fsync`: plain
//! rusqlite inserts of message records into one table, in transactions of a fixed size, on
//! the caller's thread — what a store that wrote each message straight into SQLite would do,
//! with no index beyond the table's own key.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};
use timsg_actors::element::Element;
use timsg_actors::message::{MessageContent, MessageStatus, StoredMessage};

/// The record the store keeps for a short text message (the store writes a message's record
/// as its JSON), made from the store's own message type so that it keeps its shape.
fn record() -> String {
    let message = StoredMessage {
        id: "1700000000000-5f3a9c1e-1-0c4d2b7a".into(),
        sender: "alice".into(),
        seq: 1,
        local_id: 0,
        rand: 42,
        server_time: 1_700_000_000,
        status: MessageStatus::SendSucc,
        revoke: None,
        content: Arc::new(MessageContent::with_elements(vec![Element::text("load text message")])),
    };
    serde_json::to_string(&message).unwrap_or_default()
}

pub struct RawSqlite {
    db: Connection,
    seq: u64,
    record: String,
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
        open().map(|db| RawSqlite { db, seq: 0, record: record() }).map_err(|e| format!("raw SQLite baseline: {e}"))
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
                    self.record
                ])?;
            }
        }
        tx.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_store_shaped_records_in_batches() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("raw.sqlite");
        RawSqlite::open(&path, false).unwrap().insert(600, 256, 7).unwrap();
        let db = Connection::open(&path).unwrap();
        let (rows, record): (i64, String) =
            db.query_row("SELECT count(*), min(record) FROM m", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        assert_eq!(rows, 600);
        let message: StoredMessage = serde_json::from_str(&record).unwrap();
        assert_eq!(
            (message.status, message.content.searchable_text().as_str()),
            (MessageStatus::SendSucc, "load text message")
        );
    }
}
