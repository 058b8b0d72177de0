//! The storage trait every backend implements.

use super::flow_model::*;
use super::model::*;
use async_trait::async_trait;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed this write or read.
    #[error("store: {0}")]
    Database(String),
    /// The write was not stored through no fault of its own: its group
    /// transaction failed as a whole (another job's statement rolled it
    /// back, the commit failed, no transaction could begin). Retryable.
    #[error("store unavailable: {0}")]
    Unavailable(String),
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
    /// A claim is a lease of `lease` ms: an entry still in flight that long
    /// after its claim (its attempt was never recorded) is claimed again.
    async fn claim_deliveries(
        &self,
        target: &str,
        now: Millis,
        limit: usize,
        lease: Millis,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Records an attempt and moves the delivery to its next state; refused
    /// with [`StoreError::Conflict`] when the claim it answers was lost
    /// (the lease expired and the delivery was claimed again).
    async fn record_attempt(&self, outcome: AttemptOutcome) -> Result<(), StoreError>;

    /// The outbox entries made for a message, oldest first.
    async fn message_deliveries(&self, message_id: &str) -> Result<Vec<Delivery>, StoreError>;

    /// Counts a host-side processing failure of a received message (its
    /// outcome could not be committed, the processing task failed); at
    /// `max_failures` the message becomes a `poison` dead letter.
    async fn processing_failed(
        &self,
        message_id: &str,
        error: &str,
        max_failures: u32,
    ) -> Result<ProcessingFailure, StoreError>;

    /// Purges one batch of at most `batch` finished messages older than
    /// `cutoff` with everything recorded for them, and other finished
    /// records older than `cutoff`; call again until it reports less than
    /// a full batch. Dead letters not replayed, open exceptions and what
    /// they reference are kept.
    async fn purge_finished(&self, cutoff: Millis, batch: usize) -> Result<Purged, StoreError>;

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
