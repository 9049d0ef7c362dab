//! Cluster mode on its worst day, as real processes: nats-servers and `timsg serve` nodes on
//! loopback ports, `timsg load` driving them over WebSockets. A node is killed with SIGKILL in
//! the middle of the load, then a NATS server; a paused owner (SIGSTOP) outlives its lease and
//! comes back (SIGCONT) after another node wrote. What the load's callers and the stores see is
//! checked: nothing acknowledged lost, nothing twice, no fork of a conversation's log.

mod tools;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tools::NatsServer;

const SECRET: &str = "cluster-test-secret";

/// One `timsg serve` node of a cluster; killed when dropped.
struct Node {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Node {
    /// Starts node `name` on the NATS server at `nats`, its leases living `lease_ttl_secs`.
    fn start(name: &str, nats: &str, lease_ttl_secs: u64, replicas: usize) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("timsg.toml");
        std::fs::write(
            &config,
            format!(
                "[cluster]\nnats_url = \"{nats}\"\nnode = \"{name}\"\nshards = 4\nreplicas = {replicas}\nlease_ttl_secs = {lease_ttl_secs}\n"
            ),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_timsg"))
            .args(["serve", "--listen", "127.0.0.1:0", "--secret-key", SECRET, "--config"])
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .env("RUST_LOG", "warn")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = loop {
            let line = lines.next().unwrap_or_else(|| panic!("node {name} stopped before it listened")).unwrap();
            if let Some(rest) = line.split("http://").nth(1) {
                break rest.split_whitespace().next().unwrap().trim_end_matches('/').to_string();
            }
        };
        // The node's warnings, shown with the test's output when it fails.
        let node = name.to_string();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                eprintln!("[node {node}] {line}");
            }
        });
        Node { child, addr, _dir: dir }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args([signal, &pid]).status().unwrap().success());
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Messages this node committed (its metrics).
    async fn committed(&self) -> u64 {
        let Ok(resp) = reqwest::get(format!("{}/metrics", self.url())).await else { return 0 };
        let Ok(text) = resp.text().await else { return 0 };
        text.lines()
            .filter(|l| l.starts_with("timsg_messages_committed_total"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // A paused node would not die of SIGKILL until continued.
        let _ = Command::new("kill").args(["-CONT", &self.child.id().to_string()]).status();
        self.kill();
    }
}

fn usersig(user: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_timsg"))
        .args(["usersig", "--secret-key", SECRET, "--user", user])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

async fn post(url: &str, user: &str, api: &str, body: Value) -> Value {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(90)).build().unwrap();
    let resp = client
        .post(format!("{url}/v1/{api}"))
        .header("X-TIM-User", user)
        .header("X-TIM-UserSig", usersig(user))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap()
}

async fn send_text(url: &str, from: &str, to: &str, text: &str) -> Value {
    let param = json!({"message_elem_array": [{"elem_type": 0, "text_elem_content": text}]});
    post(url, from, "TIMMsgSendMessage", json!({"conv_id": to, "conv_type": 1, "param": param})).await
}

/// Messages the nodes committed, together.
async fn committed(nodes: &[&Node]) -> u64 {
    let mut sum = 0;
    for n in nodes {
        sum += n.committed().await;
    }
    sum
}

/// Waits until the nodes committed `count` messages, at most two minutes.
async fn wait_for_commits(nodes: &[&Node], count: u64) {
    let began = Instant::now();
    while committed(nodes).await < count {
        assert!(began.elapsed() < Duration::from_secs(120), "{count} messages were not committed in time");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `timsg load --via ws` spread over three nodes; node b is killed (SIGKILL) once the cluster
/// has committed a fifth of the load, then a NATS server at two fifths. The load carries on:
/// b's conversations are claimed by the others once b's lease expires, b's users' sockets
/// move to the next node and resume from their cursors; every acknowledged message reaches
/// every receiver once and in order, and rereading conversations finds each of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_and_a_nats_server_killed_mid_load_lose_nothing_acknowledged() {
    let Some(binary) = tools::nats_server() else { return };
    let mut nats = NatsServer::cluster_of_three(&binary);
    let lease_ttl = 3;
    let mut nodes: Vec<Node> =
        ["a", "b", "c"].iter().zip(&nats).map(|(name, n)| Node::start(name, &n.url, lease_ttl, 3)).collect();
    let targets: Vec<String> = nodes.iter().map(Node::url).collect();
    let messages = 6000;
    let load = Command::new(env!("CARGO_BIN_EXE_timsg"))
        .args(["load", "--via", "ws", "--secret-key", SECRET, "--json", "--no-baseline"])
        .args(["--target", &targets.join(",")])
        .args(["--users", "120", "--conversations", "300", "--concurrency", "32"])
        .args(["--messages", &messages.to_string(), "--reread", "100", "--idle-passivation", "0.1"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_commits(&[&nodes[0], &nodes[1], &nodes[2]], messages / 5).await;
    nodes[1].kill();
    let killed = Instant::now();
    wait_for_commits(&[&nodes[0], &nodes[2]], 2 * messages / 5).await;
    nats[2].kill();
    let out = tokio::task::spawn_blocking(move || load.wait_with_output().unwrap()).await.unwrap();
    let report: Value = serde_json::from_slice(out.stdout.rsplit(|b| *b == b'\n').find(|l| !l.is_empty()).unwrap())
        .unwrap_or_else(|e| panic!("the load's report: {e}: {}", String::from_utf8_lossy(&out.stdout)));
    let summary = json!({
        "sends": report["sends"], "errors": report["errors"], "lost": report["lost"],
        "duplicated": report["duplicated"], "reordered": report["reordered"], "unexpected": report["unexpected"],
        "reconnects": report["reconnects"], "reread_missing": report["reread_missing"],
        "max_ms": report["latency"]["send"]["max_ms"], "samples": report["send_error_samples"],
    });
    for key in ["lost", "duplicated", "reordered", "unexpected", "reread_missing"] {
        assert_eq!(report[key], 0, "{key}: {summary}");
    }
    assert_eq!(report["reread_conversations"], 100, "{summary}");
    assert!(report["sends"].as_u64().unwrap() >= messages * 9 / 10, "most sends went through: {summary}");
    assert!(report["reconnects"].as_u64().unwrap() >= 1, "b's users moved to other nodes: {summary}");
    // No caller hangs through the failover: every send is answered within the call deadline
    // (30 s), the dead node's lease and the claims included.
    let max_ms = report["latency"]["send"]["max_ms"].as_f64().unwrap();
    assert!(max_ms < 32_000.0, "a send waited {max_ms} ms: {summary}");
    eprintln!("failover: {summary}");
    // b's conversations are served by the survivors: each answers, long after b died.
    assert!(killed.elapsed() > Duration::from_secs(lease_ttl));
    let answer = send_text(&nodes[0].url(), "u0", "u1", "after the failover").await;
    assert_eq!(answer["code"], 0, "{answer}");
}

/// The owner of a conversation is paused (SIGSTOP) past its lease; another node claims the
/// conversation and writes to it; the paused node is continued (SIGCONT) with a call already
/// waiting for it. Its append is fenced: the caller gets an error (or, if the node noticed its
/// lost lease first, the call is served by the new owner), and the conversation's log never
/// forks — its seqs run on without a gap or a double.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_owner_that_outlived_its_lease_cannot_fork_the_log() {
    let Some(binary) = tools::nats_server() else { return };
    let nats = NatsServer::start(&binary);
    let lease_ttl = 2;
    let a = Node::start("a", &nats.url, lease_ttl, 1);
    let b = Node::start("b", &nats.url, lease_ttl, 1);
    let (ua, ub) = (a.url(), b.url());
    let first = send_text(&ua, "alice", "bob", "one").await;
    assert_eq!((first["code"].as_i64(), first["json_params"]["message_seq"].as_u64()), (Some(0), Some(1)), "{first}");
    a.signal("-STOP");
    tokio::time::sleep(Duration::from_secs(lease_ttl + 2)).await;
    let second = send_text(&ub, "bob", "alice", "two").await;
    assert_eq!(
        (second["code"].as_i64(), second["json_params"]["message_seq"].as_u64()),
        (Some(0), Some(2)),
        "node b took the conversation over from the log: {second}"
    );
    // A call reaches the paused node (the kernel queues its connection), then it continues.
    let call = tokio::spawn({
        let ua = ua.clone();
        async move { send_text(&ua, "alice", "bob", "three, from the stale owner").await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    a.signal("-CONT");
    let waiting = call.await.unwrap();
    let served_by_b = waiting["code"] == 0;
    if served_by_b {
        assert_eq!(waiting["json_params"]["message_seq"], 3, "served after b's write, not beside it: {waiting}");
    }
    // What the new owner holds: one, two (and three if it was served there), seqs 1.. in order.
    let history = post(&ub, "bob", "TIMMsgGetMsgList", json!({"conv_id": "alice", "conv_type": 1, "param": {}})).await;
    assert_eq!(history["code"], 0, "{history}");
    let mut held: Vec<(u64, String)> = history["json_params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let text = m["message_elem_array"][0]["text_elem_content"].as_str().unwrap_or("").to_string();
            (m["message_seq"].as_u64().unwrap(), text)
        })
        .collect();
    held.sort();
    let mut expected = vec![(1, "one".to_string()), (2, "two".to_string())];
    if served_by_b {
        expected.push((3, "three, from the stale owner".to_string()));
    } else {
        assert_ne!(waiting["code"], 0, "the stale owner's caller hears of the failure: {waiting}");
    }
    assert_eq!(held, expected, "the stale owner's write is not in the log: {waiting}");
    // And the conversation goes on from there, whichever node is asked.
    let next = send_text(&ua, "alice", "bob", "four").await;
    assert_eq!(next["code"], 0, "{next}");
    assert_eq!(next["json_params"]["message_seq"].as_u64(), Some(expected.len() as u64 + 1), "{next}");
}
