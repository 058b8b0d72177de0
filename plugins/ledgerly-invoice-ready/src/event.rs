//! The Ledgerly `invoice.ready` event as it arrives, every field optional so
//! that missing fields are reported together by JSON pointer. Amounts are
//! integer minor units; `currency` is lower case.

use serde::Deserialize;
use serde_json::Number;

/// The only event `type` this plugin maps.
pub const EVENT_TYPE: &str = "invoice.ready";

/// Just enough of the body to decide whether it is an invoice-ready event.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    #[serde(rename = "type")]
    pub event_type: Option<String>,
}

/// The event: its id, creation time (Unix seconds) and the invoice.
#[derive(Debug, Deserialize)]
pub struct InvoiceReady {
    pub id: Option<String>,
    pub created: Option<i64>,
    pub invoice: Option<LedgerlyInvoice>,
}

/// `invoice`: the invoice as composed by Ledgerly.
#[derive(Debug, Deserialize)]
pub struct LedgerlyInvoice {
    pub number: Option<String>,
    pub account: Option<String>,
    pub order_ref: Option<String>,
    pub shipment_ref: Option<String>,
    pub currency: Option<String>,
    pub line_items: Option<Vec<LineItem>>,
    pub tax: Option<Tax>,
    pub total: Option<i64>,
    pub due_date: Option<String>,
}

/// One line item; `quantity` is a whole number, 1 when absent.
#[derive(Debug, Deserialize)]
pub struct LineItem {
    pub sku: Option<String>,
    pub description: Option<String>,
    pub unit_amount: Option<i64>,
    pub quantity: Option<Number>,
}

/// `tax`: one tax over the whole invoice.
#[derive(Debug, Deserialize)]
pub struct Tax {
    pub rate_bps: Option<u32>,
    pub amount: Option<i64>,
}
