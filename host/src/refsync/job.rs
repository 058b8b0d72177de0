//! Batch synchronisation of reference data (customers, carriers): a job
//! pulls the source's snapshot (NDJSON), maps it page by page through its
//! plugin into canonical records, and ingests only the records whose
//! content hash changed since the last run, as canonical messages of source
//! `sync.<job>`. Routes on that source deliver them with the same
//! guarantees as events (outbox, retries, dead letters, replay). Hashes are
//! stored after the records are durably ingested, so a crash repeats work
//! (idempotent by `<key>@<hash>`) and never skips a change.

use crate::context::App;
use crate::plugins::{Message, PluginFailure};
use crate::store::{IngestOutcome, MessageContext, NewMessage, now_ms};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// Bound on the snapshot fetch of a sync job.
const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// What one run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    /// Job name.
    pub job: String,
    /// Snapshot lines read.
    pub lines: usize,
    /// Canonical records mapped.
    pub records: usize,
    /// Records new or changed since the last run, ingested now.
    pub changed: usize,
    /// Records unchanged, skipped.
    pub unchanged: usize,
    /// Pages the plugin refused (their records are retried next run).
    pub refused_pages: Vec<serde_json::Value>,
    /// Wall time, milliseconds.
    pub elapsed_ms: u64,
}

/// Why a run could not happen.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// No such job in the configuration.
    #[error("no sync job `{0}` in the configuration")]
    UnknownJob(String),
    /// The snapshot could not be fetched.
    #[error("sync job {job}: cannot fetch {url}: {message}")]
    Fetch {
        /// Job.
        job: String,
        /// URL.
        url: String,
        /// Why.
        message: String,
    },
    /// The job's TLS settings cannot be used.
    #[error("sync job {job}: cannot fetch {url}: TLS settings: {source}")]
    Tls {
        /// Job.
        job: String,
        /// URL.
        url: String,
        /// Why.
        source: crate::deliver::TlsError,
    },
    /// The job is running already (on this host or another).
    #[error("sync job {0} is already running")]
    Busy(String),
    /// The plugin is not loaded.
    #[error("sync job {job}: plugin {plugin} is not loaded")]
    Plugin {
        /// Job.
        job: String,
        /// Plugin.
        plugin: String,
    },
    /// The store failed.
    #[error("sync job {job}: store: {source}")]
    Store {
        /// Job.
        job: String,
        /// Why.
        source: crate::store::StoreError,
    },
}

/// The exclusive lock a run of job `name` holds, and its schedule's name.
pub fn sync_lock(name: &str) -> String {
    format!("sync.{name}")
}

