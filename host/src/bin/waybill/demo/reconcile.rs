//! Step 6, state reconciliation: two drifts are planted — the ERP renames
//! one order's consignee, and one shipment's POD reached the TMS but never
//! the ERP (step 3) — then every system's snapshot is pulled, mapped by its
//! snapshot plugin and compared by canonical id. Each planted drift must be
//! found, and nothing else.

use super::stage::Stage;
use super::tally::Tally;
use super::world::World;
use std::collections::BTreeSet;
use waybill::reconcile::{Finding, RunReport, VecSink};

/// One reconciliation run over the demo's systems: its report and findings.
///
/// Runs the reconciliation engine in-process with the demo's `[reconcile]`
/// table and the host's plugin registry. When the host serves
/// `POST /admin/v1/reconcile/run` itself, this is the one place to switch
/// (the report and findings deserialize into the same types).
async fn reconcile(stage: &Stage) -> anyhow::Result<(RunReport, Vec<Finding>)> {
    let mut sink = VecSink::default();
    let report = waybill::reconcile::run(
        &stage.reconcile,
        &stage.service.app.registry,
        None,
        &mut sink,
    )
    .await?;
    Ok((report, sink.0))
}

pub async fn run(stage: &Stage, world: &World, tally: &mut Tally) -> anyhow::Result<()> {
    println!("\n== 6. Reconciliation: ERP, TMS and billing snapshots compared by canonical id");
    let renamed = &world.plan.renamed;
    let new_name = stage
        .erp
        .order(renamed)
        .map(|o| format!("{} (Dock 4)", o.ship_to_name))
        .unwrap_or_default();
    stage.erp.rename_ship_to(renamed, &new_name);
    println!(
        "   planted: the ERP renames {renamed}'s consignee to {new_name:?} (TMS and billing keep the old name)"
    );
    println!(
        "   planted: {}'s POD reached the TMS only (step 3)",
        world.plan.status_drift
    );
    let (report, findings) = reconcile(stage).await?;
    for line in report.summary().lines() {
        println!("   {line}");
    }
    for f in &findings {
        println!("   finding {}: {}", f.kind, f.message);
    }
    let found: BTreeSet<(String, String, String)> = findings
        .iter()
        .map(|f| (f.kind.to_string(), f.entity.clone(), f.id.clone()))
        .collect();
    let planted: BTreeSet<(String, String, String)> = [
        ("attribute-drift", renamed),
        ("status-drift", &world.plan.status_drift),
    ]
    .into_iter()
    .map(|(k, id)| (k.to_string(), "order".to_string(), id.clone()))
    .collect();
    let missed: Vec<_> = planted.difference(&found).collect();
    let extra: Vec<_> = found.difference(&planted).collect();
    tally.check(
        "reconciliation finds each planted drift",
        missed.is_empty(),
        format!("not found: {missed:?}"),
    );
    tally.check(
        "reconciliation finds nothing else",
        extra.is_empty(),
        format!("unexpected: {extra:?}"),
    );
    tally.reconciliation = findings
        .iter()
        .map(|f| format!("{}: {}", f.kind, f.message))
        .collect();
    tally.add("reconcile.records", report.records as usize);
    Ok(())
}
