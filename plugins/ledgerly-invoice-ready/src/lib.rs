//! Maps Ledgerly's invoice-ready event (`ledgerly.invoice-ready`) onto one
//! canonical `invoice@1.1`.
//!
//! Ledgerly composes the customer invoice for a shipment; before it posts to
//! ERP receivables it is GL-coded (`gl-tax-coding`), compared with the quote
//! (`charge-tolerance`) and approved. This plugin holds the Ledgerly side:
//! its event shape, its freight SKUs and its arithmetic (integer minor units,
//! lower-case currency, one tax over the invoice).
//!
//! Field rules:
//! - only `type` `invoice.ready` is mapped; others are `unsupported`;
//! - `source` = `ledgerly` with the event `id`; `source_created_at` =
//!   `created` (Unix seconds) as an RFC 3339 UTC time; no `issue_date`
//!   (Ledgerly sends none);
//! - `invoice_id` = `invoice.number`, `customer_id` = `account`, `order_id`
//!   (and the business key: approval looks the quote up by order) =
//!   `order_ref`, all required; `tms_shipment_id` = `shipment_ref`;
//!   `currency` upper-cased; `due_date` kept (`YYYY-MM-DD`);
//! - each line item, numbered from 1: `code` from the SKU (`FRT-LINEHAUL`
//!   LINEHAUL, `FRT-FUEL` FUEL, `FRT-LIFTGATE` LIFTGATE, `FRT-EXPEDITE`
//!   EXPEDITE, `FRT-DETENTION` DETENTION, `FRT-RESIDENTIAL` RESIDENTIAL,
//!   `FRT-INSIDE` INSIDE_DELIVERY, `FRT-DISCOUNT` DISCOUNT, anything else
//!   OTHER), `item_code` = `sku`, `description`, `quantity` (a whole number,
//!   1 when absent), `unit_amount_minor` = `unit_amount`, `amount_minor` =
//!   `unit_amount` x `quantity`; a discount must be negative;
//! - `taxes` = `tax` (`rate_bps`, `amount`) when sent; `subtotal_minor` = the
//!   sum of the lines; `total_minor` = `total`, which must equal subtotal +
//!   tax (`total-mismatch` at `/invoice/total`).
//!
//! Problems are `invalid-input` errors naming the Ledgerly field by JSON
//! pointer, all of them at once. No configuration.

mod event;
mod mapping;
mod sku;

use waybill_sdk::canonical::INVOICE;
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// The message kind this plugin consumes.
pub const KIND: &str = "ledgerly.invoice-ready";

/// The Ledgerly invoice-ready mapper.
pub struct LedgerlyInvoiceReady;

impl Plugin for LedgerlyInvoiceReady {
    fn describe() -> PluginInfo {
        PluginInfo::mapper(
            "ledgerly-invoice-ready",
            env!("CARGO_PKG_VERSION"),
            &[KIND],
            &[INVOICE],
        )
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        input.expect_kind("ledgerly-invoice-ready", KIND)?;
        input.expect_json()?;
        let envelope: event::Envelope = input.json()?;
        match envelope.event_type.as_deref() {
            None | Some("") => return Err(PluginError::missing("/type")),
            Some(event::EVENT_TYPE) => {}
            Some(other) => {
                return Err(PluginError::unsupported(format!(
                    "Ledgerly event type {other:?} is not {:?}",
                    event::EVENT_TYPE
                )));
            }
        }
        let event: event::InvoiceReady = input.json()?;
        let invoice = mapping::to_invoice(&event)?;
        let key = invoice.order_id.clone().unwrap_or_default();
        Ok(vec![Output::json(INVOICE, &key, &invoice)?])
    }
}

waybill_sdk::export!(LedgerlyInvoiceReady);
