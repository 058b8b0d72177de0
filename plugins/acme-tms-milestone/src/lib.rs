//! Maps Acme TMS shipment milestone webhooks onto canonical
//! `shipment-event@1.0` documents.
//!
//! Acme TMS is the source of truth for shipment execution; every milestone it
//! reports (booked, picked up, in transit, delivered, ...) must reach the ERP
//! and the customer portal in one canonical shape. This plugin holds every
//! Acme-specific rule of that translation: its field names, its milestone
//! codes and which of them need a reason code. Bad vendor data is a typed
//! `invalid-input` error naming the JSON pointer of each problem.
//!
//! Field rules:
//! - only `eventType` `SHIPMENT_MILESTONE` is mapped; others are `unsupported`;
//! - `event_id` = `acme-tms:<eventId>`; `shipment_id` (and the business key) =
//!   `shipment.bol`; `order_id` = `externalRef`; `tms_shipment_id` =
//!   `tmsShipmentId`; `carrier_scac` = `scac`; `pro_number` = `proNumber`;
//! - `milestone.code` maps one to one onto the canonical milestone (unknown
//!   codes: `unknown-code` at `/milestone/code`) and is kept as
//!   `source_status_code`; `DELAYED` and `EXCEPTION` need a `reasonCode`;
//! - `occurredAt` and `eta` must be RFC 3339 with an offset and are kept as
//!   given; `location` `state` -> `region`, `lat`/`lon` -> `coordinates`
//!   (both or neither); `stop` -> `<shipment_id>-<sequence>`;
//! - blank or `null` optional fields are left out.

mod mapping;
mod milestone_code;
pub(crate) use waybill_sdk::problems;
pub(crate) use waybill_sdk::time as timestamp;
mod webhook;

use waybill_sdk::canonical::SHIPMENT_EVENT;
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// The message kind this plugin consumes.
pub const KIND: &str = "acme-tms.milestone";

/// The version `describe()` reports.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The Acme TMS milestone webhook mapper.
pub struct AcmeMilestone;

impl Plugin for AcmeMilestone {
    fn describe() -> PluginInfo {
        PluginInfo::mapper("acme-tms-milestone", VERSION, &[KIND], &[SHIPMENT_EVENT])
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        input.expect_kind("acme-tms-milestone", KIND)?;
        let envelope: webhook::Envelope = input.json()?;
        match envelope.event_type.as_deref() {
            None | Some("") => return Err(PluginError::missing("/eventType")),
            Some(webhook::EVENT_TYPE) => {}
            Some(other) => {
                return Err(PluginError::unsupported(format!(
                    "Acme eventType {other:?} is not a milestone ({:?})",
                    webhook::EVENT_TYPE
                )));
            }
        }
        let hook: webhook::Webhook = input.json()?;
        let event = mapping::to_shipment_event(&hook)?;
        Ok(vec![Output::json(
            SHIPMENT_EVENT,
            &event.shipment_id,
            &event,
        )?])
    }
}

waybill_sdk::export!(AcmeMilestone);
