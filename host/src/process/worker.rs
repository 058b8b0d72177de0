//! The processing loop: picks up stored messages that are not processed yet
//! (new ones, or ones a crash interrupted), maps them on blocking threads and
//! commits each outcome; woken by ingest, polling as a fallback. A message
//! whose processing keeps failing for a host reason (its outcome cannot be
//! committed, the mapping task dies) is counted, and set aside as a `poison`
//! dead letter after `max_failures`, so it cannot hold up the queue; a
//! failure of the store as a whole (a group that could not commit) is not
//! the message's fault and is not counted. Commands are processed here like
//! every message; the [`ProcessingHooks`] hear when one is mapped, so the
//! caller waiting on it is answered (a refused command at once, a duplicate
//! of an earlier command with that command's answer).

use super::processor::{Processor, Scope};
use crate::store::{NewDeadLetter, ProcessingFailure, Store, StoreError};
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
            Ok(b) => b,
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
        // Map with at most `concurrency` plugin calls at a time, and hand
        // each outcome to the store as soon as it and every earlier message
        // of the batch are mapped: commits start in arrival order (so the
        // out-of-order guard compares events in the order they arrived) and
        // overlap, so the writer still commits many in one group.
        let mut mapped = futures::stream::iter(batch)
            .map(|msg| {
                let processor = processor.clone();
                let id = msg.message_id.clone();
                let command = msg.context.command_route.clone();
                async move {
                    processor
                        .run(msg, &Scope::All, None, "")
                        .await
                        .map(|outcome| (command, outcome))
                        .map_err(|e| (id, Fault::Task(e)))
                }
            })
            .buffered(concurrency.max(1));
        let mut commits = futures::stream::FuturesUnordered::new();
        let mut results = Vec::new();
        let mut mapping_done = false;
        while !mapping_done || !commits.is_empty() {
            tokio::select! {
                biased;
                Some(done) = commits.next(), if !commits.is_empty() => results.push(done),
                next = mapped.next(), if !mapping_done => match next {
                    Some(Ok((command, outcome))) => {
                        let store = store.clone();
                        let hooks = hooks.clone();
                        commits.push(async move {
                            let id = outcome.message_id.clone();
                            let has_deliveries = !outcome.deliveries.is_empty();
                            let dead_letters = command.is_some().then(|| outcome.dead_letters.clone());
                            let done = store
                                .complete_processing(outcome)
                                .await
                                .map_err(|e| (id.clone(), Fault::Store(e)))?;
                            if let Some(route) = command {
                                hooks
                                    .command_processed(CommandProcessed {
                                        message_id: id,
                                        route,
                                        sent: has_deliveries && done.duplicate_of.is_none(),
                                        duplicate_of: done.duplicate_of,
                                        dead_letters: dead_letters.unwrap_or_default(),
                                    })
                                    .await;
                            }
                            Ok(())
                        });
                    }
                    Some(Err(e)) => results.push(Err(e)),
                    None => mapping_done = true,
                },
            }
        }
        let failed = results.iter().filter(|r| r.is_err()).count();
        for (id, fault) in results.into_iter().filter_map(Result::err) {
            count_failure(store.as_ref(), &id, fault, max_failures).await;
        }
        deliveries_ready.notify_waiters();
        if failed > 0 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Why a message's processing did not end in a commit.
enum Fault {
    /// The mapping task failed (panicked or was cancelled).
    Task(tokio::task::JoinError),
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
        Fault::Task(e) => format!("processing task failed: {e}"),
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
