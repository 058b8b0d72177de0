//! The store traits for [`PostgresStore`], one impl per concern: every
//! call is one transaction on a pooled connection, stamped with the
//! injected clock's time, and returns only once committed.

use super::super::error::StoreError;
use super::super::flow_model::*;
use super::super::model::*;
use super::super::traits::{
    ExceptionStore, HousekeepingStore, MessageStore, OutboxStore, SyncStore,
};
use super::batch::{self, Deferred, Flush};
use super::{PostgresStore, db_err, flows, in_tx, reads, retention, writes};
use async_trait::async_trait;

#[async_trait]
impl MessageStore for PostgresStore {
    async fn ingest(&self, msg: NewMessage) -> Result<IngestOutcome, StoreError> {
        in_tx!(self, |tx| {
            let outcome = writes::ingest(&tx, &msg).await?;
            if matches!(outcome, IngestOutcome::Accepted { .. }) {
                self.notify(&tx, WakeEvent::Messages).await?;
            }
            outcome
        })
    }

    async fn unprocessed(&self, limit: usize) -> Result<Vec<StoredMessage>, StoreError> {
        let now = self.now();
        in_tx!(self, |tx| writes::unprocessed(&tx, limit, now, &self.owner)
            .await?)
    }

    async fn message(&self, message_id: &str) -> Result<Option<StoredMessage>, StoreError> {
        in_tx!(self, |tx| reads::message(&tx, message_id).await?)
    }

    async fn complete_processing(
        &self,
        outcome: ProcessingOutcome,
    ) -> Result<ProcessingResult, StoreError> {
        let now = self.now();
        in_tx!(self, |tx| {
            let mut deferred = Deferred::new();
            let result =
                writes::complete_processing(&tx, &outcome, now, &mut deferred, None).await?;
            deferred.flush(&tx, now).await?;
            self.notify_targets(&tx, std::slice::from_ref(&outcome))
                .await?;
            result
        })
    }

    async fn complete_processing_batch(
        &self,
        outcomes: Vec<ProcessingOutcome>,
    ) -> Result<Vec<Result<ProcessingResult, StoreError>>, StoreError> {
        let now = self.now();
        in_tx!(self, |tx| {
            let results = batch::complete_batch(&tx, &outcomes, now).await?;
            self.notify_targets(&tx, &outcomes).await?;
            results
        })
    }

    async fn processing_failed(
        &self,
        message_id: &str,
        error: &str,
        max_failures: u32,
    ) -> Result<ProcessingFailure, StoreError> {
        let now = self.now();
        in_tx!(self, |tx| {
            let failure =
                writes::processing_failed(&tx, message_id, error, max_failures, now).await?;
            if matches!(failure, ProcessingFailure::Retry { .. }) {
                // Given back at once: any host may take it.
                self.notify(&tx, WakeEvent::Messages).await?;
            }
            failure
        })
    }

    async fn timeline(&self, correlation_id: &str) -> Result<Option<Timeline>, StoreError> {
        // One snapshot: a poller never sees dead letters without the runs
        // that made them.
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(db_err)?;
        let timeline = reads::timeline(&tx, correlation_id).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(timeline)
    }

    async fn find_messages(&self, key: &str, limit: usize) -> Result<Vec<MessageHit>, StoreError> {
        in_tx!(self, |tx| reads::find_messages(&tx, key, limit).await?)
    }

    fn wake_events(&self) -> Option<tokio::sync::broadcast::Receiver<WakeEvent>> {
        Some(self.wakes.subscribe())
    }
}

impl PostgresStore {
    /// Notifies the targets `outcomes` enqueue deliveries for, when `tx`
    /// commits (an outcome refused within the batch wakes for nothing).
    async fn notify_targets(
        &self,
        tx: &super::Tx<'_>,
        outcomes: &[ProcessingOutcome],
    ) -> Result<(), StoreError> {
        let mut targets: Vec<&str> = outcomes
            .iter()
            .flat_map(|o| o.deliveries.iter().map(|d| d.target.as_str()))
            .collect();
        targets.sort_unstable();
        targets.dedup();
        for target in targets {
            self.notify(tx, WakeEvent::Deliveries(Some(target.to_string())))
                .await?;
        }
        Ok(())
    }

