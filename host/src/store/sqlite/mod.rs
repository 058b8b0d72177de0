//! The embedded default store: one SQLite file in WAL mode. Writes go
//! through one writer thread that commits in groups (`synchronous = FULL`:
//! each group is fsync'd before any of its callers hears back); reads use a
//! small pool of read connections.

mod flows;
mod reads;
mod retention;
mod schema;
mod writer;
mod writes;

use super::flow_model::*;
use super::model::*;
use super::traits::{Store, StoreError};
use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use writer::Writer;

/// Options of the SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// The database file.
    pub path: PathBuf,
    /// Jobs that may share one commit (1 = one fsync per write).
    pub group_commit_max: usize,
}

/// The SQLite store.
pub struct SqliteStore {
    writer: Writer,
    readers: Arc<Mutex<Vec<Connection>>>,
    path: PathBuf,
}

fn db_err(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

fn open_conn(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let open_err = |e: rusqlite::Error| StoreError::Open {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(open_err)?;
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;")
        .map_err(open_err)?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database.
    pub fn open(options: &SqliteOptions) -> Result<Arc<Self>, StoreError> {
        let path = options.path.clone();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
        }
        let mut conn = open_conn(&path, false)?;
        let open_err = |e: rusqlite::Error| StoreError::Open {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_err)?;
        // After a checkpoint the WAL is cut back to this size, so a burst
        // (a large retention purge) does not leave a large file behind.
        conn.pragma_update(None, "journal_size_limit", 64i64 << 20)
            .map_err(open_err)?;
        let applied = schema::migrate(&mut conn).map_err(open_err)?;
        if applied > 0 {
            tracing::info!(path = %path.display(), applied, version = schema::latest(), "store migrated");
        }
        let writer =
            Writer::start(conn, options.group_commit_max).map_err(|e| StoreError::Open {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
        Ok(Arc::new(Self {
            writer,
            readers: Arc::new(Mutex::new(Vec::new())),
            path,
        }))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs a read on a pooled read connection off the async threads.
    async fn read<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let pool = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let idle = pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let conn = match idle {
                Some(c) => c,
                None => open_conn(&path, true)?,
            };
            let result = f(&conn);
            let mut idle = pool.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < 8 {
                idle.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Database(format!("read task failed: {e}")))?
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ingest(&self, msg: NewMessage) -> Result<IngestOutcome, StoreError> {
        self.writer.run(move |c| writes::ingest(c, &msg)).await
    }

    async fn unprocessed(&self, limit: usize) -> Result<Vec<StoredMessage>, StoreError> {
        self.read(move |c| reads::unprocessed(c, limit)).await
    }

    async fn message(&self, message_id: &str) -> Result<Option<StoredMessage>, StoreError> {
        let id = message_id.to_string();
        self.read(move |c| reads::message(c, &id)).await
    }

    async fn complete_processing(
        &self,
        outcome: ProcessingOutcome,
    ) -> Result<MessageState, StoreError> {
        self.writer
            .run(move |c| writes::complete_processing(c, &outcome))
            .await
    }

    async fn claim_deliveries(
        &self,
        target: &str,
        now: Millis,
        limit: usize,
        lease: Millis,
    ) -> Result<Vec<Delivery>, StoreError> {
        let target = target.to_string();
        self.writer
            .run(move |c| writes::claim_deliveries(c, &target, now, limit, lease))
            .await
    }

    async fn record_attempt(&self, outcome: AttemptOutcome) -> Result<(), StoreError> {
        self.writer
            .run(move |c| writes::record_attempt(c, &outcome))
            .await
    }

    async fn recover_inflight(&self) -> Result<u64, StoreError> {
        self.writer
            .run(|c| {
                c.execute(
                    "UPDATE outbox SET state = 'pending', claimed_at = NULL WHERE state = 'inflight'",
                    [],
                )
                .map(|n| n as u64)
                .map_err(db_err)
            })
            .await
    }

    async fn message_deliveries(&self, message_id: &str) -> Result<Vec<Delivery>, StoreError> {
        let id = message_id.to_string();
        self.read(move |c| reads::message_deliveries(c, &id)).await
    }

    async fn processing_failed(
        &self,
        message_id: &str,
        error: &str,
        max_failures: u32,
    ) -> Result<ProcessingFailure, StoreError> {
        let (id, error) = (message_id.to_string(), error.to_string());
        self.writer
            .run(move |c| writes::processing_failed(c, &id, &error, max_failures))
            .await
    }

    async fn purge_finished(&self, cutoff: Millis, batch: usize) -> Result<Purged, StoreError> {
        self.writer
            .run(move |c| retention::purge_batch(c, cutoff, batch))
            .await
    }

    async fn dead_letters(&self, filter: &DeadLetterFilter) -> Result<Vec<DeadLetter>, StoreError> {
        let filter = filter.clone();
        self.read(move |c| reads::dead_letters(c, &filter)).await
    }

    async fn timeline(&self, correlation_id: &str) -> Result<Option<Timeline>, StoreError> {
        let cid = correlation_id.to_string();
        self.read(move |c| reads::timeline(c, &cid)).await
    }

    async fn backlog(&self) -> Result<Backlog, StoreError> {
        self.read(reads::backlog).await
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        self.read(reads::stats).await
    }

    async fn purge_idempotency(&self, now: Millis) -> Result<u64, StoreError> {
        self.writer
            .run(move |c| {
                c.execute("DELETE FROM idempotency_keys WHERE expires_at < ?1", [now])
                    .map(|n| n as u64)
                    .map_err(db_err)
            })
            .await
    }

    async fn apply_flow(&self, write: FlowWrite) -> Result<FlowResult, StoreError> {
        self.writer.run(move |c| flows::apply_flow(c, &write)).await
    }

    async fn exceptions(
        &self,
        filter: &ExceptionFilter,
    ) -> Result<Vec<ExceptionRecord>, StoreError> {
        let filter = filter.clone();
        self.read(move |c| flows::exceptions(c, &filter)).await
    }

    async fn exception(&self, id: i64) -> Result<Option<ExceptionRecord>, StoreError> {
        self.read(move |c| flows::exception(c, id)).await
    }

    async fn complete_command(&self, done: CommandCompletion) -> Result<(), StoreError> {
        self.writer
            .run(move |c| flows::complete_command(c, &done))
            .await
    }

    async fn command(&self, message_id: &str) -> Result<Option<CommandRecord>, StoreError> {
        let id = message_id.to_string();
        self.read(move |c| flows::command(c, &id)).await
    }

    async fn entity_states(
        &self,
        system: &str,
        entity: Option<&str>,
        business_id: Option<&str>,
    ) -> Result<Vec<EntityState>, StoreError> {
        let (system, entity, id) = (
            system.to_string(),
            entity.map(str::to_string),
            business_id.map(str::to_string),
        );
        self.read(move |c| flows::entity_states(c, &system, entity.as_deref(), id.as_deref()))
            .await
    }

    async fn sync_hashes(&self, job: &str) -> Result<Vec<(String, String)>, StoreError> {
        let job = job.to_string();
        self.read(move |c| flows::sync_hashes(c, &job)).await
    }

    async fn set_sync_hashes(
        &self,
        job: &str,
        hashes: Vec<(String, String)>,
    ) -> Result<(), StoreError> {
        let job = job.to_string();
        self.writer
            .run(move |c| flows::set_sync_hashes(c, &job, &hashes))
            .await
    }

    async fn save_recon_run(&self, report: serde_json::Value) -> Result<i64, StoreError> {
        self.writer
            .run(move |c| flows::save_recon_run(c, &report))
            .await
    }

    async fn recon_runs(&self, limit: usize) -> Result<Vec<ReconRun>, StoreError> {
        self.read(move |c| flows::recon_runs(c, limit)).await
    }
}

#[cfg(test)]
mod safety_tests;
#[cfg(test)]
mod tests;
