//! [`PluginStore`] for [`SqliteStore`]: plugin versions (component bytes
//! and fixtures, by sha256), the decision log and the per-host states.
//! One host uses a SQLite store, so there is nobody to notify: the host
//! applies its own decisions as it makes them.

use super::super::error::StoreError;
use super::super::plugin_model::*;
use super::super::traits::PluginStore;
use super::{SqliteStore, db_err};
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

const DECISION_COLUMNS: &str = "d.seq, d.name, d.sha256, v.version, d.action, d.host, d.decided_at";

fn decision_row(r: &Row<'_>) -> rusqlite::Result<PluginDecision> {
    let action: String = r.get(4)?;
    Ok(PluginDecision {
        seq: r.get(0)?,
        name: r.get(1)?,
        sha256: r.get(2)?,
        version: r.get(3)?,
        action: PluginAction::parse(&action).unwrap_or(PluginAction::Activate),
        host: r.get(5)?,
        decided_at: r.get(6)?,
    })
}

fn decision(c: &Connection, seq: i64) -> Result<Option<PluginDecision>, StoreError> {
    c.query_row(
        &format!(
            "SELECT {DECISION_COLUMNS} FROM plugin_decisions d
               JOIN plugin_versions v ON v.sha256 = d.sha256 WHERE d.seq = ?1"
        ),
        [seq],
        decision_row,
    )
    .optional()
    .map_err(db_err)
}

fn put_version(c: &Connection, v: &NewPluginVersion, now: i64) -> Result<bool, StoreError> {
    let inserted = c
        .execute(
            "INSERT INTO plugin_versions (sha256, name, version, component, pushed_by, pushed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (sha256) DO NOTHING",
            params![v.sha256, v.name, v.version, v.component, v.pushed_by, now],
        )
        .map_err(db_err)?;
    if inserted == 0 {
        return Ok(false);
    }
    for (path, body) in &v.fixtures {
        c.execute(
            "INSERT INTO plugin_fixtures (sha256, path, body) VALUES (?1, ?2, ?3)",
            params![v.sha256, path, body],
        )
        .map_err(db_err)?;
    }
    Ok(true)
}

fn read_version(c: &Connection, sha256: &str) -> Result<Option<StoredPluginVersion>, StoreError> {
    let Some(mut stored) = c
        .query_row(
            "SELECT name, version, component, pushed_by, pushed_at FROM plugin_versions WHERE sha256 = ?1",
            [sha256],
            |r| {
                Ok(StoredPluginVersion {
                    version: NewPluginVersion {
                        name: r.get(0)?,
                        version: r.get(1)?,
                        sha256: sha256.to_string(),
                        component: r.get(2)?,
                        fixtures: Vec::new(),
                        pushed_by: r.get(3)?,
                    },
                    pushed_at: r.get(4)?,
                })
            },
        )
        .optional()
        .map_err(db_err)?
    else {
        return Ok(None);
    };
    let mut st = c
        .prepare("SELECT path, body FROM plugin_fixtures WHERE sha256 = ?1 ORDER BY path")
        .map_err(db_err)?;
    stored.version.fixtures = st
        .query_map([sha256], |r| Ok((r.get(0)?, r.get(1)?)))
        .and_then(|rows| rows.collect())
        .map_err(db_err)?;
    Ok(Some(stored))
}

fn decide(c: &Connection, d: &NewPluginDecision, now: i64) -> Result<PluginDecision, StoreError> {
    let known: Option<String> = c
        .query_row(
            "SELECT name FROM plugin_versions WHERE sha256 = ?1",
            [&d.sha256],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)?;
    if known.as_deref() != Some(d.name.as_str()) {
        return Err(StoreError::NotFound(format!(
            "plugin {} has no stored version {}",
            d.name, d.sha256
        )));
    }
    c.execute(
        "INSERT INTO plugin_decisions (name, sha256, action, host, decided_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![d.name, d.sha256, d.action.as_str(), d.host, now],
    )
    .map_err(db_err)?;
    decision(c, c.last_insert_rowid())?
        .ok_or_else(|| StoreError::Corrupt("a decision just written is gone".into()))
}

fn decisions(
    c: &Connection,
    sql: &str,
    name: Option<&str>,
) -> Result<Vec<PluginDecision>, StoreError> {
    let mut st = c.prepare(sql).map_err(db_err)?;
    let rows = match name {
        Some(name) => st.query_map([name], decision_row),
        None => st.query_map([], decision_row),
    };
    rows.and_then(|rows| rows.collect()).map_err(db_err)
}

