//! The configuration of the sync patterns beyond plain routing: commands
//! (synchronous calls with a deadline), and per route target the stages a
//! canonical document passes before delivery — enrichment, the approval
//! policy of financial postings, duplicate detection, out-of-order
//! protection, confirmations kept for reconciliation and the compensating
//! message sent when a posting is rejected.

use super::model::PluginRef;
use serde::{Deserialize, Serialize};

/// `[routes.command]`: the route answers `POST /v1/commands/<route>`
/// synchronously with the target's mapped answer.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CommandConfig {
    /// Maps the target's answer into a canonical document (kind = `response_kind`).
    pub response: PluginRef,
    /// The message kind handed to the response plugin, e.g. `acme-tms.shipment-booking`.
    pub response_kind: String,
    /// How long the caller waits before getting 202 and a handle.
    #[serde(default = "default_deadline_ms")]
    pub deadline_ms: u64,
    /// Keep the mapped answer as this system's confirmed state (and as the
    /// quote approval policies look up), under the answer's business key.
    #[serde(default)]
    pub confirms: Option<String>,
}

fn default_deadline_ms() -> u64 {
    5_000
}

/// `approval`: financial control in front of a target. The document (after
/// enrichment) goes to a validator plugin; no violations -> approved
/// automatically and delivered; any violation, or a missing quote -> an
/// exception, not delivered, until an operator approves or rejects it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalConfig {
    /// The validator, e.g. `charge-tolerance` with its tolerance settings.
    pub validator: PluginRef,
    /// Where the figures to compare against come from.
    #[serde(default)]
    pub quote: Option<QuoteRef>,
    /// Recorded as the approver of automatic approvals.
    #[serde(default = "default_auto_approver")]
    pub approved_by: String,
}

fn default_auto_approver() -> String {
    "policy:auto-within-tolerance".to_owned()
}

/// Copies part of a confirmed document (e.g. the TMS booking's quoted
/// charges) into the document under approval.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteRef {
    /// The system whose confirmed state holds the quote, e.g. `acme-tms`.
    pub system: String,
    /// JSON pointer, in the document under approval, to the business id of
    /// the confirmed state (e.g. `/order_id`).
    pub key: String,
    /// JSON pointer into the confirmed document (e.g. `/booking/quoted_charges`).
    pub from: String,
    /// JSON pointer where it goes in the document (e.g. `/reference_charges`).
    pub into: String,
}

/// `dedupe`: the same line (same business key and the listed fields)
/// reaching a target twice is an exception, not a second posting.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DedupeConfig {
    /// JSON pointer to the array of lines, e.g. `/charges` or `/lines`.
    pub items: String,
    /// JSON pointers, relative to one line, that make up its identity.
    pub fields: Vec<String>,
}

/// `ordering`: protection against late or out-of-order events.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OrderingConfig {
    /// JSON pointer to the event's RFC 3339 time, e.g. `/event_time`.
    pub event_time: String,
    /// What happens to an event older than the last one sent for its key.
    #[serde(default)]
    pub on_stale: StalePolicy,
}

/// What to do with a stale event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StalePolicy {
    /// Record it as an exception (reason `stale-event`), do not send it.
    #[default]
    Exception,
    /// Record it in the processing trail and drop it.
    Drop,
}

/// `compensation`: when the target refuses a delivery for good, or an
/// operator rejects the exception, this message undoes what already
/// happened elsewhere (e.g. a credit note to billing).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CompensationConfig {
    /// The target that receives the compensating message.
    pub target: String,
    /// Maps the canonical document into it.
    pub outbound: PluginRef,
}

/// `confirms`: on acknowledgement, record the document as what `system`
/// now holds for its business key (reconciliation and the demo read it).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmConfig {
    /// System name, e.g. `erp`.
    pub system: String,
}

/// `[sync.<job>]`: pulls reference data (customers, carriers) from a
/// snapshot endpoint, maps it, and ingests only the records whose content
/// changed since the last run as messages of source `sync.<job>` — routes
/// on that source deliver them with the usual guarantees.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SyncJobConfig {
    /// The snapshot endpoint (NDJSON).
    pub url: String,
    /// Maps a page of snapshot lines into canonical records.
    pub plugin: PluginRef,
    /// The message kind handed to the plugin.
    pub kind: String,
    /// Run every this many seconds; absent = only `waybill sync run <job>`.
    #[serde(default)]
    pub schedule_secs: Option<u64>,
    /// Lines per plugin call.
    #[serde(default = "default_page_lines")]
    pub page_lines: usize,
    /// Bearer token for the snapshot endpoint.
    #[serde(default)]
    pub token: Option<super::secret::Secret>,
    /// Private CA / client certificate for an `https://` url.
    #[serde(default)]
    pub tls: Option<super::outbound_tls::ClientTlsConfig>,
}

fn default_page_lines() -> usize {
    500
}
