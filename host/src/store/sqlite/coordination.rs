//! Coordination on the embedded store: one host uses the file, so the
//! exclusive locks are in-process; the schedule's last starts are rows,
//! so a restart does not run a periodic job again before its period.

use super::super::error::StoreError;
use super::super::model::{ExclusiveGuard, Millis};
use super::super::traits::CoordinationStore;
use super::{CachedRow, SqliteStore, db_err};
use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

#[async_trait]
impl CoordinationStore for SqliteStore {
    async fn try_exclusive(&self, name: &str) -> Result<Option<ExclusiveGuard>, StoreError> {
        Ok(self.locks.try_exclusive(name))
    }

    async fn claim_schedule(
        &self,
        name: &str,
        now: Millis,
        period: Millis,
        host: &str,
    ) -> Result<bool, StoreError> {
        let (name, host) = (name.to_string(), host.to_string());
        self.write(move |c, _| {
            c.cached_row(
                "INSERT INTO schedules (name, last_started_at, started_by) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE
                     SET last_started_at = excluded.last_started_at, started_by = excluded.started_by
                     WHERE schedules.last_started_at <= ?2 - ?4
                 RETURNING name",
                params![name, now, host, period],
                |_| Ok(()),
            )
            .optional()
            .map(|row| row.is_some())
            .map_err(db_err)
        })
        .await
    }
}
