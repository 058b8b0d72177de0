//! The records the store keeps, as plain values.

use serde::Serialize;

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// The current time in [`Millis`], from the system clock (a store reads
/// its injected [`Clock`](super::Clock) instead).
pub fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A message to store at ingest.
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    /// Host-assigned id.
    pub message_id: String,
    /// Source name from the configuration.
    pub source: String,
    /// Message kind handed to the inbound plugin.
    pub kind: String,
    /// Declared content type.
    pub content_type: String,
    /// Headers kept (authentication removed), lower-case names; shared by
    /// every message of one request (the lines of an NDJSON batch).
    pub headers: std::sync::Arc<Vec<(String, String)>>,
    /// Raw body.
    pub body: Vec<u8>,
    /// Correlation id.
    pub correlation_id: String,
    /// `Idempotency-Key` sent by the source, if any.
    pub idempotency_key: Option<String>,
    /// sha256 of the body, hex.
    pub body_sha256: String,
    /// When it arrived.
    pub received_at: Millis,
    /// Idempotency keys expire after this.
    pub idempotency_expires_at: Millis,
    /// What the host itself knows about the message (never a partner header).
    pub context: MessageContext,
}

/// Host-internal facts about a message, kept apart from the partner's
/// headers so that nothing a partner sends can pose as one of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct MessageContext {
    /// Set when the message is a synchronous command of this route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_route: Option<String>,
    /// The business key of a canonical document the host ingested itself
    /// (a reference-data sync record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_key: Option<String>,
    /// The quotes approval read for this message, so that processing it
    /// again through the same versions sees the same figures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quotes: Vec<RecordedQuote>,
}

/// Figures approval copied from a system's confirmed state into a document.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct RecordedQuote {
    /// The system that confirmed them (`acme-tms`).
    pub system: String,
    /// The business id they were confirmed for.
    pub key: String,
    /// The JSON pointer they were read from in the confirmed document.
    pub from: String,
    /// The figures.
    pub figures: serde_json::Value,
}

/// What ingest answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum IngestOutcome {
    /// Stored now.
    Accepted {
        /// The new message's id.
        message_id: String,
        /// Its correlation id.
        correlation_id: String,
    },
    /// The same key and body were accepted before: the first answer.
    Duplicate {
        /// The first message's id.
        message_id: String,
        /// The first message's correlation id.
        correlation_id: String,
    },
    /// The same key arrived with a different body: refused.
    Conflict {
        /// The message that holds the key.
        message_id: String,
    },
}

/// Processing state of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MessageState {
    /// Stored, not yet mapped.
    Received,
    /// Mapped and routed; its deliveries are in the outbox.
    Processed,
    /// Processing failed; a dead letter holds why.
    Dead,
    /// The inbound plugin's derived key says it was seen already.
    Duplicate,
}

impl MessageState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageState::Received => "received",
            MessageState::Processed => "processed",
            MessageState::Dead => "dead",
            MessageState::Duplicate => "duplicate",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "received" => MessageState::Received,
            "processed" => MessageState::Processed,
            "dead" => MessageState::Dead,
            "duplicate" => MessageState::Duplicate,
            _ => return None,
        })
    }
}

/// A stored message.
#[derive(Debug, Clone, Serialize)]
pub struct StoredMessage {
    /// Id.
    pub message_id: String,
    /// Source name.
    pub source: String,
    /// Kind.
    pub kind: String,
    /// Content type.
    pub content_type: String,
    /// Headers kept.
    pub headers: Vec<(String, String)>,
    /// Raw body.
    #[serde(skip)]
    pub body: Vec<u8>,
    /// Correlation id.
    pub correlation_id: String,
    /// Idempotency key, if the source sent one.
    pub idempotency_key: Option<String>,
    /// When it arrived.
    pub received_at: Millis,
    /// Processing state.
    pub state: MessageState,
    /// What the host itself recorded about the message.
    pub context: MessageContext,
    /// The host that received it (`server.host_id`); read for the timeline
    /// only, `None` elsewhere and for messages stored before hosts were
    /// recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_by: Option<String>,
}

/// Which plugin version produced a record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PluginStamp {
    /// `name@version`.
    pub plugin: String,
    /// sha256 of the component.
    pub sha256: String,
}

/// One plugin run recorded for a message.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessingRecord {
    /// `inbound` or `outbound:<target>`.
    pub stage: String,
    /// Route name.
    pub route: String,
    /// Who ran.
    pub plugin: PluginStamp,
    /// Outputs (JSON array) or the error (JSON object).
    pub result: serde_json::Value,
    /// Whether the plugin succeeded.
    pub ok: bool,
    /// Wall time of the call, microseconds.
    pub elapsed_us: u64,
}

