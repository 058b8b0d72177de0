//! The Acme `POST /v2/reference` bodies (field names fixed by Acme) and how
//! the canonical records fill them.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use waybill_sdk::PluginError;
use waybill_sdk::master_data::{Carrier, Customer, MasterStatus, StreetAddress};
use waybill_sdk::problems::{Problems, trimmed};

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

/// Acme's address shape: the SDK's [`StreetAddress`] under Acme's field
/// names, blank fields omitted.
#[derive(Debug, Clone, PartialEq)]
pub struct Address(pub StreetAddress);

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = &self.0;
        let fields = [
            ("line1", &a.line1),
            ("city", &a.city),
            ("state", &a.state),
            ("postalCode", &a.postal_code),
            ("country", &a.country),
        ];
        let mut map = s.serialize_map(Some(fields.iter().filter(|(_, v)| v.is_some()).count()))?;
        for (name, value) in fields {
            if let Some(value) = value {
                map.serialize_entry(name, value)?;
            }
        }
        map.end()
    }
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
        billing_address: c
            .billing_address
            .as_ref()
            .and_then(StreetAddress::of)
            .map(Address),
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
        mc_number: trimmed(c.mc_number.as_deref()),
        active: matches!(c.status, None | Some(MasterStatus::Active)),
    })
}
