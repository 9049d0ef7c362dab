//! The event bus: one bounded stream per logged-in user of what happened to them (new
//! messages, revokes, read receipts, message updates).
//!
//! A stream that is full drops the new event and counts it
//! (`timsg_events_dropped_total{sink}`): a slow consumer never grows memory without bound, and
//! never slows a conversation down. New messages that reach no stream this way — dropped on a
//! full stream, or published to a user in the minute after it logged out (committed before
//! its logout point, published after its stream closed) — go to the undelivered hook, which
//! keeps them for the user's next login.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use tokio::sync::mpsc;

use crate::ids::UserId;
use crate::message::{MessageLocator, MessageView, ReadReceipt};

/// Something a user should hear about.
#[derive(Debug, Clone)]
pub enum Event {
    /// New messages in one conversation, in seq order. `notify` is false when the user's
    /// receive option says not to notify (no offline push).
    NewMessages { messages: Vec<MessageView>, notify: bool },
    /// Messages were revoked; with who revoked them.
    Revoked { locators: Vec<MessageLocator>, by: UserId, reason: String },
    /// The C2C peer read up to a point.
    ReadReceipts(Vec<ReadReceipt>),
    /// Messages changed after delivery.
    MessagesUpdated(Vec<MessageView>),
    /// Upload progress of one element of a message being sent (to its sender).
    UploadProgress { message: MessageView, index: u32, current: u64, total: u64 },
}

/// The receiving end of one user's events.
pub type EventStream = mpsc::Receiver<Event>;

#[derive(Debug)]
struct Subscriber {
    /// Distinguishes a stale subscription from the current one after a re-login.
    generation: u64,
    tx: mpsc::Sender<Event>,
}

/// How long after a logout new messages that find no stream are kept for the next login:
/// longer than any commit waits to be published.
const DEPARTED_WINDOW: Duration = Duration::from_secs(60);

/// Told the new messages of an event that reached no stream of `user`.
pub type UndeliveredHook = Box<dyn Fn(&str, &[MessageView]) + Send + Sync>;

/// Cluster mode: where every event goes instead of a stream of this node (the events stream,
/// read by whichever node holds the user's sockets). The receiver hears when it is stored.
pub type Relay = Box<dyn Fn(&str, &Event) -> RelayAck + Send + Sync>;

/// Cluster mode: an event as the events stream stores it (the listener's name, its JSON).
pub type Format = Box<dyn Fn(&Event) -> (&'static str, String) + Send + Sync>;

/// When a relayed event is stored (its cursor), or why it was not.
pub type RelayAck = tokio::sync::oneshot::Receiver<Result<u64, String>>;

pub struct EventBus {
    capacity: usize,
    relay: OnceLock<Relay>,
    format: OnceLock<Format>,
    generation: AtomicU64,
    /// Every delivery looks its receiver up here: foldhash, not SipHash (see `Shared::table`).
    subscribers: DashMap<UserId, Subscriber, foldhash::fast::RandomState>,
    /// Users logged out in the last `DEPARTED_WINDOW`, with when.
    departed: DashMap<UserId, Instant, foldhash::fast::RandomState>,
    undelivered: OnceLock<UndeliveredHook>,
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBus").field("subscribers", &self.subscribers.len()).finish()
    }
}

impl EventBus {
    pub fn new(capacity: usize) -> EventBus {
        EventBus {
            capacity: capacity.max(1),
            relay: OnceLock::new(),
            format: OnceLock::new(),
            generation: AtomicU64::new(0),
            subscribers: DashMap::default(),
            departed: DashMap::default(),
            undelivered: OnceLock::new(),
        }
    }

    /// Sets where new messages that reached no stream go (once).
    pub fn set_undelivered_hook(&self, hook: UndeliveredHook) {
        let _ = self.undelivered.set(hook);
    }

    /// Sends every event to `relay` from now on (once; cluster mode).
    pub fn set_relay(&self, relay: Relay) {
        let _ = self.relay.set(relay);
    }

    /// Sets how events are written for the events stream (once; cluster mode).
    pub fn set_format(&self, format: Format) {
        let _ = self.format.set(format);
    }

    /// `event` as the events stream stores it, in cluster mode.
    pub fn format(&self, event: &Event) -> Option<(&'static str, String)> {
        self.format.get().map(|f| f(event))
    }

    /// Publishes as [`EventBus::publish`] does; a relayed event answers when it is stored.
    pub fn publish_tracked(&self, user: &str, event: Event) -> Option<RelayAck> {
        match self.relay.get() {
            Some(relay) => Some(relay(user, &event)),
            None => {
                self.publish(user, event);
                None
            }
        }
    }

    fn undelivered(&self, user: &str, event: &Event) {
        if let (Some(hook), Event::NewMessages { messages, .. }) = (self.undelivered.get(), event) {
            hook(user, messages);
        }
    }

    /// Opens `user`'s stream, replacing any earlier one (one login per user at a time).
    pub fn subscribe(&self, user: &UserId) -> (u64, EventStream) {
        let (tx, rx) = mpsc::channel(self.capacity);
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        self.subscribers.insert(user.clone(), Subscriber { generation, tx });
        self.departed.remove(user);
        metrics::gauge!("timsg_events_subscribers").set(self.subscribers.len() as f64);
        (generation, rx)
    }

    /// Closes `user`'s stream if it is still the one opened as `generation`.
    pub fn unsubscribe(&self, user: &str, generation: u64) {
        if self.subscribers.remove_if(user, |_, s| s.generation == generation).is_some() {
            let now = Instant::now();
            if self.departed.len() >= 4096 {
                self.departed.retain(|_, at| now.duration_since(*at) < DEPARTED_WINDOW);
            }
            self.departed.insert(user.into(), now);
        }
        metrics::gauge!("timsg_events_subscribers").set(self.subscribers.len() as f64);
    }

    /// Whether `generation` is `user`'s current subscription (not replaced by a re-login).
    pub fn is_current(&self, user: &str, generation: u64) -> bool {
        self.subscribers.get(user).is_some_and(|s| s.generation == generation)
    }

    pub fn is_online(&self, user: &str) -> bool {
        self.subscribers.contains_key(user)
    }

    /// Delivers to `user` if online. Returns false if the event was dropped on a full stream.
    pub fn publish(&self, user: &str, event: Event) -> bool {
        if let Some(relay) = self.relay.get() {
            drop(relay(user, &event));
            return true;
        }
        let Some(sub) = self.subscribers.get(user) else {
            let recent = self.departed.get(user).is_some_and(|at| at.elapsed() < DEPARTED_WINDOW);
            if recent {
                self.undelivered(user, &event);
            }
            return true;
        };
        match sub.tx.try_send(event) {
            Ok(()) => {
                metrics::counter!("timsg_events_delivered_total", "sink" => "session").increment(1);
                true
            }
            Err(mpsc::error::TrySendError::Full(event)) => {
                drop(sub);
                metrics::counter!("timsg_events_dropped_total", "sink" => "session").increment(1);
                self.undelivered(user, &event);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => true,
        }
    }
}

/// Shared handle to the bus.
pub type SharedEventBus = Arc<EventBus>;
