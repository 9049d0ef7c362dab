//! Cluster mode's foundation on NATS JetStream: the server-version gate ([`version`]), the
//! sharded, fenced log of record ([`log_of_record`]), conversation leases ([`lease`]), users'
//! events ([`user_events`]), account changes ([`accounts`]), the nodes listed ([`members`]) and
//! the whole-user reads asked of them all ([`gather`]).
//! [`Cluster::connect`] joins them for one node. Single-node mode (the default) uses none of
//! this.

pub mod accounts;
pub mod gather;
pub mod lease;
pub mod log_of_record;
pub mod members;
pub mod node;
pub mod user_events;
pub mod version;

use std::time::Duration;

pub use accounts::AccountLog;
pub use bytes::Bytes;
pub use lease::{Lease, LeaseError, Leases};
pub use log_of_record::{AppendError, LogOfRecord, LogSettings};
pub use members::Members;
pub use node::ClusterNode;
pub use user_events::{UserEvent, UserEvents};

/// How long a JetStream request (an append, a lease write, a read) waits for its answer.
const JETSTREAM_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a node keeps trying to open the cluster's streams at start.
const OPEN_PATIENCE: Duration = Duration::from_secs(60);

/// Where a node finds the cluster, and how the cluster's streams are made.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// `nats://host:port` of a server of the cluster (at least 2.11), or several,
    /// comma-separated (the client also learns the others from the server).
    pub nats_url: String,
    /// This node's name, unique in the cluster: it is what a lease says.
    pub node: String,
    pub log: LogSettings,
    /// A lease not renewed for this long expires; another node may then take the
    /// conversation. What a failover costs, at most, before the catch-up.
    pub lease_ttl: Duration,
}

/// One node's handles on the cluster.
pub struct Cluster {
    pub client: async_nats::Client,
    pub log: LogOfRecord,
    pub leases: Leases,
    /// The nodes of the cluster (whole-user reads ask each).
    pub members: Members,
    /// Account changes, applied by every node.
    pub accounts: AccountLog,
    /// Users' events, numbered for resumption on any node.
    pub events: UserEvents,
    /// Counts the connection's (re)connections: core messages sent meanwhile were lost, so
    /// whoever relies on them reads back what it missed.
    pub reconnects: tokio::sync::watch::Receiver<u64>,
    /// The server's version, from its INFO line.
    pub server_version: String,
}

impl Cluster {
    /// Connects to the cluster, refuses a server older than 2.11, and opens (making them the
    /// first time) the log streams and the lease bucket.
    pub async fn connect(config: &ClusterConfig) -> Result<Cluster, String> {
        let (reconnected, reconnects) = tokio::sync::watch::channel(0u64);
        let client = async_nats::ConnectOptions::new()
            .event_callback(move |event| {
                if matches!(event, async_nats::Event::Connected) {
                    reconnected.send_modify(|n| *n += 1);
                }
                std::future::ready(())
            })
            .name(format!("timsg-{}", config.node))
            .connection_timeout(Duration::from_secs(5))
            // Requests to other nodes (forwarded calls) carry deadlines of their own, the
            // call's; the client's default of 10 s would cut them short.
            .request_timeout(None)
            .connect(config.nats_url.split(',').map(str::trim).filter(|u| !u.is_empty()).collect::<Vec<_>>())
            .await
            .map_err(|e| format!("cannot reach NATS at {}: {e}", config.nats_url))?;
        let server_version = client.server_info().version;
        version::require_supported(&server_version)?;
        let mut js = async_nats::jetstream::new(client.clone());
        // JetStream requests keep a deadline of their own (the client's requests have none).
        js.set_timeout(JETSTREAM_TIMEOUT);
        // A cluster just started may not have elected its JetStream leaders yet: its streams
        // are opened again for a while before the node gives up.
        let began = std::time::Instant::now();
        loop {
            let opened = async {
                let log = LogOfRecord::open(js.clone(), &config.log).await?;
                let leases = Leases::open(&js, &config.node, config.lease_ttl, config.log.replicas).await?;
                let events = UserEvents::open(js.clone(), config.log.shards, config.log.replicas).await?;
                let members = Members::open(&js, &config.node, config.lease_ttl, config.log.replicas).await?;
                let accounts = AccountLog::open(js.clone(), config.log.replicas).await?;
                Ok::<_, String>((log, leases, events, members, accounts))
            };
            match opened.await {
                Ok((log, leases, events, members, accounts)) => {
                    return Ok(Cluster { client, log, leases, members, accounts, events, server_version, reconnects });
                }
                Err(e) if began.elapsed() < OPEN_PATIENCE => {
                    tracing::warn!(error = %e, "the cluster's streams are not ready; trying again");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}
