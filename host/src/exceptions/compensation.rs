//! Compensating workflows: when a target refuses a posting for good (ERP
//! rejects an invoice billing already issued) or an operator rejects an
//! exception, the route target's `compensation` maps the canonical document
//! into the message that undoes the partial success (a credit note to
//! billing) and enqueues it with the usual delivery guarantees.

use crate::config::{CompensationConfig, RouteConfig};
use crate::context::App;
use crate::store::{
    Delivery, FlowWrite, NewDeadLetter, NewDelivery, NewException, PluginStamp, ProcessingOutcome,
    StoreError,
};
use std::sync::Arc;
use waybill_sdk::{Header, Output};

/// The header telling a compensation plugin why it runs.
pub const COMPENSATION_REASON_HEADER: &str = "x-waybill-compensation-reason";

/// Why a compensation could not be prepared or enqueued.
#[derive(Debug, thiserror::Error)]
pub enum CompensationError {
    /// The compensation plugin failed: the dead letters' details.
    #[error("{0}")]
    Plugin(String),
    /// The refused delivery kept no canonical document to compensate.
    #[error("delivery {0} kept no canonical document")]
    NoCanonical(i64),
    /// The mapping task panicked or was cancelled.
    #[error("the compensation task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Maps `doc` through the compensation plugin; `Err` carries the dead
/// letters' details when the plugin failed.
pub async fn compensate(
    app: &Arc<App>,
    route: &RouteConfig,
    comp: &CompensationConfig,
    doc: Output,
    correlation_id: &str,
    key_prefix: &str,
    reason: &str,
) -> Result<(Vec<NewDelivery>, Vec<PluginStamp>), CompensationError> {
    let processor = app.processor.clone();
    let (route, comp) = (route.clone(), comp.clone());
    let (cid, prefix) = (correlation_id.to_string(), key_prefix.to_string());
    let headers = vec![Header {
        name: COMPENSATION_REASON_HEADER.into(),
        value: reason.to_string(),
    }];
    tokio::task::spawn_blocking(move || {
        let mut out = ProcessingOutcome::default();
        let mapped = processor.map_out(
            &cid,
            &route,
            &comp.target,
            &comp.outbound,
            &doc,
            headers,
            &prefix,
            "",
            None,
            &mut out,
        );
        match mapped {
            Some(deliveries) => {
                let stamps = deliveries.iter().map(|d| d.plugin.clone()).collect();
                Ok((deliveries, stamps))
            }
            None => Err(CompensationError::Plugin(
                serde_json::to_string(&out.dead_letters).unwrap_or_default(),
            )),
        }
    })
    .await?
}

/// After a permanent refusal: raise `downstream-rejected` and, where the
/// route target defines one, send the compensating message.
pub async fn after_rejection(
    app: &Arc<App>,
    d: &Delivery,
    dead: &NewDeadLetter,
) -> Result<(), CompensationError> {
    let Some(route) = app.config.route(&d.route).cloned() else {
        return Ok(());
    };
    let Some(comp) = route
        .targets
        .iter()
        .find(|t| t.target == d.target)
        .and_then(|t| t.compensation.clone())
    else {
        return Ok(());
    };
    let Some(canonical) = d.canonical.clone() else {
        return Err(CompensationError::NoCanonical(d.id));
    };
    let doc = Output {
        schema_id: d.schema_id.clone(),
        business_key: d.business_key.clone(),
        body: canonical.clone(),
    };
    let reason = format!(
        "{} refused the delivery: {}",
        d.target,
        dead.last_response.as_deref().unwrap_or("no response")
    );
    let (deliveries, stamps) = compensate(
        app,
        &route,
        &comp,
        doc,
        &d.correlation_id,
        &format!("comp-{}", d.id),
        &reason,
    )
    .await?;
    let mut plugins = vec![PluginStamp {
        plugin: d.plugin.clone(),
        sha256: d.plugin_sha256.clone(),
    }];
    plugins.extend(stamps);
    let exception = NewException {
        reason: "downstream-rejected".into(),
        route: Some(d.route.clone()),
        target: Some(d.target.clone()),
        business_key: d.business_key.clone(),
        schema_id: Some(d.schema_id.clone()),
        document: serde_json::from_str(&canonical).ok(),
        violations: serde_json::json!([{"path": "", "code": "rejected", "message": reason}]),
        plugins,
        detail: serde_json::json!({
            "delivery_id": d.id,
            "compensation": {"target": comp.target, "plugin": comp.outbound.plugin, "messages": deliveries.len()},
        }),
        dedupe_key: Some(format!("rejected:{}", d.id)),
        fingerprints: Vec::new(),
    };
    let sent = deliveries.len();
    app.store
        .apply_flow(FlowWrite {
            message_id: d.message_id.clone(),
            correlation_id: d.correlation_id.clone(),
            deliveries,
            exceptions: vec![exception],
            action: None,
        })
        .await?;
    app.wake_deliveries.notify_waiters();
    tracing::warn!(delivery_id = d.id, target = %d.target, compensation = %comp.target, sent, "posting refused; compensation enqueued");
    Ok(())
}
