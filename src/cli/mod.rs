//! The command line: `timsg serve` (the HTTP and WebSocket service), `timsg usersig` (a UserSig
//! for local use) and `timsg dispatch` (the JSON dispatcher over standard input and output).

pub mod dispatch;
pub mod serve;
pub mod verify;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use timsg_actors::config::Durability;

#[derive(Debug, Parser)]
#[command(name = "timsg", version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("TIMSG_GIT_COMMIT"), ")"), about = "An actor-based runtime for the Tencent Cloud IM message API")]
pub struct Cli {
    /// Log format on standard error: `text` or `json`. Filter with RUST_LOG.
    #[arg(long, global = true, default_value = "text")]
    pub log_format: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serves the TIM message API over HTTP and WebSocket.
    Serve(serve::ServeArgs),
    /// Prints a UserSig for a user, made with the service's secret key.
    Usersig(serve::UsersigArgs),
    /// Drives the runtime with load, checking every delivery; fails on any lost, duplicated or
    /// reordered message.
    Load(crate::load::LoadArgs),
    /// Checks a running service against the ack log of `timsg load --ack-log`: every
    /// acknowledged message there once, seqs without a hole, revokes, read points, receive
    /// options and custom data as acknowledged.
    VerifyAcks(verify::VerifyArgs),
    /// Runs TIM calls read as JSON lines from standard input, answering each (and every event
    /// of the logged-in user) as a JSON line on standard output.
    Dispatch(DispatchArgs),
}

#[derive(Debug, clap::Args)]
pub struct DispatchArgs {
    /// The user to act as.
    #[arg(long)]
    pub user: String,
    /// Where the store lives.
    #[arg(long, env = "TIMSG_DATA_DIR", default_value = "timsg-data")]
    pub data_dir: PathBuf,
    /// `fsync` (default), `os` or `memory`.
    #[arg(long, default_value = "fsync")]
    pub durability: Durability,
}

/// Structured logs on standard error, filtered by `RUST_LOG` (default `info`).
pub fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: a log file or a collector gets plain text (and styling
    // every formatted field is work on each call's span).
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Dispatch(args) => dispatch::run(args),
        Command::Serve(args) => serve::serve(args),
        Command::Usersig(args) => serve::usersig(args),
        Command::Load(args) => load(args),
        Command::VerifyAcks(args) => verify::run(args),
    }
}

/// What `--reread` found (empty without it).
fn reread_line(r: &serde_json::Value) -> String {
    match r["reread_conversations"].as_u64() {
        Some(n) => format!(
            "\nreread {n} conversations after the idle passivation: {} acknowledged messages missing; RSS then {} MiB, {} MiB of it the process's own",
            r["reread_missing"],
            r["rss_after_idle_bytes"].as_u64().unwrap_or(0) / (1024 * 1024),
            r["anonymous_after_idle_bytes"].as_u64().unwrap_or(0) / (1024 * 1024)
        ),
        None => String::new(),
    }
}

/// The conversation actors' counts of an in-process run (empty over the network).
fn conversation_counts(r: &serde_json::Value) -> String {
    match r["conversations_activated"].as_u64() {
        Some(activated) => format!(
            "\nconversation actors: {activated} activated, {} passivated, {} active at the end",
            r["conversations_passivated"], r["conversations_active_at_end"]
        ),
        None => String::new(),
    }
}

/// The baseline's line of the human summary, if one was measured.
fn baseline_line(r: &serde_json::Value) -> String {
    let Some(per_second) = r["baseline"]["messages_per_second"].as_f64() else { return String::new() };
    let ratio = r["ratio_to_baseline"].as_f64().map_or(String::new(), |x| format!(", ratio {x:.3}"));
    format!("\nbaseline ({}): {per_second:.0} messages/s{ratio}", r["baseline"]["what"].as_str().unwrap_or(""))
}

fn load(args: crate::load::LoadArgs) -> Result<(), String> {
    use std::io::Write;
    let json = args.json;
    let report = crate::load::run(args)?;
    let mut out = std::io::stdout().lock();
    let r = &report.json;
    let text = if json {
        r.to_string()
    } else {
        format!(
            "{} sends in {:.2} s: {:.0} messages/s; send latency p50 {:.3} ms, p99 {:.3} ms\n\
             deliveries expected {}, lost {}, duplicated {}, reordered {}, unexpected {}; peak RSS {} MiB\n\
             latency per API: {}",
            r["sends"],
            r["elapsed_seconds"].as_f64().unwrap_or(0.0),
            r["messages_per_second"].as_f64().unwrap_or(0.0),
            r["latency_p50_ms"].as_f64().unwrap_or(0.0),
            r["latency_p99_ms"].as_f64().unwrap_or(0.0),
            r["deliveries_expected"],
            r["lost"],
            r["duplicated"],
            r["reordered"],
            r["unexpected"],
            r["peak_rss_bytes"].as_u64().unwrap_or(0) / (1024 * 1024),
            r["latency"],
        ) + &conversation_counts(r)
            + &reread_line(r)
            + &baseline_line(r)
    };
    writeln!(out, "{text}").map_err(|e| e.to_string())?;
    if report.failed { Err("deliveries were lost, duplicated, reordered or unexpected".into()) } else { Ok(()) }
}
