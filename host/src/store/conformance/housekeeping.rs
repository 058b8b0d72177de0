//! Conformance of [`HousekeepingStore`] and the backlog: retention purges
//! what is finished and keeps what someone may still act on; counts.

use super::super::*;
use super::fixtures::*;
use super::{StoreFactory, T0, fresh};

/// Finished messages older than the cutoff go with what was recorded for
/// them; a dead letter not replayed, an open exception and unfinished
/// deliveries keep theirs; expired idempotency keys go by the store's clock.
pub async fn purge_removes_finished_work_and_keeps_what_is_open(factory: &dyn StoreFactory) {
    let (store, clock) = fresh(factory).await;
    // Finished: delivered.
    enqueue(store.as_ref(), "done", T0, vec![delivery("erp", "S1", "a")]).await;
    let claimed = store
        .claim_deliveries("erp", T0, 10, 60_000)
        .await
        .expect("claim");
    store
        .record_attempt(attempt(&claimed[0], T0, Some(200), NextStep::Delivered))
        .await
        .expect("record");
    // Unfinished: still pending.
    enqueue(
        store.as_ref(),
        "waiting",
        T0,
        vec![delivery("erp", "S2", "b")],
    )
    .await;
    // Dead letter not replayed.
    store
        .ingest(message("poison", None, b"p", T0))
        .await
        .expect("ingest");
    store
        .processing_failed("poison", "boom", 1)
        .await
        .expect("poison");
    // Open exception.
    enqueue(store.as_ref(), "held", T0, vec![]).await;
    raise_held(store.as_ref(), "held", "INV-1").await;
    // A key that expires soon, on a message still waiting for processing.
    let mut keyed = message("keyed", Some("k"), b"k", T0);
    keyed.idempotency_expires_at = T0 + 100;
    store.ingest(keyed).await.expect("ingest");

    assert_eq!(
        store.purge_finished(T0, 100).await.expect("purge"),
        Purged::default(),
        "nothing is older than the cutoff yet"
    );
    clock.advance(1_000);
    let purged = store.purge_finished(T0 + 500, 100).await.expect("purge");
    assert_eq!(purged.messages, 1, "only the delivered message: {purged:?}");
    assert_eq!(purged.other, 1, "the expired key, by the store's clock");
    assert!(store.message("done").await.expect("read").is_none());
    assert!(store.timeline("cid-done").await.expect("read").is_none());
    for kept in ["waiting", "poison", "held", "keyed"] {
        assert!(
            store.message(kept).await.expect("read").is_some(),
            "{kept} is kept"
        );
    }
    assert_eq!(
        store.purge_finished(T0 + 500, 100).await.expect("purge"),
        Purged::default(),
        "a second run finds nothing"
    );
    // The expired key is gone: the same key is a new message now.
    let again = store
        .ingest(message("keyed-2", Some("k"), b"other", T0 + 1_000))
        .await
        .expect("ingest");
    assert!(matches!(again, IngestOutcome::Accepted { .. }), "{again:?}");
    assert_eq!(
        store
            .purge_idempotency(T0 + 10_000_000)
            .await
            .expect("purge"),
        1
    );
}

/// The backlog counts messages waiting for processing and deliveries
/// waiting per target; stats count by state.
pub async fn backlog_and_stats_count_what_waits(factory: &dyn StoreFactory) {
    let (store, _) = fresh(factory).await;
    enqueue(
        store.as_ref(),
        "m1",
        T0,
        vec![delivery("erp", "S1", "a"), delivery("portal", "S1", "b")],
    )
    .await;
    store
        .ingest(message("new", None, b"n", T0))
        .await
        .expect("ingest");
    let claimed = store
        .claim_deliveries("portal", T0, 10, 60_000)
        .await
        .expect("claim");
    store
        .record_attempt(attempt(&claimed[0], T0, Some(200), NextStep::Delivered))
        .await
        .expect("record");
    let backlog = store.backlog().await.expect("backlog");
    assert_eq!(backlog.unprocessed, 1);
    assert_eq!(backlog.deliveries.get("erp"), Some(&1));
    assert_eq!(backlog.deliveries.get("portal"), None);
    assert_eq!(backlog.total(), 2);
    let stats = store.stats().await.expect("stats");
    assert_eq!(stats.messages.get("received"), Some(&1));
    assert_eq!(stats.messages.get("processed"), Some(&1));
    assert_eq!(
        stats
            .deliveries
            .get(&("portal".to_string(), "delivered".to_string())),
        Some(&1)
    );
    assert_eq!(stats.attempts.get("portal"), Some(&1));
}
