//! Paging through one user's view of a conversation: the anchor rules of `TIMMsgGetMsgList`.
//!
//! A view interleaves two sorted lists, the shared log and the user's local-only messages, by
//! [`StoredMessage::view_order`]. A page walks both from the anchor in the requested direction,
//! merging as it goes, so it costs the page size (plus skipped invisible messages), not the
//! length of the history.
//!
//! Result order: a backward page (older messages) is newest first, a forward page (newer
//! messages) is oldest first; in both cases the message nearest the anchor comes first, which is
//! the order the TIM SDK returns.

use std::sync::Arc;

use crate::chunked::ChunkedVec;
use crate::member::ViewKind;
use crate::message::StoredMessage;

/// A position in a view: `(time, class, number)`, see [`StoredMessage::view_order`].
pub type ViewOrder = (u64, u8, u64);

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// From the newest message (backward) or the oldest (forward).
    Edge,
    /// From a position, the position itself included or not.
    At { order: ViewOrder, inclusive: bool },
}

/// Which message a caller names: by ID, or by shared seq.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageTarget {
    Id(Arc<str>),
    Seq(u64),
}

/// The anchor as the API gives it; the log resolves it to an [`Anchor`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryAnchor {
    None,
    /// `last_msg`: the anchor message is excluded.
    Message(MessageTarget),
    /// `last_msg_seq` (groups): the anchor is included.
    Seq(u64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryQuery {
    pub anchor: HistoryAnchor,
    pub count: usize,
    /// True: newer than the anchor; false: older.
    pub forward: bool,
    pub view: ViewKind,
    /// Start of the time window (UTC seconds); 0 = none.
    pub time_begin: u64,
    /// Length of the time window from `time_begin` in the paging direction; 0 = unbounded.
    pub time_period: u64,
    /// Element types to keep; empty = all.
    pub types: Vec<i32>,
}

impl Default for HistoryQuery {
    fn default() -> Self {
        HistoryQuery {
            anchor: HistoryAnchor::None,
            count: 20,
            forward: false,
            view: ViewKind::Local,
            time_begin: 0,
            time_period: 0,
            types: Vec::new(),
        }
    }
}

/// The time window of a query as an inclusive range of seconds.
pub fn time_window(q: &HistoryQuery) -> (u64, u64) {
    if q.time_begin == 0 && q.time_period == 0 {
        return (0, u64::MAX);
    }
    let period = if q.time_period == 0 { u64::MAX } else { q.time_period };
    if q.forward {
        (q.time_begin, q.time_begin.saturating_add(period))
    } else {
        let end = if q.time_begin == 0 { u64::MAX } else { q.time_begin };
        (end.saturating_sub(period), end)
    }
}

/// A view-ordered list of messages as the pager reads it: a member's local messages (a
/// `Vec`) or a conversation's shared log (chunked).
pub trait MessageList {
    fn count(&self) -> usize;
    fn at(&self, index: usize) -> Option<&Arc<StoredMessage>>;
    /// The first index whose message fails `pred` (those passing it come first).
    fn partition_by(&self, pred: impl FnMut(&Arc<StoredMessage>) -> bool) -> usize;
}

/// Both lists have `len`, `get` and `partition_point` of their own, with the slice's meaning.
macro_rules! message_list {
    ($($list:ty),*) => {$(
        impl MessageList for $list {
            fn count(&self) -> usize {
                self.len()
            }

            fn at(&self, index: usize) -> Option<&Arc<StoredMessage>> {
                self.get(index)
            }

            fn partition_by(&self, pred: impl FnMut(&Arc<StoredMessage>) -> bool) -> usize {
                self.partition_point(pred)
            }
        }
    )*};
}

message_list!(Vec<Arc<StoredMessage>>, ChunkedVec<Arc<StoredMessage>>);

/// Where a page starts in `list`: for forward reading the next index, for backward one past it.
fn start_of(list: &(impl MessageList + ?Sized), anchor: Anchor, forward: bool) -> usize {
    match anchor {
        Anchor::Edge => {
            if forward {
                0
            } else {
                list.count()
            }
        }
        Anchor::At { order, inclusive } => {
            if forward == inclusive {
                list.partition_by(|m| m.view_order() < order)
            } else {
                list.partition_by(|m| m.view_order() <= order)
            }
        }
    }
}

/// Walks two view-ordered lists from `anchor` in one direction, yielding up to `count`
/// messages accepted by `keep`, and stopping early once a message is past `stop`.
pub fn page(
    shared: &(impl MessageList + ?Sized),
    local: &(impl MessageList + ?Sized),
    anchor: Anchor,
    forward: bool,
    count: usize,
    mut keep: impl FnMut(&StoredMessage) -> bool,
    mut past_window: impl FnMut(&StoredMessage) -> bool,
) -> Vec<Arc<StoredMessage>> {
    // Forward: next index to read. Backward: one past the next index to read.
    let (mut si, mut li) = (start_of(shared, anchor, forward), start_of(local, anchor, forward));
    let mut out = Vec::with_capacity(count.min(1024));
    while out.len() < count {
        let next_shared = if forward { shared.at(si) } else { si.checked_sub(1).and_then(|i| shared.at(i)) };
        let next_local = if forward { local.at(li) } else { li.checked_sub(1).and_then(|i| local.at(i)) };
        let take_shared = match (next_shared, next_local) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(s), Some(l)) => (s.view_order() < l.view_order()) == forward,
        };
        let m = if take_shared {
            if forward {
                si += 1;
            } else {
                si -= 1;
            }
            next_shared
        } else {
            if forward {
                li += 1;
            } else {
                li -= 1;
            }
            next_local
        };
        let Some(m) = m else { break };
        if past_window(m) {
            break;
        }
        if keep(m) {
            out.push(m.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{MessageContent, MessageStatus};

    fn msg(seq: u64, local_id: u64, time: u64) -> Arc<StoredMessage> {
        Arc::new(StoredMessage {
            id: format!("m{seq}-{local_id}").into(),
            sender: "a".into(),
            seq,
            local_id,
            rand: 0,
            server_time: time,
            status: MessageStatus::SendSucc,
            revoke: None,
            content: Arc::new(MessageContent::default()),
        })
    }

    fn ids(v: &[Arc<StoredMessage>]) -> Vec<String> {
        v.iter().map(|m| m.id.to_string()).collect()
    }

    #[test]
    fn merges_local_messages_by_time_in_both_directions() {
        let shared = vec![msg(1, 0, 10), msg(2, 0, 20), msg(3, 0, 30)];
        let local = vec![msg(0, 1, 15), msg(0, 2, 30)];
        let back = page(&shared, &local, Anchor::Edge, false, 10, |_| true, |_| false);
        assert_eq!(ids(&back), ["m0-2", "m3-0", "m2-0", "m0-1", "m1-0"]);
        let fwd = page(&shared, &local, Anchor::Edge, true, 3, |_| true, |_| false);
        assert_eq!(ids(&fwd), ["m1-0", "m0-1", "m2-0"]);
    }

    #[test]
    fn anchor_inclusion() {
        let shared: Vec<_> = (1..=5).map(|s| msg(s, 0, s * 10)).collect();
        let at3 = shared[2].view_order();
        let excl =
            page(&shared, &Vec::new(), Anchor::At { order: at3, inclusive: false }, false, 10, |_| true, |_| false);
        assert_eq!(ids(&excl), ["m2-0", "m1-0"]);
        let incl = page(&shared, &Vec::new(), Anchor::At { order: at3, inclusive: true }, true, 2, |_| true, |_| false);
        assert_eq!(ids(&incl), ["m3-0", "m4-0"]);
    }

    #[test]
    fn time_windows_follow_the_direction() {
        let mut q = HistoryQuery { time_begin: 100, time_period: 50, forward: true, ..Default::default() };
        assert_eq!(time_window(&q), (100, 150));
        q.forward = false;
        assert_eq!(time_window(&q), (50, 100));
        q.time_period = 0;
        assert_eq!(time_window(&q), (0, 100));
    }
}
