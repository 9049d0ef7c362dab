//! The log of record in cluster mode: JetStream file streams, one per shard
//! (`TIMSG_LOG_<shard>`, subjects `timsg.log.<shard>.<conversation>`), each conversation a
//! subject of its shard's stream. A node's SQLite store is the materialized view of the
//! conversations it owns; this log is what survives the node.
//!
//! Appends are fenced: each carries the subject's last sequence as the appender knows it
//! (`Nats-Expected-Last-Subject-Sequence`), so an owner that lost its lease (paused,
//! partitioned) and still believes an older tail can never append after its successor did —
//! it gets [`AppendError::Fenced`]. Each append also carries an ID (`Nats-Msg-Id`): a retry of
//! an append whose acknowledgement was lost gets the original sequence back, not a second
//! copy. The server checks the expected sequence before the ID (2.15 does; 2.9 did the
//! reverse), so a fenced retry looks at the tail: its own ID there means the first try went
//! in. (A retry after another node appended behind it is fenced, though its record is in the
//! log: the caller hears of a failure; the log never forks.)

use std::time::Duration;

use async_nats::jetstream::{self, context::PublishErrorKind, message::PublishMessage, stream};
use bytes::Bytes;
use futures_util::StreamExt;

/// Why an append did not go in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    /// The conversation's tail is not where the appender thought: another node appended (the
    /// appender is a stale owner, or raced one).
    #[error("fenced: the conversation's log moved past sequence {expected}")]
    Fenced { expected: u64 },
    #[error("the log of record did not take the append: {0}")]
    Failed(String),
}

/// How the shard streams are made.
#[derive(Debug, Clone)]
pub struct LogSettings {
    pub shards: u32,
    /// 3 in a cluster of three servers; 1 on one.
    pub replicas: usize,
    /// How long a resent append is recognised by its ID (the client's retry horizon).
    pub duplicate_window: Duration,
}

/// The sharded streams, as one node uses them.
#[derive(Clone)]
pub struct LogOfRecord {
    js: jetstream::Context,
    /// The shard streams, by shard (handles: reading one asks no stream lookup first).
    streams: Vec<stream::Stream>,
}

fn failed(e: impl std::fmt::Display) -> AppendError {
    AppendError::Failed(e.to_string())
}

