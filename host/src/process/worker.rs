//! The processing loop: picks up stored messages that are not processed yet
//! (new ones, or ones a crash interrupted), maps them in chunks on blocking
//! threads (one hand-off per chunk, not per message) and
//! commits each outcome; woken by ingest, polling as a fallback. A message
//! whose processing keeps failing for a host reason (its outcome cannot be
//! committed, the mapping task dies) is counted, and set aside as a `poison`
//! dead letter after `max_failures`, so it cannot hold up the queue; a
//! failure of the store as a whole (a group that could not commit) is not
//! the message's fault and is not counted. Commands are processed here like
//! every message; the [`ProcessingHooks`] hear when one is mapped, so the
//! caller waiting on it is answered (a refused command at once, a duplicate
//! of an earlier command with that command's answer).

use super::processor::Processor;
use crate::store::{
    NewDeadLetter, ProcessingFailure, ProcessingOutcome, Store, StoreError, StoredMessage,
};
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Messages fetched per round.
const BATCH: usize = 256;

/// A command whose processing was committed.
#[derive(Debug, Clone)]
pub struct CommandProcessed {
    /// The command's handle (its message id).
    pub message_id: String,
    /// Its command route.
    pub route: String,
    /// Whether its delivery is in the outbox (else it was refused, or it
    /// is a duplicate).
    pub sent: bool,
    /// The command it repeats: the message holding its derived key (it was
    /// sent again with the same body and no idempotency key). Nothing of it
    /// was enqueued; it gets that command's answer.
    pub duplicate_of: Option<String>,
    /// Why it was refused: the dead letters its processing recorded.
    pub dead_letters: Vec<NewDeadLetter>,
}

/// What the processing loop tells the sync patterns.
#[async_trait::async_trait]
pub trait ProcessingHooks: Send + Sync {
    /// A command's processing was committed.
    async fn command_processed(&self, command: CommandProcessed);
}

