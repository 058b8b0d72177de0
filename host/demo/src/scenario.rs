//! The demo scenario, step by step: a multi-region distributor's whole
//! order-to-cash synchronisation between Northwind ERP, Acme TMS, Ledgerly
//! Billing and the customer portal, through the real host and plugins.

use super::stage::{Options, Stage};
use super::tally::Tally;
use super::world::{MIN_ORDERS, World};
use super::{booking, finance, milestones, reconcile, reference, report};
use std::process::ExitCode;
use std::time::Instant;

/// The scenario's size and shape.
pub struct Scenario {
    pub orders: usize,
    pub seed: u64,
    pub keep_running: bool,
}

pub async fn run(options: Options, s: Scenario) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        s.orders >= MIN_ORDERS,
        "--orders must be at least {MIN_ORDERS}: every planted fault needs its own order"
    );
    let started = Instant::now();
    let world = World::generate(s.orders, s.seed);
    println!(
        "waybill-demo: {} orders of a distributor shipping from {} regional warehouses (seed {})",
        world.orders.len(),
        world.regions().len(),
        s.seed
    );
    for (region, warehouse, n) in world.regions() {
        println!("   {region:<13} {warehouse:<16} {n:>4} orders");
    }
    println!();
    let stage = Stage::start(&options).await?;
    let mut tally = Tally::default();
    let steps = async {
        reference::run(&stage, &world, &mut tally).await?;
        booking::run(&stage, &world, &mut tally).await?;
        milestones::run(&stage, &world, &mut tally).await?;
        finance::run(&stage, &world, &mut tally).await?;
        reconcile::run(&stage, &world, &mut tally).await?;
        report::run(&stage, &world, &mut tally).await
    };
    let passed = match steps.await {
        Ok(passed) => passed,
        Err(e) => {
            println!("\n   FAILED: the scenario stopped: {e:#}");
            false
        }
    };
    println!(
        "\n== {} in {:.1} s",
        if passed {
            "All checks passed"
        } else {
            "Checks FAILED"
        },
        started.elapsed().as_secs_f64()
    );
    if s.keep_running {
        keep_running(&stage).await;
    }
    stage.service.shutdown().await;
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `--keep-running`: the host and the systems stay up until Ctrl-C.
async fn keep_running(stage: &Stage) {
    println!("\n== The host and the partner systems keep running (Ctrl-C stops them)");
    println!(
        "   console     {}/console/ (sign in with the admin token {})",
        stage.api.admin_base,
        super::host_config::ADMIN_TOKEN
    );
    println!(
        "   admin API   {}/admin/v1/ (Authorization: Bearer {})",
        stage.api.admin_base,
        super::host_config::ADMIN_TOKEN
    );
    println!(
        "   try         curl -H 'Authorization: Bearer {}' {}/admin/v1/exceptions",
        super::host_config::ADMIN_TOKEN,
        stage.api.admin_base
    );
    println!(
        "               waybill exceptions list --host {} --token {}",
        stage.api.admin_base,
        super::host_config::ADMIN_TOKEN
    );
    println!("   metrics     {}/metrics", stage.api.admin_base);
    println!(
        "   config      {}",
        stage.workdir.join("waybill.toml").display()
    );
    for (name, url) in [
        ("Northwind ERP", stage.erp.url("")),
        ("Acme TMS", stage.tms.url("")),
        ("Ledgerly", stage.billing.url("")),
        ("portal", stage.portal.url("")),
    ] {
        println!("   {name:<13} {url}");
    }
    let _ = tokio::signal::ctrl_c().await;
}
