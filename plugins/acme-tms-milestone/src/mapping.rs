//! Builds the canonical shipment event from a parsed Acme webhook.

use crate::milestone_code::{self, CODES};
use crate::problems::{Problems, present};
use crate::timestamp::is_rfc3339;
use crate::webhook::{AcmeLocation, Stop, Webhook};
use waybill_sdk::PluginError;
use waybill_sdk::canonical::{Coordinates, Location, ShipmentEvent, SourceRef, StopRef};

/// The canonical name of the source system.
const SYSTEM: &str = "acme-tms";

/// Maps the webhook, or lists every problem found in it.
pub fn to_shipment_event(hook: &Webhook) -> Result<ShipmentEvent, PluginError> {
    let mut p = Problems::default();
    let event_id = p.required(hook.event_id.as_deref(), "/eventId");
    let occurred_at = p.required(hook.occurred_at.as_deref(), "/occurredAt");
    check_time(&mut p, occurred_at, "/occurredAt");

    let shipment = hook.shipment.as_ref();
    if shipment.is_none() {
        p.push("/shipment", "required", "/shipment is required");
    }
    let bol = match shipment {
        Some(s) => p.required(s.bol.as_deref(), "/shipment/bol"),
        None => "",
    };

    let milestone = hook.milestone.as_ref();
    if milestone.is_none() {
        p.push("/milestone", "required", "/milestone is required");
    }
    let code = match milestone {
        Some(m) => p.required(m.code.as_deref(), "/milestone/code"),
        None => "",
    };
    let canonical = milestone_code::to_milestone(code);
    if canonical.is_none() && !code.is_empty() {
        p.push(
            "/milestone/code",
            "unknown-code",
            format!(
                "unknown Acme milestone code {code:?}; expected one of {}",
                CODES.join(", ")
            ),
        );
    }
    let reason_code = present(milestone.and_then(|m| m.reason_code.as_deref()));
    if canonical.is_some_and(milestone_code::needs_reason) && reason_code.is_none() {
        p.push(
            "/milestone/reasonCode",
            "required",
            format!("/milestone/reasonCode is required when the milestone code is {code}"),
        );
    }
    let eta = present(milestone.and_then(|m| m.eta.as_deref()));
    if let Some(eta) = eta {
        check_time(&mut p, eta, "/milestone/eta");
    }
    let location = milestone
        .and_then(|m| m.location.as_ref())
        .and_then(|l| location(&mut p, l));
    let stop = hook.stop.as_ref().and_then(|s| stop(&mut p, s, bol));

    let Some(milestone) = canonical else {
        // Only reachable with a violation recorded (missing or unknown code).
        return Err(p.into_error());
    };
    let text = |v: Option<&String>| present(v.map(String::as_str)).map(str::to_string);
    let event = ShipmentEvent {
        event_id: format!("{SYSTEM}:{event_id}"),
        source: SourceRef {
            system: SYSTEM.into(),
            id: event_id.into(),
        },
        shipment_id: bol.into(),
        order_id: text(shipment.and_then(|s| s.external_ref.as_ref())),
        // Acme does not carry the ERP customer number.
        customer_id: None,
        tms_shipment_id: text(shipment.and_then(|s| s.tms_shipment_id.as_ref())),
        carrier_scac: text(shipment.and_then(|s| s.scac.as_ref())),
        pro_number: text(shipment.and_then(|s| s.pro_number.as_ref())),
        milestone,
        source_status_code: code.into(),
        reason_code: reason_code.map(str::to_string),
        event_time: occurred_at.into(),
        location,
        eta: eta.map(str::to_string),
        stop,
    };
    p.finish(event)
}

fn check_time(p: &mut Problems, value: &str, path: &str) {
    if !value.is_empty() && !is_rfc3339(value) {
        p.push(
            path,
            "invalid-time",
            format!("{path} {value:?} is not an RFC 3339 date-time with an offset"),
        );
    }
}

/// The canonical location, `None` when Acme sent no usable part of one.
fn location(p: &mut Problems, l: &AcmeLocation) -> Option<Location> {
    let text = |v: &Option<String>| present(v.as_deref()).map(str::to_string);
    let country = present(l.country.as_deref()).and_then(|c| {
        if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) {
            Some(c.to_ascii_uppercase())
        } else {
            p.push(
                "/milestone/location/country",
                "invalid-country",
                format!("{c:?} is not an ISO 3166-1 alpha-2 country code"),
            );
            None
        }
    });
    let coordinates = match (l.lat, l.lon) {
        (None, None) => None,
        (Some(lat), Some(lon)) => {
            let mut ok = true;
            if !(-90.0..=90.0).contains(&lat) {
                p.push(
                    "/milestone/location/lat",
                    "out-of-range",
                    format!("latitude {lat} is outside -90..90"),
                );
                ok = false;
            }
            if !(-180.0..=180.0).contains(&lon) {
                p.push(
                    "/milestone/location/lon",
                    "out-of-range",
                    format!("longitude {lon} is outside -180..180"),
                );
                ok = false;
            }
            ok.then_some(Coordinates { lat, lon })
        }
        (Some(_), None) => {
            p.push(
                "/milestone/location/lon",
                "required",
                "/milestone/location/lon is required with lat",
            );
            None
        }
        (None, Some(_)) => {
            p.push(
                "/milestone/location/lat",
                "required",
                "/milestone/location/lat is required with lon",
            );
            None
        }
    };
    let loc = Location {
        city: text(&l.city),
        region: text(&l.state),
        postal_code: text(&l.postal_code),
        country,
        coordinates,
        ..Location::default()
    };
    (loc != Location::default()).then_some(loc)
}

/// The canonical stop reference, `<shipment_id>-<sequence>`.
fn stop(p: &mut Problems, s: &Stop, shipment_id: &str) -> Option<StopRef> {
    let sequence = match s.sequence {
        None => {
            p.push("/stop/sequence", "required", "/stop/sequence is required");
            None
        }
        Some(0) => {
            p.push(
                "/stop/sequence",
                "out-of-range",
                "stop sequence is 1-based; got 0",
            );
            None
        }
        Some(n) => Some(n),
    };
    let stop_type = match present(s.stop_type.as_deref()) {
        None => {
            p.push("/stop/type", "required", "/stop/type is required");
            None
        }
        Some(t @ ("PICKUP" | "DELIVERY")) => Some(t),
        Some(other) => {
            p.push(
                "/stop/type",
                "unknown-code",
                format!("unknown stop type {other:?}; expected PICKUP or DELIVERY"),
            );
            None
        }
    };
    Some(StopRef {
        stop_id: format!("{shipment_id}-{}", sequence?),
        sequence: sequence?,
        stop_type: stop_type?.into(),
    })
}
