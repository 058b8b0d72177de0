//! The storage trait every backend implements.

use super::flow_model::*;
use super::model::*;
use async_trait::async_trait;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("store: {0}")]
    Database(String),
    /// The store is shutting down or its writer is gone.
    #[error("store is closed")]
    Closed,
    /// A stored value could not be decoded.
    #[error("store: corrupt record: {0}")]
    Corrupt(String),
    /// The record asked for does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The action does not fit the record's state.
    #[error("{0}")]
    Conflict(String),
    /// Opening or migrating failed.
    #[error("store {path}: {message}")]
    Open {
        /// The database path or URL.
        path: String,
        /// Why.
        message: String,
    },
}

/// Durable storage of the pipeline. Every write returns only once committed.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Stores a received message with its idempotency claim, atomically.
    async fn ingest(&self, msg: NewMessage) -> Result<IngestOutcome, StoreError>;

    /// Messages received but not yet processed, oldest first.
    async fn unprocessed(&self, limit: usize) -> Result<Vec<StoredMessage>, StoreError>;

    /// One message by id.
    async fn message(&self, message_id: &str) -> Result<Option<StoredMessage>, StoreError>;

    /// Writes the outcome of processing a message, atomically: plugin runs,
    /// outbox entries, dead letters, the message's new state.
    async fn complete_processing(
        &self,
        outcome: ProcessingOutcome,
    ) -> Result<MessageState, StoreError>;

    /// Claims up to `limit` deliveries of `target` that are due at `now`,
    /// skipping any whose business key has an earlier undelivered entry.
    async fn claim_deliveries(
        &self,
        target: &str,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Records an attempt and moves the delivery to its next state.
    async fn record_attempt(&self, outcome: AttemptOutcome) -> Result<(), StoreError>;

    /// Puts deliveries left in flight by a crash back to pending.
    async fn recover_inflight(&self) -> Result<u64, StoreError>;

    /// Dead letters matching `filter`, newest first.
    async fn dead_letters(&self, filter: &DeadLetterFilter) -> Result<Vec<DeadLetter>, StoreError>;

    /// Everything recorded under a correlation id.
    async fn timeline(&self, correlation_id: &str) -> Result<Option<Timeline>, StoreError>;

    /// Work waiting.
    async fn backlog(&self) -> Result<Backlog, StoreError>;

    /// Counts for metrics.
    async fn stats(&self) -> Result<StoreStats, StoreError>;

    /// Forgets idempotency keys that expired before `now`.
    async fn purge_idempotency(&self, now: Millis) -> Result<u64, StoreError>;

    /// Enqueues deliveries, raises exceptions and applies an exception
    /// action, atomically.
    async fn apply_flow(&self, write: FlowWrite) -> Result<FlowResult, StoreError>;

    /// Exceptions matching `filter`, newest first (without audit trail).
    async fn exceptions(
        &self,
        filter: &ExceptionFilter,
    ) -> Result<Vec<ExceptionRecord>, StoreError>;

    /// One exception with its audit trail.
    async fn exception(&self, id: i64) -> Result<Option<ExceptionRecord>, StoreError>;

    /// Records a command's answer (once: a completed command stays completed).
    async fn complete_command(&self, done: CommandCompletion) -> Result<(), StoreError>;

    /// A command by its handle (the message id).
    async fn command(&self, message_id: &str) -> Result<Option<CommandRecord>, StoreError>;

    /// What `system` confirmed, optionally for one entity and id.
    async fn entity_states(
        &self,
        system: &str,
        entity: Option<&str>,
        business_id: Option<&str>,
    ) -> Result<Vec<EntityState>, StoreError>;

    /// Content hashes of a reference-data job's records.
    async fn sync_hashes(&self, job: &str) -> Result<Vec<(String, String)>, StoreError>;

    /// Stores content hashes after the changed records were ingested.
    async fn set_sync_hashes(
        &self,
        job: &str,
        hashes: Vec<(String, String)>,
    ) -> Result<(), StoreError>;

    /// Stores a reconciliation run report.
    async fn save_recon_run(&self, report: serde_json::Value) -> Result<i64, StoreError>;

    /// The latest reconciliation runs.
    async fn recon_runs(&self, limit: usize) -> Result<Vec<ReconRun>, StoreError>;
}
