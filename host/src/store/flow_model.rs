//! The records of the sync patterns: exceptions and their audit trail,
//! synchronous commands, the state each system confirmed, reference-data
//! content hashes and reconciliation run reports.

use super::model::{Millis, NewDelivery, PluginStamp};
use serde::Serialize;

/// An exception to raise: something a person must look at before it goes on.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewException {
    /// Machine-readable reason: `approval-violation`, `missing-quote`,
    /// `duplicate-charge`, `stale-event`, `downstream-rejected`, `recon-*`.
    pub reason: String,
    /// Route, when it came from one.
    pub route: Option<String>,
    /// Target the document was headed for.
    pub target: Option<String>,
    /// Business key.
    pub business_key: String,
    /// Canonical schema id of the document.
    pub schema_id: Option<String>,
    /// The canonical document (after enrichment), when there is one.
    pub document: Option<serde_json::Value>,
    /// Violations (JSON array of {path, code, message}).
    pub violations: serde_json::Value,
    /// Plugin versions involved.
    pub plugins: Vec<PluginStamp>,
    /// Anything else worth keeping.
    pub detail: serde_json::Value,
    /// Raising the same key twice keeps one exception (reconciliation).
    pub dedupe_key: Option<String>,
    /// Line fingerprints (duplicate detection) held by this exception.
    pub fingerprints: Vec<String>,
}

/// Where an exception stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExceptionState {
    /// Waiting for a person.
    Open,
    /// Approved: the held document was sent.
    Approved,
    /// Rejected: not sent; compensation sent where the route defines one.
    Rejected,
    /// Re-run through the pipeline.
    Retried,
    /// Closed with a note.
    Resolved,
}

impl ExceptionState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionState::Open => "open",
            ExceptionState::Approved => "approved",
            ExceptionState::Rejected => "rejected",
            ExceptionState::Retried => "retried",
            ExceptionState::Resolved => "resolved",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "open" => ExceptionState::Open,
            "approved" => ExceptionState::Approved,
            "rejected" => ExceptionState::Rejected,
            "retried" => ExceptionState::Retried,
            "resolved" => ExceptionState::Resolved,
            _ => return None,
        })
    }
}

/// A stored exception.
#[derive(Debug, Clone, Serialize)]
pub struct ExceptionRecord {
    /// Id.
    pub id: i64,
    /// Reason code.
    pub reason: String,
    /// State.
    pub state: ExceptionState,
    /// The message it came from, if any.
    pub message_id: Option<String>,
    /// Correlation id.
    pub correlation_id: Option<String>,
    /// Route.
    pub route: Option<String>,
    /// Target.
    pub target: Option<String>,
    /// Business key.
    pub business_key: String,
    /// Schema id of the document.
    pub schema_id: Option<String>,
    /// The canonical document.
    pub document: Option<serde_json::Value>,
    /// Violations.
    pub violations: serde_json::Value,
    /// Plugin versions.
    pub plugins: Vec<PluginStamp>,
    /// Detail.
    pub detail: serde_json::Value,
    /// How many times it was raised (reconciliation re-finds).
    pub occurrences: u32,
    /// Created.
    pub created_at: Millis,
    /// Last changed.
    pub updated_at: Millis,
    /// Every action taken, oldest first (filled by `exception`).
    pub audit: Vec<AuditEntry>,
}

/// One audited action.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    /// When.
    pub at: Millis,
    /// Who (`user:<name>`, `policy:<name>`, `system`).
    pub actor: String,
    /// What: `raised`, `approve`, `reject`, `retry`, `replay`, `resolve`.
    pub action: String,
    /// Free text.
    pub note: Option<String>,
    /// What it did (deliveries enqueued, compensation sent ...).
    pub detail: serde_json::Value,
}

/// Which exceptions to list.
#[derive(Debug, Clone, Default)]
pub struct ExceptionFilter {
    /// Only this state.
    pub state: Option<ExceptionState>,
    /// Only this reason.
    pub reason: Option<String>,
    /// Reasons starting with this prefix (e.g. `recon-`).
    pub reason_prefix: Option<String>,
    /// Only those raised for this correlation id (a message's timeline).
    pub correlation_id: Option<String>,
    /// At most this many (0 = 1000).
    pub limit: usize,
}

