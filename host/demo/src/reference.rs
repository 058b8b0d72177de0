//! Step 1, batch synchronisation of reference data: the ERP masters
//! customers and carriers; the `master-data` sync job pulls its snapshot,
//! maps it and pushes only what changed to the TMS and billing. Run twice,
//! the second run pushes nothing; one customer put on credit hold is the
//! one record the third run pushes.

use super::api::{Answer, eventually};
use super::stage::Stage;
use super::tally::Tally;
use super::world::World;
use serde_json::{Value, json};

async fn run_job(stage: &Stage) -> anyhow::Result<Value> {
    let a: Answer = stage
        .api
        .admin_post("sync/master-data/run", &json!({}))
        .await?;
    Ok(a.expect("POST /admin/v1/sync/master-data/run", &[200])?
        .json)
}

fn summary(r: &Value) -> String {
    let mut s = format!(
        "{} snapshot lines -> {} records, {} changed, {} unchanged ({} ms)",
        r["lines"], r["records"], r["changed"], r["unchanged"], r["elapsed_ms"]
    );
    for page in r["refused_pages"].as_array().into_iter().flatten() {
        s.push_str(&format!("\n   refused page: {page}"));
    }
    s
}

/// Requests the TMS and billing received for reference data.
fn pushed(stage: &Stage) -> (usize, usize) {
    (
        stage.tms.sim.requests("/v2/reference"),
        stage.billing.sim.requests("/v1/customers"),
    )
}

pub async fn run(stage: &Stage, world: &World, tally: &mut Tally) -> anyhow::Result<()> {
    println!("\n== 1. Reference data: ERP customers and carriers -> TMS and billing");
    for c in &world.customers {
        stage.erp.add_customer(c.clone());
    }
    for (scac, name, mc) in world.carriers() {
        stage.erp.add_carrier(scac, name, mc);
    }
    let (customers, carriers) = (world.customers.len(), world.carriers().len());
    println!(
        "   Northwind ERP masters {customers} customers and {carriers} carriers in {} regions",
        world.regions().len()
    );
    let first = run_job(stage).await?;
    println!("   run 1: {}", summary(&first));
    let want = (customers + carriers, customers);
    eventually(
        "reference records at the TMS and billing",
        20,
        || async move { Ok((pushed(stage) == want).then_some(())) },
    )
    .await?;
    tally.expect_eq(
        "run 1 pushes every record (TMS: customers + carriers, billing: customers)",
        (
            first["changed"].as_u64(),
            stage.tms.references().len(),
            stage.billing.customers().len(),
        ),
        (
            Some((customers + carriers) as u64),
            customers + carriers,
            customers,
        ),
    );

    let second = run_job(stage).await?;
    println!("   run 2: {}", summary(&second));
    tally.expect_eq(
        "run 2 pushes nothing (content hashes unchanged)",
        second["changed"].as_u64(),
        Some(0),
    );

    stage.erp.set_credit_hold(&world.hold_customer, true);
    println!("   the ERP puts {} on credit hold", world.hold_customer);
    let third = run_job(stage).await?;
    println!("   run 3: {}", summary(&third));
    let want = (want.0 + 1, want.1 + 1);
    eventually(
        "the changed customer at the TMS and billing",
        20,
        || async move { Ok((pushed(stage) == want).then_some(())) },
    )
    .await?;
    let delinquent = stage
        .billing
        .customers()
        .iter()
        .find(|c| c["id"] == world.hold_customer.as_str())
        .map(|c| c["delinquent"].clone());
    tally.expect_eq(
        "run 3 pushes exactly the changed customer (billing marks it delinquent)",
        (third["changed"].as_u64(), pushed(stage), delinquent),
        (Some(1), want, Some(json!(true))),
    );
    tally.add("sync.runs", 3);
    Ok(())
}
