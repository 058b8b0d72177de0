//! Reconciliation as the host runs it: the engine in `crate::reconcile`
//! streams each system's snapshot and hands findings over one by one; each
//! becomes an exception (`recon-<kind>`, deduplicated across runs by the
//! finding's stable key, reopened if it was closed and comes back), and the
//! run report is stored. Runs on demand (admin API, `waybill reconcile run`)
//! and on the `[reconcile] schedule_secs` schedule; one at a time across
//! every host on the store (an exclusive lock of the store).

use crate::context::App;
use crate::reconcile::{Finding, FindingSink, RunReport, SinkError};
use crate::store::{FlowWrite, NewException};
use std::sync::Arc;
use time::OffsetDateTime;

/// The exclusive lock a run holds, and the schedule's name.
pub const RECONCILE_LOCK: &str = "reconcile";

/// Why a run could not happen.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileRunError {
    /// No `[reconcile]` section.
    #[error("reconciliation is not configured: add a [reconcile] section")]
    NotConfigured,
    /// Another run is in progress (on this host or another).
    #[error("a reconciliation run is already in progress")]
    Busy,
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] crate::reconcile::ReconcileError),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// A finished run: its stored id and report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredRun {
    /// Id in the store.
    pub id: i64,
    /// The report.
    pub report: RunReport,
    /// Readable summary.
    pub summary: String,
    /// Exceptions raised or re-raised.
    pub exceptions: usize,
}

/// Runs reconciliation now.
pub async fn run_now(
    app: &Arc<App>,
    since: Option<OffsetDateTime>,
) -> Result<StoredRun, ReconcileRunError> {
    let cfg = app
        .config
        .reconcile
        .clone()
        .ok_or(ReconcileRunError::NotConfigured)?;
    // One run at a time across every host on the store.
    let _guard = app
        .store
        .try_exclusive(RECONCILE_LOCK)
        .await?
        .ok_or(ReconcileRunError::Busy)?;
    let mut sink = ExceptionSink {
        app: app.clone(),
        raised: 0,
    };
    let report = crate::reconcile::run(&cfg, &app.registry, since, &mut sink).await?;
    let value = serde_json::to_value(&report).unwrap_or_default();
    let id = app.store.save_recon_run(value).await?;
    tracing::info!(
        run = id,
        records = report.records,
        exceptions = sink.raised,
        "reconciliation run stored"
    );
    Ok(StoredRun {
        id,
        summary: report.summary(),
        report,
        exceptions: sink.raised,
    })
}

/// Findings -> exceptions.
struct ExceptionSink {
    app: Arc<App>,
    raised: usize,
}

#[async_trait::async_trait]
impl FindingSink for ExceptionSink {
    async fn finding(&mut self, f: Finding) -> Result<(), SinkError> {
        let violations = if f.violations.is_empty() {
            serde_json::json!([{"path": "", "code": f.kind.as_str(), "message": f.message}])
        } else {
            serde_json::to_value(&f.violations)?
        };
        let exception = NewException {
            reason: format!("recon-{}", f.kind.as_str()),
            route: None,
            target: None,
            business_key: format!("{}:{}", f.entity, f.id),
            schema_id: None,
            document: None,
            violations,
            plugins: Vec::new(),
            detail: serde_json::json!({
                "run_id": f.run_id, "entity": f.entity, "id": f.id, "systems": f.systems,
                "observed": f.observed, "message": f.message,
            }),
            dedupe_key: Some(f.dedupe_key.clone()),
            fingerprints: Vec::new(),
        };
        self.app
            .store
            .apply_flow(FlowWrite {
                exceptions: vec![exception],
                ..Default::default()
            })
            .await?;
        self.raised += 1;
        Ok(())
    }
}
