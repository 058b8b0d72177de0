//! The store traits for [`SqliteStore`], one impl per concern: writes go to
//! the writer (with the injected clock's time), reads to the read pool.

use super::super::error::StoreError;
use super::super::flow_model::*;
use super::super::model::*;
use super::super::traits::{
    ExceptionStore, HousekeepingStore, MessageStore, OutboxStore, SyncStore,
};
use super::batch::{self, Deferred, Flush};
use super::{SqliteStore, db_err, flows, reads, retention, writes};
use async_trait::async_trait;

#[async_trait]
impl MessageStore for SqliteStore {
    async fn ingest(&self, msg: NewMessage) -> Result<IngestOutcome, StoreError> {
        self.write(move |c, _| writes::ingest(c, &msg)).await
    }

    async fn unprocessed(&self, limit: usize) -> Result<Vec<StoredMessage>, StoreError> {
        self.read(move |c| reads::unprocessed(c, limit)).await
    }

    async fn message(&self, message_id: &str) -> Result<Option<StoredMessage>, StoreError> {
        let id = message_id.to_string();
        self.read(move |c| reads::message(c, &id)).await
    }

    async fn complete_processing(
        &self,
        outcome: ProcessingOutcome,
    ) -> Result<ProcessingResult, StoreError> {
        self.write(move |c, now| {
            let mut deferred = Deferred::new();
            let result = writes::complete_processing(c, &outcome, now, &mut deferred)?;
            deferred.flush(c, now)?;
            Ok(result)
        })
        .await
    }

    async fn complete_processing_batch(
        &self,
        outcomes: Vec<ProcessingOutcome>,
    ) -> Result<Vec<Result<ProcessingResult, StoreError>>, StoreError> {
        self.write(move |c, now| batch::complete_batch(c, &outcomes, now))
            .await
    }

    async fn processing_failed(
        &self,
        message_id: &str,
        error: &str,
        max_failures: u32,
    ) -> Result<ProcessingFailure, StoreError> {
        let (id, error) = (message_id.to_string(), error.to_string());
        self.write(move |c, now| writes::processing_failed(c, &id, &error, max_failures, now))
            .await
    }

    async fn timeline(&self, correlation_id: &str) -> Result<Option<Timeline>, StoreError> {
        let cid = correlation_id.to_string();
        self.read(move |c| reads::timeline(c, &cid)).await
    }

    async fn find_messages(&self, key: &str, limit: usize) -> Result<Vec<MessageHit>, StoreError> {
        let key = key.to_string();
        self.read(move |c| reads::find_messages(c, &key, limit))
            .await
    }
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn claim_deliveries(
        &self,
        target: &str,
        now: Millis,
        limit: usize,
        lease: Millis,
    ) -> Result<Vec<Delivery>, StoreError> {
        let target = target.to_string();
        self.write(move |c, _| writes::claim_deliveries(c, &target, now, limit, lease))
            .await
    }

    async fn record_attempt(&self, outcome: AttemptOutcome) -> Result<(), StoreError> {
        self.write(move |c, now| writes::record_attempt(c, &outcome, now))
            .await
    }

    async fn record_attempts(
        &self,
        outcomes: Vec<AttemptOutcome>,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        self.write(move |c, now| batch::record_attempts(c, &outcomes, now))
            .await
    }

    async fn message_deliveries(&self, message_id: &str) -> Result<Vec<Delivery>, StoreError> {
        let id = message_id.to_string();
        self.read(move |c| reads::message_deliveries(c, &id)).await
    }

    async fn dead_letters(&self, filter: &DeadLetterFilter) -> Result<Vec<DeadLetter>, StoreError> {
        let filter = filter.clone();
        self.read(move |c| reads::dead_letters(c, &filter)).await
    }

    async fn backlog(&self) -> Result<Backlog, StoreError> {
        self.read(reads::backlog).await
    }
}

#[async_trait]
impl ExceptionStore for SqliteStore {
    async fn apply_flow(&self, write: FlowWrite) -> Result<FlowResult, StoreError> {
        self.write(move |c, now| flows::apply_flow(c, &write, now))
            .await
    }

    async fn exceptions(
        &self,
        filter: &ExceptionFilter,
    ) -> Result<Vec<ExceptionRecord>, StoreError> {
        let filter = filter.clone();
        self.read(move |c| flows::exceptions(c, &filter)).await
    }

    async fn exception(&self, id: i64) -> Result<Option<ExceptionRecord>, StoreError> {
        self.read(move |c| flows::exception(c, id)).await
    }
}

#[async_trait]
impl SyncStore for SqliteStore {
    async fn complete_command(&self, done: CommandCompletion) -> Result<(), StoreError> {
        self.write(move |c, now| flows::complete_command(c, &done, now))
            .await
    }

    async fn command(&self, message_id: &str) -> Result<Option<CommandRecord>, StoreError> {
        let id = message_id.to_string();
        self.read(move |c| flows::command(c, &id)).await
    }

    async fn entity_states(
        &self,
        system: &str,
        entity: Option<&str>,
        business_id: Option<&str>,
    ) -> Result<Vec<EntityState>, StoreError> {
        let (system, entity, id) = (
            system.to_string(),
            entity.map(str::to_string),
            business_id.map(str::to_string),
        );
        self.read(move |c| flows::entity_states(c, &system, entity.as_deref(), id.as_deref()))
            .await
    }

    async fn sync_hashes(&self, job: &str) -> Result<Vec<(String, String)>, StoreError> {
        let job = job.to_string();
        self.read(move |c| flows::sync_hashes(c, &job)).await
    }

    async fn set_sync_hashes(
        &self,
        job: &str,
        hashes: Vec<(String, String)>,
    ) -> Result<(), StoreError> {
        let job = job.to_string();
        self.write(move |c, now| flows::set_sync_hashes(c, &job, &hashes, now))
            .await
    }

    async fn save_recon_run(&self, report: serde_json::Value) -> Result<i64, StoreError> {
        self.write(move |c, now| flows::save_recon_run(c, &report, now))
            .await
    }

    async fn recon_runs(&self, limit: usize) -> Result<Vec<ReconRun>, StoreError> {
        self.read(move |c| flows::recon_runs(c, limit)).await
    }
}

#[async_trait]
impl HousekeepingStore for SqliteStore {
    async fn purge_finished(&self, cutoff: Millis, batch: usize) -> Result<Purged, StoreError> {
        self.write(move |c, now| retention::purge_batch(c, cutoff, batch, now))
            .await
    }

    async fn purge_idempotency(&self, now: Millis) -> Result<u64, StoreError> {
        self.write(move |c, _| {
            c.execute("DELETE FROM idempotency_keys WHERE expires_at < ?1", [now])
                .map(|n| n as u64)
                .map_err(db_err)
        })
        .await
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        self.read(reads::stats).await
    }
}
