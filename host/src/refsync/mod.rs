//! Reference-data synchronisation: a `[sync.<job>]` fetches a reference
//! feed and ingests each record as a message through the normal path, on a
//! schedule or on demand. Admin route: `POST /admin/v1/sync/{job}/run`.

pub mod admin;
mod job;

pub use job::{SyncError, SyncReport, run_job, sync_lock};