/// An action on an open exception, applied atomically with what it causes.
#[derive(Debug, Clone)]
pub struct ExceptionAction {
    /// The exception.
    pub exception_id: i64,
    /// Its state afterwards.
    pub new_state: ExceptionState,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Note.
    pub note: Option<String>,
    /// What it did.
    pub detail: serde_json::Value,
}

/// Writes of the sync patterns outside message processing, in one
/// transaction: deliveries to enqueue (approved postings, compensations),
/// exceptions to raise, an action on an exception.
#[derive(Debug, Clone, Default)]
pub struct FlowWrite {
    /// The message the deliveries belong to.
    pub message_id: String,
    /// Its correlation id.
    pub correlation_id: String,
    /// Deliveries to enqueue.
    pub deliveries: Vec<NewDelivery>,
    /// Exceptions to raise.
    pub exceptions: Vec<NewException>,
    /// The action, refused unless the exception is open.
    pub action: Option<ExceptionAction>,
}

/// What a [`FlowWrite`] did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlowResult {
    /// Outbox ids created.
    pub deliveries: Vec<i64>,
    /// Exception ids raised (or re-raised, for a known dedupe key).
    pub exceptions: Vec<i64>,
}

/// Where a synchronous command stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommandState {
    /// Stored; its answer is not known yet.
    Pending,
    /// The target answered and the answer was mapped.
    Completed,
    /// It will not complete: refused, unmapped or not delivered.
    Failed,
}

impl CommandState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CommandState::Pending => "pending",
            CommandState::Completed => "completed",
            CommandState::Failed => "failed",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => CommandState::Pending,
            "completed" => CommandState::Completed,
            "failed" => CommandState::Failed,
            _ => return None,
        })
    }
}

/// A synchronous command's lifecycle.
#[derive(Debug, Clone, Serialize)]
pub struct CommandRecord {
    /// The stored message (the command's handle).
    pub message_id: String,
    /// Route.
    pub route: String,
    /// Correlation id.
    pub correlation_id: String,
    /// Where it stands.
    pub state: CommandState,
    /// The target's HTTP status, once answered.
    pub status: Option<u16>,
    /// The mapped answer (or the failure) as returned to the caller.
    pub response: Option<serde_json::Value>,
    /// Created.
    pub created_at: Millis,
    /// Completed.
    pub completed_at: Option<Millis>,
    /// The command whose answer this one gets: it repeated that one's body
    /// without an idempotency key, so processing found it a duplicate.
    pub duplicate_of: Option<String>,
}

/// A command's end.
#[derive(Debug, Clone)]
pub struct CommandCompletion {
    /// The command.
    pub message_id: String,
    /// [`CommandState::Completed`] or [`CommandState::Failed`].
    pub state: CommandState,
    /// The target's status.
    pub status: Option<u16>,
    /// The answer returned to the caller.
    pub response: serde_json::Value,
    /// Confirmed state to record with it.
    pub confirm: Option<EntityState>,
}

/// What one system last confirmed about one business id.
#[derive(Debug, Clone, Serialize)]
pub struct EntityState {
    /// System (`erp`, `acme-tms`, ...).
    pub system: String,
    /// Entity (the canonical schema's entity, e.g. `shipment`).
    pub entity: String,
    /// Business id.
    pub business_id: String,
    /// Schema id of the document.
    pub schema_id: String,
    /// The canonical document.
    pub document: serde_json::Value,
    /// When.
    pub confirmed_at: Millis,
}

/// A stored reconciliation run.
#[derive(Debug, Clone, Serialize)]
pub struct ReconRun {
    /// Id.
    pub id: i64,
    /// When it finished.
    pub finished_at: Millis,
    /// The report (JSON).
    pub report: serde_json::Value,
}

/// The store-level form of a stale-event guard on a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaleGuard {
    /// The event's time.
    pub event_at: Millis,
    /// Raise an exception (true) or drop silently (false) when stale.
    pub raise: bool,
}
