//! Acme TMS's synchronous booking: validates an `acme-tms.shipment-request`,
//! picks a carrier and quotes charges, deterministically from the request so
//! that the same order always gets the same quote (the sample order is
//! quoted exactly as `acme-tms.shipment-booking.json`: 612.40 + 44.09 +
//! 75.00 with ODFL).
//!
//! Tariff: linehaul = (8.40 per 100 lb + 29.00 per handling unit) x the
//! service level factor (STANDARD 1.00, EXPEDITED 1.10, GUARANTEED 1.25),
//! at least 150.00; fuel = 7.2 % of linehaul; accessorials at flat rates.

use super::clock;
use super::money;
use super::request::{Reply, required, required_time};
use super::tms::Shipment;
use serde::Deserialize;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime, UtcOffset};

/// Carriers Acme tenders to: (SCAC, name). SCACs are 2-4 letters (Estes is
/// `EXLA`), as the booking and master-data plugins insist.
pub const CARRIERS: [(&str, &str); 3] = [
    ("ODFL", "Old Dominion Freight Line"),
    ("SAIA", "Saia Inc"),
    ("EXLA", "Estes Express Lines"),
];
/// Fuel surcharge of the quote, parts per million of linehaul.
pub const QUOTE_FUEL_PPM: i64 = 72_000;
const CENTS_PER_CWT: i64 = 840;
const CENTS_PER_HANDLING_UNIT: i64 = 2_900;
const MIN_LINEHAUL: i64 = 15_000;
/// Accessorials Acme prices: (request code, charge code, amount in cents).
const ACCESSORIALS: [(&str, &str, i64); 3] = [
    ("LIFTGATE", "LIFTGATE", 7_500),
    ("RESIDENTIAL", "RESIDENTIAL", 9_500),
    ("INSIDE_DELIVERY", "INSIDE_DELIVERY", 12_500),
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestBody {
    pub external_ref: Option<String>,
    mode: Option<String>,
    service_level: Option<String>,
    accessorials: Option<Vec<String>>,
    pickup: Option<Stop>,
    delivery: Option<Stop>,
    handling_units: Option<Vec<HandlingUnit>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stop {
    name: Option<String>,
    address: Option<AddressBody>,
    window_start: Option<String>,
    requested_by: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddressBody {
    line1: Option<String>,
    city: Option<String>,
    state: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
}

#[derive(Deserialize)]
struct HandlingUnit {
    count: Option<u32>,
    weight: Option<Weight>,
}

#[derive(Deserialize)]
struct Weight {
    value: Option<serde_json::Number>,
    unit: Option<String>,
}

/// A city the shipment passes: what a milestone's `location` says.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub city: String,
    pub state: Option<String>,
    pub postal_code: String,
    pub country: String,
}

/// A validated request, quoted.
#[derive(Debug, Clone)]
pub struct Quote {
    pub external_ref: String,
    pub consignee: String,
    pub pickup: Place,
    pub delivery: Place,
    pub carrier: (&'static str, &'static str),
    /// (charge code, cents), in the order Acme lists them.
    pub charges: Vec<(String, i64)>,
    pub estimated_delivery: OffsetDateTime,
}

fn place(stop: &Option<Stop>, at: &str) -> Result<Place, Reply> {
    let a = stop.as_ref().and_then(|s| s.address.as_ref());
    let Some(a) = a else {
        return Err(Reply::invalid(
            &format!("{at}/address"),
            "address is required",
        ));
    };
    required(&a.line1, &format!("{at}/address/line1"))?;
    let country = required(&a.country, &format!("{at}/address/country"))?;
    if country.len() != 2 {
        return Err(Reply::invalid(
            &format!("{at}/address/country"),
            "expected ISO alpha-2",
        ));
    }
    Ok(Place {
        city: required(&a.city, &format!("{at}/address/city"))?.into(),
        state: a.state.clone(),
        postal_code: required(&a.postal_code, &format!("{at}/address/postalCode"))?.into(),
        country: country.into(),
    })
}

/// Validates and quotes a shipment request.
pub fn quote(b: &RequestBody) -> Result<Quote, Reply> {
    let external_ref = required(&b.external_ref, "/externalRef")?.to_string();
    required(&b.mode, "/mode")?;
    let factor = match required(&b.service_level, "/serviceLevel")? {
        "STANDARD" => (100, 3),
        "EXPEDITED" => (110, 1),
        "GUARANTEED" => (125, 2),
        other => {
            return Err(Reply::invalid(
                "/serviceLevel",
                format!("unknown {other:?}"),
            ));
        }
    };
    let pickup = place(&b.pickup, "/pickup")?;
    let delivery = place(&b.delivery, "/delivery")?;
    let consignee = b.delivery.as_ref().map_or(&None, |d| &d.name);
    let consignee = required(consignee, "/delivery/name")?.to_string();
    let window_start = b.pickup.as_ref().map_or(&None, |p| &p.window_start);
    let window_start = required_time(window_start, "/pickup/windowStart")?;
    let (mut units, mut hundredths_lb) = (0i64, 0i64);
    let hus = b.handling_units.as_deref().unwrap_or_default();
    if hus.is_empty() {
        return Err(Reply::invalid(
            "/handlingUnits",
            "at least one handling unit",
        ));
    }
    for (i, hu) in hus.iter().enumerate() {
        let at = |f: &str| format!("/handlingUnits/{i}/{f}");
        match hu.count {
            Some(n) if n > 0 => units += i64::from(n),
            _ => return Err(Reply::invalid(&at("count"), "a positive whole count")),
        }
        let w = hu.weight.as_ref();
        let value = w.and_then(|w| w.value.as_ref()).map(|v| v.to_string());
        let value = money::to_minor(value.as_deref().unwrap_or(""))
            .ok()
            .filter(|v| *v > 0)
            .ok_or_else(|| Reply::invalid(&at("weight/value"), "a positive weight"))?;
        hundredths_lb += match w.and_then(|w| w.unit.as_deref()) {
            Some("LB") => value,
            Some("KG") => money::scale_half_up(value, 220_462, 100_000),
            _ => return Err(Reply::invalid(&at("weight/unit"), "LB or KG")),
        };
    }
    let base = hundredths_lb * CENTS_PER_CWT + units * CENTS_PER_HANDLING_UNIT * 10_000;
    let linehaul = money::scale_half_up(base, factor.0, 1_000_000).max(MIN_LINEHAUL);
    let mut charges = vec![
        ("LINEHAUL".to_string(), linehaul),
        (
            "FUEL".to_string(),
            money::scale_half_up(linehaul, QUOTE_FUEL_PPM, 1_000_000),
        ),
    ];
    for (i, a) in b.accessorials.iter().flatten().enumerate() {
        let Some((_, code, cents)) = ACCESSORIALS.iter().find(|(name, ..)| name == a) else {
            return Err(Reply::invalid(
                &format!("/accessorials/{i}"),
                format!("Acme does not offer {a:?}"),
            ));
        };
        charges.push((code.to_string(), *cents));
    }
    let requested = b.delivery.as_ref().and_then(|d| d.requested_by.as_deref());
    Ok(Quote {
        carrier: CARRIERS[(fnv1a(&external_ref) % 3) as usize],
        estimated_delivery: eta(requested, window_start, factor.1)?,
        external_ref,
        consignee,
        pickup,
        delivery,
        charges,
    })
}

impl Quote {
    /// The shipment this quote books as the TMS's `n`-th (0-based): ids
    /// `TMS-<88123 + n>`, PRO and BOL in the carrier's number series.
    pub fn into_shipment(self, n: u64) -> Shipment {
        Shipment {
            tms_shipment_id: format!("TMS-{}", 88_123 + n),
            external_ref: self.external_ref,
            status: "BOOKED".into(),
            status_at: None,
            carrier_scac: self.carrier.0.into(),
            carrier_name: self.carrier.1.into(),
            pro_number: format!("{:010}", 123_456_789 + n),
            bol: format!("{:08}", 75_027_674 + n),
            consignee: self.consignee,
            pickup: self.pickup,
            delivery: self.delivery,
            currency: "USD".into(),
            quoted: self.charges,
            estimated_delivery: self.estimated_delivery,
            milestones: Vec::new(),
            delivered_at: None,
            final_charges: None,
            updated_at: clock::now(),
        }
    }
}

/// The booking answer (`acme-tms.shipment-booking.json`).
pub fn answer(s: &Shipment) -> Value {
    let charges: Vec<Value> = s
        .quoted
        .iter()
        .map(|(code, cents)| {
            json!({"code": code, "amount": money::to_decimal(*cents), "currency": s.currency})
        })
        .collect();
    json!({
        "status": "BOOKED", "tmsShipmentId": s.tms_shipment_id, "externalRef": s.external_ref,
        "carrier": {"scac": s.carrier_scac, "name": s.carrier_name},
        "proNumber": s.pro_number, "bol": s.bol, "quotedCharges": charges,
        "estimatedDelivery": clock::rfc3339(s.estimated_delivery),
    })
}

/// 10:00 Central (-05:00) on the requested day, else `transit_days` after
/// the pickup day.
fn eta(
    requested: Option<&str>,
    pickup: OffsetDateTime,
    transit_days: i64,
) -> Result<OffsetDateTime, Reply> {
    let central = UtcOffset::from_hms(-5, 0, 0).unwrap_or(UtcOffset::UTC);
    let date = match requested {
        Some(d) => time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| Reply::invalid("/delivery/requestedBy", "expected YYYY-MM-DD"))?,
        None => pickup.date() + Duration::days(transit_days),
    };
    Ok(date
        .with_hms(10, 0, 0)
        .unwrap_or(date.midnight())
        .assume_offset(central))
}

/// FNV-1a: a stable hash of the order id (the carrier choice must not vary
/// between runs, as `DefaultHasher` may).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
