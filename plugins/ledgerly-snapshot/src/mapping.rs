//! Builds the canonical snapshot of one Ledgerly invoice.

use crate::record::{INVOICE, Invoice};
use std::borrow::Cow;
use waybill_sdk::PluginError;
use waybill_sdk::ndjson::{Line, present};
use waybill_sdk::snapshot::{Entity, EntitySnapshot};
use waybill_sdk::time::unix_to_rfc3339;

/// The snapshot of `invoice`, or every problem of its line.
pub fn to_snapshot<'r>(
    line: &Line<'_>,
    invoice: &'r Invoice<'_>,
    system: &'r str,
) -> Result<EntitySnapshot<'r>, PluginError> {
    let mut p = line.problems();
    match p.required(invoice.object.as_deref(), "object") {
        "" => return Err(p.into_error()),
        INVOICE => {}
        other => {
            p.push(
                "object",
                "unknown-record-type",
                format!(
                    "unknown object {other:?}; the invoices snapshot holds {INVOICE:?} records"
                ),
            );
            return Err(p.into_error());
        }
    }
    let id = p.required(invoice.number.as_deref(), "number");
    let mut s = EntitySnapshot::new(system, Entity::Invoice, id);
    let currency = present(&invoice.currency).and_then(|raw| p.currency("currency", raw));
    if invoice.total.is_some() && present(&invoice.currency).is_none() {
        p.push("currency", "required", "total needs its currency");
    }
    s.amount_minor = invoice.total;
    s.currency = currency;
    if let Some(raw) = present(&invoice.status) {
        match status(raw) {
            Some(code) => s.status = Some(Cow::Borrowed(code)),
            None => p.push(
                "status",
                "unknown-status",
                format!("unknown Ledgerly invoice status {raw:?}; expected open, paid or void"),
            ),
        }
    }
    let a = &mut s.attributes;
    a.insert_opt("order_id", present(&invoice.order_ref).map(Cow::Borrowed));
    a.insert_opt("customer_id", present(&invoice.account).map(Cow::Borrowed));
    a.insert_opt(
        "tms_shipment_id",
        present(&invoice.shipment_ref).map(Cow::Borrowed),
    );
    a.insert_opt(
        "consignee_name",
        present(&invoice.ship_to_name).map(Cow::Borrowed),
    );
    if let Some(secs) = invoice.updated {
        // Ledgerly's clock starts in 1970: an earlier time is a bad value.
        let time = if secs < 0 {
            None
        } else {
            unix_to_rfc3339(secs)
        };
        match time {
            Some(t) => s.updated_at = Some(Cow::Owned(t)),
            None => p.push(
                "updated",
                "invalid-time",
                format!("{secs} is not a Unix time between 1970 and 9999"),
            ),
        }
    }
    p.finish(s)
}

/// The canonical invoice status of a Ledgerly status (matched exactly:
/// Ledgerly sends them lower case).
fn status(raw: &str) -> Option<&'static str> {
    match raw {
        "open" => Some("OPEN"),
        "paid" => Some("PAID"),
        "void" => Some("VOID"),
        _ => None,
    }
}
