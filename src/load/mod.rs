//! `timsg load`: a load generator that drives the runtime — in-process, or a running
//! `timsg serve` over HTTP and WebSocket (`--via ws`) — and checks it as it goes.
//!
//! It makes users and conversations (a mix of C2C pairs and groups), then runs operations from
//! a mix (text, custom, image, revoke, read report, history page, search) either closed-loop
//! (`--concurrency` workers back to back) or open-loop (`--rate` operations per second, latency
//! measured from each operation's scheduled time, so a stall is not hidden; [`pacer`] hands
//! out the slots on time). Every user's event
//! stream is consumed, and every acknowledged message must reach every member whose receive
//! option lets it (`--not-receive-share` has some members refuse a conversation first) exactly
//! once and in seq order, and no one else: lost, duplicated, reordered and unexpected
//! deliveries are counted, and any of them makes the command fail.

pub mod acks;
pub mod baseline;
pub mod check;
pub mod driver;
pub mod inbox;
pub mod instructions;
pub mod names;
pub mod pacer;
pub mod rest_sender;
pub mod stats;
pub mod thread_cpu;
pub mod ws_caller;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use timsg_actors::config::Durability;
use timsg_actors::ids::{ConvKey, ConvRef, ConvType};

use self::acks::{Ack, AckLog};
use self::check::{ConvId, DeliveryCheck, UserIdx};
use self::driver::{Driver, Kind, Remote, SentHandle};
use self::inbox::Inbox;
use self::pacer::Pacer;
use self::stats::{Latencies, peak_rss_bytes};
use crate::runtime::{Runtime, RuntimeConfig};
use crate::session::Session;

/// Operations a run makes when neither `--messages` nor `--duration` is given.
pub const DEFAULT_OPERATIONS: u64 = 100_000;

/// How the load reaches the runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Via {
    /// In this process, through the typed API.
    Inproc,
    /// A running `timsg serve`: a WebSocket per user for its events (and calls, see `--calls`).
    Ws,
    /// As `ws`, but every message is sent by the service's admin over the TIM server REST API
    /// (`/v4/openim/sendmsg`, `/v4/group_open_http_svc/send_group_msg`) in its sender's name.
    Rest,
}

/// How calls reach a running `timsg serve` with `--via ws`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CallsOver {
    /// As frames on each user's WebSocket, many in flight per connection.
    Ws,
    /// One HTTP request per call.
    Http,
}

