//! A per-target circuit breaker: after `failure_threshold` consecutive
//! failures it opens and stops deliveries for `open_for`; then it lets exactly
//! one probe through (half-open). The probe's success closes it, its failure
//! opens it again.
//!
//! Time is passed in explicitly so the state machine is testable without
//! sleeping.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The breaker's state as seen at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Deliveries flow.
    Closed,
    /// Deliveries are held back until `until`.
    Open { until: Instant },
    /// One probe may go (or is in flight) to test the target.
    HalfOpen,
}

impl BreakerState {
    /// `closed`, `open` or `half-open`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open { .. } => "open",
            Self::HalfOpen => "half-open",
        }
    }
}

/// This host's breakers by target, shared with the delivery workers that
/// move them, so the admin overview can show their state.
#[derive(Debug, Default)]
pub struct Breakers(Mutex<BTreeMap<String, Arc<CircuitBreaker>>>);

impl Breakers {
    /// Registers `target`'s breaker (its worker's).
    pub fn register(&self, target: &str, breaker: Arc<CircuitBreaker>) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(target.to_string(), breaker);
    }

    /// Each registered target's state at `now`.
    pub fn states(&self, now: Instant) -> BTreeMap<String, BreakerState> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(target, b)| (target.clone(), b.state(now)))
            .collect()
    }
}

#[derive(Debug, Clone, Copy)]
enum Inner {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// `probe`: when the outstanding probe was let through, if any.
    HalfOpen {
        probe: Option<Instant>,
    },
}

/// A thread-safe circuit breaker for one target.
#[derive(Debug)]
pub struct CircuitBreaker {
    failure_threshold: u32,
    open_for: Duration,
    inner: Mutex<Inner>,
}

impl CircuitBreaker {
    /// A closed breaker. A threshold of 0 is treated as 1.
    pub fn new(failure_threshold: u32, open_for: Duration) -> Self {
        Self {
            failure_threshold: failure_threshold.max(1),
            open_for,
            inner: Mutex::new(Inner::Closed { failures: 0 }),
        }
    }

    /// Whether a delivery may be sent now. While half-open only the first
    /// caller gets `true`, until it reports with [`on_success`] or
    /// [`on_failure`]. A probe that never reports (its task was cancelled) is
    /// presumed lost after `open_for`, and another probe is allowed.
    ///
    /// [`on_success`]: Self::on_success
    /// [`on_failure`]: Self::on_failure
    pub fn allow(&self, now: Instant) -> bool {
        let mut inner = self.lock();
        match *inner {
            Inner::Closed { .. } => true,
            Inner::Open { until } if now < until => false,
            Inner::Open { .. } => {
                *inner = Inner::HalfOpen { probe: Some(now) };
                true
            }
            Inner::HalfOpen { probe: Some(sent) } if now < sent + self.open_for => false,
            Inner::HalfOpen { .. } => {
                *inner = Inner::HalfOpen { probe: Some(now) };
                true
            }
        }
    }

    /// Reports a delivered request. Closes a half-open breaker and resets the
    /// failure count of a closed one; a late success while open (a request
    /// sent before the breaker opened) changes nothing: only a probe closes it.
    pub fn on_success(&self) {
        let mut inner = self.lock();
        match *inner {
            Inner::Closed { .. } | Inner::HalfOpen { .. } => {
                *inner = Inner::Closed { failures: 0 };
            }
            Inner::Open { .. } => {}
        }
    }

    /// Reports a failed request (one the retry policy would retry). Opens
    /// the breaker at the threshold, or again after a failed probe.
    pub fn on_failure(&self, now: Instant) {
        let mut inner = self.lock();
        let open = Inner::Open {
            until: now + self.open_for,
        };
        *inner = match *inner {
            Inner::Closed { failures } => {
                let failures = failures.saturating_add(1);
                if failures >= self.failure_threshold {
                    open
                } else {
                    Inner::Closed { failures }
                }
            }
            Inner::HalfOpen { .. } => open,
            // A late failure of a request sent before opening.
            Inner::Open { until } => Inner::Open { until },
        };
    }

