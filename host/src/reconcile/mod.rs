//! Reconciliation: what ERP, TMS and billing each say about the same
//! business ids, compared. Each system's snapshot endpoints are streamed
//! (NDJSON, cut into pages) through that system's snapshot mapper plugin
//! into `entity-snapshot@1.x` records, spilled into a scratch SQLite file,
//! then read back grouped by (entity, id) and checked against the entity's
//! rules: `missing`, `duplicate`, `status-drift`, `amount-mismatch` (judged
//! by the amount validator plugin), `currency-mismatch`, `attribute-drift`,
//! plus `snapshot-error` for data a plugin could not map. Memory stays
//! bounded whatever the record count; findings stream to a [`FindingSink`].
//!
//! Entry points: [`run`], [`run_as`] (the engine); [`run_now`] (a run as the
//! host makes it, findings stored as exceptions, on demand or on the
//! schedule). Admin routes: `POST /admin/v1/reconcile/run`,
//! `GET /admin/v1/reconcile/runs`. Configuration: [`ReconcileConfig`]
//! (`[reconcile]`, in [`crate::config`]).

mod amount;
mod compare;
mod error;
mod fetch;
mod finding;
mod host;
mod load;
mod mapper;
mod pager;
mod record;
mod report;
mod rules;
mod run;
mod salvage;
mod spill;

#[cfg(test)]
mod tests;

pub mod admin;

/// The `[reconcile]` configuration, parsed and checked by [`crate::config`].
pub use crate::config::{
    ConfigProblem, EntityConfig, ReconcileConfig, SnapshotEndpoint, SystemConfig,
};
pub use error::{ReconcileError, ValidatorFault};
pub use finding::{CountingSink, Finding, FindingKind, FindingSink, SinkError, VecSink};
pub use host::{RECONCILE_LOCK, ReconcileRunError, StoredRun, run_now};
pub use mapper::NDJSON;
/// The NDJSON pager, public for the `ndjson_pager` fuzz target only.
#[doc(hidden)]
pub use pager::{Cut, Page, Pager};
pub use record::{SNAPSHOT_SCHEMA_PREFIX, SnapshotRecord};
pub use report::{RunReport, SystemCounts, peak_rss_bytes};
pub use run::{run, run_as};
