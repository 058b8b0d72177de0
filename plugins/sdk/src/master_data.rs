//! The canonical master data records reference sync moves: customers
//! (schema `customer@1`) and carriers (schema `carrier@1`).
//!
//! The ERP masters both; inbound plugins map its records into these shapes
//! and outbound plugins push them to the systems that keep a copy (the TMS,
//! billing). They live beside [`crate::canonical`] and reuse its
//! [`SourceRef`] and [`Location`]. What every outbound plugin does the same
//! way lives here too: telling which record a message carries
//! ([`MasterRecord::of`]) and cutting a location down to the street address
//! vendors take ([`StreetAddress::of`]).

use crate::canonical::{Location, SourceRef, is_version_of};
use crate::problems::trimmed;
use crate::{Message, PluginError};
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

/// Which master record a message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MasterRecord {
    /// `customer@1.x`.
    Customer,
    /// `carrier@1.x`.
    Carrier,
}

impl MasterRecord {
    /// The record `input` carries: its kind is the document's schema id, and
    /// any minor of major 1 is accepted (minors only add optional fields).
    /// Anything but a JSON `customer@1.x` or `carrier@1.x` is `unsupported`,
    /// naming `plugin`.
    pub fn of(input: &Message, plugin: &str) -> Result<Self, PluginError> {
        let record = if is_version_of(&input.kind, "customer", 1) {
            Self::Customer
        } else if is_version_of(&input.kind, "carrier", 1) {
            Self::Carrier
        } else {
            return Err(PluginError::unsupported(format!(
                "{plugin} maps customer@1.x and carrier@1.x, not {:?}",
                input.kind
            )));
        };
        input.expect_json()?;
        Ok(record)
    }
}

/// The street address of a [`Location`] in the five fields vendors take,
/// each trimmed and omitted when blank. Serialised with these snake_case
/// names; a vendor that spells them otherwise converts it to its own type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreetAddress {
    /// `address_line1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line1: Option<String>,
    /// `city`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// `region`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `postal_code`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// `country`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl StreetAddress {
    /// The street address of `l`; `None` when it has none (a location known
    /// only by name or code).
    pub fn of(l: &Location) -> Option<Self> {
        let a = Self {
            line1: trimmed(l.address_line1.as_deref()),
            city: trimmed(l.city.as_deref()),
            state: trimmed(l.region.as_deref()),
            postal_code: trimmed(l.postal_code.as_deref()),
            country: trimmed(l.country.as_deref()),
        };
        let empty = a.line1.is_none()
            && a.city.is_none()
            && a.state.is_none()
            && a.postal_code.is_none()
            && a.country.is_none();
        (!empty).then_some(a)
    }
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

    #[test]
    fn messages_name_their_record() {
        let msg = |kind: &str, ct: &str| Message::new(kind, ct, "{}");
        let of = |m: &Message| MasterRecord::of(m, "p");
        assert_eq!(of(&msg("customer@1.0", "")), Ok(MasterRecord::Customer));
        assert_eq!(
            of(&msg("carrier@1.7", "application/json")),
            Ok(MasterRecord::Carrier)
        );
        assert_eq!(
            of(&msg("customer@2.0", "")),
            Err(PluginError::unsupported(
                "p maps customer@1.x and carrier@1.x, not \"customer@2.0\""
            ))
        );
        assert_eq!(
            of(&msg("carrier@1.0", "text/csv")),
            Err(PluginError::unsupported(
                "content type \"text/csv\" is not JSON"
            ))
        );
    }

    #[test]
    fn street_addresses_are_trimmed_and_absent_when_blank() {
        let l = Location {
            name: Some("Rumford DC".into()),
            address_line1: Some(" 1 Dump Road ".into()),
            city: Some("  ".into()),
            postal_code: Some("04276".into()),
            ..Location::default()
        };
        let a = StreetAddress::of(&l).unwrap();
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            serde_json::json!({"line1": "1 Dump Road", "postal_code": "04276"})
        );
        let only_named = Location {
            name: Some("Rumford DC".into()),
            country: Some(" ".into()),
            ..Location::default()
        };
        assert_eq!(StreetAddress::of(&only_named), None);
    }
}
