//! [`ShadowStore`] for [`PostgresStore`]: shadow runs (one running per
//! plugin), each host's report per run, and the stored messages a route
//! processed in a time window, for a recorded replay. Starting or stopping
//! a run notifies every host on the schema ([`WakeEvent::Plugins`]), so
//! they follow within moments; their poll is the fallback.

use super::super::error::StoreError;
use super::super::model::{PluginStamp, ProcessingRecord, WakeEvent};
use super::super::shadow_model::*;
use super::super::traits::ShadowStore;
use super::{PostgresStore, Tx, execute, get, in_tx, query, query_opt, reads};
use async_trait::async_trait;

const RUN_COLUMNS: &str = "s.id, s.name, s.sha256, v.version, s.ignore, s.examples, s.started_by,
     s.started_at, s.stopped_by, s.stopped_at";

fn run_row(r: &tokio_postgres::Row) -> Result<ShadowRunRecord, StoreError> {
    let ignore: serde_json::Value = get(r, 4)?;
    let examples: i32 = get(r, 5)?;
    Ok(ShadowRunRecord {
        id: get(r, 0)?,
        name: get(r, 1)?,
        sha256: get(r, 2)?,
        version: get(r, 3)?,
        ignore: serde_json::from_value(ignore)
            .map_err(|e| StoreError::Corrupt(format!("shadow run ignore list: {e}")))?,
        examples: examples.max(0) as u32,
        started_by: get(r, 6)?,
        started_at: get(r, 7)?,
        stopped_by: get(r, 8)?,
        stopped_at: get(r, 9)?,
    })
}

async fn runs_where(
    tx: &Tx<'_>,
    condition: &str,
    param: Option<&(dyn tokio_postgres::types::ToSql + Sync)>,
) -> Result<Vec<ShadowRunRecord>, StoreError> {
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM plugin_shadows s JOIN plugin_versions v ON v.sha256 = s.sha256
          WHERE {condition} ORDER BY s.name, s.id"
    );
    let rows = match param {
        Some(p) => query(tx, &sql, &[p]).await?,
        None => query(tx, &sql, &[]).await?,
    };
    rows.iter().map(run_row).collect()
}

/// Stops the running shadow of `name`; its id, if one ran.
async fn stop(tx: &Tx<'_>, name: &str, host: &str, now: i64) -> Result<Option<i64>, StoreError> {
    let row = query_opt(
        tx,
        "UPDATE plugin_shadows SET stopped_by = $1, stopped_at = $2
          WHERE name = $3 AND stopped_at IS NULL RETURNING id",
        &[&host, &now, &name],
    )
    .await?;
    row.map(|r| get(&r, 0)).transpose()
}

#[async_trait]
impl ShadowStore for PostgresStore {
    async fn start_shadow(&self, run: NewShadowRun) -> Result<ShadowRunRecord, StoreError> {
        let now = self.now();
        in_tx!(self, |tx| {
            let known = query_opt(
                &tx,
                "SELECT 1 FROM plugin_versions WHERE sha256 = $1 AND name = $2",
                &[&run.sha256, &run.name],
            )
            .await?;
            if known.is_none() {
                return Err(StoreError::NotFound(format!(
                    "plugin {} has no stored version {}",
                    run.name, run.sha256
                )));
            }
            stop(&tx, &run.name, &run.host, now).await?;
            let ignore = serde_json::to_value(&run.ignore).unwrap_or_default();
            let examples = i32::try_from(run.examples).unwrap_or(i32::MAX);
            let row = query_opt(
                &tx,
                "INSERT INTO plugin_shadows (name, sha256, ignore, examples, started_by, started_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                &[&run.name, &run.sha256, &ignore, &examples, &run.host, &now],
            )
            .await?
            .ok_or_else(|| StoreError::Corrupt("INSERT .. RETURNING gave no row".into()))?;
            let id: i64 = get(&row, 0)?;
            self.notify(&tx, WakeEvent::Plugins).await?;
            runs_where(&tx, "s.id = $1", Some(&id))
                .await?
                .pop()
                .ok_or_else(|| StoreError::Corrupt("a shadow run just written is gone".into()))?
        })
    }

