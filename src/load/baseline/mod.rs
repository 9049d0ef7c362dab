//! The baseline `timsg load` measures in the same run, before its own load, so that every
//! figure it prints comes with the ratio to what the bare machinery underneath does on the
//! same machine at the same moment (this machine's figures move by a fifth from day to day,
//! so a figure alone says little about a change):
//!
//! - in process, durability `memory`: raw actix request/reply to plain actors on as many
//!   arbiters as the runtime has, with the same number in flight ([`raw_actix`]);
//! - in process, `os` or `fsync`: raw rusqlite inserts of message records, 256 per transaction,
//!   fsynced at each commit with `fsync` ([`raw_sqlite`]);
//! - over the network: a bare WebSocket relay on this machine, as many sockets and as many
//!   calls in flight ([`ws_relay`]).

pub mod raw_actix;
pub mod raw_sqlite;
pub mod send_hops;
pub mod ws_relay;
pub mod ws_relay_load;

use std::path::Path;

use serde_json::{Value, json};
use timsg_actors::config::Durability;

use super::{LoadArgs, Via};

/// Operations a baseline runs at most (it needs a second or two, not the whole run's length).
const MAX_OPERATIONS: u64 = 200_000;

/// Rows per transaction in the SQLite baseline (as in the durable bench).
const SQLITE_BATCH: usize = 256;

/// What the baseline did and how fast.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    pub what: String,
    pub per_second: f64,
    /// In memory: the hops of a send alone, measured after the round trips.
    pub hops_floor: Option<HopsFloor>,
}

/// The send-hops floor ([`send_hops`]) as the load measured it: its rate, and the CPU each
/// side spent per message (its arbiters; the load's own threads, callers and receivers).
#[derive(Debug, Clone, PartialEq)]
pub struct HopsFloor {
    pub what: String,
    pub per_second: f64,
    pub arbiters_cpu_us: f64,
    pub generator_cpu_us: f64,
}

impl Baseline {
    pub fn to_json(&self) -> Value {
        let mut v = json!({"what": self.what, "messages_per_second": self.per_second});
        if let Some(f) = &self.hops_floor {
            v["send_hops_floor"] = json!({
                "what": f.what,
                "messages_per_second": f.per_second,
                "cpu_us_per_message": {"arbiters": f.arbiters_cpu_us, "generator": f.generator_cpu_us},
            });
        }
        v
    }
}

/// Operations the baseline runs for a load of `args`.
fn operations(args: &LoadArgs) -> u64 {
    let planned = match (args.messages, args.duration, args.rate) {
        (Some(n), _, _) => n,
        (None, Some(d), Some(r)) => (d * r as f64) as u64,
        (None, Some(_), None) => MAX_OPERATIONS,
        // The load's own default.
        (None, None, _) => super::DEFAULT_OPERATIONS,
    };
    planned.clamp(1, MAX_OPERATIONS)
}

/// Runs the baseline that matches `args`, on the runtime `rt` (scratch files go in `scratch`);
/// in memory, its actors are spread over `arbiters` arbiters, as many as the load's runtime has.
pub fn measure(
    args: &LoadArgs,
    arbiters: usize,
    rt: &tokio::runtime::Runtime,
    scratch: &Path,
) -> Result<Baseline, String> {
    let n = operations(args);
    let per_second = |n: u64, took: std::time::Duration| n as f64 / took.as_secs_f64().max(1e-9);
    match (args.via, args.durability) {
        (Via::Inproc, Durability::Memory) => {
            let raw = raw_actix::RawActix::start(arbiters, args.conversations.clamp(1, 10_000))?;
            let took = rt.block_on(raw.closed_loop(n, args.concurrency));
            raw.stop();
            let took = took?;
            Ok(Baseline {
                what: format!("raw actix request/reply, {arbiters} arbiters, {} in flight", args.concurrency),
                per_second: per_second(n, took),
                hops_floor: Some(hops_floor(args, arbiters, n, rt)?),
            })
        }
        (Via::Inproc, durability) => {
            let sync = durability == Durability::Fsync;
            let path = scratch.join("baseline.sqlite");
            let took = raw_sqlite::RawSqlite::open(&path, sync)?.insert(n as usize, SQLITE_BATCH, args.conversations);
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            Ok(Baseline {
                what: format!(
                    "raw rusqlite insert, {SQLITE_BATCH} rows per transaction{}",
                    if sync { ", fsynced" } else { "" }
                ),
                per_second: per_second(n, took?),
                hops_floor: None,
            })
        }
        // The REST load is held to the same bare relay as the WebSocket one, so their ratios
        // compare: what the REST path costs on top shows as a lower ratio.
        (Via::Ws | Via::Rest, _) => {
            let relay = ws_relay::RawWsRelay::start()?;
            let took = rt.block_on(ws_relay_load::closed_loop(&relay, args.users, n, args.concurrency));
            relay.stop();
            Ok(Baseline {
                what: format!(
                    "bare WebSocket relay on this machine, {} sockets, {} in flight",
                    args.users, args.concurrency
                ),
                per_second: per_second(n, took?),
                hops_floor: None,
            })
        }
    }
}

/// Runs the send-hops floor in the load's shape (its conversations, users and sends in flight)
/// and reads the CPU its arbiters and the load's threads spent on it.
fn hops_floor(args: &LoadArgs, arbiters: usize, n: u64, rt: &tokio::runtime::Runtime) -> Result<HopsFloor, String> {
    use super::thread_cpu::{CpuSample, per_message};
    let conversations = args.conversations.clamp(1, 10_000);
    let users = args.users.max(1);
    let floor = rt.block_on(async { send_hops::SendHops::start(arbiters, conversations, users) })?;
    let before = CpuSample::read(None);
    let began = std::time::Instant::now();
    let ran = rt.block_on(floor.closed_loop(n, args.concurrency));
    let took = began.elapsed();
    // Read before stopping: the arbiters' counters end with their threads.
    let after = CpuSample::read(None);
    floor.stop();
    ran?;
    let cpu = match (before, after) {
        (Some(b), Some(a)) => a.since(&b),
        _ => Default::default(),
    };
    let of = |group: &str| per_message(cpu.get(group).copied().unwrap_or(0.0), n);
    Ok(HopsFloor {
        what: format!(
            "the hops of a send alone: request/reply under a deadline + one delivery to a receiver's task, \
             {arbiters} arbiters, {conversations} conversations, {users} receivers, {} in flight",
            args.concurrency
        ),
        per_second: n as f64 / took.as_secs_f64().max(1e-9),
        arbiters_cpu_us: of("floor_arbiters"),
        generator_cpu_us: of("generator"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        load: LoadArgs,
    }

    fn args(extra: &[&str]) -> LoadArgs {
        Cli::parse_from(std::iter::once("load").chain(extra.iter().copied())).load
    }

    #[test]
    fn a_baseline_runs_as_many_operations_as_the_load_up_to_a_cap() {
        assert_eq!(operations(&args(&["--messages", "5000"])), 5000);
        assert_eq!(operations(&args(&["--messages", "5000000"])), MAX_OPERATIONS);
        assert_eq!(operations(&args(&["--duration", "2", "--rate", "3000"])), 6000);
        assert_eq!(operations(&args(&["--duration", "2"])), MAX_OPERATIONS);
        assert_eq!(operations(&args(&[])), super::super::DEFAULT_OPERATIONS);
    }
}
