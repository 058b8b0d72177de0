//! Conformance of [`MessageStore`]: idempotent ingest, processing written
//! once, derived keys, the timeline, poison messages.

use super::super::*;
use super::fixtures::*;
use super::{StoreFactory, T0, fresh};

/// Same key and body: the first answer; same key, another body: refused;
/// only the first is stored and waits for processing.
pub async fn ingest_is_idempotent_by_key(factory: &dyn StoreFactory) {
    let (store, _) = fresh(factory).await;
    let first = store
        .ingest(message("m1", Some("k"), b"A", T0))
        .await
        .expect("ingest");
    assert_eq!(
        first,
        IngestOutcome::Accepted {
            message_id: "m1".into(),
            correlation_id: "cid-m1".into()
        }
    );
    let again = store
        .ingest(message("m2", Some("k"), b"A", T0 + 1))
        .await
        .expect("ingest");
    assert_eq!(
        again,
        IngestOutcome::Duplicate {
            message_id: "m1".into(),
            correlation_id: "cid-m1".into()
        },
        "the same key and body get the first answer"
    );
    let other = store
        .ingest(message("m3", Some("k"), b"B", T0 + 2))
        .await
        .expect("ingest");
    assert_eq!(
        other,
        IngestOutcome::Conflict {
            message_id: "m1".into()
        },
        "the same key with another body is refused"
    );
    let keyless = store
        .ingest(message("m4", None, b"A", T0 + 3))
        .await
        .expect("ingest");
    assert!(matches!(keyless, IngestOutcome::Accepted { .. }));
    let waiting = store.unprocessed(10).await.expect("unprocessed");
    let ids: Vec<&str> = waiting.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids, ["m1", "m4"], "oldest first, refused ones not stored");
    let m1 = store.message("m1").await.expect("read").expect("m1 stored");
    assert_eq!(m1.body, b"A");
    assert_eq!(m1.state, MessageState::Received);
    assert_eq!(m1.headers, vec![("x-a".to_string(), "1".to_string())]);
    assert_eq!(m1.idempotency_key.as_deref(), Some("k"));
    assert!(store.message("m2").await.expect("read").is_none());
}

/// A key past its expiry no longer holds: the same key is a new message.
pub async fn an_expired_key_is_a_new_message(factory: &dyn StoreFactory) {
    let (store, _) = fresh(factory).await;
    let mut first = message("m1", Some("k"), b"A", T0);
    first.idempotency_expires_at = T0 + 10;
    store.ingest(first).await.expect("ingest");
    let later = store
        .ingest(message("m2", Some("k"), b"B", T0 + 11))
        .await
        .expect("ingest");
    assert!(
        matches!(&later, IngestOutcome::Accepted { message_id, .. } if message_id == "m2"),
        "{later:?}"
    );
}

/// The outcome is written once: a second run keeps the first; the
/// timeline shows the message, its plugin runs and its deliveries.
pub async fn processing_is_written_once_and_shows_in_the_timeline(factory: &dyn StoreFactory) {
    let (store, _) = fresh(factory).await;
    enqueue(store.as_ref(), "m1", T0, vec![delivery("erp", "S1", "a")]).await;
    let again = store
        .complete_processing(outcome("m1", vec![delivery("erp", "S1", "again")]))
        .await
        .expect("second run");
    assert_eq!(
        again,
        ProcessingResult {
            state: MessageState::Processed,
            duplicate_of: None
        }
    );
    let deliveries = store.message_deliveries("m1").await.expect("deliveries");
    assert_eq!(bodies(&deliveries), ["a"], "the first outcome is kept");
    assert_eq!(deliveries[0].state, DeliveryState::Pending);
    assert_eq!(deliveries[0].attempts, 0);
    assert!(store.unprocessed(10).await.expect("unprocessed").is_empty());
    let tl = store
        .timeline("cid-m1")
        .await
        .expect("timeline")
        .expect("known correlation id");
    assert_eq!(tl.messages.len(), 1);
    assert_eq!(tl.messages[0].state, MessageState::Processed);
    assert_eq!(tl.processing.len(), 1);
    assert_eq!(tl.processing[0]["plugin"], "p@1.0.0");
    assert_eq!(tl.messages[0].received_by.as_deref(), Some(HOST));
    assert_eq!(tl.processing[0]["host"], HOST, "the host that mapped it");
    assert_eq!(tl.deliveries.len(), 1);
    assert!(
        store
            .timeline("cid-none")
            .await
            .expect("timeline")
            .is_none()
    );

    // An inbound failure: a dead letter and nothing to deliver.
    store
        .ingest(message("m2", None, b"x", T0))
        .await
        .expect("ingest");
    let mut failed = outcome("m2", vec![]);
    failed.dead_letters.push(NewDeadLetter {
        route: Some("r".into()),
        target: None,
        reason: "plugin-error".into(),
        detail: serde_json::json!({"message": "bad input"}),
        attempts: 0,
        last_response: None,
        last_status: None,
        plugin: Some(stamp()),
    });
    let state = store.complete_processing(failed).await.expect("complete");
    assert_eq!(state.state, MessageState::Dead);
    assert_eq!(state.duplicate_of, None);
    let tl = store
        .timeline("cid-m2")
        .await
        .expect("timeline")
        .expect("known");
    assert_eq!(tl.dead_letters.len(), 1);
    assert_eq!(tl.dead_letters[0].reason, "plugin-error");
}

