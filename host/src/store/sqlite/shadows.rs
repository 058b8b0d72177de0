//! [`ShadowStore`] for [`SqliteStore`]: shadow runs (one running per
//! plugin), each host's report per run, and the stored messages a route
//! processed in a time window, for a recorded replay.

use super::super::error::StoreError;
use super::super::model::{PluginStamp, ProcessingRecord};
use super::super::shadow_model::*;
use super::super::traits::ShadowStore;
use super::{SqliteStore, db_err, reads};
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

const RUN_COLUMNS: &str = "s.id, s.name, s.sha256, v.version, s.ignore, s.examples, s.started_by,
     s.started_at, s.stopped_by, s.stopped_at";

fn run_row(r: &Row<'_>) -> rusqlite::Result<ShadowRunRecord> {
    let ignore: String = r.get(4)?;
    Ok(ShadowRunRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        sha256: r.get(2)?,
        version: r.get(3)?,
        ignore: serde_json::from_str(&ignore).unwrap_or_default(),
        examples: r.get(5)?,
        started_by: r.get(6)?,
        started_at: r.get(7)?,
        stopped_by: r.get(8)?,
        stopped_at: r.get(9)?,
    })
}

fn runs_where(
    c: &Connection,
    condition: &str,
    name: Option<&str>,
) -> Result<Vec<ShadowRunRecord>, StoreError> {
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM plugin_shadows s JOIN plugin_versions v ON v.sha256 = s.sha256
          WHERE {condition} ORDER BY s.name, s.id"
    );
    let mut st = c.prepare(&sql).map_err(db_err)?;
    let rows = match name {
        Some(name) => st.query_map([name], run_row),
        None => st.query_map([], run_row),
    };
    rows.and_then(|rows| rows.collect()).map_err(db_err)
}

fn stop(c: &Connection, name: &str, host: &str, now: i64) -> Result<Option<i64>, StoreError> {
    let id: Option<i64> = c
        .query_row(
            "SELECT id FROM plugin_shadows WHERE name = ?1 AND stopped_at IS NULL",
            [name],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)?;
    if let Some(id) = id {
        c.execute(
            "UPDATE plugin_shadows SET stopped_by = ?1, stopped_at = ?2 WHERE id = ?3",
            params![host, now, id],
        )
        .map_err(db_err)?;
    }
    Ok(id)
}

fn start(c: &Connection, run: &NewShadowRun, now: i64) -> Result<ShadowRunRecord, StoreError> {
    let known: Option<String> = c
        .query_row(
            "SELECT name FROM plugin_versions WHERE sha256 = ?1",
            [&run.sha256],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)?;
    if known.as_deref() != Some(run.name.as_str()) {
        return Err(StoreError::NotFound(format!(
            "plugin {} has no stored version {}",
            run.name, run.sha256
        )));
    }
    stop(c, &run.name, &run.host, now)?;
    let ignore = serde_json::to_string(&run.ignore).unwrap_or_else(|_| "[]".into());
    c.execute(
        "INSERT INTO plugin_shadows (name, sha256, ignore, examples, started_by, started_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![run.name, run.sha256, ignore, run.examples, run.host, now],
    )
    .map_err(db_err)?;
    let id = c.last_insert_rowid();
    runs_where(c, &format!("s.id = {id}"), None)?
        .pop()
        .ok_or_else(|| StoreError::Corrupt("a shadow run just written is gone".into()))
}

fn recorded(c: &Connection, f: &RecordedFilter) -> Result<Vec<RecordedMessage>, StoreError> {
    let mut st = c
        .prepare(
            "SELECT m.message_id FROM messages m
              WHERE m.received_at >= ?1 AND m.received_at < ?2
                AND EXISTS (SELECT 1 FROM processing p WHERE p.message_id = m.message_id AND p.route = ?3)
              ORDER BY m.received_at, m.rowid LIMIT ?4",
        )
        .map_err(db_err)?;
    let ids: Vec<String> = st
        .query_map(
            params![
                f.since,
                f.until.unwrap_or(i64::MAX),
                f.route,
                f.limit as i64
            ],
            |r| r.get(0),
        )
        .and_then(|rows| rows.collect())
        .map_err(db_err)?;
    let mut runs = c
        .prepare(
            "SELECT stage, route, plugin, plugin_sha256, result, ok, elapsed_us FROM processing
              WHERE message_id = ?1 AND route = ?2 ORDER BY id",
        )
        .map_err(db_err)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(message) = reads::message(c, &id)? else {
            continue;
        };
        let runs = runs
            .query_map(params![id, f.route], |r| {
                let result: String = r.get(4)?;
                Ok(ProcessingRecord {
                    stage: r.get(0)?,
                    route: r.get(1)?,
                    plugin: PluginStamp {
                        plugin: r.get(2)?,
                        sha256: r.get(3)?,
                    },
                    result: serde_json::from_str(&result).unwrap_or_default(),
                    ok: r.get(5)?,
                    elapsed_us: r.get(6)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(db_err)?;
        out.push(RecordedMessage { message, runs });
    }
    Ok(out)
}

#[async_trait]
impl ShadowStore for SqliteStore {
    async fn start_shadow(&self, run: NewShadowRun) -> Result<ShadowRunRecord, StoreError> {
        self.write(move |c, now| start(c, &run, now)).await
    }

    async fn stop_shadow(
        &self,
        name: &str,
        host: &str,
    ) -> Result<Option<ShadowRunRecord>, StoreError> {
        let (name, host) = (name.to_string(), host.to_string());
        self.write(move |c, now| match stop(c, &name, &host, now)? {
            Some(id) => Ok(runs_where(c, &format!("s.id = {id}"), None)?.pop()),
            None => Ok(None),
        })
        .await
    }

    async fn running_shadows(&self) -> Result<Vec<ShadowRunRecord>, StoreError> {
        self.read(|c| runs_where(c, "s.stopped_at IS NULL", None))
            .await
    }

    async fn shadow_runs(&self, name: &str) -> Result<Vec<ShadowRunRecord>, StoreError> {
        let name = name.to_string();
        self.read(move |c| runs_where(c, "s.name = ?1", Some(&name)))
            .await
    }

    async fn save_shadow_report(&self, report: ShadowHostReport) -> Result<(), StoreError> {
        self.write(move |c, now| {
            c.execute(
                "INSERT INTO plugin_shadow_reports (run_id, host, report, updated_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (run_id, host) DO UPDATE SET report = excluded.report,
                    updated_at = excluded.updated_at",
                params![report.run_id, report.host, report.report.to_string(), now],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn shadow_reports(&self, run_id: i64) -> Result<Vec<ShadowHostReport>, StoreError> {
        self.read(move |c| {
            let mut st = c
                .prepare(
                    "SELECT run_id, host, report, updated_at FROM plugin_shadow_reports
                      WHERE run_id = ?1 ORDER BY host",
                )
                .map_err(db_err)?;
            st.query_map([run_id], |r| {
                let report: String = r.get(2)?;
                Ok(ShadowHostReport {
                    run_id: r.get(0)?,
                    host: r.get(1)?,
                    report: serde_json::from_str(&report).unwrap_or_default(),
                    updated_at: r.get(3)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(db_err)
        })
        .await
    }

    async fn recorded_messages(
        &self,
        filter: &RecordedFilter,
    ) -> Result<Vec<RecordedMessage>, StoreError> {
        let filter = filter.clone();
        self.read(move |c| recorded(c, &filter)).await
    }
}
