//! The storage traits every backend implements, one per concern: received
//! messages, the outbox with its deliveries, exceptions, the sync patterns'
//! state (commands, confirmed entity state, reference-data hashes,
//! reconciliation runs), housekeeping, the coordination of hosts that
//! share a store, plugin distribution and shadow runs. [`Store`] is all of them: code
//! that needs everything keeps an `Arc<dyn Store>`, code that needs one
//! concern can take just that trait (an `Arc<dyn Store>` upcasts to it).
//! Nothing here names a backend's types.

use super::canary_model::*;
use super::error::StoreError;
use super::flow_model::*;
use super::model::*;
use super::plugin_model::*;
use super::shadow_model::*;
use async_trait::async_trait;

/// Received messages and what processing made of them.
#[async_trait]
pub trait MessageStore: Send + Sync + 'static {
    /// Stores a received message with its idempotency claim, atomically.
    async fn ingest(&self, msg: NewMessage) -> Result<IngestOutcome, StoreError>;

    /// Messages received but not yet processed, oldest first.
    async fn unprocessed(&self, limit: usize) -> Result<Vec<StoredMessage>, StoreError>;

    /// One message by id.
    async fn message(&self, message_id: &str) -> Result<Option<StoredMessage>, StoreError>;

    /// Writes the outcome of processing a message, atomically: plugin runs,
    /// outbox entries, dead letters, the message's new state. A message
    /// whose derived key another message holds is a duplicate (nothing of
    /// it is enqueued) and the result names the holder; a duplicate command
    /// is linked to the holder's command and gets its answer, at once if
    /// the holder's is recorded, else when it is.
    async fn complete_processing(
        &self,
        outcome: ProcessingOutcome,
    ) -> Result<ProcessingResult, StoreError>;

    /// Writes the outcomes of a batch, in order, each as
    /// [`complete_processing`](Self::complete_processing) would and each
    /// atomic on its own: one outcome refused leaves the others written.
    /// `Err` when the batch as a whole could not be written (nothing of it
    /// is). A backend writes the batch at once (one transaction,
    /// multi-row statements); this default writes one outcome at a time.
    async fn complete_processing_batch(
        &self,
        outcomes: Vec<ProcessingOutcome>,
    ) -> Result<Vec<Result<ProcessingResult, StoreError>>, StoreError> {
        let mut results = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            results.push(self.complete_processing(outcome).await);
        }
        Ok(results)
    }

    /// Counts a host-side processing failure of a received message (its
    /// outcome could not be committed, the processing task failed); at
    /// `max_failures` the message becomes a `poison` dead letter.
    async fn processing_failed(
        &self,
        message_id: &str,
        error: &str,
        max_failures: u32,
    ) -> Result<ProcessingFailure, StoreError>;

    /// Everything recorded under a correlation id.
    async fn timeline(&self, correlation_id: &str) -> Result<Option<Timeline>, StoreError>;

    /// Messages whose correlation id, id or idempotency key is `key`, or
    /// that made a delivery or an exception with business key `key`;
    /// newest first, at most `limit` (the console's search). The
    /// idempotency and business keys have no index of their own (the write
    /// path keeps only what processing needs): those parts read the
    /// tables newest first and stop at `limit` matches.
    async fn find_messages(&self, key: &str, limit: usize) -> Result<Vec<MessageHit>, StoreError>;

    /// Wake-ups for work other processes committed to a store they share
    /// with this one (new messages, deliveries due), as they commit; the
    /// loops keep polling, this only shortens their wait. `None` (the
    /// default) for a store only this process writes: its own writers wake
    /// its loops directly.
    fn wake_events(&self) -> Option<tokio::sync::broadcast::Receiver<WakeEvent>> {
        None
    }
}

