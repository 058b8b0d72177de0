//! The Ledgerly `POST /v1/customers` body (field names fixed by Ledgerly)
//! and how a canonical customer fills it.

use serde::Serialize;
use waybill_sdk::PluginError;
use waybill_sdk::canonical::Location;
use waybill_sdk::master_data::{Customer, MasterStatus};
use waybill_sdk::problems::{Problems, present};

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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// On credit hold.
    pub delinquent: bool,
}

/// Ledgerly's address shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Address {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
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
        currency: text(c.currency.as_deref()).map(|c| c.to_ascii_lowercase()),
        tax_id: text(c.tax_id.as_deref()),
        address: c.billing_address.as_ref().and_then(address),
        delinquent: c.status == Some(MasterStatus::OnHold),
    })
}

/// A canonical location in Ledgerly's shape; `None` when nothing is known.
fn address(l: &Location) -> Option<Address> {
    let a = Address {
        line1: text(l.address_line1.as_deref()),
        city: text(l.city.as_deref()),
        state: text(l.region.as_deref()),
        postal_code: text(l.postal_code.as_deref()),
        country: text(l.country.as_deref()),
    };
    let empty = a.line1.is_none()
        && a.city.is_none()
        && a.state.is_none()
        && a.postal_code.is_none()
        && a.country.is_none();
    (!empty).then_some(a)
}

/// A trimmed optional value; blank counts as absent.
fn text(value: Option<&str>) -> Option<String> {
    present(value).map(|v| v.trim().to_string())
}
