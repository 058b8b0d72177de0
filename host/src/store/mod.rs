//! Durable storage behind traits split by concern (messages, outbox,
//! exceptions, sync state, housekeeping; [`Store`] is all of them):
//! received messages, processing results, the outbox with delivery attempts
//! and leases, idempotency keys with their first answer, and dead letters.
//! Errors say whether to retry, the clock is injected, and the domain rules
//! every backend applies live in [`rules`]; [`conformance`] is the suite
//! every backend must pass. SQLite (WAL, group commit by one writer thread)
//! is the embedded default; PostgreSQL ([`postgres`]) is the
//! scale-out store behind the same traits, shared by several hosts.
//! A background task purges what is finished once it is old enough.
//! Shadow runs and their reports are kept beside plugin distribution.

mod canary_model;
mod clock;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod error;
mod flow_model;
mod local_locks;
mod model;
mod plugin_model;
pub mod postgres;
pub mod retention;
pub mod rules;
mod shadow_model;
pub mod sqlite;
mod traits;

pub use canary_model::*;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{BoxError, StoreError};
pub use flow_model::*;
pub use model::*;
pub use plugin_model::*;
pub use shadow_model::*;
pub use traits::{
    CanaryStore, CoordinationStore, ExceptionStore, HousekeepingStore, MessageStore, OutboxStore,
    PluginStore, ShadowStore, Store, SyncStore,
};