    async fn stop_shadow(
        &self,
        name: &str,
        host: &str,
    ) -> Result<Option<ShadowRunRecord>, StoreError> {
        let now = self.now();
        in_tx!(self, |tx| {
            match stop(&tx, name, host, now).await? {
                Some(id) => {
                    self.notify(&tx, WakeEvent::Plugins).await?;
                    runs_where(&tx, "s.id = $1", Some(&id)).await?.pop()
                }
                None => None,
            }
        })
    }

    async fn running_shadows(&self) -> Result<Vec<ShadowRunRecord>, StoreError> {
        in_tx!(self, |tx| runs_where(&tx, "s.stopped_at IS NULL", None)
            .await?)
    }

    async fn shadow_runs(&self, name: &str) -> Result<Vec<ShadowRunRecord>, StoreError> {
        let name = name.to_string();
        in_tx!(self, |tx| runs_where(&tx, "s.name = $1", Some(&name))
            .await?)
    }

    async fn save_shadow_report(&self, report: ShadowHostReport) -> Result<(), StoreError> {
        let now = self.now();
        in_tx!(self, |tx| {
            execute(
                &tx,
                "INSERT INTO plugin_shadow_reports (run_id, host, report, updated_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (run_id, host) DO UPDATE SET report = EXCLUDED.report,
                    updated_at = EXCLUDED.updated_at",
                &[&report.run_id, &report.host, &report.report, &now],
            )
            .await?;
        })
    }

    async fn shadow_reports(&self, run_id: i64) -> Result<Vec<ShadowHostReport>, StoreError> {
        in_tx!(self, |tx| {
            query(
                &tx,
                "SELECT run_id, host, report, updated_at FROM plugin_shadow_reports
                  WHERE run_id = $1 ORDER BY host",
                &[&run_id],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(ShadowHostReport {
                    run_id: get(r, 0)?,
                    host: get(r, 1)?,
                    report: get(r, 2)?,
                    updated_at: get(r, 3)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?
        })
    }

    async fn recorded_messages(
        &self,
        filter: &RecordedFilter,
    ) -> Result<Vec<RecordedMessage>, StoreError> {
        let until = filter.until.unwrap_or(i64::MAX);
        let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
        in_tx!(self, |tx| {
            let ids = query(
                &tx,
                "SELECT m.message_id FROM messages m
                  WHERE m.received_at >= $1 AND m.received_at < $2
                    AND EXISTS (SELECT 1 FROM processing p
                                 WHERE p.message_id = m.message_id AND p.route = $3)
                  ORDER BY m.received_at, m.id LIMIT $4",
                &[&filter.since, &until, &filter.route, &limit],
            )
            .await?;
            let mut out = Vec::with_capacity(ids.len());
            for row in &ids {
                let id: String = get(row, 0)?;
                let Some(message) = reads::message(&tx, &id).await? else {
                    continue;
                };
                let runs = query(
                    &tx,
                    "SELECT stage, route, plugin, plugin_sha256, result, ok, elapsed_us FROM processing
                      WHERE message_id = $1 AND route = $2 ORDER BY id",
                    &[&id, &filter.route],
                )
                .await?
                .iter()
                .map(|r| {
                    Ok(ProcessingRecord {
                        stage: get(r, 0)?,
                        route: get(r, 1)?,
                        plugin: PluginStamp {
                            plugin: get(r, 2)?,
                            sha256: get(r, 3)?,
                        },
                        result: get(r, 4)?,
                        ok: get(r, 5)?,
                        elapsed_us: get::<i64>(r, 6)?.max(0) as u64,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
                out.push(RecordedMessage { message, runs });
            }
            out
        })
    }
}
