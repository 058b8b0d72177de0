//! The canonical documents plugins produce and consume, in one place.
//!
//! Vendor formats map into these and out of them (hub and spoke). Field names
//! are snake_case; money is integer minor units plus an ISO 4217 currency;
//! times are RFC 3339 with an offset; countries are ISO 3166-1 alpha-2.
//! Every document carries the canonical business ids (order id, shipment id,
//! carrier SCAC, ...) and keeps the source system's own id alongside in
//! [`SourceRef`]. The schema ids below are the versions these shapes match;
//! `schemas/` holds the JSON Schemas the host validates them against.

use serde::{Deserialize, Serialize};

/// Schema id of [`ShipmentEvent`].
pub const SHIPMENT_EVENT: &str = "shipment-event@1.0";
/// Schema id of [`ChargePackage`].
pub const CHARGE_PACKAGE: &str = "charge-package@1.0";
/// Schema id of [`Order`].
pub const ORDER: &str = "order@1.0";
/// Schema id of [`Invoice`] (also reads every `invoice@1.0`: 1.1 only adds
/// optional fields).
pub const INVOICE: &str = "invoice@1.1";

/// Where a canonical document came from: the system and its own id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    /// System name, e.g. `acme-tms`, `northwind-erp`, `carrier-edi`.
    pub system: String,
    /// The source system's id of this record or event.
    pub id: String,
}

/// Geographic coordinates (WGS 84).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coordinates {
    /// Latitude in degrees.
    pub lat: f64,
    /// Longitude in degrees.
    pub lon: f64,
}

/// A place: a facility, a stop, or where an event happened.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Location {
    /// The owner's location code, e.g. a warehouse code `WH-RUMFORD-ME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_code: Option<String>,
    /// Facility or party name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Street address line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line1: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State, province or region code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// UN/LOCODE, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlocode: Option<String>,
    /// Coordinates, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinates: Option<Coordinates>,
}

/// Shipment milestones, the canonical codes every status maps onto.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Milestone {
    /// The carrier accepted the shipment.
    Booked,
    /// A driver/truck was dispatched.
    Dispatched,
    /// Arrived at the pickup location.
    ArrivedPickup,
    /// Departed the pickup location with the freight.
    DepartedPickup,
    /// Moving between pickup and delivery.
    InTransit,
    /// Late; `reason_code` says why.
    Delayed,
    /// Arrived at the delivery location.
    ArrivedDelivery,
    /// Delivered to the consignee.
    Delivered,
    /// Proof of delivery is available.
    PodAvailable,
    /// Something went wrong; `reason_code` says what.
    Exception,
    /// The shipment was cancelled.
    Cancelled,
}

/// A stop of a shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopRef {
    /// Stop id, `<shipment_id>-<sequence>`.
    pub stop_id: String,
    /// 1-based sequence.
    pub sequence: u32,
    /// `PICKUP` or `DELIVERY`.
    #[serde(rename = "type")]
    pub stop_type: String,
}

/// One status change of a shipment (schema `shipment-event@1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentEvent {
    /// Canonical event id, derived deterministically from the source.
    pub event_id: String,
    /// The source system and its event id.
    pub source: SourceRef,
    /// Canonical shipment id: the bill of lading number every party carries.
    pub shipment_id: String,
    /// Canonical order id (the ERP sales order), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// Canonical customer id (the ERP customer number), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// The TMS's own shipment id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tms_shipment_id: Option<String>,
    /// Carrier SCAC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier_scac: Option<String>,
    /// Carrier PRO (tracking) number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pro_number: Option<String>,
    /// The milestone reached.
    pub milestone: Milestone,
    /// The vendor's status code, kept for audit (e.g. `D1`, `IN_TRANSIT`).
    pub source_status_code: String,
    /// Reason for delays and exceptions (vendor code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// When it happened, RFC 3339 with offset.
    pub event_time: String,
    /// Where it happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Estimated delivery, RFC 3339 with offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta: Option<String>,
    /// The stop the event concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<StopRef>,
}

impl ShipmentEvent {
    /// An event with the required fields set and every optional one empty.
    pub fn new(
        event_id: impl Into<String>,
        source: SourceRef,
        shipment_id: impl Into<String>,
        milestone: Milestone,
        source_status_code: impl Into<String>,
        event_time: impl Into<String>,
    ) -> Self {
        Self {
            event_id: event_id.into(),
            source,
            shipment_id: shipment_id.into(),
            order_id: None,
            customer_id: None,
            tms_shipment_id: None,
            carrier_scac: None,
            pro_number: None,
            milestone,
            source_status_code: source_status_code.into(),
            reason_code: None,
            event_time: event_time.into(),
            location: None,
            eta: None,
            stop: None,
        }
    }
}

/// Where a charge figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChargeSource {
    /// Quoted at booking.
    Quoted,
    /// The carrier's final figure.
    CarrierFinal,
    /// What billing invoiced the customer.
    Billed,
}

