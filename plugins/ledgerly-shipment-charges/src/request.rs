//! The `POST /v1/shipment_charges` body Ledgerly accepts (Stripe-like:
//! integer minor units, lower-case currency).

use serde::Serialize;

/// Schema id of the request body.
pub const SHIPMENT_CHARGES: &str = "vendor:ledgerly.shipment-charges@1";

/// Approved carrier charges of one shipment, for billing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShipmentCharges {
    /// Always `shipment_charges`.
    pub object: &'static str,
    /// The TMS's shipment id; omitted when the package does not carry it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipment_ref: Option<String>,
    /// ERP sales order number.
    pub order_ref: String,
    /// Bill of lading.
    pub bol: String,
    /// ISO 4217, lower case.
    pub currency: String,
    /// One line item per charge.
    pub line_items: Vec<LineItem>,
}

/// One billed charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineItem {
    /// Ledgerly freight SKU.
    pub sku: &'static str,
    /// Printed description.
    pub description: String,
    /// Minor units; negative for discounts.
    pub unit_amount: i64,
    /// Always 1: a charge is one amount.
    pub quantity: u32,
}
