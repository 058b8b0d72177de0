//! Carriers that speak X12: a 214 shipment status and a 210 freight invoice
//! built on the real samples in `fixtures/samples/x12/` (ids, carrier,
//! times and places substituted), posted to the host's EDI sources.
//!
//! Neither X12 mapping can name the ERP sales order (the 214's B10 and the
//! 210's B3 carry the bill of lading, not the order), so what the host does
//! with them is the integration refusing what it cannot attribute: the 214's
//! status reaches neither the ERP nor the portal (both legs need an order
//! id: dead letters), and the 210 cannot be matched to a quote
//! (`missing-quote` exception, not billed).

use super::api::eventually;
use super::host_config::EDI_TOKEN;
use super::milestones::offset;
use super::stage::Stage;
use super::tally::Tally;
use super::world::World;
use time::OffsetDateTime;

/// Rewrites the segments of an X12 interchange: `edit(id, elements)`.
fn rewrite(text: &str, edit: impl Fn(&str, &mut Vec<String>)) -> String {
    let mut out = String::new();
    for seg in text.split('~').map(str::trim).filter(|s| !s.is_empty()) {
        let mut elements: Vec<String> = seg.split('*').map(str::to_string).collect();
        let id = elements[0].clone();
        edit(&id, &mut elements);
        out.push_str(&elements.join("*"));
        out.push_str("~\n");
    }
    out
}

/// The envelope every set needs: sender = the carrier, a fresh control number.
fn envelope(id: &str, e: &mut [String], scac: &str, control: u32) {
    match (id, e.len()) {
        ("ISA", 17) => {
            e[6] = format!("{scac:<15}");
            e[13] = format!("{control:09}");
        }
        ("IEA", 3) => e[2] = format!("{control:09}"),
        ("GS", 9) => e[2] = scac.to_string(),
        _ => {}
    }
}

/// The sample 214 reporting delivery (AT7 D1) of `bol` at `at` (UTC) in
/// `city`, `state`.
pub fn status_214(
    sample: &str,
    (scac, pro, bol): (&str, &str, &str),
    (city, state): (&str, &str),
    at: OffsetDateTime,
    control: u32,
) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let date = format!("{:04}{:02}{:02}", at.year(), u8::from(at.month()), at.day());
    let clock = format!("{:02}{:02}", at.hour(), at.minute());
    rewrite(sample, |id, e| {
        envelope(id, e, scac, control);
        match id {
            "B10" if e.len() > 3 => {
                e[1] = pro.to_string();
                e[2] = bol.to_string();
                e[3] = scac.to_string();
            }
            "AT7" if e.len() > 7 => {
                e[1] = "D1".into();
                e[5] = date.clone();
                e[6] = clock.clone();
                e[7] = "UT".into();
            }
            "MS1" if e.len() > 2 => {
                e[1] = city.to_ascii_uppercase();
                e[2] = state.to_string();
            }
            "MS2" if e.len() > 1 => e[1] = scac.to_string(),
            _ => {}
        }
    })
}

/// The sample 210 (its charges and totals unchanged) billing `bol` as
/// invoice `invoice`.
pub fn invoice_210(sample: &str, scac: &str, bol: &str, invoice: &str, control: u32) -> String {
    rewrite(sample, |id, e| {
        envelope(id, e, scac, control);
        if id == "B3" && e.len() > 11 {
            e[2] = invoice.to_string();
            e[3] = bol.to_string();
            e[11] = scac.to_string();
        }
    })
}

