//! Step 3, event propagation: every shipment's milestones (DISPATCHED,
//! IN_TRANSIT, DELAYED for some, DELIVERED, POD_AVAILABLE) travel from the
//! TMS as signed webhooks through the host to the ERP and the portal. Each
//! shipment's milestones are sent in order, one after the other reached the
//! ERP (as a TMS reports them, hours apart); shipments run concurrently.
//! The TMS sends one milestone twice and one late; the carriers of two
//! shipments report DELIVERED over X12 214 instead of through the TMS;
//! mid-run the milestone mapping is hot-swapped.

use super::events::{Emitted, emit, processed_state, reached_erp, send};
use super::stage::Stage;
use super::tally::{Progress, Tally};
use super::world::World;
use super::{edi, hot_swap};
use futures::StreamExt;
use time::Duration;
use waybill_sims::OrderSpec;

/// Business time of each milestone after the order's release.
pub fn offset(code: &str) -> Duration {
    match code {
        "DISPATCHED" => Duration::hours(18),
        "IN_TRANSIT" => Duration::hours(30),
        "DELAYED" => Duration::hours(40),
        "DELIVERED" => Duration::hours(58),
        _ => Duration::hours(59),
    }
}

/// Sends `code` for every order, each waiting for the ERP; returns what
/// was emitted.
async fn wave(
    stage: &Stage,
    orders: &[&OrderSpec],
    code: &'static str,
    reason: Option<&'static str>,
    tally: &mut Tally,
) -> anyhow::Result<Vec<Emitted>> {
    let what = match code {
        "DISPATCHED" => "DISPATCHED at the ERP",
        "IN_TRANSIT" => "IN_TRANSIT at the ERP",
        "DELAYED" => "DELAYED at the ERP",
        "DELIVERED" => "DELIVERED at the ERP",
        _ => "POD_AVAILABLE at the ERP",
    };
    let mut progress = Progress::new(what, orders.len());
    let mut runs = futures::stream::iter(orders)
        .map(|o| async move {
            let at = o.released_at + offset(code);
            let e = emit(stage, &o.sales_order, code, reason, at).await?;
            let latency = reached_erp(stage, &e).await?;
            anyhow::Ok((e, latency))
        })
        .buffer_unordered(48);
    let mut sent = Vec::with_capacity(orders.len());
    while let Some(done) = runs.next().await {
        let (e, latency) = done?;
        tally.latencies.push(latency);
        sent.push(e);
        progress.tick();
    }
    tally.add("milestones.sent", sent.len());
    Ok(sent)
}

/// The TMS repeats one webhook, the same body freshly signed: the host's derived key
/// recognises it after mapping and nothing is delivered twice.
async fn repeat(
    stage: &Stage,
    world: &World,
    sent: &[Emitted],
    tally: &mut Tally,
) -> anyhow::Result<()> {
    let order = &world.plan.repeated_milestone;
    let Some(first) = sent.iter().find(|e| &e.order == order) else {
        anyhow::bail!("no IN_TRANSIT was sent for {order}");
    };
    let cid = format!("ms-{order}-IN_TRANSIT-again");
    // Acme signs every delivery attempt with the second it sends it in; the
    // host refuses a signature it has already seen (a captured request
    // replayed), so the repeat goes out in a later second, freshly signed.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    tokio::time::sleep(std::time::Duration::from_nanos(
        1_000_000_000 - u64::from(now.subsec_nanos()) + 10_000_000,
    ))
    .await;
    send(stage, order, "IN_TRANSIT", first.body.clone(), &cid).await?;
    let state = processed_state(stage, &cid).await?;
    tally.add("milestones.repeated", 1);
    let at_erp = stage
        .erp
        .status_history(order)
        .iter()
        .filter(|u| u.source_event_id == first.event_id)
        .count();
    tally.expect_eq(
        format!("the repeated IN_TRANSIT webhook of {order} is recognised, not delivered twice"),
        (state.as_str(), at_erp),
        ("duplicate", 1),
    );
    Ok(())
}

/// An old DISPATCHED arrives after DELIVERED: the ERP leg holds it as a
/// `stale-event` exception; the ERP keeps the newer status.
async fn late(stage: &Stage, world: &World, tally: &mut Tally) -> anyhow::Result<()> {
    let order = &world.plan.late_milestone;
    let spec = world
        .orders
        .iter()
        .find(|o| &o.sales_order == order)
        .ok_or_else(|| anyhow::anyhow!("no order {order}"))?;
    let at = spec.released_at + offset("DISPATCHED") - Duration::minutes(5);
    let cid = format!("ms-{order}-DISPATCHED-late");
    let body = stage.tms.milestone(
        order,
        "DISPATCHED",
        None,
        at.to_offset(super::world::central()),
    )?;
    send(stage, order, "DISPATCHED", body, &cid).await?;
    processed_state(stage, &cid).await?;
    tally.add("milestones.sent", 1);
    let stale = stage.api.exceptions(Some("stale-event")).await?;
    let held = stale.iter().any(|x| x["correlation_id"] == cid.as_str());
    println!(
        "   the TMS sends {order}'s DISPATCHED of {} again, after DELIVERED",
        super::world::rfc3339(at)
    );
    tally.expect_eq(
        format!(
            "the late DISPATCHED of {order} is a stale-event exception; the ERP stays DELIVERED"
        ),
        (held, stage.erp.order_status(order)),
        (true, Some("DELIVERED".to_string())),
    );
    Ok(())
}

pub async fn run(stage: &Stage, world: &World, tally: &mut Tally) -> anyhow::Result<()> {
    println!("\n== 3. Milestones: TMS -> ERP and portal (route acme-milestones, signed webhooks)");
    let all: Vec<&OrderSpec> = world.orders.iter().collect();
    wave(stage, &all, "DISPATCHED", None, tally).await?;
    let transit = wave(stage, &all, "IN_TRANSIT", None, tally).await?;
    repeat(stage, world, &transit, tally).await?;
    let delayed: Vec<&OrderSpec> = all.iter().step_by(5).copied().collect();
    wave(stage, &delayed, "DELAYED", Some("WEATHER"), tally).await?;

    hot_swap::run(stage, world, tally).await?;

    println!("\n== 3. (continued) the other shipments are delivered");
    let rest: Vec<&OrderSpec> = all
        .iter()
        .filter(|o| !world.plan.hot_swap.contains(&o.sales_order))
        .filter(|o| !world.plan.edi_status.contains(&o.sales_order))
        .copied()
        .collect();
    wave(stage, &rest, "DELIVERED", None, tally).await?;
    edi::status(stage, world, tally).await?;
    late(stage, world, tally).await?;

    let drift = &world.plan.status_drift;
    let pod: Vec<&OrderSpec> = all
        .iter()
        .filter(|o| &o.sales_order != drift)
        .copied()
        .collect();
    wave(stage, &pod, "POD_AVAILABLE", None, tally).await?;
    edi::history(stage, world, tally);
    // The TMS records the POD of one shipment, but its webhook is lost.
    if let Some(o) = all.iter().find(|o| &o.sales_order == drift) {
        let at = o.released_at + offset("POD_AVAILABLE");
        stage.tms.milestone(
            drift,
            "POD_AVAILABLE",
            None,
            at.to_offset(super::world::central()),
        )?;
        println!("   the TMS records {drift}'s POD, but its webhook never leaves the TMS");
    }
    Ok(())
}
