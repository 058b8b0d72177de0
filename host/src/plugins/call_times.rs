//! How long one plugin version's calls take, kept lock-free on the call
//! path: one atomic counter per bucket of the shadow report's
//! [`Latency`] (a quarter power of two of microseconds, ~19 % wide) and
//! the running total. [`CallTimes::latency`] reads them into a `Latency`,
//! whose quantiles the admin API and the console show (mean and p99 per
//! version). One atomic add per call; nothing allocates.

use super::shadow_report::Latency;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Buckets kept: up to 2^48 µs (years); longer calls count in the last.
const BUCKETS: usize = 4 * 48;

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

impl CallTimes {
    /// Counts one call that took `elapsed`.
    pub(crate) fn record(&self, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.total_micros.fetch_add(micros, Ordering::Relaxed);
        let bucket = usize::try_from(Latency::bucket(micros)).unwrap_or(usize::MAX);
        self.buckets[bucket.min(BUCKETS - 1)].fetch_add(1, Ordering::Relaxed);
    }

    /// Time spent in calls, microseconds.
    pub(crate) fn total_micros(&self) -> u64 {
        self.total_micros.load(Ordering::Relaxed)
    }

    /// The calls so far as a histogram.
    pub(crate) fn latency(&self) -> Latency {
        let mut latency = Latency {
            total_us: self.total_micros(),
            ..Latency::default()
        };
        for (i, b) in self.buckets.iter().enumerate() {
            let n = b.load(Ordering::Relaxed);
            if n > 0 {
                latency.count += n;
                latency
                    .buckets
                    .insert(u32::try_from(i).unwrap_or(u32::MAX), n);
            }
        }
        latency
    }

    /// The call time 99 % of the calls stayed within, microseconds (the
    /// middle of its bucket); `None` before the first call.
    pub(crate) fn p99_micros(&self) -> Option<u64> {
        let latency = self.latency();
        (latency.count > 0).then(|| latency.quantile_us(0.99))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_p99_is_the_slow_tail_and_the_total_is_exact() {
        let t = CallTimes::default();
        assert_eq!(t.p99_micros(), None);
        for _ in 0..990 {
            t.record(Duration::from_micros(100));
        }
        for _ in 0..10 {
            t.record(Duration::from_micros(50_000));
        }
        assert_eq!(t.total_micros(), 990 * 100 + 10 * 50_000);
        let latency = t.latency();
        assert_eq!(latency.count, 1000);
        assert_eq!(latency.mean_us(), 599);
        let p99 = t.p99_micros().unwrap_or_default();
        assert!(
            (90..=110).contains(&p99),
            "the 990th call is still fast: {p99}"
        );
        let p999 = latency.quantile_us(0.999);
        assert!((45_000..=55_000).contains(&p999), "{p999}");
        // Far past the last bucket: counted there, not lost.
        t.record(Duration::from_secs(u64::MAX / 4));
        assert_eq!(t.latency().count, 1001);
    }
}
