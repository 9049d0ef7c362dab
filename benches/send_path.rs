//! The send path, against a raw actix request/reply baseline measured in the same run.
//!
//! Workload: 2,000 messages in flight at once, spread over 200 C2C conversations, each sent
//! through the typed API and awaited until stored (durability `memory`: the in-process store).
//! Baseline: the same number of request/reply round trips to 200 plain actix actors spread
//! over the same number of arbiters. The ratio printed at the end is timsg throughput divided
//! by baseline throughput.

#![allow(clippy::print_stdout, reason = "a bench reports its ratio on standard output")]

#[path = "common/allocator.rs"]
mod allocator;

#[path = "common/report.rs"]
mod report;

#[path = "common/burst.rs"]
mod burst;

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group};
use timsg::load::baseline::raw_actix::RawActix;
use timsg::{ConvRef, Durability, Element, MessageContent, Runtime, RuntimeConfig};

const MESSAGES: usize = 2_000;
const CONVERSATIONS: usize = 200;
const ARBITERS: usize = 2;

/// Raw actix: actors on their own arbiters, driven from a tokio runtime.
fn baseline(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let raw = RawActix::start(ARBITERS, CONVERSATIONS).unwrap();
    let mut group = c.benchmark_group("send_path");
    group.throughput(Throughput::Elements(MESSAGES as u64));
    group.bench_function("raw_actix_round_trip", |b| {
        b.to_async(rt).iter(|| async { raw.round_trips(MESSAGES).await.unwrap() })
    });
    group.finish();
    raw.stop();
}

fn timsg_typed(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let runtime = Runtime::open(RuntimeConfig {
        durability: Durability::Memory,
        arbiters: ARBITERS,
        group_commit_max: 8192,
        ..Default::default()
    })
    .unwrap();
    let alice = runtime.login("alice").unwrap();
    let convs: Vec<ConvRef> = (0..CONVERSATIONS).map(|i| ConvRef::c2c(&format!("peer{i}"))).collect();
    let content = MessageContent::with_elements(vec![Element::text("hello")]);
    let mut group = c.benchmark_group("send_path");
    group.throughput(Throughput::Elements(MESSAGES as u64));
    group.bench_function("timsg_typed_send_memory", |b| {
        b.to_async(rt).iter(|| async {
            burst::send_burst(&alice, &convs, &content, MESSAGES).await;
        })
    });
    group.finish();
    runtime.shutdown();
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    baseline(c, &rt);
    timsg_typed(c, &rt);
}

criterion_group! {
    name = send_path;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(8)).warm_up_time(Duration::from_secs(2));
    targets = benches
}

fn main() {
    send_path();
    Criterion::default().configure_from_args().final_summary();
    if let Some((base, ours)) =
        report::baseline_and_ours("send_path", "raw_actix_round_trip", "timsg_typed_send_memory")
    {
        let per_sec = |ns: f64| MESSAGES as f64 / (ns / 1e9);
        println!(
            "send_path: raw actix {:.0} msg/s, timsg typed send {:.0} msg/s, ratio {:.3}",
            per_sec(base),
            per_sec(ours),
            base / ours
        );
    }
}
