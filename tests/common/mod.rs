//! Shared helpers of the end-to-end tests: where the built plugins are, a
//! runtime with test limits, scratch directories, and [`wait_until`], the one
//! way a test waits (on a condition with a deadline, never a fixed sleep).
#![allow(dead_code)]

pub mod finance;
pub mod host;
pub mod store;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use waybill::plugins::{Limits, Runtime, RuntimeOptions};

/// `target/plugins`, as `cargo xtask plugins` lays it out.
pub fn plugins_dir() -> PathBuf {
    let dir = std::env::var_os("WAYBILL_PLUGINS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/plugins"));
    assert!(
        dir.join("test").is_dir(),
        "built plugins not found in {}: run `cargo xtask plugins` (or `cargo xtask test`) first",
        dir.display()
    );
    dir
}

/// A production plugin's component.
pub fn plugin(name: &str) -> PathBuf {
    plugins_dir().join(format!("{name}.wasm"))
}

/// A test-only plugin's component.
pub fn test_plugin(name: &str) -> PathBuf {
    plugins_dir().join("test").join(format!("{name}.wasm"))
}

/// The bytes of a test-only plugin's component.
pub fn test_plugin_bytes(name: &str) -> Vec<u8> {
    std::fs::read(test_plugin(name)).expect("built test plugin")
}

/// A plugins directory under `dir` holding only swap-probe v1 and its
/// fixtures: its other builds reach a host only through the store.
pub fn probe_plugins_dir(dir: &Path) -> PathBuf {
    let plugins = dir.join("plugins");
    let fixtures = plugins.join("swap-probe.fixtures");
    std::fs::create_dir_all(&fixtures).expect("plugins dir");
    std::fs::write(
        plugins.join("swap-probe.wasm"),
        test_plugin_bytes("swap-probe"),
    )
    .expect("v1");
    for entry in std::fs::read_dir(test_plugin("swap-probe").with_extension("fixtures"))
        .expect("swap-probe fixtures")
    {
        let p = entry.expect("entry").path();
        std::fs::copy(&p, fixtures.join(p.file_name().expect("name"))).expect("copy fixture");
    }
    plugins
}

/// The repository root: the workspace's, whichever package (`host`,
/// `host/demo`) these tests are compiled into.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").is_file())
        .expect("the workspace root (with Cargo.lock) above CARGO_MANIFEST_DIR")
        .to_path_buf()
}

/// Limits small enough for tests to hit quickly.
pub fn test_limits() -> Limits {
    Limits {
        cpu: Duration::from_millis(200),
        memory_bytes: 32 << 20,
        input_bytes: 64 << 10,
        ..Limits::default()
    }
}

/// A runtime with test limits and a shared compiled-component cache.
pub fn runtime() -> Arc<Runtime> {
    Runtime::new(RuntimeOptions {
        cache_dir: Some(repo_root().join("target/waybill-test-cache")),
        default_limits: test_limits(),
        quarantine_after: 3,
        ..Default::default()
    })
    .expect("runtime")
}

/// How often [`wait_until`] polls.
const POLL: Duration = Duration::from_millis(20);

/// Polls `probe` until it returns `Some` and returns that value; panics
/// naming `what` once `timeout` has passed. The timeout only bounds a broken
/// run: a passing test never depends on how long anything takes.
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// [`wait_until`] for plain `#[test]`s: blocks the thread between polls.
pub fn wait_until_blocking<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(POLL);
    }
}
