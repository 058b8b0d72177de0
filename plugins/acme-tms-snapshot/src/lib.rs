//! Maps a page of the Acme TMS shipments snapshot
//! (`GET /v2/snapshots/shipments`, kind `acme-tms.snapshot`) onto one
//! canonical `entity-snapshot@1.0` per shipment, for reconciliation.
//!
//! Reconciliation compares what the ERP, the TMS and billing say about each
//! order. The TMS knows an order as the shipment it booked for it, so each
//! shipment becomes a snapshot of entity `order` keyed by the ERP order id
//! it carries (`externalRef`). A run hands the plugin pages of about a
//! thousand NDJSON lines, a million records per system, so lines are parsed
//! into borrowed, typed structs and nothing else is built per line but the
//! output.
//!
//! Rules (every line is a shipment):
//! - `id` = `externalRef` (required: a shipment without the order id cannot
//!   be reconciled);
//! - `status` = `status`, which must be a canonical milestone code (Acme's
//!   codes are; `unknown-status` otherwise);
//! - `amount_minor` / `currency` = `finalCharges` when present: `amount` a
//!   decimal string in minor units of `currency` (both required inside
//!   `finalCharges`, the currency upper-cased; never through floating point);
//! - attributes `consignee_name` = `consignee.name`, `tms_shipment_id` =
//!   `tmsShipmentId`, `carrier_scac` = `carrier.scac`, `pro_number` =
//!   `proNumber`, each when present;
//! - `updated_at` = `updatedAt` when present, RFC 3339 with an offset;
//! - blank strings count as absent; values are trimmed.
//!
//! Business key `order:<externalRef>`. Problems are `invalid-input` at
//! `/line/<n>/<field>` (1-based line numbers, Acme's camelCase field names);
//! every bad line of the page is listed in one error. Blank lines are
//! skipped; an empty page maps to nothing. The content type is not checked
//! (the snapshot endpoint answers `application/x-ndjson`).
//!
//! Configuration: `system` — the name written into each snapshot's `system`
//! (default `tms`).

mod mapping;
mod record;

use waybill_sdk::snapshot::SnapshotMapper;
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// The message kind this plugin consumes: one page of the shipments snapshot.
pub const KIND: &str = "acme-tms.snapshot";
/// The `system` written into snapshots unless configured otherwise.
pub const DEFAULT_SYSTEM: &str = "tms";

/// The Acme TMS shipments snapshot mapper.
pub struct AcmeSnapshot;

/// The page kind, name and default system around the per-line mapping.
const MAPPER: SnapshotMapper = SnapshotMapper {
    name: "acme-tms-snapshot",
    kind: KIND,
    default_system: DEFAULT_SYSTEM,
};

impl Plugin for AcmeSnapshot {
    fn describe() -> PluginInfo {
        MAPPER.describe(env!("CARGO_PKG_VERSION"))
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        MAPPER.map(input, |line, system| {
            let shipment: record::Shipment = line.parse()?;
            mapping::to_snapshot(&line, &shipment, system)?.to_output()
        })
    }
}

waybill_sdk::export!(AcmeSnapshot);
