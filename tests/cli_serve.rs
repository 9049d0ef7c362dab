//! `timsg serve` as a process: it starts with nothing but a data directory, says where it
//! listens and how to get a UserSig, serves, and exits 0 on SIGTERM; `timsg usersig` makes sigs
//! it accepts.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn serve_then_sigterm_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_timsg"))
        .args(["serve", "--listen", "127.0.0.1:0", "--durability", "os", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let banner = lines.next().unwrap().unwrap();
    let addr =
        banner.split("http://").nth(1).and_then(|r| r.split_whitespace().next()).expect("the address").to_string();
    let hint = lines.next().unwrap().unwrap();
    assert!(hint.contains("timsg usersig --user alice"), "{hint}");
    std::thread::spawn(move || for _ in lines {});

    let sig = Command::new(env!("CARGO_BIN_EXE_timsg"))
        .args(["usersig", "--user", "alice", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let sig = String::from_utf8(sig.stdout).unwrap().trim().to_string();
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
    ]);
    let timsg::cli::Command::Serve(args) = cli.command else { panic!("serve") };
    let config = timsg::cli::serve::resolve(args).unwrap();
    assert_eq!(
        (config.listen.as_str(), config.sdkappid, config.admin.as_str(), config.secret_key.as_str()),
        ("127.0.0.1:9999", 42, "boss", "from-file")
    );
    std::fs::write(&file, "nonsense = 1\n").unwrap();
    let cli = timsg::cli::Cli::parse_from(["timsg", "serve", "--config", file.to_str().unwrap()]);
    let timsg::cli::Command::Serve(args) = cli.command else { panic!("serve") };
    assert!(timsg::cli::serve::resolve(args).unwrap_err().contains("nonsense"));
}
