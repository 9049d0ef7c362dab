//! The service's trust boundary, attacked over real HTTP and WebSocket by a user holding only a
//! valid UserSig of their own, against `timsg serve` on 127.0.0.1:0. Each attack is refused
//! with a TIM code, and nothing on disk outside the data directory is read or changed.

mod common;

use std::time::{Duration, Instant};

use common::http_server::TestServer;
use common::service::*;
use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;

fn send_body(to: &str, elem: Value) -> Value {
    json!({"conv_id": to, "conv_type": 1, "param": {"message_elem_array": [elem]}})
}

fn download_body(url: &str, path: &str) -> Value {
    json!({"param": {"msg_download_elem_param_type": 2, "msg_download_elem_param_id": "", "msg_download_elem_param_business_id": 0, "msg_download_elem_param_url": url}, "path": path})
}

/// Every blob file in the data directory.
fn blob_count(s: &TestService) -> usize {
    fn walk(p: &std::path::Path) -> usize {
        std::fs::read_dir(p)
            .map(|d| {
                d.flatten()
                    .map(|e| if e.path().is_dir() { walk(&e.path()) } else { usize::from(e.file_name().len() == 64) })
                    .sum()
            })
            .unwrap_or(0)
    }
    walk(&s.dir.path().join("blobs"))
}

async fn put_blob(s: &TestService, user: &str, bytes: Vec<u8>) -> reqwest::Response {
    reqwest::Client::new()
        .put(s.url("/v1/blobs"))
        .header("X-TIM-User", user)
        .header("X-TIM-UserSig", sig(user))
        .body(bytes)
        .send()
        .await
        .unwrap()
}

