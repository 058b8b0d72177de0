//! Ledgerly Billing, simulated: the source of truth for invoice composition.
//! Approved shipment charges open an invoice; the driver announces it with
//! an `invoice.ready` event (exactly `ledgerly.invoice-ready.json`'s
//! format); a credit note voids it again.

use super::billing_api::{self, TAX_RATE_BPS};
use super::clock;
use super::http::{Router, Sim, lock};
use super::request::{Reply, Request};
use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use time::OffsetDateTime;

/// One invoice line, amounts in minor units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineItem {
    pub sku: String,
    pub description: String,
    pub unit_amount: i64,
    pub quantity: i64,
}

/// An invoice; `status` is `open`, `paid` or `void`.
#[derive(Debug, Clone)]
pub struct Invoice {
    pub number: String,
    pub account: String,
    pub order_ref: String,
    /// The TMS shipment id, when the charges named it.
    pub shipment_ref: Option<String>,
    pub bol: Option<String>,
    pub currency: String,
    pub line_items: Vec<LineItem>,
    pub tax_amount: i64,
    pub total: i64,
    pub status: &'static str,
    pub ship_to_name: String,
    pub due_date: String,
    pub created: OffsetDateTime,
    pub updated: OffsetDateTime,
}

impl Invoice {
    /// The invoice object of answers and events.
    pub fn to_json(&self) -> Value {
        json!({
            "object": "invoice", "number": self.number, "account": self.account,
            "order_ref": self.order_ref, "shipment_ref": self.shipment_ref,
            "currency": self.currency, "line_items": self.line_items,
            "tax": {"rate_bps": TAX_RATE_BPS, "amount": self.tax_amount},
            "total": self.total, "status": self.status, "due_date": self.due_date,
        })
    }

    fn snapshot_line(&self) -> Value {
        json!({
            "object": "invoice", "number": self.number, "account": self.account,
            "order_ref": self.order_ref, "shipment_ref": self.shipment_ref,
            "currency": self.currency, "total": self.total, "status": self.status,
            "ship_to_name": self.ship_to_name, "updated": self.updated.unix_timestamp(),
        })
    }
}

/// A credit note Ledgerly issued.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditNote {
    pub id: String,
    pub invoice: String,
    pub order_ref: String,
    pub reason: String,
    pub amount: i64,
    pub currency: String,
    pub memo: Option<String>,
}

/// Everything Ledgerly keeps.
#[derive(Default)]
pub struct BillingState {
    pub invoices: BTreeMap<String, Invoice>,
    /// order id -> (billing account, ship-to name), from the driver.
    pub orders: HashMap<String, (String, String)>,
    pub credit_notes: Vec<CreditNote>,
    pub customers: BTreeMap<String, Value>,
    pub new_invoices: Vec<String>,
    ready_events: u64,
}

struct Billing(Mutex<BillingState>);

impl Router for Billing {
    fn route(&self, req: &Request) -> Reply {
        let mut state = lock(&self.0);
        let answer = match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/v1/shipment_charges") => billing_api::shipment_charges(&mut state, req),
            ("POST", "/v1/credit_notes") => billing_api::credit_note(&mut state, req),
            ("POST", "/v1/customers") => billing_api::customer(&mut state, req),
            ("GET", "/v1/invoices") => req.since().map(|since| {
                let lines = state
                    .invoices
                    .values()
                    .filter(|i| clock::keep(i.updated, since))
                    .map(Invoice::snapshot_line);
                if req.query("format") == Some("ndjson") {
                    Reply::ndjson(lines)
                } else {
                    Reply::json(
                        200,
                        &json!({"object": "list", "data": lines.collect::<Vec<_>>()}),
                    )
                }
            }),
            _ => Err(Reply::no_route(req)),
        };
        answer.unwrap_or_else(|refusal| refusal)
    }
}

/// The running billing system and its driver API.
pub struct BillingSim {
    pub sim: Sim,
    billing: Arc<Billing>,
}

impl BillingSim {
    pub async fn start() -> anyhow::Result<BillingSim> {
        let billing = Arc::new(Billing(Mutex::default()));
        let sim = Sim::start("Ledgerly Billing", billing.clone()).await?;
        Ok(BillingSim { sim, billing })
    }

    pub fn url(&self, path: &str) -> String {
        self.sim.url(path)
    }

    fn state(&self) -> MutexGuard<'_, BillingState> {
        lock(&self.billing.0)
    }

    /// Tells billing which account an order is billed to, and its ship-to
    /// name (charges for an unregistered order are refused with 422).
    pub fn register_order(&self, order_id: &str, account: &str, ship_to_name: &str) {
        self.state()
            .orders
            .insert(order_id.into(), (account.into(), ship_to_name.into()));
    }

    /// The `invoice.ready` event announcing an open invoice.
    pub fn invoice_ready(&self, invoice_number: &str) -> anyhow::Result<Vec<u8>> {
        let mut state = self.state();
        let inv = state
            .invoices
            .get(invoice_number)
            .with_context(|| format!("Ledgerly has no invoice {invoice_number}"))?;
        if inv.status == "void" {
            bail!("{invoice_number} is void; Ledgerly does not announce it");
        }
        let mut invoice = inv.to_json();
        if let Some(o) = invoice.as_object_mut() {
            for gone in ["object", "status"] {
                o.remove(gone);
            }
        }
        state.ready_events += 1;
        let event = json!({
            "type": "invoice.ready",
            "id": format!("inv_rdy_{}", 5_520 + state.ready_events),
            "created": clock::now().unix_timestamp(),
            "invoice": invoice,
        });
        Ok(serde_json::to_vec(&event)?)
    }

    /// Numbers of the invoices opened since the last call.
    pub fn take_new_invoices(&self) -> Vec<String> {
        std::mem::take(&mut self.state().new_invoices)
    }

    pub fn invoice(&self, number: &str) -> Option<Invoice> {
        self.state().invoices.get(number).cloned()
    }

    /// Every invoice, by number.
    pub fn invoices(&self) -> Vec<Invoice> {
        self.state().invoices.values().cloned().collect()
    }

    pub fn credit_notes(&self) -> Vec<CreditNote> {
        self.state().credit_notes.clone()
    }

    /// Reference customers received, as last sent.
    pub fn customers(&self) -> Vec<Value> {
        self.state().customers.values().cloned().collect()
    }
}
