//! Outbound mapper: canonical `invoice@1.x` -> Northwind ERP AR posting
//! (`vendor:northwind-erp.ar-posting@1`).
//!
//! Northwind ERP owns receivables; it accepts a sales invoice only once it is
//! GL-coded and approved. This plugin is the last step of the invoice flow
//! (Ledgerly -> `ledgerly-invoice-ready` -> `gl-tax-coding` -> approval ->
//! here) and refuses anything not ready to post rather than letting the ERP
//! book it half-coded.
//!
//! Field rules:
//! - `posting_type` = `sales_invoice`; `customer` = `customer_id`;
//!   `sales_order` = `order_id` (required; also the business key);
//!   `invoice_no` = `invoice_id`; `currency` = `currency`;
//! - `posting_date` = `issue_date`, else the date part of
//!   `source_created_at`, else `required` at `/issue_date`;
//! - each line: `item_code` (required), `description` (`null` when absent),
//!   `amount` as a decimal string in the currency's places, `gl_account`
//!   (required: the invoice must have been through GL coding);
//! - each tax: `account` (required), `rate` = `rate_bps` / 100 as a number
//!   of percent (`null` when absent), `amount` as a decimal string;
//! - `grand_total` = `total_minor`, which must equal lines + taxes;
//! - `approval` = `{status: APPROVED, approved_by}` from the invoice's
//!   `approval`, else from the `x-waybill-approved-by` header the host's
//!   approval step sets (`policy:auto-within-tolerance`, `user:alice`);
//!   neither is `not-approved` at `/approval`.
//!
//! Problems are `invalid-input` errors naming the invoice field, all at
//! once. No configuration.

mod mapping;
mod posting;

pub use mapping::APPROVED_BY_HEADER;
pub use posting::AR_POSTING;

use waybill_sdk::canonical::{INVOICE, Invoice, is_version_of};
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// The invoice versions this plugin reads.
pub const CONSUMES: [&str; 2] = [INVOICE, "invoice@1.0"];

/// The Northwind AR posting mapper.
pub struct NorthwindArPosting;

impl Plugin for NorthwindArPosting {
    fn describe() -> PluginInfo {
        PluginInfo::mapper(
            "northwind-ar-posting",
            env!("CARGO_PKG_VERSION"),
            &CONSUMES,
            &[AR_POSTING],
        )
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        if !is_version_of(&input.kind, "invoice", 1) {
            return Err(PluginError::unsupported(format!(
                "northwind-ar-posting maps invoice@1 documents, not {:?}",
                input.kind
            )));
        }
        if !input.is_json() {
            return Err(PluginError::unsupported(format!(
                "content type {:?} is not JSON",
                input.content_type
            )));
        }
        let invoice: Invoice = input.json()?;
        let posting = mapping::to_posting(&invoice, input.header(APPROVED_BY_HEADER))?;
        Ok(vec![Output::json(
            AR_POSTING,
            &posting.sales_order,
            &posting,
        )?])
    }
}

waybill_sdk::export!(NorthwindArPosting);
