//! Canary routing: while a canary of a plugin runs, a stable share of
//! business keys is handled by the candidate version and the rest by the
//! active one. Which side a key falls on is a pure function of the plugin
//! name and the key (the first 8 bytes of a sha256, never Rust's randomly
//! seeded hasher), so one shipment never flips between versions while the
//! canary runs, every host on a shared store splits the same way, and a
//! larger share keeps every key a smaller one had.
//!
//! What the split key is depends on where the plugin runs (the callers in
//! `process/` choose it): for outbound mappers, enrichment and validators
//! it is the canonical document's business key; for inbound mappers the
//! business key is only known after mapping, so it is the message's
//! business key when ingest knows it (a sync record), else its
//! idempotency key, else its message id.
//!
//! A [`Canary`] also keeps the counts that judge the candidate: calls and
//! failures (typed errors plus faults) of the candidate and of the active
//! version since the canary started on this host, and over a sliding
//! window of recent samples.

use super::loader::PluginVersion;
use super::registry::Registry;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Shares are kept in basis points: a percent with two decimals.
pub const BUCKETS: u32 = 10_000;

/// The bucket (0 to [`BUCKETS`] - 1) of `key` for `plugin`'s canaries.
pub fn bucket(plugin: &str, key: &str) -> u32 {
    let mut h = Sha256::new();
    h.update(b"waybill.canary\0");
    h.update(plugin.as_bytes());
    h.update([0]);
    h.update(key.as_bytes());
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % u64::from(BUCKETS)) as u32
}

/// `percent` (0 to 100) in basis points, rounded.
pub fn basis_points(percent: f64) -> u32 {
    (percent.clamp(0.0, 100.0) * 100.0).round() as u32
}

/// Whether `key` is handled by the candidate of a canary of `plugin` at
/// `percent`.
pub fn takes_candidate(plugin: &str, key: &str, percent: f64) -> bool {
    bucket(plugin, key) < basis_points(percent)
}

/// Calls and failures (typed errors plus faults) of one version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    /// Calls.
    pub calls: u64,
    /// Typed errors plus faults.
    pub errors: u64,
}

impl Tally {
    /// What `v` has counted since it was loaded.
    pub fn of(v: &PluginVersion) -> Self {
        let (calls, faults, _) = v.counters();
        Self {
            calls,
            errors: faults + v.errors(),
        }
    }

    /// Errors per call (0 without calls).
    pub fn rate(&self) -> f64 {
        if self.calls == 0 {
            0.0
        } else {
            self.errors as f64 / self.calls as f64
        }
    }

    fn since(self, base: Tally) -> Self {
        Self {
            calls: self.calls.saturating_sub(base.calls),
            errors: self.errors.saturating_sub(base.errors),
        }
    }
}

/// The counts of both sides of a canary over some span.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Sides {
    /// The candidate.
    pub candidate: Tally,
    /// The active version.
    pub active: Tally,
}

#[derive(Debug)]
struct Counts {
    /// The active version the counts are about (a swap restarts them).
    active_sha: String,
    /// Cumulative counts when the canary started here (or the active
    /// version changed).
    base: Sides,
    /// Samples (when, cumulative counts), oldest first, within the window.
    samples: VecDeque<(Instant, Sides)>,
}

/// One running canary on this host.
#[derive(Debug)]
pub struct Canary {
    /// Its number in the store.
    pub seq: i64,
    /// Plugin name.
    pub plugin: String,
    /// Share of keys for the candidate, 0 to 100.
    pub percent: f64,
    /// The candidate, loaded and admitted on this host.
    pub candidate: Arc<PluginVersion>,
    counts: Mutex<Counts>,
}

impl Canary {
    /// A canary of `candidate` at `percent`, compared with `active`.
    pub fn new(
        seq: i64,
        percent: f64,
        candidate: Arc<PluginVersion>,
        active: &PluginVersion,
    ) -> Self {
        let base = Sides {
            candidate: Tally::of(&candidate),
            active: Tally::of(active),
        };
        Self {
            seq,
            plugin: candidate.id.name.clone(),
            percent,
            candidate,
            counts: Mutex::new(Counts {
                active_sha: active.id.sha256.clone(),
                base,
                samples: VecDeque::new(),
            }),
        }
    }

    /// Whether `key` goes to the candidate.
    pub fn takes(&self, key: &str) -> bool {
        takes_candidate(&self.plugin, key, self.percent)
    }

    fn cumulative(&self, active: &PluginVersion) -> Sides {
        Sides {
            candidate: Tally::of(&self.candidate),
            active: Tally::of(active),
        }
    }

    /// Counts since the canary started on this host (or since `active`
    /// became the active version, for its side).
    pub fn totals(&self, active: &PluginVersion) -> Sides {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.rebase(&mut counts, active);
        Sides {
            candidate: now.candidate.since(counts.base.candidate),
            active: now.active.since(counts.base.active),
        }
    }

    /// Records a sample at `at` and returns the counts over the last
    /// `window` (since the canary started, while it is younger).
    pub fn sample(&self, active: &PluginVersion, at: Instant, window: Duration) -> Sides {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.rebase(&mut counts, active);
        counts.samples.push_back((at, now));
        // Keep the newest sample at least `window` old (where the window
        // starts) and every one after it.
        while counts
            .samples
            .get(1)
            .is_some_and(|(t, _)| at.saturating_duration_since(*t) >= window)
        {
            counts.samples.pop_front();
        }
        let (from_candidate, from_active) = match counts.samples.front() {
            Some((t, s)) if at.saturating_duration_since(*t) >= window => (s.candidate, s.active),
            // The canary (or its active side) is younger than the window.
            _ => (counts.base.candidate, counts.base.active),
        };
        Sides {
            candidate: now.candidate.since(from_candidate),
            active: now.active.since(from_active),
        }
    }