/// The outbox: deliveries claimed with leases, their attempts, dead letters.
#[async_trait]
pub trait OutboxStore: Send + Sync + 'static {
    /// Claims up to `limit` deliveries of `target` that are due at `now`,
    /// skipping any whose business key has an earlier undelivered entry.
    /// A claim is a lease of `lease` ms: an entry still in flight that long
    /// after its claim (its attempt was never recorded, its process died)
    /// is claimed again. No start-up recovery is needed: several processes
    /// may share the outbox.
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

    /// Records the attempts of a batch, each as
    /// [`record_attempt`](Self::record_attempt) would and each on its own
    /// (a lost claim refuses only its attempt). `Err` when the batch as a
    /// whole could not be written. A backend writes the batch at once; this
    /// default writes one attempt at a time.
    async fn record_attempts(
        &self,
        outcomes: Vec<AttemptOutcome>,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        let mut results = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            results.push(self.record_attempt(outcome).await);
        }
        Ok(results)
    }

    /// The outbox entries made for a message, oldest first.
    async fn message_deliveries(&self, message_id: &str) -> Result<Vec<Delivery>, StoreError>;

    /// Dead letters matching `filter`, newest first.
    async fn dead_letters(&self, filter: &DeadLetterFilter) -> Result<Vec<DeadLetter>, StoreError>;

    /// Work waiting.
    async fn backlog(&self) -> Result<Backlog, StoreError>;
}

/// Exceptions: raised, listed, acted on with an audit trail.
#[async_trait]
pub trait ExceptionStore: Send + Sync + 'static {
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
}

/// The sync patterns' state: commands, what each system confirmed,
/// reference-data hashes and reconciliation runs.
#[async_trait]
pub trait SyncStore: Send + Sync + 'static {
    /// Records a command's answer (once: a completed command stays
    /// completed), and the same answer for its duplicates still waiting.
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

/// Retention and counts.
#[async_trait]
pub trait HousekeepingStore: Send + Sync + 'static {
    /// Purges one batch of at most `batch` finished messages older than
    /// `cutoff` with everything recorded for them, and other finished
    /// records older than `cutoff`; call again until it reports less than
    /// a full batch. Dead letters not replayed, open exceptions and what
    /// they reference are kept.
    async fn purge_finished(&self, cutoff: Millis, batch: usize) -> Result<Purged, StoreError>;

    /// Forgets idempotency keys that expired before `now`.
    async fn purge_idempotency(&self, now: Millis) -> Result<u64, StoreError>;

    /// Counts for metrics.
    async fn stats(&self) -> Result<StoreStats, StoreError>;
}

/// Plugin distribution: versions pushed into the store, the log of
/// store-wide decisions every host follows, and each host's state.
#[async_trait]
pub trait PluginStore: Send + Sync + 'static {
    /// Stores a version with its fixtures, idempotent by sha256: `true`
    /// when it was new, `false` when that sha256 was stored already (the
    /// first one's fixtures are kept).
    async fn put_plugin_version(&self, version: NewPluginVersion) -> Result<bool, StoreError>;

    /// A stored version by sha256, with its bytes and fixtures.
    async fn plugin_version(&self, sha256: &str)
    -> Result<Option<StoredPluginVersion>, StoreError>;

    /// The stored versions of `name`, oldest first, without bytes.
    async fn plugin_versions(&self, name: &str) -> Result<Vec<PluginVersionSummary>, StoreError>;

    /// Appends a decision (its sequence number is the log's next); refused
    /// with [`StoreError::NotFound`] when the version is not stored under
    /// that name. Shared stores tell every host when it commits.
    async fn decide_plugin(
        &self,
        decision: NewPluginDecision,
    ) -> Result<PluginDecision, StoreError>;

    /// The decisions about `name`, oldest first.
    async fn plugin_decisions(&self, name: &str) -> Result<Vec<PluginDecision>, StoreError>;

    /// The newest decision of every plugin, by name.
    async fn current_plugin_decisions(&self) -> Result<Vec<PluginDecision>, StoreError>;

    /// The newest decision's sequence number (0 without any): a cheap poll.
    async fn latest_plugin_seq(&self) -> Result<i64, StoreError>;

    /// Records (replaces) what `record.host` made of plugin `record.name`;
    /// the store sets `updated_at`.
    async fn record_plugin_host(&self, record: PluginHostRecord) -> Result<(), StoreError>;

    /// Every host's state of every plugin, by name then host.
    async fn plugin_hosts(&self) -> Result<Vec<PluginHostRecord>, StoreError>;
}

