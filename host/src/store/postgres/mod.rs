//! The scale-out store: one PostgreSQL database shared by several hosts,
//! behind the same traits as the embedded SQLite store. Each call takes a
//! pooled connection (deadpool) and runs in one transaction, committed
//! before the call returns (`synchronous_commit` is left on: an
//! acknowledged ingest is on disk).
//!
//! Sharing the database is safe because every piece of work is claimed in
//! the database, never in a host's memory:
//! - deliveries are claimed with a lease (`FOR UPDATE SKIP LOCKED`, see
//!   [`writes::claim_deliveries`]), per business key one at a time;
//! - messages waiting for processing are leased too: `unprocessed` marks
//!   the rows it hands out (`messages.leased_until`, `leased_by`, claimed
//!   with `SKIP LOCKED`), so two hosts never map the same message at once;
//!   the instance holding a lease gets its messages again on its next call
//!   (what one round left out), a host that dies leaves its leases to run
//!   out ([`PROCESSING_LEASE`]), a counted failure gives the message back
//!   at once; and
//!   `complete_processing` locks the message row, so a late second outcome
//!   sees the first and keeps it;
//! - idempotency keys are claimed with `INSERT .. ON CONFLICT DO NOTHING`,
//!   so two ingests of one key on two hosts store one message.
//!
//! Hosts wake each other with `LISTEN`/`NOTIFY` ([`listen`]): a commit
//! that leaves work (a message stored, deliveries enqueued or released)
//! notifies in its transaction, and [`MessageStore::wake_events`] hands the
//! notifications out; polling stays the fallback.
//!
//! Only SQL lives here; the domain rules come from [`super::rules`].
//!
//! [`MessageStore::wake_events`]: super::MessageStore::wake_events

mod batch;
mod canaries;
mod coordination;
mod errors;
mod flows;
mod listen;
mod plugins;
mod reads;
mod retention;
mod schema;
mod shadows;
mod store_traits;
mod writes;

use super::clock::{Clock, SystemClock};
use super::error::StoreError;
use super::model::{Millis, WakeEvent};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
pub(crate) use errors::{db_err, pool_err};
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::NoTls;
use tokio_postgres::types::ToSql;

/// How long a message handed out by `unprocessed` stays with the host
/// that asked for it before another host may take it (its host died or
/// lost the database before writing an outcome).
pub const PROCESSING_LEASE: Millis = 30_000;

/// Options of the PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// `postgres://user:password@host:port/database` (key=value form
    /// accepted too); `?options=-csearch_path%3Dname` puts the tables in a
    /// schema of their own.
    pub url: String,
    /// Connections in the pool.
    pub pool_size: usize,
    /// This host's name (letters, digits, `.`, `_`, `-`): every session
    /// carries it (`waybill.host`) and the rows a step writes record it.
    pub host: String,
}

/// The PostgreSQL store.
pub struct PostgresStore {
    pool: Pool,
    clock: Arc<dyn Clock>,
    /// The URL without its password, for errors.
    shown: String,
    /// This instance's name on the message leases it holds.
    owner: String,
    /// The notification channel of this store's schema.
    channel: String,
    /// What the listening connection heard.
    wakes: tokio::sync::broadcast::Sender<WakeEvent>,
    /// The listening task, stopped with the store.
    listener: tokio::task::AbortHandle,
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// A transaction on a pooled connection; every statement function takes one.
pub(crate) type Tx<'a> = deadpool_postgres::Transaction<'a>;

/// Statement parameters.
pub(crate) type Params<'a> = [&'a (dyn ToSql + Sync)];

/// How long a caller waits for a pooled connection, and for a new one.
const WAIT: Duration = Duration::from_secs(5);

/// `host` as a session setting's value: characters outside letters,
/// digits, `.`, `_` and `-` (which the connection options would have to
/// escape) become `_`.
fn session_host(host: &str) -> String {
    host.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `url` without its password.
pub(crate) fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("****"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(postgres url)".to_string(),
    }
}

impl PostgresStore {
    /// Connects and migrates the database; it reads the system clock.
    pub async fn open(options: &PostgresOptions) -> Result<Arc<Self>, StoreError> {
        Self::open_with_clock(options, SystemClock::shared()).await
    }

