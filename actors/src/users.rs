//! What belongs to a user rather than to a conversation: their C2C receive options (by peer)
//! and the per-user call windows of rate-limited APIs.

use std::collections::HashMap;

use dashmap::DashMap;
use dashmap::mapref::one::Ref;

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
    /// `owner`'s options, loaded from the store the first time. Every C2C delivery asks, so
    /// once loaded one lookup of the owner answers.
    fn c2c_opts_of(
        &self,
        store: &Store,
        owner: &str,
    ) -> Result<Ref<'_, UserId, HashMap<String, ReceiveOpt>>, StoreError> {
        if let Some(opts) = self.c2c_opts.get(owner) {
            return Ok(opts);
        }
        let opts = store.c2c_receive_opts(owner)?;
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
        self.windows.entry((user.clone(), api)).or_default().admit(now_ms, window_ms, max_calls)
    }
}
