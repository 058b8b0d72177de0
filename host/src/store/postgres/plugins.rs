//! [`PluginStore`] for [`PostgresStore`]: plugin versions (component bytes
//! and fixtures, by sha256), the decision log and the per-host states. A
//! decision notifies every host on the schema in its committing
//! transaction ([`WakeEvent::Plugins`]), so they converge within moments;
//! their poll of [`PluginStore::latest_plugin_seq`] is the fallback.

use super::super::error::StoreError;
use super::super::model::WakeEvent;
use super::super::plugin_model::*;
use super::super::traits::PluginStore;
use super::{PostgresStore, Tx, execute, get, in_tx, query, query_opt};
use async_trait::async_trait;

const DECISION_COLUMNS: &str = "d.seq, d.name, d.sha256, v.version, d.action, d.host, d.decided_at";

fn decision_row(r: &tokio_postgres::Row) -> Result<PluginDecision, StoreError> {
    let action: String = get(r, 4)?;
    Ok(PluginDecision {
        seq: get(r, 0)?,
        name: get(r, 1)?,
        sha256: get(r, 2)?,
        version: get(r, 3)?,
        action: PluginAction::parse(&action)
            .ok_or_else(|| StoreError::Corrupt(format!("plugin decision action {action:?}")))?,
        host: get(r, 5)?,
        decided_at: get(r, 6)?,
    })
}

async fn decisions_where(
    tx: &Tx<'_>,
    condition: &str,
    name: Option<&str>,
) -> Result<Vec<PluginDecision>, StoreError> {
    let sql = format!(
        "SELECT {DECISION_COLUMNS} FROM plugin_decisions d
           JOIN plugin_versions v ON v.sha256 = d.sha256
          WHERE {condition} ORDER BY d.name, d.seq"
    );
    let rows = match name {
        Some(name) => query(tx, &sql, &[&name]).await?,
        None => query(tx, &sql, &[]).await?,
    };
    rows.iter().map(decision_row).collect()
}

#[async_trait]
impl PluginStore for PostgresStore {
    async fn put_plugin_version(&self, version: NewPluginVersion) -> Result<bool, StoreError> {
        let now = self.now();
        in_tx!(self, |tx| {
            let inserted = execute(
                &tx,
                "INSERT INTO plugin_versions (sha256, name, version, component, pushed_by, pushed_at)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sha256) DO NOTHING",
                &[
                    &version.sha256,
                    &version.name,
                    &version.version,
                    &version.component,
                    &version.pushed_by,
                    &now,
                ],
            )
            .await?;
            if inserted > 0 {
                for (path, body) in &version.fixtures {
                    execute(
                        &tx,
                        "INSERT INTO plugin_fixtures (sha256, path, body) VALUES ($1, $2, $3)",
                        &[&version.sha256, path, body],
                    )
                    .await?;
                }
            }
            inserted > 0
        })
    }

    async fn plugin_version(
        &self,
        sha256: &str,
    ) -> Result<Option<StoredPluginVersion>, StoreError> {
        in_tx!(self, |tx| {
            match query_opt(
                &tx,
                "SELECT name, version, component, pushed_by, pushed_at FROM plugin_versions WHERE sha256 = $1",
                &[&sha256],
            )
            .await?
            {
                None => None,
                Some(row) => {
                    let fixtures = query(
                        &tx,
                        "SELECT path, body FROM plugin_fixtures WHERE sha256 = $1 ORDER BY path",
                        &[&sha256],
                    )
                    .await?
                    .iter()
                    .map(|r| Ok((get(r, 0)?, get(r, 1)?)))
                    .collect::<Result<Vec<_>, StoreError>>()?;
                    Some(StoredPluginVersion {
                        version: NewPluginVersion {
                            name: get(&row, 0)?,
                            version: get(&row, 1)?,
                            sha256: sha256.to_string(),
                            component: get(&row, 2)?,
                            fixtures,
                            pushed_by: get(&row, 3)?,
                        },
                        pushed_at: get(&row, 4)?,
                    })
                }
            }
        })
    }

