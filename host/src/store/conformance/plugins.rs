//! Conformance of [`PluginStore`]: versions stored once per sha256 with
//! their bytes and fixtures, an append-only decision log whose newest
//! entry per plugin is what every host runs, and one state row per host
//! and plugin.

use super::super::*;
use super::{StoreFactory, T0, fresh};

pub(super) fn version(name: &str, version: &str, sha: &str, host: &str) -> NewPluginVersion {
    NewPluginVersion {
        name: name.into(),
        version: version.into(),
        sha256: sha.into(),
        component: format!("component of {name}@{version}").into_bytes(),
        fixtures: vec![
            ("a.input.json".into(), b"{\"a\":1}".to_vec()),
            ("a.expected.json".into(), vec![0, 159, 255]),
        ],
        pushed_by: host.into(),
    }
}

/// Stores probe 1.0.0 (`s1`) and 2.0.0 (`s2`) and other 1.0.0 (`o1`).
pub(super) async fn put_versions(store: &dyn Store) {
    for (name, v, sha) in [
        ("probe", "1.0.0", "s1"),
        ("probe", "2.0.0", "s2"),
        ("other", "1.0.0", "o1"),
    ] {
        store
            .put_plugin_version(version(name, v, sha, "host-a"))
            .await
            .expect("put");
    }
}

fn decide(name: &str, sha: &str, action: PluginAction, host: &str) -> NewPluginDecision {
    NewPluginDecision {
        name: name.into(),
        sha256: sha.into(),
        action,
        host: host.into(),
    }
}

/// A version is stored once per sha256 (a second push of the same bytes
/// keeps the first, fixtures included) and read back byte for byte.
pub async fn plugin_versions_are_stored_once_by_sha256(factory: &dyn StoreFactory) {
    let (store, clock) = fresh(factory).await;
    assert_eq!(store.plugin_version("s1").await.expect("read"), None);
    let v1 = version("probe", "1.0.0", "s1", "host-a");
    assert!(store.put_plugin_version(v1.clone()).await.expect("put"));
    clock.advance(5);
    let mut again = version("probe", "1.0.0", "s1", "host-b");
    again.fixtures.clear();
    assert!(!store.put_plugin_version(again).await.expect("put again"));
    store
        .put_plugin_version(version("probe", "2.0.0", "s2", "host-b"))
        .await
        .expect("put v2");
    store
        .put_plugin_version(version("other", "1.0.0", "o1", "host-a"))
        .await
        .expect("put other");

    let stored = store
        .plugin_version("s1")
        .await
        .expect("read")
        .expect("kept");
    let mut expected = v1.clone();
    expected.fixtures.sort();
    assert_eq!(
        stored.version, expected,
        "the first push's bytes and fixtures"
    );
    assert_eq!(stored.pushed_at, T0);
    let listed = store.plugin_versions("probe").await.expect("list");
    assert_eq!(
        listed
            .iter()
            .map(|v| (
                v.version.as_str(),
                v.sha256.as_str(),
                v.fixtures,
                v.pushed_by.as_str()
            ))
            .collect::<Vec<_>>(),
        [("1.0.0", "s1", 2, "host-a"), ("2.0.0", "s2", 2, "host-b")]
    );
    assert_eq!(listed[0].size, v1.component.len() as u64);
}

/// Decisions get increasing sequence numbers; the newest per plugin is
/// current; a decision naming a version not stored under that plugin is
/// refused and leaves the log as it was.
pub async fn plugin_decisions_are_a_log_whose_newest_entry_is_current(factory: &dyn StoreFactory) {
    let (store, clock) = fresh(factory).await;
    assert_eq!(store.latest_plugin_seq().await.expect("seq"), 0);
    assert!(
        store
            .current_plugin_decisions()
            .await
            .expect("none")
            .is_empty()
    );
    put_versions(store.as_ref()).await;
    let first = store
        .decide_plugin(decide("probe", "s1", PluginAction::Activate, "host-a"))
        .await
        .expect("decide");
    assert_eq!(first.version, "1.0.0");
    assert_eq!(first.decided_at, T0);
    clock.advance(10);
    let second = store
        .decide_plugin(decide("probe", "s2", PluginAction::Activate, "host-b"))
        .await
        .expect("decide");
    let other = store
        .decide_plugin(decide("other", "o1", PluginAction::Activate, "host-b"))
        .await
        .expect("decide");
    let back = store
        .decide_plugin(decide("probe", "s1", PluginAction::Rollback, "host-c"))
        .await
        .expect("decide");
    assert!(first.seq < second.seq && second.seq < other.seq && other.seq < back.seq);
    assert_eq!(back.decided_at, T0 + 10);
    assert_eq!(back.host, "host-c");

    let refused = store
        .decide_plugin(decide("probe", "o1", PluginAction::Activate, "host-a"))
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(_))),
        "another plugin's version: {refused:?}"
    );
    let refused = store
        .decide_plugin(decide("probe", "nope", PluginAction::Activate, "host-a"))
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(_))),
        "{refused:?}"
    );

    assert_eq!(store.latest_plugin_seq().await.expect("seq"), back.seq);
    let log = store.plugin_decisions("probe").await.expect("log");
    assert_eq!(
        log.iter()
            .map(|d| (d.sha256.as_str(), d.action))
            .collect::<Vec<_>>(),
        [
            ("s1", PluginAction::Activate),
            ("s2", PluginAction::Activate),
            ("s1", PluginAction::Rollback)
        ]
    );
    let current = store.current_plugin_decisions().await.expect("current");
    assert_eq!(current, vec![other, back]);
}

/// Each host has one state row per plugin, replaced by the next record.
pub async fn each_host_keeps_one_state_per_plugin(factory: &dyn StoreFactory) {
    let (store, clock) = fresh(factory).await;
    let record = |host: &str, sha: &str, state, detail: &str| PluginHostRecord {
        host: host.into(),
        name: "probe".into(),
        sha256: sha.into(),
        state,
        detail: detail.into(),
        updated_at: 0,
    };
    store
        .record_plugin_host(record("b", "s1", HostPluginState::Active, "probe@1.0.0"))
        .await
        .expect("record");
    store
        .record_plugin_host(record("a", "s1", HostPluginState::Active, "probe@1.0.0"))
        .await
        .expect("record");
    clock.advance(3);
    store
        .record_plugin_host(record(
            "b",
            "s3",
            HostPluginState::Refused,
            "fixture other-kind failed",
        ))
        .await
        .expect("record");
    let hosts = store.plugin_hosts().await.expect("hosts");
    assert_eq!(
        hosts,
        vec![
            PluginHostRecord {
                updated_at: T0,
                ..record("a", "s1", HostPluginState::Active, "probe@1.0.0")
            },
            PluginHostRecord {
                updated_at: T0 + 3,
                ..record(
                    "b",
                    "s3",
                    HostPluginState::Refused,
                    "fixture other-kind failed"
                )
            },
        ]
    );
}
