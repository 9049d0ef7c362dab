//! Whether the store takes writes now, and if not, why: the writer marks it failing when a
//! group commit fails and healthy again when one succeeds; the indexer likewise when SQLite
//! refuses its batches (a full disk) and when it takes them again. `/readyz` and the
//! `timsg_store_healthy` gauge report it, so an operator sees a full or failing disk as it
//! happens rather than from callers' errors.

use parking_lot::Mutex;

#[derive(Debug, Default)]
pub struct StoreHealth {
    /// Why the last group commit failed, until one succeeds.
    commit: Mutex<Option<String>>,
    /// Why the indexer cannot apply journaled batches to SQLite, while it cannot.
    indexing: Mutex<Option<String>>,
}

impl StoreHealth {
    pub fn failed(&self, why: &str) {
        *self.commit.lock() = Some(why.to_string());
        self.publish();
    }

    pub fn succeeded(&self) {
        if self.commit.lock().take().is_some() {
            tracing::info!("the store takes writes again");
            self.publish();
        }
    }

    pub fn indexing_failed(&self, why: &str) {
        *self.indexing.lock() = Some(why.to_string());
        self.publish();
    }

    pub fn indexing_succeeded(&self) {
        if self.indexing.lock().take().is_some() {
            tracing::info!("the indexer applies batches again");
            self.publish();
        }
    }

    /// Why the indexer cannot apply journaled batches, while it cannot.
    pub fn indexing_failure(&self) -> Option<String> {
        self.indexing.lock().clone()
    }

    /// Why the store takes no writes now, if it does not.
    pub fn failure(&self) -> Option<String> {
        let commit = self.commit.lock().as_ref().map(|why| format!("the last write failed: {why}"));
        commit.or_else(|| self.indexing.lock().as_ref().map(|why| format!("the database takes no writes: {why}")))
    }

    fn publish(&self) {
        metrics::gauge!("timsg_store_healthy").set(if self.failure().is_none() { 1.0 } else { 0.0 });
    }
}
