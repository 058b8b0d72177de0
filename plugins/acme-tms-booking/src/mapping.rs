//! Builds the canonical booking from a parsed Acme answer: the booked branch
//! (carrier, numbers, quote) or the refused one (reason).

use crate::answer::BookingAnswer;
use crate::booking::{BookingStatus, Rejection, ShipmentBooking};
use waybill_acme_tms::{ChargeList, to_charges};
use waybill_sdk::PluginError;
use waybill_sdk::canonical::SourceRef;
use waybill_sdk::problems::{Problems, trimmed};
use waybill_sdk::time::is_rfc3339;

/// The canonical name of the source system.
const SYSTEM: &str = "acme-tms";
/// The only Acme status that means booked.
const BOOKED: &str = "BOOKED";

/// Maps the answer, or lists every problem found in it.
pub fn to_booking(answer: &BookingAnswer) -> Result<ShipmentBooking, PluginError> {
    let mut p = Problems::default();
    let status = p.required(answer.status.as_deref(), "/status").trim();
    let order_id = p
        .required(answer.external_ref.as_deref(), "/externalRef")
        .trim();
    let tms_shipment_id = trimmed(answer.tms_shipment_id.as_deref());
    let shipment_id = trimmed(answer.bol.as_deref());
    let source_id = tms_shipment_id
        .clone()
        .unwrap_or_else(|| order_id.to_string());
    let mut doc = ShipmentBooking {
        order_id: order_id.into(),
        shipment_id,
        tms_shipment_id,
        source: SourceRef {
            system: SYSTEM.into(),
            id: source_id,
        },
        status: BookingStatus::Rejected,
        source_status: status.into(),
        carrier_scac: None,
        carrier_name: None,
        pro_number: None,
        estimated_delivery: None,
        quoted_charges: None,
        quoted_total_minor: None,
        currency: None,
        rejection: None,
    };
    if status.eq_ignore_ascii_case(BOOKED) {
        booked(&mut p, answer, &mut doc);
    } else if !status.is_empty() {
        rejected(&mut p, answer, &mut doc);
    }
    p.finish(doc)
}

/// The booked branch: the TMS id, the carrier and the quote are required.
fn booked(p: &mut Problems, answer: &BookingAnswer, doc: &mut ShipmentBooking) {
    doc.status = BookingStatus::Booked;
    p.required(answer.tms_shipment_id.as_deref(), "/tmsShipmentId");
    match &answer.carrier {
        None => p.push("/carrier", "required", "/carrier is required"),
        Some(carrier) => {
            let raw = p.required(carrier.scac.as_deref(), "/carrier/scac").trim();
            let scac = raw.to_ascii_uppercase();
            if (2..=4).contains(&scac.len()) && scac.bytes().all(|b| b.is_ascii_alphabetic()) {
                doc.carrier_scac = Some(scac);
            } else if !raw.is_empty() {
                p.push(
                    "/carrier/scac",
                    "invalid-scac",
                    format!("{raw:?} is not a SCAC (2-4 letters)"),
                );
            }
            doc.carrier_name = trimmed(carrier.name.as_deref());
        }
    }
    doc.pro_number = trimmed(answer.pro_number.as_deref());
    if let Some(eta) = trimmed(answer.estimated_delivery.as_deref()) {
        if is_rfc3339(&eta) {
            doc.estimated_delivery = Some(eta);
        } else {
            p.push(
                "/estimatedDelivery",
                "invalid-time",
                format!("{eta:?} is not an RFC 3339 date-time with an offset"),
            );
        }
    }
    // Quoted charge ids follow the shipment id (bill of lading); before a
    // BOL exists, the TMS's shipment id stands in for it.
    let id_prefix = doc
        .shipment_id
        .clone()
        .or_else(|| doc.tms_shipment_id.clone())
        .unwrap_or_default();
    let quote = to_charges(
        p,
        ChargeList::Quoted,
        answer.quoted_charges.as_deref(),
        &id_prefix,
    );
    doc.quoted_total_minor = Some(quote.total_minor);
    doc.currency = quote.currency;
    doc.quoted_charges = Some(quote.lines);
}

/// The refused branch: Acme's `reason` is required; carrier and quote, if
/// any, are not part of a refusal and are not read.
fn rejected(p: &mut Problems, answer: &BookingAnswer, doc: &mut ShipmentBooking) {
    let message = p.required(answer.reason.as_deref(), "/reason").trim();
    doc.rejection = Some(Rejection {
        reason_code: trimmed(answer.reason_code.as_deref()),
        message: message.into(),
    });
}
