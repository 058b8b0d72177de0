//! Records a target's delivery attempts in batches: each send hands its
//! attempt over and waits for it to be written; whatever attempts are
//! waiting when the store is free are written with one
//! [`record_attempts`](crate::store::OutboxStore::record_attempts) call, so
//! a busy target costs one store write per batch, not one per delivery.

use crate::store::{AttemptOutcome, Store, StoreError};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Attempts written together at most.
const BATCH: usize = 256;

type Pending = (AttemptOutcome, oneshot::Sender<Result<(), StoreError>>);

/// A handle to a target's recorder task; the task ends when every handle
/// is dropped.
#[derive(Clone)]
pub(crate) struct AttemptRecorder {
    tx: mpsc::Sender<Pending>,
}

impl AttemptRecorder {
    /// Starts the recorder task writing to `store`.
    pub(crate) fn start(store: Arc<dyn Store>) -> Self {
        let (tx, rx) = mpsc::channel(BATCH * 4);
        tokio::spawn(run(store, rx));
        Self { tx }
    }

    /// Writes `attempt` (with others waiting) and returns once it is
    /// committed, or why it was not.
    pub(crate) async fn record(&self, attempt: AttemptOutcome) -> Result<(), StoreError> {
        let (done, answer) = oneshot::channel();
        self.tx
            .send((attempt, done))
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Pending>) {
    let mut batch: Vec<Pending> = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let (attempts, answers): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
        match store.record_attempts(attempts).await {
            Ok(results) => {
                for (answer, result) in answers.into_iter().zip(results) {
                    let _ = answer.send(result);
                }
            }
            Err(e) => {
                for answer in answers {
                    let _ = answer.send(Err(e.for_batch_item()));
                }
            }
        }
    }
}