#[derive(Debug, Clone, clap::Args)]
pub struct LoadArgs {
    /// In-process (default) or over the network to `--target`.
    #[arg(long, value_enum, default_value_t = Via::Inproc)]
    pub via: Via,
    /// The service's base URL, with `--via ws` (e.g. http://127.0.0.1:8080); several,
    /// comma-separated, spread the users over the nodes of a cluster (a user whose node goes
    /// away moves to the next one, resuming its events from its cursor).
    #[arg(long)]
    pub target: Option<String>,
    /// The service's secret key, to make the users' UserSigs, with `--via ws`.
    #[arg(long, env = "TIMSG_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// With `--via ws`: calls as frames on each user's WebSocket, or one HTTP request each.
    #[arg(long, value_enum, default_value_t = CallsOver::Ws)]
    pub calls: CallsOver,
    /// The service's SDKAppID, with `--via ws`.
    #[arg(long, default_value_t = crate::service::config::DEFAULT_SDKAPPID)]
    pub sdkappid: u64,
    /// The service's admin account, with `--via rest`.
    #[arg(long, default_value = "administrator")]
    pub admin: String,
    /// Users taking part.
    #[arg(long, default_value_t = 200)]
    pub users: usize,
    /// Conversations to spread the traffic over.
    #[arg(long, default_value_t = 1000)]
    pub conversations: usize,
    /// Share of the conversations that are groups (the rest are C2C pairs).
    #[arg(long, default_value_t = 0.1)]
    pub group_share: f64,
    /// Members per group.
    #[arg(long, default_value_t = 8)]
    pub group_size: usize,
    /// Share of the conversations' members who, before the load, set their receive option for
    /// that conversation to "not receive" (C2C: for that peer; groups: for that group). The
    /// check then expects them to get none of its messages.
    #[arg(long, default_value_t = 0.0)]
    pub not_receive_share: f64,
    /// Operations to run (default 100000 unless --duration is given).
    #[arg(long)]
    pub messages: Option<u64>,
    /// Seconds to run.
    #[arg(long)]
    pub duration: Option<f64>,
    /// Open loop: operations per second, started in 200 µs ticks, each latency counted from the
    /// operation's own scheduled time. Without it the load is closed-loop.
    #[arg(long)]
    pub rate: Option<u64>,
    /// Operations in flight (closed loop), or workers (open loop).
    #[arg(long, default_value_t = 256)]
    pub concurrency: usize,
    /// Weights of the operations: text, custom, image, revoke, read, history, search, opt (a C2C
    /// receive option, set to "receive without notification"), data (local custom data on a
    /// message the user sent), batch (`--via rest`: the run's bot sends one message to up to
    /// 20 users with `batchsendmsg`).
    #[arg(long, default_value = "text=100")]
    pub mix: String,
    /// `memory` (default), `os` or `fsync` (in process; over the network the service's own
    /// setting applies).
    #[arg(long, default_value = "memory")]
    pub durability: Durability,
    /// Where the store lives (a temporary directory by default).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// How operations pick their conversation: at random, or each in turn (with as many
    /// operations as conversations, every conversation is touched exactly once).
    #[arg(long, value_enum, default_value_t = Pattern::Random)]
    pub pattern: Pattern,
    /// In-process: seconds a conversation stays idle before it is passivated.
    #[arg(long, default_value_t = 300.0)]
    pub idle_passivation: f64,
    /// Skip the baseline measured before the load (see `load::baseline`).
    #[arg(long)]
    pub no_baseline: bool,
    /// Print one JSON object instead of the human summary.
    #[arg(long)]
    pub json: bool,
    /// Append every acknowledged operation to this file (JSON lines), for `timsg verify-acks`
    /// after a crash of the service. Groups that already exist (a run before) are used as they are.
    #[arg(long)]
    pub ack_log: Option<PathBuf>,
    /// After the load: wait out the idle passivation, note the RSS, then read back the whole
    /// history of this many conversations drawn at random (reactivating them) and check that
    /// every acknowledged message is there.
    #[arg(long, default_value_t = 0)]
    pub reread: usize,
    /// The run's ID, in every user's and group's name (`<run>-u7`, `<run>-g3`), so rounds
    /// against one service do not meet; a fresh one each run if not given, `""` for none.
    #[arg(long)]
    pub run_id: Option<String>,
    /// With `--via ws`/`rest` against a service on this machine: its process ID, to report its
    /// CPU per message by thread group (and its instructions, where the CPU can count them).
    #[arg(long)]
    pub server_pid: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Pattern {
    /// Uniformly at random.
    Random,
    /// Operation n goes to conversation n mod the number of conversations.
    RoundRobin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Text,
    Custom,
    Image,
    Revoke,
    Read,
    History,
    Search,
    ReceiveOpt,
    CustomData,
    /// `--via rest`: the run's bot sends one message to up to [`BATCH_RECEIVERS`] users with
    /// `batchsendmsg`, each into its own conversation with the bot.
    Batch,
}

/// Receivers of one `batch` operation at most.
const BATCH_RECEIVERS: usize = 20;

impl Op {
    fn api(self) -> &'static str {
        match self {
            Op::Text | Op::Custom | Op::Image => "send",
            Op::Revoke => "revoke",
            Op::Read => "report_read",
            Op::History => "history",
            Op::Search => "search",
            Op::ReceiveOpt => "receive_opt",
            Op::CustomData => "custom_data",
            Op::Batch => "batch_send",
        }
    }
}

/// Parses `text=90,revoke=5,…` into cumulative weights.
fn parse_mix(mix: &str) -> Result<Vec<(Op, u32)>, String> {
    let mut out = Vec::new();
    let mut total = 0;
    for part in mix.split(',').filter(|p| !p.trim().is_empty()) {
        let (name, w) = part.split_once('=').ok_or_else(|| format!("mix entry {part:?} is not name=weight"))?;
        let op = match name.trim() {
            "text" => Op::Text,
            "custom" => Op::Custom,
            "image" => Op::Image,
            "revoke" => Op::Revoke,
            "read" => Op::Read,
            "history" => Op::History,
            "search" => Op::Search,
            "opt" => Op::ReceiveOpt,
            "data" => Op::CustomData,
            "batch" => Op::Batch,
            other => return Err(format!("unknown operation {other:?} in the mix")),
        };
        let w: u32 = w.trim().parse().map_err(|_| format!("weight of {name} is not a number"))?;
        total += w;
        out.push((op, total));
    }
    if total == 0 {
        return Err("the mix has no weight".into());
    }
    Ok(out)
}

fn pick(mix: &[(Op, u32)], rng: &mut fastrand::Rng) -> Op {
    let total = mix.last().map_or(1, |(_, t)| *t);
    let r = rng.u32(..total);
    mix.iter().find(|(_, t)| r < *t).map_or(Op::Text, |(op, _)| *op)
}

struct Conv {
    reference: Vec<ConvRef>,
    members: Vec<UserIdx>,
    /// Per member: whether it receives this conversation's messages (its receive option).
    receives: Vec<bool>,
}