/// An outbox entry to create.
#[derive(Debug, Clone, Default)]
pub struct NewDelivery {
    /// Route name.
    pub route: String,
    /// Target name.
    pub target: String,
    /// Business key that orders deliveries to the target.
    pub business_key: String,
    /// Stable idempotency key sent downstream.
    pub idempotency_key: String,
    /// The body to send.
    pub body: Vec<u8>,
    /// Its content type.
    pub content_type: String,
    /// Outbound plugin that produced it.
    pub plugin: PluginStamp,
    /// Canonical schema id of the document it came from.
    pub schema_id: String,
    /// Out-of-order protection: refused when older than the last event
    /// enqueued for the same target and business key.
    pub guard: Option<super::flow_model::StaleGuard>,
    /// Line fingerprints: any already held for the target makes this
    /// delivery a `duplicate-charge` exception instead.
    pub fingerprints: Vec<String>,
    /// The canonical document, kept for compensation and confirmations.
    pub canonical: Option<String>,
    /// On acknowledgement, record the canonical document as this system's state.
    pub confirm: Option<String>,
    /// The delivery of a synchronous command (its answer is mapped back).
    pub command: bool,
}

/// A dead letter to create.
#[derive(Debug, Clone, Serialize)]
pub struct NewDeadLetter {
    /// Route, when known.
    pub route: Option<String>,
    /// Target, for delivery failures and outbound mapping failures.
    pub target: Option<String>,
    /// Machine-readable reason: `plugin-error`, `trap`, `limit`,
    /// `quarantined`, `no-route`, `plugin-missing`, `delivery-exhausted`,
    /// `delivery-rejected`, `schema-violation`.
    pub reason: String,
    /// Details (violations, error message, response).
    pub detail: serde_json::Value,
    /// Delivery attempts made.
    pub attempts: u32,
    /// Last response status and body snippet, for delivery failures.
    pub last_response: Option<String>,
    /// The HTTP status of the last response, when one came.
    pub last_status: Option<u16>,
    /// Plugin version involved, if any.
    pub plugin: Option<PluginStamp>,
}

/// The outcome of processing (or replaying) one message, written atomically.
#[derive(Debug, Clone, Default)]
pub struct ProcessingOutcome {
    /// The message.
    pub message_id: String,
    /// Its correlation id (copied to every record).
    pub correlation_id: String,
    /// Plugin runs.
    pub records: Vec<ProcessingRecord>,
    /// Deliveries to enqueue.
    pub deliveries: Vec<NewDelivery>,
    /// Dead letters to create (one per failed stage).
    pub dead_letters: Vec<NewDeadLetter>,
    /// Idempotency key derived from the canonical document when the source
    /// sent none: if another message holds it, this one is a duplicate.
    pub derived_key: Option<(String, String)>,
    /// Dead letters this run replays (marked replayed).
    pub replay_of: Vec<i64>,
    /// Exceptions raised instead of deliveries (approval, stale events).
    pub exceptions: Vec<super::flow_model::NewException>,
    /// The message's context to store, when this run added to it (a quote
    /// approval read for the first time).
    pub context: Option<MessageContext>,
}

/// Delivery state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryState {
    /// Waiting for its turn or its retry time.
    Pending,
    /// Claimed by a worker.
    Inflight,
    /// Acknowledged by the target.
    Delivered,
    /// Given up; a dead letter holds why.
    Dead,
}

impl DeliveryState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Inflight => "inflight",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Dead => "dead",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => DeliveryState::Pending,
            "inflight" => DeliveryState::Inflight,
            "delivered" => DeliveryState::Delivered,
            "dead" => DeliveryState::Dead,
            _ => return None,
        })
    }
}

