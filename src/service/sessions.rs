//! The service's logged-in users: a [`Session`] and an event hub per user, made at the user's
//! first request and ended once the user has had no open WebSocket and no call in flight for
//! the configured idle time. Ending it logs the user out — their hub's event log is freed and
//! their next request gets what they missed as an offline catch-up, as a device logging in
//! would — so memory follows the users who are here, not every user ever seen.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dashmap::DashMap;

use super::hub::UserHub;
use crate::error::TimError;
use crate::session::Session;

/// One logged-in user.
pub struct ServiceUser {
    pub session: Arc<Session>,
    pub hub: Arc<UserHub>,
    /// Open WebSockets and calls in flight.
    active: AtomicUsize,
    /// When the user was last active, in ms since the table's start.
    last_seen_ms: AtomicU64,
}

/// While held, the user counts as active (a WebSocket open, a call running); dropping it marks
/// the time the activity ended.
pub struct ActivityGuard {
    user: Arc<ServiceUser>,
    epoch: Instant,
}

impl ActivityGuard {
    pub fn session(&self) -> &Arc<Session> {
        &self.user.session
    }

    pub fn hub(&self) -> &Arc<UserHub> {
        &self.user.hub
    }
}

impl Drop for ActivityGuard {
    fn drop(&mut self) {
        self.user.last_seen_ms.store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        self.user.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Every logged-in user of the service.
pub struct SessionTable {
    users: DashMap<String, Arc<ServiceUser>>,
    epoch: Instant,
}

impl Default for SessionTable {
    fn default() -> Self {
        SessionTable { users: DashMap::new(), epoch: Instant::now() }
    }
}

impl SessionTable {
    fn guard(&self, user: &Arc<ServiceUser>) -> ActivityGuard {
        // Counted while the map entry is held, so a reap in between cannot miss it.
        user.active.fetch_add(1, Ordering::AcqRel);
        ActivityGuard { user: user.clone(), epoch: self.epoch }
    }

    /// `user`'s session, made by `login` if the user has none; active while the guard lives.
    pub fn activate(
        &self,
        user: &str,
        login: impl FnOnce() -> Result<(Arc<Session>, Arc<UserHub>), TimError>,
    ) -> Result<ActivityGuard, TimError> {
        if let Some(u) = self.users.get(user) {
            return Ok(self.guard(&u));
        }
        let entry = self.users.entry(user.to_string()).or_try_insert_with(|| {
            let (session, hub) = login()?;
            Ok::<_, TimError>(Arc::new(ServiceUser {
                session,
                hub,
                active: AtomicUsize::new(0),
                last_seen_ms: AtomicU64::new(self.epoch.elapsed().as_millis() as u64),
            }))
        })?;
        Ok(self.guard(&entry))
    }

    /// Ends the sessions of users inactive for `idle`; their IDs.
    pub fn reap(&self, idle: Duration) -> Vec<String> {
        let now = self.epoch.elapsed().as_millis() as u64;
        let idle_ms = idle.as_millis() as u64;
        let candidates: Vec<String> =
            self.users.iter().filter(|e| e.active.load(Ordering::Acquire) == 0).map(|e| e.key().clone()).collect();
        let mut ended = Vec::new();
        for user in candidates {
            let removed = self.users.remove_if(&user, |_, u| {
                u.active.load(Ordering::Acquire) == 0
                    && now.saturating_sub(u.last_seen_ms.load(Ordering::Relaxed)) >= idle_ms
            });
            if removed.is_some() {
                ended.push(user);
            }
        }
        ended
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    pub fn clear(&self) {
        self.users.clear();
    }
}
