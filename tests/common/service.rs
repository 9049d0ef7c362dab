//! A real `timsg serve` on 127.0.0.1:0 for end-to-end tests, with the helpers that call it
//! over HTTP and WebSocket as a user would (UserSigs made with the test key).

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_web::web;
use futures_util::StreamExt;
use serde_json::{Value, json};
use timsg::auth::usersig::generate;
use timsg::service::{self, ServiceConfig, ServiceState};
use tokio_tungstenite::tungstenite::Message as WsMessage;

pub const KEY: &str = "test-secret";
pub const APP: u64 = 1_400_000_000;

pub struct TestService {
    pub addr: SocketAddr,
    /// The service's state, to look inside (sessions, the runtime) while it runs.
    pub state: web::Data<ServiceState>,
    pub dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestService {
    pub fn start() -> TestService {
        TestService::start_with(|_| {})
    }

    pub fn start_with(tweak: impl FnOnce(&mut ServiceConfig)) -> TestService {
        let dir = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = ServiceConfig::with_defaults(dir.path().to_path_buf(), KEY.into());
        config.durability = timsg::Durability::Os;
        tweak(&mut config);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (state_tx, state_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let running = service::start(config, listener).unwrap();
                let _ = state_tx.send(running.state.clone());
                running
                    .run(async move {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            })
        });
        let state = state_rx.recv().expect("the service starts");
        TestService { addr, state, dir, stop: Some(stop), thread: Some(thread) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn ws_url(&self, user: &str, cursor: Option<u64>) -> String {
        let c = cursor.map(|c| format!("&cursor={c}")).unwrap_or_default();
        format!("ws://{}/v1/events?user={user}&usersig={}{c}", self.addr, sig(user))
    }

    pub fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for TestService {
    fn drop(&mut self) {
        self.shutdown();
    }
}

pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

pub fn sig(user: &str) -> String {
    generate(APP, KEY, user, 3600, now())
}

pub async fn post_as(s: &TestService, api: &str, headers: &[(&str, String)], body: Value) -> (u16, Value) {
    let mut req = reqwest::Client::new().post(s.url(&format!("/v1/{api}"))).body(body.to_string());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, json_of(resp).await)
}

pub async fn json_of(resp: reqwest::Response) -> Value {
    serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap()
}

pub async fn post(s: &TestService, user: &str, api: &str, body: Value) -> (u16, Value) {
    post_as(s, api, &[("X-TIM-User", user.into()), ("X-TIM-UserSig", sig(user))], body).await
}

pub async fn send_text(s: &TestService, from: &str, to: &str, text: &str) -> Value {
    let (status, r) = post(
        s,
        from,
        "TIMMsgSendMessage",
        json!({"conv_id": to, "conv_type": 1, "param": {"message_elem_array": [{"elem_type": 0, "text_elem_content": text}]}}),
    )
    .await;
    assert_eq!((status, &r["code"]), (200, &json!(0)), "{r}");
    r["json_params"].clone()
}

pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn connect(s: &TestService, user: &str, cursor: Option<u64>) -> Ws {
    tokio_tungstenite::connect_async(s.ws_url(user, cursor)).await.expect("websocket connects").0
}

/// The next event frame.
pub async fn next_event(ws: &mut Ws) -> Value {
    loop {
        let frame =
            tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("an event arrives").unwrap().unwrap();
        if let WsMessage::Text(t) = frame {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

/// The next new-message event's texts.
pub async fn next_texts(ws: &mut Ws) -> (u64, Vec<String>) {
    loop {
        let e = next_event(ws).await;
        if e["event"] == "RecvNewMsg" {
            let texts = e["json"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["message_elem_array"][0]["text_elem_content"].as_str().unwrap_or("").to_string())
                .collect();
            return (e["cursor"].as_u64().unwrap(), texts);
        }
    }
}

/// `POST /v4/<command>` as the admin (or `identifier`), with its UserSig in the query string.
pub async fn rest(s: &TestService, command: &str, query: &str, body: &str) -> (u16, Value) {
    let url = s.url(&format!("/v4/{command}?{query}&random=99&contenttype=json"));
    let resp = reqwest::Client::new().post(url).body(body.to_string()).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, json_of(resp).await)
}

pub fn admin_query() -> String {
    format!("sdkappid={APP}&identifier=administrator&usersig={}", sig("administrator"))
}

/// A REST v4 command as the admin, answered with HTTP 200 (as every REST answer is).
pub async fn admin(s: &TestService, command: &str, body: Value) -> Value {
    let (status, r) = rest(s, command, &admin_query(), &body.to_string()).await;
    assert_eq!(status, 200, "{r}");
    r
}
