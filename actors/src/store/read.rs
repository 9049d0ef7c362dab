//! SQLite reads that rebuild state: a conversation's log and members, a user's conversations and
//! receive options, and where a message ID lives.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};

use crate::group::GroupInfo;
use crate::ids::{ConvKey, MsgId, UserId};
use crate::member::{MemberState, ReceiveOpt};
use crate::message::StoredMessage;

use super::{LoadedConversation, ReceiveOpts, StoreError};

/// A stored JSON record (message, member state, group info), or `Corrupt`.
pub(super) fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn load_conversation(conn: &Connection, key: &ConvKey) -> Result<LoadedConversation, StoreError> {
    load_conversation_window(conn, key, usize::MAX)
}

/// The messages of `key` with seqs `from..below`, in order, checked gap-free.
fn messages_between_seqs(
    conn: &Connection,
    key: &ConvKey,
    from: u64,
    below: u64,
) -> Result<Vec<Arc<StoredMessage>>, StoreError> {
    let conv = key.storage_key();
    let mut entries: Vec<Arc<StoredMessage>> = Vec::new();
    let mut stmt =
        conn.prepare_cached("SELECT record FROM messages WHERE conv = ?1 AND seq >= ?2 AND seq < ?3 ORDER BY seq")?;
    let mut rows = stmt.query(rusqlite::params![&conv, from as i64, below.min(i64::MAX as u64) as i64])?;
    while let Some(row) = rows.next()? {
        let m: StoredMessage = decode(&row.get::<_, String>(0)?)?;
        let expected = from + entries.len() as u64;
        if m.seq != expected {
            return Err(StoreError::Corrupt(format!("{key}: seq {} where {expected} should be", m.seq)));
        }
        entries.push(Arc::new(m));
    }
    Ok(entries)
}

/// The messages of `key` before seq `below`, in order.
pub fn load_messages_below(
    conn: &Connection,
    key: &ConvKey,
    below: u64,
) -> Result<Vec<Arc<StoredMessage>>, StoreError> {
    messages_between_seqs(conn, key, 1, below)
}

/// The conversation with its newest `window` messages whole and the IDs of the older ones.
pub fn load_conversation_window(
    conn: &Connection,
    key: &ConvKey,
    window: usize,
) -> Result<LoadedConversation, StoreError> {
    let conv = key.storage_key();
    let group = conn
        .prepare_cached("SELECT info FROM groups WHERE conv = ?1")?
        .query_row([&conv], |r| r.get::<_, String>(0))
        .optional()?
        .map(|s| decode::<GroupInfo>(&s))
        .transpose()?;
    let last: i64 = conn
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM messages WHERE conv = ?1")?
        .query_row([&conv], |r| r.get(0))?;
    let last = last as u64;
    let base = last.saturating_sub(window as u64) + 1;
    let entries = messages_between_seqs(conn, key, base, u64::MAX)?;
    let mut older_ids = Vec::new();
    if base > 1 {
        let mut stmt = conn.prepare_cached("SELECT msg_id, seq FROM messages WHERE conv = ?1 AND seq < ?2")?;
        let mut rows = stmt.query(rusqlite::params![&conv, base as i64])?;
        while let Some(row) = rows.next()? {
            older_ids.push((MsgId::from(row.get::<_, String>(0)?), row.get::<_, i64>(1)? as u64));
        }
    }
    let mut members = HashMap::new();
    let mut stmt = conn.prepare_cached("SELECT user, state FROM members WHERE conv = ?1")?;
    let mut rows = stmt.query([&conv])?;
    while let Some(row) = rows.next()? {
        let user: String = row.get(0)?;
        let state: MemberState = decode(&row.get::<_, String>(1)?)?;
        members.insert(UserId::from(user), state);
    }
    let mut stmt = conn.prepare_cached("SELECT owner, record FROM local_messages WHERE conv = ?1")?;
    let mut rows = stmt.query([&conv])?;
    while let Some(row) = rows.next()? {
        let owner: String = row.get(0)?;
        let m: StoredMessage = decode(&row.get::<_, String>(1)?)?;
        if let Some(member) = members.get_mut(owner.as_str()) {
            member.local_messages.push(Arc::new(m));
        }
    }
    for member in members.values_mut() {
        member.local_messages.sort_by_key(|m| m.view_order());
    }
    Ok(LoadedConversation { group, entries, base, older_ids, members })
}

/// Every conversation `user` has state in.
pub fn conversations_of(conn: &Connection, user: &str) -> Result<Vec<ConvKey>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT conv FROM members WHERE user = ?1")?;
    let rows = stmt.query_map([user], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for conv in rows {
        if let Some(k) = ConvKey::from_storage_key(&conv?) {
            out.push(k);
        }
    }
    Ok(out)
}

