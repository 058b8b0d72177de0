//! Hot reload: watches the plugins directory (not the files: a rename
//! replaces the inode), debounces the events per plugin, then loads, checks
//! and activates the candidate through the registry. A half-written or
//! failing candidate is refused and the previous version stays active; the
//! next write event retries it once the file settles.

use super::registry::{Registry, is_plugin_file};
use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Keeps the watcher alive; dropping it stops watching.
pub struct WatchHandle {
    watcher: Option<RecommendedWatcher>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        // Dropping the watcher closes the channel, which ends the thread.
        self.watcher.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Watches `dir` and installs changed `*.wasm` files (or a plugin whose
/// `<name>.fixtures/` changed) after `debounce` of quiet.
pub fn watch_directory(
    registry: Arc<Registry>,
    dir: &Path,
    debounce: Duration,
) -> notify::Result<WatchHandle> {
    let (tx, rx) = channel::<notify::Result<notify::Event>>();
    let mut watcher = notify::recommended_watcher(tx)?;
    watcher.watch(dir, RecursiveMode::Recursive)?;
    let dir = dir.to_path_buf();
    let thread = std::thread::Builder::new()
        .name("waybill-plugin-watch".into())
        .spawn(move || {
            let mut pending: BTreeMap<PathBuf, Instant> = BTreeMap::new();
            loop {
                match rx.recv_timeout(debounce / 4) {
                    Ok(Ok(event)) if is_change(&event.kind) => {
                        for path in event.paths {
                            if let Some(wasm) = plugin_file_for(&dir, &path) {
                                pending.insert(wasm, Instant::now());
                            }
                        }
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "plugin watcher error"),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
                let settled: Vec<PathBuf> = pending
                    .iter()
                    .filter(|(_, at)| at.elapsed() >= debounce)
                    .map(|(p, _)| p.clone())
                    .collect();
                for wasm in settled {
                    pending.remove(&wasm);
                    reload(&registry, &wasm);
                }
            }
        })
        .map_err(notify::Error::io)?;
    Ok(WatchHandle {
        watcher: Some(watcher),
        thread: Some(thread),
    })
}

fn is_change(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Create(_)
            | EventKind::Modify(_)
            | EventKind::Access(AccessKind::Close(AccessMode::Write))
    )
}

/// The plugin file an event path concerns: the `.wasm` itself, or the
/// `.wasm` beside a changed `<stem>.fixtures/` directory.
fn plugin_file_for(dir: &Path, path: &Path) -> Option<PathBuf> {
    let rel = path.strip_prefix(dir).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    if let Some(stem) = first.strip_suffix(".fixtures") {
        return Some(dir.join(format!("{stem}.wasm")));
    }
    if rel.components().count() == 1 && first.ends_with(".wasm") && !first.starts_with('.') {
        return Some(dir.join(first));
    }
    None
}

fn reload(registry: &Registry, wasm: &Path) {
    if !is_plugin_file(wasm) {
        return;
    }
    let bytes = match std::fs::read(wasm) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(file = %wasm.display(), error = %e, "cannot read changed plugin");
            return;
        }
    };
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    let stem = wasm
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let unchanged = registry
        .status()
        .iter()
        .flat_map(|p| {
            p.versions
                .iter()
                .filter(|v| v.active)
                .map(|v| v.sha256.clone())
        })
        .any(|active| active == sha);
    let fixtures_changed = wasm.with_file_name(format!("{stem}.fixtures")).is_dir();
    if unchanged && !fixtures_changed {
        return;
    }
    match registry.install_file(wasm) {
        Ok(v) => {
            tracing::info!(file = %wasm.display(), plugin = %v.label(), sha256 = %v.id.sha256, "hot-swapped plugin")
        }
        Err(e) => {
            tracing::warn!(file = %wasm.display(), error = %e, "plugin candidate refused; previous version stays active")
        }
    }
}
