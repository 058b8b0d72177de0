//! Delivery to target systems: retries with backoff and jitter, circuit
//! breaking, rate limits, per-key ordering, dead letters.
