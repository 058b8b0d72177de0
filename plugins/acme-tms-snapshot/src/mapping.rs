//! Builds the canonical snapshot of one Acme shipment.

use crate::record::{Money, Shipment};
use std::borrow::Cow;
use waybill_sdk::PluginError;
use waybill_sdk::canonical::{currency_exponent, decimal_to_minor};
use waybill_sdk::ndjson::{Line, LineProblems, present};
use waybill_sdk::snapshot::{Entity, EntitySnapshot, MILESTONE_CODES, known};

/// The snapshot of `shipment`, or every problem of its line.
pub fn to_snapshot<'r>(
    line: &Line<'_>,
    shipment: &'r Shipment<'_>,
    system: &'r str,
) -> Result<EntitySnapshot<'r>, PluginError> {
    let mut p = line.problems();
    let id = p.required(shipment.external_ref.as_deref(), "externalRef");
    let mut s = EntitySnapshot::new(system, Entity::Order, id);
    if let Some(raw) = present(&shipment.status) {
        match known(&MILESTONE_CODES, raw) {
            Some(code) => s.status = Some(Cow::Borrowed(code)),
            None => p.push(
                "status",
                "unknown-status",
                format!(
                    "unknown Acme status {raw:?}; expected one of {}",
                    MILESTONE_CODES.join(", ")
                ),
            ),
        }
    }
    if let Some(money) = &shipment.final_charges {
        final_charges(&mut p, money, &mut s);
    }
    let a = &mut s.attributes;
    let consignee = shipment.consignee.as_ref().and_then(|c| present(&c.name));
    a.insert_opt("consignee_name", consignee.map(Cow::Borrowed));
    a.insert_opt(
        "tms_shipment_id",
        present(&shipment.tms_shipment_id).map(Cow::Borrowed),
    );
    let scac = shipment.carrier.as_ref().and_then(|c| present(&c.scac));
    a.insert_opt("carrier_scac", scac.map(Cow::Borrowed));
    a.insert_opt(
        "pro_number",
        present(&shipment.pro_number).map(Cow::Borrowed),
    );
    s.updated_at = present(&shipment.updated_at)
        .and_then(|raw| p.time("updatedAt", raw))
        .map(Cow::Borrowed);
    p.finish(s)
}

/// `finalCharges` as the snapshot's amount and currency.
fn final_charges<'r>(p: &mut LineProblems<'_>, money: &'r Money<'_>, s: &mut EntitySnapshot<'r>) {
    let raw_currency = p.required(money.currency.as_deref(), "finalCharges/currency");
    let currency = match raw_currency {
        "" => None,
        raw => p.currency("finalCharges/currency", raw),
    };
    let raw_amount = p.required(money.amount.as_deref(), "finalCharges/amount");
    if let (Some(cur), false) = (&currency, raw_amount.is_empty()) {
        match decimal_to_minor(raw_amount, currency_exponent(cur)) {
            Ok(minor) => {
                s.amount_minor = Some(minor);
                s.currency = currency;
            }
            Err(e) => p.push(
                "finalCharges/amount",
                "invalid-amount",
                format!("{e} ({cur})"),
            ),
        }
    }
}
