//! The Acme TMS answer to a shipment request as it arrives, every field
//! optional so that missing fields are reported together by JSON pointer.

use serde::Deserialize;
use waybill_acme_tms::ChargeLine;

/// The answer body: a booking (`status` `BOOKED`) or a refusal (any other
/// status, with `reason`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingAnswer {
    pub status: Option<String>,
    pub tms_shipment_id: Option<String>,
    pub external_ref: Option<String>,
    pub carrier: Option<Carrier>,
    pub pro_number: Option<String>,
    pub bol: Option<String>,
    pub quoted_charges: Option<Vec<ChargeLine>>,
    pub estimated_delivery: Option<String>,
    pub reason: Option<String>,
    pub reason_code: Option<String>,
}

/// `carrier`: who Acme booked.
#[derive(Debug, Deserialize)]
pub struct Carrier {
    pub scac: Option<String>,
    pub name: Option<String>,
}
