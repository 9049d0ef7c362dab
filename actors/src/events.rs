//! The event bus: one bounded stream per logged-in user of what happened to them (new
//! messages, revokes, read receipts, message updates).
//!
//! A stream that is full drops the new event and counts it
//! (`timsg_events_dropped_total{sink}`): a slow consumer never grows memory without bound, and
//! never slows a conversation down.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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

#[derive(Debug)]
pub struct EventBus {
    capacity: usize,
    generation: AtomicU64,
    subscribers: DashMap<UserId, Subscriber>,
}

impl EventBus {
    pub fn new(capacity: usize) -> EventBus {
        EventBus { capacity: capacity.max(1), generation: AtomicU64::new(0), subscribers: DashMap::new() }
    }

    /// Opens `user`'s stream, replacing any earlier one (one login per user at a time).
    pub fn subscribe(&self, user: &UserId) -> (u64, EventStream) {
        let (tx, rx) = mpsc::channel(self.capacity);
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        self.subscribers.insert(user.clone(), Subscriber { generation, tx });
        metrics::gauge!("timsg_events_subscribers").set(self.subscribers.len() as f64);
        (generation, rx)
    }

    /// Closes `user`'s stream if it is still the one opened as `generation`.
    pub fn unsubscribe(&self, user: &str, generation: u64) {
        self.subscribers.remove_if(user, |_, s| s.generation == generation);
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
        let Some(sub) = self.subscribers.get(user) else {
            return true;
        };
        match sub.tx.try_send(event) {
            Ok(()) => {
                metrics::counter!("timsg_events_delivered_total", "sink" => "session").increment(1);
                true
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                metrics::counter!("timsg_events_dropped_total", "sink" => "session").increment(1);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => true,
        }
    }
}

/// Shared handle to the bus.
pub type SharedEventBus = Arc<EventBus>;
