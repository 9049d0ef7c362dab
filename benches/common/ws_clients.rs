//! WebSocket clients for the network bench: one socket per user, each with a writer task fed
//! by a queue and a reader task that counts what comes back (replies, and messages delivered in events).
//! The same clients drive the raw relay and `timsg serve`, so the client side costs both alike.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::StreamExt;
use timsg::load::ws_caller::spawn_frame_writer;
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::tungstenite::Message;

/// What the readers have counted, and how many of each a burst waits for (cumulative).
#[derive(Default)]
struct Counts {
    replies: AtomicU64,
    deliveries: AtomicU64,
    /// Replies whose code was not 0.
    failed: AtomicU64,
    want_replies: AtomicU64,
    want_deliveries: AtomicU64,
    reached: Notify,
}

impl Counts {
    /// Whether every reply and delivery waited for has come.
    fn all_in(&self) -> bool {
        self.replies.load(Ordering::Acquire) >= self.want_replies.load(Ordering::Acquire)
            && self.deliveries.load(Ordering::Acquire) >= self.want_deliveries.load(Ordering::Acquire)
    }

    fn check(&self) {
        if self.all_in() {
            self.reached.notify_one();
        }
    }
}

pub struct WsClients {
    writers: Vec<mpsc::Sender<String>>,
    counts: Arc<Counts>,
}

impl WsClients {
    /// Opens one socket per URL (user `i` at `urls[i]`).
    pub async fn connect(urls: &[String]) -> WsClients {
        let counts = Arc::new(Counts::default());
        let mut writers = Vec::with_capacity(urls.len());
        for url in urls {
            // Nagle off, as on the service's side: frames are small, and Nagle would hold each
            // behind the previous one's ACK.
            let (socket, _) = tokio_tungstenite::connect_async_with_config(url.as_str(), None, true).await.unwrap();
            let (sink, mut frames) = socket.split();
            let tx = spawn_frame_writer(sink, std::future::pending());
            let counts = counts.clone();
            tokio::spawn(async move {
                while let Some(Ok(frame)) = frames.next().await {
                    let Message::Text(text) = frame else { continue };
                    if text.starts_with(r#"{"reply""#) {
                        if !text.contains(r#""code":0,"#) {
                            counts.failed.fetch_add(1, Ordering::Relaxed);
                        }
                        counts.replies.fetch_add(1, Ordering::AcqRel);
                    } else if text.contains(r#""event":"RecvNewMsg""#) {
                        // One event may carry several messages (those committed together).
                        let messages = text.matches(r#""message_elem_array""#).count();
                        counts.deliveries.fetch_add(messages as u64, Ordering::AcqRel);
                    } else {
                        continue;
                    }
                    counts.check();
                }
            });
            writers.push(tx);
        }
        WsClients { writers, counts }
    }

    /// Sends every frame of `frames` (user index, text) and waits until each has its reply
    /// and `deliveries` more message events have arrived. Panics if any reply was a failure,
    /// so a bench cannot measure refusals as throughput.
    pub async fn burst(&self, frames: Vec<(usize, String)>, deliveries: u64) {
        self.counts.want_replies.fetch_add(frames.len() as u64, Ordering::AcqRel);
        self.counts.want_deliveries.fetch_add(deliveries, Ordering::AcqRel);
        for (user, text) in frames {
            self.writers[user].send(text).await.unwrap();
        }
        loop {
            let reached = self.counts.reached.notified();
            self.counts.check();
            reached.await;
            if self.counts.all_in() {
                break;
            }
        }
        assert_eq!(self.counts.failed.load(Ordering::Relaxed), 0, "some calls were refused");
    }
}
