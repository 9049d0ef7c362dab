//! Cluster mode: a WebSocket's events come from the events stream (see
//! `timsg_actors::cluster::user_events`), not from this node's hub — the node that owns a
//! conversation may be any node, and a client may reconnect to any node. The cursor is the
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
use tokio::sync::mpsc;

use super::hub::{EventText, Subscription, event_text};

/// What a client is sent when events after its cursor are no longer kept.
pub const GAP_FRAME: &str = r#"{"event":"Gap","json":"events after the cursor were dropped from the log"}"#;

/// How long after the cluster connection came back a feed reads the stream back.
const RECHECK_AFTER_RECONNECT: Duration = Duration::from_secs(1);

/// The subscription id of a stream-fed client (it is in no hub).
const NOT_IN_A_HUB: u64 = u64::MAX;

/// Subscribes a client of `user` that last saw `after` (or nothing) to its events. A client
/// with no cursor gets every event stored from now on: the user's last sequence is read before
/// this returns (so before the client hears it is connected), and the feed reads back from
/// there once its live subscription stands — interest in a subject reaches the other servers
/// of a NATS cluster some time after it is made, and nothing stored in between may be missed.
pub async fn subscribe(
    cluster: &Arc<ClusterNode>,
    user: &str,
    after: Option<u64>,
    buffer: usize,
) -> Result<Subscription, String> {
    let after = match after {
        Some(c) => Some(c),
        None => {
            let (node, who) = (cluster.clone(), user.to_string());
            let last = async move { node.cluster.events.last_sequence(&who).await };
            Some(cluster.spawn(last).await.map_err(|e| e.to_string())??)
        }
    };
    let (tx, live) = mpsc::channel(buffer.max(1));
    let slow = Arc::new(AtomicBool::new(false));
    let feed = Feed { tx, slow: slow.clone(), last: after.unwrap_or(0) };
    let (node, user) = (cluster.clone(), user.to_string());
    cluster.spawn(async move {
        if let Err(e) = feed.run(&node, &user, after).await {
            tracing::warn!(user, error = %e, "a WebSocket's event feed ended");
        }
    });
    Ok(Subscription { replay: Vec::new(), complete: true, live, slow, id: NOT_IN_A_HUB })
}

struct Feed {
    tx: mpsc::Sender<(u64, EventText)>,
    slow: Arc<AtomicBool>,
    /// The last cursor the client was given.
    last: u64,
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
        self.send_text(event.sequence, event_text(event.sequence, &event.name, body))?;
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
