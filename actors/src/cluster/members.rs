//! Who is in the cluster: each node keeps a key of the `TIMSG_NODES` bucket (its name) alive
//! by writing it every third of its time to live. A node that dies stops writing, and its key
//! expires with the bucket's age limit. Whole-user reads ask every node listed here
//! (see [`super::gather`]).

use std::time::Duration;

use async_nats::jetstream::{self, kv};
use bytes::Bytes;
use futures_util::StreamExt;

use super::log_of_record::subject_token;

const BUCKET: &str = "TIMSG_NODES";

/// The membership bucket, as one node uses it.
#[derive(Clone)]
pub struct Members {
    kv: kv::Store,
    node: String,
    /// How long a node stays listed after its last write.
    ttl: Duration,
}

impl Members {
    /// Uses the bucket (made, keys living `ttl`, if it does not exist) as `node`.
    pub async fn open(js: &jetstream::Context, node: &str, ttl: Duration, replicas: usize) -> Result<Members, String> {
        let kv = match js.get_key_value(BUCKET).await {
            Ok(kv) => kv,
            Err(_) => {
                let config = kv::Config {
                    bucket: BUCKET.into(),
                    history: 1,
                    max_age: ttl,
                    num_replicas: replicas.max(1),
                    ..Default::default()
                };
                js.create_key_value(config).await.map_err(|e| format!("cannot open the node bucket: {e}"))?
            }
        };
        Ok(Members { kv, node: node.to_string(), ttl })
    }

    /// Lists this node (again).
    pub async fn announce(&self) -> Result<(), String> {
        self.kv
            .put(subject_token(&self.node), Bytes::from(self.node.clone()))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Keeps this node listed until the task is dropped (with the cluster's runtime). A write
    /// that fails is tried again at the next turn: a key lives three turns.
    pub async fn keep_announcing(self) {
        loop {
            if let Err(e) = self.announce().await {
                tracing::warn!(error = %e, "cannot list this node in the cluster");
            }
            tokio::time::sleep(self.ttl / 3).await;
        }
    }

    /// Takes this node off the list (it is stopping).
    pub async fn leave(&self) -> Result<(), String> {
        self.kv.delete(subject_token(&self.node)).await.map_err(|e| e.to_string())
    }

    /// The names of the nodes listed now, this one included if it is.
    pub async fn list(&self) -> Result<Vec<String>, String> {
        let mut keys = self.kv.keys().await.map_err(|e| format!("cannot list the cluster's nodes: {e}"))?;
        let mut nodes = Vec::new();
        while let Some(key) = keys.next().await {
            let key = key.map_err(|e| format!("cannot list the cluster's nodes: {e}"))?;
            if let Some(name) = name_of(&key) {
                nodes.push(name);
            }
        }
        Ok(nodes)
    }
}

/// The node name a key stands for (keys are names in hex: a name may hold any character).
fn name_of(key: &str) -> Option<String> {
    if !key.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..key.len()).step_by(2).map(|i| u8::from_str_radix(&key[i..i + 2], 16).ok()).collect();
    String::from_utf8(bytes?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_reads_back_as_the_name_it_was_made_from() {
        for name in ["a", "node-1", "ノード", "with.dot and space"] {
            assert_eq!(name_of(&subject_token(name)).as_deref(), Some(name));
        }
        assert_eq!(name_of("abc"), None);
        assert_eq!(name_of("zz"), None);
    }
}
