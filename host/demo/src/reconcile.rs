//! Step 6, state reconciliation: two drifts are planted — the ERP renames
//! one order's consignee, and one shipment's POD reached the TMS but never
//! the ERP (step 3) — then the host pulls every system's snapshot, maps it
//! with the system's snapshot plugin and compares by canonical id
//! (`POST /admin/v1/reconcile/run`). Each finding becomes a `recon-*`
//! exception; each planted drift must be found, and nothing else.

use super::stage::Stage;
use super::tally::Tally;
use super::world::World;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Runs reconciliation through the admin API: the stored run, and the
/// exceptions its findings raised.
async fn reconcile(stage: &Stage) -> anyhow::Result<(Value, Vec<Value>)> {
    let run = stage
        .api
        .admin_post("reconcile/run", &json!({}))
        .await?
        .expect("POST /admin/v1/reconcile/run", &[200])?
        .json;
    let run_id = run["report"]["run_id"].clone();
    let list = stage
        .api
        .admin_get("exceptions?reason_prefix=recon-&limit=10000")
        .await?;
    let findings = list["exceptions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|x| x["detail"]["run_id"] == run_id)
        .cloned()
        .collect();
    Ok((run, findings))
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
    let (run, findings) = reconcile(stage).await?;
    println!("   POST /admin/v1/reconcile/run -> run #{}:", run["id"]);
    for line in run["summary"].as_str().unwrap_or("").lines() {
        println!("   {line}");
    }
    let mut found = BTreeSet::new();
    let mut lines = Vec::new();
    for x in &findings {
        let d = &x["detail"];
        let line = format!(
            "exception #{} {}: {}",
            x["id"],
            x["reason"].as_str().unwrap_or(""),
            d["message"].as_str().unwrap_or("")
        );
        println!("   {line}");
        lines.push(line);
        found.insert((
            x["reason"].as_str().unwrap_or("").to_string(),
            d["entity"].as_str().unwrap_or("").to_string(),
            d["id"].as_str().unwrap_or("").to_string(),
        ));
    }
    let planted: BTreeSet<(String, String, String)> = [
        ("recon-attribute-drift", renamed),
        ("recon-status-drift", &world.plan.status_drift),
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
    tally.reconciliation = lines;
    tally.add(
        "reconcile.records",
        run["report"]["records"].as_u64().unwrap_or(0) as usize,
    );
    Ok(())
}
