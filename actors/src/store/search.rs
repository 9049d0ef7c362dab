//! Finding search candidates in SQLite, by one of two plans:
//!
//! - **text first**: the FTS5 trigram match, then the scope (the user's conversations or local
//!   messages), sender, element type and time filters;
//! - **sender first**, when the query names senders with few stored messages: those messages
//!   through the sender index, each text tested for the keywords. A common keyword's trigram
//!   postings grow with the whole store (at 10M messages a two-keyword AND took ~300 ms), while
//!   one sender's messages are few; FTS5 cannot narrow its match to a set of rowids, so the
//!   plan has to be chosen here.
//!
//! Trigram matching needs at least three characters; shorter keywords (two CJK characters,
//! say) use the substring test too, so they still match. The substring test folds case like the
//! trigram index does, so both plans find the same messages.

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;

use crate::element::type_bit;
use crate::ids::ConvKey;
use crate::search::{Candidates, SearchQuery};

use super::StoreError;

/// Senders with at most this many stored messages (together) are searched sender first. At a
/// few µs per tested text this bounds the sender-first plan to tens of milliseconds.
const SENDER_FIRST_MAX_MESSAGES: i64 = 20_000;

/// The SQL function the substring test uses: `timsg_contains(text, keyword)`.
const CONTAINS_FN: &str = "timsg_contains";

/// Registers the substring test (`timsg_contains`, see `CONTAINS_FN`) on a connection.
pub fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        CONTAINS_FN,
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let text = ctx.get_raw(0).as_str().unwrap_or("");
            let keyword = ctx.get_raw(1).as_str().unwrap_or("");
            Ok(contains_folded(text, keyword))
        },
    )
}

/// Whether `text` contains `keyword`, ignoring case (as the trigram index does).
pub fn contains_folded(text: &str, keyword: &str) -> bool {
    if text.contains(keyword) {
        return true;
    }
    text.to_lowercase().contains(&keyword.to_lowercase())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// No keywords: the filters alone.
    NoText,
    TextFirst,
    /// Keywords tested on each candidate's text: sender first, or keywords too short for
    /// trigrams.
    Substring {
        by_sender: bool,
    },
}

/// Whether every keyword is long enough (three characters) for the trigram index.
fn trigram_matchable(q: &SearchQuery) -> bool {
    q.keywords.iter().all(|k| k.chars().count() >= 3)
}

fn plan(conn: &Connection, q: &SearchQuery) -> Result<Plan, StoreError> {
    if q.keywords.is_empty() {
        return Ok(Plan::NoText);
    }
    if !q.senders.is_empty() {
        let marks = vec!["?"; q.senders.len()].join(",");
        let sql = format!("SELECT count(*) FROM messages INDEXED BY messages_by_sender WHERE sender IN ({marks})");
        let count: i64 = conn.prepare(&sql)?.query_row(rusqlite::params_from_iter(&q.senders), |r| r.get(0))?;
        if count <= SENDER_FIRST_MAX_MESSAGES {
            return Ok(Plan::Substring { by_sender: true });
        }
    }
    if trigram_matchable(q) { Ok(Plan::TextFirst) } else { Ok(Plan::Substring { by_sender: false }) }
}

fn fts_phrase(keyword: &str) -> String {
    format!("\"{}\"", keyword.replace('"', "\"\""))
}

/// The text condition on `message_text t` under `plan`, with its parameters.
fn text_condition(q: &SearchQuery, plan: Plan, params: &mut Vec<Value>) -> Option<String> {
    let joiner = if q.match_all { " AND " } else { " OR " };
    match plan {
        Plan::NoText => None,
        Plan::TextFirst => {
            let expr: Vec<String> = q.keywords.iter().map(|k| fts_phrase(k)).collect();
            params.push(Value::Text(expr.join(joiner)));
            Some("message_text MATCH ?".into())
        }
        Plan::Substring { .. } => {
            let parts: Vec<String> = q
                .keywords
                .iter()
                .map(|k| {
                    params.push(Value::Text(k.clone()));
                    format!("{CONTAINS_FN}(t.body, ?)")
                })
                .collect();
            Some(format!("({})", parts.join(joiner)))
        }
    }
}

