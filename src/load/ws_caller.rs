//! Calls over a user's WebSocket (`timsg load --via ws --calls ws`): each call is a frame with
//! an id, its reply comes back on the same socket matched by that id, so many calls are in
//! flight on one connection (see `service::ws_calls`). The socket's frames are written by one
//! task fed by a queue ([`spawn_frame_writer`]), the load's, its relay baseline's and the
//! network bench's alike.

// foldhash: keyed by the caller's own call numbers, looked up once per reply.
use foldhash::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::SinkExt;
use parking_lot::Mutex;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

/// A socket's sending half.
pub type SocketSink = futures_util::stream::SplitSink<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    Message,
>;

/// Starts the task that writes `sink`'s frames and returns its queue: each queued text is
/// written as a frame, and the socket is closed once every sender of the queue is gone or as
/// soon as `stop` completes (`std::future::pending()` for never).
pub fn spawn_frame_writer(
    mut sink: SocketSink,
    stop: impl Future<Output = ()> + Send + 'static,
) -> mpsc::Sender<String> {
    let (out, mut outgoing) = mpsc::channel::<String>(1024);
    tokio::spawn(async move {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                frame = outgoing.recv() => match frame {
                    Some(text) => {
                        if sink.send(Message::Text(text.into())).await.is_err() {
                            return;
                        }
                    }
                    None => break,
                },
                () = &mut stop => break,
            }
        }
        let _ = sink.close().await;
    });
    out
}

/// The sending half of one user's socket, and the calls waiting for their replies.
pub struct WsCaller {
    out: mpsc::Sender<String>,
    /// Calls waiting for a reply; `None` once the socket's reader has ended, so no call waits
    /// for a reply that cannot come.
    pending: Mutex<Option<HashMap<u64, oneshot::Sender<Value>>>>,
    next_id: AtomicU64,
}

impl WsCaller {
    /// A caller whose frames go to `out` (the socket's writer).
    pub fn new(out: mpsc::Sender<String>) -> WsCaller {
        WsCaller { out, pending: Mutex::new(Some(HashMap::default())), next_id: AtomicU64::new(1) }
    }

    /// Sends `api` with `body` (`{"conv_id", "conv_type", "param", …}`) and waits for the reply
    /// frame `{reply, code, desc, json_params}`.
    pub async fn call(&self, api: &str, mut body: Value) -> Result<Value, String> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        match self.pending.lock().as_mut() {
            Some(pending) => pending.insert(id, tx),
            None => return Err(format!("{api}: the socket is closed")),
        };
        if let Some(fields) = body.as_object_mut() {
            fields.insert("id".into(), id.into());
            fields.insert("api".into(), api.into());
        }
        if self.out.send(body.to_string()).await.is_err() {
            self.pending.lock().as_mut().and_then(|p| p.remove(&id));
            return Err(format!("{api}: the socket is closed"));
        }
        rx.await.map_err(|_| format!("{api}: the socket closed before the reply"))
    }

    /// Hands a reply frame to the call waiting for it; returns false if it is not a reply.
    pub fn deliver(&self, frame: Value) -> bool {
        let Some(id) = frame.get("reply") else { return false };
        if let Some(tx) = id.as_u64().and_then(|id| self.pending.lock().as_mut()?.remove(&id)) {
            let _ = tx.send(frame);
        }
        true
    }

    /// Whether the socket's reader has ended (calls fail at once).
    pub fn is_closed(&self) -> bool {
        self.pending.lock().is_none()
    }

    /// The socket's reader has ended: calls waiting now fail, and later ones fail at once.
    pub fn close(&self) {
        self.pending.lock().take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn a_reply_reaches_the_call_with_its_id() {
        let (out, mut frames) = mpsc::channel(4);
        let caller = std::sync::Arc::new(WsCaller::new(out));
        let c = caller.clone();
        let call = tokio::spawn(async move { c.call("TIMMsgGetMsgList", json!({"conv_id": "bob"})).await });
        let sent: Value = serde_json::from_str(&frames.recv().await.unwrap()).unwrap();
        assert_eq!((sent["api"].as_str(), sent["conv_id"].as_str()), (Some("TIMMsgGetMsgList"), Some("bob")));
        assert!(!caller.deliver(json!({"event": "RecvNewMsg"})), "events are not replies");
        assert!(caller.deliver(json!({"reply": sent["id"], "code": 0})));
        assert_eq!(call.await.unwrap().unwrap()["code"], 0);
    }

    #[tokio::test]
    async fn calls_fail_instead_of_waiting_when_the_socket_closes() {
        let (out, mut frames) = mpsc::channel(4);
        let caller = std::sync::Arc::new(WsCaller::new(out));
        let c = caller.clone();
        let waiting = tokio::spawn(async move { c.call("TIMMsgGetMsgList", json!({})).await });
        frames.recv().await.unwrap();
        caller.close();
        assert!(waiting.await.unwrap().is_err(), "the call in flight fails");
        assert!(caller.call("TIMMsgGetMsgList", json!({})).await.is_err(), "so does a later one");
    }
}