    /// Notifies that deliveries are due when an attempt of `attempts`
    /// ended its entry (the next of its business key may go) or gave it
    /// back; a retry is due later and is found by polling.
    async fn notify_released(
        &self,
        tx: &super::Tx<'_>,
        attempts: &[AttemptOutcome],
    ) -> Result<(), StoreError> {
        if attempts
            .iter()
            .any(|a| !matches!(a.next, NextStep::RetryAt(_)))
        {
            self.notify(tx, WakeEvent::Deliveries(None)).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl OutboxStore for PostgresStore {
    async fn claim_deliveries(
        &self,
        target: &str,
        now: Millis,
        limit: usize,
        lease: Millis,
    ) -> Result<Vec<Delivery>, StoreError> {
        in_tx!(self, |tx| writes::claim_deliveries(
            &tx, target, now, limit, lease
        )
        .await?)
    }

    async fn record_attempt(&self, outcome: AttemptOutcome) -> Result<(), StoreError> {
        let now = self.now();
        in_tx!(self, |tx| {
            writes::record_attempt(&tx, &outcome, now).await?;
            self.notify_released(&tx, std::slice::from_ref(&outcome))
                .await?;
        })
    }

    async fn record_attempts(
        &self,
        outcomes: Vec<AttemptOutcome>,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        let now = self.now();
        in_tx!(self, |tx| {
            let results = batch::record_attempts(&tx, &outcomes, now).await?;
            self.notify_released(&tx, &outcomes).await?;
            results
        })
    }

    async fn message_deliveries(&self, message_id: &str) -> Result<Vec<Delivery>, StoreError> {
        in_tx!(self, |tx| reads::message_deliveries(&tx, message_id)
            .await?)
    }

    async fn dead_letters(&self, filter: &DeadLetterFilter) -> Result<Vec<DeadLetter>, StoreError> {
        in_tx!(self, |tx| reads::dead_letters(&tx, filter).await?)
    }

    async fn backlog(&self) -> Result<Backlog, StoreError> {
        in_tx!(self, |tx| reads::backlog(&tx).await?)
    }
}

#[async_trait]
impl ExceptionStore for PostgresStore {
    async fn apply_flow(&self, write: FlowWrite) -> Result<FlowResult, StoreError> {
        let now = self.now();
        in_tx!(self, |tx| {
            let result = flows::apply_flow(&tx, &write, now).await?;
            if !result.deliveries.is_empty() {
                let mut targets: Vec<&str> =
                    write.deliveries.iter().map(|d| d.target.as_str()).collect();
                targets.sort_unstable();
                targets.dedup();
                for target in targets {
                    self.notify(&tx, WakeEvent::Deliveries(Some(target.to_string())))
                        .await?;
                }
            }
            result
        })
    }

    async fn exceptions(
        &self,
        filter: &ExceptionFilter,
    ) -> Result<Vec<ExceptionRecord>, StoreError> {
        in_tx!(self, |tx| flows::exceptions(&tx, filter).await?)
    }

    async fn exception(&self, id: i64) -> Result<Option<ExceptionRecord>, StoreError> {
        in_tx!(self, |tx| flows::exception(&tx, id).await?)
    }
}

#[async_trait]
impl SyncStore for PostgresStore {
    async fn complete_command(&self, done: CommandCompletion) -> Result<(), StoreError> {
        let now = self.now();
        in_tx!(self, |tx| {
            flows::complete_command(&tx, &done, now).await?;
            // The caller may be waiting on another host.
            self.notify(&tx, WakeEvent::Command(done.message_id.clone()))
                .await?
        })
    }

    async fn command(&self, message_id: &str) -> Result<Option<CommandRecord>, StoreError> {
        in_tx!(self, |tx| flows::command(&tx, message_id).await?)
    }

    async fn entity_states(
        &self,
        system: &str,
        entity: Option<&str>,
        business_id: Option<&str>,
    ) -> Result<Vec<EntityState>, StoreError> {
        in_tx!(self, |tx| flows::entity_states(
            &tx,
            system,
            entity,
            business_id
        )
        .await?)
    }

    async fn sync_hashes(&self, job: &str) -> Result<Vec<(String, String)>, StoreError> {
        in_tx!(self, |tx| flows::sync_hashes(&tx, job).await?)
    }

    async fn set_sync_hashes(
        &self,
        job: &str,
        hashes: Vec<(String, String)>,
    ) -> Result<(), StoreError> {
        let now = self.now();
        in_tx!(self, |tx| flows::set_sync_hashes(&tx, job, &hashes, now)
            .await?)
    }

    async fn save_recon_run(&self, report: serde_json::Value) -> Result<i64, StoreError> {
        let now = self.now();
        in_tx!(self, |tx| flows::save_recon_run(&tx, &report, now).await?)
    }

    async fn recon_runs(&self, limit: usize) -> Result<Vec<ReconRun>, StoreError> {
        in_tx!(self, |tx| flows::recon_runs(&tx, limit).await?)
    }
}

#[async_trait]
impl HousekeepingStore for PostgresStore {
    async fn purge_finished(&self, cutoff: Millis, batch: usize) -> Result<Purged, StoreError> {
        let now = self.now();
        in_tx!(self, |tx| retention::purge_batch(&tx, cutoff, batch, now)
            .await?)
    }

    async fn purge_idempotency(&self, now: Millis) -> Result<u64, StoreError> {
        in_tx!(self, |tx| retention::purge_idempotency(&tx, now).await?)
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        in_tx!(self, |tx| reads::stats(&tx).await?)
    }
}
