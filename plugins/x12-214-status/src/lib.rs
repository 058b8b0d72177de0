//! X12 214 (shipment status) -> canonical `shipment-event@1.0`.
//!
//! Carriers report shipment progress as X12 214 transaction sets: a B10 names
//! the shipment (PRO, BOL/load id, SCAC) and each LX loop carries AT7
//! statuses with the MS1 city and state where they happened. This plugin
//! turns every AT7 status into one canonical shipment event, so the rest of
//! Waybill never sees X12.
//!
//! - Shipment id is B10-02, PRO is B10-01, SCAC is B10-03.
//! - Order id is L11-01 of an `L11*<order>*OQ` before the first LX, when
//!   the carrier echoes the shipper's order number (the ERP needs it).
//! - Source id is `<ISA13>-<ST02>-<LX-01>` (plus `-<k>` for the k-th AT7 of
//!   an LX loop after the first); the event id is
//!   `carrier-edi:<ISA06 sender>:<source id>`.
//! - AT7-01 codes map to milestones in [`status_codes`]; unknown codes are
//!   typed errors naming `/AT7[n]/01`.
//! - Times combine AT7-05/06/07; `LT` (local time) is resolved from the MS1
//!   state or province with US/Canada DST rules ([`time_zone`], [`regions`]).
//! - MS2 (equipment) has no canonical field and is ignored.
//!
//! Parsing is the shared `waybill-x12` crate's job.

pub mod calendar;
pub mod event_time;
pub mod location;
pub mod map;
pub mod regions;
pub mod status_codes;
pub mod time_zone;

use waybill_sdk::canonical::SHIPMENT_EVENT;
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// The X12 214 shipment status mapping.
pub struct X12ShipmentStatus;

impl Plugin for X12ShipmentStatus {
    fn describe() -> PluginInfo {
        PluginInfo::mapper("x12-214-status", "1.0.0", &["x12.214"], &[SHIPMENT_EVENT])
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        map::map_interchange(input.text()?)
    }
}

waybill_sdk::export!(X12ShipmentStatus);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_itself() {
        let info = X12ShipmentStatus::describe();
        assert_eq!(
            (info.name.as_str(), info.version.as_str()),
            ("x12-214-status", "1.0.0")
        );
        assert_eq!(info.consumes, vec!["x12.214"]);
        assert_eq!(info.produces, vec![SHIPMENT_EVENT]);
    }

    #[test]
    fn refuses_bodies_that_are_not_utf8_or_not_x12() {
        let err = X12ShipmentStatus::map(&Message::new(
            "x12.214",
            "application/edi-x12",
            vec![0xff, 0xfe],
        ))
        .expect_err("not utf-8");
        assert!(matches!(err, PluginError::InvalidInput { .. }));
        let err = X12ShipmentStatus::map(&Message::new("x12.214", "application/edi-x12", ""))
            .expect_err("empty");
        assert!(err.to_string().contains("not-x12"), "{err}");
    }
}
