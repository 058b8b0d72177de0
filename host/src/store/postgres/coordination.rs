//! Coordination of the hosts sharing one PostgreSQL store: an exclusive
//! lock is a session advisory lock held on a connection taken out of the
//! pool for as long as the guard lives (the server drops it when the
//! session ends, so a host that dies releases what it held); the
//! schedule's last starts are rows claimed by one upsert, so of several
//! hosts asking at once exactly one runs a periodic job per period.

use super::super::error::StoreError;
use super::super::model::{ExclusiveGuard, Millis};
use super::super::traits::CoordinationStore;
use super::{PostgresStore, db_err, in_tx, query_opt};
use async_trait::async_trait;

/// The session holding an advisory lock; dropping it closes the session
/// (the connection is not given back to the pool), which releases the lock.
struct Session(Option<deadpool_postgres::Object>);

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(object) = self.0.take() {
            drop(deadpool_postgres::Object::take(object));
        }
    }
}

#[async_trait]
impl CoordinationStore for PostgresStore {
    async fn try_exclusive(&self, name: &str) -> Result<Option<ExclusiveGuard>, StoreError> {
        let client = self.client().await?;
        // Scoped to the schema: hosts of different stores on one database
        // do not exclude each other.
        let row = client
            .query_one(
                "SELECT pg_try_advisory_lock(hashtextextended('waybill.exclusive.' || COALESCE(current_schema(), '') || '.' || $1, 0))",
                &[&name],
            )
            .await
            .map_err(db_err)?;
        let taken: bool = row.get(0);
        Ok(taken.then(|| ExclusiveGuard::new(Session(Some(client)))))
    }

    async fn claim_schedule(
        &self,
        name: &str,
        now: Millis,
        period: Millis,
        host: &str,
    ) -> Result<bool, StoreError> {
        in_tx!(self, |tx| query_opt(
            &tx,
            "INSERT INTO schedules (name, last_started_at, started_by) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE
                 SET last_started_at = EXCLUDED.last_started_at, started_by = EXCLUDED.started_by
                 WHERE schedules.last_started_at <= $2 - $4
             RETURNING name",
            &[&name, &now, &host, &period],
        )
        .await?
        .is_some())
    }
}