fn sample(stage: &Stage, name: &str) -> anyhow::Result<String> {
    let path = stage.samples.join("x12").join(name);
    std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The carriers of `plan.edi_status` report delivery over X12 214 too.
pub async fn status(stage: &Stage, world: &World, tally: &mut Tally) -> anyhow::Result<()> {
    let template = sample(stage, "214-shipment-status.edi")?;
    for (i, order) in world.plan.edi_status.iter().enumerate() {
        let (Some(s), Some(spec)) = (
            stage.tms.shipment(order),
            world.orders.iter().find(|o| &o.sales_order == order),
        ) else {
            anyhow::bail!("no shipment for {order}");
        };
        let at = spec.released_at + offset("DELIVERED");
        let place = (
            s.delivery.city.as_str(),
            s.delivery.state.as_deref().unwrap_or(""),
        );
        let ids = (
            s.carrier_scac.as_str(),
            s.pro_number.as_str(),
            s.bol.as_str(),
        );
        let text = status_214(&template, ids, place, at, 214_000 + i as u32);
        let cid = format!("edi214-{order}");
        stage
            .api
            .post_bearer(
                "carrier-edi",
                EDI_TOKEN,
                "application/edi-x12",
                &cid,
                text.into_bytes(),
            )
            .await?
            .expect(&format!("X12 214 for {order}"), &[202])?;
        let timeline = eventually(&format!("the 214 of {order} to be processed"), 20, || {
            let cid = cid.clone();
            async move {
                let t = stage.api.admin_get(&format!("messages/{cid}")).await?;
                // Both, as the timeline's parts are read one after the other.
                let dead = t["dead_letters"].as_array().map_or(0, Vec::len);
                let runs = t["processing"].as_array().map_or(0, Vec::len);
                Ok((dead >= 2 && runs > 0).then_some(t))
            }
        })
        .await?;
        let mapped = timeline["processing"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| {
                p["plugin"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("x12-214-status"))
            });
        let refused: Vec<String> = timeline["dead_letters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d.to_string().contains("/order_id"))
            .filter_map(|d| d["target"].as_str().map(str::to_string))
            .collect();
        println!(
            "   {} sends an X12 214 (D1 delivered, BOL {}) for {order}: mapped by x12-214-status; held by {} (no sales order id in a 214)",
            s.carrier_scac,
            s.bol,
            refused.join(" and ")
        );
        tally.add("edi.214", 1);
        tally.expect_eq(
            format!("the X12 214 for {order} is mapped, and dead-lettered by both legs for lack of an order id"),
            (mapped, refused.len()),
            (true, 2),
        );
    }
    Ok(())
}

/// The carrier of `plan.edi_invoice` bills its freight over X12 210.
pub async fn invoice(stage: &Stage, world: &World, tally: &mut Tally) -> anyhow::Result<()> {
    let order = &world.plan.edi_invoice;
    let Some(s) = stage.tms.shipment(order) else {
        anyhow::bail!("no shipment for {order}");
    };
    let text = invoice_210(
        &sample(stage, "210-freight-invoice.edi")?,
        &s.carrier_scac,
        &s.bol,
        &format!("0985{}", &s.pro_number[6..]),
        210_001,
    );
    let cid = format!("edi210-{order}");
    stage
        .api
        .post_bearer(
            "carrier-edi-210",
            EDI_TOKEN,
            "application/edi-x12",
            &cid,
            text.into_bytes(),
        )
        .await?
        .expect(&format!("X12 210 for {order}"), &[202])?;
    let held = eventually("the 210's exception", 20, || {
        let cid = cid.clone();
        async move {
            let list = stage.api.exceptions(Some("missing-quote")).await?;
            Ok(list
                .into_iter()
                .find(|x| x["correlation_id"] == cid.as_str()))
        }
    })
    .await?;
    println!(
        "   {} bills BOL {} with an X12 210 (total {}): no order id to find the quote by -> exception #{} missing-quote, not billed",
        s.carrier_scac,
        s.bol,
        super::booking::cents(&held["document"]["total_minor"]),
        held["id"]
    );
    tally.add("charges.received", 1);
    tally.add("charges.held", 1);
    tally.expect_eq(
        format!("the X12 210 for {order}'s shipment is held as missing-quote"),
        (held["route"].as_str(), held["state"].as_str()),
        (Some("carrier-edi-invoices"), Some("open")),
    );
    Ok(())
}
