//! `timsg serve` end to end: a real server on 127.0.0.1:0, a real HTTP client and a real
//! WebSocket client. Every endpoint; two users chatting; reconnecting with a cursor; auth
//! failures and the admin identity; blobs with Range; bad input; graceful shutdown; and
//! UserSigs made by the official npm package.

use std::time::Duration;

mod common;
mod tools;

use common::service::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use timsg::auth::usersig::generate;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_and_the_openapi_document_is_true() {
    let s = TestService::start();
    for (api, _) in timsg::dispatch::API_TABLE {
        let (status, r) = post(&s, "alice", api, json!({})).await;
        assert!(status == 200 || status == 400, "{api}: {status} {r}");
        assert!(r.get("code").is_some() && r.get("desc").is_some() && r.get("json_params").is_some(), "{api}: {r}");
    }
    let doc = json_of(reqwest::get(s.url("/v1/openapi.json")).await.unwrap()).await;
    assert_eq!(doc["openapi"], "3.0.3");
    let paths = doc["paths"].as_object().unwrap();
    for (api, _) in timsg::dispatch::API_TABLE {
        assert!(paths.get(&format!("/v1/{api}")).is_some_and(|p| p.get("post").is_some()), "{api} is documented");
    }
    for (path, ops) in paths {
        if let Some(api) = path.strip_prefix("/v1/")
            && ops.get("post").is_some()
        {
            assert!(timsg::dispatch::API_TABLE.iter().any(|(n, _)| *n == api), "{path} is served");
        }
        for method in ops.as_object().unwrap().keys() {
            let url = s.url(&path.replace("{hash}", &"0".repeat(64)));
            let resp =
                reqwest::Client::new().request(method.to_uppercase().parse().unwrap(), url).send().await.unwrap();
            assert_ne!(resp.status().as_u16(), 404, "{method} {path} is served");
        }
    }
    assert_eq!(reqwest::get(s.url("/healthz")).await.unwrap().status(), 200);
    assert_eq!(reqwest::get(s.url("/readyz")).await.unwrap().status(), 200);
    let metrics = reqwest::get(s.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("timsg_api_calls_total"), "{metrics}");
}

