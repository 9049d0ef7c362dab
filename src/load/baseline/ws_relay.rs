//! The network baseline (of the network bench and of `timsg load --via ws`): a bare actix-web
//! WebSocket relay on the same stack as
//! `timsg serve` (actix-web, actix-ws, two workers, Nagle off) that does the least a message
//! service must do per message, and nothing else: parse the call frame (serde_json), answer the
//! caller with the message, and hand the message to the receiver's socket as an event frame.
//! No sign-in, no store, no sequence numbers, no receive options.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use actix_ws::Message;
use dashmap::DashMap;
use serde_json::Value;
use tokio::sync::mpsc;

/// Each connected user's outgoing queue, by user name.
type Peers = Arc<DashMap<String, mpsc::UnboundedSender<String>>>;

pub struct RawWsRelay {
    pub addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RawWsRelay {
    /// Starts the relay on a port of its own on 127.0.0.1, in a thread of its own.
    pub fn start() -> Result<RawWsRelay, String> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("relay: {e}"))?;
        let addr = listener.local_addr().map_err(|e| format!("relay: {e}"))?;
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("raw-ws-relay".into())
            .spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let peers: Peers = Arc::new(DashMap::new());
                    let cursor = web::Data::new(AtomicU64::new(0));
                    let server = HttpServer::new(move || {
                        App::new()
                            .app_data(web::Data::new(peers.clone()))
                            .app_data(cursor.clone())
                            .route("/ws", web::get().to(connect))
                    })
                    .workers(2)
                    .tcp_nodelay(true)
                    .disable_signals()
                    .listen(listener)
                    .map(|s| s.run());
                    match server {
                        Ok(server) => {
                            let _ = handle_tx.send(Ok(server.handle()));
                            let _ = server.await;
                        }
                        Err(e) => drop(handle_tx.send(Err(format!("relay: {e}")))),
                    }
                })
            })
            .map_err(|e| format!("relay: {e}"))?;
        let handle = handle_rx.recv().map_err(|_| "the relay did not start".to_string())??;
        Ok(RawWsRelay { addr, handle, thread: Some(thread) })
    }

    /// The WebSocket URL of user `user`.
    pub fn url(&self, user: &str) -> String {
        format!("ws://{}/ws?user={user}", self.addr)
    }

    pub fn stop(mut self) {
        let handle = self.handle.clone();
        let _ = std::thread::spawn(move || actix_web::rt::System::new().block_on(handle.stop(false))).join();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn connect(
    req: HttpRequest,
    stream: web::Payload,
    peers: web::Data<Peers>,
    cursor: web::Data<AtomicU64>,
) -> HttpResponse {
    let user = req.query_string().strip_prefix("user=").unwrap_or_default().to_string();
    let (response, mut session, mut frames) = match actix_ws::handle(&req, stream) {
        Ok(x) => x,
        Err(e) => return HttpResponse::from_error(e),
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    peers.insert(user.clone(), tx);
    let peers = peers.get_ref().clone();
    actix_web::rt::spawn(async move {
        loop {
            tokio::select! {
                out = rx.recv() => match out {
                    Some(text) => if session.text(text).await.is_err() { break },
                    None => break,
                },
                frame = frames.recv() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        let Ok(mut call) = serde_json::from_str::<Value>(&text) else { break };
                        let message = call["param"].take().to_string();
                        let reply = format!(r#"{{"reply":{},"code":0,"desc":"","json_params":{message}}}"#, call["id"]);
                        if let Some(to) = call["conv_id"].as_str().and_then(|to| peers.get(to)) {
                            let n = cursor.fetch_add(1, Ordering::Relaxed);
                            let _ = to.send(format!(r#"{{"cursor":{n},"event":"RecvNewMsg","json":[{message}]}}"#));
                        }
                        if session.text(reply).await.is_err() {
                            break;
                        }
                    }
                    Some(Ok(Message::Ping(b))) => if session.pong(&b).await.is_err() { break },
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break,
                },
            }
        }
        peers.remove(&user);
        let _ = session.close(None).await;
    });
    response
}
