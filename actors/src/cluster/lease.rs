//! Conversation ownership in cluster mode: a lease per conversation in a JetStream key-value
//! bucket (`TIMSG_LEASES`) whose entries expire `ttl` after their last write. A node takes a
//! conversation by creating its key (only one creation can win), keeps it by renewing within
//! `ttl` with a revision-checked update (a renewal after someone else took the key fails), and
//! gives it back by deleting it. A node that dies stops renewing; its leases expire and
//! another node takes them. The lease only says who should run the actor: what keeps a stale
//! owner from writing is the log's fencing (see `log_of_record`).

use std::time::Duration;

use async_nats::jetstream::{self, kv};
use bytes::Bytes;

/// Why a lease could not be had or kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeaseError {
    #[error("the conversation is owned by node {by}")]
    Held { by: String },
    #[error("the lease was lost: it expired and another node may have taken the conversation")]
    Lost,
    #[error("the lease bucket failed: {0}")]
    Failed(String),
}

/// A conversation this node owns, as of the revision of its last write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub conv: String,
    revision: u64,
}

/// The lease bucket, as one node uses it.
#[derive(Clone)]
pub struct Leases {
    kv: kv::Store,
    node: String,
}

fn failed(e: impl std::fmt::Display) -> LeaseError {
    LeaseError::Failed(e.to_string())
}

/// The key of a conversation's lease: its storage key in hex (keys take few characters).
fn key(conv: &str) -> String {
    conv.bytes().map(|b| format!("{b:02x}")).collect()
}

impl Leases {
    /// Uses the lease bucket as `node`, making it (entries living `ttl`) if it does not exist.
    pub async fn open(js: &jetstream::Context, node: &str, ttl: Duration, replicas: usize) -> Result<Leases, String> {
        let config = kv::Config {
            bucket: "TIMSG_LEASES".into(),
            history: 1,
            max_age: ttl,
            num_replicas: replicas.max(1),
            ..Default::default()
        };
        let kv = match js.get_key_value("TIMSG_LEASES").await {
            Ok(kv) => kv,
            Err(_) => js.create_key_value(config).await.map_err(|e| format!("cannot open the lease bucket: {e}"))?,
        };
        Ok(Leases { kv, node: node.to_string() })
    }

    /// This node's name.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Takes `conv` if no node holds it, or keeps it if this node does already (its actor
    /// restarted).
    pub async fn acquire(&self, conv: &str) -> Result<Lease, LeaseError> {
        // A lease released or expired between the create and the look that follows it is
        // tried again; a few rounds settle any race.
        let mut rounds = 0;
        loop {
            rounds += 1;
            match self.kv.create(key(conv), Bytes::from(self.node.clone())).await {
                Ok(revision) => return Ok(Lease { conv: conv.to_string(), revision }),
                Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {
                    match self.kv.entry(key(conv)).await.map_err(failed)? {
                        Some(e) if e.operation == kv::Operation::Put && *e.value == *self.node.as_bytes() => {
                            let mut lease = Lease { conv: conv.to_string(), revision: e.revision };
                            self.renew(&mut lease).await?;
                            return Ok(lease);
                        }
                        Some(e) if e.operation == kv::Operation::Put => {
                            return Err(LeaseError::Held { by: String::from_utf8_lossy(&e.value).into_owned() });
                        }
                        _ if rounds < 4 => {}
                        _ => return Err(failed("the lease kept changing hands")),
                    }
                }
                Err(e) => return Err(failed(e)),
            }
        }
    }

    /// Keeps `lease` another `ttl`; [`LeaseError::Lost`] if it expired or changed hands.
    pub async fn renew(&self, lease: &mut Lease) -> Result<(), LeaseError> {
        match self.kv.update(key(&lease.conv), Bytes::from(self.node.clone()), lease.revision).await {
            Ok(revision) => {
                lease.revision = revision;
                Ok(())
            }
            Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => Err(LeaseError::Lost),
            Err(e) => Err(failed(e)),
        }
    }

    /// Gives `lease` back at once (the conversation may be taken by any node).
    pub async fn release(&self, lease: Lease) -> Result<(), LeaseError> {
        self.kv.delete_expect_revision(key(&lease.conv), Some(lease.revision)).await.map_err(failed)
    }

    /// The node holding `conv`, if any.
    pub async fn holder(&self, conv: &str) -> Result<Option<String>, LeaseError> {
        match self.kv.entry(key(conv)).await.map_err(failed)? {
            Some(e) if e.operation == kv::Operation::Put => Ok(Some(String::from_utf8_lossy(&e.value).into_owned())),
            _ => Ok(None),
        }
    }
}
