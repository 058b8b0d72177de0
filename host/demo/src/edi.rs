//! Carriers that speak X12, the way EDI carriers work: the carriers of two
//! shipments report their delivery over an X12 214 instead of through the
//! TMS's webhooks, and one carrier bills its freight only over an X12 210
//! (the TMS sends no final charges for that shipment). Both are built on
//! the real samples ([`super::edi_x12`]) and name the ERP sales order in
//! `L11*<order>*OQ`, so the host can attribute them: the 214's DELIVERED
//! reaches the ERP (behind the same out-of-order guard as the TMS's
//! milestones, the TMS's POD following it) and the portal; the 210 is
//! approved against the TMS quote like any carrier's charges and billed.

use super::api::eventually;
use super::booking::cents;
use super::edi_x12::{Freight, Ids, invoice_210, status_214, status_source_id};
use super::host_config::edi_token;
use super::milestones::offset;
use super::stage::Stage;
use super::tally::Tally;
use super::world::{World, central};
use serde_json::json;
use std::time::Instant;
use time::OffsetDateTime;
use waybill_sims::{OrderSpec, Shipment};

/// The carrier's fuel surcharge when it bills, ppm of linehaul: its index
/// moved since the quote (7.2 %), within the approval's tolerance.
const CARRIER_FUEL_PPM: i64 = 75_000;
/// Interchange control number of the first 214 (the next ones count up).
const STATUS_CONTROL: u32 = 214_000;
/// Interchange control number of the 210.
const INVOICE_CONTROL: u32 = 210_001;

fn sample(stage: &Stage, name: &str) -> anyhow::Result<String> {
    let path = stage.samples.join("x12").join(name);
    std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The order's shipment at the TMS, and the order.
fn shipment<'w>(
    stage: &Stage,
    world: &'w World,
    order: &str,
) -> anyhow::Result<(Shipment, &'w OrderSpec)> {
    let spec = world.orders.iter().find(|o| o.sales_order == order);
    match (stage.tms.shipment(order), spec) {
        (Some(s), Some(spec)) => Ok((s, spec)),
        _ => anyhow::bail!("no shipment for {order}"),
    }
}

fn ids<'a>(s: &'a Shipment, order: &'a str) -> Ids<'a> {
    Ids {
        scac: &s.carrier_scac,
        pro: &s.pro_number,
        bol: &s.bol,
        order,
    }
}

fn instant(rfc3339: Option<&str>) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(rfc3339?, &time::format_description::well_known::Rfc3339).ok()
}

async fn post(stage: &Stage, source: &str, cid: &str, text: String) -> anyhow::Result<()> {
    stage
        .api
        .post_bearer(
            source,
            edi_token(source),
            "application/edi-x12",
            cid,
            text.into_bytes(),
        )
        .await?
        .expect(&format!("X12 interchange {cid}"), &[202])?;
    Ok(())
}

/// The carriers of `plan.edi_status` report DELIVERED over X12 214, where
/// the TMS's DELIVERED webhook would come in the milestone sequence.
pub async fn status(stage: &Stage, world: &World, tally: &mut Tally) -> anyhow::Result<()> {
    let template = sample(stage, "214-shipment-status.edi")?;
    for (i, order) in world.plan.edi_status.iter().enumerate() {
        let (s, spec) = shipment(stage, world, order)?;
        let at = spec.released_at + offset("DELIVERED");
        // The TMS keeps the carrier's delivery in its books too, but relays
        // no webhook for an EDI carrier: the distributor gets the 214.
        stage
            .tms
            .milestone(order, "DELIVERED", None, at.to_offset(central()))?;
        let control = STATUS_CONTROL + i as u32;
        let place = (
            s.delivery.city.as_str(),
            s.delivery.state.as_deref().unwrap_or(""),
        );
        let text = status_214(&template, &ids(&s, order), place, at, control);
        let sent = Instant::now();
        post(stage, "carrier-edi", &format!("edi214-{order}"), text).await?;
        let source_id = status_source_id(control);
        let source = source_id.as_str();
        let what = format!("the ERP to record {order}'s X12 214 DELIVERED");
        let arrived =
            eventually(&what, 20, || async move { Ok(stage.erp.arrival(source)) }).await?;
        let what = format!("the portal to show {order}'s X12 214 DELIVERED");
        let shown = eventually(&what, 20, || async move {
            let latest = stage.portal.latest(order);
            Ok(latest.filter(|u| u.status_code.as_deref() == Some("DELIVERED")))
        })
        .await?;
        let update = stage
            .erp
            .status_history(order)
            .into_iter()
            .find(|u| u.source_event_id == source_id);
        println!(
            "   {} reports {order} delivered over X12 214 (L11 OQ, BOL {}): ERP and portal DELIVERED after {:.1} ms (ERP source event {source_id})",
            s.carrier_scac,
            s.bol,
            arrived.saturating_duration_since(sent).as_secs_f64() * 1e3
        );
        tally.add("edi.214", 1);
        tally.expect_eq(
            format!("the X12 214 DELIVERED of {order} reaches the ERP (carrier, PRO, time) and the portal"),
            (
                update.map(|u| {
                    let same_time = instant(Some(&u.status_time)) == Some(at);
                    (u.logistics_status, u.carrier_scac, u.tracking_no, same_time)
                }),
                (instant(shown.updated_at.as_deref()) == Some(at), shown.carrier),
            ),
            (
                Some(("DELIVERED".into(), Some(s.carrier_scac.clone()), Some(s.pro_number.clone()), true)),
                (true, Some(s.carrier_name.clone())),
            ),
        );
    }
    Ok(())
}

