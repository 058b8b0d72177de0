//! The processing loop: picks up stored messages that are not processed yet
//! (new ones, or ones a crash interrupted), maps them on blocking threads and
//! commits each outcome; woken by ingest, polling as a fallback.

use super::process::{Processor, Scope};
use crate::store::Store;
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Messages fetched per round.
const BATCH: usize = 256;

/// Runs until `shutdown` turns true; finishes the round in progress first.
pub async fn run_processing(
    processor: Arc<Processor>,
    store: Arc<dyn Store>,
    wake: Arc<Notify>,
    deliveries_ready: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
    concurrency: usize,
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
        // Map with at most `concurrency` plugin calls at a time; each outcome
        // is handed to the store as soon as it is ready, so the writer
        // commits many of them in one group instead of one fsync each.
        let mut commits = tokio::task::JoinSet::new();
        let mut mapped = futures::stream::iter(batch)
            .map(|msg| {
                let processor = processor.clone();
                let id = msg.message_id.clone();
                async move {
                    tokio::task::spawn_blocking(move || {
                        processor.process(&msg, &Scope::All, None, "")
                    })
                    .await
                    .map_err(|e| (id, e.to_string()))
                }
            })
            .buffer_unordered(concurrency.max(1));
        let mut results = Vec::new();
        while let Some(outcome) = mapped.next().await {
            match outcome {
                Ok(outcome) => {
                    let store = store.clone();
                    commits.spawn(async move {
                        let id = outcome.message_id.clone();
                        store
                            .complete_processing(outcome)
                            .await
                            .map(|_| ())
                            .map_err(|e| (id, e.to_string()))
                    });
                }
                Err(e) => results.push(Err(e)),
            }
        }
        while let Some(joined) = commits.join_next().await {
            results.push(joined.unwrap_or_else(|e| Err((String::new(), e.to_string()))));
        }
        let failed = results.iter().filter(|r| r.is_err()).count();
        for (id, e) in results.into_iter().filter_map(Result::err) {
            tracing::error!(message_id = %id, error = %e, "processing could not be committed; it will be retried");
        }
        deliveries_ready.notify_waiters();
        if failed > 0 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
