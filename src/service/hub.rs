//! Per-user event hubs for the WebSocket stream. Each logged-in user's events are numbered
//! with a cursor (a strictly increasing stamp), kept in a log bounded in events and in bytes
//! (the bytes bound the service's memory per logged-in user), and fanned out to the
//! user's WebSocket clients. A client that reconnects with the cursor of the last event it saw
//! is replayed everything after it from the log — subscription and replay happen under one lock,
//! so nothing is missed and nothing comes twice. A client whose buffer fills is dropped (and
//! told why) rather than growing memory.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::Mutex;
use tokio::sync::mpsc;

pub use crate::events::{EventText, event_text};

struct Client {
    id: u64,
    tx: mpsc::Sender<(u64, EventText)>,
    slow: Arc<AtomicBool>,
}

/// What a new subscriber gets: the events it missed, then a live feed.
pub struct Subscription {
    pub replay: Vec<(u64, EventText)>,
    /// False if the cursor was older than the log holds (some events are gone).
    pub complete: bool,
    pub live: mpsc::Receiver<(u64, EventText)>,
    /// Set when the client was dropped for not keeping up.
    pub slow: Arc<AtomicBool>,
    pub id: u64,
}

impl Subscription {
    /// A client fed from the cluster's events stream, not from a hub.
    pub fn from_feed(feed: crate::cluster::event_feed::EventFeed) -> Subscription {
        Subscription { replay: feed.replay, complete: true, live: feed.live, slow: feed.slow, id: NOT_IN_A_HUB }
    }
}

/// The subscription id of a stream-fed client (it is in no hub).
const NOT_IN_A_HUB: u64 = u64::MAX;

/// The replay log and the connected clients, changed together under one lock.
#[derive(Default)]
struct HubState {
    log: VecDeque<(u64, EventText)>,
    /// The size of the texts in `log`.
    log_bytes: usize,
    clients: Vec<Client>,
}

pub struct UserHub {
    state: Mutex<HubState>,
    log_cap: usize,
    log_bytes_cap: usize,
    client_buffer: usize,
    next_client: AtomicU64,
}

impl UserHub {
    /// Keeps the last `log_cap` events, as long as they fit in `log_bytes_cap` bytes (the
    /// newest always stays).
    pub fn new(log_cap: usize, log_bytes_cap: usize, client_buffer: usize) -> UserHub {
        UserHub {
            state: Mutex::new(HubState::default()),
            log_cap: log_cap.max(1),
            log_bytes_cap,
            client_buffer: client_buffer.max(1),
            next_client: AtomicU64::new(0),
        }
    }

    /// Adds an event (`body`: its JSON text) under `cursor` and offers it to every client.
    pub fn push(&self, cursor: u64, event: &str, body: &str) {
        let text = event_text(cursor, event, body);
        let mut guard = self.state.lock();
        let HubState { log, log_bytes, clients } = &mut *guard;
        *log_bytes += text.len();
        log.push_back((cursor, text.clone()));
        while log.len() > self.log_cap || (*log_bytes > self.log_bytes_cap && log.len() > 1) {
            if let Some((_, gone)) = log.pop_front() {
                *log_bytes -= gone.len();
            }
        }
        clients.retain(|c| match c.tx.try_send((cursor, text.clone())) {
            Ok(()) => {
                metrics::counter!("timsg_events_delivered_total", "sink" => "websocket").increment(1);
                true
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                c.slow.store(true, Ordering::SeqCst);
                metrics::counter!("timsg_ws_slow_disconnects_total").increment(1);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
    }

    /// Subscribes a client that last saw `after` (or nothing).
    pub fn subscribe(&self, after: Option<u64>) -> Subscription {
        let (tx, live) = mpsc::channel(self.client_buffer);
        let slow = Arc::new(AtomicBool::new(false));
        let id = self.next_client.fetch_add(1, Ordering::Relaxed);
        let mut guard = self.state.lock();
        let HubState { log, clients, .. } = &mut *guard;
        let (replay, complete) = match after {
            None => (Vec::new(), true),
            Some(c) => {
                let complete = log.front().is_none_or(|(first, _)| *first <= c.saturating_add(1)) || c == 0;
                (log.iter().filter(|(cur, _)| *cur > c).cloned().collect(), complete)
            }
        };
        clients.push(Client { id, tx, slow: slow.clone() });
        Subscription { replay, complete, live, slow, id }
    }

    pub fn unsubscribe(&self, id: u64) {
        self.state.lock().clients.retain(|c| c.id != id);
    }

    pub fn clients(&self) -> usize {
        self.state.lock().clients.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_after_a_cursor_then_live_and_slow_clients_are_dropped() {
        let hub = UserHub::new(3, 1 << 20, 1);
        hub.push(1, "e", "1");
        hub.push(2, "e", "2");
        let mut sub = hub.subscribe(Some(1));
        assert_eq!(sub.replay.iter().map(|(c, _)| *c).collect::<Vec<_>>(), vec![2]);
        assert!(sub.complete);
        hub.push(3, "e", "3");
        assert_eq!(sub.live.try_recv().unwrap().0, 3);
        hub.push(4, "e", "4");
        hub.push(5, "e", "5"); // buffer of 1 is full: dropped
        assert!(sub.slow.load(Ordering::SeqCst));
        assert_eq!(hub.clients(), 0);
        let late = hub.subscribe(Some(1));
        assert!(!late.complete, "events 2 fell out of the log");
        assert_eq!(late.replay.len(), 3);
    }

    #[test]
    fn the_log_keeps_to_its_bytes_as_well_as_its_count() {
        let body = "x".repeat(100);
        let frame = format!(r#"{{"cursor":1,"event":"e","json":{body}}}"#).len();
        let hub = UserHub::new(1000, 3 * frame, 4);
        for cursor in 1..=9 {
            hub.push(cursor, "e", &body);
        }
        let sub = hub.subscribe(Some(0));
        assert_eq!(sub.replay.iter().map(|(c, _)| *c).collect::<Vec<_>>(), vec![7, 8, 9]);
        // One event larger than the whole bound is still kept, alone.
        hub.push(10, "e", &"y".repeat(10 * frame));
        assert_eq!(hub.subscribe(Some(0)).replay.iter().map(|(c, _)| *c).collect::<Vec<_>>(), vec![10]);
    }
}
