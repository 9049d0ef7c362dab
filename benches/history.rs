//! History paging, against a raw SQLite page query in the same run.
//!
//! Workload: a C2C conversation holding 10,000 messages; one call = one `GetMsgList` page of
//! 20, walking from the newest message back to the oldest (500 pages per pass). Baseline: the
//! same pages read straight from SQLite — the indexed `conv, seq` range query over the same
//! rows, each record decoded with serde_json — which is what a store-backed history without
//! the conversation actor's in-memory log would do at least.

#![allow(clippy::print_stdout, reason = "a bench reports its ratio on standard output")]

#[path = "common/allocator.rs"]
mod allocator;

#[path = "common/report.rs"]
mod report;

#[path = "common/burst.rs"]
mod burst;

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group};
use timsg::{
    ConvRef, Durability, Element, HistoryAnchor, HistoryQuery, MessageContent, MessageTarget, Runtime, RuntimeConfig,
};

const MESSAGES: usize = 10_000;
const PAGE: usize = 20;
const PAGES: usize = MESSAGES / PAGE;

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let runtime = Runtime::open(RuntimeConfig {
        data_dir: dir.path().to_path_buf(),
        durability: Durability::Os,
        arbiters: 2,
        ..Default::default()
    })
    .unwrap();
    let alice = runtime.login("alice").unwrap();
    let bob = ConvRef::c2c("bob");
    let content = MessageContent::with_elements(vec![Element::text("a line of the conversation's history")]);
    rt.block_on(async {
        for _ in 0..MESSAGES / 1000 {
            burst::send_burst(&alice, std::slice::from_ref(&bob), &content, 1000).await;
        }
    });

    let mut group = c.benchmark_group("history");
    group.throughput(Throughput::Elements(PAGES as u64));
    let db = rusqlite::Connection::open_with_flags(
        dir.path().join("timsg.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .unwrap();
    let conv: String = db.query_row("SELECT conv FROM messages LIMIT 1", [], |r| r.get(0)).unwrap();
    group.bench_function("raw_sqlite_pages", |b| {
        b.iter(|| {
            let mut stmt = db
                .prepare_cached("SELECT record FROM messages WHERE conv = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3")
                .unwrap();
            let mut before = i64::MAX;
            for _ in 0..PAGES {
                let page: Vec<serde_json::Value> = stmt
                    .query_map(rusqlite::params![conv, before, PAGE as i64], |r| r.get::<_, String>(0))
                    .unwrap()
                    .map(|s| serde_json::from_str(&s.unwrap()).unwrap())
                    .collect();
                before = page.last().unwrap()["seq"].as_i64().unwrap();
            }
            assert_eq!(before, 1);
        })
    });
    group.bench_function("timsg_get_msg_list_pages", |b| {
        b.to_async(&rt).iter(|| async {
            let mut anchor = HistoryAnchor::None;
            for _ in 0..PAGES {
                let query = HistoryQuery { anchor: anchor.clone(), count: PAGE, ..Default::default() };
                let page = alice.get_msg_list(&bob, query).await.unwrap();
                anchor = HistoryAnchor::Message(MessageTarget::Seq(page.last().unwrap().message.seq));
            }
            assert_eq!(anchor, HistoryAnchor::Message(MessageTarget::Seq(1)));
        })
    });
    group.finish();
    drop(alice);
    runtime.shutdown();
}

criterion_group! {
    name = history;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(8)).warm_up_time(Duration::from_secs(2));
    targets = benches
}

fn main() {
    history();
    Criterion::default().configure_from_args().final_summary();
    if let Some((raw, ours)) = report::baseline_and_ours("history", "raw_sqlite_pages", "timsg_get_msg_list_pages") {
        let per_sec = |ns: f64| PAGES as f64 / (ns / 1e9);
        println!(
            "history: raw SQLite {:.0} pages/s, timsg GetMsgList {:.0} pages/s (of {PAGE} from {MESSAGES}), ratio {:.3}",
            per_sec(raw),
            per_sec(ours),
            raw / ours
        );
    }
}
