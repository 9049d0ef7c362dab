//! `timsg load`: runs a mixed load in-process and reports throughput, latency and the delivery
//! check as one JSON object; bad arguments are refused.

use std::process::{Command, Output};

/// Runs `timsg load` with `args` (quiet logs) to the end.
fn load(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_timsg")).arg("load").args(args).env("RUST_LOG", "warn").output().unwrap()
}

/// The `--json` report of a run that succeeded.
fn report(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}\nreport: {}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_mixed_load_delivers_everything_exactly_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let r = report(&load(&[
        "--users",
        "12",
        "--conversations",
        "30",
        "--group-share",
        "0.2",
        "--group-size",
        "5",
        "--messages",
        "1500",
        "--concurrency",
        "16",
        "--durability",
        "os",
        "--json",
        "--mix",
        "text=80,custom=5,image=2,revoke=3,read=5,history=3,search=2",
        "--not-receive-share",
        "0.2",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]));
    for key in
        ["messages_per_second", "latency_p50_ms", "latency_p99_ms", "lost", "duplicated", "reordered", "peak_rss_bytes"]
    {
        assert!(r.get(key).is_some(), "{key} in {r}");
    }
    assert_eq!(
        (r["lost"].as_u64(), r["duplicated"].as_u64(), r["reordered"].as_u64()),
        (Some(0), Some(0), Some(0)),
        "{r}"
    );
    assert!(r["sends"].as_u64().unwrap() > 1000, "{r}");
    assert!(r["deliveries_expected"].as_u64().unwrap() >= r["sends"].as_u64().unwrap());
    assert!(r["messages_per_second"].as_f64().unwrap() > 0.0);
    assert!(r["latency"]["search"]["count"].as_u64().unwrap() > 0, "{r}");
    assert_eq!(r["durability"], "os");
    // A fifth of the members chose not to receive a conversation, and got none of it.
    assert!(r["not_receiving"].as_u64().unwrap() > 0, "{r}");
    assert_eq!(r["unexpected"], 0, "{r}");
    // The baseline measured before it: SQLite inserts, not fsynced with `os`, and the ratio.
    let what = r["baseline"]["what"].as_str().unwrap();
    assert!(what.contains("rusqlite") && !what.contains("fsynced"), "{r}");
    assert!(r["baseline"]["messages_per_second"].as_f64().unwrap() > 0.0, "{r}");
    let ratio = r["ratio_to_baseline"].as_f64().unwrap();
    let expected = r["messages_per_second"].as_f64().unwrap() / r["baseline"]["messages_per_second"].as_f64().unwrap();
    assert!((ratio - expected).abs() < 1e-9 && ratio > 0.0, "{r}");
    // What it cost, per message: CPU by thread group, the engine's (all but the generator),
    // and instructions where the machine can count them (or why not).
    let cpu = &r["cpu_us_per_message"];
    assert!(cpu["arbiters"].as_f64().unwrap() > 0.0 && cpu.get("store_writer").is_some(), "{r}");
    assert!(cpu["process"].as_f64().unwrap() >= cpu["generator"].as_f64().unwrap(), "{r}");
    assert!(r["engine_cpu_us_per_message"].as_f64().unwrap() > 0.0, "{r}");
    assert!(r["instructions_per_message"].as_u64().is_some() || r["instructions_note"].is_string(), "{r}");
    assert!(r["run_id"].as_str().is_some_and(|id| !id.is_empty()), "{r}");
}

