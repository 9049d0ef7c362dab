//! How far the journal and the SQLite indexer have got, and the read barrier between them.
//!
//! A write is acknowledged once it is journaled; SQLite has it a little later. A read must
//! still see every write acknowledged before it started, so it first waits for the indexer to
//! reach that point. The reads made while messages flow are of one conversation (activating its
//! actor) or one user's receive options: those wait only if that conversation or user has
//! writes still on their way, which is rare (a conversation's previous actor had to write just
//! before it went), so they do not queue behind the indexer's backlog.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use super::StoreError;

#[derive(Debug, Default)]
struct State {
    /// Last batch acknowledged to its writers.
    journaled: u64,
    /// Last batch SQLite holds.
    indexed: u64,
    /// Read keys (conversations, users) with journaled writes SQLite does not hold yet: the
    /// last batch with one.
    pending: HashMap<Arc<str>, u64>,
    /// Writes journaled and not yet taken by the indexer: the writer's backlog.
    untaken_ops: usize,
    /// The indexer is gone: nothing will advance any more.
    stopped: bool,
    /// The indexer cannot apply its batch (SQLite refuses, a full disk): reads that must
    /// wait for it fail at once instead of waiting out their patience.
    stuck: Option<String>,
}

#[derive(Debug, Default)]
pub struct Progress {
    state: Mutex<State>,
    advanced: Condvar,
    /// Journal bytes of the batches SQLite does not hold yet: the room they will take there.
    unindexed_bytes: std::sync::atomic::AtomicU64,
}

impl Progress {
    /// Starts where recovery left off: everything up to `batch` is in SQLite.
    pub fn starting_at(batch: u64) -> Progress {
        Progress {
            state: Mutex::new(State { journaled: batch, indexed: batch, ..State::default() }),
            ..Default::default()
        }
    }

