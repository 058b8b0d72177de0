//! [`CanaryStore`] for [`PostgresStore`]: one row per canary, its end
//! written into the same row. Starting and ending hold a transaction lock
//! keyed by the plugin (`pg_advisory_xact_lock`), so two hosts starting a
//! canary of one plugin at once, or ending the same one, are serialized:
//! the second sees the first's row (the partial unique index on running
//! canaries backs this up). Each start and end notifies every host in its
//! committing transaction ([`WakeEvent::Plugins`]).

use super::super::canary_model::*;
use super::super::error::StoreError;
use super::super::model::WakeEvent;
use super::super::traits::CanaryStore;
use super::{PostgresStore, Tx, execute, get, in_tx, query, query_opt};
use async_trait::async_trait;

const COLUMNS: &str =
    "c.seq, c.name, c.sha256, v.version, c.percent, c.active_sha256, c.decision_seq,
     c.started_by, c.started_at, c.outcome, c.ended_by, c.reason, c.automatic, c.ended_at";

fn canary_row(r: &tokio_postgres::Row) -> Result<CanaryRecord, StoreError> {
    let outcome: Option<String> = get(r, 9)?;
    let ended = match outcome {
        Some(o) => Some(CanaryEnding {
            outcome: CanaryOutcome::parse(&o)
                .ok_or_else(|| StoreError::Corrupt(format!("canary outcome {o:?}")))?,
            host: get::<Option<String>>(r, 10)?.unwrap_or_default(),
            reason: get::<Option<String>>(r, 11)?.unwrap_or_default(),
            automatic: get::<Option<bool>>(r, 12)?.unwrap_or(false),
            at: get::<Option<i64>>(r, 13)?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(CanaryRecord {
        seq: get(r, 0)?,
        name: get(r, 1)?,
        sha256: get(r, 2)?,
        version: get(r, 3)?,
        percent: get(r, 4)?,
        active_sha256: get(r, 5)?,
        decision_seq: get(r, 6)?,
        started_by: get(r, 7)?,
        started_at: get(r, 8)?,
        ended,
    })
}

async fn lock(tx: &Tx<'_>, name: &str) -> Result<(), StoreError> {
    execute(
        tx,
        "SELECT pg_advisory_xact_lock(hashtext('waybill.canary.' || $1))",
        &[&name],
    )
    .await
    .map(|_| ())
}

async fn canary(tx: &Tx<'_>, seq: i64) -> Result<CanaryRecord, StoreError> {
    let row = query_opt(
        tx,
        &format!(
            "SELECT {COLUMNS} FROM plugin_canaries c
               JOIN plugin_versions v ON v.sha256 = c.sha256 WHERE c.seq = $1"
        ),
        &[&seq],
    )
    .await?
    .ok_or_else(|| StoreError::Corrupt("a canary just written is gone".into()))?;
    canary_row(&row)
}

#[async_trait]
impl CanaryStore for PostgresStore {
    async fn start_canary(&self, n: NewCanary) -> Result<CanaryRecord, StoreError> {
        let now = self.now();
        in_tx!(self, |tx| {
            lock(&tx, &n.name).await?;
            let known = query_opt(
                &tx,
                "SELECT 1 FROM plugin_versions WHERE sha256 = $1 AND name = $2",
                &[&n.sha256, &n.name],
            )
            .await?;
            if known.is_none() {
                return Err(StoreError::NotFound(format!(
                    "plugin {} has no stored version {}",
                    n.name, n.sha256
                )));
            }
            let running = query_opt(
                &tx,
                "SELECT seq FROM plugin_canaries WHERE name = $1 AND ended_at IS NULL",
                &[&n.name],
            )
            .await?;
            if let Some(row) = running {
                let seq: i64 = get(&row, 0)?;
                return Err(StoreError::Conflict(format!(
                    "plugin {} has a canary running already (#{seq}); promote or abort it first",
                    n.name
                )));
            }
            let row = query_opt(
                &tx,
                "INSERT INTO plugin_canaries (name, sha256, percent, active_sha256, decision_seq, started_by, started_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
                &[
                    &n.name,
                    &n.sha256,
                    &n.percent,
                    &n.active_sha256,
                    &n.decision_seq,
                    &n.host,
                    &now,
                ],
            )
            .await?
            .ok_or_else(|| StoreError::Corrupt("INSERT .. RETURNING gave no row".into()))?;
            let seq: i64 = get(&row, 0)?;
            self.notify(&tx, WakeEvent::Plugins).await?;
            canary(&tx, seq).await?
        })
    }

    async fn end_canary(&self, e: CanaryEnd) -> Result<Option<CanaryRecord>, StoreError> {
        let now = self.now();
        in_tx!(self, |tx| {
            lock(&tx, &e.name).await?;
            let changed = execute(
                &tx,
                "UPDATE plugin_canaries SET outcome = $1, ended_by = $2, reason = $3, automatic = $4, ended_at = $5
                  WHERE seq = $6 AND name = $7 AND ended_at IS NULL",
                &[
                    &e.outcome.as_str(),
                    &e.host,
                    &e.reason,
                    &e.automatic,
                    &now,
                    &e.seq,
                    &e.name,
                ],
            )
            .await?;
            if changed == 0 {
                None
            } else {
                self.notify(&tx, WakeEvent::Plugins).await?;
                Some(canary(&tx, e.seq).await?)
            }
        })
    }

    async fn current_canaries(&self) -> Result<Vec<CanaryRecord>, StoreError> {
        in_tx!(self, |tx| {
            query(
                &tx,
                &format!(
                    "SELECT {COLUMNS} FROM plugin_canaries c
                       JOIN plugin_versions v ON v.sha256 = c.sha256
                      WHERE c.seq = (SELECT MAX(l.seq) FROM plugin_canaries l WHERE l.name = c.name)
                      ORDER BY c.name"
                ),
                &[],
            )
            .await?
            .iter()
            .map(canary_row)
            .collect::<Result<Vec<_>, StoreError>>()?
        })
    }

    async fn canary_events(&self) -> Result<i64, StoreError> {
        in_tx!(self, |tx| {
            let rows = query(
                &tx,
                "SELECT (COUNT(*) + COUNT(ended_at))::BIGINT FROM plugin_canaries",
                &[],
            )
            .await?;
            match rows.first() {
                Some(r) => get::<i64>(r, 0)?,
                None => 0,
            }
        })
    }
}
