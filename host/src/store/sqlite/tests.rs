//! Store behaviour against a real SQLite file.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::store::conformance::fixtures::{delivery, outcome};
use crate::store::*;

/// A lease longer than any test.
const LEASE: Millis = 3_600_000;

fn open(dir: &tempfile::TempDir) -> Arc<SqliteStore> {
    SqliteStore::open(&SqliteOptions {
        path: dir.path().join("w.db"),
        group_commit_max: 64,
        host: "test-host".into(),
    })
    .unwrap()
}

fn msg(id: &str, key: Option<&str>, body: &[u8]) -> NewMessage {
    use sha2::Digest;
    NewMessage {
        message_id: id.into(),
        source: "acme".into(),
        kind: "acme-tms.milestone".into(),
        content_type: "application/json".into(),
        headers: vec![("x-a".into(), "1".into())].into(),
        body: body.to_vec(),
        correlation_id: format!("cid-{id}"),
        idempotency_key: key.map(String::from),
        body_sha256: hex::encode(sha2::Sha256::digest(body)),
        received_at: 1_000,
        idempotency_expires_at: i64::MAX,
        context: Default::default(),
    }
}

#[tokio::test]
async fn ingest_is_idempotent_by_key_and_refuses_a_different_body() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let first = store
        .ingest(msg("m1", Some("k"), b"{\"a\":1}"))
        .await
        .unwrap();
    assert_eq!(
        first,
        IngestOutcome::Accepted {
            message_id: "m1".into(),
            correlation_id: "cid-m1".into()
        }
    );
    let again = store
        .ingest(msg("m2", Some("k"), b"{\"a\":1}"))
        .await
        .unwrap();
    assert_eq!(
        again,
        IngestOutcome::Duplicate {
            message_id: "m1".into(),
            correlation_id: "cid-m1".into()
        }
    );
    let conflict = store
        .ingest(msg("m3", Some("k"), b"{\"a\":2}"))
        .await
        .unwrap();
    assert_eq!(
        conflict,
        IngestOutcome::Conflict {
            message_id: "m1".into()
        }
    );
    let pending = store.unprocessed(10).await.unwrap();
    assert_eq!(pending.len(), 1, "only the first message is stored");
    assert_eq!(pending[0].body, b"{\"a\":1}");
    assert_eq!(
        pending[0].headers,
        vec![("x-a".to_string(), "1".to_string())]
    );
}

#[tokio::test]
async fn committed_messages_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(&dir);
        for i in 0..50 {
            store
                .ingest(msg(&format!("m{i}"), None, b"x"))
                .await
                .unwrap();
        }
    }
    let store = open(&dir);
    let pending = store.unprocessed(100).await.unwrap();
    assert_eq!(pending.len(), 50);
    assert_eq!(pending[0].message_id, "m0", "oldest first");
}

