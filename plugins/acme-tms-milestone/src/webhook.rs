//! The Acme TMS milestone webhook as it arrives, every field optional so that
//! missing fields are reported together, each by its JSON pointer.

use serde::Deserialize;

/// The only `eventType` this plugin maps.
pub const EVENT_TYPE: &str = "SHIPMENT_MILESTONE";

/// Just enough of the body to decide whether it is a milestone at all.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub event_type: Option<String>,
}

/// `POST` body of the milestone webhook.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub event_id: Option<String>,
    pub occurred_at: Option<String>,
    pub shipment: Option<Shipment>,
    pub milestone: Option<MilestoneBody>,
    pub stop: Option<Stop>,
}

/// `shipment`: the ids every party knows the shipment by.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shipment {
    pub tms_shipment_id: Option<String>,
    pub external_ref: Option<String>,
    pub scac: Option<String>,
    pub pro_number: Option<String>,
    /// The bill of lading: the shipment id and business key.
    pub bol: Option<String>,
}

/// `milestone`: what happened, why, and where.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MilestoneBody {
    pub code: Option<String>,
    pub reason_code: Option<String>,
    pub eta: Option<String>,
    pub location: Option<AcmeLocation>,
}

/// `milestone.location`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcmeLocation {
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

/// `stop`: the stop of the shipment the milestone concerns.
#[derive(Debug, Deserialize)]
pub struct Stop {
    pub sequence: Option<u32>,
    #[serde(rename = "type")]
    pub stop_type: Option<String>,
}
