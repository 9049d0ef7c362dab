//! `TIMMsgDownloadElemToPath` through the `DownloadManagerActor`, against a real HTTP server on
//! 127.0.0.1: progress, checksums, resume after a dropped connection, shared transfers, the
//! concurrency bound, logout, and bad input.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::http_server::TestServer;
use common::*;
use sha2::{Digest, Sha256};

fn random_bytes(n: usize) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(n as u64);
    let mut v = vec![0u8; n];
    rng.fill(&mut v);
    v
}

fn sha(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

/// Nothing but the destination (when complete) is left in its directory.
fn only_dest_left(dir: &Path, dest: Option<&str>) {
    let names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    assert_eq!(names, dest.map(|d| vec![d.to_string()]).unwrap_or_default(), "directory holds {names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mb_download_with_monotonic_progress_and_a_verified_checksum() {
    let server = TestServer::start();
    let body = server.add_file("/big.bin", random_bytes(50 * 1024 * 1024));
    let h = Harness::default();
    let alice = h.login("alice");
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("big.bin");
    let started = Instant::now();
    let mut download = alice.download_elem_to_path(&server.url("/big.bin"), "", &dest).unwrap();
    let mut reports = Vec::new();
    while let Some(p) = download.progress.recv().await {
        reports.push(p);
    }
    let size = download.finished().await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(size, body.len() as u64);
    assert!(reports.windows(2).all(|w| w[0].0 < w[1].0), "monotonic");
    assert!(reports.iter().all(|(c, t)| *t == body.len() as u64 && c < t), "the end comes with the completion");
    let max_reports = (elapsed.as_secs_f64() * 20.0).ceil() as usize + 2;
    assert!(reports.len() <= max_reports, "{} reports in {elapsed:?}", reports.len());
    assert_eq!(sha(&std::fs::read(&dest).unwrap()), sha(&body));
    only_dest_left(out.path(), Some("big.bin"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_is_resumed_with_a_range_request() {
    let server = TestServer::start();
    let body = server.add_file("/f.bin", random_bytes(8 * 1024 * 1024));
    server.cut("/f.bin", vec![3 * 1024 * 1024 + 17]);
    let h = Harness::default();
    let alice = h.login("alice");
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("f.bin");
    let call = timsg::dispatch::ApiCall {
        api: "TIMMsgDownloadElemToPath",
        json: &serde_json::json!({"msg_download_elem_param_type": 1, "msg_download_elem_param_id": "", "msg_download_elem_param_business_id": 0, "msg_download_elem_param_url": server.url("/f.bin")}).to_string(),
        path: Some(dest.to_str().unwrap()),
        ..Default::default()
    };
    let r = timsg::dispatch::dispatch(&alice, &call).await;
    assert_eq!(r.code, 0, "{}", r.desc);
    let result: serde_json::Value = serde_json::from_str(&r.json_params).unwrap();
    assert_eq!(result["msg_download_elem_result_current_size"], body.len());
    assert_eq!(result["msg_download_elem_result_total_size"], body.len());
    assert_eq!(server.state.range_requests.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(sha(&std::fs::read(&dest).unwrap()), sha(&body));
    only_dest_left(out.path(), Some("f.bin"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_concurrent_requests_share_one_transfer() {
    let server = TestServer::start();
    let body = server.add_file("/shared.bin", random_bytes(2 * 1024 * 1024));
    server.set_delay(Duration::from_millis(5));
    let h = Harness::default();
    let (alice, bob) = (h.login("alice"), h.login("bob"));
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("shared.bin");
    let a = alice.download_elem_to_path(&server.url("/shared.bin"), "", &dest).unwrap();
    let b = bob.download_elem_to_path(&server.url("/shared.bin"), "", &dest).unwrap();
    let (ra, rb) = tokio::join!(a.finished(), b.finished());
    assert_eq!((ra.unwrap(), rb.unwrap()), (body.len() as u64, body.len() as u64));
    assert_eq!(server.state.requests.load(std::sync::atomic::Ordering::SeqCst), 1, "one transfer served both");
    assert_eq!(sha(&std::fs::read(&dest).unwrap()), sha(&body));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_than_the_configured_downloads_run_at_once() {
    let server = TestServer::start();
    server.set_delay(Duration::from_millis(3));
    for i in 0..5 {
        server.add_file(&format!("/f{i}"), random_bytes(512 * 1024));
    }
    let h = Harness::new(|c| c.download_concurrency = 2);
    let alice = h.login("alice");
    let out = tempfile::tempdir().unwrap();
    let downloads: Vec<_> = (0..5)
        .map(|i| {
            alice.download_elem_to_path(&server.url(&format!("/f{i}")), "", &out.path().join(format!("f{i}"))).unwrap()
        })
        .collect();
    for d in downloads {
        d.finished().await.unwrap();
    }
    assert_eq!(server.state.peak_active.load(std::sync::atomic::Ordering::SeqCst), 2);
    let stats = h.runtime.engine().download_stats().await;
    assert_eq!((stats.peak_active, stats.transfers_started, stats.active), (2, 5, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_cancels_the_users_downloads() {
    let server = TestServer::start();
    server.add_file("/slow.bin", random_bytes(4 * 1024 * 1024));
    server.set_delay(Duration::from_millis(20));
    let h = Harness::default();
    let alice = h.login("alice");
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("slow.bin");
    let mut download = alice.download_elem_to_path(&server.url("/slow.bin"), "", &dest).unwrap();
    download.progress.recv().await.expect("it started");
    drop(alice); // logout
    let err = download.finished().await.unwrap_err();
    assert_eq!(err.code, 114003);
    // The transfer notices the cancel at its next chunk and removes its part file.
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_dir(out.path()).unwrap().next().is_some() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    only_dest_left(out.path(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_clear_codes_and_leaves_nothing() {
    let server = TestServer::start();
    server.add_file("/ok.bin", random_bytes(100_000));
    server.add_file("/flaky.bin", random_bytes(1_000_000));
    server.cut("/flaky.bin", vec![1000; 5]); // one per attempt of the first call
    let h = Harness::default();
    let alice = h.login("alice");
    let out = tempfile::tempdir().unwrap();
    let code = |r: timsg::TimResult<u64>| r.err().map_or(0, |e| e.code);
    let dl = |url: String, dest: std::path::PathBuf| {
        let alice = alice.clone();
        async move {
            match alice.download_elem_to_path(&url, "", &dest) {
                Ok(d) => code(d.finished().await),
                Err(e) => e.code,
            }
        }
    };
    assert_eq!(dl(server.url("/missing"), out.path().join("a")).await, 6010);
    assert_eq!(dl("ftp://example/x".into(), out.path().join("b")).await, -4);
    assert_eq!(dl(server.url("/ok.bin"), out.path().join("no-such-dir").join("c")).await, 7007);
    assert_eq!(dl(server.url("/ok.bin"), out.path().to_path_buf()).await, 7007);
    assert_eq!(dl(server.url("/flaky.bin"), out.path().join("d")).await, 6009);
    // Nothing under a destination name; only the flaky download's part file, kept for a resume.
    let names: Vec<String> =
        std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with(".d.") && names[0].ends_with(".timsg-part"), "{names:?}");
    // The next attempt resumes from it.
    assert_eq!(dl(server.url("/flaky.bin"), out.path().join("d")).await, 0);
    assert_eq!(std::fs::metadata(out.path().join("d")).unwrap().len(), 1_000_000);
    // Connection refused.
    let dead = TestServer::start();
    let url = dead.url("/x");
    drop(dead);
    assert_eq!(dl(url, out.path().join("e")).await, 6010);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_user_takes_at_most_their_share_of_slots_and_stored_media_never_waits() {
    let server = TestServer::start();
    server.set_delay(Duration::from_millis(100));
    for name in ["a0", "a1", "a2", "b0"] {
        server.add_file(&format!("/{name}"), random_bytes(640 * 1024)); // 10 chunks: ~1 s each
    }
    let h = Harness::new(|c| {
        c.download_concurrency = 2;
        c.download_per_user = 1;
    });
    let (alice, bob, carol) = (h.login("alice"), h.login("bob"), h.login("carol"));
    let out = tempfile::tempdir().unwrap();
    let get = |who: &std::sync::Arc<timsg::Session>, name: &str| {
        who.download_elem_to_path(&server.url(&format!("/{name}")), "", &out.path().join(name)).unwrap()
    };
    let alices: Vec<_> = ["a0", "a1", "a2"].iter().map(|n| get(&alice, n)).collect();
    let bobs = get(&bob, "b0");
    // While both slots are busy, a stored blob is copied at once.
    let blob = h.runtime.engine().blobs().put_bytes(b"stored media").unwrap();
    let local =
        carol.download_elem_to_path(&h.runtime.engine().blobs().url_of(&blob.hash), "", &out.path().join("local"));
    local.unwrap().finished().await.unwrap();
    assert_eq!(h.runtime.engine().download_stats().await.active, 2, "the network downloads were still running");
    // bob got the second slot although alice asked first for three.
    let started = Instant::now();
    bobs.finished().await.unwrap();
    let bob_done = started.elapsed();
    for d in alices {
        d.finished().await.unwrap();
    }
    assert!(started.elapsed() > bob_done, "alice's downloads ran one at a time");
    assert_eq!(server.state.peak_active.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(h.runtime.engine().download_stats().await.peak_active, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_past_its_deadline_or_its_byte_cap_stops_with_a_code_and_leaves_nothing() {
    let server = TestServer::start();
    server.add_file("/slow", random_bytes(90 * 1024));
    server.add_file("/big", random_bytes(200 * 1024));
    let h = Harness::new(|c| {
        c.download_deadline = Duration::from_millis(300);
        c.download_max_bytes = 100 * 1024;
    });
    let alice = h.login("alice");
    let out = tempfile::tempdir().unwrap();
    let big = alice.download_elem_to_path(&server.url("/big"), "", &out.path().join("big")).unwrap();
    assert_eq!(big.finished().await.unwrap_err().code, 7005);
    server.set_delay(Duration::from_millis(400)); // two chunks: past the deadline
    let slow = alice.download_elem_to_path(&server.url("/slow"), "", &out.path().join("slow")).unwrap();
    let e = slow.finished().await.unwrap_err();
    assert_eq!(e.code, 114005, "{e:?}");
    only_dest_left(out.path(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_refuses_and_a_transfer_nobody_waits_for_is_cancelled() {
    let server = TestServer::start();
    server.set_delay(Duration::from_millis(100));
    for i in 0..3 {
        server.add_file(&format!("/f{i}"), random_bytes(4 * 1024 * 1024));
    }
    let h = Harness::new(|c| {
        c.download_concurrency = 1;
        c.download_queue = 1;
    });
    let alice = h.login("alice");
    let out = tempfile::tempdir().unwrap();
    let get =
        |i: usize| alice.download_elem_to_path(&server.url(&format!("/f{i}")), "", &out.path().join(format!("f{i}")));
    let mut first = get(0).unwrap();
    first.progress.recv().await.expect("the first runs");
    let second = get(1).unwrap();
    let third = get(2).unwrap();
    assert_eq!(third.finished().await.unwrap_err().code, 9507, "the queue holds one");
    // The caller of the first stops waiting (as an HTTP client hanging up): it is cancelled and
    // the queued one gets the slot.
    drop(first);
    second.finished().await.unwrap();
    let stats = h.runtime.engine().download_stats().await;
    assert_eq!(stats.abandoned, 1);
    assert!(!out.path().join("f0").exists());
}
