//! Whether the store takes writes now, and if not, why: the writer marks it failing when a
//! group commit fails and healthy again when one succeeds; the indexer likewise when SQLite
//! refuses its batches (a full disk) and when it takes them again. `/readyz` and the
//! `timsg_store_healthy` gauge report it, so an operator sees a full or failing disk as it
//! happens rather than from callers' errors.

use parking_lot::Mutex;

#[derive(Debug, Default)]
pub struct StoreHealth {
    failure: Mutex<Option<String>>,
    /// Why the indexer cannot apply journaled batches to SQLite, while it cannot.
    indexing: Mutex<Option<String>>,
}

impl StoreHealth {
    pub fn indexing_failed(&self, why: &str) {
        *self.indexing.lock() = Some(why.to_string());
        metrics::gauge!("timsg_store_healthy").set(0.0);
    }

    pub fn indexing_succeeded(&self) {
        let mut indexing = self.indexing.lock();
        if indexing.take().is_some() {
            tracing::info!("the indexer applies batches again");
            if self.failure.lock().is_none() {
                metrics::gauge!("timsg_store_healthy").set(1.0);
            }
        }
    }

    pub fn failed(&self, why: &str) {
        *self.failure.lock() = Some(why.to_string());
        metrics::gauge!("timsg_store_healthy").set(0.0);
    }

    pub fn succeeded(&self) {
        let mut failure = self.failure.lock();
        if failure.is_some() {
            *failure = None;
            if self.indexing.lock().is_none() {
                metrics::gauge!("timsg_store_healthy").set(1.0);
            }
            tracing::info!("the store takes writes again");
        }
    }

    /// Why the last group commit failed, or why the indexer is stuck, if either is so.
    pub fn failure(&self) -> Option<String> {
        let commit = self.failure.lock().clone();
        commit.or_else(|| self.indexing.lock().as_ref().map(|why| format!("the database takes no writes: {why}")))
    }
}
