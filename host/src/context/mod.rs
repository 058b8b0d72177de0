//! The state a running host shares between its HTTP handlers, workers and
//! flows: [`App`] (configuration, store, plugins, processor, wake-ups,
//! counters) and the per-host guards it carries (HMAC replay guards,
//! command waiters). It sits below the features so that each of them can
//! take an `Arc<App>` without the features and the start-up wiring
//! ([`crate::runtime`]) depending on each other.

mod app;
pub mod replay_guard;
mod waiters;

pub use app::{App, IngestMetrics, UNKNOWN_LABEL};
pub use waiters::CommandWaiters;
