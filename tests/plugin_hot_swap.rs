//! Hot swap under load: while calls stream through v1, v2 is dropped in by
//! rename and v1 again by an in-place (slow, half-visible) write; no call
//! fails, every result names the version that produced it, and a
//! fixture-failing or corrupt candidate is refused while the live version
//! stays active. Rollback is one call.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use waybill::plugins::{Message, Registry, watch_directory};

fn active_version(registry: &Registry) -> Option<String> {
    registry.get("swap-probe").map(|v| v.id.version.clone())
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn drop_by_rename(dir: &Path, bytes: &[u8]) {
    let tmp = dir.join(".swap-probe.wasm.partial");
    std::fs::write(&tmp, bytes).expect("write temp");
    std::fs::rename(&tmp, dir.join("swap-probe.wasm")).expect("rename into place");
}

fn refusal(registry: &Registry) -> Option<String> {
    registry
        .status()
        .into_iter()
        .find(|p| p.name == "swap-probe")
        .and_then(|p| p.last_refusal)
}

#[test]
fn swap_under_load_loses_no_call_and_refuses_bad_candidates() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let v1 = std::fs::read(common::test_plugin("swap-probe")).expect("v1");
    let v2 = std::fs::read(common::test_plugin("swap-probe-v2")).expect("v2");
    let broken = std::fs::read(common::test_plugin("swap-probe-broken")).expect("broken");
    std::fs::write(dir.join("swap-probe.wasm"), &v1).expect("install v1");
    let fixtures = dir.join("swap-probe.fixtures");
    std::fs::create_dir(&fixtures).expect("fixtures dir");
    for entry in std::fs::read_dir(common::test_plugin("swap-probe").with_extension("fixtures"))
        .expect("fixtures")
    {
        let p = entry.expect("entry").path();
        std::fs::copy(&p, fixtures.join(p.file_name().expect("name"))).expect("copy fixture");
    }

    let registry = Registry::new(common::runtime());
    let refused = registry.load_directory(dir).expect("load dir");
    assert!(refused.is_empty(), "{refused:?}");
    assert_eq!(active_version(&registry).as_deref(), Some("1.0.0"));
    let _watch = watch_directory(registry.clone(), dir, Duration::from_millis(150)).expect("watch");

    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    let served = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for w in 0..2 {
        let (registry, stop, failures, served) = (
            registry.clone(),
            stop.clone(),
            failures.clone(),
            served.clone(),
        );
        workers.push(std::thread::spawn(move || {
            let config = Arc::new(BTreeMap::new());
            let mut seen: BTreeMap<String, usize> = BTreeMap::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let mut msg =
                    Message::new("test.any", "application/json", format!("{{\"n\":{n}}}"));
                msg.correlation_id = format!("w{w}-{n}");
                let Some(version) = registry.get("swap-probe") else {
                    failures.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                match version.map(&msg, &config).map(|r| (r.plugin, r.result)) {
                    Ok((plugin, Ok(outputs))) => {
                        let body: serde_json::Value =
                            serde_json::from_str(&outputs[0].body).expect("json");
                        // The result names the version that produced it.
                        assert_eq!(
                            body["version"],
                            plugin.version.as_str(),
                            "output and record disagree"
                        );
                        assert_eq!(plugin.sha256.len(), 64);
                        *seen.entry(plugin.version).or_default() += 1;
                        served.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            seen
        }));
    }

    // v2 by rename.
    drop_by_rename(dir, &v2);
    wait_for("v2 active", || {
        active_version(&registry).as_deref() == Some("2.0.0")
    });

    // v1 by a slow in-place write: the watcher sees the half-written file,
    // must refuse it, and activates v1 only once the write completes.
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(dir.join("swap-probe.wasm"))
            .expect("open");
        f.write_all(&v1[..v1.len() / 2]).expect("first half");
        f.flush().expect("flush");
        wait_for("half-written candidate refused", || {
            refusal(&registry).is_some()
        });
        assert_eq!(
            active_version(&registry).as_deref(),
            Some("2.0.0"),
            "a half-written file must never be activated"
        );
        f.write_all(&v1[v1.len() / 2..]).expect("second half");
    }
    wait_for("v1 active again", || {
        active_version(&registry).as_deref() == Some("1.0.0")
    });

    // A candidate failing its own fixtures is refused; v1 stays.
    drop_by_rename(dir, &broken);
    wait_for("broken candidate refused", || {
        refusal(&registry).is_some_and(|r| r.contains("fixture"))
    });
    assert_eq!(active_version(&registry).as_deref(), Some("1.0.0"));

    // A corrupt file is refused; v1 stays.
    drop_by_rename(dir, b"\0asm this is not a component");
    wait_for("corrupt candidate refused", || {
        refusal(&registry).is_some_and(|r| r.contains("not a loadable component"))
    });
    assert_eq!(active_version(&registry).as_deref(), Some("1.0.0"));

    // Calls go on through v1 after the last refusal.
    let mark = served.load(Ordering::Relaxed);
    wait_for("calls served after the last refusal", || {
        served.load(Ordering::Relaxed) >= mark + 20
    });
    stop.store(true, Ordering::Relaxed);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for w in workers {
        for (k, n) in w.join().expect("worker") {
            *seen.entry(k).or_default() += n;
        }
    }
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "calls failed during swaps"
    );
    assert!(
        seen.get("1.0.0").copied().unwrap_or(0) > 0 && seen.get("2.0.0").copied().unwrap_or(0) > 0,
        "{seen:?}"
    );
    assert!(
        !seen.contains_key("3.0.0"),
        "the broken version served calls: {seen:?}"
    );

    // Rollback: back to the version active before v1, i.e. v2.
    let back = registry.rollback("swap-probe").expect("rollback");
    assert_eq!(back.id.version, "2.0.0");
    assert_eq!(active_version(&registry).as_deref(), Some("2.0.0"));
}

#[test]
fn compiled_components_are_cached_on_disk_by_sha256() {
    let cache = tempfile::tempdir().expect("tempdir");
    let options = || waybill::plugins::RuntimeOptions {
        cache_dir: Some(cache.path().to_path_buf()),
        ..Default::default()
    };
    let rt = waybill::plugins::Runtime::new(options()).expect("runtime");
    let v = waybill::plugins::PluginVersion::load_file(
        &rt,
        &common::plugin("acme-tms-milestone"),
        None,
    )
    .expect("load");
    // One artifact, with its checksum beside it.
    let files: Vec<_> = std::fs::read_dir(cache.path())
        .expect("cache")
        .map(|e| e.expect("e").file_name())
        .filter(|n| !n.to_string_lossy().ends_with(".sha256"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let checksum = format!("{}.sha256", files[0].to_string_lossy());
    assert!(cache.path().join(&checksum).is_file(), "{checksum}");
    let name = files[0].to_string_lossy().to_string();
    assert!(
        name.starts_with(&v.id.sha256) && name.ends_with(".cwasm"),
        "{name}"
    );
    let written = std::fs::metadata(cache.path().join(&name))
        .expect("meta")
        .modified()
        .expect("mtime");
    // A restart (a new runtime) loads the cached artifact instead of compiling.
    let rt2 = waybill::plugins::Runtime::new(options()).expect("runtime");
    let again = waybill::plugins::PluginVersion::load_file(
        &rt2,
        &common::plugin("acme-tms-milestone"),
        None,
    )
    .expect("load");
    assert_eq!(again.id, v.id);
    assert_eq!(
        std::fs::read_dir(cache.path()).expect("cache").count(),
        2,
        "the artifact and its checksum"
    );
    assert_eq!(
        std::fs::metadata(cache.path().join(&name))
            .expect("meta")
            .modified()
            .expect("mtime"),
        written
    );
}