    /// Cumulative counts now; when the active version is another one
    /// than the counts were about, its side (and the window) start over.
    fn rebase(&self, counts: &mut Counts, active: &PluginVersion) -> Sides {
        let now = self.cumulative(active);
        if counts.active_sha != active.id.sha256 {
            counts.active_sha = active.id.sha256.clone();
            counts.base.active = now.active;
            counts.samples.clear();
        }
        now
    }
}

/// The running canaries of one host, by plugin name.
#[derive(Debug, Default)]
pub struct Canaries {
    running: RwLock<BTreeMap<String, Arc<Canary>>>,
}

impl Registry {
    /// The version that handles `key` for plugin `name`: the candidate of
    /// a running canary when the key falls in its share, else the active
    /// version. `None` when the plugin has no active version.
    pub fn get_for(&self, name: &str, key: &str) -> Option<Arc<PluginVersion>> {
        let active = self.get(name)?;
        let canary = self.canary(name);
        match canary {
            Some(c) if c.candidate.id.sha256 != active.id.sha256 && c.takes(key) => {
                Some(c.candidate.clone())
            }
            _ => Some(active),
        }
    }

    /// The running canary of `name` on this host.
    pub fn canary(&self, name: &str) -> Option<Arc<Canary>> {
        self.canaries
            .running
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    /// Every running canary on this host.
    pub fn canaries(&self) -> Vec<Arc<Canary>> {
        self.canaries
            .running
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Starts routing a share of `canary.plugin`'s keys to its candidate
    /// (which is kept among the plugin's loaded versions); replaces a
    /// canary of the plugin running before.
    pub fn start_canary(&self, canary: Arc<Canary>) {
        self.add_loaded(canary.candidate.clone());
        tracing::info!(plugin = %canary.plugin, candidate = %canary.candidate.label(), percent = canary.percent, seq = canary.seq, "plugin canary started on this host");
        self.canaries
            .running
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(canary.plugin.clone(), canary);
    }

    /// Sends every key of `name` back to the active version.
    pub fn stop_canary(&self, name: &str) -> Option<Arc<Canary>> {
        let stopped = self
            .canaries
            .running
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
        if let Some(c) = &stopped {
            tracing::info!(plugin = %name, candidate = %c.candidate.label(), seq = c.seq, "plugin canary stopped on this host");
        }
        stopped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(plugin: &str, percent: f64, keys: usize) -> f64 {
        let taken = (0..keys)
            .filter(|i| takes_candidate(plugin, &format!("SHIP-{i:06}"), percent))
            .count();
        taken as f64 * 100.0 / keys as f64
    }

    #[test]
    fn the_share_is_within_one_point_of_the_target_over_10000_keys() {
        for (plugin, percent) in [("acme-tms-milestone", 5.0), ("portal-visibility", 30.0)] {
            let got = share(plugin, percent, 10_000);
            assert!(
                (got - percent).abs() <= 1.0,
                "{plugin} at {percent}%: {got}% of 10,000 keys"
            );
        }
        assert_eq!(share("p", 0.0, 10_000), 0.0);
        assert_eq!(share("p", 100.0, 10_000), 100.0);
    }

    #[test]
    fn a_key_always_falls_on_the_same_side() {
        // Fixed values: the same on every host, build and run (a change
        // here would move live shipments between versions on upgrade).
        assert_eq!(
            bucket("acme-tms-milestone", "SHIP-1"),
            bucket("acme-tms-milestone", "SHIP-1")
        );
        let sides: Vec<bool> = (0..200)
            .map(|i| takes_candidate("acme-tms-milestone", &format!("SHIP-{i}"), 5.0))
            .collect();
        for _ in 0..3 {
            let again: Vec<bool> = (0..200)
                .map(|i| takes_candidate("acme-tms-milestone", &format!("SHIP-{i}"), 5.0))
                .collect();
            assert_eq!(again, sides);
        }
        assert!(sides.iter().any(|s| *s) && sides.iter().any(|s| !*s));
    }

    #[test]
    fn a_larger_share_keeps_every_key_of_a_smaller_one() {
        for i in 0..2_000 {
            let key = format!("ORDER-{i}");
            if takes_candidate("p", &key, 5.0) {
                assert!(takes_candidate("p", &key, 20.0), "{key}");
            }
        }
    }

    #[test]
    fn the_hash_is_fixed_not_seeded() {
        // sha256("waybill.canary\0p\0k"), first 8 bytes big-endian, mod 10,000.
        let mut h = Sha256::new();
        h.update(b"waybill.canary\0p\0k");
        let d = h.finalize();
        let expected = u64::from_be_bytes(d[..8].try_into().expect("8 bytes")) % 10_000;
        assert_eq!(u64::from(bucket("p", "k")), expected);
        assert_ne!(
            bucket("p", "k"),
            bucket("q", "k"),
            "the plugin name is part of the hash"
        );
    }

    #[test]
    fn shares_round_to_basis_points() {
        assert_eq!(basis_points(5.0), 500);
        assert_eq!(basis_points(0.01), 1);
        assert_eq!(basis_points(33.333), 3333);
        assert_eq!(basis_points(100.0), BUCKETS);
        assert_eq!(basis_points(250.0), BUCKETS);
    }
}
