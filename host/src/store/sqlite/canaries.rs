//! [`CanaryStore`] for [`SqliteStore`]: one row per canary, its end
//! written into the same row; a partial unique index keeps one running
//! canary per plugin. One host uses a SQLite store, so there is nobody to
//! notify: the host applies its own canary decisions as it makes them.

use super::super::canary_model::*;
use super::super::error::StoreError;
use super::super::traits::CanaryStore;
use super::{SqliteStore, db_err};
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

const COLUMNS: &str =
    "c.seq, c.name, c.sha256, v.version, c.percent, c.active_sha256, c.decision_seq,
     c.started_by, c.started_at, c.outcome, c.ended_by, c.reason, c.automatic, c.ended_at";

fn canary_row(r: &Row<'_>) -> rusqlite::Result<CanaryRecord> {
    let outcome: Option<String> = r.get(9)?;
    let ended = match outcome.as_deref().and_then(CanaryOutcome::parse) {
        Some(outcome) => Some(CanaryEnding {
            outcome,
            host: r.get::<_, Option<String>>(10)?.unwrap_or_default(),
            reason: r.get::<_, Option<String>>(11)?.unwrap_or_default(),
            automatic: r.get::<_, Option<bool>>(12)?.unwrap_or(false),
            at: r.get::<_, Option<i64>>(13)?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(CanaryRecord {
        seq: r.get(0)?,
        name: r.get(1)?,
        sha256: r.get(2)?,
        version: r.get(3)?,
        percent: r.get(4)?,
        active_sha256: r.get(5)?,
        decision_seq: r.get(6)?,
        started_by: r.get(7)?,
        started_at: r.get(8)?,
        ended,
    })
}

fn canary(c: &Connection, seq: i64) -> Result<Option<CanaryRecord>, StoreError> {
    c.query_row(
        &format!(
            "SELECT {COLUMNS} FROM plugin_canaries c
               JOIN plugin_versions v ON v.sha256 = c.sha256 WHERE c.seq = ?1"
        ),
        [seq],
        canary_row,
    )
    .optional()
    .map_err(db_err)
}

fn start(c: &Connection, n: &NewCanary, now: i64) -> Result<CanaryRecord, StoreError> {
    let known: Option<String> = c
        .query_row(
            "SELECT name FROM plugin_versions WHERE sha256 = ?1",
            [&n.sha256],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)?;
    if known.as_deref() != Some(n.name.as_str()) {
        return Err(StoreError::NotFound(format!(
            "plugin {} has no stored version {}",
            n.name, n.sha256
        )));
    }
    let running: Option<i64> = c
        .query_row(
            "SELECT seq FROM plugin_canaries WHERE name = ?1 AND ended_at IS NULL",
            [&n.name],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)?;
    if let Some(seq) = running {
        return Err(StoreError::Conflict(format!(
            "plugin {} has a canary running already (#{seq}); promote or abort it first",
            n.name
        )));
    }
    c.execute(
        "INSERT INTO plugin_canaries (name, sha256, percent, active_sha256, decision_seq, started_by, started_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![n.name, n.sha256, n.percent, n.active_sha256, n.decision_seq, n.host, now],
    )
    .map_err(db_err)?;
    canary(c, c.last_insert_rowid())?
        .ok_or_else(|| StoreError::Corrupt("a canary just written is gone".into()))
}

fn end(c: &Connection, e: &CanaryEnd, now: i64) -> Result<Option<CanaryRecord>, StoreError> {
    let changed = c
        .execute(
            "UPDATE plugin_canaries SET outcome = ?1, ended_by = ?2, reason = ?3, automatic = ?4, ended_at = ?5
              WHERE seq = ?6 AND name = ?7 AND ended_at IS NULL",
            params![e.outcome.as_str(), e.host, e.reason, e.automatic, now, e.seq, e.name],
        )
        .map_err(db_err)?;
    if changed == 0 {
        return Ok(None);
    }
    canary(c, e.seq)
}

#[async_trait]
impl CanaryStore for SqliteStore {
    async fn start_canary(&self, canary: NewCanary) -> Result<CanaryRecord, StoreError> {
        self.write(move |c, now| start(c, &canary, now)).await
    }

    async fn end_canary(&self, e: CanaryEnd) -> Result<Option<CanaryRecord>, StoreError> {
        self.write(move |c, now| end(c, &e, now)).await
    }

    async fn current_canaries(&self) -> Result<Vec<CanaryRecord>, StoreError> {
        self.read(|c| {
            let mut st = c
                .prepare(&format!(
                    "SELECT {COLUMNS} FROM plugin_canaries c
                       JOIN plugin_versions v ON v.sha256 = c.sha256
                      WHERE c.seq = (SELECT MAX(l.seq) FROM plugin_canaries l WHERE l.name = c.name)
                      ORDER BY c.name"
                ))
                .map_err(db_err)?;
            st.query_map([], canary_row)
                .and_then(|rows| rows.collect())
                .map_err(db_err)
        })
        .await
    }

    async fn canary_events(&self) -> Result<i64, StoreError> {
        self.read(|c| {
            c.query_row(
                "SELECT COUNT(*) + COUNT(ended_at) FROM plugin_canaries",
                [],
                |r| r.get(0),
            )
            .map_err(db_err)
        })
        .await
    }
}
