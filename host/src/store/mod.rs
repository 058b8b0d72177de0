//! Durable storage behind one trait: received messages, processing results,
//! the outbox with delivery attempts, idempotency keys with their first
//! answer, and dead letters. SQLite (WAL, group commit by one writer thread)
//! is the embedded default; the trait is kept honest for PostgreSQL.
//! A background task purges what is finished once it is old enough.

mod flow_model;
mod model;
pub mod retention;
pub mod sqlite;
mod traits;

pub use flow_model::*;
pub use model::*;
pub use traits::{Store, StoreError};
