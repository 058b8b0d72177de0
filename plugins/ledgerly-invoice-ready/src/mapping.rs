//! Builds the canonical invoice from a parsed Ledgerly event.

use crate::event::{InvoiceReady, LedgerlyInvoice, LineItem};
use crate::sku::to_charge_code;
use waybill_sdk::PluginError;
use waybill_sdk::canonical::{ChargeCode, Invoice, InvoiceLine, InvoiceTax, SourceRef};
use waybill_sdk::problems::{Problems, trimmed};
use waybill_sdk::time::{is_date, unix_to_rfc3339};

/// The canonical name of the source system.
const SYSTEM: &str = "ledgerly";

/// Maps the event, or lists every problem found in it.
pub fn to_invoice(event: &InvoiceReady) -> Result<Invoice, PluginError> {
    let mut p = Problems::default();
    let event_id = p.required(event.id.as_deref(), "/id").trim();
    let source_created_at = match event.created {
        None => None,
        Some(seconds) => {
            let time = unix_to_rfc3339(seconds);
            if time.is_none() {
                p.push(
                    "/created",
                    "invalid-time",
                    format!("{seconds} is not a Unix time Waybill can represent"),
                );
            }
            time
        }
    };
    let Some(inv) = &event.invoice else {
        p.push("/invoice", "required", "/invoice is required");
        return Err(p.into_error());
    };
    let invoice_id = p.required(inv.number.as_deref(), "/invoice/number").trim();
    let customer_id = p
        .required(inv.account.as_deref(), "/invoice/account")
        .trim();
    let order_id = p
        .required(inv.order_ref.as_deref(), "/invoice/order_ref")
        .trim();
    let currency = currency(&mut p, inv);
    let due_date = trimmed(inv.due_date.as_deref());
    if let Some(d) = &due_date
        && !is_date(d)
    {
        p.push(
            "/invoice/due_date",
            "invalid-date",
            format!("{d:?} is not a date YYYY-MM-DD"),
        );
    }
    let lines = lines(&mut p, inv);
    let taxes = taxes(&mut p, inv);
    // Totals are only compared when every line and the tax could be read;
    // otherwise the sums would be wrong and the mismatch misleading.
    let complete = inv
        .line_items
        .as_ref()
        .is_some_and(|items| items.len() == lines.len())
        && inv.tax.as_ref().is_none_or(|_| !taxes.is_empty());
    let subtotal = sum(lines.iter().map(|l| l.amount_minor));
    let tax_sum = sum(taxes.iter().map(|t| t.amount_minor));
    let expected_total = subtotal.zip(tax_sum).and_then(|(s, t)| s.checked_add(t));
    if expected_total.is_none() {
        p.push(
            "/invoice/line_items",
            "out-of-range",
            "the sum of the line items and tax overflows",
        );
    }
    let total = inv.total;
    match (total, expected_total) {
        (None, _) => p.push("/invoice/total", "required", "/invoice/total is required"),
        (Some(total), Some(expected)) if complete && total != expected => p.push(
            "/invoice/total",
            "total-mismatch",
            format!(
                "total is {total} but the line items ({}) and tax ({}) sum to {expected}",
                subtotal.unwrap_or_default(),
                tax_sum.unwrap_or_default()
            ),
        ),
        _ => {}
    }
    let invoice = Invoice {
        invoice_id: invoice_id.into(),
        source: SourceRef {
            system: SYSTEM.into(),
            id: event_id.into(),
        },
        customer_id: customer_id.into(),
        order_id: Some(order_id.into()),
        shipment_id: None,
        tms_shipment_id: trimmed(inv.shipment_ref.as_deref()),
        currency,
        issue_date: None,
        due_date,
        source_created_at,
        lines,
        subtotal_minor: subtotal,
        taxes,
        total_minor: total.unwrap_or_default(),
        reference_charges: Vec::new(),
        approval: None,
    };
    p.finish(invoice)
}

