//! Northwind ERP, simulated: the source of truth for customers, carriers,
//! sales orders and receivables. The driver creates master data and releases
//! orders (getting the `sales_order.released` event to send to the host);
//! the host posts status updates and AR postings back; snapshots show what
//! the ERP believes.

use super::clock;
use super::erp_api;
use super::erp_records::{
    ArInvoice, Carrier, Customer, CustomerSpec, Order, OrderSpec, StatusUpdate,
};
use super::http::{Router, Sim, lock};
use super::money;
use super::request::{Reply, Request};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Everything the ERP keeps.
#[derive(Default)]
pub struct ErpState {
    pub customers: BTreeMap<String, Customer>,
    pub carriers: BTreeMap<String, Carrier>,
    pub orders: BTreeMap<String, Order>,
    pub ar: BTreeMap<String, ArInvoice>,
    /// When each status update arrived, by `source_event_id` (the demo
    /// measures event propagation latency against it).
    pub arrivals: HashMap<String, Instant>,
}

struct Erp(Mutex<ErpState>);

impl Router for Erp {
    fn route(&self, req: &Request) -> Reply {
        let mut state = lock(&self.0);
        let answer = match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/api/order-status") => erp_api::order_status(&mut state, req),
            ("POST", "/api/ar-postings") => erp_api::ar_posting(&mut state, req),
            ("GET", "/api/snapshots/orders") => {
                req.since().map(|s| Reply::ndjson(order_lines(&state, s)))
            }
            ("GET", "/api/snapshots/master-data") => {
                req.since().map(|s| Reply::ndjson(master_lines(&state, s)))
            }
            _ => Err(Reply::no_route(req)),
        };
        answer.unwrap_or_else(|refusal| refusal)
    }
}

fn order_lines(state: &ErpState, since: Option<time::OffsetDateTime>) -> Vec<Value> {
    let orders = state
        .orders
        .values()
        .filter(|o| clock::keep(o.updated_at, since));
    let invoices = state
        .ar
        .values()
        .filter(|a| clock::keep(a.updated_at, since));
    orders
        .map(|o| {
            json!({
                "record_type": "sales_order", "sales_order": o.spec.sales_order,
                "customer": o.spec.customer, "ship_to_name": o.ship_to_name,
                "logistics_status": o.logistics_status,
                // The ERP is never told Acme's shipment id (no inbound format carries it).
                "tms_shipment_id": Value::Null,
                "updated_at": clock::rfc3339(o.updated_at),
            })
        })
        .chain(invoices.map(|a| {
            json!({
                "record_type": "ar_invoice", "invoice_no": a.invoice_no,
                "sales_order": a.sales_order, "customer": a.customer,
                "grand_total": money::to_decimal(a.grand_total_minor), "currency": a.currency,
                "status": a.status, "updated_at": clock::rfc3339(a.updated_at),
            })
        }))
        .collect()
}

fn master_lines(state: &ErpState, since: Option<time::OffsetDateTime>) -> Vec<Value> {
    let customers = state
        .customers
        .values()
        .filter(|c| clock::keep(c.updated_at, since));
    let carriers = state
        .carriers
        .values()
        .filter(|c| clock::keep(c.updated_at, since));
    customers
        .map(|c| {
            let s = &c.spec;
            json!({
                "record_type": "customer", "customer": s.id, "name": s.name,
                "legal_name": s.legal_name, "currency": s.currency,
                "payment_terms": s.payment_terms, "tax_id": s.tax_id, "status": c.status,
                "billing_address": s.billing_address,
                "updated_at": clock::rfc3339(c.updated_at),
            })
        })
        .chain(carriers.map(|c| {
            json!({
                "record_type": "carrier", "scac": c.scac, "name": c.name,
                "mc_number": c.mc_number, "status": "ACTIVE",
                "updated_at": clock::rfc3339(c.updated_at),
            })
        }))
        .collect()
}

/// The running ERP and its driver API.
pub struct ErpSim {
    pub sim: Sim,
    erp: Arc<Erp>,
}

