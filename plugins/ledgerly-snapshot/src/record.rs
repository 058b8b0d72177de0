//! One line of the Ledgerly invoices snapshot as it arrives: optional,
//! borrowed fields, so a line is parsed in one pass and missing fields are
//! reported by name.

use serde::Deserialize;
use waybill_sdk::ndjson::Text;

/// The only `object` this snapshot holds.
pub const INVOICE: &str = "invoice";

/// An invoice line.
#[derive(Debug, Deserialize)]
pub struct Invoice<'a> {
    /// Record type, `invoice`.
    #[serde(borrow)]
    pub object: Option<Text<'a>>,
    /// The invoice number as printed.
    #[serde(borrow)]
    pub number: Option<Text<'a>>,
    /// ERP customer id.
    #[serde(borrow)]
    pub account: Option<Text<'a>>,
    #[serde(borrow)]
    pub order_ref: Option<Text<'a>>,
    /// The TMS shipment id.
    #[serde(borrow)]
    pub shipment_ref: Option<Text<'a>>,
    /// Lower case, e.g. `usd`.
    #[serde(borrow)]
    pub currency: Option<Text<'a>>,
    /// Integer minor units.
    pub total: Option<i64>,
    /// `open`, `paid` or `void`.
    #[serde(borrow)]
    pub status: Option<Text<'a>>,
    #[serde(borrow)]
    pub ship_to_name: Option<Text<'a>>,
    /// Unix seconds.
    pub updated: Option<i64>,
}
