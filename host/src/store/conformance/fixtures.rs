//! Building blocks of the conformance cases: messages, deliveries and
//! outcomes with the fields a case does not care about filled in (the
//! backends' own tests build theirs from these too).

use super::super::*;

/// A message of source `acme` received at `at`, with `key` if given.
pub(super) fn message(id: &str, key: Option<&str>, body: &[u8], at: Millis) -> NewMessage {
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
        received_at: at,
        idempotency_expires_at: at + 3_600_000,
        context: Default::default(),
    }
}

/// The host name every factory opens its stores with: the timeline names
/// it on each step.
pub const HOST: &str = "test-host";

/// The plugin every fixture names.
pub(crate) fn stamp() -> PluginStamp {
    PluginStamp {
        plugin: "p@1.0.0".into(),
        sha256: "abc".into(),
    }
}

/// A delivery to `target` under `key` whose body is `body`.
pub(crate) fn delivery(target: &str, key: &str, body: &str) -> NewDelivery {
    NewDelivery {
        route: "r".into(),
        target: target.into(),
        business_key: key.into(),
        idempotency_key: format!("idem-{body}"),
        body: body.as_bytes().to_vec(),
        content_type: "application/json".into(),
        plugin: stamp(),
        schema_id: "shipment@1.0".into(),
        ..Default::default()
    }
}

/// A successful processing of `id` enqueuing `deliveries`.
pub(crate) fn outcome(id: &str, deliveries: Vec<NewDelivery>) -> ProcessingOutcome {
    ProcessingOutcome {
        message_id: id.into(),
        correlation_id: format!("cid-{id}"),
        records: vec![ProcessingRecord {
            stage: "inbound".into(),
            route: "r".into(),
            plugin: stamp(),
            result: serde_json::json!([]),
            ok: true,
            elapsed_us: 5,
        }],
        deliveries,
        ..Default::default()
    }
}

/// Stores message `id` and processes it into `deliveries`.
pub(super) async fn enqueue(store: &dyn Store, id: &str, at: Millis, deliveries: Vec<NewDelivery>) {
    let ingested = store
        .ingest(message(id, None, id.as_bytes(), at))
        .await
        .expect("ingest");
    assert!(
        matches!(ingested, IngestOutcome::Accepted { .. }),
        "{ingested:?}"
    );
    let state = store
        .complete_processing(outcome(id, deliveries))
        .await
        .expect("complete processing");
    assert_eq!(state.state, MessageState::Processed);
}

/// The bodies of `ds`, as text.
pub(super) fn bodies(ds: &[Delivery]) -> Vec<String> {
    ds.iter()
        .map(|d| String::from_utf8_lossy(&d.body).into_owned())
        .collect()
}

/// The answer to `d`'s current claim.
pub(super) fn attempt(
    d: &Delivery,
    at: Millis,
    status: Option<u16>,
    next: NextStep,
) -> AttemptOutcome {
    AttemptOutcome {
        delivery_id: d.id,
        claimed_at: d.claimed_at,
        started_at: at,
        elapsed_ms: 3,
        status,
        response: status.map_or_else(|| "connection refused".to_string(), |s| format!("{s} body")),
        next,
    }
}

/// A delivery dead letter.
pub(super) fn dead_letter(reason: &str) -> NewDeadLetter {
    NewDeadLetter {
        route: Some("r".into()),
        target: Some("erp".into()),
        reason: reason.into(),
        detail: serde_json::json!({"message": "refused"}),
        attempts: 0,
        last_response: Some("400 bad".into()),
        last_status: Some(400),
        plugin: Some(stamp()),
    }
}

/// Raises an open `approval-violation` exception for message `id` (its
/// correlation id `cid-<id>`) under business key `key`.
pub(super) async fn raise_held(store: &dyn Store, id: &str, key: &str) {
    store
        .apply_flow(FlowWrite {
            message_id: id.into(),
            correlation_id: format!("cid-{id}"),
            exceptions: vec![NewException {
                reason: "approval-violation".into(),
                business_key: key.into(),
                violations: serde_json::json!([]),
                detail: serde_json::json!({}),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .expect("raise");
}
