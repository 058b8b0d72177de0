//! Outbound mapper: canonical `charge-package@1.x` -> Ledgerly
//! `POST /v1/shipment_charges` (`vendor:ledgerly.shipment-charges@1`).
//!
//! Once a shipment's carrier charges are approved (within tolerance of the
//! quote, or released by an operator), billing needs them to compose the
//! customer invoice. This plugin holds Ledgerly's side: its SKUs, its
//! Stripe-like amounts (integer minor units, quantity, lower-case currency).
//!
//! Field rules:
//! - `object` = `shipment_charges`; `order_ref` = `order_id` (required; also
//!   the business key); `bol` = `shipment_id`; `currency` lower-cased;
//! - `shipment_ref` (the TMS shipment id) is omitted: `charge-package@1.0`
//!   does not carry the TMS id, and neither the BOL nor the source event id
//!   is one, so sending either would mislabel the shipment in Ledgerly;
//! - one line item per charge, in order: `sku` from the canonical code
//!   (LINEHAUL `FRT-LINEHAUL`, FUEL `FRT-FUEL`, LIFTGATE `FRT-LIFTGATE`,
//!   EXPEDITE `FRT-EXPEDITE`, DETENTION `FRT-DETENTION`, RESIDENTIAL
//!   `FRT-RESIDENTIAL`, INSIDE_DELIVERY `FRT-INSIDE`, DISCOUNT
//!   `FRT-DISCOUNT`, OTHER `FRT-OTHER`), `description` = Ledgerly's printed
//!   name of the SKU (for `FRT-OTHER`: the charge's description and source
//!   code), `unit_amount` = `amount_minor`, `quantity` = 1;
//! - a TAX charge is `unsupported-code` (Ledgerly computes tax itself); a
//!   line in another currency is `mixed-currency`; no charges is `empty`;
//!   `total_minor` must be the sum of the charges (`total-mismatch`).
//!
//! Only `charges` are billed; `reference_charges` (the quote) are not.
//! No configuration.

mod mapping;
mod request;
mod sku;

pub use request::SHIPMENT_CHARGES;

use waybill_sdk::canonical::{CHARGE_PACKAGE, ChargePackage, is_version_of};
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// The Ledgerly shipment charges mapper.
pub struct LedgerlyShipmentCharges;

impl Plugin for LedgerlyShipmentCharges {
    fn describe() -> PluginInfo {
        PluginInfo::mapper(
            "ledgerly-shipment-charges",
            env!("CARGO_PKG_VERSION"),
            &[CHARGE_PACKAGE],
            &[SHIPMENT_CHARGES],
        )
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        if !is_version_of(&input.kind, "charge-package", 1) {
            return Err(PluginError::unsupported(format!(
                "ledgerly-shipment-charges maps charge-package@1 documents, not {:?}",
                input.kind
            )));
        }
        if !input.is_json() {
            return Err(PluginError::unsupported(format!(
                "content type {:?} is not JSON",
                input.content_type
            )));
        }
        let package: ChargePackage = input.json()?;
        let request = mapping::to_request(&package)?;
        Ok(vec![Output::json(
            SHIPMENT_CHARGES,
            &request.order_ref,
            &request,
        )?])
    }
}

waybill_sdk::export!(LedgerlyShipmentCharges);
