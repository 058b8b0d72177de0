//! Conformance of [`SyncStore`]: commands with their typed state,
//! confirmed entity state, reference-data hashes, reconciliation runs.

use super::super::*;
use super::fixtures::*;
use super::{StoreFactory, T0, fresh};

fn shipment(system: &str, id: &str, at: Millis) -> EntityState {
    EntityState {
        system: system.into(),
        entity: "shipment".into(),
        business_id: id.into(),
        schema_id: "shipment@1.0".into(),
        document: serde_json::json!({ "id": id }),
        confirmed_at: at,
    }
}

/// A command is pending from ingest; its first completion sticks (with
/// the state it confirms), a later one is ignored.
pub async fn commands_complete_once_and_confirm_state(factory: &dyn StoreFactory) {
    let (store, clock) = fresh(factory).await;
    let mut m = message("c1", Some("cmd-1"), b"{}", T0);
    m.context.command_route = Some("release".into());
    store.ingest(m).await.expect("ingest");
    let pending = store.command("c1").await.expect("read").expect("created");
    assert_eq!(pending.state, CommandState::Pending);
    assert_eq!(pending.route, "release");
    assert_eq!(pending.correlation_id, "cid-c1");
    assert_eq!(pending.created_at, T0);
    assert_eq!(pending.status, None);
    clock.advance(7);
    store
        .complete_command(CommandCompletion {
            message_id: "c1".into(),
            state: CommandState::Completed,
            status: Some(201),
            response: serde_json::json!({"status": "completed"}),
            confirm: Some(shipment("tms", "S1", T0)),
        })
        .await
        .expect("complete");
    store
        .complete_command(CommandCompletion {
            message_id: "c1".into(),
            state: CommandState::Failed,
            status: Some(502),
            response: serde_json::json!({"status": "failed"}),
            confirm: None,
        })
        .await
        .expect("a second completion is ignored, not an error");
    let done = store.command("c1").await.expect("read").expect("kept");
    assert_eq!(done.state, CommandState::Completed);
    assert_eq!(done.status, Some(201));
    assert_eq!(
        done.response,
        Some(serde_json::json!({"status": "completed"}))
    );
    assert_eq!(done.completed_at, Some(T0 + 7));
    let confirmed = store
        .entity_states("tms", Some("shipment"), Some("S1"))
        .await
        .expect("read");
    assert_eq!(confirmed.len(), 1);
    assert_eq!(confirmed[0].document["id"], "S1");
    assert!(store.command("nope").await.expect("read").is_none());
    let plain = store
        .ingest(message("m1", None, b"{}", T0))
        .await
        .expect("ingest");
    assert!(matches!(plain, IngestOutcome::Accepted { .. }));
    assert!(
        store.command("m1").await.expect("read").is_none(),
        "only commands have a command record"
    );
}

/// A command found a duplicate of another (same derived key) is linked to
/// it and gets its answer: at once if the first is answered, else when the
/// first's answer is recorded. Its own later completion is ignored.
pub async fn a_duplicate_command_gets_the_first_commands_answer(factory: &dyn StoreFactory) {
    let (store, clock) = fresh(factory).await;
    for id in ["c1", "c2", "c3"] {
        let mut m = message(id, None, b"{}", T0);
        m.context.command_route = Some("release".into());
        store.ingest(m).await.expect("ingest");
    }
    let key = Some(("acme".to_string(), "derived:same".to_string()));
    let mut first = outcome("c1", vec![delivery("tms", "S1", "a")]);
    first.derived_key = key.clone();
    store.complete_processing(first).await.expect("first");

    // c2 arrives while c1 is in flight: linked, still pending.
    let mut second = outcome("c2", vec![delivery("tms", "S1", "b")]);
    second.derived_key = key.clone();
    let done = store.complete_processing(second).await.expect("second");
    assert_eq!(done.duplicate_of.as_deref(), Some("c1"));
    let waiting = store.command("c2").await.expect("read").expect("created");
    assert_eq!(waiting.state, CommandState::Pending);
    assert_eq!(waiting.duplicate_of.as_deref(), Some("c1"));
    assert_eq!(
        store
            .command("c1")
            .await
            .expect("read")
            .expect("created")
            .duplicate_of,
        None
    );

    // c1's answer is c2's too.
    clock.advance(5);
    let answer = serde_json::json!({"status": "completed", "handle": "c1"});
    store
        .complete_command(CommandCompletion {
            message_id: "c1".into(),
            state: CommandState::Completed,
            status: Some(201),
            response: answer.clone(),
            confirm: None,
        })
        .await
        .expect("complete");
    let c2 = store.command("c2").await.expect("read").expect("kept");
    assert_eq!(c2.state, CommandState::Completed);
    assert_eq!(c2.status, Some(201));
    assert_eq!(c2.response, Some(answer.clone()));
    assert_eq!(c2.completed_at, Some(T0 + 5));

    // c3 arrives after c1 was answered: answered at once.
    let mut third = outcome("c3", vec![delivery("tms", "S1", "c")]);
    third.derived_key = key;
    let done = store.complete_processing(third).await.expect("third");
    assert_eq!(done.duplicate_of.as_deref(), Some("c1"));
    let c3 = store.command("c3").await.expect("read").expect("kept");
    assert_eq!(c3.state, CommandState::Completed);
    assert_eq!(c3.response, Some(answer.clone()));
    assert_eq!(c3.duplicate_of.as_deref(), Some("c1"));
    store
        .complete_command(CommandCompletion {
            message_id: "c3".into(),
            state: CommandState::Failed,
            status: Some(502),
            response: serde_json::json!({"status": "failed"}),
            confirm: None,
        })
        .await
        .expect("ignored");
    assert_eq!(
        store
            .command("c3")
            .await
            .expect("read")
            .expect("kept")
            .response,
        Some(answer)
    );
    for id in ["c2", "c3"] {
        assert!(
            store.message_deliveries(id).await.expect("read").is_empty(),
            "a duplicate sends nothing"
        );
    }
}