    /// Connects and migrates the database; it reads `clock` whenever it
    /// stamps a record or decides what is due.
    pub async fn open_with_clock(
        options: &PostgresOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Self>, StoreError> {
        let shown = redacted(&options.url);
        let open_err = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Open {
            path: shown.clone(),
            source: e,
        };
        let mut config: tokio_postgres::Config =
            options.url.parse().map_err(|e| open_err(Box::new(e)))?;
        config.connect_timeout(WAIT);
        // Every session names its host: the rows a step writes record it.
        let host_option = format!("-c waybill.host={}", session_host(&options.host));
        let options_text = match config.get_options() {
            Some(existing) if !existing.trim().is_empty() => format!("{existing} {host_option}"),
            _ => host_option,
        };
        config.options(&options_text);
        if config.get_application_name().is_none() {
            config.application_name("waybill");
        }
        let mut listen_config = config.clone();
        listen_config.application_name(format!(
            "{}-listen",
            config.get_application_name().unwrap_or("waybill")
        ));
        // A silently vanished server is noticed on the listening
        // connection too (it only ever reads).
        listen_config.keepalives_idle(Duration::from_secs(30));
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                // Verified: a connection the server closed (a restart) is found out
                // before it is handed out, not by the statement it fails.
                recycling_method: RecyclingMethod::Verified,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(WAIT))
            .create_timeout(Some(WAIT))
            .recycle_timeout(Some(WAIT))
            .build()
            .map_err(|e| open_err(Box::new(e)))?;
        let mut client = pool
            .get()
            .await
            .map_err(|e| open_err(Box::new(pool_err(e))))?;
        let applied = schema::migrate(&mut client)
            .await
            .map_err(|e| open_err(Box::new(e)))?;
        if applied > 0 {
            tracing::info!(url = %shown, applied, version = schema::latest(), "store migrated");
        }
        let sync = client
            .query_one("SHOW synchronous_commit", &[])
            .await
            .map_err(|e| open_err(Box::new(e)))?;
        let sync: String = sync.get(0);
        if sync == "off" {
            tracing::warn!(url = %shown, "synchronous_commit is off: an acknowledged message may be lost in a crash");
        }
        let schema = client
            .query_one("SELECT current_schema()", &[])
            .await
            .map_err(|e| open_err(Box::new(e)))?;
        let schema: Option<String> = schema.get(0);
        let channel = listen::channel_for(schema.as_deref().unwrap_or("public"));
        drop(client);
        let (wakes, _) = tokio::sync::broadcast::channel(listen::CAPACITY);
        let listener = tokio::spawn(listen::run(
            listen_config,
            channel.clone(),
            shown.clone(),
            wakes.clone(),
        ))
        .abort_handle();
        let owner = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        Ok(Arc::new(Self {
            pool,
            clock,
            shown,
            owner,
            channel,
            wakes,
            listener,
        }))
    }

    /// The database URL, without its password.
    pub fn url(&self) -> &str {
        &self.shown
    }

    /// A pooled connection.
    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(pool_err)
    }

    fn now(&self) -> Millis {
        self.clock.now_ms()
    }

    /// Tells every host on this schema about `event` when `tx` commits.
    async fn notify(&self, tx: &Tx<'_>, event: WakeEvent) -> Result<(), StoreError> {
        listen::notify(tx, &self.channel, &event).await
    }
}

/// Runs `$body` (statements on `$tx`, each `.await?`) in one transaction
/// on a pooled connection and commits it; an error drops (rolls back) the
/// transaction.
macro_rules! in_tx {
    ($store:expr, |$tx:ident| $body:expr) => {{
        let mut client = $store.client().await?;
        let $tx = client
            .transaction()
            .await
            .map_err($crate::store::postgres::db_err)?;
        let out = $body;
        $tx.commit()
            .await
            .map_err($crate::store::postgres::db_err)?;
        Ok(out)
    }};
}
pub(crate) use in_tx;

/// Runs one cached statement and returns its rows.
pub(crate) async fn query(
    tx: &Tx<'_>,
    sql: &str,
    params: &Params<'_>,
) -> Result<Vec<tokio_postgres::Row>, StoreError> {
    let st = tx.prepare_cached(sql).await.map_err(db_err)?;
    tx.query(&st, params).await.map_err(db_err)
}

/// Runs one cached statement and returns its row, if any.
pub(crate) async fn query_opt(
    tx: &Tx<'_>,
    sql: &str,
    params: &Params<'_>,
) -> Result<Option<tokio_postgres::Row>, StoreError> {
    let st = tx.prepare_cached(sql).await.map_err(db_err)?;
    tx.query_opt(&st, params).await.map_err(db_err)
}

/// Runs one cached statement and returns the rows it touched.
pub(crate) async fn execute(
    tx: &Tx<'_>,
    sql: &str,
    params: &Params<'_>,
) -> Result<u64, StoreError> {
    let st = tx.prepare_cached(sql).await.map_err(db_err)?;
    tx.execute(&st, params).await.map_err(db_err)
}

/// A column's value, or [`StoreError::Corrupt`] when it does not decode.
pub(crate) fn get<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a tokio_postgres::Row,
    index: usize,
) -> Result<T, StoreError> {
    row.try_get(index)
        .map_err(|e| StoreError::Corrupt(format!("column {index}: {e}")))
}

#[cfg(test)]
mod conformance_tests;
#[cfg(test)]
mod notify_tests;
#[cfg(test)]
mod shared_tests;
#[cfg(test)]
pub(crate) mod test_db;
