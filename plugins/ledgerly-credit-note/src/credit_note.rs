//! The `POST /v1/credit_notes` body Ledgerly accepts (Stripe-like: integer
//! minor units, lower-case currency, snake_case reason codes).

use serde::Serialize;

/// Schema id of the request body.
pub const CREDIT_NOTE: &str = "vendor:ledgerly.credit-note@1";

/// A credit note voiding one invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreditNote {
    /// Always `credit_note`.
    pub object: &'static str,
    /// The invoice number credited.
    pub invoice: String,
    /// ERP sales order number.
    pub order_ref: String,
    /// Reason code, e.g. `posting_rejected`.
    pub reason: String,
    /// Amount credited in minor units: the invoice total.
    pub amount: i64,
    /// ISO 4217, lower case.
    pub currency: String,
    /// Free text for the billing team, when the host gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memo: Option<String>,
}