/// An outbox entry.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    /// Outbox id (also the order within a business key).
    pub id: i64,
    /// The message it came from.
    pub message_id: String,
    /// Correlation id.
    pub correlation_id: String,
    /// Route.
    pub route: String,
    /// Target.
    pub target: String,
    /// Business key.
    pub business_key: String,
    /// Idempotency key sent downstream.
    pub idempotency_key: String,
    /// Body.
    #[serde(skip)]
    pub body: Vec<u8>,
    /// Content type.
    pub content_type: String,
    /// State.
    pub state: DeliveryState,
    /// Attempts made.
    pub attempts: u32,
    /// Next attempt not before.
    pub next_attempt_at: Millis,
    /// Last response (status and snippet) or error.
    pub last_response: Option<String>,
    /// The HTTP status of the last response, when one came.
    pub last_status: Option<u16>,
    /// Outbound plugin.
    pub plugin: String,
    /// Its sha256.
    pub plugin_sha256: String,
    /// Schema id of the canonical document.
    pub schema_id: String,
    /// The canonical document, when kept.
    #[serde(skip)]
    pub canonical: Option<String>,
    /// A synchronous command's delivery.
    pub command: bool,
    /// When the current claim was taken (in flight), the lease's start and
    /// the token an attempt must present.
    pub claimed_at: Option<Millis>,
}

/// One delivery attempt and what follows it.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    /// The outbox entry.
    pub delivery_id: i64,
    /// The claim this attempt answers ([`Delivery::claimed_at`]).
    pub claimed_at: Option<Millis>,
    /// When the attempt started.
    pub started_at: Millis,
    /// How long it took.
    pub elapsed_ms: u64,
    /// HTTP status, if a response came.
    pub status: Option<u16>,
    /// Response snippet or transport error.
    pub response: String,
    /// What happens next.
    pub next: NextStep,
}

/// The delivery's next state after an attempt.
#[derive(Debug, Clone)]
pub enum NextStep {
    /// Acknowledged.
    Delivered,
    /// Try again not before this time.
    RetryAt(Millis),
    /// Give up with this dead letter.
    Dead(NewDeadLetter),
    /// Not attempted after all (breaker open, shutdown): back to pending.
    Release(Millis),
}

/// A stored dead letter.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetter {
    /// Id.
    pub id: i64,
    /// The message.
    pub message_id: String,
    /// Its correlation id.
    pub correlation_id: String,
    /// Source of the message.
    pub source: String,
    /// Route, when known.
    pub route: Option<String>,
    /// Target, for delivery and outbound failures.
    pub target: Option<String>,
    /// The outbox entry, for delivery failures.
    pub delivery_id: Option<i64>,
    /// Reason code.
    pub reason: String,
    /// Details.
    pub detail: serde_json::Value,
    /// Attempts made.
    pub attempts: u32,
    /// Last response.
    pub last_response: Option<String>,
    /// The HTTP status of the last response, when one came.
    pub last_status: Option<u16>,
    /// Plugin `name@version`.
    pub plugin: Option<String>,
    /// Plugin sha256.
    pub plugin_sha256: Option<String>,
    /// When.
    pub created_at: Millis,
    /// When it was replayed, if it was.
    pub replayed_at: Option<Millis>,
}

/// Which dead letters to list.
#[derive(Debug, Clone, Default)]
pub struct DeadLetterFilter {
    /// Only this route.
    pub route: Option<String>,
    /// Only this target.
    pub target: Option<String>,
    /// Only this reason.
    pub reason: Option<String>,
    /// Include replayed ones.
    pub include_replayed: bool,
    /// Only these ids.
    pub ids: Vec<i64>,
    /// At most this many.
    pub limit: usize,
}

/// One delivery attempt as stored.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptRecord {
    /// Outbox entry.
    pub delivery_id: i64,
    /// 1-based attempt number.
    pub attempt: u32,
    /// Start.
    pub started_at: Millis,
    /// Duration.
    pub elapsed_ms: u64,
    /// Status, if any.
    pub status: Option<u16>,
    /// Response snippet or error.
    pub response: String,
    /// The host that made the attempt, where it is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// Everything known about a message, for `GET /admin/v1/messages/{cid}`;
/// each step names the host that did it (`received_by`, a processing
/// run's `host`, an attempt's `host`) where several share the store.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    /// The message(s) with this correlation id.
    pub messages: Vec<StoredMessage>,
    /// Plugin runs, in order.
    pub processing: Vec<serde_json::Value>,
    /// Outbox entries.
    pub deliveries: Vec<Delivery>,
    /// Every attempt.
    pub attempts: Vec<AttemptRecord>,
    /// Dead letters.
    pub dead_letters: Vec<DeadLetter>,
}

/// What a message search matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageMatch {
    /// The message's correlation id.
    CorrelationId,
    /// The message's id.
    MessageId,
    /// The idempotency key the source sent (its own id of the message).
    IdempotencyKey,
    /// The business key of a delivery or an exception made from it (an
    /// order, shipment or invoice number).
    BusinessKey,
}

