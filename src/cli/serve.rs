//! `timsg serve` and `timsg usersig`.

use std::io::Write;
use std::path::PathBuf;

use crate::auth::usersig;
use crate::service::config::{
    DEFAULT_ADMIN, DEFAULT_LISTEN, DEFAULT_SDKAPPID, FileConfig, ServiceConfig, local_secret_key,
};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "TIMSG_LISTEN")]
    pub listen: Option<String>,
    /// Where the store and media live [default: ./timsg-data].
    #[arg(long, env = "TIMSG_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The SDKAppID UserSigs are made for [default: 1400000000].
    #[arg(long, env = "TIMSG_SDKAPPID")]
    pub sdkappid: Option<u64>,
    /// The key UserSigs are checked with [default: made and kept in <data-dir>/secret.key].
    #[arg(long, env = "TIMSG_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// The identity that may act as any user [default: administrator].
    #[arg(long, env = "TIMSG_ADMIN")]
    pub admin: Option<String>,
    /// `fsync` (default), `os` or `memory`.
    #[arg(long, env = "TIMSG_DURABILITY")]
    pub durability: Option<String>,
    /// Free space (MiB) kept on the data directory's disk for the database; below it writes
    /// are refused with 6019 [default: 256].
    #[arg(long, env = "TIMSG_DISK_RESERVE_MB")]
    pub disk_reserve_mb: Option<u64>,
    /// Receivers one TIMMsgBatchSend takes at most [default: 500].
    #[arg(long, env = "TIMSG_BATCH_SEND_MAX")]
    pub batch_send_max: Option<usize>,
    /// Messages per second a group takes, more wait in its queue; 0 = no limit [default: 40].
    #[arg(long, env = "TIMSG_GROUP_RATE_LIMIT")]
    pub group_rate_limit: Option<u32>,
    /// Seconds an idle conversation stays in memory [default: 300].
    #[arg(long, env = "TIMSG_IDLE_PASSIVATION_SECS")]
    pub idle_passivation_secs: Option<u64>,
    /// Messages of a conversation kept in memory, its newest (up to twice this) [default: 200].
    #[arg(long, env = "TIMSG_ACTIVATION_WINDOW")]
    pub activation_window: Option<usize>,
    /// Seconds a call waits for its conversation before 6012 [default: 30].
    #[arg(long, env = "TIMSG_CALL_DEADLINE_SECS")]
    pub call_deadline_secs: Option<u64>,
    /// Bytes of a message's content at most, 8001 beyond [default: 12288].
    #[arg(long, env = "TIMSG_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Operations a conversation queues at most, 9507 beyond [default: 1024].
    #[arg(long, env = "TIMSG_CONVERSATION_MAILBOX")]
    pub conversation_mailbox: Option<usize>,
    /// Cluster mode: a NATS JetStream server of the cluster, nats://host:port (2.11 or later)
    /// [default: none, a single node].
    #[arg(long, env = "TIMSG_CLUSTER_NATS")]
    pub cluster_nats: Option<String>,
    /// Cluster mode: this node's name, unique in the cluster.
    #[arg(long, env = "TIMSG_CLUSTER_NODE")]
    pub cluster_node: Option<String>,
    /// A bearer token /metrics then requires [default: none, /metrics is open].
    #[arg(long, env = "TIMSG_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// A TOML file with any of these settings (flags and environment variables win).
    #[arg(long, env = "TIMSG_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Resolves flags, environment, file and defaults.
