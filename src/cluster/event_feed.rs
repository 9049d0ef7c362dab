//! Cluster mode: a user's events come from the events stream (see
//! `timsg_actors::cluster::user_events`), not from this node's hub — the node that owns a
//! conversation may be any node, and a client may reconnect to any node. The service's
//! WebSockets and a C ABI node's listeners are fed from here. The cursor is the
//! event's sequence in the stream, so a client that reconnects anywhere with its last cursor
//! gets every event after it (as long as the stream keeps them), then the live feed, nothing
//! twice: live events are subscribed to before the stream is read back, and whatever the
//! read-back already gave is skipped. A live event whose previous sequence was not seen (core
//! NATS lost messages across a reconnect) has the missing ones read back first.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use timsg_actors::cluster::{ClusterNode, UserEvent};
use timsg_actors::engine::Engine;
use timsg_actors::events::Event;
use tokio::sync::mpsc;

use crate::error::{TimError, code};
use crate::events::{EventText, Listener, event_text, to_listener_json};

/// What a client is sent when events after its cursor are no longer kept.
pub const GAP_FRAME: &str = r#"{"event":"Gap","json":"events after the cursor were dropped from the log"}"#;

/// How long after the cluster connection came back a feed reads the stream back.
const RECHECK_AFTER_RECONNECT: Duration = Duration::from_secs(1);

/// A client's events: what it is owed at once, then the live feed, in order.
pub struct EventFeed {
    pub replay: Vec<(u64, EventText)>,
    pub live: mpsc::Receiver<(u64, EventText)>,
    /// Set when the feed stopped because the client did not keep up.
    pub slow: Arc<AtomicBool>,
}

/// Subscribes a client of `user` that last saw `after` (or nothing) to its events. A client
/// with no cursor gets every event stored from now on: the user's last sequence is read before
/// this returns (so before the client hears it is connected), and the feed reads back from
/// there once its live subscription stands — interest in a subject reaches the other servers
/// of a NATS cluster some time after it is made, and nothing stored in between may be missed.
///
/// A client with no cursor is logging in: it first gets what it has not read, gathered from
/// every node (one `RecvNewMsg` per conversation, with the cursor it starts from), and a
/// message among those that the feed meets again (stored between the two reads) is not sent
/// twice.
pub async fn subscribe(engine: &Engine, user: &str, after: Option<u64>, buffer: usize) -> Result<EventFeed, TimError> {
    let cluster = engine.cluster().expect("cluster mode");
    let unavailable = |e: String| TimError::new(code::ERR_DATABASE_OPERATE_FAILED, e);
    let mut replay = Vec::new();
    let mut already_sent = foldhash::HashSet::default();
    let after = match after {
        Some(c) => c,
        None => {
            let (node, who) = (cluster.clone(), user.to_string());
            let last = async move { node.cluster.events.last_sequence(&who).await };
            let last = cluster.spawn(last).await.map_err(|e| unavailable(e.to_string()))?.map_err(unavailable)?;
            let unread = engine.unread_everywhere(&user.into()).await.map_err(TimError::from)?;
            for (_, messages) in unread {
                already_sent.extend(messages.iter().map(|m| m.message.id.to_string()));
                let (listener, body) = to_listener_json(&Event::NewMessages { messages, notify: true });
                replay.push((last, event_text(last, listener.name(), &body)));
            }
            last
        }
    };
    let (tx, live) = mpsc::channel(buffer.max(1));
    let slow = Arc::new(AtomicBool::new(false));
    let already_sent = AlreadySent { ids: already_sent, until: tokio::time::Instant::now() + OVERLAP_WINDOW };
    let feed = Feed { tx, slow: slow.clone(), last: after, already_sent };
    let (node, user) = (cluster.clone(), user.to_string());
    cluster.spawn(async move {
        if let Err(e) = feed.run(&node, &user, Some(after)).await {
            tracing::warn!(user, error = %e, "a client's event feed ended");
        }
    });
    Ok(EventFeed { replay, live, slow })
}

/// How long after a login's catch-up the feed looks for its messages again: the time between
/// reading the user's last event and gathering its unread messages, with room to spare.
const OVERLAP_WINDOW: Duration = Duration::from_secs(60);

/// The IDs of the messages a login's catch-up sent, while they may still come on the feed.
struct AlreadySent {
    ids: foldhash::HashSet<String>,
    until: tokio::time::Instant,
}

impl AlreadySent {
    /// `body` (a `RecvNewMsg` event's messages) without the messages already sent; `None` if
    /// none is left.
    fn filter(&mut self, name: &str, body: &str) -> Option<String> {
        if self.ids.is_empty() || name != Listener::RecvNewMsg.name() {
            return Some(body.to_string());
        }
        if tokio::time::Instant::now() > self.until {
            self.ids.clear();
            return Some(body.to_string());
        }
        let Ok(mut messages) = serde_json::from_str::<Vec<serde_json::Value>>(body) else {
            return Some(body.to_string());
        };
        let before = messages.len();
        messages.retain(|m| !m["message_msg_id"].as_str().is_some_and(|id| self.ids.remove(id)));
        match messages.len() {
            0 => None,
            n if n == before => Some(body.to_string()),
            _ => Some(serde_json::Value::from(messages).to_string()),
        }
    }
}

