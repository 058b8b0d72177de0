//! Enrichment mapper (canonical -> canonical): GL-codes an invoice and
//! completes its taxes, `invoice@1.0`/`invoice@1.1` -> `invoice@1.1`.
//!
//! Billing systems compose invoices in their own item codes; the ERP posts
//! them to GL accounts. Which canonical charge code posts to which revenue
//! account, which account taxes post to and what tax an untaxed invoice
//! carries are the finance team's decisions, held in configuration here so
//! that every outbound posting plugin receives an invoice already coded.
//!
//! Configuration (per route):
//! - `gl_accounts` (required): `CODE=ACCOUNT` pairs separated by commas,
//!   codes being canonical charge codes or `*` for the default, e.g.
//!   `LINEHAUL=4100-FREIGHT-REV,FUEL=4110-FUEL-REV,*=4190-OTHER-FREIGHT-REV`;
//! - `tax_rate_bps`: whole basis points (0-10000), required when the invoice
//!   has no taxes; 0 adds no tax;
//! - `tax_account`: the GL tax account, required when the coded invoice has
//!   any tax.
//!
//! Bad values are `invalid-input` naming `config/<key>`.
//!
//! Rules:
//! - every line's `gl_account` is set (overwritten) from `gl_accounts`: its
//!   code's account, else the default; neither is `no-gl-account` at
//!   `/lines/<i>/code`;
//! - the input must add up: `subtotal_minor`, when present, equals the sum of
//!   the lines, and `total_minor` equals that sum plus the input taxes
//!   (`total-mismatch` otherwise);
//! - an invoice without taxes gets one computed at `tax_rate_bps` on the
//!   subtotal, rounded half-up (halves away from zero); every tax gets
//!   `account` = `tax_account`;
//! - `subtotal_minor` and `total_minor` (subtotal + taxes) are written back.
//!
//! The business key is the order id, as for every document of the finance
//! flow, so an invoice without `order_id` is refused. Everything else
//! (quote, approval, dates, ids) passes through unchanged.

mod accounts;
mod coding;
mod settings;
mod tax;

use waybill_sdk::canonical::{INVOICE, Invoice, is_version_of};
use waybill_sdk::problems::Problems;
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// The invoice versions this plugin reads.
pub const CONSUMES: [&str; 2] = [INVOICE, "invoice@1.0"];

/// The GL and tax coding mapper.
pub struct GlTaxCoding;

impl Plugin for GlTaxCoding {
    fn describe() -> PluginInfo {
        PluginInfo::mapper(
            "gl-tax-coding",
            env!("CARGO_PKG_VERSION"),
            &CONSUMES,
            &[INVOICE],
        )
        .with_config_keys(&[
            accounts::GL_ACCOUNTS_KEY,
            tax::TAX_RATE_KEY,
            tax::TAX_ACCOUNT_KEY,
        ])
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        if !is_version_of(&input.kind, "invoice", 1) {
            return Err(PluginError::unsupported(format!(
                "gl-tax-coding maps invoice@1 documents, not {:?}",
                input.kind
            )));
        }
        if !input.is_json() {
            return Err(PluginError::unsupported(format!(
                "content type {:?} is not JSON",
                input.content_type
            )));
        }
        let mut problems = Problems::default();
        let settings = settings::read(&mut problems);
        let invoice: Invoice = input.json()?;
        let coded = coding::code(invoice, &settings, problems)?;
        let key = coded.order_id.clone().unwrap_or_default();
        Ok(vec![Output::json(INVOICE, &key, &coded)?])
    }
}

waybill_sdk::export!(GlTaxCoding);
