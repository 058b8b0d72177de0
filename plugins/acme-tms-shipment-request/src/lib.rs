//! Outbound mapper: canonical `order@1.0` -> Acme TMS shipment request
//! (`vendor:acme-tms.shipment-request@1`), the synchronous booking call.
//!
//! When Northwind ERP releases a sales order, Acme TMS must be asked to move
//! it. The order says what and where to; the rest of what Acme wants (the
//! warehouse's street address and time zone, the pickup window, mode, freight
//! class, which items are pallets) is the distributor's operating knowledge,
//! kept in plugin configuration so it changes without a rebuild.
//!
//! Configuration:
//! - `warehouses` (required): JSON object, warehouse code -> address and UTC
//!   offset: `{"WH-RUMFORD-ME": {"line1": "1 Dump Road", "city": "Rumford",
//!   "state": "ME", "postalCode": "04276", "country": "US", "utcOffset":
//!   "-04:00"}}` (`state` optional);
//! - `pickup_window` (required): `"HH:MM-HH:MM"`, local to the warehouse;
//! - `mode` (default `LTL`), `freight_class` (default `70`);
//! - `pallet_item_codes` (default `PAL-STD`): item codes, separated by `,` or
//!   `;`, whose lines are pallets;
//! - `handling_unit_description` (optional): the handling unit's description;
//!   without it the first non-pallet line's description (or item code).
//!
//! Rules:
//! - the pickup date is the date of `released_at` *at the warehouse* (its
//!   configured UTC offset), so a release late in the evening in UTC does not
//!   book the next day; no clock is read, the plugin stays deterministic;
//! - one `PALLET` handling unit: count = the summed quantities of the pallet
//!   lines (whole numbers), weight = the order's `total_weight`, else the sum
//!   of the lines' unit weights times quantities (one unit for all lines);
//! - delivery name = `ship_to.name`, else the customer's name;
//! - references: `PO` (customer PO, when there is one) and `CUSTOMER`.
//!
//! The golden case for the real ERP sample reproduces
//! `acme-tms.shipment-request.json` exactly when configured with
//! `handling_unit_description = "Paper rolls"`: the ERP only knows the item
//! name "Paper roll 40# Consolite", and the sample's plural "Paper rolls" is a
//! person's summary no rule can derive (without that key the description is
//! the item name). Known limitation: `utcOffset` is fixed, so a warehouse that
//! observes daylight saving needs its offset changed twice a year.
//!
//! The business key is the order id.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use waybill_sdk::canonical::{self, Location, Order};
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo, Violation, config};

/// Schema id of Acme TMS's shipment request.
pub const SHIPMENT_REQUEST: &str = "vendor:acme-tms.shipment-request@1";

/// Config key: warehouse addresses and offsets (JSON).
pub const WAREHOUSES: &str = "warehouses";
/// Config key: pickup window `HH:MM-HH:MM`, local to the warehouse.
pub const PICKUP_WINDOW: &str = "pickup_window";
/// Config key: transport mode.
pub const MODE: &str = "mode";
/// Config key: NMFC freight class.
pub const FREIGHT_CLASS: &str = "freight_class";
/// Config key: item codes of pallet lines.
pub const PALLET_ITEM_CODES: &str = "pallet_item_codes";
/// Config key: handling unit description.
pub const HANDLING_UNIT_DESCRIPTION: &str = "handling_unit_description";

/// The plugin.
pub struct AcmeTmsShipmentRequest;

impl Plugin for AcmeTmsShipmentRequest {
    fn describe() -> PluginInfo {
        PluginInfo::mapper(
            "acme-tms-shipment-request",
            env!("CARGO_PKG_VERSION"),
            &[canonical::ORDER],
            &[SHIPMENT_REQUEST],
        )
        .with_config_keys(&[
            WAREHOUSES,
            PICKUP_WINDOW,
            MODE,
            FREIGHT_CLASS,
            PALLET_ITEM_CODES,
            HANDLING_UNIT_DESCRIPTION,
        ])
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        input.expect_canonical("acme-tms-shipment-request", canonical::ORDER)?;
        let settings = Settings::from_config()?;
        let order: Order = input.json()?;
        let request = to_request(&order, &settings)?;
        Ok(vec![Output::json(
            SHIPMENT_REQUEST,
            &order.order_id,
            &request,
        )?])
    }
}

waybill_sdk::export!(AcmeTmsShipmentRequest);

// ---------------------------------------------------------------- vendor shape