/// With `metrics_token` set, `/metrics` wants the bearer token; the engine's limits set for the
/// service are the engine's (a batch send over `batch_send_max` is refused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_token_and_engine_limits() {
    let s = TestService::start_with(|c| {
        c.metrics_token = Some("s3cret".into());
        c.engine.batch_send_max = 2;
    });
    let client = reqwest::Client::new();
    assert_eq!(client.get(s.url("/metrics")).send().await.unwrap().status(), 401);
    let wrong = client.get(s.url("/metrics")).bearer_auth("guess").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let right = client.get(s.url("/metrics")).bearer_auth("s3cret").send().await.unwrap();
    assert_eq!(right.status(), 200);
    let batch = |n: usize| {
        json!({"param": {"msg_batch_send_param_identifier_array": (0..n).map(|i| format!("r{i}")).collect::<Vec<_>>(),
            "msg_batch_send_param_msg": {"message_elem_array": [{"elem_type": 0, "text_elem_content": "x"}]}}})
    };
    let (status, r) = post(&s, "alice", "TIMMsgBatchSend", batch(2)).await;
    assert_eq!((status, r["code"].as_i64()), (200, Some(0)), "{r}");
    let (status, r) = post(&s, "alice", "TIMMsgBatchSend", batch(3)).await;
    assert_eq!((status, r["code"].as_i64()), (400, Some(-4)), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_chat_and_reconnecting_with_a_cursor_loses_nothing() {
    let s = TestService::start();
    let mut bob = connect(&s, "bob", None).await;
    let mut alice = connect(&s, "alice", None).await;
    send_text(&s, "alice", "bob", "hi bob").await;
    let (c1, texts) = next_texts(&mut bob).await;
    assert_eq!(texts, ["hi bob"]);
    let reply = send_text(&s, "bob", "alice", "hi alice").await;
    assert_eq!(next_texts(&mut alice).await.1, ["hi alice"]);
    let _ = reply;
    let (status, r) = post(&s, "bob", "TIMMsgReportReaded", json!({"conv_id": "alice", "conv_type": 1})).await;
    assert_eq!((status, &r["code"]), (200, &json!(0)));
    loop {
        let e = next_event(&mut alice).await;
        if e["event"] == "MsgReadedReceipt" {
            assert_eq!(e["json"][0]["msg_receipt_conv_id"], "bob");
            break;
        }
    }
    // Bob goes away; two messages arrive; he comes back with his cursor.
    bob.close(None).await.unwrap();
    drop(bob);
    send_text(&s, "alice", "bob", "while away 1").await;
    send_text(&s, "alice", "bob", "while away 2").await;
    let mut bob = connect(&s, "bob", Some(c1)).await;
    let mut seen = Vec::new();
    while seen.len() < 2 {
        seen.extend(next_texts(&mut bob).await.1);
    }
    assert_eq!(seen, ["while away 1", "while away 2"], "missed events, in order, none twice");
    send_text(&s, "alice", "bob", "live again").await;
    assert_eq!(next_texts(&mut bob).await.1, ["live again"]);
    // A frame of the wrong type closes the stream with a reason.
    bob.send(WsMessage::Binary(vec![1u8, 2, 3].into())).await.unwrap();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), bob.next()).await.unwrap() {
            Some(Ok(WsMessage::Close(Some(frame)))) => {
                assert!(frame.reason.contains("text frames (calls) only"), "{frame:?}");
                break;
            }
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_failures_and_the_admin_identity() {
    let s = TestService::start();
    let body = json!({"conv_id": "bob", "conv_type": 1, "param": {"message_elem_array": [{"elem_type": 0, "text_elem_content": "x"}]}});
    let code = |r: (u16, Value)| (r.0, r.1["code"].as_i64().unwrap());
    assert_eq!(code(post_as(&s, "TIMMsgSendMessage", &[], body.clone()).await), (401, 6014));
    let garbage = [("X-TIM-User", "alice".to_string()), ("X-TIM-UserSig", "garbage".to_string())];
    assert_eq!(code(post_as(&s, "TIMMsgSendMessage", &garbage, body.clone()).await), (401, 70003));
    let expired =
        [("X-TIM-User", "alice".to_string()), ("X-TIM-UserSig", generate(APP, KEY, "alice", 10, now() - 100))];
    assert_eq!(code(post_as(&s, "TIMMsgSendMessage", &expired, body.clone()).await), (401, 6206));
    let forged =
        [("X-TIM-User", "alice".to_string()), ("X-TIM-UserSig", generate(APP, "other key", "alice", 3600, now()))];
    assert_eq!(code(post_as(&s, "TIMMsgSendMessage", &forged, body.clone()).await), (401, 70003));
    let someone_elses = [("X-TIM-User", "alice".to_string()), ("X-TIM-UserSig", sig("mallory"))];
    assert_eq!(code(post_as(&s, "TIMMsgSendMessage", &someone_elses, body.clone()).await), (401, 70013));
    let impersonate =
        [("X-TIM-User", "alice".to_string()), ("X-TIM-UserSig", sig("alice")), ("X-TIM-Act-As", "bob".to_string())];
    assert_eq!(code(post_as(&s, "TIMMsgSendMessage", &impersonate, body.clone()).await), (403, 7014));
    assert!(
        tokio_tungstenite::connect_async(format!("ws://{}/v1/events?user=bob&usersig=nope", s.addr)).await.is_err()
    );
    // The admin sends as a bot.
    let admin = [
        ("X-TIM-User", "administrator".to_string()),
        ("X-TIM-UserSig", sig("administrator")),
        ("X-TIM-Act-As", "bot1".to_string()),
    ];
    let (status, r) = post_as(&s, "TIMMsgSendMessage", &admin, body.clone()).await;
    assert_eq!((status, r["json_params"]["message_sender"].as_str()), (200, Some("bot1")), "{r}");
    // Nothing the refused calls asked for happened.
    let (_, history) = post(&s, "bob", "TIMMsgGetMsgList", json!({"conv_id": "alice", "conv_type": 1})).await;
    assert_eq!(history["json_params"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_round_trip_with_range_and_bad_input_is_refused() {
    let s = TestService::start();
    let client = reqwest::Client::new();
    let auth = |r: reqwest::RequestBuilder| r.header("X-TIM-User", "alice").header("X-TIM-UserSig", sig("alice"));
    let bytes: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    let put = auth(client.put(s.url("/v1/blobs"))).body(bytes.clone()).send().await.unwrap();
    assert_eq!(put.status(), 201);
    let stored = json_of(put).await;
    let url = stored["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("http://{}/v1/blobs/", s.addr)), "{url}");
    let part = auth(client.get(&url)).header("Range", "bytes=10-19").send().await.unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.unwrap().to_vec(), bytes[10..20].to_vec());
    assert_eq!(client.get(&url).send().await.unwrap().status(), 401, "blobs need auth too");
    // The hash alone reads nothing: the URL's sig is the capability.
    let hash = stored["hash"].as_str().unwrap();
    assert_eq!(auth(client.get(s.url(&format!("/v1/blobs/{hash}")))).send().await.unwrap().status(), 403);
    let unknown = url.replace(hash, &"a".repeat(64));
    assert_eq!(auth(client.get(&unknown)).send().await.unwrap().status(), 403, "a sig is for one blob");
    // A sent file is named by its blob URL; the message carries a URL that points here, and
    // DownloadElemToPath reads it back into the receiver's folder, served by /v1/files.
    let (_, sent) = post(&s, "alice", "TIMMsgSendMessage", json!({"conv_id": "bob", "conv_type": 1, "param": {"message_elem_array": [{"elem_type": 4, "file_elem_file_path": url, "file_elem_file_name": "doc.bin"}]}})).await;
    assert_eq!(sent["code"], 0, "{sent}");
    let file_url = sent["json_params"]["message_elem_array"][0]["file_elem_url"].as_str().unwrap().to_string();
    assert!(file_url.starts_with(&format!("http://{}/v1/blobs/", s.addr)));
    assert_eq!(sent["json_params"]["message_elem_array"][0]["file_elem_file_size"], 5000);
    let (_, r) = post(&s, "bob", "TIMMsgDownloadElemToPath", json!({"param": {"msg_download_elem_param_type": 1, "msg_download_elem_param_id": "", "msg_download_elem_param_business_id": 0, "msg_download_elem_param_url": file_url}, "path": "docs/copy.bin"})).await;
    assert_eq!(r["code"], 0, "{r}");
    let bob_auth = |r: reqwest::RequestBuilder| r.header("X-TIM-User", "bob").header("X-TIM-UserSig", sig("bob"));
    let copy = bob_auth(client.get(s.url("/v1/files/docs/copy.bin"))).send().await.unwrap();
    assert_eq!(copy.status(), 200);
    assert_eq!(copy.bytes().await.unwrap().to_vec(), bytes);
    assert_eq!(
        auth(client.get(s.url("/v1/files/docs/copy.bin"))).send().await.unwrap().status(),
        404,
        "bob's folder is his"
    );
    // Bad input.
    let big = json!({"conv_id": "bob", "conv_type": 1, "param": "x".repeat(1024 * 1024 + 1)});
    let (status, r) = post(&s, "alice", "TIMMsgSendMessage", big).await;
    assert_eq!((status, r["code"].as_i64()), (413, Some(9522)));
    let resp = auth(client.post(s.url("/v1/TIMMsgSendMessage"))).body("{not json").send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(json_of(resp).await["code"], -3);
    assert_eq!(auth(client.post(s.url("/v1/TIMMsgNoSuch"))).send().await.unwrap().status(), 404);
    assert_eq!(client.get(s.url("/v1/TIMMsgSendMessage")).send().await.unwrap().status(), 405);
    assert_eq!(client.delete(s.url("/nowhere")).send().await.unwrap().status(), 404);
    // The server keeps serving.
    send_text(&s, "alice", "bob", "still here").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_websockets_with_a_reason() {
    let mut s = TestService::start();
    let mut ws = connect(&s, "carol", None).await;
    send_text(&s, "dave", "carol", "before shutdown").await;
    assert_eq!(next_texts(&mut ws).await.1, ["before shutdown"]);
    let stopper = std::thread::spawn(move || s.shutdown());
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(15), ws.next()).await.unwrap() {
            Some(Ok(WsMessage::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert!(close.is_some_and(|f| f.reason.contains("shutting down")));
    stopper.join().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usersigs_from_the_official_npm_package() {
    let Some(modules) = tools::official_usersig_package() else { return };
    let make_sig = |key: &str| {
        let script = format!(
            "const T = require('tls-sig-api-v2'); console.log(new T.Api({APP}, '{key}').genUserSig('alice', 3600));"
        );
        let out = std::process::Command::new("node")
            .arg("-e")
            .arg(script)
            .env("NODE_PATH", &modules)
            .output()
            .expect("node runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let s = TestService::start();
    let body = json!({"conv_id": "bob", "conv_type": 1, "param": {"message_elem_array": [{"elem_type": 0, "text_elem_content": "from node"}]}});
    let good = [("X-TIM-User", "alice".to_string()), ("X-TIM-UserSig", make_sig(KEY))];
    let (status, r) = post_as(&s, "TIMMsgSendMessage", &good, body.clone()).await;
    assert_eq!((status, r["code"].as_i64()), (200, Some(0)), "{r}");
    let bad = [("X-TIM-User", "alice".to_string()), ("X-TIM-UserSig", make_sig("wrong key"))];
    let (status, r) = post_as(&s, "TIMMsgSendMessage", &bad, body).await;
    assert_eq!((status, r["code"].as_i64()), (401, Some(70003)));
}

/// Sends a call frame on `ws`.
async fn ws_call(ws: &mut Ws, frame: Value) {
    ws.send(WsMessage::Text(frame.to_string().into())).await.unwrap();
}

/// Reads frames until the replies to `n` calls are in; returns them by id, and the events seen.
async fn ws_replies(ws: &mut Ws, n: usize) -> (std::collections::BTreeMap<String, Value>, Vec<Value>) {
    let (mut replies, mut events) = (std::collections::BTreeMap::new(), Vec::new());
    while replies.len() < n {
        let v = next_event(ws).await;
        match v.get("reply") {
            Some(id) => {
                replies.insert(id.to_string(), v);
            }
            None => events.push(v),
        }
    }
    (replies, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_over_the_websocket_are_answered_by_id_in_the_order_sent() {
    let s = TestService::start();
    let mut alice = connect(&s, "alice", None).await;
    let mut bob = connect(&s, "bob", None).await;
    // Pipelined, all before any reply: a send, a cancel of it (too late: a C2C message is sent
    // at once), and bad frames.
    let send = json!({"id": 1, "api": "TIMMsgSendMessage", "conv_id": "bob", "conv_type": 1,
        "param": {"message_msg_id": "ws-1", "message_elem_array": [{"elem_type": 0, "text_elem_content": "over the socket"}]}});
    ws_call(&mut alice, send).await;
    let cancel = json!({"id": "cancel", "api": "TIMMsgCancelSend", "conv_id": "bob", "conv_type": 1, "param": "ws-1"});
    ws_call(&mut alice, cancel).await;
    ws_call(&mut alice, json!({"id": 3, "api": "TIMNoSuchFunction"})).await;
    ws_call(&mut alice, json!({"id": 4, "api": "TIMMsgSendMessage", "surprise": true})).await;
    alice.send(WsMessage::Text("not json".into())).await.unwrap();
    let (replies, _) = ws_replies(&mut alice, 5).await;
    let sent = &replies["1"];
    assert_eq!(sent["code"], 0, "{sent}");
    assert_eq!(sent["json_params"]["message_msg_id"], "ws-1");
    assert_eq!(sent["json_params"]["message_status"], 2);
    assert_ne!(replies["\"cancel\""]["code"], 0, "a sent message cannot be cancelled");
    assert_eq!(replies["3"]["code"], json!(-4), "a param error: {}", replies["3"]);
    assert!(replies["3"]["desc"].as_str().unwrap().contains("TIMNoSuchFunction"));
    assert_ne!(replies["4"]["code"], 0, "unknown keys are refused: {}", replies["4"]);
    assert_ne!(replies["null"]["code"], 0, "a frame that is not JSON gets a reply without an id");
    // Bob receives it as an event on his socket, and can answer on the same socket.
    assert_eq!(next_texts(&mut bob).await.1, ["over the socket"]);
    let history = json!({"id": "h", "api": "TIMMsgGetMsgList", "conv_id": "alice", "conv_type": 1});
    ws_call(&mut bob, history).await;
    let (replies, _) = ws_replies(&mut bob, 1).await;
    assert_eq!(replies["\"h\""]["json_params"][0]["message_msg_id"], "ws-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_closed_as_a_slow_consumer() {
    let s = TestService::start_with(|c| c.ws_buffer = 4);
    let mut slow = connect(&s, "slowpoke", None).await;
    let big = "x".repeat(12_000);
    // Enough events to fill the socket buffers and then the client's buffer of 4.
    let mut closed_early = false;
    for i in 0..3000 {
        let (status, r) = post(&s, "sender", "TIMMsgSendMessage", json!({"conv_id": "slowpoke", "conv_type": 1, "param": {"message_elem_array": [{"elem_type": 0, "text_elem_content": big}]}})).await;
        assert_eq!((status, &r["code"]), (200, &json!(0)));
        if i % 200 == 199 {
            let metrics = reqwest::get(s.url("/metrics")).await.unwrap().text().await.unwrap();
            if metrics.lines().any(|l| l.starts_with("timsg_ws_slow_disconnects_total") && !l.ends_with(" 0")) {
                closed_early = true;
                break;
            }
        }
    }
    assert!(closed_early, "the slow client was dropped and counted");
    // Reading now drains what was in flight, then the close frame with its reason.
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(20), slow.next()).await.unwrap() {
            Some(Ok(WsMessage::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert!(close.is_some_and(|f| f.reason.contains("slow consumer")));
    // Others are unaffected.
    let mut fine = connect(&s, "other", None).await;
    send_text(&s, "sender", "other", "still served").await;
    assert_eq!(next_texts(&mut fine).await.1, ["still served"]);
}

/// TCP_NODELAY of this process's connected TCP sockets whose local port is `port`: the
/// service's side of its connections (the test's clients run in the same process).
fn nodelay_of_accepted_sockets(port: u16) -> Vec<bool> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse::<libc::c_int>().ok()) else { continue };
        // SAFETY: `fd` is open in this process (it may close meanwhile; then the calls fail
        // with EBADF and it is skipped); the buffers are sized for the options asked.
        unsafe {
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            if libc::getsockname(fd, (&raw mut addr).cast(), &mut len) != 0
                || libc::c_int::from(addr.sin_family) != libc::AF_INET
                || u16::from_be(addr.sin_port) != port
            {
                continue;
            }
            let mut peer: libc::sockaddr_in = std::mem::zeroed();
            let mut peer_len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            if libc::getpeername(fd, (&raw mut peer).cast(), &mut peer_len) != 0 {
                continue; // the listening socket
            }
            let mut on: libc::c_int = 0;
            let mut on_len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
            assert_eq!(
                libc::getsockopt(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, (&raw mut on).cast(), &mut on_len),
                0
            );
            out.push(on != 0);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_served_without_nagles_delay() {
    let s = TestService::start();
    // A WebSocket and a kept-alive HTTP connection, both open once their first answer is in.
    let mut ws = connect(&s, "alice", None).await;
    let client = reqwest::Client::new();
    let health = client.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    send_text(&s, "bob", "alice", "no delay").await;
    assert_eq!(next_texts(&mut ws).await.1, ["no delay"]);
    let accepted = nodelay_of_accepted_sockets(s.addr.port());
    assert!(accepted.len() >= 2, "the service's side of both connections is found: {accepted:?}");
    assert!(accepted.iter().all(|on| *on), "small replies and events are not held back: {accepted:?}");
}
