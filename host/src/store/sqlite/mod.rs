//! The embedded default store: one SQLite file in WAL mode. Writes go
//! through one writer thread that commits in groups (`synchronous = FULL`:
//! each group is fsync'd before any of its callers hears back); reads use a
//! small pool of read connections. Only SQL lives here: the domain rules
//! it applies while writing are in [`super::rules`], shared by every backend.

mod batch;
mod canaries;
mod checkpoint;
mod coordination;
mod flows;
mod plugins;
mod reads;
mod retention;
mod schema;
mod shadows;
mod store_traits;
mod writer;
mod writes;

use super::clock::{Clock, SystemClock};
use super::error::StoreError;
use super::model::Millis;
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
    /// This host's name, recorded when the store opens: the timeline names
    /// it on every step done while it had the file open.
    pub host: String,
}

/// The SQLite store.
pub struct SqliteStore {
    writer: Writer,
    readers: Arc<Mutex<Vec<Connection>>>,
    path: PathBuf,
    clock: Arc<dyn Clock>,
    /// Stops the checkpoint thread when the store is dropped.
    _checkpointer: checkpoint::Stop,
    /// Exclusive locks (one host uses the file: they are in-process).
    locks: super::local_locks::LocalLocks,
}

/// The writer's page cache (KiB).
const WRITER_CACHE_KIB: i64 = 32 * 1024;
/// WAL pages after which the writer checkpoints by itself (the checkpoint
/// thread normally keeps the WAL far below).
const WRITER_CHECKPOINT_PAGES: i64 = 16 * 1024;

/// A SQLite error as a [`StoreError`], kept as its source: busy and locked
/// are [`StoreError::Busy`] (retryable), everything else
/// [`StoreError::Database`].
/// `query_row` through the connection's statement cache: the hot paths
/// run the same few statements for every message, and
/// `Connection::query_row` would parse each again.
trait CachedRow {
    fn cached_row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>;
}

impl CachedRow for Connection {
    fn cached_row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

fn db_err(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            StoreError::Busy(Box::new(e))
        }
        _ => StoreError::Database(Box::new(e)),
    }
}

fn open_err(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + Copy + '_ {
    move |e| StoreError::Open {
        path: path.display().to_string(),
        source: Box::new(e),
    }
}

fn open_conn(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags).map_err(open_err(path))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(open_err(path))?;
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;")
        .map_err(open_err(path))?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database; it reads the
    /// system clock.
    pub fn open(options: &SqliteOptions) -> Result<Arc<Self>, StoreError> {
        Self::open_with_clock(options, SystemClock::shared())
    }

    /// Opens (creating if needed) and migrates the database; it reads
    /// `clock` whenever it stamps a record.
    pub fn open_with_clock(
        options: &SqliteOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Self>, StoreError> {
        let path = options.path.clone();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                path: path.display().to_string(),
                source: Box::new(e),
            })?;
        }
        let mut conn = open_conn(&path, false)?;
        let open_err = open_err(&path);
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_err)?;
        // After a checkpoint the WAL is cut back to this size, so a burst
        // (a large retention purge) does not leave a large file behind.
        conn.pragma_update(None, "journal_size_limit", 64i64 << 20)
            .map_err(open_err)?;
        // The writer keeps the hot pages of the indexes it appends to; WAL
        // checkpoints run on their own thread (below), the writer only
        // checkpoints itself when that one falls far behind.
        conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)
            .map_err(open_err)?;
        conn.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)
            .map_err(open_err)?;
        conn.set_prepared_statement_cache_capacity(256);
        let applied = schema::migrate(&mut conn).map_err(open_err)?;
        if applied > 0 {
            tracing::info!(path = %path.display(), applied, version = schema::latest(), "store migrated");
        }
        conn.execute(
            "INSERT INTO host_epochs (started_at, host) VALUES (?1, ?2)",
            rusqlite::params![clock.now_ms(), options.host],
        )
        .map_err(open_err)?;
        let writer =
            Writer::start(conn, options.group_commit_max).map_err(|e| StoreError::Open {
                path: path.display().to_string(),
                source: Box::new(e),
            })?;
        let checkpointer = checkpoint::start(&path).map_err(|e| StoreError::Open {
            path: path.display().to_string(),
            source: Box::new(e),
        })?;
        Ok(Arc::new(Self {
            writer,
            readers: Arc::new(Mutex::new(Vec::new())),
            path,
            clock,
            _checkpointer: checkpointer,
            locks: Default::default(),
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
        .map_err(|e| StoreError::database(format!("read task failed: {e}")))?
    }

    /// Runs a write in the writer's next group, handing it the time the
    /// injected clock shows when the job runs; `f` may run twice (the
    /// writer's optimistic group failed), only its last run counts.
    async fn write<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: Fn(&Connection, Millis) -> Result<R, StoreError> + Send + 'static,
    {
        let clock = self.clock.clone();
        self.writer.run(move |c| f(c, clock.now_ms())).await
    }
}

#[cfg(test)]
mod conformance_tests;
#[cfg(test)]
mod safety_tests;
#[cfg(test)]
mod tests;
