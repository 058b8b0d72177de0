//! Replay: re-runs dead-lettered messages through the currently active (or
//! a named) plugin version — "fix the mapping, then replay what it broke" —
//! at a bounded rate. Each replay marks its dead letter replayed; a replay
//! that fails again leaves a new dead letter. Two replays of one dead letter
//! at once enqueue once: the store lets only the first claim it, the other
//! is reported as already replayed and writes nothing.
//!
//! The downstream idempotency key of a replayed delivery follows one rule
//! ([`replay_key`]): a delivery's slot is its message, target and position
//! (which canonical output of the inbound mapping, which output of the
//! outbound mapping). If the slot was delivered before (or tried) with the
//! same business key and the same canonical entity (the schema id without
//! its version), the replay is the same business document, corrected, and
//! keeps that delivery's key so a receiver that already has it can dedupe.
//! Otherwise it is a different document and gets a new key, the slot's
//! key with `-r<dead letter id>`.

use crate::process::{Processor, Scope, VersionPin};
use crate::ratelimit::TokenBucket;
use crate::store::{DeadLetterFilter, Delivery, MessageState, NewDelivery, Store, StoreError};
use serde::Serialize;
use std::sync::Arc;

/// What a replay did, per dead letter.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplayReport {
    /// Dead letters replayed, with the message's state afterwards.
    pub replayed: Vec<ReplayedLetter>,
    /// Dead letters not replayed, with why.
    pub skipped: Vec<SkippedLetter>,
}

/// One replayed dead letter.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayedLetter {
    /// Dead letter id.
    pub dead_letter: i64,
    /// The message.
    pub message_id: String,
    /// Its correlation id.
    pub correlation_id: String,
    /// New outbox entries created.
    pub deliveries: usize,
    /// New dead letters created (the replay failed again).
    pub failed_again: usize,
    /// The message's state afterwards.
    pub state: MessageState,
}

/// A dead letter that was not replayed.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedLetter {
    /// Dead letter id.
    pub dead_letter: i64,
    /// Why.
    pub reason: String,
}

/// The reason of a dead letter skipped because it was replayed already.
pub const ALREADY_REPLAYED: &str = "already replayed";

/// Why a replay stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The task mapping a replayed message panicked or was cancelled.
    #[error("replay task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Replays the dead letters `filter` selects (not yet replayed ones).