/// The request body Acme TMS accepts (field names fixed by Acme).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentRequest {
    /// Our reference: the sales order.
    pub external_ref: String,
    /// Transport mode.
    pub mode: String,
    /// Service level.
    pub service_level: String,
    /// Accessorial services.
    pub accessorials: Vec<String>,
    /// Where and when to collect.
    pub pickup: Pickup,
    /// Where to deliver, and by when.
    pub delivery: Delivery,
    /// What is moved.
    pub handling_units: Vec<HandlingUnit>,
    /// Typed references.
    pub references: Vec<Reference>,
}

/// Acme's postal address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Street line.
    pub line1: String,
    /// City.
    pub city: String,
    /// State or region, when the country has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
}

/// The pickup.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pickup {
    /// Warehouse code.
    pub location_code: String,
    /// Warehouse address.
    pub address: Address,
    /// Window start, RFC 3339 local to the warehouse.
    pub window_start: String,
    /// Window end, RFC 3339 local to the warehouse.
    pub window_end: String,
}

/// The delivery.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// Consignee name.
    pub name: String,
    /// Consignee address.
    pub address: Address,
    /// Requested delivery date, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
}

/// A weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Weight {
    /// Value.
    pub value: f64,
    /// Unit, e.g. `LB`.
    pub unit: String,
}

/// A group of identical handling units.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HandlingUnit {
    /// Unit type, `PALLET`.
    #[serde(rename = "type")]
    pub unit_type: String,
    /// How many.
    pub count: u32,
    /// Total weight.
    pub weight: Weight,
    /// NMFC freight class.
    pub freight_class: String,
    /// What is on them.
    pub description: String,
}

/// A typed reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reference {
    /// `PO` or `CUSTOMER`.
    #[serde(rename = "type")]
    pub ref_type: String,
    /// The value.
    pub value: String,
}

// ------------------------------------------------------------------ settings

/// One configured warehouse.
#[derive(Debug, Clone, PartialEq)]
pub struct Warehouse {
    /// Its address.
    pub address: Address,
    /// Its UTC offset as written (`-04:00`).
    pub utc_offset: String,
    /// The offset in minutes east of UTC.
    pub offset_minutes: i32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WarehouseConfig {
    #[serde(flatten)]
    address: Address,
    utc_offset: String,
}

/// The plugin's configuration, parsed and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Warehouses by code.
    pub warehouses: BTreeMap<String, Warehouse>,
    /// Pickup window start and end, `HH:MM`.
    pub pickup_window: (String, String),
    /// Transport mode.
    pub mode: String,
    /// Freight class.
    pub freight_class: String,
    /// Pallet item codes.
    pub pallet_item_codes: Vec<String>,
    /// Fixed handling unit description.
    pub handling_unit_description: Option<String>,
}

impl Settings {
    /// Reads and checks every key; all problems are reported at once.
    pub fn from_config() -> Result<Self, PluginError> {
        Self::parse(&|key| config::get(key))
    }

    /// Reads and checks every key through `get`.
    pub fn parse(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, PluginError> {
        let mut problems = Vec::new();
        let text = |key: &str, default: &str| {
            get(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_string())
        };

        let warehouses = match get(WAREHOUSES) {
            None => {
                problems.push(Violation::new(
                    format!("config/{WAREHOUSES}"),
                    "required",
                    "warehouses (JSON: code -> address and utcOffset) is required",
                ));
                BTreeMap::new()
            }
            Some(raw) => parse_warehouses(&raw, &mut problems),
        };

        let pickup_window = match get(PICKUP_WINDOW) {
            None => {
                problems.push(Violation::new(
                    format!("config/{PICKUP_WINDOW}"),
                    "required",
                    "pickup_window (\"HH:MM-HH:MM\", local to the warehouse) is required",
                ));
                (String::new(), String::new())
            }
            Some(raw) => match parse_window(&raw) {
                Ok(w) => w,
                Err(why) => {
                    problems.push(Violation::new(
                        format!("config/{PICKUP_WINDOW}"),
                        "invalid-config",
                        why,
                    ));
                    (String::new(), String::new())
                }
            },
        };

        let pallet_item_codes: Vec<String> = text(PALLET_ITEM_CODES, "PAL-STD")
            .split([',', ';'])
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect();
        if pallet_item_codes.is_empty() {
            problems.push(Violation::new(
                format!("config/{PALLET_ITEM_CODES}"),
                "invalid-config",
                "pallet_item_codes lists no item code",
            ));
        }

        if !problems.is_empty() {
            return Err(PluginError::invalid_all(problems));
        }
        Ok(Settings {
            warehouses,
            pickup_window,
            mode: text(MODE, "LTL"),
            freight_class: text(FREIGHT_CLASS, "70"),
            pallet_item_codes,
            handling_unit_description: get(HANDLING_UNIT_DESCRIPTION)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty()),
        })
    }
}

