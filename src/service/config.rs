//! Service configuration: flags win over environment variables, which win over an optional TOML
//! file, which wins over the defaults.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use timsg_actors::config::Durability;

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
    /// Request bodies larger than this get 9522.
    pub max_body: usize,
    /// Events kept per user for WebSocket replay.
    pub event_log: usize,
    /// Events buffered per WebSocket client before it is dropped as too slow.
    pub ws_buffer: usize,
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
            max_body: 1024 * 1024,
            event_log: 10_000,
            ws_buffer: 1024,
        }
    }
}

/// The secret key kept in the data directory, made on first use.
pub fn local_secret_key(data_dir: &Path) -> Result<String, String> {
    let path = data_dir.join("secret.key");
    if let Ok(k) = std::fs::read_to_string(&path) {
        let k = k.trim().to_string();
        if !k.is_empty() {
            return Ok(k);
        }
    }
    std::fs::create_dir_all(data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    let key: String = (0..4).map(|_| format!("{:016x}", fastrand::u64(..))).collect();
    std::fs::write(&path, &key).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(key)
}
