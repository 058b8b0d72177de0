//! Conformance of [`OutboxStore`]: claims in business-key order, claims as
//! leases, retries, releases, dead letters with the last HTTP status.

use super::super::*;
use super::fixtures::*;
use super::{StoreFactory, T0, fresh};

/// A lease longer than any case.
const LONG: Millis = 3_600_000;

/// Per target and business key, one delivery at a time in the order they
/// were enqueued; other keys and other targets do not wait.
pub async fn deliveries_go_in_order_per_business_key(factory: &dyn StoreFactory) {
    let (store, _) = fresh(factory).await;
    enqueue(
        store.as_ref(),
        "m1",
        T0,
        vec![
            delivery("erp", "S1", "a"),
            delivery("erp", "S1", "b"),
            delivery("erp", "S2", "x"),
            delivery("portal", "S1", "p"),
        ],
    )
    .await;
    let first = store
        .claim_deliveries("erp", T0, 10, LONG)
        .await
        .expect("claim");
    assert_eq!(bodies(&first), ["a", "x"], "b waits behind a");
    assert!(first.iter().all(|d| d.state == DeliveryState::Inflight));
    assert!(first.iter().all(|d| d.claimed_at == Some(T0)));
    let portal = store
        .claim_deliveries("portal", T0, 10, LONG)
        .await
        .expect("claim");
    assert_eq!(bodies(&portal), ["p"], "another target does not wait");
    assert!(
        store
            .claim_deliveries("erp", T0 + 1, 10, LONG)
            .await
            .expect("claim")
            .is_empty(),
        "nothing more while a is in flight"
    );
    store
        .record_attempt(attempt(&first[0], T0 + 1, Some(200), NextStep::Delivered))
        .await
        .expect("record");
    let next = store
        .claim_deliveries("erp", T0 + 2, 10, LONG)
        .await
        .expect("claim");
    assert_eq!(bodies(&next), ["b"], "b goes once a is delivered");
    let limited = {
        let (store, _) = fresh(factory).await;
        enqueue(
            store.as_ref(),
            "m1",
            T0,
            vec![delivery("erp", "S1", "a"), delivery("erp", "S2", "b")],
        )
        .await;
        store
            .claim_deliveries("erp", T0, 1, LONG)
            .await
            .expect("claim")
    };
    assert_eq!(bodies(&limited), ["a"], "at most `limit`, oldest first");
    let delivered = store.message_deliveries("m1").await.expect("read");
    assert_eq!(delivered[0].state, DeliveryState::Delivered);
    assert_eq!(delivered[0].attempts, 1);
    assert_eq!(delivered[0].last_status, Some(200));
    assert_eq!(delivered[0].last_response.as_deref(), Some("200 body"));
}

/// An attempt never recorded (its process died, its record was lost) is
/// claimed again once its lease is over, in key order; the old claim's
/// late answer is refused.
pub async fn a_claim_is_a_lease_claimed_again_once_it_is_over(factory: &dyn StoreFactory) {
    let (store, _) = fresh(factory).await;
    enqueue(
        store.as_ref(),
        "m1",
        T0,
        vec![delivery("erp", "S1", "a"), delivery("erp", "S1", "b")],
    )
    .await;
    let lease = 5_000;
    let first = store
        .claim_deliveries("erp", T0, 10, lease)
        .await
        .expect("claim");
    assert_eq!(bodies(&first), ["a"]);
    let within = store
        .claim_deliveries("erp", T0 + lease - 1, 10, lease)
        .await
        .expect("claim");
    assert!(
        within.is_empty(),
        "held within the lease: {:?}",
        bodies(&within)
    );
    let again = store
        .claim_deliveries("erp", T0 + lease, 10, lease)
        .await
        .expect("claim");
    assert_eq!(bodies(&again), ["a"], "claimed again, b still behind it");
    assert_eq!(again[0].id, first[0].id);
    assert_eq!(again[0].claimed_at, Some(T0 + lease));
    let late = store
        .record_attempt(attempt(&first[0], T0, Some(200), NextStep::Delivered))
        .await;
    assert!(
        matches!(&late, Err(StoreError::Conflict(_))),
        "the lost claim's answer is refused: {late:?}"
    );
    assert!(late.is_err_and(|e| !e.is_retryable()));
    store
        .record_attempt(attempt(
            &again[0],
            T0 + lease,
            Some(200),
            NextStep::Delivered,
        ))
        .await
        .expect("the holder's answer");
    let tl = store
        .timeline("cid-m1")
        .await
        .expect("timeline")
        .expect("known");
    assert_eq!(
        tl.attempts.len(),
        1,
        "only the holder's attempt is recorded"
    );
    assert_eq!(tl.attempts[0].status, Some(200));
    let missing = store
        .record_attempt(AttemptOutcome {
            delivery_id: 987_654,
            ..attempt(&again[0], T0, Some(200), NextStep::Delivered)
        })
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
}

