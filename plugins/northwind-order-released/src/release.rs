//! The Northwind ERP `sales_order.released` event as it arrives, every field
//! optional so that missing fields are reported together by JSON pointer.

use crate::money::Amount;
use serde::Deserialize;

/// The only `event` this plugin maps.
pub const EVENT: &str = "sales_order.released";

/// Just enough of the body to decide whether it is an order release at all.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    pub event: Option<String>,
}

/// The event body.
#[derive(Debug, Deserialize)]
pub struct Released {
    pub event_id: Option<String>,
    pub released_at: Option<String>,
    pub company: Option<String>,
    pub sales_order: Option<SalesOrder>,
}

/// `sales_order`.
#[derive(Debug, Deserialize)]
pub struct SalesOrder {
    pub name: Option<String>,
    pub customer: Option<String>,
    pub customer_name: Option<String>,
    pub po_no: Option<String>,
    pub transaction_date: Option<String>,
    pub delivery_date: Option<String>,
    pub currency: Option<String>,
    pub set_warehouse: Option<String>,
    pub shipping_address: Option<Address>,
    pub incoterm: Option<String>,
    pub shipping_rule: Option<String>,
    pub service_level: Option<String>,
    pub accessorials: Option<Vec<String>>,
    pub items: Option<Vec<Item>>,
    pub total_weight: Option<f64>,
    pub grand_total: Option<Amount>,
}

/// `sales_order.shipping_address`.
#[derive(Debug, Deserialize)]
pub struct Address {
    pub address_line1: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub pincode: Option<String>,
    pub country: Option<String>,
}

/// One of `sales_order.items`.
#[derive(Debug, Deserialize)]
pub struct Item {
    pub idx: Option<u32>,
    pub item_code: Option<String>,
    pub item_name: Option<String>,
    pub qty: Option<f64>,
    pub uom: Option<String>,
    pub weight_per_unit: Option<f64>,
    pub weight_uom: Option<String>,
    pub rate: Option<Amount>,
    pub amount: Option<Amount>,
}