fn host_row(r: &Row<'_>) -> rusqlite::Result<PluginHostRecord> {
    let state: String = r.get(3)?;
    Ok(PluginHostRecord {
        host: r.get(0)?,
        name: r.get(1)?,
        sha256: r.get(2)?,
        state: HostPluginState::parse(&state).unwrap_or(HostPluginState::Refused),
        detail: r.get(4)?,
        updated_at: r.get(5)?,
    })
}

#[async_trait]
impl PluginStore for SqliteStore {
    async fn put_plugin_version(&self, version: NewPluginVersion) -> Result<bool, StoreError> {
        self.write(move |c, now| put_version(c, &version, now))
            .await
    }

    async fn plugin_version(
        &self,
        sha256: &str,
    ) -> Result<Option<StoredPluginVersion>, StoreError> {
        let sha = sha256.to_string();
        self.read(move |c| read_version(c, &sha)).await
    }

    async fn plugin_versions(&self, name: &str) -> Result<Vec<PluginVersionSummary>, StoreError> {
        let name = name.to_string();
        self.read(move |c| {
            let mut st = c
                .prepare(
                    "SELECT v.name, v.version, v.sha256, length(v.component),
                            (SELECT COUNT(*) FROM plugin_fixtures f WHERE f.sha256 = v.sha256),
                            v.pushed_by, v.pushed_at
                       FROM plugin_versions v WHERE v.name = ?1 ORDER BY v.pushed_at, v.rowid",
                )
                .map_err(db_err)?;
            st.query_map([&name], |r| {
                Ok(PluginVersionSummary {
                    name: r.get(0)?,
                    version: r.get(1)?,
                    sha256: r.get(2)?,
                    size: r.get(3)?,
                    fixtures: r.get(4)?,
                    pushed_by: r.get(5)?,
                    pushed_at: r.get(6)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(db_err)
        })
        .await
    }

    async fn decide_plugin(
        &self,
        decision: NewPluginDecision,
    ) -> Result<PluginDecision, StoreError> {
        self.write(move |c, now| decide(c, &decision, now)).await
    }

    async fn plugin_decisions(&self, name: &str) -> Result<Vec<PluginDecision>, StoreError> {
        let name = name.to_string();
        self.read(move |c| {
            decisions(
                c,
                &format!(
                    "SELECT {DECISION_COLUMNS} FROM plugin_decisions d
                       JOIN plugin_versions v ON v.sha256 = d.sha256
                      WHERE d.name = ?1 ORDER BY d.seq"
                ),
                Some(&name),
            )
        })
        .await
    }

    async fn current_plugin_decisions(&self) -> Result<Vec<PluginDecision>, StoreError> {
        self.read(move |c| {
            decisions(
                c,
                &format!(
                    "SELECT {DECISION_COLUMNS} FROM plugin_decisions d
                       JOIN plugin_versions v ON v.sha256 = d.sha256
                      WHERE d.seq = (SELECT MAX(seq) FROM plugin_decisions l WHERE l.name = d.name)
                      ORDER BY d.name"
                ),
                None,
            )
        })
        .await
    }

    async fn latest_plugin_seq(&self) -> Result<i64, StoreError> {
        self.read(|c| {
            c.query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM plugin_decisions",
                [],
                |r| r.get(0),
            )
            .map_err(db_err)
        })
        .await
    }

    async fn record_plugin_host(&self, record: PluginHostRecord) -> Result<(), StoreError> {
        self.write(move |c, now| {
            c.execute(
                "INSERT INTO plugin_hosts (host, name, sha256, state, detail, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (host, name) DO UPDATE SET sha256 = excluded.sha256,
                    state = excluded.state, detail = excluded.detail, updated_at = excluded.updated_at",
                params![record.host, record.name, record.sha256, record.state.as_str(), record.detail, now],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn plugin_hosts(&self) -> Result<Vec<PluginHostRecord>, StoreError> {
        self.read(|c| {
            let mut st = c
                .prepare(
                    "SELECT host, name, sha256, state, detail, updated_at FROM plugin_hosts ORDER BY name, host",
                )
                .map_err(db_err)?;
            st.query_map([], host_row)
                .and_then(|rows| rows.collect())
                .map_err(db_err)
        })
        .await
    }
}