fn parse_warehouses(raw: &str, problems: &mut Vec<Violation>) -> BTreeMap<String, Warehouse> {
    let path = format!("config/{WAREHOUSES}");
    let entries: BTreeMap<String, serde_json::Value> = match serde_json::from_str(raw) {
        Ok(map) => map,
        Err(e) => {
            problems.push(Violation::new(
                path,
                "invalid-config",
                format!("warehouses must be a JSON object of code -> warehouse: {e}"),
            ));
            return BTreeMap::new();
        }
    };
    let mut out = BTreeMap::new();
    for (code, value) in entries {
        let here = format!("{path}/{}", code.replace('~', "~0").replace('/', "~1"));
        let parsed: WarehouseConfig = match serde_json::from_value(value) {
            Ok(w) => w,
            Err(e) => {
                problems.push(Violation::new(here, "invalid-config", e.to_string()));
                continue;
            }
        };
        match parse_offset(&parsed.utc_offset) {
            Some(offset_minutes) => {
                out.insert(
                    code,
                    Warehouse {
                        address: parsed.address,
                        utc_offset: parsed.utc_offset,
                        offset_minutes,
                    },
                );
            }
            None => problems.push(Violation::new(
                format!("{here}/utcOffset"),
                "invalid-config",
                format!(
                    "{:?} is not a UTC offset like \"-04:00\"",
                    parsed.utc_offset
                ),
            )),
        }
    }
    out
}

/// `"HH:MM-HH:MM"` with start before end.
fn parse_window(raw: &str) -> Result<(String, String), String> {
    let bad = || {
        format!("{raw:?} is not a window like \"10:00-16:00\" (start before end, 24-hour clock)")
    };
    let (start, end) = raw.split_once('-').ok_or_else(bad)?;
    let (start, end) = (start.trim(), end.trim());
    match (parse_hhmm(start), parse_hhmm(end)) {
        (Some(s), Some(e)) if s < e => Ok((start.to_string(), end.to_string())),
        _ => Err(bad()),
    }
}

