//! One line of the ERP orders snapshot as it arrives. Both record types
//! share one flat struct of optional, borrowed fields: a line is parsed in a
//! single pass without buffering, and missing fields are reported by name.

use serde::Deserialize;
use waybill_sdk::ndjson::Text;

/// `record_type` of a sales order line.
pub const SALES_ORDER: &str = "sales_order";
/// `record_type` of an AR invoice line.
pub const AR_INVOICE: &str = "ar_invoice";

/// A `sales_order` or `ar_invoice` line; each type reads its own fields.
#[derive(Debug, Deserialize)]
pub struct Record<'a> {
    #[serde(borrow)]
    pub record_type: Option<Text<'a>>,
    /// The sales order number (the order's id; an invoice's order).
    #[serde(borrow)]
    pub sales_order: Option<Text<'a>>,
    /// ERP customer number.
    #[serde(borrow)]
    pub customer: Option<Text<'a>>,
    #[serde(borrow)]
    pub ship_to_name: Option<Text<'a>>,
    #[serde(borrow)]
    pub logistics_status: Option<Text<'a>>,
    #[serde(borrow)]
    pub tms_shipment_id: Option<Text<'a>>,
    #[serde(borrow)]
    pub invoice_no: Option<Text<'a>>,
    /// Decimal string, e.g. `"768.06"`.
    #[serde(borrow)]
    pub grand_total: Option<Text<'a>>,
    #[serde(borrow)]
    pub currency: Option<Text<'a>>,
    /// AR invoice status.
    #[serde(borrow)]
    pub status: Option<Text<'a>>,
    #[serde(borrow)]
    pub updated_at: Option<Text<'a>>,
}
