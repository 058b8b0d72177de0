//! Acme TMS, simulated: the source of truth for shipment execution. It books
//! shipments synchronously (and can have a bad minute: a 503 to every n-th
//! new booking, or a stall long enough to time the caller out), takes
//! reference data, and, driven by the scenario, emits milestone webhooks and
//! final carrier charges built from its own shipment records.

use super::clock;
use super::http::{Router, Sim, lock};
use super::money;
use super::request::{Reply, Request};
use super::tms_booking::{self, Place, RequestBody};
use super::tms_events;
use anyhow::Context;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use time::OffsetDateTime;

/// Fuel surcharge Acme bills at by default, ppm of linehaul: the fuel index
/// moved a little since the quote (7.2 %), as in the carrier-charges sample.
pub const FINAL_FUEL_PPM: i64 = 77_250;

/// A shipment as the TMS keeps it.
#[derive(Debug, Clone)]
pub struct Shipment {
    pub tms_shipment_id: String,
    pub external_ref: String,
    /// The code of the milestone with the latest `occurredAt` (`BOOKED`
    /// before any); never set back by an older milestone.
    pub status: String,
    pub status_at: Option<OffsetDateTime>,
    pub carrier_scac: String,
    pub carrier_name: String,
    pub pro_number: String,
    pub bol: String,
    pub consignee: String,
    pub pickup: Place,
    pub delivery: Place,
    pub currency: String,
    /// Quoted charges: (code, cents).
    pub quoted: Vec<(String, i64)>,
    pub estimated_delivery: OffsetDateTime,
    /// Every milestone emitted: (code, occurredAt), in emission order.
    pub milestones: Vec<(String, OffsetDateTime)>,
    pub delivered_at: Option<OffsetDateTime>,
    /// Final charges once billed: (code, cents, note).
    pub final_charges: Option<Vec<(String, i64, Option<String>)>>,
    pub updated_at: OffsetDateTime,
}

impl Shipment {
    /// Sum of the final charges, once known.
    pub fn final_total(&self) -> Option<i64> {
        self.final_charges
            .as_ref()
            .map(|c| c.iter().map(|l| l.1).sum())
    }
}

#[derive(Default)]
struct TmsState {
    shipments: BTreeMap<String, Shipment>,
    by_ref: HashMap<String, String>,
    references: BTreeMap<(String, String), Value>,
    seen_bookings: HashSet<String>,
    fresh_bookings: usize,
    fail_every: usize,
    delays: HashMap<String, Duration>,
    final_fuel_ppm: Option<i64>,
}

struct Tms(Mutex<TmsState>);

impl Router for Tms {
    fn route(&self, req: &Request) -> Reply {
        let mut state = lock(&self.0);
        let answer = match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/shipments") => book(&mut state, req),
            ("POST", "/v2/reference") => reference(&mut state, req),
            ("GET", "/v2/snapshots/shipments") => req.since().map(|s| {
                let keep = state
                    .shipments
                    .values()
                    .filter(|x| clock::keep(x.updated_at, s));
                Reply::ndjson(keep.map(snapshot_line))
            }),
            _ => Err(Reply::no_route(req)),
        };
        answer.unwrap_or_else(|refusal| refusal)
    }

    fn stall(&self, req: &Request) -> Option<Duration> {
        if req.path != "/shipments" {
            return None;
        }
        let body: Value = serde_json::from_slice(&req.body).ok()?;
        let r = body["externalRef"].as_str()?;
        lock(&self.0).delays.get(r).copied()
    }
}

fn book(state: &mut TmsState, req: &Request) -> Result<Reply, Reply> {
    let identity = match req.idempotency_key() {
        Some(k) => k.to_string(),
        None => hex::encode(Sha256::digest(&req.body)),
    };
    if state.seen_bookings.insert(identity) {
        state.fresh_bookings += 1;
        if state.fail_every > 0 && state.fresh_bookings.is_multiple_of(state.fail_every) {
            return Err(
                Reply::error(503, "service_unavailable", "booking engine busy, retry")
                    .with_header("retry-after", "0"),
            );
        }
    }
    let body: RequestBody = req.json()?;
    let q = tms_booking::quote(&body)?;
    if let Some(id) = state.by_ref.get(&q.external_ref) {
        return Err(Reply::json(
            409,
            &json!({"error": "duplicate_external_ref", "tmsShipmentId": id,
                "detail": format!("{} is already booked", q.external_ref)}),
        ));
    }
    let s = q.into_shipment(state.shipments.len() as u64);
    let answer = tms_booking::answer(&s);
    state
        .by_ref
        .insert(s.external_ref.clone(), s.tms_shipment_id.clone());
    state.shipments.insert(s.tms_shipment_id.clone(), s);
    Ok(Reply::json(201, &answer))
}

/// `POST /v2/reference`: upserts one customer or carrier.
fn reference(state: &mut TmsState, req: &Request) -> Result<Reply, Reply> {
    let body: Value = req.json()?;
    let text = |f: &str| body[f].as_str().filter(|s| !s.trim().is_empty());
    let (kind, id_field) = match text("type") {
        Some("customer") => ("customer", "customerCode"),
        Some("carrier") => ("carrier", "scac"),
        _ => return Err(Reply::invalid("/type", "customer or carrier")),
    };
    let id = text(id_field)
        .ok_or_else(|| Reply::invalid(&format!("/{id_field}"), "required"))?
        .to_string();
    text("name").ok_or_else(|| Reply::invalid("/name", "required"))?;
    if !body["active"].is_boolean() {
        return Err(Reply::invalid("/active", "a boolean is required"));
    }
    let answer = json!({"type": kind, "id": id, "status": "upserted"});
    state.references.insert((kind.into(), id), body);
    Ok(Reply::json(200, &answer))
}

