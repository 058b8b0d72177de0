//! What Northwind ERP accepts over HTTP: order status updates and AR
//! postings, validated the way the ERP validates them (unknown orders,
//! totals that do not add up, customers on credit hold).

use super::clock;
use super::erp::ErpState;
use super::erp_records::{ArInvoice, StatusUpdate};
use super::money;
use super::request::{Reply, Request, required, required_time};
use serde::Deserialize;
use serde_json::json;

/// The logistics statuses the ERP knows (the canonical milestone codes).
pub const LOGISTICS_STATUSES: [&str; 11] = [
    "BOOKED",
    "DISPATCHED",
    "ARRIVED_PICKUP",
    "DEPARTED_PICKUP",
    "IN_TRANSIT",
    "DELAYED",
    "ARRIVED_DELIVERY",
    "DELIVERED",
    "POD_AVAILABLE",
    "EXCEPTION",
    "CANCELLED",
];

#[derive(Deserialize)]
struct StatusBody {
    sales_order: Option<String>,
    logistics_status: Option<String>,
    status_time: Option<String>,
    carrier_scac: Option<String>,
    tracking_no: Option<String>,
    eta: Option<String>,
    remarks: Option<String>,
    source_event_id: Option<String>,
}

/// `POST /api/order-status`. Stored as sent, even when older than the
/// order's current status: keeping order is the integration's job.
pub fn order_status(state: &mut ErpState, req: &Request) -> Result<Reply, Reply> {
    let b: StatusBody = req.json()?;
    let order_id = required(&b.sales_order, "/sales_order")?;
    let status = required(&b.logistics_status, "/logistics_status")?;
    if !LOGISTICS_STATUSES.contains(&status) {
        return Err(Reply::invalid(
            "/logistics_status",
            format!("unknown logistics status {status:?}"),
        ));
    }
    required_time(&b.status_time, "/status_time")?;
    if let Some(eta) = b.eta.as_deref().filter(|e| clock::parse(e).is_none()) {
        return Err(Reply::invalid(
            "/eta",
            format!("{eta:?} is not an RFC 3339 date-time"),
        ));
    }
    let event_id = required(&b.source_event_id, "/source_event_id")?.to_string();
    let arrived = event_id.clone();
    let Some(order) = state.orders.get_mut(order_id) else {
        return Err(Reply::error(
            404,
            "unknown_sales_order",
            format!("no sales order {order_id}"),
        ));
    };
    let update = StatusUpdate {
        logistics_status: status.to_string(),
        status_time: b.status_time.clone().unwrap_or_default(),
        carrier_scac: b.carrier_scac.clone(),
        tracking_no: b.tracking_no.clone(),
        eta: b.eta.clone(),
        remarks: b.remarks.clone().unwrap_or_default(),
        source_event_id: event_id,
    };
    order.logistics_status = update.logistics_status.clone();
    order.carrier_scac = update.carrier_scac.clone().or(order.carrier_scac.take());
    order.tracking_no = update.tracking_no.clone().or(order.tracking_no.take());
    order.eta = update.eta.clone().or(order.eta.take());
    order.history.push(update);
    order.updated_at = clock::now();
    state.arrivals.insert(arrived, std::time::Instant::now());
    Ok(Reply::json(
        200,
        &json!({"sales_order": order_id, "logistics_status": status, "accepted": true}),
    ))
}

#[derive(Deserialize)]
struct PostingBody {
    posting_type: Option<String>,
    customer: Option<String>,
    sales_order: Option<String>,
    invoice_no: Option<String>,
    posting_date: Option<String>,
    currency: Option<String>,
    lines: Option<Vec<LineBody>>,
    taxes: Option<Vec<TaxBody>>,
    grand_total: Option<String>,
    approval: Option<ApprovalBody>,
}

#[derive(Deserialize)]
struct LineBody {
    item_code: Option<String>,
    amount: Option<String>,
    gl_account: Option<String>,
}

#[derive(Deserialize)]
struct TaxBody {
    account: Option<String>,
    amount: Option<String>,
}

#[derive(Deserialize)]
struct ApprovalBody {
    status: Option<String>,
}

