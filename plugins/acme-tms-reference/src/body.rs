//! The Acme `POST /v2/reference` bodies (field names fixed by Acme) and how
//! the canonical records fill them.

use serde::Serialize;
use waybill_sdk::PluginError;
use waybill_sdk::canonical::Location;
use waybill_sdk::master_data::{Carrier, Customer, MasterStatus};
use waybill_sdk::problems::{Problems, present};

/// A customer reference record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerReference {
    /// Always `customer`.
    #[serde(rename = "type")]
    pub record_type: &'static str,
    /// The ERP customer id.
    pub customer_code: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    pub active: bool,
}

/// A carrier reference record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CarrierReference {
    /// Always `carrier`.
    #[serde(rename = "type")]
    pub record_type: &'static str,
    pub scac: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mc_number: Option<String>,
    pub active: bool,
}

/// Acme's address shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
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

/// The customer record Acme accepts.
pub fn customer(c: &Customer) -> Result<CustomerReference, PluginError> {
    let mut p = Problems::default();
    let code = p
        .required(Some(c.customer_id.as_str()), "/customer_id")
        .trim();
    let name = p.required(Some(c.name.as_str()), "/name").trim();
    p.finish(CustomerReference {
        record_type: "customer",
        customer_code: code.into(),
        name: name.into(),
        billing_address: c.billing_address.as_ref().and_then(address),
        active: c.status != Some(MasterStatus::Inactive),
    })
}

/// The carrier record Acme accepts.
pub fn carrier(c: &Carrier) -> Result<CarrierReference, PluginError> {
    let mut p = Problems::default();
    let scac = p
        .required(Some(c.carrier_scac.as_str()), "/carrier_scac")
        .trim();
    let name = p.required(Some(c.name.as_str()), "/name").trim();
    p.finish(CarrierReference {
        record_type: "carrier",
        scac: scac.into(),
        name: name.into(),
        mc_number: text(c.mc_number.as_deref()),
        active: matches!(c.status, None | Some(MasterStatus::Active)),
    })
}

/// A canonical location in Acme's shape; `None` when nothing of it is known.
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
