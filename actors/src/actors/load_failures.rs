//! Conversations whose state could not be loaded a moment ago. Every op of such a
//! conversation would start an actor that tries the same read again (and reroute up to three
//! times); for [`LOAD_FAILURE_HOLD`] the ops are answered with the failure at once instead.

use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::ids::ConvKey;

/// How long a conversation whose state could not be loaded answers its ops with that failure
/// at once, instead of each op starting an actor that tries the same read again.
pub const LOAD_FAILURE_HOLD: Duration = Duration::from_secs(1);

/// Conversations whose state could not be loaded, when and why. Looked at by every op, so
/// empty costs one atomic load.
#[derive(Debug, Default)]
pub struct LoadFailures {
    held: Mutex<HashMap<ConvKey, (Instant, String)>>,
    count: AtomicUsize,
}

impl LoadFailures {
    pub fn failed(&self, key: &ConvKey, why: String) {
        let mut held = self.held.lock();
        held.insert(key.clone(), (Instant::now(), why));
        self.count.store(held.len(), Relaxed);
    }

    pub fn loaded(&self, key: &ConvKey) {
        if self.count.load(Relaxed) > 0 {
            let mut held = self.held.lock();
            held.remove(key);
            self.count.store(held.len(), Relaxed);
        }
    }

    /// Why `key` could not be loaded, if that was less than [`LOAD_FAILURE_HOLD`] ago.
    pub fn recent(&self, key: &ConvKey) -> Option<String> {
        if self.count.load(Relaxed) == 0 {
            return None;
        }
        let mut held = self.held.lock();
        let (at, why) = held.get(key)?;
        if at.elapsed() < LOAD_FAILURE_HOLD {
            return Some(why.clone());
        }
        held.remove(key);
        self.count.store(held.len(), Relaxed);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_held_until_the_conversation_loads() {
        let failures = LoadFailures::default();
        let (key, other) = (ConvKey::c2c("a", "b"), ConvKey::c2c("a", "c"));
        assert_eq!(failures.recent(&key), None);
        failures.failed(&key, "disk full".into());
        assert_eq!(failures.recent(&key).as_deref(), Some("disk full"));
        assert_eq!(failures.recent(&other), None);
        failures.loaded(&key);
        assert_eq!(failures.recent(&key), None);
        assert_eq!(failures.count.load(Relaxed), 0, "empty again: one atomic load per op");
    }
}
