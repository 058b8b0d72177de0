//! Maps Acme TMS final carrier charges (`CARRIER_CHARGES_FINAL`) onto one
//! canonical `charge-package@1.0` per shipment.
//!
//! After delivery Acme reports what the carrier finally charged. Billing and
//! the quote-tolerance check need those figures as integer minor units under
//! canonical charge codes; this plugin holds the Acme side of that: the event
//! shape and the package around the lines. The lines themselves (Acme's
//! charge codes, its rules: discounts are negative, one currency per
//! shipment) are read by `waybill-acme-tms` (`plugins/acme-tms-format`), the
//! same way `acme-tms-booking` reads a quote. Amounts arrive as decimal
//! strings and never pass through floating point.
//!
//! Field rules:
//! - only `eventType` `CARRIER_CHARGES_FINAL` is mapped; others are
//!   `unsupported`;
//! - `package_id` = `<bol>:carrier-final:<eventId>`; `shipment_id` (and the
//!   business key) = `shipment.bol`; `order_id` = `externalRef`;
//!   `carrier_scac` = `scac`; no invoice number (Acme sends none);
//! - each charge: `charge_id` = `<bol>:carrier-final:<line, from 1>`, the
//!   canonical code (unknown codes: `unknown-code` at `/charges/<i>/code`),
//!   `source_code` = Acme's code, `description` = `note`, `amount` in minor
//!   units of its currency (a string; more decimals than the currency has are
//!   refused); a `DISCOUNT` must be negative;
//! - at least one charge, all in one currency (the package's); `total_minor`
//!   is their sum.

mod event;
mod mapping;
pub(crate) use waybill_sdk::problems;

use waybill_sdk::canonical::CHARGE_PACKAGE;
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// The message kind this plugin consumes.
pub const KIND: &str = "acme-tms.carrier-charges";

/// The Acme TMS final carrier charges mapper.
pub struct AcmeCharges;

impl Plugin for AcmeCharges {
    fn describe() -> PluginInfo {
        PluginInfo::mapper(
            "acme-tms-charges",
            env!("CARGO_PKG_VERSION"),
            &[KIND],
            &[CHARGE_PACKAGE],
        )
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        input.expect_kind("acme-tms-charges", KIND)?;
        let envelope: event::Envelope = input.json()?;
        match envelope.event_type.as_deref() {
            None | Some("") => return Err(PluginError::missing("/eventType")),
            Some(event::EVENT_TYPE) => {}
            Some(other) => {
                return Err(PluginError::unsupported(format!(
                    "Acme eventType {other:?} is not final carrier charges ({:?})",
                    event::EVENT_TYPE
                )));
            }
        }
        let charges: event::ChargesFinal = input.json()?;
        let package = mapping::to_charge_package(&charges)?;
        Ok(vec![Output::json(
            CHARGE_PACKAGE,
            &package.shipment_id,
            &package,
        )?])
    }
}

waybill_sdk::export!(AcmeCharges);
