//! Conformance of [`ExceptionStore`]: exceptions raised with their audit
//! trail, one action per open exception, dedupe keys, and the domain rules
//! every backend applies while writing (out-of-order guard, duplicate
//! lines, approvals that post all or nothing).

use super::super::*;
use super::fixtures::*;
use super::{StoreFactory, T0, fresh};

fn held(reason: &str, key: &str) -> NewException {
    NewException {
        reason: reason.into(),
        route: Some("r".into()),
        target: Some("erp".into()),
        business_key: key.into(),
        schema_id: Some("invoice@1.0".into()),
        document: Some(serde_json::json!({"invoice": key})),
        violations: serde_json::json!([{"path": "/total", "code": "tolerance", "message": "too high"}]),
        plugins: vec![stamp()],
        detail: serde_json::json!({}),
        dedupe_key: None,
        fingerprints: Vec::new(),
    }
}

fn action(id: i64, name: &str, state: ExceptionState) -> ExceptionAction {
    ExceptionAction {
        exception_id: id,
        new_state: state,
        actor: "user:ops".into(),
        action: name.into(),
        note: Some("checked".into()),
        detail: serde_json::json!({}),
    }
}

async fn raise(store: &dyn Store, message_id: &str, e: NewException) -> i64 {
    let result = store
        .apply_flow(FlowWrite {
            message_id: message_id.into(),
            correlation_id: if message_id.is_empty() {
                String::new()
            } else {
                format!("cid-{message_id}")
            },
            exceptions: vec![e],
            ..Default::default()
        })
        .await
        .expect("raise");
    assert_eq!(result.exceptions.len(), 1, "{result:?}");
    result.exceptions[0]
}

/// Raised with a `raised` audit entry; one action moves it from open, with
/// what it enqueues, audited; a second action and an unknown id are refused.
pub async fn exceptions_are_raised_acted_on_once_and_audited(factory: &dyn StoreFactory) {
    let (store, clock) = fresh(factory).await;
    enqueue(store.as_ref(), "m1", T0, vec![]).await;
    let mut e = held("approval-violation", "INV-1");
    e.fingerprints = vec!["fp-1".into()];
    let id = raise(store.as_ref(), "m1", e).await;
    let stored = store.exception(id).await.expect("read").expect("raised");
    assert_eq!(stored.state, ExceptionState::Open);
    assert_eq!(stored.reason, "approval-violation");
    assert_eq!(stored.message_id.as_deref(), Some("m1"));
    assert_eq!(stored.correlation_id.as_deref(), Some("cid-m1"));
    assert_eq!(
        stored.document,
        Some(serde_json::json!({"invoice": "INV-1"}))
    );
    assert_eq!(stored.plugins, vec![stamp()]);
    assert_eq!(stored.detail["fingerprints"], serde_json::json!(["fp-1"]));
    assert_eq!(stored.occurrences, 1);
    assert_eq!(stored.created_at, T0);
    let trail: Vec<(&str, &str)> = stored
        .audit
        .iter()
        .map(|a| (a.actor.as_str(), a.action.as_str()))
        .collect();
    assert_eq!(trail, [("system", "raised")]);

    for (filter, expected) in [
        (
            ExceptionFilter {
                state: Some(ExceptionState::Open),
                ..Default::default()
            },
            1,
        ),
        (
            ExceptionFilter {
                reason_prefix: Some("approval-".into()),
                ..Default::default()
            },
            1,
        ),
        (
            ExceptionFilter {
                reason: Some("stale-event".into()),
                ..Default::default()
            },
            0,
        ),
        (
            ExceptionFilter {
                correlation_id: Some("cid-m1".into()),
                ..Default::default()
            },
            1,
        ),
        (
            ExceptionFilter {
                correlation_id: Some("cid-other".into()),
                ..Default::default()
            },
            0,
        ),
    ] {
        assert_eq!(
            store.exceptions(&filter).await.expect("list").len(),
            expected,
            "{filter:?}"
        );
    }

    clock.advance(10);
    let mut posting = delivery("erp", "INV-1", "posted");
    posting.fingerprints = vec!["fp-1".into()];
    let approved = store
        .apply_flow(FlowWrite {
            message_id: "m1".into(),
            correlation_id: "cid-m1".into(),
            deliveries: vec![posting],
            action: Some(action(id, "approve", ExceptionState::Approved)),
            ..Default::default()
        })
        .await
        .expect("approve");
    assert_eq!(approved.deliveries.len(), 1);
    assert!(approved.exceptions.is_empty());
    let stored = store.exception(id).await.expect("read").expect("kept");
    assert_eq!(stored.state, ExceptionState::Approved);
    assert_eq!(stored.updated_at, T0 + 10);
    let last = stored.audit.last().expect("audited");
    assert_eq!(
        (
            last.actor.as_str(),
            last.action.as_str(),
            last.note.as_deref(),
            last.at
        ),
        ("user:ops", "approve", Some("checked"), T0 + 10)
    );

    let twice = store
        .apply_flow(FlowWrite {
            action: Some(action(id, "resolve", ExceptionState::Resolved)),
            ..Default::default()
        })
        .await;
    assert!(
        matches!(&twice, Err(StoreError::Conflict(_))),
        "only an open exception takes an action: {twice:?}"
    );
    let unknown = store
        .apply_flow(FlowWrite {
            action: Some(action(id + 1_000, "resolve", ExceptionState::Resolved)),
            ..Default::default()
        })
        .await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound(_))),
        "{unknown:?}"
    );
    assert!(store.exception(id + 1_000).await.expect("read").is_none());
}

