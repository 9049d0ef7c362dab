//! What belongs to a user rather than to a conversation: their C2C receive options (by peer)
//! and the per-user call windows of rate-limited APIs.
//!
//! Both are caches of bounded size: past [`MAX_ENTRIES`] owners (or windows), what can be had
//! again for nothing is dropped — owners whose options are all the default (they reload from
//! the store as they were), windows that no longer limit anything. Every C2C receiver passes
//! through here, so without that the maps grew with every user ever messaged.

use dashmap::DashMap;
use dashmap::mapref::one::Ref;

use crate::ids::UserId;
use crate::member::ReceiveOpt;
use crate::rate_limit::CallWindow;
use crate::store::{ReceiveOpts, Store, StoreError};

/// Entries each map holds before it drops what it can rebuild.
pub const MAX_ENTRIES: usize = 65_536;

/// The longest window any rate-limited API uses; an older window limits nothing.
const LONGEST_WINDOW_MS: u64 = 60_000;

#[derive(Debug, Default)]
pub struct UserDirectory {
    /// Loaded lazily from the store, then kept current by every change.
    /// Every C2C delivery looks its receiver up here, then the sender in the receiver's
    /// options: foldhash, not SipHash, for both.
    c2c_opts: DashMap<UserId, ReceiveOpts, foldhash::fast::RandomState>,
    windows: DashMap<(UserId, &'static str), CallWindow>,
}

impl UserDirectory {
    /// `owner`'s options, loaded from the store the first time. Every C2C delivery asks, so
    /// once loaded one lookup of the owner answers.
    fn c2c_opts_of(&self, store: &Store, owner: &str) -> Result<Ref<'_, UserId, ReceiveOpts>, StoreError> {
        if let Some(opts) = self.c2c_opts.get(owner) {
            return Ok(opts);
        }
        let opts = store.c2c_receive_opts(owner)?;
        if self.c2c_opts.len() >= MAX_ENTRIES {
            // Owners with no option set reload as they are; the others hold what the user set.
            self.c2c_opts.retain(|_, opts| !opts.is_empty());
        }
        Ok(self.c2c_opts.entry(owner.into()).or_insert(opts).downgrade())
    }

    /// `owner`'s option for C2C messages from `peer`. A store failure reads as the default.
    pub fn c2c_opt(&self, store: &Store, owner: &str, peer: &str) -> ReceiveOpt {
        match self.c2c_opts_of(store, owner) {
            Ok(opts) => opts.get(peer).copied().unwrap_or_default(),
            // A delivery cannot wait for the store to come back: the message is delivered (the
            // default option), and the failure is an error in the log and the metrics, not a
            // silent answer.
            Err(e) => {
                metrics::counter!("timsg_store_errors_total").increment(1);
                tracing::error!(owner, peer, error = %e, "cannot load receive options; delivering");
                ReceiveOpt::Receive
            }
        }
    }

    /// Records options in memory; the caller persists them.
    pub fn set_c2c_opts(
        &self,
        store: &Store,
        owner: &UserId,
        peers: &[String],
        opt: ReceiveOpt,
    ) -> Result<(), StoreError> {
        // Loaded first (and the read guard let go) so the stored options are not lost.
        drop(self.c2c_opts_of(store, owner)?);
        let mut entry = self.c2c_opts.entry(owner.clone()).or_default();
        for p in peers {
            entry.insert(p.clone(), opt);
        }
        Ok(())
    }

    /// Admits a call of `api` by `user` if it is within `max_calls` per `window_ms`.
    pub fn admit_call(&self, user: &UserId, api: &'static str, now_ms: u64, window_ms: u64, max_calls: u32) -> bool {
        if self.windows.len() >= MAX_ENTRIES {
            self.windows.retain(|_, w| w.is_current(now_ms, LONGEST_WINDOW_MS));
        }
        self.windows.entry((user.clone(), api)).or_default().admit(now_ms, window_ms, max_calls)
    }

    /// Owners and windows held (for tests and operators).
    pub fn cached(&self) -> (usize, usize) {
        (self.c2c_opts.len(), self.windows.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Durability, EngineConfig};

    #[test]
    fn the_caches_drop_what_they_can_rebuild_past_their_bound() {
        let users = UserDirectory::default();
        for i in 0..MAX_ENTRIES + 10 {
            assert!(users.admit_call(&format!("u{i}").as_str().into(), "ListDelete", 0, 1000, 1));
        }
        assert!(users.cached().1 > MAX_ENTRIES);
        // Later, every old window has run out: they go, and limits still hold.
        let later = 2 * LONGEST_WINDOW_MS;
        let again: UserId = "u1".into();
        assert!(users.admit_call(&again, "ListDelete", later, 1000, 1));
        assert!(!users.admit_call(&again, "ListDelete", later, 1000, 1));
        assert_eq!(users.cached().1, 1);

        let store = Store::open(&EngineConfig { durability: Durability::Memory, ..Default::default() }).unwrap();
        let owner: UserId = "keeper".into();
        users.set_c2c_opts(&store, &owner, &["spammer".to_string()], ReceiveOpt::NotReceive).unwrap();
        for i in 0..MAX_ENTRIES + 10 {
            assert_eq!(users.c2c_opt(&store, &format!("r{i}"), "x"), ReceiveOpt::Receive);
        }
        assert!(users.cached().0 <= MAX_ENTRIES + 1, "{}", users.cached().0);
        assert_eq!(users.c2c_opt(&store, "keeper", "spammer"), ReceiveOpt::NotReceive, "set options stay");
    }
}
