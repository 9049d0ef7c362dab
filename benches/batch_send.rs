//! Batch send to 500 receivers (in-memory store), against raw actix in the same run.
//!
//! Workload: one `BatchSend` of a text message to 500 C2C receivers, awaited until every
//! receiver's copy is durable and answered. Baseline: 500 request/replies to 500 plain actix
//! actors on the same arbiters, all in flight at once — the fan-out with none of the work.
//! Printed at the end: both means, the ratio, and the p50/p99 of single batch sends (the
//! target is p99 ≤ 5 ms).

#![allow(clippy::print_stdout, reason = "a bench reports its ratio on standard output")]

#[path = "common/allocator.rs"]
mod allocator;

#[path = "common/report.rs"]
mod report;

#[path = "common/latency.rs"]
mod latency;

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group};
use timsg::load::baseline::raw_actix::RawActix;
use timsg::{Durability, Element, MessageContent, Runtime, RuntimeConfig, Session};

const RECEIVERS: usize = 500;
const ARBITERS: usize = 2;

async fn batch_send(alice: &Session, receivers: &[String], content: &MessageContent) {
    let results = alice.batch_send(receivers.to_vec(), content.clone()).await.unwrap();
    assert!(results.len() == RECEIVERS && results.iter().all(|r| r.outcome.is_ok()));
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let mut group = c.benchmark_group("batch_send");
    group.throughput(Throughput::Elements(RECEIVERS as u64));

    let raw = RawActix::start(ARBITERS, RECEIVERS).unwrap();
    group.bench_function("raw_actix_fan_out_500", |b| {
        b.to_async(&rt).iter(|| async { raw.round_trips(RECEIVERS).await.unwrap() })
    });
    raw.stop();

    let runtime =
        Runtime::open(RuntimeConfig { durability: Durability::Memory, arbiters: ARBITERS, ..Default::default() })
            .unwrap();
    let alice = runtime.login("alice").unwrap();
    let receivers: Vec<String> = (0..RECEIVERS).map(|i| format!("r{i}")).collect();
    let content = MessageContent::with_elements(vec![Element::text("an announcement to everyone")]);
    group.bench_function("timsg_batch_send_500", |b| b.to_async(&rt).iter(|| batch_send(&alice, &receivers, &content)));
    group.finish();

    let single = latency::time_calls(&rt, 300, |_| batch_send(&alice, &receivers, &content));
    println!("batch_send: single batch sends to {RECEIVERS}: {single}");
    drop(alice);
    runtime.shutdown();
}

criterion_group! {
    name = batch_send_group;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(8)).warm_up_time(Duration::from_secs(2));
    targets = benches
}

fn main() {
    batch_send_group();
    Criterion::default().configure_from_args().final_summary();
    if let Some((raw, ours)) = report::baseline_and_ours("batch_send", "raw_actix_fan_out_500", "timsg_batch_send_500")
    {
        println!(
            "batch_send: raw actix fan-out {:.3} ms, timsg batch send {:.3} ms per 500 receivers, ratio {:.3}",
            raw / 1e6,
            ours / 1e6,
            raw / ours
        );
    }
}