pub fn resolve(args: ServeArgs) -> Result<ServiceConfig, String> {
    let file = match &args.config {
        Some(p) => FileConfig::load(p)?,
        None => FileConfig::default(),
    };
    let data_dir = args.data_dir.or(file.data_dir).unwrap_or_else(|| PathBuf::from("timsg-data"));
    let secret_key = match args.secret_key.or(file.secret_key) {
        Some(k) => k,
        None => local_secret_key(&data_dir)?,
    };
    let mut config = ServiceConfig::with_defaults(data_dir, secret_key);
    config.listen = args.listen.or(file.listen).unwrap_or_else(|| DEFAULT_LISTEN.into());
    config.sdkappid = args.sdkappid.or(file.sdkappid).unwrap_or(DEFAULT_SDKAPPID);
    config.admin = args.admin.or(file.admin).unwrap_or_else(|| DEFAULT_ADMIN.into());
    if let Some(d) = args.durability.or(file.durability) {
        config.durability = d.parse()?;
    }
    if let Some(mb) = args.disk_reserve_mb.or(file.disk_reserve_mb) {
        config.disk_reserve = mb.saturating_mul(1024 * 1024);
    }
    if let Some(hosts) = file.fetch_allow {
        config.fetch_allow = hosts;
    }
    if let Some(secs) = file.session_idle_secs {
        config.session_idle = std::time::Duration::from_secs(secs.max(1));
    }
    if let Some(n) = file.max_blob_bytes {
        config.max_blob_bytes = n;
    }
    if let Some(n) = file.image_max_pixels {
        config.image_max_pixels = n;
    }
    if let Some(l) = file.limits {
        config.limits = l;
    }
    if let Some(d) = file.downloads {
        config.downloads = d;
    }
    let mut engine = file.engine.unwrap_or_default();
    engine.batch_send_max = args.batch_send_max.unwrap_or(engine.batch_send_max);
    engine.group_rate_limit = args.group_rate_limit.unwrap_or(engine.group_rate_limit);
    engine.idle_passivation_secs = args.idle_passivation_secs.unwrap_or(engine.idle_passivation_secs);
    engine.activation_window = args.activation_window.unwrap_or(engine.activation_window);
    engine.call_deadline_secs = args.call_deadline_secs.unwrap_or(engine.call_deadline_secs);
    engine.max_body_bytes = args.max_body_bytes.unwrap_or(engine.max_body_bytes);
    engine.conversation_mailbox = args.conversation_mailbox.unwrap_or(engine.conversation_mailbox);
    config.engine = engine;
    let mut cluster = file.cluster;
    if let Some(url) = args.cluster_nats {
        cluster.get_or_insert_with(Default::default).nats_url = url;
    }
    if let Some(node) = args.cluster_node {
        cluster.get_or_insert_with(Default::default).node = node;
    }
    if let Some(c) = &cluster {
        c.to_config()?;
    }
    config.cluster = cluster.filter(|c| !c.nats_url.is_empty());
    config.metrics_token = args.metrics_token.or(file.metrics_token).filter(|t| !t.is_empty());
    Ok(config)
}

pub fn serve(args: ServeArgs) -> Result<(), String> {
    let config = resolve(args)?;
    let listener =
        std::net::TcpListener::bind(&config.listen).map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let data_dir = config.data_dir.clone();
    let sys = actix_web::rt::System::new();
    sys.block_on(async move {
        let running = crate::service::start(config, listener).map_err(|e| e.to_string())?;
        let addr = running.addr;
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "timsg serving the TIM message API on http://{addr} (data in {})", data_dir.display());
        let _ =
            writeln!(err, "  a UserSig for user alice:  timsg usersig --user alice --data-dir {}", data_dir.display());
        let _ = writeln!(err, "  API description:           http://{addr}/v1/openapi.json");
        drop(err);
        running.run(crate::service::shutdown_signal()).await.map_err(|e| e.to_string())
    })
}

#[derive(Debug, clap::Args)]
pub struct UsersigArgs {
    /// The user the sig is for.
    #[arg(long)]
    pub user: String,
    /// Read the secret key from this service data directory [default: ./timsg-data].
    #[arg(long, env = "TIMSG_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Or give the key itself.
    #[arg(long, env = "TIMSG_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    #[arg(long, env = "TIMSG_SDKAPPID", default_value_t = DEFAULT_SDKAPPID)]
    pub sdkappid: u64,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 86400 * 180)]
    pub expire: u64,
}

pub fn usersig(args: UsersigArgs) -> Result<(), String> {
    let key = match args.secret_key {
        Some(k) => k,
        None => local_secret_key(&args.data_dir.unwrap_or_else(|| PathBuf::from("timsg-data")))?,
    };
    let now = timsg_actors::Clock::System.now_secs();
    let sig = usersig::generate(args.sdkappid, &key, &args.user, args.expire, now);
    writeln!(std::io::stdout(), "{sig}").map_err(|e| e.to_string())
}