struct Feed {
    tx: mpsc::Sender<(u64, EventText)>,
    slow: Arc<AtomicBool>,
    /// The last cursor the client was given.
    last: u64,
    already_sent: AlreadySent,
}

/// Why a feed stopped: the client is gone or fell behind (not an error), or the cluster failed.
enum Stop {
    Client,
    Cluster(String),
}

impl Feed {
    async fn run(mut self, node: &ClusterNode, user: &str, after: Option<u64>) -> Result<(), String> {
        let cluster = &node.cluster;
        let mut live = cluster.client.subscribe(cluster.events.live_subject(user)).await.map_err(|e| e.to_string())?;
        let outcome: Result<(), Stop> = async {
            if let Some(after) = after {
                let first = cluster.events.first_kept(user).await.map_err(Stop::Cluster)?;
                if after > 0 && first > after {
                    self.send_text(0, GAP_FRAME.into())?;
                }
                self.catch_up(node, user).await?;
            }
            let mut reconnects = cluster.reconnects.clone();
            reconnects.mark_unchanged();
            // After a reconnection, the stream is read back again a moment later, once the
            // live subscription stands anew: what was republished meanwhile is not lost.
            let mut recheck: Option<tokio::time::Instant> = None;
            loop {
                let recheck_at = recheck.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
                tokio::select! {
                    changed = reconnects.changed() => {
                        if changed.is_err() {
                            return Err(Stop::Cluster("the cluster connection is gone".into()));
                        }
                        recheck = Some(tokio::time::Instant::now() + RECHECK_AFTER_RECONNECT);
                    }
                    () = tokio::time::sleep_until(recheck_at), if recheck.is_some() => {
                        recheck = None;
                        self.catch_up(node, user).await?;
                    }
                    message = live.next() => {
                        let Some(message) = message else { return Err(Stop::Cluster("the live subscription ended".into())) };
                        let Some(event) = UserEvent::from_live(&message) else { continue };
                        if event.sequence <= self.last {
                            continue;
                        }
                        if self.last > 0 && event.previous > self.last {
                            metrics::counter!("timsg_cluster_event_gaps_filled_total").increment(1);
                            self.catch_up(node, user).await?;
                        }
                        self.send(&event)?;
                    }
                    () = self.tx.closed() => return Err(Stop::Client),
                }
            }
        }
        .await;
        let _ = live.unsubscribe().await;
        match outcome {
            Err(Stop::Cluster(e)) => Err(e),
            _ => Ok(()),
        }
    }

    /// Sends what the stream holds after the last cursor sent.
    async fn catch_up(&mut self, node: &ClusterNode, user: &str) -> Result<(), Stop> {
        let missed = node.cluster.events.read_after(user, self.last).await.map_err(Stop::Cluster)?;
        for event in &missed {
            self.send(event)?;
        }
        Ok(())
    }

    fn send(&mut self, event: &UserEvent) -> Result<(), Stop> {
        if event.sequence <= self.last {
            return Ok(());
        }
        let body = std::str::from_utf8(&event.body).unwrap_or("null");
        if let Some(body) = self.already_sent.filter(&event.name, body) {
            self.send_text(event.sequence, event_text(event.sequence, &event.name, &body))?;
        }
        self.last = event.sequence;
        Ok(())
    }

    fn send_text(&self, cursor: u64, text: EventText) -> Result<(), Stop> {
        match self.tx.try_send((cursor, text)) {
            Ok(()) => {
                metrics::counter!("timsg_events_delivered_total", "sink" => "websocket").increment(1);
                Ok(())
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.slow.store(true, Ordering::SeqCst);
                metrics::counter!("timsg_ws_slow_disconnects_total").increment(1);
                Err(Stop::Client)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(Stop::Client),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(ids: &[&str]) -> AlreadySent {
        AlreadySent {
            ids: ids.iter().map(|s| s.to_string()).collect(),
            until: tokio::time::Instant::now() + OVERLAP_WINDOW,
        }
    }

    #[tokio::test]
    async fn a_message_the_catch_up_sent_is_not_sent_again() {
        let new = Listener::RecvNewMsg.name();
        let body = r#"[{"message_msg_id":"m1"},{"message_msg_id":"m2"}]"#;
        let mut already = sent(&["m1"]);
        assert_eq!(already.filter(new, body).as_deref(), Some(r#"[{"message_msg_id":"m2"}]"#));
        // m1 was met once: its next copy (another conversation's ID is never the same) passes.
        assert_eq!(already.filter(new, body).as_deref(), Some(body));
        let mut already = sent(&["m1", "m2"]);
        assert_eq!(already.filter(new, body), None, "all sent: the event is skipped");
        assert_eq!(already.filter("MsgRevoke", body).as_deref(), Some(body), "only new messages are looked at");
    }

    #[tokio::test(start_paused = true)]
    async fn the_catch_up_is_forgotten_after_its_window() {
        let mut already = sent(&["m1"]);
        tokio::time::advance(OVERLAP_WINDOW + Duration::from_secs(1)).await;
        let body = r#"[{"message_msg_id":"m1"}]"#;
        assert_eq!(already.filter(Listener::RecvNewMsg.name(), body).as_deref(), Some(body));
        assert!(already.ids.is_empty());
    }
}