    /// Batch `batch` is journaled (and about to be acknowledged); `keys` are its writes' read
    /// keys, one per write.
    pub fn journaled<'a>(&self, batch: u64, keys: impl Iterator<Item = &'a Arc<str>>) {
        let mut s = self.state.lock();
        s.journaled = batch;
        for key in keys {
            s.pending.insert(key.clone(), batch);
            s.untaken_ops += 1;
        }
    }

    /// The journal holds batches up to `batch` that SQLite does not (found at open, with the
    /// disk too full to apply them then): reads of `keys`, and reads of everything, wait for
    /// them like for any acknowledged write. They are not the writer's backlog.
    pub fn replaying<'a>(&self, batch: u64, keys: impl Iterator<Item = &'a Arc<str>>) {
        let mut s = self.state.lock();
        s.journaled = batch;
        for key in keys {
            s.pending.insert(key.clone(), batch);
        }
    }

    /// `bytes` more journaled (`true`) or taken into SQLite (`false`).
    pub fn count_unindexed_bytes(&self, bytes: u64, journaled: bool) {
        use std::sync::atomic::Ordering::Relaxed;
        if journaled {
            self.unindexed_bytes.fetch_add(bytes, Relaxed);
        } else {
            let _ = self.unindexed_bytes.fetch_update(Relaxed, Relaxed, |b| Some(b.saturating_sub(bytes)));
        }
    }

    /// Journal bytes of the batches SQLite does not hold yet.
    pub fn unindexed_bytes(&self) -> u64 {
        self.unindexed_bytes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The last batch SQLite holds.
    pub fn indexed_batch(&self) -> u64 {
        self.state.lock().indexed
    }

    /// SQLite holds everything up to `batch`; `keys` are the read keys of the writes of the
    /// batches it just took, one per write.
    pub fn indexed<'a>(&self, batch: u64, keys: impl Iterator<Item = &'a Arc<str>>) {
        let mut s = self.state.lock();
        s.indexed = batch;
        for key in keys {
            if s.pending.get(key).is_some_and(|&last| last <= batch) {
                s.pending.remove(key);
            }
        }
        drop(s);
        self.advanced.notify_all();
    }

    /// The indexer stopped: waiting readers give up instead of waiting forever.
    pub fn stop(&self) {
        self.state.lock().stopped = true;
        self.advanced.notify_all();
    }

    /// Waits until SQLite holds every write acknowledged so far.
    pub fn wait_all(&self) -> Result<(), StoreError> {
        let mut s = self.state.lock();
        let target = s.journaled;
        self.wait_for(&mut s, target)
    }

    /// Waits until SQLite holds every write acknowledged so far under `key` (a conversation's
    /// storage key or a user ID: a name shared by both only makes a read wait needlessly).
    pub fn wait_key(&self, key: &str) -> Result<(), StoreError> {
        let mut s = self.state.lock();
        match s.pending.get(key).copied() {
            Some(target) => self.wait_for(&mut s, target),
            None => Ok(()),
        }
    }

    /// The indexer took `ops` writes into the transaction it is building.
    pub fn taken(&self, ops: usize) {
        let mut s = self.state.lock();
        s.untaken_ops = s.untaken_ops.saturating_sub(ops);
        drop(s);
        self.advanced.notify_all();
    }

    /// Waits while `limit` writes or more are journaled but not yet taken by the indexer: the
    /// writer's backpressure, so the backlog (its memory, and how long a read may wait) stays
    /// bounded.
    ///
    /// Waits while the indexer takes writes, until `patience` passes with none taken (it is
    /// stuck: a full disk, a failing database) or [`WAIT_CAP`] in all; false if there is still
    /// no room then, so the writer can fail writes instead of hanging. A slow indexer (a busy
    /// machine) is waited for; only one that stopped moving fails the writes.
    pub fn wait_for_room(&self, limit: usize, patience: std::time::Duration) -> bool {
        let started = std::time::Instant::now();
        let mut deadline = started + patience;
        let mut s = self.state.lock();
        let mut untaken = s.untaken_ops;
        while s.untaken_ops >= limit && !s.stopped {
            let timed_out = self.advanced.wait_until(&mut s, deadline).timed_out();
            if s.untaken_ops < untaken {
                untaken = s.untaken_ops;
                deadline = (std::time::Instant::now() + patience).min(started + WAIT_CAP);
            } else if timed_out {
                return s.untaken_ops < limit;
            }
        }
        true
    }

    /// The indexer cannot apply its batch (`Some(why)`), or can again (`None`).
    pub fn set_stuck(&self, why: Option<String>) {
        let mut s = self.state.lock();
        s.stuck = why;
        drop(s);
        self.advanced.notify_all();
    }

    /// Batches acknowledged but not yet in SQLite.
    pub fn lag(&self) -> u64 {
        let s = self.state.lock();
        s.journaled.saturating_sub(s.indexed)
    }

    /// Waits until SQLite holds batch `target`, while the indexer moves: an indexer that
    /// cannot write (a full disk) or has not moved for [`READ_PATIENCE`] fails the read with an
    /// error instead of holding the thread that asked — often a conversation actor's arbiter,
    /// shared with many conversations — and no read waits past [`WAIT_CAP`]. One that is only
    /// slow (a busy machine) is waited for.
    fn wait_for(&self, s: &mut parking_lot::MutexGuard<'_, State>, target: u64) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        let mut deadline = started + READ_PATIENCE;
        let mut indexed = s.indexed;
        while s.indexed < target {
            if s.stopped {
                return Err(StoreError::Closed);
            }
            if let Some(why) = &s.stuck {
                return Err(StoreError::Io(format!("the database is behind the journal and cannot catch up: {why}")));
            }
            let timed_out = self.advanced.wait_until(s, deadline).timed_out();
            if s.indexed > indexed {
                indexed = s.indexed;
                deadline = (std::time::Instant::now() + READ_PATIENCE).min(started + WAIT_CAP);
            } else if timed_out && s.indexed < target {
                return Err(StoreError::Io(format!(
                    "the database is {} batches behind the journal and not catching up; try again",
                    target - s.indexed
                )));
            }
        }
        Ok(())
    }
}

