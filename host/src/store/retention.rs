//! The background retention task: every so often, purges what is finished
//! and older than `store.retention_days` in small batches (one short write
//! transaction each, with a pause between them so ingest and processing
//! commits go in between), so the database stops growing under steady load.
//! What an operator may still act on — dead letters not replayed, open
//! exceptions, and the messages they reference — is kept. It needs only
//! the housekeeping concern of the store, and reads the same clock.

use super::clock::Clock;
use super::error::StoreError;
use super::model::{Millis, Purged};
use super::traits::HousekeepingStore;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Rows per kind and transaction.
pub const PURGE_BATCH: usize = 500;
/// Pause between two batches of one run.
const PAUSE: Duration = Duration::from_millis(20);
/// Time between two runs.
const EVERY: Duration = Duration::from_secs(600);
/// The first run, after start-up has settled.
const FIRST: Duration = Duration::from_secs(30);

const DAY_MS: Millis = 24 * 3600 * 1000;

/// Purges everything finished before `cutoff`, `batch` rows at a time,
/// pausing between batches; returns the totals.
pub async fn purge_before<S: HousekeepingStore + ?Sized>(
    store: &Arc<S>,
    cutoff: Millis,
    batch: usize,
) -> Result<Purged, StoreError> {
    let mut total = Purged::default();
    loop {
        let purged = store.purge_finished(cutoff, batch).await?;
        total.messages += purged.messages;
        total.other += purged.other;
        if purged.messages + purged.other == 0 {
            return Ok(total);
        }
        tokio::time::sleep(PAUSE).await;
    }
}

/// Runs until `shutdown`; `retention_days = 0` keeps everything. The
/// cutoff is read from `clock` (the store's).
pub async fn run_retention(
    store: Arc<dyn HousekeepingStore>,
    clock: Arc<dyn Clock>,
    retention_days: u32,
    mut shutdown: watch::Receiver<bool>,
) {
    if retention_days == 0 {
        return;
    }
    let mut wait = FIRST;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
        wait = EVERY;
        let cutoff = clock.now_ms() - i64::from(retention_days) * DAY_MS;
        let run = purge_before(&store, cutoff, PURGE_BATCH);
        tokio::select! {
            result = run => match result {
                Ok(p) if p.messages + p.other > 0 => {
                    tracing::info!(messages = p.messages, other = p.other, retention_days, "retention purge");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "retention purge failed; next run retries"),
            },
            _ = shutdown.changed() => return,
        }
    }
}