fn filters(q: &SearchQuery, alias: &str, params: &mut Vec<Value>) -> String {
    let mut sql = String::new();
    if !q.senders.is_empty() {
        let marks = vec!["?"; q.senders.len()].join(",");
        sql.push_str(&format!(" AND {alias}.sender IN ({marks})"));
        params.extend(q.senders.iter().map(|s| Value::Text(s.clone())));
    }
    if !q.types.is_empty() {
        let mask = q.types.iter().fold(0u32, |m, t| m | type_bit(*t));
        sql.push_str(&format!(" AND ({alias}.type_mask & ?) != 0"));
        params.push(Value::Integer(i64::from(mask)));
    }
    sql.push_str(&format!(" AND {alias}.server_time BETWEEN ? AND ?"));
    params.push(Value::Integer(q.time_from as i64));
    params.push(Value::Integer(q.time_to.min(i64::MAX as u64) as i64));
    sql
}

/// Candidate matches for `user`, per conversation.
pub fn candidates(conn: &Connection, user: &str, q: &SearchQuery) -> Result<Candidates, StoreError> {
    let mut out = Candidates::new();
    let plan = plan(conn, q)?;
    // Shared messages of the user's conversations.
    let mut params = Vec::new();
    let text = text_condition(q, plan, &mut params);
    let from = match plan {
        Plan::NoText => "messages m",
        Plan::TextFirst | Plan::Substring { by_sender: false } => "message_text t JOIN messages m ON m.rowid = t.rowid",
        // Pinned to the sender index: without statistics the planner could start from the
        // user's conversations instead, which is every message she can see.
        Plan::Substring { by_sender: true } => {
            "messages m INDEXED BY messages_by_sender JOIN message_text t ON t.rowid = m.rowid"
        }
    };
    let mut sql_where = match &text {
        Some(cond) => format!("WHERE {cond}"),
        None => "WHERE 1".to_string(),
    };
    match &q.conv {
        Some(k) => {
            sql_where.push_str(" AND m.conv = ?");
            params.push(Value::Text(k.storage_key()));
        }
        None => {
            sql_where.push_str(" AND m.conv IN (SELECT conv FROM members WHERE user = ?)");
            params.push(Value::Text(user.to_string()));
        }
    }
    sql_where.push_str(&filters(q, "m", &mut params));
    let sql = format!("SELECT m.conv, m.seq FROM {from} {sql_where}");
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    while let Some(row) = rows.next()? {
        let conv: String = row.get(0)?;
        if let Some(k) = ConvKey::from_storage_key(&conv) {
            out.entry(k).or_default().0.push(row.get::<_, i64>(1)? as u64);
        }
    }
    // The user's local-only messages: few per user, so the text-first/substring choice only
    // follows the keywords' length.
    let local_plan = match plan {
        Plan::Substring { by_sender: true } if trigram_matchable(q) => Plan::TextFirst,
        other => other,
    };
    let mut params = Vec::new();
    let text = text_condition(q, local_plan, &mut params);
    let (from, mut sql_where) = match &text {
        Some(cond) => {
            ("message_text t JOIN local_messages l ON t.rowid = -l.rowid".to_string(), format!("WHERE {cond}"))
        }
        None => ("local_messages l".to_string(), "WHERE 1".to_string()),
    };
    sql_where.push_str(" AND l.owner = ?");
    params.push(Value::Text(user.to_string()));
    if let Some(k) = &q.conv {
        sql_where.push_str(" AND l.conv = ?");
        params.push(Value::Text(k.storage_key()));
    }
    sql_where.push_str(&filters(q, "l", &mut params));
    let sql = format!("SELECT l.conv, l.local_id FROM {from} {sql_where}");
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    while let Some(row) = rows.next()? {
        let conv: String = row.get(0)?;
        if let Some(k) = ConvKey::from_storage_key(&conv) {
            out.entry(k).or_default().1.push(row.get::<_, i64>(1)? as u64);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::contains_folded;

    #[test]
    fn the_substring_test_folds_case_like_the_trigram_index() {
        assert!(contains_folded("Meeting at NOON", "noon"));
        assert!(contains_folded("привет МИР", "мир"));
        assert!(contains_folded("今天开会", "开会"));
        assert!(!contains_folded("hello", "help"));
        assert!(contains_folded("anything", ""));
    }
}
