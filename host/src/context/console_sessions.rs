//! The console's sessions: signing in with the admin token creates a random
//! session id, which the browser keeps in an HTTP-only cookie; the host
//! keeps only the id's SHA-256 and the session's expiry, so neither the
//! token nor a usable id is ever stored or sent back. Sessions live in this
//! host's memory: a restart signs everyone out, and behind a load balancer
//! a session belongs to the host that created it.

use rand::Rng;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a session lasts after sign-in, however active.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 3600);

/// Sessions kept at most; past it, signing in drops the oldest.
const MAX_SESSIONS: usize = 1024;

/// Signed-in console sessions, by the SHA-256 of their id.
#[derive(Debug, Default)]
pub struct ConsoleSessions {
    sessions: Mutex<HashMap<[u8; 32], Instant>>,
}

impl ConsoleSessions {
    /// A new session lasting [`SESSION_LIFETIME`] from `now`: its id (64 hex
    /// digits from 256 random bits), for the cookie.
    pub fn create(&self, now: Instant) -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let id = hex::encode(bytes);
        let mut sessions = self.lock();
        sessions.retain(|_, expires| *expires > now);
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = sessions.iter().min_by_key(|(_, e)| **e).map(|(k, _)| *k)
        {
            sessions.remove(&oldest);
        }
        sessions.insert(digest(&id), now + SESSION_LIFETIME);
        id
    }

    /// Whether `id` is a session that has not expired at `now`.
    pub fn valid(&self, id: &str, now: Instant) -> bool {
        if id.len() != 64 {
            return false;
        }
        let mut sessions = self.lock();
        match sessions.get(&digest(id)) {
            Some(expires) if *expires > now => true,
            Some(_) => {
                sessions.remove(&digest(id));
                false
            }
            None => false,
        }
    }

    /// Ends session `id` (signing out).
    pub fn end(&self, id: &str) {
        self.lock().remove(&digest(id));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Instant>> {
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn digest(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_valid_until_it_expires_or_ends() {
        let sessions = ConsoleSessions::default();
        let t0 = Instant::now();
        let id = sessions.create(t0);
        assert_eq!(id.len(), 64);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(id, sessions.create(t0), "every session id is new");
        assert!(sessions.valid(&id, t0 + Duration::from_secs(60)));
        assert!(!sessions.valid(&id, t0 + SESSION_LIFETIME), "expired");
        assert!(
            !sessions.valid(&id, t0),
            "an expired session is forgotten, not revived"
        );
        let other = sessions.create(t0);
        sessions.end(&other);
        assert!(!sessions.valid(&other, t0));
        assert!(!sessions.valid("", t0));
        assert!(!sessions.valid(&"0".repeat(64), t0), "an id never issued");
    }

    #[test]
    fn past_the_cap_the_oldest_session_goes() {
        let sessions = ConsoleSessions::default();
        let t0 = Instant::now();
        let first = sessions.create(t0);
        let ids: Vec<String> = (1..MAX_SESSIONS as u64)
            .map(|i| sessions.create(t0 + Duration::from_millis(i)))
            .collect();
        assert!(sessions.valid(&first, t0));
        let newest = sessions.create(t0 + Duration::from_secs(10));
        assert!(!sessions.valid(&first, t0), "the oldest made room");
        assert!(sessions.valid(&ids[0], t0));
        assert!(sessions.valid(&newest, t0));
    }
}
