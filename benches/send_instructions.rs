//! Instructions per send, counted rather than timed: each workload runs in a child process under
//! valgrind's cachegrind (`--cache-sim=no`: it only counts the instructions every thread
//! executes), twice — with N and with 2N operations — and the difference over N is the cost of
//! one operation at steady state (start-up, activation of the conversations and shutdown are
//! the same in both runs and cancel out). The count hardly moves from run to run on a busy
//! machine, where messages per second move by tens of percent, so a change to the send path
//! is judged in one run.
//!
//! Workloads (typed API, in memory, 512 sends in flight like the load generator's closed loop):
//! one conversation; 10,000 conversations, round-robin; and the whole in-process load as
//! `timsg load` runs it (2,000 users, each taking its events, 10,000 conversations of which a
//! tenth are groups of 8, 512 in flight, generator included: the figure behind
//! `cpu_us_per_message`). Baselines, in the same run: raw actix request/reply round trips to
//! plain actors on as many arbiters, 512 in flight; and the hops of a send alone
//! (`load::baseline::send_hops`: the round trip under a deadline plus one delivery to a
//! receiver's task, 10,000 conversations, 2,000 receivers), so the rest of a send's count is
//! its work, not the design's hops.
//!
//!   cargo bench --bench send_instructions          # needs valgrind (apt-get install valgrind)
//!   SEND_INSTRUCTIONS_N=2000 cargo bench --bench send_instructions   # quicker, noisier
//!   (the load workload runs at least 50,000 messages: below that its difference still holds
//!   conversation activations)

#![allow(clippy::print_stdout, reason = "a bench reports its figures on standard output")]

use std::process::Command;

use timsg::load::baseline::raw_actix::RawActix;
use timsg::load::baseline::send_hops::SendHops;
use timsg::{ConvRef, Durability, Element, MessageContent, Runtime, RuntimeConfig};

/// Operations in flight at once.
const IN_FLIGHT: usize = 512;
const ARBITERS: usize = 2;
/// The child's first argument: which workload to run, then how many operations.
const CHILD: &str = "--child";

/// What one run of a workload does, in the child.
fn run_workload(workload: &str, n: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    match workload {
        "raw_actix" => {
            let raw = RawActix::start(ARBITERS, 10_000).unwrap();
            rt.block_on(async {
                for start in (0..n).step_by(IN_FLIGHT) {
                    raw.round_trips(IN_FLIGHT.min(n - start)).await.unwrap();
                }
            });
            raw.stop();
        }
        "send_hops_floor" => {
            let floor = rt.block_on(async { SendHops::start(ARBITERS, 10_000, 2_000) }).unwrap();
            rt.block_on(floor.closed_loop(n as u64, IN_FLIGHT)).unwrap();
            floor.stop();
        }
        "send_1_conversation" | "send_10000_conversations" => {
            let conversations = if workload == "send_1_conversation" { 1 } else { 10_000 };
            let runtime = Runtime::open(RuntimeConfig {
                durability: Durability::Memory,
                arbiters: ARBITERS,
                ..Default::default()
            })
            .unwrap();
            let alice = runtime.login("alice").unwrap();
            let convs: Vec<ConvRef> = (0..conversations).map(|i| ConvRef::c2c(&format!("peer{i}"))).collect();
            let content = MessageContent::with_elements(vec![Element::text("hello")]);
            rt.block_on(async {
                let mut sent = 0;
                while sent < n {
                    let burst = IN_FLIGHT.min(n - sent);
                    let pending: Vec<_> = (sent..sent + burst)
                        .map(|i| alice.send_message(&convs[i % convs.len()], content.clone()).unwrap())
                        .collect();
                    for p in pending {
                        p.outcome().await.unwrap();
                    }
                    sent += burst;
                }
            });
            drop(alice);
            runtime.shutdown();
        }
        other => panic!("no workload {other}"),
    }
}

/// The in-process load workload: `timsg load` itself, with a fixed run ID so both runs make
/// the same users and conversations.
const LOAD_WORKLOAD: &str = "load_2000_users_10000_conversations";

/// Instructions the child running `workload` with `n` operations executed, in all its threads.
fn count(workload: &str, n: usize) -> Result<u64, String> {
    let out_file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let mut valgrind = Command::new("valgrind");
    valgrind
        .args(["--tool=cachegrind", "--cache-sim=no", "--quiet"])
        .arg(format!("--cachegrind-out-file={}", out_file.path().display()));
    if workload == LOAD_WORKLOAD {
        valgrind.arg(env!("CARGO_BIN_EXE_timsg")).args([
            "load",
            "--users",
            "2000",
            "--conversations",
            "10000",
            "--concurrency",
            &IN_FLIGHT.to_string(),
            "--durability",
            "memory",
            "--no-baseline",
            "--json",
            "--run-id",
            "ins",
            "--messages",
            &n.to_string(),
        ]);
        // Its report and logs are not this bench's: only the count is.
        valgrind.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    } else {
        valgrind.arg(std::env::current_exe().map_err(|e| e.to_string())?).args([CHILD, workload, &n.to_string()]);
    }
    let status = valgrind.status().map_err(|e| format!("valgrind: {e}"))?;
    if !status.success() {
        return Err(format!("{workload} with {n} under valgrind: {status}"));
    }
    let text = std::fs::read_to_string(out_file.path()).map_err(|e| e.to_string())?;
    text.lines()
        .find_map(|l| l.strip_prefix("summary:"))
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no summary in the cachegrind output of {workload}"))
}

/// Instructions of one operation of `workload`: the difference between 2N and N operations.
fn per_operation(workload: &str, n: usize) -> Result<f64, String> {
    let once = count(workload, n)?;
    let twice = count(workload, 2 * n)?;
    Ok(twice.saturating_sub(once) as f64 / n as f64)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(CHILD) {
        run_workload(&args[2], args[3].parse().expect("a count"));
        return;
    }
    // `cargo test --benches` runs every bench once as a test: nothing to count there.
    if args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench") {
        return;
    }
    if Command::new("valgrind").arg("--version").output().is_err() {
        println!("send_instructions: valgrind is not installed (apt-get install valgrind); nothing counted");
        return;
    }
    let n: usize = std::env::var("SEND_INSTRUCTIONS_N").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let baseline = per_operation("raw_actix", n).expect("the raw actix baseline");
    println!("send_instructions: raw actix request/reply: {baseline:.0} instructions per round trip");
    let floor = per_operation("send_hops_floor", n).expect("the send-hops floor");
    println!(
        "send_instructions: the hops of a send alone (request/reply under a deadline + one delivery to a \
         receiver's task, 10,000 conversations, 2,000 receivers): {floor:.0} instructions, {:.2} x the raw round trip",
        floor / baseline
    );
    for workload in ["send_1_conversation", "send_10000_conversations", LOAD_WORKLOAD] {
        // The load touches its 10,000 conversations at random: with fewer than 5 messages a
        // conversation in the smaller run, activations would not cancel out.
        let n = if workload == LOAD_WORKLOAD { n.max(50_000) } else { n };
        let ours = per_operation(workload, n).expect(workload);
        println!(
            "send_instructions: {workload}: {ours:.0} instructions per send, {:.2} x the raw actix round trip \
             (ratio of throughputs at equal IPC: {:.3}); {:.0} above the hops alone",
            ours / baseline,
            baseline / ours,
            ours - floor
        );
    }
}