/// Plugin canaries: store-wide decisions to send a share of business keys
/// to a candidate version, which every host on the store follows.
#[async_trait]
pub trait CanaryStore: Send + Sync + 'static {
    /// Starts a canary; refused with [`StoreError::NotFound`] when the
    /// candidate is not stored under that name and with
    /// [`StoreError::Conflict`] while another canary of the plugin runs.
    /// Shared stores tell every host when it commits.
    async fn start_canary(&self, canary: NewCanary) -> Result<CanaryRecord, StoreError>;

    /// Ends the running canary `end.seq`; `None` when it is not running
    /// (it ended already: another host, or the operator, was first).
    async fn end_canary(&self, end: CanaryEnd) -> Result<Option<CanaryRecord>, StoreError>;

    /// The newest canary of every plugin (running or over), by name.
    async fn current_canaries(&self) -> Result<Vec<CanaryRecord>, StoreError>;

    /// How many canary events (starts and ends) there were: a cheap poll
    /// that grows with every one.
    async fn canary_events(&self) -> Result<i64, StoreError>;
}

/// Shadow runs (store-wide decisions every host follows, and each host's
/// report of what it compared), and the stored messages a recorded replay
/// re-runs.
#[async_trait]
pub trait ShadowStore: Send + Sync + 'static {
    /// Starts a shadow run of `run.sha256` (stopping the one of that plugin
    /// that runs, if any); refused with [`StoreError::NotFound`] when the
    /// version is not stored under that name. Shared stores tell every
    /// host when it commits.
    async fn start_shadow(&self, run: NewShadowRun) -> Result<ShadowRunRecord, StoreError>;

    /// Stops the running shadow of `name`, by `host`; `None` when none runs.
    async fn stop_shadow(
        &self,
        name: &str,
        host: &str,
    ) -> Result<Option<ShadowRunRecord>, StoreError>;

    /// Every running shadow, by plugin name.
    async fn running_shadows(&self) -> Result<Vec<ShadowRunRecord>, StoreError>;

    /// The shadow runs of `name`, oldest first.
    async fn shadow_runs(&self, name: &str) -> Result<Vec<ShadowRunRecord>, StoreError>;

    /// Records (replaces) what `report.host` compared for `report.run_id`;
    /// the store sets `updated_at`.
    async fn save_shadow_report(&self, report: ShadowHostReport) -> Result<(), StoreError>;

    /// Every host's report of a run, by host.
    async fn shadow_reports(&self, run_id: i64) -> Result<Vec<ShadowHostReport>, StoreError>;

    /// Stored messages the route processed, received in the filter's
    /// window, oldest first, with their plugin runs on the route.
    async fn recorded_messages(
        &self,
        filter: &RecordedFilter,
    ) -> Result<Vec<RecordedMessage>, StoreError>;
}

/// Work that one host at a time does when several share the store:
/// reconciliation runs, a sync job's runs, the periodic schedules.
#[async_trait]
pub trait CoordinationStore: Send + Sync + 'static {
    /// Takes the lock `name` if nobody (this host or another on the same
    /// store) holds it; `None` if it is held. The lock is released when
    /// the guard is dropped, or when the holding host dies.
    async fn try_exclusive(&self, name: &str) -> Result<Option<ExclusiveGuard>, StoreError>;

    /// Whether the periodic job `name` is due at `now` (it last started
    /// `period` or longer ago, or never), marking it started by `host` if
    /// so, in one statement: of several hosts asking at once, one hears
    /// `true`.
    async fn claim_schedule(
        &self,
        name: &str,
        now: Millis,
        period: Millis,
        host: &str,
    ) -> Result<bool, StoreError>;
}

/// Durable storage of the pipeline: every concern at once. Every write
/// returns only once committed. Implemented for every type that
/// implements the concern traits.
pub trait Store:
    MessageStore
    + OutboxStore
    + ExceptionStore
    + SyncStore
    + HousekeepingStore
    + CoordinationStore
    + PluginStore
    + CanaryStore
    + ShadowStore
{
}

impl<T> Store for T where
    T: MessageStore
        + OutboxStore
        + ExceptionStore
        + SyncStore
        + HousekeepingStore
        + CoordinationStore
        + PluginStore
        + CanaryStore
        + ShadowStore
{
}
