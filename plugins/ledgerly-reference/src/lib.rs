//! Outbound mapper: canonical `customer@1.x` -> the Ledgerly Billing customer
//! body (`POST /v1/customers`, `vendor:ledgerly.customer@1`).
//!
//! The ERP masters customers; billing keeps a copy to invoice them. This
//! plugin is the only place that knows Ledgerly's customer format: Stripe-
//! like, lower-case currency, and a `delinquent` flag for credit holds.
//!
//! Rules:
//! - the message kind is the document's schema id: any `customer@1.<minor>`
//!   or `carrier@1.<minor>` (newer minors only add optional fields, which are
//!   ignored); anything else, or a non-JSON content type, is `unsupported`;
//! - a carrier gives **no output** (`Ok` with nothing): billing keeps no
//!   carriers, and routing master data to it unfiltered must not fail;
//! - customer: `object` = `customer`, `id` = `customer_id`, `name`,
//!   `currency` lower-cased, `tax_id`, `address` from `billing_address`
//!   (`address_line1` -> `line1`, `region` -> `state`, `postal_code`,
//!   `city`, `country`), `delinquent` = status is `ON_HOLD` (Ledgerly has no
//!   inactive flag: an `INACTIVE` customer is not delinquent);
//! - `customer_id` and `name` must not be blank (`invalid-input` naming the
//!   field); optional fields are omitted, never sent as `null`.
//!
//! Business key `customer:<customer_id>`, so the updates of one customer
//! reach billing in order. No configuration.

mod body;

use waybill_sdk::master_data::{CARRIER, CUSTOMER, Customer, MasterRecord};
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// Schema id of the body Ledgerly accepts on `POST /v1/customers`.
pub const LEDGERLY_CUSTOMER: &str = "vendor:ledgerly.customer@1";

/// The plugin.
pub struct LedgerlyReference;

impl Plugin for LedgerlyReference {
    fn describe() -> PluginInfo {
        PluginInfo::mapper(
            "ledgerly-reference",
            env!("CARGO_PKG_VERSION"),
            &[CUSTOMER, CARRIER],
            &[LEDGERLY_CUSTOMER],
        )
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        match MasterRecord::of(input, "ledgerly-reference")? {
            MasterRecord::Customer => {
                let customer: Customer = input.json()?;
                let body = body::customer(&customer)?;
                let key = format!("customer:{}", body.id);
                Ok(vec![Output::json(LEDGERLY_CUSTOMER, &key, &body)?])
            }
            // Billing keeps no carriers: nothing to send, and not an error.
            MasterRecord::Carrier => Ok(Vec::new()),
        }
    }
}

waybill_sdk::export!(LedgerlyReference);
