//! The state a running host shares between its HTTP handlers, workers and
//! flows: [`App`] (configuration, store, plugins, processor, wake-ups,
//! counters) and the per-host guards it carries (HMAC replay guards,
//! command waiters, console sessions). It sits below the features so that each of them can
//! take an `Arc<App>` without the features and the start-up wiring
//! ([`crate::runtime`]) depending on each other.

mod app;
mod console_sessions;
pub mod replay_guard;
mod waiters;

pub use app::{App, IngestMetrics, UNKNOWN_LABEL};
pub use console_sessions::{ConsoleSessions, SESSION_LIFETIME};
pub use waiters::CommandWaiters;
