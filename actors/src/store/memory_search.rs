//! Search candidates in the memory backend: the same answers as the SQLite plans
//! (`store/search.rs`), found by scanning the smallest row set the query allows — the named
//! senders' messages, else the one conversation's, else the user's conversations' — and testing
//! each with the same case-folded substring match the trigram index gives.

use std::sync::Arc;

use crate::element::type_bit;
use crate::ids::ConvKey;
use crate::message::{MessageStatus, StoredMessage};
use crate::search::{Candidates, SearchQuery};

use super::memory::Tables;
use super::search::contains_folded;

/// The query's conditions on one message (scope aside).
struct Filter<'q> {
    query: &'q SearchQuery,
    type_mask: u32,
}

impl<'q> Filter<'q> {
    fn new(query: &'q SearchQuery) -> Self {
        let type_mask = query.types.iter().fold(0u32, |m, t| m | type_bit(*t));
        Filter { query, type_mask }
    }

    /// Sender, type, time and text. `searchable` says whether the message's text is still
    /// indexed (revoked messages' text is not).
    fn accepts(&self, m: &StoredMessage, searchable: bool) -> bool {
        let q = self.query;
        if !q.senders.is_empty() && !q.senders.iter().any(|s| **s == *m.sender) {
            return false;
        }
        if !q.types.is_empty() && m.content.type_mask() & self.type_mask == 0 {
            return false;
        }
        if m.server_time < q.time_from || m.server_time > q.time_to {
            return false;
        }
        if q.keywords.is_empty() {
            return true;
        }
        if !searchable {
            return false;
        }
        let text = m.content.searchable_text();
        if text.is_empty() {
            return false;
        }
        let hit = |k: &String| contains_folded(&text, k);
        if q.match_all { q.keywords.iter().all(hit) } else { q.keywords.iter().any(hit) }
    }
}

/// Candidate matches for `user`, per conversation.
pub(super) fn candidates(t: &Tables, user: &str, q: &SearchQuery) -> Candidates {
    let mut out = Candidates::new();
    let filter = Filter::new(q);
    let scope: Option<String> = q.conv.as_ref().map(ConvKey::storage_key);
    let in_scope = |conv: &str| match &scope {
        Some(k) => conv == k,
        None => t.is_member(user, conv),
    };

    // Shared messages: the smallest set of rows that can hold every match.
    let rows: Vec<usize> = if !q.senders.is_empty() {
        let mut rows: Vec<usize> =
            q.senders.iter().filter_map(|s| t.by_sender.get(s.as_str())).flat_map(|v| v.iter().copied()).collect();
        rows.sort_unstable();
        rows.dedup();
        rows
    } else if let Some(k) = &scope {
        t.by_conv.get(k.as_str()).into_iter().flat_map(|v| v.iter().copied()).collect()
    } else {
        t.convs_of_user
            .get(user)
            .into_iter()
            .flatten()
            .filter_map(|c| t.by_conv.get(c))
            .flat_map(|v| v.iter().copied())
            .collect()
    };
    for row in rows.into_iter().filter_map(|pos| t.messages.get(pos)) {
        let searchable = row.message.status != MessageStatus::Revoked;
        if in_scope(&row.conv) && filter.accepts(&row.message, searchable) {
            push(&mut out, &row.conv, |entry| entry.0.push(row.message.seq));
        }
    }

    // The user's local-only messages.
    for (conv, local_id) in t.local_by_owner.get(user).into_iter().flatten() {
        if scope.as_deref().is_some_and(|k| k != &**conv) {
            continue;
        }
        let Some(m) = t.local.get(conv).and_then(|l| l.get(&(Arc::from(user), *local_id))) else { continue };
        if filter.accepts(m, true) {
            push(&mut out, conv, |entry| entry.1.push(m.local_id));
        }
    }
    out
}

fn push(out: &mut Candidates, conv: &str, add: impl FnOnce(&mut (Vec<u64>, Vec<u64>))) {
    if let Some(k) = ConvKey::from_storage_key(conv) {
        add(out.entry(k).or_default());
    }
}
