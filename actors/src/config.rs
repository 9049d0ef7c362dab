//! Runtime configuration: limits, timing and durability, with the TIM defaults.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::faults::Faults;
use crate::media::upload::MediaLimits;

/// How durable an acknowledged write is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Each group commit is fsynced before any of its writes is acknowledged.
    #[default]
    Fsync,
    /// Committed to the OS page cache; survives a process crash, not a power loss.
    Os,
    /// Nothing on disk: the store's tables live in this process and are gone at close; for
    /// tests, benchmarks and load runs.
    Memory,
}

impl std::str::FromStr for Durability {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fsync" => Ok(Durability::Fsync),
            "os" => Ok(Durability::Os),
            "memory" => Ok(Durability::Memory),
            other => Err(format!("unknown durability {other:?}: fsync, os or memory")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Directory of the database; ignored with [`Durability::Memory`].
    pub data_dir: PathBuf,
    pub durability: Durability,
    pub clock: Clock,
    /// Arbiters (threads) conversation actors are spread over; 0 = one per core (see
    /// [`EngineConfig::arbiter_count`]).
    pub arbiters: usize,
    /// Mailbox capacity of each conversation actor.
    pub conversation_mailbox: usize,
    /// Events buffered per logged-in user before new ones are dropped (and counted).
    pub event_buffer: usize,
    /// Largest message body in bytes (TIM: 12 KB).
    pub max_body_bytes: usize,
    /// Revoke window (TIM default: 2 minutes).
    pub revoke_window: Duration,
    /// Group messages per second per group (TIM default 40); 0 = unlimited.
    pub group_rate_limit: u32,
    /// Messages a group may hold waiting for its rate limit before sends fail.
    pub group_send_queue: usize,
    /// Receivers per `BatchSend` call.
    pub batch_send_max: usize,
    /// Records per store transaction at most.
    pub group_commit_max: usize,
    /// Store requests waiting for the writer at most (senders wait beyond that).
    pub store_queue: usize,
    /// A conversation actor idle this long is passivated.
    pub idle_passivation: Duration,
    /// Prefix of the URLs sent messages carry for stored media (the blob's hash follows).
    pub blob_url_base: String,
    /// Largest file per media kind.
    pub media_limits: MediaLimits,
    /// Uploads running at once (the rest wait).
    pub upload_concurrency: usize,
    /// Downloads from the network running at once (the rest wait in the download manager's
    /// queue); copies of stored blobs are local and never wait behind them.
    pub download_concurrency: usize,
    /// Network downloads one user may have running at once (the rest of theirs wait).
    pub download_per_user: usize,
    /// Downloads waiting for a slot, in all and per user ([`DOWNLOADS_QUEUED_PER_USER`]): a
    /// download asked beyond either is refused (9507) instead of queued.
    pub download_queue: usize,
    /// A download still running after this long is stopped (114005).
    pub download_deadline: Duration,
    /// A network download may bring this many bytes at most (7005 beyond).
    pub download_max_bytes: u64,
    /// Stored media no committed message refers to is swept once older than this.
    pub blob_sweep_grace: Duration,
    /// How often the sweep of unreferenced media runs (also once at open).
    pub blob_sweep_interval: Duration,
    /// Makes media URLs and relay keys capabilities (see `media::blob`): set by the service,
    /// whose users must not read a blob by its hash alone. `None` for embedded use.
    pub blob_url_key: Option<Vec<u8>>,
    /// The app administrator (the REST API's admin, set by the service): in any group it may
    /// send, recall, invite, remove and dismiss as an owner may, and read the history, without
    /// being a member. `None` for embedded use.
    pub app_admin: Option<crate::ids::UserId>,
    /// Cluster mode (see `cluster`): conversations are leased, their writes appended to the
    /// cluster's log of record before they are acknowledged. `None`: a single node.
    pub cluster: Option<crate::cluster::ClusterConfig>,
    /// How long a caller waits for a conversation's answer (a call, a send's durability)
    /// before it gets a timeout (6012) instead of hanging: a stalled disk or a stuck actor
    /// must not hold callers forever.
    pub call_deadline: Duration,
    /// Messages a conversation loads whole when it is activated, newest first (the IDs of
    /// the others are loaded; the messages themselves when an op needs them).
    pub activation_window: usize,
    /// Free space (bytes) the journal leaves on the data directory's disk for the database:
    /// below it, writes are refused (6019) before they are acknowledged, so what was
    /// acknowledged can always reach SQLite and be read. 0 disables the check.
    pub disk_reserve: u64,
    /// Threads of the lane where searches and login catch-up scans run (see `slow_reads`).
    pub slow_read_threads: usize,
    /// Such reads waiting for a thread at most; beyond, they are refused (9507).
    pub slow_read_queue: usize,
    /// Failure points for fault-injection tests (none armed by default).
    pub faults: Arc<Faults>,
}

/// Downloads one user may have waiting for a slot.
pub const DOWNLOADS_QUEUED_PER_USER: usize = 64;

impl EngineConfig {
    /// How many arbiters the engine starts for conversation actors: as configured, or with 0
    /// one per core (2 where the core count cannot be read).
    pub fn arbiter_count(&self) -> usize {
        match self.arbiters {
            0 => std::thread::available_parallelism().map_or(2, usize::from),
            n => n,
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            data_dir: PathBuf::from("timsg-data"),
            durability: Durability::Fsync,
            clock: Clock::System,
            arbiters: 0,
            conversation_mailbox: 1024,
            event_buffer: 4096,
            max_body_bytes: 12 * 1024,
            revoke_window: Duration::from_secs(120),
            group_rate_limit: 40,
            group_send_queue: 1000,
            batch_send_max: 500,
            group_commit_max: 4096,
            store_queue: 65536,
            idle_passivation: Duration::from_secs(300),
            blob_url_base: "timsg-blob://".into(),
            media_limits: MediaLimits::default(),
            upload_concurrency: 8,
            download_concurrency: 8,
            download_per_user: 4,
            download_queue: 1024,
            download_deadline: Duration::from_secs(30 * 60),
            download_max_bytes: 1 << 30,
            blob_sweep_grace: Duration::from_secs(3600),
            blob_sweep_interval: Duration::from_secs(600),
            blob_url_key: None,
            app_admin: None,
            cluster: None,
            call_deadline: Duration::from_secs(30),
            disk_reserve: 256 * 1024 * 1024,
            activation_window: 200,
            slow_read_threads: 2,
            slow_read_queue: 1024,
            faults: Arc::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arbiters_are_as_configured_or_one_per_core() {
        let configured = EngineConfig { arbiters: 3, ..Default::default() };
        assert_eq!(configured.arbiter_count(), 3);
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        assert_eq!(EngineConfig::default().arbiter_count(), cores);
    }
}
