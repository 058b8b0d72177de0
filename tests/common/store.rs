//! The stores a test runs on: the embedded SQLite file in the test's
//! scratch directory, or PostgreSQL in a fresh schema of the database
//! `WAYBILL_TEST_POSTGRES` names (dropped when the test is done, also when
//! it fails). [`store_matrix!`](crate::store_matrix) declares a test once
//! and runs it on both: `sqlite::<name>` and `postgres::<name>`; without
//! the variable the PostgreSQL variant says it skips and passes.
#![allow(dead_code)]

use std::future::Future;
use std::path::Path;

/// The variable naming the test database.
pub const ENV: &str = "WAYBILL_TEST_POSTGRES";

/// Which store a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A test's store and scratch directory (its config, plugins, SQLite file).
pub struct TestStore {
    backend: Backend,
    /// The PostgreSQL schema's URL.
    url: Option<String>,
    dir: tempfile::TempDir,
}

impl TestStore {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The scratch directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The lines of the config's `[store]` section (on PostgreSQL 8
    /// connections per host: tests run two at a time, on a server other
    /// test runs share).
    pub fn section(&self) -> String {
        match &self.url {
            None => format!("path = \"{}\"", self.db_path().display()),
            Some(url) => format!("kind = \"postgres\"\nurl = \"{url}\"\npool_size = 8"),
        }
    }

    fn db_path(&self) -> std::path::PathBuf {
        self.dir().join("waybill.db")
    }

    /// Runs one statement around the host (a fault a test injects, a row
    /// it rewrites), in SQL both stores take; the rows it changed.
    pub async fn execute(&self, sql: &str) -> u64 {
        match &self.url {
            None => {
                let db = self.sqlite();
                db.execute(sql, []).expect("statement") as u64
            }
            Some(url) => connect(url)
                .await
                .execute(sql, &[])
                .await
                .expect("statement"),
        }
    }

    /// Runs `sqlite` or `postgres` (several statements), whichever this
    /// store speaks: a fault (a trigger) each dialect spells its own way.
    pub async fn batch(&self, sqlite: &str, postgres: &str) {
        match &self.url {
            None => self.sqlite().execute_batch(sqlite).expect("statements"),
            Some(url) => connect(url)
                .await
                .batch_execute(postgres)
                .await
                .expect("statements"),
        }
    }

    fn sqlite(&self) -> rusqlite::Connection {
        let db = rusqlite::Connection::open(self.db_path()).expect("the SQLite store");
        db.busy_timeout(std::time::Duration::from_secs(10))
            .expect("busy timeout");
        db
    }
}

/// Runs `test` on a fresh store of `backend` (what [`store_matrix!`]
/// expands to); for PostgreSQL without [`ENV`] it says that the test skips
/// and returns. The PostgreSQL schema is dropped afterwards, also when the
/// test panics; a test that passed must have had its host migrate the
/// schema (so it cannot have run on anything else).
///
/// [`store_matrix!`]: crate::store_matrix
pub async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let schema = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => match base_url() {
            Some(base) => Some(Schema::create(&base).await),
            None => return,
        },
    };
    test(TestStore {
        backend,
        url: schema.as_ref().map(|s| s.url.clone()),
        dir: tempfile::tempdir().expect("tempdir"),
    })
    .await;
    if let Some(schema) = &schema {
        let tables = connect(&schema.base)
            .await
            .query_one(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1",
                &[&schema.name],
            )
            .await
            .expect("count the schema's tables");
        let tables: i64 = tables.get(0);
        assert!(tables > 0, "no host used the test schema {}", schema.name);
    }
}

/// Declares each listed `async fn name(store: TestStore)` as two tests,
/// `sqlite::name` and `postgres::name` (run one store with
/// `cargo test ... -- postgres::`). `#[postgres_ignore = "why"]` before a
/// name ignores only its PostgreSQL variant.
#[macro_export]
macro_rules! store_matrix {
    ($($(#[postgres_ignore = $why:literal])? $name:ident),* $(,)?) => {
        /// The suite on the embedded SQLite store.
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::common::store::run(
                        $crate::common::store::Backend::Sqlite,
                        super::$name,
                    )
                    .await;
                }
            )*
        }
        /// The suite on PostgreSQL (`WAYBILL_TEST_POSTGRES`).
        mod postgres {
            $(
                $(#[ignore = $why])?
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::common::store::run(
                        $crate::common::store::Backend::Postgres,
                        super::$name,
                    )
                    .await;
                }
            )*
        }
    };
}

/// The test database's URL, or `None` (having said that the test skips).
pub fn base_url() -> Option<String> {
    match std::env::var(ENV) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!("skipping: {ENV} is not set");
            None
        }
    }
}

/// A plain connection to `url`, its connection task spawned.
pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect to the test database");
    tokio::spawn(connection);
    client
}

/// `base` with `search_path` set to `schema` on every connection.
pub fn url_in(base: &str, schema: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-csearch_path%3D{schema}")
}

/// A fresh schema in the test database, dropped with this value (at the
/// end of the test, or while a failed one unwinds).
pub struct Schema {
    base: String,
    pub name: String,
    /// The URL whose connections use the schema.
    pub url: String,
}

impl Schema {
    pub async fn create(base: &str) -> Schema {
        let name = format!("wb_{}", uuid::Uuid::new_v4().simple());
        connect(base)
            .await
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .await
            .expect("create a test schema");
        Schema {
            base: base.to_string(),
            url: url_in(base, &name),
            name,
        }
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot block on a
        // future: a thread of its own with a runtime of its own does.
        // A host that is still running (a failed test did not stop it)
        // only delays the drop by its open transaction; a drop that still
        // cannot get its locks gives up and leaves the schema behind.
        let (base, name) = (self.base.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the schema");
            runtime.block_on(async move {
                let (client, connection) =
                    tokio_postgres::connect(&base, tokio_postgres::NoTls).await?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!(
                        "SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS {name} CASCADE"
                    ))
                    .await
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("test schema {} left behind: {e}", self.name);
        }
    }
}
