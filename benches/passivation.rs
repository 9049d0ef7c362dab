//! Passivating and reactivating a conversation, against raw actix actor start/stop in the same
//! run.
//!
//! Workload: a C2C conversation holding 100 messages. One cycle: passivate its actor (it leaves
//! the routing table and stops), then read its newest page of history, which starts a fresh
//! actor that loads the conversation from the store. Baseline: start a plain actix actor on an
//! arbiter, ask it once, stop it — the actor lifecycle with no state to load.

#![allow(clippy::print_stdout, reason = "a bench reports its ratio on standard output")]

#[path = "common/allocator.rs"]
mod allocator;

#[path = "common/report.rs"]
mod report;

#[path = "common/burst.rs"]
mod burst;

use std::time::Duration;

use criterion::{Criterion, criterion_group};
use timsg::load::baseline::raw_actix::RawActix;
use timsg::{ConvRef, Durability, Element, HistoryQuery, MessageContent, Runtime, RuntimeConfig};

const MESSAGES: usize = 100;
const ARBITERS: usize = 2;

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let mut group = c.benchmark_group("passivation");

    let raw = RawActix::start(ARBITERS, 0).unwrap();
    let mut i = 0;
    group.bench_function("raw_actix_start_ask_stop", |b| {
        b.to_async(&rt).iter(|| {
            i += 1;
            let raw = &raw;
            async move { raw.start_ask_stop(i).await.unwrap() }
        })
    });
    raw.stop();

    // On the SQLite store (no fsync): reactivation reads the conversation back from disk, as
    // it does in service (the memory store would hand back its in-process records).
    let dir = tempfile::tempdir().unwrap();
    let runtime = Runtime::open(RuntimeConfig {
        data_dir: dir.path().into(),
        durability: Durability::Os,
        arbiters: ARBITERS,
        ..Default::default()
    })
    .unwrap();
    let alice = runtime.login("alice").unwrap();
    let bob = ConvRef::c2c("bob");
    let content = MessageContent::with_elements(vec![Element::text("something worth keeping")]);
    rt.block_on(burst::send_burst(&alice, std::slice::from_ref(&bob), &content, MESSAGES));
    let key = alice.conv_key(&bob).unwrap();
    let engine = runtime.engine().clone();
    group.bench_function("timsg_passivate_reactivate_100", |b| {
        b.to_async(&rt).iter(|| async {
            assert!(engine.passivate(&key).await.unwrap(), "the conversation was idle");
            let page = alice.get_msg_list(&bob, HistoryQuery::default()).await.unwrap();
            assert_eq!(page.first().map(|m| m.message.seq), Some(MESSAGES as u64));
        })
    });
    group.finish();
    let stats = rt.block_on(engine.supervisor_stats());
    println!("passivation: {} activations, {} passivations", stats.activated, stats.passivated);
    drop(alice);
    runtime.shutdown();
}

criterion_group! {
    name = passivation;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(6)).warm_up_time(Duration::from_secs(2));
    targets = benches
}

fn main() {
    passivation();
    Criterion::default().configure_from_args().final_summary();
    if let Some((raw, ours)) =
        report::baseline_and_ours("passivation", "raw_actix_start_ask_stop", "timsg_passivate_reactivate_100")
    {
        println!(
            "passivation: raw actix start/ask/stop {:.1} µs, timsg passivate + reactivate (100 messages) {:.1} µs, ratio {:.3}",
            raw / 1e3,
            ours / 1e3,
            raw / ours
        );
    }
}
