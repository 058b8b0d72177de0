//! Outbound mapper: canonical `shipment-event@1.0` -> customer portal
//! shipment visibility update (`vendor:portal.shipment-visibility@1`).
//!
//! Customers follow their orders on the portal; this plugin turns each
//! canonical shipment event into the update the portal accepts, in the words a
//! customer reads ("In transit", "Delivered", ...), with the carrier's name
//! instead of its SCAC.
//!
//! Field rules:
//! - `orderNumber` = `order_id` (required, `/order_id`: the portal lists
//!   shipments under the customer's orders and cannot show one without it);
//! - `customerId` = the event's `customer_id`, else config
//!   `default_customer_id`, else `null`;
//! - `status` = customer-facing text of the milestone, `statusCode` = the
//!   canonical milestone code;
//! - `lastLocation` = `"City, ST"` from the event location (just the part
//!   known when one is missing, `null` when neither is);
//! - `estimatedDelivery` = `eta`, `updatedAt` = `event_time`;
//! - `carrier` = the name config `carrier_names` gives the SCAC
//!   (`"ODFL=Old Dominion Freight Line;SAIA=Saia Inc"`), else the SCAC, else
//!   `null`; a malformed `carrier_names` is an error naming
//!   `config/carrier_names`, whatever the event's carrier;
//! - `trackingNumber` = `pro_number`.
//!
//! The business key is the shipment id, so one shipment's updates stay in
//! order.

use serde::Serialize;
use std::collections::BTreeMap;
use waybill_sdk::canonical::{self, Location, Milestone, ShipmentEvent};
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo, config};

/// Schema id of the portal's visibility update.
pub const SHIPMENT_VISIBILITY: &str = "vendor:portal.shipment-visibility@1";

/// Config key: `SCAC=Name;SCAC=Name` carrier display names.
pub const CARRIER_NAMES: &str = "carrier_names";
/// Config key: customer id used when the event carries none.
pub const DEFAULT_CUSTOMER_ID: &str = "default_customer_id";

/// The plugin.
pub struct PortalVisibility;

/// The body the portal accepts (field names fixed by the portal).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentVisibility {
    /// ERP sales order number.
    pub order_number: String,
    /// Customer id, when known.
    pub customer_id: Option<String>,
    /// Customer-facing status text.
    pub status: &'static str,
    /// Canonical milestone code.
    pub status_code: &'static str,
    /// `"City, ST"`, when known.
    pub last_location: Option<String>,
    /// Estimated delivery, when known.
    pub estimated_delivery: Option<String>,
    /// Event time.
    pub updated_at: String,
    /// Carrier display name (or SCAC), when known.
    pub carrier: Option<String>,
    /// PRO number, when known.
    pub tracking_number: Option<String>,
}

impl Plugin for PortalVisibility {
    fn describe() -> PluginInfo {
        PluginInfo::mapper(
            "portal-visibility",
            env!("CARGO_PKG_VERSION"),
            &[canonical::SHIPMENT_EVENT],
            &[SHIPMENT_VISIBILITY],
        )
        .with_config_keys(&[CARRIER_NAMES, DEFAULT_CUSTOMER_ID])
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        input.expect_canonical("portal-visibility", canonical::SHIPMENT_EVENT)?;
        // Configuration first: a broken operator setting fails every message
        // the same way, not only those that happen to need it.
        let carrier_names = match config::get(CARRIER_NAMES) {
            Some(raw) => parse_carrier_names(&raw)?,
            None => BTreeMap::new(),
        };
        let default_customer = non_blank(&config::get(DEFAULT_CUSTOMER_ID));
        let event: ShipmentEvent = input.json()?;
        let update = to_visibility(&event, &carrier_names, default_customer)?;
        Ok(vec![Output::json(
            SHIPMENT_VISIBILITY,
            &event.shipment_id,
            &update,
        )?])
    }
}

waybill_sdk::export!(PortalVisibility);

/// Parses `SCAC=Name;SCAC=Name` (blank entries and surrounding spaces are
/// ignored; SCACs are matched case-insensitively). Every malformed entry is
/// reported under `config/carrier_names`.
pub fn parse_carrier_names(raw: &str) -> Result<BTreeMap<String, String>, PluginError> {
    let mut names = BTreeMap::new();
    let mut problems = Vec::new();
    for (index, entry) in raw.split(';').enumerate() {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        match entry.split_once('=') {
            Some((scac, name)) if !scac.trim().is_empty() && !name.trim().is_empty() => {
                let scac = scac.trim().to_ascii_uppercase();
                if names
                    .insert(scac.clone(), name.trim().to_string())
                    .is_some()
                {
                    problems.push(format!("entry {} repeats SCAC {scac:?}", index + 1));
                }
            }
            _ => problems.push(format!("entry {} ({entry:?}) is not SCAC=Name", index + 1)),
        }
    }
    if problems.is_empty() {
        Ok(names)
    } else {
        Err(PluginError::invalid(
            format!("config/{CARRIER_NAMES}"),
            "invalid-config",
            format!(
                "{CARRIER_NAMES} must look like \"ODFL=Old Dominion Freight Line;SAIA=Saia Inc\": {}",
                problems.join("; ")
            ),
        ))
    }
}

