//! A logged-in user's events with what it missed while away delivered first.
//!
//! A login starts listening at once, and what the user missed (unread messages committed
//! before the login, revokes and read receipts of its time away) is read from the store after.
//! Handing both to one stream in that order — missed first, then live — keeps every
//! conversation's messages in seq order; a message that is both (committed just before the
//! login, published just after) is delivered once. So is a system notice (a GroupReport),
//! which is kept until a stream hands it out: see [`CatchUpStream::acking_notices`].

use std::collections::VecDeque;

use timsg_actors::events::{Event, EventStream};
use timsg_actors::ids::{ConvType, MsgId};
use timsg_actors::message::MessageView;

/// Told the IDs of the system notices a stream handed out.
pub type NoticesDelivered = Box<dyn FnMut(Vec<MsgId>) + Send>;

pub struct CatchUpStream {
    missed: VecDeque<Event>,
    live: EventStream,
    /// IDs of the missed new messages and notices not yet seen again on the live stream.
    overlap: foldhash::HashSet<MsgId>,
    delivered: Option<NoticesDelivered>,
}

/// A system notice: kept by the store until delivered, and without a seq.
fn is_notice(m: &MessageView) -> bool {
    m.conv.conv_type == ConvType::System
}

/// Messages a login can see twice at its boundary: shared ones (by seq) and notices.
fn may_overlap(m: &MessageView) -> bool {
    m.message.seq != 0 || is_notice(m)
}

impl CatchUpStream {
    pub fn new(missed: Vec<Event>, live: EventStream) -> CatchUpStream {
        let overlap = missed
            .iter()
            .filter_map(|e| match e {
                Event::NewMessages { messages, .. } => Some(messages),
                _ => None,
            })
            .flatten()
            .filter(|m| may_overlap(m))
            .map(|m| m.message.id.clone())
            .collect();
        CatchUpStream { missed: missed.into(), live, overlap, delivered: None }
    }

    /// Calls `delivered` with the IDs of what the store may keep as pending deliveries in
    /// each event handed out, so it stops keeping them for a later login.
    pub fn acking_notices(mut self, delivered: NoticesDelivered) -> CatchUpStream {
        self.delivered = Some(delivered);
        self
    }

    /// Reports what `event` hands out that the store may keep as a pending delivery: every
    /// missed message (some of them were kept), and notices (kept before they are published).
    fn handed_out(&mut self, event: Event, missed: bool) -> Event {
        if let (Some(delivered), Event::NewMessages { messages, .. }) = (&mut self.delivered, &event) {
            let ids: Vec<MsgId> =
                messages.iter().filter(|m| missed || is_notice(m)).map(|m| m.message.id.clone()).collect();
            if !ids.is_empty() {
                delivered(ids);
            }
        }
        event
    }

    /// The next event: missed ones first, then live ones not already delivered. `None` once
    /// the login ended.
    pub async fn recv(&mut self) -> Option<Event> {
        if let Some(e) = self.missed.pop_front() {
            return Some(self.handed_out(e, true));
        }
        loop {
            let e = self.live.recv().await?;
            if let Some(e) = self.without_overlap(e) {
                return Some(self.handed_out(e, false));
            }
        }
    }

    /// Drops from a live event the messages already delivered as missed. Only that boundary
    /// can repeat a message (the live stream itself never does), and each such message at
    /// most once, so the set only shrinks; once it is empty, live events pass untouched.
    fn without_overlap(&mut self, event: Event) -> Option<Event> {
        if self.overlap.is_empty() {
            return Some(event);
        }
        let Event::NewMessages { mut messages, notify } = event else { return Some(event) };
        messages.retain(|m| !may_overlap(m) || !self.overlap.remove(&m.message.id));
        (!messages.is_empty()).then_some(Event::NewMessages { messages, notify })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use timsg_actors::ids::{ConvRef, ConvType};
    use timsg_actors::message::{MessageContent, MessageStatus, MessageView, StoredMessage};
    use tokio::sync::mpsc;

    use super::*;

    fn view(seq: u64) -> MessageView {
        MessageView {
            conv: ConvRef { conv_type: ConvType::C2c, id: "peer".into() },
            message: Arc::new(StoredMessage {
                id: format!("m{seq}").into(),
                sender: "peer".into(),
                seq,
                local_id: seq,
                rand: 0,
                server_time: seq,
                status: MessageStatus::SendSucc,
                revoke: None,
                content: Arc::new(MessageContent::default()),
            }),
            is_self: false,
            is_read: false,
            is_peer_read: false,
            custom: Default::default(),
        }
    }

    fn new_messages(seqs: &[u64]) -> Event {
        Event::NewMessages { messages: seqs.iter().map(|s| view(*s)).collect(), notify: true }
    }

    fn seqs(event: Option<Event>) -> Vec<u64> {
        match event {
            Some(Event::NewMessages { messages, .. }) => messages.iter().map(|m| m.message.seq).collect(),
            other => panic!("expected new messages, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn missed_messages_come_first_and_their_live_copies_are_dropped() {
        let (tx, live) = mpsc::channel(8);
        let mut stream = CatchUpStream::new(vec![new_messages(&[1, 2])], live);
        // Published just after the login: 2 again (already missed), then 3.
        tx.send(new_messages(&[2, 3])).await.unwrap();
        tx.send(new_messages(&[2])).await.unwrap();
        tx.send(Event::ReadReceipts(Vec::new())).await.unwrap();
        tx.send(new_messages(&[4])).await.unwrap();
        drop(tx);
        assert_eq!(seqs(stream.recv().await), vec![1, 2]);
        assert_eq!(seqs(stream.recv().await), vec![3]);
        // A second live copy of 2 is not the boundary's: the live stream never repeats, so
        // it is not filtered (the overlap set already let go of 2).
        assert_eq!(seqs(stream.recv().await), vec![2]);
        assert!(matches!(stream.recv().await, Some(Event::ReadReceipts(_))));
        assert_eq!(seqs(stream.recv().await), vec![4]);
        assert!(stream.recv().await.is_none());
    }

    #[tokio::test]
    async fn a_live_event_made_only_of_missed_messages_is_skipped() {
        let (tx, live) = mpsc::channel(8);
        let mut stream = CatchUpStream::new(vec![new_messages(&[5])], live);
        tx.send(new_messages(&[5])).await.unwrap();
        tx.send(new_messages(&[6])).await.unwrap();
        assert_eq!(seqs(stream.recv().await), vec![5]);
        assert_eq!(seqs(stream.recv().await), vec![6]);
        assert!(stream.overlap.is_empty());
    }
}
