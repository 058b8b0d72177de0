//! One shipment milestone, end to end: the TMS records it and emits its
//! signed webhook, the demo posts it to the host and, when asked, waits for
//! the ERP to record the status update, measuring the latency from
//! emission to the ERP.

use super::api::eventually;
use super::stage::Stage;
use super::world::central;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// A milestone the TMS emitted.
#[derive(Debug, Clone)]
pub struct Emitted {
    pub order: String,
    pub code: String,
    /// Acme's `eventId` (the ERP keeps it as `source_event_id`).
    pub event_id: String,
    pub body: Vec<u8>,
    pub at: Instant,
}

/// The TMS records `code` for `order`'s shipment at `occurred` and sends
/// the webhook to the host.
pub async fn emit(
    stage: &Stage,
    order: &str,
    code: &str,
    reason: Option<&str>,
    occurred: OffsetDateTime,
) -> anyhow::Result<Emitted> {
    let body = stage
        .tms
        .milestone(order, code, reason, occurred.to_offset(central()))?;
    send(stage, order, code, body, &format!("ms-{order}-{code}")).await
}

/// Posts a webhook body (again, for a repeat).
pub async fn send(
    stage: &Stage,
    order: &str,
    code: &str,
    body: Vec<u8>,
    correlation_id: &str,
) -> anyhow::Result<Emitted> {
    let parsed: serde_json::Value = serde_json::from_slice(&body)?;
    let event_id = parsed["eventId"].as_str().unwrap_or_default().to_string();
    let at = Instant::now();
    stage
        .api
        .post_signed("acme-tms", correlation_id, body.clone())
        .await?
        .expect(&format!("{code} of {order}"), &[202])?;
    Ok(Emitted {
        order: order.to_string(),
        code: code.to_string(),
        event_id,
        body,
        at,
    })
}

/// Waits until the ERP recorded `e`; the latency from emission.
pub async fn reached_erp(stage: &Stage, e: &Emitted) -> anyhow::Result<Duration> {
    let what = format!("the ERP to record {} of {}", e.code, e.order);
    let arrived = eventually(
        &what,
        30,
        || async move { Ok(stage.erp.arrival(&e.event_id)) },
    )
    .await?;
    Ok(arrived.saturating_duration_since(e.at))
}

/// The state of the message with this correlation id, once processed.
pub async fn processed_state(stage: &Stage, correlation_id: &str) -> anyhow::Result<String> {
    eventually(
        &format!("message {correlation_id} to be processed"),
        20,
        || async move {
            let t = stage
                .api
                .admin_get(&format!("messages/{correlation_id}"))
                .await?;
            let state = t["messages"][0]["state"].as_str().unwrap_or("received");
            Ok((state != "received").then(|| state.to_string()))
        },
    )
    .await
}
