//! The canonical master data records reference sync moves: customers
//! (schema `customer@1`) and carriers (schema `carrier@1`).
//!
//! The ERP masters both; inbound plugins map its records into these shapes
//! and outbound plugins push them to the systems that keep a copy (the TMS,
//! billing). They live beside [`crate::canonical`] and reuse its
//! [`SourceRef`] and [`Location`].

use crate::canonical::{Location, SourceRef};
use serde::{Deserialize, Serialize};

/// Schema id of [`Customer`].
pub const CUSTOMER: &str = "customer@1.0";
/// Schema id of [`Carrier`].
pub const CARRIER: &str = "carrier@1.0";

/// Account status of a customer or carrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MasterStatus {
    /// In good standing.
    Active,
    /// Blocked for now: a credit hold (customer) or a compliance hold
    /// (carrier).
    OnHold,
    /// No longer used.
    Inactive,
}

impl MasterStatus {
    /// The status from its canonical spelling (`ACTIVE`, `ON_HOLD`,
    /// `INACTIVE`), matched exactly.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "ACTIVE" => Some(Self::Active),
            "ON_HOLD" => Some(Self::OnHold),
            "INACTIVE" => Some(Self::Inactive),
            _ => None,
        }
    }
}

/// A contact person at a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Full name.
    pub name: String,
    /// What the contact handles, e.g. `SHIPPING`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// A customer as mastered in the ERP (schema `customer@1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// Canonical customer id (the ERP customer number).
    pub customer_id: String,
    /// The source system and its own record id.
    pub source: SourceRef,
    /// Display name.
    pub name: String,
    /// Registered legal name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_name: Option<String>,
    /// Account status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<MasterStatus>,
    /// Tax registration number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
    /// Default ISO 4217 billing currency, upper case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Payment terms code, e.g. `NET30`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_terms: Option<String>,
    /// Where invoices are addressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Location>,
    /// Known delivery locations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ship_to_locations: Vec<Location>,
    /// Contact people.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    /// The customer portal's account id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal_account_id: Option<String>,
}

/// A carrier as mastered in the ERP (schema `carrier@1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Carrier {
    /// Canonical carrier id: the SCAC.
    pub carrier_scac: String,
    /// The source system and its own record id.
    pub source: SourceRef,
    /// Carrier name.
    pub name: String,
    /// Status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<MasterStatus>,
    /// US DOT motor carrier number, e.g. `MC-107512`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mc_number: Option<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::Value;

    fn schema_properties(entity: &str) -> Vec<String> {
        let path = format!(
            "{}/../../schemas/{entity}/1.0.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    }

    fn keys(v: &impl Serialize) -> Vec<String> {
        serde_json::to_value(v)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    }

    fn source() -> SourceRef {
        SourceRef {
            system: "northwind-erp".into(),
            id: "X".into(),
        }
    }

    /// Every field the types can write is a property of the schema.
    #[test]
    fn fields_match_the_schemas() {
        let customer = Customer {
            customer_id: "CUST-00871".into(),
            source: source(),
            name: "Kowalski Paper Converting".into(),
            legal_name: Some("Kowalski Paper Converting LLC".into()),
            status: Some(MasterStatus::OnHold),
            tax_id: Some("38-1234567".into()),
            currency: Some("USD".into()),
            payment_terms: Some("NET30".into()),
            billing_address: Some(Location::default()),
            ship_to_locations: vec![Location::default()],
            contacts: vec![Contact {
                name: "J. Kowalski".into(),
                role: None,
                email: None,
                phone: None,
            }],
            portal_account_id: Some("P-1".into()),
        };
        let mut written = keys(&customer);
        let mut allowed = schema_properties("customer");
        written.sort();
        allowed.sort();
        assert_eq!(written, allowed);

        let carrier = Carrier {
            carrier_scac: "ODFL".into(),
            source: source(),
            name: "Old Dominion Freight Line".into(),
            status: Some(MasterStatus::Active),
            mc_number: Some("MC-107512".into()),
        };
        let mut written = keys(&carrier);
        let mut allowed = schema_properties("carrier");
        written.sort();
        allowed.sort();
        assert_eq!(written, allowed);
        assert_eq!(
            serde_json::to_value(MasterStatus::OnHold).unwrap(),
            "ON_HOLD"
        );
        assert_eq!(
            MasterStatus::from_code("ON_HOLD"),
            Some(MasterStatus::OnHold)
        );
        assert_eq!(MasterStatus::from_code("on_hold"), None);
    }
}