/// A `PUT /v1/blobs` with a chunked body (no declared length) of `chunks` × `size` bytes; the
/// status line's code.
async fn put_chunked(s: &TestService, user: &str, chunks: usize, size: usize) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "PUT /v1/blobs HTTP/1.1\r\nHost: x\r\nX-TIM-User: {user}\r\nX-TIM-UserSig: {}\r\nTransfer-Encoding: chunked\r\n\r\n",
        sig(user)
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..chunks {
        let chunk = format!("{size:x}\r\n{}\r\n", "a".repeat(size));
        if conn.write_all(chunk.as_bytes()).await.is_err() {
            break; // the server answered and closed early
        }
    }
    let _ = conn.write_all(b"0\r\n\r\n").await;
    let mut answer = vec![0u8; 12];
    conn.read_exact(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer[9..12]).parse().unwrap()
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_user_reads_no_server_file_through_a_send() {
    let s = TestService::start();
    let secret = s.dir.path().join("secret.key");
    std::fs::write(&secret, KEY).unwrap();
    let outside = tempfile::tempdir().unwrap();
    let png = outside.path().join("photo.png");
    image::RgbImage::new(8, 8).save(&png).unwrap();
    let before = blob_count(&s);
    for path in ["/etc/passwd", secret.to_str().unwrap(), png.to_str().unwrap()] {
        for elem in [
            json!({"elem_type": 4, "file_elem_file_path": path}),
            json!({"elem_type": 1, "image_elem_orig_path": path}),
            json!({"elem_type": 2, "sound_elem_file_path": path}),
            json!({"elem_type": 9, "video_elem_video_path": path}),
        ] {
            let (status, r) = post(&s, "mallory", "TIMMsgSendMessage", send_body("bob", elem.clone())).await;
            assert_eq!((status, r["code"].as_i64()), (200, Some(7014)), "{elem}: {r}");
            assert!(r["desc"].as_str().unwrap().contains("PUT /v1/blobs"), "{r}");
        }
        // The same through a batch send and through a call frame on the WebSocket.
        let batch = json!({"param": {"msg_batch_send_param_identifier_array": ["bob"], "msg_batch_send_param_msg": {"message_elem_array": [{"elem_type": 4, "file_elem_file_path": path}]}}});
        let (_, r) = post(&s, "mallory", "TIMMsgBatchSend", batch).await;
        assert_eq!(r["code"], 7014, "{r}");
    }
    let mut ws = connect(&s, "mallory", None).await;
    let frame = json!({"id": "f", "api": "TIMMsgSendMessage", "conv_id": "bob", "conv_type": 1, "param": {"message_elem_array": [{"elem_type": 4, "file_elem_file_path": "/etc/passwd"}]}});
    ws.send(WsMessage::text(frame.to_string())).await.unwrap();
    let reply = loop {
        let e = next_event(&mut ws).await;
        if e["reply"] == "f" {
            break e;
        }
    };
    assert_eq!(reply["code"], 7014, "{reply}");
    assert_eq!(blob_count(&s), before, "no server file became a blob");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_user_writes_no_file_outside_their_folder() {
    let s = TestService::start();
    let (_, stored) = {
        let r = put_blob(&s, "mallory", b"attacker bytes".to_vec()).await;
        (r.status(), json_of(r).await)
    };
    let url = stored["url"].as_str().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.txt");
    std::fs::write(&victim, b"precious").unwrap();
    let data_dir = s.dir.path().to_str().unwrap().to_string();
    for path in [
        victim.to_str().unwrap().to_string(),
        format!("{data_dir}/secret.key"),
        format!("{data_dir}/../x"),
        "../x".into(),
        "../../etc/cron.d/x".into(),
        "a/../../x".into(),
        "".into(),
    ] {
        let (_, r) = post(&s, "mallory", "TIMMsgDownloadElemToPath", download_body(url, &path)).await;
        assert!(matches!(r["code"].as_i64(), Some(7014) | Some(-4)), "{path:?}: {r}");
    }
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert!(!s.dir.path().join("secret.key").exists());
    assert!(!s.dir.path().parent().unwrap().join("x").exists());
    // A link planted in the user's folder (as if by another process) is not followed either.
    let folder = timsg::access::user_files::user_folder(&s.dir.path().join("files"), "mallory");
    std::fs::create_dir_all(&folder).unwrap();
    std::os::unix::fs::symlink(&victim, folder.join("link")).unwrap();
    let (_, r) = post(&s, "mallory", "TIMMsgDownloadElemToPath", download_body(url, "link")).await;
    assert_eq!(r["code"], 7014, "{r}");
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    // Inside the folder it works, and the user reads it back.
    let (_, r) = post(&s, "mallory", "TIMMsgDownloadElemToPath", download_body(url, "in/mine.bin")).await;
    assert_eq!(r["code"], 0, "{r}");
    let back = reqwest::Client::new()
        .get(s.url("/v1/files/in/mine.bin"))
        .header("X-TIM-User", "mallory")
        .header("X-TIM-UserSig", sig("mallory"))
        .send()
        .await
        .unwrap();
    assert_eq!(back.bytes().await.unwrap().as_ref(), b"attacker bytes");
    for path in ["/v1/files/link", "/v1/files/..%2f..%2fsecret.key", "/v1/files/%2fetc%2fpasswd"] {
        let r = reqwest::Client::new()
            .get(s.url(path))
            .header("X-TIM-User", "mallory")
            .header("X-TIM-UserSig", sig("mallory"))
            .send()
            .await
            .unwrap();
        assert!(r.status() == 403 || r.status() == 404, "{path}: {}", r.status());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_fetches_no_url_a_remote_user_names() {
    let target = TestServer::start();
    target.add_file("/internal", b"internal admin page".to_vec());
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let open_port = target.addr.port();
    // Even with loopback names and addresses on the allow-list, only public addresses are dialled.
    let s = TestService::start_with(|c| c.fetch_allow = vec!["localhost".into(), "127.0.0.1".into()]);
    let none = TestService::start();
    let mut answers = Vec::new();
    for (service, url) in [
        (&none, format!("http://127.0.0.1:{open_port}/internal")),
        (&none, format!("http://127.0.0.1:{closed}/internal")),
        (&none, "http://169.254.169.254/latest/meta-data/".into()),
        (&none, "file:///etc/passwd".into()),
        (&s, format!("http://127.0.0.1:{open_port}/internal")),
        (&s, format!("http://[::ffff:127.0.0.1]:{open_port}/internal")),
        (&s, format!("http://localhost:{open_port}/internal")),
        (&s, format!("http://localhost:{closed}/internal")),
    ] {
        let (_, r) = post(service, "mallory", "TIMMsgDownloadElemToPath", download_body(&url, "got.bin")).await;
        answers.push((url.clone(), r["code"].as_i64().unwrap(), r["desc"].as_str().unwrap().to_string()));
    }
    for (url, code, desc) in &answers {
        assert_ne!(*code, 0, "{url} was fetched");
        assert!(!desc.contains("refused") || desc.contains("public"), "{url}: {desc}");
    }
    // Open and closed ports answer alike: no port scanner.
    let code_of = |i: usize| answers[i].1;
    assert_eq!(code_of(0), code_of(1));
    assert_eq!(code_of(6), code_of(7), "{:?} vs {:?}", answers[6], answers[7]);
    assert_eq!(target.state.requests.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing reached the target");
    assert!(!timsg::access::user_files::user_folder(&s.dir.path().join("files"), "mallory").join("got.bin").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_are_read_only_with_the_url_their_upload_or_a_message_gave() {
    let s = TestService::start();
    let put = put_blob(&s, "alice", b"alice's private scan".to_vec()).await;
    assert_eq!(put.status(), 201);
    let stored: Value = json_of(put).await;
    let (hash, url) = (stored["hash"].as_str().unwrap(), stored["url"].as_str().unwrap());
    let get = |path: String, user: &'static str| {
        reqwest::Client::new().get(path).header("X-TIM-User", user).header("X-TIM-UserSig", sig(user)).send()
    };
    assert_eq!(get(s.url(&format!("/v1/blobs/{hash}")), "mallory").await.unwrap().status(), 403);
    assert_eq!(
        get(format!("{}?sig={}", s.url(&format!("/v1/blobs/{hash}")), "0".repeat(32)), "mallory")
            .await
            .unwrap()
            .status(),
        403
    );
    // Naming it in a send or a download by hash alone gets nothing either.
    let (_, r) = post(
        &s,
        "mallory",
        "TIMMsgSendMessage",
        send_body("mallory2", json!({"elem_type": 4, "file_elem_file_path": s.url(&format!("/v1/blobs/{hash}"))})),
    )
    .await;
    assert_eq!(r["code"], 7014, "{r}");
    let (_, r) = post(&s, "mallory", "TIMMsgDownloadElemToPath", json!({"param": {"msg_download_elem_param_type": 2, "msg_download_elem_param_id": hash, "msg_download_elem_param_business_id": 0, "msg_download_elem_param_url": ""}, "path": "x"})).await;
    assert_eq!(r["code"], 7014, "{r}");
    let merged = json!({"param": {"message_elem_array": [{"elem_type": 12, "merge_elem_title": "t", "merge_elem_abstract_array": [], "merge_elem_compatible_text": "", "merge_elem_relay_json_key": format!("{hash}-1")}]}});
    let (_, r) = post(&s, "mallory", "TIMMsgDownloadMergerMessage", merged).await;
    assert_ne!(r["code"], 0, "{r}");
    assert!(!r.to_string().contains("private scan"));
    // The uploader reads it; so does whoever receives a message carrying it.
    assert_eq!(get(url.to_string(), "alice").await.unwrap().status(), 200);
    let (_, sent) =
        post(&s, "alice", "TIMMsgSendMessage", send_body("bob", json!({"elem_type": 4, "file_elem_file_path": url})))
            .await;
    assert_eq!(sent["code"], 0, "{sent}");
    let carried = sent["json_params"]["message_elem_array"][0]["file_elem_url"].as_str().unwrap().to_string();
    let bob = get(carried, "bob").await.unwrap();
    assert_eq!(bob.bytes().await.unwrap().as_ref(), b"alice's private scan");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_streamed_bounded_and_counted_against_a_daily_allowance() {
    let s = TestService::start_with(|c| {
        c.max_blob_bytes = 64 * 1024;
        c.limits.blob_bytes_per_day = 100 * 1024;
    });
    let tmp = s.dir.path().join("blobs").join("tmp");
    let r = put_blob(&s, "mallory", vec![7u8; 64 * 1024 + 1]).await;
    assert_eq!(r.status(), 413);
    assert_eq!(json_of(r).await["code"], 9522);
    // Without a declared length the body is counted as it streams, and cut off.
    assert_eq!(put_chunked(&s, "mallory", 40, 4096).await, 413);
    assert_eq!(put_blob(&s, "mallory", vec![1u8; 60 * 1024]).await.status(), 201);
    let over = put_blob(&s, "mallory", vec![2u8; 60 * 1024]).await;
    assert_eq!(over.status(), 429);
    assert_eq!(json_of(over).await["code"], 7005);
    assert_eq!(put_blob(&s, "alice", vec![2u8; 60 * 1024]).await.status(), 201, "allowances are per user");
    wait_until("no temp file is left", || std::fs::read_dir(&tmp).map(|d| d.count() == 0).unwrap_or(true)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_cannot_join_a_work_group_over_the_service() {
    let s = TestService::start();
    let create = json!({"param": {"create_group_param_group_id": "board", "create_group_param_group_type": 1, "create_group_param_group_name": "Board", "create_group_param_group_member_array": []}});
    let (_, r) = post(&s, "ceo", "TIMGroupCreate", create).await;
    assert_eq!(r["code"], 0, "{r}");
    let (_, r) = post(&s, "mallory", "TIMGroupJoin", json!({"conv_id": "board"})).await;
    assert_eq!(r["code"], 10007, "{r}");
    let (_, r) = post(
        &s,
        "mallory",
        "TIMMsgGetMsgList",
        json!({"conv_id": "board", "conv_type": 2, "param": {"msg_getmsglist_param_count": 10}}),
    )
    .await;
    assert_eq!(r["code"], 10007, "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_conversations_and_groups_is_limited_per_user() {
    let s = TestService::start_with(|c| {
        c.limits.new_conversations_per_minute = 3;
        c.limits.new_groups_per_minute = 1;
        c.image_max_pixels = 100;
    });
    for peer in ["p1", "p2", "p3"] {
        send_text(&s, "mallory", peer, "hi").await;
    }
    let (_, r) =
        post(&s, "mallory", "TIMMsgSendMessage", send_body("p4", json!({"elem_type": 0, "text_elem_content": "hi"})))
            .await;
    assert_eq!(r["code"], 7008, "{r}");
    send_text(&s, "mallory", "p1", "an existing conversation is not new").await;
    send_text(&s, "alice", "p4", "another user has their own allowance").await;
    let batch = json!({"param": {"msg_batch_send_param_identifier_array": ["q1", "q2"], "msg_batch_send_param_msg": {"message_elem_array": [{"elem_type": 0, "text_elem_content": "x"}]}}});
    assert_eq!(post(&s, "mallory", "TIMMsgBatchSend", batch).await.1["code"], 7008);
    let group = |id: &str| json!({"param": {"create_group_param_group_id": id, "create_group_param_group_type": 2, "create_group_param_group_name": "g", "create_group_param_group_member_array": []}});
    assert_eq!(post(&s, "mallory", "TIMGroupCreate", group("g1")).await.1["code"], 0);
    assert_eq!(post(&s, "mallory", "TIMGroupCreate", group("g2")).await.1["code"], 7008);
    // An image is measured from its header and refused above the pixel bound, undecoded.
    let mut png = std::io::Cursor::new(Vec::new());
    image::RgbImage::new(20, 20).write_to(&mut png, image::ImageFormat::Png).unwrap();
    let stored: Value = json_of(put_blob(&s, "mallory", png.into_inner()).await).await;
    let (_, r) = post(
        &s,
        "mallory",
        "TIMMsgSendMessage",
        send_body("p1", json!({"elem_type": 1, "image_elem_orig_path": stored["url"]})),
    )
    .await;
    assert_eq!(r["code"], 7005, "{r}");
    assert!(r["desc"].as_str().unwrap().contains("20 x 20"), "{r}");
    let metrics = reqwest::get(s.url("/metrics")).await.unwrap().text().await.unwrap();
    for limit in ["new_conversations", "new_groups", "image_pixels"] {
        assert!(metrics.contains(&format!("timsg_limits_refused_total{{limit=\"{limit}\"}}")), "{limit}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_end_and_the_next_login_catches_up() {
    let s = TestService::start_with(|c| c.session_idle = Duration::from_millis(300));
    send_text(&s, "alice", "bob", "first").await;
    let ws = connect(&s, "carol", None).await;
    wait_until("alice and bob are logged out", || s.state.logged_in() == 1).await;
    // carol's open socket keeps her in, past the idle time.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(s.state.logged_in(), 1);
    drop(ws);
    wait_until("carol is logged out", || s.state.logged_in() == 0).await;
    // bob was away: what came meanwhile reaches him when he is back.
    send_text(&s, "alice", "bob", "while you were away").await;
    let mut bob = connect(&s, "bob", None).await;
    let texts = next_texts(&mut bob).await.1;
    assert!(texts.contains(&"while you were away".to_string()), "{texts:?}");
}
