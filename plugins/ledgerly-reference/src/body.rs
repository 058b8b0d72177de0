//! The Ledgerly `POST /v1/customers` body (field names fixed by Ledgerly)
//! and how a canonical customer fills it.

use serde::Serialize;
use waybill_sdk::PluginError;
use waybill_sdk::master_data::{Customer, MasterStatus, StreetAddress};
use waybill_sdk::problems::{Problems, trimmed};

/// A Ledgerly customer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerlyCustomer {
    /// Always `customer`.
    pub object: &'static str,
    /// The ERP customer id.
    pub id: String,
    pub name: String,
    /// ISO 4217, lower case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
    /// Ledgerly's address takes the SDK's field names as they are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<StreetAddress>,
    /// On credit hold.
    pub delinquent: bool,
}

/// The customer Ledgerly accepts.
pub fn customer(c: &Customer) -> Result<LedgerlyCustomer, PluginError> {
    let mut p = Problems::default();
    let id = p
        .required(Some(c.customer_id.as_str()), "/customer_id")
        .trim();
    let name = p.required(Some(c.name.as_str()), "/name").trim();
    p.finish(LedgerlyCustomer {
        object: "customer",
        id: id.into(),
        name: name.into(),
        currency: trimmed(c.currency.as_deref()).map(|c| c.to_ascii_lowercase()),
        tax_id: trimmed(c.tax_id.as_deref()),
        address: c.billing_address.as_ref().and_then(StreetAddress::of),
        delinquent: c.status == Some(MasterStatus::OnHold),
    })
}