#[test]
fn in_memory_the_baseline_is_raw_actix_and_it_can_be_skipped() {
    let common = ["--users", "6", "--conversations", "10", "--messages", "600", "--concurrency", "8", "--json"];
    let r = report(&load(&common));
    assert!(r["baseline"]["what"].as_str().unwrap().starts_with("raw actix request/reply"), "{r}");
    assert!(r["ratio_to_baseline"].as_f64().unwrap() > 0.0, "{r}");
    // Beside it, the hops of a send alone, with the CPU each side spent on them.
    let floor = &r["baseline"]["send_hops_floor"];
    assert!(floor["what"].as_str().unwrap().starts_with("the hops of a send alone"), "{r}");
    assert!(floor["messages_per_second"].as_f64().unwrap() > 0.0, "{r}");
    for side in ["arbiters", "generator"] {
        assert!(floor["cpu_us_per_message"][side].as_f64().is_some_and(|us| us >= 0.0), "{r}");
    }
    let skipped = report(&load(&[&common[..], &["--no-baseline"]].concat()));
    assert_eq!(
        (&skipped["baseline"], &skipped["ratio_to_baseline"]),
        (&serde_json::Value::Null, &serde_json::Value::Null)
    );
    assert_eq!(skipped["lost"], 0, "{skipped}");
}

#[test]
fn round_robin_touches_every_conversation_and_passivation_reports_its_counts() {
    let r = report(&load(&[
        "--users",
        "20",
        "--conversations",
        "150",
        "--group-share",
        "0",
        "--messages",
        "300",
        "--pattern",
        "round-robin",
        "--rate",
        "1500",
        "--concurrency",
        "4",
        "--idle-passivation",
        "0.05",
        "--durability",
        "os",
        "--reread",
        "40",
        "--json",
    ]));
    assert_eq!((r["sends"].as_u64(), r["errors"].as_u64(), r["lost"].as_u64()), (Some(300), Some(0), Some(0)), "{r}");
    // Passivated, then reactivated from the store by reading them back: nothing missing.
    assert_eq!((r["reread_conversations"].as_u64(), r["reread_missing"].as_u64()), (Some(40), Some(0)), "{r}");
    assert!(r["rss_after_idle_bytes"].as_u64().unwrap() > 0, "{r}");
    assert!(r["anonymous_after_idle_bytes"].as_u64().unwrap() > 0, "{r}");
    // Each of the 150 conversations was started; at 1,500/s each is quiet for 0.1 s between its
    // two messages, twice the idle time, so it was passivated in between.
    assert!(r["conversations_activated"].as_u64().unwrap() >= 150, "{r}");
    assert!(r["conversations_passivated"].as_u64().unwrap() > 0, "{r}");
}

#[test]
fn open_loop_by_duration() {
    let r = report(&load(&[
        "--users",
        "4",
        "--conversations",
        "4",
        "--duration",
        "1",
        "--rate",
        "300",
        "--concurrency",
        "8",
        "--json",
    ]));
    let sends = r["sends"].as_u64().unwrap();
    assert!((150..=330).contains(&sends), "about 300 in one second at 300/s, got {sends}");
    assert_eq!(r["lost"], 0);
    // An open loop's throughput is its rate: the baseline is reported, no ratio.
    assert!(r["baseline"]["messages_per_second"].as_f64().unwrap() > 0.0, "{r}");
    assert_eq!(r["ratio_to_baseline"], serde_json::Value::Null, "{r}");
}

#[test]
fn bad_arguments_are_refused() {
    for args in [
        &["--mix", "teleport=1"][..],
        &["--users", "1"],
        &["--users", "3", "--conversations", "10", "--group-share", "0"],
        &["--not-receive-share", "1.5"],
        &["--not-receive-share", "NaN"],
        &["--via", "rest", "--target", "http://127.0.0.1:9", "--secret-key", "k", "--mix", "text=1,revoke=1"],
        &["--mix", "text=1,batch=1"],
    ] {
        let out = load(args);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(!out.stderr.is_empty());
    }
}