fn snapshot_line(s: &Shipment) -> Value {
    let mut line = json!({
        "tmsShipmentId": s.tms_shipment_id, "externalRef": s.external_ref, "status": s.status,
        "carrier": {"scac": s.carrier_scac}, "proNumber": s.pro_number, "bol": s.bol,
        "consignee": {"name": s.consignee}, "updatedAt": clock::rfc3339(s.updated_at),
    });
    if let Some(total) = s.final_total() {
        line["finalCharges"] = json!({"amount": money::to_decimal(total), "currency": s.currency});
    }
    line
}

/// The running TMS and its driver API.
pub struct TmsSim {
    pub sim: Sim,
    tms: Arc<Tms>,
}

impl TmsSim {
    pub async fn start() -> anyhow::Result<TmsSim> {
        let tms = Arc::new(Tms(Mutex::default()));
        let sim = Sim::start("Acme TMS", tms.clone()).await?;
        Ok(TmsSim { sim, tms })
    }

    pub fn url(&self, path: &str) -> String {
        self.sim.url(path)
    }

    fn state(&self) -> MutexGuard<'_, TmsState> {
        lock(&self.tms.0)
    }

    /// Answers 503 (`Retry-After: 0`) to every `n`-th booking request seen
    /// for the first time (by `Idempotency-Key`); its retry is served.
    /// `0` turns the fault off.
    pub fn fail_every_nth_booking(&self, n: usize) {
        self.state().fail_every = n;
    }

    /// Stalls every booking request for these order ids by `delay` before
    /// answering (the booking still happens); an empty list stops stalling.
    pub fn set_booking_delay(&self, external_refs: &[&str], delay: Duration) {
        self.state().delays = external_refs
            .iter()
            .map(|r| (r.to_string(), delay))
            .collect();
    }

    /// Sets the fuel index of final charges, ppm of linehaul (default
    /// [`FINAL_FUEL_PPM`]; the quote uses 72 000).
    pub fn set_final_fuel_ppm(&self, ppm: i64) {
        self.state().final_fuel_ppm = Some(ppm);
    }

    fn with_shipment<T>(
        &self,
        order_id: &str,
        f: impl FnOnce(&mut Shipment, i64) -> T,
    ) -> anyhow::Result<T> {
        let mut state = self.state();
        let fuel = state.final_fuel_ppm.unwrap_or(FINAL_FUEL_PPM);
        let id = state.by_ref.get(order_id).cloned();
        let s = id
            .and_then(|id| state.shipments.get_mut(&id))
            .with_context(|| format!("Acme TMS has no shipment for order {order_id}"))?;
        Ok(f(s, fuel))
    }

    /// A `SHIPMENT_MILESTONE` webhook body for the order's shipment (fresh
    /// `eventId`). The TMS's status follows the milestone with the latest
    /// `occurredAt`; `DELAYED` moves the ETA a day.
    pub fn milestone(
        &self,
        order_id: &str,
        code: &str,
        reason: Option<&str>,
        occurred_at: OffsetDateTime,
    ) -> anyhow::Result<Vec<u8>> {
        self.with_shipment(order_id, |s, _| {
            if code == "DELAYED" {
                s.estimated_delivery += time::Duration::days(1);
            }
            if code == "DELIVERED" {
                s.delivered_at = Some(occurred_at);
            }
            let en_route = s
                .milestones
                .iter()
                .filter(|m| tms_events::is_en_route(&m.0))
                .count();
            let body = tms_events::milestone_body(s, code, reason, occurred_at, en_route);
            s.milestones.push((code.to_string(), occurred_at));
            if s.status_at.is_none_or(|t| occurred_at >= t) {
                s.status = code.to_string();
                s.status_at = Some(occurred_at);
                s.updated_at = clock::now();
            }
            serde_json::to_vec(&body).unwrap_or_default()
        })
    }

    /// A `CARRIER_CHARGES_FINAL` body for the order's shipment: the quoted
    /// charges, fuel at the final fuel index, plus `DETENTION` (cents) when
    /// given; recorded as the shipment's final charges.
    pub fn final_charges(&self, order_id: &str, detention: Option<i64>) -> anyhow::Result<Vec<u8>> {
        self.with_shipment(order_id, |s, fuel| {
            let lines = tms_events::final_lines(s, fuel, detention);
            let last = s.milestones.iter().map(|m| m.1).max();
            let at = last.map_or_else(clock::now, |t| t + time::Duration::hours(6));
            let body = tms_events::charges_body(s, &lines, at);
            s.final_charges = Some(lines);
            s.updated_at = clock::now();
            serde_json::to_vec(&body).unwrap_or_default()
        })
    }

    /// Every shipment, by TMS id.
    pub fn shipments(&self) -> Vec<Shipment> {
        self.state().shipments.values().cloned().collect()
    }

    /// The shipment booked for an order.
    pub fn shipment(&self, order_id: &str) -> Option<Shipment> {
        let state = self.state();
        let id = state.by_ref.get(order_id)?;
        state.shipments.get(id).cloned()
    }

    /// Reference records received, as sent.
    pub fn references(&self) -> Vec<Value> {
        self.state().references.values().cloned().collect()
    }
}
