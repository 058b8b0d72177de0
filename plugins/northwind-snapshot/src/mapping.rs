//! Builds the canonical snapshot of one ERP line.

use crate::record::{AR_INVOICE, Record, SALES_ORDER};
use std::borrow::Cow;
use waybill_sdk::PluginError;
use waybill_sdk::canonical::{currency_exponent, decimal_to_minor};
use waybill_sdk::ndjson::{Line, LineProblems, present};
use waybill_sdk::snapshot::{Entity, EntitySnapshot, MILESTONE_CODES, known, order_status};

/// The statuses the ERP gives an AR invoice.
const AR_STATUSES: [&str; 2] = ["POSTED", "REVERSED"];

/// The snapshot of `record`, or every problem of its line.
pub fn to_snapshot<'r>(
    line: &Line<'_>,
    record: &'r Record<'_>,
    system: &'r str,
) -> Result<EntitySnapshot<'r>, PluginError> {
    let mut p = line.problems();
    let snapshot = match p.required(record.record_type.as_deref(), "record_type") {
        "" => None,
        SALES_ORDER => Some(sales_order(&mut p, record, system)),
        AR_INVOICE => Some(ar_invoice(&mut p, record, system)),
        other => {
            p.push(
                "record_type",
                "unknown-record-type",
                format!("unknown record_type {other:?}; expected {SALES_ORDER} or {AR_INVOICE}"),
            );
            None
        }
    };
    match snapshot {
        Some(s) => p.finish(s),
        None => Err(p.into_error()),
    }
}

fn sales_order<'r>(
    p: &mut LineProblems<'_>,
    r: &'r Record<'_>,
    system: &'r str,
) -> EntitySnapshot<'r> {
    let id = p.required(r.sales_order.as_deref(), "sales_order");
    let mut s = EntitySnapshot::new(system, Entity::Order, id);
    if let Some(raw) = present(&r.logistics_status) {
        match order_status(raw) {
            Some(code) => s.status = Some(Cow::Borrowed(code)),
            None => p.push(
                "logistics_status",
                "unknown-status",
                format!(
                    "unknown logistics_status {raw:?}; expected RELEASED or one of {}",
                    MILESTONE_CODES.join(", ")
                ),
            ),
        }
    }
    s.attributes.insert_opt(
        "consignee_name",
        present(&r.ship_to_name).map(Cow::Borrowed),
    );
    s.attributes
        .insert_opt("customer_id", present(&r.customer).map(Cow::Borrowed));
    s.attributes.insert_opt(
        "tms_shipment_id",
        present(&r.tms_shipment_id).map(Cow::Borrowed),
    );
    s.updated_at = updated_at(p, r);
    s
}

fn ar_invoice<'r>(
    p: &mut LineProblems<'_>,
    r: &'r Record<'_>,
    system: &'r str,
) -> EntitySnapshot<'r> {
    let id = p.required(r.invoice_no.as_deref(), "invoice_no");
    let mut s = EntitySnapshot::new(system, Entity::Invoice, id);
    let currency = present(&r.currency).and_then(|raw| p.currency("currency", raw));
    if let Some(raw) = present(&r.grand_total) {
        match &currency {
            Some(cur) => match decimal_to_minor(raw, currency_exponent(cur)) {
                Ok(minor) => s.amount_minor = Some(minor),
                Err(e) => p.push("grand_total", "invalid-amount", format!("{e} ({cur})")),
            },
            None if present(&r.currency).is_none() => {
                p.push("currency", "required", "grand_total needs its currency");
            }
            None => {} // the bad currency is reported already
        }
    }
    s.currency = currency;
    if let Some(raw) = present(&r.status) {
        match known(&AR_STATUSES, raw) {
            Some(code) => s.status = Some(Cow::Borrowed(code)),
            None => p.push(
                "status",
                "unknown-status",
                format!("unknown AR invoice status {raw:?}; expected POSTED or REVERSED"),
            ),
        }
    }
    s.attributes
        .insert_opt("order_id", present(&r.sales_order).map(Cow::Borrowed));
    s.attributes
        .insert_opt("customer_id", present(&r.customer).map(Cow::Borrowed));
    s.updated_at = updated_at(p, r);
    s
}

/// `updated_at` when present and RFC 3339 with an offset.
fn updated_at<'r>(p: &mut LineProblems<'_>, r: &'r Record<'_>) -> Option<Cow<'r, str>> {
    let raw = present(&r.updated_at)?;
    p.time("updated_at", raw).map(Cow::Borrowed)
}