/// A delivery that confirms state records the canonical document it
/// carried as that system's state once acknowledged, not before.
pub async fn an_acknowledged_delivery_confirms_state(factory: &dyn StoreFactory) {
    let (store, clock) = fresh(factory).await;
    let confirming = NewDelivery {
        confirm: Some("erp".into()),
        canonical: Some(r#"{"id":"S9","status":"delivered"}"#.into()),
        ..delivery("erp", "S9", "a")
    };
    enqueue(store.as_ref(), "m1", T0, vec![confirming]).await;
    assert!(
        store
            .entity_states("erp", None, None)
            .await
            .expect("read")
            .is_empty()
    );
    let claimed = store
        .claim_deliveries("erp", T0, 10, 60_000)
        .await
        .expect("claim");
    clock.advance(5);
    store
        .record_attempt(attempt(&claimed[0], T0, Some(200), NextStep::Delivered))
        .await
        .expect("record");
    let states = store
        .entity_states("erp", Some("shipment"), None)
        .await
        .expect("read");
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].business_id, "S9");
    assert_eq!(states[0].schema_id, "shipment@1.0");
    assert_eq!(states[0].document["status"], "delivered");
    assert_eq!(states[0].confirmed_at, T0 + 5);
    assert!(
        store
            .entity_states("tms", None, None)
            .await
            .expect("read")
            .is_empty()
    );
}

/// Reference-data hashes are kept per job and overwritten per record;
/// reconciliation runs come back newest first.
pub async fn sync_hashes_and_recon_runs_are_kept(factory: &dyn StoreFactory) {
    let (store, clock) = fresh(factory).await;
    store
        .set_sync_hashes(
            "customers",
            vec![("C1".into(), "h1".into()), ("C2".into(), "h2".into())],
        )
        .await
        .expect("set");
    store
        .set_sync_hashes("customers", vec![("C1".into(), "h1b".into())])
        .await
        .expect("set");
    store
        .set_sync_hashes("carriers", vec![("K1".into(), "k".into())])
        .await
        .expect("set");
    let mut hashes = store.sync_hashes("customers").await.expect("read");
    hashes.sort();
    assert_eq!(
        hashes,
        [
            ("C1".to_string(), "h1b".to_string()),
            ("C2".to_string(), "h2".to_string())
        ]
    );
    assert!(store.sync_hashes("unknown").await.expect("read").is_empty());

    let first = store
        .save_recon_run(serde_json::json!({"run": 1}))
        .await
        .expect("save");
    clock.advance(1_000);
    let second = store
        .save_recon_run(serde_json::json!({"run": 2}))
        .await
        .expect("save");
    assert_ne!(first, second);
    let runs = store.recon_runs(10).await.expect("read");
    let order: Vec<i64> = runs.iter().map(|r| r.id).collect();
    assert_eq!(order, [second, first], "newest first");
    assert_eq!(runs[0].report["run"], 2);
    assert_eq!(runs[0].finished_at, T0 + 1_000);
    assert_eq!(store.recon_runs(1).await.expect("read").len(), 1);
}
