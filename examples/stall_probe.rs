//! Measures how often this machine stops a busy thread, to tell the runtime's latency tails
//! from the machine's own.
//!
//! Runs one thread per core (or as many as the first argument says) for ten seconds (or the
//! second argument), each doing nothing but reading the monotonic clock, and reports every
//! pause longer than a millisecond between two consecutive readings: time the thread was not
//! running although it never blocked. On a quiet dedicated machine there are none; a shared
//! virtual machine preempts busy cores now and then, and a send waiting behind such a pause
//! shows it in its latency whatever the runtime does.
//!
//! `cargo run --release --example stall_probe -- [threads] [seconds]`

#![allow(clippy::print_stdout, reason = "an example reports on standard output")]

use std::time::{Duration, Instant};

/// Pauses at least this long are counted.
const PAUSE: Duration = Duration::from_millis(1);

/// The pauses one thread saw.
fn probe(run_for: Duration) -> Vec<Duration> {
    let start = Instant::now();
    let mut last = start;
    let mut pauses = Vec::new();
    while last - start < run_for {
        let now = Instant::now();
        if now - last >= PAUSE {
            pauses.push(now - last);
        }
        last = now;
    }
    pauses
}

fn main() {
    let mut args = std::env::args().skip(1);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = args.next().and_then(|a| a.parse().ok()).unwrap_or(cores);
    let seconds = args.next().and_then(|a| a.parse().ok()).unwrap_or(10.0);
    let run_for = Duration::from_secs_f64(seconds);
    let handles: Vec<_> = (0..threads).map(|_| std::thread::spawn(move || probe(run_for))).collect();
    let mut pauses: Vec<Duration> = handles.into_iter().flat_map(|h| h.join().expect("a probe thread")).collect();
    pauses.sort_unstable();
    let total: Duration = pauses.iter().sum();
    println!(
        "{threads} busy threads for {seconds} s: {} pauses of 1 ms or more, {:.1} ms in all, the longest {:.2} ms",
        pauses.len(),
        total.as_secs_f64() * 1e3,
        pauses.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
    );
}