/// Runs until `shutdown` turns true; finishes the round in progress first.
#[allow(clippy::too_many_arguments)]
pub async fn run_processing(
    processor: Arc<Processor>,
    store: Arc<dyn Store>,
    wake: Arc<Notify>,
    deliveries_ready: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
    concurrency: usize,
    max_failures: u32,
    hooks: Arc<dyn ProcessingHooks>,
) {
    loop {
        if *shutdown.borrow() {
            break;
        }
        let batch = match store.unprocessed(BATCH).await {
            Ok(b) => within_budget(b),
            Err(e) => {
                tracing::error!(error = %e, "cannot read unprocessed messages");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        if batch.is_empty() {
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = shutdown.changed() => {}
            }
            continue;
        }
        // Map with at most `concurrency` plugin calls at a time; the
        // outcomes mapped so far go to the store as one batch whenever no
        // batch is being written, so while one commits (its fsync) the next
        // gathers. Batches are written one after another in arrival order
        // (the out-of-order guard compares events in the order they arrived).
        let mut mapped = futures::stream::iter(chunks(batch))
            .map(|chunk| {
                let processor = processor.clone();
                let commands: Vec<Option<String>> = chunk
                    .iter()
                    .map(|m| m.context.command_route.clone())
                    .collect();
                async move {
                    let outcomes = processor.run_chunk(chunk).await;
                    futures::stream::iter(commands.into_iter().zip(outcomes).map(
                        |(command, outcome)| {
                            outcome
                                .map(|o| (command, o))
                                .map_err(|(id, why)| (id, Fault::Task(why)))
                        },
                    ))
                }
            })
            .buffered(concurrency.max(1))
            .flatten();
        let mut ready: Vec<(Option<String>, ProcessingOutcome)> = Vec::new();
        let mut writing = None;
        let mut failures: Vec<(String, Fault)> = Vec::new();
        let mut mapping_done = false;
        loop {
            if writing.is_none() && !ready.is_empty() {
                let outcomes = std::mem::take(&mut ready);
                writing = Some(Box::pin(commit_batch(
                    store.clone(),
                    hooks.clone(),
                    outcomes,
                )));
            }
            if mapping_done && writing.is_none() {
                break;
            }
            tokio::select! {
                biased;
                done = async { writing.as_mut().expect("guarded").await }, if writing.is_some() => {
                    writing = None;
                    failures.extend(done);
                }
                next = mapped.next(), if !mapping_done => match next {
                    Some(Ok(outcome)) => ready.push(outcome),
                    Some(Err(e)) => failures.push(e),
                    None => mapping_done = true,
                },
            }
        }
        let failed = failures.len();
        for (id, fault) in failures {
            count_failure(store.as_ref(), &id, fault, max_failures).await;
        }
        deliveries_ready.notify_waiters();
        if failed > 0 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Writes one batch of outcomes and tells the hooks about its commands;
/// returns the messages whose outcome was not written.
async fn commit_batch(
    store: Arc<dyn Store>,
    hooks: Arc<dyn ProcessingHooks>,
    batch: Vec<(Option<String>, ProcessingOutcome)>,
) -> Vec<(String, Fault)> {
    let (commands, outcomes): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    let told: Vec<(String, Option<String>, bool, Vec<NewDeadLetter>)> = outcomes
        .iter()
        .zip(commands)
        .map(|(o, command)| {
            let dead = if command.is_some() {
                o.dead_letters.clone()
            } else {
                Vec::new()
            };
            (
                o.message_id.clone(),
                command,
                !o.deliveries.is_empty(),
                dead,
            )
        })
        .collect();
    let results = match store.complete_processing_batch(outcomes).await {
        Ok(results) => results,
        Err(e) => {
            // The batch as a whole: every message of it failed alike.
            return told
                .into_iter()
                .map(|(id, ..)| (id, Fault::Store(e.for_batch_item())))
                .collect();
        }
    };
    let mut failures = Vec::new();
    for ((id, command, has_deliveries, dead_letters), result) in told.into_iter().zip(results) {
        match result {
            Ok(done) => {
                if let Some(route) = command {
                    hooks
                        .command_processed(CommandProcessed {
                            message_id: id,
                            route,
                            sent: has_deliveries && done.duplicate_of.is_none(),
                            duplicate_of: done.duplicate_of,
                            dead_letters,
                        })
                        .await;
                }
            }
            Err(e) => failures.push((id, Fault::Store(e))),
        }
    }
    failures
}

/// Bytes of message bodies one round maps at most (at least one message):
/// what a round holds in memory (bodies, mapped documents, the outcomes
/// waiting for their batch write) stays bounded when documents are large.
const BATCH_BYTES: usize = 4 << 20;

/// The oldest messages of `batch` within [`BATCH_BYTES`]; the others are
/// read again next round.
fn within_budget(mut batch: Vec<StoredMessage>) -> Vec<StoredMessage> {
    let mut bytes = 0;
    let keep = batch
        .iter()
        .take_while(|m| {
            bytes += m.body.len();
            bytes <= BATCH_BYTES
        })
        .count()
        .max(1);
    batch.truncate(keep);
    batch
}

/// Messages one blocking thread maps in a row.
const CHUNK: usize = 16;

/// `batch` in chunks of [`CHUNK`], in order.
fn chunks(batch: Vec<StoredMessage>) -> Vec<Vec<StoredMessage>> {
    let mut out = Vec::with_capacity(batch.len().div_ceil(CHUNK));
    let mut batch = batch.into_iter().peekable();
    while batch.peek().is_some() {
        out.push(batch.by_ref().take(CHUNK).collect());
    }
    out
}

/// Why a message's processing did not end in a commit.
enum Fault {
    /// The mapping task failed (panicked or was cancelled).
    Task(String),
    /// The store refused or failed the outcome.
    Store(StoreError),
}

/// Logs a failure and counts it against the message unless the store as a
/// whole failed (then every message of the group failed alike).
async fn count_failure(store: &dyn Store, id: &str, fault: Fault, max_failures: u32) {
    let error = match fault {
        Fault::Store(e) if e.is_retryable() => {
            tracing::error!(message_id = %id, error = %e, "processing could not be committed; it will be retried");
            return;
        }
        Fault::Store(e) => e.to_string(),
        Fault::Task(e) => e,
    };
    match store.processing_failed(id, &error, max_failures).await {
        Ok(ProcessingFailure::Retry { failures }) => {
            tracing::error!(message_id = %id, error = %error, failures, max_failures, "processing failed; it will be retried");
        }
        Ok(ProcessingFailure::Poisoned { failures }) => {
            tracing::error!(message_id = %id, error = %error, failures, "processing keeps failing; the message is a poison dead letter now");
        }
        Ok(ProcessingFailure::Settled) => {}
        Err(e) => {
            tracing::error!(message_id = %id, error = %error, count_error = %e, "processing failed and the failure could not be counted; it will be retried");
        }
    }
}