/// A `timsg serve` on a free loopback port with the secret key `load-key`: the process and
/// its base URL. `_dir` is its data directory.
fn serve(dir: &std::path::Path) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut server = Command::new(env!("CARGO_BIN_EXE_timsg"))
        .args(["serve", "--listen", "127.0.0.1:0", "--durability", "os", "--secret-key", "load-key", "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let banner = lines.next().unwrap().unwrap();
    let addr = banner.split("http://").nth(1).and_then(|r| r.split_whitespace().next()).unwrap().to_string();
    std::thread::spawn(move || for _ in lines {});
    (server, format!("http://{addr}"))
}

/// `timsg load --via <via>` against `target`: 8 users, 16 conversations (a quarter groups of
/// 4), 8 in flight, `messages` operations of `mix`, then `extra` arguments.
fn network_load(via: &str, target: &str, messages: u64, mix: &str, extra: &[&str]) -> Output {
    let messages = messages.to_string();
    let mut args = vec!["--via", via, "--target", target, "--secret-key", "load-key", "--users", "8"];
    args.extend(["--conversations", "16", "--group-share", "0.25", "--group-size", "4", "--concurrency", "8"]);
    args.extend(["--messages", &messages, "--mix", mix, "--json"]);
    args.extend(extra);
    load(&args)
}

/// Two rounds against one running service (each run's users and groups are its own), the
/// second reporting the service's CPU per message by thread group.
#[test]
fn over_the_network_against_a_running_service() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, target) = serve(dir.path());
    let mix = "text=85,custom=5,revoke=3,read=3,history=2,search=2";
    let first = network_load("ws", &target, 400, mix, &["--not-receive-share", "0.25"]);
    let pid = server.id().to_string();
    let out = network_load("ws", &target, 400, mix, &["--not-receive-share", "0.25", "--server-pid", &pid]);
    // The server goes before any assertion can fail.
    let _ = server.kill();
    let _ = server.wait();
    let first = report(&first);
    assert_eq!((first["errors"].as_u64(), first["lost"].as_u64()), (Some(0), Some(0)), "{first}");
    let r = report(&out);
    assert_ne!(r["run_id"], first["run_id"]);
    let server_cpu = &r["server_cpu_us_per_message"];
    assert!(server_cpu["service_workers"].as_f64().unwrap() > 0.0, "{r}");
    assert!(server_cpu["arbiters"].as_f64().unwrap() > 0.0, "{r}");
    assert_eq!(r["via"], "ws");
    assert_eq!(r["durability"], serde_json::Value::Null, "the service's setting, unknown here");
    assert_eq!(
        (r["lost"].as_u64(), r["duplicated"].as_u64(), r["reordered"].as_u64()),
        (Some(0), Some(0), Some(0)),
        "{r}"
    );
    assert!(r["sends"].as_u64().unwrap() > 300, "{r}");
    assert_eq!(r["errors"], 0, "{r}");
    assert!(r["not_receiving"].as_u64().unwrap() > 0, "{r}");
    assert_eq!(r["unexpected"], 0, "{r}");
    assert!(r["baseline"]["what"].as_str().unwrap().starts_with("bare WebSocket relay"), "{r}");
    assert!(r["ratio_to_baseline"].as_f64().unwrap() > 0.0, "{r}");
}

#[test]
fn a_bot_sending_over_the_rest_api_reaches_every_receiver_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, target) = serve(dir.path());
    let out = network_load("rest", &target, 300, "text=80,custom=5,batch=5,read=5,history=5", &[]);
    let _ = server.kill();
    let _ = server.wait();
    let r = report(&out);
    assert_eq!(r["via"], "rest");
    assert_eq!(
        (r["lost"].as_u64(), r["duplicated"].as_u64(), r["reordered"].as_u64(), r["unexpected"].as_u64()),
        (Some(0), Some(0), Some(0), Some(0)),
        "{r}"
    );
    assert!(r["sends"].as_u64().unwrap() > 230, "{r}");
    assert_eq!(r["errors"], 0, "{r}");
    assert!(r["latency"]["batch_send"]["count"].as_u64().unwrap() > 0, "batchsendmsg ran: {r}");
    assert!(r["ratio_to_baseline"].as_f64().unwrap() > 0.0, "{r}");
}