/// Canonical charge codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChargeCode {
    /// Base freight.
    Linehaul,
    /// Fuel surcharge.
    Fuel,
    /// Liftgate accessorial.
    Liftgate,
    /// Expedited service.
    Expedite,
    /// Waiting time.
    Detention,
    /// Residential delivery.
    Residential,
    /// Inside delivery.
    InsideDelivery,
    /// Discount (negative amount).
    Discount,
    /// Tax.
    Tax,
    /// Anything else; `source_code` keeps the vendor's code.
    Other,
}

/// One charge line (schema `charge@1`, inside a package).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    /// Canonical charge id: `<shipment_id>:<source>:<line>`.
    pub charge_id: String,
    /// Canonical code.
    pub code: ChargeCode,
    /// The vendor's own code (e.g. `FUE`, `FRT-FUEL`).
    pub source_code: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Amount in integer minor units (cents); negative for discounts.
    pub amount_minor: i64,
    /// ISO 4217 currency, upper case.
    pub currency: String,
    /// Quoted, carrier-final or billed.
    pub source: ChargeSource,
}

/// The charges of one shipment from one source (schema `charge-package@1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargePackage {
    /// Canonical package id: `<shipment_id>:<source>:<source id>`.
    pub package_id: String,
    /// Where the figures come from.
    pub source: SourceRef,
    /// Canonical shipment id (bill of lading).
    pub shipment_id: String,
    /// Canonical order id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// Carrier SCAC, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier_scac: Option<String>,
    /// The carrier's or billing's invoice number, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    /// ISO 4217 currency of every line.
    pub currency: String,
    /// The lines.
    pub charges: Vec<Charge>,
    /// Sum of `amount_minor` over the lines.
    pub total_minor: i64,
    /// Figures to compare against (e.g. the quote), when the source sent them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_charges: Vec<Charge>,
}

/// A quantity with its unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    /// The value.
    pub value: f64,
    /// Unit code, e.g. `LB`, `KG`, `EA`.
    pub unit: String,
}

/// A customer reference on a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRef {
    /// Canonical customer id (the ERP customer number).
    pub customer_id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One order line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    /// 1-based line number.
    pub line_no: u32,
    /// Item code.
    pub item_code: String,
    /// Item description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Ordered quantity.
    pub quantity: f64,
    /// Unit of measure.
    pub uom: String,
    /// Weight of one unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_weight: Option<Measure>,
    /// Unit price in minor units.
    pub unit_price_minor: i64,
    /// Line amount in minor units.
    pub amount_minor: i64,
}

/// A released sales order (schema `order@1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Canonical order id (the ERP sales order number).
    pub order_id: String,
    /// The source system and its event/record id.
    pub source: SourceRef,
    /// When the order was released, RFC 3339.
    pub released_at: String,
    /// Selling company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// The customer.
    pub customer: CustomerRef,
    /// The customer's purchase order number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_po: Option<String>,
    /// Order date, `YYYY-MM-DD`.
    pub order_date: String,
    /// Requested delivery date, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_delivery_date: Option<String>,
    /// ISO 4217 currency.
    pub currency: String,
    /// Where it ships from.
    pub ship_from: Location,
    /// Where it ships to.
    pub ship_to: Location,
    /// Incoterm, e.g. `FOB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incoterm: Option<String>,
    /// Service level, e.g. `STANDARD`, `EXPEDITED`.
    pub service_level: String,
    /// The ERP's shipping rule, e.g. `LTL-STANDARD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_rule: Option<String>,
    /// Accessorial services requested, e.g. `LIFTGATE`.
    pub accessorials: Vec<String>,
    /// The lines.
    pub lines: Vec<OrderLine>,
    /// Total weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_weight: Option<Measure>,
    /// Order total in minor units.
    pub total_minor: i64,
}

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceLine {
    /// 1-based line number.
    pub line_no: u32,
    /// Canonical id of the charge this line bills, when traceable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_id: Option<String>,
    /// Canonical charge code.
    pub code: ChargeCode,
    /// The billing system's item or SKU code, e.g. `FRT-FUEL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_code: Option<String>,
    /// Line description as printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Quantity billed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<f64>,
    /// Unit amount in minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_amount_minor: Option<i64>,
    /// Line amount in minor units, before tax.
    pub amount_minor: i64,
    /// GL revenue account (1.1), set by GL coding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gl_account: Option<String>,
}

/// One tax on an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceTax {
    /// Tax code, e.g. `SALES`, `HST`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Rate in basis points (500 = 5%).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_bps: Option<u32>,
    /// Tax amount in minor units.
    pub amount_minor: i64,
    /// GL tax account (1.1), set by GL coding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

/// The only approval decision an invoice carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApprovalStatus {
    /// Approved to post.
    Approved,
}

/// Who approved an invoice for posting (1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The decision.
    pub status: ApprovalStatus,
    /// `policy:<name>` or `user:<login>`.
    pub approved_by: String,
}

