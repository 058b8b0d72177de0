//! The store's safety under concurrency and faults, against a real SQLite
//! file: one replay per dead letter, delivery leases, groups that fail as a
//! whole, poison messages, and retention that keeps the file from growing.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::store::*;
use futures::future::join_all;

fn open(dir: &tempfile::TempDir) -> Arc<SqliteStore> {
    SqliteStore::open(&SqliteOptions {
        path: dir.path().join("s.db"),
        group_commit_max: 64,
        host: "test-host".into(),
    })
    .unwrap()
}

fn msg(id: &str, kind: &str, body: &[u8]) -> NewMessage {
    NewMessage {
        message_id: id.into(),
        source: "acme".into(),
        kind: kind.into(),
        content_type: "application/json".into(),
        headers: Vec::new().into(),
        body: body.to_vec(),
        correlation_id: format!("cid-{id}"),
        idempotency_key: None,
        body_sha256: String::new(),
        received_at: 1_000,
        idempotency_expires_at: i64::MAX,
        context: Default::default(),
    }
}

fn delivery(key: &str, body: &str) -> NewDelivery {
    NewDelivery {
        route: "r".into(),
        target: "erp".into(),
        business_key: key.into(),
        idempotency_key: format!("idem-{body}"),
        body: body.as_bytes().to_vec(),
        content_type: "application/json".into(),
        schema_id: "shipment-event@1.0".into(),
        ..Default::default()
    }
}

fn outcome(id: &str, deliveries: Vec<NewDelivery>) -> ProcessingOutcome {
    ProcessingOutcome {
        message_id: id.into(),
        correlation_id: format!("cid-{id}"),
        deliveries,
        ..Default::default()
    }
}

fn dead(reason: &str) -> NewDeadLetter {
    NewDeadLetter {
        route: Some("r".into()),
        target: None,
        reason: reason.into(),
        detail: serde_json::json!({"message": "broken mapping"}),
        attempts: 0,
        last_response: None,
        last_status: None,
        plugin: None,
    }
}

async fn count(store: &SqliteStore, sql: &str) -> i64 {
    let sql = sql.to_string();
    store
        .read(move |c| c.query_row(&sql, [], |r| r.get(0)).map_err(db_err))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replays_of_one_dead_letter_at_once_enqueue_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    for round in 0..20 {
        let id = format!("m{round}");
        store.ingest(msg(&id, "k", b"{}")).await.unwrap();
        let mut failed = outcome(&id, vec![]);
        failed.dead_letters = vec![dead("plugin-error")];
        assert_eq!(
            store.complete_processing(failed).await.unwrap().state,
            MessageState::Dead
        );
        let letter = store
            .dead_letters(&DeadLetterFilter::default())
            .await
            .unwrap()
            .into_iter()
            .find(|d| d.message_id == id)
            .unwrap();
        let replays = (0..2).map(|n| {
            let store = store.clone();
            let mut replay = outcome(&id, vec![delivery("S1", &format!("{id}-{n}"))]);
            replay.replay_of = vec![letter.id];
            tokio::spawn(async move { store.complete_processing(replay).await })
        });
        let results: Vec<_> = join_all(replays)
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "round {round}: {results:?}");
        let lost = results.iter().find_map(|r| r.as_ref().err()).unwrap();
        assert!(
            matches!(lost, StoreError::Conflict(m) if m.contains(&format!("dead letter {} is already replayed", letter.id))),
            "{lost:?}"
        );
        let enqueued = store.message_deliveries(&id).await.unwrap();
        assert_eq!(enqueued.len(), 1, "round {round}: enqueued once");
    }
}

