//! Users' events in cluster mode: JetStream streams `TIMSG_EVENTS_<shard>` (as many shards as
//! the log has: one stream's leader orders all its appends, and every receiver of every
//! message has an event), a subject per user (`timsg.ev.<shard>.<hex of the user ID>`). The
//! node that owns a conversation publishes the events it makes for each receiver there; the
//! stream numbers them, and that number is the cursor a client resumes from — on any node,
//! since every node reads the same stream.
//!
//! Live delivery needs no consumer per user: the stream republishes each stored event to
//! `timsg.evr.<shard>.<hex>` with its sequence (`Nats-Sequence`) and the sequence of the user's
//! previous event (`Nats-Last-Sequence`), so a node holding the user's sockets subscribes to
//! that subject, and a republished event whose previous sequence it has not seen tells it
//! exactly what to read back from the stream (a reconnect to NATS loses core messages).
//!
//! Events are kept [`RETENTION`] and at most [`PER_USER`] per user: a client away longer
//! resumes with a gap, as on one node past its event log.

use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage, stream};
use bytes::Bytes;

use super::log_of_record::{last_sequence_of, read_subject_after, shard_of, subject_token};

/// How long an event stays in the stream.
pub const RETENTION: Duration = Duration::from_secs(600);
/// Events kept per user.
pub const PER_USER: i64 = 10_000;
/// How long a retried event is recognised by its ID.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(30);
/// The header naming the listener an event is for (`RecvNewMsg`, `MsgRevoke`, …).
pub const EVENT_HEADER: &str = "Timsg-Event";

fn stream_name(shard: u32) -> String {
    format!("TIMSG_EVENTS_{shard}")
}

/// One event as read back or received live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEvent {
    /// The cursor: the event's sequence in the stream.
    pub sequence: u64,
    /// The sequence of the user's event before it (0: none kept).
    pub previous: u64,
    pub name: String,
    pub body: Bytes,
}

/// The events stream as one node uses it.
#[derive(Clone)]
pub struct UserEvents {
    js: jetstream::Context,
    /// By shard.
    streams: Vec<stream::Stream>,
}

/// Where `user`'s events are stored, with `shards` event streams.
pub fn stored_subject(user: &str, shards: u32) -> String {
    format!("timsg.ev.{}.{}", shard_of(user, shards), subject_token(user))
}

/// Where `user`'s events are republished, live, once stored.
pub fn live_subject(user: &str, shards: u32) -> String {
    format!("timsg.evr.{}.{}", shard_of(user, shards), subject_token(user))
}

fn header_u64(headers: Option<&async_nats::HeaderMap>, name: &str) -> Option<u64> {
    headers?.get(name)?.as_str().parse().ok()
}

fn header_string(headers: Option<&async_nats::HeaderMap>, name: &str) -> String {
    headers.and_then(|h| h.get(name)).map(|v| v.as_str().to_string()).unwrap_or_default()
}

impl UserEvent {
    /// An event republished live: `None` if it lacks the stream's headers.
    pub fn from_live(message: &async_nats::Message) -> Option<UserEvent> {
        let headers = message.headers.as_ref();
        Some(UserEvent {
            sequence: header_u64(headers, "Nats-Sequence")?,
            previous: header_u64(headers, "Nats-Last-Sequence").unwrap_or(0),
            name: header_string(headers, EVENT_HEADER),
            body: message.payload.clone(),
        })
    }
}

impl UserEvents {
    /// Uses the `shards` events streams, making those that do not exist yet.
    pub async fn open(js: jetstream::Context, shards: u32, replicas: usize) -> Result<UserEvents, String> {
        let mut streams = Vec::new();
        for shard in 0..shards.max(1) {
            let stream = js
                .get_or_create_stream(stream::Config {
                    name: stream_name(shard),
                    subjects: vec![format!("timsg.ev.{shard}.>")],
                    storage: stream::StorageType::File,
                    num_replicas: replicas.max(1),
                    max_age: RETENTION,
                    max_messages_per_subject: PER_USER,
                    duplicate_window: DUPLICATE_WINDOW,
                    discard: stream::DiscardPolicy::Old,
                    allow_direct: true,
                    republish: Some(stream::Republish {
                        source: format!("timsg.ev.{shard}.>"),
                        destination: format!("timsg.evr.{shard}.>"),
                        headers_only: false,
                    }),
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("cannot open the events stream {}: {e}", stream_name(shard)))?;
            streams.push(stream);
        }
        Ok(UserEvents { js, streams })
    }

    fn shards(&self) -> u32 {
        self.streams.len() as u32
    }

    fn stream_of(&self, user: &str) -> &stream::Stream {
        &self.streams[shard_of(user, self.shards()) as usize]
    }

    /// Where `user`'s events are republished, live.
    pub fn live_subject(&self, user: &str) -> String {
        live_subject(user, self.shards())
    }

    /// Stores `body` as `user`'s event `name`; answers its sequence once the stream has it.
    /// `id` names the event for retries: one that went in is not stored twice.
    pub async fn publish(&self, user: &str, name: &str, id: &str, body: Bytes) -> Result<u64, String> {
        let message = PublishMessage::build().payload(body).header(EVENT_HEADER, name).message_id(id);
        let ack =
            self.js.send_publish(stored_subject(user, self.shards()), message).await.map_err(|e| e.to_string())?;
        ack.await.map(|a| a.sequence).map_err(|e| e.to_string())
    }

    /// `user`'s events after the cursor `after`, oldest first. Their `previous` is the
    /// sequence before each in what was read (`after` for the first).
    pub async fn read_after(&self, user: &str, after: u64) -> Result<Vec<UserEvent>, String> {
        let records = read_subject_after(self.stream_of(user), &stored_subject(user, self.shards()), after)
            .await
            .map_err(|e| format!("cannot read the events of {user}: {e}"))?;
        let mut previous = after;
        Ok(records
            .into_iter()
            .map(|r| {
                let event = UserEvent {
                    sequence: r.sequence,
                    previous,
                    name: header_string(r.headers.as_ref(), EVENT_HEADER),
                    body: r.payload,
                };
                previous = r.sequence;
                event
            })
            .collect())
    }

    /// The sequence of `user`'s newest event (0: none).
    pub async fn last_sequence(&self, user: &str) -> Result<u64, String> {
        last_sequence_of(self.stream_of(user), &stored_subject(user, self.shards()))
            .await
            .map_err(|e| format!("cannot read the events of {user}: {e}"))
    }

    /// The sequence of `user`'s oldest event kept (0: none).
    pub async fn first_kept(&self, user: &str) -> Result<u64, String> {
        match self.stream_of(user).direct_get_first_for_subject(stored_subject(user, self.shards())).await {
            Ok(m) => Ok(m.sequence),
            Err(e) if e.kind() == stream::DirectGetErrorKind::NotFound => Ok(0),
            Err(e) => Err(format!("cannot read the events of {user}: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_subjects_are_safe_tokens_in_a_shard_and_the_live_one_mirrors_the_stored_one() {
        let stored = stored_subject("a.b *>c", 16);
        let live = live_subject("a.b *>c", 16);
        let token = stored.rsplit('.').next().unwrap();
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{stored}");
        assert_eq!(live.strip_prefix("timsg.evr."), stored.strip_prefix("timsg.ev."), "the same shard and token");
        assert_eq!(stored.split('.').count(), 4, "{stored}");
    }
}