/// After the POD wave: the ERP's history of each EDI order ends with the
/// 214's DELIVERED, then the TMS's POD_AVAILABLE (nothing held as stale).
pub fn history(stage: &Stage, world: &World, tally: &mut Tally) {
    for (i, order) in world.plan.edi_status.iter().enumerate() {
        let source_id = status_source_id(STATUS_CONTROL + i as u32);
        let history = stage.erp.status_history(order);
        let tail: Vec<(String, bool)> = history
            .iter()
            .skip(history.len().saturating_sub(2))
            .map(|u| (u.logistics_status.clone(), u.source_event_id == source_id))
            .collect();
        tally.expect_eq(
            format!(
                "{order}'s ERP status history ends DELIVERED (X12 214), then POD_AVAILABLE (TMS)"
            ),
            tail,
            vec![("DELIVERED".into(), true), ("POD_AVAILABLE".into(), false)],
        );
    }
}

/// What the carrier bills: the quoted charges, fuel at its own index.
fn carrier_charges(s: &Shipment) -> Vec<(String, i64)> {
    let linehaul = s
        .quoted
        .iter()
        .find(|c| c.0 == "LINEHAUL")
        .map_or(0, |c| c.1);
    let fuel = (linehaul * CARRIER_FUEL_PPM + 500_000) / 1_000_000;
    s.quoted
        .iter()
        .map(|(code, cents)| (code.clone(), if code == "FUEL" { fuel } else { *cents }))
        .collect()
}

/// The carrier of `plan.edi_invoice` bills its freight over X12 210 only.
pub async fn invoice(stage: &Stage, world: &World, tally: &mut Tally) -> anyhow::Result<()> {
    let order = world.plan.edi_invoice.as_str();
    let (s, spec) = shipment(stage, world, order)?;
    let charges = carrier_charges(&s);
    let total: i64 = charges.iter().map(|c| c.1).sum();
    let quoted: i64 = s.quoted.iter().map(|c| c.1).sum();
    let weight: f64 = spec
        .items
        .iter()
        .map(|i| f64::from(i.qty) * i.weight_per_unit)
        .sum();
    let invoice_no = format!("0985{}", &s.pro_number[6..]);
    let freight = Freight {
        invoice: &invoice_no,
        charges: &charges,
        weight_lb: weight.round() as i64,
        pallets: spec
            .items
            .iter()
            .filter(|i| i.item_code == "PAL-STD")
            .map(|i| i64::from(i.qty))
            .sum(),
        picked_up: spec.released_at + offset("DISPATCHED"),
        delivered: s
            .delivered_at
            .unwrap_or(spec.released_at + offset("DELIVERED")),
    };
    let template = sample(stage, "210-freight-invoice.edi")?;
    let text = invoice_210(&template, &ids(&s, order), &freight, INVOICE_CONTROL);
    post(stage, "carrier-edi-210", &format!("edi210-{order}"), text).await?;
    let what = format!("Ledgerly to bill {order}'s X12 210");
    let billed = eventually(&what, 20, || async move {
        let invoices = stage.billing.invoices();
        Ok(invoices.into_iter().find(|i| i.order_ref == order))
    })
    .await?;
    let held = stage
        .api
        .exceptions(None)
        .await?
        .iter()
        .filter(|x| x["route"] == "carrier-edi-invoices")
        .count();
    let invoices = stage
        .billing
        .invoices()
        .iter()
        .filter(|i| i.order_ref == order)
        .count();
    let lines: Vec<String> = charges
        .iter()
        .map(|(code, c)| format!("{code} {}", cents(&json!(c))))
        .collect();
    println!(
        "   {} bills {order} (BOL {}) over X12 210 only, invoice {invoice_no}: {} = {} (quoted {}, fuel at {:.2} %) -> approved against the TMS quote, Ledgerly {}",
        s.carrier_scac,
        s.bol,
        lines.join(", "),
        cents(&json!(total)),
        cents(&json!(quoted)),
        CARRIER_FUEL_PPM as f64 / 1e4,
        billed.number
    );
    tally.add("edi.210", 1);
    tally.add("charges.received", 1);
    let subtotal: i64 = billed
        .line_items
        .iter()
        .map(|l| l.unit_amount * l.quantity)
        .sum();
    tally.expect_eq(
        format!(
            "the X12 210 for {order} is approved against the quote and billed once, as invoiced"
        ),
        (held, invoices, subtotal, billed.bol),
        (0, 1, total, Some(s.bol.clone())),
    );
    Ok(())
}
