//! Cluster mode's foundation against a real nats-server (2.11 or later, started here on a
//! free loopback port): the version gate, the fenced log of record and conversation leases,
//! each seen from two nodes — the stale owner's append is refused, a retry is not a second
//! copy, a lease is held by one node at a time and passes on when it expires.

mod common;
mod tools;

use std::time::Duration;

use timsg_actors::cluster::{AppendError, Bytes, Cluster, ClusterConfig, LeaseError, LogSettings};
use tools::NatsServer;

fn config(url: &str, node: &str, lease_ttl: Duration) -> ClusterConfig {
    ClusterConfig {
        nats_url: url.to_string(),
        node: node.to_string(),
        log: LogSettings { shards: 4, replicas: 1, duplicate_window: Duration::from_secs(20) },
        lease_ttl,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_owner_cannot_append_after_its_successor() {
    let Some(binary) = tools::nats_server() else { return };
    let server = NatsServer::start(&binary);
    let a = Cluster::connect(&config(&server.url, "node-a", Duration::from_secs(5))).await.unwrap();
    let b = Cluster::connect(&config(&server.url, "node-b", Duration::from_secs(5))).await.unwrap();
    assert!(timsg_actors::cluster::version::require_supported(&a.server_version).is_ok(), "{}", a.server_version);
    let conv = "g:room.1 *>";
    assert_eq!(a.log.last_sequence(conv).await.unwrap(), 0);
    // A appends first; B, believing the log empty, is fenced.
    let first = a.log.append(conv, 0, "m1", Bytes::from_static(b"from a")).await.unwrap();
    assert_eq!(
        b.log.append(conv, 0, "m2", Bytes::from_static(b"from b")).await,
        Err(AppendError::Fenced { expected: 0 })
    );
    // A's append retried (its acknowledgement lost): the original sequence, no second copy.
    assert_eq!(a.log.append(conv, 0, "m1", Bytes::from_static(b"from a")).await, Ok(first));
    // B takes over from the tail it reads; A, still believing its own tail, is fenced.
    let tail = b.log.last_sequence(conv).await.unwrap();
    assert_eq!(tail, first);
    let second = b.log.append(conv, tail, "m3", Bytes::from_static(b"from b")).await.unwrap();
    assert_eq!(
        a.log.append(conv, first, "m4", Bytes::from_static(b"late a")).await,
        Err(AppendError::Fenced { expected: first })
    );
    // What a node taking the conversation over reads: both records, in order, nothing else.
    let other = "c:alice:bob";
    a.log.append(other, 0, "o1", Bytes::from_static(b"elsewhere")).await.unwrap();
    let records = b.log.read(conv).await.unwrap();
    let payloads: Vec<&[u8]> = records.iter().map(|(_, p)| p.as_ref()).collect();
    assert_eq!(payloads, [&b"from a"[..], &b"from b"[..]]);
    assert_eq!(records.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [first, second]);
    assert!(b.log.read("g:never-written").await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_has_one_holder_and_passes_on_when_it_expires() {
    let Some(binary) = tools::nats_server() else { return };
    let server = NatsServer::start(&binary);
    let ttl = Duration::from_secs(2);
    let a = Cluster::connect(&config(&server.url, "node-a", ttl)).await.unwrap();
    let b = Cluster::connect(&config(&server.url, "node-b", ttl)).await.unwrap();
    let conv = "c:alice:bob";
    let mut held = a.leases.acquire(conv).await.unwrap();
    assert_eq!(b.leases.acquire(conv).await, Err(LeaseError::Held { by: "node-a".into() }));
    assert_eq!(b.leases.holder(conv).await.unwrap().as_deref(), Some("node-a"));
    a.leases.renew(&mut held).await.unwrap();
    // Released: any node may take it at once.
    a.leases.release(held).await.unwrap();
    let mut taken = b.leases.acquire(conv).await.unwrap();
    // Not renewed past its time (node b stopped, say): it expires and node a takes it; b's
    // renewal then fails, and b must stop serving the conversation.
    let deadline = std::time::Instant::now() + ttl * 5;
    let mut retaken = loop {
        match a.leases.acquire(conv).await {
            Ok(lease) => break lease,
            Err(LeaseError::Held { .. }) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("the lease did not pass on within {:?}: {e}", ttl * 5),
        }
    };
    assert_eq!(b.leases.renew(&mut taken).await, Err(LeaseError::Lost));
    a.leases.renew(&mut retaken).await.unwrap();
    assert_eq!(a.leases.holder(conv).await.unwrap().as_deref(), Some("node-a"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_three_servers_two_racing_writers_never_both_get_in_and_a_lost_server_is_survived() {
    let Some(binary) = tools::nats_server() else { return };
    let mut servers = NatsServer::cluster_of_three(&binary);
    let three = |node: &str| {
        let mut c = config(&servers[0].url, node, Duration::from_secs(5));
        c.log.replicas = 3;
        c
    };
    // The cluster elects its leaders first: connecting (which makes the replicated streams)
    // is retried until it can.
    let connect = |c: ClusterConfig| async move {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            match Cluster::connect(&c).await {
                Ok(cluster) => return cluster,
                Err(e) if std::time::Instant::now() < deadline => {
                    eprintln!("waiting for the cluster: {e}");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => panic!("the cluster did not form: {e}"),
            }
        }
    };
    let a = connect(three("node-a")).await;
    let b = connect(three("node-b")).await;
    // Replicas 3: two writers holding the same expected sequence, sent at once — one gets in.
    for round in 0..20 {
        let conv = format!("g:race-{round}");
        let tail = a.log.last_sequence(&conv).await.unwrap();
        let (id_a, id_b) = (format!("a-{round}"), format!("b-{round}"));
        let (ra, rb) = tokio::join!(
            a.log.append(&conv, tail, &id_a, Bytes::from_static(b"a")),
            b.log.append(&conv, tail, &id_b, Bytes::from_static(b"b")),
        );
        let wins = [ra.is_ok(), rb.is_ok()].iter().filter(|w| **w).count();
        assert_eq!(wins, 1, "round {round}: {ra:?} {rb:?}");
        assert_eq!(a.log.read(&conv).await.unwrap().len(), 1, "round {round}: one record, no fork");
    }
    // One of the three servers dies (not the one the nodes talk to): appends carry on, once
    // the streams whose leader it was have elected another.
    servers[2].kill();
    let conv = "c:alice:bob";
    let mut tail = retried(|| a.log.last_sequence(conv)).await;
    for i in 0..20 {
        let id = format!("after-{i}");
        tail = retried(|| async {
            a.log.append(conv, tail, &id, Bytes::from_static(b"x")).await.map_err(|e| e.to_string())
        })
        .await;
    }
    assert_eq!(retried(|| b.log.read(conv)).await.len(), 20);
}

/// `op`'s answer, retried for 30 s while it fails (a cluster electing leaders).
async fn retried<T, F: std::future::Future<Output = Result<T, String>>>(mut op: impl FnMut() -> F) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        match op().await {
            Ok(v) => return v,
            Err(e) if std::time::Instant::now() < deadline => {
                eprintln!("retrying: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("still failing after 30 s: {e}"),
        }
    }
}

/// A runtime in cluster mode as node `node`, its store in `dir`.
fn node_runtime(url: &str, node: &str, dir: &std::path::Path) -> timsg::Runtime {
    timsg::Runtime::open(timsg::RuntimeConfig {
        data_dir: dir.to_path_buf(),
        durability: timsg::Durability::Os,
        cluster: Some(config(url, node, Duration::from_secs(2))),
        ..Default::default()
    })
    .unwrap()
}

fn texts(views: &[timsg::MessageView]) -> Vec<(u64, String)> {
    let mut out: Vec<(u64, String)> = views
        .iter()
        .map(|v| {
            let text = match &v.message.content.elements[0].body {
                timsg_actors::element::ElementBody::Text(t) => t.content.clone(),
                _ => String::new(),
            };
            (v.message.seq, text)
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_moves_between_nodes_through_the_log_of_record() {
    use timsg::{ConvRef, Element, HistoryQuery, MessageContent};
    let Some(binary) = tools::nats_server() else { return };
    let server = NatsServer::start(&binary);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (node_runtime(&server.url, "a", dir_a.path()), node_runtime(&server.url, "b", dir_b.path()));
    let text = |t: &str| MessageContent::with_elements(vec![Element::text(t)]);
    let key = timsg_actors::ids::ConvKey::c2c("alice", "bob");
    let (alice_a, bob_b) = (a.login("alice").unwrap(), b.login("bob").unwrap());
    for i in 1..=3 {
        alice_a.send(&ConvRef::c2c("bob"), text(&format!("m{i}"))).await.unwrap();
    }
    // Node b cannot serve the conversation while node a owns it.
    let refused = bob_b.get_msg_list(&ConvRef::c2c("alice"), HistoryQuery::default()).await.unwrap_err();
    assert!(refused.desc.contains("owned by node a"), "{refused:?}");
    // Node a lets it go; node b takes it, its store rebuilt from the log, and goes on.
    assert!(a.engine().passivate(&key).await.unwrap());
    // Node b answered "owned by node a" a moment ago, and says so for a second more.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let page = loop {
        match bob_b.get_msg_list(&ConvRef::c2c("alice"), HistoryQuery::default()).await {
            Ok(page) => break page,
            Err(e) if std::time::Instant::now() < deadline => {
                assert!(e.desc.contains("owned by node a"), "{e:?}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("node b never took the conversation: {e:?}"),
        }
    };
    assert_eq!(texts(&page), [(1, "m1".into()), (2, "m2".into()), (3, "m3".into())]);
    let reply = bob_b.send(&ConvRef::c2c("alice"), text("reply")).await.unwrap();
    assert_eq!(reply.message.seq, 4, "seqs go on where node a left them");
    // Back on node a: it catches up with what node b wrote.
    assert!(b.engine().passivate(&key).await.unwrap());
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let next = loop {
        match alice_a.send(&ConvRef::c2c("bob"), text("m5")).await {
            Ok(sent) => break sent,
            Err(e) if std::time::Instant::now() < deadline => {
                assert!(e.desc.contains("owned by node b"), "{e:?}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("node a never took the conversation back: {e:?}"),
        }
    };
    assert_eq!(next.message.seq, 5);
    let page = alice_a.get_msg_list(&ConvRef::c2c("bob"), HistoryQuery::default()).await.unwrap();
    assert_eq!(texts(&page).iter().map(|(s, _)| *s).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    assert_eq!(texts(&page)[3].1, "reply");
    a.shutdown();
    b.shutdown();
}

/// A search over all of a user's conversations and a find by ID cover every node's, whichever
/// node is asked; a node that is listed but does not answer fails the read with a code
/// rather than leaving its conversations out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_user_reads_gather_every_nodes_conversations() {
    use timsg::{ConvRef, Element, MessageContent, SearchQuery};
    let Some(binary) = tools::nats_server() else { return };
    let server = NatsServer::start(&binary);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (node_runtime(&server.url, "a", dir_a.path()), node_runtime(&server.url, "b", dir_b.path()));
    let text = |t: &str| MessageContent::with_elements(vec![Element::text(t)]);
    let (alice_a, alice_b) = (a.login("alice").unwrap(), b.login("alice").unwrap());
    // alice:bob is node a's, alice:carol node b's: neither store holds the other.
    let to_bob = alice_a.send(&ConvRef::c2c("bob"), text("lunch at noon")).await.unwrap();
    let to_carol = alice_b.send(&ConvRef::c2c("carol"), text("lunch on friday")).await.unwrap();
    alice_a.send(&ConvRef::c2c("bob"), text("unrelated")).await.unwrap();
    // Both nodes list themselves once they take reads from the others.
    let probe = Cluster::connect(&config(&server.url, "probe", Duration::from_secs(5))).await.unwrap();
    retried(|| async {
        let mut nodes = probe.members.list().await?;
        nodes.sort();
        if nodes == ["a", "b"] { Ok(()) } else { Err(format!("listed: {nodes:?}")) }
    })
    .await;
    let ids = vec![to_carol.message.id.to_string(), to_bob.message.id.to_string(), "no-such-id".to_string()];
    let query = SearchQuery { keywords: vec!["lunch".into()], time_to: u64::MAX, ..Default::default() };
    for (node, alice) in [("a", &alice_a), ("b", &alice_b)] {
        let found = alice.find_messages(&ids).await.unwrap();
        let found: Vec<String> = found.iter().map(|v| v.message.id.to_string()).collect();
        assert_eq!(found, ids[..2], "asked of node {node}: both, in the order asked");
        // The index catches up in the background: searched until both conversations match.
        let result = retried(|| {
            let query = query.clone();
            async move {
                let r = alice.search_local_messages(query).await.map_err(|e| format!("{e:?}"))?;
                if r.total_count == 2 { Ok(r) } else { Err(format!("node {node} found {r:?}")) }
            }
        })
        .await;
        let mut convs: Vec<String> = result.items.iter().map(|i| i.conv.id.to_string()).collect();
        convs.sort();
        assert_eq!(convs, ["bob", "carol"]);
        assert!(result.items.iter().all(|i| i.total_message_count == 1 && i.messages.len() == 1));
        // Paged over the merged matches, one a page: the two pages hold both conversations.
        let mut paged = Vec::new();
        for page_index in 0..2 {
            let page = alice.search_local_messages(SearchQuery { page_size: 1, page_index, ..query.clone() }).await;
            let page = page.unwrap();
            assert_eq!((page.total_count, page.items.len()), (2, 1));
            paged.push(page.items[0].conv.id.to_string());
        }
        paged.sort();
        assert_eq!(paged, ["bob", "carol"], "asked of node {node}");
    }
    // Still node b's conversation: reading it from node a did not move it.
    let carol = timsg_actors::ids::ConvKey::c2c("alice", "carol").storage_key();
    assert_eq!(probe.leases.holder(&carol).await.unwrap().as_deref(), Some("b"));
    // A node listed but not running: the read fails with a code, not with part of the answer.
    let ghost = timsg_actors::cluster::Members::open(&probe_js(&server.url).await, "ghost", Duration::from_secs(60), 1)
        .await
        .unwrap();
    ghost.announce().await.unwrap();
    let e = alice_a.search_local_messages(query.clone()).await.unwrap_err();
    assert_eq!(e.code, timsg::error::code::ERR_REQUEST_TIME_OUT, "{e:?}");
    assert!(e.desc.contains("node ghost is not running"), "{e:?}");
    let e = alice_a.find_messages(&ids).await.unwrap_err();
    assert_eq!(e.code, timsg::error::code::ERR_REQUEST_TIME_OUT, "{e:?}");
    // Taken off the list, it is no longer asked.
    ghost.leave().await.unwrap();
    assert_eq!(alice_a.search_local_messages(query).await.unwrap().total_count, 2);
    a.shutdown();
    b.shutdown();
}

/// A JetStream context on the server at `url`, for a test's own buckets.
async fn probe_js(url: &str) -> async_nats::jetstream::Context {
    async_nats::jetstream::new(async_nats::connect(url).await.unwrap())
}

/// A service in cluster mode, node `node` of the cluster on `server`.
fn cluster_service(server: &NatsServer, node: &str) -> common::service::TestService {
    let settings = timsg::service::config::ClusterSettings {
        nats_url: server.url.clone(),
        node: node.into(),
        shards: 4,
        replicas: 1,
        ..Default::default()
    };
    common::service::TestService::start_with(move |c| c.cluster = Some(settings))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_services_in_cluster_mode_share_the_log_and_forward_calls_to_the_owner() {
    use common::service::{post, send_text};
    let Some(binary) = tools::nats_server() else { return };
    let server = NatsServer::start(&binary);
    let (a, b) = (cluster_service(&server, "a"), cluster_service(&server, "b"));
    let sent = send_text(&a, "alice", "bob", "through node a").await;
    assert_eq!(sent["message_seq"], 1);
    // The write is in the cluster's log of record, under the conversation's subject.
    let probe = Cluster::connect(&config(&server.url, "probe", Duration::from_secs(5))).await.unwrap();
    let conv = timsg_actors::ids::ConvKey::c2c("alice", "bob").storage_key();
    assert!(probe.log.last_sequence(&conv).await.unwrap() >= 1);
    assert_eq!(probe.leases.holder(&conv).await.unwrap().as_deref(), Some("a"));
    // Bob's calls to node b are forwarded to node a, which owns the conversation, and
    // answered as if b had served them: his history, his reply (the next seq).
    let list = serde_json::json!({"conv_id": "alice", "conv_type": 1, "param": {}});
    let (_, r) = post(&b, "bob", "TIMMsgGetMsgList", list).await;
    assert_eq!(r["code"], 0, "{r}");
    assert_eq!(r["json_params"][0]["message_elem_array"][0]["text_elem_content"], "through node a", "{r}");
    let body = serde_json::json!({"conv_id": "alice", "conv_type": 1,
        "param": {"message_elem_array": [{"elem_type": 0, "text_elem_content": "back through node b"}]}});
    let resp = reqwest::Client::new()
        .post(b.url("/v1/TIMMsgSendMessage"))
        .header("X-TIM-User", "bob")
        .header("X-TIM-UserSig", common::service::sig("bob"))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let header = resp.headers()["x-tim-message-id"].to_str().unwrap().to_string();
    let answer = common::service::json_of(resp).await;
    let reply = &answer["json_params"];
    assert_eq!(reply["message_seq"], 2, "{answer}");
    assert_eq!(reply["message_msg_id"], header.as_str(), "the header names the message node a stored");
    assert_eq!(probe.leases.holder(&conv).await.unwrap().as_deref(), Some("a"), "still node a's");
    let mine = serde_json::json!({"conv_id": "bob", "conv_type": 1, "param": {}});
    let (_, r) = post(&a, "alice", "TIMMsgGetMsgList", mine).await;
    assert_eq!(r["json_params"].as_array().unwrap().len(), 2, "{r}");
}

/// Reads frames until the reply to call `id`.
async fn reply_to(ws: &mut common::service::Ws, id: u64) -> serde_json::Value {
    use futures_util::StreamExt;
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("a reply").unwrap().unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = frame {
            let v: serde_json::Value = serde_json::from_str(&t).unwrap();
            if v["reply"] == id {
                return v;
            }
        }
    }
}

/// A user's events reach whichever node holds its socket, numbered by the events stream, and a
/// client resumes from its cursor on another node with nothing missed or doubled; a call
/// frame on the socket for a conversation another node owns is served there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_the_node_holding_the_socket_and_resume_on_any_node() {
    use common::service::{connect, next_texts, send_text};
    use futures_util::SinkExt;
    let Some(binary) = tools::nats_server() else { return };
    let server = NatsServer::start(&binary);
    let (a, b) = (cluster_service(&server, "a"), cluster_service(&server, "b"));
    // Cursor 0: everything the stream holds for bob, then live.
    let mut bob = connect(&b, "bob", Some(0)).await;
    send_text(&a, "alice", "bob", "one").await;
    let (first, texts) = next_texts(&mut bob).await;
    assert_eq!(texts, ["one"], "node a's event reached bob's socket on node b");
    // A call frame on node b for the conversation node a owns.
    let frame = serde_json::json!({"id": 1, "api": "TIMMsgSendMessage", "conv_id": "alice", "conv_type": 1,
        "param": {"message_elem_array": [{"elem_type": 0, "text_elem_content": "two"}]}});
    bob.send(tokio_tungstenite::tungstenite::Message::Text(frame.to_string().into())).await.unwrap();
    let r = reply_to(&mut bob, 1).await;
    assert_eq!((r["code"].as_i64(), r["json_params"]["message_seq"].as_u64()), (Some(0), Some(2)), "{r}");
    let mut alice = connect(&a, "alice", Some(0)).await;
    assert_eq!(next_texts(&mut alice).await.1, ["two"]);
    // Bob goes away; what is sent meanwhile waits in the stream for his cursor, on any node.
    drop(bob);
    send_text(&a, "alice", "bob", "three").await;
    send_text(&a, "alice", "bob", "four").await;
    let mut bob = connect(&a, "bob", Some(first)).await;
    let mut seen = Vec::new();
    let mut last = first;
    while seen.len() < 2 {
        let (cursor, texts) = next_texts(&mut bob).await;
        assert!(cursor > last, "cursors rise: {cursor} after {last}");
        last = cursor;
        seen.extend(texts);
    }
    assert_eq!(seen, ["three", "four"], "after the cursor, nothing twice");
    send_text(&b, "alice", "bob", "five").await;
    assert_eq!(next_texts(&mut bob).await.1, ["five"], "then live");
}

/// A client connecting with no cursor is logging in: it first gets the messages it has not
/// read from every node's conversations, then the live feed, each message once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_without_a_cursor_catches_up_on_every_nodes_unread_messages() {
    use common::service::{connect, next_texts, send_text};
    let Some(binary) = tools::nats_server() else { return };
    let server = NatsServer::start(&binary);
    let (a, b) = (cluster_service(&server, "a"), cluster_service(&server, "b"));
    let probe = Cluster::connect(&config(&server.url, "probe", Duration::from_secs(5))).await.unwrap();
    retried(|| async {
        let n = probe.members.list().await?.len();
        if n == 2 { Ok(()) } else { Err(format!("{n} nodes listed")) }
    })
    .await;
    // alice:bob is node a's, bob:carol node b's; bob's own message is not his to catch up on.
    send_text(&a, "alice", "bob", "alice 1").await;
    send_text(&a, "alice", "bob", "alice 2").await;
    send_text(&b, "carol", "bob", "carol 1").await;
    send_text(&b, "bob", "carol", "bob's own").await;
    let mut bob = connect(&a, "bob", None).await;
    let mut caught_up = Vec::new();
    let mut cursors = Vec::new();
    while caught_up.len() < 3 {
        let (cursor, texts) = next_texts(&mut bob).await;
        cursors.push(cursor);
        caught_up.extend(texts);
    }
    caught_up.sort();
    assert_eq!(caught_up, ["alice 1", "alice 2", "carol 1"]);
    assert!(cursors.windows(2).all(|w| w[0] == w[1]), "the catch-up carries the cursor it resumes from: {cursors:?}");
    send_text(&b, "alice", "bob", "live").await;
    let (cursor, texts) = next_texts(&mut bob).await;
    assert_eq!(texts, ["live"], "then live, nothing twice");
    assert!(cursor > cursors[0]);
}

/// The REST v4 API on any node: a command for a conversation another node owns is served
/// there, and a batch send whose receivers' conversations several nodes own reaches each
/// receiver once — through `/v4` and `/v1` alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_commands_and_batch_sends_are_served_by_the_owners() {
    use common::service::{admin, post, send_text};
    use serde_json::json;
    let Some(binary) = tools::nats_server() else { return };
    let server = NatsServer::start(&binary);
    let (a, b) = (cluster_service(&server, "a"), cluster_service(&server, "b"));
    // alice:bob is node a's, alice:carol node b's.
    send_text(&a, "alice", "bob", "bob 1").await;
    send_text(&b, "alice", "carol", "carol 1").await;
    let text = |to: serde_json::Value, random: u32, text: &str| {
        json!({"From_Account": "alice", "To_Account": to, "MsgRandom": random,
            "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]})
    };
    let r = admin(&b, "openim/sendmsg", text(json!("bob"), 1, "bob 2, through node b")).await;
    assert_eq!(r["ActionStatus"], "OK", "{r}");
    assert!(r["MsgKey"].as_str().unwrap().starts_with("2_"), "the owner's next seq: {r}");
    let r = admin(&a, "openim/batchsendmsg", text(json!(["bob", "carol", "dave"]), 2, "to all")).await;
    assert_eq!(r["ActionStatus"], "OK", "{r}");
    assert!(r.get("ErrorList").is_none(), "every receiver was sent to: {r}");
    let batch = json!({"param": {"msg_batch_send_param_identifier_array": ["carol", "bob"],
        "msg_batch_send_param_msg": {"message_elem_array": [{"elem_type": 0, "text_elem_content": "to both"}]}}});
    let (_, r) = post(&b, "alice", "TIMMsgBatchSend", batch).await;
    assert_eq!(r["code"], 0, "{r}");
    for result in r["json_params"].as_array().unwrap() {
        assert_eq!(result["msg_batch_send_result_code"], 0, "{r}");
    }
    let texts_of = |r: &serde_json::Value| -> Vec<String> {
        let mut t: Vec<String> = r["json_params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["message_elem_array"][0]["text_elem_content"].as_str().unwrap().to_string())
            .collect();
        t.sort();
        t
    };
    let list = |peer: &str| json!({"conv_id": peer, "conv_type": 1, "param": {"msg_getmsglist_param_count": 20}});
    let (_, r) = post(&a, "alice", "TIMMsgGetMsgList", list("carol")).await;
    assert_eq!(texts_of(&r), ["carol 1", "to all", "to both"], "{r}");
    let (_, r) = post(&b, "alice", "TIMMsgGetMsgList", list("bob")).await;
    assert_eq!(texts_of(&r), ["bob 1", "bob 2, through node b", "to all", "to both"], "{r}");
    // A command that reads one conversation directly, asked of the node that does not own it.
    let roam =
        json!({"Operator_Account": "bob", "Peer_Account": "alice", "MaxCnt": 10, "MinTime": 0, "MaxTime": u32::MAX});
    let r = admin(&b, "openim/admin_getroammsg", roam).await;
    assert_eq!((r["ActionStatus"].as_str(), r["MsgCnt"].as_u64()), (Some("OK"), Some(4)), "{r}");
    let probe = Cluster::connect(&config(&server.url, "probe", Duration::from_secs(5))).await.unwrap();
    let bob = timsg_actors::ids::ConvKey::c2c("alice", "bob").storage_key();
    assert_eq!(probe.leases.holder(&bob).await.unwrap().as_deref(), Some("a"), "served by its owner");
}

/// An account imported, deleted or kicked through one node holds on every node: the other
/// node reports it imported, refuses the kicked user's old UserSig and closes its socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_changes_made_through_one_node_hold_on_every_node() {
    use common::service::{APP, KEY, admin, now, post_as};
    use futures_util::StreamExt;
    use serde_json::json;
    let Some(binary) = tools::nats_server() else { return };
    let server = NatsServer::start(&binary);
    let (a, b) = (cluster_service(&server, "a"), cluster_service(&server, "b"));
    let r = admin(&a, "im_open_login_svc/account_import", json!({"UserID": "zoe", "Nick": "Z"})).await;
    assert_eq!(r["ErrorCode"], 0, "{r}");
    let check = json!({"CheckItem": [{"UserID": "zoe"}]});
    retried(|| async {
        let r = admin(&b, "im_open_login_svc/account_check", check.clone()).await;
        let status = r["ResultItem"][0]["AccountStatus"].clone();
        if status == "Imported" { Ok(()) } else { Err(format!("node b says {status}")) }
    })
    .await;
    // Alice's socket and calls on node b, with a UserSig made before the kick node a takes.
    let old = timsg::auth::usersig::generate(APP, KEY, "alice", 3600, now() - 30);
    let headers = [("X-TIM-User", "alice".to_string()), ("X-TIM-UserSig", old.clone())];
    let list = json!({"conv_id": "bob", "conv_type": 1, "param": {}});
    assert_eq!(post_as(&b, "TIMMsgGetMsgList", &headers, list.clone()).await.0, 200, "before the kick");
    let url = format!("ws://{}/v1/events?user=alice&usersig={old}", b.addr);
    let mut ws = tokio_tungstenite::connect_async(url).await.expect("connects").0;
    let r = admin(&a, "im_open_login_svc/kick", json!({"UserID": "alice"})).await;
    assert_eq!(r["ErrorCode"], 0, "{r}");
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("node b closes the socket") {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("no close frame: {other:?}"),
        }
    };
    assert!(closed.unwrap().reason.contains("kicked"));
    let (status, refused) = post_as(&b, "TIMMsgGetMsgList", &headers, list).await;
    assert_eq!((status, refused["code"].as_i64()), (401, Some(70052)), "{refused}");
    // Deleted through node b: node a says so.
    admin(&b, "im_open_login_svc/account_delete", json!({"DeleteItem": [{"UserID": "zoe"}]})).await;
    retried(|| async {
        let r = admin(&a, "im_open_login_svc/account_check", check.clone()).await;
        let status = r["ResultItem"][0]["AccountStatus"].clone();
        if status == "NotImported" { Ok(()) } else { Err(format!("node a says {status}")) }
    })
    .await;
}

/// A C2C receive option set through one node holds where the conversation's owner delivers:
/// bob mutes alice on node a; alice's message, sent and delivered by node b, never reaches
/// bob's socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receive_option_set_on_one_node_holds_on_the_owner() {
    use common::service::{connect, next_texts, post, send_text};
    use serde_json::json;
    let Some(binary) = tools::nats_server() else { return };
    let server = NatsServer::start(&binary);
    let (a, b) = (cluster_service(&server, "a"), cluster_service(&server, "b"));
    send_text(&b, "alice", "bob", "before").await;
    let (_, r) = post(&a, "bob", "TIMMsgSetC2CReceiveMessageOpt", json!({"param": ["alice"], "opt": 1})).await;
    assert_eq!(r["code"], 0, "{r}");
    retried(|| async {
        let (_, r) = post(&b, "bob", "TIMMsgGetC2CReceiveMessageOpt", json!({"param": ["alice"]})).await;
        let opt = r["json_params"][0]["msg_recv_msg_opt_result_opt"].clone();
        if opt == 1 { Ok(()) } else { Err(format!("node b says {r}")) }
    })
    .await;
    let mut bob = connect(&a, "bob", None).await;
    // The login's catch-up: what bob had not read before he muted alice.
    assert_eq!(next_texts(&mut bob).await.1, ["before"]);
    send_text(&b, "alice", "bob", "muted").await;
    send_text(&b, "carol", "bob", "heard").await;
    assert_eq!(next_texts(&mut bob).await.1, ["heard"], "alice's message was not delivered");
}

/// A C ABI embedder in a cluster (`tests/c/cluster_node.c`, node "c") beside a service (node
/// "a"): its user's calls for node a's conversations are served there, node a's calls for its
/// conversations are served by it, and its user hears events made on either node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_c_abi_embedder_is_a_node_of_the_cluster() {
    use common::service::{post, send_text};
    use serde_json::json;
    use std::io::{BufRead, Write};
    let Some(binary) = tools::nats_server() else { return };
    if !tools::available_or_skip("a C compiler (cc)", tools::runs("cc")) {
        return;
    }
    let server = NatsServer::start(&binary);
    let a = cluster_service(&server, "a");
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("cluster_node");
    tools::c_programs::compile("cluster_node.c", &program, false);
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let mut child = std::process::Command::new(&program)
        .args([data.to_str().unwrap(), &server.url])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("the program runs");
    /// Kills the program if the test fails before it ends.
    struct Reap(std::process::Child);
    impl Drop for Reap {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let (mut stdin, stdout) = (child.stdin.take().unwrap(), child.stdout.take().unwrap());
    let child = Reap(child);
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let next_line = || lines.recv_timeout(Duration::from_secs(60)).expect("the program goes on (see its stderr)");
    assert_eq!(next_line(), "ready");
    let probe = Cluster::connect(&config(&server.url, "probe", Duration::from_secs(5))).await.unwrap();
    let alice_bob = timsg_actors::ids::ConvKey::c2c("alice", "bob").storage_key();
    assert_eq!(probe.leases.holder(&alice_bob).await.unwrap().as_deref(), Some("c"), "the embedder owns it");

    send_text(&a, "carol", "alice", "from carol on a").await;
    let (_, r) = post(&a, "bob", "TIMMsgGetMsgList", json!({"conv_id": "alice", "conv_type": 1, "param": {}})).await;
    assert_eq!(r["code"], 0, "{r}");
    assert_eq!(r["json_params"][0]["message_elem_array"][0]["text_elem_content"], "from alice on c", "{r}");
    let reply = send_text(&a, "bob", "alice", "from bob through a").await;
    assert_eq!(reply["message_seq"], 2, "stored by the embedder, after alice's message: {reply}");
    writeln!(stdin, "go").unwrap();

    let line = next_line();
    let id = line.strip_prefix("to-carol=").unwrap_or_else(|| panic!("unexpected: {line}")).to_string();
    assert_eq!(next_line(), "all checks passed");
    let (_, r) = post(&a, "carol", "TIMMsgGetMsgList", json!({"conv_id": "alice", "conv_type": 1, "param": {}})).await;
    let newest = &r["json_params"][0];
    assert_eq!(newest["message_elem_array"][0]["text_elem_content"], "to carol from c", "{r}");
    assert_eq!(newest["message_msg_id"], id.as_str(), "node a stored it under the ID alice was given");
    let mut child = child;
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status}");
}
