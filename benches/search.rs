//! Local search over 1,000,000 stored messages, against the raw SQLite FTS5 query on the same
//! database in the same run.
//!
//! Data: 1,000 C2C conversations of `alice` with 1,000 messages each, half sent by each side;
//! every text is four words drawn from 64, so any two words appear together in about 0.4 % of
//! the messages. One call: two keywords, AND, one sender — the shape of the target (p99 ≤ 20 ms
//! at 10M messages). Baseline: the trigram FTS5 match joined to the messages table with the
//! sender filter, straight on the same file — the plan a plain FTS5 store runs. timsg adds the
//! member scope, visibility through the conversation actors and building the result, and picks
//! its plan: with a sender of few messages it goes sender first (see `store/search.rs`). Printed: both means, the ratio, and the
//! p50/p99 of single searches. `SEARCH_BENCH_PEERS=10000` stores 10,000,000 messages instead
//! (the target's size; takes a few minutes and a few GB of disk).

#![allow(clippy::print_stdout, reason = "a bench reports its ratio on standard output")]

#[path = "common/allocator.rs"]
mod allocator;

#[path = "common/report.rs"]
mod report;

#[path = "common/latency.rs"]
mod latency;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use timsg::{ConvRef, Durability, Element, MessageContent, Runtime, RuntimeConfig, SearchQuery, Session};

const DEFAULT_PEERS: usize = 1_000;
const PER_CONVERSATION: usize = 1_000;

/// Conversations of `alice` (1,000 messages each).
fn peers() -> usize {
    std::env::var("SEARCH_BENCH_PEERS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_PEERS)
}
const SYLLABLES: [&str; 8] = ["ra", "to", "mi", "ke", "su", "na", "lo", "pe"];

fn word(i: usize) -> String {
    format!("{}{}x", SYLLABLES[(i / 8) % 8], SYLLABLES[i % 8])
}

/// The `i`-th query: two keywords and a sender, varied so no two calls in a row are alike.
fn query(i: usize) -> (String, String, String) {
    let a = (i * 7) % 64;
    let b = (a + 1 + (i * 13) % 63) % 64;
    (word(a), word(b), format!("peer{}", (i * 31) % peers()))
}

fn text(rng: &mut fastrand::Rng) -> String {
    (0..4).map(|_| word(rng.usize(..64))).collect::<Vec<_>>().join(" ")
}

async fn populate(alice: Arc<Session>, peers: Vec<Arc<Session>>) {
    let tasks: Vec<_> = peers
        .into_iter()
        .enumerate()
        .map(|(p, peer)| {
            let alice = alice.clone();
            tokio::spawn(async move {
                let mut rng = fastrand::Rng::with_seed(p as u64);
                let (to_peer, to_alice) = (ConvRef::c2c(&format!("peer{p}")), ConvRef::c2c("alice"));
                for window in 0..PER_CONVERSATION / 50 {
                    let pending: Vec<_> = (0..50)
                        .map(|i| {
                            let content = MessageContent::with_elements(vec![Element::text(text(&mut rng))]);
                            if (window + i) % 2 == 0 {
                                alice.send_message(&to_peer, content).unwrap()
                            } else {
                                peer.send_message(&to_alice, content).unwrap()
                            }
                        })
                        .collect();
                    for s in pending {
                        s.outcome().await.unwrap();
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let runtime = Runtime::open(RuntimeConfig {
        data_dir: dir.path().to_path_buf(),
        durability: Durability::Os,
        arbiters: 2,
        ..Default::default()
    })
    .unwrap();
    let alice = Arc::new(runtime.login("alice").unwrap());
    let messages = peers() * PER_CONVERSATION;
    let peers: Vec<Arc<Session>> =
        (0..peers()).map(|p| Arc::new(runtime.login(&format!("peer{p}")).unwrap())).collect();
    let started = Instant::now();
    rt.block_on(populate(alice.clone(), peers));
    println!("search: stored {messages} messages in {:.1} s", started.elapsed().as_secs_f64());

    let mut group = c.benchmark_group("search");
    let db = rusqlite::Connection::open_with_flags(
        dir.path().join("timsg.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .unwrap();
    let stored: i64 = db.query_row("SELECT count(*) FROM messages", [], |r| r.get(0)).unwrap();
    assert_eq!(stored as usize, messages);
    let mut i = 0;
    group.bench_function("raw_sqlite_fts5_and_sender", |b| {
        b.iter(|| {
            i += 1;
            let (a, b, sender) = query(i);
            let mut stmt = db
                .prepare_cached(
                    "SELECT m.conv, m.seq FROM message_text t JOIN messages m ON m.rowid = t.rowid
                     WHERE message_text MATCH ?1 AND m.sender = ?2",
                )
                .unwrap();
            let hits: Vec<(String, i64)> = stmt
                .query_map(rusqlite::params![format!("\"{a}\" AND \"{b}\""), sender], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            std::hint::black_box(hits);
        })
    });
    let search = |i: usize| {
        let alice = alice.clone();
        async move {
            let (a, b, sender) = query(i);
            let q = SearchQuery {
                keywords: vec![a, b],
                match_all: true,
                senders: vec![sender],
                types: Vec::new(),
                conv: None,
                time_from: 0,
                time_to: u64::MAX,
                page_index: 0,
                page_size: 0,
            };
            std::hint::black_box(alice.search_local_messages(q).await.unwrap());
        }
    };
    let mut j = 0;
    group.bench_function("timsg_search_local_messages", |b| {
        b.to_async(&rt).iter(|| {
            j += 1;
            search(j)
        })
    });
    group.finish();
    let single = latency::time_calls(&rt, 300, search);
    println!("search: single searches over {messages} messages (two keywords AND, one sender): {single}");
    drop(alice);
    runtime.shutdown();
}

criterion_group! {
    name = search;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(8)).warm_up_time(Duration::from_secs(2));
    targets = benches
}

fn main() {
    search();
    Criterion::default().configure_from_args().final_summary();
    if let Some((raw, ours)) =
        report::baseline_and_ours("search", "raw_sqlite_fts5_and_sender", "timsg_search_local_messages")
    {
        println!(
            "search: raw SQLite FTS5 {:.3} ms, timsg search {:.3} ms per query over {} messages, ratio {:.3}",
            raw / 1e6,
            ours / 1e6,
            peers() * PER_CONVERSATION,
            raw / ours
        );
    }
}
