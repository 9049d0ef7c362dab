//! Accounts and receive options in cluster mode: an account imported, kicked or deleted, or a
//! C2C receive option set, through any node holds on every node. Each such change (a record of
//! `ImportAccount`, `RevokeSigs` or `SetC2cReceiveOpt` ops) is stored in the stream
//! `TIMSG_ACCOUNTS` (subject `timsg.acct.<hex of the user ID>`) before it is answered, and
//! every node follows the stream from its start, applying each change to its own store (the
//! changes are idempotent: applying one twice, or one its node already wrote, changes
//! nothing). A kick is in force on the node that took it when it answers, and on the others
//! as soon as the stream reaches them — a node cut off from NATS when it reconnects.

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use bytes::Bytes;
use futures_util::StreamExt;

use super::log_of_record::subject_token;

const STREAM: &str = "TIMSG_ACCOUNTS";

/// The accounts stream, as one node uses it.
#[derive(Clone)]
pub struct AccountLog {
    js: jetstream::Context,
    stream: stream::Stream,
}

impl AccountLog {
    /// Uses the stream, making it (`replicas` copies) if it does not exist.
    pub async fn open(js: jetstream::Context, replicas: usize) -> Result<AccountLog, String> {
        let stream = js
            .get_or_create_stream(stream::Config {
                name: STREAM.into(),
                subjects: vec!["timsg.acct.>".into()],
                storage: stream::StorageType::File,
                num_replicas: replicas.max(1),
                ..Default::default()
            })
            .await
            .map_err(|e| format!("cannot open the accounts stream: {e}"))?;
        Ok(AccountLog { js, stream })
    }

    /// Stores `user`'s change `body` (its `WriteOp`s, JSON) for every node; its sequence
    /// once the stream has it.
    pub async fn publish(&self, user: &str, body: Bytes) -> Result<u64, String> {
        let subject = format!("timsg.acct.{}", subject_token(user));
        let ack = self.js.publish(subject, body).await.map_err(|e| format!("cannot store the account change: {e}"))?;
        let ack = ack.await.map_err(|e| format!("the accounts stream did not take the change: {e}"))?;
        Ok(ack.sequence)
    }

    /// Hands every change in the stream, from the first, to `apply`, then each new one as it
    /// comes, for as long as the task runs. A read that fails starts again after the last
    /// change handed over.
    pub async fn follow<F, Fut>(self, mut apply: F)
    where
        F: FnMut(Bytes) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let mut next = 1u64;
        loop {
            let consumer = self
                .stream
                .create_consumer(jetstream::consumer::pull::OrderedConfig {
                    deliver_policy: jetstream::consumer::DeliverPolicy::ByStartSequence { start_sequence: next },
                    ..Default::default()
                })
                .await;
            let messages = match consumer {
                Ok(c) => c.messages().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match messages {
                Ok(mut messages) => {
                    while let Some(m) = messages.next().await {
                        let Ok(m) = m else { break };
                        let Ok(info) = m.info() else { break };
                        next = info.stream_sequence + 1;
                        apply(m.payload.clone()).await;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot follow the accounts stream; trying again"),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}
