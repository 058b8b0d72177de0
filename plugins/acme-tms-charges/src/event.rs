//! The Acme TMS `CARRIER_CHARGES_FINAL` event as it arrives, every field
//! optional so that missing fields are reported together by JSON pointer.

use serde::Deserialize;
use waybill_acme_tms::ChargeLine;

/// The only `eventType` this plugin maps.
pub const EVENT_TYPE: &str = "CARRIER_CHARGES_FINAL";

/// Just enough of the body to decide whether it is final charges at all.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub event_type: Option<String>,
}

/// The event body. `occurredAt` and `proofOfDelivery` carry nothing the
/// charge package holds and are not read.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargesFinal {
    pub event_id: Option<String>,
    pub shipment: Option<Shipment>,
    pub charges: Option<Vec<ChargeLine>>,
}

/// `shipment`: the ids every party knows the shipment by.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shipment {
    pub external_ref: Option<String>,
    pub scac: Option<String>,
    pub bol: Option<String>,
}
