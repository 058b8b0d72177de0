//! What Acme TMS sends: milestone webhooks and final carrier charges, built
//! exactly in the `acme-tms.milestone-webhook.json` and
//! `acme-tms.carrier-charges.json` formats from the TMS's own shipment
//! record, and the `X-Acme-Signature` it signs them with.

use super::clock;
use super::money;
use super::tms::Shipment;
use super::tms_booking::Place;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use time::OffsetDateTime;

/// Terminals an LTL shipment passes between pickup and delivery: (city,
/// state, postal code, lat, lon). The n-th en-route milestone of a shipment
/// reports the n-th (cycling).
const TERMINALS: [(&str, &str, &str, f64, f64); 4] = [
    ("Toledo", "OH", "43604", 41.6528, -83.5379),
    ("Albany", "NY", "12207", 42.6526, -73.7562),
    ("Cleveland", "OH", "44114", 41.4993, -81.6944),
    ("Chicago", "IL", "60607", 41.8781, -87.6298),
];
/// Coordinates of the places the demo's orders start and end at.
const KNOWN: [(&str, &str, f64, f64); 3] = [
    ("Rumford", "ME", 44.5537, -70.5509),
    ("West Allis", "WI", 43.0167, -88.0070),
    ("Holyoke", "MA", 42.2043, -72.6162),
];
/// Detention tariff, cents per hour (the note says how many hours).
const DETENTION_PER_HOUR: i64 = 4_500;

/// A fresh Acme-style event id (`evt_` + 12 upper-case hex digits).
pub fn event_id() -> String {
    let id = uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .to_ascii_uppercase();
    format!("evt_{}", &id[..12])
}

fn location(p: &Place) -> Value {
    let coords = KNOWN
        .iter()
        .find(|(city, state, ..)| *city == p.city && Some(*state) == p.state.as_deref());
    let mut loc = json!({
        "city": p.city, "state": p.state, "postalCode": p.postal_code, "country": p.country,
    });
    if let Some((.., lat, lon)) = coords {
        loc["lat"] = json!(lat);
        loc["lon"] = json!(lon);
    }
    loc
}

/// Where the shipment is when `code` happens (`location`, `stop`); `en_route`
/// counts the en-route milestones before this one.
fn whereabouts(s: &Shipment, code: &str, en_route: usize) -> (Value, Value) {
    let pickup_stop = json!({"sequence": 1, "type": "PICKUP"});
    let delivery_stop = json!({"sequence": 2, "type": "DELIVERY"});
    match code {
        "BOOKED" | "DISPATCHED" | "ARRIVED_PICKUP" | "DEPARTED_PICKUP" => {
            (location(&s.pickup), pickup_stop)
        }
        "ARRIVED_DELIVERY" | "DELIVERED" | "POD_AVAILABLE" => {
            (location(&s.delivery), delivery_stop)
        }
        "CANCELLED" => (Value::Null, Value::Null),
        _ => {
            let (city, state, postal, lat, lon) = TERMINALS[en_route % TERMINALS.len()];
            let loc = json!({"city": city, "state": state, "postalCode": postal,
                "country": "US", "lat": lat, "lon": lon});
            (loc, delivery_stop)
        }
    }
}

/// Whether `code` is reported from between the stops.
pub fn is_en_route(code: &str) -> bool {
    !matches!(
        code,
        "BOOKED"
            | "DISPATCHED"
            | "ARRIVED_PICKUP"
            | "DEPARTED_PICKUP"
            | "ARRIVED_DELIVERY"
            | "DELIVERED"
            | "POD_AVAILABLE"
            | "CANCELLED"
    )
}

fn shipment_ids(s: &Shipment) -> Value {
    json!({"tmsShipmentId": s.tms_shipment_id, "externalRef": s.external_ref,
        "scac": s.carrier_scac, "proNumber": s.pro_number, "bol": s.bol})
}

/// The `SHIPMENT_MILESTONE` webhook body.
pub fn milestone_body(
    s: &Shipment,
    code: &str,
    reason: Option<&str>,
    occurred_at: OffsetDateTime,
    en_route: usize,
) -> Value {
    let (location, stop) = whereabouts(s, code, en_route);
    let delivered = matches!(code, "DELIVERED" | "POD_AVAILABLE" | "CANCELLED");
    let eta = (!delivered).then(|| clock::rfc3339(s.estimated_delivery));
    json!({
        "eventId": event_id(),
        "eventType": "SHIPMENT_MILESTONE",
        "occurredAt": clock::rfc3339(occurred_at),
        "shipment": shipment_ids(s),
        "milestone": {"code": code, "reasonCode": reason, "eta": eta, "location": location},
        "stop": stop,
    })
}

/// The final charge lines: the quote, fuel at the final fuel index, and
/// detention when the carrier claims it. (charge code, cents, note).
pub fn final_lines(
    s: &Shipment,
    final_fuel_ppm: i64,
    detention: Option<i64>,
) -> Vec<(String, i64, Option<String>)> {
    let linehaul = s
        .quoted
        .iter()
        .find(|(c, _)| c == "LINEHAUL")
        .map_or(0, |c| c.1);
    let mut lines: Vec<_> = s
        .quoted
        .iter()
        .map(|(code, cents)| {
            if code != "FUEL" {
                return (code.clone(), *cents, None);
            }
            let fuel = money::scale_half_up(linehaul, final_fuel_ppm, 1_000_000);
            let note = (fuel != *cents).then(|| "fuel index moved".to_string());
            (code.clone(), fuel, note)
        })
        .collect();
    if let Some(d) = detention {
        let note = if d % DETENTION_PER_HOUR == 0 {
            format!("{}h at consignee", d / DETENTION_PER_HOUR)
        } else {
            "detention at consignee".to_string()
        };
        lines.push(("DETENTION".into(), d, Some(note)));
    }
    lines
}

/// The `CARRIER_CHARGES_FINAL` body for the given lines.
pub fn charges_body(
    s: &Shipment,
    lines: &[(String, i64, Option<String>)],
    occurred_at: OffsetDateTime,
) -> Value {
    let charges: Vec<Value> = lines
        .iter()
        .map(|(code, cents, note)| {
            let mut c =
                json!({"code": code, "amount": money::to_decimal(*cents), "currency": s.currency});
            if let Some(n) = note {
                c["note"] = json!(n);
            }
            c
        })
        .collect();
    let pod = s.delivered_at.map(|at| {
        json!({"signedBy": "RECEIVING DOCK", "signedAt": clock::rfc3339(at),
            "documentUrl": format!("https://tms.example/pod/{}.pdf", s.tms_shipment_id)})
    });
    json!({
        "eventId": event_id(),
        "eventType": "CARRIER_CHARGES_FINAL",
        "occurredAt": clock::rfc3339(occurred_at),
        "shipment": shipment_ids(s),
        "charges": charges,
        "proofOfDelivery": pod,
    })
}

/// `X-Acme-Signature` for `body` signed at `unix` seconds with `secret`:
/// `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub fn sign(secret: &str, unix: i64, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(), // unreachable: HMAC takes any key length
    };
    mac.update(format!("{unix}.").as_bytes());
    mac.update(body);
    format!("t={unix},v1={}", hex::encode(mac.finalize().into_bytes()))
}