/// Raising a known dedupe key counts one more occurrence of the same
/// exception, and reopens it (audited) when it was closed.
pub async fn a_known_dedupe_key_counts_and_reopens(factory: &dyn StoreFactory) {
    let (store, _) = fresh(factory).await;
    let drift = |n: u32| NewException {
        dedupe_key: Some("drift:S1".into()),
        detail: serde_json::json!({ "n": n }),
        target: None,
        ..held("recon-drift", "S1")
    };
    let id = raise(store.as_ref(), "", drift(1)).await;
    assert_eq!(raise(store.as_ref(), "", drift(2)).await, id);
    let stored = store.exception(id).await.expect("read").expect("kept");
    assert_eq!(stored.occurrences, 2);
    assert_eq!(stored.detail["n"], 2);
    assert_eq!(stored.message_id, None);
    assert_eq!(stored.audit.len(), 1, "still open: nothing reopened");
    store
        .apply_flow(FlowWrite {
            action: Some(action(id, "resolve", ExceptionState::Resolved)),
            ..Default::default()
        })
        .await
        .expect("resolve");
    assert_eq!(raise(store.as_ref(), "", drift(3)).await, id);
    let stored = store.exception(id).await.expect("read").expect("kept");
    assert_eq!(stored.state, ExceptionState::Open);
    assert_eq!(stored.occurrences, 3);
    let actions: Vec<&str> = stored.audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["raised", "resolve", "reopened"]);
}

/// An event older than the last one enqueued for its target and key is
/// held as `stale-event` (or dropped when the route says so); a line
/// another message already posted is held as `duplicate-charge`; an
/// approval that would post such a line posts nothing.
pub async fn stale_events_and_duplicate_lines_are_held(factory: &dyn StoreFactory) {
    let (store, _) = fresh(factory).await;
    let guarded = |body: &str, at: Millis, raise: bool| NewDelivery {
        guard: Some(StaleGuard {
            event_at: T0 + at,
            raise,
        }),
        canonical: Some(format!("{{\"event\":\"{body}\"}}")),
        ..delivery("portal", "S1", body)
    };
    enqueue(store.as_ref(), "m1", T0, vec![guarded("new", 100, true)]).await;
    enqueue(store.as_ref(), "m2", T0, vec![guarded("old", 50, true)]).await;
    enqueue(store.as_ref(), "m3", T0, vec![guarded("quiet", 40, false)]).await;
    enqueue(store.as_ref(), "m4", T0, vec![guarded("newer", 200, true)]).await;
    for (id, enqueued) in [("m1", 1), ("m2", 0), ("m3", 0), ("m4", 1)] {
        assert_eq!(
            store.message_deliveries(id).await.expect("read").len(),
            enqueued,
            "{id}"
        );
    }
    let stale = store
        .exceptions(&ExceptionFilter {
            reason: Some("stale-event".into()),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(stale.len(), 1, "the dropped one raises nothing");
    assert_eq!(stale[0].message_id.as_deref(), Some("m2"));
    assert_eq!(stale[0].target.as_deref(), Some("portal"));
    assert_eq!(stale[0].document, Some(serde_json::json!({"event": "old"})));

    let line = |body: &str, fp: &str| NewDelivery {
        fingerprints: vec![fp.into()],
        ..delivery("erp", "INV-1", body)
    };
    enqueue(store.as_ref(), "m5", T0, vec![line("first", "line-1")]).await;
    enqueue(store.as_ref(), "m6", T0, vec![line("second", "line-1")]).await;
    assert!(
        store
            .message_deliveries("m6")
            .await
            .expect("read")
            .is_empty()
    );
    let dup = store
        .exceptions(&ExceptionFilter {
            reason: Some("duplicate-charge".into()),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(dup.len(), 1);
    assert_eq!(dup[0].message_id.as_deref(), Some("m6"));
    let why = dup[0].violations.to_string();
    assert!(why.contains("line-1") && why.contains("m5"), "{why}");

    // A held document whose line is already posted is a duplicate too.
    enqueue(store.as_ref(), "m7", T0, vec![]).await;
    let mut e = held("approval-violation", "INV-7");
    e.fingerprints = vec!["line-1".into()];
    let id = raise(store.as_ref(), "m7", e).await;
    let stored = store.exception(id).await.expect("read").expect("raised");
    assert_eq!(stored.reason, "duplicate-charge");

    // Held first, posted meanwhile by another message: approving it posts
    // nothing and leaves it open.
    enqueue(store.as_ref(), "m8", T0, vec![]).await;
    let mut e = held("approval-violation", "INV-8");
    e.fingerprints = vec!["line-2".into()];
    let id = raise(store.as_ref(), "m8", e).await;
    enqueue(store.as_ref(), "m9", T0, vec![line("other", "line-2")]).await;
    let refused = store
        .apply_flow(FlowWrite {
            message_id: "m8".into(),
            correlation_id: "cid-m8".into(),
            deliveries: vec![line("approved", "line-2")],
            action: Some(action(id, "approve", ExceptionState::Approved)),
            ..Default::default()
        })
        .await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert!(
        store
            .message_deliveries("m8")
            .await
            .expect("read")
            .is_empty()
    );
    let stored = store.exception(id).await.expect("read").expect("kept");
    assert_eq!(stored.state, ExceptionState::Open, "nothing half-applied");
}
