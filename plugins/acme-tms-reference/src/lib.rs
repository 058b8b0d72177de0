//! Outbound mapper: canonical `customer@1.x` and `carrier@1.x` -> the Acme TMS
//! reference data body (`POST /v2/reference`,
//! `vendor:acme-tms.reference@1`).
//!
//! The ERP masters customers and carriers; the TMS needs its own copy to book
//! shipments (bill-to customers, carriers it may tender to). This plugin is
//! the only place that knows Acme's reference format: one record per
//! request, camelCase, with a `type` and an `active` flag instead of a
//! status.
//!
//! Rules:
//! - the message kind is the document's schema id: any `customer@1.<minor>`
//!   or `carrier@1.<minor>` (newer minors only add optional fields, which are
//!   ignored); anything else, or a non-JSON content type, is `unsupported`;
//! - customer: `type` = `customer`, `customerCode` = `customer_id`, `name`,
//!   `billingAddress` from `billing_address` (`address_line1` -> `line1`,
//!   `region` -> `state`, `postal_code` -> `postalCode`, `city`, `country`;
//!   absent when the customer has none), `active` = status is not
//!   `INACTIVE` (an `ON_HOLD` customer is on credit hold, billing's concern:
//!   its released orders must still ship);
//! - carrier: `type` = `carrier`, `scac` = `carrier_scac`, `name`,
//!   `mcNumber` = `mc_number` when known, `active` = status is `ACTIVE` or
//!   unknown (an `ON_HOLD` carrier must not be tendered to);
//! - `customer_id` / `carrier_scac` and `name` must not be blank
//!   (`invalid-input` naming the field); optional fields are omitted, never
//!   sent as `null`.
//!
//! Business key `customer:<customer_id>` / `carrier:<carrier_scac>`, so the
//! updates of one record reach the TMS in order. No configuration.

mod body;

use waybill_sdk::master_data::{CARRIER, CUSTOMER, Carrier, Customer, MasterRecord};
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// Schema id of the body Acme accepts on `POST /v2/reference`.
pub const ACME_REFERENCE: &str = "vendor:acme-tms.reference@1";

/// The plugin.
pub struct AcmeReference;

impl Plugin for AcmeReference {
    fn describe() -> PluginInfo {
        PluginInfo::mapper(
            "acme-tms-reference",
            env!("CARGO_PKG_VERSION"),
            &[CUSTOMER, CARRIER],
            &[ACME_REFERENCE],
        )
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        match MasterRecord::of(input, "acme-tms-reference")? {
            MasterRecord::Customer => {
                let customer: Customer = input.json()?;
                let body = body::customer(&customer)?;
                let key = format!("customer:{}", body.customer_code);
                Ok(vec![Output::json(ACME_REFERENCE, &key, &body)?])
            }
            MasterRecord::Carrier => {
                let carrier: Carrier = input.json()?;
                let body = body::carrier(&carrier)?;
                let key = format!("carrier:{}", body.scac);
                Ok(vec![Output::json(ACME_REFERENCE, &key, &body)?])
            }
        }
    }
}

waybill_sdk::export!(AcmeReference);