impl LogOfRecord {
    /// Uses the shard streams, making those that do not exist yet.
    pub async fn open(js: jetstream::Context, settings: &LogSettings) -> Result<LogOfRecord, String> {
        let shards = settings.shards.max(1);
        let mut streams = Vec::with_capacity(shards as usize);
        for shard in 0..shards {
            let stream = js
                .get_or_create_stream(stream::Config {
                    name: stream_name(shard),
                    subjects: vec![format!("timsg.log.{shard}.>")],
                    storage: stream::StorageType::File,
                    num_replicas: settings.replicas.max(1),
                    duplicate_window: settings.duplicate_window,
                    allow_direct: true,
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("cannot open the log stream {}: {e}", stream_name(shard)))?;
            streams.push(stream);
        }
        Ok(LogOfRecord { js, streams })
    }

    /// Appends `record` to `conv`'s log (a conversation's storage key) if its last sequence is
    /// `expected` (0: the conversation has nothing yet); answers the record's sequence.
    /// `id` names the append for retries: unique across the stream.
    pub async fn append(&self, conv: &str, expected: u64, id: &str, record: Bytes) -> Result<u64, AppendError> {
        let message = PublishMessage::build().payload(record).expected_last_subject_sequence(expected).message_id(id);
        let ack = self.js.send_publish(subject(conv, self.shards()), message).await.map_err(failed)?;
        match ack.await {
            Ok(ack) => Ok(ack.sequence),
            Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => match self.tail_id(conv).await {
                Some((seq, tail)) if tail == id => Ok(seq),
                _ => Err(AppendError::Fenced { expected }),
            },
            Err(e) => Err(failed(e)),
        }
    }

    /// The sequence and append ID of `conv`'s last record.
    async fn tail_id(&self, conv: &str) -> Option<(u64, String)> {
        let m = self.stream_of(conv).direct_get_last_for_subject(subject(conv, self.shards())).await.ok()?;
        let id = m.headers.get("Nats-Msg-Id")?.as_str().to_string();
        Some((m.sequence, id))
    }

    /// The sequence of `conv`'s last record (0 for none): where the next append must expect.
    pub async fn last_sequence(&self, conv: &str) -> Result<u64, String> {
        last_sequence_of(self.stream_of(conv), &subject(conv, self.shards()))
            .await
            .map_err(|e| format!("cannot read the tail of {conv}: {e}"))
    }

    /// Every record of `conv`, oldest first, with its sequence.
    pub async fn read(&self, conv: &str) -> Result<Vec<(u64, Bytes)>, String> {
        self.read_after(conv, 0).await
    }

    /// The records of `conv` after sequence `after`, oldest first, with their sequences: what
    /// a node taking the conversation over applies to its view.
    pub async fn read_after(&self, conv: &str, after: u64) -> Result<Vec<(u64, Bytes)>, String> {
        let records = read_subject_after(self.stream_of(conv), &subject(conv, self.shards()), after)
            .await
            .map_err(|e| format!("cannot read {conv}: {e}"))?;
        Ok(records.into_iter().map(|r| (r.sequence, r.payload)).collect())
    }

    fn shards(&self) -> u32 {
        self.streams.len() as u32
    }

    fn stream_of(&self, conv: &str) -> &stream::Stream {
        &self.streams[shard_of(conv, self.shards()) as usize]
    }
}

/// How long reading a subject back waits for its next message.
const READ_DEADLINE: Duration = Duration::from_secs(5);

/// A message of a stream as read back.
pub struct StoredRecord {
    pub sequence: u64,
    pub headers: Option<async_nats::HeaderMap>,
    pub payload: Bytes,
}

/// The sequence of the last message of `subject` in `stream` (0: none).
pub async fn last_sequence_of(stream: &stream::Stream, subject: &str) -> Result<u64, String> {
    match stream.direct_get_last_for_subject(subject).await {
        Ok(m) => Ok(m.sequence),
        Err(e) if e.kind() == stream::DirectGetErrorKind::NotFound => Ok(0),
        Err(e) => Err(e.to_string()),
    }
}

/// The messages of `subject` in `stream` after sequence `after`, oldest first, up to the
/// subject's last one when reading began.
pub async fn read_subject_after(
    stream: &stream::Stream,
    subject: &str,
    after: u64,
) -> Result<Vec<StoredRecord>, String> {
    let last = last_sequence_of(stream, subject).await?;
    if last <= after {
        return Ok(Vec::new());
    }
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            filter_subject: subject.to_string(),
            deliver_policy: jetstream::consumer::DeliverPolicy::ByStartSequence { start_sequence: after + 1 },
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let mut messages = consumer.messages().await.map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    loop {
        // Each message comes within the deadline, or the read fails: the caller's wait ends.
        let next = tokio::time::timeout(READ_DEADLINE, messages.next())
            .await
            .map_err(|_| format!("no message of {subject} came for {READ_DEADLINE:?}"))?;
        let Some(m) = next else { break };
        let m = m.map_err(|e| e.to_string())?;
        let sequence = m.info().map_err(|e| e.to_string())?.stream_sequence;
        out.push(StoredRecord { sequence, headers: m.headers.clone(), payload: m.payload.clone() });
        if sequence >= last {
            break;
        }
    }
    Ok(out)
}

fn stream_name(shard: u32) -> String {
    format!("TIMSG_LOG_{shard}")
}

/// The shard of a conversation: FNV-1a of its storage key, so every node agrees.
pub fn shard_of(conv: &str, shards: u32) -> u32 {
    let hash = conv.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    (hash % u64::from(shards.max(1))) as u32
}

/// A conversation's subject: its storage key in hex, since group IDs may hold characters a
/// subject token may not (`.`, `*`, `>`, spaces).
pub fn subject(conv: &str, shards: u32) -> String {
    format!("timsg.log.{}.{}", shard_of(conv, shards), subject_token(conv))
}

/// `name` as one subject token: its bytes in hex (a conversation, user or node name may hold
/// characters a token may not: `.`, `*`, `>`, spaces).
pub fn subject_token(name: &str) -> String {
    name.bytes().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_conversation_has_one_subject_of_safe_tokens_in_a_stable_shard() {
        let s = subject("g:a.b *>c", 16);
        let token = s.rsplit('.').next().unwrap();
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{s}");
        assert_eq!(s, subject("g:a.b *>c", 16), "stable");
        assert_eq!(shard_of("c:alice:bob", 1), 0);
        let spread: std::collections::HashSet<u32> = (0..200).map(|i| shard_of(&format!("g:{i}"), 16)).collect();
        assert!(spread.len() > 12, "conversations spread over the shards: {spread:?}");
    }
}