    /// The state at `now`: an open breaker whose time is up reads as
    /// half-open even before anyone asks to send.
    pub fn state(&self, now: Instant) -> BreakerState {
        match *self.lock() {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { until } if now < until => BreakerState::Open { until },
            Inner::Open { .. } | Inner::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The state is a plain value, always consistent: poisoning is harmless.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakers_report_each_targets_state() {
        let t0 = Instant::now();
        let breakers = Breakers::default();
        let (erp, tms) = (
            Arc::new(CircuitBreaker::new(1, OPEN_FOR)),
            Arc::new(CircuitBreaker::new(1, OPEN_FOR)),
        );
        breakers.register("erp", erp.clone());
        breakers.register("tms", tms);
        erp.on_failure(t0);
        let states: Vec<(String, &str)> = breakers
            .states(secs(t0, 1))
            .into_iter()
            .map(|(t, s)| (t, s.as_str()))
            .collect();
        assert_eq!(
            states,
            [("erp".to_string(), "open"), ("tms".to_string(), "closed")]
        );
        assert_eq!(breakers.states(secs(t0, 11))["erp"].as_str(), "half-open");
    }

    const OPEN_FOR: Duration = Duration::from_secs(10);

    fn secs(t0: Instant, s: u64) -> Instant {
        t0 + Duration::from_secs(s)
    }

    fn tripped(t0: Instant) -> CircuitBreaker {
        let b = CircuitBreaker::new(3, OPEN_FOR);
        for _ in 0..3 {
            b.on_failure(t0);
        }
        b
    }

    #[test]
    fn opens_after_consecutive_failures() {
        let t0 = Instant::now();
        let b = CircuitBreaker::new(3, OPEN_FOR);
        b.on_failure(t0);
        b.on_failure(t0);
        assert_eq!(b.state(t0), BreakerState::Closed);
        assert!(b.allow(t0));
        b.on_failure(t0);
        assert_eq!(
            b.state(t0),
            BreakerState::Open {
                until: secs(t0, 10)
            }
        );
        assert!(!b.allow(secs(t0, 9)));
    }

    #[test]
    fn success_resets_the_count() {
        let t0 = Instant::now();
        let b = CircuitBreaker::new(3, OPEN_FOR);
        b.on_failure(t0);
        b.on_failure(t0);
        b.on_success();
        b.on_failure(t0);
        b.on_failure(t0);
        assert_eq!(b.state(t0), BreakerState::Closed);
    }

    #[test]
    fn half_open_allows_exactly_one_probe() {
        let t0 = Instant::now();
        let b = tripped(t0);
        let later = secs(t0, 10);
        assert_eq!(b.state(later), BreakerState::HalfOpen);
        assert!(b.allow(later));
        assert!(!b.allow(later));
        assert!(!b.allow(secs(t0, 11)));
        assert_eq!(b.state(later), BreakerState::HalfOpen);
    }

    #[test]
    fn probe_success_closes() {
        let t0 = Instant::now();
        let b = tripped(t0);
        assert!(b.allow(secs(t0, 10)));
        b.on_success();
        assert_eq!(b.state(secs(t0, 10)), BreakerState::Closed);
        assert!(b.allow(secs(t0, 10)));
        assert!(b.allow(secs(t0, 10)));
    }

    #[test]
    fn probe_failure_reopens() {
        let t0 = Instant::now();
        let b = tripped(t0);
        assert!(b.allow(secs(t0, 10)));
        b.on_failure(secs(t0, 12));
        assert_eq!(
            b.state(secs(t0, 12)),
            BreakerState::Open {
                until: secs(t0, 22)
            }
        );
        assert!(!b.allow(secs(t0, 21)));
        assert!(b.allow(secs(t0, 22)));
    }

    #[test]
    fn late_reports_while_open_change_nothing() {
        let t0 = Instant::now();
        let b = tripped(t0);
        b.on_success();
        b.on_failure(secs(t0, 5));
        assert_eq!(
            b.state(t0),
            BreakerState::Open {
                until: secs(t0, 10)
            }
        );
    }

    #[test]
    fn a_lost_probe_is_replaced_after_open_for() {
        let t0 = Instant::now();
        let b = tripped(t0);
        assert!(b.allow(secs(t0, 10)));
        assert!(!b.allow(secs(t0, 19)));
        assert!(b.allow(secs(t0, 20)));
        assert!(!b.allow(secs(t0, 20)));
    }

    #[test]
    fn threshold_zero_means_one() {
        let t0 = Instant::now();
        let b = CircuitBreaker::new(0, OPEN_FOR);
        b.on_failure(t0);
        assert!(!b.allow(t0));
    }

    #[test]
    fn shared_across_threads_one_probe_wins() {
        let t0 = Instant::now();
        let b = std::sync::Arc::new(tripped(t0));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let b = b.clone();
                std::thread::spawn(move || b.allow(secs(t0, 10)))
            })
            .collect();
        let allowed = handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .filter(|a| *a)
            .count();
        assert_eq!(allowed, 1);
    }
}
