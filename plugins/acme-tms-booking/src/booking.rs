//! The canonical `shipment-booking@1.0` document this plugin produces.
//!
//! The booking answer cannot fill `shipment@1.0` (no stops, handling units or
//! service level), so the answer has its own small canonical shape; see
//! `schemas/shipment-booking/1.0.json`.

use serde::Serialize;
use waybill_sdk::canonical::{Charge, SourceRef};

/// Schema id of [`ShipmentBooking`].
pub const SHIPMENT_BOOKING: &str = "shipment-booking@1.0";

/// Booked or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BookingStatus {
    /// The TMS booked the shipment; carrier and quote are present.
    Booked,
    /// The TMS refused it; `rejection` says why.
    Rejected,
}

/// Why the TMS refused the shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// The TMS's reason code, when it sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// Human-readable reason.
    pub message: String,
}

/// The TMS's answer to a shipment request (schema `shipment-booking@1.0`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShipmentBooking {
    /// Canonical order id the request was made for.
    pub order_id: String,
    /// Bill of lading, when assigned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipment_id: Option<String>,
    /// The TMS's shipment id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tms_shipment_id: Option<String>,
    /// The TMS and its id of the answer.
    pub source: SourceRef,
    /// Booked or rejected.
    pub status: BookingStatus,
    /// The TMS's own status, as sent.
    pub source_status: String,
    /// Booked carrier SCAC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier_scac: Option<String>,
    /// Booked carrier name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier_name: Option<String>,
    /// Carrier PRO number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pro_number: Option<String>,
    /// Estimated delivery, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_delivery: Option<String>,
    /// Quoted charge lines (source `quoted`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quoted_charges: Option<Vec<Charge>>,
    /// Sum of the quoted charges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quoted_total_minor: Option<i64>,
    /// Currency of the quote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Why it was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
}