/// A customer invoice ready to post to ERP receivables (schema `invoice@1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    /// The invoice number as printed.
    pub invoice_id: String,
    /// The billing system and its own id.
    pub source: SourceRef,
    /// Canonical customer id billed.
    pub customer_id: String,
    /// Canonical order id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// Canonical shipment id (bill of lading), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_id: Option<String>,
    /// The TMS's shipment id, when billing referenced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tms_shipment_id: Option<String>,
    /// ISO 4217 currency of every amount.
    pub currency: String,
    /// Invoice date, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_date: Option<String>,
    /// Payment due date, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// When the billing system created the invoice, RFC 3339 (1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_created_at: Option<String>,
    /// The lines.
    pub lines: Vec<InvoiceLine>,
    /// Sum of the line amounts, before tax.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtotal_minor: Option<i64>,
    /// Taxes applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taxes: Vec<InvoiceTax>,
    /// Grand total, tax included.
    pub total_minor: i64,
    /// The quote to compare against (1.1), filled by the approval step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_charges: Vec<Charge>,
    /// The approval decision (1.1), once approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
}

/// Whether `schema_id` is some minor of `<entity>@<major>`, e.g.
/// `is_version_of("invoice@1.0", "invoice", 1)`. Minors only add optional
/// fields, so a consumer of one minor reads them all.
pub fn is_version_of(schema_id: &str, entity: &str, major: u32) -> bool {
    let Some((name, version)) = schema_id.split_once('@') else {
        return false;
    };
    let Some((m, minor)) = version.split_once('.') else {
        return false;
    };
    name == entity
        && m.parse::<u32>() == Ok(major)
        && !minor.is_empty()
        && minor.bytes().all(|b| b.is_ascii_digit())
}

/// Converts a decimal amount string (`"612.40"`, `"-3.5"`, `"75"`) into
/// integer minor units with `exponent` digits, refusing more precision than
/// the currency has. Never goes through floating point.
pub fn decimal_to_minor(raw: &str, exponent: u32) -> Result<i64, String> {
    let s = raw.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let valid = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() && frac.is_empty() || !valid(int) || !valid(frac) {
        return Err(format!("{raw:?} is not a decimal amount"));
    }
    if frac.len() > exponent as usize {
        let extra = &frac[exponent as usize..];
        if extra.bytes().any(|b| b != b'0') {
            return Err(format!("{raw:?} has more than {exponent} decimal places"));
        }
    }
    let mut frac_digits: String = frac.chars().take(exponent as usize).collect();
    while frac_digits.len() < exponent as usize {
        frac_digits.push('0');
    }
    let joined = format!("{}{}", if int.is_empty() { "0" } else { int }, frac_digits);
    let value: i64 = joined
        .parse()
        .map_err(|_| format!("{raw:?} is out of range"))?;
    Ok(if neg { -value } else { value })
}

/// Decimal places of an ISO 4217 currency (2 unless listed otherwise).
pub fn currency_exponent(currency: &str) -> u32 {
    match currency.to_ascii_uppercase().as_str() {
        "JPY" | "KRW" | "CLP" | "ISK" | "VND" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    }
}

/// Formats minor units back as a decimal string with the currency's places.
pub fn minor_to_decimal(amount: i64, currency: &str) -> String {
    let exp = currency_exponent(currency);
    if exp == 0 {
        return amount.to_string();
    }
    let scale = 10i64.pow(exp);
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        abs / scale as u64,
        abs % scale as u64,
        width = exp as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_become_minor_units_exactly() {
        assert_eq!(decimal_to_minor("612.40", 2), Ok(61240));
        assert_eq!(decimal_to_minor("47.3", 2), Ok(4730));
        assert_eq!(decimal_to_minor("75", 2), Ok(7500));
        assert_eq!(decimal_to_minor("-3017.91", 2), Ok(-301791));
        assert_eq!(decimal_to_minor("0.10", 2), Ok(10));
        assert!(decimal_to_minor("1.005", 2).is_err());
        assert!(decimal_to_minor("abc", 2).is_err());
        assert!(decimal_to_minor("", 2).is_err());
        assert_eq!(minor_to_decimal(61240, "USD"), "612.40");
        assert_eq!(minor_to_decimal(-5, "USD"), "-0.05");
        assert_eq!(minor_to_decimal(500, "JPY"), "500");
    }

    #[test]
    fn versions_of_a_major() {
        assert!(is_version_of("invoice@1.0", "invoice", 1));
        assert!(is_version_of("invoice@1.12", "invoice", 1));
        assert!(!is_version_of("invoice@2.0", "invoice", 1));
        assert!(!is_version_of("invoice@1", "invoice", 1));
        assert!(!is_version_of("invoice@1.x", "invoice", 1));
        assert!(!is_version_of("invoices@1.0", "invoice", 1));
        assert!(!is_version_of("vendor:invoice@1.0", "invoice", 1));
    }
}