/// What one worker saw.
#[derive(Default)]
struct WorkerReport {
    latencies: Latencies,
    /// Acknowledged sends: (conversation, seq, sender); the receivers are the others.
    acked: Vec<(ConvId, u64, UserIdx)>,
    sends: u64,
    errors: u64,
    /// The first failed sends' errors, to say what went wrong.
    error_samples: Vec<String>,
}

/// Send errors each worker keeps as samples.
const ERROR_SAMPLES: usize = 3;
/// Operations a worker counts before it moves the progress bar.
const PROGRESS_STEP: u64 = 64;

/// The outcome of a run.
#[derive(Debug)]
pub struct LoadReport {
    pub json: serde_json::Value,
    pub failed: bool,
}

pub fn run(args: LoadArgs) -> Result<LoadReport, String> {
    let mix = parse_mix(&args.mix)?;
    if args.users < 2 || args.conversations == 0 || args.concurrency == 0 {
        return Err("need at least 2 users, 1 conversation and 1 worker".into());
    }
    if !(0.0..=1.0).contains(&args.not_receive_share) {
        return Err("--not-receive-share is a share: from 0 to 1".into());
    }
    let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
    let data_dir = args.data_dir.clone().unwrap_or_else(|| scratch.path().to_path_buf());
    // In process, the runtime's arbiters need the cores more than the generator does: with one
    // generator thread instead of two, fewer threads take turns on them (at 54,000 msg/s open
    // loop, p99 8.1 -> 5.3 ms). Over the network the generator does the framing and JSON of
    // every call and event, and gets both.
    let generator_threads = match args.via {
        Via::Inproc => 1,
        Via::Ws | Via::Rest => 2,
    };
    if args.via == Via::Rest {
        // The REST API answers a send with its seq and key, not the message: what a later
        // revoke or local custom data would name is not known to the generator.
        if let Some((op, _)) = mix.iter().find(|(op, _)| matches!(op, Op::Revoke | Op::Image | Op::CustomData)) {
            return Err(format!("--via rest sends text and custom messages; {op:?} is not in its mix"));
        }
    } else if mix.iter().any(|(op, _)| *op == Op::Batch) {
        return Err("batch sends go over the REST API's batchsendmsg: --via rest".into());
    }
    let names = match &args.run_id {
        Some(run) => names::RunNames::new(run)?,
        None => names::RunNames::fresh(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(generator_threads)
        .thread_name("timsg-load")
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    // In process: the runtime the load drives (its arbiters are also the raw actix baseline's).
    let runtime_config = RuntimeConfig {
        data_dir: data_dir.clone(),
        durability: args.durability,
        event_buffer: 1 << 16,
        group_rate_limit: 0,
        idle_passivation: Duration::from_secs_f64(args.idle_passivation.max(0.001)),
        ..Default::default()
    };
    // First, while nothing else runs: the bare machinery's figure on this machine, now.
    let baseline = if args.no_baseline {
        None
    } else {
        Some(measure_baseline(&args, runtime_config.arbiter_count(), &rt, scratch.path())?)
    };
    let report = match args.via {
        Via::Inproc => {
            let runtime = Runtime::open(runtime_config).map_err(|e| e.to_string())?;
            let users: Vec<Arc<Session>> = (0..args.users)
                .map(|i| runtime.login(&names.user(i as u32)).map(Arc::new))
                .collect::<Result<_, _>>()
                .map_err(|e| e.to_string())?;
            let mut r = rt.block_on(drive(&args, &mix, &names, Arc::new(Driver::InProc(users)), &data_dir));
            if let Ok(report) = &mut r {
                let stats = rt.block_on(runtime.engine().supervisor_stats());
                report.json["conversations_activated"] = json!(stats.activated);
                report.json["conversations_passivated"] = json!(stats.passivated);
                report.json["conversations_active_at_end"] = json!(stats.active);
            }
            rt.shutdown_timeout(Duration::from_secs(5));
            runtime.shutdown();
            r
        }
        Via::Ws | Via::Rest => {
            let target = args.target.clone().ok_or("--via ws needs --target URL")?;
            let bases: Vec<String> = target
                .split(',')
                .map(|t| t.trim().trim_end_matches('/').to_string())
                .filter(|t| !t.is_empty())
                .collect();
            if bases.is_empty() {
                return Err("--target names no URL".into());
            }
            let key = args.secret_key.clone().ok_or("--via ws needs the service's --secret-key")?;
            let now = timsg_actors::Clock::System.now_secs();
            let users: Vec<String> = (0..args.users).map(|i| names.user(i as u32)).collect();
            let sigs =
                users.iter().map(|u| crate::auth::usersig::generate(args.sdkappid, &key, u, 86400, now)).collect();
            let mut remote = Remote::new(bases, users, sigs, args.calls == CallsOver::Ws);
            let reconnects = remote.reconnects.clone();
            if args.via == Via::Rest {
                let sig = crate::auth::usersig::generate(args.sdkappid, &key, &args.admin, 86400, now);
                remote.rest = Some(rest_sender::RestSender::new(args.sdkappid, &args.admin, &sig, fastrand::u32(..)));
            }
            let mut r = rt.block_on(drive(&args, &mix, &names, Arc::new(Driver::Remote(remote)), &data_dir));
            if let Ok(report) = &mut r {
                report.json["reconnects"] = json!(reconnects.load(std::sync::atomic::Ordering::Relaxed));
            }
            rt.shutdown_timeout(Duration::from_secs(5));
            r
        }
    };
    report.map(|mut report| {
        with_baseline(&mut report.json, baseline.as_ref(), args.rate.is_none());
        report
    })
}

/// Measures the baseline with a spinner on the terminal (none with `--json`) and logs it.
fn measure_baseline(
    args: &LoadArgs,
    arbiters: usize,
    rt: &tokio::runtime::Runtime,
    scratch: &std::path::Path,
) -> Result<baseline::Baseline, String> {
    let spinner = if args.json { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new_spinner() };
    spinner.set_message("measuring the baseline");
    spinner.enable_steady_tick(Duration::from_millis(100));
    let measured = baseline::measure(args, arbiters, rt, scratch);
    spinner.finish_and_clear();
    if let Ok(b) = &measured {
        tracing::info!(what = %b.what, messages_per_second = b.per_second, "baseline measured");
    }
    measured
}

/// Adds the baseline and, for a closed loop (an open loop's throughput is its rate), the ratio
/// of the load's messages per second to the baseline's.
fn with_baseline(json: &mut serde_json::Value, baseline: Option<&baseline::Baseline>, closed_loop: bool) {
    json["baseline"] = baseline.map_or(serde_json::Value::Null, baseline::Baseline::to_json);
    let ratio = baseline
        .filter(|b| closed_loop && b.per_second > 0.0)
        .and_then(|b| Some(json["messages_per_second"].as_f64()? / b.per_second));
    json["ratio_to_baseline"] = ratio.map_or(serde_json::Value::Null, |r| json!(r));
}

async fn drive(
    args: &LoadArgs,
    mix: &[(Op, u32)],
    names: &names::RunNames,
    driver: Arc<Driver>,
    data_dir: &std::path::Path,
) -> Result<LoadReport, String> {
    // Conversations: groups first, then C2C pairs.
    let mut rng = fastrand::Rng::with_seed(7);
    // Receive options: each member stops receiving a conversation's messages with this chance
    // (its own generator, so the conversations drawn do not depend on the share).
    let mut opt_rng = fastrand::Rng::with_seed(11);
    let groups = ((args.conversations as f64) * args.group_share.clamp(0.0, 1.0)).round() as usize;
    let mut convs = Vec::with_capacity(args.conversations);
    // Each C2C pair is one conversation: the keys made so far.
    let mut made: HashSet<ConvKey> = HashSet::new();
    for i in 0..args.conversations {
        let (members, key) = if i < groups {
            let mut members: Vec<UserIdx> = Vec::new();
            while members.len() < args.group_size.clamp(2, args.users) {
                let u = rng.u32(..args.users as u32);
                if !members.contains(&u) {
                    members.push(u);
                }
            }
            let gid = names.group(i);
            let others = members[1..].iter().map(|u| names.user(*u)).collect();
            driver.create_group(members[0], &gid, others).await?;
            (members, ConvKey::group(&gid))
        } else {
            // A pair not taken yet: each conversation is its own.
            let pairs = args.users * (args.users - 1) / 2;
            if i - groups >= pairs {
                return Err(format!("{} users make only {pairs} C2C conversations", args.users));
            }
            loop {
                let a = rng.u32(..args.users as u32);
                let b = rng.u32(..args.users as u32);
                let key = ConvKey::c2c(&names.user(a), &names.user(b));
                if a != b && !made.contains(&key) {
                    break (vec![a, b], key);
                }
            }
        };
        let reference = members.iter().map(|u| key.as_seen_by(&names.user(*u))).collect();
        made.insert(key);
        let receives = members.iter().map(|_| opt_rng.f64() >= args.not_receive_share).collect();
        convs.push(Conv { reference, members, receives });
    }
    // With batch sends: the run's bot (a name of this run's own, so its conversations start
    // empty even on a server that ran loads before) and its conversation with each user, after
    // the others — operations pick among those only. Batch operations alone write them, one at
    // a time, so each receiver's conversation takes the next seq.
    let picked = convs.len();
    let bot = format!("load-bot-{:08x}", fastrand::u32(..));
    if mix.iter().any(|(op, _)| *op == Op::Batch) {
        for u in 0..args.users as UserIdx {
            convs.push(Conv { reference: vec![ConvRef::c2c(&bot)], members: vec![u], receives: vec![true] });
        }
    }
    let bot_seqs = Arc::new(tokio::sync::Mutex::new(vec![0u64; args.users]));
    let mut left_out: Vec<Vec<&ConvRef>> = vec![Vec::new(); args.users];
    for conv in &convs {
        for ((member, reference), receives) in conv.members.iter().zip(&conv.reference).zip(&conv.receives) {
            if !receives {
                left_out[*member as usize].push(reference);
            }
        }
    }
    for (user, refs) in left_out.iter().enumerate().filter(|(_, r)| !r.is_empty()) {
        driver.stop_receiving(user as UserIdx, refs).await?;
    }
    drop(left_out);
    // Receivers: every user's stream, recorded for the check in the user's inbox, which knows
    // the user's conversations by the names the user sees.
    let received = Arc::new(AtomicU64::new(0));
    let mut inboxes: Vec<Inbox> = (0..args.users).map(|_| Inbox::new(received.clone())).collect();
    for (id, conv) in convs.iter().enumerate() {
        for (member, reference) in conv.members.iter().zip(&conv.reference) {
            inboxes[*member as usize].knows(reference.conv_type, reference.id.clone(), id as ConvId);
        }
    }
    let mut feeds = Vec::with_capacity(args.users);
    for (i, inbox) in inboxes.into_iter().enumerate() {
        feeds.push(driver.subscribe(i as UserIdx, inbox).await?);
    }
    let image_path = data_dir.join("load-image.png");
    if mix.iter().any(|(op, _)| *op == Op::Image) {
        image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8, y as u8, 99]))
            .save_with_format(&image_path, image::ImageFormat::Png)
            .map_err(|e| e.to_string())?;
    }

    let total = match (args.messages, args.duration) {
        (Some(n), _) => n,
        (None, Some(_)) => u64::MAX,
        (None, None) => DEFAULT_OPERATIONS,
    };
    let deadline = args.duration.map(|d| Instant::now() + Duration::from_secs_f64(d));
    let progress = if args.json {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(if total == u64::MAX { 0 } else { total })
    };
    progress.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} [{bar:40}] {pos}/{len} ops {per_sec}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let issued = Arc::new(AtomicU64::new(0));
    let acks = match &args.ack_log {
        Some(path) => Some(Arc::new(AckLog::append_to(path)?)),
        None => None,
    };
    // Per conversation, the highest seq acknowledged so far (what a read report covers).
    let acked_seq: Arc<Vec<AtomicU64>> = Arc::new(convs.iter().map(|_| AtomicU64::new(0)).collect());
    let convs = Arc::new(convs);
    // CPU and instructions from here to the last delivery: this process's, and the service's
    // when its process ID is given.
    let cost = CostMeter::start(args.server_pid);
    let start = Instant::now();
    let pacer = args.rate.map(|r| Arc::new(Pacer::start(start, r, total, deadline, args.concurrency)));
    let mut workers = Vec::new();
    for w in 0..args.concurrency {
        let (issued, convs, driver, mix, progress, image) = (
            issued.clone(),
            convs.clone(),
            driver.clone(),
            mix.to_vec(),
            progress.clone(),
            image_path.to_string_lossy().to_string(),
        );
        let (rate, pattern, pacer) = (args.rate, args.pattern, pacer.clone());
        let (acks, acked_seq) = (acks.clone(), acked_seq.clone());
        let (bot, bot_seqs) = (bot.clone(), bot_seqs.clone());
        let names = names.clone();
        workers.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(1000 + w as u64);
            let mut report = WorkerReport::default();
            // The last 16 sends of this worker, for revokes and custom data (newest at the back).
            let mut recent: std::collections::VecDeque<(usize, usize, SentHandle)> =
                std::collections::VecDeque::with_capacity(17);
            let mut unreported = 0;
            loop {
                // Open loop: each operation has its slot; latency counts from it.
                if let Some(pacer) = &pacer {
                    pacer.slot().await;
                }
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if n >= total || deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let scheduled = match rate {
                    Some(r) => start + Duration::from_secs_f64(n as f64 / r.max(1) as f64),
                    None => Instant::now(),
                };
                let op = pick(&mix, &mut rng);
                let ci = match pattern {
                    Pattern::Random => rng.usize(..picked),
                    Pattern::RoundRobin => (n % picked as u64) as usize,
                };
                let conv = &convs[ci];
                let mi = rng.usize(..conv.members.len());
                let user_idx = conv.members[mi];
                let conv_ref = &conv.reference[mi];
                let record = |ack: Ack| {
                    if let Some(log) = &acks {
                        log.record(&ack);
                    }
                };
                let who = || (names.user(user_idx), conv_ref.conv_type.number(), conv_ref.id.to_string());
                let ok = match op {
                    Op::Text | Op::Custom | Op::Image => {
                        let kind = match op {
                            Op::Text => Kind::Text,
                            Op::Custom => Kind::Custom,
                            _ => Kind::Image,
                        };
                        match driver.send(user_idx, conv_ref, kind, &image).await {
                            Ok((seq, handle)) => {
                                acked_seq[ci].fetch_max(seq, Ordering::Relaxed);
                                // Names are formatted only for an ack log: they cost as much as
                                // the rest of the generator's send.
                                if acks.is_some() {
                                    let (user, conv_type, conv_id) = who();
                                    record(Ack::Send { user, conv_type, conv_id, id: handle.id(), seq });
                                }
                                report.acked.push((ci as ConvId, seq, user_idx));
                                report.sends += 1;
                                recent.push_back((ci, mi, handle));
                                if recent.len() > 16 {
                                    recent.pop_front();
                                }
                                true
                            }
                            Err(e) => {
                                if report.error_samples.len() < ERROR_SAMPLES {
                                    report.error_samples.push(e);
                                }
                                false
                            }
                        }
                    }
                    Op::Batch => {
                        let mut next = bot_seqs.lock().await;
                        let mut receivers: Vec<UserIdx> = Vec::new();
                        while receivers.len() < BATCH_RECEIVERS.min(next.len()) {
                            let u = rng.u32(..next.len() as u32);
                            if !receivers.contains(&u) {
                                receivers.push(u);
                            }
                        }
                        match driver.batch_send(&bot, &receivers).await {
                            Ok(failed) => {
                                for u in receivers.iter().filter(|u| !failed.contains(u)) {
                                    next[*u as usize] += 1;
                                    report.acked.push((
                                        (picked + *u as usize) as ConvId,
                                        next[*u as usize],
                                        UserIdx::MAX,
                                    ));
                                    report.sends += 1;
                                }
                                failed.is_empty()
                            }
                            Err(_) => false,
                        }
                    }
                    Op::Revoke => match recent.pop_back() {
                        Some((c, m, handle)) => {
                            let (sender, sender_conv) = (convs[c].members[m], &convs[c].reference[m]);
                            let id = handle.id();
                            let ok = driver.revoke(sender, sender_conv, handle).await;
                            if ok {
                                let (conv_type, conv_id) = (sender_conv.conv_type.number(), sender_conv.id.to_string());
                                record(Ack::Revoke { user: names.user(sender), conv_type, conv_id, id });
                            }
                            ok
                        }
                        None => true,
                    },
                    Op::Read => {
                        let through = acked_seq[ci].load(Ordering::Relaxed);
                        let ok = driver.read(user_idx, conv_ref).await;
                        if ok {
                            let (user, conv_type, conv_id) = who();
                            record(Ack::Read { user, conv_type, conv_id, through });
                        }
                        ok
                    }
                    // Only where the member receives the conversation's messages: "receive without
                    // notification" still delivers them, so the delivery check holds.
                    Op::ReceiveOpt if conv_ref.conv_type == ConvType::C2c && conv.receives[mi] => {
                        let opt = crate::ReceiveOpt::NotNotify;
                        let ok = driver.set_c2c_opt(user_idx, &conv_ref.id, opt).await;
                        if ok {
                            record(Ack::ReceiveOpt {
                                user: names.user(user_idx),
                                peer: conv_ref.id.to_string(),
                                opt: opt.number(),
                            });
                        }
                        ok
                    }
                    Op::ReceiveOpt => true,
                    Op::CustomData => match recent.pop_back() {
                        Some((c, m, handle)) => {
                            let (sender, sender_conv) = (convs[c].members[m], &convs[c].reference[m]);
                            let text = format!("d{n}");
                            let ok = driver.set_custom_data(sender, sender_conv, &handle, &text).await;
                            if ok {
                                let (conv_type, conv_id) = (sender_conv.conv_type.number(), sender_conv.id.to_string());
                                record(Ack::CustomData {
                                    user: names.user(sender),
                                    conv_type,
                                    conv_id,
                                    id: handle.id(),
                                    text,
                                });
                            }
                            ok
                        }
                        None => true,
                    },
                    Op::History => driver.history(user_idx, conv_ref).await,
                    Op::Search => driver.search(user_idx).await,
                };
                report.latencies.record(op.api(), scheduled.elapsed());
                if !ok {
                    report.errors += 1;
                }
                // The bar is told in steps: its counter is shared by every worker.
                unreported += 1;
                if unreported == PROGRESS_STEP {
                    progress.inc(unreported);
                    unreported = 0;
                }
            }
            progress.inc(unreported);
            report
        }));
    }
    let mut latencies = Latencies::default();
    let mut check = DeliveryCheck::default();
    // Per conversation, its acknowledged seqs (for `--reread`).
    let mut acked_seqs: std::collections::HashMap<ConvId, Vec<u64>> = std::collections::HashMap::new();
    let (mut sends, mut errors, mut error_samples) = (0, 0, Vec::new());
    for w in workers {
        let r = w.await.map_err(|e| e.to_string())?;
        latencies.merge(r.latencies);
        sends += r.sends;
        errors += r.errors;
        if error_samples.len() < ERROR_SAMPLES {
            error_samples.extend(r.error_samples.into_iter().take(ERROR_SAMPLES - error_samples.len()));
        }
        for (conv, seq, sender) in r.acked {
            if args.reread > 0 {
                acked_seqs.entry(conv).or_default().push(seq);
            }
            let c = &convs[conv as usize];
            let receivers = c
                .members
                .iter()
                .zip(&c.receives)
                .filter(|(u, receives)| **u != sender && **receives)
                .map(|(u, _)| *u)
                .collect();
            check.acknowledged(conv, seq, receivers);
        }
    }
    let elapsed = start.elapsed();
    progress.finish_and_clear();
    // Let the deliveries drain: until the count of expected deliveries is reached and nothing
    // more has come for a moment, or nothing has moved for two seconds. Reaching the count
    // alone is not enough: it also holds deliveries nobody acknowledged (the tips of the
    // groups' creation), so the last acknowledged messages may still be on their way.
    let expected = check.deliveries_expected();
    let mut last = (received.load(Ordering::Relaxed), Instant::now());
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = received.load(Ordering::Relaxed);
        if now != last.0 {
            last = (now, Instant::now());
            continue;
        }
        let quiet = last.1.elapsed();
        if (now >= expected && quiet >= Duration::from_millis(250)) || quiet > Duration::from_secs(2) {
            break;
        }
    }
    let cost = cost.finish(sends, args.via == Via::Inproc);
    // Ending the feeds closes the streams; each then hands over its inbox.
    for feed in &feeds {
        let _ = feed.stop.send(true);
    }
    for (user, feed) in feeds.into_iter().enumerate() {
        for (conv, seq) in feed.done.await.map_err(|e| e.to_string())?.got {
            check.received(user as UserIdx, conv, seq);
        }
    }
    let reread = match args.reread {
        0 => None,
        n => Some(reread(&driver, &convs, &acked_seqs, n, args.idle_passivation).await?),
    };
    // Each API's histogram is built once, here; the headline send figures are read from it.
    let per_api = latencies.to_json();
    let send_ms = |key: &str| per_api["send"][key].as_f64().unwrap_or(0.0);
    // Each a pass over every delivery: counted once, for the report and the verdict.
    let (lost, unexpected) = (check.lost(), check.unexpected());
    let json = json!({
        "operations": latencies_total(&latencies),
        "sends": sends,
        "errors": errors,
        "send_error_samples": error_samples,
        "elapsed_seconds": elapsed.as_secs_f64(),
        "messages_per_second": sends as f64 / elapsed.as_secs_f64().max(1e-9),
        "latency_p50_ms": send_ms("p50_ms"),
        "latency_p99_ms": send_ms("p99_ms"),
        "latency": per_api,
        "deliveries_expected": expected,
        "lost": lost,
        "duplicated": check.duplicated,
        "reordered": check.reordered,
        "unexpected": unexpected,
        "not_receiving": convs.iter().map(|c| c.receives.iter().filter(|r| !**r).count()).sum::<usize>(),
        "peak_rss_bytes": peak_rss_bytes(),
        "users": args.users,
        "conversations": args.conversations,
        // Over the network the service's own setting applies; the generator does not know it.
        "durability": match args.via {
            Via::Inproc => json!(format!("{:?}", args.durability).to_lowercase()),
            Via::Ws | Via::Rest => serde_json::Value::Null,
        },
        "via": format!("{:?}", args.via).to_lowercase(),
        "run_id": names.run(),
        "calls": if args.via != Via::Inproc { json!(format!("{:?}", args.calls).to_lowercase()) } else { serde_json::Value::Null },
    });
    let mut json = json;
    if let (Value::Object(report), Value::Object(cost)) = (&mut json, cost) {
        report.extend(cost);
    }
    let mut failed = lost + check.duplicated + check.reordered + unexpected > 0;
    if let Some(r) = reread {
        failed |= r.missing > 0;
        json["reread_conversations"] = json!(r.conversations);
        json["reread_missing"] = json!(r.missing);
        json["rss_after_idle_bytes"] = json!(r.rss_after_idle);
        json["anonymous_after_idle_bytes"] = json!(r.anonymous_after_idle);
    }
    Ok(LoadReport { json, failed })
}

