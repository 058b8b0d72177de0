//! What Ledgerly Billing accepts: shipment charges (which open an invoice
//! with 5 % tax), credit notes (which void one) and reference customers,
//! validated in Ledgerly's Stripe-like style (integer minor units,
//! lower-case currency).

use super::billing::{BillingState, CreditNote, Invoice, LineItem};
use super::clock;
use super::money;
use super::request::{Reply, Request, required};
use serde::Deserialize;
use serde_json::{Value, json};

/// Tax Ledgerly adds to shipment charges, basis points (half-up).
pub const TAX_RATE_BPS: i64 = 500;
/// The SKUs a shipment charge line may carry.
pub const SKUS: [&str; 9] = [
    "FRT-LINEHAUL",
    "FRT-FUEL",
    "FRT-LIFTGATE",
    "FRT-EXPEDITE",
    "FRT-DETENTION",
    "FRT-RESIDENTIAL",
    "FRT-INSIDE",
    "FRT-DISCOUNT",
    "FRT-OTHER",
];

#[derive(Deserialize)]
struct ChargesBody {
    object: Option<String>,
    shipment_ref: Option<String>,
    order_ref: Option<String>,
    bol: Option<String>,
    currency: Option<String>,
    line_items: Option<Vec<LineBody>>,
}

#[derive(Deserialize)]
struct LineBody {
    sku: Option<String>,
    description: Option<String>,
    unit_amount: Option<i64>,
    quantity: Option<i64>,
}

fn object(value: &Option<String>, expected: &str) -> Result<(), Reply> {
    match value.as_deref() {
        Some(o) if o == expected => Ok(()),
        _ => Err(Reply::invalid("/object", format!("expected {expected:?}"))),
    }
}

fn currency(value: &Option<String>) -> Result<String, Reply> {
    let c = required(value, "/currency")?;
    if c.len() == 3 && c.bytes().all(|b| b.is_ascii_lowercase()) {
        Ok(c.to_string())
    } else {
        Err(Reply::invalid("/currency", "a lower-case ISO 4217 code"))
    }
}

fn line_item(l: &LineBody, i: usize) -> Result<LineItem, Reply> {
    let at = |f: &str| format!("/line_items/{i}/{f}");
    let sku = required(&l.sku, &at("sku"))?;
    if !SKUS.contains(&sku) {
        return Err(Reply::invalid(&at("sku"), format!("unknown SKU {sku:?}")));
    }
    let unit_amount = l
        .unit_amount
        .ok_or_else(|| Reply::invalid(&at("unit_amount"), "required"))?;
    let discount = sku == "FRT-DISCOUNT";
    if (unit_amount < 0 && !discount) || (unit_amount > 0 && discount) {
        return Err(Reply::invalid(
            &at("unit_amount"),
            "FRT-DISCOUNT is negative, every other SKU is not",
        ));
    }
    let quantity = l.quantity.unwrap_or(1);
    if quantity < 1 {
        return Err(Reply::invalid(&at("quantity"), "at least 1"));
    }
    Ok(LineItem {
        sku: sku.into(),
        description: required(&l.description, &at("description"))?.into(),
        unit_amount,
        quantity,
    })
}

