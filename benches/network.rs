//! Sending over the network: `timsg serve` against a bare WebSocket relay measured in the
//! same run.
//!
//! Workload: 200 users, one WebSocket each, in 100 C2C pairs; a burst is 2,000 messages, 10 per
//! user sent at once to its partner as call frames (`TIMMsgSendMessage`), done when every call
//! has its reply and every partner has its message event. `NETWORK_BENCH_USERS` and
//! `NETWORK_BENCH_IN_FLIGHT` change the shape (with fewer messages than users, the senders are
//! spread over all users: 2,000 users and 256 in flight is the load generator's shape). Baseline: the same clients and
//! frames against a raw actix-web WebSocket relay (`timsg::load::baseline::ws_relay`) that parses each
//! call, answers it and forwards the message, with nothing stored. The ratio printed at the
//! end is timsg throughput divided by the relay's.

#![allow(clippy::print_stdout, reason = "a bench reports its ratio on standard output")]

#[path = "common/allocator.rs"]
mod allocator;

#[path = "common/report.rs"]
mod report;

#[path = "common/ws_clients.rs"]
mod ws_clients;

use std::net::TcpListener;
use std::sync::LazyLock;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group};
use timsg::Durability;
use timsg::auth::usersig::generate;
use timsg::load::baseline::ws_relay::RawWsRelay;
use timsg::service::{self, ServiceConfig};
use ws_clients::WsClients;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).filter(|n| *n >= 2).unwrap_or(default)
}

/// Users (sockets), an even number so that everyone has a partner.
static USERS: LazyLock<usize> = LazyLock::new(|| env_or("NETWORK_BENCH_USERS", 200) & !1);
/// Messages in one burst, all in flight at once.
static MESSAGES: LazyLock<usize> = LazyLock::new(|| env_or("NETWORK_BENCH_IN_FLIGHT", 2_000));
const KEY: &str = "bench-secret";

fn user(i: usize) -> String {
    format!("u{i}")
}

/// User `i`'s partner: 0 and 1 talk to each other, 2 and 3, and so on.
fn partner(i: usize) -> usize {
    i ^ 1
}

/// One burst's call frames: `MESSAGES` sends, spread evenly over the users.
fn burst_frames(next_id: &mut u64) -> Vec<(usize, String)> {
    (0..*MESSAGES)
        .map(|n| {
            let from = if *MESSAGES >= *USERS { n % *USERS } else { n * (*USERS / *MESSAGES) };
            *next_id += 1;
            let frame = format!(
                r#"{{"id":{},"api":"TIMMsgSendMessage","conv_id":"{}","conv_type":1,"param":{{"message_elem_array":[{{"elem_type":0,"text_elem_content":"hello over the network"}}]}}}}"#,
                next_id,
                user(partner(from))
            );
            (from, frame)
        })
        .collect()
}

fn measure(c: &mut Criterion, rt: &tokio::runtime::Runtime, name: &str, urls: &[String]) {
    let clients = rt.block_on(WsClients::connect(urls));
    let mut next_id = 0;
    let mut group = c.benchmark_group("network");
    group.throughput(Throughput::Elements(*MESSAGES as u64));
    group.bench_function(name, |b| {
        b.iter_batched(
            || burst_frames(&mut next_id),
            |frames| rt.block_on(clients.burst(frames, *MESSAGES as u64)),
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn baseline(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let relay = RawWsRelay::start().unwrap();
    let urls: Vec<String> = (0..*USERS).map(|i| relay.url(&user(i))).collect();
    measure(c, rt, "raw_ws_relay", &urls);
    relay.stop();
}

/// `timsg serve` on a port of its own, with `durability`, in a thread of its own.
fn timsg_serve(c: &mut Criterion, rt: &tokio::runtime::Runtime, durability: Durability, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = ServiceConfig::with_defaults(dir.path().to_path_buf(), KEY.into());
    config.durability = durability;
    let sdkappid = config.sdkappid;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let running = service::start(config, listener).unwrap();
            running.run(async move { drop(stopped.await) }).await.unwrap();
        })
    });
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let urls: Vec<String> = (0..*USERS)
        .map(|i| {
            let sig = generate(sdkappid, KEY, &user(i), 3600, now);
            format!("ws://{addr}/v1/events?user={}&usersig={sig}", user(i))
        })
        .collect();
    measure(c, rt, name, &urls);
    let _ = stop.send(());
    thread.join().unwrap();
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    baseline(c, &rt);
    timsg_serve(c, &rt, Durability::Memory, "timsg_serve_memory");
    timsg_serve(c, &rt, Durability::Fsync, "timsg_serve_fsync");
}

criterion_group! {
    name = network;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(8)).warm_up_time(Duration::from_secs(2));
    targets = benches
}

fn main() {
    network();
    Criterion::default().configure_from_args().final_summary();
    let per_sec = |ns: f64| *MESSAGES as f64 / (ns / 1e9);
    for ours in ["timsg_serve_memory", "timsg_serve_fsync"] {
        if let Some((base, t)) = report::baseline_and_ours("network", "raw_ws_relay", ours) {
            println!(
                "network: raw WebSocket relay {:.0} msg/s, {ours} {:.0} msg/s, ratio {:.3}",
                per_sec(base),
                per_sec(t),
                base / t
            );
        }
    }
}