/// What a run cost: CPU time per thread group (see [`thread_cpu`]) and instructions (see
/// [`instructions`]), of this process and of the service's when its process ID is known.
struct CostMeter {
    cpu: Option<thread_cpu::CpuSample>,
    instructions: Result<instructions::InstructionCounter, String>,
    server: Option<(u32, Option<thread_cpu::CpuSample>, Result<instructions::InstructionCounter, String>)>,
}

impl CostMeter {
    fn start(server_pid: Option<u32>) -> CostMeter {
        CostMeter {
            cpu: thread_cpu::CpuSample::read(None),
            instructions: instructions::InstructionCounter::start(None),
            server: server_pid.map(|pid| {
                (pid, thread_cpu::CpuSample::read(Some(pid)), instructions::InstructionCounter::start(Some(pid)))
            }),
        }
    }

    /// The report's cost keys for `messages` messages: `cpu_us_per_message` by thread group
    /// (and, in process, `engine_cpu_us_per_message`: everything but the generator),
    /// `instructions_per_message` or why it is not known; `server_…` the same of the service.
    fn finish(self, messages: u64, in_process: bool) -> Value {
        let per_message = |n: u64| n.checked_div(messages).map_or(Value::Null, |n| json!(n));
        let mut out = serde_json::Map::new();
        let mut add = |prefix: &str,
                       cpu: Option<(thread_cpu::CpuSample, thread_cpu::CpuSample)>,
                       counted: Result<instructions::InstructionCounter, String>| {
            if let Some((before, after)) = cpu {
                let used = after.since(&before);
                if prefix.is_empty() && in_process {
                    let engine = used["process"] - used.get("generator").copied().unwrap_or(0.0);
                    out.insert("engine_cpu_us_per_message".into(), json!(thread_cpu::per_message(engine, messages)));
                }
                out.insert(format!("{prefix}cpu_us_per_message"), thread_cpu::per_message_json(&used, messages));
            }
            match counted {
                Ok(counter) => {
                    out.insert(format!("{prefix}instructions_per_message"), per_message(counter.read()));
                }
                Err(why) => {
                    out.insert(format!("{prefix}instructions_per_message"), Value::Null);
                    out.insert(format!("{prefix}instructions_note"), json!(why));
                }
            }
        };
        let mine = self.cpu.and_then(|before| Some((before, thread_cpu::CpuSample::read(None)?)));
        add("", mine, self.instructions);
        if let Some((pid, before, counted)) = self.server {
            let theirs = before.and_then(|before| Some((before, thread_cpu::CpuSample::read(Some(pid))?)));
            add("server_", theirs, counted);
        }
        Value::Object(out)
    }
}

