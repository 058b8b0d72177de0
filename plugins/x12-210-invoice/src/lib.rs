//! X12 210 (motor carrier freight invoice) -> canonical `charge-package@1.0`.
//!
//! Carriers bill freight as X12 210 transaction sets: B3 names the invoice,
//! the shipment (BOL) and the carrier, each LX loop holds L1 charge lines
//! with an optional L5 description, and B3-07/L3-05 state the totals. This
//! plugin turns each invoice into one canonical charge package, so billing
//! reconciliation never parses X12.
//!
//! - Shipment id is B3-03, invoice number B3-02, SCAC B3-11.
//! - Order id is L11-01 of an `L11*<order>*OQ` before the first LX, when
//!   the carrier echoes the shipper's order number (approval finds the quote by it).
//! - Each L1 is a charge: amount L1-04 (two implied decimals), code from the
//!   L1-08 special charge code ([`charge_codes`]; none means linehaul),
//!   description from the loop's L5-02, currency from C3-01 (USD without
//!   C3), id `<shipment_id>:carrier-final:<LX-01>`.
//! - The sum of the lines must equal B3-07 and L3-05 ([`totals`]); any
//!   mismatch is a typed error naming the field with both figures.
//!
//! Parsing is the shared `waybill-x12` crate's job.

pub mod amounts;
pub mod charge_codes;
pub mod map;
pub mod totals;

use waybill_sdk::canonical::CHARGE_PACKAGE;
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// The X12 210 freight invoice mapping.
pub struct X12FreightInvoice;

impl Plugin for X12FreightInvoice {
    fn describe() -> PluginInfo {
        PluginInfo::mapper("x12-210-invoice", "1.0.0", &["x12.210"], &[CHARGE_PACKAGE])
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        map::map_interchange(input.text()?)
    }
}

waybill_sdk::export!(X12FreightInvoice);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_itself() {
        let info = X12FreightInvoice::describe();
        assert_eq!(
            (info.name.as_str(), info.version.as_str()),
            ("x12-210-invoice", "1.0.0")
        );
        assert_eq!(info.consumes, vec!["x12.210"]);
        assert_eq!(info.produces, vec![CHARGE_PACKAGE]);
    }

    #[test]
    fn refuses_bodies_that_are_not_utf8_or_not_x12() {
        let err = X12FreightInvoice::map(&Message::new(
            "x12.210",
            "application/edi-x12",
            vec![0xff, 0xfe],
        ))
        .expect_err("not utf-8");
        assert!(matches!(err, PluginError::InvalidInput { .. }));
        let err = X12FreightInvoice::map(&Message::new("x12.210", "application/edi-x12", "{}"))
            .expect_err("json");
        assert!(err.to_string().contains("not-x12"), "{err}");
    }
}
