//! Outside tools some end-to-end tests need (a C compiler, jsoncpp, node and the official
//! UserSig package, root for a tmpfs). `scripts/test` installs what is missing; a test run
//! without them skips those tests loudly, and lists them in `target/skipped-tests` (which
//! `.ci/run` requires empty) — and under `CI=true` a missing tool fails the test instead.

#![allow(dead_code)]

pub mod c_programs;

use std::path::{Path, PathBuf};

/// Whether `program` runs (`program --version` starts).
pub fn runs(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}

/// `present`, or says loudly why the calling test does nothing (and fails it under CI).
pub fn available_or_skip(what: &str, present: bool) -> bool {
    if present {
        return true;
    }
    skipped(&format!("{what} is missing: `scripts/test` installs it"));
    false
}

/// Records that the calling test did nothing, and why (fails it under CI).
pub fn skipped(why: &str) {
    assert!(std::env::var("CI").as_deref() != Ok("true"), "CI must run this test: {why}");
    eprintln!("SKIPPED: {why}");
    let test = std::thread::current().name().unwrap_or("a test").to_string();
    let list = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/skipped-tests");
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(list) {
        use std::io::Write;
        let _ = writeln!(f, "{test}: {why}");
    }
}

/// The official `tls-sig-api-v2` npm package's `node_modules` (`TIMSG_NODE_MODULES`, else
/// `target/npm/node_modules`), installed there on first use when npm is at hand; `None` if it
/// cannot be had (the caller skips).
pub fn official_usersig_package() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let modules =
        std::env::var("TIMSG_NODE_MODULES").map(PathBuf::from).unwrap_or_else(|_| root.join("target/npm/node_modules"));
    if !modules.join("tls-sig-api-v2").is_dir() && runs("npm") {
        let _ = std::process::Command::new("npm")
            .args(["install", "--prefix", "target/npm", "--silent", "--no-audit", "--no-fund", "tls-sig-api-v2"])
            .current_dir(root)
            .status();
    }
    let ready = modules.join("tls-sig-api-v2").is_dir() && runs("node");
    available_or_skip("node with the npm package tls-sig-api-v2", ready).then_some(modules)
}

/// A nats-server of at least 2.11 (`TIMSG_NATS_SERVER`, else the one `scripts/nats-server`
/// installs into target/nats on first use, when python3 is at hand); `None` if it cannot be
/// had (the caller skips).
pub fn nats_server() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = std::process::Command::new(root.join("scripts/nats-server"))
        .current_dir(root)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .filter(|p| p.is_file());
    available_or_skip("nats-server 2.11+ (scripts/nats-server: python3 and PyPI)", found.is_some()).then_some(found?)
}

/// A nats-server with JetStream on a free loopback port, its store in a temporary directory;
/// stopped (and its store removed) when dropped.
pub struct NatsServer {
    child: std::process::Child,
    pub url: String,
    _store: tempfile::TempDir,
}

impl NatsServer {
    pub fn start(binary: &Path) -> NatsServer {
        NatsServer::start_with(binary, &[])
    }

    /// Started with `extra` arguments (cluster settings, say).
    pub fn start_with(binary: &Path, extra: &[String]) -> NatsServer {
        use std::io::{BufRead, BufReader};
        let store = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new(binary)
            .args(["-a", "127.0.0.1", "-p", "-1", "-js", "-sd"])
            .arg(store.path())
            .args(extra)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("nats-server starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let line = lines.next().expect("nats-server says where it listens").unwrap();
            if let Some(at) = line.split("Listening for client connections on ").nth(1) {
                break format!("nats://{}", at.trim());
            }
        };
        std::thread::spawn(move || for _ in lines {});
        NatsServer { child, url, _store: store }
    }

    /// Three servers routed into one JetStream cluster (`timsg`), each with its own store.
    pub fn cluster_of_three(binary: &Path) -> Vec<NatsServer> {
        let ports: Vec<u16> =
            (0..3).map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()).collect();
        (0..3)
            .map(|i| {
                let routes: Vec<String> = ports
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, p)| format!("nats://127.0.0.1:{p}"))
                    .collect();
                let extra = [
                    "--server_name".to_string(),
                    format!("n{i}"),
                    "--cluster_name".to_string(),
                    "timsg".to_string(),
                    "--cluster".to_string(),
                    format!("nats://127.0.0.1:{}", ports[i]),
                    "--routes".to_string(),
                    routes.join(","),
                ];
                NatsServer::start_with(binary, &extra)
            })
            .collect()
    }

    /// Stops the server now (as a crash would: SIGKILL).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
