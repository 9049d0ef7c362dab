//! What belongs to a user rather than to a conversation: their C2C receive options (by peer)
//! and the per-user call windows of rate-limited APIs.

use std::collections::HashMap;

use dashmap::DashMap;

use crate::ids::UserId;
use crate::member::ReceiveOpt;
use crate::rate_limit::CallWindow;
use crate::store::{Store, StoreError};

#[derive(Debug, Default)]
pub struct UserDirectory {
    /// Loaded lazily from the store, then kept current by every change.
    c2c_opts: DashMap<UserId, HashMap<String, ReceiveOpt>>,
    windows: DashMap<(UserId, &'static str), CallWindow>,
}

impl UserDirectory {
    fn ensure_loaded(&self, store: &Store, owner: &str) -> Result<(), StoreError> {
        if !self.c2c_opts.contains_key(owner) {
            let opts = store.c2c_receive_opts(owner)?;
            self.c2c_opts.entry(owner.into()).or_insert(opts);
        }
        Ok(())
    }

    /// `owner`'s option for C2C messages from `peer`. A store failure reads as the default.
    pub fn c2c_opt(&self, store: &Store, owner: &str, peer: &str) -> ReceiveOpt {
        // Every C2C delivery asks this: once loaded, one lookup of the owner answers it.
        if let Some(opts) = self.c2c_opts.get(owner) {
            return opts.get(peer).copied().unwrap_or_default();
        }
        if let Err(e) = self.ensure_loaded(store, owner) {
            tracing::warn!(error = %e, "cannot load receive options");
            return ReceiveOpt::Receive;
        }
        self.c2c_opts.get(owner).and_then(|m| m.get(peer).copied()).unwrap_or_default()
    }

    /// Records options in memory; the caller persists them.
    pub fn set_c2c_opts(
        &self,
        store: &Store,
        owner: &UserId,
        peers: &[String],
        opt: ReceiveOpt,
    ) -> Result<(), StoreError> {
        self.ensure_loaded(store, owner)?;
        let mut entry = self.c2c_opts.entry(owner.clone()).or_default();
        for p in peers {
            entry.insert(p.clone(), opt);
        }
        Ok(())
    }

    /// Admits a call of `api` by `user` if it is within `max_calls` per `window_ms`.
    pub fn admit_call(&self, user: &UserId, api: &'static str, now_ms: u64, window_ms: u64, max_calls: u32) -> bool {
        self.windows.entry((user.clone(), api)).or_default().admit(now_ms, window_ms, max_calls)
    }
}
