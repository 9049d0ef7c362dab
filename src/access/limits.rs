//! Per-user limits of remote callers: how many new conversations and groups a user may make a
//! minute, and how many media bytes they may upload a day. Each is an allowance that refills
//! continuously (a token bucket sized to its period), so there is no window edge to burst at.
//! A refusal is a TIM code (7008 for rates, 7005 for bytes) and a count in
//! `timsg_limits_refused_total{limit}`.

use std::collections::HashSet;

use dashmap::DashMap;
use parking_lot::Mutex;
use serde::Deserialize;
use timsg_actors::ids::ConvKey;

use crate::error::{TimError, code};

/// The limits, configurable (`[limits]` in the service's TOML file); 0 turns one off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UserLimits {
    /// Conversations a user may start a minute (a first C2C message to a peer, counting each
    /// new receiver of a batch send).
    pub new_conversations_per_minute: u32,
    /// Groups a user may create a minute.
    pub new_groups_per_minute: u32,
    /// Bytes of media a user may upload (`PUT /v1/blobs`) a day.
    pub blob_bytes_per_day: u64,
}

impl Default for UserLimits {
    fn default() -> Self {
        UserLimits { new_conversations_per_minute: 1000, new_groups_per_minute: 60, blob_bytes_per_day: 2 << 30 }
    }
}

/// An allowance of `capacity` per `period_ms`, refilled continuously.
#[derive(Debug, Clone)]
struct Allowance {
    left: f64,
    at_ms: u64,
}

impl Allowance {
    fn full(capacity: u64, now_ms: u64) -> Allowance {
        Allowance { left: capacity as f64, at_ms: now_ms }
    }

    /// Takes `n` if that much is left (all or nothing).
    fn take(&mut self, n: u64, capacity: u64, period_ms: u64, now_ms: u64) -> bool {
        let elapsed = now_ms.saturating_sub(self.at_ms) as f64;
        self.left = (self.left + elapsed * capacity as f64 / period_ms as f64).min(capacity as f64);
        self.at_ms = now_ms;
        if n as f64 <= self.left {
            self.left -= n as f64;
            true
        } else {
            false
        }
    }
}

/// One user's allowances and the conversations they are known to have.
#[derive(Debug, Default)]
struct Usage {
    conversations: Option<Allowance>,
    groups: Option<Allowance>,
    blob_bytes: Option<Allowance>,
    /// Conversations this user has (read from the store once, then kept up to date), so only
    /// new ones count.
    known: Option<HashSet<ConvKey>>,
}

const MINUTE_MS: u64 = 60_000;
const DAY_MS: u64 = 86_400_000;

/// What a limit is called in metrics and descriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    NewConversations,
    NewGroups,
    BlobBytes,
}

impl Limit {
    pub fn name(self) -> &'static str {
        match self {
            Limit::NewConversations => "new_conversations",
            Limit::NewGroups => "new_groups",
            Limit::BlobBytes => "blob_bytes",
        }
    }
}

/// Every remote user's usage against [`UserLimits`].
#[derive(Debug, Default)]
pub struct LimitBook {
    limits: UserLimits,
    users: DashMap<String, Mutex<Usage>>,
}

impl LimitBook {
    pub fn new(limits: UserLimits) -> LimitBook {
        LimitBook { limits, users: DashMap::new() }
    }

    fn refuse(limit: Limit, desc: String) -> TimError {
        metrics::counter!("timsg_limits_refused_total", "limit" => limit.name()).increment(1);
        let code = match limit {
            Limit::BlobBytes => code::ERR_SDK_COMM_FILE_TOO_LARGE,
            _ => code::ERR_SDK_COMM_API_CALL_FREQUENCY_LIMIT,
        };
        TimError::new(code, desc)
    }

    /// Takes `n` of `user`'s `limit`, or refuses with its code.
    pub fn take(&self, user: &str, limit: Limit, n: u64, now_ms: u64) -> Result<(), TimError> {
        let (capacity, period, unit) = match limit {
            Limit::NewConversations => (u64::from(self.limits.new_conversations_per_minute), MINUTE_MS, "a minute"),
            Limit::NewGroups => (u64::from(self.limits.new_groups_per_minute), MINUTE_MS, "a minute"),
            Limit::BlobBytes => (self.limits.blob_bytes_per_day, DAY_MS, "bytes a day"),
        };
        if capacity == 0 || n == 0 {
            return Ok(());
        }
        let entry = self.users.entry(user.to_string()).or_default();
        let mut usage = entry.lock();
        let slot = match limit {
            Limit::NewConversations => &mut usage.conversations,
            Limit::NewGroups => &mut usage.groups,
            Limit::BlobBytes => &mut usage.blob_bytes,
        };
        let allowance = slot.get_or_insert_with(|| Allowance::full(capacity, now_ms));
        if allowance.take(n, capacity, period, now_ms) {
            Ok(())
        } else {
            let what = limit.name().replace('_', " ");
            Err(Self::refuse(limit, format!("over the limit of {capacity} {what} {unit} for {user}")))
        }
    }

