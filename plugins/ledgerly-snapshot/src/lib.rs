//! Maps a page of the Ledgerly invoices snapshot
//! (`GET /v1/invoices?format=ndjson`, kind `ledgerly.snapshot`) onto one
//! canonical `entity-snapshot@1.0` per invoice, for reconciliation.
//!
//! Reconciliation compares what billing and the ERP say about each invoice
//! (and billing's view of the order behind it). This plugin holds the
//! Ledgerly side: its Stripe-like records (`object`, lower-case currency and
//! status, integer minor units, Unix-second timestamps). A run hands it
//! pages of about a thousand NDJSON lines, a million records per system, so
//! lines are parsed into borrowed, typed structs and nothing else is built
//! per line but the output.
//!
//! Rules (`object` is required and must be `invoice`; anything else is
//! `unknown-record-type`):
//! - entity `invoice`, `id` = `number` (required);
//! - `amount_minor` = `total` (already integer minor units; a JSON integer),
//!   `currency` = `currency` upper-cased (required with a total);
//! - `status`: `open` -> `OPEN`, `paid` -> `PAID`, `void` -> `VOID`
//!   (`unknown-status` otherwise);
//! - attributes `order_id` = `order_ref`, `customer_id` = `account`,
//!   `tms_shipment_id` = `shipment_ref`, `consignee_name` = `ship_to_name`,
//!   each when present;
//! - `updated_at` = `updated` (Unix seconds) as RFC 3339 UTC (`...Z`);
//! - blank strings count as absent; values are trimmed.
//!
//! Business key `invoice:<number>`. Problems are `invalid-input` at
//! `/line/<n>/<field>` (1-based line numbers); every bad line of the page is
//! listed in one error. Blank lines are skipped; an empty page maps to
//! nothing. The content type is not checked (the snapshot endpoint answers
//! NDJSON).
//!
//! Configuration: `system` — the name written into each snapshot's `system`
//! (default `billing`).

mod mapping;
mod record;

use waybill_sdk::snapshot::SnapshotMapper;
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// The message kind this plugin consumes: one page of the invoices snapshot.
pub const KIND: &str = "ledgerly.snapshot";
/// The `system` written into snapshots unless configured otherwise.
pub const DEFAULT_SYSTEM: &str = "billing";

/// The Ledgerly invoices snapshot mapper.
pub struct LedgerlySnapshot;

/// The page kind, name and default system around the per-line mapping.
const MAPPER: SnapshotMapper = SnapshotMapper {
    name: "ledgerly-snapshot",
    kind: KIND,
    default_system: DEFAULT_SYSTEM,
};

impl Plugin for LedgerlySnapshot {
    fn describe() -> PluginInfo {
        MAPPER.describe(env!("CARGO_PKG_VERSION"))
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        MAPPER.map(input, |line, system| {
            let invoice: record::Invoice = line.parse()?;
            mapping::to_snapshot(&line, &invoice, system)?.to_output()
        })
    }
}

waybill_sdk::export!(LedgerlySnapshot);
