//! Builds the canonical charge package from a parsed Acme event.

use crate::charge_code::{CODES, to_charge_code};
use crate::event::{AcmeCharge, ChargesFinal};
use crate::problems::{Problems, present};
use waybill_sdk::PluginError;
use waybill_sdk::canonical::{
    Charge, ChargeCode, ChargePackage, ChargeSource, SourceRef, currency_exponent, decimal_to_minor,
};

/// The canonical name of the source system.
const SYSTEM: &str = "acme-tms";
/// [`ChargeSource::CarrierFinal`] as it appears in canonical ids.
const SOURCE: &str = "carrier-final";

/// Maps the event, or lists every problem found in it.
pub fn to_charge_package(event: &ChargesFinal) -> Result<ChargePackage, PluginError> {
    let mut p = Problems::default();
    let event_id = p.required(event.event_id.as_deref(), "/eventId");
    let shipment = event.shipment.as_ref();
    if shipment.is_none() {
        p.push("/shipment", "required", "/shipment is required");
    }
    let bol = match shipment {
        Some(s) => p.required(s.bol.as_deref(), "/shipment/bol"),
        None => "",
    };
    let lines: &[AcmeCharge] = match &event.charges {
        None => {
            p.push("/charges", "required", "/charges is required");
            &[]
        }
        Some(lines) if lines.is_empty() => {
            p.push(
                "/charges",
                "empty",
                "final charges must list at least one charge",
            );
            &[]
        }
        Some(lines) => lines,
    };

    // The package currency is the first line's; every other line must match.
    let mut package_currency: Option<String> = None;
    let mut charges = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let line_currency = currency(&mut p, line, i);
        match (&package_currency, &line_currency) {
            (None, Some(c)) => package_currency = Some(c.clone()),
            (Some(first), Some(c)) if first != c => p.push(
                &format!("/charges/{i}/currency"),
                "mixed-currency",
                format!("charge {i} is in {c} but the first charge is in {first}; one package has one currency"),
            ),
            _ => {}
        }
        // A line without a usable currency is still checked (with two decimal
        // places) so that all of its problems are reported at once.
        let checked = charge(&mut p, line, i, bol, line_currency.as_deref().unwrap_or(""));
        if let (Some(charge), Some(_)) = (checked, line_currency) {
            charges.push(charge);
        }
    }

    let mut total: i64 = 0;
    for c in &charges {
        match total.checked_add(c.amount_minor) {
            Some(t) => total = t,
            None => {
                p.push(
                    "/charges",
                    "out-of-range",
                    "the sum of the charges overflows",
                );
                break;
            }
        }
    }

    let text = |v: Option<&String>| present(v.map(String::as_str)).map(str::to_string);
    let package = ChargePackage {
        package_id: format!("{bol}:{SOURCE}:{event_id}"),
        source: SourceRef {
            system: SYSTEM.into(),
            id: event_id.into(),
        },
        shipment_id: bol.into(),
        order_id: text(shipment.and_then(|s| s.external_ref.as_ref())),
        carrier_scac: text(shipment.and_then(|s| s.scac.as_ref())),
        invoice_number: None,
        currency: package_currency.unwrap_or_default(),
        charges,
        total_minor: total,
        reference_charges: Vec::new(),
    };
    p.finish(package)
}

/// The line's ISO 4217 currency, upper-cased.
fn currency(p: &mut Problems, line: &AcmeCharge, i: usize) -> Option<String> {
    let path = format!("/charges/{i}/currency");
    let raw = p.required(line.currency.as_deref(), &path);
    if raw.is_empty() {
        return None;
    }
    if raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_alphabetic()) {
        Some(raw.to_ascii_uppercase())
    } else {
        p.push(
            &path,
            "invalid-currency",
            format!("{raw:?} is not an ISO 4217 currency code"),
        );
        None
    }
}

/// One canonical charge line, numbered from 1 in Acme's order.
fn charge(
    p: &mut Problems,
    line: &AcmeCharge,
    i: usize,
    bol: &str,
    currency: &str,
) -> Option<Charge> {
    let code_path = format!("/charges/{i}/code");
    let source_code = p.required(line.code.as_deref(), &code_path);
    let code = to_charge_code(source_code);
    if code.is_none() && !source_code.is_empty() {
        p.push(
            &code_path,
            "unknown-code",
            format!(
                "unknown Acme charge code {source_code:?}; expected one of {}",
                CODES.join(", ")
            ),
        );
    }
    let amount_path = format!("/charges/{i}/amount");
    let raw = p.required(line.amount.as_deref(), &amount_path);
    let amount = if raw.is_empty() {
        None
    } else {
        match decimal_to_minor(raw, currency_exponent(currency)) {
            Ok(a) => Some(a),
            Err(e) => {
                let message = if currency.is_empty() {
                    e
                } else {
                    format!("{e} ({currency})")
                };
                p.push(&amount_path, "invalid-amount", message);
                None
            }
        }
    };
    if let (Some(ChargeCode::Discount), Some(a)) = (code, amount)
        && a >= 0
    {
        p.push(
            &amount_path,
            "discount-not-negative",
            format!("a DISCOUNT must be negative; got {raw}"),
        );
    }
    Some(Charge {
        charge_id: format!("{bol}:{SOURCE}:{}", i + 1),
        code: code?,
        source_code: source_code.into(),
        description: present(line.note.as_deref()).map(str::to_string),
        amount_minor: amount?,
        currency: currency.into(),
        source: ChargeSource::CarrierFinal,
    })
}
