//! `timsg serve` as a process: it starts with nothing but a data directory, says where it
//! listens and how to get a UserSig, serves, and exits 0 on SIGTERM; `timsg usersig` makes sigs
//! it accepts.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn serve_then_sigterm_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let Serving { mut child, addr, hint } = start_serve(dir.path(), &["--durability", "os"]);
    assert!(hint.contains("timsg usersig --user alice"), "{hint}");

    let sig = usersig(dir.path(), "alice");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("http://{addr}/v1/TIMMsgGetMsgList"))
            .header("X-TIM-User", "alice")
            .header("X-TIM-UserSig", sig)
            .body(r#"{"conv_id":"bob","conv_type":1}"#)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);

    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "the service did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit}");

    // The key it made is private, random, and refused once others may read it.
    use std::os::unix::fs::PermissionsExt as _;
    let key_file = dir.path().join("secret.key");
    let meta = std::fs::metadata(&key_file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let key = std::fs::read_to_string(&key_file).unwrap();
    assert!(key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_timsg"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("chmod 600"), "{said}");
}

#[test]
fn settings_come_from_flags_then_environment_then_file() {
    use clap::Parser;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("timsg.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:9999\"\nsdkappid = 42\nadmin = \"root\"\nsecret_key = \"from-file\"\n")
        .unwrap();
    let cli = timsg::cli::Cli::parse_from([
        "timsg",
        "serve",
        "--config",
        file.to_str().unwrap(),
        "--admin",
        "boss",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--disk-reserve-mb",
        "0",
    ]);
    let timsg::cli::Command::Serve(args) = cli.command else { panic!("serve") };
    let config = timsg::cli::serve::resolve(args).unwrap();
    assert_eq!(config.disk_reserve, 0, "0 turns the check off");
    assert_eq!(
        (config.listen.as_str(), config.sdkappid, config.admin.as_str(), config.secret_key.as_str()),
        ("127.0.0.1:9999", 42, "boss", "from-file")
    );
    std::fs::write(
        &file,
        "fetch_allow = [\"media.example.com\"]\nsession_idle_secs = 5\ndisk_reserve_mb = 16\n[limits]\nnew_groups_per_minute = 2\n[downloads]\nper_user = 3\n",
    )
    .unwrap();
    let cli = timsg::cli::Cli::parse_from(["timsg", "serve", "--config", file.to_str().unwrap(), "--secret-key", "k"]);
    let timsg::cli::Command::Serve(args) = cli.command else { panic!("serve") };
    let config = timsg::cli::serve::resolve(args).unwrap();
    assert_eq!(config.fetch_allow, ["media.example.com"]);
    assert_eq!(config.session_idle, Duration::from_secs(5));
    assert_eq!(config.disk_reserve, 16 << 20);
    assert_eq!((config.limits.new_groups_per_minute, config.limits.new_conversations_per_minute), (2, 1000));
    assert_eq!((config.downloads.per_user, config.downloads.concurrency), (3, 8));
    // The engine's limits: TOML `[engine]`, then flags (or TIMSG_* variables).
    std::fs::write(&file, "metrics_token = \"t0k\"\n[engine]\nbatch_send_max = 50\nactivation_window = 64\n").unwrap();
    let cli = timsg::cli::Cli::parse_from([
        "timsg",
        "serve",
        "--config",
        file.to_str().unwrap(),
        "--secret-key",
        "k",
        "--activation-window",
        "32",
        "--idle-passivation-secs",
        "60",
    ]);
    let timsg::cli::Command::Serve(args) = cli.command else { panic!("serve") };
    let config = timsg::cli::serve::resolve(args).unwrap();
    let e = config.engine;
    assert_eq!((e.batch_send_max, e.activation_window, e.idle_passivation_secs, e.group_rate_limit), (50, 32, 60, 40));
    assert_eq!(config.metrics_token.as_deref(), Some("t0k"));
    std::fs::write(&file, "nonsense = 1\n").unwrap();
    let cli = timsg::cli::Cli::parse_from(["timsg", "serve", "--config", file.to_str().unwrap()]);
    let timsg::cli::Command::Serve(args) = cli.command else { panic!("serve") };
    assert!(timsg::cli::serve::resolve(args).unwrap_err().contains("nonsense"));
}

/// A `timsg serve` process, the address its banner names, and the banner's next line (how to
/// get a UserSig).
struct Serving {
    child: std::process::Child,
    addr: String,
    hint: String,
}

/// Starts `timsg serve` on `dir` with `args` added (no `--durability`: fsync, the default).
fn start_serve(dir: &std::path::Path, args: &[&str]) -> Serving {
    let mut child = Command::new(env!("CARGO_BIN_EXE_timsg"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let banner = lines.next().unwrap().unwrap();
    let addr =
        banner.split("http://").nth(1).and_then(|r| r.split_whitespace().next()).expect("the address").to_string();
    let hint = lines.next().unwrap().unwrap();
    std::thread::spawn(move || for _ in lines {});
    Serving { child, addr, hint }
}

fn usersig(dir: &std::path::Path, user: &str) -> String {
    let out =
        Command::new(env!("CARGO_BIN_EXE_timsg")).args(["usersig", "--user", user, "--data-dir"]).arg(dir).output();
    String::from_utf8(out.unwrap().stdout).unwrap().trim().to_string()
}

async fn post(addr: &str, user: &str, sig: &str, api: &str, body: serde_json::Value) -> serde_json::Value {
    let resp = reqwest::Client::new()
        .post(format!("http://{addr}/v1/{api}"))
        .header("X-TIM-User", user)
        .header("X-TIM-UserSig", sig)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap()
}

#[test]
fn after_kill_9_every_acknowledged_message_is_there_once_and_in_order() {
    const PEERS: [&str; 3] = ["bob", "carol", "dave"];
    const SENDERS: usize = 24;
    const PER_SENDER: usize = 25;
    let dir = tempfile::tempdir().unwrap();
    let Serving { mut child, addr, .. } = start_serve(dir.path(), &[]);
    let sig = usersig(dir.path(), "alice");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // Many sends in flight at once, the last acknowledged just before the kill: the store is
    // then still applying recent group commits, which the next start must recover.
    let acked: Vec<(String, String)> = rt.block_on(async {
        let tasks: Vec<_> = (0..SENDERS)
            .map(|t| {
                let (addr, sig) = (addr.clone(), sig.clone());
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    for i in 0..PER_SENDER {
                        let peer = PEERS[(t + i) % PEERS.len()];
                        let body = serde_json::json!({"conv_id": peer, "conv_type": 1,
                            "param": {"message_elem_array": [{"elem_type": 0, "text_elem_content": format!("{t}-{i}")}]}});
                        let r = post(&addr, "alice", &sig, "TIMMsgSendMessage", body).await;
                        assert_eq!(r["code"], 0, "{r}");
                        mine.push((peer.to_string(), r["json_params"]["message_msg_id"].as_str().unwrap().to_string()));
                    }
                    mine
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    child.kill().unwrap();
    child.wait().unwrap();

    let Serving { mut child, addr, .. } = start_serve(dir.path(), &[]);
    rt.block_on(async {
        for peer in PEERS {
            let r = post(
                &addr,
                "alice",
                &sig,
                "TIMMsgGetMsgList",
                serde_json::json!({"conv_id": peer, "conv_type": 1,
                "param": {"msg_getmsglist_param_count": 1000}}),
            )
            .await;
            assert_eq!(r["code"], 0, "{r}");
            let history = r["json_params"].as_array().unwrap();
            let ids: Vec<&str> = history.iter().map(|m| m["message_msg_id"].as_str().unwrap()).collect();
            let mut expected: Vec<&str> = acked.iter().filter(|(p, _)| p == peer).map(|(_, id)| id.as_str()).collect();
            let mut got = ids.clone();
            expected.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, expected, "{peer}: the stored messages are exactly the acknowledged ones");
            // Newest first, seqs 1..=n without a hole.
            let seqs: Vec<u64> = history.iter().map(|m| m["message_seq"].as_u64().unwrap()).collect();
            let n = seqs.len() as u64;
            assert_eq!(seqs, (1..=n).rev().collect::<Vec<_>>(), "{peer}: in order");
        }
    });
    child.kill().unwrap();
    child.wait().unwrap();
}
