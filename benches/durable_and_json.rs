//! Two benches with their baselines in the same run:
//!
//! - durable send (fsync at every group commit) against a raw rusqlite batched insert of
//!   message records shaped like the store's, 256 per transaction, each fsynced;
//! - a send through the JSON dispatcher against the typed API, and a raw serde_json parse and
//!   serialize of the same message as the codec's floor.

#![allow(clippy::print_stdout, reason = "a bench reports its ratio on standard output")]

#[path = "common/allocator.rs"]
mod allocator;

#[path = "common/report.rs"]
mod report;

#[path = "common/burst.rs"]
mod burst;

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group};
use timsg::dispatch::{self, ApiCall};
use timsg::load::baseline::raw_sqlite::RawSqlite;
use timsg::wire::WireMessage;
use timsg::{ConvRef, Durability, Element, MessageContent, Runtime, RuntimeConfig, Session};

const MESSAGES: usize = 2_000;
const CONVERSATIONS: usize = 200;
/// Rows per transaction in the rusqlite baseline.
const BATCH: usize = 256;
const MESSAGE_JSON: &str =
    r#"{"message_elem_array":[{"elem_type":0,"text_elem_content":"hello from the bench"}],"message_priority":1}"#;

fn durable(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("durable");
    group.throughput(Throughput::Elements(MESSAGES as u64));

    let mut raw = RawSqlite::open(&dir.path().join("raw.db"), true).unwrap();
    group.bench_function("raw_rusqlite_batched_insert_fsync", |b| {
        b.iter(|| raw.insert(MESSAGES, BATCH, CONVERSATIONS).unwrap())
    });

    let runtime = Runtime::open(RuntimeConfig {
        data_dir: dir.path().join("timsg"),
        durability: Durability::Fsync,
        arbiters: 2,
        ..Default::default()
    })
    .unwrap();
    let alice = runtime.login("alice").unwrap();
    let convs: Vec<ConvRef> = (0..CONVERSATIONS).map(|i| ConvRef::c2c(&format!("peer{i}"))).collect();
    let content = MessageContent::with_elements(vec![Element::text("hello from the bench")]);
    group.bench_function("timsg_send_fsync", |b| {
        b.to_async(rt).iter(|| async {
            burst::send_burst(&alice, &convs, &content, MESSAGES).await;
        })
    });
    group.finish();
    drop(alice);
    runtime.shutdown();
}

fn json(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let mut group = c.benchmark_group("json");
    group.throughput(Throughput::Elements(MESSAGES as u64));
    group.bench_function("raw_serde_json_parse_serialize", |b| {
        b.iter(|| {
            for _ in 0..MESSAGES {
                let m: WireMessage = serde_json::from_str(MESSAGE_JSON).unwrap();
                std::hint::black_box(serde_json::to_string(&m).unwrap());
            }
        })
    });
    // Each side gets a runtime of its own, opened fresh: sharing one, the side measured second
    // ran against a memory store already holding the first side's millions of messages.
    let convs: Vec<ConvRef> = (0..CONVERSATIONS).map(|i| ConvRef::c2c(&format!("peer{i}"))).collect();
    let content = MessageContent::with_elements(vec![Element::text("hello from the bench")]);
    with_fresh_session(|alice| {
        group.bench_function("typed_send", |b| {
            b.to_async(rt).iter(|| async {
                burst::send_burst(alice, &convs, &content, MESSAGES).await;
            })
        });
    });
    let peers: Vec<String> = (0..CONVERSATIONS).map(|i| format!("peer{i}")).collect();
    with_fresh_session(|alice| {
        group.bench_function("json_dispatch_send", |b| {
            b.to_async(rt).iter(|| async {
                let accepted: Vec<_> = (0..MESSAGES)
                    .map(|i| {
                        let call = ApiCall {
                            api: "TIMMsgSendMessage",
                            conv_id: Some(&peers[i % CONVERSATIONS]),
                            conv_type: 1,
                            json: MESSAGE_JSON,
                            ..Default::default()
                        };
                        dispatch::begin(alice, &call).unwrap()
                    })
                    .collect();
                for a in accepted {
                    assert_eq!(a.completion.await.code, 0);
                }
            })
        });
    });
    group.finish();
}

/// Runs `measure` with user alice logged in to a new in-memory runtime, then shuts it down.
fn with_fresh_session(measure: impl FnOnce(&Arc<Session>)) {
    let runtime =
        Runtime::open(RuntimeConfig { durability: Durability::Memory, arbiters: 2, ..Default::default() }).unwrap();
    let alice = Arc::new(runtime.login("alice").unwrap());
    measure(&alice);
    drop(alice);
    runtime.shutdown();
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    durable(c, &rt);
    json(c, &rt);
}

criterion_group! {
    name = durable_and_json;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(10)).warm_up_time(Duration::from_secs(2));
    targets = benches
}

fn main() {
    durable_and_json();
    Criterion::default().configure_from_args().final_summary();
    let per_sec = |ns: f64| MESSAGES as f64 / (ns / 1e9);
    if let Some((raw, ours)) =
        report::baseline_and_ours("durable", "raw_rusqlite_batched_insert_fsync", "timsg_send_fsync")
    {
        println!(
            "durable: raw rusqlite {:.0} rows/s, timsg fsync send {:.0} msg/s, ratio {:.3}",
            per_sec(raw),
            per_sec(ours),
            raw / ours
        );
    }
    if let (Some(serde), Some(typed), Some(json)) = (
        report::mean_ns("json", "raw_serde_json_parse_serialize"),
        report::mean_ns("json", "typed_send"),
        report::mean_ns("json", "json_dispatch_send"),
    ) {
        println!(
            "json: raw serde_json {:.0} msg/s, typed send {:.0} msg/s, JSON dispatch {:.0} msg/s; dispatch/typed {:.3}",
            per_sec(serde),
            per_sec(typed),
            per_sec(json),
            typed / json
        );
    }
}