/// How long a read waits for the indexer to move towards what it must see.
pub const READ_PATIENCE: std::time::Duration = std::time::Duration::from_secs(3);
/// The longest a read or the writer's backpressure waits for a moving indexer.
pub const WAIT_CAP: std::time::Duration = std::time::Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn reads_wait_for_the_writes_acknowledged_before_them() {
        let p = Arc::new(Progress::starting_at(3));
        let a: Arc<str> = "a".into();
        let b: Arc<str> = "b".into();
        p.journaled(4, [&a].into_iter());
        p.journaled(5, [&b].into_iter());
        assert_eq!(p.lag(), 2);
        // Nothing pending for "c": no wait at all.
        p.wait_key("c").unwrap();
        let waiter = {
            let p = p.clone();
            std::thread::spawn(move || {
                p.wait_key("a").unwrap();
                let after_a = p.lag();
                p.wait_all().unwrap();
                (after_a, p.lag())
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        assert!(!waiter.is_finished(), "batch 4 is not indexed yet");
        p.indexed(4, [&a].into_iter());
        std::thread::sleep(Duration::from_millis(20));
        assert!(!waiter.is_finished(), "waiting for batch 5 now");
        p.indexed(5, [&b].into_iter());
        assert_eq!(waiter.join().unwrap(), (1, 0));
        p.wait_key("a").unwrap();
    }

    #[test]
    fn the_writer_waits_while_the_backlog_is_full() {
        let p = Arc::new(Progress::starting_at(0));
        let k: Arc<str> = "k".into();
        p.journaled(1, [&k, &k, &k].into_iter());
        let long = Duration::from_secs(30);
        assert!(p.wait_for_room(4, long));
        let writer = {
            let p = p.clone();
            std::thread::spawn(move || p.wait_for_room(3, long))
        };
        std::thread::sleep(Duration::from_millis(20));
        assert!(!writer.is_finished(), "three writes wait for the indexer");
        p.taken(1);
        assert!(writer.join().unwrap());
        // An indexer that takes nothing is waited for only so long.
        p.journaled(2, [&k, &k, &k].into_iter());
        assert!(!p.wait_for_room(3, Duration::from_millis(20)));
    }

    #[test]
    fn a_slow_indexer_that_keeps_moving_is_waited_for_past_the_patience() {
        let p = Arc::new(Progress::starting_at(0));
        let k: Arc<str> = "k".into();
        let keys: Vec<&Arc<str>> = std::iter::repeat_n(&k, 10).collect();
        p.journaled(1, keys.into_iter());
        let indexer = {
            let p = p.clone();
            std::thread::spawn(move || {
                for _ in 0..8 {
                    std::thread::sleep(Duration::from_millis(40));
                    p.taken(1);
                }
            })
        };
        // 8 takes 40 ms apart: 320 ms in all, each within the 100 ms patience.
        assert!(p.wait_for_room(3, Duration::from_millis(100)), "a moving indexer is waited for");
        indexer.join().unwrap();
        assert!(!p.wait_for_room(2, Duration::from_millis(100)), "a still one is not");
    }

    #[test]
    fn a_stuck_indexer_fails_reads_at_once_and_a_recovered_one_serves_them() {
        let p = Arc::new(Progress::starting_at(0));
        let k: Arc<str> = "k".into();
        p.journaled(1, [&k].into_iter());
        p.set_stuck(Some("database or disk is full".into()));
        let started = std::time::Instant::now();
        let e = p.wait_key("k").unwrap_err();
        assert!(e.to_string().contains("disk is full"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(1));
        p.set_stuck(None);
        p.indexed(1, [&k].into_iter());
        p.wait_key("k").unwrap();
    }

    #[test]
    fn a_stopped_indexer_fails_waiting_reads() {
        let p = Arc::new(Progress::starting_at(0));
        p.journaled(1, std::iter::empty());
        let waiter = {
            let p = p.clone();
            std::thread::spawn(move || p.wait_all())
        };
        p.stop();
        assert_eq!(waiter.join().unwrap(), Err(StoreError::Closed));
    }
}