/// Runs sync job `name` once.
#[tracing::instrument(name = "waybill.refsync", skip(app))]
pub async fn run_job(app: &Arc<App>, name: &str) -> Result<SyncReport, SyncError> {
    let started = std::time::Instant::now();
    let job = app
        .config
        .sync
        .get(name)
        .cloned()
        .ok_or_else(|| SyncError::UnknownJob(name.to_string()))?;
    // One run of a job at a time across every host on the store: two
    // would fetch and ingest the same snapshot twice.
    let _guard = app
        .store
        .try_exclusive(&sync_lock(name))
        .await
        .map_err(|source| SyncError::Store {
            job: name.to_string(),
            source,
        })?
        .ok_or_else(|| SyncError::Busy(name.to_string()))?;
    let token = job.token.as_ref().map(|t| t.expose());
    let connector = crate::deliver::tls::connector(job.tls.as_ref(), Some(FETCH_TIMEOUT)).map_err(
        |source| SyncError::Tls {
            job: name.to_string(),
            url: crate::config::redact_url(&job.url),
            source,
        },
    )?;
    let body = fetch(&job.url, token, connector)
        .await
        .map_err(|message| SyncError::Fetch {
            job: name.to_string(),
            url: crate::config::redact_url(&job.url),
            message,
        })?;
    let version = app
        .processor
        .plugin(&job.plugin.plugin, None)
        .ok_or_else(|| SyncError::Plugin {
            job: name.to_string(),
            plugin: job.plugin.plugin.clone(),
        })?;
    let store_err = |source| SyncError::Store {
        job: name.to_string(),
        source,
    };
    let known: HashMap<String, String> = app
        .store
        .sync_hashes(name)
        .await
        .map_err(store_err)?
        .into_iter()
        .collect();
    let mut report = SyncReport {
        job: name.to_string(),
        ..Default::default()
    };
    let text = String::from_utf8_lossy(&body).into_owned();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    report.lines = lines.len();
    let config = Arc::new(job.plugin.config.clone());
    let mut changed_hashes = Vec::new();
    for (page_no, page) in lines.chunks(job.page_lines.max(1)).enumerate() {
        let input = Message {
            kind: job.kind.clone(),
            content_type: "application/x-ndjson".into(),
            body: page.join("\n").into_bytes(),
            headers: Vec::new(),
            correlation_id: format!("sync-{name}-{}", now_ms()),
        };
        let (v, c) = (version.clone(), config.clone());
        let mapped = tokio::task::spawn_blocking(move || v.call_map(&input, &c).result).await;
        let outputs = match mapped {
            Ok(Ok(o)) => o,
            Ok(Err(PluginFailure::Refused(e))) => {
                report
                    .refused_pages
                    .push(serde_json::json!({"page": page_no + 1, "error": e}));
                continue;
            }
            Ok(Err(fault)) => {
                report
                    .refused_pages
                    .push(serde_json::json!({"page": page_no + 1, "error": fault.to_string()}));
                continue;
            }
            Err(e) => {
                report
                    .refused_pages
                    .push(serde_json::json!({"page": page_no + 1, "error": e.to_string()}));
                continue;
            }
        };
        for o in outputs {
            report.records += 1;
            let hash = hex::encode(
                Sha256::new()
                    .chain_update(o.schema_id.as_bytes())
                    .chain_update([0])
                    .chain_update(o.body.as_bytes())
                    .finalize(),
            );
            if known.get(&o.business_key) == Some(&hash) {
                report.unchanged += 1;
                continue;
            }
            let msg = NewMessage {
                message_id: uuid::Uuid::new_v4().to_string(),
                source: format!("sync.{name}"),
                kind: o.schema_id.clone(),
                content_type: "application/json".into(),
                headers: Vec::new().into(),
                body_sha256: hex::encode(Sha256::digest(o.body.as_bytes())),
                body: o.body.into_bytes(),
                correlation_id: format!("sync-{name}-{}", uuid::Uuid::new_v4()),
                idempotency_key: Some(format!("{}@{hash}", o.business_key)),
                received_at: now_ms(),
                idempotency_expires_at: now_ms()
                    + app.config.store.idempotency_window_secs as i64 * 1000,
                context: MessageContext {
                    business_key: Some(o.business_key.clone()),
                    ..MessageContext::default()
                },
            };
            match app.store.ingest(msg).await.map_err(store_err)? {
                IngestOutcome::Accepted { .. } | IngestOutcome::Duplicate { .. } => {
                    report.changed += 1;
                    changed_hashes.push((o.business_key, hash));
                }
                IngestOutcome::Conflict { message_id } => {
                    tracing::warn!(job = name, %message_id, "sync record key reused with a different body");
                }
            }
        }
    }
    app.store
        .set_sync_hashes(name, changed_hashes)
        .await
        .map_err(store_err)?;
    app.wake_processing.notify_one();
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    tracing::info!(
        job = name,
        records = report.records,
        changed = report.changed,
        unchanged = report.unchanged,
        "reference sync run"
    );
    Ok(report)
}

/// GETs `url` through `connector` (the job's TLS settings for
/// `https://`); master data is small, so the body is read whole (capped).
async fn fetch(
    url: &str,
    token: Option<&str>,
    connector: crate::deliver::tls::Connector,
) -> Result<Bytes, String> {
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let mut req = hyper::Request::builder().method("GET").uri(url);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = req.body(Empty::new()).map_err(|e| e.to_string())?;
    let resp = tokio::time::timeout(FETCH_TIMEOUT, client.request(req))
        .await
        .map_err(|_| "timed out".to_string())?
        .map_err(|e| crate::deliver::client::chain(&e))?;
    if !resp.status().is_success() {
        return Err(format!("answered {}", resp.status()));
    }
    let limited = http_body_util::Limited::new(resp.into_body(), 256 << 20);
    limited
        .collect()
        .await
        .map(|b| b.to_bytes())
        .map_err(|e| e.to_string())
}
