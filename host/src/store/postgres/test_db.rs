//! Test databases: each test gets a fresh schema of its own in the
//! database `WAYBILL_TEST_POSTGRES` names, and a store whose pooled
//! connections all have that schema as their `search_path`; the schema is
//! dropped when the test is done. Without the variable a test says it
//! skips and returns.

use super::{PostgresOptions, PostgresStore};
use crate::store::conformance::StoreFactory;
use crate::store::{Clock, Store};
use std::sync::{Arc, Mutex};

/// The variable naming the test database.
pub(crate) const ENV: &str = "WAYBILL_TEST_POSTGRES";

/// The test database's URL, or `None` (having said that the test skips).
pub(crate) fn base_url() -> Option<String> {
    match std::env::var(ENV) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!("skipping: {ENV} is not set");
            None
        }
    }
}

/// A plain connection to `url`, its connection task spawned.
pub(crate) async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect to the test database");
    tokio::spawn(connection);
    client
}

/// `base` with `search_path` set to `schema` on every connection.
pub(crate) fn url_in(base: &str, schema: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-csearch_path%3D{schema}")
}

/// Fresh schemas in the test database, dropped by [`Schemas::cleanup`].
pub(crate) struct Schemas {
    base: String,
    made: Mutex<Vec<String>>,
}

impl Schemas {
    /// `None` (and a line saying the test skips) without the variable.
    pub(crate) fn from_env() -> Option<Self> {
        Some(Self {
            base: base_url()?,
            made: Mutex::new(Vec::new()),
        })
    }

    /// A new empty schema; returns the URL whose connections use it.
    pub(crate) async fn create(&self) -> String {
        let name = format!("wb_{}", uuid::Uuid::new_v4().simple());
        connect(&self.base)
            .await
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .await
            .expect("create a test schema");
        self.made
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(name.clone());
        url_in(&self.base, &name)
    }

    /// A store on `url` reading `clock`.
    pub(crate) async fn open(&self, url: &str, clock: Arc<dyn Clock>) -> Arc<PostgresStore> {
        let options = PostgresOptions {
            url: url.to_string(),
            pool_size: 4,
            host: crate::store::conformance::fixtures::HOST.into(),
        };
        PostgresStore::open_with_clock(&options, clock)
            .await
            .expect("open a PostgreSQL store")
    }

    /// Drops every schema made so far.
    pub(crate) async fn cleanup(&self) {
        let made = std::mem::take(&mut *self.made.lock().unwrap_or_else(|p| p.into_inner()));
        let client = connect(&self.base).await;
        for name in made {
            client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .await
                .expect("drop a test schema");
        }
    }
}

#[async_trait::async_trait]
impl StoreFactory for Schemas {
    async fn open(&self, clock: Arc<dyn Clock>) -> Arc<dyn Store> {
        let url = self.create().await;
        Schemas::open(self, &url, clock).await
    }
}
