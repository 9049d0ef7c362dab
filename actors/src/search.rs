//! Local message search, the domain side: the query, and how matches are grouped and paged
//! into the `TIMMsgSearchLocalMessages` result.
//!
//! The store finds candidates (the FTS5 trigram match first, then sender, type and time
//! filters); each conversation actor then keeps only what the user can still see; this module
//! groups and pages what is left.

use std::collections::BTreeMap;

use crate::ids::{ConvKey, ConvRef};
use crate::message::MessageView;

/// Keyword, sender and type limits of the API.
pub const MAX_KEYWORDS: usize = 5;
pub const MAX_SENDERS: usize = 5;
/// A keyword's length at most. The trigram index matches a keyword as all its trigrams: a
/// 10 MB keyword was millions of index lookups, seconds of one read thread, for a string no
/// message (12 KB at most) can contain.
pub const MAX_KEYWORD_BYTES: usize = 256;

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct SearchQuery {
    pub keywords: Vec<String>,
    /// True: every keyword must match (AND); false: any (OR).
    pub match_all: bool,
    pub senders: Vec<String>,
    pub types: Vec<i32>,
    /// One conversation, or all of the user's. (Not sent to other nodes: only a search of
    /// all conversations is asked of the whole cluster.)
    #[serde(skip)]
    pub conv: Option<ConvKey>,
    /// Inclusive range of server times, seconds.
    pub time_from: u64,
    pub time_to: u64,
    pub page_index: usize,
    /// 0 = no paging.
    pub page_size: usize,
}

impl SearchQuery {
    /// Checks the API's limits: the reason if the query breaks one.
    pub fn check_limits(&self) -> Result<(), String> {
        if self.keywords.len() > MAX_KEYWORDS {
            return Err(format!("at most {MAX_KEYWORDS} keywords"));
        }
        if self.senders.len() > MAX_SENDERS {
            return Err(format!("at most {MAX_SENDERS} senders"));
        }
        if self.keywords.iter().any(|k| k.is_empty()) {
            return Err("keywords must not be empty".into());
        }
        if let Some(long) = self.keywords.iter().find(|k| k.len() > MAX_KEYWORD_BYTES) {
            return Err(format!("a keyword of {} bytes: at most {MAX_KEYWORD_BYTES}", long.len()));
        }
        if self.keywords.is_empty() && self.senders.is_empty() && self.types.is_empty() {
            return Err("give keywords, senders or element types to search for".into());
        }
        Ok(())
    }
}

/// Candidates from the store, per conversation: shared seqs and local-only ids.
pub type Candidates = BTreeMap<ConvKey, (Vec<u64>, Vec<u64>)>;

/// One conversation's matches.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResultItem {
    pub conv: ConvRef,
    pub total_message_count: usize,
    pub messages: Vec<MessageView>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    /// One conversation: matching messages; all conversations: conversations with matches.
    pub total_count: usize,
    pub items: Vec<SearchResultItem>,
}

fn page_of<T>(items: Vec<T>, index: usize, size: usize) -> Vec<T> {
    if size == 0 {
        return items;
    }
    items.into_iter().skip(index.saturating_mul(size)).take(size).collect()
}

/// Builds the result from the visible matches of each conversation.
///
/// Messages are newest first; in all-conversation mode conversations are ordered by their
/// newest match, and an item lists its message only when it has exactly one match.
pub fn assemble(query: &SearchQuery, mut matches: Vec<(ConvRef, Vec<MessageView>)>) -> SearchResult {
    for (_, msgs) in matches.iter_mut() {
        msgs.sort_by_key(|v| std::cmp::Reverse(v.message.view_order()));
    }
    matches.retain(|(_, m)| !m.is_empty());
    if query.conv.is_some() {
        let Some((conv, msgs)) = matches.into_iter().next() else {
            return SearchResult { total_count: 0, items: Vec::new() };
        };
        let total = msgs.len();
        let messages = page_of(msgs, query.page_index, query.page_size);
        return SearchResult {
            total_count: total,
            items: vec![SearchResultItem { conv, total_message_count: total, messages }],
        };
    }
    matches.sort_by_key(|(_, m)| std::cmp::Reverse(m[0].message.view_order()));
    let total = matches.len();
    let items = page_of(matches, query.page_index, query.page_size)
        .into_iter()
        .map(|(conv, msgs)| {
            let n = msgs.len();
            SearchResultItem { conv, total_message_count: n, messages: if n == 1 { msgs } else { Vec::new() } }
        })
        .collect();
    SearchResult { total_count: total, items }
}
