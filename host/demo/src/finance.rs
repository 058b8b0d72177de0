//! Step 5, financial control: the TMS reports each shipment's final
//! carrier charges; the host compares them with the booked quote
//! (charge-tolerance) before billing sees them. Billing invoices what was
//! approved and announces each invoice; the host GL-codes it, checks it
//! against the quote again and posts it to ERP receivables. One carrier
//! bills over X12 210 instead (the TMS sends no final charges for that
//! shipment), approved against the same quote. Planted: one carrier bills
//! detention nobody quoted, one carrier response arrives twice, and one
//! customer is on credit hold, so the ERP refuses its posting and billing
//! must credit it back.

use super::api::eventually;
use super::approvals;
use super::edi;
use super::host_config::LEDGERLY_TOKEN;
use super::stage::Stage;
use super::tally::{Progress, Tally};
use super::world::World;
use futures::StreamExt;

/// Detention the carrier bills: 3 h at 45.00.
const DETENTION_CENTS: i64 = 13_500;

async fn post_charges(stage: &Stage, order: &str, body: Vec<u8>, cid: &str) -> anyhow::Result<()> {
    stage
        .api
        .post_signed("acme-tms-charges", cid, body)
        .await?
        .expect(&format!("final charges of {order}"), &[202])?;
    Ok(())
}

fn invoices_for(stage: &Stage, order: &str) -> usize {
    stage
        .billing
        .invoices()
        .iter()
        .filter(|i| i.order_ref == order)
        .count()
}

/// Billing announces every invoice opened since the last call.
async fn announce(stage: &Stage, tally: &mut Tally) -> anyhow::Result<usize> {
    let numbers = stage.billing.take_new_invoices();
    let mut runs = futures::stream::iter(&numbers)
        .map(|n| async move {
            let body = stage.billing.invoice_ready(n)?;
            let cid = format!("invoice-{n}");
            stage
                .api
                .post_bearer("ledgerly", LEDGERLY_TOKEN, "application/json", &cid, body)
                .await?
                .expect(&format!("invoice.ready {n}"), &[202])?;
            anyhow::Ok(())
        })
        .buffer_unordered(32);
    while let Some(r) = runs.next().await {
        r?;
    }
    tally.add("invoices.announced", numbers.len());
    Ok(numbers.len())
}

async fn wait_ar(stage: &Stage, want: usize, what: &str) -> anyhow::Result<()> {
    eventually(what, 30, || async move {
        Ok((stage.erp.ar_invoices().len() >= want).then_some(()))
    })
    .await
}

pub async fn run(stage: &Stage, world: &World, tally: &mut Tally) -> anyhow::Result<()> {
    println!(
        "\n== 5. Final charges -> approval -> billing -> invoice -> approval -> ERP receivables"
    );
    let plan = &world.plan;
    let n = world.orders.len();
    // The EDI carrier's final charges come only over its X12 210.
    let acme: Vec<_> = world
        .orders
        .iter()
        .filter(|o| o.sales_order != plan.edi_invoice)
        .collect();
    let mut progress = Progress::new("TMS charge packages sent", acme.len());
    let mut runs = futures::stream::iter(&acme)
        .map(|o| async move {
            let order = o.sales_order.as_str();
            let detention = (order == plan.detention).then_some(DETENTION_CENTS);
            let body = stage.tms.final_charges(order, detention)?;
            post_charges(stage, order, body, &format!("charges-{order}")).await
        })
        .buffer_unordered(48);
    while let Some(r) = runs.next().await {
        r?;
        progress.tick();
    }
    tally.add("charges.received", acme.len());
    let auto = acme.len() - 1;
    eventually("approved charges at billing", 30, || async move {
        Ok((stage.billing.invoices().len() >= auto).then_some(()))
    })
    .await?;
    let detention = approvals::wait_for(stage, "approval-violation", "carrier-charges", 1).await?;
    tally.add("charges.held", 1);
    println!(
        "   {auto} charge packages approved automatically and billed; {}",
        approvals::describe(&detention[0])
    );

    // The carrier's response again, under a new event id.
    let again = &plan.repeated_charges;
    let body = stage.tms.final_charges(again, None)?;
    post_charges(stage, again, body, &format!("charges-{again}-again")).await?;
    let dup = approvals::wait_for(stage, "duplicate-charge", "carrier-charges", 1).await?;
    tally.add("charges.received", 1);
    tally.add("charges.held", 1);
    println!(
        "   the carrier repeats its charges for {again}: {}",
        approvals::describe(&dup[0])
    );
    tally.expect_eq(
        format!("the repeated charges of {again} are a duplicate-charge exception, billed once"),
        invoices_for(stage, again),
        1,
    );
    edi::invoice(stage, world, tally).await?;

    let id = detention[0]["id"].as_i64().unwrap_or_default();
    approvals::approve(
        stage,
        id,
        "alice",
        "3 h detention confirmed by the consignee's dock log",
        tally,
    )
    .await?;
    eventually("the approved detention at billing", 20, || async move {
        Ok((invoices_for(stage, &plan.detention) == 1).then_some(()))
    })
    .await?;
    tally.expect_eq(
        format!(
            "{}'s detention, approved by alice, is billed once",
            plan.detention
        ),
        invoices_for(stage, &plan.detention),
        1,
    );

    let announced = announce(stage, tally).await?;
    println!("   Ledgerly opened {announced} invoices and announces each (invoice.ready)");
    wait_ar(stage, n - 2, "AR postings at the ERP").await?;
    let refused = approvals::wait_for(stage, "downstream-rejected", "invoice-posting", 1).await?;
    let held = approvals::wait_for(stage, "approval-violation", "invoice-posting", 1).await?;
    println!("   {}", approvals::describe(&refused[0]));
    println!("   {}", approvals::describe(&held[0]));
    let hold = &plan.credit_hold;
    let voided = eventually("the credit note at billing", 20, || async move {
        let notes = stage.billing.credit_notes();
        Ok(notes.into_iter().find(|c| &c.order_ref == hold))
    })
    .await?;
    println!(
        "   compensation: Ledgerly credit note {} voids {} ({} cents, memo {:?})",
        voided.id,
        voided.invoice,
        voided.amount,
        voided.memo.as_deref().unwrap_or("")
    );
    let void = stage.billing.invoice(&voided.invoice).map(|i| i.status);
    let posted = stage
        .erp
        .ar_invoices()
        .iter()
        .any(|a| &a.sales_order == hold);
    tally.expect_eq(
        format!("the ERP refuses {hold}'s posting (credit hold); billing voids the invoice"),
        (void, posted),
        (Some("void"), false),
    );

    let id = held[0]["id"].as_i64().unwrap_or_default();
    approvals::approve(
        stage,
        id,
        "alice",
        "detention invoice matches the approved carrier charge",
        tally,
    )
    .await?;
    wait_ar(stage, n - 1, "the detention invoice in receivables").await?;
    let ar = stage.erp.ar_invoices();
    let det = ar.iter().find(|a| a.sales_order == plan.detention);
    tally.expect_eq(
        format!(
            "{}'s invoice, approved by alice, is posted to receivables once",
            plan.detention
        ),
        (
            det.is_some(),
            ar.iter()
                .filter(|a| a.sales_order == plan.detention)
                .count(),
        ),
        (true, 1),
    );
    approvals::audit(
        stage,
        &[detention[0]["id"].as_i64(), held[0]["id"].as_i64()],
    )
    .await?;
    Ok(())
}