/// What `--reread` found.
struct Reread {
    conversations: usize,
    /// Acknowledged seqs not in the history read back.
    missing: u64,
    /// The process's RSS once the idle conversations were passivated, before the reads, and
    /// how much of it is the process's own (anonymous) memory.
    rss_after_idle: u64,
    anonymous_after_idle: u64,
}

/// Waits out the idle passivation, notes the RSS, then reads back `n` conversations drawn at
/// random, each as its first member sees it, and counts acknowledged seqs that are not there.
async fn reread(
    driver: &Driver,
    convs: &[Conv],
    acked: &std::collections::HashMap<ConvId, Vec<u64>>,
    n: usize,
    idle_passivation: f64,
) -> Result<Reread, String> {
    // The passivation timer looks once per idle period; two periods and a moment cover it.
    tokio::time::sleep(Duration::from_secs_f64(2.0 * idle_passivation + 0.5)).await;
    let (rss_after_idle, anonymous_after_idle) = (self::stats::rss_bytes(), self::stats::anonymous_bytes());
    let mut rng = fastrand::Rng::with_seed(99);
    let mut missing = 0;
    for _ in 0..n {
        let ci = rng.usize(..convs.len());
        let held: HashSet<u64> =
            driver.history_seqs(convs[ci].members[0], &convs[ci].reference[0]).await?.into_iter().collect();
        missing += acked.get(&(ci as ConvId)).into_iter().flatten().filter(|s| !held.contains(s)).count() as u64;
    }
    Ok(Reread { conversations: n, missing, rss_after_idle, anonymous_after_idle })
}

fn latencies_total(l: &Latencies) -> u64 {
    ["send", "batch_send", "revoke", "report_read", "history", "search"].iter().map(|a| l.count(a)).sum()
}
