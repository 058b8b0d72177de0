//! Step 7, the report: what the host handled (messages, deliveries,
//! retries, dead letters, exceptions), what reconciliation found, the
//! business KPIs, and the demo's own checks — which decide the exit code.

use super::agreement;
use super::stage::Stage;
use super::tally::Tally;
use super::world::World;
use serde_json::Value;
use std::collections::BTreeSet;

fn pct(part: usize, whole: usize) -> String {
    if whole == 0 {
        return "n/a".into();
    }
    format!(
        "{part}/{whole} ({:.1} %)",
        100.0 * part as f64 / whole as f64
    )
}

fn ms(d: Option<std::time::Duration>) -> String {
    d.map_or("n/a".into(), |d| format!("{:.1} ms", d.as_secs_f64() * 1e3))
}

/// Invoices billing issued, and those the ERP posted with no person
/// involved (no exception on the invoice-posting route for their order).
fn untouched(stage: &Stage, exceptions: &[Value]) -> (usize, usize) {
    let touched: BTreeSet<&str> = exceptions
        .iter()
        .filter(|x| x["route"] == "invoice-posting")
        .filter_map(|x| x["document"]["order_id"].as_str())
        .collect();
    let auto = stage
        .erp
        .ar_invoices()
        .iter()
        .filter(|a| !touched.contains(a.sales_order.as_str()))
        .count();
    (auto, stage.billing.invoices().len())
}

/// Prints the report; `true` when every check passed.
pub async fn run(stage: &Stage, world: &World, tally: &mut Tally) -> anyhow::Result<bool> {
    println!("\n== 7. Report");
    let exceptions = stage.api.exceptions(None).await?;
    let dead = stage.api.dead_letters().await?;
    let agree = agreement::check_orders(stage, world, tally);
    let by_reason = agreement::check_exceptions(&exceptions, tally);
    agreement::check_dead_letters(&dead, world, tally);
    let stats = stage.service.app.store.stats().await?;

    println!();
    let received: u64 = stats.messages.values().sum();
    let states: Vec<String> = stats
        .messages
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    println!(
        "   messages          {received} received ({})",
        states.join(", ")
    );
    let mut delivered = 0;
    let mut entries = 0;
    for ((_, state), n) in &stats.deliveries {
        entries += n;
        if state == "delivered" {
            delivered += n;
        }
    }
    let attempts: u64 = stats.attempts.values().sum();
    println!(
        "   deliveries        {delivered} delivered of {entries} outbox entries, {attempts} attempts"
    );
    for (target, n) in &stats.attempts {
        let done: u64 = stats
            .deliveries
            .iter()
            .filter(|((t, s), _)| t == target && s == "delivered")
            .map(|(_, n)| n)
            .sum();
        println!("      {target:<22} {done:>5} delivered, {n:>5} attempts");
    }
    println!(
        "   retries           {} (the TMS answered 503 to {} bookings)",
        attempts.saturating_sub(entries),
        tally.count("bookings.busy")
    );
    let mut by_route: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for d in &dead {
        let e = by_route
            .entry(format!(
                "{} ({})",
                d["route"].as_str().unwrap_or("-"),
                d["reason"].as_str().unwrap_or("")
            ))
            .or_default();
        e.0 += 1;
        e.1 += usize::from(!d["replayed_at"].is_null());
    }
    println!("   dead letters      {}", dead.len());
    for (route, (n, replayed)) in by_route {
        println!("      {route:<44} {n:>3}, {replayed} replayed");
    }
    let reasons: Vec<String> = by_reason.iter().map(|(r, n)| format!("{r} {n}")).collect();
    let open = exceptions.iter().filter(|x| x["state"] == "open").count();
    println!(
        "   exceptions        {} ({}); {open} open, {} approved by a user",
        exceptions.len(),
        reasons.join(", "),
        tally.count("exceptions.approved")
    );
    println!(
        "   carrier EDI       {} X12 214 DELIVERED at ERP and portal, {} X12 210 approved and billed",
        tally.count("edi.214"),
        tally.count("edi.210")
    );
    println!(
        "   reconciliation    {} findings over {} records",
        tally.reconciliation.len(),
        tally.count("reconcile.records")
    );
    for f in &tally.reconciliation {
        println!("      {f}");
    }

    println!("\n   KPIs");
    println!(
        "   shipment event latency, TMS emits -> ERP records ({} milestones): p50 {}, p99 {}",
        tally.latencies.len(),
        ms(tally.latency_percentile(50.0)),
        ms(tally.latency_percentile(99.0))
    );
    let (auto, invoices) = untouched(stage, &exceptions);
    println!(
        "   invoices posted without manual touch:  {}",
        pct(auto, invoices)
    );
    println!(
        "   charge discrepancy rate:               {}",
        pct(tally.count("charges.held"), tally.count("charges.received"))
    );
    println!(
        "   order-to-cash sync completeness:       {} orders where ERP, TMS, billing and portal agree",
        pct(agree, world.orders.len())
    );

    let failed = tally.failed();
    println!(
        "\n   checks: {} of {} passed",
        tally.checks.len() - failed.len(),
        tally.checks.len()
    );
    for c in &failed {
        println!("   FAILED {}: {}", c.name, c.detail);
    }
    Ok(failed.is_empty())
}
