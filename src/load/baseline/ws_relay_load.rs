//! Drives the bare relay the way `timsg load --via ws` drives `timsg serve`: one WebSocket per
//! user, calls as frames matched to their replies by id ([`WsCaller`]), a closed loop of
//! workers each sending a text message to another user at random as soon as its last call is
//! answered. The partner's event frame is read and dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::ws_relay::RawWsRelay;
use crate::load::ws_caller::{WsCaller, spawn_frame_writer};

/// Opens user `user`'s socket to the relay and returns its caller; the socket's tasks end when
/// the relay closes it or the caller is dropped.
async fn open(relay: &RawWsRelay, user: usize) -> Result<Arc<WsCaller>, String> {
    // Nagle off, as the load generator has it with the service.
    let (socket, _) = tokio_tungstenite::connect_async_with_config(relay.url(&format!("u{user}")), None, true)
        .await
        .map_err(|e| format!("relay: {e}"))?;
    let (sink, mut frames) = socket.split();
    let caller = Arc::new(WsCaller::new(spawn_frame_writer(sink, std::future::pending())));
    let reader = caller.clone();
    tokio::spawn(async move {
        while let Some(Ok(frame)) = frames.next().await {
            if let Message::Text(text) = frame
                && text.starts_with(r#"{"reply""#)
                && let Ok(reply) = serde_json::from_str::<Value>(&text)
            {
                reader.deliver(reply);
            }
        }
        reader.close();
    });
    Ok(caller)
}

/// Sends `n` messages over `users` sockets, `in_flight` at a time; returns how long they took.
pub async fn closed_loop(relay: &RawWsRelay, users: usize, n: u64, in_flight: usize) -> Result<Duration, String> {
    let users = users.max(2);
    let mut callers = Vec::with_capacity(users);
    for user in 0..users {
        callers.push(open(relay, user).await?);
    }
    let callers = Arc::new(callers);
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..in_flight.max(1))
        .map(|w| {
            let (callers, issued) = (callers.clone(), issued.clone());
            tokio::spawn(async move {
                let mut rng = fastrand::Rng::with_seed(w as u64);
                while issued.fetch_add(1, Ordering::Relaxed) < n {
                    let from = rng.usize(..users);
                    let to = (from + 1 + rng.usize(..users - 1)) % users;
                    let body = json!({
                        "conv_id": format!("u{to}"),
                        "conv_type": 1,
                        "param": {"message_elem_array": [{"elem_type": 0, "text_elem_content": "load text message"}]},
                    });
                    callers[from].call("TIMMsgSendMessage", body).await?;
                }
                Ok::<(), String>(())
            })
        })
        .collect();
    for w in workers {
        w.await.map_err(|e| e.to_string())??;
    }
    let took = started.elapsed();
    for caller in callers.iter() {
        caller.close();
    }
    Ok(took)
}
