//! Several `waybill serve` processes on one PostgreSQL database: a fresh
//! schema per test, and [`Hosts`], the children that are killed when the
//! test ends (an assertion that unwinds too), so no host is left polling
//! the database. Included with `#[path]` by the tests that need it.
#![allow(dead_code)]

use std::process::Child;

/// The variable naming the test database.
pub const ENV: &str = "WAYBILL_TEST_POSTGRES";

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

/// A fresh schema in the test database; returns the URL whose connections
/// use it, and its name.
pub async fn fresh_schema(base: &str) -> (String, String) {
    let name = format!("wb_{}", uuid::Uuid::new_v4().simple());
    admin(base)
        .await
        .batch_execute(&format!("CREATE SCHEMA {name}"))
        .await
        .expect("create a test schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    (format!("{base}{sep}options=-csearch_path%3D{name}"), name)
}

/// A plain connection to `base`, its connection task spawned.
pub async fn admin(base: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(base, tokio_postgres::NoTls)
        .await
        .expect("connect to the test database");
    tokio::spawn(connection);
    client
}

/// Drops a schema made by [`fresh_schema`].
pub async fn drop_schema(base: &str, name: &str) {
    let _ = admin(base)
        .await
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
        .await;
}

/// Host processes, killed (SIGKILL) on drop when still running.
#[derive(Default)]
pub struct Hosts(pub Vec<Child>);

impl std::ops::Deref for Hosts {
    type Target = Vec<Child>;
    fn deref(&self) -> &Vec<Child> {
        &self.0
    }
}

impl std::ops::DerefMut for Hosts {
    fn deref_mut(&mut self) -> &mut Vec<Child> {
        &mut self.0
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for child in &mut self.0 {
            if let Ok(None) = child.try_wait() {
                kill_9(child);
            }
        }
    }
}

/// SIGKILL, then reap.
pub fn kill_9(child: &mut Child) {
    child.kill().expect("SIGKILL");
    let _ = child.wait();
}

/// SIGTERM (a graceful stop), then reap.
pub fn stop(child: &mut Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}