/// The ISO 4217 currency, upper-cased (Ledgerly sends it lower case).
fn currency(p: &mut Problems, inv: &LedgerlyInvoice) -> String {
    let raw = p
        .required(inv.currency.as_deref(), "/invoice/currency")
        .trim();
    if raw.is_empty() {
        return String::new();
    }
    if raw.len() != 3 || !raw.bytes().all(|b| b.is_ascii_alphabetic()) {
        p.push(
            "/invoice/currency",
            "invalid-currency",
            format!("{raw:?} is not an ISO 4217 currency code"),
        );
    }
    raw.to_ascii_uppercase()
}

/// The invoice lines, numbered from 1 in Ledgerly's order.
fn lines(p: &mut Problems, inv: &LedgerlyInvoice) -> Vec<InvoiceLine> {
    match inv.line_items.as_deref() {
        None => {
            p.push(
                "/invoice/line_items",
                "required",
                "/invoice/line_items is required",
            );
            Vec::new()
        }
        Some([]) => {
            p.push(
                "/invoice/line_items",
                "empty",
                "an invoice must have at least one line item",
            );
            Vec::new()
        }
        Some(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| line(p, item, i))
            .collect(),
    }
}

/// One line: canonical code from the SKU, amount = unit amount x quantity.
fn line(p: &mut Problems, item: &LineItem, i: usize) -> Option<InvoiceLine> {
    let at = |field: &str| format!("/invoice/line_items/{i}/{field}");
    let sku = p.required(item.sku.as_deref(), &at("sku")).trim();
    let code = to_charge_code(sku);
    let unit = item.unit_amount;
    if unit.is_none() {
        p.push(
            &at("unit_amount"),
            "required",
            format!("{} is required", at("unit_amount")),
        );
    }
    let quantity = match &item.quantity {
        None => Some(1),
        Some(q) => match q.as_u64() {
            Some(q) => Some(q),
            None => {
                p.push(
                    &at("quantity"),
                    "invalid-quantity",
                    format!("{q} is not a whole, non-negative quantity"),
                );
                None
            }
        },
    };
    let (unit, quantity) = (unit?, quantity?);
    let amount = i64::try_from(quantity)
        .ok()
        .and_then(|q| unit.checked_mul(q));
    let Some(amount) = amount else {
        p.push(
            &at("quantity"),
            "out-of-range",
            "unit_amount x quantity overflows",
        );
        return None;
    };
    if code == ChargeCode::Discount && amount >= 0 {
        p.push(
            &at("unit_amount"),
            "discount-not-negative",
            format!("a {sku} line must be negative; got {amount}"),
        );
    }
    if sku.is_empty() {
        return None;
    }
    Some(InvoiceLine {
        line_no: u32::try_from(i + 1).ok()?,
        charge_id: None,
        code,
        item_code: Some(sku.into()),
        description: trimmed(item.description.as_deref()),
        quantity: Some(quantity as f64),
        unit_amount_minor: Some(unit),
        amount_minor: amount,
        gl_account: None,
    })
}

/// Ledgerly's single `tax`, when it sent one.
fn taxes(p: &mut Problems, inv: &LedgerlyInvoice) -> Vec<InvoiceTax> {
    let Some(tax) = &inv.tax else {
        return Vec::new();
    };
    match tax.amount {
        None => {
            p.push(
                "/invoice/tax/amount",
                "required",
                "/invoice/tax/amount is required",
            );
            Vec::new()
        }
        Some(amount) => vec![InvoiceTax {
            code: None,
            rate_bps: tax.rate_bps,
            amount_minor: amount,
            account: None,
        }],
    }
}

/// The sum of `amounts`, `None` on overflow.
fn sum(mut amounts: impl Iterator<Item = i64>) -> Option<i64> {
    amounts.try_fold(0i64, |total, a| total.checked_add(a))
}
