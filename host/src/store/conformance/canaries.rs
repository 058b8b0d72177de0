//! Conformance of [`CanaryStore`]: one running canary per plugin, started
//! only for a version stored under that plugin; an end applies once (a
//! second end of the same canary, by another host or the operator, is
//! told it is over) and keeps who ended it and why; the newest canary of
//! each plugin is current; the event count grows with every start and end.

use super::super::*;
use super::plugins::{put_versions, version};
use super::{StoreFactory, T0, fresh};

fn start(name: &str, sha: &str, percent: f64) -> NewCanary {
    NewCanary {
        name: name.into(),
        sha256: sha.into(),
        percent,
        active_sha256: "s1".into(),
        decision_seq: 7,
        host: "host-a".into(),
    }
}

fn end(name: &str, seq: i64, outcome: CanaryOutcome, reason: &str) -> CanaryEnd {
    CanaryEnd {
        name: name.into(),
        seq,
        outcome,
        host: "host-b".into(),
        reason: reason.into(),
        automatic: outcome == CanaryOutcome::Aborted,
    }
}

/// A canary starts once per plugin at a time, for a stored version only,
/// and reads back as it was started.
pub async fn one_canary_runs_per_plugin(factory: &dyn StoreFactory) {
    let (store, clock) = fresh(factory).await;
    assert_eq!(store.canary_events().await.expect("events"), 0);
    assert!(store.current_canaries().await.expect("none").is_empty());
    put_versions(store.as_ref()).await;
    let refused = store.start_canary(start("probe", "o1", 5.0)).await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(_))),
        "another plugin's version: {refused:?}"
    );
    let refused = store.start_canary(start("probe", "nope", 5.0)).await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(_))),
        "{refused:?}"
    );

    clock.advance(4);
    let running = store
        .start_canary(start("probe", "s2", 12.5))
        .await
        .expect("start");
    assert_eq!(
        running,
        CanaryRecord {
            seq: running.seq,
            name: "probe".into(),
            sha256: "s2".into(),
            version: "2.0.0".into(),
            percent: 12.5,
            active_sha256: "s1".into(),
            decision_seq: 7,
            started_by: "host-a".into(),
            started_at: T0 + 4,
            ended: None,
        }
    );
    assert!(running.running());
    let again = store.start_canary(start("probe", "s1", 50.0)).await;
    assert!(
        matches!(&again, Err(StoreError::Conflict(why)) if why.contains("probe")),
        "a second canary of one plugin: {again:?}"
    );
    let other = store
        .start_canary(start("other", "o1", 100.0))
        .await
        .expect("another plugin's canary runs beside it");
    assert!(other.seq > running.seq);
    assert_eq!(store.canary_events().await.expect("events"), 2);
    assert_eq!(
        store.current_canaries().await.expect("current"),
        vec![other, running]
    );
}

/// A canary ends once; its end is kept with the reason; afterwards a new
/// canary of the plugin may start and is the current one.
pub async fn a_canary_ends_once_with_its_reason(factory: &dyn StoreFactory) {
    let (store, clock) = fresh(factory).await;
    for (v, sha) in [("1.0.0", "s1"), ("2.0.0", "s2"), ("2.1.0", "s3")] {
        store
            .put_plugin_version(version("probe", v, sha, "host-a"))
            .await
            .expect("put");
    }
    let first = store
        .start_canary(start("probe", "s2", 5.0))
        .await
        .expect("start");
    clock.advance(9);
    let wrong = store
        .end_canary(end("other", first.seq, CanaryOutcome::Aborted, "x"))
        .await
        .expect("end under another name");
    assert_eq!(wrong, None, "the name must match too");
    let ended = store
        .end_canary(end(
            "probe",
            first.seq,
            CanaryOutcome::Aborted,
            "candidate error rate 0.40 over 50 calls",
        ))
        .await
        .expect("end")
        .expect("it was running");
    assert_eq!(
        ended.ended,
        Some(CanaryEnding {
            outcome: CanaryOutcome::Aborted,
            host: "host-b".into(),
            reason: "candidate error rate 0.40 over 50 calls".into(),
            automatic: true,
            at: T0 + 9,
        })
    );
    assert!(!ended.running());
    let twice = store
        .end_canary(end("probe", first.seq, CanaryOutcome::Promoted, "late"))
        .await
        .expect("second end");
    assert_eq!(twice, None, "over already: nothing changes");
    assert_eq!(
        store.current_canaries().await.expect("current"),
        vec![ended.clone()],
        "the ended canary stays visible with its reason"
    );
    assert_eq!(store.canary_events().await.expect("events"), 2);

    let second = store
        .start_canary(start("probe", "s3", 20.0))
        .await
        .expect("a new canary once the first is over");
    let promoted = store
        .end_canary(end(
            "probe",
            second.seq,
            CanaryOutcome::Promoted,
            "operator",
        ))
        .await
        .expect("end")
        .expect("running");
    assert_eq!(
        promoted.ended.as_ref().map(|e| (e.outcome, e.automatic)),
        Some((CanaryOutcome::Promoted, false))
    );
    assert_eq!(
        store.current_canaries().await.expect("current"),
        vec![promoted]
    );
    assert_eq!(store.canary_events().await.expect("events"), 4);
}