#[tokio::test]
async fn deliveries_for_one_key_go_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    store.ingest(msg("m1", None, b"1")).await.unwrap();
    store.ingest(msg("m2", None, b"2")).await.unwrap();
    store
        .complete_processing(outcome(
            "m1",
            vec![delivery("erp", "S1", "a"), delivery("erp", "S2", "b")],
        ))
        .await
        .unwrap();
    store
        .complete_processing(outcome("m2", vec![delivery("erp", "S1", "c")]))
        .await
        .unwrap();

    let claimed = store
        .claim_deliveries("erp", now_ms(), 10, LEASE)
        .await
        .unwrap();
    let bodies: Vec<_> = claimed
        .iter()
        .map(|d| String::from_utf8(d.body.clone()).unwrap())
        .collect();
    assert_eq!(bodies, vec!["a", "b"], "c waits for a (same key S1)");
    assert!(
        store
            .claim_deliveries("erp", now_ms(), 10, LEASE)
            .await
            .unwrap()
            .is_empty(),
        "c still blocked while a is in flight"
    );

    // a fails and is scheduled for retry: c still waits.
    let a = claimed[0].id;
    let retry = AttemptOutcome {
        delivery_id: a,
        claimed_at: claimed[0].claimed_at,
        started_at: 0,
        elapsed_ms: 1,
        status: Some(503),
        response: "503".into(),
        next: NextStep::RetryAt(now_ms() + 60_000),
    };
    store.record_attempt(retry).await.unwrap();
    assert!(
        store
            .claim_deliveries("erp", now_ms(), 10, LEASE)
            .await
            .unwrap()
            .is_empty()
    );

    // a is dead-lettered: c may go.
    let again = store
        .claim_deliveries("erp", now_ms() + 120_000, 1, LEASE)
        .await
        .unwrap();
    assert_eq!(again[0].id, a, "a comes back when its retry is due");
    let dead = NewDeadLetter {
        route: Some("r".into()),
        target: Some("erp".into()),
        reason: "delivery-rejected".into(),
        detail: serde_json::json!({"status": 400}),
        attempts: 0,
        last_response: Some("400".into()),
        last_status: Some(400),
        plugin: None,
    };
    store
        .record_attempt(AttemptOutcome {
            delivery_id: a,
            claimed_at: again[0].claimed_at,
            started_at: 0,
            elapsed_ms: 1,
            status: Some(400),
            response: "400 bad".into(),
            next: NextStep::Dead(dead),
        })
        .await
        .unwrap();
    let next = store
        .claim_deliveries("erp", now_ms(), 10, LEASE)
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].body, b"c");

    let dls = store
        .dead_letters(&DeadLetterFilter {
            target: Some("erp".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(dls.len(), 1);
    assert_eq!(dls[0].attempts, 2);
    assert_eq!(dls[0].source, "acme");
    assert_eq!(dls[0].delivery_id, Some(a));

    let tl = store.timeline("cid-m1").await.unwrap().unwrap();
    assert_eq!(tl.deliveries.len(), 2);
    assert_eq!(tl.attempts.len(), 2);
    assert_eq!(tl.attempts[0].status, Some(503));
    assert_eq!(tl.processing.len(), 1);
}

#[tokio::test]
async fn inflight_deliveries_are_claimed_again_after_a_crash_once_their_lease_is_over() {
    let dir = tempfile::tempdir().unwrap();
    let claimed_at = {
        let store = open(&dir);
        store.ingest(msg("m1", None, b"1")).await.unwrap();
        store
            .complete_processing(outcome("m1", vec![delivery("erp", "S1", "a")]))
            .await
            .unwrap();
        let claimed_at = now_ms();
        assert_eq!(
            store
                .claim_deliveries("erp", claimed_at, 10, LEASE)
                .await
                .unwrap()
                .len(),
            1
        );
        claimed_at
    };
    // Reopened (a restart, or another process): nothing to recover at
    // start-up; the claim is held until its lease is over.
    let store = open(&dir);
    assert!(
        store
            .claim_deliveries("erp", claimed_at + 1, 10, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .claim_deliveries("erp", claimed_at + LEASE, 10, LEASE)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_derived_key_marks_the_second_message_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    store.ingest(msg("m1", None, b"1")).await.unwrap();
    store.ingest(msg("m2", None, b"1")).await.unwrap();
    let mut o1 = outcome("m1", vec![delivery("erp", "S1", "a")]);
    o1.derived_key = Some(("acme".into(), "evt-1".into()));
    assert_eq!(
        store.complete_processing(o1).await.unwrap().state,
        MessageState::Processed
    );
    let mut o2 = outcome("m2", vec![delivery("erp", "S1", "a2")]);
    o2.derived_key = Some(("acme".into(), "evt-1".into()));
    assert_eq!(
        store.complete_processing(o2).await.unwrap().state,
        MessageState::Duplicate
    );
    assert_eq!(
        store
            .claim_deliveries("erp", now_ms(), 10, LEASE)
            .await
            .unwrap()
            .len(),
        1,
        "the duplicate enqueued nothing"
    );
    let backlog = store.backlog().await.unwrap();
    assert_eq!(backlog.unprocessed, 0);
}

#[tokio::test]
async fn an_approval_that_would_post_a_line_twice_is_refused_whole() {
    use crate::store::{ExceptionAction, ExceptionState, FlowWrite, NewException};
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    store.ingest(msg("m1", None, b"{}")).await.unwrap();
    let mut posted = delivery("billing", "SO-1", "first");
    posted.fingerprints = vec!["SO-1|code=LINEHAUL".into()];
    store
        .complete_processing(outcome("m1", vec![posted]))
        .await
        .unwrap();
    store.ingest(msg("m2", None, b"{}")).await.unwrap();
    let raised = store
        .apply_flow(FlowWrite {
            message_id: "m2".into(),
            correlation_id: "cid-m2".into(),
            exceptions: vec![NewException {
                reason: "approval-violation".into(),
                target: Some("billing".into()),
                business_key: "SO-1".into(),
                violations: serde_json::json!([]),
                detail: serde_json::json!({}),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    let id = raised.exceptions[0];
    let mut again = delivery("billing", "SO-1", "second");
    again.fingerprints = vec!["SO-1|code=LINEHAUL".into()];
    let refused = store
        .apply_flow(FlowWrite {
            message_id: "m2".into(),
            correlation_id: "cid-m2".into(),
            deliveries: vec![again],
            action: Some(ExceptionAction {
                exception_id: id,
                new_state: ExceptionState::Approved,
                actor: "user:alice".into(),
                action: "approve".into(),
                note: None,
                detail: serde_json::json!({}),
            }),
            ..Default::default()
        })
        .await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict(m)) if m.contains("already has")),
        "{refused:?}"
    );
    let e = store.exception(id).await.unwrap().unwrap();
    assert_eq!(e.state, ExceptionState::Open, "rolled back whole");
    assert_eq!(e.audit.len(), 1, "only `raised`: {:?}", e.audit);
    let open = store.exceptions(&Default::default()).await.unwrap();
    assert_eq!(open.len(), 1, "no duplicate-charge exception left behind");
}

#[test]
fn a_locked_database_is_a_retryable_error_and_a_constraint_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lock.db");
    let holder = rusqlite::Connection::open(&path).unwrap();
    holder
        .execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);",
        )
        .unwrap();
    let other = rusqlite::Connection::open(&path).unwrap();
    other.busy_timeout(std::time::Duration::ZERO).unwrap();
    let busy = db_err(other.execute("INSERT INTO t VALUES (2)", []).unwrap_err());
    assert!(matches!(busy, StoreError::Busy(_)), "{busy:?}");
    assert!(busy.is_retryable());
    holder.execute_batch("COMMIT").unwrap();
    let constraint = db_err(other.execute("INSERT INTO t VALUES (1)", []).unwrap_err());
    assert!(
        matches!(constraint, StoreError::Database(_)),
        "{constraint:?}"
    );
    assert!(!constraint.is_retryable());
    let source = std::error::Error::source(&constraint).expect("the SQLite error is kept");
    assert!(source.downcast_ref::<rusqlite::Error>().is_some());
}
