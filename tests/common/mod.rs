//! Shared helpers of the end-to-end tests: where the built plugins are, a
//! runtime with test limits, scratch directories.
#![allow(dead_code)]

pub mod host;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
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