/// `POST /v1/shipment_charges`: opens the order's invoice.
pub fn shipment_charges(state: &mut BillingState, req: &Request) -> Result<Reply, Reply> {
    let b: ChargesBody = req.json()?;
    object(&b.object, "shipment_charges")?;
    // Optional: Waybill's charge packages do not carry the TMS shipment id.
    let shipment_ref = b
        .shipment_ref
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let order_ref = required(&b.order_ref, "/order_ref")?;
    let currency = currency(&b.currency)?;
    let lines = b.line_items.as_deref().unwrap_or_default();
    if lines.is_empty() {
        return Err(Reply::invalid("/line_items", "at least one line item"));
    }
    let lines = lines
        .iter()
        .enumerate()
        .map(|(i, l)| line_item(l, i))
        .collect::<Result<Vec<_>, _>>()?;
    let Some((account, ship_to_name)) = state.orders.get(order_ref).cloned() else {
        return Err(Reply::error(
            422,
            "unknown_order",
            format!("no billing account for order {order_ref}"),
        ));
    };
    if let Some(open) = state
        .invoices
        .values()
        .find(|i| i.order_ref == order_ref && i.status != "void")
    {
        return Err(Reply::json(
            409,
            &json!({"error": "already_invoiced", "invoice": open.number,
                "detail": format!("{order_ref} is already on {}", open.number)}),
        ));
    }
    let subtotal: i64 = lines.iter().map(|l| l.unit_amount * l.quantity).sum();
    let tax = money::scale_half_up(subtotal, TAX_RATE_BPS, 10_000);
    let now = clock::now();
    let invoice = Invoice {
        number: format!("LB-INV-{}", 778_120 + state.invoices.len()),
        account,
        order_ref: order_ref.into(),
        shipment_ref: shipment_ref.map(str::to_string),
        bol: b.bol.clone(),
        currency,
        line_items: lines,
        tax_amount: tax,
        total: subtotal + tax,
        status: "open",
        ship_to_name,
        due_date: (now.date() + time::Duration::days(30)).to_string(),
        created: now,
        updated: now,
    };
    let answer = invoice.to_json();
    state.new_invoices.push(invoice.number.clone());
    state.invoices.insert(invoice.number.clone(), invoice);
    Ok(Reply::json(201, &answer))
}

#[derive(Deserialize)]
struct CreditNoteBody {
    object: Option<String>,
    invoice: Option<String>,
    order_ref: Option<String>,
    reason: Option<String>,
    amount: Option<i64>,
    currency: Option<String>,
    memo: Option<String>,
}

/// `POST /v1/credit_notes`: credits the invoice in full and voids it.
pub fn credit_note(state: &mut BillingState, req: &Request) -> Result<Reply, Reply> {
    let b: CreditNoteBody = req.json()?;
    object(&b.object, "credit_note")?;
    let number = required(&b.invoice, "/invoice")?;
    let reason = required(&b.reason, "/reason")?;
    let amount = b
        .amount
        .ok_or_else(|| Reply::invalid("/amount", "required"))?;
    let currency = currency(&b.currency)?;
    let Some(inv) = state.invoices.get_mut(number) else {
        return Err(Reply::error(
            404,
            "unknown_invoice",
            format!("no invoice {number}"),
        ));
    };
    if let Some(o) = b.order_ref.as_deref().filter(|o| *o != inv.order_ref) {
        return Err(Reply::invalid(
            "/order_ref",
            format!("{number} is for {}, not {o}", inv.order_ref),
        ));
    }
    if inv.status == "void" {
        return Err(Reply::error(
            409,
            "invoice_already_void",
            format!("{number} is void"),
        ));
    }
    if amount != inv.total || currency != inv.currency {
        return Err(Reply::error(
            422,
            "amount_mismatch",
            format!(
                "a credit note voids {number} in full: {} {}",
                inv.total, inv.currency
            ),
        ));
    }
    inv.status = "void";
    inv.updated = clock::now();
    let note = CreditNote {
        id: format!("cn_{}", state.credit_notes.len() + 1),
        invoice: number.into(),
        order_ref: inv.order_ref.clone(),
        reason: reason.into(),
        amount,
        currency,
        memo: b.memo.clone(),
    };
    let answer = json!({"object": "credit_note", "id": note.id, "invoice": number,
        "amount": amount, "currency": note.currency, "status": "issued"});
    state.credit_notes.push(note);
    Ok(Reply::json(201, &answer))
}

/// `POST /v1/customers`: upserts a reference customer.
pub fn customer(state: &mut BillingState, req: &Request) -> Result<Reply, Reply> {
    let body: Value = req.json()?;
    let text = |f: &str| {
        body[f]
            .as_str()
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
    };
    object(&text("object"), "customer")?;
    let id = text("id").ok_or_else(|| Reply::invalid("/id", "required"))?;
    text("name").ok_or_else(|| Reply::invalid("/name", "required"))?;
    currency(&text("currency"))?;
    if !(body["delinquent"].is_null() || body["delinquent"].is_boolean()) {
        return Err(Reply::invalid("/delinquent", "a boolean"));
    }
    state.customers.insert(id, body.clone());
    Ok(Reply::json(200, &body))
}
