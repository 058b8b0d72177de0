//! Delivery to target systems: TLS and OAuth2 to reach them, retries with
//! backoff and jitter, circuit breaking, rate limits, per-key ordering, dead
//! letters.

pub mod breaker;
pub mod client;
pub mod oauth;
mod recorder;
pub mod redact;
pub mod retry;
#[cfg(test)]
pub(crate) mod test_pki;
pub mod tls;

pub use breaker::{BreakerState, Breakers, CircuitBreaker};
pub use client::{HttpSender, OutboundRequest, OutboundResponse, SendError};
pub use retry::{
    Disposition, RetryPolicy, classify_error, classify_status, classify_token_error,
    parse_retry_after,
};
pub use tls::TlsError;
pub mod worker;