impl ErpSim {
    pub async fn start() -> anyhow::Result<ErpSim> {
        let erp = Arc::new(Erp(Mutex::default()));
        let sim = Sim::start("Northwind ERP", erp.clone()).await?;
        Ok(ErpSim { sim, erp })
    }

    pub fn url(&self, path: &str) -> String {
        self.sim.url(path)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ErpState> {
        lock(&self.erp.0)
    }

    /// Creates or replaces a customer (status `ACTIVE`).
    pub fn add_customer(&self, spec: CustomerSpec) {
        let customer = Customer {
            spec,
            status: "ACTIVE",
            updated_at: clock::now(),
        };
        self.state()
            .customers
            .insert(customer.spec.id.clone(), customer);
    }

    /// Creates or replaces a carrier.
    pub fn add_carrier(&self, scac: &str, name: &str, mc_number: &str) {
        let carrier = Carrier {
            scac: scac.into(),
            name: name.into(),
            mc_number: mc_number.into(),
            updated_at: clock::now(),
        };
        self.state().carriers.insert(scac.into(), carrier);
    }

    /// Puts a customer on credit hold (`ON_HOLD`) or lifts it (`ACTIVE`);
    /// `false` when there is no such customer.
    pub fn set_credit_hold(&self, customer: &str, hold: bool) -> bool {
        let mut state = self.state();
        let Some(c) = state.customers.get_mut(customer) else {
            return false;
        };
        c.status = if hold { "ON_HOLD" } else { "ACTIVE" };
        c.updated_at = clock::now();
        true
    }

    /// Releases an order: records it as `RELEASED` (a re-release keeps its
    /// history) and returns the `sales_order.released` event, with a fresh
    /// `event_id`, for the driver to send to the host.
    pub fn release_order(&self, spec: &OrderSpec) -> Value {
        let event = spec.release_event(&uuid::Uuid::new_v4().to_string());
        let mut state = self.state();
        let history = state
            .orders
            .remove(&spec.sales_order)
            .map(|o| o.history)
            .unwrap_or_default();
        let order = Order {
            spec: spec.clone(),
            ship_to_name: spec.ship_to_name.clone(),
            logistics_status: "RELEASED".into(),
            carrier_scac: None,
            tracking_no: None,
            eta: None,
            history,
            updated_at: clock::now(),
        };
        state.orders.insert(spec.sales_order.clone(), order);
        event
    }

    /// Renames an order's ship-to party in the ERP only (the planted drift:
    /// the TMS and billing keep the old name). `false` for an unknown order.
    pub fn rename_ship_to(&self, order: &str, new_name: &str) -> bool {
        let mut state = self.state();
        let Some(o) = state.orders.get_mut(order) else {
            return false;
        };
        o.ship_to_name = new_name.into();
        o.updated_at = clock::now();
        true
    }

    /// The order's `logistics_status` (`RELEASED`, then the last update).
    pub fn order_status(&self, order: &str) -> Option<String> {
        self.state()
            .orders
            .get(order)
            .map(|o| o.logistics_status.clone())
    }

    /// Every accepted status update of the order, in arrival order.
    pub fn status_history(&self, order: &str) -> Vec<StatusUpdate> {
        self.state()
            .orders
            .get(order)
            .map(|o| o.history.clone())
            .unwrap_or_default()
    }

    /// When the status update with this `source_event_id` arrived.
    pub fn arrival(&self, source_event_id: &str) -> Option<Instant> {
        self.state().arrivals.get(source_event_id).copied()
    }

    /// The whole order record.
    pub fn order(&self, order: &str) -> Option<Order> {
        self.state().orders.get(order).cloned()
    }

    /// AR invoices, by invoice number.
    pub fn ar_invoices(&self) -> Vec<ArInvoice> {
        self.state().ar.values().cloned().collect()
    }

    /// Deliveries answered from the idempotency cache (not applied again).
    pub fn repeats(&self) -> usize {
        self.sim.repeats()
    }
}
