//! Replay: re-runs dead-lettered messages through the currently active (or
//! a named) plugin version — "fix the mapping, then replay what it broke" —
//! at a bounded rate. Each replay marks its dead letter replayed; a replay
//! that fails again leaves a new dead letter.

use super::process::{Processor, Scope, VersionPin};
use crate::ratelimit::TokenBucket;
use crate::store::{DeadLetterFilter, MessageState, Store, StoreError};
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

/// Replays the dead letters `filter` selects (not yet replayed ones).
pub async fn replay(
    processor: &Arc<Processor>,
    store: &Arc<dyn Store>,
    filter: &DeadLetterFilter,
    pin: Option<&VersionPin>,
    per_second: f64,
) -> Result<ReplayReport, StoreError> {
    let letters = store.dead_letters(filter).await?;
    let bucket = TokenBucket::new(per_second.max(0.1), 1);
    let mut report = ReplayReport::default();
    for letter in letters.into_iter().rev() {
        if letter.replayed_at.is_some() {
            report.skipped.push(SkippedLetter {
                dead_letter: letter.id,
                reason: "already replayed".into(),
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
        let processor = processor.clone();
        let pin = pin.cloned();
        let generation = format!("-r{}", letter.id);
        let id = letter.id;
        let mut outcome = tokio::task::spawn_blocking(move || {
            processor.process(&msg, &scope, pin.as_ref(), &generation)
        })
        .await
        .map_err(|e| StoreError::Database(format!("replay task failed: {e}")))?;
        outcome.replay_of = vec![id];
        // A replay is explicit: it must not be swallowed as a duplicate.
        outcome.derived_key = None;
        let deliveries = outcome.deliveries.len();
        let failed_again = outcome.dead_letters.len();
        let state = store.complete_processing(outcome).await?;
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