/// A retry is not claimed before its time; a release (not attempted after
/// all) goes back to pending without counting an attempt.
pub async fn a_retry_waits_and_a_release_records_no_attempt(factory: &dyn StoreFactory) {
    let (store, _) = fresh(factory).await;
    enqueue(store.as_ref(), "m1", T0, vec![delivery("erp", "S1", "a")]).await;
    let claimed = store
        .claim_deliveries("erp", T0, 10, LONG)
        .await
        .expect("claim");
    store
        .record_attempt(attempt(
            &claimed[0],
            T0,
            Some(503),
            NextStep::RetryAt(T0 + 60_000),
        ))
        .await
        .expect("record");
    let d = &store.message_deliveries("m1").await.expect("read")[0];
    assert_eq!(d.state, DeliveryState::Pending);
    assert_eq!(d.attempts, 1);
    assert_eq!(d.last_status, Some(503));
    assert_eq!(d.next_attempt_at, T0 + 60_000);
    assert!(
        store
            .claim_deliveries("erp", T0 + 59_999, 10, LONG)
            .await
            .expect("claim")
            .is_empty()
    );
    let due = store
        .claim_deliveries("erp", T0 + 60_000, 10, LONG)
        .await
        .expect("claim");
    assert_eq!(bodies(&due), ["a"]);
    store
        .record_attempt(attempt(&due[0], T0, None, NextStep::Release(T0 + 70_000)))
        .await
        .expect("release");
    let d = &store.message_deliveries("m1").await.expect("read")[0];
    assert_eq!(d.state, DeliveryState::Pending);
    assert_eq!(d.attempts, 1, "a release is no attempt");
    assert_eq!(d.next_attempt_at, T0 + 70_000);
    assert_eq!(d.claimed_at, None);
    let backlog = store.backlog().await.expect("backlog");
    assert_eq!(backlog.deliveries.get("erp"), Some(&1));
}

/// Giving up leaves the delivery dead and a dead letter naming it, with
/// the attempts made and the last HTTP status as its own field.
pub async fn a_dead_delivery_leaves_a_dead_letter_with_its_status(factory: &dyn StoreFactory) {
    let (store, clock) = fresh(factory).await;
    enqueue(store.as_ref(), "m1", T0, vec![delivery("erp", "S1", "a")]).await;
    let claimed = store
        .claim_deliveries("erp", T0, 10, LONG)
        .await
        .expect("claim");
    clock.advance(1_000);
    let mut dl = dead_letter("delivery-rejected");
    dl.last_status = None;
    store
        .record_attempt(attempt(&claimed[0], T0, Some(400), NextStep::Dead(dl)))
        .await
        .expect("record");
    let d = &store.message_deliveries("m1").await.expect("read")[0];
    assert_eq!(d.state, DeliveryState::Dead);
    assert_eq!(d.last_status, Some(400));
    let all = store
        .dead_letters(&DeadLetterFilter::default())
        .await
        .expect("dead letters");
    assert_eq!(all.len(), 1);
    let letter = &all[0];
    assert_eq!(letter.delivery_id, Some(d.id));
    assert_eq!(letter.reason, "delivery-rejected");
    assert_eq!(letter.attempts, 1);
    assert_eq!(letter.last_status, Some(400), "the attempt's status");
    assert_eq!(letter.source, "acme");
    assert_eq!(letter.plugin.as_deref(), Some("p@1.0.0"));
    assert_eq!(
        letter.created_at,
        T0 + 1_000,
        "stamped by the injected clock"
    );
    for (filter, expected) in [
        (
            DeadLetterFilter {
                target: Some("erp".into()),
                ..Default::default()
            },
            1,
        ),
        (
            DeadLetterFilter {
                target: Some("portal".into()),
                ..Default::default()
            },
            0,
        ),
        (
            DeadLetterFilter {
                ids: vec![letter.id],
                ..Default::default()
            },
            1,
        ),
    ] {
        assert_eq!(
            store.dead_letters(&filter).await.expect("filter").len(),
            expected,
            "{filter:?}"
        );
    }
    assert!(
        store
            .claim_deliveries("erp", T0 + LONG, 10, LONG)
            .await
            .expect("claim")
            .is_empty(),
        "a dead delivery is never claimed"
    );
}
