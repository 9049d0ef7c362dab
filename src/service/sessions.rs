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
    /// One login at a time per user, held while that user's login reads the store — not the
    /// map's shard, which other users' requests need.
    logins: parking_lot::Mutex<std::collections::HashMap<String, Arc<parking_lot::Mutex<()>>>>,
    epoch: Instant,
}

impl Default for SessionTable {
    fn default() -> Self {
        SessionTable { users: DashMap::new(), logins: Default::default(), epoch: Instant::now() }
    }
}

impl SessionTable {
    fn guard(&self, user: &Arc<ServiceUser>) -> ActivityGuard {
        // Counted while the map entry is held, so a reap in between cannot miss it.
        user.active.fetch_add(1, Ordering::AcqRel);
        ActivityGuard { user: user.clone(), epoch: self.epoch }
    }

    /// `user`'s session, made by `login` if the user has none; active while the guard lives.
    /// A login (which reads the store, and may wait for it) holds up only other logins of the
    /// same user, which then use the session it made.
    pub fn activate(
        &self,
        user: &str,
        login: impl FnOnce() -> Result<(Arc<Session>, Arc<UserHub>), TimError>,
    ) -> Result<ActivityGuard, TimError> {
        if let Some(u) = self.users.get(user) {
            return Ok(self.guard(&u));
        }
        let gate = self.logins.lock().entry(user.to_string()).or_default().clone();
        let activated = {
            let _one_login = gate.lock();
            match self.users.get(user).map(|u| self.guard(&u)) {
                Some(guard) => Ok(guard),
                None => login().map(|(session, hub)| {
                    let u = Arc::new(ServiceUser {
                        session,
                        hub,
                        active: AtomicUsize::new(0),
                        last_seen_ms: AtomicU64::new(self.epoch.elapsed().as_millis() as u64),
                    });
                    // Active before it is in the table, so a reap cannot take it in between.
                    let guard = self.guard(&u);
                    self.users.insert(user.to_string(), u);
                    guard
                }),
            }
        };
        let mut logins = self.logins.lock();
        // Nobody else holds the gate (the map's reference and ours): it can go.
        if Arc::strong_count(&gate) == 2 {
            logins.remove(user);
        }
        activated
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

    /// Ends `user`'s session now (a kick): its next request logs it in anew.
    pub fn end(&self, user: &str) {
        self.users.remove(user);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{Runtime, RuntimeConfig};
    use timsg_actors::Durability;

    fn login(runtime: &Runtime, user: &str) -> Result<(Arc<Session>, Arc<UserHub>), TimError> {
        Ok((Arc::new(runtime.login(user)?), Arc::new(UserHub::new(16, 1 << 20, 16))))
    }

    /// A login that takes its time (a store catching up) holds up neither other users — also
    /// those whose entries share its map shard — nor creates a second session for its own user.
    #[test]
    fn a_slow_login_holds_up_only_its_own_user() {
        let runtime = Runtime::open(RuntimeConfig { durability: Durability::Memory, ..Default::default() }).unwrap();
        let table = Arc::new(SessionTable::default());
        // Enough users to sit in every shard of the map.
        let others: Vec<String> = (0..256).map(|i| format!("u{i}")).collect();
        for u in &others {
            drop(table.activate(u, || login(&runtime, u)).unwrap());
        }
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let logins = Arc::new(AtomicUsize::new(0));
        std::thread::scope(|scope| {
            let slow = {
                let (table, runtime, logins) = (table.clone(), &runtime, logins.clone());
                scope.spawn(move || {
                    table
                        .activate("slow", || {
                            logins.fetch_add(1, Ordering::SeqCst);
                            started_tx.send(()).unwrap();
                            std::thread::sleep(Duration::from_millis(800));
                            login(runtime, "slow")
                        })
                        .map(drop)
                })
            };
            started_rx.recv().unwrap();
            let began = Instant::now();
            for u in &others {
                drop(table.activate(u, || panic!("{u} is logged in already")).unwrap());
            }
            assert!(began.elapsed() < Duration::from_millis(400), "other users waited: {:?}", began.elapsed());
            // The same user waits for the login in progress and uses its session.
            let again = table.activate("slow", || {
                logins.fetch_add(1, Ordering::SeqCst);
                login(&runtime, "slow")
            });
            assert!(again.is_ok());
            slow.join().unwrap().unwrap();
        });
        assert_eq!(logins.load(Ordering::SeqCst), 1, "one login for the user");
        assert!(table.logins.lock().is_empty(), "no gate left behind");
        runtime.shutdown();
    }
}
