//! Wake-ups across hosts: a store hears what another store on the same
//! schema committed (and only once it committed), not what a store on
//! another schema did, and hears again after its listening connection was
//! killed.

use super::test_db::{Schemas, connect};
use super::{PostgresStore, listen, writes};
use crate::store::conformance::T0;
use crate::store::*;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

fn message(id: &str) -> NewMessage {
    use sha2::Digest;
    NewMessage {
        message_id: id.into(),
        source: "acme".into(),
        kind: "k".into(),
        content_type: "application/json".into(),
        headers: Arc::new(Vec::new()),
        body: b"{}".to_vec(),
        correlation_id: format!("cid-{id}"),
        idempotency_key: Some(id.into()),
        body_sha256: hex::encode(sha2::Sha256::digest(b"{}")),
        received_at: T0,
        idempotency_expires_at: T0 + 3_600_000,
        context: Default::default(),
    }
}

/// The next event within `wait`, or `None`.
async fn next(rx: &mut broadcast::Receiver<WakeEvent>, wait: Duration) -> Option<WakeEvent> {
    tokio::time::timeout(wait, rx.recv()).await.ok()?.ok()
}

/// Waits until `store`'s listening connection is up (its `LISTEN` done):
/// ingests probes until one is heard.
async fn until_listening(store: &PostgresStore, rx: &mut broadcast::Receiver<WakeEvent>) {
    for i in 0..100 {
        store
            .ingest(message(&format!(
                "probe-{}-{i}",
                uuid::Uuid::new_v4().simple()
            )))
            .await
            .expect("ingest a probe");
        if next(rx, Duration::from_millis(200)).await.is_some() {
            while next(rx, Duration::from_millis(50)).await.is_some() {}
            return;
        }
    }
    panic!("the store never heard its own notifications");
}

/// Two stores on one fresh schema, the second listening already, and what
/// it hears.
async fn two_stores_b_listening(
    schemas: &Schemas,
) -> (
    Arc<PostgresStore>,
    Arc<PostgresStore>,
    broadcast::Receiver<WakeEvent>,
) {
    let url = schemas.create().await;
    let clock: Arc<dyn Clock> = ManualClock::new(T0);
    let a = schemas.open(&url, clock.clone()).await;
    let b = schemas.open(&url, clock).await;
    let mut heard = b.wake_events().expect("PostgreSQL stores wake each other");
    until_listening(&b, &mut heard).await;
    (a, b, heard)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_hears_what_another_committed_on_its_schema_and_listens_again_after_a_loss() {
    let Some(schemas) = Schemas::from_env() else {
        return;
    };
    let url = schemas.create().await;
    let other_url = schemas.create().await;
    let clock: Arc<dyn Clock> = ManualClock::new(T0);
    let a = schemas.open(&url, clock.clone()).await;
    let b = schemas.open(&url, clock.clone()).await;
    let elsewhere = schemas.open(&other_url, clock).await;
    let mut heard = b.wake_events().expect("PostgreSQL stores wake each other");
    until_listening(&b, &mut heard).await;

    // Uncommitted: nothing is heard; committed: heard.
    {
        let mut client = a.client().await.expect("client");
        let tx = client.transaction().await.expect("begin");
        writes::ingest(&tx, &message("rolled-back"))
            .await
            .expect("ingest");
        listen::notify(&tx, &a.channel, &WakeEvent::Messages)
            .await
            .expect("notify");
        tx.rollback().await.expect("rollback");
    }
    assert_eq!(next(&mut heard, Duration::from_millis(500)).await, None);
    a.ingest(message("m-1")).await.expect("ingest");
    assert_eq!(
        next(&mut heard, Duration::from_secs(5)).await,
        Some(WakeEvent::Messages)
    );
    // A repeat stores nothing and wakes nobody; another schema neither.
    a.ingest(message("m-1")).await.expect("ingest again");
    elsewhere
        .ingest(message("m-2"))
        .await
        .expect("ingest elsewhere");
    assert_eq!(next(&mut heard, Duration::from_millis(500)).await, None);

    // Kill the listening connections of this schema: B logs it, listens again, wakes
    // everything once it does, and hears A again.
    let admin = connect(&url).await;
    let killed = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE application_name = 'waybill-listen' AND query = $1",
            &[&format!("LISTEN \"{}\"", b.channel)],
        )
        .await
        .expect("terminate listeners");
    assert!(!killed.is_empty(), "no listening connection found");
    assert_eq!(
        next(&mut heard, Duration::from_secs(10)).await,
        Some(WakeEvent::Messages),
        "after listening again, everything is woken"
    );
    assert_eq!(
        next(&mut heard, Duration::from_secs(1)).await,
        Some(WakeEvent::Deliveries(None))
    );
    assert_eq!(
        next(&mut heard, Duration::from_secs(1)).await,
        Some(WakeEvent::Plugins)
    );
    a.ingest(message("m-3")).await.expect("ingest");
    assert_eq!(
        next(&mut heard, Duration::from_secs(5)).await,
        Some(WakeEvent::Messages)
    );
    drop((a, b, elsewhere));
    schemas.cleanup().await;
}

/// A command answered on one host wakes the host holding its caller, by
/// handle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_answered_on_one_host_is_heard_by_handle_on_another() {
    let Some(schemas) = Schemas::from_env() else {
        return;
    };
    let (a, _b, mut heard) = two_stores_b_listening(&schemas).await;
    a.complete_command(CommandCompletion {
        message_id: "cmd-42".into(),
        state: CommandState::Completed,
        status: Some(200),
        response: serde_json::json!({"ok": true}),
        confirm: None,
    })
    .await
    .expect("complete");
    let mut events = Vec::new();
    while let Some(e) = next(&mut heard, Duration::from_secs(2)).await {
        let done = e == WakeEvent::Command("cmd-42".into());
        events.push(e);
        if done {
            break;
        }
    }
    assert_eq!(
        events.last(),
        Some(&WakeEvent::Command("cmd-42".into())),
        "heard: {events:?}"
    );
    schemas.cleanup().await;
}

/// A plugin decision is heard by the other stores of the schema once it
/// commits; a refused one (its version is not stored) is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_decision_wakes_the_other_hosts() {
    let Some(schemas) = Schemas::from_env() else {
        return;
    };
    let (a, b, mut heard) = two_stores_b_listening(&schemas).await;
    a.put_plugin_version(NewPluginVersion {
        name: "probe".into(),
        version: "1.0.0".into(),
        sha256: "s1".into(),
        component: b"c".to_vec(),
        fixtures: Vec::new(),
        pushed_by: "a".into(),
    })
    .await
    .expect("put");
    assert_eq!(
        next(&mut heard, Duration::from_millis(300)).await,
        None,
        "storing a version decides nothing"
    );
    let decide = |sha: &str| NewPluginDecision {
        name: "probe".into(),
        sha256: sha.into(),
        action: PluginAction::Activate,
        host: "a".into(),
    };
    assert!(a.decide_plugin(decide("missing")).await.is_err());
    assert_eq!(next(&mut heard, Duration::from_millis(300)).await, None);
    let d = a.decide_plugin(decide("s1")).await.expect("decide");
    assert_eq!(
        next(&mut heard, Duration::from_secs(5)).await,
        Some(WakeEvent::Plugins)
    );
    assert_eq!(b.latest_plugin_seq().await.expect("seq"), d.seq);
    drop((a, b));
    schemas.cleanup().await;
}
