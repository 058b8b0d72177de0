//! Token-bucket rate limits shared by ingest (per source) and delivery (per
//! target).
//!
//! A bucket holds up to `burst` tokens and refills at `per_second`; each
//! request takes one token. When it is empty the caller learns how long to
//! wait, which ingest turns into `429` + `Retry-After` and delivery into a
//! sleep. The clock is a parameter so tests never depend on real time.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A thread-safe token bucket; it starts full.
#[derive(Debug)]
pub struct TokenBucket {
    per_second: f64,
    burst: f64,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A bucket refilling at `per_second` tokens per second and holding at
    /// most `burst` (at least 1). A rate that is not a positive finite number
    /// (which config validation refuses) is treated as the smallest positive
    /// rate, so the bucket never hands out more than its burst.
    pub fn new(per_second: f64, burst: u32) -> Self {
        let per_second = if per_second.is_finite() && per_second > 0.0 {
            per_second
        } else {
            f64::MIN_POSITIVE
        };
        let burst = f64::from(burst.max(1));
        Self {
            per_second,
            burst,
            state: Mutex::new(State {
                tokens: burst,
                last: Instant::now(),
            }),
        }
    }

    /// Takes a token now, or says how long until one is available.
    pub fn try_acquire(&self) -> Result<(), Duration> {
        self.try_acquire_at(Instant::now())
    }

    /// Takes a token at `now`, or says how long after `now` one will be
    /// available. An instant earlier than one already seen adds no tokens.
    pub fn try_acquire_at(&self, now: Instant) -> Result<(), Duration> {
        self.try_acquire_n_at(1, now)
    }

    /// Takes `n` tokens at once now, or none and says how long until `n`
    /// are available (never, for more than the burst: check [`Self::burst`]).
    pub fn try_acquire_n(&self, n: u32) -> Result<(), Duration> {
        self.try_acquire_n_at(n, Instant::now())
    }

    /// Takes `n` tokens at `now`, all or none.
    pub fn try_acquire_n_at(&self, n: u32, now: Instant) -> Result<(), Duration> {
        let need = f64::from(n.max(1));
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if now > state.last {
            let elapsed = now.duration_since(state.last).as_secs_f64();
            state.tokens = (state.tokens + elapsed * self.per_second).min(self.burst);
            state.last = now;
        }
        if state.tokens >= need {
            state.tokens -= need;
            return Ok(());
        }
        let missing = need - state.tokens;
        let wait = Duration::try_from_secs_f64(missing / self.per_second).unwrap_or(Duration::MAX);
        // Never answer "wait 0" while refusing: round up to a whole microsecond.
        Err(wait.max(Duration::from_micros(1)))
    }

    /// Waits until a token is available and takes it.
    pub async fn acquire(&self) {
        while let Err(wait) = self.try_acquire() {
            tokio::time::sleep(wait).await;
        }
    }

    /// The most tokens the bucket holds (so the most one request can take).
    pub fn burst(&self) -> u32 {
        self.burst as u32
    }

    /// The configured refill rate, in tokens per second.
    pub fn per_second(&self) -> f64 {
        self.per_second
    }
}

/// A wait as whole seconds for a `Retry-After` header: rounded up, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn burst_then_refusal_with_wait() {
        let bucket = TokenBucket::new(10.0, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(bucket.try_acquire_at(t0), Ok(()));
        }
        assert_eq!(bucket.try_acquire_at(t0), Err(ms(100)));
    }

    #[test]
    fn refills_at_rate_up_to_burst() {
        let bucket = TokenBucket::new(10.0, 2);
        let t0 = Instant::now();
        assert!(bucket.try_acquire_at(t0).is_ok());
        assert!(bucket.try_acquire_at(t0).is_ok());
        assert!(bucket.try_acquire_at(t0).is_err());
        // 50 ms gives half a token: 50 ms more to wait.
        assert_eq!(bucket.try_acquire_at(t0 + ms(50)), Err(ms(50)));
        assert_eq!(bucket.try_acquire_at(t0 + ms(100)), Ok(()));
        // A long idle time refills only up to the burst.
        let later = t0 + Duration::from_secs(60);
        assert!(bucket.try_acquire_at(later).is_ok());
        assert!(bucket.try_acquire_at(later).is_ok());
        assert!(bucket.try_acquire_at(later).is_err());
    }

    #[test]
    fn earlier_instants_do_not_add_tokens() {
        let bucket = TokenBucket::new(1.0, 1);
        let t0 = Instant::now() + Duration::from_secs(10);
        assert!(bucket.try_acquire_at(t0).is_ok());
        assert_eq!(
            bucket.try_acquire_at(t0 - ms(500)),
            Err(Duration::from_secs(1))
        );
        assert_eq!(bucket.try_acquire_at(t0 + ms(250)), Err(ms(750)));
    }

    #[test]
    fn fractional_rates_and_zero_burst() {
        let bucket = TokenBucket::new(0.5, 0);
        let t0 = Instant::now();
        assert!(bucket.try_acquire_at(t0).is_ok());
        assert_eq!(bucket.try_acquire_at(t0), Err(Duration::from_secs(2)));
        assert!(bucket.try_acquire_at(t0 + Duration::from_secs(2)).is_ok());
    }

    #[test]
    fn invalid_rate_never_exceeds_burst() {
        let bucket = TokenBucket::new(0.0, 1);
        let t0 = Instant::now();
        assert!(bucket.try_acquire_at(t0).is_ok());
        let far = t0 + Duration::from_secs(3600);
        assert!(bucket.try_acquire_at(far).is_err());
    }

    #[test]
    fn many_tokens_all_or_none() {
        let bucket = TokenBucket::new(10.0, 100);
        let t0 = Instant::now();
        assert_eq!(bucket.burst(), 100);
        assert_eq!(bucket.try_acquire_n_at(60, t0), Ok(()));
        // 40 left: 50 is refused whole and takes nothing.
        assert_eq!(bucket.try_acquire_n_at(50, t0), Err(Duration::from_secs(1)));
        assert_eq!(bucket.try_acquire_n_at(40, t0), Ok(()));
        assert!(bucket.try_acquire_at(t0).is_err());
        // More than the burst never fits.
        let far = t0 + Duration::from_secs(3600);
        assert!(bucket.try_acquire_n_at(101, far).is_err());
        assert_eq!(bucket.try_acquire_n_at(100, far), Ok(()));
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(ms(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(ms(2001)), 3);
    }

    #[tokio::test]
    async fn acquire_sleeps_until_a_token() {
        let bucket = TokenBucket::new(1000.0, 1);
        bucket.acquire().await;
        // The second token needs a sleep of about a millisecond.
        bucket.acquire().await;
    }
}
