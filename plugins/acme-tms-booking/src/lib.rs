//! Maps the Acme TMS answer to a shipment request (`acme-tms.shipment-booking`)
//! onto one canonical `shipment-booking@1.0`.
//!
//! Booking is synchronous: Waybill sends Acme a shipment request and Acme
//! answers with the booked carrier, its numbers and a quote, or a refusal.
//! The answer alone cannot fill `shipment@1.0` (it carries no stops, handling
//! units or service level, and inventing them is not an option), so it maps
//! onto the small `shipment-booking@1.0` instead. The quote becomes canonical
//! charge lines that `charge-tolerance` reads directly: they can be copied as
//! they are into `reference_charges` of a charge package or an invoice. Acme
//! quotes with the charge codes and line rules of its final charges, so both
//! are read by `waybill-acme-tms` (`plugins/acme-tms-format`), shared with
//! `acme-tms-charges`.
//!
//! Field rules:
//! - `order_id` (and the business key) = `externalRef` (required);
//!   `shipment_id` = `bol` and `tms_shipment_id` = `tmsShipmentId` when sent;
//!   `source` = `acme-tms` with `tmsShipmentId`, or `externalRef` when Acme
//!   assigned no id; `source_status` = Acme's `status` as sent;
//! - `status` `BOOKED` (any case) -> `BOOKED`: `tmsShipmentId`,
//!   `carrier.scac` (upper-cased, 2-4 letters) and at least one quoted charge
//!   are required; `carrier_name` = `carrier.name`, `pro_number` =
//!   `proNumber`, `estimated_delivery` = `estimatedDelivery` (RFC 3339 with
//!   an offset, else `invalid-time`);
//! - each quoted charge: `charge_id` = `<bol, else tmsShipmentId>:quoted:<line
//!   from 1>`, the canonical code (Acme's codes; unknown ones are
//!   `unknown-code`), `source_code` = Acme's code, `description` = `note`,
//!   `amount` (decimal string) in minor units of its currency, source
//!   `quoted`; a `DISCOUNT` must be negative; one currency for the whole
//!   quote (`currency`), `quoted_total_minor` = the sum;
//! - any other `status` -> `REJECTED` with `rejection.message` = `reason`
//!   (required) and `rejection.reason_code` = `reasonCode` when sent.
//!
//! Problems are `invalid-input` errors naming the Acme field by JSON pointer,
//! all of them at once. No configuration.

mod answer;
mod booking;
mod mapping;

pub use booking::SHIPMENT_BOOKING;

use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// The message kind this plugin consumes.
pub const KIND: &str = "acme-tms.shipment-booking";

/// The Acme TMS booking answer mapper.
pub struct AcmeBooking;

impl Plugin for AcmeBooking {
    fn describe() -> PluginInfo {
        PluginInfo::mapper(
            "acme-tms-booking",
            env!("CARGO_PKG_VERSION"),
            &[KIND],
            &[SHIPMENT_BOOKING],
        )
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        input.expect_kind("acme-tms-booking", KIND)?;
        input.expect_json()?;
        let answer: answer::BookingAnswer = input.json()?;
        let booking = mapping::to_booking(&answer)?;
        Ok(vec![Output::json(
            SHIPMENT_BOOKING,
            &booking.order_id,
            &booking,
        )?])
    }
}

waybill_sdk::export!(AcmeBooking);
