//! Outbound mapper, the compensation of the invoice flow: canonical
//! `invoice@1.x` -> Ledgerly credit note (`vendor:ledgerly.credit-note@1`).
//!
//! When the ERP refuses an AR posting, or an operator rejects it, the invoice
//! Ledgerly already issued must be voided so that billing and receivables
//! agree again. The host runs this plugin on the invoice that failed to post;
//! it credits the whole invoice.
//!
//! Field rules:
//! - `object` = `credit_note`; `invoice` = `invoice_id`; `order_ref` =
//!   `order_id` (required; also the business key);
//! - `amount` = `total_minor` (tax included; must be positive:
//!   `non-positive-amount` otherwise); `currency` lower-cased;
//! - `reason` = config `reason` (default `posting_rejected`; a lower-case
//!   snake_case code, else `invalid-input` naming `config/reason`);
//! - `memo` = the `x-waybill-compensation-reason` header when the host set
//!   one (e.g. the ERP's refusal), omitted otherwise.

mod credit_note;
mod reason;

pub use credit_note::{CREDIT_NOTE, CreditNote};

use waybill_sdk::canonical::{INVOICE, Invoice, is_version_of};
use waybill_sdk::problems::{Problems, present};
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// The invoice versions this plugin reads.
pub const CONSUMES: [&str; 2] = [INVOICE, "invoice@1.0"];
/// Header carrying why the host compensates, copied into `memo`.
pub const COMPENSATION_REASON_HEADER: &str = "x-waybill-compensation-reason";

/// The Ledgerly credit note mapper.
pub struct LedgerlyCreditNote;

impl Plugin for LedgerlyCreditNote {
    fn describe() -> PluginInfo {
        PluginInfo::mapper(
            "ledgerly-credit-note",
            env!("CARGO_PKG_VERSION"),
            &CONSUMES,
            &[CREDIT_NOTE],
        )
        .with_config_keys(&[reason::REASON_KEY])
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        if !is_version_of(&input.kind, "invoice", 1) {
            return Err(PluginError::unsupported(format!(
                "ledgerly-credit-note maps invoice@1 documents, not {:?}",
                input.kind
            )));
        }
        if !input.is_json() {
            return Err(PluginError::unsupported(format!(
                "content type {:?} is not JSON",
                input.content_type
            )));
        }
        let reason = reason::from_config()?;
        let invoice: Invoice = input.json()?;
        let memo = present(input.header(COMPENSATION_REASON_HEADER)).map(|m| m.trim().to_string());
        let note = to_credit_note(&invoice, reason, memo)?;
        Ok(vec![Output::json(CREDIT_NOTE, &note.order_ref, &note)?])
    }
}

waybill_sdk::export!(LedgerlyCreditNote);

/// The credit note voiding `invoice`.
pub fn to_credit_note(
    invoice: &Invoice,
    reason: String,
    memo: Option<String>,
) -> Result<CreditNote, PluginError> {
    let mut p = Problems::default();
    let order_ref = match present(invoice.order_id.as_deref()) {
        Some(order) => order.trim().to_string(),
        None => {
            p.push(
                "/order_id",
                "required",
                "Ledgerly credit notes reference the order; this invoice has no order_id",
            );
            String::new()
        }
    };
    if invoice.total_minor <= 0 {
        p.push(
            "/total_minor",
            "non-positive-amount",
            format!(
                "invoice {} totals {}; only a positive total can be credited",
                invoice.invoice_id, invoice.total_minor
            ),
        );
    }
    p.finish(CreditNote {
        object: "credit_note",
        invoice: invoice.invoice_id.clone(),
        order_ref,
        reason,
        amount: invoice.total_minor,
        currency: invoice.currency.to_ascii_lowercase(),
        memo,
    })
}
