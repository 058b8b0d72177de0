//! Conformance of the batched writes: a batch of processing outcomes and a
//! batch of attempts, each item written (or refused) on its own, in order,
//! as if written one at a time.

use super::super::*;
use super::fixtures::*;
use super::{StoreFactory, T0, fresh};

const LONG: Millis = 3_600_000;

/// One refused outcome in a batch leaves the others written; outbox ids
/// follow the batch's order (the per-key order); a derived key held by an
/// earlier outcome of the same batch makes a later one its duplicate; a
/// message repeated in a batch keeps its first outcome.
pub async fn a_batch_of_outcomes_writes_each_on_its_own(factory: &dyn StoreFactory) {
    let (store, _) = fresh(factory).await;
    for (i, id) in ["m1", "m2", "m3", "m4"].iter().enumerate() {
        store
            .ingest(message(id, None, id.as_bytes(), T0 + i as i64))
            .await
            .expect("ingest");
    }
    let mut refused = outcome("m2", vec![delivery("erp", "K", "never")]);
    refused.replay_of = vec![987_654];
    let mut third = outcome("m3", vec![delivery("erp", "K", "b")]);
    third.derived_key = Some(("erp".into(), "EV-3".into()));
    let mut fourth = outcome("m4", vec![delivery("erp", "K", "dup")]);
    fourth.derived_key = Some(("erp".into(), "EV-3".into()));
    let results = store
        .complete_processing_batch(vec![
            outcome("m1", vec![delivery("erp", "K", "a")]),
            refused,
            third,
            fourth,
            outcome("m1", vec![delivery("erp", "K", "again")]),
        ])
        .await
        .expect("the batch as a whole");
    assert_eq!(results.len(), 5);
    let states: Vec<Option<MessageState>> = results
        .iter()
        .map(|r| r.as_ref().ok().map(|r| r.state))
        .collect();
    assert_eq!(
        states,
        [
            Some(MessageState::Processed),
            None,
            Some(MessageState::Processed),
            Some(MessageState::Duplicate),
            Some(MessageState::Processed),
        ]
    );
    assert!(
        matches!(&results[1], Err(StoreError::Conflict(m)) if m.contains("987654")),
        "{:?}",
        results[1]
    );
    assert_eq!(
        results[3].as_ref().expect("m4").duplicate_of.as_deref(),
        Some("m3")
    );
    let waiting = store.unprocessed(10).await.expect("unprocessed");
    let ids: Vec<&str> = waiting.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(
        ids,
        ["m2"],
        "only the refused outcome's message still waits"
    );
    assert!(
        store
            .message_deliveries("m2")
            .await
            .expect("read")
            .is_empty()
    );
    let m1 = store.message_deliveries("m1").await.expect("read");
    assert_eq!(bodies(&m1), ["a"], "the repeat kept the first outcome");
    assert!(
        store
            .message_deliveries("m4")
            .await
            .expect("read")
            .is_empty(),
        "a duplicate enqueues nothing"
    );
    let timeline = store.timeline("cid-m1").await.expect("read").expect("m1");
    assert_eq!(timeline.processing.len(), 1, "{:?}", timeline.processing);
    assert_eq!(timeline.processing[0]["stage"], "inbound");
    // m2 is mapped after all (to nothing): no message received before b's
    // still waits, so b is next on K once a is delivered. (A store shared
    // by several hosts holds deliveries back while an earlier message is
    // unprocessed: its outcome may add an earlier entry to the key.)
    for r in store
        .complete_processing_batch(vec![outcome("m2", Vec::new())])
        .await
        .expect("m2")
    {
        r.expect("m2 mapped");
    }
    let first = store
        .claim_deliveries("erp", T0 + 10, 10, LONG)
        .await
        .expect("claim");
    assert_eq!(bodies(&first), ["a"], "b waits behind a on key K");
    store
        .record_attempt(attempt(&first[0], T0 + 10, Some(200), NextStep::Delivered))
        .await
        .expect("record");
    let next = store
        .claim_deliveries("erp", T0 + 11, 10, LONG)
        .await
        .expect("claim");
    assert_eq!(bodies(&next), ["b"]);
}

/// A lost claim in a batch of attempts refuses only its own attempt; the
/// others are written: a delivered one with its last attempt in the
/// timeline, a retried one with its attempt in the history.
pub async fn a_batch_of_attempts_refuses_only_the_lost_claim(factory: &dyn StoreFactory) {
    let (store, _) = fresh(factory).await;
    enqueue(
        store.as_ref(),
        "m1",
        T0,
        vec![
            delivery("erp", "K1", "a"),
            delivery("erp", "K2", "b"),
            delivery("erp", "K3", "c"),
        ],
    )
    .await;
    let claimed = store
        .claim_deliveries("erp", T0, 10, LONG)
        .await
        .expect("claim");
    assert_eq!(bodies(&claimed), ["a", "b", "c"]);
    let mut stale = attempt(&claimed[1], T0 + 1, Some(200), NextStep::Delivered);
    stale.claimed_at = Some(T0 - 5);
    let results = store
        .record_attempts(vec![
            attempt(&claimed[0], T0 + 1, Some(200), NextStep::Delivered),
            stale,
            attempt(
                &claimed[2],
                T0 + 2,
                Some(503),
                NextStep::RetryAt(T0 + 60_000),
            ),
        ])
        .await
        .expect("the batch as a whole");
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert!(
        matches!(&results[1], Err(StoreError::Conflict(_))),
        "{:?}",
        results[1]
    );
    assert!(results[2].is_ok(), "{:?}", results[2]);
    let ds = store.message_deliveries("m1").await.expect("read");
    let states: Vec<(DeliveryState, u32)> = ds.iter().map(|d| (d.state, d.attempts)).collect();
    assert_eq!(
        states,
        [
            (DeliveryState::Delivered, 1),
            (DeliveryState::Inflight, 0),
            (DeliveryState::Pending, 1),
        ]
    );
    let timeline = store.timeline("cid-m1").await.expect("read").expect("m1");
    let attempts: Vec<(i64, u32, Option<u16>, Millis)> = timeline
        .attempts
        .iter()
        .map(|a| (a.delivery_id, a.attempt, a.status, a.started_at))
        .collect();
    assert_eq!(
        attempts,
        [
            (ds[0].id, 1, Some(200), T0 + 1),
            (ds[2].id, 1, Some(503), T0 + 2),
        ]
    );
    assert!(
        timeline
            .attempts
            .iter()
            .all(|a| a.host.as_deref() == Some(HOST)),
        "each attempt names its host: {:?}",
        timeline.attempts
    );
    let stats = store.stats().await.expect("stats");
    assert_eq!(stats.attempts.get("erp"), Some(&2));
}
