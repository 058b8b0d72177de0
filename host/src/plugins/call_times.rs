//! How long one plugin version's calls take: a fixed, lock-free histogram
//! (four buckets per power of two of microseconds, so a percentile read
//! from it is within 19 % of the true value) beside the running total, for
//! the mean and the p99 the admin API and the console show. One atomic
//! add per call; nothing allocates.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Sub-buckets per power of two.
const STEPS: u32 = 4;
/// Powers of two covered: up to 2^32 µs (over an hour); longer calls
/// count in the last bucket.
const POWERS: u32 = 33;
const BUCKETS: usize = (POWERS * STEPS) as usize;

/// Call durations of one version.
#[derive(Debug)]
pub(crate) struct CallTimes {
    total_micros: AtomicU64,
    buckets: [AtomicU64; BUCKETS],
}

impl Default for CallTimes {
    fn default() -> Self {
        Self {
            total_micros: AtomicU64::new(0),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

/// The bucket of `micros`: below 4 µs one bucket per microsecond, then
/// the power of two and which quarter of it.
fn bucket(micros: u64) -> usize {
    if micros < u64::from(STEPS) {
        return micros as usize;
    }
    let power = 63 - micros.leading_zeros();
    let quarter = (micros >> (power - 2)) & 3;
    (((power - 1) * STEPS) as usize + quarter as usize).min(BUCKETS - 1)
}

/// The largest duration bucket `i` holds, microseconds.
fn upper_bound(i: usize) -> u64 {
    let i = i as u64;
    let steps = u64::from(STEPS);
    if i < steps {
        return i;
    }
    let (power, quarter) = (i / steps + 1, i % steps);
    ((steps + quarter + 1) << (power - 2)) - 1
}

impl CallTimes {
    /// Counts one call that took `elapsed`.
    pub(crate) fn record(&self, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.total_micros.fetch_add(micros, Ordering::Relaxed);
        self.buckets[bucket(micros)].fetch_add(1, Ordering::Relaxed);
    }

    /// Time spent in calls, microseconds.
    pub(crate) fn total_micros(&self) -> u64 {
        self.total_micros.load(Ordering::Relaxed)
    }

    /// The duration `q` (0..=1) of the calls took at most, microseconds
    /// (the upper bound of its bucket); `None` before the first call.
    pub(crate) fn quantile_micros(&self, q: f64) -> Option<u64> {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, n) in counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Some(upper_bound(i));
            }
        }
        Some(upper_bound(BUCKETS - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_what_their_bounds_say() {
        let mut last = 0;
        for micros in (0..5000).chain([65_535, 65_536, 1 << 31, u64::from(u32::MAX)]) {
            let i = bucket(micros);
            assert!(micros <= upper_bound(i), "{micros} in bucket {i}");
            if i > 0 {
                assert!(
                    micros > upper_bound(i - 1),
                    "{micros} above bucket {}",
                    i - 1
                );
            }
            assert!(i >= last, "buckets grow with the duration");
            last = i;
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
        // Within 25 % of the value (19 % relative to the bucket's top).
        for micros in [10, 100, 999, 4_545, 123_456] {
            let top = upper_bound(bucket(micros));
            assert!(top as f64 <= micros as f64 * 1.25, "{micros} -> {top}");
        }
    }

    #[test]
    fn the_p99_is_the_slow_tail_and_the_total_is_exact() {
        let t = CallTimes::default();
        assert_eq!(t.quantile_micros(0.99), None);
        for _ in 0..990 {
            t.record(Duration::from_micros(100));
        }
        for _ in 0..10 {
            t.record(Duration::from_micros(50_000));
        }
        assert_eq!(t.total_micros(), 990 * 100 + 10 * 50_000);
        let p50 = t.quantile_micros(0.5).unwrap_or_default();
        assert!((100..=125).contains(&p50), "{p50}");
        let p99 = t.quantile_micros(0.99).unwrap_or_default();
        assert!(
            (100..=125).contains(&p99),
            "the 990th call is still fast: {p99}"
        );
        let p999 = t.quantile_micros(0.999).unwrap_or_default();
        assert!((50_000..=62_500).contains(&p999), "{p999}");
    }
}