/// `owner`'s C2C receive options, by peer.
pub fn c2c_receive_opts(conn: &Connection, owner: &str) -> Result<ReceiveOpts, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT peer, opt FROM c2c_receive_opts WHERE owner = ?1")?;
    let rows = stmt.query_map([owner], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = ReceiveOpts::default();
    for row in rows {
        let (peer, opt) = row?;
        out.insert(peer, ReceiveOpt::from_number(opt as u32).unwrap_or_default());
    }
    Ok(out)
}

/// Where a message ID lives for `user`: shared messages of their conversations, then their
/// local-only messages.
pub fn locate_message(conn: &Connection, user: &str, msg_id: &str) -> Result<Option<ConvKey>, StoreError> {
    let shared: Option<String> = conn
        .prepare_cached(
            "SELECT m.conv FROM messages m JOIN members u ON u.conv = m.conv AND u.user = ?1
             WHERE m.msg_id = ?2 LIMIT 1",
        )?
        .query_row(params![user, msg_id], |r| r.get(0))
        .optional()?;
    let conv = match shared {
        Some(c) => Some(c),
        None => conn
            .prepare_cached("SELECT conv FROM local_messages WHERE owner = ?1 AND msg_id = ?2 LIMIT 1")?
            .query_row(params![user, msg_id], |r| r.get(0))
            .optional()?,
    };
    Ok(conv.and_then(|c| ConvKey::from_storage_key(&c)))
}

/// Blobs some committed message refers to.
pub fn referenced_blobs(conn: &Connection) -> Result<std::collections::HashSet<String>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT hash FROM blobs WHERE refs > 0")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = std::collections::HashSet::new();
    for h in rows {
        out.insert(h?);
    }
    Ok(out)
}

/// The newest committed message's rowid (0 for none): a point in the global commit order.
pub fn newest_message_mark(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.prepare_cached("SELECT COALESCE(MAX(rowid), 0) FROM messages")?.query_row([], |r| r.get(0))?)
}

/// When `user` last logged out: the message mark and the time (ms); `None` if it never did.
pub fn logout_point(conn: &Connection, user: &str) -> Result<Option<(i64, u64)>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT offline_mark, logout_stamp FROM users WHERE user = ?1")?
        .query_row([user], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? as u64)))
        .optional()?)
}

/// The last sequence of `conv`'s log of record this store holds (0: none).
pub fn log_position(conn: &Connection, conv: &str) -> Result<u64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT seq FROM log_positions WHERE conv = ?1")?
        .query_row([conv], |r| r.get::<_, i64>(0))
        .optional()?
        .map_or(0, |s| s as u64))
}

/// `user`'s account row, if it was ever imported, kicked or deleted.
pub fn account(conn: &Connection, user: &str) -> Result<Option<super::Account>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT imported, nick, face_url, sigs_valid_from FROM accounts WHERE user = ?1")?
        .query_row([user], |r| {
            Ok(super::Account {
                imported: r.get::<_, i64>(0)? != 0,
                nick: r.get(1)?,
                face_url: r.get(2)?,
                sigs_valid_from: r.get::<_, i64>(3)? as u64,
            })
        })
        .optional()?)
}

/// Every user whose UserSigs made before some time log in no more: (user, that time).
pub fn sig_floors(conn: &Connection) -> Result<Vec<(String, u64)>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT user, sigs_valid_from FROM accounts WHERE sigs_valid_from > 0")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// `user`'s pending deliveries, oldest first.
pub fn pending_deliveries(conn: &Connection, user: &str) -> Result<Vec<super::PendingDelivery>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT conv_type, conv_id, record FROM pending_deliveries WHERE user = ?1 ORDER BY stamp")?;
    let mut rows = stmt.query(params![user])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let message: StoredMessage = decode(&row.get::<_, String>(2)?)?;
        out.push((row.get(0)?, row.get(1)?, Arc::new(message)));
    }
    Ok(out)
}

/// Shared messages from others in `user`'s conversations committed after `after` and up to
/// `upto` (marks from [`newest_message_mark`]), per conversation.
pub fn messages_between(
    conn: &Connection,
    user: &str,
    after: i64,
    upto: i64,
) -> Result<crate::search::Candidates, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.conv, m.seq FROM messages m
         WHERE m.rowid > ?1 AND m.rowid <= ?3 AND m.sender != ?2
           AND m.conv IN (SELECT conv FROM members WHERE user = ?2)
         ORDER BY m.rowid",
    )?;
    let rows = stmt.query_map(params![after, user, upto], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = crate::search::Candidates::new();
    for row in rows {
        let (conv, seq) = row?;
        if let Some(k) = ConvKey::from_storage_key(&conv) {
            out.entry(k).or_default().0.push(seq as u64);
        }
    }
    Ok(out)
}
