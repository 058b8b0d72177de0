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
        let results = futures::stream::iter(batch)
            .map(|msg| {
                let processor = processor.clone();
                let store = store.clone();
                async move {
                    let id = msg.message_id.clone();
                    let outcome = tokio::task::spawn_blocking(move || {
                        processor.process(&msg, &Scope::All, None, "")
                    })
                    .await;
                    match outcome {
                        Ok(outcome) => store
                            .complete_processing(outcome)
                            .await
                            .map(|_| ())
                            .map_err(|e| (id, e.to_string())),
                        Err(e) => Err((id, e.to_string())),
                    }
                }
            })
            .buffer_unordered(concurrency.max(1))
            .collect::<Vec<_>>()
            .await;
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
