//! Builds the canonical customer or carrier of one ERP line.

use crate::record::{Address, CARRIER, CUSTOMER, Record};
use std::borrow::Cow;
use waybill_sdk::canonical::{Location, SourceRef};
use waybill_sdk::country::to_iso_alpha2;
use waybill_sdk::master_data::{self, Carrier, Customer, MasterStatus};
use waybill_sdk::ndjson::{Line, LineProblems, Text, present};
use waybill_sdk::{Output, PluginError};

/// The canonical name of the source system.
const SYSTEM: &str = "northwind-erp";

/// The output of one line, or every problem of it.
pub fn to_output(line: &Line<'_>, r: &Record<'_>) -> Result<Output, PluginError> {
    let mut p = line.problems();
    match p.required(r.record_type.as_deref(), "record_type") {
        "" => Err(p.into_error()),
        CUSTOMER => {
            let c = customer(&mut p, r);
            let c = p.finish(c)?;
            Output::json(
                master_data::CUSTOMER,
                &format!("customer:{}", c.customer_id),
                &c,
            )
        }
        CARRIER => {
            let c = carrier(&mut p, r);
            let c = p.finish(c)?;
            Output::json(
                master_data::CARRIER,
                &format!("carrier:{}", c.carrier_scac),
                &c,
            )
        }
        other => {
            p.push(
                "record_type",
                "unknown-record-type",
                format!("unknown record_type {other:?}; expected {CUSTOMER} or {CARRIER}"),
            );
            Err(p.into_error())
        }
    }
}

fn customer(p: &mut LineProblems<'_>, r: &Record<'_>) -> Customer {
    let id = p.required(r.customer.as_deref(), "customer");
    let name = p.required(r.name.as_deref(), "name");
    let currency = present(&r.currency)
        .and_then(|raw| p.currency("currency", raw))
        .map(Cow::into_owned);
    Customer {
        customer_id: id.into(),
        source: SourceRef {
            system: SYSTEM.into(),
            id: id.into(),
        },
        name: name.into(),
        legal_name: text(&r.legal_name),
        status: status(p, r),
        tax_id: text(&r.tax_id),
        currency,
        payment_terms: text(&r.payment_terms),
        billing_address: r.billing_address.as_ref().and_then(|a| location(p, a)),
        ship_to_locations: Vec::new(),
        contacts: Vec::new(),
        portal_account_id: None,
    }
}

fn carrier(p: &mut LineProblems<'_>, r: &Record<'_>) -> Carrier {
    let raw = p.required(r.scac.as_deref(), "scac");
    let scac = raw.to_ascii_uppercase();
    let valid = (2..=4).contains(&scac.len()) && scac.bytes().all(|b| b.is_ascii_uppercase());
    if !raw.is_empty() && !valid {
        p.push(
            "scac",
            "invalid-scac",
            format!("{raw:?} is not a SCAC (2-4 letters)"),
        );
    }
    let name = p.required(r.name.as_deref(), "name");
    Carrier {
        source: SourceRef {
            system: SYSTEM.into(),
            id: scac.clone(),
        },
        carrier_scac: scac,
        name: name.into(),
        status: status(p, r),
        mc_number: text(&r.mc_number),
    }
}

/// `status`, when present and known.
fn status(p: &mut LineProblems<'_>, r: &Record<'_>) -> Option<MasterStatus> {
    let raw = present(&r.status)?;
    let status = MasterStatus::from_code(raw);
    if status.is_none() {
        p.push(
            "status",
            "unknown-status",
            format!("unknown status {raw:?}; expected ACTIVE, ON_HOLD or INACTIVE"),
        );
    }
    status
}

/// The billing address as a canonical location; `None` when it says nothing.
fn location(p: &mut LineProblems<'_>, a: &Address<'_>) -> Option<Location> {
    let country = present(&a.country).and_then(|raw| {
        let code = to_iso_alpha2(raw);
        if code.is_none() {
            p.push(
                "billing_address/country",
                "unknown-country",
                format!(
                    "unknown country {raw:?}; expected an ISO 3166-1 alpha-2 code or a country name"
                ),
            );
        }
        code
    });
    let location = Location {
        address_line1: text(&a.line1),
        city: text(&a.city),
        region: text(&a.state),
        postal_code: text(&a.postal_code),
        country: country.map(str::to_string),
        ..Location::default()
    };
    (location != Location::default()).then_some(location)
}

/// An optional field as an owned, trimmed string; `None` when blank.
fn text(value: &Option<Text<'_>>) -> Option<String> {
    present(value).map(str::to_string)
}
