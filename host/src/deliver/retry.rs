//! Retry decisions for outbound deliveries, in the spirit of Vector's
//! `sinks/util/retries.rs`: which outcomes are worth another attempt, how long
//! to wait before it (exponential backoff with full jitter), and honouring a
//! target's `Retry-After`.

use std::time::{Duration, SystemTime};

use rand::RngExt;

use super::client::SendError;
use super::oauth::TokenError;

/// The longest `Retry-After` a target may impose; longer values are capped.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// How often and how patiently one target is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included.
    pub max_attempts: u32,
    /// Backoff ceiling before the second attempt; doubles per attempt.
    pub base: Duration,
    /// Upper bound of the backoff ceiling.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Full-jitter exponential backoff before attempt `attempt + 1`, where
    /// `attempt` is the 1-based count of attempts made so far: uniform random
    /// in `[0, min(cap, base * 2^(attempt-1))]`.
    pub fn backoff(&self, attempt: u32, rng: &mut impl rand::Rng) -> Duration {
        self.backoff_with(attempt, rng.random::<f64>())
    }

    /// The deterministic core of [`backoff`](Self::backoff): `unit` (clamped
    /// to `0..=1`) picks the point in the jitter window.
    pub fn backoff_with(&self, attempt: u32, unit: f64) -> Duration {
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.ceiling(attempt).mul_f64(unit)
    }

    /// `min(cap, base * 2^(attempt-1))`, saturating; attempt 0 counts as 1.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1);
        let factor = 2u32.checked_pow(doublings).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// Whether `attempts` made so far leave no attempt to make.
    pub fn exhausted(&self, attempts: u32) -> bool {
        attempts >= self.max_attempts
    }
}

/// What to do with a delivery after one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// The target accepted it.
    Delivered,
    /// Worth another attempt; `after` is the target's `Retry-After`, if any.
    Retry {
        after: Option<Duration>,
        reason: String,
    },
    /// Retrying cannot help: dead-letter it.
    Reject { reason: String },
}

impl Disposition {
    /// True for [`Disposition::Retry`].
    pub fn is_retriable(&self) -> bool {
        matches!(self, Disposition::Retry { .. })
    }
}

/// Classifies a target's answer: 2xx delivered; 408, 429 and 5xx retried
/// (429 and 503 honour `Retry-After`); other 4xx rejected; 1xx and 3xx
/// rejected as unexpected.
pub fn classify_status(status: u16, retry_after: Option<&str>, now: SystemTime) -> Disposition {
    match status {
        200..=299 => Disposition::Delivered,
        408 => Disposition::Retry {
            after: None,
            reason: "target answered 408 Request Timeout".to_owned(),
        },
        429 | 503 => Disposition::Retry {
            after: retry_after.and_then(|v| parse_retry_after(v, now)),
            reason: format!("target answered {status}"),
        },
        500..=599 => Disposition::Retry {
            after: None,
            reason: format!("target answered {status}"),
        },
        400..=499 => Disposition::Reject {
            reason: format!("target rejected the delivery with {status}"),
        },
        100..=199 | 300..=399 => Disposition::Reject {
            reason: format!("target answered unexpected status {status} (not followed)"),
        },
        _ => Disposition::Reject {
            reason: format!("target answered invalid status {status}"),
        },
    }
}

/// Classifies a failure to get any answer: timeouts and connection or I/O
/// failures are retried; a request that cannot be built, and a TLS
/// handshake refused over a certificate, are rejected (retrying cannot fix
/// a certificate; the operator must).
pub fn classify_error(err: &SendError) -> Disposition {
    match err {
        SendError::Timeout(_) | SendError::Connect(_) | SendError::Io(_) => Disposition::Retry {
            after: None,
            reason: err.to_string(),
        },
        SendError::InvalidRequest(_) | SendError::Tls(_) => Disposition::Reject {
            reason: err.to_string(),
        },
    }
}

/// Classifies a failure to obtain an OAuth2 access token: the target never
/// saw the delivery, so it is retried (with backoff, behind the breaker) —
/// unless the token endpoint's certificate is refused, which retrying
/// cannot fix.
pub fn classify_token_error(err: &TokenError) -> Disposition {
    if err.is_permanent() {
        Disposition::Reject {
            reason: err.to_string(),
        }
    } else {
        Disposition::Retry {
            after: err.retry_after(),
            reason: err.to_string(),
        }
    }
}

