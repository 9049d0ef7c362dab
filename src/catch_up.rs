//! A logged-in user's events with what it missed while away delivered first.
//!
//! A login starts listening at once, and what the user missed (unread messages committed
//! before the login, revokes and read receipts of its time away) is read from the store after.
//! Handing both to one stream in that order — missed first, then live — keeps every
//! conversation's messages in seq order; a message that is both (committed just before the
//! login, published just after) is delivered once.

use std::collections::{HashSet, VecDeque};

use timsg_actors::events::{Event, EventStream};

pub struct CatchUpStream {
    missed: VecDeque<Event>,
    live: EventStream,
    seen: Seen,
}

impl CatchUpStream {
    pub fn new(missed: Vec<Event>, live: EventStream) -> CatchUpStream {
        let mut seen = Seen::default();
        let missed = missed.into_iter().filter_map(|e| seen.filter(e)).collect();
        CatchUpStream { missed, live, seen }
    }

    /// The next event: missed ones first, then live ones not already delivered. `None` once
    /// the login ended.
    pub async fn recv(&mut self) -> Option<Event> {
        if let Some(e) = self.missed.pop_front() {
            return Some(e);
        }
        loop {
            let e = self.live.recv().await?;
            if let Some(e) = self.seen.filter(e) {
                return Some(e);
            }
        }
    }
}

/// Message IDs of recently delivered new messages. Only the boundary between missed and live
/// can overlap, so a bounded window suffices.
#[derive(Default)]
struct Seen {
    set: HashSet<String>,
    order: VecDeque<String>,
}

impl Seen {
    const CAP: usize = 8192;

    /// Keeps only the messages not delivered before (online-only messages, with no seq, are
    /// never repeated and always pass).
    fn filter(&mut self, event: Event) -> Option<Event> {
        let Event::NewMessages { messages, notify } = event else { return Some(event) };
        let fresh: Vec<_> = messages
            .into_iter()
            .filter(|m| {
                let id = m.message.id.to_string();
                if m.message.seq == 0 || self.set.insert(id.clone()) {
                    self.order.push_back(id);
                    if self.order.len() > Self::CAP
                        && let Some(old) = self.order.pop_front()
                    {
                        self.set.remove(&old);
                    }
                    true
                } else {
                    false
                }
            })
            .collect();
        (!fresh.is_empty()).then_some(Event::NewMessages { messages: fresh, notify })
    }
}
