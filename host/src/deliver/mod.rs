//! Delivery to target systems: retries with backoff and jitter, circuit
//! breaking, rate limits, per-key ordering, dead letters.

pub mod breaker;
pub mod client;
pub mod retry;

pub use breaker::{BreakerState, CircuitBreaker};
pub use client::{HttpSender, OutboundRequest, OutboundResponse, SendError};
pub use retry::{Disposition, RetryPolicy, classify_error, classify_status, parse_retry_after};
pub mod worker;
