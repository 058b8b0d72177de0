//! One line of the Acme shipments snapshot as it arrives: optional,
//! borrowed fields, so a line is parsed in one pass and missing fields are
//! reported by name. `bol` is not read: the snapshot is keyed by order.

use serde::Deserialize;
use waybill_sdk::ndjson::Text;

/// A shipment line.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shipment<'a> {
    #[serde(borrow)]
    pub tms_shipment_id: Option<Text<'a>>,
    /// The ERP sales order the shipment was booked for.
    #[serde(borrow)]
    pub external_ref: Option<Text<'a>>,
    /// The last milestone code.
    #[serde(borrow)]
    pub status: Option<Text<'a>>,
    #[serde(borrow)]
    pub carrier: Option<Carrier<'a>>,
    #[serde(borrow)]
    pub pro_number: Option<Text<'a>>,
    #[serde(borrow)]
    pub consignee: Option<Consignee<'a>>,
    /// Absent until final charges are known.
    #[serde(borrow)]
    pub final_charges: Option<Money<'a>>,
    #[serde(borrow)]
    pub updated_at: Option<Text<'a>>,
}

/// `carrier`.
#[derive(Debug, Deserialize)]
pub struct Carrier<'a> {
    #[serde(borrow)]
    pub scac: Option<Text<'a>>,
}

/// `consignee`.
#[derive(Debug, Deserialize)]
pub struct Consignee<'a> {
    #[serde(borrow)]
    pub name: Option<Text<'a>>,
}

/// `finalCharges`: a decimal string amount and its currency.
#[derive(Debug, Deserialize)]
pub struct Money<'a> {
    #[serde(borrow)]
    pub amount: Option<Text<'a>>,
    #[serde(borrow)]
    pub currency: Option<Text<'a>>,
}