fn amount(value: &Option<String>, field: &str) -> Result<i64, Reply> {
    money::to_minor(required(value, field)?).map_err(|e| Reply::invalid(field, e))
}

/// `POST /api/ar-postings`: posts the invoice to receivables.
pub fn ar_posting(state: &mut ErpState, req: &Request) -> Result<Reply, Reply> {
    let b: PostingBody = req.json()?;
    if required(&b.posting_type, "/posting_type")? != "sales_invoice" {
        return Err(Reply::invalid(
            "/posting_type",
            "only sales_invoice is posted",
        ));
    }
    let customer = required(&b.customer, "/customer")?;
    let order_id = required(&b.sales_order, "/sales_order")?;
    let invoice_no = required(&b.invoice_no, "/invoice_no")?;
    let posting_date = required(&b.posting_date, "/posting_date")?;
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if time::Date::parse(posting_date, &date_format).is_err() {
        return Err(Reply::invalid("/posting_date", "expected YYYY-MM-DD"));
    }
    let currency = required(&b.currency, "/currency")?;
    let mut lines = Vec::new();
    for (i, l) in b.lines.iter().flatten().enumerate() {
        let at = |f: &str| format!("/lines/{i}/{f}");
        lines.push((
            required(&l.item_code, &at("item_code"))?.to_string(),
            amount(&l.amount, &at("amount"))?,
            required(&l.gl_account, &at("gl_account"))?.to_string(),
        ));
    }
    if lines.is_empty() {
        return Err(Reply::invalid(
            "/lines",
            "a posting needs at least one line",
        ));
    }
    let mut tax_minor = 0;
    for (i, t) in b.taxes.iter().flatten().enumerate() {
        required(&t.account, &format!("/taxes/{i}/account"))?;
        tax_minor += amount(&t.amount, &format!("/taxes/{i}/amount"))?;
    }
    let grand_total = amount(&b.grand_total, "/grand_total")?;
    let approval = b.approval.as_ref().and_then(|a| a.status.as_deref());
    if approval != Some("APPROVED") {
        return Err(Reply::error(
            422,
            "not_approved",
            "an AR posting needs approval.status APPROVED",
        ));
    }
    let sum = lines.iter().map(|l| l.1).sum::<i64>() + tax_minor;
    if sum != grand_total {
        return Err(Reply::error(
            422,
            "totals_mismatch",
            format!(
                "lines + taxes = {}, grand_total = {}",
                money::to_decimal(sum),
                money::to_decimal(grand_total)
            ),
        ));
    }
    let Some(cust) = state.customers.get(customer) else {
        return Err(Reply::error(
            422,
            "unknown_customer",
            format!("no customer {customer}"),
        ));
    };
    match state.orders.get(order_id) {
        None => {
            return Err(Reply::error(
                422,
                "unknown_sales_order",
                format!("no sales order {order_id}"),
            ));
        }
        Some(o) if o.spec.customer != customer => {
            return Err(Reply::error(
                422,
                "customer_mismatch",
                format!("{order_id} belongs to {}", o.spec.customer),
            ));
        }
        Some(_) => {}
    }
    if cust.status == "ON_HOLD" {
        return Err(Reply::error(
            422,
            "customer_on_credit_hold",
            format!("{customer} is on credit hold"),
        ));
    }
    if state.ar.contains_key(invoice_no) {
        return Err(Reply::error(
            409,
            "invoice_already_posted",
            format!("{invoice_no} is already in receivables"),
        ));
    }
    let journal_entry = format!("JE-{:06}", state.ar.len() + 1);
    state.ar.insert(
        invoice_no.to_string(),
        ArInvoice {
            invoice_no: invoice_no.to_string(),
            sales_order: order_id.to_string(),
            customer: customer.to_string(),
            posting_date: posting_date.to_string(),
            currency: currency.to_string(),
            lines,
            tax_minor,
            grand_total_minor: grand_total,
            status: "POSTED",
            journal_entry: journal_entry.clone(),
            updated_at: clock::now(),
        },
    );
    Ok(Reply::json(
        201,
        &json!({"invoice_no": invoice_no, "status": "POSTED", "journal_entry": journal_entry}),
    ))
}
