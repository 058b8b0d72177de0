//! Maps a page of the Northwind ERP orders snapshot
//! (`GET /api/snapshots/orders`, kind `northwind-erp.snapshot`) onto one
//! canonical `entity-snapshot@1.0` per line, for reconciliation.
//!
//! Reconciliation compares what the ERP, the TMS and billing say about each
//! order and invoice; this plugin holds the ERP side: its two record types,
//! its status vocabulary and its decimal-string amounts. A run hands it pages
//! of about a thousand NDJSON lines, a million records per system, so lines
//! are parsed into borrowed, typed structs and nothing else is built per line
//! but the output.
//!
//! Rules (by `record_type`, required; anything else is `unknown-record-type`):
//! - `sales_order` -> entity `order`: `id` = `sales_order` (required);
//!   `status` = `logistics_status`, which must be `RELEASED` or a canonical
//!   milestone code (`unknown-status` otherwise); attributes `consignee_name`
//!   = `ship_to_name`, `customer_id` = `customer`, `tms_shipment_id` when
//!   present;
//! - `ar_invoice` -> entity `invoice`: `id` = `invoice_no` (required);
//!   `amount_minor` = the decimal string `grand_total` in minor units of
//!   `currency` (required with an amount, upper-cased; never through floating
//!   point); `status` `POSTED` or `REVERSED`; attributes `order_id` =
//!   `sales_order`, `customer_id` = `customer`;
//! - `updated_at` is kept when present and must be RFC 3339 with an offset;
//! - blank strings count as absent; values are trimmed.
//!
//! Business key `<entity>:<id>`. Problems are `invalid-input` at
//! `/line/<n>/<field>` (1-based line numbers); every bad line of the page is
//! listed in one error. Blank lines are skipped; an empty page maps to
//! nothing. The content type is not checked (the snapshot endpoint answers
//! `application/x-ndjson`).
//!
//! Configuration: `system` — the name written into each snapshot's `system`
//! (default `erp`).

mod mapping;
mod record;

use waybill_sdk::snapshot::SnapshotMapper;
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// The message kind this plugin consumes: one page of the orders snapshot.
pub const KIND: &str = "northwind-erp.snapshot";
/// The `system` written into snapshots unless configured otherwise.
pub const DEFAULT_SYSTEM: &str = "erp";

/// The Northwind ERP orders snapshot mapper.
pub struct NorthwindSnapshot;

/// The page kind, name and default system around the per-line mapping.
const MAPPER: SnapshotMapper = SnapshotMapper {
    name: "northwind-snapshot",
    kind: KIND,
    default_system: DEFAULT_SYSTEM,
};

impl Plugin for NorthwindSnapshot {
    fn describe() -> PluginInfo {
        MAPPER.describe(env!("CARGO_PKG_VERSION"))
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        MAPPER.map(input, |line, system| {
            let record: record::Record = line.parse()?;
            mapping::to_snapshot(&line, &record, system)?.to_output()
        })
    }
}

waybill_sdk::export!(NorthwindSnapshot);
