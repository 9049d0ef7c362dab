//! Whether the store takes writes now, and if not, why: the writer marks it failing when a
//! group commit fails and healthy again when one succeeds. `/readyz` and the
//! `timsg_store_healthy` gauge report it, so an operator sees a full or failing disk as it
//! happens rather than from callers' errors.

use parking_lot::Mutex;

#[derive(Debug, Default)]
pub struct StoreHealth {
    failure: Mutex<Option<String>>,
}

impl StoreHealth {
    pub fn failed(&self, why: &str) {
        *self.failure.lock() = Some(why.to_string());
        metrics::gauge!("timsg_store_healthy").set(0.0);
    }

    pub fn succeeded(&self) {
        let mut failure = self.failure.lock();
        if failure.is_some() {
            *failure = None;
            metrics::gauge!("timsg_store_healthy").set(1.0);
            tracing::info!("the store takes writes again");
        }
    }

    /// Why the last group commit failed, if it did.
    pub fn failure(&self) -> Option<String> {
        self.failure.lock().clone()
    }
}
