//! Several hosts on one database: two store instances (two pools) on the
//! same schema never both store one idempotency key, never claim the same
//! delivery or process the same message at once; a lost connection is a
//! retryable error (ingest answers 503); an exclusive lock and a
//! schedule period belong to one of them.

use super::test_db::{Schemas, connect};
use super::{PostgresStore, writes};
use crate::store::conformance::T0;
use crate::store::*;
use std::collections::HashSet;
use std::sync::Arc;

fn message(id: &str, key: &str, body: &[u8]) -> NewMessage {
    use sha2::Digest;
    NewMessage {
        message_id: id.into(),
        source: "acme".into(),
        kind: "k".into(),
        content_type: "application/json".into(),
        headers: Arc::new(Vec::new()),
        body: body.to_vec(),
        correlation_id: format!("cid-{id}"),
        idempotency_key: Some(key.into()),
        body_sha256: hex::encode(sha2::Sha256::digest(body)),
        received_at: T0,
        idempotency_expires_at: T0 + 3_600_000,
        context: Default::default(),
    }
}

/// Two hosts: two stores, each with its own pool, on one fresh schema.
async fn two_hosts(schemas: &Schemas) -> (Arc<PostgresStore>, Arc<PostgresStore>) {
    let url = schemas.create().await;
    let clock: Arc<dyn Clock> = ManualClock::new(T0);
    let a = schemas.open(&url, clock.clone()).await;
    let b = schemas.open(&url, clock).await;
    (a, b)
}

