//! Service configuration: flags win over environment variables, which win over an optional TOML
//! file, which wins over the defaults.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use timsg_actors::config::Durability;

use crate::access::UserLimits;

/// Settings a TOML file may give (every key optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub sdkappid: Option<u64>,
    pub secret_key: Option<String>,
    pub admin: Option<String>,
    pub durability: Option<String>,
    /// Free space (MiB) kept on the data directory's disk for the database.
    pub disk_reserve_mb: Option<u64>,
    /// Hosts users may have the server fetch media from (see [`ServiceConfig::fetch_allow`]).
    pub fetch_allow: Option<Vec<String>>,
    /// Seconds without a WebSocket or a call before a user's session ends.
    pub session_idle_secs: Option<u64>,
    /// Largest blob `PUT /v1/blobs` takes, bytes.
    pub max_blob_bytes: Option<u64>,
    /// Largest image (pixels) decoded to make renditions.
    pub image_max_pixels: Option<u64>,
    pub limits: Option<UserLimits>,
    pub downloads: Option<DownloadSettings>,
    pub engine: Option<EngineSettings>,
    pub cluster: Option<ClusterSettings>,
    /// When set, `/metrics` answers only requests with `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
}

/// The runtime's limits (`[engine]` in the TOML file; each also a flag and a `TIMSG_*`
/// environment variable of `timsg serve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineSettings {
    /// Receivers one `TIMMsgBatchSend` takes at most (-4 beyond).
    pub batch_send_max: usize,
    /// Messages per second a group takes; more wait in its send queue (0: no limit).
    pub group_rate_limit: u32,
    /// Seconds an idle conversation stays in memory.
    pub idle_passivation_secs: u64,
    /// Messages of a conversation kept in memory: its newest, up to twice this many.
    pub activation_window: usize,
    /// Seconds a call waits for its conversation before 6012.
    pub call_deadline_secs: u64,
    /// Bytes of a message's content at most (8001 beyond).
    pub max_body_bytes: usize,
    /// Operations a conversation queues at most (9507 beyond).
    pub conversation_mailbox: usize,
}

impl Default for EngineSettings {
    fn default() -> Self {
        let e = timsg_actors::EngineConfig::default();
        EngineSettings {
            batch_send_max: e.batch_send_max,
            group_rate_limit: e.group_rate_limit,
            idle_passivation_secs: e.idle_passivation.as_secs(),
            activation_window: e.activation_window,
            call_deadline_secs: e.call_deadline.as_secs(),
            max_body_bytes: e.max_body_bytes,
            conversation_mailbox: e.conversation_mailbox,
        }
    }
}

impl EngineSettings {
    /// Puts these settings into an engine configuration.
    pub fn apply(&self, e: &mut timsg_actors::EngineConfig) {
        e.batch_send_max = self.batch_send_max.max(1);
        e.group_rate_limit = self.group_rate_limit;
        e.idle_passivation = std::time::Duration::from_secs(self.idle_passivation_secs.max(1));
        e.activation_window = self.activation_window.max(1);
        e.call_deadline = std::time::Duration::from_secs(self.call_deadline_secs.max(1));
        e.max_body_bytes = self.max_body_bytes.max(1);
        e.conversation_mailbox = self.conversation_mailbox.max(16);
    }
}

/// Cluster mode (`[cluster]` in the TOML file; `--cluster-nats` and `--cluster-node`): the
/// node's NATS JetStream cluster and its name in it. Absent: a single node.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSettings {
    /// `nats://host:port` of a server of the cluster (nats-server 2.11 or later).
    pub nats_url: String,
    /// This node's name, unique in the cluster.
    pub node: String,
    /// Log streams the conversations are spread over.
    pub shards: u32,
    /// Copies of each log stream and lease (3 on a cluster of three servers).
    pub replicas: usize,
    /// Seconds a lease lives unrenewed: how long a dead node's conversations wait.
    pub lease_ttl_secs: u64,
    /// Seconds a resent append is recognised by its ID.
    pub duplicate_window_secs: u64,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        ClusterSettings {
            nats_url: String::new(),
            node: String::new(),
            shards: 16,
            replicas: 3,
            lease_ttl_secs: 10,
            duplicate_window_secs: 20,
        }
    }
}

impl ClusterSettings {
    /// The engine's cluster configuration; `Err` if the node has no name.
    pub fn to_config(&self) -> Result<timsg_actors::cluster::ClusterConfig, String> {
        if self.node.is_empty() {
            return Err("cluster mode needs this node's name (--cluster-node or [cluster] node)".into());
        }
        Ok(timsg_actors::cluster::ClusterConfig {
            nats_url: self.nats_url.clone(),
            node: self.node.clone(),
            log: timsg_actors::cluster::LogSettings {
                shards: self.shards.max(1),
                replicas: self.replicas.max(1),
                duplicate_window: std::time::Duration::from_secs(self.duplicate_window_secs.max(1)),
            },
            lease_ttl: std::time::Duration::from_secs(self.lease_ttl_secs.max(1)),
        })
    }
}