/// A message found by [`crate::store::MessageStore::find_messages`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageHit {
    /// The message.
    pub message_id: String,
    /// Its correlation id (the timeline's key).
    pub correlation_id: String,
    /// Its source.
    pub source: String,
    /// Its kind.
    pub kind: String,
    /// When it arrived.
    pub received_at: Millis,
    /// Its processing state.
    pub state: MessageState,
    /// What the searched key matched (the first in [`MessageMatch`]'s
    /// order when it matched several).
    pub matched: MessageMatch,
}

impl MessageMatch {
    /// Parses the spelling the stores' search queries use.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "correlation_id" => Self::CorrelationId,
            "message_id" => Self::MessageId,
            "idempotency_key" => Self::IdempotencyKey,
            "business_key" => Self::BusinessKey,
            _ => return None,
        })
    }
}

/// Keeps the first hit of each message (the queries list the matches in
/// [`MessageMatch`]'s order), newest message first, at most `limit`.
pub fn merge_hits(mut hits: Vec<MessageHit>, limit: usize) -> Vec<MessageHit> {
    let mut seen = std::collections::HashSet::new();
    hits.retain(|h| seen.insert(h.message_id.clone()));
    hits.sort_by(|a, b| {
        b.received_at
            .cmp(&a.received_at)
            .then_with(|| b.message_id.cmp(&a.message_id))
    });
    hits.truncate(limit);
    hits
}

/// Work waiting, for back-pressure and metrics.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Backlog {
    /// Messages received but not processed.
    pub unprocessed: u64,
    /// Pending or in-flight deliveries per target.
    pub deliveries: std::collections::BTreeMap<String, u64>,
}

impl Backlog {
    /// Everything waiting.
    pub fn total(&self) -> u64 {
        self.unprocessed + self.deliveries.values().sum::<u64>()
    }
}

/// Counts for metrics: messages by state, deliveries by target and state,
/// dead letters by reason.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StoreStats {
    /// `state -> count`.
    pub messages: std::collections::BTreeMap<String, u64>,
    /// `(target, state) -> count`.
    pub deliveries: std::collections::BTreeMap<(String, String), u64>,
    /// `reason -> count` (not yet replayed).
    pub dead_letters: std::collections::BTreeMap<String, u64>,
    /// Delivery attempts made per target.
    pub attempts: std::collections::BTreeMap<String, u64>,
    /// `(reason, state) -> count` of exceptions.
    pub exceptions: std::collections::BTreeMap<(String, String), u64>,
}

/// What [`crate::store::MessageStore::complete_processing`] made of a
/// message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessingResult {
    /// The message's state now.
    pub state: MessageState,
    /// For a [`MessageState::Duplicate`]: the message that holds its key
    /// (the first one, whose answer a repeated command gets).
    pub duplicate_of: Option<String>,
}

/// What became of a message after a host-side processing failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum ProcessingFailure {
    /// Counted; it will be processed again.
    Retry {
        /// Failures so far.
        failures: u32,
    },
    /// It failed too often: now a `poison` dead letter.
    Poisoned {
        /// Failures so far.
        failures: u32,
    },
    /// It is not waiting for processing any more (nothing counted).
    Settled,
}

/// What one retention batch removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    /// Messages (with their runs, deliveries, attempts, replayed dead
    /// letters, closed exceptions and completed commands).
    pub messages: u64,
    /// Other rows: expired idempotency keys, closed exceptions without a
    /// message, old reconciliation runs.
    pub other: u64,
}

/// Work another process (or this one) committed to a shared store, told to
/// every host on it so their loops need not wait for their next poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WakeEvent {
    /// Messages were stored that wait for processing.
    Messages,
    /// Deliveries became due: of the named target, or of any (`None`: an
    /// entry was released, or notifications may have been missed).
    Deliveries(Option<String>),
    /// A plugin decision was made: every host converges to it.
    Plugins,
    /// The synchronous command with this handle has its answer: the host
    /// holding the caller's connection answers it now (not at its next
    /// poll of the store).
    Command(String),
}

/// A held exclusive lock ([`crate::store::CoordinationStore::try_exclusive`]):
/// whatever the backend needs to keep it (an in-process lock, a database
/// session), released when this is dropped.
pub struct ExclusiveGuard {
    _held: Box<dyn Send + Sync>,
}

impl ExclusiveGuard {
    /// A guard that keeps `held` until it is dropped.
    pub fn new(held: impl Send + Sync + 'static) -> Self {
        Self {
            _held: Box::new(held),
        }
    }
}

impl std::fmt::Debug for ExclusiveGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExclusiveGuard")
    }
}