#[tokio::test]
async fn an_unrecorded_attempt_is_claimed_again_after_its_lease_in_key_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    store.ingest(msg("m1", "k", b"{}")).await.unwrap();
    store
        .complete_processing(outcome(
            "m1",
            vec![
                delivery("S1", "a"),
                delivery("S1", "b"),
                delivery("S2", "x"),
            ],
        ))
        .await
        .unwrap();
    let t = now_ms() + 1_000;
    let lease = 5_000;
    let bodies = |ds: &[Delivery]| -> Vec<String> {
        ds.iter()
            .map(|d| String::from_utf8(d.body.clone()).unwrap())
            .collect()
    };
    let first = store.claim_deliveries("erp", t, 10, lease).await.unwrap();
    assert_eq!(bodies(&first), ["a", "x"]);
    // The attempts are made but their records are lost (a full disk):
    // within the lease nothing comes back, and b still waits behind a.
    let within = store
        .claim_deliveries("erp", t + lease - 1, 10, lease)
        .await
        .unwrap();
    assert!(within.is_empty(), "{:?}", bodies(&within));
    let after = store
        .claim_deliveries("erp", t + lease, 10, lease)
        .await
        .unwrap();
    assert_eq!(bodies(&after), ["a", "x"], "claimed again after the lease");
    assert_eq!(after[0].id, first[0].id);
    assert_eq!(after[0].claimed_at, Some(t + lease));

    // The first claim's late record is refused: the new claim holds it.
    let late = store
        .record_attempt(AttemptOutcome {
            delivery_id: first[0].id,
            claimed_at: first[0].claimed_at,
            started_at: t,
            elapsed_ms: 1,
            status: Some(200),
            response: "200".into(),
            next: NextStep::Delivered,
        })
        .await;
    assert!(
        matches!(&late, Err(StoreError::Conflict(m)) if m.contains("no longer held")),
        "{late:?}"
    );
    store
        .record_attempt(AttemptOutcome {
            delivery_id: after[0].id,
            claimed_at: after[0].claimed_at,
            started_at: t + lease,
            elapsed_ms: 1,
            status: Some(200),
            response: "200".into(),
            next: NextStep::Delivered,
        })
        .await
        .unwrap();
    let next = store
        .claim_deliveries("erp", t + lease + 1, 10, lease)
        .await
        .unwrap();
    assert_eq!(bodies(&next), ["b"], "b goes once a is delivered");
    // The settled attempt lives in the outbox row, not in `attempts`.
    let attempts = count(&store, "SELECT SUM(attempts) FROM outbox").await;
    assert_eq!(attempts, 1, "only the holder's attempt is recorded");
    let holders = count(
        &store,
        &format!(
            "SELECT COUNT(*) FROM outbox WHERE last_started_at = {} AND state = 'delivered'",
            t + lease
        ),
    )
    .await;
    assert_eq!(holders, 1, "the holder's attempt is the one kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_group_whose_transaction_the_database_rolled_back_fails_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    store
        .writer
        .run(|c| {
            c.execute_batch(
                "CREATE TRIGGER fault BEFORE INSERT ON messages WHEN NEW.kind = 'fault'
                 BEGIN SELECT RAISE(ROLLBACK, 'injected fault'); END;",
            )
            .map_err(db_err)
        })
        .await
        .unwrap();
    for round in 0..5 {
        // Hold the writer so that the next jobs queue up and share a group.
        let hold = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .writer
                    .run(|_| {
                        std::thread::sleep(std::time::Duration::from_millis(200));
                        Ok(())
                    })
                    .await
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let kinds = ["ok", "ok", "fault", "ok", "ok"];
        let ingests = kinds.iter().enumerate().map(|(i, kind)| {
            let store = store.clone();
            let m = msg(&format!("r{round}-{i}"), kind, b"{}");
            tokio::spawn(async move { store.ingest(m).await })
        });
        let results: Vec<_> = join_all(ingests)
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        hold.await.unwrap().unwrap();
        assert!(
            results.iter().all(|r| r.is_err()),
            "round {round}: nobody is told stored: {results:?}"
        );
        let culprit = results[2].as_ref().unwrap_err().to_string();
        assert!(culprit.contains("injected fault"), "{culprit}");
        for (i, r) in results.iter().enumerate().filter(|(i, _)| *i != 2) {
            assert!(
                matches!(r, Err(StoreError::Unavailable(_))),
                "job {i} of round {round}: {r:?}"
            );
        }
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM messages").await,
            0,
            "round {round}: nothing of the group is stored"
        );
    }
    // The store goes on: the same message alone is stored.
    let alone = store.ingest(msg("after", "ok", b"{}")).await.unwrap();
    assert!(matches!(alone, IngestOutcome::Accepted { .. }), "{alone:?}");
    assert_eq!(store.unprocessed(10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_message_failing_for_a_host_reason_becomes_poison_after_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    store.ingest(msg("bad", "k", b"{}")).await.unwrap();
    store.ingest(msg("good", "k", b"{}")).await.unwrap();
    for n in 1..3 {
        assert_eq!(
            store
                .processing_failed("bad", "store: disk I/O error", 3)
                .await
                .unwrap(),
            ProcessingFailure::Retry { failures: n }
        );
    }
    assert_eq!(store.unprocessed(10).await.unwrap().len(), 2);
    assert_eq!(
        store
            .processing_failed("bad", "store: disk I/O error", 3)
            .await
            .unwrap(),
        ProcessingFailure::Poisoned { failures: 3 }
    );
    let waiting: Vec<String> = store
        .unprocessed(10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.message_id)
        .collect();
    assert_eq!(waiting, ["good"], "the poison message no longer blocks");
    let letters = store
        .dead_letters(&DeadLetterFilter {
            reason: Some("poison".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].message_id, "bad");
    assert_eq!(letters[0].attempts, 3);
    assert_eq!(letters[0].detail["last_error"], "store: disk I/O error");
    assert_eq!(
        store.message("bad").await.unwrap().unwrap().state,
        MessageState::Dead
    );
    assert_eq!(
        store.processing_failed("bad", "again", 3).await.unwrap(),
        ProcessingFailure::Settled,
        "a settled message is not counted"
    );
}

/// Ingests, processes and delivers `n` messages named `<prefix>-<i>`.
async fn load(store: &Arc<SqliteStore>, prefix: &str, n: usize) {
    let body = vec![b'x'; 1024];
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        join_all(chunk.iter().map(|i| {
            let store = store.clone();
            let id = format!("{prefix}-{i}");
            let body = body.clone();
            async move {
                store.ingest(msg(&id, "k", &body)).await.unwrap();
                let mut o = outcome(&id, vec![delivery(&id, &format!("{id}-out"))]);
                o.records = vec![ProcessingRecord {
                    stage: "inbound".into(),
                    route: "r".into(),
                    plugin: PluginStamp::default(),
                    result: serde_json::json!([{"business_key": id}]),
                    ok: true,
                    elapsed_us: 1,
                }];
                store.complete_processing(o).await.unwrap();
            }
        }))
        .await;
        loop {
            let claimed = store
                .claim_deliveries("erp", now_ms(), 100, 60_000)
                .await
                .unwrap();
            if claimed.is_empty() {
                break;
            }
            join_all(claimed.into_iter().map(|d| {
                let store = store.clone();
                async move {
                    store
                        .record_attempt(AttemptOutcome {
                            delivery_id: d.id,
                            claimed_at: d.claimed_at,
                            started_at: now_ms(),
                            elapsed_ms: 1,
                            status: Some(200),
                            response: "200 ok".into(),
                            next: NextStep::Delivered,
                        })
                        .await
                        .unwrap()
                }
            }))
            .await;
        }
    }
}

async fn file_size(store: &SqliteStore) -> u64 {
    // Fold the WAL into the file first, so the file holds every page.
    let path = store.path().to_path_buf();
    let size = tokio::task::spawn_blocking(move || {
        let c = open_conn(&path, false).unwrap();
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap();
        std::fs::metadata(&path).unwrap().len()
    });
    size.await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_purges_finished_work_keeps_what_is_open_and_the_file_stops_growing() {
    use crate::store::retention::purge_before;
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    // What must survive every purge: a dead letter not replayed, an open
    // exception, a delivery not yet made.
    store.ingest(msg("dead", "k", b"{}")).await.unwrap();
    let mut failed = outcome("dead", vec![]);
    failed.dead_letters = vec![dead("plugin-error")];
    store.complete_processing(failed).await.unwrap();
    store.ingest(msg("held", "k", b"{}")).await.unwrap();
    let mut held = outcome("held", vec![]);
    held.exceptions = vec![crate::store::NewException {
        reason: "approval-violation".into(),
        business_key: "SO-1".into(),
        violations: serde_json::json!([]),
        detail: serde_json::json!({}),
        ..Default::default()
    }];
    store.complete_processing(held).await.unwrap();
    store.ingest(msg("waiting", "k", b"{}")).await.unwrap();
    let mut waiting = outcome("waiting", vec![delivery("W", "w")]);
    waiting.deliveries[0].target = "slow".into();
    store.complete_processing(waiting).await.unwrap();

    let dyn_store: Arc<dyn Store> = store.clone();
    load(&store, "one", 1500).await;
    let loaded = file_size(&store).await;
    let purged = purge_before(&dyn_store, now_ms() + 1_000, 500)
        .await
        .unwrap();
    assert_eq!(purged.messages, 1500, "{purged:?}");
    let after_first = file_size(&store).await;

    load(&store, "two", 1500).await;
    let purged = purge_before(&dyn_store, now_ms() + 1_000, 500)
        .await
        .unwrap();
    assert_eq!(purged.messages, 1500, "{purged:?}");
    let after_second = file_size(&store).await;
    assert!(
        after_second <= after_first + after_first / 20 + 64 * 1024,
        "the file kept growing: {loaded} bytes loaded, {after_first} after the first purge, {after_second} after the second"
    );

    for (table, left) in [
        ("SELECT COUNT(*) FROM messages", 3),
        ("SELECT COUNT(*) FROM outbox", 1),
        ("SELECT COUNT(*) FROM attempts", 0),
        ("SELECT COUNT(*) FROM processing", 0),
        ("SELECT COUNT(*) FROM dead_letters", 1),
        ("SELECT COUNT(*) FROM exceptions WHERE state = 'open'", 1),
    ] {
        assert_eq!(count(&store, table).await, left, "{table}");
    }
    let letters = store
        .dead_letters(&DeadLetterFilter::default())
        .await
        .unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].message_id, "dead");
    assert!(store.message("dead").await.unwrap().is_some());
    assert!(store.message("held").await.unwrap().is_some());
    assert!(store.timeline("cid-one-7").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_approvals_of_one_exception_at_once_post_once() {
    use crate::store::{ExceptionAction, ExceptionState, FlowWrite, NewException};
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    store.ingest(msg("inv", "k", b"{}")).await.unwrap();
    for round in 0..20 {
        let raised = store
            .apply_flow(FlowWrite {
                message_id: "inv".into(),
                correlation_id: "cid-inv".into(),
                exceptions: vec![NewException {
                    reason: "approval-violation".into(),
                    target: Some("billing".into()),
                    business_key: format!("SO-{round}"),
                    violations: serde_json::json!([]),
                    detail: serde_json::json!({}),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .await
            .unwrap();
        let id = raised.exceptions[0];
        let approvals = ["alice", "bob"].map(|who| {
            let store = store.clone();
            let mut posting = delivery(&format!("SO-{round}"), &format!("post-{round}-{who}"));
            posting.target = "billing".into();
            tokio::spawn(async move {
                store
                    .apply_flow(FlowWrite {
                        message_id: "inv".into(),
                        correlation_id: "cid-inv".into(),
                        deliveries: vec![posting],
                        action: Some(ExceptionAction {
                            exception_id: id,
                            new_state: ExceptionState::Approved,
                            actor: format!("user:{who}"),
                            action: "approve".into(),
                            note: None,
                            detail: serde_json::json!({}),
                        }),
                        ..Default::default()
                    })
                    .await
            })
        });
        let results: Vec<_> = join_all(approvals)
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "round {round}: {results:?}"
        );
        let refused = results.iter().find_map(|r| r.as_ref().err()).unwrap();
        assert!(
            matches!(refused, StoreError::Conflict(m) if m.contains("refused")),
            "{refused:?}"
        );
        let e = store.exception(id).await.unwrap().unwrap();
        assert_eq!(e.state, ExceptionState::Approved);
        let approvals: Vec<&str> = e
            .audit
            .iter()
            .filter(|a| a.action == "approve")
            .map(|a| a.actor.as_str())
            .collect();
        assert_eq!(approvals.len(), 1, "audited once: {approvals:?}");
    }
    let posted = store.message_deliveries("inv").await.unwrap();
    assert_eq!(posted.len(), 20, "one posting per exception");
}
