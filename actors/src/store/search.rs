//! Finding search candidates in SQLite: the FTS5 trigram match runs first, then the scope
//! (the user's conversations or local messages), sender, element type and time filters.
//!
//! Trigram matching needs at least three characters; shorter keywords (two CJK characters,
//! say) fall back to a substring test over the indexed text, so they still match.

use rusqlite::Connection;
use rusqlite::types::Value;

use crate::element::type_bit;
use crate::ids::ConvKey;
use crate::search::{Candidates, SearchQuery};

use super::StoreError;

fn fts_phrase(keyword: &str) -> String {
    format!("\"{}\"", keyword.replace('"', "\"\""))
}

/// The text condition on `message_text t`, with its parameters.
fn text_condition(q: &SearchQuery, params: &mut Vec<Value>) -> Option<String> {
    if q.keywords.is_empty() {
        return None;
    }
    let joiner = if q.match_all { " AND " } else { " OR " };
    let all_long = q.keywords.iter().all(|k| k.chars().count() >= 3);
    if all_long {
        let expr: Vec<String> = q.keywords.iter().map(|k| fts_phrase(k)).collect();
        params.push(Value::Text(expr.join(joiner)));
        return Some("message_text MATCH ?".into());
    }
    let parts: Vec<String> = q
        .keywords
        .iter()
        .map(|k| {
            params.push(Value::Text(k.clone()));
            "instr(t.body, ?) > 0".to_string()
        })
        .collect();
    Some(format!("({})", parts.join(joiner)))
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
    // Shared messages of the user's conversations.
    let mut params = Vec::new();
    let text = text_condition(q, &mut params);
    let (from, mut sql_where) = match &text {
        Some(cond) => ("message_text t JOIN messages m ON m.rowid = t.rowid".to_string(), format!("WHERE {cond}")),
        None => ("messages m".to_string(), "WHERE 1".to_string()),
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
    // The user's local-only messages.
    let mut params = Vec::new();
    let text = text_condition(q, &mut params);
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
