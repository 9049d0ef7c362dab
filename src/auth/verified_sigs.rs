//! The UserSigs the service has verified, so that a caller presenting the same one on every
//! request (a bot on the REST API, an app calling over HTTP) is not decoded, decompressed and
//! HMAC-checked each time: that took about 216,000 instructions a request, more than the
//! message the request sent.
//!
//! Only a UserSig whose signature is the app's gets in, so a caller cannot fill the cache with
//! made-up ones; its claims (user, SDKAppID, lifetime) are checked again at every use, so an
//! expired UserSig is refused as before, and revocations are checked by the caller as before.
//! The cache is bounded: when full it starts over (the next requests verify afresh).

use dashmap::DashMap;

use super::usersig::{Claims, signed_claims};
use crate::error::TimError;

/// UserSigs kept at most: at a few hundred bytes each, about 4 MB.
pub const CAPACITY: usize = 16_384;

#[derive(Debug)]
pub struct VerifiedSigs {
    key: String,
    capacity: usize,
    claims: DashMap<Box<str>, Claims, foldhash::fast::RandomState>,
}

impl VerifiedSigs {
    /// A cache of UserSigs signed with `key`, holding at most `capacity`.
    pub fn new(key: &str, capacity: usize) -> VerifiedSigs {
        VerifiedSigs { key: key.to_string(), capacity: capacity.max(1), claims: DashMap::default() }
    }

    /// As [`usersig::verify_issued`](super::usersig::verify_issued) with this cache's key: the
    /// time `sig` was made if it admits `identifier` of app `sdkappid` at `now` (s).
    pub fn verify_issued(&self, sig: &str, sdkappid: u64, identifier: &str, now: u64) -> Result<u64, TimError> {
        if let Some(claims) = self.claims.get(sig) {
            return claims.admit(sdkappid, identifier, now);
        }
        let claims = signed_claims(sig, &self.key)?;
        let admitted = claims.admit(sdkappid, identifier, now);
        if self.claims.len() >= self.capacity {
            self.claims.clear();
        }
        self.claims.insert(sig.into(), claims);
        admitted
    }

    /// UserSigs held.
    pub fn len(&self) -> usize {
        self.claims.len()
    }

    pub fn is_empty(&self) -> bool {
        self.claims.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::usersig::{
        ERR_USER_SIG_EXPIRED, ERR_USERSIG_IDENTIFIER_MISMATCH, ERR_USERSIG_INVALID, ERR_USERSIG_SDKAPPID_MISMATCH,
        generate, verify_issued,
    };

    const APP: u64 = 1_400_000_000;

    #[test]
    fn a_cached_usersig_answers_as_a_fresh_verification_does() {
        let cache = VerifiedSigs::new("secret", 8);
        let sig = generate(APP, "secret", "alice", 100, 1_000);
        let asks = [(APP, "alice", 1_050), (APP, "bob", 1_050), (APP + 1, "alice", 1_050), (APP, "alice", 1_101)];
        for round in 0..2 {
            for (app, user, now) in asks {
                let cached = cache.verify_issued(&sig, app, user, now).map_err(|e| e.code);
                assert_eq!(cached, verify_issued(&sig, app, "secret", user, now).map_err(|e| e.code), "round {round}");
            }
            assert_eq!(cache.len(), 1, "verified once, then taken from the cache");
        }
        assert_eq!(cache.verify_issued(&sig, APP, "alice", 1_050).unwrap(), 1_000);
        assert_eq!(cache.verify_issued(&sig, APP, "bob", 1_050).unwrap_err().code, ERR_USERSIG_IDENTIFIER_MISMATCH);
        assert_eq!(cache.verify_issued(&sig, APP + 1, "alice", 1_050).unwrap_err().code, ERR_USERSIG_SDKAPPID_MISMATCH);
        assert_eq!(cache.verify_issued(&sig, APP, "alice", 1_101).unwrap_err().code, ERR_USER_SIG_EXPIRED);
    }

    #[test]
    fn forged_usersigs_stay_out_and_the_cache_stays_bounded() {
        let cache = VerifiedSigs::new("secret", 4);
        let forged = generate(APP, "another key", "alice", 100, 1_000);
        for _ in 0..3 {
            assert_eq!(cache.verify_issued(&forged, APP, "alice", 1_050).unwrap_err().code, ERR_USERSIG_INVALID);
            assert_eq!(
                cache.verify_issued("not a usersig", APP, "alice", 1_050).unwrap_err().code,
                ERR_USERSIG_INVALID
            );
        }
        assert!(cache.is_empty());
        for i in 0..10 {
            let user = format!("u{i}");
            let sig = generate(APP, "secret", &user, 100, 1_000);
            assert_eq!(cache.verify_issued(&sig, APP, &user, 1_000).unwrap(), 1_000);
            assert!(cache.len() <= 4);
        }
    }
}