/// Minutes after midnight of a strict `HH:MM`.
fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: u32 = digits(h)?;
    let m: u32 = digits(m)?;
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// Minutes east of UTC of `Z` or `±HH:MM`.
fn parse_offset(s: &str) -> Option<i32> {
    if s == "Z" {
        return Some(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let minutes = parse_hhmm(rest)? as i32;
    (minutes <= 14 * 60).then_some(sign * minutes)
}

fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

// ------------------------------------------------------------------- mapping

/// Maps one canonical order to Acme's shipment request; every problem with
/// the order is reported at once.
pub fn to_request(order: &Order, settings: &Settings) -> Result<ShipmentRequest, PluginError> {
    let mut problems = Vec::new();

    // Pickup: the configured warehouse, on the local date of the release.
    let warehouse = match non_blank(&order.ship_from.location_code) {
        None => {
            problems.push(Violation::new(
                "/ship_from/location_code",
                "required",
                "the warehouse code is required to book a pickup",
            ));
            None
        }
        Some(code) => match settings.warehouses.get(&code) {
            Some(w) => Some((code, w)),
            None => {
                problems.push(Violation::new(
                    "/ship_from/location_code",
                    "unknown-warehouse",
                    format!("warehouse {code:?} is not in config {WAREHOUSES}"),
                ));
                None
            }
        },
    };
    let released = match parse_rfc3339_minutes(&order.released_at) {
        Some(m) => Some(m),
        None => {
            problems.push(Violation::new(
                "/released_at",
                "invalid-datetime",
                format!(
                    "{:?} is not an RFC 3339 date-time with offset",
                    order.released_at
                ),
            ));
            None
        }
    };

    // Delivery.
    let delivery_name = non_blank(&order.ship_to.name).or_else(|| non_blank(&order.customer.name));
    if delivery_name.is_none() {
        problems.push(Violation::new(
            "/ship_to/name",
            "required",
            "a consignee name is required (ship_to.name or customer.name)",
        ));
    }
    let delivery_address = address_of(&order.ship_to, "/ship_to", &mut problems);

    // Handling unit.
    let is_pallet = |code: &str| settings.pallet_item_codes.iter().any(|p| p == code);
    let mut pallets: u64 = 0;
    for (i, line) in order
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| is_pallet(&l.item_code))
    {
        let q = line.quantity;
        if q.is_finite() && q >= 0.0 && q.fract() == 0.0 && q <= f64::from(u32::MAX) {
            pallets += q as u64;
        } else {
            problems.push(Violation::new(
                format!("/lines/{i}/quantity"),
                "invalid-quantity",
                format!(
                    "pallet line {} has quantity {q}: pallets are counted in whole numbers",
                    line.line_no
                ),
            ));
        }
    }
    let count = u32::try_from(pallets).unwrap_or(u32::MAX);
    if pallets == 0 && problems.iter().all(|p| !p.path.ends_with("/quantity")) {
        problems.push(Violation::new(
            "/lines",
            "no-handling-units",
            format!(
                "no pallets on the order: no line has an item code in {PALLET_ITEM_CODES} ({})",
                settings.pallet_item_codes.join(", ")
            ),
        ));
    }
    let weight = weight_of(order, &mut problems);
    let description = settings.handling_unit_description.clone().or_else(|| {
        order
            .lines
            .iter()
            .find(|l| !is_pallet(&l.item_code))
            .map(|l| non_blank(&l.description).unwrap_or_else(|| l.item_code.clone()))
    });
    if description.is_none() {
        problems.push(Violation::new(
            "/lines",
            "no-freight",
            format!("every line is a pallet, nothing describes the freight (set config {HANDLING_UNIT_DESCRIPTION})"),
        ));
    }

    if !problems.is_empty() {
        return Err(PluginError::invalid_all(problems));
    }
    let (
        Some((location_code, warehouse)),
        Some(released),
        Some(name),
        Some(address),
        Some(weight),
        Some(description),
    ) = (
        warehouse,
        released,
        delivery_name,
        delivery_address,
        weight,
        description,
    )
    else {
        // Every `None` above recorded a problem, so this is unreachable; an
        // error value keeps it a refusal rather than a trap all the same.
        return Err(PluginError::rejected("incomplete order"));
    };

    let local_date = date_of_minutes(released + i64::from(warehouse.offset_minutes));
    let (start, end) = &settings.pickup_window;
    let mut references = Vec::new();
    if let Some(po) = non_blank(&order.customer_po) {
        references.push(Reference {
            ref_type: "PO".into(),
            value: po,
        });
    }
    references.push(Reference {
        ref_type: "CUSTOMER".into(),
        value: order.customer.customer_id.clone(),
    });

    Ok(ShipmentRequest {
        external_ref: order.order_id.clone(),
        mode: settings.mode.clone(),
        service_level: order.service_level.clone(),
        accessorials: order.accessorials.clone(),
        pickup: Pickup {
            location_code,
            address: warehouse.address.clone(),
            window_start: format!("{local_date}T{start}:00{}", warehouse.utc_offset),
            window_end: format!("{local_date}T{end}:00{}", warehouse.utc_offset),
        },
        delivery: Delivery {
            name,
            address,
            requested_by: non_blank(&order.requested_delivery_date),
        },
        handling_units: vec![HandlingUnit {
            unit_type: "PALLET".into(),
            count,
            weight,
            freight_class: settings.freight_class.clone(),
            description,
        }],
        references,
    })
}

/// Acme's address from a canonical location; missing parts are violations
/// under `base` (the state is optional: not every country has one).
fn address_of(loc: &Location, base: &str, problems: &mut Vec<Violation>) -> Option<Address> {
    let mut need = |value: &Option<String>, field: &str| {
        let v = non_blank(value);
        if v.is_none() {
            problems.push(Violation::new(
                format!("{base}/{field}"),
                "required",
                format!("{base}/{field} is required for the delivery address"),
            ));
        }
        v
    };
    let line1 = need(&loc.address_line1, "address_line1");
    let city = need(&loc.city, "city");
    let postal_code = need(&loc.postal_code, "postal_code");
    let country = need(&loc.country, "country");
    Some(Address {
        line1: line1?,
        city: city?,
        state: non_blank(&loc.region),
        postal_code: postal_code?,
        country: country?,
    })
}

/// The order's total weight, else the sum over lines that all carry a unit
/// weight in one unit.
fn weight_of(order: &Order, problems: &mut Vec<Violation>) -> Option<Weight> {
    if let Some(total) = &order.total_weight {
        if !(total.value.is_finite() && total.value > 0.0) {
            problems.push(Violation::new(
                "/total_weight/value",
                "invalid-weight",
                format!("total weight {} is not a positive number", total.value),
            ));
            return None;
        }
        return Some(Weight {
            value: total.value,
            unit: total.unit.trim().to_ascii_uppercase(),
        });
    }
    let mut unit: Option<String> = None;
    let mut sum = 0.0;
    for line in &order.lines {
        let Some(w) = &line.unit_weight else {
            unit = None;
            sum = f64::NAN;
            break;
        };
        let u = w.unit.trim().to_ascii_uppercase();
        if unit.as_ref().is_some_and(|seen| *seen != u) {
            unit = None;
            sum = f64::NAN;
            break;
        }
        unit = Some(u);
        sum += w.value * line.quantity;
    }
    match unit {
        Some(unit) if sum.is_finite() && sum > 0.0 => Some(Weight {
            value: (sum * 1000.0).round() / 1000.0,
            unit,
        }),
        _ => {
            problems.push(Violation::new(
                "/total_weight",
                "required",
                "the order has no total_weight and its lines' unit weights do not add up to one (missing or mixed units)",
            ));
            None
        }
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

// --------------------------------------------------------------- date & time

/// Minutes since 1970-01-01T00:00Z of an RFC 3339 date-time with offset
/// (`2026-05-27T08:15:04Z`, `...T08:15:04.5-04:00`); seconds are dropped.
pub fn parse_rfc3339_minutes(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.len() < 20 || !s.is_char_boundary(10) || !s.is_char_boundary(11) {
        return None;
    }
    let (date, rest) = (&s[..10], &s[11..]);
    if !matches!(s.as_bytes()[10], b'T' | b't' | b' ') {
        return None;
    }
    let days = parse_date(date)?;
    // time: HH:MM:SS[.frac] then offset
    let time = rest.get(..8)?;
    let (hm, sec) = (time.get(..5)?, time.get(5..)?);
    let minutes = parse_hhmm(hm)? as i64;
    let sec: u32 = digits(sec.strip_prefix(':')?)?;
    if sec > 60 {
        return None;
    }
    let mut tail = &rest[8..];
    if let Some(frac) = tail.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        tail = &frac[n..];
    }
    let offset = if tail.eq_ignore_ascii_case("z") {
        0
    } else {
        parse_offset(tail)?
    };
    Some(days * 1440 + minutes - i64::from(offset))
}

/// Days since 1970-01-01 of a strict `YYYY-MM-DD`.
fn parse_date(s: &str) -> Option<i64> {
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, u32, u32) = (digits(y)?, digits(m)?, digits(d)?);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's days_from_civil.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` of a count of minutes since the epoch (Hinnant's
/// civil_from_days).
fn date_of_minutes(minutes: i64) -> String {
    let z = minutes.div_euclid(1440) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rfc3339_and_local_dates() {
        let utc = parse_rfc3339_minutes("2026-05-27T08:15:04Z").unwrap();
        assert_eq!(date_of_minutes(utc), "2026-05-27");
        assert_eq!(date_of_minutes(utc - 4 * 60), "2026-05-27");
        let late = parse_rfc3339_minutes("2026-05-27T02:30:00Z").unwrap();
        assert_eq!(date_of_minutes(late - 4 * 60), "2026-05-26");
        let offset = parse_rfc3339_minutes("2026-05-26T22:30:00.123-04:00").unwrap();
        assert_eq!(offset, late);
        assert_eq!(
            date_of_minutes(parse_rfc3339_minutes("2024-02-29T00:00:00+00:00").unwrap()),
            "2024-02-29"
        );
        assert_eq!(
            date_of_minutes(parse_rfc3339_minutes("2026-01-01T00:30:00+01:00").unwrap()),
            "2025-12-31"
        );
        for bad in [
            "2026-05-27",
            "2026-02-30T00:00:00Z",
            "2026-05-27T25:00:00Z",
            "2026-05-27T08:15:04",
            "x",
        ] {
            assert_eq!(parse_rfc3339_minutes(bad), None, "{bad}");
        }
    }

    #[test]
    fn windows_and_offsets() {
        assert_eq!(
            parse_window("10:00-16:00").unwrap(),
            ("10:00".into(), "16:00".into())
        );
        assert!(parse_window("16:00-10:00").is_err());
        assert!(parse_window("10-16").is_err());
        assert_eq!(parse_offset("-04:00"), Some(-240));
        assert_eq!(parse_offset("+05:30"), Some(330));
        assert_eq!(parse_offset("04:00"), None);
    }
}