/// Parses `Retry-After` as delta-seconds or an HTTP-date (relative to `now`;
/// a date in the past means "now"), capped at [`MAX_RETRY_AFTER`]. `None`
/// when unparseable.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: only overflow can fail, and that is "very long".
        Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        }
    }

    #[test]
    fn ceiling_doubles_then_caps() {
        let p = policy();
        let ms = |a| p.backoff_with(a, 1.0).as_millis();
        assert_eq!(
            [ms(0), ms(1), ms(2), ms(3), ms(4), ms(5)],
            [100, 100, 200, 400, 800, 1000]
        );
        assert_eq!(p.backoff_with(u32::MAX, 1.0), Duration::from_secs(1));
    }

    #[test]
    fn jitter_spans_zero_to_ceiling() {
        let p = policy();
        assert_eq!(p.backoff_with(3, 0.0), Duration::ZERO);
        assert_eq!(p.backoff_with(3, 0.5), Duration::from_millis(200));
        assert_eq!(p.backoff_with(3, -1.0), Duration::ZERO);
        assert_eq!(p.backoff_with(3, 7.0), Duration::from_millis(400));
        assert_eq!(p.backoff_with(3, f64::NAN), Duration::ZERO);
    }

    #[test]
    fn random_backoff_stays_in_window() {
        let p = policy();
        let mut rng = StdRng::seed_from_u64(7);
        let samples: Vec<_> = (0..200).map(|_| p.backoff(3, &mut rng)).collect();
        assert!(samples.iter().all(|d| *d <= Duration::from_millis(400)));
        // Full jitter: the samples are spread, not pinned to the ceiling.
        assert!(samples.iter().any(|d| *d < Duration::from_millis(100)));
        assert!(samples.iter().any(|d| *d > Duration::from_millis(300)));
    }

    #[test]
    fn exhausted_counts_the_first_attempt() {
        let p = policy();
        assert!(!p.exhausted(4));
        assert!(p.exhausted(5));
    }

    #[test]
    fn statuses_are_classified() {
        let now = SystemTime::now();
        assert_eq!(classify_status(200, None, now), Disposition::Delivered);
        assert_eq!(classify_status(204, None, now), Disposition::Delivered);
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(classify_status(s, None, now).is_retriable(), "{s}");
        }
        for s in [400, 401, 403, 404, 409, 422, 100, 301, 304, 99, 600] {
            assert!(
                matches!(classify_status(s, None, now), Disposition::Reject { .. }),
                "{s}"
            );
        }
    }

    #[test]
    fn retry_after_is_honoured_for_429_and_503_only() {
        let now = SystemTime::now();
        let after = |s| match classify_status(s, Some("7"), now) {
            Disposition::Retry { after, .. } => after,
            other => panic!("{other:?}"),
        };
        assert_eq!(after(429), Some(Duration::from_secs(7)));
        assert_eq!(after(503), Some(Duration::from_secs(7)));
        assert_eq!(after(500), None);
    }

    #[test]
    fn retry_after_parses_seconds_and_dates() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").expect("date");
        let p = |v| parse_retry_after(v, now);
        assert_eq!(p("120"), Some(Duration::from_secs(120)));
        assert_eq!(p(" 0 "), Some(Duration::ZERO));
        assert_eq!(p("99999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(p("99999999999999999999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(
            p("Sun, 06 Nov 1994 08:50:07 GMT"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(p("Sun, 06 Nov 1994 08:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(p("Mon, 07 Nov 1994 08:49:37 GMT"), Some(MAX_RETRY_AFTER));
        for bad in ["", "-5", "1.5", "soon", "5 s"] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn transport_errors_are_retried() {
        let retried = [
            SendError::Timeout(Duration::from_secs(1)),
            SendError::Connect("refused".into()),
            SendError::Io("reset".into()),
        ];
        for e in &retried {
            assert!(classify_error(e).is_retriable(), "{e}");
        }
        assert!(!classify_error(&SendError::InvalidRequest("bad url".into())).is_retriable());
    }

    #[test]
    fn certificate_refusals_are_rejected_naming_tls() {
        let err = SendError::Tls("invalid peer certificate: UnknownIssuer".into());
        match classify_error(&err) {
            Disposition::Reject { reason } => {
                assert_eq!(
                    reason,
                    "TLS handshake failed: invalid peer certificate: UnknownIssuer"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
