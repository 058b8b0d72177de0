//! One line of the ERP master data snapshot as it arrives. Customers and
//! carriers share one flat struct of optional, borrowed fields: a line is
//! parsed in one pass, and missing fields are reported by name.

use serde::Deserialize;
use waybill_sdk::ndjson::Text;

/// `record_type` of a customer line.
pub const CUSTOMER: &str = "customer";
/// `record_type` of a carrier line.
pub const CARRIER: &str = "carrier";

/// A `customer` or `carrier` line; each type reads its own fields.
/// `updated_at` is not read (the canonical records do not carry it).
#[derive(Debug, Deserialize)]
pub struct Record<'a> {
    #[serde(borrow)]
    pub record_type: Option<Text<'a>>,
    /// Customer number.
    #[serde(borrow)]
    pub customer: Option<Text<'a>>,
    /// Carrier SCAC.
    #[serde(borrow)]
    pub scac: Option<Text<'a>>,
    #[serde(borrow)]
    pub name: Option<Text<'a>>,
    #[serde(borrow)]
    pub legal_name: Option<Text<'a>>,
    #[serde(borrow)]
    pub currency: Option<Text<'a>>,
    #[serde(borrow)]
    pub payment_terms: Option<Text<'a>>,
    #[serde(borrow)]
    pub tax_id: Option<Text<'a>>,
    /// `ACTIVE`, `ON_HOLD` or `INACTIVE`.
    #[serde(borrow)]
    pub status: Option<Text<'a>>,
    #[serde(borrow)]
    pub billing_address: Option<Address<'a>>,
    #[serde(borrow)]
    pub mc_number: Option<Text<'a>>,
}

/// `billing_address`.
#[derive(Debug, Deserialize)]
pub struct Address<'a> {
    #[serde(borrow)]
    pub line1: Option<Text<'a>>,
    #[serde(borrow)]
    pub city: Option<Text<'a>>,
    #[serde(borrow)]
    pub state: Option<Text<'a>>,
    #[serde(borrow)]
    pub postal_code: Option<Text<'a>>,
    #[serde(borrow)]
    pub country: Option<Text<'a>>,
}