    async fn plugin_versions(&self, name: &str) -> Result<Vec<PluginVersionSummary>, StoreError> {
        in_tx!(self, |tx| {
            query(
                &tx,
                "SELECT v.name, v.version, v.sha256, octet_length(v.component)::BIGINT,
                        (SELECT COUNT(*) FROM plugin_fixtures f WHERE f.sha256 = v.sha256),
                        v.pushed_by, v.pushed_at
                   FROM plugin_versions v WHERE v.name = $1 ORDER BY v.id",
                &[&name],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(PluginVersionSummary {
                    name: get(r, 0)?,
                    version: get(r, 1)?,
                    sha256: get(r, 2)?,
                    size: get::<i64>(r, 3)?.max(0) as u64,
                    fixtures: get::<i64>(r, 4)?.max(0) as u64,
                    pushed_by: get(r, 5)?,
                    pushed_at: get(r, 6)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?
        })
    }

    async fn decide_plugin(
        &self,
        decision: NewPluginDecision,
    ) -> Result<PluginDecision, StoreError> {
        let now = self.now();
        in_tx!(self, |tx| {
            let known = query_opt(
                &tx,
                "SELECT version FROM plugin_versions WHERE sha256 = $1 AND name = $2",
                &[&decision.sha256, &decision.name],
            )
            .await?;
            let Some(known) = known else {
                return Err(StoreError::NotFound(format!(
                    "plugin {} has no stored version {}",
                    decision.name, decision.sha256
                )));
            };
            let row = query_opt(
                &tx,
                "INSERT INTO plugin_decisions (name, sha256, action, host, decided_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING seq",
                &[
                    &decision.name,
                    &decision.sha256,
                    &decision.action.as_str(),
                    &decision.host,
                    &now,
                ],
            )
            .await?
            .ok_or_else(|| StoreError::Corrupt("INSERT .. RETURNING gave no row".into()))?;
            self.notify(&tx, WakeEvent::Plugins).await?;
            PluginDecision {
                seq: get(&row, 0)?,
                name: decision.name.clone(),
                sha256: decision.sha256.clone(),
                version: get(&known, 0)?,
                action: decision.action,
                host: decision.host.clone(),
                decided_at: now,
            }
        })
    }

    async fn plugin_decisions(&self, name: &str) -> Result<Vec<PluginDecision>, StoreError> {
        in_tx!(self, |tx| decisions_where(&tx, "d.name = $1", Some(name))
            .await?)
    }

    async fn current_plugin_decisions(&self) -> Result<Vec<PluginDecision>, StoreError> {
        in_tx!(self, |tx| decisions_where(
            &tx,
            "d.seq = (SELECT MAX(l.seq) FROM plugin_decisions l WHERE l.name = d.name)",
            None
        )
        .await?)
    }

    async fn latest_plugin_seq(&self) -> Result<i64, StoreError> {
        in_tx!(self, |tx| {
            let rows = query(
                &tx,
                "SELECT COALESCE(MAX(seq), 0)::BIGINT FROM plugin_decisions",
                &[],
            )
            .await?;
            match rows.first() {
                Some(r) => get::<i64>(r, 0)?,
                None => 0,
            }
        })
    }

    async fn record_plugin_host(&self, record: PluginHostRecord) -> Result<(), StoreError> {
        let now = self.now();
        in_tx!(self, |tx| {
            execute(
                &tx,
                "INSERT INTO plugin_hosts (host, name, sha256, state, detail, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (host, name) DO UPDATE SET sha256 = EXCLUDED.sha256,
                    state = EXCLUDED.state, detail = EXCLUDED.detail, updated_at = EXCLUDED.updated_at",
                &[
                    &record.host,
                    &record.name,
                    &record.sha256,
                    &record.state.as_str(),
                    &record.detail,
                    &now,
                ],
            )
            .await?;
        })
    }

    async fn plugin_hosts(&self) -> Result<Vec<PluginHostRecord>, StoreError> {
        in_tx!(self, |tx| {
            query(
                &tx,
                "SELECT host, name, sha256, state, detail, updated_at FROM plugin_hosts ORDER BY name, host",
                &[],
            )
            .await?
            .iter()
            .map(|r| {
                let state: String = get(r, 3)?;
                Ok(PluginHostRecord {
                    host: get(r, 0)?,
                    name: get(r, 1)?,
                    sha256: get(r, 2)?,
                    state: HostPluginState::parse(&state).ok_or_else(|| {
                        StoreError::Corrupt(format!("plugin host state {state:?}"))
                    })?,
                    detail: get(r, 4)?,
                    updated_at: get(r, 5)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?
        })
    }
}
