//! How one journaled op is written into SQLite: the statements behind each [`WriteOp`], used
//! alike by the indexer for live batches and by recovery for replayed ones.

use rusqlite::params;

use crate::message::{MessageStatus, StoredMessage};

use super::request::WriteOp;

/// Shared messages are stored as sent: durability is what makes them so.
fn record_of(message: &StoredMessage) -> String {
    let mut m = message.clone();
    if m.status == MessageStatus::Sending {
        m.status = MessageStatus::SendSucc;
    }
    serde_json::to_string(&m).expect("stored messages always serialize")
}

/// Writes `op` on `tx` (a transaction, or a savepoint inside one).
pub fn apply(tx: &rusqlite::Connection, op: &WriteOp) -> rusqlite::Result<()> {
    match op {
        WriteOp::InsertShared { conv, message } => {
            tx.prepare_cached(
                "INSERT INTO messages (conv, seq, msg_id, sender, server_time, type_mask, record)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                &**conv,
                message.seq as i64,
                &*message.id,
                &*message.sender,
                message.server_time as i64,
                i64::from(message.content.type_mask()),
                record_of(message),
            ])?;
            let rowid = tx.last_insert_rowid();
            index_text(tx, rowid, message)?;
            for hash in message.content.blob_refs() {
                tx.prepare_cached(
                    "INSERT INTO blobs (hash, refs) VALUES (?1, 1)
                     ON CONFLICT (hash) DO UPDATE SET refs = refs + 1",
                )?
                .execute([hash])?;
            }
        }
        WriteOp::UpdateShared { conv, message } => {
            let rowid: i64 = tx
                .prepare_cached("SELECT rowid FROM messages WHERE conv = ?1 AND seq = ?2")?
                .query_row(params![&**conv, message.seq as i64], |r| r.get(0))?;
            tx.prepare_cached("UPDATE messages SET record = ?1 WHERE rowid = ?2")?
                .execute(params![record_of(message), rowid])?;
            if message.status == MessageStatus::Revoked {
                tx.prepare_cached("DELETE FROM message_text WHERE rowid = ?1")?.execute([rowid])?;
            }
        }
        WriteOp::UpsertMember { conv, user, state } => {
            tx.prepare_cached(
                "INSERT INTO members (conv, user, state) VALUES (?1, ?2, ?3)
                 ON CONFLICT (conv, user) DO UPDATE SET state = excluded.state",
            )?
            .execute(params![&**conv, &**user, state])?;
        }
        WriteOp::InsertLocal { conv, owner, message } => {
            tx.prepare_cached(
                "INSERT INTO local_messages (conv, owner, local_id, msg_id, sender, server_time, type_mask, record)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                &**conv,
                &**owner,
                message.local_id as i64,
                &*message.id,
                &*message.sender,
                message.server_time as i64,
                i64::from(message.content.type_mask()),
                serde_json::to_string(&**message).expect("stored messages always serialize"),
            ])?;
            let rowid = tx.last_insert_rowid();
            index_text(tx, -rowid, message)?;
        }
        WriteOp::DeleteLocal { conv, owner, local_id } => {
            let rowid: Option<i64> = tx
                .prepare_cached("SELECT rowid FROM local_messages WHERE conv = ?1 AND owner = ?2 AND local_id = ?3")?
                .query_row(params![&**conv, &**owner, *local_id as i64], |r| r.get(0))
                .ok();
            if let Some(rowid) = rowid {
                tx.prepare_cached("DELETE FROM local_messages WHERE rowid = ?1")?.execute([rowid])?;
                tx.prepare_cached("DELETE FROM message_text WHERE rowid = ?1")?.execute([-rowid])?;
            }
        }
        WriteOp::UpsertGroup { conv, info } => {
            tx.prepare_cached(
                "INSERT INTO groups (conv, info) VALUES (?1, ?2)
                 ON CONFLICT (conv) DO UPDATE SET info = excluded.info",
            )?
            .execute(params![&**conv, info])?;
        }
        WriteOp::SetOfflineMark { user, mark, stamp } => {
            tx.prepare_cached(
                "INSERT INTO users (user, offline_mark, logout_stamp) VALUES (?1, ?2, ?3)
                 ON CONFLICT (user) DO UPDATE SET offline_mark = excluded.offline_mark, logout_stamp = excluded.logout_stamp",
            )?
            .execute(params![&**user, mark, *stamp as i64])?;
        }
        WriteOp::StartOfflineMark { user, stamp } => {
            tx.prepare_cached(
                "INSERT INTO users (user, offline_mark, logout_stamp) VALUES (?1, 0, ?2) ON CONFLICT (user) DO NOTHING",
            )?
            .execute(params![&**user, *stamp as i64])?;
        }
        WriteOp::SetLogPosition { conv, seq } => {
            tx.prepare_cached(
                "INSERT INTO log_positions (conv, seq) VALUES (?1, ?2)
                 ON CONFLICT (conv) DO UPDATE SET seq = max(seq, excluded.seq)",
            )?
            .execute(params![&**conv, *seq as i64])?;
        }
        WriteOp::ImportAccount { user, nick, face_url } => {
            tx.prepare_cached(
                "INSERT INTO accounts (user, imported, nick, face_url, sigs_valid_from) VALUES (?1, 1, ?2, ?3, 0)
                 ON CONFLICT (user) DO UPDATE SET imported = 1, nick = excluded.nick, face_url = excluded.face_url",
            )?
            .execute(params![&**user, nick, face_url])?;
        }
        WriteOp::RevokeSigs { user, before, delete } => {
            let sql = if *delete {
                "INSERT INTO accounts (user, imported, nick, face_url, sigs_valid_from) VALUES (?1, 0, '', '', ?2)
                 ON CONFLICT (user) DO UPDATE SET imported = 0, nick = '', face_url = '',
                 sigs_valid_from = max(sigs_valid_from, excluded.sigs_valid_from)"
            } else {
                "INSERT INTO accounts (user, imported, nick, face_url, sigs_valid_from) VALUES (?1, 0, '', '', ?2)
                 ON CONFLICT (user) DO UPDATE SET sigs_valid_from = max(sigs_valid_from, excluded.sigs_valid_from)"
            };
            tx.prepare_cached(sql)?.execute(params![&**user, *before as i64])?;
        }
        WriteOp::AddPendingDelivery { user, stamp, conv_type, conv_id, message } => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO pending_deliveries (user, id, stamp, conv_type, conv_id, record)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                &**user,
                &*message.id,
                *stamp as i64,
                conv_type,
                conv_id,
                record_of(message)
            ])?;
            // Trimmed to the bound now and then, not on every insert (it walks the user's rows).
            if stamp % 64 == 0 {
                tx.prepare_cached(
                    "DELETE FROM pending_deliveries WHERE user = ?1 AND stamp <=
                 (SELECT stamp FROM pending_deliveries WHERE user = ?1 ORDER BY stamp DESC LIMIT 1 OFFSET ?2)",
                )?
                .execute(params![&**user, super::MAX_PENDING_DELIVERIES as i64])?;
            }
        }
        WriteOp::DropPendingDeliveries { user, ids } => {
            let mut delete = tx.prepare_cached("DELETE FROM pending_deliveries WHERE user = ?1 AND id = ?2")?;
            for id in ids {
                delete.execute(params![&**user, &**id])?;
            }
        }
        WriteOp::SetC2cReceiveOpt { owner, peer, opt } => {
            tx.prepare_cached(
                "INSERT INTO c2c_receive_opts (owner, peer, opt) VALUES (?1, ?2, ?3)
                 ON CONFLICT (owner, peer) DO UPDATE SET opt = excluded.opt",
            )?
            .execute(params![&**owner, peer, i64::from(*opt)])?;
        }
    }
    Ok(())
}

fn index_text(tx: &rusqlite::Connection, rowid: i64, message: &StoredMessage) -> rusqlite::Result<()> {
    let text = message.content.searchable_text();
    if !text.is_empty() {
        tx.prepare_cached("INSERT INTO message_text (rowid, body) VALUES (?1, ?2)")?.execute(params![rowid, text])?;
    }
    Ok(())
}
