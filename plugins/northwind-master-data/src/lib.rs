//! Maps a page of the Northwind ERP master data snapshot
//! (`GET /api/snapshots/master-data`, kind `northwind-erp.master-data`) onto
//! canonical `customer@1.0` and `carrier@1.0` records, one per line, for
//! reference data sync.
//!
//! The ERP masters customers and carriers; the TMS and billing keep copies.
//! Reference sync reads the ERP's snapshot, and this plugin turns each line
//! into the canonical record the outbound plugins (`acme-tms-reference`,
//! `ledgerly-reference`) push on. It holds the ERP side: its record types,
//! field names and spellings.
//!
//! Rules (by `record_type`, required; anything else is `unknown-record-type`):
//! - `customer` -> `customer@1.0`: `customer_id` = `customer` (required),
//!   `source` = `northwind-erp` + the customer number, `name` (required),
//!   `legal_name`, `tax_id`, `payment_terms` as given; `currency` upper-cased
//!   (ISO 4217, `invalid-currency` otherwise); `status` `ACTIVE`, `ON_HOLD`
//!   or `INACTIVE` (`unknown-status` otherwise); `billing_address` -> the
//!   canonical location (`line1` -> `address_line1`, `state` -> `region`,
//!   `postal_code`, `city`, `country` as an ISO 3166-1 alpha-2 code: a code
//!   or a country name as the ERP spells them elsewhere, read with the SDK's
//!   `country` table as `northwind-order-released` reads them,
//!   `unknown-country` otherwise); business key `customer:<customer>`;
//! - `carrier` -> `carrier@1.0`: `carrier_scac` = `scac` upper-cased (2-4
//!   letters, `invalid-scac` otherwise), `source` = `northwind-erp` + the
//!   SCAC, `name` (required), `status` as for customers, `mc_number`;
//!   business key `carrier:<scac>`;
//! - `updated_at` is not mapped: the canonical records have no such field;
//! - blank strings count as absent; values are trimmed.
//!
//! Problems are `invalid-input` at `/line/<n>/<field>` (1-based line
//! numbers); every bad line of the page is listed in one error. Blank lines
//! are skipped; an empty page maps to nothing. No configuration.

mod mapping;
mod record;

use waybill_sdk::master_data::{CARRIER, CUSTOMER};
use waybill_sdk::ndjson::{map_lines, page_body};
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// The message kind this plugin consumes: one page of the master data
/// snapshot.
pub const KIND: &str = "northwind-erp.master-data";

/// The Northwind ERP master data mapper.
pub struct NorthwindMasterData;

impl Plugin for NorthwindMasterData {
    fn describe() -> PluginInfo {
        PluginInfo::mapper(
            "northwind-master-data",
            env!("CARGO_PKG_VERSION"),
            &[KIND],
            &[CUSTOMER, CARRIER],
        )
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        let page = page_body(input, "northwind-master-data", KIND)?;
        map_lines(page, |line| {
            let record: record::Record = line.parse()?;
            mapping::to_output(&line, &record)
        })
    }
}

waybill_sdk::export!(NorthwindMasterData);
