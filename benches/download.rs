//! Download throughput through the `DownloadManagerActor` against a raw reqwest copy of the
//! same file from the same local server, in the same run; the ratio is printed at the end.

#![allow(clippy::print_stdout, reason = "a bench reports its ratio on standard output")]

#[path = "common/allocator.rs"]
mod allocator;

#[path = "common/report.rs"]
mod report;

#[path = "../tests/common/http_server.rs"]
mod http_server;

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group};
use tokio::io::AsyncWriteExt;

const SIZE: usize = 64 * 1024 * 1024;

fn benches(c: &mut Criterion) {
    let server = http_server::TestServer::start();
    let mut body = vec![0u8; SIZE];
    fastrand::Rng::with_seed(7).fill(&mut body);
    server.add_file("/file.bin", body);
    let url = server.url("/file.bin");
    let out = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut group = c.benchmark_group("download");
    group.throughput(Throughput::Bytes(SIZE as u64));

    let client = reqwest::Client::new();
    let raw_dest = out.path().join("raw.bin");
    group.bench_function("raw_reqwest_copy", |b| {
        b.to_async(&rt).iter(|| async {
            let mut resp = client.get(&url).send().await.unwrap();
            let mut file = tokio::fs::File::create(&raw_dest).await.unwrap();
            while let Some(chunk) = resp.chunk().await.unwrap() {
                file.write_all(&chunk).await.unwrap();
            }
            file.sync_all().await.unwrap();
        })
    });

    let runtime =
        timsg::Runtime::open(timsg::RuntimeConfig { durability: timsg::Durability::Memory, ..Default::default() })
            .unwrap();
    let alice = runtime.login("alice").unwrap();
    let dest = out.path().join("managed.bin");
    group.bench_function("download_manager", |b| {
        b.to_async(&rt).iter(|| async {
            let d = alice.download_elem_to_path(&url, "", &dest).unwrap();
            assert_eq!(d.finished().await.unwrap(), SIZE as u64);
            let _ = std::fs::remove_file(&dest);
        })
    });
    group.finish();
    drop(alice);
    runtime.shutdown();
}

criterion_group! {
    name = download;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(15)).warm_up_time(Duration::from_secs(2));
    targets = benches
}

fn main() {
    download();
    criterion::Criterion::default().configure_from_args().final_summary();
    if let Some((raw, ours)) = report::baseline_and_ours("download", "raw_reqwest_copy", "download_manager") {
        let mb_s = |ns: f64| SIZE as f64 / 1e6 / (ns / 1e9);
        println!(
            "download: raw reqwest {:.0} MB/s, download manager {:.0} MB/s, ratio {:.3}",
            mb_s(raw),
            mb_s(ours),
            raw / ours
        );
    }
}