/// Downloads the service runs for its users (`[downloads]` in the TOML file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DownloadSettings {
    /// Network downloads at once, in all.
    pub concurrency: usize,
    /// Network downloads at once per user.
    pub per_user: usize,
    /// Downloads waiting for a slot before more are refused (9507).
    pub queue: usize,
    /// Seconds a download may take (114005 after).
    pub deadline_secs: u64,
    /// Bytes a network download may bring (7005 beyond).
    pub max_bytes: u64,
}

impl Default for DownloadSettings {
    fn default() -> Self {
        DownloadSettings { concurrency: 8, per_user: 2, queue: 256, deadline_secs: 300, max_bytes: 100 * 1024 * 1024 }
    }
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<FileConfig, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// The service's settings, resolved.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub listen: String,
    pub data_dir: PathBuf,
    pub sdkappid: u64,
    /// The key UserSigs are checked against. Without one given, a key is made on first start and
    /// kept in `<data-dir>/secret.key`, so `timsg usersig` can make sigs for local use.
    pub secret_key: String,
    /// The identity that may act on behalf of any user.
    pub admin: String,
    pub durability: Durability,
    /// Free space (bytes) the store keeps on its disk: below it, writes are refused (6019)
    /// before they are acknowledged, so what was acknowledged can always be read.
    pub disk_reserve: u64,
    /// Request bodies larger than this get 9522.
    pub max_body: usize,
    /// Events kept per user for WebSocket replay.
    pub event_log: usize,
    /// Bytes of events kept per user for WebSocket replay, at most: with `event_log`, what
    /// bounds the service's memory per logged-in user.
    pub event_log_bytes: usize,
    /// Events buffered per WebSocket client before it is dropped as too slow.
    pub ws_buffer: usize,
    /// Hosts users may have the server fetch media from (`media.example.com`, `.example.com`
    /// for its subdomains); empty, the default, fetches nothing remote. Even a listed host is
    /// dialled only at public addresses.
    pub fetch_allow: Vec<String>,
    /// A user with no open WebSocket and no call in flight this long is logged out.
    pub session_idle: std::time::Duration,
    /// Largest blob `PUT /v1/blobs` takes.
    pub max_blob_bytes: u64,
    /// Largest image, in pixels, decoded to make renditions (7005 beyond, from its header).
    pub image_max_pixels: u64,
    pub limits: UserLimits,
    pub downloads: DownloadSettings,
    pub engine: EngineSettings,
    /// Cluster mode, when set (see [`ClusterSettings`]).
    pub cluster: Option<ClusterSettings>,
    /// Protects `/metrics` with a bearer token when set.
    pub metrics_token: Option<String>,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_SDKAPPID: u64 = 1_400_000_000;
pub const DEFAULT_ADMIN: &str = "administrator";

impl ServiceConfig {
    pub fn with_defaults(data_dir: PathBuf, secret_key: String) -> ServiceConfig {
        ServiceConfig {
            listen: DEFAULT_LISTEN.into(),
            data_dir,
            sdkappid: DEFAULT_SDKAPPID,
            secret_key,
            admin: DEFAULT_ADMIN.into(),
            durability: Durability::Fsync,
            disk_reserve: timsg_actors::EngineConfig::default().disk_reserve,
            max_body: 1024 * 1024,
            event_log: 10_000,
            event_log_bytes: 2 * 1024 * 1024,
            ws_buffer: 1024,
            fetch_allow: Vec::new(),
            session_idle: std::time::Duration::from_secs(600),
            max_blob_bytes: 100 * 1024 * 1024,
            image_max_pixels: timsg_actors::media::upload::MediaLimits::default().image_pixels,
            limits: UserLimits::default(),
            downloads: DownloadSettings::default(),
            engine: EngineSettings::default(),
            cluster: None,
            metrics_token: None,
        }
    }
}

/// The secret key kept in the data directory, made on first use: 32 bytes from the OS's
/// random source, written to a file only its owner may read. Like ssh with a private key, an
/// existing key file that others may read is refused rather than used: whoever reads it can
/// sign as the admin identity.
pub fn local_secret_key(data_dir: &Path) -> Result<String, String> {
    use std::io::Write as _;
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let path = data_dir.join("secret.key");
    match std::fs::metadata(&path) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(format!(
                    "{} may be read by other users (mode {mode:o}); make it private with `chmod 600 {}`",
                    path.display(),
                    path.display()
                ));
            }
            let k = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let k = k.trim().to_string();
            if k.is_empty() {
                return Err(format!("{} is empty; remove it to have a new key made", path.display()));
            }
            Ok(k)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
            let key = timsg_actors::os_random::hex(32);
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            file.write_all(key.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(key)
        }
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn a_made_key_is_private_random_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let key = local_secret_key(dir.path()).unwrap();
        assert_eq!(key.len(), 64);
        let mode = std::fs::metadata(dir.path().join("secret.key")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(local_secret_key(dir.path()).unwrap(), key);
        let other = tempfile::tempdir().unwrap();
        assert_ne!(local_secret_key(other.path()).unwrap(), key);
    }

    #[test]
    fn a_key_file_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        std::fs::write(&path, "k").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = local_secret_key(dir.path()).unwrap_err();
        assert!(e.contains("chmod 600"), "{e}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(local_secret_key(dir.path()).unwrap(), "k");
    }
}
