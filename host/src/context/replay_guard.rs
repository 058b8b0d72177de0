//! Refuses a replayed HMAC-signed request: each accepted signature (keyed
//! by the signed `"<t>.<body>"`, so rotation or extra header parts do not
//! make a new key) is remembered until its timestamp leaves the tolerance
//! window, after which the signature check refuses it anyway. Memory is
//! bounded: entries expire with the window, and when `cap` live entries are
//! remembered a new one is refused rather than let the set grow.

use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

/// Why a signature was not remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// The same signed content was accepted before, inside its window.
    #[error("signature already used")]
    Replayed,
    /// `cap` live signatures are remembered already.
    #[error("replay cache full")]
    Full,
}

/// The key of a signed request: sha256 of `"<t>.<body>"`.
pub type ReplayKey = [u8; 32];

/// The key of a request signed at `t_text` over `body`.
pub fn replay_key(t_text: &str, body: &[u8]) -> ReplayKey {
    let mut digest = Sha256::new();
    digest.update(t_text.as_bytes());
    digest.update(b".");
    digest.update(body);
    digest.finalize().into()
}

/// The signatures accepted for one source.
#[derive(Debug)]
pub struct ReplayGuard {
    cap: usize,
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    /// key -> unix second after which it may be forgotten.
    expiry: HashMap<ReplayKey, i64>,
    /// (expiry, key), oldest first, to forget in order.
    by_expiry: BTreeSet<(i64, ReplayKey)>,
}

impl ReplayGuard {
    /// A guard remembering at most `cap` live signatures (at least 1).
    pub fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            seen: Mutex::new(Seen::default()),
        }
    }

    /// Remembers `key` until `expires_at` (unix seconds), or says why not.
    pub fn remember(&self, key: ReplayKey, expires_at: i64, now: i64) -> Result<(), ReplayError> {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while let Some(&(at, old)) = seen.by_expiry.first() {
            if at >= now {
                break;
            }
            seen.by_expiry.pop_first();
            seen.expiry.remove(&old);
        }
        if seen.expiry.contains_key(&key) {
            return Err(ReplayError::Replayed);
        }
        if seen.expiry.len() >= self.cap {
            return Err(ReplayError::Full);
        }
        seen.expiry.insert(key, expires_at);
        seen.by_expiry.insert((expires_at, key));
        Ok(())
    }

    /// Forgets `key`: its request was not stored after all, so the sender
    /// may retry it.
    pub fn forget(&self, key: &ReplayKey) {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(at) = seen.expiry.remove(key) {
            seen.by_expiry.remove(&(at, *key));
        }
    }

    /// Live signatures remembered (after the last purge).
    pub fn len(&self) -> usize {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .expiry
            .len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_refused_until_the_window_ends() {
        let guard = ReplayGuard::new(10);
        let key = replay_key("1000", b"{}");
        assert_eq!(guard.remember(key, 1300, 1000), Ok(()));
        assert_eq!(guard.remember(key, 1300, 1001), Err(ReplayError::Replayed));
        assert_eq!(guard.remember(key, 1300, 1300), Err(ReplayError::Replayed));
        // Past its expiry the entry is forgotten (the signature check
        // refuses such a request as too old anyway).
        assert_eq!(guard.remember(key, 1600, 1301), Ok(()));
        assert_eq!(guard.len(), 1);
        // Different content or timestamp: a different key.
        assert_ne!(replay_key("1000", b"{}"), replay_key("1001", b"{}"));
        assert_ne!(replay_key("1000", b"{}"), replay_key("1000", b"[]"));
    }

    #[test]
    fn bounded_and_expires() {
        let guard = ReplayGuard::new(3);
        for i in 0..3u8 {
            assert_eq!(guard.remember([i; 32], 100 + i64::from(i), 50), Ok(()));
        }
        assert_eq!(guard.remember([9; 32], 200, 50), Err(ReplayError::Full));
        assert_eq!(guard.len(), 3);
        // Once the first two expire there is room again.
        assert_eq!(guard.remember([9; 32], 200, 102), Ok(()));
        assert_eq!(guard.len(), 2);
        guard.forget(&[9; 32]);
        assert_eq!(guard.len(), 1);
        assert_eq!(guard.remember([9; 32], 200, 102), Ok(()));
    }
}