async fn count(store: &PostgresStore, sql: &str) -> i64 {
    let client = store.client().await.expect("client");
    client.query_one(sql, &[]).await.expect("count").get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hosts_ingesting_one_key_store_it_once_and_both_get_the_first_answer() {
    let Some(schemas) = Schemas::from_env() else {
        return;
    };
    let (a, b) = two_hosts(&schemas).await;

    // Deterministic: host A has claimed the key but not committed; host
    // B's ingest waits for it, then answers with A's message.
    let mut client = a.client().await.expect("client");
    let tx = client.transaction().await.expect("begin");
    let first = writes::ingest(&tx, &message("a-0", "held", b"X"))
        .await
        .expect("ingest in A's open transaction");
    assert!(matches!(first, IngestOutcome::Accepted { .. }));
    let waiting = tokio::spawn({
        let b = b.clone();
        async move { b.ingest(message("b-0", "held", b"X")).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "B waits for A's claim to commit");
    tx.commit().await.expect("commit");
    let second = waiting.await.expect("join").expect("B's ingest");
    assert_eq!(
        second,
        IngestOutcome::Duplicate {
            message_id: "a-0".into(),
            correlation_id: "cid-a-0".into()
        }
    );
    drop(client);

    // At once, many times over: one stored, both answered with it.
    for i in 0..25 {
        let key = format!("k-{i}");
        let (ra, rb) = tokio::join!(
            a.ingest(message(&format!("a-{i}-x"), &key, b"same")),
            b.ingest(message(&format!("b-{i}-x"), &key, b"same")),
        );
        let (ra, rb) = (ra.expect("A"), rb.expect("B"));
        let winner = match (&ra, &rb) {
            (IngestOutcome::Accepted { message_id, .. }, IngestOutcome::Duplicate { .. })
            | (IngestOutcome::Duplicate { .. }, IngestOutcome::Accepted { message_id, .. }) => {
                message_id.clone()
            }
            other => panic!("one accepted, one duplicate: {other:?}"),
        };
        for r in [&ra, &rb] {
            let (IngestOutcome::Accepted { message_id, .. }
            | IngestOutcome::Duplicate { message_id, .. }) = r
            else {
                panic!("{r:?}");
            };
            assert_eq!(*message_id, winner, "both get the first answer");
        }
        let stored = count(
            &a,
            &format!("SELECT COUNT(*) FROM messages WHERE idempotency_key = '{key}'"),
        )
        .await;
        assert_eq!(stored, 1, "{key} stored once");
    }
    // The same key with another body, from the other host: refused.
    let refused = b
        .ingest(message("b-other", "k-0", b"different"))
        .await
        .expect("ingest");
    assert!(
        matches!(refused, IngestOutcome::Conflict { .. }),
        "{refused:?}"
    );
    schemas.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hosts_claiming_at_once_never_get_the_same_delivery() {
    let Some(schemas) = Schemas::from_env() else {
        return;
    };
    let (a, b) = two_hosts(&schemas).await;
    a.ingest(message("m1", "m1", b"m1")).await.expect("ingest");
    let deliveries: Vec<NewDelivery> = (0..60)
        .map(|i| NewDelivery {
            route: "r".into(),
            target: "erp".into(),
            // Every third pair shares a business key: those go in order.
            business_key: format!("K{}", i % 40),
            idempotency_key: format!("idem-{i}"),
            body: format!("{i}").into_bytes(),
            content_type: "application/json".into(),
            schema_id: "shipment@1.0".into(),
            ..Default::default()
        })
        .collect();
    let mut outcome = ProcessingOutcome {
        message_id: "m1".into(),
        correlation_id: "cid-m1".into(),
        ..Default::default()
    };
    outcome.deliveries = deliveries;
    a.complete_processing(outcome).await.expect("enqueue");

    // Deterministic: A's claim is open (its rows locked); B skips them
    // and does not take the later entry of a key A holds.
    let mut client = a.client().await.expect("client");
    let tx = client.transaction().await.expect("begin");
    let held = writes::claim_deliveries(&tx, "erp", T0, 3, 60_000)
        .await
        .expect("A claims");
    assert_eq!(held.len(), 3);
    let meanwhile = b
        .claim_deliveries("erp", T0, 100, 60_000)
        .await
        .expect("B claims without waiting");
    let held_ids: HashSet<i64> = held.iter().map(|d| d.id).collect();
    let held_keys: HashSet<&str> = held.iter().map(|d| d.business_key.as_str()).collect();
    assert!(meanwhile.iter().all(|d| !held_ids.contains(&d.id)));
    assert!(
        meanwhile
            .iter()
            .all(|d| !held_keys.contains(d.business_key.as_str())),
        "a key's later entry waits behind the one A holds"
    );
    tx.rollback().await.expect("rollback");
    drop(client);
    let released: Vec<AttemptOutcome> = meanwhile
        .iter()
        .map(|d| AttemptOutcome {
            delivery_id: d.id,
            claimed_at: d.claimed_at,
            started_at: T0,
            elapsed_ms: 0,
            status: None,
            response: String::new(),
            next: NextStep::Release(T0),
        })
        .collect();
    for r in b.record_attempts(released).await.expect("release") {
        r.expect("released");
    }

    // At once, in rounds, until everything is delivered: no delivery is
    // ever held by both, and each is delivered once.
    let mut delivered: Vec<i64> = Vec::new();
    for round in 0..100 {
        let (ca, cb) = tokio::join!(
            a.claim_deliveries("erp", T0 + round, 7, 60_000),
            b.claim_deliveries("erp", T0 + round, 7, 60_000),
        );
        let (ca, cb) = (ca.expect("A"), cb.expect("B"));
        let ids_a: HashSet<i64> = ca.iter().map(|d| d.id).collect();
        assert!(
            cb.iter().all(|d| !ids_a.contains(&d.id)),
            "round {round}: the same delivery claimed twice"
        );
        if ca.is_empty() && cb.is_empty() {
            break;
        }
        for (store, claimed) in [(&a, ca), (&b, cb)] {
            let done: Vec<AttemptOutcome> = claimed
                .iter()
                .map(|d| AttemptOutcome {
                    delivery_id: d.id,
                    claimed_at: d.claimed_at,
                    started_at: T0,
                    elapsed_ms: 1,
                    status: Some(200),
                    response: "200 ok".into(),
                    next: NextStep::Delivered,
                })
                .collect();
            delivered.extend(claimed.iter().map(|d| d.id));
            for r in store.record_attempts(done).await.expect("record") {
                r.expect("delivered");
            }
        }
    }
    let distinct: HashSet<i64> = delivered.iter().copied().collect();
    assert_eq!(delivered.len(), 60, "every delivery delivered");
    assert_eq!(distinct.len(), 60, "each once");
    schemas.cleanup().await;
}

#[tokio::test]
async fn a_message_handed_out_to_one_host_is_not_handed_to_another() {
    let Some(schemas) = Schemas::from_env() else {
        return;
    };
    let url = schemas.create().await;
    let clock = ManualClock::new(T0);
    let a = schemas.open(&url, clock.clone()).await;
    let b = schemas.open(&url, clock.clone()).await;
    for id in ["m1", "m2"] {
        a.ingest(message(id, id, id.as_bytes()))
            .await
            .expect("ingest");
    }
    let got = a.unprocessed(1).await.expect("A");
    assert_eq!(got.len(), 1);
    let got = a.unprocessed(10).await.expect("A");
    assert_eq!(
        got.len(),
        2,
        "the holder reads its own leased messages again, oldest first"
    );
    assert_eq!(got[0].message_id, "m1");
    assert!(
        b.unprocessed(10).await.expect("B").is_empty(),
        "leased to A"
    );
    // A counted failure gives the message back at once.
    a.processing_failed("m1", "boom", 5).await.expect("count");
    let ids: Vec<String> = b
        .unprocessed(10)
        .await
        .expect("B")
        .into_iter()
        .map(|m| m.message_id)
        .collect();
    assert_eq!(ids, ["m1"]);
    // A host that died leaves its lease to run out.
    clock.advance(super::PROCESSING_LEASE);
    let ids: Vec<String> = b
        .unprocessed(10)
        .await
        .expect("B")
        .into_iter()
        .map(|m| m.message_id)
        .collect();
    assert_eq!(ids, ["m1", "m2"], "oldest first");
    schemas.cleanup().await;
}

#[tokio::test]
async fn a_lost_connection_is_retryable() {
    let Some(schemas) = Schemas::from_env() else {
        return;
    };
    let url = schemas.create().await;
    let name = format!("waybill-lost-{}", uuid::Uuid::new_v4().simple());
    let url = format!("{url}&application_name={name}");
    let store = schemas.open(&url, ManualClock::new(T0)).await;
    // A connection the server ends is a retryable error.
    let client = connect(&url).await;
    let admin = connect(&url).await;
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .expect("pid")
        .get(0);
    admin
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .expect("terminate");
    let lost = client
        .query_one("SELECT 1", &[])
        .await
        .expect_err("the connection is gone");
    let lost = super::db_err(lost);
    assert!(lost.is_retryable(), "{lost}");
    // The store's own connections ended under it: an ingest is stored on
    // a new one, or fails retryably (503), never as a permanent error.
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()",
            &[&name],
        )
        .await
        .expect("terminate the store's connections");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    match store.ingest(message("m1", "k", b"x")).await {
        Ok(outcome) => assert!(matches!(outcome, IngestOutcome::Accepted { .. })),
        Err(e) => assert!(e.is_retryable(), "{e}"),
    }
    // No database at all: opening says where, and a pool without one is
    // retryable.
    let nowhere = super::PostgresOptions {
        url: "postgres://postgres@127.0.0.1:1/none".into(),
        pool_size: 1,
        host: "test-host".into(),
    };
    let open = PostgresStore::open(&nowhere).await;
    assert!(
        matches!(&open, Err(StoreError::Open { path, .. }) if path.contains("127.0.0.1:1")),
        "{:?}",
        open.err()
    );
    drop(admin);
    schemas.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hosts_starting_at_once_migrate_once() {
    let Some(schemas) = Schemas::from_env() else {
        return;
    };
    let url = schemas.create().await;
    let options = super::PostgresOptions {
        url: url.clone(),
        pool_size: 2,
        host: "test-host".into(),
    };
    let (a, b, c) = tokio::join!(
        PostgresStore::open(&options),
        PostgresStore::open(&options),
        PostgresStore::open(&options),
    );
    let (a, _b, _c) = (a.expect("A"), b.expect("B"), c.expect("C"));
    let versions = count(&a, "SELECT COUNT(*) FROM schema_migrations").await;
    assert_eq!(
        versions,
        super::schema::latest() as i64,
        "each version once"
    );
    // Opening again later applies nothing and keeps the data.
    a.ingest(message("m1", "k", b"x")).await.expect("ingest");
    let again = PostgresStore::open(&options).await.expect("reopen");
    assert!(again.message("m1").await.expect("read").is_some());
    schemas.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_host_at_a_time_holds_a_lock_and_one_claims_each_schedule_period() {
    let Some(schemas) = Schemas::from_env() else {
        return;
    };
    let (a, b) = two_hosts(&schemas).await;
    let held = a
        .try_exclusive("reconcile")
        .await
        .expect("A tries")
        .expect("A holds");
    assert!(
        b.try_exclusive("reconcile")
            .await
            .expect("B tries")
            .is_none(),
        "B does not get what A holds"
    );
    // Another store on another schema is not excluded.
    let elsewhere = two_hosts(&schemas).await.0;
    assert!(
        elsewhere
            .try_exclusive("reconcile")
            .await
            .expect("try")
            .is_some()
    );
    drop(held);
    let mut taken = None;
    for _ in 0..100 {
        taken = b.try_exclusive("reconcile").await.expect("B tries");
        if taken.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(taken.is_some(), "B holds it once A let go");

    // Both ask for the same period at once, many times: one hears yes
    // each period.
    for period_no in 0..20 {
        let now = T0 + period_no * 60_000;
        let (ya, yb) = tokio::join!(
            a.claim_schedule("sync.customers", now, 60_000, "a"),
            b.claim_schedule("sync.customers", now, 60_000, "b"),
        );
        let yes = [ya.expect("A"), yb.expect("B")]
            .iter()
            .filter(|y| **y)
            .count();
        assert_eq!(yes, 1, "period {period_no}: exactly one host runs it");
    }
    schemas.cleanup().await;
}

/// The bodies of `claimed`, in claim order.
fn bodies(claimed: &[Delivery]) -> Vec<String> {
    claimed
        .iter()
        .map(|d| String::from_utf8_lossy(&d.body).into_owned())
        .collect()
}

/// A host maps a later message of a key while another holds (or died
/// holding) an earlier one: nothing received after the earlier message is
/// delivered until it is mapped, by either host, whether the lease is
/// live, the caller's own or run out; then the key's entries go in the
/// order the messages were received.
#[tokio::test]
async fn a_later_message_mapped_first_waits_for_the_earlier_one_whoever_holds_it() {
    use crate::store::conformance::fixtures::{delivery, outcome};
    let Some(schemas) = Schemas::from_env() else {
        return;
    };
    let url = schemas.create().await;
    let clock = ManualClock::new(T0);
    let a = schemas.open(&url, clock.clone()).await;
    let b = schemas.open(&url, clock.clone()).await;
    for id in ["m1", "m2", "m3"] {
        a.ingest(message(id, id, id.as_bytes()))
            .await
            .expect("ingest");
    }
    assert_eq!(a.unprocessed(1).await.expect("A").len(), 1, "A holds m1");
    let taken: Vec<String> = b
        .unprocessed(10)
        .await
        .expect("B")
        .into_iter()
        .map(|m| m.message_id)
        .collect();
    assert_eq!(taken, ["m2", "m3"]);
    for r in b
        .complete_processing_batch(vec![
            outcome("m2", vec![delivery("erp", "K", "second")]),
            outcome("m3", vec![delivery("erp", "L", "other")]),
        ])
        .await
        .expect("B maps")
    {
        r.expect("mapped");
    }
    for (who, store) in [("A (holds m1)", &a), ("B", &b)] {
        assert!(
            store
                .claim_deliveries("erp", clock.now_ms(), 10, 60_000)
                .await
                .expect("claim")
                .is_empty(),
            "{who}: nothing goes out while m1 is unprocessed"
        );
    }
    // A dies: its lease runs out, m1 is still not mapped.
    clock.advance(super::PROCESSING_LEASE + 1);
    assert!(
        b.claim_deliveries("erp", clock.now_ms(), 10, 60_000)
            .await
            .expect("claim")
            .is_empty(),
        "an expired lease still holds deliveries back"
    );
    let taken = b.unprocessed(10).await.expect("B takes m1 over");
    assert_eq!(taken[0].message_id, "m1");
    for r in b
        .complete_processing_batch(vec![outcome("m1", vec![delivery("erp", "K", "first")])])
        .await
        .expect("B maps m1")
    {
        r.expect("mapped");
    }
    let claimed = b
        .claim_deliveries("erp", clock.now_ms(), 10, 60_000)
        .await
        .expect("claim");
    let mut got = bodies(&claimed);
    got.sort();
    assert_eq!(
        got,
        ["first", "other"],
        "K's first entry is m1's; m2's waits behind it"
    );
    schemas.cleanup().await;
}