/// A key derived from the canonical document makes a later message with
/// the same key a duplicate that names the message holding the key:
/// nothing of it is enqueued, and a repeated run says the same.
pub async fn a_derived_key_makes_the_second_message_a_duplicate(factory: &dyn StoreFactory) {
    let (store, _) = fresh(factory).await;
    for id in ["m1", "m2"] {
        store
            .ingest(message(id, None, id.as_bytes(), T0))
            .await
            .expect("ingest");
    }
    let mut first = outcome("m1", vec![delivery("erp", "S1", "a")]);
    first.derived_key = Some(("acme".into(), "evt-1".into()));
    let mut second = outcome("m2", vec![delivery("erp", "S1", "b")]);
    second.derived_key = Some(("acme".into(), "evt-1".into()));
    assert_eq!(
        store.complete_processing(first).await.expect("first"),
        ProcessingResult {
            state: MessageState::Processed,
            duplicate_of: None
        }
    );
    let duplicate = ProcessingResult {
        state: MessageState::Duplicate,
        duplicate_of: Some("m1".into()),
    };
    assert_eq!(
        store
            .complete_processing(second.clone())
            .await
            .expect("second"),
        duplicate
    );
    assert_eq!(
        store.complete_processing(second).await.expect("again"),
        duplicate,
        "a repeated run names the holder too"
    );
    assert!(
        store
            .message_deliveries("m2")
            .await
            .expect("read")
            .is_empty()
    );
}

/// Host-side failures are counted; at the limit the message becomes a
/// `poison` dead letter; after that nothing is counted.
pub async fn host_failures_poison_a_message_at_the_limit(factory: &dyn StoreFactory) {
    let (store, _) = fresh(factory).await;
    store
        .ingest(message("m1", None, b"x", T0))
        .await
        .expect("ingest");
    assert_eq!(
        store
            .processing_failed("m1", "boom", 2)
            .await
            .expect("count"),
        ProcessingFailure::Retry { failures: 1 }
    );
    assert_eq!(
        store
            .processing_failed("m1", "boom", 2)
            .await
            .expect("count"),
        ProcessingFailure::Poisoned { failures: 2 }
    );
    assert_eq!(
        store
            .processing_failed("m1", "boom", 2)
            .await
            .expect("count"),
        ProcessingFailure::Settled
    );
    let dead = store
        .dead_letters(&DeadLetterFilter {
            reason: Some("poison".into()),
            ..Default::default()
        })
        .await
        .expect("dead letters");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].message_id, "m1");
    assert_eq!(dead[0].created_at, T0, "stamped by the injected clock");
    let missing = store.processing_failed("nope", "boom", 2).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
}

/// The console's search: a key finds the messages whose correlation id,
/// id or idempotency key it is, or that made a delivery or an exception
/// under it as business key; newest first, each message once, at most
/// the limit.
pub async fn messages_are_found_by_their_ids_and_business_keys(factory: &dyn StoreFactory) {
    let (store, _) = fresh(factory).await;
    store
        .ingest(message("m1", Some("evt-1"), b"one", T0))
        .await
        .expect("ingest");
    store
        .complete_processing(outcome("m1", vec![delivery("erp", "SO-1", "a")]))
        .await
        .expect("process m1");
    enqueue(
        store.as_ref(),
        "m2",
        T0 + 1,
        vec![delivery("erp", "SO-1", "b"), delivery("tms", "SH-9", "c")],
    )
    .await;
    enqueue(store.as_ref(), "m3", T0 + 2, vec![]).await;
    raise_held(store.as_ref(), "m3", "INV-7").await;
    let found = |key: &'static str, limit: usize| {
        let store = store.clone();
        async move {
            store
                .find_messages(key, limit)
                .await
                .expect("search")
                .into_iter()
                .map(|h| (h.message_id, h.matched))
                .collect::<Vec<_>>()
        }
    };
    let ids = |pairs: &[(&str, MessageMatch)]| -> Vec<(String, MessageMatch)> {
        pairs.iter().map(|(id, m)| (id.to_string(), *m)).collect()
    };
    assert_eq!(
        found("SO-1", 10).await,
        ids(&[
            ("m2", MessageMatch::BusinessKey),
            ("m1", MessageMatch::BusinessKey)
        ]),
        "an order number: every message that made a delivery for it, newest first, once each"
    );
    assert_eq!(
        found("SO-1", 1).await,
        ids(&[("m2", MessageMatch::BusinessKey)])
    );
    assert_eq!(
        found("SH-9", 10).await,
        ids(&[("m2", MessageMatch::BusinessKey)])
    );
    assert_eq!(
        found("INV-7", 10).await,
        ids(&[("m3", MessageMatch::BusinessKey)]),
        "an exception's business key"
    );
    assert_eq!(
        found("evt-1", 10).await,
        ids(&[("m1", MessageMatch::IdempotencyKey)]),
        "the source's own id"
    );
    assert_eq!(
        found("cid-m2", 10).await,
        ids(&[("m2", MessageMatch::CorrelationId)])
    );
    assert_eq!(
        found("m3", 10).await,
        ids(&[("m3", MessageMatch::MessageId)])
    );
    assert!(found("SO-404", 10).await.is_empty());
    let hit = &store.find_messages("cid-m1", 5).await.expect("search")[0];
    assert_eq!(
        (
            hit.correlation_id.as_str(),
            hit.source.as_str(),
            hit.kind.as_str(),
            hit.received_at,
            hit.state
        ),
        (
            "cid-m1",
            "acme",
            "acme-tms.milestone",
            T0,
            MessageState::Processed
        )
    );
}