#[tracing::instrument(name = "waybill.replay", skip_all, fields(pinned = ?pin, per_second = per_second))]
pub async fn replay(
    processor: &Arc<Processor>,
    store: &Arc<dyn Store>,
    filter: &DeadLetterFilter,
    pin: Option<&VersionPin>,
    per_second: f64,
) -> Result<ReplayReport, ReplayError> {
    let letters = store.dead_letters(filter).await?;
    let bucket = TokenBucket::new(per_second.max(0.1), 1);
    let mut report = ReplayReport::default();
    for letter in letters.into_iter().rev() {
        if letter.replayed_at.is_some() {
            report.skipped.push(SkippedLetter {
                dead_letter: letter.id,
                reason: ALREADY_REPLAYED.into(),
            });
            continue;
        }
        let Some(msg) = store.message(&letter.message_id).await? else {
            report.skipped.push(SkippedLetter {
                dead_letter: letter.id,
                reason: "message not found".into(),
            });
            continue;
        };
        bucket.acquire().await;
        let scope = match &letter.route {
            Some(route) => Scope::Route {
                route: route.clone(),
                target: letter.target.clone(),
            },
            None => Scope::All,
        };
        let id = letter.id;
        let earlier = store.message_deliveries(&letter.message_id).await?;
        let mut outcome = processor.run(msg, &scope, pin, "").await?;
        for d in &mut outcome.deliveries {
            d.idempotency_key = replay_key(d, &earlier, id);
        }
        outcome.replay_of = vec![id];
        // A replay is explicit: it must not be swallowed as a duplicate.
        outcome.derived_key = None;
        let deliveries = outcome.deliveries.len();
        let failed_again = outcome.dead_letters.len();
        let state = match store.complete_processing(outcome).await {
            Ok(done) => done.state,
            Err(StoreError::Conflict(why)) => {
                tracing::info!(dead_letter = id, %why, "replay lost to a concurrent one");
                report.skipped.push(SkippedLetter {
                    dead_letter: id,
                    reason: ALREADY_REPLAYED.into(),
                });
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        tracing::info!(dead_letter = id, message_id = %letter.message_id, correlation_id = %letter.correlation_id, deliveries, failed_again, "replayed");
        report.replayed.push(ReplayedLetter {
            dead_letter: id,
            message_id: letter.message_id,
            correlation_id: letter.correlation_id,
            deliveries,
            failed_again,
            state,
        });
    }
    Ok(report)
}

/// The idempotency key of replayed delivery `d`, whose key is still its
/// slot's key (`<message>-<target>-<output>-<part>`, made with no
/// generation suffix), given the `earlier` deliveries of its message.
pub fn replay_key(d: &NewDelivery, earlier: &[Delivery], dead_letter: i64) -> String {
    let slot = d.idempotency_key.as_str();
    let suffixed = format!("{slot}-");
    let last = earlier
        .iter()
        .filter(|e| {
            e.target == d.target
                && (e.idempotency_key == slot || e.idempotency_key.starts_with(&suffixed))
        })
        .max_by_key(|e| e.id);
    match last {
        None => slot.to_string(),
        Some(e)
            if e.business_key == d.business_key && entity(&e.schema_id) == entity(&d.schema_id) =>
        {
            e.idempotency_key.clone()
        }
        Some(_) => format!("{slot}-r{dead_letter}"),
    }
}

/// `shipment-event` of `shipment-event@1.2`.
fn entity(schema_id: &str) -> &str {
    schema_id.split('@').next().unwrap_or(schema_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DeliveryState;

    fn earlier(id: i64, key: &str, business_key: &str, schema_id: &str) -> Delivery {
        Delivery {
            id,
            message_id: "m".into(),
            correlation_id: "c".into(),
            route: "r".into(),
            target: "erp".into(),
            business_key: business_key.into(),
            idempotency_key: key.into(),
            body: Vec::new(),
            content_type: "application/json".into(),
            state: DeliveryState::Dead,
            attempts: 1,
            next_attempt_at: 0,
            last_response: None,
            last_status: None,
            plugin: "p@1".into(),
            plugin_sha256: String::new(),
            schema_id: schema_id.into(),
            canonical: None,
            command: false,
            claimed_at: None,
        }
    }

    fn replayed(key: &str, business_key: &str, schema_id: &str) -> NewDelivery {
        NewDelivery {
            target: "erp".into(),
            business_key: business_key.into(),
            idempotency_key: key.into(),
            schema_id: schema_id.into(),
            ..Default::default()
        }
    }

    #[test]
    fn the_same_document_keeps_the_key_of_its_slot_and_another_gets_a_new_one() {
        let history = [
            earlier(1, "m-erp-0-0", "SO-1", "shipment-event@1.0"),
            earlier(2, "m-erp-0-1", "SO-2", "shipment-event@1.0"),
            earlier(3, "m-erp-0-1-r7", "SO-9", "shipment-event@1.0"),
        ];
        let key = |d: NewDelivery| replay_key(&d, &history, 12);
        // Same slot, key and entity (a newer minor version is the same document).
        assert_eq!(
            key(replayed("m-erp-0-0", "SO-1", "shipment-event@1.1")),
            "m-erp-0-0"
        );
        // Another business key, or another entity: a new document.
        assert_eq!(
            key(replayed("m-erp-0-0", "SO-5", "shipment-event@1.0")),
            "m-erp-0-0-r12"
        );
        assert_eq!(
            key(replayed("m-erp-0-0", "SO-1", "invoice@1.0")),
            "m-erp-0-0-r12"
        );
        // The slot's latest delivery counts: an earlier replay's key is kept.
        assert_eq!(
            key(replayed("m-erp-0-1", "SO-9", "shipment-event@1.0")),
            "m-erp-0-1-r7"
        );
        // A slot never sent (the first run failed before the outbox) gets its own key;
        // `m-erp-0-10` is not the slot `m-erp-0-1`.
        assert_eq!(
            key(replayed("m-erp-0-10", "SO-3", "shipment-event@1.0")),
            "m-erp-0-10"
        );
        let mut other_target = replayed("m-erp-0-0", "SO-1", "shipment-event@1.0");
        other_target.target = "portal".into();
        assert_eq!(key(other_target), "m-erp-0-0");
    }
}