    /// Admits the conversations of `keys` that `user` does not have yet (`load` lists the ones
    /// they have, asked once per user): all of them against the new-conversation allowance, or
    /// none. The admitted ones are known from then on.
    pub fn admit_conversations(
        &self,
        user: &str,
        keys: &[ConvKey],
        now_ms: u64,
        load: impl FnOnce() -> Result<Vec<ConvKey>, TimError>,
    ) -> Result<(), TimError> {
        if self.limits.new_conversations_per_minute == 0 {
            return Ok(());
        }
        // The store is read with no lock held (it may wait for the indexer); two first calls
        // of one user may both read it, and the first to finish keeps its answer.
        let loaded = self.users.get(user).is_some_and(|e| e.lock().known.is_some());
        let from_store: Option<HashSet<ConvKey>> = if loaded { None } else { Some(load()?.into_iter().collect()) };
        let new: Vec<ConvKey> = {
            let entry = self.users.entry(user.to_string()).or_default();
            let mut usage = entry.lock();
            if usage.known.is_none() {
                match from_store {
                    Some(set) => usage.known = Some(set),
                    // Forgotten in between (the session ended): count nothing as known.
                    None => usage.known = Some(HashSet::new()),
                }
            }
            let known = usage.known.as_ref().expect("set above");
            let mut new: Vec<ConvKey> = keys.iter().filter(|k| !known.contains(*k)).cloned().collect();
            new.sort();
            new.dedup();
            new
        };
        if new.is_empty() {
            return Ok(());
        }
        self.take(user, Limit::NewConversations, new.len() as u64, now_ms)?;
        if let Some(entry) = self.users.get(user)
            && let Some(known) = entry.lock().known.as_mut()
        {
            known.extend(new);
        }
        Ok(())
    }

    /// Forgets `user`'s known conversations (their session ended; the next one reads them
    /// again), keeping the allowances, which are small.
    pub fn forget_conversations(&self, user: &str) {
        if let Some(entry) = self.users.get(user) {
            entry.lock().known = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allowance_refills_over_its_period_and_takes_all_or_nothing() {
        let mut a = Allowance::full(60, 0);
        assert!(a.take(60, 60, MINUTE_MS, 0));
        assert!(!a.take(1, 60, MINUTE_MS, 999));
        assert!(a.take(1, 60, MINUTE_MS, 1_000), "one a second comes back");
        assert!(!a.take(10, 60, MINUTE_MS, 2_000));
        assert!(a.take(60, 60, MINUTE_MS, 10 * MINUTE_MS), "never above capacity");
        assert!(!a.take(1, 60, MINUTE_MS, 10 * MINUTE_MS));
    }

    #[test]
    fn only_new_conversations_count_and_a_refusal_has_its_code() {
        let book = LimitBook::new(UserLimits { new_conversations_per_minute: 2, ..Default::default() });
        let key = |peer: &str| ConvKey::c2c("alice", peer);
        book.admit_conversations("alice", &[key("old")], 0, || Ok(vec![key("old")])).unwrap();
        book.admit_conversations("alice", &[key("a"), key("b"), key("a")], 0, || unreachable!()).unwrap();
        book.admit_conversations("alice", &[key("a"), key("old")], 0, || unreachable!()).unwrap();
        let e = book.admit_conversations("alice", &[key("c")], 0, || unreachable!()).unwrap_err();
        assert_eq!(e.code, 7008);
        assert!(e.desc.contains("new conversations"), "{}", e.desc);
        book.admit_conversations("bob", &[ConvKey::c2c("bob", "x")], 0, || Ok(vec![])).unwrap();
        let bytes = LimitBook::new(UserLimits { blob_bytes_per_day: 10, ..Default::default() });
        bytes.take("u", Limit::BlobBytes, 10, 0).unwrap();
        assert_eq!(bytes.take("u", Limit::BlobBytes, 1, 0).unwrap_err().code, 7005);
    }
}