/// Maps one canonical event to the portal's update.
pub fn to_visibility(
    event: &ShipmentEvent,
    carrier_names: &BTreeMap<String, String>,
    default_customer: Option<String>,
) -> Result<ShipmentVisibility, PluginError> {
    let Some(order_number) = non_blank(&event.order_id) else {
        return Err(PluginError::invalid(
            "/order_id",
            "required",
            "the portal shows shipments under the customer's order; this event has no order_id",
        ));
    };
    let carrier = non_blank(&event.carrier_scac).map(|scac| {
        carrier_names
            .get(&scac.to_ascii_uppercase())
            .cloned()
            .unwrap_or(scac)
    });
    Ok(ShipmentVisibility {
        order_number,
        customer_id: non_blank(&event.customer_id).or(default_customer),
        status: status_text(event.milestone),
        status_code: milestone_code(event.milestone),
        last_location: event.location.as_ref().and_then(city_region),
        estimated_delivery: non_blank(&event.eta),
        updated_at: event.event_time.clone(),
        carrier,
        tracking_number: non_blank(&event.pro_number),
    })
}

/// `"City, ST"`, or the one part known, or `None`.
fn city_region(location: &Location) -> Option<String> {
    let parts: Vec<String> = [&location.city, &location.region]
        .into_iter()
        .filter_map(non_blank)
        .collect();
    if parts.is_empty() {
        None
    } else {
        Some(parts.join(", "))
    }
}

/// The trimmed value, `None` when absent or blank.
fn non_blank(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// What a customer reads for each milestone.
pub fn status_text(m: Milestone) -> &'static str {
    match m {
        Milestone::Booked => "Booked",
        Milestone::Dispatched => "Carrier dispatched",
        Milestone::ArrivedPickup => "Carrier at pickup",
        Milestone::DepartedPickup => "Picked up",
        Milestone::InTransit => "In transit",
        Milestone::Delayed => "Delayed",
        Milestone::ArrivedDelivery => "Arrived at delivery location",
        Milestone::Delivered => "Delivered",
        Milestone::PodAvailable => "Delivered, proof of delivery available",
        Milestone::Exception => "Exception",
        Milestone::Cancelled => "Cancelled",
    }
}

/// The canonical milestone code, as the portal's `statusCode`.
pub fn milestone_code(m: Milestone) -> &'static str {
    match m {
        Milestone::Booked => "BOOKED",
        Milestone::Dispatched => "DISPATCHED",
        Milestone::ArrivedPickup => "ARRIVED_PICKUP",
        Milestone::DepartedPickup => "DEPARTED_PICKUP",
        Milestone::InTransit => "IN_TRANSIT",
        Milestone::Delayed => "DELAYED",
        Milestone::ArrivedDelivery => "ARRIVED_DELIVERY",
        Milestone::Delivered => "DELIVERED",
        Milestone::PodAvailable => "POD_AVAILABLE",
        Milestone::Exception => "EXCEPTION",
        Milestone::Cancelled => "CANCELLED",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn carrier_names_parse() {
        let names =
            parse_carrier_names(" ODFL=Old Dominion Freight Line; saia = Saia Inc ;").unwrap();
        assert_eq!(names.get("ODFL").unwrap(), "Old Dominion Freight Line");
        assert_eq!(names.get("SAIA").unwrap(), "Saia Inc");
        assert!(parse_carrier_names("").unwrap().is_empty());
        assert!(parse_carrier_names("ODFL").is_err());
        assert!(parse_carrier_names("=Saia").is_err());
        assert!(parse_carrier_names("ODFL=").is_err());
        assert!(parse_carrier_names("ODFL=A;odfl=B").is_err());
    }

    #[test]
    fn milestone_codes_match_serde() {
        let all = [
            Milestone::Booked,
            Milestone::Dispatched,
            Milestone::ArrivedPickup,
            Milestone::DepartedPickup,
            Milestone::InTransit,
            Milestone::Delayed,
            Milestone::ArrivedDelivery,
            Milestone::Delivered,
            Milestone::PodAvailable,
            Milestone::Exception,
            Milestone::Cancelled,
        ];
        for m in all {
            assert_eq!(
                serde_json::to_value(m).unwrap(),
                serde_json::json!(milestone_code(m))
            );
        }
    }
}
