//! Conformance of [`ShadowStore`]: one running shadow run per plugin
//! (starting another stops it), stopping is idempotent, only stored
//! versions shadow, one report row per run and host (replaced as it
//! counts), and the recorded messages of a route in a time window with
//! their plugin runs on that route.

use super::super::*;
use super::fixtures::{enqueue, outcome};
use super::{StoreFactory, T0, fresh};

fn stored(name: &str, version: &str, sha: &str) -> NewPluginVersion {
    super::plugins::version(name, version, sha, "host-a")
}

fn shadow(name: &str, sha: &str, host: &str) -> NewShadowRun {
    NewShadowRun {
        name: name.into(),
        sha256: sha.into(),
        ignore: vec!["/meta".into(), "generated_at".into()],
        examples: 7,
        host: host.into(),
    }
}

/// A run is running until stopped; a second run of the plugin stops the
/// first; runs of other plugins are untouched; an unstored version is
/// refused.
pub async fn one_shadow_run_per_plugin_runs_until_stopped(factory: &dyn StoreFactory) {
    let (store, clock) = fresh(factory).await;
    for v in [
        stored("probe", "1.5.0", "s15"),
        stored("probe", "1.6.0", "s16"),
        stored("other", "2.0.0", "o2"),
    ] {
        store.put_plugin_version(v).await.expect("put");
    }
    assert!(store.running_shadows().await.expect("running").is_empty());
    let refused = store
        .start_shadow(shadow("probe", "o2", "host-a"))
        .await
        .expect_err("o2 is not a probe version");
    assert!(matches!(refused, StoreError::NotFound(_)), "{refused:?}");

    let first = store
        .start_shadow(shadow("probe", "s15", "host-a"))
        .await
        .expect("start");
    assert_eq!(first.version, "1.5.0");
    assert_eq!(
        first.ignore,
        vec!["/meta".to_string(), "generated_at".into()]
    );
    assert_eq!(first.examples, 7);
    assert_eq!(
        (first.started_by.as_str(), first.started_at),
        ("host-a", T0)
    );
    assert_eq!(first.stopped_at, None);
    let other = store
        .start_shadow(shadow("other", "o2", "host-b"))
        .await
        .expect("start other");
    clock.advance(10);
    let second = store
        .start_shadow(shadow("probe", "s16", "host-b"))
        .await
        .expect("replace");
    assert!(second.id > first.id);
    let running = store.running_shadows().await.expect("running");
    assert_eq!(
        running.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![other.id, second.id],
        "by plugin name"
    );
    let runs = store.shadow_runs("probe").await.expect("runs");
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].stopped_by.as_deref(), Some("host-b"));
    assert_eq!(runs[0].stopped_at, Some(T0 + 10));

    clock.advance(5);
    let stopped = store
        .stop_shadow("probe", "host-a")
        .await
        .expect("stop")
        .expect("one ran");
    assert_eq!(stopped.id, second.id);
    assert_eq!(stopped.stopped_at, Some(T0 + 15));
    assert_eq!(
        store.stop_shadow("probe", "host-a").await.expect("again"),
        None
    );
    assert_eq!(
        store.running_shadows().await.expect("running").len(),
        1,
        "other still runs"
    );
}

/// Each host keeps one report row per run, replaced as it saves again.
pub async fn each_host_keeps_one_report_per_run(factory: &dyn StoreFactory) {
    let (store, clock) = fresh(factory).await;
    store
        .put_plugin_version(stored("probe", "1.5.0", "s15"))
        .await
        .expect("put");
    let run = store
        .start_shadow(shadow("probe", "s15", "host-a"))
        .await
        .expect("start");
    let save = |host: &str, compared: u64| ShadowHostReport {
        run_id: run.id,
        host: host.into(),
        report: serde_json::json!({"compared": compared, "by_pointer": {"/0/body/a": compared}}),
        updated_at: 0,
    };
    store
        .save_shadow_report(save("host-b", 1))
        .await
        .expect("save");
    store
        .save_shadow_report(save("host-a", 2))
        .await
        .expect("save");
    clock.advance(3);
    store
        .save_shadow_report(save("host-b", 9))
        .await
        .expect("replace");
    let reports = store.shadow_reports(run.id).await.expect("reports");
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].host, "host-a");
    assert_eq!(reports[0].updated_at, T0);
    assert_eq!(reports[1].host, "host-b");
    assert_eq!(reports[1].report["compared"], 9);
    assert_eq!(reports[1].report["by_pointer"]["/0/body/a"], 9);
    assert_eq!(reports[1].updated_at, T0 + 3);
    assert!(
        store
            .shadow_reports(run.id + 100)
            .await
            .expect("none")
            .is_empty()
    );
}

/// The recorded messages of a route: received in the window, oldest
/// first, at most the limit, with their runs on that route only.
pub async fn recorded_messages_are_a_routes_messages_in_a_window(factory: &dyn StoreFactory) {
    let (store, _) = fresh(factory).await;
    for (id, at) in [
        ("m1", T0),
        ("m2", T0 + 10),
        ("m3", T0 + 20),
        ("m4", T0 + 30),
    ] {
        enqueue(store.as_ref(), id, at, Vec::new()).await;
    }
    // m5 was processed on another route only.
    store
        .ingest(super::fixtures::message("m5", None, b"m5", T0 + 15))
        .await
        .expect("ingest");
    let mut elsewhere = outcome("m5", Vec::new());
    elsewhere.records[0].route = "other".into();
    store.complete_processing(elsewhere).await.expect("process");

    let filter = |since, until, limit| RecordedFilter {
        route: "r".into(),
        since,
        until,
        limit,
    };
    let ids = |found: &[RecordedMessage]| {
        found
            .iter()
            .map(|r| r.message.message_id.clone())
            .collect::<Vec<_>>()
    };
    let all = store
        .recorded_messages(&filter(T0, None, 100))
        .await
        .expect("all");
    assert_eq!(ids(&all), ["m1", "m2", "m3", "m4"]);
    assert_eq!(all[0].message.body, b"m1");
    assert_eq!(all[0].runs.len(), 1);
    assert_eq!(all[0].runs[0].stage, "inbound");
    assert_eq!(all[0].runs[0].plugin.sha256, "abc");
    assert!(all[0].runs[0].ok);
    let window = store
        .recorded_messages(&filter(T0 + 10, Some(T0 + 30), 100))
        .await
        .expect("window");
    assert_eq!(ids(&window), ["m2", "m3"], "until is exclusive");
    let limited = store
        .recorded_messages(&filter(T0 + 5, None, 2))
        .await
        .expect("limited");
    assert_eq!(ids(&limited), ["m2", "m3"]);
    let mut none = filter(T0, None, 10);
    none.route = "missing".into();
    assert!(
        store
            .recorded_messages(&none)
            .await
            .expect("none")
            .is_empty()
    );
}
